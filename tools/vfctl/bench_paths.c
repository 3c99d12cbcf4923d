/*
 * bench_paths.c — `vfctl bench`'s topology and its five per-path runners.
 *
 * Every path talks to the same peer: iperf3 and vfs-udpecho in a network namespace of
 * their own (vfsbpeer) on a second VF of the PF, so every path's frames cross the NIC:
 *   (a), (c)  the guest's VF -> the NIC's switch -> the peer's VF
 *   (e)       the host's VF netdev (namespace vfsbench) -> the switch -> the peer's VF
 *   (b), (d)  the guest's virtio NIC -> the tap -> the host forwards (ip_forward) out of
 *             the PF -> the switch -> the peer's VF, and back through the PF
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/vfctl/bench.h"

#define BENCH_TAP     "vfsbench0"
#define HOST_NETNS    "vfsbench"
#define PEER_NETNS    "vfsbpeer"
#define TAP_NET       "10.0.9.0/24"
#define TAP_HOST_IP   "10.0.9.1"
#define TAP_GUEST_IP  "10.0.9.2/24"
#define IPERF_PORT    "5201"
#define ECHO_PORT     "5202"
#define FORWARD_FILE  "/proc/sys/net/ipv4/ip_forward"

static char forward_was[8];

/* `ip ARGS...` to its end; 0 on success. */
static int ip(const struct bench *b, const char *a1, const char *a2, const char *a3, const char *a4,
	      const char *a5, const char *a6, const char *a7, const char *a8)
{
	char *argv[] = { "ip", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, (char *)a6,
			 (char *)a7, (char *)a8, NULL };
	return bench_run(10, b->log, argv);
}

/* ping from a namespace until an answer, at most `tries` s. */
static bool ns_ping(const struct bench *b, const char *ns, const char *addr, int tries)
{
	for (int i = 0; i < tries && !bench_interrupted; i++) {
		char *argv[] = { "ip", "netns", "exec", (char *)ns, "ping", "-c", "1", "-W", "1", (char *)addr, NULL };
		if (bench_run(5, b->log, argv) == 0)
			return true;
	}
	return false;
}

/* The VF's netdev in our namespace (it may take a moment after a bind). */
static bool wait_netdev(const char *vf, char *dev, size_t len)
{
	for (int i = 0; i < 100; i++) {
		if (bench_netdev_of(vf, dev, len))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* Move a VF's netdev into a fresh namespace with addr/24, up. */
static int vf_into_netns(const struct bench *b, const char *vf, const char *ns, const char *addr,
			 char *dev, size_t len)
{
	char cidr[32];
	snprintf(cidr, sizeof(cidr), "%s/24", addr);
	if (!wait_netdev(vf, dev, len))
		return -ENODEV;
	ip(b, "netns", "del", ns, NULL, NULL, NULL, NULL, NULL);
	if (ip(b, "netns", "add", ns, NULL, NULL, NULL, NULL, NULL) ||
	    ip(b, "link", "set", dev, "netns", ns, NULL, NULL, NULL) ||
	    ip(b, "-n", ns, "link", "set", "lo", "up", NULL, NULL) ||
	    ip(b, "-n", ns, "link", "set", dev, "up", NULL, NULL) ||
	    ip(b, "-n", ns, "addr", "add", cidr, "dev", dev, NULL))
		return -EIO;
	return 0;
}

static void start_server(struct bench *b)
{
	char *srv[] = { "ip", "netns", "exec", PEER_NETNS, b->iperf, "-s", "-p", IPERF_PORT, "-B", b->peer_ip, NULL };
	b->server = bench_spawn(srv, b->log);
}

/* After a failed run: a guest ended mid-test leaves iperf3's one-test server "busy"
 * until its connection times out, so the next run would fail too. Start it afresh. */
void bench_restart_server(struct bench *b)
{
	if (b->server > 0) {
		kill(b->server, SIGTERM);
		bench_reap(b->server, 5);
	}
	start_server(b);
	usleep(300 * 1000);
}

int bench_setup(struct bench *b)
{
	/* KVM's per-VM statistics (the costs) live in debugfs. */
	if (access("/sys/kernel/debug/kvm", R_OK) != 0)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	/* ... and the exits by hardware reason in tracefs histograms (optional) */
	b->trace_on = bench_trace_start(b->trace_note, sizeof(b->trace_note)) == 0;
	/* the peer: the second VF, on igbvf, in its own namespace */
	char *rel[] = { b->self, "release", b->peer_vf, "igbvf", NULL };
	bench_run(30, b->log, rel);
	int rc = vf_into_netns(b, b->peer_vf, PEER_NETNS, b->peer_ip, b->peer_if, sizeof(b->peer_if));
	b->peer_made = true;
	if (rc)
		return rc == -ENODEV ? rc : -EIO;
	if (ip(b, "-n", PEER_NETNS, "route", "add", TAP_NET, "via", b->pf_ip, NULL))
		return -EIO;
	if (!ns_ping(b, PEER_NETNS, b->pf_ip, 30))
		return -EHOSTUNREACH;
	start_server(b);
	char *echo[] = { "ip", "netns", "exec", PEER_NETNS, b->udpecho, "serve", ECHO_PORT, NULL };
	b->echo = bench_spawn(echo, b->log);
	if (b->server < 0 || b->echo < 0)
		return -errno;
	usleep(300 * 1000);
	/* the emulated NICs' tap, routed to the PF's subnet */
	if (b->p[1].wanted || b->p[3].wanted) {
		ip(b, "link", "del", BENCH_TAP, NULL, NULL, NULL, NULL, NULL);
		if (ip(b, "tuntap", "add", "dev", BENCH_TAP, "mode", "tap", NULL, NULL) ||
		    ip(b, "addr", "add", TAP_HOST_IP "/24", "dev", BENCH_TAP, NULL, NULL, NULL) ||
		    ip(b, "link", "set", BENCH_TAP, "up", NULL, NULL, NULL, NULL))
			return -ENOTTY;
		b->tap_made = true;
		FILE *f = fopen(FORWARD_FILE, "r");
		if (f) {
			if (!fgets(forward_was, sizeof(forward_was), f))
				forward_was[0] = '\0';
			fclose(f);
		}
		if (bench_write_file(FORWARD_FILE, "1\n") != 0)
			return -EPERM;
		b->forward_set = true;
	}
	char tp[PATH_MAX + 32];
	snprintf(tp, sizeof(tp), "%s/testpmd-tp.sh", b->out);
	return bench_write_file(tp, bench_testpmd_script);
}

void bench_teardown(struct bench *b)
{
	bench_interrupted = 0; /* cleanup runs to its end */
	bench_trace_stop();
	pid_t *kids[] = { &b->server, &b->echo };
	for (unsigned i = 0; i < 2; i++)
		if (*kids[i] > 0) {
			kill(*kids[i], SIGTERM);
			bench_reap(*kids[i], 5);
			*kids[i] = 0;
		}
	if (b->tap_made)
		ip(b, "link", "del", BENCH_TAP, NULL, NULL, NULL, NULL, NULL);
	if (b->forward_set && forward_was[0])
		bench_write_file(FORWARD_FILE, forward_was);
	if (b->peer_made)
		ip(b, "netns", "del", PEER_NETNS, NULL, NULL, NULL, NULL, NULL);
	ip(b, "netns", "del", HOST_NETNS, NULL, NULL, NULL, NULL, NULL);
	/* The VFs go back to igbvf, whatever a failed path left. */
	const char *vfs[] = { b->vf, b->peer_vf };
	for (unsigned i = 0; i < 2; i++)
		if (vfs[i][0]) {
			char *rel[] = { b->self, "release", (char *)vfs[i], "igbvf", NULL };
			bench_run(30, b->log, rel);
		}
}

/* --- the paths ------------------------------------------------------------------------- */

static const char *guest_mem(const struct bench *b) { return b->dpdk ? "384M" : "256M"; }

static void files_for(const struct bench *b, char id, int round, char *console, char *log, size_t len)
{
	snprintf(console, len, "%s/console-%c%d.log", b->out, id, round + 1);
	snprintf(log, len, "%s/run-%c%d.log", b->out, id, round + 1);
	unlink(console);
	unlink(log);
}

static void path_vf_vfstack(struct bench *b, struct bench_path *p, int round, struct bench_sample *s)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[640], addr[32];
	files_for(b, p->id, round, console, log, sizeof(console));
	snprintf(addr, sizeof(addr), "%s.50/24", b->prefix);
	bench_guest_cmdline(b, cmd, sizeof(cmd), "igbvf", addr, NULL, false);
	char *argv[] = { b->self, "assign", b->vf, "--guest", "vfs-bench", "--kernel", (char *)b->kernel,
			 "--initrd", b->guest_img, "--mem", (char *)guest_mem(b), "--cpus", "1",
			 "--cmdline", cmd, "--console", console, NULL };
	bench_guest_run(b, p, argv, bench_now(), console, log, s);
	if (b->dpdk)
		bench_parse_dpdk(s, p->dpdk_note, sizeof(p->dpdk_note), console);
}

static void path_vnic_vfstack(struct bench *b, struct bench_path *p, int round, struct bench_sample *s)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[640];
	files_for(b, p->id, round, console, log, sizeof(console));
	if (!b->vmm[0]) {
		bench_note(s->note, sizeof(s->note), "vfs-vmm with --vnic not found next to vfctl or in PATH (an older build?)");
		return;
	}
	bench_guest_cmdline(b, cmd, sizeof(cmd), "virtio_net", TAP_GUEST_IP, TAP_HOST_IP, true);
	char *argv[] = { b->vmm, "--kernel", (char *)b->kernel, "--initrd", b->guest_img,
			 "--mem", (char *)guest_mem(b), "--cpus", "1", "--vnic", BENCH_TAP, "--cmdline", cmd,
			 "--console", console, NULL };
	bench_guest_run(b, p, argv, bench_now(), console, log, s);
}

static void qemu_argv(struct bench *b, char **argv, const char *console_arg, const char *cmd,
		      const char *k1, const char *v1, const char *k2, const char *v2)
{
	size_t n = 0;
	const char *fixed[] = { b->qemu, "-accel", "kvm", "-cpu", "host", "-m", guest_mem(b), "-smp", "1",
				"-nodefaults", "-display", "none", "-no-reboot", "-kernel", b->kernel,
				"-initrd", b->guest_img, "-append", cmd, "-serial", console_arg,
				k1, v1, k2, v2 };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && fixed[i]; i++)
		argv[n++] = (char *)fixed[i];
	argv[n] = NULL;
}

static void path_vf_qemu(struct bench *b, struct bench_path *p, int round, struct bench_sample *s)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[640], addr[32], con_arg[PATH_MAX + 8], dev[64];
	files_for(b, p->id, round, console, log, sizeof(console));
	if (!b->qemu[0]) {
		bench_note(s->note, sizeof(s->note), "qemu-system-x86_64 is not installed here");
		return;
	}
	snprintf(addr, sizeof(addr), "%s.51/24", b->prefix);
	bench_guest_cmdline(b, cmd, sizeof(cmd), "igbvf", addr, NULL, true);
	snprintf(con_arg, sizeof(con_arg), "file:%s", console);
	snprintf(dev, sizeof(dev), "vfio-pci,host=%s", b->vf);
	/* Like vfctl assign, the clock starts before the VF goes to vfio-pci. */
	double t0 = bench_now();
	char *bind[] = { b->self, "bind", b->vf, "vfio-pci", NULL };
	if (bench_run(30, log, bind) != 0) {
		bench_note(s->note, sizeof(s->note), "cannot bind %s to vfio-pci (see %s)", b->vf, log);
		return;
	}
	char *argv[40];
	qemu_argv(b, argv, con_arg, cmd, "-device", dev, NULL, NULL);
	bench_guest_run(b, p, argv, t0, console, log, s);
	if (b->dpdk)
		bench_parse_dpdk(s, p->dpdk_note, sizeof(p->dpdk_note), console);
	char *rel[] = { b->self, "release", b->vf, NULL };
	if (bench_run(30, log, rel) != 0 && !s->note[0])
		bench_note(s->note, sizeof(s->note), "%s could not be given back to its driver (see %s)", b->vf, log);
}

static void path_virtio_qemu(struct bench *b, struct bench_path *p, int round, struct bench_sample *s)
{
	char console[PATH_MAX], log[PATH_MAX], cmd[640], con_arg[PATH_MAX + 8];
	files_for(b, p->id, round, console, log, sizeof(console));
	if (!b->qemu[0]) {
		bench_note(s->note, sizeof(s->note), "qemu-system-x86_64 is not installed here");
		return;
	}
	bench_guest_cmdline(b, cmd, sizeof(cmd), "virtio_net", TAP_GUEST_IP, TAP_HOST_IP, true);
	snprintf(con_arg, sizeof(con_arg), "file:%s", console);
	char *argv[44];
	qemu_argv(b, argv, con_arg, cmd, "-netdev",
		  "tap,id=n0,ifname=" BENCH_TAP ",script=no,downscript=no,vhost=off",
		  "-device", "virtio-net-pci,netdev=n0,romfile=");
	bench_guest_run(b, p, argv, bench_now(), console, log, s);
}

/* The roof: no guest, the VF's own netdev in a namespace of its own. */
static void path_host(struct bench *b, struct bench_path *p, int round, struct bench_sample *s)
{
	char console[PATH_MAX], log[PATH_MAX], dev[32], addr[32];
	files_for(b, p->id, round, console, log, sizeof(console));
	char *rel[] = { b->self, "release", b->vf, "igbvf", NULL };
	bench_run(30, log, rel);
	snprintf(addr, sizeof(addr), "%s.52", b->prefix);
	if (vf_into_netns(b, b->vf, HOST_NETNS, addr, dev, sizeof(dev)) != 0 ||
	    !ns_ping(b, HOST_NETNS, b->peer_ip, 30)) {
		bench_note(s->note, sizeof(s->note), "cannot reach the peer from %s's netdev in namespace "
			   HOST_NETNS " (see %s)", b->vf, b->log);
		ip(b, "netns", "del", HOST_NETNS, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	const char *x = "ip netns exec " HOST_NETNS;
	bench_sh(120 + 3.0 * (double)b->secs, console,
		 "%s '%s' -c %s -p " IPERF_PORT " -t %ld -f m > /dev/null 2>&1; "
		 "%s '%s' -c %s -p " IPERF_PORT " -t %ld -f m 2>&1 | sed -n 's/^.*receiver.*$/VFS-BENCH tcp &/p'; "
		 "%s '%s' -c %s -p " IPERF_PORT " -t %ld -u -l 64 -b %.0f -f m 2>&1 | "
		 "sed -n 's/^.*receiver.*$/VFS-BENCH udp &/p'; "
		 "%s '%s' ping %s " ECHO_PORT " %ld | sed -n 's/^rtt /VFS-BENCH rtt /p'",
		 x, b->iperf, b->peer_ip, b->warm, x, b->iperf, b->peer_ip, b->secs,
		 x, b->iperf, b->peer_ip, b->secs, b->udp_kpps_offered * 1000 * 64 * 8,
		 x, b->udpecho, b->peer_ip, b->rtt_n);
	bench_parse_lines(s, console, "VFS-BENCH ");
	ip(b, "netns", "del", HOST_NETNS, NULL, NULL, NULL, NULL, NULL);
	if (!b->dpdk)
		return;
	/* testpmd in the host: the VF on vfio-pci (the host has the IOMMU). */
	char *bind[] = { b->self, "bind", b->vf, "vfio-pci", NULL };
	if (bench_run(30, log, bind) != 0) {
		bench_note(p->dpdk_note, sizeof(p->dpdk_note), "cannot bind %s to vfio-pci (see %.60s)", b->vf, log);
		return;
	}
	char out[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/testpmd-e%d.log", b->out, round + 1);
	unlink(out);
	bench_sh(60 + 2.0 * (double)b->secs, out,
		 "echo 48 > /proc/sys/vm/nr_hugepages; mkdir -p /dev/hugepages; "
		 "mount | grep -q ' /dev/hugepages ' || mount -t hugetlbfs none /dev/hugepages; "
		 ". '%s/testpmd-tp.sh'; tp %ld '%s/lib/ld-linux-x86-64.so.2' --library-path '%s/lib' '%s/dpdk-testpmd' "
		 "--lcores=0@0,1@0 -n 1 -m 64 -d '%s/pmds' -a %s -- --forward-mode=txonly --txpkts=64 "
		 "--stats-period=1 --total-num-mbufs=2048; umount /dev/hugepages; echo 0 > /proc/sys/vm/nr_hugepages",
		 b->out, b->secs, b->dpdk, b->dpdk, b->dpdk, b->dpdk, b->vf);
	bench_parse_dpdk(s, p->dpdk_note, sizeof(p->dpdk_note), out);
}

void bench_run_path(struct bench *b, struct bench_path *p, int round, struct bench_sample *s)
{
	void (*const run[BENCH_NPATHS])(struct bench *, struct bench_path *, int, struct bench_sample *) = {
		path_vf_vfstack, path_vnic_vfstack, path_vf_qemu, path_virtio_qemu, path_host,
	};
	run[p->id - 'a'](b, p, round, s);
}
