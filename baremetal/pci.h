/*
 * pci.h — PCI configuration space through ECAM (PCIe Base 6.0 7.2.2, the
 * window from ACPI MCFG), enumeration of segment 0, capabilities, BARs.
 */
#ifndef VFS_BM_PCI_H
#define VFS_BM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVS 64

/* Configuration header offsets (PCI Local Bus 3.0 6.1, type 0 and 1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19 /* type 1 */
#define PCI_SUBORDINATE_BUS 0x1a /* type 1 */
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_PCIE 0x10
#define PCI_CAP_ID_MSIX 0x11

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

/* Offset of the first capability with this ID (after `from`, 0 = from the
 * start of the list), or 0. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);

/* Memory BAR `bar` (0-5): its base and size, sized by the all-ones probe
 * (PCI Local Bus 3.0 6.2.5.1).  An unassigned BAR (base 0) gets an address
 * from a bump allocator in the 32-bit MMIO window.  0, -PORT_ENOENT (no
 * such memory BAR), -PORT_ENOSPC. */
int pci_bar(const struct pci_dev *d, unsigned bar, uint64_t *base, uint64_t *size);

/* Set (set=true) or clear bits of the command register. */
void pci_command(const struct pci_dev *d, uint16_t bits, bool set);

#endif
