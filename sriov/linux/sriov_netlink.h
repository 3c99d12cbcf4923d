/*
 * sriov_netlink.h — per-VF settings on a PF through rtnetlink (libnl-route-3).
 *
 * Settings are sent to the PF's interface as IFLA_VFINFO_LIST/IFLA_VF_INFO
 * attributes (include/uapi/linux/if_link.h) and read back from the same
 * attributes in RTM_GETLINK with RTEXT_FILTER_VF, stats included.
 * Errors are the kernel's (-EOPNOTSUPP: the PF driver has no such setting,
 * -EPROTONOSUPPORT: 802.1ad not supported, -EINVAL: out of range) or
 * -ENODEV when the interface does not exist, -ERANGE for a VF index past
 * NumVFs.
 */
#ifndef VFS_SRIOV_NETLINK_H
#define VFS_SRIOV_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IFLA_VF_LINK_STATE_* values. */
enum sriov_link_state { SRIOV_LINK_AUTO = 0, SRIOV_LINK_ENABLE = 1, SRIOV_LINK_DISABLE = 2 };

#define SRIOV_VLAN_PROTO_8021Q 0x8100
#define SRIOV_VLAN_PROTO_8021AD 0x88a8

/* One VF's settings as the PF reports them (IFLA_VF_INFO). */
struct sriov_vf_state {
	uint32_t index;
	uint8_t mac[6];
	uint32_t vlan, qos;
	uint16_t vlan_proto;       /* 0x8100 unless the driver says otherwise */
	int spoofchk;              /* 0/1, -1 not reported */
	int trust;                 /* 0/1, -1 not reported */
	int link_state;            /* enum sriov_link_state, -1 not reported */
	uint32_t min_tx_rate, max_tx_rate; /* Mbit/s, 0 = unlimited */
	bool has_stats;
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, broadcast, multicast;
};

/* Read every VF of the PF interface `pf_ifname`; *vfs malloc'd. */
int sriov_nl_get_vfs(const char *pf_ifname, struct sriov_vf_state **vfs, size_t *n);
int sriov_nl_get_vf(const char *pf_ifname, uint32_t index, struct sriov_vf_state *vf);

/* What to change: each SRIOV_SET_* bit selects one field of `want`. */
enum {
	SRIOV_SET_MAC = 1u << 0,
	SRIOV_SET_VLAN = 1u << 1, /* vlan, qos, vlan_proto */
	SRIOV_SET_SPOOFCHK = 1u << 2,
	SRIOV_SET_TRUST = 1u << 3,
	SRIOV_SET_LINK_STATE = 1u << 4,
	SRIOV_SET_RATE = 1u << 5, /* min_tx_rate, max_tx_rate */
};

/* Apply the selected settings one by one; if one fails, the ones already
 * applied are put back to their earlier values, *failed gets the bit that
 * failed and the kernel's errno is returned. */
int sriov_nl_set_vf(const char *pf_ifname, uint32_t index, unsigned what,
		    const struct sriov_vf_state *want, unsigned *failed);

/* Names for messages and JSON: "mac", "vlan", …; state "auto"/"enable"/"disable". */
const char *sriov_set_name(unsigned bit);
const char *sriov_link_state_name(int state);
int sriov_link_state_parse(const char *text);

/* "aa:bb:cc:dd:ee:ff" <-> bytes. */
int sriov_mac_parse(const char *text, uint8_t mac[6]);
void sriov_mac_format(const uint8_t mac[6], char buf[18]);

#endif /* VFS_SRIOV_NETLINK_H */
