/*
 * bench_result.c — `vfctl bench`'s result model: each round's sample added to its
 * path's figures, each figure summarised as {min, median, max, n}; bench.json
 * written and read back with jansson.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vfctl/bench.h"

const char *const bench_fig_key[FIG_N] = {
	"tcp_mbps", "udp_kpps", "link_up_s", "start_s", "rtt_us", "rtt_min_us", "rtt_p99_us", "exits_per_mib",
	"irqs_per_mib", "host_cpu_ms_per_mib", "guest_mode_share", "dpdk_kpps",
};

const struct bench_path bench_path_defs[BENCH_NPATHS] = {
	{ .id = 'a', .name = "VF via vfstack", .label = "vfstack VF", .guest = true },
	{ .id = 'b', .name = "vNIC via vfstack (virtio)", .label = "vfstack vNIC", .guest = true },
	{ .id = 'c', .name = "QEMU + vfio-pci (same VF)", .label = "QEMU VF", .guest = true },
	{ .id = 'd', .name = "QEMU virtio-net, no vhost", .label = "QEMU virtio", .guest = true },
	{ .id = 'e', .name = "host on the VF (roof)", .label = "host VF (roof)", .guest = false },
};

static void push(struct bench_fig *f, double v)
{
	if (f->n < BENCH_MAXR)
		f->v[f->n++] = v;
}

void bench_add_sample(struct bench *b, struct bench_path *p, const struct bench_sample *s)
{
	(void)b;
	if (!s->ok) {
		if (!p->note[0])
			bench_note(p->note, sizeof(p->note), "%s", s->note[0] ? s->note : "not measured");
		if (s->dpdk_kpps >= 0)
			push(&p->fig[FIG_DPDK], s->dpdk_kpps);
		return;
	}
	p->measured = true;
	push(&p->fig[FIG_TCP], s->tcp_mbps);
	push(&p->fig[FIG_UDP], s->udp_kpps);
	if (s->link_up_s >= 0)
		push(&p->fig[FIG_LINK], s->link_up_s);
	if (s->start_s >= 0)
		push(&p->fig[FIG_START], s->start_s);
	if (s->rtt_med_us >= 0) {
		push(&p->fig[FIG_RTT], s->rtt_med_us);
		push(&p->fig[FIG_RTT_MIN], s->rtt_min_us);
		push(&p->fig[FIG_RTT_P99], s->rtt_p99_us);
	}
	if (s->costs && s->mib > 0) {
		push(&p->fig[FIG_EXITS], s->exits / s->mib);
		if (s->irqs >= 0)
			push(&p->fig[FIG_IRQS], s->irqs / s->mib);
		push(&p->fig[FIG_CPU], s->host_cpu_ms / s->mib);
		double all = s->host_cpu_ms + s->guest_cpu_ms;
		if (all > 0)
			push(&p->fig[FIG_GUEST_SHARE], s->guest_cpu_ms / all);
		for (int i = 0; i < BENCH_NREASONS; i++)
			push(&p->reason[i], s->reason[i] / s->mib);
		for (int i = 0; s->hw_ok && i < BENCH_NHW; i++)
			push(&p->hw[i], s->hw[i] / s->mib);
	} else if (p->guest && s->note[0] && !p->note[0]) {
		bench_note(p->note, sizeof(p->note), "%s", s->note);
	}
	if (s->dpdk_kpps >= 0)
		push(&p->fig[FIG_DPDK], s->dpdk_kpps);
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;
	return a < c ? -1 : a > c;
}

static void summarise(struct bench_fig *f)
{
	if (f->n == 0)
		return;
	double v[BENCH_MAXR];
	memcpy(v, f->v, sizeof(double) * (size_t)f->n);
	qsort(v, (size_t)f->n, sizeof(double), cmp);
	f->min = v[0];
	f->max = v[f->n - 1];
	f->median = f->n % 2 ? v[f->n / 2] : (v[f->n / 2 - 1] + v[f->n / 2]) / 2;
}

void bench_summarise(struct bench *b)
{
	for (int i = 0; i < BENCH_NPATHS; i++) {
		for (int k = 0; k < FIG_N; k++)
			summarise(&b->p[i].fig[k]);
		for (int k = 0; k < BENCH_NREASONS; k++)
			summarise(&b->p[i].reason[k]);
		for (int k = 0; k < BENCH_NHW; k++)
			summarise(&b->p[i].hw[k]);
	}
}

const struct bench_path *bench_path_const(const struct bench *b, char id)
{
	return id >= 'a' && id < 'a' + BENCH_NPATHS ? &b->p[id - 'a'] : NULL;
}

/* --- writing ---------------------------------------------------------------------------- */

static json_t *fig_json(const struct bench_fig *f)
{
	if (f->n == 0)
		return json_null();
	json_t *s = json_array();
	for (int i = 0; i < f->n; i++)
		json_array_append_new(s, json_real(f->v[i]));
	return json_pack("{s:f, s:f, s:f, s:i, s:o}", "min", f->min, "median", f->median, "max", f->max,
			 "n", f->n, "samples", s);
}

static json_t *path_json(const struct bench *b, const struct bench_path *p)
{
	const struct bench_path *a = &b->p[0];
	json_t *o = json_pack("{s:s#, s:s, s:b, s:s, s:b, s:s}", "id", &p->id, 1, "name", p->name,
			      "measured", p->measured, "note", p->note, "crosses_nic", true, "peer", p->peer);
	for (int k = 0; k < FIG_N; k++) {
		if (k == FIG_DPDK && !b->dpdk_on)
			continue;
		json_object_set_new(o, bench_fig_key[k], fig_json(&p->fig[k]));
	}
	json_t *r = json_object();
	for (int k = 0; k < BENCH_NREASONS; k++)
		if (p->reason[k].n)
			json_object_set_new(r, bench_reason_key[k], fig_json(&p->reason[k]));
	json_object_set_new(o, "exits_by_reason_per_mib", json_object_size(r) ? r : (json_decref(r), json_null()));
	json_t *hw = json_object();
	for (int k = 0; k < BENCH_NHW; k++)
		if (p->hw[k].n)
			json_object_set_new(hw, bench_hw_key[k], fig_json(&p->hw[k]));
	json_object_set_new(o, "exits_by_hw_reason_per_mib", json_object_size(hw) ? hw : (json_decref(hw), json_null()));
	/* the medians' ratios to (a) */
	json_t *ra = json_object();
	for (int k = 0; k < FIG_N; k++)
		if (p->fig[k].n && a->fig[k].n && a->fig[k].median > 0)
			json_object_set_new(ra, bench_fig_key[k], json_real(p->fig[k].median / a->fig[k].median));
	json_object_set_new(o, "median_ratio_to_a", ra);
	if (b->dpdk_on)
		json_object_set_new(o, "dpdk_note", json_string(p->dpdk_note));
	return o;
}

int bench_json_write(const struct bench *b, FILE *f)
{
	json_t *order = json_array();
	for (int r = 0; r < BENCH_MAXR && b->order[r][0]; r++)
		json_array_append_new(order, json_string(b->order[r]));
	json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:i, s:o, s:b}",
				 "tool", "vfctl bench", "when", b->when, "pf", b->pf, "pf_netdev", b->pf_if,
				 "vf", b->vf, "peer_vf", b->peer_vf, "peer_ip", b->peer_ip,
				 "secs", (json_int_t)b->secs, "warm_secs", (json_int_t)b->warm,
				 "rounds", (json_int_t)b->rounds, "udp_offered_kpps", b->udp_kpps_offered,
				 "rtt_count", (json_int_t)b->rtt_n, "order", order, "dpdk", b->dpdk_on);
	if (!root)
		return -1;
	json_object_set_new(root, "hw_exits_note", json_string(b->trace_on ? "" : b->trace_note));
	json_t *paths = json_array();
	for (int i = 0; i < BENCH_NPATHS; i++)
		if (b->p[i].wanted)
			json_array_append_new(paths, path_json(b, &b->p[i]));
	json_object_set_new(root, "paths", paths);
	int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	fputc('\n', f);
	json_decref(root);
	return rc;
}

/* --- reading ---------------------------------------------------------------------------- */

static void str_of(json_t *o, const char *key, char *dst, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (s)
		snprintf(dst, len, "%s", s);
}

/* A figure: {min, median, max, n[, samples]}, or a bare number (one sample). */
static void fig_of(json_t *v, struct bench_fig *f)
{
	memset(f, 0, sizeof(*f));
	if (json_is_number(v)) {
		f->n = 1;
		f->v[0] = f->min = f->median = f->max = json_number_value(v);
		return;
	}
	if (!json_is_object(v))
		return;
	json_t *s = json_object_get(v, "samples");
	for (size_t i = 0; json_is_array(s) && i < json_array_size(s) && i < BENCH_MAXR; i++)
		f->v[f->n++] = json_number_value(json_array_get(s, i));
	f->min = json_number_value(json_object_get(v, "min"));
	f->median = json_number_value(json_object_get(v, "median"));
	f->max = json_number_value(json_object_get(v, "max"));
	json_t *n = json_object_get(v, "n");
	if (json_is_integer(n) && json_integer_value(n) > 0 && json_integer_value(n) <= BENCH_MAXR)
		f->n = (int)json_integer_value(n);
}

int bench_json_read(struct bench *b, const char *file, char *err, size_t len)
{
	json_error_t je;
	json_t *root = json_load_file(file, 0, &je);
	if (!root) {
		if (je.line < 1) /* not read at all: jansson's text names the reason */
			bench_note(err, len, "cannot read %s: %s", file, je.text);
		else
			bench_note(err, len, "%s is not JSON: %s at line %d", file, je.text, je.line);
		return -1;
	}
	str_of(root, "when", b->when, sizeof(b->when));
	str_of(root, "pf", b->pf, sizeof(b->pf));
	str_of(root, "pf_netdev", b->pf_if, sizeof(b->pf_if));
	str_of(root, "vf", b->vf, sizeof(b->vf));
	str_of(root, "peer_vf", b->peer_vf, sizeof(b->peer_vf));
	str_of(root, "peer_ip", b->peer_ip, sizeof(b->peer_ip));
	b->secs = (long)json_number_value(json_object_get(root, "secs"));
	b->warm = (long)json_number_value(json_object_get(root, "warm_secs"));
	b->rounds = (long)json_number_value(json_object_get(root, "rounds"));
	b->udp_kpps_offered = json_number_value(json_object_get(root, "udp_offered_kpps"));
	b->dpdk_on = json_is_true(json_object_get(root, "dpdk"));
	str_of(root, "hw_exits_note", b->trace_note, sizeof(b->trace_note));
	b->trace_on = !b->trace_note[0];
	json_t *order = json_object_get(root, "order");
	for (size_t r = 0; json_is_array(order) && r < json_array_size(order) && r < BENCH_MAXR; r++) {
		const char *s = json_string_value(json_array_get(order, r));
		if (s)
			snprintf(b->order[r], sizeof(b->order[r]), "%s", s);
	}
	json_t *paths = json_object_get(root, "paths");
	if (!json_is_array(paths)) {
		bench_note(err, len, "%s has no \"paths\" array; is it a vfctl bench result?", file);
		json_decref(root);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(paths); i++) {
		json_t *o = json_array_get(paths, i);
		const char *id = json_string_value(json_object_get(o, "id"));
		if (!id || id[0] < 'a' || id[0] >= 'a' + BENCH_NPATHS || id[1])
			continue;
		struct bench_path *p = &b->p[id[0] - 'a'];
		p->wanted = true;
		p->measured = json_is_true(json_object_get(o, "measured"));
		str_of(o, "note", p->note, sizeof(p->note));
		str_of(o, "peer", p->peer, sizeof(p->peer));
		str_of(o, "dpdk_note", p->dpdk_note, sizeof(p->dpdk_note));
		for (int k = 0; k < FIG_N; k++)
			fig_of(json_object_get(o, bench_fig_key[k]), &p->fig[k]);
		json_t *r = json_object_get(o, "exits_by_reason_per_mib");
		for (int k = 0; k < BENCH_NREASONS; k++)
			fig_of(json_object_get(r, bench_reason_key[k]), &p->reason[k]);
		json_t *hw = json_object_get(o, "exits_by_hw_reason_per_mib");
		for (int k = 0; k < BENCH_NHW; k++)
			fig_of(json_object_get(hw, bench_hw_key[k]), &p->hw[k]);
	}
	json_decref(root);
	return 0;
}
