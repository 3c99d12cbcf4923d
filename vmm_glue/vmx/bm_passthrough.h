/*
 * bm_passthrough.h — device passthrough on the bare-metal VMX core: a
 * guest's DMA goes through a VT-d domain that maps GPA -> HPA exactly as its
 * EPT does, and the guest's MSI writes are trapped and turned into IRTEs.
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
 *                     the guest's ECAM page, vmx_vm_trap_mmio) so the guest's
 *                     MSI capability writes land here.
 *
 * The three contexts (DESIGN.md) of the device's interrupt:
 *   virtual   dev->virt_cap / dev->virt_msi: what the guest wrote into its
 *             (virtual) MSI capability — compatibility format, guest vector;
 *   shadow    dev->route (irq_remap/ir_route.h): the IRTE, and the
 *             remappable-format message written into the real device;
 *   physical  the host vector the IRTE targets on the host CPU; when it
 *             arrives, bmpt_dev_host_irq() injects the guest vector into the
 *             vCPU the guest named (vmx_vcpu_inject_irq).
 *
 * The guest-physical layout, the EPT, and every change of it stay the VMX
 * core's (vmx_vm_map / vmx_vm_trap_mmio); after a change the VMM calls
 * bmpt_dma_sync() for the range (or uses bmpt_vm_map, which does both).
 */
#ifndef VFS_VMX_BM_PASSTHROUGH_H
#define VFS_VMX_BM_PASSTHROUGH_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/vtd_domain.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_route.h"
#include "vmm_glue/vmx/vmx.h"

enum bmpt_mode {
	BMPT_SHARED = 1, /* domain tables = EPT tables */
	BMPT_MIRROR = 2, /* domain tables of its own, kept equal to the EPT */
};

/* bmpt_dma_init flags */
#define BMPT_FORCE_MIRROR (1u << 0) /* mirror even where sharing is legal */

struct bmpt_dma {
	struct vmx_vm *vm;
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
int bmpt_dma_init(struct bmpt_dma *d, struct vmx_vm *vm, struct vtd_unit *u, unsigned flags);
/* The EPT changed in [gpa, gpa+size): bring the domain in line and
 * invalidate (shared: cache lines of the EPT tables when the unit does not
 * snoop them, then the IOTLB for the range; mirror: unmap + re-map from the
 * EPT's leaves, which invalidates).  INVEPT when the guest's CPU is in VMX
 * operation.  0 or -PORT_E*. */
int bmpt_dma_sync(struct bmpt_dma *d, uint64_t gpa, uint64_t size);
/* vmx_vm_map + bmpt_dma_sync. */
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
	const struct ir_guest *guest;  /* its vCPUs (virtual APIC ids -> host CPUs) */
	struct vmx_vcpu *const *vcpus; /* guest->n_vcpus, same order: where to inject */
	uint8_t host_vector;           /* physical: reserved on every host CPU */
};

/* Offsets in the MSI capability (PCI Local Bus 3.0 §6.8.1). */
#define BMPT_MSI_CTRL 2          /* message control, 16 bit */
#define BMPT_MSI_CTRL_EN 0x0001u /* MSI enable */
#define BMPT_MSI_CTRL_MME 0x0070u /* multiple message enable, 6:4 */
#define BMPT_MSI_CTRL_64 0x0080u /* 64-bit address capable */
#define BMPT_MSI_CTRL_PVM 0x0100u /* per-vector masking capable */
#define BMPT_MSI_ADDR_LO 4
#define BMPT_MSI_CAP_MAX 24      /* 64-bit with mask and pending bits */

struct bmpt_dev {
	struct bmpt_dev_cfg c;
	unsigned msi;                /* MSI capability offset; 0 when none */
	unsigned msi_len;            /* its length: 10, 14, 20 or 24 */
	bool msi_64, msi_pvm;
	/* virtual context */
	uint8_t virt_cap[BMPT_MSI_CAP_MAX]; /* the capability as the guest sees it */
	struct msi_msg virt_msi;     /* compatibility format, guest vector */
	bool virt_masked;            /* MSI disabled, or vector 0 masked */
	/* shadow + physical context (route.msgs[0].host_vector etc.) */
	struct ir_route route;
	bool route_open;
	int last_update;             /* ir_route_update's result, 0 if none yet */
	/* what the trap saw */
	uint64_t cap_writes;         /* guest writes inside the MSI capability */
	uint64_t updates;            /* virtual MSI changes acted on */
	uint64_t injected;           /* guest vectors injected from host vectors */
};

/* Find the function's MSI capability, open its interrupt route (one
 * message) when cfg->table is set, mask MSI on the device, and trap the
 * guest's config page at cfg->virt_cfg_gpa in vm.  `dev` must stay where it
 * is (the trap keeps a pointer).  0, -PORT_ENODEV (no MSI capability),
 * -PORT_EINVAL, or the route's / trap's error. */
int bmpt_dev_init(struct bmpt_dev *dev, struct vmx_vm *vm, const struct bmpt_dev_cfg *cfg);
/* The trapped config page's device model (what an EPT violation at
 * virt_cfg_gpa reaches through vmx_vm_mmio_access); exposed for tests. */
int bmpt_cfg_read(void *dev, uint64_t gpa, unsigned size, uint64_t *val);
int bmpt_cfg_write(void *dev, uint64_t gpa, unsigned size, uint64_t val);
/* Host vector `host_vector` arrived (IDT handler, or the core's
 * external-interrupt exit): inject the guest vector the route says it
 * stands for into that vCPU.  0, or -PORT_ENOENT when it is not this
 * device's. */
int bmpt_dev_host_irq(struct bmpt_dev *dev, uint8_t host_vector);
/* Mask the device, close the route. */
void bmpt_dev_fini(struct bmpt_dev *dev);

#endif
