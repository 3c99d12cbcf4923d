/*
 * cmd_list.c — `vfctl list [--json]`: every PF and, under it, its VFs.
 */
#include "tools/vfctl/vjson.h"
#include "tools/vfctl/vfctl.h"

#include <errno.h>
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

/* One VF as list --json prints it: every key always present (null when
 * unknown), in this order. */
static json_t *json_vf(const struct sriov_vf_info *vf, const struct sriov_vf_state *st)
{
	char mac[18] = "", guest[ASSIGN_GUEST_LEN] = "";
	pid_t pid = -1;
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(vf->index));
	json_object_set_new(o, "bdf", json_string(vf->bdf));
	json_object_set_new(o, "driver", vjson_str_or_null(vf->driver));
	json_object_set_new(o, "iommu_group", vjson_int_or_null(vf->iommu_group));
	json_object_set_new(o, "netdev", vjson_str_or_null(vf->netdev));
	if (st)
		sriov_mac_format(st->mac, mac);
	json_object_set_new(o, "mac", vjson_str_or_null(mac));
	json_object_set_new(o, "vlan", st ? json_integer(st->vlan) : json_null());
	json_object_set_new(o, "qos", st ? json_integer(st->qos) : json_null());
	json_object_set_new(o, "vlan_proto", st ? json_string(proto_name(st->vlan_proto)) : json_null());
	json_object_set_new(o, "spoofchk", vjson_tristate(st ? st->spoofchk : -1));
	json_object_set_new(o, "trust", vjson_tristate(st ? st->trust : -1));
	json_object_set_new(o, "state", st && st->link_state >= 0 ? json_string(sriov_link_state_name(st->link_state))
								 : json_null());
	json_object_set_new(o, "min_tx_rate", st ? json_integer(st->min_tx_rate) : json_null());
	json_object_set_new(o, "max_tx_rate", st ? json_integer(st->max_tx_rate) : json_null());
	bool held = assign_registry_lookup(vf->bdf, guest, sizeof(guest), &pid) == 0;
	json_object_set_new(o, "guest", held ? vjson_str_or_null(guest) : json_null());
	json_object_set_new(o, "guest_pid", held ? json_integer(pid) : json_null());
	json_object_set_new(o, "stats", st && st->has_stats
		? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets", (json_int_t)st->rx_packets,
			    "tx_packets", (json_int_t)st->tx_packets, "rx_bytes", (json_int_t)st->rx_bytes,
			    "tx_bytes", (json_int_t)st->tx_bytes, "broadcast", (json_int_t)st->broadcast,
			    "multicast", (json_int_t)st->multicast)
		: json_null());
	return o;
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
	const struct vfctl_flag flags[] = { { "json", 'j', &json }, { NULL, 0, NULL } };
	char **args;
	int nargs;
	int prc = vfctl_parse_flags(&vfctl_cmd_list, argc, argv, flags, &args, &nargs);
	if (prc)
		return prc;
	if (nargs)
		return vfctl_usage_error(&vfctl_cmd_list, "unexpected argument '%s'.", args[0]);
	struct sriov_pf_info *pfs = NULL;
	size_t npf = 0;
	int err = sriov_pf_list(&pfs, &npf);
	if (err)
		return vfctl_error("cannot read %s/bus/pci/devices (%s); is sysfs mounted?",
				   sriov_sysfs_root(), vfctl_strerror(err));
	json_t *jpfs = json ? json_array() : NULL;
	if (!json && npf == 0) {
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
		/* A VF list sysfs truncates: fewer virtfnN links than NumVFs. */
		int missing = pf->num_vfs > (int)nvf ? pf->num_vfs - (int)nvf : 0;
		if (missing)
			rc = vfctl_error("%s reports %d VFs (NumVFs) but sysfs links only %zu of them "
					 "(virtfnN); the missing ones cannot be listed or used — run 'vfctl "
					 "sriov disable %s' and enable them again, or reload its driver.",
					 pf->bdf, pf->num_vfs, nvf, pf->bdf);
		if (pf->netdev[0])
			sriov_nl_get_vfs(pf->netdev, &st, &nst);
		if (json) {
			json_t *o = json_object(), *jvfs = json_array();
			json_object_set_new(o, "bdf", json_string(pf->bdf));
			json_object_set_new(o, "name", vjson_str_or_null(pf->name));
			json_object_set_new(o, "driver", vjson_str_or_null(pf->driver));
			json_object_set_new(o, "netdev", vjson_str_or_null(pf->netdev));
			json_object_set_new(o, "total_vfs", json_integer(pf->total_vfs));
			json_object_set_new(o, "num_vfs", json_integer(pf->num_vfs));
			json_object_set_new(o, "drivers_autoprobe", vjson_tristate(pf->drivers_autoprobe));
			json_object_set_new(o, "problem", vjson_str_or_null(pf->problem));
			json_object_set_new(o, "vfs_missing", json_integer(missing));
			for (size_t v = 0; v < nvf; v++)
				json_array_append_new(jvfs, json_vf(&vfs[v], nl_find(st, nst, vfs[v].index)));
			json_object_set_new(o, "vfs", jvfs);
			json_array_append_new(jpfs, o);
		} else {
			printf("%s  %s\n", pf->bdf, pf->name);
			printf("  driver %s, netdev %s, VFs %d/%d (NumVFs/TotalVFs%s)%s\n",
			       pf->driver[0] ? pf->driver : "none", pf->netdev[0] ? pf->netdev : "-",
			       pf->num_vfs, pf->total_vfs, pf->problem[0] ? ", clamped: sysfs is inconsistent" : "",
			       pf->drivers_autoprobe == 0 ? ", autoprobe off" : "");
			if (missing)
				printf("  %d VF%s missing from sysfs (no virtfn link)\n", missing, missing == 1 ? "" : "s");
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
	if (json && vjson_print(stdout, json_pack("{s:o}", "pfs", jpfs)))
		rc = vfctl_error("cannot write the JSON listing (%s).", vfctl_strerror(ENOMEM));
	free(pfs);
	return rc;
}

const struct vfctl_cmd vfctl_cmd_list = { "list", "show PFs and their VFs (--json for scripts)", usage, run };
