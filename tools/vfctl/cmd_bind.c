/*
 * cmd_bind.c — `vfctl bind DEV DRIVER`: hand a device (normally a VF) to a
 * driver such as vfio-pci, safely.
 */
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <string.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/pci_bind.h"

static const char usage[] =
	"usage: vfctl bind [-f|--force] DEV DRIVER\n"
	"\n"
	"Bind DEV (a VF's PCI address, or any PCI device) to DRIVER, normally\n"
	"vfio-pci so a guest or a DPDK application can own it.  Uses\n"
	"driver_override and drivers_probe, so only this device is affected and\n"
	"the choice survives a re-probe.\n"
	"\n"
	"Refuses, changing nothing, when:\n"
	"  - DRIVER is not loaded (modprobe it);\n"
	"  - DRIVER is vfio-pci or pci-stub and DEV's IOMMU group is not viable:\n"
	"    another device in the group is bound to a host driver (it is named);\n"
	"  - DEV's network interface is up with addresses or routes (--force to\n"
	"    take it anyway);\n"
	"  - a guest holds DEV (/run/vfstack/assign), or a process holds it open\n"
	"    through /dev/vfio (even with --force; exit 3).\n"
	"If DRIVER does not take the device, it is put back on its old driver.\n"
	"'vfctl release DEV' gives it back to its host driver.\n";

static bool is_user_driver(const char *drv)
{
	return !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub");
}

int vfctl_bind_dev(const char *dev, const char *driver, bool force)
{
	const char *bad = vfctl_driver_name_problem(driver);
	if (bad)
		return vfctl_error("'%s' is not a driver name (%s); %s was not touched.", driver, bad, dev);
	if (!pci_driver_loaded(driver))
		return vfctl_error("driver %s is not loaded, so it cannot take %s; run 'modprobe %s' and try "
				   "again.", driver, dev, driver);
	char cur[SRIOV_DRV_LEN];
	pci_current_driver(dev, cur, sizeof(cur));
	if (!strcmp(cur, driver)) {
		printf("%s is already bound to %s; nothing changed.\n", dev, driver);
		return VFCTL_OK;
	}
	char guest[ASSIGN_GUEST_LEN];
	pid_t pid;
	if (assign_registry_lookup(dev, guest, sizeof(guest), &pid) == 0)
		return vfctl_busy("%s is held by guest '%s' (pid %ld); stop the guest before rebinding it.",
				   dev, guest, (long)pid);
	int rc = vfctl_vfio_holder_check(dev, "rebinding it");
	if (rc)
		return rc;
	struct pci_group_check g;
	if (is_user_driver(driver)) {
		int err = pci_group_check(dev, dev, &g);
		if (err == -ENOENT)
			return vfctl_error("%s has no IOMMU group, so %s cannot isolate it; enable the IOMMU "
					   "(boot with intel_iommu=on) — 'vfctl doctor' checks the setup.", dev, driver);
		if (err == -EXDEV)
			return vfctl_error("%s cannot go to %s: its IOMMU group %d is not viable because %s in "
					   "the same group is bound to %s; bind %s to vfio-pci as well (or "
					   "unbind it) and try again.", dev, driver, g.group, g.blocker,
					   g.blocker_driver, g.blocker);
		if (err)
			return vfctl_error("cannot read the IOMMU group of %s (%s).", dev, vfctl_strerror(err));
	}
	char ifname[SRIOV_IFNAME_LEN], why[128];
	pci_dev_netdev(dev, ifname, sizeof(ifname));
	if (ifname[0] && netdev_in_use(ifname, why, sizeof(why))) {
		if (!force)
			return vfctl_busy("%s's interface %s is in use (%s); take it down with 'ip link set %s "
					   "down' or add --force.", dev, ifname, why, ifname);
		fprintf(stderr, "vfctl: warning: taking %s although %s is in use (%s).\n", dev, ifname, why);
	}
	char prev[SRIOV_DRV_LEN];
	int err = pci_bind_driver(dev, driver, prev, sizeof(prev));
	if (err == -EIO)
		return vfctl_error("%s did not take %s (see the kernel log); it was put back on %s.", driver,
				   dev, prev[0] ? prev : "no driver");
	if (err == -EACCES || err == -EPERM)
		return vfctl_error("not allowed to rebind %s; run vfctl as root.", dev);
	if (err)
		return vfctl_error("binding %s to %s failed (%s); it was put back on %s.", dev, driver,
				   vfctl_strerror(err), prev[0] ? prev : "no driver");
	if (is_user_driver(driver))
		printf("%s: bound to %s (was %s); IOMMU group %d, /dev/vfio/%d.\n", dev, driver,
		       prev[0] ? prev : "unbound", g.group, g.group);
	else
		printf("%s: bound to %s (was %s).\n", dev, driver, prev[0] ? prev : "unbound");
	return VFCTL_OK;
}

static int run(int argc, char **argv)
{
	const struct vfctl_cmd *me = &vfctl_cmd_bind;
	bool force = false;
	const struct vfctl_flag flags[] = { { "force", 'f', &force }, { NULL, 0, NULL } };
	char **pos;
	int npos;
	int rc = vfctl_parse_flags(me, argc, argv, flags, &pos, &npos);
	if (rc)
		return rc;
	if (npos != 2)
		return vfctl_usage_error(me, "bind takes a device and a driver (like: vfctl bind 0000:00:12.0 vfio-pci).");
	const char *driver = pos[1];
	const char *bad = vfctl_driver_name_problem(driver);
	if (bad)
		return vfctl_usage_error(me, "'%s' is not a driver name (%s).", driver, bad);
	char dev[PCI_BDF_LEN];
	rc = vfctl_resolve_dev(pos[0], dev);
	if (rc)
		return rc;
	return vfctl_bind_dev(dev, driver, force);
}

const struct vfctl_cmd vfctl_cmd_bind = { "bind", "bind a VF to vfio-pci (or another driver), checking its IOMMU group",
					  usage, run };
