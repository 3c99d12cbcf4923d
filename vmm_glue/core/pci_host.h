/*
 * pci_host.h — PCI configuration mechanism #1 (PCI Local Bus Spec 3.0
 * §3.2.2.3.2: CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at 0xcfc-0xcff) for the
 * bare-metal core's guest, with one function behind it: a host bridge at
 * 00:00.0 (class 06 00 00, header type 0, no BARs, read-only).  Every other
 * function reads all-ones (no device).  Assigned functions come later.
 */
#ifndef VFS_PCI_HOST_H
#define VFS_PCI_HOST_H

#include <stdint.h>

#include "vmm_glue/core/core_vm.h"

#define PCI_HOST_PORT 0xcf8
#define PCI_HOST_PORTS 8

struct pci_host {
	uint32_t addr;           /* CONFIG_ADDRESS as written */
	uint16_t vendor, device; /* the host bridge's IDs */
	uint32_t reads, writes;
};

void pci_host_init(struct pci_host *h, uint16_t vendor, uint16_t device);
/* The port trap's ops (ctx = the pci_host; ports 0xcf8-0xcff). */
extern const struct core_pio_ops pci_host_pio_ops;

#endif
