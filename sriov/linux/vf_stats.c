/*
 * vf_stats.c — per-VF counters and the Prometheus textfile (vf_stats.h).
 */
#include "sriov/linux/vf_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <net/if.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

static int read_u64(const char *vf_bdf, const char *ifname, const char *name, uint64_t *v);
static void put_label(FILE *f, const char *key, const char *val, bool comma);
static int on_link(struct nl_msg *msg, void *arg);

int vf_stats_read_netdev(const char *vf_bdf, const char *ifname, struct vf_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (!ifname || !*ifname || strchr(ifname, '/') || strlen(ifname) >= SRIOV_IFNAME_LEN)
		return -ENOENT;
	int rc = read_u64(vf_bdf, ifname, "rx_packets", &c->rx_packets);
	if (rc)
		return rc;
	if ((rc = read_u64(vf_bdf, ifname, "tx_packets", &c->tx_packets)) ||
	    (rc = read_u64(vf_bdf, ifname, "rx_bytes", &c->rx_bytes)) ||
	    (rc = read_u64(vf_bdf, ifname, "tx_bytes", &c->tx_bytes)))
		return rc;
	c->has_drops = read_u64(vf_bdf, ifname, "rx_dropped", &c->rx_dropped) == 0 &&
		       read_u64(vf_bdf, ifname, "tx_dropped", &c->tx_dropped) == 0;
	if (!c->has_drops)
		c->rx_dropped = c->tx_dropped = 0;
	c->source = VF_STATS_NETDEV;
	return 0;
}

int vf_stats_read(const char *pf, const char *pf_ifname, int index, struct vf_stats_row *row)
{
	struct sriov_vf_info vf;
	memset(row, 0, sizeof(*row));
	sriov_fmt(row->pf, sizeof(row->pf), "%s", pf);
	row->index = index;
	int rc = sriov_vf_get(pf, index, &vf);
	if (rc < 0)
		return rc;
	sriov_fmt(row->vf, sizeof(row->vf), "%s", vf.bdf);
	sriov_fmt(row->netdev, sizeof(row->netdev), "%s", vf.netdev);
	if (vf.netdev[0] && vf_stats_read_netdev(vf.bdf, vf.netdev, &row->c) == 0)
		return 0;
	if (pf_ifname && *pf_ifname && vf_stats_read_pf(pf_ifname, index, &row->c) != 0)
		memset(&row->c, 0, sizeof(row->c));
	return 0;
}

struct link_query {
	int index;
	struct vf_counters *c;
	int err;
};

int vf_stats_read_pf(const char *pf_ifname, int index, struct vf_counters *c)
{
	memset(c, 0, sizeof(*c));
	unsigned ifindex = if_nametoindex(pf_ifname);
	if (!ifindex)
		return -ENODEV;
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	struct nl_msg *msg = NULL;
	struct link_query q = { index, c, -ENOENT };
	int err = nl_connect(sk, NETLINK_ROUTE) < 0 ? -ECONNREFUSED : 0;
	if (!err && !(msg = nlmsg_alloc_simple(RTM_GETLINK, 0)))
		err = -ENOMEM;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex };
	if (!err && (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
		     nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF) < 0))
		err = -ENOMEM;
	if (!err && nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link, &q) < 0)
		err = -ENOMEM;
	if (!err && nl_send_auto(sk, msg) < 0)
		err = -EIO;
	if (!err && nl_recvmsgs_default(sk) < 0)
		err = -EIO;
	if (!err)
		err = q.err;
	nlmsg_free(msg);
	nl_socket_free(sk);
	if (err)
		memset(c, 0, sizeof(*c));
	return err;
}

int vf_stats_parse_link(const void *msg, size_t len, int index, struct vf_counters *c)
{
	const struct nlmsghdr *nlh = msg;
	memset(c, 0, sizeof(*c));
	if (len < NLMSG_HDRLEN || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EINVAL;
	struct nlattr *tb[IFLA_MAX + 1];
	if (nlmsg_parse((struct nlmsghdr *)nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return -EINVAL;
	if (!tb[IFLA_VFINFO_LIST])
		return -ENOENT;
	struct nlattr *info;
	int rem;
	nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem) {
		struct nlattr *vf[IFLA_VF_MAX + 1], *st[IFLA_VF_STATS_MAX + 1];
		if (nla_type(info) != IFLA_VF_INFO || nla_parse_nested(vf, IFLA_VF_MAX, info, NULL) < 0)
			continue;
		/* The VF's index rides in every per-VF struct; IFLA_VF_MAC's is
		 * always there (rtnl_fill_vfinfo). */
		if (!vf[IFLA_VF_MAC] || nla_len(vf[IFLA_VF_MAC]) < (int)sizeof(struct ifla_vf_mac))
			continue;
		const struct ifla_vf_mac *m = nla_data(vf[IFLA_VF_MAC]);
		if ((int)m->vf != index)
			continue;
		if (!vf[IFLA_VF_STATS] || nla_parse_nested(st, IFLA_VF_STATS_MAX, vf[IFLA_VF_STATS], NULL) < 0)
			return -ENOENT;
		uint64_t *dst[IFLA_VF_STATS_MAX + 1] = { 0 };
		dst[IFLA_VF_STATS_RX_PACKETS] = &c->rx_packets;
		dst[IFLA_VF_STATS_TX_PACKETS] = &c->tx_packets;
		dst[IFLA_VF_STATS_RX_BYTES] = &c->rx_bytes;
		dst[IFLA_VF_STATS_TX_BYTES] = &c->tx_bytes;
		dst[IFLA_VF_STATS_RX_DROPPED] = &c->rx_dropped;
		dst[IFLA_VF_STATS_TX_DROPPED] = &c->tx_dropped;
		for (int a = 0; a <= IFLA_VF_STATS_MAX; a++)
			if (dst[a] && st[a] && nla_len(st[a]) >= (int)sizeof(uint64_t))
				*dst[a] = nla_get_u64(st[a]);
		if (!st[IFLA_VF_STATS_RX_PACKETS]) {
			memset(c, 0, sizeof(*c));
			return -ENOENT;
		}
		c->has_drops = st[IFLA_VF_STATS_RX_DROPPED] && st[IFLA_VF_STATS_TX_DROPPED];
		if (!c->has_drops)
			c->rx_dropped = c->tx_dropped = 0;
		c->source = VF_STATS_PF;
		return 0;
	}
	return -ENOENT;
}

const char *vf_stats_source_name(enum vf_stats_source s)
{
	switch (s) {
	case VF_STATS_NETDEV: return "netdev";
	case VF_STATS_PF: return "pf";
	default: return "none";
	}
}

double vf_stats_rate(uint64_t before, uint64_t after, double secs)
{
	if (secs <= 0 || after < before)
		return 0;
	return (double)(after - before) / secs;
}

int vf_stats_json(const struct vf_stats_row *cur, const struct vf_stats_row *prev, size_t n,
		  double secs, bool compact, char **out)
{
	json_t *arr = json_array();
	json_t *root = json_pack("{s:o, s:o}", "interval",
				 prev ? json_real((double)(long long)(secs * 1000 + 0.5) / 1000) : json_null(),
				 "vfs", arr);
	if (!root)
		return -ENOMEM;
	int err = 0;
	for (size_t i = 0; !err && i < n; i++) {
		const struct vf_stats_row *r = &cur[i];
		const struct vf_counters *c = &r->c;
		bool have = c->source != VF_STATS_NONE, drops = have && c->has_drops;
		json_t *rates = json_null();
		if (prev && have && prev[i].c.source == c->source) {
			const struct vf_counters *a = &prev[i].c;
			json_decref(rates);
			rates = json_pack("{s:f, s:f, s:f, s:f}",
				"rx_packets", vf_stats_rate(a->rx_packets, c->rx_packets, secs),
				"tx_packets", vf_stats_rate(a->tx_packets, c->tx_packets, secs),
				"rx_bytes", vf_stats_rate(a->rx_bytes, c->rx_bytes, secs),
				"tx_bytes", vf_stats_rate(a->tx_bytes, c->tx_bytes, secs));
		}
#define CTR(ok, v) ((ok) ? json_integer((json_int_t)(v)) : json_null())
		json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"vf", r->vf, "pf", r->pf, "index", r->index,
			"netdev", r->netdev[0] ? json_string(r->netdev) : json_null(),
			"source", vf_stats_source_name(c->source),
			"rx_packets", CTR(have, c->rx_packets), "tx_packets", CTR(have, c->tx_packets),
			"rx_bytes", CTR(have, c->rx_bytes), "tx_bytes", CTR(have, c->tx_bytes),
			"rx_dropped", CTR(drops, c->rx_dropped), "tx_dropped", CTR(drops, c->tx_dropped),
			"rates", rates);
#undef CTR
		if (!o || json_array_append_new(arr, o) != 0)
			err = -ENOMEM;
	}
	char *text = err ? NULL : json_dumps(root, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_REAL_PRECISION(12));
	json_decref(root);
	if (!text)
		return err ? err : -ENOMEM;
	size_t l = strlen(text);
	*out = realloc(text, l + 2);
	if (!*out) {
		free(text);
		return -ENOMEM;
	}
	(*out)[l] = '\n';
	(*out)[l + 1] = '\0';
	return 0;
}

int vf_stats_prometheus(FILE *f, const struct vf_stats_row *rows, size_t n)
{
	static const struct {
		const char *name, *help;
		size_t off;
		bool drop;
	} fam[] = {
		{ "vfstack_vf_rx_packets_total", "Packets the SR-IOV VF received.",
		  offsetof(struct vf_counters, rx_packets), false },
		{ "vfstack_vf_tx_packets_total", "Packets the SR-IOV VF sent.",
		  offsetof(struct vf_counters, tx_packets), false },
		{ "vfstack_vf_rx_bytes_total", "Bytes the SR-IOV VF received.",
		  offsetof(struct vf_counters, rx_bytes), false },
		{ "vfstack_vf_tx_bytes_total", "Bytes the SR-IOV VF sent.",
		  offsetof(struct vf_counters, tx_bytes), false },
		{ "vfstack_vf_rx_dropped_total", "Received packets the SR-IOV VF dropped.",
		  offsetof(struct vf_counters, rx_dropped), true },
		{ "vfstack_vf_tx_dropped_total", "Packets the SR-IOV VF dropped on transmit.",
		  offsetof(struct vf_counters, tx_dropped), true },
	};
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		size_t have = 0;
		for (size_t i = 0; i < n; i++)
			have += rows[i].c.source != VF_STATS_NONE && (!fam[k].drop || rows[i].c.has_drops);
		if (!have)
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", fam[k].name, fam[k].help, fam[k].name);
		for (size_t i = 0; i < n; i++) {
			const struct vf_stats_row *r = &rows[i];
			if (r->c.source == VF_STATS_NONE || (fam[k].drop && !r->c.has_drops))
				continue;
			char idx[16];
			snprintf(idx, sizeof(idx), "%d", r->index);
			uint64_t v;
			memcpy(&v, (const char *)&r->c + fam[k].off, sizeof(v));
			fprintf(f, "%s{", fam[k].name);
			put_label(f, "pf", r->pf, false);
			put_label(f, "vf", r->vf, true);
			put_label(f, "index", idx, true);
			put_label(f, "netdev", r->netdev, true);
			put_label(f, "source", vf_stats_source_name(r->c.source), true);
			fprintf(f, "} %" PRIu64 "\n", v);
		}
	}
	return ferror(f) ? -EIO : 0;
}

int vf_stats_write_prometheus(const char *path, const struct vf_stats_row *rows, size_t n)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path + 1) : 0;
	const char *base = slash ? slash + 1 : path;
	if (!*base)
		return -EISDIR;
	if (sriov_fmt(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dlen, path, base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = -errno;
		close(fd);
		unlink(tmp);
		return e;
	}
	int rc = vf_stats_prometheus(f, rows, n);
	if (!rc && fflush(f) != 0)
		rc = -errno;
	if (!rc && fchmod(fd, 0644) != 0)
		rc = -errno;
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* --- helpers ---------------------------------------------------------------- */

static int read_u64(const char *vf_bdf, const char *ifname, const char *name, uint64_t *v)
{
	char rel[128], buf[32];
	sriov_fmt(rel, sizeof(rel), "net/%s/statistics/%s", ifname, name);
	int rc = pci_dev_attr_read(vf_bdf, rel, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

static int on_link(struct nl_msg *msg, void *arg)
{
	struct link_query *q = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	if (nlh->nlmsg_type == RTM_NEWLINK && q->err)
		q->err = vf_stats_parse_link(nlh, nlh->nlmsg_len, q->index, q->c);
	return NL_OK;
}

/* key="value" with the exposition format's three escapes (\\ \" \n). */
static void put_label(FILE *f, const char *key, const char *val, bool comma)
{
	fprintf(f, "%s%s=\"", comma ? "," : "", key);
	for (const char *p = val; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}
