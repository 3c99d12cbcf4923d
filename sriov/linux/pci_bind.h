/*
 * pci_bind.h — driver binding and IOMMU-group checks for PCI devices
 * (Linux sysfs).  Shared by `vfctl bind/release` and the hosted passthrough
 * (`vfctl assign`).
 *
 * Binding uses driver_override + drivers_probe (never new_id, which would
 * grab every device with that ID).  On failure the device is put back on
 * the driver it had.  Every driver name is checked first with
 * sysfs_driver_name_check (sysfs_parse.h), before anything is touched.
 * Errors:
 *   -EINVAL / -ENAMETOOLONG  not a valid driver name (nothing touched)
 *   -ENODEV  no such device
 *   -ENOENT  the driver is not loaded (/sys/bus/pci/drivers/NAME missing)
 *   -EXDEV   the IOMMU group is not viable (see pci_group_check)
 *   -EIO     the driver did not claim the device (rolled back)
 *   other    the sysfs write's errno
 */
#ifndef VFS_PCI_BIND_H
#define VFS_PCI_BIND_H

#include <stdbool.h>
#include <stddef.h>

#include "sriov/linux/sriov_sysfs.h"

/* Current driver of a device into drv ("" when unbound); -EIO when the
 * `driver` link does not end in a valid driver name. */
int pci_current_driver(const char *bdf, char *drv, size_t len);

/* Is /sys/bus/pci/drivers/NAME present (module loaded)?  False for a name
 * sysfs_driver_name_check refuses ("..", "a/b", ...). */
bool pci_driver_loaded(const char *driver);

/* IOMMU group number, or -ENOENT when the device has none (no IOMMU), -EIO
 * when its iommu_group link does not end in a decimal group number. */
int pci_iommu_group(const char *bdf);

/* Viability of a device's IOMMU group for user-space DMA: every device in
 * the group is bound to vfio-pci or pci-stub, has no driver, or is a
 * bridge; `except` (may be NULL) is left out of the check — the device about
 * to be bound.  On -EXDEV, blocker/blocker_driver name the first offender. */
struct pci_group_check {
	int group;
	int devices;                      /* how many devices the group holds */
	char blocker[PCI_BDF_LEN];
	char blocker_driver[SRIOV_DRV_LEN];
};
int pci_group_check(const char *bdf, const char *except, struct pci_group_check *out);

/* Bind to `driver` (driver_override + unbind + drivers_probe).  prev gets
 * the driver it had ("" none).  Already bound to it: 0, nothing changed.
 * On failure the previous driver is restored. */
int pci_bind_driver(const char *bdf, const char *driver, char *prev, size_t prev_len);

/* Give the device back to the host: clear driver_override, unbind, and
 * reprobe; with `host_driver` set, insist on that driver (override, probe,
 * clear).  On failure the device is put back on the driver it had. */
int pci_release_driver(const char *bdf, const char *host_driver);

/* Is a network interface in use: administratively up and holding a
 * non-link-local address or a route?  Fills why with the first reason. */
bool netdev_in_use(const char *ifname, char *why, size_t why_len);

#endif /* VFS_PCI_BIND_H */
