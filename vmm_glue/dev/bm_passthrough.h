/*
 * bm_passthrough.h — device passthrough on the bare-metal VMX core: a
 * guest's DMA goes through a VT-d domain that maps GPA -> HPA exactly as its
 * EPT does, and the guest's MSI and MSI-X writes are trapped and turned into
 * IRTEs.
 *
 * Two objects, one per concern:
 *
 *   struct bmpt_dma   one per guest (per VT-d unit): the VT-d domain derived
 *                     from the guest's EPT.  SHARED: the domain's
 *                     second-level tables ARE the EPT tables (VT-d 9.8 and
 *                     SDM Vol. 3C §28.2.2 agree where it matters: 512-entry
 *                     levels, R bit 0, W bit 1, PS bit 7, address 51:12);
 *                     MIRROR: a domain of its own, rebuilt leaf by leaf from
 *                     the EPT (ept_for_each_leaf) over every changed range.
 *                     bmpt_dma_init decides from the unit's capabilities (see
 *                     bm_passthrough.c and docs/vmx.md for the rules).
 *   struct bmpt_dev   one per passed-through function: its requester id
 *                     attached to the domain (context entry, VT-d 9.3), and
 *                     its config space trapped in the guest (an EPT hole at
 *                     the guest's ECAM page, glue_trap) so the guest's
 *                     MSI / MSI-X capability writes land here, and the
 *                     page(s) of its MSI-X table trapped too (BARs are not
 *                     virtualized: the guest sees the host's BAR values and
 *                     the VMM maps BARs at GPA = HPA, so the guest's table is
 *                     at GPA = BAR[BIR] + table offset, the physical one).
 *
 * The three contexts (DESIGN.md) of each interrupt source — the MSI
 * capability (one message) and every MSI-X table entry (one each):
 *   virtual   dev->msi_state (vec[0].virt_msi), or msix_state.virt[k] (the
 *             shared MSI-X state machine, vmm_glue/dev/msi_state.h): what
 *             the guest wrote into its (virtual) MSI capability or MSI-X
 *             entry — compatibility format, guest vector;
 *   shadow    dev->route / msix_entries[k].route (irq_remap/ir_route.h):
 *             the IRTE, and the remappable-format message written into the
 *             real capability or physical table entry;
 *   physical  the host vector the IRTE targets on the host CPU, the
 *             host_src of the source's glue MSI route (dev->groute /
 *             msix_entries[k].groute, kept beside the IRTE); when it
 *             arrives, bmpt_dev_host_irq() has the core deliver the route's
 *             guest message (core_glue_host_irq), or, masked, record it
 *             pending.
 *
 * Two sides, two ways to reach the core:
 *   device side (struct bmpt_dev): only the core contract, vmm_glue/glue.h
 *     (on this core a struct core_glue, vmm_glue/core/core_glue.h) — its
 *     pages trapped with glue_trap, its interrupts delivered through
 *     glue_msi_route_* — as the hosted passthrough device does on KVM;
 *   DMA side (struct bmpt_dma): the bare-metal analogue of VFIO's IOMMU
 *     container.  Our VT-d domain shares or mirrors the guest's NPT/EPT
 *     table, so it reads that table through the core's table API
 *     (core_vm_table) and maps through core_vm_map (bmpt_vm_map).  The
 *     guest-physical layout and every change of it stay the core's; after a
 *     change the VMM calls bmpt_dma_sync() for the range (or uses
 *     bmpt_vm_map, which does both).
 */
#ifndef VFS_VMX_BM_PASSTHROUGH_H
#define VFS_VMX_BM_PASSTHROUGH_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/vtd_domain.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_route.h"
#include "pci/pci_regs.h"
#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/dev/msi_state.h"
#include "vmm_glue/dev/pt_config.h"
#include "vmm_glue/glue.h"

enum bmpt_mode {
	BMPT_SHARED = 1, /* domain tables = EPT tables */
	BMPT_MIRROR = 2, /* domain tables of its own, kept equal to the EPT */
};

/* bmpt_dma_init flags */
#define BMPT_FORCE_MIRROR (1u << 0) /* mirror even where sharing is legal */

struct bmpt_dma {
	struct core_vm *vm;       /* the guest's core (neutral contract) */
	struct vtd_unit *unit;
	/* SHARED: top = the EPT's PML4 (4-level AGAW) or the EPT's PDPT under
	 * PML4[0] (3-level AGAW, guests below 512 GiB), no table of its own;
	 * MIRROR: a domain built by iommu/vtd_domain. */
	struct vtd_domain dom;
	enum bmpt_mode mode;
	char why[96];    /* why this mode: printed by the tests and logged */
	uint64_t syncs;  /* bmpt_dma_sync calls that changed the domain */
};

/* Give the guest `vm` a DMA domain on unit u (enabled, root table set)
 * equal to its current EPT.  0, -PORT_ENOTSUP (no AGAW covers the guest),
 * -PORT_ENOMEM, -PORT_ENOSPC (no DID). */
int bmpt_dma_init(struct bmpt_dma *d, struct core_vm *vm, struct vtd_unit *u, unsigned flags);
/* The EPT changed in [gpa, gpa+size): bring the domain in line and
 * invalidate (shared: cache lines of the EPT tables when the unit does not
 * snoop them, then the IOTLB for the range; mirror: unmap + re-map from the
 * EPT's leaves, which invalidates).  INVEPT when the guest's CPU is in VMX
 * operation.  0 or -PORT_E*. */
int bmpt_dma_sync(struct bmpt_dma *d, uint64_t gpa, uint64_t size);
/* core_vm_map + bmpt_dma_sync. */
int bmpt_vm_map(struct bmpt_dma *d, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
		unsigned memtype);
/* Context entry for requester bus:devfn -> the domain (untranslated
 * requests translated through it), with the invalidations VT-d 6.5.3.3
 * asks for (iommu/vtd_context). */
int bmpt_dma_attach(struct bmpt_dma *d, uint16_t rid);
int bmpt_dma_detach(struct bmpt_dma *d, uint16_t rid);
/* Detach first.  Mirror: frees the domain's tables; shared: only the DID
 * (the tables are the EPT's). */
void bmpt_dma_fini(struct bmpt_dma *d);

/* The physical function's configuration space, as the host reaches it
 * (ECAM, CF8/CFC, or a model): size 1, 2 or 4 at a naturally aligned
 * offset below 4096. */
struct bmpt_cfg_ops {
	uint32_t (*read)(void *ctx, unsigned off, unsigned size);
	void (*write)(void *ctx, unsigned off, unsigned size, uint32_t val);
	void *ctx;
};

struct bmpt_dev_cfg {
	uint16_t rid;                  /* requester id: bus << 8 | dev << 3 | fn */
	struct bmpt_cfg_ops cfg;       /* physical config space */
	uint64_t virt_cfg_gpa;         /* virtual: the guest's ECAM page for it */
	struct bmpt_dma *dma;          /* NULL: no DMA domain (no VT-d) */
	/* Interrupt remapping; table NULL: the virtual MSI is only recorded
	 * (no IRTE, the device untouched) — for a core without a VT-d unit. */
	struct ir_table *table;
	/* its vCPUs (virtual APIC ids -> host CPUs): the same the core's glue
	 * delivers to (core_glue_init) */
	const struct ir_guest *guest;
	uint8_t host_vector;           /* physical, MSI: reserved on every host CPU */
	/* Physical, MSI-X: entry k's interrupts arrive on msix_host_vectors[k]
	 * (>= 32, reserved on every host CPU, distinct from each other and from
	 * host_vector).  The guest's table has min(n_msix_host_vectors, the
	 * device's Table Size, BMPT_MSIX_MAX) entries, and its Table Size field
	 * says so.  Read at init only.  Required (n >= 1) when table is set and
	 * the function has MSI-X; ignored without table. */
	const uint8_t *msix_host_vectors;
	unsigned n_msix_host_vectors;
	/* Physical: the size of each memory BAR as the host probed it (the
	 * MSI-X table and PBA must lie inside theirs); 0: not probed, and
	 * bmpt_dev_init sizes the BAR holding them itself (PCI 3.0 §6.2.5.1:
	 * decoding off, all ones, read back, both restored). */
	uint64_t bar_size[PCI_NUM_BARS];
};

/* The MSI and MSI-X registers this API names, as pci/pci_regs.h defines
 * them (PCI Local Bus 3.0 §6.8.1, §6.8.2; PCIe Base 5.0 §7.7.2). */
#define BMPT_MSI_CTRL PCI_MSI_CTRL
#define BMPT_MSI_CTRL_EN PCI_MSI_CTRL_EN
#define BMPT_MSI_CTRL_MME PCI_MSI_CTRL_MME
#define BMPT_MSI_CTRL_64 PCI_MSI_CTRL_64
#define BMPT_MSI_CTRL_PVM PCI_MSI_CTRL_PVM
#define BMPT_MSI_ADDR_LO PCI_MSI_ADDR_LO
#define BMPT_MSI_CAP_MAX PCI_MSI_CAP_MAX
#define BMPT_MSIX_CTRL PCI_MSIX_CTRL
#define BMPT_MSIX_CTRL_SIZE PCI_MSIX_CTRL_SIZE
#define BMPT_MSIX_CTRL_FMASK PCI_MSIX_CTRL_FMASK
#define BMPT_MSIX_CTRL_EN PCI_MSIX_CTRL_EN
#define BMPT_MSIX_TABLE PCI_MSIX_TABLE
#define BMPT_MSIX_PBA PCI_MSIX_PBA
#define BMPT_MSIX_BIR PCI_MSIX_BIR
#define BMPT_MSIX_CAP_LEN PCI_MSIX_CAP_LEN
#define BMPT_MSIX_ENTRY PCI_MSIX_ENTRY_SIZE
#define BMPT_MSIX_ADDR_LO PCI_MSIX_ENTRY_ADDR_LO
#define BMPT_MSIX_ADDR_HI PCI_MSIX_ENTRY_ADDR_HI
#define BMPT_MSIX_DATA PCI_MSIX_ENTRY_DATA
#define BMPT_MSIX_VCTRL PCI_MSIX_ENTRY_VCTRL
#define BMPT_MSIX_VCTRL_MASK PCI_MSIX_ENTRY_VCTRL_MASK
/* The guest's table has at most this many entries (each is an ir_route). */
#define BMPT_MSIX_MAX 32

/* One MSI-X table entry: its own interrupt source.  Its virtual context
 * (the guest's dwords, the decoded message and effective mask) is
 * msix_state.virt[k] / msix_state.vec[k]; this is its route. */
struct bmpt_msix_entry {
	/* shadow + physical (one message; route.msgs[0].host_vector) */
	struct ir_route route;
	int last_update;             /* ir_route_update's result, 0 if none yet */
	struct glue_msi_route *groute; /* the core's route: host vector -> guest MSI */
	uint64_t injected;           /* guest vectors injected from its host vector */
};

struct bmpt_dev {
	struct bmpt_dev_cfg c;
	struct glue *glue;           /* the core, device side */
	int cfg_trap, msix_trap;     /* glue trap ids, -1 when none */
	unsigned msi;                /* MSI capability offset; 0 when none */
	unsigned msi_len;            /* its length: 10, 14, 20 or 24 */
	bool msi_64, msi_pvm;
	/* virtual context: the capability's registers and the decoded message
	 * (msi_state.vec[0]) are the state machine's */
	struct msi_state msi_state;
	/* shadow + physical context (route.msgs[0].host_vector etc.) */
	struct ir_route route;
	bool route_open;
	int last_update;             /* ir_route_update's result, 0 if none yet */
	struct glue_msi_route *groute; /* the core's route for MSI (route_open) */
	/* MSI-X: the capability, and the physical table (= the guest's: GPA = HPA) */
	unsigned msix;               /* MSI-X capability offset; 0 when none */
	unsigned msix_phys_size;     /* the device's Table Size (entries) */
	unsigned msix_size;          /* the guest's (virtual) Table Size */
	uint64_t msix_table;         /* BAR[BIR] + table offset */
	uint64_t msix_pba;           /* BAR[BIR] + PBA offset (reads pass through) */
	uint64_t msix_trap_gpa, msix_trap_size; /* the pages holding the table */
	/* The BARs holding the table and the PBA (base, probed size): the only
	 * device MMIO the trapped pages pass through to. */
	uint64_t msix_bar_base[2], msix_bar_size[2];
	struct msix_state msix_state;  /* virtual table + Message Control (msi_state.h) */
	struct pt_config cfgv;         /* the config virtualizer: all live but MSI / MSI-X */
	unsigned msix_routes;        /* entries [0, msix_routes) have an open route */
	struct bmpt_msix_entry msix_entries[BMPT_MSIX_MAX];
	/* what the traps saw */
	uint64_t cap_writes;         /* guest writes inside the MSI or MSI-X capability */
	uint64_t msix_writes;        /* guest writes to its MSI-X table entries */
	uint64_t injected;           /* guest vectors injected from host vectors (all sources) */
};

/* Find the function's MSI and MSI-X capabilities (either or both), open
 * their interrupt routes when cfg->table is set (one for MSI, one per
 * virtual MSI-X entry), trap the guest's config page at cfg->virt_cfg_gpa
 * and the page(s) holding the MSI-X table through g (two MMIO traps with
 * MSI-X, one without), then turn MSI and MSI-X off on the device with every
 * physical MSI-X entry masked.  `dev` must stay where it is (the traps
 * keep a pointer).  0, -PORT_ENODEV (neither capability), -PORT_EINVAL (bad
 * cfg; an MSI or MSI-X capability running past the 256-byte config space;
 * an MSI-X table or PBA in an I/O or unassigned BAR, or not inside its BAR's
 * probed size; no MSI-X host vectors),
 * -PORT_ENOSPC (the core's MMIO traps or the IR table are full), or the
 * route's / trap's error.  Every check, every route and every trap comes
 * before the device is touched: on error the traps it made are removed and
 * the routes it opened are closed (all IRTEs free). */
int bmpt_dev_init(struct bmpt_dev *dev, struct glue *g, const struct bmpt_dev_cfg *cfg);
/* The trapped config page's device model (what an EPT violation at
 * virt_cfg_gpa reaches through the core's trap); exposed for tests. */
int bmpt_cfg_read(void *dev, uint64_t gpa, unsigned size, uint64_t *val);
int bmpt_cfg_write(void *dev, uint64_t gpa, unsigned size, uint64_t val);
/* The trapped MSI-X table pages' device model: 4- or 8-byte aligned
 * accesses (PCIe: DWORD or QWORD), else -PORT_EINVAL.  Inside the virtual
 * table: the guest's entries; inside the physical table beyond them: reads
 * as a masked empty entry, writes dropped; elsewhere in the pages inside
 * the table's or the PBA's BAR (the PBA, other registers): the device's
 * MMIO at the same address; outside both BARs: -PORT_EINVAL. */
int bmpt_msix_read(void *dev, uint64_t gpa, unsigned size, uint64_t *val);
int bmpt_msix_write(void *dev, uint64_t gpa, unsigned size, uint64_t val);
/* Host vector `host_vector` arrived (IDT handler, or the core's
 * external-interrupt exit): when the MSI route's or an MSI-X entry's IRTE
 * targets it, core_glue_host_irq (dev's glue is a core_glue) injects the
 * guest message of the core's route for it (0, counted here) or, the entry
 * masked, records it pending (1).  -PORT_ENOENT when it is not this
 * device's, or the core's refusal. */
int bmpt_dev_host_irq(struct bmpt_dev *dev, uint8_t host_vector);
/* Mask the device (MSI off; every MSI-X entry masked, MSI-X off), close
 * every route.  The traps stay: they keep serving the virtual state, the
 * device stays masked. */
void bmpt_dev_fini(struct bmpt_dev *dev);

#endif
