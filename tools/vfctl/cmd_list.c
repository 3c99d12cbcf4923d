/*
 * cmd_list.c — `vfctl list [--json]`: every PF and, under it, its VFs.
 */
#include "tools/vfctl/vfctl.h"

#include <stdlib.h>
#include <string.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/sriov_netlink.h"

static const char usage[] =
	"usage: vfctl list [--json]\n"
	"\n"
	"Show every SR-IOV physical function (PF) on this host and, under each,\n"
	"its virtual functions (VFs).\n"
	"\n"
	"For a PF: PCI address, name (pci.ids), driver, network interface, and how\n"
	"many VFs are enabled of how many it supports (NumVFs/TotalVFs).\n"
	"For a VF: index, PCI address, driver, IOMMU group, network interface, and\n"
	"the settings the PF enforces on it (MAC, VLAN, trust, spoofchk, link\n"
	"state), and the guest that holds it (from /run/vfstack/assign).\n"
	"A PF whose sysfs counts are inconsistent (NumVFs above TotalVFs, more VFs\n"
	"than its SR-IOV capability or routing IDs allow) is shown with the counts\n"
	"clamped, an error names it and the fix, and the exit status is 1.\n"
	"\n"
	"  --json   machine-readable; the output can be edited and fed back to\n"
	"           'vfctl apply'.\n";

/* Netlink view of one VF, if the PF has an interface that reports it. */
static const struct sriov_vf_state *nl_find(const struct sriov_vf_state *st, size_t n, int index)
{
	for (size_t i = 0; i < n; i++)
		if ((int)st[i].index == index)
			return &st[i];
	return NULL;
}

static const char *proto_name(uint16_t proto)
{
	return proto == SRIOV_VLAN_PROTO_8021AD ? "802.1ad" : "802.1Q";
}

static void json_tristate(struct json_out *j, const char *key, int v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_bool(j, key, v != 0);
}

static void json_vf(struct json_out *j, const struct sriov_vf_info *vf,
		    const struct sriov_vf_state *st)
{
	char mac[18], guest[ASSIGN_GUEST_LEN];
	pid_t pid;
	json_obj_open(j, NULL);
	json_int(j, "index", vf->index);
	json_str(j, "bdf", vf->bdf);
	json_str(j, "driver", vf->driver[0] ? vf->driver : NULL);
	if (vf->iommu_group >= 0)
		json_int(j, "iommu_group", vf->iommu_group);
	else
		json_null(j, "iommu_group");
	json_str(j, "netdev", vf->netdev[0] ? vf->netdev : NULL);
	if (st) {
		sriov_mac_format(st->mac, mac);
		json_str(j, "mac", mac);
		json_int(j, "vlan", st->vlan);
		json_int(j, "qos", st->qos);
		json_str(j, "vlan_proto", proto_name(st->vlan_proto));
		json_tristate(j, "spoofchk", st->spoofchk);
		json_tristate(j, "trust", st->trust);
		if (st->link_state >= 0)
			json_str(j, "state", sriov_link_state_name(st->link_state));
		else
			json_null(j, "state");
		json_int(j, "min_tx_rate", st->min_tx_rate);
		json_int(j, "max_tx_rate", st->max_tx_rate);
	}
	if (assign_registry_lookup(vf->bdf, guest, sizeof(guest), &pid) == 0) {
		json_str(j, "guest", guest);
		json_int(j, "guest_pid", pid);
	} else {
		json_null(j, "guest");
	}
	if (st && st->has_stats) {
		json_obj_open(j, "stats");
		json_int(j, "rx_packets", (long long)st->rx_packets);
		json_int(j, "tx_packets", (long long)st->tx_packets);
		json_int(j, "rx_bytes", (long long)st->rx_bytes);
		json_int(j, "tx_bytes", (long long)st->tx_bytes);
		json_int(j, "broadcast", (long long)st->broadcast);
		json_int(j, "multicast", (long long)st->multicast);
		json_obj_close(j);
	}
	json_obj_close(j);
}

static const char *onoff(int v)
{
	return v < 0 ? "-" : v ? "on" : "off";
}

static void text_vf(const struct sriov_vf_info *vf, const struct sriov_vf_state *st, bool last)
{
	char mac[18] = "-", vlan[40] = "-", guest[ASSIGN_GUEST_LEN] = "-", grp[16] = "-";
	pid_t pid;
	if (vf->iommu_group >= 0)
		snprintf(grp, sizeof(grp), "%d", vf->iommu_group);
	if (st) {
		sriov_mac_format(st->mac, mac);
		if (st->vlan)
			snprintf(vlan, sizeof(vlan), "%u%s%.0u%s", st->vlan, st->qos ? "/qos" : "", st->qos,
				 st->vlan_proto == SRIOV_VLAN_PROTO_8021AD ? "/802.1ad" : "");
	}
	assign_registry_lookup(vf->bdf, guest, sizeof(guest), &pid);
	printf("  %s vf %-2d %s  %-9s %-5s %-9s %-17s %-12s %-5s %-8s %-7s %s\n",
	       last ? "└─" : "├─", vf->index, vf->bdf, vf->driver[0] ? vf->driver : "-", grp,
	       vf->netdev[0] ? vf->netdev : "-", mac, vlan, st ? onoff(st->trust) : "-",
	       st ? onoff(st->spoofchk) : "-", st && st->link_state >= 0 ? sriov_link_state_name(st->link_state) : "-",
	       guest);
}

static int run(int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return vfctl_usage_error(&vfctl_cmd_list, "unexpected argument '%s'.", argv[i]);
	}
	struct sriov_pf_info *pfs = NULL;
	size_t npf = 0;
	int err = sriov_pf_list(&pfs, &npf);
	if (err)
		return vfctl_error("cannot read %s/bus/pci/devices (%s); is sysfs mounted?",
				   sriov_sysfs_root(), vfctl_strerror(err));
	struct json_out j;
	if (json) {
		json_begin(&j, stdout);
		json_obj_open(&j, NULL);
		json_arr_open(&j, "pfs");
	} else if (npf == 0) {
		printf("No SR-IOV physical functions on this host ('vfctl doctor' checks the setup).\n");
	}
	int rc = VFCTL_OK;
	for (size_t p = 0; p < npf; p++) {
		const struct sriov_pf_info *pf = &pfs[p];
		if (pf->problem[0]) /* shown with its clamped counts, and said */
			rc = vfctl_pf_problem(pf);
		struct sriov_vf_info *vfs = NULL;
		struct sriov_vf_state *st = NULL;
		size_t nvf = 0, nst = 0;
		sriov_vf_list(pf->bdf, &vfs, &nvf);
		if (pf->netdev[0])
			sriov_nl_get_vfs(pf->netdev, &st, &nst);
		if (json) {
			json_obj_open(&j, NULL);
			json_str(&j, "bdf", pf->bdf);
			json_str(&j, "name", pf->name);
			json_str(&j, "driver", pf->driver[0] ? pf->driver : NULL);
			json_str(&j, "netdev", pf->netdev[0] ? pf->netdev : NULL);
			json_int(&j, "total_vfs", pf->total_vfs);
			json_int(&j, "num_vfs", pf->num_vfs);
			if (pf->drivers_autoprobe >= 0)
				json_bool(&j, "drivers_autoprobe", pf->drivers_autoprobe);
			if (pf->problem[0]) /* only then: a consistent PF's JSON is unchanged */
				json_str(&j, "problem", pf->problem);
			json_arr_open(&j, "vfs");
			for (size_t v = 0; v < nvf; v++)
				json_vf(&j, &vfs[v], nl_find(st, nst, vfs[v].index));
			json_arr_close(&j);
			json_obj_close(&j);
		} else {
			printf("%s  %s\n", pf->bdf, pf->name);
			printf("  driver %s, netdev %s, VFs %d/%d (NumVFs/TotalVFs%s)%s\n",
			       pf->driver[0] ? pf->driver : "none", pf->netdev[0] ? pf->netdev : "-",
			       pf->num_vfs, pf->total_vfs, pf->problem[0] ? ", clamped: sysfs is inconsistent" : "",
			       pf->drivers_autoprobe == 0 ? ", autoprobe off" : "");
			if (nvf)
				printf("     %-5s %-12s  %-9s %-5s %-9s %-17s %-12s %-5s %-8s %-7s %s\n", "VF",
				       "BDF", "DRIVER", "GROUP", "NETDEV", "MAC", "VLAN", "TRUST", "SPOOFCHK",
				       "STATE", "GUEST");
			for (size_t v = 0; v < nvf; v++)
				text_vf(&vfs[v], nl_find(st, nst, vfs[v].index), v + 1 == nvf);
		}
		free(vfs);
		free(st);
	}
	if (json) {
		json_arr_close(&j);
		json_obj_close(&j);
		json_end(&j);
	}
	free(pfs);
	return rc;
}

const struct vfctl_cmd vfctl_cmd_list = { "list", "show PFs and their VFs (--json for scripts)", usage, run };
