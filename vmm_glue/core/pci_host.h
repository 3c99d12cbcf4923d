/*
 * pci_host.h — PCI configuration mechanism #1 (PCI Local Bus Spec 3.0
 * §3.2.2.3.2: CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at 0xcfc-0xcff) for the
 * bare-metal core's guest, with one function behind it: a host bridge at
 * 00:00.0 (class 06 00 00, header type 0, no BARs, read-only).  Every other
 * function reads all-ones (no device), except one passthrough slot: a
 * function on bus 0 whose config accesses go to the VMM's handlers (an
 * assigned device's model: virtual BARs, then bm_passthrough's config).
 */
#ifndef VFS_PCI_HOST_H
#define VFS_PCI_HOST_H

#include <stdint.h>

#include "vmm_glue/core/core_vm.h"

#define PCI_HOST_PORT 0xcf8
#define PCI_HOST_PORTS 8

/* A function behind the bridge: config reads/writes at a byte offset
 * below 256 (CF8 reaches no further), size 1, 2 or 4, naturally aligned. */
struct pci_host_fn {
	uint32_t (*read)(void *ctx, unsigned off, unsigned size);
	void (*write)(void *ctx, unsigned off, unsigned size, uint32_t val);
	void *ctx;
};

struct pci_host {
	uint32_t addr;           /* CONFIG_ADDRESS as written */
	uint16_t vendor, device; /* the host bridge's IDs */
	uint32_t reads, writes;
	struct pci_host_fn fn;   /* the passthrough slot; read NULL: none */
	uint8_t fn_devfn;        /* its device/function on bus 0 */
	uint32_t fn_reads, fn_writes;
};

void pci_host_init(struct pci_host *h, uint16_t vendor, uint16_t device);
/* Put `fn` at 00:dev.func = devfn (not 0: the host bridge's).  0 or
 * -PORT_EINVAL. */
int pci_host_attach(struct pci_host *h, uint8_t devfn, const struct pci_host_fn *fn);
/* The port trap's ops (ctx = the pci_host; ports 0xcf8-0xcff). */
extern const struct core_pio_ops pci_host_pio_ops;

#endif
