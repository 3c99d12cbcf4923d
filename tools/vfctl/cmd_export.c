/*
 * cmd_export.c — `vfctl export libvirt VF …` and `vfctl export k8s [PF…]`:
 * the VFs this host has, in the formats libvirt and the Kubernetes SR-IOV
 * network device plugin read.
 */
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/linux/sriov_netlink.h"
#include "sriov/linux/vf_export.h"

static const char usage[] =
	"usage: vfctl export libvirt VF [--guest NAME] [--mem MIB] [--cpus N] [--hostdev]\n"
	"       vfctl export k8s [PF...]\n"
	"\n"
	"Describe VFs for the tools that manage guests and containers.\n"
	"\n"
	"libvirt: the device element for VF, for 'virsh attach-device' or a domain's\n"
	"<devices>.  A network VF becomes <interface type='hostdev' managed='yes'>\n"
	"with the MAC (and VLAN) its PF enforces, so libvirt sets them again at\n"
	"every start; any other VF a <hostdev mode='subsystem' type='pci'\n"
	"managed='yes'>.  managed='yes': libvirt binds the VF to vfio-pci itself.\n"
	"  --guest NAME  print a whole <domain type='kvm'> named NAME holding it\n"
	"  --mem MIB     the domain's memory (default 1024)\n"
	"  --cpus N      the domain's vCPUs (default 1)\n"
	"  --hostdev     a <hostdev> even for a network VF\n"
	"\n"
	"k8s: a config.json for the SR-IOV network device plugin\n"
	"(/etc/pcidp/config.json): one resource per PF and VF driver, selected by\n"
	"vendors, devices, drivers and pfNames (rootDevices for a PF without an\n"
	"interface), named sriov_<PF interface>_<driver>.  Every PF when none is\n"
	"named.  VFs without a driver are left out (the plugin cannot use them).\n";

static int export_libvirt(int argc, char **argv);
static int export_k8s(int argc, char **argv);

static int run(int argc, char **argv)
{
	if (argc < 2)
		return vfctl_usage_error(&vfctl_cmd_export, "say what to export: 'libvirt VF' or 'k8s'");
	if (strcmp(argv[1], "libvirt") == 0)
		return export_libvirt(argc - 1, argv + 1);
	if (strcmp(argv[1], "k8s") == 0)
		return export_k8s(argc - 1, argv + 1);
	return vfctl_usage_error(&vfctl_cmd_export, "'%s' is not a format; use 'libvirt' or 'k8s'", argv[1]);
}

const struct vfctl_cmd vfctl_cmd_export = {
	"export", "describe VFs for libvirt (XML) or the Kubernetes SR-IOV device plugin", usage, run,
};

static int export_libvirt(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "hostdev", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *guest = NULL;
	long mem = 1024, cpus = 1;
	bool hostdev = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			guest = optarg;
			break;
		case 'm':
			if ((mem = vfctl_parse_uint(optarg, 1 << 22)) < 1)
				return vfctl_usage_error(&vfctl_cmd_export, "'%s' is not a memory size in MiB (1-4194304)", optarg);
			break;
		case 'c':
			if ((cpus = vfctl_parse_uint(optarg, 4096)) < 1)
				return vfctl_usage_error(&vfctl_cmd_export, "'%s' is not a vCPU count (1-4096)", optarg);
			break;
		case 'H':
			hostdev = true;
			break;
		default:
			return vfctl_opt_error(&vfctl_cmd_export, c, argv);
		}
	}
	if (optind != argc - 1)
		return vfctl_usage_error(&vfctl_cmd_export, optind >= argc ? "name the VF to export"
							: "export libvirt takes one VF");
	if (guest && (!*guest || strlen(guest) > VF_EXPORT_GUEST_MAX || strchr(guest, '/')))
		return vfctl_usage_error(&vfctl_cmd_export, "'%s' is not a guest name: 1-%d characters, no '/'",
					 guest, VF_EXPORT_GUEST_MAX);

	char vf[PCI_BDF_LEN], pf[PCI_BDF_LEN];
	int index, rc = vfctl_resolve_vf(argv[optind], vf, pf, &index);
	if (rc)
		return rc;
	struct vf_export_dev d;
	memset(&d, 0, sizeof(d));
	sriov_fmt(d.bdf, sizeof(d.bdf), "%s", vf);
	uint32_t cls = 0;
	bool nic = pci_dev_ids(vf, NULL, NULL, &cls) == 0 && (cls >> 16) == 0x02;
	/* The MAC and VLAN the PF enforces, read back through rtnetlink. */
	char pf_if[SRIOV_IFNAME_LEN] = "";
	struct sriov_vf_state st;
	if (nic && pci_dev_netdev(pf, pf_if, sizeof(pf_if)) == 0 && pf_if[0] &&
	    sriov_nl_get_vf(pf_if, (uint32_t)index, &st) == 0) {
		static const uint8_t zero[6];
		d.has_mac = memcmp(st.mac, zero, 6) != 0;
		memcpy(d.mac, st.mac, 6);
		d.vlan = st.vlan;
	}
	enum vf_export_form form = nic && !hostdev ? VF_EXPORT_INTERFACE : VF_EXPORT_HOSTDEV;
	char *xml = NULL;
	rc = guest ? vf_export_libvirt_domain(guest, (unsigned)mem, (unsigned)cpus, &d, form, &xml)
		   : vf_export_libvirt_dev(&d, form, 0, &xml);
	if (rc == -EINVAL)
		return vfctl_usage_error(&vfctl_cmd_export, "'%s' is not a guest name libvirt accepts "
					 "(no control characters)", guest ? guest : "");
	if (rc)
		return vfctl_error("could not build the XML for %s: %s.", vf, vfctl_strerror(rc));
	fputs(xml, stdout);
	free(xml);
	return fflush(stdout) == 0 ? VFCTL_OK : vfctl_error("could not write the XML: %s.", strerror(errno));
}

static int export_k8s(int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return vfctl_opt_error(&vfctl_cmd_export, c, argv);
	size_t n_pf = (size_t)(argc - optind);
	char (*bdfs)[PCI_BDF_LEN] = calloc(n_pf ? n_pf : 1, sizeof(*bdfs));
	const char **names = calloc(n_pf ? n_pf : 1, sizeof(*names));
	int rc = (!bdfs || !names) ? vfctl_error("out of memory.") : VFCTL_OK;
	for (size_t i = 0; !rc && i < n_pf; i++) {
		rc = vfctl_resolve_pf(argv[optind + (int)i], bdfs[i]);
		names[i] = bdfs[i];
	}
	struct vf_export_pool *pools = NULL;
	size_t np = 0;
	int unbound = 0;
	if (!rc) {
		int err = vf_export_k8s_pools(names, n_pf, &pools, &np, &unbound);
		if (err)
			rc = vfctl_error("could not read the VFs from sysfs: %s.", vfctl_strerror(err));
	}
	if (!rc && np == 0)
		rc = vfctl_error("%s no VF with a driver, so the device plugin would find nothing; "
				 "create VFs with 'vfctl sriov enable PF N'%s.",
				 n_pf ? "the PFs named have" : "this host has",
				 unbound ? " and give them a driver ('vfctl release VF DRIVER')" : "");
	char *json = NULL;
	if (!rc) {
		int err = vf_export_k8s(pools, np, &json);
		if (err)
			rc = vfctl_error("could not build the JSON: %s.", vfctl_strerror(err));
	}
	if (!rc) {
		fputs(json, stdout);
		if (unbound)
			fprintf(stderr, "vfctl: left out %d VF%s without a driver (the plugin cannot use them).\n",
				unbound, unbound == 1 ? "" : "s");
	}
	free(json);
	free(pools);
	free(bdfs);
	free(names);
	return rc;
}
