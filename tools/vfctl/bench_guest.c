/*
 * bench_guest.c — one guest run of `vfctl bench`: the guest image (the testbed's
 * initramfs plus an archive with bench-guest.sh, iperf3, vfs-udpecho), the guest's
 * command line, the console watch (link up; the costs snapshots at the guest's
 * "mark tcp-begin" / "mark tcp-end"), and the guest's lines parsed into a sample.
 *
 * Costs come from the same source for every VMM: KVM's per-VM debugfs directory
 * /sys/kernel/debug/kvm/PID-FD (exits by reason) and /proc/PID/stat (user+system
 * time, and the part of it spent in guest mode) of the process that owns the VM.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/vfctl/bench.h"

#define KVM_DEBUGFS "/sys/kernel/debug/kvm"

const char *const bench_reason_key[BENCH_NREASONS] = {
	"io_exits", "mmio_exits", "irq_exits", "halt_exits", "irq_window_exits",
	"request_irq_exits", "signal_exits", "other",
};

struct snap {
	bool ok;
	double exits, reason[BENCH_NREASONS];
	double cpu_ms, guest_ms;
	bool hw_ok;
	double hw[BENCH_NHW];
};

static bool read_num(const char *dir, const char *name, double *v)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	unsigned long long x;
	bool ok = fscanf(f, "%llu", &x) == 1;
	fclose(f);
	if (ok)
		*v = (double)x;
	return ok;
}

/* utime + stime and guest_time of a process, in ms (guest time is part of utime). */
static bool proc_cpu(pid_t pid, double *cpu_ms, double *guest_ms)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *s = strrchr(buf, ')');
	if (!s)
		return false;
	/* fields from 3 (state) on; utime 14, stime 15, guest_time 43 */
	unsigned long long ut = 0, st = 0, gt = 0;
	int field = 2;
	for (char *save, *t = strtok_r(s + 1, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 14)
			ut = strtoull(t, NULL, 10);
		else if (field == 15)
			st = strtoull(t, NULL, 10);
		else if (field == 43) {
			gt = strtoull(t, NULL, 10);
			break;
		}
	}
	if (field < 43)
		return false;
	double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);
	*cpu_ms = (double)(ut + st) * tick_ms;
	*guest_ms = (double)gt * tick_ms;
	return true;
}

/* The one VM running now: its debugfs counters and its process's CPU time. */
static void take_snap(struct snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	DIR *d = opendir(KVM_DEBUGFS);
	if (!d)
		return;
	char dir[PATH_MAX] = "";
	int pid = 0, fd;
	for (struct dirent *e; (e = readdir(d));)
		if (sscanf(e->d_name, "%d-%d", &pid, &fd) == 2) {
			snprintf(dir, sizeof(dir), KVM_DEBUGFS "/%s", e->d_name);
			break;
		}
	closedir(d);
	if (!dir[0] || !read_num(dir, "exits", &sn->exits))
		return;
	double named = 0;
	for (int i = 0; i < BENCH_NREASONS - 1; i++)
		if (read_num(dir, bench_reason_key[i], &sn->reason[i]))
			named += sn->reason[i];
	sn->reason[BENCH_NREASONS - 1] = sn->exits > named ? sn->exits - named : 0;
	sn->ok = proc_cpu(pid, &sn->cpu_ms, &sn->guest_ms);
	sn->hw_ok = bench_trace_snap(pid, sn->hw);
}

/* The guest image: the testbed's initramfs plus an archive holding the guest
 * script, testpmd's runner, iperf3 with its libraries (and the loader) and
 * vfs-udpecho (static). */
int bench_guest_image(struct bench *b)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/guest-tree", b->out);
	if (bench_sh(30, b->log, "rm -rf '%s' && mkdir -p '%s/vfstack/bench/lib'", dir, dir) != 0)
		return -EIO;
	snprintf(path, sizeof(path), "%s/vfstack/guest-run", dir);
	if (bench_write_file(path, bench_guest_script) != 0 || chmod(path, 0755) != 0)
		return -EIO;
	snprintf(path, sizeof(path), "%s/vfstack/bench/testpmd-tp.sh", dir);
	if (bench_write_file(path, bench_testpmd_script) != 0)
		return -EIO;
	snprintf(b->guest_img, sizeof(b->guest_img), "%s/guest-bench.cpio.gz", b->out);
	if (b->dpdk && bench_sh(60, b->log, "mkdir -p '%s/vfstack/dpdk' && cp -a '%s/.' '%s/vfstack/dpdk/'",
				dir, b->dpdk, dir) != 0)
		return -EIO;
	/* ld.so --list is ldd without ldd (the testbed has no ldd). */
	return bench_sh(60, b->log,
			"set -e; cp '%s' '%s/vfstack/bench/iperf3'; cp '%s' '%s/vfstack/bench/vfs-udpecho'; "
			"for l in $(/lib64/ld-linux-x86-64.so.2 --list '%s' | "
			"awk '/=>/ {print $3} /ld-linux/ {print $1}'); do cp -L \"$l\" '%s/vfstack/bench/lib/'; done; "
			"cp '%s' '%s'; (cd '%s' && find . -mindepth 1 | sed 's|^\\./||' | cpio -o -H newc 2>/dev/null) "
			"| gzip >> '%s'",
			b->iperf, dir, b->udpecho, dir, b->iperf, dir, b->initrd, b->guest_img, dir,
			b->guest_img) == 0 ? 0 : -EIO;
}

void bench_guest_cmdline(const struct bench *b, char *out, size_t len, const char *drv, const char *ip,
			 const char *gw, bool with_defaults)
{
	int n = snprintf(out, len, "%svfs.modules=%s vfs.bench.drv=%s vfs.bench.ip=%s%s%s "
			 "vfs.bench.server=%s vfs.bench.port=5201 vfs.bench.secs=%ld vfs.bench.warm=%ld "
			 "vfs.bench.udp_bps=%.0f vfs.bench.rtt_n=%ld",
			 with_defaults ? "console=ttyS0 reboot=k panic=-1 " : "", drv, drv, ip,
			 gw ? " vfs.bench.gw=" : "", gw ? gw : "", b->peer_ip, b->secs, b->warm,
			 b->udp_kpps_offered * 1000 * 64 * 8, b->rtt_n);
	/* testpmd after the rest, on the VF paths only */
	if (b->dpdk && !strcmp(drv, "igbvf") && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, " vfs.bench.dpdk=%ld", b->secs);
}

/* New complete lines of the console since *off: the link up, the marks. */
static void watch(const char *console, long *off, struct bench_sample *s, double t0, struct snap sn[2])
{
	FILE *f = fopen(console, "r");
	if (!f)
		return;
	if (fseek(f, *off, SEEK_SET) == 0) {
		char line[512];
		while (fgets(line, sizeof(line), f)) {
			size_t n = strlen(line);
			if (line[n - 1] != '\n' && n + 1 < sizeof(line))
				break; /* not complete yet: read it again next time */
			*off += (long)n;
			if (strstr(line, "VFS-BENCH link-up") && strstr(line, "carrier=1") && s->link_up_s < 0) {
				s->link_up_s = bench_now() - t0;
				/* the guest's uptime then: the rest of link-up was before its kernel */
				const char *u = strstr(line, "uptime=");
				double up;
				if (u && sscanf(u + 7, "%lf", &up) == 1 && up >= 0 && up <= s->link_up_s)
					s->start_s = s->link_up_s - up;
			}
			else if (strstr(line, "VFS-BENCH mark tcp-begin"))
				take_snap(&sn[0]);
			else if (strstr(line, "VFS-BENCH mark tcp-end"))
				take_snap(&sn[1]);
		}
	}
	fclose(f);
}

/* Run one guest to its end, watching its console. */
void bench_guest_run(struct bench *b, struct bench_path *p, char *const argv[], double t0,
		     const char *console, const char *log, struct bench_sample *s)
{
	(void)p;
	pid_t pid = bench_spawn(argv, log);
	if (pid < 0) {
		bench_note(s->note, sizeof(s->note), "cannot start %s: %s", argv[0], strerror(errno));
		return;
	}
	double timeout = 180 + 4.0 * (double)b->secs + (double)b->warm;
	int st = -ETIMEDOUT;
	bool exited = false;
	long off = 0;
	struct snap sn[2] = { { 0 }, { 0 } };
	while (bench_now() - t0 < timeout && !bench_interrupted) {
		int ws;
		if (waitpid(pid, &ws, WNOHANG) == pid) {
			st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			exited = true;
		}
		watch(console, &off, s, t0, sn);
		if (exited)
			break;
		usleep(20 * 1000);
	}
	if (!exited)
		st = bench_reap(pid, 0);
	bench_parse_lines(s, console, "VFS-BENCH ");
	if (sn[0].ok && sn[1].ok && s->mib > 0) {
		s->costs = true;
		s->exits = sn[1].exits - sn[0].exits;
		for (int i = 0; i < BENCH_NREASONS; i++)
			s->reason[i] = sn[1].reason[i] - sn[0].reason[i];
		s->hw_ok = sn[0].hw_ok && sn[1].hw_ok;
		if (s->hw_ok)
			bench_trace_delta(sn[0].hw, sn[1].hw, s->hw);
		double cpu = sn[1].cpu_ms - sn[0].cpu_ms, guest = sn[1].guest_ms - sn[0].guest_ms;
		s->guest_cpu_ms = guest;
		s->host_cpu_ms = cpu - guest;
	} else if (s->ok && !s->note[0]) {
		bench_note(s->note, sizeof(s->note), "no KVM statistics (debugfs %s)", KVM_DEBUGFS);
	}
	if (bench_interrupted && !s->ok)
		bench_note(s->note, sizeof(s->note), "interrupted (the guest was ended by PID)");
	else if (st == -ETIMEDOUT && !s->ok)
		bench_note(s->note, sizeof(s->note), "the guest did not finish within %.0f s (ended by PID; see %s)",
			   timeout, console);
	else if (st != 0 && !s->ok && !s->note[0])
		bench_note(s->note, sizeof(s->note), "exited with status %d (see %s and %s)", st, log, console);
}

/* --- the guest's lines ------------------------------------------------------------------ */

/* "[  5]   0.00-5.00   sec  ... 31.3 Mbits/sec ... receiver": the rate. */
static bool parse_rate(const char *line, double *mbps)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", line);
	double prev = -1;
	for (char *save, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		double scale = !strcmp(t, "Gbits/sec") ? 1000 : !strcmp(t, "Mbits/sec") ? 1
			     : !strcmp(t, "Kbits/sec") ? 0.001 : !strcmp(t, "bits/sec") ? 1e-6 : 0;
		if (scale && prev >= 0) {
			*mbps = prev * scale;
			return true;
		}
		char *end;
		double v = strtod(t, &end);
		prev = end != t && !*end ? v : -1;
	}
	return false;
}

/* The UDP receiver line: interval "a-b" and "lost/total" give packets/s. */
static bool parse_pps(const char *line, double *kpps)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", line);
	double secs = 0;
	long lost = -1, total = -1;
	for (char *save, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		double a, b;
		long l, n;
		char c;
		if (sscanf(t, "%lf-%lf%c", &a, &b, &c) == 2 && b > a)
			secs = b - a;
		else if (sscanf(t, "%ld/%ld%c", &l, &n, &c) == 2 && n >= l && l >= 0)
			lost = l, total = n;
	}
	if (secs <= 0 || total < 0)
		return false;
	*kpps = (double)(total - lost) / secs / 1000.0;
	return true;
}

/* The seconds of a receiver line's interval ("0.00-5.00"), 0 if none. */
static double parse_secs(const char *line)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *save, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		double a, b;
		char c;
		if (sscanf(t, "%lf-%lf%c", &a, &b, &c) == 2 && b > a)
			return b - a;
	}
	return 0;
}

static double after(const char *s, const char *key)
{
	const char *k = strstr(s, key);
	return k ? strtod(k + strlen(key), NULL) : -1;
}

/* Lines "<prefix>tcp ...receiver", "<prefix>udp ...receiver", "<prefix>rtt ...",
 * "<prefix>irqs-tcp N", "<prefix>error ...". */
void bench_parse_lines(struct bench_sample *s, const char *file, const char *prefix)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		bench_note(s->note, sizeof(s->note), "no output (%s missing)", file);
		return;
	}
	char line[1024], tcp[32], udp[32], err[32], rtt[32], irq[32];
	snprintf(tcp, sizeof(tcp), "%stcp ", prefix);
	snprintf(udp, sizeof(udp), "%sudp ", prefix);
	snprintf(err, sizeof(err), "%serror ", prefix);
	snprintf(rtt, sizeof(rtt), "%srtt ", prefix);
	snprintf(irq, sizeof(irq), "%sirqs-tcp ", prefix);
	bool got_tcp = false, got_udp = false;
	size_t pl = strlen(prefix);
	while (fgets(line, sizeof(line), f)) {
		/* at a line's start only: bench_run logs its command line ("+ ...") too */
		char *x = line + strspn(line, "\r \t");
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(x, prefix, pl) != 0)
			continue;
		if (!strncmp(x, tcp, strlen(tcp)) && strstr(x, "receiver")) {
			got_tcp = parse_rate(x + strlen(tcp), &s->tcp_mbps);
			double secs = parse_secs(x + strlen(tcp));
			if (got_tcp)
				s->mib = s->tcp_mbps * secs * 1e6 / 8 / 1048576.0;
		} else if (!strncmp(x, udp, strlen(udp)) && strstr(x, "receiver")) {
			got_udp = parse_rate(x + strlen(udp), &s->udp_mbps) && parse_pps(x + strlen(udp), &s->udp_kpps);
		} else if (!strncmp(x, rtt, strlen(rtt))) {
			s->rtt_min_us = after(x, "min=");
			s->rtt_med_us = after(x, "median=");
			s->rtt_p99_us = after(x, "p99=");
		} else if (!strncmp(x, irq, strlen(irq))) {
			s->irqs = strtod(x + strlen(irq), NULL);
		} else if (!strncmp(x, err, strlen(err)) && !s->note[0]) {
			bench_note(s->note, sizeof(s->note), "%s", x + strlen(err));
		}
	}
	fclose(f);
	s->ok = got_tcp && got_udp;
	if (!s->ok && !s->note[0])
		bench_note(s->note, sizeof(s->note), "iperf3 reported no %s result (see %s)",
			   got_tcp ? "UDP" : "TCP", file);
}

/* The mean of testpmd's nonzero per-second Tx-pps lines after the first (start-up),
 * as kpps; else the first error line, or why not. */
void bench_parse_dpdk(struct bench_sample *s, char *note, size_t len, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		bench_note(note, len, "no testpmd output (%s)", file);
		return;
	}
	static const char pps[] = "VFS-BENCH dpdk-pps ", err[] = "VFS-BENCH dpdk-error ";
	char line[512];
	double sum = 0, first = 0;
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *x = line + strspn(line, "\r \t");
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(x, pps, sizeof(pps) - 1)) {
			double v = strtod(x + sizeof(pps) - 1, NULL);
			if (v > 0 && first == 0)
				first = v;
			else if (v > 0) {
				sum += v;
				n++;
			}
		} else if (!strncmp(x, err, sizeof(err) - 1) && !note[0]) {
			bench_note(note, len, "testpmd: %.100s", x + sizeof(err) - 1);
		}
	}
	fclose(f);
	if (n == 0 && first > 0) {
		sum = first;
		n = 1;
	}
	if (n > 0) {
		s->dpdk_kpps = sum / n / 1000.0;
		note[0] = '\0';
	} else if (!note[0]) {
		bench_note(note, len, "testpmd reported no Tx-pps (see %.80s)", file);
	}
}
