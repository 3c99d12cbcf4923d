/*
 * vf_stats.h — per-VF traffic counters and their Prometheus text form.
 *
 * Where the counters come from, best first:
 *   - the VF's own network interface on this host (a VF on igbvf, iavf…):
 *     /sys/bus/pci/devices/VF/net/IF/statistics/{rx,tx}_{packets,bytes,dropped};
 *   - the PF's view through rtnetlink (RTM_GETLINK with RTEXT_FILTER_VF:
 *     IFLA_VFINFO_LIST / IFLA_VF_INFO / IFLA_VF_STATS), which is all there
 *     is once the VF is on vfio-pci or in a guest.  The message is parsed
 *     here rather than through libnl-route-3's rtnl_link_vf, which drops
 *     IFLA_VF_STATS_RX_DROPPED/TX_DROPPED (Linux 5.2+; older kernels send
 *     no drop counters and the row has none).  A PF driver without
 *     ndo_get_vf_stats (igb among them) reports zeros.
 */
#ifndef VFS_VF_STATS_H
#define VFS_VF_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sriov/linux/sriov_sysfs.h"

enum vf_stats_source { VF_STATS_NONE = 0, VF_STATS_NETDEV, VF_STATS_PF };

struct vf_counters {
	enum vf_stats_source source;
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	bool has_drops; /* rx_dropped/tx_dropped are known */
	uint64_t rx_dropped, tx_dropped;
};

/* One row of output: which VF, and its counters. */
struct vf_stats_row {
	char pf[PCI_BDF_LEN];
	char vf[PCI_BDF_LEN];
	int index;
	char netdev[SRIOV_IFNAME_LEN]; /* the VF's own interface, "" when none */
	struct vf_counters c;
};

/* The counters of the VF's own interface `ifname` (read through the VF's
 * device directory).  -ENOENT: no such interface under the VF. */
int vf_stats_read_netdev(const char *vf_bdf, const char *ifname, struct vf_counters *c);

/* Fill `row` for VF `index` of `pf`: its own interface when it has one,
 * otherwise the PF's netlink view (pf_ifname may be "" — then the counters
 * stay VF_STATS_NONE).  Returns 0 even when no source answered. */
int vf_stats_read(const char *pf, const char *pf_ifname, int index, struct vf_stats_row *row);

/* The PF's counters for VF `index` of interface pf_ifname (rtnetlink).
 * -ENODEV: no such interface; -ENOENT: the PF reports no stats for it. */
int vf_stats_read_pf(const char *pf_ifname, int index, struct vf_counters *c);

/* The same from one RTM_NEWLINK message (`msg`, `len` bytes, a struct
 * nlmsghdr and what follows), for tests.  -ENOENT: no IFLA_VF_STATS for
 * that VF in it; -EINVAL: not a well-formed link message. */
int vf_stats_parse_link(const void *msg, size_t len, int index, struct vf_counters *c);

/* "netdev", "pf" or "none". */
const char *vf_stats_source_name(enum vf_stats_source s);

/* Per-second rate between two readings `secs` apart; 0 when the counter
 * went backwards (the VF was reset) or secs <= 0. */
double vf_stats_rate(uint64_t before, uint64_t after, double secs);

/* The rows as JSON into a malloc'd string (final newline included):
 *   {"interval": SECS|null, "vfs": [{"vf", "pf", "index", "netdev",
 *     "source", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes",
 *     "rx_dropped", "tx_dropped", "rates"}]}
 * Counters a source does not give are null; "rates" (per second, the same
 * four counters) is null without `prev` (the rows of the sample `secs`
 * earlier) or when the source changed between them.  compact: one line. */
int vf_stats_json(const struct vf_stats_row *cur, const struct vf_stats_row *prev, size_t n,
		  double secs, bool compact, char **out);

/* The Prometheus text exposition format (version 0.0.4): one family per
 * counter (# HELP, # TYPE counter, samples vfstack_vf_*_total with labels
 * pf, vf, index, netdev, source).  Rows without a source are left out; drop
 * counters only for rows that have them. */
int vf_stats_prometheus(FILE *f, const struct vf_stats_row *rows, size_t n);

/* Write that text to `path` atomically: a hidden temporary file in the same
 * directory (".NAME.XXXXXX", which a textfile collector reading *.prom
 * ignores), fsync'd, mode 0644, renamed over `path`.  On failure the
 * temporary file is removed and `path` is untouched. */
int vf_stats_write_prometheus(const char *path, const struct vf_stats_row *rows, size_t n);

#endif /* VFS_VF_STATS_H */
