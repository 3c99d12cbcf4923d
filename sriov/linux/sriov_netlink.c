/*
 * sriov_netlink.c — per-VF settings through rtnetlink.  See sriov_netlink.h.
 */
#include "sriov/linux/sriov_netlink.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

/* libnl folds kernel errnos into NLE_* codes; the replies' own errno is
 * caught by an error callback (see nl_change), this maps the rest back. */
static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0: return 0;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_PERM: return -EPERM;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_BUSY: return -EBUSY;
	case NLE_NODEV: return -ENODEV;
	case NLE_OBJ_NOTFOUND: return -ENODEV;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	case NLE_AGAIN: return -EAGAIN;
	default: return -EIO;
	}
}

static int open_sock(struct nl_sock **sock)
{
	*sock = nl_socket_alloc();
	if (!*sock)
		return -ENOMEM;
	int err = nl_connect(*sock, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(*sock);
		*sock = NULL;
		return nle_to_errno(err);
	}
	return 0;
}

static int get_link(struct nl_sock *sock, const char *ifname, struct rtnl_link **link)
{
	if (!ifname || !ifname[0])
		return -ENODEV;
	int err = rtnl_link_get_kernel(sock, 0, ifname, link);
	return err < 0 ? nle_to_errno(err) : 0;
}

static void fill_state(struct rtnl_link_vf *vf, uint32_t index, struct sriov_vf_state *st)
{
	memset(st, 0, sizeof(*st));
	st->index = index;
	st->spoofchk = st->trust = st->link_state = -1;
	st->vlan_proto = SRIOV_VLAN_PROTO_8021Q;
	struct nl_addr *addr = NULL;
	if (rtnl_link_vf_get_addr(vf, &addr) == 0 && addr && nl_addr_get_len(addr) >= 6)
		memcpy(st->mac, nl_addr_get_binary_addr(addr), 6);
	nl_vf_vlans_t *vlans = NULL;
	if (rtnl_link_vf_get_vlans(vf, &vlans) == 0 && vlans) {
		if (vlans->size > 0) {
			st->vlan = vlans->vlans[0].vf_vlan;
			st->qos = vlans->vlans[0].vf_vlan_qos;
			if (vlans->vlans[0].vf_vlan_proto)
				st->vlan_proto = vlans->vlans[0].vf_vlan_proto;
		}
		rtnl_link_vf_vlan_put(vlans);
	}
	uint32_t v;
	if (rtnl_link_vf_get_spoofchk(vf, &v) == 0)
		st->spoofchk = v == 1;
	if (rtnl_link_vf_get_trust(vf, &v) == 0)
		st->trust = v == 1;
	if (rtnl_link_vf_get_linkstate(vf, &v) == 0)
		st->link_state = (int)v;
	struct nl_vf_rate rate;
	if (rtnl_link_vf_get_rate(vf, &rate) == 0) {
		if (rate.api == RTNL_LINK_VF_RATE_API_OLD)
			st->max_tx_rate = rate.rate;
		else {
			st->min_tx_rate = rate.min_tx_rate;
			st->max_tx_rate = rate.max_tx_rate;
		}
	}
	uint64_t s;
	if (rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_RX_PACKETS, &s) == 0) {
		st->has_stats = true;
		st->rx_packets = s;
		rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_TX_PACKETS, &st->tx_packets);
		rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_RX_BYTES, &st->rx_bytes);
		rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_TX_BYTES, &st->tx_bytes);
		rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_BROADCAST, &st->broadcast);
		rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_MULTICAST, &st->multicast);
	}
}

static int read_vfs(struct nl_sock *sock, const char *pf_ifname, struct sriov_vf_state **vfs,
		    size_t *n)
{
	struct rtnl_link *link = NULL;
	*vfs = NULL;
	*n = 0;
	int err = get_link(sock, pf_ifname, &link);
	if (err)
		return err;
	uint32_t num = 0;
	if (rtnl_link_get_num_vf(link, &num) < 0)
		num = 0;
	if (num) {
		*vfs = calloc(num, sizeof(**vfs));
		if (!*vfs) {
			rtnl_link_put(link);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < num; i++) {
		struct rtnl_link_vf *vf = rtnl_link_vf_get(link, i);
		if (!vf)
			continue;
		fill_state(vf, i, &(*vfs)[(*n)++]);
		rtnl_link_vf_put(vf);
	}
	rtnl_link_put(link);
	return 0;
}

int sriov_nl_get_vfs(const char *pf_ifname, struct sriov_vf_state **vfs, size_t *n)
{
	struct nl_sock *sock;
	int err = open_sock(&sock);
	if (err)
		return err;
	err = read_vfs(sock, pf_ifname, vfs, n);
	nl_socket_free(sock);
	return err;
}

int sriov_nl_get_vf(const char *pf_ifname, uint32_t index, struct sriov_vf_state *vf)
{
	struct sriov_vf_state *all;
	size_t n;
	int err = sriov_nl_get_vfs(pf_ifname, &all, &n);
	if (err)
		return err;
	err = -ERANGE;
	for (size_t i = 0; i < n; i++)
		if (all[i].index == index) {
			*vf = all[i];
			err = 0;
		}
	free(all);
	return err;
}

/* The kernel's errno from an NLMSG_ERROR reply. */
static int ack_errno_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = e->error;
	return NL_STOP;
}

/* Build the VF object carrying one setting. */
static int build_vf(uint32_t index, unsigned bit, const struct sriov_vf_state *want,
		    struct rtnl_link_vf **out)
{
	struct rtnl_link_vf *vf = rtnl_link_vf_alloc();
	if (!vf)
		return -ENOMEM;
	rtnl_link_vf_set_index(vf, index);
	int err = 0;
	switch (bit) {
	case SRIOV_SET_MAC: {
		struct nl_addr *a = nl_addr_build(AF_LLC, want->mac, 6);
		if (!a) {
			err = -ENOMEM;
			break;
		}
		rtnl_link_vf_set_addr(vf, a);
		nl_addr_put(a);
		break;
	}
	case SRIOV_SET_VLAN: {
		nl_vf_vlans_t *vl = NULL;
		if (rtnl_link_vf_vlan_alloc(&vl, 1) < 0) {
			err = -ENOMEM;
			break;
		}
		vl->vlans[0].vf_vlan = want->vlan;
		vl->vlans[0].vf_vlan_qos = want->qos;
		vl->vlans[0].vf_vlan_proto = want->vlan_proto ? want->vlan_proto : SRIOV_VLAN_PROTO_8021Q;
		rtnl_link_vf_set_vlans(vf, vl);
		rtnl_link_vf_vlan_put(vl);
		break;
	}
	case SRIOV_SET_SPOOFCHK:
		rtnl_link_vf_set_spoofchk(vf, want->spoofchk ? 1 : 0);
		break;
	case SRIOV_SET_TRUST:
		rtnl_link_vf_set_trust(vf, want->trust ? 1 : 0);
		break;
	case SRIOV_SET_LINK_STATE:
		rtnl_link_vf_set_linkstate(vf, (uint32_t)want->link_state);
		break;
	case SRIOV_SET_RATE: {
		struct nl_vf_rate r = { .api = RTNL_LINK_VF_RATE_API_NEW,
					.min_tx_rate = want->min_tx_rate,
					.max_tx_rate = want->max_tx_rate };
		rtnl_link_vf_set_rate(vf, &r);
		break;
	}
	default:
		err = -EINVAL;
	}
	if (err) {
		rtnl_link_vf_put(vf);
		return err;
	}
	*out = vf;
	return 0;
}

/* Send one setting as RTM_SETLINK on the PF and wait for the kernel's ack. */
static int nl_change(struct nl_sock *sock, struct rtnl_link *orig, uint32_t index,
		     unsigned bit, const struct sriov_vf_state *want)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	struct rtnl_link_vf *vf = NULL;
	struct nl_msg *msg = NULL;
	if (!changes)
		return -ENOMEM;
	int err = build_vf(index, bit, want, &vf);
	if (!err)
		err = nle_to_errno(rtnl_link_vf_add(changes, vf));
	if (!err)
		err = nle_to_errno(rtnl_link_build_change_request(orig, changes, 0, &msg));
	if (!err) {
		/* SETLINK straight to do_setlink: no NEWLINK fallback guessing. */
		nlmsg_hdr(msg)->nlmsg_type = RTM_SETLINK;
		int kernel_err = 0;
		nl_socket_modify_err_cb(sock, NL_CB_CUSTOM, ack_errno_cb, &kernel_err);
		int r = nl_send_auto_complete(sock, msg);
		if (r >= 0)
			r = nl_wait_for_ack(sock);
		if (kernel_err)
			err = kernel_err;
		else if (r < 0)
			err = nle_to_errno(r);
		nlmsg_free(msg);
	}
	if (vf)
		rtnl_link_vf_put(vf);
	rtnl_link_put(changes);
	return err;
}

int sriov_nl_set_vf(const char *pf_ifname, uint32_t index, unsigned what,
		    const struct sriov_vf_state *want, unsigned *failed)
{
	static const unsigned order[] = { SRIOV_SET_MAC, SRIOV_SET_VLAN, SRIOV_SET_SPOOFCHK,
					  SRIOV_SET_TRUST, SRIOV_SET_LINK_STATE, SRIOV_SET_RATE };
	if (failed)
		*failed = 0;
	struct nl_sock *sock;
	int err = open_sock(&sock);
	if (err)
		return err;
	struct rtnl_link *link = NULL;
	struct sriov_vf_state *before = NULL;
	size_t n = 0;
	err = get_link(sock, pf_ifname, &link);
	if (!err)
		err = read_vfs(sock, pf_ifname, &before, &n);
	const struct sriov_vf_state *old = NULL;
	for (size_t i = 0; !err && i < n; i++)
		if (before[i].index == index)
			old = &before[i];
	if (!err && !old)
		err = -ERANGE;
	unsigned done = 0;
	for (size_t i = 0; !err && i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(what & order[i]))
			continue;
		err = nl_change(sock, link, index, order[i], want);
		if (err) {
			if (failed)
				*failed = order[i];
			break;
		}
		done |= order[i];
	}
	/* Roll back what was applied before the failure (best effort: a
	 * setting the driver does not report, -1, is left as set). */
	if (err && old) {
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			unsigned bit = order[i];
			if (!(done & bit))
				continue;
			if ((bit == SRIOV_SET_SPOOFCHK && old->spoofchk < 0) ||
			    (bit == SRIOV_SET_TRUST && old->trust < 0) ||
			    (bit == SRIOV_SET_LINK_STATE && old->link_state < 0))
				continue;
			nl_change(sock, link, index, bit, old);
		}
	}
	free(before);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sock);
	return err;
}

const char *sriov_set_name(unsigned bit)
{
	switch (bit) {
	case SRIOV_SET_MAC: return "mac";
	case SRIOV_SET_VLAN: return "vlan";
	case SRIOV_SET_SPOOFCHK: return "spoofchk";
	case SRIOV_SET_TRUST: return "trust";
	case SRIOV_SET_LINK_STATE: return "state";
	case SRIOV_SET_RATE: return "rate";
	default: return "setting";
	}
}

const char *sriov_link_state_name(int state)
{
	switch (state) {
	case SRIOV_LINK_AUTO: return "auto";
	case SRIOV_LINK_ENABLE: return "enable";
	case SRIOV_LINK_DISABLE: return "disable";
	default: return "unknown";
	}
}

int sriov_link_state_parse(const char *text)
{
	if (!text)
		return -EINVAL;
	if (strcmp(text, "auto") == 0)
		return SRIOV_LINK_AUTO;
	if (strcmp(text, "enable") == 0)
		return SRIOV_LINK_ENABLE;
	if (strcmp(text, "disable") == 0)
		return SRIOV_LINK_DISABLE;
	return -EINVAL;
}

int sriov_mac_parse(const char *text, uint8_t mac[6])
{
	/* Exactly "hh:hh:hh:hh:hh:hh": sscanf alone would take signs and blanks. */
	if (!text || strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? text[i] != ':' : !isxdigit((unsigned char)text[i]))
			return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)strtoul(text + 3 * i, NULL, 16);
	return 0;
}

void sriov_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}
