/*
 * pt_config.h — the one config-space virtualizer both passthrough models
 * use: which of a function's 256 configuration bytes the guest reads from
 * the device (live) and which from a virtual copy, the COMMAND filter, the
 * MSI and MSI-X registers handed to the state machine (msi_state.h), and
 * what a guest write touched (BARs, COMMAND, memory space turned on).
 *
 * The two models configure it differently, by design (docs/vmm_glue.md):
 *   hosted       a virtual header (identity, guest BAR addresses: the
 *                adapter emulates BAR moves on PT_CFG_W_BAR), a filtered
 *                capability list, the PCI Express capability live;
 *   bare metal   every byte read live (BARs are at GPA = HPA), nothing
 *                written through but COMMAND's guest bits and the MSI /
 *                MSI-X registers, which are virtual.
 * Contexts: virt[] and the state machines are virtual; phys is the device.
 * Freestanding: <stdint.h> <stddef.h> <stdbool.h> and port/ only.
 */
#ifndef VFS_DEV_PT_CONFIG_H
#define VFS_DEV_PT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/pci_regs.h"
#include "vmm_glue/dev/msi_state.h"

/* COMMAND bits the guest owns (PCI Local Bus 3.0 §6.2.2): memory space,
 * bus master, INTx disable; the rest of the device's COMMAND stays. */
#define PT_CFG_COMMAND_GUEST (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)

/* live[] bits */
#define PT_CFG_LIVE_RD 1u   /* the guest reads the device's byte */
#define PT_CFG_LIVE_WR 2u   /* the guest's write goes to the device */

/* pt_config_write's answer: what the write touched */
#define PT_CFG_W_COMMAND (1u << 0)
#define PT_CFG_W_MEMORY_ON (1u << 1)   /* the device's memory space went 0 -> 1 */
#define PT_CFG_W_MSI (1u << 2)
#define PT_CFG_W_MSIX (1u << 3)
#define PT_CFG_W_BAR(i) (1u << (8 + (i)))

/* The device's configuration space (VFIO, ECAM, a model): naturally
 * aligned size 1, 2 or 4 below 256. */
struct pt_config_phys {
	uint32_t (*read)(void *ctx, unsigned off, unsigned size);
	void (*write)(void *ctx, unsigned off, unsigned size, uint32_t val);
	void *ctx;
};

struct pt_config {
	struct pt_config_phys phys;
	uint8_t virt[PCI_CFG_SIZE];   /* virtual bytes */
	uint8_t wmask[PCI_CFG_SIZE];  /* bits of virt[] the guest may write */
	uint8_t live[PCI_CFG_SIZE];   /* PT_CFG_LIVE_* per byte */
	unsigned msi_cap, msix_cap;   /* 0: none (or not virtualized) */
	struct msi_state *msi;
	struct msix_state *msix;
	int last_error;               /* the last MSI / MSI-X enable refused, or 0 */
};

/* Every byte virt 0, wmask 0, live = `live`; no MSI, no MSI-X. */
void pt_config_init(struct pt_config *c, const struct pt_config_phys *phys, uint8_t live);
/* The MSI capability at cap (its registers from Message Control on are
 * st's), and the MSI-X one (Message Control is st's). */
void pt_config_set_msi(struct pt_config *c, unsigned cap, struct msi_state *st);
void pt_config_set_msix(struct pt_config *c, unsigned cap, struct msix_state *st);
/* size bytes (1, 2, 4) at off (off + size <= 256) as the guest reads them. */
uint32_t pt_config_read(const struct pt_config *c, unsigned off, unsigned size);
/* The guest wrote them: PT_CFG_W_* of what it touched. */
unsigned pt_config_write(struct pt_config *c, unsigned off, unsigned size, uint32_t val);

#endif
