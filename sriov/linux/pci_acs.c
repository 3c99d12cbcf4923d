/*
 * pci_acs.c — ACS on the path from a device to the root complex.  See pci_acs.h.
 */
#include "sriov/linux/pci_acs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* §7.5.1.1: Status.Capabilities List, Capabilities Pointer, Header Type. */
#define CFG_STATUS 0x06u
#define CFG_STATUS_CAP_LIST 0x10u
#define CFG_HEADER_TYPE 0x0Eu
#define CFG_HEADER_MULTIFUNCTION 0x80u
#define CFG_CAP_PTR 0x34u
/* §7.5.3: PCI Express Capability (ID 0x10); PCIe Capabilities register at
 * +2, Device/Port Type in bits 7:4. */
#define PCIE_CAP_ID 0x10u
#define PCIE_TYPE_ROOT_PORT 0x4
#define PCIE_TYPE_UPSTREAM 0x5
#define PCIE_TYPE_DOWNSTREAM 0x6
#define PCIE_TYPE_NONE (-1) /* conventional PCI: no PCI Express capability */
/* §7.7.8: ACS Extended Capability (ID 0x000D): Capability +4, Control +6. */
#define ACS_EXT_CAP_ID 0x000Du
#define ACS_REG_CAP 0x04u

static uint32_t cfg_read(const struct pci_cfg_file *c, unsigned off, unsigned size)
{
	uint32_t dw = c->ops.read32(c->ops.ctx, (uint16_t)(off & ~3u));
	uint32_t v = dw >> ((off & 3u) * 8u);
	return size == 4 ? v : v & ((1u << (size * 8u)) - 1u);
}

/* Device/Port Type from the PCI Express capability (§7.5.3.2), or
 * PCIE_TYPE_NONE.  The list is bounded: 48 entries fit in 0x40..0xFF. */
static int pcie_type(const struct pci_cfg_file *c)
{
	if (!(cfg_read(c, CFG_STATUS, 2) & CFG_STATUS_CAP_LIST))
		return PCIE_TYPE_NONE;
	unsigned at = cfg_read(c, CFG_CAP_PTR, 1) & 0xFCu;
	for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
		if (cfg_read(c, at, 1) == PCIE_CAP_ID)
			return (int)((cfg_read(c, at + 2, 2) >> 4) & 0xFu);
		at = cfg_read(c, at + 1, 1) & 0xFCu;
	}
	return PCIE_TYPE_NONE;
}

/* Does this function enforce what isolation needs?  A bit its ACS
 * Capability register lacks is hard-wired (the function cannot do that kind
 * of peer-to-peer at all), so only the offered ones must be enabled.
 * Returns the ACS Control register when it falls short, -1 without ACS. */
static bool acs_enforced(const struct pci_cfg_file *c, int *ctrl)
{
	uint16_t pos;
	*ctrl = -1;
	if (c->readable < 4096 || sriov_ext_cap_find(&c->ops, ACS_EXT_CAP_ID, &pos) != 0)
		return false;
	uint32_t reg = cfg_read(c, pos + ACS_REG_CAP, 4); /* Capability [15:0], Control [31:16] */
	uint32_t needed = PCI_ACS_NEEDED & reg;
	*ctrl = (int)(reg >> 16);
	return ((reg >> 16) & needed) == needed;
}

/* Check one function; 1 when it had to be checked and falls short. */
static int check_one(const char *bdf, bool is_bridge, struct pci_acs_path *out)
{
	struct pci_cfg_file c;
	int err = pci_cfg_open(bdf, &c);
	if (err)
		return err;
	if (c.readable < 256) {
		pci_cfg_close(&c);
		return -EACCES;
	}
	int type = pcie_type(&c);
	bool multifunction = (cfg_read(&c, CFG_HEADER_TYPE, 1) & CFG_HEADER_MULTIFUNCTION) != 0;
	bool must = type == PCIE_TYPE_ROOT_PORT || type == PCIE_TYPE_DOWNSTREAM ||
		    (is_bridge && type != PCIE_TYPE_UPSTREAM) || multifunction;
	int ctrl = -1;
	bool short_of = must && !acs_enforced(&c, &ctrl);
	pci_cfg_close(&c);
	if (!must)
		return 0;
	out->checked++;
	if (short_of && !out->blocker[0]) {
		sriov_fmt(out->blocker, sizeof(out->blocker), "%s", bdf);
		out->blocker_ctrl = ctrl;
	}
	return short_of;
}

int pci_acs_path_check(const char *bdf, struct pci_acs_path *out)
{
	memset(out, 0, sizeof(*out));
	out->blocker_ctrl = -1;
	char p[PATH_MAX], real[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/bus/pci/devices/%s", sriov_sysfs_root(), bdf);
	if (!realpath(p, real))
		return -ENODEV;
	/* /sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/...: every path
	 * component that is a BDF is a function on the way up. */
	int bad = 0;
	bool is_bridge = false; /* the device itself is no bridge on its own path */
	for (char *slash; (slash = strrchr(real, '/')); *slash = '\0', is_bridge = true) {
		char fn[PCI_BDF_LEN];
		if (pci_bdf_parse(slash + 1, fn) != 0)
			break;
		int r = check_one(fn, is_bridge, out);
		if (r < 0)
			return r;
		bad += r;
	}
	return bad ? -EXDEV : 0;
}
