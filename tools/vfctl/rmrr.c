/*
 * rmrr.c — is a device named in an RMRR of the firmware's ACPI DMAR?
 *
 * The table is read from <sysfs>/firmware/acpi/tables/DMAR (sysfs root as
 * everywhere in vfctl: VFSTACK_SYSFS, default /sys) and parsed by
 * iommu/dmar.c; scope paths are walked over <sysfs>/bus/pci/devices/.../
 * config (header type at 0x0e, a bridge's secondary bus at 0x19: PCI-to-PCI
 * Bridge 1.2, 3.2.5.4).  A device with an RMRR does DMA to that memory on the
 * firmware's behalf (USB legacy emulation, a GPU's stolen memory): given to a
 * guest, that DMA breaks or reaches what the guest should not, so
 * `vfctl assign` refuses it unless forced, as Linux does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/dmar.h"
#include "port/host/port_host.h"
#include "tools/vfctl/vfctl.h"

#define DMAR_MAX_BYTES (1u << 20)

static int probe(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn)
{
	(void)ctx;
	char path[512];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%04x:%02x:%02x.%x/config",
		 sriov_sysfs_root(), segment, bus, dev, fn);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	unsigned char cfg[0x1a] = { 0 };
	size_t n = fread(cfg, 1, sizeof(cfg), f);
	fclose(f);
	if (n < sizeof(cfg))
		return 0;
	return (cfg[0x0e] & 0x7f) == 1 ? cfg[0x19] : 0;
}

int vfctl_rmrr_check(const char *bdf, char *why, size_t len)
{
	unsigned seg, bus, dev, fn;
	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return -EINVAL;
	char path[512];
	snprintf(path, sizeof(path), "%s/firmware/acpi/tables/DMAR", sriov_sysfs_root());
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;   /* no DMAR table: no RMRR (and no VT-d) */
	unsigned char *buf = malloc(DMAR_MAX_BYTES);
	size_t n = buf ? fread(buf, 1, DMAR_MAX_BYTES, f) : 0;
	fclose(f);
	static struct dmar_info info;
	int rc = buf ? dmar_parse(buf, n, 0, &info) : -ENOMEM;
	free(buf);
	if (rc) {
		snprintf(why, len, "the ACPI DMAR (%s) cannot be parsed (%s), so whether %s has an RMRR is "
			 "unknown", path, vfctl_strerror(rc), bdf);
		return rc;
	}
	uint16_t sid = (uint16_t)(bus << 8 | dev << 3 | fn);
	/* An RMRR may name devices this host does not have: not worth a line. */
	port_host_set_log_quiet(1);
	int r = dmar_rmrr_for_device(&info, 0, (uint16_t)seg, sid, probe, NULL);
	port_host_set_log_quiet(0);
	if (r < 0)
		return 0;
	snprintf(why, len, "%s is named in RMRR %d of the ACPI DMAR: reserved memory [0x%llx, 0x%llx] "
		 "the firmware may still DMA to through it", bdf, r,
		 (unsigned long long)info.rmrr[r].base, (unsigned long long)info.rmrr[r].limit);
	return 1;
}
