/*
 * cmd_bench.c — `vfctl bench`: one network workload, one guest image, five
 * paths, one run (docs/bench.md):
 *   (a) a VF passed through by vfstack      (vfctl assign, KVM core)
 *   (b) vfstack's emulated vNIC              (vfs-vmm --vnic, virtio-net on a tap)
 *   (c) QEMU -accel kvm, -device vfio-pci on the same VF
 *   (d) QEMU -accel kvm, virtio-net-pci on a tap, vhost=off
 *   (e) the host itself on the VF (igbvf, in a network namespace): the roof
 * Workloads (iperf3, from the guest to an iperf3 server on the PF's
 * address): a TCP stream (Mbit/s) and 64-byte UDP (packets/s).  Also the
 * time from starting the guest to its VF's link up, vfstack vs QEMU.
 * Results: a table with each path's ratio to (a), JSON, a gnuplot plot.
 *
 * With --dpdk DIR, also DPDK testpmd tx-only (64-byte frames, kpps) on the
 * VF for (a), (c) and (e): in the guests after iperf3 (the VF moved from
 * igbvf to uio_pci_generic: no vIOMMU, and the testbed kernel has no VFIO
 * no-IOMMU mode), in the host through vfio-pci.
 *
 * `vfctl bench --from FILE.json` renders a saved run again (table, JSON,
 * plot) without measuring, e.g. outside the testbed where gnuplot lives.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/vfctl/vfctl.h"

#define DEFAULT_KERNEL "/vfstack/guest/vmlinuz"
#define DEFAULT_INITRD "/vfstack/guest/guest.cpio.gz"
#define DEFAULT_OUT    "/tmp/vfs-bench"
#define BENCH_TAP      "vfsbench0"
#define BENCH_NETNS    "vfsbench"
#define TAP_HOST_IP    "10.0.9.1"
#define TAP_GUEST_IP   "10.0.9.2/24"
#define IPERF_PORT     5201
#define NPATHS         5

static const char usage[] =
	"usage: vfctl bench [PF] [--vf VF] [--secs N] [--paths LIST] [--out DIR]\n"
	"                   [--kernel BZIMAGE] [--initrd FILE] [--dpdk DIR] [--json]\n"
	"                   [--plot FILE]\n"
	"       vfctl bench --from FILE.json [--json] [--plot FILE]\n"
	"\n"
	"Measure one workload over five paths, one after another in this run, and\n"
	"report each path's ratio to (a):\n"
	"  a  a VF passed through by vfstack (vfctl assign)\n"
	"  b  vfstack's emulated vNIC (virtio-net on a tap; vfs-vmm --vnic)\n"
	"  c  QEMU -accel kvm with -device vfio-pci on the same VF\n"
	"  d  QEMU -accel kvm with virtio-net-pci on a tap, vhost off\n"
	"  e  the host itself on the VF (igbvf, in a network namespace): the roof\n"
	"Workloads: iperf3 TCP stream (Mbit/s) and UDP 64-byte datagrams (kpps), from\n"
	"the guest to an iperf3 server on the PF's IPv4 address.  Also reported: the\n"
	"time from starting the guest to its VF's link up, vfstack vs QEMU.\n"
	"\n"
	"  PF             an SR-IOV PF with an IPv4 address (default: the first)\n"
	"  --vf VF        the VF to use (default: the PF's first VF not in use)\n"
	"  --secs N       seconds per workload (default 5)\n"
	"  --paths LIST   e.g. a,b,e (default a,b,c,d,e)\n"
	"  --out DIR      logs, consoles, bench.json, bench.svg (default " DEFAULT_OUT ")\n"
	"  --dpdk DIR     also DPDK testpmd tx-only, 64-byte frames (kpps), on the VF\n"
	"                 paths a, c, e; DIR holds dpdk-testpmd, lib/ (its libraries\n"
	"                 and ld-linux), pmds/ (net_e1000, mempool_ring) and\n"
	"                 ko/ (the guest kernel's uio.ko, uio_pci_generic.ko)\n"
	"  --json         print JSON instead of the table\n"
	"  --plot FILE    the plot, .svg or .png (default DIR/bench.svg when gnuplot exists)\n"
	"  --from FILE    render a saved bench.json instead of measuring\n"
	"\n"
	"Needs: root, /dev/kvm, vfio-pci and igbvf loaded, tun, iperf3, iproute2's ip;\n"
	"qemu-system-x86_64 for (c) and (d).  A path that cannot run is reported as\n"
	"such, never as a number.  Exit status: 0 every path measured, 1 not, 2 usage.\n";

/* --- what a run produces ------------------------------------------------- */

struct path {
	char id;
	const char *name;
	const char *label;       /* short, for the plot */
	bool wanted;
	bool measured;           /* numbers below are real */
	char note[200];          /* why not, or a remark */
	double tcp_mbps;
	double udp_mbps, udp_kpps;
	double link_up_s;        /* <0: not measured */
	double dpdk_kpps;        /* <0: not measured (dpdk_note says why) */
	char dpdk_note[120];
};

struct bench {
	/* setup */
	char pf[PCI_BDF_LEN], vf[PCI_BDF_LEN];
	char pf_if[32], server_ip[INET_ADDRSTRLEN], vf_prefix[INET_ADDRSTRLEN];
	const char *kernel, *initrd, *out, *dpdk;
	bool dpdk_on;            /* the run has the DPDK column */
	char self[PATH_MAX], vmm[PATH_MAX], qemu[PATH_MAX];
	char guest_img[PATH_MAX + 32];
	long secs;
	pid_t server;
	bool tap_made, netns_made;
	/* results */
	char when[32];
	struct path p[NPATHS];
};

static const struct path path_defs[NPATHS] = {
	{ 'a', "VF via vfstack", "vfstack VF", false, false, "", 0, 0, 0, -1, -1, "" },
	{ 'b', "vNIC via vfstack (virtio)", "vfstack vNIC", false, false, "", 0, 0, 0, -1, -1, "" },
	{ 'c', "QEMU + vfio-pci (same VF)", "QEMU VF", false, false, "", 0, 0, 0, -1, -1, "" },
	{ 'd', "QEMU virtio-net, no vhost", "QEMU virtio", false, false, "", 0, 0, 0, -1, -1, "" },
	{ 'e', "host on the VF (roof)", "host VF (roof)", false, false, "", 0, 0, 0, -1, -1, "" },
};

/* Copy a string that must fit; false (and dst empty) when it does not. */
static bool copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void note(struct path *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct path *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->note, sizeof(p->note), fmt, ap);
	va_end(ap);
}

/* --- processes: every child is ours, ended by its PID ------------------------ */

/* SIGINT/SIGTERM: end the current child, tear down, report what was done. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Start argv with stdin /dev/null and stdout+stderr appended to `log`, in
 * a process group of its own. */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setpgid(0, 0);
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0) {
		dup2(out, 1);
		dup2(out, 2);
	}
	execvp(argv[0], argv);
	dprintf(2, "vfctl bench: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for pid at most `timeout` s; on timeout TERM its group, then KILL.
 * Returns its exit status, or -ETIMEDOUT. */
static int reap(pid_t pid, double timeout)
{
	double end = now_s() + timeout;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -ECHILD;
		if (now_s() > end || interrupted)
			break;
		usleep(20 * 1000);
	}
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	for (int i = 0; i < 250 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(20 * 1000);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	return -ETIMEDOUT;
}

static int run_argv(double timeout, const char *log, char *const argv[])
{
	pid_t pid = spawn(argv, log);
	return pid < 0 ? -errno : reap(pid, timeout);
}

/* A shell line of our own making (names we validated), logged first. */
static int sh(double timeout, const char *log, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(double timeout, const char *log, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *f = fopen(log, "a");
	if (f) {
		fprintf(f, "+ %s\n", cmd);
		fclose(f);
	}
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	return run_argv(timeout, log, argv);
}

static bool in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *save, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", d, name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* --- iperf3 output -------------------------------------------------------------- */

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

/* Pick the results out of a log: lines "<prefix>tcp ...receiver" and
 * "<prefix>udp ...receiver". */
static void parse_results(struct path *p, const char *file, const char *prefix)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		note(p, "no output (%s missing)", file);
		return;
	}
	char line[1024], tcp[24], udp[24], err[24];
	snprintf(tcp, sizeof(tcp), "%stcp ", prefix);
	snprintf(udp, sizeof(udp), "%sudp ", prefix);
	snprintf(err, sizeof(err), "%serror ", prefix);
	bool got_tcp = false, got_udp = false;
	while (fgets(line, sizeof(line), f)) {
		char *s;
		line[strcspn(line, "\r\n")] = '\0';
		if ((s = strstr(line, tcp)) && strstr(s, "receiver"))
			got_tcp = parse_rate(s + strlen(tcp), &p->tcp_mbps);
		else if ((s = strstr(line, udp)) && strstr(s, "receiver"))
			got_udp = parse_rate(s + strlen(udp), &p->udp_mbps) &&
				  parse_pps(s + strlen(udp), &p->udp_kpps);
		else if ((s = strstr(line, err)) && !p->note[0])
			note(p, "%s", s + strlen(err));
	}
	fclose(f);
	p->measured = got_tcp && got_udp;
	if (!p->measured && !p->note[0])
		note(p, "iperf3 reported no %s result (see %s)", got_tcp ? "UDP" : "TCP", file);
}

/* --- DPDK testpmd tx-only ---------------------------------------------------------------------- */

#define DPDK_HUGEPAGES_S "48"    /* 2 MiB each: testpmd's -m 64 plus slack */
/* lcore 0 prints the stats, lcore 1 forwards: both on CPU 0 (the guests have one) */
#define TESTPMD_EAL "--lcores=0@0,1@0 -n 1 -m 64"
#define TESTPMD_ARGS "--forward-mode=txonly --txpkts=64 --stats-period=1 --total-num-mbufs=2048"
/* testpmd's per-second Tx-pps, and its first error, as lines for parse_dpdk */
#define TESTPMD_SED "-e 's/^.*Tx-pps: *\\([0-9][0-9]*\\).*$/VFS-BENCH dpdk-pps \\1/p' " \
		    "-e 's/^.*\\(EAL: Error.*\\|Cannot.*\\|[Ff]ail.*\\)$/VFS-BENCH dpdk-error \\1/p'"

/* tp N CMD...: run testpmd (CMD) in the background until it has printed N + 1
 * nonzero Tx-pps lines (the first covers start-up) or 30 + N s have passed,
 * then end it by PID (SIGINT, after 5 s SIGKILL) and print its numbers. */
#define TESTPMD_TP \
	"tp() { n=$1; shift; o=/tmp/vfs-testpmd.out; \"$@\" > $o 2>&1 & pid=$!; i=0; " \
	"alive() { grep -q '^State:[[:space:]]*[^Z]' /proc/$pid/status 2>/dev/null; }; " \
	"while [ $i -lt $((n * 10 + 300)) ] && alive; do " \
	"[ $(grep -c 'Tx-pps: *[1-9]' $o) -gt $n ] && break; sleep 0.1; i=$((i+1)); done; " \
	"kill -INT $pid 2>/dev/null; i=0; while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; " \
	"kill -KILL $pid 2>/dev/null; wait $pid; sed -n " TESTPMD_SED " $o; }"

/* The mean of testpmd's nonzero per-second Tx-pps lines (the first seconds
 * are start-up), as kpps; else the first error line, or why not. */
static void parse_dpdk(struct path *p, const char *file, const char *prefix)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(p->dpdk_note, sizeof(p->dpdk_note), "no testpmd output (%s)", file);
		return;
	}
	char line[512], pps[64], err[64];
	snprintf(pps, sizeof(pps), "%sdpdk-pps ", prefix);
	snprintf(err, sizeof(err), "%sdpdk-error ", prefix);
	double sum = 0, first = 0;
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		/* at a line's start only: sh() logs its command line ("+ ...") too */
		const char *s = line + strspn(line, "\r \t");
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(s, pps, strlen(pps))) {
			double v = strtod(s + strlen(pps), NULL);
			if (v > 0 && first == 0)
				first = v; /* a second that includes start-up */
			else if (v > 0) {
				sum += v;
				n++;
			}
		} else if (!strncmp(s, err, strlen(err)) && !p->dpdk_note[0]) {
			snprintf(p->dpdk_note, sizeof(p->dpdk_note), "testpmd: %.100s", s + strlen(err));
		}
	}
	fclose(f);
	if (n == 0 && first > 0) {
		sum = first;
		n = 1;
	}
	if (n > 0) {
		p->dpdk_kpps = sum / n / 1000.0;
		p->dpdk_note[0] = '\0';
	} else if (!p->dpdk_note[0]) {
		snprintf(p->dpdk_note, sizeof(p->dpdk_note), "testpmd reported no Tx-pps (see %.80s)", file);
	}
}

/* --- the guest side -------------------------------------------------------------------- */

/* The guest's /vfstack/guest-run (tests/testbed/image/guest-init runs it):
 * parameters come as vfs.bench.KEY=VALUE on the kernel command line. */
static const char guest_script[] =
	"#!/bin/sh\n"
	"# vfctl bench, guest side: bring the NIC up, report link up, run iperf3.\n"
	"for kv in $(cat /proc/cmdline); do\n"
	"  case \"$kv\" in vfs.bench.*=*) k=${kv#vfs.bench.}; k=${k%%=*}; eval \"B_$k=\\${kv#*=}\";; esac\n"
	"done\n"
	"dev=; i=0\n"
	"while [ -z \"$dev\" ] && [ $i -lt 200 ]; do\n"
	"  for d in /sys/class/net/*; do\n"
	"    drv=$(readlink \"$d/device/driver\" 2>/dev/null); [ \"${drv##*/}\" = \"$B_drv\" ] && dev=${d##*/}\n"
	"  done\n"
	"  [ -n \"$dev\" ] || sleep 0.05; i=$((i+1))\n"
	"done\n"
	"[ -n \"$dev\" ] || { echo \"VFS-BENCH error no $B_drv network device in the guest\"; exit 3; }\n"
	"ip link set \"$dev\" up; ip addr add \"$B_ip\" dev \"$dev\"\n"
	"i=0; while [ \"$(cat /sys/class/net/$dev/carrier 2>/dev/null)\" != 1 ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done\n"
	"echo \"VFS-BENCH link-up $dev carrier=$(cat /sys/class/net/$dev/carrier 2>/dev/null)\"\n"
	"[ -n \"$B_gw\" ] && ip route add default via \"$B_gw\"\n"
	"i=0; until ping -c 1 -W 1 \"$B_server\" >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i+1)); done\n"
	"L=/vfstack/bench/lib\n"
	"ip3() { \"$L/ld-linux-x86-64.so.2\" --library-path \"$L\" /vfstack/bench/iperf3 \"$@\" 2>&1; }\n"
	"ip3 -c \"$B_server\" -p \"$B_port\" -t \"$B_secs\" -f m | sed -n 's/^.*receiver.*$/VFS-BENCH tcp &/p; s/^iperf3: error/VFS-BENCH error tcp:/p'\n"
	"ip3 -c \"$B_server\" -p \"$B_port\" -t \"$B_secs\" -u -l 64 -b 0 -f m | sed -n 's/^.*receiver.*$/VFS-BENCH udp &/p; s/^iperf3: error/VFS-BENCH error udp:/p'\n"
	"if [ -n \"$B_dpdk\" ]; then\n"
	"  # testpmd tx-only: the VF from igbvf to uio_pci_generic (no vIOMMU here)\n"
	"  # EAL refuses plugins under a world-writable directory: the initramfs root is one\n"
	"  chmod go-w /; D=/vfstack/dpdk; bdf=$(readlink /sys/class/net/$dev/device); bdf=${bdf##*/}\n"
	"  ip link set \"$dev\" down; echo \"$bdf\" > /sys/bus/pci/devices/$bdf/driver/unbind\n"
	"  insmod $D/ko/uio.ko; insmod $D/ko/uio_pci_generic.ko\n"
	"  echo uio_pci_generic > /sys/bus/pci/devices/$bdf/driver_override\n"
	"  echo \"$bdf\" > /sys/bus/pci/drivers/uio_pci_generic/bind\n"
	"  [ -e /sys/bus/pci/drivers/uio_pci_generic/$bdf ] || echo \"VFS-BENCH dpdk-error $bdf did not bind to uio_pci_generic\"\n"
	"  echo " DPDK_HUGEPAGES_S " > /proc/sys/vm/nr_hugepages; mkdir -p /dev/hugepages; mount -t hugetlbfs none /dev/hugepages\n"
	"  " TESTPMD_TP "\n"
	"  tp \"$B_dpdk\" $D/lib/ld-linux-x86-64.so.2 --library-path $D/lib $D/dpdk-testpmd \\\n"
	"    " TESTPMD_EAL " -d $D/pmds -a $bdf --iova-mode=pa -- " TESTPMD_ARGS "\n"
	"fi\n"
	"echo VFS-BENCH done\n";

/* The guest image: the testbed's initramfs plus an archive holding the
 * script above, iperf3 and its libraries (and the loader). */
static int make_guest_image(struct bench *b, const char *log)
{
	char iperf[PATH_MAX];
	if (!in_path("iperf3", iperf, sizeof(iperf)))
		return vfctl_error("iperf3 is not installed here; install Debian's iperf3 (the bench runs it "
				   "on the host and copies it into the guest).");
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/guest-tree", b->out);
	if (sh(30, log, "rm -rf '%s' && mkdir -p '%s/vfstack/bench/lib'", dir, dir) != 0)
		return vfctl_error("cannot create %s (see %s).", dir, log);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/vfstack/guest-run", dir);
	FILE *f = fopen(path, "w");
	if (!f || fputs(guest_script, f) < 0 || fclose(f) != 0)
		return vfctl_error("cannot write %s: %s.", path, strerror(errno));
	chmod(path, 0755);
	snprintf(b->guest_img, sizeof(b->guest_img), "%s/guest-bench.cpio.gz", b->out);
	if (b->dpdk && sh(60, log, "mkdir -p '%s/vfstack/dpdk' && cp -a '%s/.' '%s/vfstack/dpdk/'",
			  dir, b->dpdk, dir) != 0)
		return vfctl_error("cannot copy the DPDK tree %s into the guest image (see %s).", b->dpdk, log);
	/* ld.so --list is ldd without ldd (the testbed has no ldd). */
	int rc = sh(60, log,
		    "set -e; cp '%s' '%s/vfstack/bench/iperf3'; "
		    "for l in $(/lib64/ld-linux-x86-64.so.2 --list '%s' | "
		    "awk '/=>/ {print $3} /ld-linux/ {print $1}'); do cp -L \"$l\" '%s/vfstack/bench/lib/'; done; "
		    "cp '%s' '%s'; (cd '%s' && find . -mindepth 1 | sed 's|^\\./||' | cpio -o -H newc 2>/dev/null) "
		    "| gzip >> '%s'",
		    iperf, dir, iperf, dir, b->initrd, b->guest_img, dir, b->guest_img);
	if (rc != 0)
		return vfctl_error("cannot build the bench guest image %s (see %s).", b->guest_img, log);
	return 0;
}

/* Run one guest to its end: watch its console for the link-up line (the
 * time since t0 is the link-up time) and for the guest's exit. */
static void run_guest(struct bench *b, struct path *p, char *const argv[], const char *console,
		      const char *log, double t0)
{
	pid_t pid = spawn(argv, log);
	if (pid < 0) {
		note(p, "cannot start %s: %s", argv[0], strerror(errno));
		return;
	}
	double timeout = 150 + 4.0 * (double)b->secs;
	int st = -ETIMEDOUT;
	bool exited = false;
	while (now_s() - t0 < timeout && !interrupted) {
		int ws;
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			exited = true;
		}
		if (p->link_up_s < 0) {
			FILE *f = fopen(console, "r");
			char line[512];
			while (f && fgets(line, sizeof(line), f))
				if (strstr(line, "VFS-BENCH link-up") && strstr(line, "carrier=1")) {
					p->link_up_s = now_s() - t0;
					break;
				}
			if (f)
				fclose(f);
		}
		if (exited)
			break;
		usleep(20 * 1000);
	}
	if (!exited)
		st = reap(pid, 0);
	parse_results(p, console, "VFS-BENCH ");
	if (interrupted && !p->measured)
		note(p, "interrupted (the guest was ended by PID)");
	else if (st == -ETIMEDOUT && !p->measured)
		note(p, "the guest did not finish within %.0f s (ended by PID; see %s)", timeout, console);
	else if (st != 0 && !p->measured && !p->note[0])
		note(p, "exited with status %d (see %s and %s)", st, log, console);
}

static void guest_cmdline(const struct bench *b, char *out, size_t len, const char *drv,
			  const char *ip, const char *gw, bool with_defaults)
{
	int n = snprintf(out, len, "%svfs.modules=%s vfs.bench.drv=%s vfs.bench.ip=%s%s%s "
			 "vfs.bench.server=%s vfs.bench.port=%d vfs.bench.secs=%ld",
			 with_defaults ? "console=ttyS0 reboot=k panic=-1 " : "", drv, drv, ip,
			 gw ? " vfs.bench.gw=" : "", gw ? gw : "", b->server_ip, IPERF_PORT, b->secs);
	/* testpmd after iperf3, on the VF paths only */
	if (b->dpdk && !strcmp(drv, "igbvf") && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, " vfs.bench.dpdk=%ld", b->secs);
}

/* --dpdk: the guest also holds the DPDK tree and 96 MiB of hugepages. */
static const char *guest_mem(const struct bench *b) { return b->dpdk ? "384M" : "256M"; }

/* After a guest on the VF: its testpmd numbers, or why there are none. */
static void guest_dpdk(const struct bench *b, struct path *p, const char *console)
{
	if (b->dpdk)
		parse_dpdk(p, console, "VFS-BENCH ");
}

static void files_for(const struct bench *b, char id, char *console, char *log, size_t len)
{
	snprintf(console, len, "%s/console-%c.log", b->out, id);
	snprintf(log, len, "%s/run-%c.log", b->out, id);
	unlink(console);
	unlink(log);
}

/* --- the five paths ------------------------------------------------------------------------ */

static void path_vf_vfstack(struct bench *b, struct path *p)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[512], ip[32];
	files_for(b, p->id, console, log, sizeof(console));
	snprintf(ip, sizeof(ip), "%s.50/24", b->vf_prefix);
	guest_cmdline(b, cmd, sizeof(cmd), "igbvf", ip, NULL, false);
	char *argv[] = { b->self, "assign", b->vf, "--guest", "vfs-bench", "--kernel", (char *)b->kernel,
			 "--initrd", b->guest_img, "--mem", (char *)guest_mem(b), "--cmdline", cmd,
			 "--console", console, NULL };
	run_guest(b, p, argv, console, log, now_s());
	guest_dpdk(b, p, console);
}

static void path_vnic_vfstack(struct bench *b, struct path *p)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[512];
	files_for(b, p->id, console, log, sizeof(console));
	if (!b->vmm[0]) {
		note(p, "vfs-vmm not found next to vfctl or in PATH");
		return;
	}
	char help[PATH_MAX + 16];
	snprintf(help, sizeof(help), "%s/vmm-help.txt", b->out);
	unlink(help);
	char *hargv[] = { b->vmm, "--help", NULL };
	run_argv(10, help, hargv);
	if (sh(5, log, "grep -q -e --vnic '%s'", help) != 0) {
		note(p, "%s has no --vnic option (an older build); use the vfs-vmm built with this "
		     "vfctl (make build/bin/vfs-vmm)", b->vmm);
		return;
	}
	guest_cmdline(b, cmd, sizeof(cmd), "virtio_net", TAP_GUEST_IP, TAP_HOST_IP, true);
	char *argv[] = { b->vmm, "--kernel", (char *)b->kernel, "--initrd", b->guest_img, "--mem", "256M",
			 "--vnic", BENCH_TAP, "--cmdline", cmd, "--console", console, NULL };
	run_guest(b, p, argv, console, log, now_s());
}

static bool qemu_ready(struct bench *b, struct path *p)
{
	if (!b->qemu[0]) {
		note(p, "qemu-system-x86_64 is not installed here");
		return false;
	}
	return true;
}

static void qemu_argv(struct bench *b, char **argv, size_t max, const char *console_arg,
		      const char *cmd, const char *dev_kind, const char *dev_arg)
{
	size_t n = 0;
	const char *fixed[] = { b->qemu, "-accel", "kvm", "-cpu", "host", "-m", guest_mem(b), "-smp", "1",
				"-nodefaults", "-display", "none", "-no-reboot", "-kernel", b->kernel,
				"-initrd", b->guest_img, "-append", cmd, "-serial", console_arg };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n + 1 < max; i++)
		argv[n++] = (char *)fixed[i];
	if (dev_kind && n + 3 < max) {
		argv[n++] = (char *)dev_kind;
		argv[n++] = (char *)dev_arg;
	}
	argv[n] = NULL;
}

static void path_vf_qemu(struct bench *b, struct path *p)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[512], ip[32], con_arg[PATH_MAX + 8], dev[64];
	files_for(b, p->id, console, log, sizeof(console));
	if (!qemu_ready(b, p))
		return;
	snprintf(ip, sizeof(ip), "%s.51/24", b->vf_prefix);
	guest_cmdline(b, cmd, sizeof(cmd), "igbvf", ip, NULL, true);
	snprintf(con_arg, sizeof(con_arg), "file:%s", console);
	snprintf(dev, sizeof(dev), "vfio-pci,host=%s", b->vf);
	/* Like vfctl assign, the clock starts before the VF goes to vfio-pci. */
	double t0 = now_s();
	char *bind[] = { b->self, "bind", b->vf, "vfio-pci", NULL };
	if (run_argv(30, log, bind) != 0) {
		note(p, "cannot bind %s to vfio-pci (see %s)", b->vf, log);
		return;
	}
	char *argv[40];
	qemu_argv(b, argv, 40, con_arg, cmd, "-device", dev);
	run_guest(b, p, argv, console, log, t0);
	guest_dpdk(b, p, console);
	char *rel[] = { b->self, "release", b->vf, NULL };
	if (run_argv(30, log, rel) != 0 && !p->note[0])
		note(p, "%s could not be given back to its driver (see %s)", b->vf, log);
}

static void path_virtio_qemu(struct bench *b, struct path *p)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[512], con_arg[PATH_MAX + 8];
	files_for(b, p->id, console, log, sizeof(console));
	if (!qemu_ready(b, p))
		return;
	guest_cmdline(b, cmd, sizeof(cmd), "virtio_net", TAP_GUEST_IP, TAP_HOST_IP, true);
	snprintf(con_arg, sizeof(con_arg), "file:%s", console);
	char *argv[44];
	qemu_argv(b, argv, 40, con_arg, cmd, "-netdev",
		  "tap,id=n0,ifname=" BENCH_TAP ",script=no,downscript=no,vhost=off");
	size_t n = 0;
	while (argv[n])
		n++;
	argv[n++] = "-device";
	argv[n++] = "virtio-net-pci,netdev=n0,romfile=";
	argv[n] = NULL;
	run_guest(b, p, argv, console, log, now_s());
}

/* The roof: no guest, the VF's own netdev in a namespace of its own (so
 * the traffic crosses the VF and the NIC's switch, not the host's loopback). */
static void path_host(struct bench *b, struct path *p)
{
	char console[PATH_MAX], log[PATH_MAX];
	files_for(b, p->id, console, log, sizeof(console));
	char *rel[] = { b->self, "release", b->vf, "igbvf", NULL };
	run_argv(30, log, rel);
	char glob[128];
	snprintf(glob, sizeof(glob), "/sys/bus/pci/devices/%s/net", b->vf);
	int rc = sh(30, log,
		    "set -e; dev=''; i=0; while [ -z \"$dev\" ] && [ $i -lt 100 ]; do dev=$(ls %s 2>/dev/null | head -n1); "
		    "[ -n \"$dev\" ] || sleep 0.1; i=$((i+1)); done; [ -n \"$dev\" ]; "
		    "ip netns add " BENCH_NETNS "; ip link set \"$dev\" netns " BENCH_NETNS "; "
		    "ip netns exec " BENCH_NETNS " ip link set \"$dev\" up; "
		    "ip netns exec " BENCH_NETNS " ip addr add %s.52/24 dev \"$dev\"; "
		    "i=0; until ip netns exec " BENCH_NETNS " ping -c 1 -W 1 %s >/dev/null 2>&1 || [ $i -ge 30 ]; "
		    "do i=$((i+1)); done",
		    glob, b->vf_prefix, b->server_ip);
	b->netns_made = true;
	if (rc != 0) {
		note(p, "cannot put the VF's netdev into a namespace (see %s)", log);
		return;
	}
	rc = sh(60 + 3.0 * (double)b->secs, console,
		"ip netns exec " BENCH_NETNS " iperf3 -c %s -p %d -t %ld -f m 2>&1 | sed -n 's/^.*receiver.*$/HOST tcp &/p'; "
		"ip netns exec " BENCH_NETNS " iperf3 -c %s -p %d -t %ld -u -l 64 -b 0 -f m 2>&1 | "
		"sed -n 's/^.*receiver.*$/HOST udp &/p'",
		b->server_ip, IPERF_PORT, b->secs, b->server_ip, IPERF_PORT, b->secs);
	parse_results(p, console, "HOST ");
	if (!b->dpdk)
		return;
	/* testpmd in the host: the VF on vfio-pci (the host has the IOMMU). */
	sh(10, log, "ip netns del " BENCH_NETNS);
	b->netns_made = false;
	char *bind[] = { b->self, "bind", b->vf, "vfio-pci", NULL };
	if (run_argv(30, log, bind) != 0) {
		snprintf(p->dpdk_note, sizeof(p->dpdk_note), "cannot bind %s to vfio-pci (see %.60s)", b->vf, log);
		return;
	}
	char out[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/testpmd-e.log", b->out);
	unlink(out);
	sh(60 + 2.0 * (double)b->secs, out,
	   "echo " DPDK_HUGEPAGES_S " > /proc/sys/vm/nr_hugepages; mkdir -p /dev/hugepages; "
	   "mount | grep -q ' /dev/hugepages ' || mount -t hugetlbfs none /dev/hugepages; "
	   TESTPMD_TP "; tp %ld '%s/lib/ld-linux-x86-64.so.2' --library-path '%s/lib' '%s/dpdk-testpmd' "
	   TESTPMD_EAL " -d '%s/pmds' -a %s -- " TESTPMD_ARGS "; "
	   "umount /dev/hugepages; echo 0 > /proc/sys/vm/nr_hugepages",
	   b->secs, b->dpdk, b->dpdk, b->dpdk, b->dpdk, b->vf);
	parse_dpdk(p, out, "VFS-BENCH ");
	(void)rc;
}

/* --- setup and teardown ------------------------------------------------------------------------ */

/* First line a shell line of ours prints (a quick query: ls, a loop). */
static bool sh_line(char *out, size_t len, const char *cmd)
{
	out[0] = '\0';
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
	return out[0] != '\0';
}

static bool read_link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	const char *base = strrchr(buf, '/');
	return copy_str(out, len, base ? base + 1 : buf);
}

/* The PF's netdev and its IPv4 address (the iperf3 server's); the guests
 * take .50 to .52 of the same /24. */
static int pf_address(struct bench *b)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ls /sys/bus/pci/devices/%s/net 2>/dev/null", b->pf);
	if (!sh_line(b->pf_if, sizeof(b->pf_if), cmd))
		return vfctl_error("%s has no network interface (is the PF driver loaded?).", b->pf);
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) != 0)
		return vfctl_error("cannot list interface addresses: %s.", strerror(errno));
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, b->pf_if)) {
			struct sockaddr_in *a = (struct sockaddr_in *)(void *)i->ifa_addr;
			inet_ntop(AF_INET, &a->sin_addr, b->server_ip, sizeof(b->server_ip));
			break;
		}
	freeifaddrs(ifa);
	if (!b->server_ip[0])
		return vfctl_error("%s (%s) has no IPv4 address for the iperf3 server; give it one "
				   "(ip addr add 10.0.2.15/24 dev %s).", b->pf_if, b->pf, b->pf_if);
	snprintf(b->vf_prefix, sizeof(b->vf_prefix), "%s", b->server_ip);
	char *dot = strrchr(b->vf_prefix, '.');
	if (dot)
		*dot = '\0';
	return 0;
}

/* First SR-IOV PF with VFs, or the given one; first VF not in use. */
static int pick_devices(struct bench *b, const char *pf_arg, const char *vf_arg)
{
	if (vf_arg) {
		int idx;
		int rc = vfctl_resolve_vf(vf_arg, b->vf, b->pf, &idx);
		if (rc)
			return rc;
	} else {
		if (pf_arg) {
			int rc = vfctl_resolve_pf(pf_arg, b->pf);
			if (rc)
				return rc;
		} else {
			char line[64];
			if (!sh_line(line, sizeof(line), "for d in /sys/bus/pci/devices/*; do "
				     "[ -e $d/virtfn0 ] && echo ${d##*/}; done"))
				return vfctl_error("no SR-IOV PF with VFs here; create some first (vfctl sriov enable PF 2).");
			if (!copy_str(b->pf, sizeof(b->pf), line))
				return vfctl_error("unexpected PCI address %s.", line);
		}
		for (int i = 0; i < 64 && !b->vf[0]; i++) {
			char link[128], name[64], drv[64] = "";
			snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/virtfn%d", b->pf, i);
			if (!read_link_name(link, name, sizeof(name)))
				break;
			char dl[160];
			snprintf(dl, sizeof(dl), "/sys/bus/pci/devices/%s/driver", name);
			read_link_name(dl, drv, sizeof(drv));
			if (!drv[0] || !strcmp(drv, "igbvf"))
				copy_str(b->vf, sizeof(b->vf), name);
		}
		if (!b->vf[0])
			return vfctl_error("%s has no free VF (each is bound to vfio-pci or another driver); "
					   "create one more (vfctl sriov enable) or give --vf.", b->pf);
	}
	return pf_address(b);
}

static void find_tools(struct bench *b)
{
	ssize_t n = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);
	b->self[n > 0 ? n : 0] = '\0';
	/* vfs-vmm next to vfctl first (a build tree), then PATH. */
	copy_str(b->vmm, sizeof(b->vmm), b->self);
	char *slash = strrchr(b->vmm, '/');
	if (slash && (size_t)(slash - b->vmm) + sizeof("/vfs-vmm") <= sizeof(b->vmm))
		memcpy(slash, "/vfs-vmm", sizeof("/vfs-vmm"));
	else
		b->vmm[0] = '\0';
	if ((!b->vmm[0] || access(b->vmm, X_OK) != 0) && !in_path("vfs-vmm", b->vmm, sizeof(b->vmm)))
		b->vmm[0] = '\0';
	if (!in_path("qemu-system-x86_64", b->qemu, sizeof(b->qemu)))
		b->qemu[0] = '\0';
}

static int setup_host(struct bench *b, const char *log)
{
	char iperf[PATH_MAX];
	if (!in_path("iperf3", iperf, sizeof(iperf)))
		return vfctl_error("iperf3 is not installed here; install Debian's iperf3.");
	char port[16];
	snprintf(port, sizeof(port), "%d", IPERF_PORT);
	char *srv[] = { iperf, "-s", "-p", port, "-B", b->server_ip, NULL };
	b->server = spawn(srv, log);
	if (b->server < 0)
		return vfctl_error("cannot start the iperf3 server: %s.", strerror(errno));
	usleep(300 * 1000);
	bool want_tap = b->p[1].wanted || b->p[3].wanted;
	if (want_tap) {
		sh(10, log, "ip link del " BENCH_TAP " 2>/dev/null; true");
		if (sh(10, log, "ip tuntap add dev " BENCH_TAP " mode tap && ip addr add " TAP_HOST_IP
		       "/24 dev " BENCH_TAP " && ip link set " BENCH_TAP " up") != 0)
			return vfctl_error("cannot create tap %s for the emulated NICs (load tun; see %s).",
					   BENCH_TAP, log);
		b->tap_made = true;
	}
	return 0;
}

static void teardown_host(struct bench *b, const char *log)
{
	interrupted = 0; /* cleanup runs to its end; another signal cuts it short */
	if (b->server > 0) {
		kill(b->server, SIGTERM);
		reap(b->server, 5);
		b->server = 0;
	}
	if (b->tap_made)
		sh(10, log, "ip link del " BENCH_TAP);
	if (b->netns_made)
		sh(10, log, "ip netns del " BENCH_NETNS);
	/* The VF goes back to igbvf, whatever a failed path left. */
	if (b->vf[0]) {
		char *rel[] = { b->self, "release", b->vf, "igbvf", NULL };
		run_argv(30, log, rel);
	}
}

/* --- output ------------------------------------------------------------------------------------ */

static double ratio(double x, double base) { return base > 0 ? x / base : 0; }

static void print_table(const struct bench *b, FILE *f)
{
	const struct path *a = &b->p[0];
	fprintf(f, "vfctl bench: PF %s (%s, iperf3 server %s), VF %s, %ld s per workload, %s\n",
		b->pf, b->pf_if, b->server_ip, b->vf, b->secs, b->when);
	fprintf(f, "%-31s %11s %7s %11s %7s %9s", "path", "TCP Mbit/s", "vs (a)", "UDP64 kpps",
		"vs (a)", "link-up");
	if (b->dpdk_on)
		fprintf(f, " %11s %7s", "DPDK64 kpps", "vs (a)");
	fputc('\n', f);
	for (unsigned i = 0; i < NPATHS; i++) {
		const struct path *p = &b->p[i];
		if (!p->wanted)
			continue;
		char label[48];
		snprintf(label, sizeof(label), "(%c) %s", p->id, p->name);
		/* the DPDK columns, and why not when there is no number */
		char dk[16] = "-", rd[16] = "-", dnote[160] = "";
		if (b->dpdk_on) {
			if (p->dpdk_kpps >= 0) {
				snprintf(dk, sizeof(dk), "%.1f", p->dpdk_kpps);
				if (a->dpdk_kpps > 0)
					snprintf(rd, sizeof(rd), "%.2fx", ratio(p->dpdk_kpps, a->dpdk_kpps));
			} else {
				snprintf(dnote, sizeof(dnote), "dpdk: %s", p->dpdk_note[0] ? p->dpdk_note : "not measured");
			}
		}
		char dcols[48] = "";
		if (b->dpdk_on)
			snprintf(dcols, sizeof(dcols), " %11s %7s", dk, rd);
		if (!p->measured) {
			fprintf(f, "%-31s %11s %7s %11s %7s %9s%s  %s%s%s\n", label, "-", "-", "-", "-", "-", dcols,
				p->note[0] ? p->note : "not measured", dnote[0] ? "; " : "", dnote);
			continue;
		}
		char lu[16] = "-";
		if (p->link_up_s >= 0)
			snprintf(lu, sizeof(lu), "%.2f s", p->link_up_s);
		char rt[16] = "-", ru[16] = "-";
		if (a->measured) {
			snprintf(rt, sizeof(rt), "%.2fx", ratio(p->tcp_mbps, a->tcp_mbps));
			snprintf(ru, sizeof(ru), "%.2fx", ratio(p->udp_kpps, a->udp_kpps));
		}
		fprintf(f, "%-31s %11.1f %7s %11.2f %7s %9s%s%s%s%s%s\n", label, p->tcp_mbps, rt, p->udp_kpps,
			ru, lu, dcols, p->note[0] || dnote[0] ? "  " : "", p->note,
			p->note[0] && dnote[0] ? "; " : "", dnote);
	}
	const struct path *c = &b->p[2];
	if (a->link_up_s >= 0 && c->link_up_s >= 0)
		fprintf(f, "time from start to the guest's VF link up: vfstack %.2f s, QEMU %.2f s "
			"(QEMU/vfstack %.2fx)\n", a->link_up_s, c->link_up_s, ratio(c->link_up_s, a->link_up_s));
	if (!a->measured)
		fprintf(f, "no ratios: path (a) was not measured\n");
}

static void json_num(FILE *f, const char *key, double v, bool ok, bool comma)
{
	if (ok)
		fprintf(f, "      \"%s\": %.4f%s\n", key, v, comma ? "," : "");
	else
		fprintf(f, "      \"%s\": null%s\n", key, comma ? "," : "");
}

static void json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void print_json(const struct bench *b, FILE *f)
{
	const struct path *a = &b->p[0];
	fprintf(f, "{\n  \"tool\": \"vfctl bench\",\n  \"when\": ");
	json_text(f, b->when);
	fprintf(f, ",\n  \"pf\": ");
	json_text(f, b->pf);
	fprintf(f, ",\n  \"pf_netdev\": ");
	json_text(f, b->pf_if);
	fprintf(f, ",\n  \"server\": ");
	json_text(f, b->server_ip);
	fprintf(f, ",\n  \"vf\": ");
	json_text(f, b->vf);
	fprintf(f, ",\n  \"secs\": %ld,\n", b->secs);
	if (b->dpdk_on)
		fprintf(f, "  \"dpdk\": true,\n");
	fprintf(f, "  \"paths\": [\n");
	bool first = true;
	for (unsigned i = 0; i < NPATHS; i++) {
		const struct path *p = &b->p[i];
		if (!p->wanted)
			continue;
		fprintf(f, "%s    {\n      \"id\": \"%c\",\n      \"name\": ", first ? "" : ",\n", p->id);
		first = false;
		json_text(f, p->name);
		fprintf(f, ",\n      \"measured\": %s,\n      \"note\": ", p->measured ? "true" : "false");
		json_text(f, p->note);
		fprintf(f, ",\n");
		bool r = p->measured && a->measured;
		json_num(f, "tcp_mbps", p->tcp_mbps, p->measured, true);
		json_num(f, "udp_mbps", p->udp_mbps, p->measured, true);
		json_num(f, "udp_kpps", p->udp_kpps, p->measured, true);
		json_num(f, "tcp_ratio_to_a", ratio(p->tcp_mbps, a->tcp_mbps), r, true);
		json_num(f, "udp_ratio_to_a", ratio(p->udp_kpps, a->udp_kpps), r, true);
		json_num(f, "link_up_s", p->link_up_s, p->link_up_s >= 0, b->dpdk_on);
		if (b->dpdk_on) {
			json_num(f, "dpdk_kpps", p->dpdk_kpps, p->dpdk_kpps >= 0, true);
			json_num(f, "dpdk_ratio_to_a", ratio(p->dpdk_kpps, a->dpdk_kpps),
				 p->dpdk_kpps >= 0 && a->dpdk_kpps > 0, true);
			fprintf(f, "      \"dpdk_note\": ");
			json_text(f, p->dpdk_note);
			fprintf(f, "\n");
		}
		fprintf(f, "    }");
	}
	fprintf(f, "\n  ]\n}\n");
}

static int write_plot(const struct bench *b, const char *file)
{
	char gp[PATH_MAX];
	if (!in_path("gnuplot", gp, sizeof(gp)))
		return -ENOENT;
	const char *ext = strrchr(file, '.');
	bool png = ext && !strcmp(ext, ".png");
	char dat[PATH_MAX + 8], script[PATH_MAX + 8];
	snprintf(dat, sizeof(dat), "%s.dat", file);
	snprintf(script, sizeof(script), "%s.gp", file);
	FILE *d = fopen(dat, "w");
	if (!d)
		return -errno;
	const struct path *a = &b->p[0];
	for (unsigned i = 0; i < NPATHS; i++) {
		const struct path *p = &b->p[i];
		if (!p->wanted)
			continue;
		char rt[16] = "n/a", ru[16] = "n/a";
		if (p->measured && a->measured) {
			snprintf(rt, sizeof(rt), "%.2fx", ratio(p->tcp_mbps, a->tcp_mbps));
			snprintf(ru, sizeof(ru), "%.2fx", ratio(p->udp_kpps, a->udp_kpps));
		} else if (p->measured) {
			snprintf(rt, sizeof(rt), "%.0f", p->tcp_mbps);
			snprintf(ru, sizeof(ru), "%.1f", p->udp_kpps);
		}
		fprintf(d, "%c \"(%c) %s\" %.4f \"%s\" %.4f \"%s\"\n", p->id, p->id, p->label,
			p->measured ? p->tcp_mbps : 0, rt, p->measured ? p->udp_kpps : 0, ru);
	}
	fclose(d);
	/* A third panel when both VF link-up times were measured. */
	const struct path *c = &b->p[2];
	bool links = a->link_up_s >= 0 && c->link_up_s >= 0;
	char ldat[PATH_MAX + 8];
	snprintf(ldat, sizeof(ldat), "%s.link.dat", file);
	if (links) {
		FILE *l = fopen(ldat, "w");
		if (!l)
			return -errno;
		fprintf(l, "\"(a) vfstack\" %.3f \"1.00x\"\n\"(c) QEMU\" %.3f \"%.2fx\"\n", a->link_up_s,
			c->link_up_s, ratio(c->link_up_s, a->link_up_s));
		fclose(l);
	}
	FILE *s = fopen(script, "w");
	if (!s)
		return -errno;
	fprintf(s,
		"set terminal %s size %d,480 %s background rgb 'white'\n"
		"set output '%s'\n"
		"set multiplot layout 1,%d title \"vfstack network paths, one run (%s, %ld s each); labels: ratio to (a)\"\n"
		"set style data histograms\nset style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\nset boxwidth 0.8\nset grid ytics\n"
		"set yrange [0:*]\nset offsets 0,0,graph 0.12,0\nunset key\n"
		"set xtics rotate by -20 scale 0 font ',9'\n"
		"set title 'TCP stream (Mbit/s)'\n"
		"plot '%s' using 3:xtic(2) lc rgb '#4C72B0', '' using 0:3:4 with labels offset 0,0.9 notitle\n"
		"set title 'UDP 64-byte (kpps)'\n"
		"plot '%s' using 5:xtic(2) lc rgb '#DD8452', '' using 0:5:6 with labels offset 0,0.9 notitle\n",
		png ? "pngcairo" : "svg", links ? 1400 : 1100, png ? "font 'sans,10'" : "dynamic font 'sans,11'",
		file, links ? 3 : 2, b->when, b->secs, dat, dat);
	if (links)
		fprintf(s, "set title 'start to the guest VF link up (s)'\n"
			"plot '%s' using 2:xtic(1) lc rgb '#55A868', '' using 0:2:3 with labels offset 0,0.9 notitle\n",
			ldat);
	fprintf(s, "unset multiplot\n");
	fclose(s);
	char log[PATH_MAX + 8];
	snprintf(log, sizeof(log), "%s.log", file);
	unlink(log);
	char *argv[] = { gp, script, NULL };
	return run_argv(60, log, argv) == 0 ? 0 : -EIO;
}

/* --- reading a saved run ------------------------------------------------------------------------ */

static int load_json(struct bench *b, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return vfctl_error("cannot read %s: %s.", file, strerror(errno));
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	int line;
	const char *err;
	struct json_val *v = json_parse(text, &line, &err);
	if (!v)
		return vfctl_error("%s is not a bench result: %s at line %d.", file, err, line);
	const struct json_val *x;
#define STR(key, dst) do { if ((x = json_get(v, key)) && x->type == JSON_STR) \
	snprintf(dst, sizeof(dst), "%s", x->str); } while (0)
	STR("when", b->when);
	STR("pf", b->pf);
	STR("pf_netdev", b->pf_if);
	STR("server", b->server_ip);
	STR("vf", b->vf);
#undef STR
	if ((x = json_get(v, "secs")) && x->type == JSON_NUM)
		b->secs = (long)x->num;
	if ((x = json_get(v, "dpdk")) && x->type == JSON_BOOL)
		b->dpdk_on = x->b;
	const struct json_val *paths = json_get(v, "paths");
	int rc = 0;
	if (!paths || paths->type != JSON_ARR) {
		rc = vfctl_error("%s has no \"paths\" array; is it a vfctl bench result?", file);
	} else {
		for (size_t i = 0; i < paths->n; i++) {
			const struct json_val *o = &paths->items[i];
			const struct json_val *id = json_get(o, "id");
			if (!id || id->type != JSON_STR || id->str[0] < 'a' || id->str[0] >= 'a' + NPATHS)
				continue;
			struct path *p = &b->p[id->str[0] - 'a'];
			p->wanted = true;
			const struct json_val *m = json_get(o, "measured");
			p->measured = m && m->type == JSON_BOOL && m->b;
			if ((x = json_get(o, "note")) && x->type == JSON_STR)
				snprintf(p->note, sizeof(p->note), "%s", x->str);
#define NUM(key, dst) do { if ((x = json_get(o, key)) && x->type == JSON_NUM) dst = x->num; } while (0)
			NUM("tcp_mbps", p->tcp_mbps);
			NUM("udp_mbps", p->udp_mbps);
			NUM("udp_kpps", p->udp_kpps);
			NUM("link_up_s", p->link_up_s);
			NUM("dpdk_kpps", p->dpdk_kpps);
			if ((x = json_get(o, "dpdk_note")) && x->type == JSON_STR)
				snprintf(p->dpdk_note, sizeof(p->dpdk_note), "%s", x->str);
#undef NUM
		}
	}
	json_free(v);
	return rc;
}

/* --- the command ----------------------------------------------------------------------------- */

static int parse_paths(struct bench *b, const char *list)
{
	for (const char *s = list; *s; s++) {
		if (*s == ',' || *s == ' ')
			continue;
		if (*s < 'a' || *s >= 'a' + NPATHS || (s[1] && s[1] != ','))
			return -1;
		b->p[*s - 'a'].wanted = true;
	}
	return 0;
}

static int emit(struct bench *b, bool json, const char *plot, bool plot_given)
{
	if (json)
		print_json(b, stdout);
	else
		print_table(b, stdout);
	if (plot) {
		int err = write_plot(b, plot);
		if (err == -ENOENT && plot_given)
			return vfctl_error("gnuplot is not installed, so %s was not drawn; install gnuplot-nox "
					   "or render later with 'vfctl bench --from FILE.json --plot %s'.", plot, plot);
		if (err && err != -ENOENT)
			return vfctl_error("gnuplot could not draw %s (see %s.log).", plot, plot);
		if (!err && !json)
			printf("plot: %s\n", plot);
	}
	return VFCTL_OK;
}

static int run(int argc, char **argv)
{
	const struct vfctl_cmd *self = &vfctl_cmd_bench;
	static struct bench b;
	memset(&b, 0, sizeof(b));
	memcpy(b.p, path_defs, sizeof(b.p));
	b.kernel = DEFAULT_KERNEL;
	b.initrd = DEFAULT_INITRD;
	b.out = DEFAULT_OUT;
	b.secs = 5;
	const char *pf_arg = NULL, *vf_arg = NULL, *from = NULL, *plot = NULL, *paths = "a,b,c,d,e";
	bool json = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			if (pf_arg)
				return vfctl_usage_error(self, "give one PF, not '%s' too", a);
			pf_arg = a;
			continue;
		}
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (i + 1 >= argc)
			return vfctl_usage_error(self, "%s needs a value", a);
		const char *v = argv[++i];
		if (!strcmp(a, "--vf")) vf_arg = v;
		else if (!strcmp(a, "--out")) b.out = v;
		else if (!strcmp(a, "--kernel")) b.kernel = v;
		else if (!strcmp(a, "--initrd")) b.initrd = v;
		else if (!strcmp(a, "--plot")) plot = v;
		else if (!strcmp(a, "--from")) from = v;
		else if (!strcmp(a, "--paths")) paths = v;
		else if (!strcmp(a, "--dpdk")) b.dpdk = v;
		else if (!strcmp(a, "--secs")) {
			b.secs = vfctl_parse_uint(v, 600);
			if (b.secs < 1)
				return vfctl_usage_error(self, "--secs %s is not a number from 1 to 600", v);
		} else {
			return vfctl_usage_error(self, "unknown option '%s'", a);
		}
	}
	if (parse_paths(&b, paths) != 0)
		return vfctl_usage_error(self, "--paths %s: give letters a to e, comma-separated", paths);
	if (plot) {
		const char *ext = strrchr(plot, '.');
		if (!ext || (strcmp(ext, ".svg") && strcmp(ext, ".png")))
			return vfctl_usage_error(self, "--plot %s: the name must end in .svg or .png", plot);
	}
	if (from) {
		memcpy(b.p, path_defs, sizeof(b.p));
		int rc = load_json(&b, from);
		if (rc)
			return rc;
		return emit(&b, json, plot, plot != NULL);
	}

	/* --- measure --- */
	if (geteuid() != 0)
		return vfctl_error("vfctl bench needs root (it binds the VF, creates a tap and starts guests).");
	if (access(b.kernel, R_OK) != 0 || access(b.initrd, R_OK) != 0)
		return vfctl_error("the guest kernel %s or initramfs %s is not readable; give --kernel and "
				   "--initrd (the testbed's are in /vfstack/guest).", b.kernel, b.initrd);
	if (mkdir(b.out, 0755) != 0 && errno != EEXIST)
		return vfctl_error("cannot create %s: %s.", b.out, strerror(errno));
	if (b.dpdk) {
		char t[PATH_MAX + 32];
		snprintf(t, sizeof(t), "%s/dpdk-testpmd", b.dpdk);
		if (access(t, X_OK) != 0)
			return vfctl_error("--dpdk %s holds no dpdk-testpmd; stage it with "
					   "tests/bench/net/dpdk-tree %s (docs/bench.md).", b.dpdk, b.dpdk);
		b.dpdk_on = true;
		for (unsigned i = 0; i < NPATHS; i++)
			if (b.p[i].id == 'b' || b.p[i].id == 'd')
				snprintf(b.p[i].dpdk_note, sizeof(b.p[i].dpdk_note),
					 "an emulated virtio NIC, no VF for net_e1000_igb_vf");
	}
	int rc = pick_devices(&b, pf_arg, vf_arg);
	if (rc)
		return rc;
	find_tools(&b);
	char log[PATH_MAX + 16];
	snprintf(log, sizeof(log), "%s/bench.log", b.out);
	unlink(log);
	time_t t = time(NULL);
	strftime(b.when, sizeof(b.when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	if ((rc = make_guest_image(&b, log)) != 0)
		return rc;
	/* A signal now ends the current child (its group), and we clean up. */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((rc = setup_host(&b, log)) != 0) {
		teardown_host(&b, log);
		return rc;
	}
	void (*const steps[NPATHS])(struct bench *, struct path *) = {
		path_vf_vfstack, path_vnic_vfstack, path_vf_qemu, path_virtio_qemu, path_host,
	};
	for (unsigned i = 0; i < NPATHS; i++) {
		if (!b.p[i].wanted)
			continue;
		if (interrupted) {
			note(&b.p[i], "not run: interrupted");
			continue;
		}
		fprintf(stderr, "vfctl bench: (%c) %s ...\n", b.p[i].id, b.p[i].name);
		steps[i](&b, &b.p[i]);
		fprintf(stderr, "vfctl bench: (%c) %s\n", b.p[i].id,
			b.p[i].measured ? "measured" : b.p[i].note);
	}
	teardown_host(&b, log);

	char jpath[PATH_MAX + 16];
	snprintf(jpath, sizeof(jpath), "%s/bench.json", b.out);
	FILE *jf = fopen(jpath, "w");
	if (jf) {
		print_json(&b, jf);
		fclose(jf);
	}
	char defplot[PATH_MAX + 16];
	snprintf(defplot, sizeof(defplot), "%s/bench.svg", b.out);
	rc = emit(&b, json, plot ? plot : defplot, plot != NULL);
	if (!json)
		printf("results: %s (logs and consoles in %s)\n", jpath, b.out);
	bool all = true;
	for (unsigned i = 0; i < NPATHS; i++)
		if (b.p[i].wanted && !b.p[i].measured)
			all = false;
	return rc ? rc : all ? VFCTL_OK : VFCTL_FAILED;
}

const struct vfctl_cmd vfctl_cmd_bench = {
	"bench", "measure a VF, the emulated vNIC and QEMU's paths in one run", usage, run,
};
