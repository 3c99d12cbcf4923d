/*
 * pci.h — PCI configuration space through ECAM (PCIe Base 6.0 7.2.2, the
 * window from ACPI MCFG), enumeration of segment 0, capabilities, BARs.
 */
#ifndef VFS_BM_PCI_H
#define VFS_BM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/pci_regs.h"

#define PCI_MAX_DEVS 64

/* Register offsets and bits: pci/pci_regs.h; capability walks: pci/pci_cap.h. */

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_rev; /* class << 8 | revision */
	uint8_t header_type; /* bit 7 (multi-function) cleared */
	uint64_t cfg; /* physical address of its 4 KiB config space */
};

/* Find the ECAM window (MCFG) and enumerate segment 0: bus 0 and every bus
 * behind a bridge the firmware numbered.  0, or -PORT_ENOENT (no MCFG). */
int pci_init(void);

unsigned pci_count(void);
const struct pci_dev *pci_get(unsigned i);
/* The index'th device with this vendor:device, or NULL. */
const struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned index);

/* Requester ID / VT-d source-id: bus << 8 | dev << 3 | fn. */
uint16_t pci_rid(const struct pci_dev *d);

uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
/* The same, sized (1, 2 or 4 bytes), with the device as an opaque context:
 * the shape of a config-space callback (bm_passthrough's bmpt_cfg_ops). */
uint32_t pci_cfg_read(void *d, unsigned off, unsigned size);
void pci_cfg_write(void *d, unsigned off, unsigned size, uint32_t v);

/* Offset of the first capability with this ID (after the one at `from`, 0 =
 * from the start of the list), or 0; the walk is pci/pci_cap's. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);

/* Memory BAR `bar` (0-5): its base and size, sized by the all-ones probe
 * (PCI Local Bus 3.0 6.2.5.1).  An unassigned BAR (base 0) gets an address
 * from a bump allocator in the 32-bit MMIO window.  0, -PORT_ENOENT (no
 * such memory BAR), -PORT_ENOSPC. */
int pci_bar(const struct pci_dev *d, unsigned bar, uint64_t *base, uint64_t *size);

/* Set (set=true) or clear bits of the command register. */
void pci_command(const struct pci_dev *d, uint16_t bits, bool set);

#endif
