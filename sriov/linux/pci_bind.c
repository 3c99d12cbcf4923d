/*
 * pci_bind.c — driver binding and IOMMU-group checks.  See pci_bind.h.
 */
#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sysfs_parse.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int pci_current_driver(const char *bdf, char *drv, size_t len)
{
	drv[0] = '\0';
	if (!pci_dev_exists(bdf))
		return -ENODEV;
	int err = pci_dev_link_base(bdf, "driver", drv, len);
	if (err == -ENOENT)
		return 0;
	/* The name is written back to driver_override on a rollback. */
	if (!err && sysfs_driver_name_check(drv)) {
		drv[0] = '\0';
		err = -EIO;
	}
	return err;
}

bool pci_driver_loaded(const char *driver)
{
	char p[PATH_MAX];
	if (sysfs_driver_name_check(driver))
		return false;
	sriov_fmt(p, sizeof(p), "%s/bus/pci/drivers/%s", sriov_sysfs_root(), driver);
	return access(p, F_OK) == 0;
}

int pci_iommu_group(const char *bdf)
{
	char grp[32];
	if (!pci_dev_exists(bdf))
		return -ENODEV;
	uint64_t g;
	if (pci_dev_link_base(bdf, "iommu_group", grp, sizeof(grp)))
		return -ENOENT;
	/* A group is a decimal directory name; anything else is not one. */
	if (sysfs_parse_uint(grp, strlen(grp), 10, INT_MAX, &g))
		return -EIO;
	return (int)g;
}

/* PCI class 0x06 (bridge): bridges do not do DMA of their own. */
static bool is_bridge(const char *bdf)
{
	uint32_t cls = 0;
	return pci_dev_ids(bdf, NULL, NULL, &cls) == 0 && (cls >> 16) == 0x06;
}

static bool driver_is_safe(const char *drv)
{
	return drv[0] == '\0' || strcmp(drv, "vfio-pci") == 0 || strcmp(drv, "pci-stub") == 0 ||
	       strcmp(drv, "pcieport") == 0;
}

int pci_group_check(const char *bdf, const char *except, struct pci_group_check *out)
{
	memset(out, 0, sizeof(*out));
	int group = pci_iommu_group(bdf);
	if (group < 0)
		return group;
	out->group = group;
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/kernel/iommu_groups/%d/devices", sriov_sysfs_root(), group);
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	int err = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		out->devices++;
		if (err || (except && strcmp(e->d_name, except) == 0))
			continue;
		char drv[SRIOV_DRV_LEN];
		pci_current_driver(e->d_name, drv, sizeof(drv));
		if (driver_is_safe(drv) || is_bridge(e->d_name))
			continue;
		sriov_fmt(out->blocker, sizeof(out->blocker), "%s", e->d_name);
		sriov_fmt(out->blocker_driver, sizeof(out->blocker_driver), "%s", drv);
		err = -EXDEV;
	}
	closedir(d);
	return err;
}

static int bus_write(const char *what, const char *val)
{
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/bus/pci/%s", sriov_sysfs_root(), what);
	return sysfs_write(p, val);
}

static int unbind_current(const char *bdf)
{
	char p[PATH_MAX], drv[SRIOV_DRV_LEN];
	pci_current_driver(bdf, drv, sizeof(drv));
	if (!drv[0])
		return 0;
	sriov_fmt(p, sizeof(p), "%s/bus/pci/devices/%s/driver/unbind", sriov_sysfs_root(), bdf);
	return sysfs_write(p, bdf);
}

/* driver_override takes a name; "\n" clears it. */
static int set_override(const char *bdf, const char *driver)
{
	return pci_dev_attr_write(bdf, "driver_override", driver && driver[0] ? driver : "\n");
}

static bool bound_to(const char *bdf, const char *driver)
{
	char drv[SRIOV_DRV_LEN];
	return pci_current_driver(bdf, drv, sizeof(drv)) == 0 && strcmp(drv, driver) == 0;
}

/* Put a device back on `driver` ("" = whatever matches) with no override. */
static void restore(const char *bdf, const char *driver)
{
	unbind_current(bdf);
	set_override(bdf, driver);
	bus_write("drivers_probe", bdf);
	set_override(bdf, NULL);
}

int pci_bind_driver(const char *bdf, const char *driver, char *prev, size_t prev_len)
{
	char old[SRIOV_DRV_LEN];
	if (prev && prev_len)
		prev[0] = '\0';
	int err = sysfs_driver_name_check(driver);
	if (err)
		return err;
	err = pci_current_driver(bdf, old, sizeof(old));
	if (err)
		return err;
	if (prev)
		sriov_fmt(prev, prev_len, "%s", old);
	if (!pci_driver_loaded(driver))
		return -ENOENT;
	if (strcmp(old, driver) == 0)
		return 0;
	err = set_override(bdf, driver);
	if (err)
		return err;
	err = unbind_current(bdf);
	if (!err)
		err = bus_write("drivers_probe", bdf);
	if (!err && !bound_to(bdf, driver))
		err = -EIO;
	if (err)
		restore(bdf, old);
	return err;
}

int pci_release_driver(const char *bdf, const char *host_driver)
{
	char old[SRIOV_DRV_LEN];
	int err = host_driver && host_driver[0] ? sysfs_driver_name_check(host_driver) : 0;
	if (err)
		return err;
	err = pci_current_driver(bdf, old, sizeof(old));
	if (err)
		return err;
	if (host_driver && host_driver[0] && !pci_driver_loaded(host_driver))
		return -ENOENT;
	err = set_override(bdf, host_driver);
	if (!err)
		err = unbind_current(bdf);
	/* drivers_probe fails with the probe's errno when no driver takes it. */
	if (!err)
		err = bus_write("drivers_probe", bdf);
	if (!err && host_driver && host_driver[0] && !bound_to(bdf, host_driver))
		err = -EIO;
	if (err) {
		/* restore() clears the override; vfio-pci keeps its own. */
		unbind_current(bdf);
		set_override(bdf, old);
		bus_write("drivers_probe", bdf);
		if (!old[0] || strcmp(old, "vfio-pci") != 0)
			set_override(bdf, NULL);
		return err;
	}
	set_override(bdf, NULL);
	return 0;
}

/* A route through the interface in /proc/net/route or ipv6_route, other than
 * the link-local and multicast ones the kernel adds by itself. */
static bool has_route(const char *ifname)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/net/route", "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0'; /* header */
		while (!found && fgets(line, sizeof(line), f)) {
			char dev[IF_NAMESIZE + 1];
			if (sscanf(line, "%16s", dev) == 1 && strcmp(dev, ifname) == 0)
				found = true;
		}
		fclose(f);
	}
	f = fopen("/proc/net/ipv6_route", "re");
	if (f) {
		while (!found && fgets(line, sizeof(line), f)) {
			char dst[40], dev[IF_NAMESIZE + 1];
			if (sscanf(line, "%39s %*s %*s %*s %*s %*s %*s %*s %*s %16s", dst, dev) != 2)
				continue;
			if (strcmp(dev, ifname) != 0)
				continue;
			if (strncmp(dst, "fe80", 4) == 0 || strncmp(dst, "ff", 2) == 0)
				continue;
			found = true;
		}
		fclose(f);
	}
	return found;
}

bool netdev_in_use(const char *ifname, char *why, size_t why_len)
{
	if (why_len)
		why[0] = '\0';
	if (!ifname || !ifname[0])
		return false;
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return false;
	bool up = false, addr = false;
	char addr_text[INET6_ADDRSTRLEN] = "";
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_flags & IFF_UP)
			up = true;
		if (!i->ifa_addr || addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)(void *)i->ifa_addr;
			inet_ntop(AF_INET, &s->sin_addr, addr_text, sizeof(addr_text));
			addr = true;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)(void *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &s->sin6_addr, addr_text, sizeof(addr_text));
			addr = true;
		}
	}
	freeifaddrs(ifa);
	if (!up)
		return false;
	if (addr) {
		sriov_fmt(why, why_len, "it is up with address %s", addr_text);
		return true;
	}
	if (has_route(ifname)) {
		sriov_fmt(why, why_len, "it is up with routes through it");
		return true;
	}
	return false;
}
