/*
 * sriov_sysfs.h — Linux PF/VF discovery and SR-IOV control through sysfs,
 * with device names from libpci (pci.ids).
 *
 * Devices are named by their canonical BDF, "DDDD:BB:DD.F".  Every function
 * returns 0 (or a count) or a negative errno.  The errno values follow the
 * kernel's sriov_numvfs semantics (drivers/pci/iov.c):
 *   -ENODEV   no such PCI device
 *   -ENOTSUP  the device has no SR-IOV capability
 *   -ERANGE   more VFs than TotalVFs
 *   -ENOENT   no driver bound to the PF (nobody to create the VFs)
 *   -EBUSY    VFs already enabled (write 0 first; sriov_set_numvfs does)
 *   anything else: the PF driver refused (igb answers -EPERM above 7).
 */
#ifndef VFS_SRIOV_SYSFS_H
#define VFS_SRIOV_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sriov/sriov_cap.h"

#define PCI_BDF_LEN 16     /* "0000:00:02.0" + NUL, with room */
#define SRIOV_NAME_LEN 128
#define SRIOV_DRV_LEN 64
#define SRIOV_IFNAME_LEN 16 /* IFNAMSIZ */
#define SRIOV_PROBLEM_LEN 192

/* Where sysfs is mounted ("/sys" unless VFSTACK_SYSFS is set or a test
 * calls this); paths below are built from it. */
void sriov_sysfs_set_root(const char *root);
const char *sriov_sysfs_root(void);

/* snprintf that always terminates and may truncate silently (for paths and
 * names whose length sysfs bounds); returns what snprintf returns. */
int sriov_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse "DDDD:BB:DD.F" or "BB:DD.F" (hex) into the canonical form. */
int pci_bdf_parse(const char *text, char bdf[PCI_BDF_LEN]);

/* Does /sys/bus/pci/devices/BDF exist? */
bool pci_dev_exists(const char *bdf);

/* Small sysfs helpers: read one attribute of a device (trailing newline
 * stripped) or write one; the path is relative to the device directory. */
int pci_dev_attr_read(const char *bdf, const char *attr, char *buf, size_t len);
int pci_dev_attr_write(const char *bdf, const char *attr, const char *val);
int sysfs_read(const char *path, char *buf, size_t len);
int sysfs_write(const char *path, const char *val);

/* The basename of what a symlink in the device directory points at ("driver",
 * "iommu_group", "physfn", "virtfnN"); "" and -errno when it is absent. */
int pci_dev_link_base(const char *bdf, const char *link, char *out, size_t len);

/* A device's config space through its sysfs `config` file, as the read-only
 * accessor the freestanding sriov_cap code takes.  Bytes this user may not
 * read (the extended space needs root) read as all-ones. */
struct pci_cfg_file {
	int fd;
	unsigned readable; /* 4096, 256, or 64 (what a user without CAP_SYS_ADMIN gets) */
	struct sriov_cfg_ops ops;
};
int pci_cfg_open(const char *bdf, struct pci_cfg_file *cfg);
void pci_cfg_close(struct pci_cfg_file *cfg);

/* Vendor/device ID and class (24-bit) of a device. */
int pci_dev_ids(const char *bdf, uint16_t *vendor, uint16_t *device, uint32_t *class_code);

/* "Vendor Device" name from pci.ids through libpci, or "[vvvv:dddd]". */
void pci_dev_name(uint16_t vendor, uint16_t device, char *buf, size_t len);

/* The first network interface a device owns ("" when none). */
int pci_dev_netdev(const char *bdf, char *ifname, size_t len);

/* Is this an SR-IOV physical function (has sriov_totalvfs)? */
bool sriov_is_pf(const char *bdf);

struct sriov_pf_info {
	char bdf[PCI_BDF_LEN];
	uint16_t vendor, device;
	char name[SRIOV_NAME_LEN];
	char driver[SRIOV_DRV_LEN];    /* "" when unbound */
	char netdev[SRIOV_IFNAME_LEN]; /* "" when none */
	int total_vfs, num_vfs;
	int drivers_autoprobe;         /* 0/1, -1 unknown */
	uint16_t vf_offset, vf_stride, vf_device; /* from sysfs, 0 when absent */
	char problem[SRIOV_PROBLEM_LEN]; /* "" or what sriov_pf_get found inconsistent */
};

struct sriov_vf_info {
	int index;
	char bdf[PCI_BDF_LEN];
	char driver[SRIOV_DRV_LEN];
	char netdev[SRIOV_IFNAME_LEN];
	int iommu_group; /* -1 when there is no IOMMU */
};

/* Every value read from sysfs is parsed strictly (sysfs_parse.h): a number
 * with junk, a sign, an empty file or a huge value is not taken.  The VF
 * counts are clamped to what the hardware allows — TotalVFs of the SR-IOV
 * capability where this user can read it, 65535 (a 16-bit field), and as
 * many VFs as get routing IDs within bus 255 — and 0 <= num_vfs <=
 * total_vfs always holds.  When something had to be clamped (or a count
 * was unreadable) it returns -EIO with *pf filled and pf->problem saying
 * what, in a phrase for the caller's error sentence. */
int sriov_pf_get(const char *bdf, struct sriov_pf_info *pf);

/* Every PF in the system, sorted by BDF; *pfs is malloc'd (free it).  PFs
 * whose counts are inconsistent are listed too, with `problem` set. */
int sriov_pf_list(struct sriov_pf_info **pfs, size_t *n);

/* The PF's VFs (virtfn0..N-1, N the clamped NumVFs), *vfs malloc'd.  Links
 * that do not name a PCI device (canonical BDF) are skipped. */
int sriov_vf_list(const char *pf_bdf, struct sriov_vf_info **vfs, size_t *n);
int sriov_vf_get(const char *pf_bdf, int index, struct sriov_vf_info *vf);

/* The PF of a VF and the VF's index under it; -ENOTSUP when not a VF. */
int sriov_vf_parent(const char *vf_bdf, char pf_bdf[PCI_BDF_LEN], int *index);

/* Set NumVFs: goes through 0 when changing a non-zero count (always, when
 * the current counts are inconsistent), checks the clamped TotalVFs first,
 * and on failure restores the previous count.  Waits (with a timeout)
 * until the VFs appear. */
int sriov_set_numvfs(const char *pf_bdf, int num_vfs);

/* sriov_drivers_autoprobe: whether new VFs get a host driver at creation. */
int sriov_get_autoprobe(const char *pf_bdf);
int sriov_set_autoprobe(const char *pf_bdf, bool on);

#endif /* VFS_SRIOV_SYSFS_H */
