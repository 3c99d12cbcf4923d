/*
 * bench.h — `vfctl bench` (docs/bench.md): what its parts share.
 *
 *   cmd_bench.c     the command: options, the rounds (every path once per round,
 *                   the order rotated each round), the result
 *   bench_paths.c   the topology (the peer's namespace on a second VF, the tap, the
 *                   host's forwarding) and the five per-path runners
 *   bench_guest.c   one guest run: the guest image, the console watch, the costs
 *                   snapshot at the guest's marks, its lines parsed into a sample
 *   bench_proc.c    child processes (spawn, reap by PID), PATH lookup, sysfs reads
 *   bench_result.c  samples -> {min, median, max, n}; bench.json written and read (jansson)
 *   bench_render.c  the table and the gnuplot plot
 *   bench_trace.c   exits by hardware exit reason and MSR writes (tracefs histograms)
 *   bench-guest.sh  the guest side (/vfstack/guest-run), embedded at build time
 *   bench-testpmd.sh  testpmd's runner for --dpdk (guest and host), embedded too
 */
#ifndef VFS_VFCTL_BENCH_H
#define VFS_VFCTL_BENCH_H

#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define BENCH_NPATHS   5
#define BENCH_MAXR     16          /* rounds at most */
#define BENCH_NREASONS 8           /* exit reasons kept (bench_reason_key) */
#define BENCH_NHW      10          /* hardware exit classes kept (bench_hw_key) */
#define BENCH_BDF_LEN  16

/* One figure's samples (one per round) and their summary. */
struct bench_fig {
	int n;
	double v[BENCH_MAXR];
	double min, median, max;   /* after bench_summarise */
};

/* What one run of one path gave (one round). */
struct bench_sample {
	bool ok;                   /* tcp and udp measured */
	double tcp_mbps, udp_kpps, udp_mbps, link_up_s;
	double start_s;            /* link_up_s minus the guest's uptime then; <0: none */
	double rtt_min_us, rtt_med_us, rtt_p99_us;
	double mib;                /* moved during the TCP phase (the costs' unit) */
	bool costs;                /* the KVM and CPU snapshots below are real */
	double exits, irqs, host_cpu_ms, guest_cpu_ms;
	double reason[BENCH_NREASONS];
	bool hw_ok;                /* hw[] below is real (tracefs) */
	double hw[BENCH_NHW];
	double dpdk_kpps;          /* <0: none */
	char note[200];
};

enum bench_figs {
	FIG_TCP, FIG_UDP, FIG_LINK, FIG_START, FIG_RTT, FIG_RTT_MIN, FIG_RTT_P99, FIG_EXITS, FIG_IRQS,
	FIG_CPU, FIG_GUEST_SHARE, FIG_DPDK, FIG_N
};
extern const char *const bench_fig_key[FIG_N];
/* KVM's per-VM debugfs statistics counted by reason; the last, "other", is
 * "exits" minus the rest (NPT faults, MSRs, CPUID, ...). */
extern const char *const bench_reason_key[BENCH_NREASONS];
/* Exits by hardware exit reason (bench_trace.c): host interrupt, interrupt window,
 * WRMSR of the x2APIC EOI, of the timer (TSC deadline or x2APIC initial count), other
 * MSR accesses, nested page faults, port I/O, HLT, CPUID, the rest. */
extern const char *const bench_hw_key[BENCH_NHW];

struct bench_path {
	char id;
	const char *name;
	const char *label;         /* short, for the plot */
	bool wanted;
	bool measured;             /* at least one round gave TCP and UDP */
	bool guest;                /* a VM: exits, interrupts, CPU apply */
	char note[200];            /* why not, or a remark */
	char peer[120];            /* where its traffic goes */
	struct bench_fig fig[FIG_N];
	struct bench_fig reason[BENCH_NREASONS];
	struct bench_fig hw[BENCH_NHW];
	char dpdk_note[120];
};

struct bench {
	/* setup */
	char pf[BENCH_BDF_LEN], vf[BENCH_BDF_LEN], peer_vf[BENCH_BDF_LEN];
	char pf_if[32], peer_if[32], pf_ip[INET_ADDRSTRLEN], peer_ip[INET_ADDRSTRLEN];
	char prefix[12];                    /* the PF's /24 without its last byte */
	const char *kernel, *initrd, *out, *dpdk;
	bool dpdk_on;
	char self[PATH_MAX], vmm[PATH_MAX], qemu[PATH_MAX], iperf[PATH_MAX], udpecho[PATH_MAX];
	char guest_img[PATH_MAX + 32];
	char log[PATH_MAX + 16];
	long secs, warm, rounds, rtt_n;
	double udp_kpps_offered;
	pid_t server, echo;
	bool tap_made, peer_made, forward_set;
	bool trace_on;                      /* bench_trace_start worked */
	char trace_note[200];               /* why not */
	/* results */
	char when[32];
	char order[BENCH_MAXR][BENCH_NPATHS + 1];   /* each round's order, e.g. "bcdea" */
	struct bench_path p[BENCH_NPATHS];
};

extern volatile sig_atomic_t bench_interrupted;

/* bench_proc.c */
pid_t bench_spawn(char *const argv[], const char *log);
int bench_reap(pid_t pid, double timeout);
int bench_run(double timeout, const char *log, char *const argv[]);
int bench_sh(double timeout, const char *log, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool bench_in_path(const char *name, char *out, size_t len);
bool bench_netdev_of(const char *bdf, char *out, size_t len);
bool bench_link_name(const char *path, char *out, size_t len);
int bench_write_file(const char *path, const char *text);
int bench_append_file(const char *path, const char *text);   /* tracefs triggers */
double bench_now(void);
void bench_note(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* bench_paths.c */
int bench_setup(struct bench *b);
void bench_teardown(struct bench *b);
void bench_restart_server(struct bench *b);
void bench_run_path(struct bench *b, struct bench_path *p, int round, struct bench_sample *s);

/* bench_guest.c */
int bench_guest_image(struct bench *b);
void bench_guest_run(struct bench *b, struct bench_path *p, char *const argv[], double t0,
		     const char *console, const char *log, struct bench_sample *s);
void bench_guest_cmdline(const struct bench *b, char *out, size_t len, const char *drv,
			 const char *ip, const char *gw, bool with_defaults);
void bench_parse_lines(struct bench_sample *s, const char *file, const char *prefix);
void bench_parse_dpdk(struct bench_sample *s, char *note, size_t len, const char *file);
extern const char bench_guest_script[], bench_testpmd_script[];

/* bench_trace.c */
int bench_trace_start(char *note, size_t len);
void bench_trace_stop(void);
bool bench_trace_snap(pid_t pid, double hw[BENCH_NHW]);
void bench_trace_delta(const double before[BENCH_NHW], const double after[BENCH_NHW], double out[BENCH_NHW]);

/* bench_result.c */
void bench_add_sample(struct bench *b, struct bench_path *p, const struct bench_sample *s);
void bench_summarise(struct bench *b);
int bench_json_write(const struct bench *b, FILE *f);
int bench_json_read(struct bench *b, const char *file, char *err, size_t len);
const struct bench_path *bench_path_const(const struct bench *b, char id);

/* bench_render.c */
void bench_table(const struct bench *b, FILE *f);
int bench_plot(const struct bench *b, const char *file);

extern const struct bench_path bench_path_defs[BENCH_NPATHS];

#endif
