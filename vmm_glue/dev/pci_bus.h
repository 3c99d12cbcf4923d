/*
 * pci_bus.h — the guest's PCI bus 0: configuration mechanism #1 (PCI Local
 * Bus 3.0 §3.2.2.3.2, ports 0xCF8/0xCFC), a host bridge at 00:00.0, and
 * pluggable devices: a device model is a struct pci_dev with two config
 * callbacks; BAR space comes from the bus's MMIO window.  Passthrough
 * (passthrough.h) is one model; an emulated NIC is another file.
 */
#ifndef VFS_PCI_BUS_H
#define VFS_PCI_BUS_H

#include <stdint.h>

#include "vmm_glue/glue.h"

struct pci_dev;

struct pci_dev_ops {
	/* `off` is aligned to `size` (1, 2 or 4) and below 256. */
	uint32_t (*cfg_read)(struct pci_dev *dev, unsigned off, unsigned size);
	void (*cfg_write)(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val);
};

struct pci_dev {
	const struct pci_dev_ops *ops;
	void *ctx;     /* the model's own state */
};

struct pci_bus;

/* BARs are allocated from [mmio_base, mmio_base + mmio_size) (guest
 * physical, below 4 GiB so 32-bit BARs work). */
int pci_bus_create(struct glue *g, uint64_t mmio_base, uint64_t mmio_size, struct pci_bus **out);
void pci_bus_destroy(struct pci_bus *bus);
/* Plug a device at the first free slot (1..31) of bus 0; *devfn = slot << 3. */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev, unsigned *devfn);
void pci_bus_remove(struct pci_bus *bus, unsigned devfn);
/* A naturally aligned guest-physical range of `size` (a power of two). */
int pci_bus_alloc_mmio(struct pci_bus *bus, uint64_t size, uint64_t *gpa);

#endif
