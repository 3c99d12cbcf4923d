/*
 * sysfs.c — IOMMU groups, driver binding and the memlock budget, read from
 * and written to sysfs (Documentation/ABI/testing/sysfs-bus-pci:
 * driver_override, drivers_probe, iommu_group).
 */
#include "vfio/vfio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

const char *vfio_sysfs_root = "/sys";

static int read_link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

int vfio_group_of(const char *bdf, int *group)
{
	char path[PATH_MAX], name[64];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", vfio_sysfs_root, bdf);
	if (access(path, F_OK) != 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", vfio_sysfs_root, bdf);
	int err = read_link_base(path, name, sizeof(name));
	if (err)
		return err == -ENOENT ? -ENODEV : err;
	char *end;
	long g = strtol(name, &end, 10);
	if (*end || g < 0 || g > INT_MAX)
		return -EINVAL;
	*group = (int)g;
	return 0;
}

int vfio_current_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", vfio_sysfs_root, bdf);
	int err = read_link_base(path, drv, len);
	if (err == -ENOENT) {
		if (len)
			drv[0] = '\0';
		return 0;
	}
	return err;
}

/* Drivers the kernel lets share a group with a device in use by VFIO. */
static bool driver_allows_vfio(const char *drv)
{
	return !drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") ||
	       !strcmp(drv, "pcieport");
}

int vfio_group_viable(int group, char *why, size_t why_len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", vfio_sysfs_root, group);
	DIR *d = opendir(path);
	if (!d) {
		int err = -errno;
		if (why_len)
			snprintf(why, why_len, "IOMMU group %d does not exist", group);
		return err;
	}
	int err = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char drv[64];
		if (vfio_current_driver(e->d_name, drv, sizeof(drv)) != 0)
			continue;
		if (!driver_allows_vfio(drv)) {
			if (why_len)
				snprintf(why, why_len,
					 "device %s in IOMMU group %d is bound to %s; unbind it or "
					 "bind it to vfio-pci first", e->d_name, group, drv);
			err = -EBUSY;
			break;
		}
	}
	closedir(d);
	return err;
}

uint64_t vfio_memlock_shortfall(uint64_t want, uint64_t limit, bool cap_ipc_lock)
{
	if (cap_ipc_lock || limit == (uint64_t)RLIM_INFINITY || want <= limit)
		return 0;
	return want - limit;
}

/* CAP_IPC_LOCK in the effective set (capget(2), _LINUX_CAPABILITY_VERSION_3). */
static bool have_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return (data[CAP_IPC_LOCK / 32].effective >> (CAP_IPC_LOCK % 32)) & 1;
}

uint64_t vfio_memlock_needed(uint64_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		return 0;
	return vfio_memlock_shortfall(want, rl.rlim_cur, have_cap_ipc_lock());
}
