/*
 * cmd_release.c — `vfctl release DEV [DRIVER]`: give a device back to its
 * host driver.
 */
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <string.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/pci_bind.h"

static const char usage[] =
	"usage: vfctl release DEV [DRIVER]\n"
	"\n"
	"Give DEV back to the host: clear its driver_override, unbind it from\n"
	"vfio-pci (or pci-stub) and let the kernel probe it again, so its host\n"
	"driver (igbvf for an igb VF) takes it.  With DRIVER, insist on that one.\n"
	"Refused, changing nothing, as 'vfctl bind' refuses: DRIVER not a driver\n"
	"name or not loaded; a guest holds DEV (/run/vfstack/assign); a process\n"
	"holds it open through /dev/vfio (exit 3).  If no driver takes it, or\n"
	"DRIVER does not, it is put back where it was.\n";

/* No driver claimed the device: put it back where it was rather than leave
 * it driverless, and say why that may be. */
static int nobody_took_it(const char *dev, const char *was)
{
	char prev[SRIOV_DRV_LEN], pf[PCI_BDF_LEN];
	if (was[0])
		pci_bind_driver(dev, was, prev, sizeof(prev));
	char back[SRIOV_DRV_LEN + 32] = "";
	if (was[0])
		sriov_fmt(back, sizeof(back), ", so it was put back on %s", was);
	/* A VF of a PF with sriov_drivers_autoprobe off is probed only by name. */
	if (sriov_vf_parent(dev, pf, NULL) == 0 && sriov_get_autoprobe(pf) == 0)
		return vfctl_error("no host driver claimed %s%s, because its PF %s has "
				   "sriov_drivers_autoprobe off; name its driver ('vfctl release %s igbvf' for an "
				   "igb VF) or run 'vfctl sriov autoprobe %s on' first.", dev, back, pf, dev, pf);
	return vfctl_error("no host driver claimed %s%s; load its driver (for an igb VF: modprobe "
			   "igbvf) and run 'vfctl release %s' again.", dev, back, dev);
}

int vfctl_release_dev(const char *dev, const char *want)
{
	const char *bad = want ? vfctl_driver_name_problem(want) : NULL;
	if (bad)
		return vfctl_error("'%s' is not a driver name (%s); %s was not touched.", want, bad, dev);
	char guest[ASSIGN_GUEST_LEN];
	pid_t pid;
	if (assign_registry_lookup(dev, guest, sizeof(guest), &pid) == 0)
		return vfctl_busy("%s is held by guest '%s' (pid %ld); stop the guest first.", dev, guest,
				   (long)pid);
	int rc = vfctl_vfio_holder_check(dev, "releasing it");
	if (rc)
		return rc;
	char cur[SRIOV_DRV_LEN];
	pci_current_driver(dev, cur, sizeof(cur));
	if (cur[0] && strcmp(cur, "vfio-pci") && strcmp(cur, "pci-stub") && (!want || !strcmp(cur, want))) {
		printf("%s is on its host driver %s; nothing to release.\n", dev, cur);
		return VFCTL_OK;
	}
	if (want && !pci_driver_loaded(want))
		return vfctl_error("driver %s is not loaded, so it cannot take %s; run 'modprobe %s' and try "
				   "again.", want, dev, want);
	int err = pci_release_driver(dev, want);
	if (err == -EACCES || err == -EPERM)
		return vfctl_error("not allowed to rebind %s; run vfctl as root.", dev);
	if (err)
		return vfctl_error("%s did not take %s (%s); it was put back on %s.", want ? want : "the host driver",
				   dev, vfctl_strerror(err), cur[0] ? cur : "no driver");
	char now[SRIOV_DRV_LEN], ifname[SRIOV_IFNAME_LEN] = "";
	pci_current_driver(dev, now, sizeof(now));
	if (!now[0])
		return nobody_took_it(dev, cur);
	pci_dev_netdev(dev, ifname, sizeof(ifname));
	if (ifname[0])
		printf("%s: released from %s to %s (interface %s).\n", dev, cur[0] ? cur : "no driver", now, ifname);
	else
		printf("%s: released from %s to %s.\n", dev, cur[0] ? cur : "no driver", now);
	return VFCTL_OK;
}

static int run(int argc, char **argv)
{
	const struct vfctl_cmd *me = &vfctl_cmd_release;
	const struct vfctl_flag flags[] = { { NULL, 0, NULL } };
	char **pos;
	int npos;
	int rc = vfctl_parse_flags(me, argc, argv, flags, &pos, &npos);
	if (rc)
		return rc;
	if (npos < 1 || npos > 2)
		return vfctl_usage_error(me, "release takes a device and optionally the host driver.");
	const char *bad = npos == 2 ? vfctl_driver_name_problem(pos[1]) : NULL;
	if (bad)
		return vfctl_usage_error(me, "'%s' is not a driver name (%s).", pos[1], bad);
	char dev[PCI_BDF_LEN];
	rc = vfctl_resolve_dev(pos[0], dev);
	if (rc)
		return rc;
	return vfctl_release_dev(dev, npos == 2 ? pos[1] : NULL);
}

const struct vfctl_cmd vfctl_cmd_release = { "release", "give a VF back to its host driver", usage, run };
