/*
 * cmd_vf.c — `vfctl vf set|show`: the settings a PF enforces on one VF.
 */
#include "tools/vfctl/vjson.h"
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/linux/sriov_netlink.h"

static const char usage[] =
	"usage: vfctl vf set PF IDX [mac MAC] [vlan VID [qos Q] [proto 802.1Q|802.1ad]]\n"
	"                           [spoofchk on|off] [trust on|off]\n"
	"                           [state auto|enable|disable] [rate MIN:MAX]\n"
	"       vfctl vf show PF IDX [--json]\n"
	"\n"
	"PF is the physical function (PCI address or interface), IDX the VF's index\n"
	"under it (0..NumVFs-1, the 'vf' column of 'vfctl list').  The settings are\n"
	"made through the PF's driver (rtnetlink), so they hold whoever drives the VF:\n"
	"\n"
	"  mac MAC         the VF's MAC address (unicast), e.g. 52:54:00:12:34:01\n"
	"  vlan VID        tag the VF's traffic with VLAN VID (0 = untagged); qos Q\n"
	"                  sets the 802.1p priority 0-7, proto the tag protocol\n"
	"  spoofchk on|off drop frames whose source MAC is not the VF's\n"
	"  trust on|off    let the VF change its MAC and enter promiscuous modes\n"
	"  state S         link state the VF sees: auto (follow the PF), enable, disable\n"
	"  rate MIN:MAX    transmit rate limits in Mbit/s (0 = none)\n"
	"\n"
	"Settings are applied in that order; if one is refused, the ones already\n"
	"applied are put back and nothing changes.  'show' reads them back.\n";

struct vf_target {
	char pf[PCI_BDF_LEN];
	struct sriov_pf_info info;
	long index;
};

static int resolve_target(const char *pf_text, const char *idx_text, struct vf_target *t)
{
	int rc = vfctl_resolve_pf(pf_text, t->pf);
	if (rc)
		return rc;
	int err = sriov_pf_get(t->pf, &t->info);
	if (err == -EIO && t->info.problem[0])
		return vfctl_pf_problem(&t->info);
	if (err)
		return vfctl_error("cannot read the SR-IOV state of %s (%s).", t->pf, vfctl_strerror(err));
	t->index = vfctl_parse_uint(idx_text, 65535);
	if (t->index < 0)
		return vfctl_usage_error(&vfctl_cmd_vf, "'%s' is not a VF index (0, 1, …).", idx_text);
	if (t->info.num_vfs == 0)
		return vfctl_nodev("%s has no VFs; create them first with 'vfctl sriov enable %s N'.", t->pf,
				   t->pf);
	if (t->index >= t->info.num_vfs)
		return vfctl_nodev("%s has %d VFs (index 0 to %d); there is no VF %ld (use an index from "
				   "'vfctl list', or create more with 'vfctl sriov enable %s N').", t->pf,
				   t->info.num_vfs, t->info.num_vfs - 1, t->index, t->pf);
	if (!t->info.netdev[0])
		return vfctl_error("%s has no network interface (driver %s), and VF settings go through the "
				   "PF's interface; bind its network driver first.",
				   t->pf, t->info.driver[0] ? t->info.driver : "none");
	return VFCTL_OK;
}

static void print_state(const struct vf_target *t, const struct sriov_vf_state *st)
{
	char mac[18];
	sriov_mac_format(st->mac, mac);
	printf("%s vf %ld: mac %s, vlan %u, qos %u, proto %s, spoofchk %s, trust %s, state %s, "
	       "rate %u:%u\n", t->pf, t->index, mac, st->vlan, st->qos,
	       st->vlan_proto == SRIOV_VLAN_PROTO_8021AD ? "802.1ad" : "802.1Q",
	       st->spoofchk < 0 ? "-" : st->spoofchk ? "on" : "off",
	       st->trust < 0 ? "-" : st->trust ? "on" : "off",
	       st->link_state < 0 ? "-" : sriov_link_state_name(st->link_state), st->min_tx_rate,
	       st->max_tx_rate);
}

/* One sentence for a refused setting. */
static int set_failed(const struct vf_target *t, unsigned bit, int err, const struct sriov_vf_state *w)
{
	const char *drv = t->info.driver[0] ? t->info.driver : "PF";
	const char *what = sriov_set_name(bit);
	if (err == -EOPNOTSUPP)
		return vfctl_error("the %s driver of %s cannot set %s on its VFs; nothing was changed.", drv,
				   t->pf, what);
	if (err == -EPROTONOSUPPORT)
		return vfctl_error("the %s driver of %s supports only 802.1Q VLAN tags on VFs; use proto "
				   "802.1Q. Nothing was changed.", drv, t->pf);
	if (bit == SRIOV_SET_RATE && err == -EAGAIN)
		return vfctl_error("the %s driver of %s cannot limit VF %ld's rate while its link is down or "
				   "not at full speed; nothing was changed.", drv, t->pf, t->index);
	if (bit == SRIOV_SET_RATE && err == -EINVAL)
		return vfctl_error("the %s driver of %s refused rate %u:%u for VF %ld (min must not exceed "
				   "max, nor max the link speed); nothing was changed.", drv, t->pf,
				   w->min_tx_rate, w->max_tx_rate, t->index);
	if (err == -EPERM || err == -EACCES)
		return vfctl_error("not allowed to change VF settings of %s; run vfctl as root.", t->pf);
	return vfctl_error("the %s driver of %s refused %s for VF %ld (%s); nothing was changed.", drv,
			   t->pf, what, t->index, vfctl_strerror(err));
}

static int do_set(int argc, char **argv)
{
	const struct vfctl_cmd *me = &vfctl_cmd_vf;
	if (argc < 4)
		return vfctl_usage_error(me, "set takes a PF, a VF index and at least one setting.");
	struct sriov_vf_state want;
	memset(&want, 0, sizeof(want));
	want.vlan_proto = SRIOV_VLAN_PROTO_8021Q;
	unsigned what = 0;
	bool qos_or_proto = false;
	for (int i = 3; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return vfctl_usage_error(me, "'%s' needs a value.", k);
		if (!strcmp(k, "mac")) {
			if (sriov_mac_parse(v, want.mac))
				return vfctl_usage_error(me, "'%s' is not a MAC address (like 52:54:00:12:34:01).", v);
			if (want.mac[0] & 1)
				return vfctl_usage_error(me, "%s is a multicast address; a VF needs a unicast MAC.", v);
			what |= SRIOV_SET_MAC;
		} else if (!strcmp(k, "vlan")) {
			long vid = vfctl_parse_uint(v, VFCTL_VLAN_MAX);
			if (vid < 0)
				return vfctl_usage_error(me, "'%s' is not a VLAN ID (0-4094, 0 = untagged; 4095 is "
							 "reserved).", v);
			want.vlan = (uint32_t)vid;
			what |= SRIOV_SET_VLAN;
		} else if (!strcmp(k, "qos")) {
			long q = vfctl_parse_uint(v, 7);
			if (q < 0)
				return vfctl_usage_error(me, "'%s' is not a QoS priority (0-7).", v);
			want.qos = (uint32_t)q;
			qos_or_proto = true;
		} else if (!strcmp(k, "proto")) {
			if (!strcasecmp(v, "802.1Q"))
				want.vlan_proto = SRIOV_VLAN_PROTO_8021Q;
			else if (!strcasecmp(v, "802.1ad"))
				want.vlan_proto = SRIOV_VLAN_PROTO_8021AD;
			else
				return vfctl_usage_error(me, "proto is 802.1Q or 802.1ad, not '%s'.", v);
			qos_or_proto = true;
		} else if (!strcmp(k, "spoofchk") || !strcmp(k, "trust")) {
			int b = vfctl_parse_bool(v);
			if (b < 0)
				return vfctl_usage_error(me, "%s takes on or off, not '%s'.", k, v);
			if (k[0] == 's') {
				want.spoofchk = b;
				what |= SRIOV_SET_SPOOFCHK;
			} else {
				want.trust = b;
				what |= SRIOV_SET_TRUST;
			}
		} else if (!strcmp(k, "state")) {
			int s = sriov_link_state_parse(v);
			if (s < 0)
				return vfctl_usage_error(me, "state is auto, enable or disable, not '%s'.", v);
			want.link_state = s;
			what |= SRIOV_SET_LINK_STATE;
		} else if (!strcmp(k, "rate")) {
			char *colon = strchr(v, ':');
			char lo[32];
			if (!colon || (size_t)(colon - v) >= sizeof(lo))
				return vfctl_usage_error(me, "rate is MIN:MAX in Mbit/s (like 0:500), not '%s'.", v);
			memcpy(lo, v, (size_t)(colon - v));
			lo[colon - v] = '\0';
			long mn = vfctl_parse_uint(lo, 4000000), mx = vfctl_parse_uint(colon + 1, 4000000);
			if (mn < 0 || mx < 0)
				return vfctl_usage_error(me, "rate is MIN:MAX in Mbit/s (like 0:500), not '%s'.", v);
			if (mx && mn > mx)
				return vfctl_usage_error(me, "rate %s: the minimum exceeds the maximum.", v);
			want.min_tx_rate = (uint32_t)mn;
			want.max_tx_rate = (uint32_t)mx;
			what |= SRIOV_SET_RATE;
		} else {
			return vfctl_usage_error(me, "unknown setting '%s'.", k);
		}
	}
	if (qos_or_proto && !(what & SRIOV_SET_VLAN))
		return vfctl_usage_error(me, "qos and proto go with vlan (vlan VID qos Q proto P).");
	struct vf_target t;
	int rc = resolve_target(argv[1], argv[2], &t);
	if (rc)
		return rc;
	unsigned failed = 0;
	int err = sriov_nl_set_vf(t.info.netdev, (uint32_t)t.index, what, &want, &failed);
	if (err == -ENODEV)
		return vfctl_error("the interface %s of %s disappeared; try again.", t.info.netdev, t.pf);
	if (err)
		return set_failed(&t, failed, err, &want);
	struct sriov_vf_state st;
	if (sriov_nl_get_vf(t.info.netdev, (uint32_t)t.index, &st) == 0)
		print_state(&t, &st);
	return VFCTL_OK;
}

static int do_show(int argc, char **argv)
{
	bool json = false;
	const struct vfctl_flag flags[] = { { "json", 'j', &json }, { NULL, 0, NULL } };
	char **pos;
	int npos;
	int rc = vfctl_parse_flags(&vfctl_cmd_vf, argc, argv, flags, &pos, &npos);
	if (rc)
		return rc;
	if (npos != 2)
		return vfctl_usage_error(&vfctl_cmd_vf, "show takes a PF and a VF index.");
	struct vf_target t;
	rc = resolve_target(pos[0], pos[1], &t);
	if (rc)
		return rc;
	struct sriov_vf_state st;
	int err = sriov_nl_get_vf(t.info.netdev, (uint32_t)t.index, &st);
	if (err)
		return vfctl_error("the %s driver of %s does not report VF %ld's settings (%s).",
				   t.info.driver, t.pf, t.index, vfctl_strerror(err));
	if (!json) {
		print_state(&t, &st);
		if (st.has_stats)
			printf("  rx %llu packets %llu bytes, tx %llu packets %llu bytes, broadcast %llu, "
			       "multicast %llu\n", (unsigned long long)st.rx_packets,
			       (unsigned long long)st.rx_bytes, (unsigned long long)st.tx_packets,
			       (unsigned long long)st.tx_bytes, (unsigned long long)st.broadcast,
			       (unsigned long long)st.multicast);
		return VFCTL_OK;
	}
	char mac[18];
	sriov_mac_format(st.mac, mac);
	json_t *o = json_object();
	json_object_set_new(o, "pf", json_string(t.pf));
	json_object_set_new(o, "index", json_integer(t.index));
	json_object_set_new(o, "mac", json_string(mac));
	json_object_set_new(o, "vlan", json_integer(st.vlan));
	json_object_set_new(o, "qos", json_integer(st.qos));
	json_object_set_new(o, "vlan_proto", json_string(st.vlan_proto == SRIOV_VLAN_PROTO_8021AD ? "802.1ad" : "802.1Q"));
	json_object_set_new(o, "spoofchk", vjson_tristate(st.spoofchk));
	json_object_set_new(o, "trust", vjson_tristate(st.trust));
	json_object_set_new(o, "state", st.link_state >= 0 ? json_string(sriov_link_state_name(st.link_state)) : json_null());
	json_object_set_new(o, "min_tx_rate", json_integer(st.min_tx_rate));
	json_object_set_new(o, "max_tx_rate", json_integer(st.max_tx_rate));
	json_object_set_new(o, "stats", st.has_stats
		? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets", (json_int_t)st.rx_packets,
			    "tx_packets", (json_int_t)st.tx_packets, "rx_bytes", (json_int_t)st.rx_bytes,
			    "tx_bytes", (json_int_t)st.tx_bytes, "broadcast", (json_int_t)st.broadcast,
			    "multicast", (json_int_t)st.multicast)
		: json_null());
	vjson_print(stdout, o);
	return VFCTL_OK;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return vfctl_usage_error(&vfctl_cmd_vf, "say what to do: set or show.");
	if (!strcmp(argv[1], "set"))
		return do_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return do_show(argc - 1, argv + 1);
	return vfctl_usage_error(&vfctl_cmd_vf, "unknown action '%s'; use set or show.", argv[1]);
}

const struct vfctl_cmd vfctl_cmd_vf = { "vf", "set or show one VF's MAC, VLAN, trust, spoofchk, state, rate",
					usage, run };
