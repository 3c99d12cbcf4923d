/*
 * pci_cap.h — the one PCI capability walker (freestanding): the standard
 * list (PCI 3.0 §6.7) and the PCI Express extended list (PCIe 5.0 §7.6),
 * read through an accessor the caller supplies, bounded to the config
 * space size the caller probed, and safe against loops: no header is
 * visited twice, no read leaves [0, size).
 *
 *   struct pci_cap_iter it;
 *   struct pci_cap c;
 *   for (pci_cap_iter_init(&it, &cfg, false); pci_cap_next(&it, &c);)
 *           ... c.id, c.off, c.room ...
 *   if (it.err) ... the list was malformed after the entries seen ...
 *
 * Callers check a capability's body against c.room (bytes from c.off to
 * the end of the space the capability lives in) before reading it.
 */
#ifndef VFS_PCI_CAP_H
#define VFS_PCI_CAP_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/pci_regs.h"

/* A function's configuration space: read(ctx, off, size) with size 1, 2 or
 * 4 at an offset aligned to it, off + size <= size; `size` is what was
 * probed (PCI_CFG_SIZE or PCIE_CFG_SIZE), never what the device claims. */
struct pci_cfg_acc {
	uint32_t (*read)(void *ctx, unsigned off, unsigned size);
	void *ctx;
	unsigned size;
};

struct pci_cap {
	unsigned id;      /* 8-bit standard ID, or 16-bit extended ID */
	unsigned off;     /* offset of its header */
	unsigned version; /* extended: the header's version (§7.6.3); 0 otherwise */
	unsigned room;    /* bytes from off to the end of its space (256 for standard caps) */
};

struct pci_cap_iter {
	const struct pci_cfg_acc *cfg;
	unsigned next;    /* the next header's offset; 0: the list ended */
	bool ext;         /* walking the extended list */
	int err;          /* 0, or -PORT_EIO: the list was malformed (a loop, a
			   * pointer into the header / below 0x100, an all-ones
			   * header) and the walk stopped there */
	uint64_t seen[PCIE_CFG_SIZE / 4 / 64]; /* dwords whose header was read */
};

/* Start a walk of the standard list (ext false: from the Capabilities
 * Pointer, only when Status.Capabilities List is set) or the extended list
 * (ext true: from 0x100, only when the space is 4 KiB). */
void pci_cap_iter_init(struct pci_cap_iter *it, const struct pci_cfg_acc *cfg, bool ext);
/* The next capability into *cap; false at the end (it->err says why). */
bool pci_cap_next(struct pci_cap_iter *it, struct pci_cap *cap);

/* The first standard / extended capability with this ID: 0 and *cap,
 * -PORT_ENOENT (none), -PORT_EIO (the list is malformed before one was
 * found), -PORT_EINVAL (no accessor, or a size below 256). */
int pci_cap_find(const struct pci_cfg_acc *cfg, unsigned id, struct pci_cap *cap);
int pci_ext_cap_find(const struct pci_cfg_acc *cfg, unsigned id, struct pci_cap *cap);

/* Length of an MSI capability from its Message Control (PCI 3.0 §6.8.1):
 * 10, 14 (64-bit), 20 (mask bits) or 24. */
unsigned pci_msi_cap_len(uint16_t ctrl);

#endif
