/*
 * cmd_bench.c — `vfctl bench`: one network workload, one guest, five paths, repeated
 * and interleaved in one run (docs/bench.md):
 *   (a) a VF passed through by vfstack      (vfctl assign, KVM core)
 *   (b) vfstack's emulated vNIC              (vfs-vmm --vnic, virtio-net on a tap)
 *   (c) QEMU -accel kvm, -device vfio-pci on the same VF
 *   (d) QEMU -accel kvm, virtio-net-pci on a tap, vhost=off
 *   (e) the host itself on the VF (igbvf, in a network namespace): the roof
 * Every path sends to the same peer on a second VF (bench_paths.c).  This file is
 * the command: its options, the devices, the rounds (every path once per round, the
 * order rotated by one each round), the output.  The parts: bench.h.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/vfctl/bench.h"
#include "tools/vfctl/vfctl.h"

#define DEFAULT_KERNEL "/vfstack/guest/vmlinuz"
#define DEFAULT_INITRD "/vfstack/guest/guest.cpio.gz"
#define DEFAULT_OUT    "/tmp/vfs-bench"
#define BENCH_RERUNS   2   /* runs again of a guest path that failed, per round */

static const char usage[] =
	"usage: vfctl bench [PF] [--vf VF] [--peer-vf VF] [--secs N] [--warm N] [--rounds N]\n"
	"                   [--udp-kpps K] [--rtt-count N] [--paths LIST] [--out DIR]\n"
	"                   [--kernel BZIMAGE] [--initrd FILE] [--dpdk DIR] [--json] [--plot FILE]\n"
	"       vfctl bench --from FILE.json [--json] [--plot FILE]\n"
	"\n"
	"Measure one workload over five paths, each path once per round, the order rotated\n"
	"by one each round, and report each figure as median [min-max] over the rounds:\n"
	"  a  a VF passed through by vfstack (vfctl assign)\n"
	"  b  vfstack's emulated vNIC (virtio-net on a tap; vfs-vmm --vnic)\n"
	"  c  QEMU -accel kvm with -device vfio-pci on the same VF\n"
	"  d  QEMU -accel kvm with virtio-net-pci on a tap, vhost off\n"
	"  e  the host itself on the VF (igbvf, in a network namespace): the roof\n"
	"Every path talks to one peer, iperf3 and vfs-udpecho in a namespace on a second\n"
	"VF, so every path's frames cross the NIC (the tap paths through the PF, which the\n"
	"host forwards).  Every guest: the same kernel and initramfs, 1 vCPU, the same memory.\n"
	"Workloads, after a TCP warm-up: TCP stream (Mbit/s), UDP 64-byte datagrams at a fixed\n"
	"offered rate (received kpps), UDP echo round trips (us).  Costs per MiB of the TCP\n"
	"stream: VM exits (by reason), the guest's NIC interrupts, the VMM's CPU time outside\n"
	"guest mode, and the guest-mode share.  Also the time from start to the guest's link up.\n"
	"\n"
	"  PF             an SR-IOV PF with an IPv4 address and two VFs (default: the first)\n"
	"  --vf VF        the VF the paths use (default: the PF's first VF not in use)\n"
	"  --peer-vf VF   the peer's VF (default: the next VF not in use)\n"
	"  --secs N       seconds per workload (default 10)\n"
	"  --warm N       seconds of TCP warm-up in every run (default 2)\n"
	"  --rounds N     repetitions of every path, 1 to 16 (default 3)\n"
	"  --udp-kpps K   the UDP offered rate in 1000 datagrams/s (default 4)\n"
	"  --rtt-count N  UDP echo round trips (default 200)\n"
	"  --paths LIST   e.g. a,b,e (default a,b,c,d,e)\n"
	"  --out DIR      logs, consoles, bench.json, bench.svg (default " DEFAULT_OUT ")\n"
	"  --dpdk DIR     also DPDK testpmd tx-only, 64-byte frames (kpps), on the VF\n"
	"                 paths a, c, e (docs/bench.md)\n"
	"  --json         print JSON instead of the table\n"
	"  --plot FILE    the plot, .svg or .png (default DIR/bench.svg when gnuplot exists)\n"
	"  --from FILE    render a saved bench.json instead of measuring\n"
	"\n"
	"Needs: root, /dev/kvm, debugfs, vfio-pci and igbvf loaded, tun, iperf3, iproute2's ip,\n"
	"vfs-udpecho; qemu-system-x86_64 for (c) and (d).  A path that cannot run is reported\n"
	"as such, never as a number.  Exit status: 0 every path measured, 1 not, 2 usage.\n";

struct opts {
	const char *pf, *vf, *peer_vf, *from, *plot, *paths;
	bool json;
};

static int parse_args(struct bench *b, struct opts *o, int argc, char **argv);
static int pick_devices(struct bench *b, const struct opts *o);
static void find_tools(struct bench *b);
static int emit(struct bench *b, bool json, const char *plot, bool plot_given);

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

static int run(int argc, char **argv)
{
	static struct bench b;
	struct opts o = { .paths = "a,b,c,d,e" };
	int rc = parse_args(&b, &o, argc, argv);
	if (rc)
		return rc;
	if (o.from) {
		char err[256];
		if (bench_json_read(&b, o.from, err, sizeof(err)) != 0)
			return vfctl_error("%s.", err);
		return emit(&b, o.json, o.plot, o.plot != NULL);
	}

	/* --- measure --- */
	if (geteuid() != 0)
		return vfctl_error("vfctl bench needs root (it binds the VFs, creates namespaces and a tap, starts guests).");
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
		snprintf(b.p[1].dpdk_note, sizeof(b.p[1].dpdk_note), "an emulated virtio NIC, no VF for net_e1000_igb_vf");
		snprintf(b.p[3].dpdk_note, sizeof(b.p[3].dpdk_note), "an emulated virtio NIC, no VF for net_e1000_igb_vf");
	}
	if ((rc = pick_devices(&b, &o)) != 0)
		return rc;
	find_tools(&b);
	if (!b.iperf[0])
		return vfctl_error("iperf3 is not installed here; install Debian's iperf3 (the bench runs it "
				   "in the peer and copies it into the guests).");
	if (!b.udpecho[0])
		return vfctl_error("vfs-udpecho is not in PATH; build it with make testbed-progs "
				   "(build/testbed/bin/vfs-udpecho; the testbed has it in /usr/local/bin).");
	snprintf(b.log, sizeof(b.log), "%s/bench.log", b.out);
	unlink(b.log);
	time_t t = time(NULL);
	strftime(b.when, sizeof(b.when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	if (bench_guest_image(&b) != 0)
		return vfctl_error("cannot build the bench guest image in %s (see %s).", b.out, b.log);
	/* A signal now ends the current child (its group), and we clean up. */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((rc = bench_setup(&b)) != 0) {
		bench_teardown(&b);
		return vfctl_error("cannot set up the peer (%s in namespace vfsbpeer, %s) or the tap: %s (see %s).",
				   b.peer_vf, b.peer_ip, strerror(-rc), b.log);
	}
	for (int i = 0; i < BENCH_NPATHS; i++) {
		struct bench_path *p = &b.p[i];
		snprintf(p->peer, sizeof(p->peer), "%s on VF %s, %s", b.peer_ip, b.peer_vf,
			 p->id == 'b' || p->id == 'd' ? "via the tap, the host's forwarding and the PF"
			 : "through the NIC's VF-to-VF switch");
	}
	/* the rounds: the wanted paths, rotated by one each round */
	char ids[BENCH_NPATHS + 1] = "";
	int nw = 0;
	for (int i = 0; i < BENCH_NPATHS; i++)
		if (b.p[i].wanted)
			ids[nw++] = b.p[i].id;
	for (int r = 0; r < b.rounds; r++) {
		for (int k = 0; k < nw; k++)
			b.order[r][k] = ids[(k + r) % nw];
		b.order[r][nw] = '\0';
		for (int k = 0; k < nw && !bench_interrupted; k++) {
			struct bench_path *p = &b.p[b.order[r][k] - 'a'];
			struct bench_sample s = { .link_up_s = -1, .start_s = -1, .rtt_min_us = -1, .rtt_med_us = -1,
						  .rtt_p99_us = -1, .irqs = -1, .dpdk_kpps = -1 };
			fprintf(stderr, "vfctl bench: round %d/%ld, (%c) %s ...\n", r + 1, b.rounds, p->id, p->name);
			bench_run_path(&b, p, r, &s);
			/* A guest run that fails (under nested TCG one now and then hangs
			 * past its time) is run again in the same round, at most twice;
			 * each failure is said on stderr, not hidden. */
			for (int again = 0; !s.ok && p->guest && !bench_interrupted && again < BENCH_RERUNS; again++) {
				fprintf(stderr, "vfctl bench: (%c) %s; running it again (%d of %d)\n", p->id, s.note,
					again + 1, BENCH_RERUNS);
				bench_restart_server(&b);
				s = (struct bench_sample){ .link_up_s = -1, .start_s = -1, .rtt_min_us = -1, .rtt_med_us = -1,
							   .rtt_p99_us = -1, .irqs = -1, .dpdk_kpps = -1 };
				bench_run_path(&b, p, r, &s);
			}
			if (!s.ok && !bench_interrupted)
				bench_restart_server(&b); /* the next path starts with a free server */
			bench_add_sample(&b, p, &s);
			if (s.ok)
				fprintf(stderr, "vfctl bench: (%c) TCP %.1f Mbit/s, UDP %.2f kpps, RTT %.0f us, %s\n",
					p->id, s.tcp_mbps, s.udp_kpps, s.rtt_med_us,
					s.costs ? "costs measured" : p->guest ? "no costs" : "no guest");
			else
				fprintf(stderr, "vfctl bench: (%c) %s\n", p->id, s.note);
		}
	}
	bench_teardown(&b);
	for (int i = 0; i < BENCH_NPATHS; i++)
		if (b.p[i].wanted && bench_interrupted && !b.p[i].measured && !b.p[i].note[0])
			snprintf(b.p[i].note, sizeof(b.p[i].note), "not run: interrupted");
	bench_summarise(&b);

	char jpath[PATH_MAX + 16];
	snprintf(jpath, sizeof(jpath), "%s/bench.json", b.out);
	FILE *jf = fopen(jpath, "w");
	if (jf) {
		bench_json_write(&b, jf);
		fclose(jf);
	}
	char defplot[PATH_MAX + 16];
	snprintf(defplot, sizeof(defplot), "%s/bench.svg", b.out);
	rc = emit(&b, o.json, o.plot ? o.plot : defplot, o.plot != NULL);
	if (!o.json)
		printf("results: %s (logs and consoles in %s)\n", jpath, b.out);
	bool all = true;
	for (int i = 0; i < BENCH_NPATHS; i++)
		if (b.p[i].wanted && !b.p[i].measured)
			all = false;
	return rc ? rc : all ? VFCTL_OK : VFCTL_FAILED;
}

const struct vfctl_cmd vfctl_cmd_bench = {
	"bench", "measure a VF, the emulated vNIC and QEMU's paths, repeated and interleaved", usage, run,
};

/* --- options -------------------------------------------------------------------------------- */

static int parse_paths(struct bench *b, const char *list)
{
	for (const char *s = list; *s; s++) {
		if (*s == ',' || *s == ' ')
			continue;
		if (*s < 'a' || *s >= 'a' + BENCH_NPATHS || (s[1] && s[1] != ','))
			return -1;
		b->p[*s - 'a'].wanted = true;
	}
	return 0;
}

static int parse_args(struct bench *b, struct opts *o, int argc, char **argv)
{
	const struct vfctl_cmd *self = &vfctl_cmd_bench;
	memset(b, 0, sizeof(*b));
	memcpy(b->p, bench_path_defs, sizeof(b->p));
	b->kernel = DEFAULT_KERNEL;
	b->initrd = DEFAULT_INITRD;
	b->out = DEFAULT_OUT;
	b->secs = 10;
	b->warm = 2;
	b->rounds = 3;
	b->rtt_n = 200;
	b->udp_kpps_offered = 4;
	enum { O_JSON = 256, O_VF, O_PEER_VF, O_OUT, O_KERNEL, O_INITRD, O_PLOT, O_FROM, O_PATHS, O_DPDK,
	       O_SECS, O_WARM, O_ROUNDS, O_RTT_COUNT, O_UDP_KPPS };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "vf", required_argument, NULL, O_VF },
		{ "peer-vf", required_argument, NULL, O_PEER_VF },
		{ "out", required_argument, NULL, O_OUT },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "from", required_argument, NULL, O_FROM },
		{ "paths", required_argument, NULL, O_PATHS },
		{ "dpdk", required_argument, NULL, O_DPDK },
		{ "secs", required_argument, NULL, O_SECS },
		{ "warm", required_argument, NULL, O_WARM },
		{ "rounds", required_argument, NULL, O_ROUNDS },
		{ "rtt-count", required_argument, NULL, O_RTT_COUNT },
		{ "udp-kpps", required_argument, NULL, O_UDP_KPPS },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		long *num = NULL, lo = 1, hi = 600;
		switch (c) {
		case O_JSON: o->json = true; break;
		case O_VF: o->vf = optarg; break;
		case O_PEER_VF: o->peer_vf = optarg; break;
		case O_OUT: b->out = optarg; break;
		case O_KERNEL: b->kernel = optarg; break;
		case O_INITRD: b->initrd = optarg; break;
		case O_PLOT: o->plot = optarg; break;
		case O_FROM: o->from = optarg; break;
		case O_PATHS: o->paths = optarg; break;
		case O_DPDK: b->dpdk = optarg; break;
		case O_SECS: num = &b->secs; break;
		case O_WARM: num = &b->warm, lo = 0, hi = 60; break;
		case O_ROUNDS: num = &b->rounds, hi = BENCH_MAXR; break;
		case O_RTT_COUNT: num = &b->rtt_n, hi = 100000; break;
		case O_UDP_KPPS: {
			char *end;
			b->udp_kpps_offered = strtod(optarg, &end);
			if (end == optarg || *end || !(b->udp_kpps_offered > 0 && b->udp_kpps_offered <= 1000))
				return vfctl_usage_error(self, "--udp-kpps %s is not a rate from 0.001 to 1000", optarg);
			break;
		}
		default:
			return vfctl_opt_error(self, c, argv);
		}
		if (num) {
			*num = vfctl_parse_uint(optarg, hi);
			if (*num < lo)
				return vfctl_usage_error(self, "--%s %s is not a number from %ld to %ld",
							 opts[c - O_JSON].name, optarg, lo, hi);
		}
	}
	if (optind < argc)
		o->pf = argv[optind];
	if (optind + 1 < argc)
		return vfctl_usage_error(self, "give one PF, not '%s' too", argv[optind + 1]);
	if (parse_paths(b, o->paths) != 0)
		return vfctl_usage_error(self, "--paths %s: give letters a to e, comma-separated", o->paths);
	if (o->plot) {
		const char *ext = strrchr(o->plot, '.');
		if (!ext || (strcmp(ext, ".svg") && strcmp(ext, ".png")))
			return vfctl_usage_error(self, "--plot %s: the name must end in .svg or .png", o->plot);
	}
	if (o->from)
		memcpy(b->p, bench_path_defs, sizeof(b->p));
	return 0;
}

/* --- devices and tools ---------------------------------------------------------------------- */

/* The PF's netdev and its IPv4 address; the guests take .50 to .52 of the
 * same /24, the peer .60. */
static int pf_address(struct bench *b)
{
	if (!bench_netdev_of(b->pf, b->pf_if, sizeof(b->pf_if)))
		return vfctl_error("%s has no network interface (is the PF driver loaded?).", b->pf);
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) != 0)
		return vfctl_error("cannot list interface addresses: %s.", strerror(errno));
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, b->pf_if)) {
			struct sockaddr_in *a = (struct sockaddr_in *)(void *)i->ifa_addr;
			inet_ntop(AF_INET, &a->sin_addr, b->pf_ip, sizeof(b->pf_ip));
			break;
		}
	freeifaddrs(ifa);
	if (!b->pf_ip[0])
		return vfctl_error("%s (%s) has no IPv4 address; give it one (ip addr add 10.0.2.15/24 dev %s).",
				   b->pf_if, b->pf, b->pf_if);
	const char *dot = strrchr(b->pf_ip, '.');
	size_t n = dot ? (size_t)(dot - b->pf_ip) : 0;
	if (n == 0 || n >= sizeof(b->prefix))
		return vfctl_error("%s's address %s is not an IPv4 address.", b->pf_if, b->pf_ip);
	memcpy(b->prefix, b->pf_ip, n);
	b->prefix[n] = '\0';
	snprintf(b->peer_ip, sizeof(b->peer_ip), "%s.60", b->prefix);
	return 0;
}

/* The first PCI device with VFs. */
static bool first_pf(char *out, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	out[0] = '\0';
	if (!d)
		return false;
	for (struct dirent *e; (e = readdir(d)) && !out[0];) {
		char p[320];
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/virtfn0", e->d_name);
		if (e->d_name[0] != '.' && access(p, F_OK) == 0 && strlen(e->d_name) < len)
			strcpy(out, e->d_name);
	}
	closedir(d);
	return out[0] != '\0';
}

/* The PF's first VF that is free (no driver or igbvf) and not `but`. */
static bool free_vf(const char *pf, const char *but, char *out, size_t len)
{
	out[0] = '\0';
	for (int i = 0; i < 64; i++) {
		char link[128], name[64], dl[160], drv[64] = "";
		snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/virtfn%d", pf, i);
		if (!bench_link_name(link, name, sizeof(name)))
			break;
		snprintf(dl, sizeof(dl), "/sys/bus/pci/devices/%s/driver", name);
		bench_link_name(dl, drv, sizeof(drv));
		if ((!drv[0] || !strcmp(drv, "igbvf")) && strcmp(name, but) && strlen(name) < len) {
			strcpy(out, name);
			return true;
		}
	}
	return false;
}

static int pick_devices(struct bench *b, const struct opts *o)
{
	char pf[PCI_BDF_LEN];
	int idx, rc;
	if (o->vf) {
		char vf[PCI_BDF_LEN];
		if ((rc = vfctl_resolve_vf(o->vf, vf, pf, &idx)) != 0)
			return rc;
		snprintf(b->vf, sizeof(b->vf), "%s", vf);
	} else if (o->pf) {
		if ((rc = vfctl_resolve_pf(o->pf, pf)) != 0)
			return rc;
	} else if (!first_pf(pf, sizeof(pf))) {
		return vfctl_error("no SR-IOV PF with VFs here; create two first (vfctl sriov enable PF 2).");
	}
	snprintf(b->pf, sizeof(b->pf), "%s", pf);
	if (!b->vf[0] && !free_vf(b->pf, "", b->vf, sizeof(b->vf)))
		return vfctl_error("%s has no free VF (each is bound to vfio-pci or another driver); "
				   "create more (vfctl sriov enable) or give --vf.", b->pf);
	if (o->peer_vf) {
		char vf[PCI_BDF_LEN], ppf[PCI_BDF_LEN];
		if ((rc = vfctl_resolve_vf(o->peer_vf, vf, ppf, &idx)) != 0)
			return rc;
		snprintf(b->peer_vf, sizeof(b->peer_vf), "%s", vf);
	} else if (!free_vf(b->pf, b->vf, b->peer_vf, sizeof(b->peer_vf))) {
		return vfctl_error("%s has no second free VF for the traffic peer; create two VFs "
				   "(vfctl sriov enable %s 2) or give --peer-vf.", b->pf, b->pf);
	}
	if (!strcmp(b->vf, b->peer_vf))
		return vfctl_error("the peer's VF must differ from the paths' VF (%s).", b->vf);
	return pf_address(b);
}

static void find_tools(struct bench *b)
{
	ssize_t n = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);
	b->self[n > 0 ? n : 0] = '\0';
	/* vfs-vmm next to vfctl first (a build tree), then PATH; it must have --vnic. */
	snprintf(b->vmm, sizeof(b->vmm), "%s", b->self);
	char *slash = strrchr(b->vmm, '/');
	if (slash && (size_t)(slash - b->vmm) + sizeof("/vfs-vmm") <= sizeof(b->vmm))
		memcpy(slash, "/vfs-vmm", sizeof("/vfs-vmm"));
	if (access(b->vmm, X_OK) != 0)
		bench_in_path("vfs-vmm", b->vmm, sizeof(b->vmm));
	if (b->vmm[0]) {
		char help[PATH_MAX + 16], text[8192] = "";
		snprintf(help, sizeof(help), "%s/vmm-help.txt", b->out);
		unlink(help);
		char *argv[] = { b->vmm, "--help", NULL };
		bench_run(10, help, argv);
		FILE *f = fopen(help, "r");
		if (f) {
			text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
			fclose(f);
		}
		if (!strstr(text, "--vnic"))
			b->vmm[0] = '\0';
	}
	bench_in_path("qemu-system-x86_64", b->qemu, sizeof(b->qemu));
	bench_in_path("iperf3", b->iperf, sizeof(b->iperf));
	bench_in_path("vfs-udpecho", b->udpecho, sizeof(b->udpecho));
}

/* --- output ---------------------------------------------------------------------------------- */

static int emit(struct bench *b, bool json, const char *plot, bool plot_given)
{
	if (json)
		bench_json_write(b, stdout);
	else
		bench_table(b, stdout);
	if (plot) {
		int err = bench_plot(b, plot);
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
