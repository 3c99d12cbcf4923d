/*
 * bench_render.c — `vfctl bench`'s table (stdout) and plot (gnuplot, SVG or PNG):
 * medians with their [min-max] over the rounds, each path's ratio to (a), and the
 * ratios the targets are about.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tools/vfctl/bench.h"

/* "(a) VF via vfstack": a row's first column */
static void path_label(const struct bench_path *p, char *buf, size_t len)
{
	snprintf(buf, len, "(%c) %s", p->id, p->name);
}

static double ratio(double x, double base) { return base > 0 ? x / base : 0; }

/* "median [min-max]" or "-" */
static const char *fmt_fig(char *buf, size_t len, const struct bench_fig *f, const char *num)
{
	if (f->n == 0)
		return "-";
	char m[24], lo[24], hi[24];
	snprintf(m, sizeof(m), num, f->median);
	snprintf(lo, sizeof(lo), num, f->min);
	snprintf(hi, sizeof(hi), num, f->max);
	snprintf(buf, len, "%s [%s-%s]", m, lo, hi);
	return buf;
}

static const char *fmt_ratio(char *buf, size_t len, const struct bench_fig *x, const struct bench_fig *base)
{
	if (!x->n || !base->n || base->median <= 0)
		return "-";
	snprintf(buf, len, "%.2fx", x->median / base->median);
	return buf;
}

/* One target line: "name: (x)/(y) = r (target op t): met/missed" */
static void target(FILE *f, const struct bench *b, const char *what, int k, char x, char y, const char *op,
		   double t)
{
	const struct bench_path *px = bench_path_const(b, x), *py = bench_path_const(b, y);
	if (!px->wanted || !py->wanted || !px->fig[k].n || !py->fig[k].n || py->fig[k].median <= 0) {
		fprintf(f, "  %-26s (%c)/(%c): not measured\n", what, x, y);
		return;
	}
	double r = px->fig[k].median / py->fig[k].median;
	if (!op) {
		fprintf(f, "  %-26s (%c)/(%c) = %.2f\n", what, x, y, r);
		return;
	}
	bool met = op[0] == '<' ? r <= t : r >= t;
	fprintf(f, "  %-26s (%c)/(%c) = %.3f   target %s %.2f: %s\n", what, x, y, r, op, t, met ? "met" : "missed");
}

static void hw_table(const struct bench *b, FILE *f);

void bench_table(const struct bench *b, FILE *f)
{
	const struct bench_path *a = &b->p[0];
	fprintf(f, "vfctl bench: PF %s (%s), VF %s; peer %s on VF %s (namespace vfsbpeer); %s\n", b->pf, b->pf_if,
		b->vf, b->peer_ip, b->peer_vf, b->when);
	fprintf(f, "%ld s per workload after a %ld s TCP warm-up, %ld round%s (order", b->secs, b->warm, b->rounds,
		b->rounds == 1 ? "" : "s");
	for (int r = 0; r < BENCH_MAXR && b->order[r][0]; r++)
		fprintf(f, " %s", b->order[r]);
	fprintf(f, "), UDP 64-byte at %.1f kpps offered; medians [min-max]\n", b->udp_kpps_offered);
	fprintf(f, "%-31s %2s %22s %6s %20s %6s %22s %20s %24s", "path", "n", "TCP Mbit/s", "vs(a)", "UDP64 kpps",
		"vs(a)", "link-up s", "of it pre-kernel s", "RTT us (p99)");
	if (b->dpdk_on)
		fprintf(f, " %24s", "DPDK64 kpps");
	fputc('\n', f);
	char x1[80], x2[80], x3[80], x4[80], r1[16], r2[16], x5[80], x6[80];
	for (int i = 0; i < BENCH_NPATHS; i++) {
		const struct bench_path *p = &b->p[i];
		if (!p->wanted)
			continue;
		char label[48];
		path_label(p, label, sizeof(label));
		char rtt[112] = "-";
		if (p->fig[FIG_RTT].n)
			snprintf(rtt, sizeof(rtt), "%s (%.0f)", fmt_fig(x4, sizeof(x4), &p->fig[FIG_RTT], "%.0f"),
				 p->fig[FIG_RTT_P99].median);
		fprintf(f, "%-31s %2d %22s %6s %20s %6s %22s %20s %24s", label, p->fig[FIG_TCP].n,
			fmt_fig(x1, sizeof(x1), &p->fig[FIG_TCP], "%.1f"),
			fmt_ratio(r1, sizeof(r1), &p->fig[FIG_TCP], &a->fig[FIG_TCP]),
			fmt_fig(x2, sizeof(x2), &p->fig[FIG_UDP], "%.2f"),
			fmt_ratio(r2, sizeof(r2), &p->fig[FIG_UDP], &a->fig[FIG_UDP]),
			fmt_fig(x3, sizeof(x3), &p->fig[FIG_LINK], "%.1f"),
			fmt_fig(x6, sizeof(x6), &p->fig[FIG_START], "%.1f"), rtt);
		if (b->dpdk_on)
			fprintf(f, " %24s", fmt_fig(x5, sizeof(x5), &p->fig[FIG_DPDK], "%.1f"));
		if (p->note[0])
			fprintf(f, "  %s", p->note);
		if (b->dpdk_on && p->dpdk_note[0])
			fprintf(f, "%sdpdk: %s", p->note[0] ? "; " : "  ", p->dpdk_note);
		fputc('\n', f);
	}
	fprintf(f, "costs per MiB of the TCP stream (KVM's debugfs statistics, the VMM's /proc/PID/stat):\n");
	fprintf(f, "%-31s %24s %22s %22s %18s  %s\n", "path", "VM exits/MiB", "guest IRQs/MiB",
		"host CPU ms/MiB", "guest-mode share", "exits/MiB by reason (medians)");
	for (int i = 0; i < BENCH_NPATHS; i++) {
		const struct bench_path *p = &b->p[i];
		if (!p->wanted)
			continue;
		char label[48];
		path_label(p, label, sizeof(label));
		if (!p->guest) {
			fprintf(f, "%-31s %24s %22s %22s %18s  no guest\n", label, "-", "-", "-", "-");
			continue;
		}
		fprintf(f, "%-31s %24s %22s %22s %18s ", label, fmt_fig(x1, sizeof(x1), &p->fig[FIG_EXITS], "%.1f"),
			fmt_fig(x2, sizeof(x2), &p->fig[FIG_IRQS], "%.1f"), fmt_fig(x3, sizeof(x3), &p->fig[FIG_CPU], "%.2f"),
			fmt_fig(x4, sizeof(x4), &p->fig[FIG_GUEST_SHARE], "%.2f"));
		for (int k = 0; k < BENCH_NREASONS; k++)
			if (p->reason[k].n && p->reason[k].median >= 0.05)
				fprintf(f, " %s %.1f", bench_reason_key[k], p->reason[k].median);
		fputc('\n', f);
	}
	hw_table(b, f);
	fprintf(f, "ratios of medians (targets from issue 18):\n");
	target(f, b, "VM exits per MiB", FIG_EXITS, 'a', 'b', "<=", 0.05);
	target(f, b, "host CPU per MiB", FIG_CPU, 'a', 'b', "<=", 0.5);
	target(f, b, "TCP Mbit/s", FIG_TCP, 'a', 'c', ">=", 1.0);
	target(f, b, "link-up time", FIG_LINK, 'a', 'c', "<=", 0.5);
	target(f, b, "link-up before the kernel", FIG_START, 'a', 'c', NULL, 0);
	target(f, b, "TCP Mbit/s vs the roof", FIG_TCP, 'a', 'e', NULL, 0);
	target(f, b, "UDP kpps vs the roof", FIG_UDP, 'a', 'e', NULL, 0);
	if (!a->measured)
		fprintf(f, "no ratios to (a): path (a) was not measured\n");
}

/* The costs' exits again, by hardware exit reason (bench_trace.c); rows only when measured. */
static void hw_table(const struct bench *b, FILE *f)
{
	bool any = false;
	for (int i = 0; i < BENCH_NPATHS; i++)
		any |= b->p[i].wanted && b->p[i].hw[0].n > 0;
	if (!any) {
		fprintf(f, "exits/MiB by hardware exit reason: not measured%s%s\n", b->trace_note[0] ? ": " : "",
			b->trace_note);
		return;
	}
	fprintf(f, "exits/MiB by hardware exit reason (tracefs histograms of kvm:kvm_exit and kvm:kvm_msr; medians):\n");
	fprintf(f, "%-31s", "path");
	for (int k = 0; k < BENCH_NHW; k++)
		fprintf(f, " %9s", bench_hw_key[k]);
	fputc('\n', f);
	for (int i = 0; i < BENCH_NPATHS; i++) {
		const struct bench_path *p = &b->p[i];
		if (!p->wanted)
			continue;
		char label[48];
		path_label(p, label, sizeof(label));
		fprintf(f, "%-31s", label);
		if (!p->hw[0].n) {
			fprintf(f, " %s\n", p->guest ? "-" : "no guest");
			continue;
		}
		for (int k = 0; k < BENCH_NHW; k++)
			fprintf(f, " %9.1f", p->hw[k].median);
		fputc('\n', f);
	}
}

/* --- the plot ------------------------------------------------------------------------------ */

static const struct {
	int fig;
	const char *title, *color;
} panels[] = {
	{ FIG_TCP, "TCP stream (Mbit/s)", "#4C72B0" },
	{ FIG_UDP, "UDP 64-byte received (kpps)", "#DD8452" },
	{ FIG_LINK, "start to guest link up (s)", "#55A868" },
	{ FIG_RTT, "UDP echo RTT, median (us)", "#8172B3" },
	{ FIG_EXITS, "VM exits per MiB (TCP)", "#C44E52" },
	{ FIG_CPU, "host CPU ms per MiB, outside guest mode", "#937860" },
};
#define NPANELS (sizeof(panels) / sizeof(panels[0]))

int bench_plot(const struct bench *b, const char *file)
{
	char gp[PATH_MAX];
	if (!bench_in_path("gnuplot", gp, sizeof(gp)))
		return -ENOENT;
	const char *ext = strrchr(file, '.');
	bool png = ext && !strcmp(ext, ".png");
	char dat[PATH_MAX + 8], script[PATH_MAX + 8], log[PATH_MAX + 8];
	snprintf(dat, sizeof(dat), "%s.dat", file);
	snprintf(script, sizeof(script), "%s.gp", file);
	snprintf(log, sizeof(log), "%s.log", file);
	FILE *d = fopen(dat, "w");
	if (!d)
		return -errno;
	/* a row per path: id "label", then per panel: median min max "ratio to (a)" */
	const struct bench_path *a = &b->p[0];
	for (int i = 0; i < BENCH_NPATHS; i++) {
		const struct bench_path *p = &b->p[i];
		if (!p->wanted)
			continue;
		fprintf(d, "%c \"(%c) %s\"", p->id, p->id, p->label);
		for (size_t k = 0; k < NPANELS; k++) {
			const struct bench_fig *x = &p->fig[panels[k].fig], *ax = &a->fig[panels[k].fig];
			char r[16] = "-";
			if (x->n && ax->n && ax->median > 0)
				snprintf(r, sizeof(r), "%.2fx", ratio(x->median, ax->median));
			fprintf(d, " %.4f %.4f %.4f \"%s\"", x->n ? x->median : 0, x->n ? x->min : 0, x->n ? x->max : 0, r);
		}
		fputc('\n', d);
	}
	fclose(d);
	FILE *s = fopen(script, "w");
	if (!s)
		return -errno;
	fprintf(s,
		"set terminal %s size 1500,900 %s background rgb 'white'\n"
		"set output '%s'\n"
		"set multiplot layout 2,3 title \"vfstack network paths (%s): medians of %ld rounds, bars min-max, "
		"labels ratio to (a); every path crosses the NIC\"\n"
		"set style data histograms\nset style histogram errorbars gap 1 lw 1\n"
		"set style fill solid 0.85 border -1\nset boxwidth 0.8\nset grid ytics\n"
		"set yrange [0:*]\nset offsets 0,0,graph 0.12,0\nunset key\n"
		"set xtics rotate by -20 scale 0 font ',9'\n",
		png ? "pngcairo" : "svg", png ? "font 'sans,10'" : "dynamic font 'sans,11'", file, b->when, b->rounds);
	for (size_t k = 0; k < NPANELS; k++) {
		int c = 3 + 4 * (int)k;
		fprintf(s, "set title '%s'\n"
			"plot '%s' using %d:%d:%d:xtic(2) lc rgb '%s', '' using 0:%d:%d with labels offset 0,0.9 notitle\n",
			panels[k].title, dat, c, c + 1, c + 2, panels[k].color, c + 2, c + 3);
	}
	fprintf(s, "unset multiplot\n");
	fclose(s);
	unlink(log);
	char *argv[] = { gp, script, NULL };
	return bench_run(60, log, argv) == 0 ? 0 : -EIO;
}
