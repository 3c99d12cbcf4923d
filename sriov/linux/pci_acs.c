/*
 * pci_acs.c — ACS on the path from a device to the root complex.  See pci_acs.h.
 */
#include "sriov/linux/pci_acs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci_cap.h"

/* PCI Express capability Device/Port Type (PCIe 5.0 §7.5.3.2); registers
 * and IDs from pci/pci_regs.h. */
#define PCIE_TYPE_NONE (-1) /* conventional PCI: no PCI Express capability */
/* §7.7.8: ACS Extended Capability: Capability +4, Control +6. */
#define ACS_REG_CAP 0x04u

static uint32_t cfg_read(const struct pci_cfg_file *c, unsigned off, unsigned size)
{
	uint32_t dw = c->ops.read32(c->ops.ctx, (uint16_t)(off & ~3u));
	uint32_t v = dw >> ((off & 3u) * 8u);
	return size == 4 ? v : v & ((1u << (size * 8u)) - 1u);
}

static uint32_t cfg_acc_read(void *ctx, unsigned off, unsigned size)
{
	return cfg_read(ctx, off, size);
}

/* Device/Port Type from the PCI Express capability (§7.5.3.2), or
 * PCIE_TYPE_NONE; the walk is pci/pci_cap's (bounded, loop-safe). */
static int pcie_type(const struct pci_cfg_file *c)
{
	const struct pci_cfg_acc acc = { cfg_acc_read, (void *)c, PCI_CFG_SIZE };
	struct pci_cap cap;
	if (pci_cap_find(&acc, PCI_CAP_ID_PCIE, &cap) != 0)
		return PCIE_TYPE_NONE;
	return (int)PCI_EXP_TYPE(cfg_read(c, cap.off + PCI_EXP_FLAGS, 2));
}

/* Does this function enforce what isolation needs?  A bit its ACS
 * Capability register lacks is hard-wired (the function cannot do that kind
 * of peer-to-peer at all), so only the offered ones must be enabled.
 * Returns the ACS Control register when it falls short, -1 without ACS. */
static bool acs_enforced(const struct pci_cfg_file *c, int *ctrl)
{
	uint16_t pos;
	*ctrl = -1;
	if (c->readable < 4096 || sriov_ext_cap_find(&c->ops, PCI_EXT_CAP_ID_ACS, &pos) != 0)
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
	bool multifunction = (cfg_read(&c, PCI_HEADER_TYPE, 1) & PCI_HEADER_MULTIFUNCTION) != 0;
	bool must = type == PCI_EXP_TYPE_ROOT_PORT || type == PCI_EXP_TYPE_DOWNSTREAM ||
		    (is_bridge && type != PCI_EXP_TYPE_UPSTREAM) || multifunction;
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
