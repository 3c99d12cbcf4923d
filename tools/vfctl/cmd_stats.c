/*
 * cmd_stats.c — `vfctl stats [VF…] [--watch S [--count N]] [--json]
 * [--prometheus FILE]`: per-VF traffic counters, rates, and a Prometheus
 * textfile-collector file.
 */
#include "tools/vfctl/vf_select.h"
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sriov/linux/vf_stats.h"

static const char usage[] =
	"usage: vfctl stats [VF...] [--watch SECS [--count N]] [--json] [--prometheus FILE]\n"
	"\n"
	"Traffic counters of each VF (every VF when none is named): packets, bytes\n"
	"and drops received and sent.  They come from the VF's own interface on\n"
	"this host when it has one (SOURCE netdev), else from its PF through\n"
	"rtnetlink (SOURCE pf; a PF driver that does not count per VF, such as\n"
	"igb, reports zeros there, and Linux before 5.2 sends no drop counters).\n"
	"\n"
	"  --watch SECS       sample every SECS seconds (0.1-3600) and print the\n"
	"                     rates since the previous sample, until interrupted\n"
	"  --count N          with --watch: stop after N samples\n"
	"  --json             JSON: one object, or with --watch one per line\n"
	"  --prometheus FILE  write the counters to FILE in Prometheus' text format\n"
	"                     (for node_exporter's textfile collector: FILE ends\n"
	"                     in .prom), replaced atomically at every sample; then\n"
	"                     nothing is printed unless --json is given too\n";

struct sample {
	struct vf_stats_row *rows;
	struct timespec at;
};

static int take(const struct vf_sel *sel, size_t n, struct sample *s);
static void print_table(const struct sample *cur, const struct sample *prev, size_t n, double secs);
static void print_json(const struct sample *cur, const struct sample *prev, size_t n, double secs, bool watch);
static double elapsed(const struct timespec *a, const struct timespec *b);
static void sleep_until(const struct timespec *start, double secs);

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	double watch = 0;
	long count = -1;
	bool json = false;
	const char *prom = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'w': {
			char *end;
			errno = 0;
			watch = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(watch) || watch < 0.1 || watch > 3600)
				return vfctl_usage_error(&vfctl_cmd_stats, "'%s' is not an interval in seconds (0.1-3600)", optarg);
			break;
		}
		case 'n':
			if ((count = vfctl_parse_uint(optarg, 1000000)) < 1)
				return vfctl_usage_error(&vfctl_cmd_stats, "'%s' is not a sample count (1-1000000)", optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			if (!*optarg)
				return vfctl_usage_error(&vfctl_cmd_stats, "--prometheus needs a file name");
			prom = optarg;
			break;
		default:
			return vfctl_opt_error(&vfctl_cmd_stats, c, argv);
		}
	}
	if (count > 0 && watch == 0)
		return vfctl_usage_error(&vfctl_cmd_stats, "--count counts --watch samples; give --watch SECS too");

	struct vf_sel *sel = NULL;
	size_t n = 0;
	int rc = vf_select(argc - optind, argv + optind, &sel, &n);
	if (rc)
		return rc;
	if (n == 0) {
		free(sel);
		return vfctl_nodev("there are no VFs on this host; create some with 'vfctl sriov enable PF N'.");
	}
	struct sample cur = { 0 }, prev = { 0 };
	bool quiet = prom && !json;
	for (long i = 0; count < 0 || i < (watch > 0 ? count : 1); i++) {
		if (i > 0)
			sleep_until(&prev.at, watch);
		rc = take(sel, n, &cur);
		if (rc)
			break;
		double secs = i > 0 ? elapsed(&prev.at, &cur.at) : 0;
		if (prom) {
			int err = vf_stats_write_prometheus(prom, cur.rows, n);
			if (err) {
				rc = vfctl_error("could not write %s: %s; check that its directory exists and is writable.",
						 prom, vfctl_strerror(err));
				break;
			}
		}
		if (json)
			print_json(&cur, i > 0 ? &prev : NULL, n, secs, watch > 0);
		else if (!quiet)
			print_table(&cur, i > 0 ? &prev : NULL, n, secs);
		fflush(stdout);
		free(prev.rows);
		prev = cur;
		cur.rows = NULL;
		if (watch == 0)
			break;
	}
	free(prev.rows);
	free(cur.rows);
	free(sel);
	return rc;
}

const struct vfctl_cmd vfctl_cmd_stats = {
	"stats", "per-VF packet, byte and drop counters; rates with --watch; Prometheus file", usage, run,
};

static int take(const struct vf_sel *sel, size_t n, struct sample *s)
{
	s->rows = calloc(n, sizeof(*s->rows));
	if (!s->rows)
		return vfctl_error("out of memory.");
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	for (size_t i = 0; i < n; i++) {
		int err = vf_stats_read(sel[i].pf, sel[i].pf_netdev, sel[i].index, &s->rows[i]);
		if (err)
			return vfctl_error("VF %d of %s (%s) is gone: %s; the VFs changed while reading, try again.",
					   sel[i].index, sel[i].pf, sel[i].vf, vfctl_strerror(err));
	}
	return VFCTL_OK;
}

static void col_u64(bool have, uint64_t v)
{
	if (have)
		printf(" %12llu", (unsigned long long)v);
	else
		printf(" %12s", "-");
}

static void print_table(const struct sample *cur, const struct sample *prev, size_t n, double secs)
{
	if (prev)
		printf("--- %.2f s after the previous sample; rates per second\n", secs);
	printf("%-12s  %-3s %-15s %-6s %12s %12s %12s %12s %12s %12s", "VF", "IDX", "NETDEV", "SOURCE",
	       "RX_PACKETS", "TX_PACKETS", "RX_BYTES", "TX_BYTES", "RX_DROPPED", "TX_DROPPED");
	if (prev)
		printf(" %10s %10s %12s %12s", "RX_PKT/s", "TX_PKT/s", "RX_B/s", "TX_B/s");
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		const struct vf_stats_row *r = &cur->rows[i];
		bool have = r->c.source != VF_STATS_NONE;
		printf("%-12s  %-3d %-15s %-6s", r->vf, r->index, r->netdev[0] ? r->netdev : "-",
		       vf_stats_source_name(r->c.source));
		col_u64(have, r->c.rx_packets);
		col_u64(have, r->c.tx_packets);
		col_u64(have, r->c.rx_bytes);
		col_u64(have, r->c.tx_bytes);
		col_u64(have && r->c.has_drops, r->c.rx_dropped);
		col_u64(have && r->c.has_drops, r->c.tx_dropped);
		if (prev) {
			const struct vf_counters *a = &prev->rows[i].c, *b = &r->c;
			if (have && a->source == b->source)
				printf(" %10.1f %10.1f %12.1f %12.1f",
				       vf_stats_rate(a->rx_packets, b->rx_packets, secs),
				       vf_stats_rate(a->tx_packets, b->tx_packets, secs),
				       vf_stats_rate(a->rx_bytes, b->rx_bytes, secs),
				       vf_stats_rate(a->tx_bytes, b->tx_bytes, secs));
			else
				printf(" %10s %10s %12s %12s", "-", "-", "-", "-");
		}
		putchar('\n');
	}
}

static void print_json(const struct sample *cur, const struct sample *prev, size_t n, double secs, bool watch)
{
	/* --watch: one compact object per line (JSON Lines), so a reader can
	 * take each sample as it comes. */
	char *text = NULL;
	if (vf_stats_json(cur->rows, prev ? prev->rows : NULL, n, secs, watch, &text) == 0) {
		fputs(text, stdout);
		free(text);
	}
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Sleep until `secs` after `start` (not `secs` from now: the readings take
 * time too), restarting after a signal. */
static void sleep_until(const struct timespec *start, double secs)
{
	struct timespec t = *start;
	long long ns = (long long)(secs * 1e9) + t.tv_nsec;
	t.tv_sec += (time_t)(ns / 1000000000LL);
	t.tv_nsec = (long)(ns % 1000000000LL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}
