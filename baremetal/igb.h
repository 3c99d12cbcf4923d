/*
 * igb.h — QEMU's Intel 82576 PF (`-device igb`, 8086:10c9) as an MSI-X
 * source, and nothing else: no rings, no link.  The facts used, from the
 * 82576 datasheet register names and QEMU's model (hw/net/igb.c,
 * hw/net/igb_core.c):
 *   BAR0 registers (128 KiB), BAR3 the MSI-X structures (16 KiB, 64-bit):
 *   the table at BAR3 + 0, the PBA at BAR3 + 0x2000, 10 entries; MSI at
 *   config 0x50, MSI-X at 0x70.
 *   GPIE.Multiple_MSIX (bit 4): extended interrupt cause k is sent on MSI-X
 *   vector k; a write to EICS sets causes, EIMS enables them, EIAC clears a
 *   cause once its message went out (so the next EICS raises it again);
 *   EITR(k) = 0 sends at once (no throttling).
 */
#ifndef VFS_BM_IGB_H
#define VFS_BM_IGB_H

#include <stdint.h>

#include "baremetal/pci.h"

#define IGB_VENDOR 0x8086
#define IGB_DEVICE 0x10c9      /* 82576 PF */
#define IGB_MSIX_BAR 3
#define IGB_MSIX_VECTORS 10    /* what QEMU's PF has (IGB_MSIX_VEC_NUM) */

struct igb {
	const struct pci_dev *pci;
	uint64_t mmio, mmio_size;         /* BAR0 */
	uint64_t msix_bar, msix_bar_size; /* BAR3 */
	uint8_t msix_cap;
};

/* Bind to a PCI function: BAR0 and BAR3, memory decode and bus mastering
 * on (an MSI-X message is a memory write by the function), STATUS
 * readable.  0, -PORT_ENODEV, or a pci_bar error. */
int igb_init(struct igb *g, const struct pci_dev *d);
/* The index'th igb PF on the bus, bound.  0 or -PORT_ENODEV. */
int igb_find(struct igb *g, unsigned index);

/* Multiple-MSI-X mode with causes [0, n) enabled, auto-cleared, not
 * throttled. */
void igb_msix_causes_on(struct igb *g, unsigned n);
/* Every extended cause masked, back to single-vector mode. */
void igb_msix_causes_off(struct igb *g);
/* Raise cause k: the function sends MSI-X vector k — or, while the entry
 * or the function is masked, sets k's pending bit (PCI 3.0 §6.8.2.10). */
void igb_msix_fire(struct igb *g, unsigned k);

#endif
