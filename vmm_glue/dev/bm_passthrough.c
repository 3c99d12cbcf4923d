/*
 * bm_passthrough.c — a guest's VT-d domain derived from its EPT, and its
 * trapped MSI capability and MSI-X table entries turned into IRTEs (see
 * bm_passthrough.h): an adapter over the shared config virtualizer
 * (pt_config, every byte live but MSI / MSI-X) and MSI/MSI-X state machine
 * (msi_state), whose routes here are IRTEs and the device's physical table,
 * each with the core's glue MSI route (host vector -> the guest's message)
 * through which the host vector's arrival is delivered.
 *
 * Sharing the EPT with VT-d (bmpt_dma_init), from the formats:
 *   EPT entry (SDM Vol. 3C §28.2.2, Tables 28-1..28-6): R 0, W 1, X 2,
 *     leaf memory type 5:3, ignore-PAT 6, page size 7, A/D 8/9 (only with
 *     EPTP[6], which the core leaves off), address 51:12.  ept.c writes only
 *     bits 2:0, 5:3 and 7 besides the address.
 *   VT-d second-level entry (VT-d spec 9.8): R 0, W 1, bit 2 execute (used
 *     only with SLEE in scalable mode), 6:3 the extended memory type /
 *     ignore-PAT (only with EMTE in a scalable PASID entry, which
 *     iommu/vtd_context never sets), PS 7, SNP 11 (reserved without
 *     ECAP.SC), address 51:12.
 *   QEMU's model (hw/i386/intel_iommu_internal.h VTD_SPTE_PAGE_L{1..4}_RSVD_MASK,
 *     VTD_SPTE_LPAGE_L{2,3}_RSVD_MASK) reserves, below bit 52, only bit 11
 *     (unless snoop-control or scalable mode), bit 7 in a level-4 entry, the
 *     address bits above the configured aw-bits, and the address bits below
 *     a 2 MiB / 1 GiB leaf's alignment — none of which the EPT sets.
 * So the tables can be the same pages when, in addition:
 *   - the unit walks as many levels as the EPT (4, SAGAW bit 2), or 3
 *     (SAGAW bit 1) with the whole guest below 512 GiB: then the domain's
 *     top is the EPT's PDPT under PML4[0];
 *   - every leaf size the EPT may use is in CAP.SLLPS (bit 0 2 MiB, bit 1
 *     1 GiB; VT-d 11.4.2) — the test Xen's vtd_ept_page_compatible makes;
 *   - the unit sees EPT updates: with ECAP.C = 0 its walks do not snoop the
 *     CPU caches (VT-d 11.4.3), so every EPT change is followed by a flush
 *     of the EPT's table pages (bmpt_dma_sync) before the IOTLB
 *     invalidation.
 * Otherwise (or when asked) the domain mirrors the EPT leaf by leaf.
 */
#include "vmm_glue/dev/bm_passthrough.h"

#include "iommu/vtd_context.h"
#include "iommu/vtd_regs.h"
#include "pci/pci_cap.h"
#include "port.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/vmx/vmx_caps.h"

#define PAGE 4096ull
#define GIB512 (1ull << 39)

/* --- the DMA domain --------------------------------------------------- */

struct span {
	uint64_t gpa_end;   /* end of the highest leaf */
	unsigned levels_used; /* bit l: a leaf at level l exists */
};

static int span_leaf(void *ctx, uint64_t gpa, uint64_t entry, unsigned level)
{
	struct span *s = ctx;
	(void)entry;
	uint64_t end = gpa + EPT_LEVEL_SIZE(level);
	if (end > s->gpa_end)
		s->gpa_end = end;
	s->levels_used |= 1u << level;
	return 0;
}

/* Which sharing rule fails, or NULL when the EPT can be the domain's table;
 * then *levels says how many levels the unit walks from it (4: the PML4,
 * 3: the PDPT under PML4[0]). */
static const char *share_refused(const struct bmpt_dma *d, const struct span *s, unsigned *levels)
{
	const struct vtd_caps *c = &d->unit->caps;
	uint64_t ept_caps = core_vm_table(d->vm)->caps;

	if ((ept_caps & EPT_CAP_2M) && !(c->sllps & 1u))
		return "the EPT may use 2 MiB pages and CAP.SLLPS lacks them";
	if ((ept_caps & EPT_CAP_1G) && !(c->sllps & 2u))
		return "the EPT may use 1 GiB pages and CAP.SLLPS lacks them";
	if (c->sagaw & (1u << 2)) {
		*levels = 4;
		return NULL;
	}
	if (!(c->sagaw & (1u << 1)))
		return "the unit walks neither 4 nor 3 levels (CAP.SAGAW)";
	if (s->gpa_end > GIB512)
		return "3-level unit and the guest reaches above 512 GiB";
	if (!ept_entry_present(core_vm_table(d->vm)->pml4[0]))
		return "3-level unit and the EPT has no PDPT under PML4[0] yet";
	*levels = 3;
	return NULL;
}

/* Every table page of the EPT out of the CPU caches (a unit with ECAP.C = 0
 * reads them from memory). */
static void flush_tables(const uint64_t *table, unsigned level)
{
	port_cache_flush(table, PAGE);
	if (level == 1)
		return;
	for (unsigned i = 0; i < 512; i++)
		if (ept_entry_present(table[i]) && !ept_entry_is_leaf(table[i], level))
			flush_tables(port_phys_to_virt(ept_entry_addr(table[i])), level - 1);
}

struct mirror_ctx {
	struct vtd_domain *dom;
	uint64_t start, end;
	int rc;
};

/* One EPT leaf into the mirror, clipped to [start, end). */
static int mirror_leaf(void *ctx, uint64_t gpa, uint64_t entry, unsigned level)
{
	struct mirror_ctx *m = ctx;
	uint64_t len = EPT_LEVEL_SIZE(level), lo = gpa, hi = gpa + len;
	unsigned flags = ((entry & EPT_R) ? VTD_MAP_READ : 0) | ((entry & EPT_W) ? VTD_MAP_WRITE : 0);
	if (lo < m->start)
		lo = m->start;
	if (hi > m->end)
		hi = m->end;
	if (lo >= hi || !flags)     /* outside, or execute-only: no DMA */
		return 0;
	if ((hi - 1) >> m->dom->width)
		return 0;               /* beyond the domain: DMA there faults */
	int rc = vtd_domain_map(m->dom, lo, ept_entry_addr(entry) + (lo - gpa), hi - lo, flags);
	if (rc)
		port_log("bmpt: mirroring GPA 0x%llx+0x%llx failed (%d)", (unsigned long long)lo,
			 (unsigned long long)(hi - lo), rc);
	return rc;
}

static int mirror_range(struct bmpt_dma *d, uint64_t start, uint64_t end)
{
	struct mirror_ctx m = { &d->dom, start, end, 0 };
	return ept_for_each_leaf(core_vm_table(d->vm), mirror_leaf, &m);
}

static void set_why(struct bmpt_dma *d, const char *why)
{
	unsigned i = 0;
	for (; why[i] && i + 1 < sizeof(d->why); i++)
		d->why[i] = why[i];
	d->why[i] = 0;
}

int bmpt_dma_init(struct bmpt_dma *d, struct core_vm *vm, struct vtd_unit *u, unsigned flags)
{
	if (!d || !vm || !u || !u->root)
		return -PORT_EINVAL;
	*d = (struct bmpt_dma){ .vm = vm, .unit = u };
	struct span s = { 0, 0 };
	ept_for_each_leaf(core_vm_table(vm), span_leaf, &s);

	unsigned levels = 0;
	const char *refused = (flags & BMPT_FORCE_MIRROR) ? "mirroring was asked for" : share_refused(d, &s, &levels);
	if (!refused) {
		int did = vtd_unit_did_alloc(u);
		if (did < 0)
			return did;
		/* The context entry's AW (VT-d 9.3): 1 = 39-bit 3-level, 2 = 48-bit 4-level. */
		d->dom = (struct vtd_domain){
			.unit = u, .did = (unsigned)did, .levels = levels, .aw = levels - 2,
			.width = 30 + 9 * (levels - 2), .sllps = u->caps.sllps, .coherent = u->caps.c,
			.snoop = u->caps.sc,
			.top = levels == 4 ? core_vm_table(vm)->pml4 : port_phys_to_virt(ept_entry_addr(core_vm_table(vm)->pml4[0])),
		};
		d->mode = BMPT_SHARED;
		set_why(d, levels == 4 ? "4-level unit: SLPTPTR = the EPT's PML4"
				       : "3-level unit, guest below 512 GiB: SLPTPTR = the EPT's PDPT");
		if (!u->caps.c)
			flush_tables(core_vm_table(vm)->pml4, 4);
		port_log("bmpt: DMA domain %u shares the EPT (%u-level, top 0x%llx%s)", d->dom.did, levels,
			 (unsigned long long)port_virt_to_phys(d->dom.top),
			 u->caps.c ? "" : "; ECAP.C = 0: EPT tables flushed on every change");
		return 0;
	}
	int rc = vtd_domain_init(&d->dom, u, s.gpa_end > GIB512 ? 48 : 39);
	if (rc)
		return rc;
	d->mode = BMPT_MIRROR;
	set_why(d, refused);
	rc = mirror_range(d, 0, ~0ull);
	if (rc) {
		vtd_domain_destroy(&d->dom);
		return rc;
	}
	port_log("bmpt: DMA domain %u mirrors the EPT (%u-level): %s", d->dom.did, d->dom.levels, d->why);
	return 0;
}

int bmpt_dma_sync(struct bmpt_dma *d, uint64_t gpa, uint64_t size)
{
	if (!d || !d->dom.top || !size || ((gpa | size) & (PAGE - 1)) || gpa + size < gpa)
		return -PORT_EINVAL;
	int rc = 0;
	if (d->mode == BMPT_SHARED) {
		if (d->dom.levels == 3 && gpa + size > GIB512) {
			port_log("bmpt: GPA 0x%llx+0x%llx is above what a 3-level shared domain reaches",
				 (unsigned long long)gpa, (unsigned long long)size);
			return -PORT_ERANGE;
		}
		if (!d->dom.coherent)
			flush_tables(core_vm_table(d->vm)->pml4, 4);
		/* Page-selective IOTLB invalidation (VT-d 6.5.2.3, IH = 0: the
		 * paging-structure caches for the range go too). */
		rc = vtd_unit_inv_range(d->unit, d->dom.did, gpa, size);
	} else {
		uint64_t end = gpa + size;
		if ((gpa >> d->dom.width) == 0) {
			uint64_t top = 1ull << d->dom.width;
			rc = vtd_domain_unmap(&d->dom, gpa, (end > top ? top : end) - gpa, NULL);
			if (!rc)
				rc = mirror_range(d, gpa, end);
		}
	}
	if (rc)
		return rc;
	d->syncs++;
	core_vm_flush(d->vm);
	return 0;
}

int bmpt_vm_map(struct bmpt_dma *d, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
		unsigned memtype)
{
	int rc = core_vm_map(d->vm, gpa, hpa, size, perms, memtype);
	return rc ? rc : bmpt_dma_sync(d, gpa, size);
}

int bmpt_dma_attach(struct bmpt_dma *d, uint16_t rid)
{
	return vtd_ctx_attach(d->unit, (uint8_t)(rid >> 8), (uint8_t)rid, &d->dom, VTD_TT_UNTRANSLATED);
}

int bmpt_dma_detach(struct bmpt_dma *d, uint16_t rid)
{
	return vtd_ctx_detach(d->unit, (uint8_t)(rid >> 8), (uint8_t)rid);
}

void bmpt_dma_fini(struct bmpt_dma *d)
{
	if (!d->dom.top)
		return;
	if (d->mode == BMPT_MIRROR)
		vtd_domain_destroy(&d->dom);
	else
		vtd_unit_did_free(d->unit, d->dom.did);
	d->dom.top = NULL;
}

/* --- the device's configuration space, as the guest sees it -------------- */

/* Logs name the function: bus:dev.fn. */
#define BDF_FMT "%02x:%02x.%u"
#define BDF(dev) (dev)->c.rid >> 8, ((dev)->c.rid >> 3) & 31, (dev)->c.rid & 7

static uint32_t phys_read(const struct bmpt_dev *dev, unsigned off, unsigned size)
{
	return dev->c.cfg.read(dev->c.cfg.ctx, off, size);
}

static void phys_write(const struct bmpt_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	dev->c.cfg.write(dev->c.cfg.ctx, off, size, val);
}

static uint32_t cfg_acc_read(void *ctx, unsigned off, unsigned size)
{
	return phys_read(ctx, off, size);
}

static void cfg_acc_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	phys_write(ctx, off, size, val);
}

/* The capability with this ID through the shared walker (pci/pci_cap:
 * bounded, loop-safe); 0 when there is none or the list is malformed. */
static unsigned find_cap(const struct bmpt_dev *dev, unsigned id)
{
	const struct pci_cfg_acc acc = { cfg_acc_read, (void *)dev, PCIE_CFG_SIZE };
	struct pci_cap c;
	return pci_cap_find(&acc, id, &c) == 0 ? c.off : 0;
}

/* Every byte bm_passthrough virtualizes or writes of a capability lies in
 * the 256 bytes of the standard space (PCI 3.0 §6.7): the MSI body (its
 * length from Message Control, §6.8.1) and the MSI-X one (12 bytes), and
 * the two do not overlap. */
static int caps_fit(const struct bmpt_dev *dev)
{
	unsigned msi_len = dev->msi ? pci_msi_cap_len((uint16_t)phys_read(dev, dev->msi + PCI_MSI_CTRL, 2)) : 0;
	if (dev->msi && dev->msi + msi_len > PCI_CFG_SIZE) {
		port_log("bmpt: " BDF_FMT " MSI capability at 0x%x (%u bytes) runs past the 256-byte config space: "
			 "refused", BDF(dev), dev->msi, msi_len);
		return -PORT_EINVAL;
	}
	if (dev->msix && dev->msix + PCI_MSIX_CAP_LEN > PCI_CFG_SIZE) {
		port_log("bmpt: " BDF_FMT " MSI-X capability at 0x%x (%u bytes) runs past the 256-byte config space: "
			 "refused", BDF(dev), dev->msix, PCI_MSIX_CAP_LEN);
		return -PORT_EINVAL;
	}
	if (dev->msi && dev->msix && dev->msi < dev->msix + PCI_MSIX_CAP_LEN && dev->msix < dev->msi + msi_len) {
		port_log("bmpt: " BDF_FMT " MSI capability at 0x%x (%u bytes) and MSI-X capability at 0x%x overlap: "
			 "refused", BDF(dev), dev->msi, msi_len, dev->msix);
		return -PORT_EINVAL;
	}
	return 0;
}

static void follow_route(struct bmpt_dev *dev, struct glue_msi_route *groute, const struct ir_route *rt);
static void close_route(struct bmpt_dev *dev, struct ir_route *rt, struct glue_msi_route **groute);
static uint64_t pba_pending(const struct bmpt_dev *dev, uint64_t gpa, unsigned size);

/* --- MSI: the capability ---------------------------------------------------- */

/* Where the data register sits (PCI 3.0 §6.8.1.4-6.8.1.6). */
static unsigned data_off(const struct bmpt_dev *dev) { return dev->msi_64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32; }

/* The shadow state into the device: the remappable message first, then the
 * enable bit the route allows (ir_route.h: IRTEs are in place before the
 * device is unmasked). */
static void shadow_to_device(struct bmpt_dev *dev)
{
	unsigned m = dev->msi;
	uint16_t ctrl = (uint16_t)phys_read(dev, m + BMPT_MSI_CTRL, 2) & (uint16_t)~(BMPT_MSI_CTRL_EN | BMPT_MSI_CTRL_MME);
	phys_write(dev, m + BMPT_MSI_CTRL, 2, ctrl);
	if (dev->route.shadow_masked)
		return;
	phys_write(dev, m + BMPT_MSI_ADDR_LO, 4, dev->route.shadow_msi.addr_lo);
	if (dev->msi_64)
		phys_write(dev, m + 8, 4, dev->route.shadow_msi.addr_hi);
	phys_write(dev, m + data_off(dev), 2, dev->route.shadow_msi.data & 0xffffu);
	phys_write(dev, m + BMPT_MSI_CTRL, 2, ctrl | BMPT_MSI_CTRL_EN);
}

/* The route interface (msi_state.h) for MSI on an IRTE: one message (the
 * state machine never routes more: max_vectors 1).  The device's MSI
 * Enable is its only mask: off, IRTE, message, on if the route allows.
 * Without interrupt remapping the virtual state alone is kept. */
static int msi_route_update(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	struct bmpt_dev *dev = ctx;
	if (!dev->route_open || k != 0)
		return 0;
	dev->last_update = ir_route_update(&dev->route, virt_msi, masked);
	follow_route(dev, dev->groute, &dev->route);
	shadow_to_device(dev);
	return 0;
}

static void msi_route_del(void *ctx, unsigned k)
{
	struct bmpt_dev *dev = ctx;
	msi_route_update(dev, k, &dev->msi_state.vec[0].virt_msi, true);
}

/* Enable went on with the message (above), and off with the del. */
static int msi_route_enable(void *ctx, unsigned n, bool on)
{
	(void)ctx, (void)n, (void)on;
	return 0;
}

static const struct msi_route_ops msi_irte_ops = {
	.add = msi_route_update,
	.update = msi_route_update,
	.del = msi_route_del,
	.enable = msi_route_enable,
};

/* Virtual capability (msi_state): the device's MMC, 64-bit and PVM bits;
 * disabled, MME 0, an empty message, vector 0 masked.  The device's MSI
 * goes off. */
static int msi_init_virtual(struct bmpt_dev *dev)
{
	uint16_t ctrl = (uint16_t)phys_read(dev, dev->msi + BMPT_MSI_CTRL, 2);
	dev->msi_64 = ctrl & BMPT_MSI_CTRL_64;
	dev->msi_pvm = ctrl & BMPT_MSI_CTRL_PVM;
	int rc = msi_state_init(&dev->msi_state, ctrl, 1, &msi_irte_ops, dev);
	if (rc)
		return rc;
	dev->msi_len = dev->msi_state.len;
	pt_config_set_msi(&dev->cfgv, dev->msi, &dev->msi_state);
	phys_write(dev, dev->msi + BMPT_MSI_CTRL, 2, ctrl & (uint16_t)~(BMPT_MSI_CTRL_EN | BMPT_MSI_CTRL_MME));
	return 0;
}

/* --- MSI-X: the capability and the table ------------------------------------ */

static uint64_t phys_entry(const struct bmpt_dev *dev, unsigned k)
{
	return dev->msix_table + (uint64_t)k * BMPT_MSIX_ENTRY;
}

/* Physical entry k's mask bit; vector control's reserved bits 31:1 are
 * preserved (§6.8.2.9). */
static void phys_entry_mask(const struct bmpt_dev *dev, unsigned k, bool masked)
{
	uint64_t vc = phys_entry(dev, k) + BMPT_MSIX_VCTRL;
	uint32_t v = port_mmio_read32(vc) & ~BMPT_MSIX_VCTRL_MASK;
	port_mmio_write32(vc, v | (masked ? BMPT_MSIX_VCTRL_MASK : 0));
}

/* Entry k's shadow state into the (masked) physical entry: the remappable
 * message, then the unmask the route allows — its IRTE is in place already
 * (ir_route.h).  A message that arrived while masked is pending in the PBA
 * and is sent on unmask (§6.8.2.10). */
static void shadow_to_entry(const struct bmpt_dev *dev, unsigned k)
{
	const struct ir_route *rt = &dev->msix_entries[k].route;
	uint64_t e = phys_entry(dev, k);
	port_mmio_write32(e + BMPT_MSIX_ADDR_LO, rt->shadow_msi.addr_lo);
	port_mmio_write32(e + BMPT_MSIX_ADDR_HI, rt->shadow_msi.addr_hi);
	port_mmio_write32(e + BMPT_MSIX_DATA, rt->shadow_msi.data);
	if (!rt->shadow_masked)
		phys_entry_mask(dev, k, false);
}

/* Physical MSI-X Enable follows the guest's; the physical Function Mask
 * stays clear (the guest's is applied entry by entry). */
static void msix_phys_enable(const struct bmpt_dev *dev, bool on)
{
	unsigned c = dev->msix + BMPT_MSIX_CTRL;
	uint16_t ctrl = (uint16_t)phys_read(dev, c, 2) & (uint16_t)~(BMPT_MSIX_CTRL_EN | BMPT_MSIX_CTRL_FMASK);
	phys_write(dev, c, 2, ctrl | (on ? BMPT_MSIX_CTRL_EN : 0u));
}

/* MSI-X off and, with interrupt remapping, every physical entry masked
 * (without it the device's table is never touched). */
static void msix_phys_off(const struct bmpt_dev *dev)
{
	msix_phys_enable(dev, false);
	for (unsigned k = 0; dev->c.table && k < dev->msix_phys_size; k++)
		phys_entry_mask(dev, k, true);
}

/* The route interface (msi_state.h) on IRTEs: entry k's physical entry
 * masked, then its IRTE (ir_route_update), then the remappable message and
 * the unmask the route allows.  Without interrupt remapping (no route for
 * k) the virtual state alone is kept. */
static int msix_route_update(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	struct bmpt_dev *dev = ctx;
	if (k >= dev->msix_routes)
		return 0;
	struct bmpt_msix_entry *e = &dev->msix_entries[k];
	phys_entry_mask(dev, k, true);
	e->last_update = ir_route_update(&e->route, virt_msi, masked);
	if (e->last_update)
		port_log("bmpt: " BDF_FMT " MSI-X entry %u stays masked: the guest's message 0x%08x/0x%x was refused (%d)",
			 BDF(dev), k, virt_msi->addr_lo, virt_msi->data, e->last_update);
	follow_route(dev, e->groute, &e->route);
	shadow_to_entry(dev, k);
	return 0;
}

/* The route stays open (its IRTE allocated for the device's life): deleting
 * it masks the entry and the IRTE. */
static void msix_route_del(void *ctx, unsigned k)
{
	struct bmpt_dev *dev = ctx;
	msix_route_update(dev, k, &dev->msix_state.vec[k].virt_msi, true);
}

/* Physical MSI-X Enable follows the guest's, after the entries (on) or
 * after they are masked (off). */
static int msix_route_enable(void *ctx, unsigned n, bool on)
{
	struct bmpt_dev *dev = ctx;
	(void)n;
	if (dev->msix_routes)
		msix_phys_enable(dev, on);
	return 0;
}

static const struct msi_route_ops msix_irte_ops = {
	.add = msix_route_update,
	.update = msix_route_update,
	.del = msix_route_del,
	.enable = msix_route_enable,
};

/* Memory space came back on: physical table writes made while it was off
 * went nowhere (§6.2.2), so every entry is masked and written again. */
static void msix_resync(const struct bmpt_dev *dev)
{
	for (unsigned k = 0; k < dev->msix_phys_size; k++)
		phys_entry_mask(dev, k, true);
	for (unsigned k = 0; k < dev->msix_routes; k++)
		shadow_to_entry(dev, k);
}

/* Size a memory BAR the PCI way (§6.2.5.1): decoding off, all ones into
 * the BAR (both halves of a 64-bit one), read back, then the BAR and
 * Command as they were. */
static uint64_t bar_size_probe(const struct bmpt_dev *dev, unsigned bir, bool is64)
{
	unsigned off = PCI_BAR0 + 4 * bir;
	uint32_t cmd = phys_read(dev, PCI_COMMAND, 2), lo = phys_read(dev, off, 4);
	uint32_t hi = is64 ? phys_read(dev, off + 4, 4) : 0;
	phys_write(dev, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	phys_write(dev, off, 4, 0xffffffffu);
	uint64_t mask = phys_read(dev, off, 4) & PCI_BAR_MEM_MASK;
	if (is64) {
		phys_write(dev, off + 4, 4, 0xffffffffu);
		mask |= (uint64_t)phys_read(dev, off + 4, 4) << 32;
		phys_write(dev, off + 4, 4, hi);
	} else {
		mask |= 0xffffffff00000000ull;
	}
	phys_write(dev, off, 4, lo);
	phys_write(dev, PCI_COMMAND, 2, cmd);
	return mask & PCI_BAR_MEM_MASK ? ~mask + 1 : 0;
}

/* Whether BAR `bir` is the upper half of a 64-bit memory BAR below it
 * (§6.2.5.1: the pair is read from BAR0 up). */
static bool bar_is_upper(const struct bmpt_dev *dev, unsigned bir)
{
	for (unsigned i = 0; i < bir; i++) {
		uint32_t lo = phys_read(dev, PCI_BAR0 + 4 * i, 4);
		if ((lo & PCI_BAR_IO) || (lo & PCI_BAR_TYPE_MASK) != PCI_BAR_TYPE_64)
			continue;
		if (i + 1 == bir)
			return true;
		i++;   /* its upper half */
	}
	return false;
}

/* Memory BAR `bir` as the host assigned it (§6.2.5.1): base bits 31:4, and
 * the next BAR as bits 63:32 when it is a 64-bit one; its size as the host
 * probed it (cfg.bar_size), or as sized here. */
static int bar_probe(const struct bmpt_dev *dev, unsigned bir, uint64_t *base, uint64_t *size)
{
	const char *why = NULL;
	uint32_t lo = bir <= 5 ? phys_read(dev, PCI_BAR0 + 4 * bir, 4) : 0;
	bool is64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	uint64_t b = (lo & PCI_BAR_MEM_MASK) | (is64 && bir < 5 ? (uint64_t)phys_read(dev, PCI_BAR0 + 4 * (bir + 1), 4) << 32 : 0);
	if (bir > 5)
		why = "a reserved BIR";
	else if (bar_is_upper(dev, bir))
		why = "the upper half of a 64-bit BAR";
	else if (lo & PCI_BAR_IO)
		why = "an I/O BAR";
	else if (is64 && bir == 5)
		why = "a 64-bit BAR5";
	else if (!b)
		why = "an unassigned BAR";
	if (why) {
		port_log("bmpt: " BDF_FMT " MSI-X structure in BAR%u: %s", BDF(dev), bir, why);
		return -PORT_EINVAL;
	}
	*base = b;
	*size = dev->c.bar_size[bir] ? dev->c.bar_size[bir] : bar_size_probe(dev, bir, is64);
	return 0;
}

/* The MSI-X table or PBA, `len` bytes at offset `off` of a BAR of `size`
 * bytes at `base`: inside it, or the device is refused (a structure outside
 * its BAR would have the core read and write an arbitrary host address). */
static int msix_struct_fits(const struct bmpt_dev *dev, const char *what, unsigned bir, uint64_t base,
			    uint64_t size, uint64_t off, uint64_t len)
{
	if (size && off + len <= size && base + size > base)
		return 0;
	port_log("bmpt: " BDF_FMT " MSI-X %s at BAR%u + 0x%llx (%llu bytes) lies outside the %llu-byte BAR: "
		 "refused (its config space is inconsistent)", BDF(dev), what, bir, (unsigned long long)off,
		 (unsigned long long)len, (unsigned long long)size);
	return -PORT_EINVAL;
}

/* The MSI-X capability (§6.8.2.3-6.8.2.5): Table Size, table and PBA as BIR
 * + offset (offset bits 31:3), the guest's table size (capped), the pages
 * to trap, and the virtual capability: ID, next pointer, table/PBA as the
 * device has them, Table Size the guest's, MSI-X off, Function Mask clear,
 * every entry masked (§6.8.2.9: the mask bit resets to 1). */
static int msix_probe(struct bmpt_dev *dev)
{
	unsigned x = dev->msix;
	uint16_t ctrl = (uint16_t)phys_read(dev, x + BMPT_MSIX_CTRL, 2);
	uint32_t table = phys_read(dev, x + BMPT_MSIX_TABLE, 4), pba = phys_read(dev, x + BMPT_MSIX_PBA, 4);
	uint64_t table_bar = 0, pba_bar = 0, table_bar_size = 0, pba_bar_size = 0;
	unsigned n = (ctrl & BMPT_MSIX_CTRL_SIZE) + 1u, size = n < BMPT_MSIX_MAX ? n : BMPT_MSIX_MAX;
	int rc = bar_probe(dev, table & BMPT_MSIX_BIR, &table_bar, &table_bar_size);
	if (!rc)
		rc = bar_probe(dev, pba & BMPT_MSIX_BIR, &pba_bar, &pba_bar_size);
	if (!rc)
		rc = msix_struct_fits(dev, "table", table & BMPT_MSIX_BIR, table_bar, table_bar_size,
				      table & ~BMPT_MSIX_BIR, (uint64_t)n * BMPT_MSIX_ENTRY);
	if (!rc)
		rc = msix_struct_fits(dev, "PBA", pba & BMPT_MSIX_BIR, pba_bar, pba_bar_size, pba & ~BMPT_MSIX_BIR,
				      PCI_MSIX_PBA_BYTES(n));
	if (rc)
		return rc;
	if (dev->c.table) {
		if (!dev->c.msix_host_vectors || !dev->c.n_msix_host_vectors) {
			port_log("bmpt: " BDF_FMT " has MSI-X (%u entries) and no host vectors for it", BDF(dev), n);
			return -PORT_EINVAL;
		}
		if (size > dev->c.n_msix_host_vectors)
			size = dev->c.n_msix_host_vectors;
	}
	dev->msix_table = table_bar + (table & ~BMPT_MSIX_BIR);
	dev->msix_pba = pba_bar + (pba & ~BMPT_MSIX_BIR);
	dev->msix_trap_gpa = dev->msix_table & ~(PAGE - 1);
	dev->msix_trap_size = ((dev->msix_table + (uint64_t)n * BMPT_MSIX_ENTRY + PAGE - 1) & ~(PAGE - 1)) -
			      dev->msix_trap_gpa;
	dev->msix_bar_base[0] = table_bar;
	dev->msix_bar_size[0] = table_bar_size;
	dev->msix_bar_base[1] = pba_bar;
	dev->msix_bar_size[1] = pba_bar_size;
	dev->msix_size = size;
	dev->msix_phys_size = n;
	rc = msix_state_init(&dev->msix_state, size, &msix_irte_ops, dev);
	if (rc)
		return rc;
	pt_config_set_msix(&dev->cfgv, x, &dev->msix_state);
	port_log("bmpt: " BDF_FMT " MSI-X: %u entries (the guest sees %u), table BAR%u+0x%x = 0x%llx, PBA BAR%u+0x%x",
		 BDF(dev), n, size, table & BMPT_MSIX_BIR, table & ~BMPT_MSIX_BIR, (unsigned long long)dev->msix_table,
		 pba & BMPT_MSIX_BIR, pba & ~BMPT_MSIX_BIR);
	return 0;
}

/* PCIe (§6.8.2, PCIe Base 6.1.4.2): the table and PBA are accessed as
 * aligned DWORDs or QWORDs; so is everything else in the trapped pages. */
static int msix_check(const struct bmpt_dev *dev, uint64_t gpa, unsigned size)
{
	uint64_t o = gpa - dev->msix_trap_gpa;
	if ((size == 4 || size == 8) && !(gpa & (size - 1)) && o < dev->msix_trap_size && o + size <= dev->msix_trap_size)
		return 0;
	port_log("bmpt: " BDF_FMT " MSI-X table page: %u-byte access at 0x%llx refused (aligned DWORD or QWORD only)",
		 BDF(dev), size, (unsigned long long)gpa);
	return -PORT_EINVAL;
}

/* A pass-through access in the trapped pages reaches the device only inside
 * the table's or the PBA's BAR: a BAR smaller than a page shares its page
 * with whatever lies next to it. */
static int msix_passthrough_check(const struct bmpt_dev *dev, uint64_t gpa, unsigned size)
{
	for (unsigned i = 0; i < 2; i++)
		if (gpa >= dev->msix_bar_base[i] && gpa - dev->msix_bar_base[i] + size <= dev->msix_bar_size[i])
			return 0;
	port_log("bmpt: " BDF_FMT " MSI-X table page: access at 0x%llx is outside the device's BARs: refused", BDF(dev),
		 (unsigned long long)gpa);
	return -PORT_EINVAL;
}

/* The table entry gpa falls in (-1: outside the physical table) and its
 * DWORD.  The table is 8-byte aligned, so an aligned QWORD stays in one entry. */
static int msix_entry_at(const struct bmpt_dev *dev, uint64_t gpa, unsigned *dw)
{
	uint64_t o = gpa - dev->msix_table;
	if (gpa < dev->msix_table || o >= (uint64_t)dev->msix_phys_size * BMPT_MSIX_ENTRY)
		return -1;
	*dw = (unsigned)(o % BMPT_MSIX_ENTRY) / 4;
	return (int)(o / BMPT_MSIX_ENTRY);
}

int bmpt_msix_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct bmpt_dev *dev = ctx;
	unsigned dw = 0;
	if (msix_check(dev, gpa, size))
		return -PORT_EINVAL;
	int k = msix_entry_at(dev, gpa, &dw);
	if (k < 0) {   /* the PBA or another register: the device's, GPA = HPA */
		if (msix_passthrough_check(dev, gpa, size))
			return -PORT_EINVAL;
		*val = (size == 8 ? port_mmio_read64(gpa) : port_mmio_read32(gpa)) | pba_pending(dev, gpa, size);
		return 0;
	}
	uint64_t v = msix_state_read(&dev->msix_state, (unsigned)k, dw);
	if (size == 8)
		v |= (uint64_t)msix_state_read(&dev->msix_state, (unsigned)k, dw + 1) << 32;
	*val = v;
	return 0;
}

int bmpt_msix_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct bmpt_dev *dev = ctx;
	unsigned dw = 0;
	if (msix_check(dev, gpa, size))
		return -PORT_EINVAL;
	int k = msix_entry_at(dev, gpa, &dw);
	if (k < 0) {
		if (msix_passthrough_check(dev, gpa, size))
			return -PORT_EINVAL;
		if (size == 8)
			port_mmio_write64(gpa, val);
		else
			port_mmio_write32(gpa, (uint32_t)val);
		return 0;
	}
	if ((unsigned)k >= dev->msix_size)
		return 0;   /* past the guest's Table Size: dropped */
	const uint32_t dwords[2] = { (uint32_t)val, (uint32_t)(val >> 32) };
	dev->msix_writes++;
	msix_state_write(&dev->msix_state, (unsigned)k, dw, dwords, size / 4);
	return 0;
}

/* The core's pending bits over the device's PBA: an interrupt that reached
 * its host vector while the guest had the entry masked (PCI 3.0 §6.8.2.10:
 * bit k of the PBA is entry k's Pending Bit). */
static uint64_t pba_pending(const struct bmpt_dev *dev, uint64_t gpa, unsigned size)
{
	uint64_t bits = 0;
	for (unsigned k = 0; k < dev->msix_routes; k++) {
		uint64_t byte = dev->msix_pba + k / 8;
		if (byte >= gpa && byte < gpa + size && glue_msi_route_pending(dev->glue, dev->msix_entries[k].groute))
			bits |= 1ull << ((byte - gpa) * 8 + k % 8);
	}
	return bits;
}

/* --- config space accesses ---------------------------------------------------- */

static int check_access(const struct bmpt_dev *dev, uint64_t gpa, unsigned size, unsigned *off)
{
	uint64_t o = gpa - dev->c.virt_cfg_gpa;
	if (o >= PAGE || (size != 1 && size != 2 && size != 4 && size != 8) || (o & (size - 1)))
		return -PORT_EINVAL;
	*off = (unsigned)o;
	return 0;
}

/* An 8-byte access is two dword accesses (ECAM is dword-granular).  The
 * 256 bytes are the config virtualizer's (vmm_glue/dev/pt_config: every
 * byte live but the MSI and MSI-X registers); the extended space reads
 * through. */
int bmpt_cfg_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct bmpt_dev *dev = ctx;
	unsigned off;
	if (check_access(dev, gpa, size, &off))
		return -PORT_EINVAL;
	if (size == 8) {
		uint64_t lo = 0, hi = 0;
		int rc = bmpt_cfg_read(dev, gpa, 4, &lo);
		if (!rc)
			rc = bmpt_cfg_read(dev, gpa + 4, 4, &hi);
		*val = lo | hi << 32;
		return rc;
	}
	if (off < PCI_CFG_SIZE) {
		*val = pt_config_read(&dev->cfgv, off, size);
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)(phys_read(dev, off + i, 1) & 0xff) << (8 * i);
	*val = v;
	return 0;
}

static bool overlaps(unsigned off, unsigned size, unsigned at, unsigned len)
{
	return at && off < at + len && at < off + size;
}

/* Only COMMAND's guest bits and the MSI / MSI-X registers take a write;
 * memory space turned back on rewrites the physical table (msix_resync). */
int bmpt_cfg_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct bmpt_dev *dev = ctx;
	unsigned off;
	if (check_access(dev, gpa, size, &off))
		return -PORT_EINVAL;
	if (size == 8) {
		int rc = bmpt_cfg_write(dev, gpa, 4, val & 0xffffffffu);
		return rc ? rc : bmpt_cfg_write(dev, gpa + 4, 4, val >> 32);
	}
	if (off >= PCI_CFG_SIZE)
		return 0;
	dev->cap_writes += overlaps(off, size, dev->msi, dev->msi_len);
	dev->cap_writes += overlaps(off, size, dev->msix, BMPT_MSIX_CAP_LEN);
	unsigned touched = pt_config_write(&dev->cfgv, off, size, (uint32_t)val);
	if ((touched & PT_CFG_W_MEMORY_ON) && dev->msix_routes)
		msix_resync(dev);
	return 0;
}

/* --- the device ---------------------------------------------------------------- */

/* Every host vector stands for one source: the MSI route's and each MSI-X
 * entry's differ. */
static int check_vectors(const struct bmpt_dev *dev)
{
	const uint8_t *v = dev->c.msix_host_vectors;
	for (unsigned k = 0; dev->c.table && k < dev->msix_size; k++) {
		bool dup = dev->msi && v[k] == dev->c.host_vector;
		for (unsigned j = 0; j < k; j++)
			dup |= v[j] == v[k];
		if (dup) {
			port_log("bmpt: " BDF_FMT " MSI-X entry %u: host vector 0x%x is already taken", BDF(dev), k, v[k]);
			return -PORT_EINVAL;
		}
	}
	return 0;
}

/* A source's two halves: its IRTE (ir_route) and the core's route from
 * its host vector to the guest's message (glue.h), masked until the guest
 * programs it. */
static int open_route(struct bmpt_dev *dev, struct ir_route *rt, struct glue_msi_route **groute,
		      const uint8_t *host_vector)
{
	const struct ir_route_cfg cfg = {
		.table = dev->c.table, .guest = dev->c.guest,
		.source = { .sid = dev->c.rid, .sq = IRTE_SQ_ALL, .svt = IRTE_SVT_SID },
		.n_msgs = 1, .host_vectors = host_vector,
	};
	int rc = ir_route_open(rt, &cfg);
	if (rc)
		return rc;
	rc = glue_msi_route_add(dev->glue, *host_vector, 0, 0, true, groute);
	if (rc)
		close_route(dev, rt, groute);
	return rc;
}

static void close_route(struct bmpt_dev *dev, struct ir_route *rt, struct glue_msi_route **groute)
{
	if (*groute)
		glue_msi_route_del(dev->glue, *groute);
	*groute = NULL;
	ir_route_close(rt);
}

static void close_routes(struct bmpt_dev *dev)
{
	if (dev->route_open)
		close_route(dev, &dev->route, &dev->groute);
	dev->route_open = false;
	for (unsigned k = 0; k < dev->msix_routes; k++)
		close_route(dev, &dev->msix_entries[k].route, &dev->msix_entries[k].groute);
	dev->msix_routes = 0;
}

/* The core's route follows the IRTE: the guest's message, masked while the
 * shadow is (masked by the guest, or refused: the IRTE blocked). */
static void follow_route(struct bmpt_dev *dev, struct glue_msi_route *groute, const struct ir_route *rt)
{
	const struct msi_msg *m = &rt->virt_msi;
	int rc = glue_msi_route_update(dev->glue, groute, (uint64_t)m->addr_hi << 32 | m->addr_lo, m->data,
				       rt->shadow_masked);
	if (rc)
		port_log("bmpt: " BDF_FMT " the core refused the route of host vector 0x%x (%d)", BDF(dev),
			 rt->host_vectors[0], rc);
}

/* One route for MSI, one per MSI-X entry the guest sees; all or none. */
static int open_routes(struct bmpt_dev *dev)
{
	int rc = 0;
	if (dev->msi) {
		rc = open_route(dev, &dev->route, &dev->groute, &dev->c.host_vector);
		dev->route_open = rc == 0;
	}
	for (unsigned k = 0; !rc && k < dev->msix_size; k++) {
		rc = open_route(dev, &dev->msix_entries[k].route, &dev->msix_entries[k].groute,
				&dev->c.msix_host_vectors[k]);
		if (!rc)
			dev->msix_routes = k + 1;
	}
	if (rc) {
		port_log("bmpt: " BDF_FMT " no interrupt route for %s (%d): none kept", BDF(dev),
			 dev->msi && !dev->route_open ? "MSI" : "an MSI-X entry", rc);
		close_routes(dev);
	}
	return rc;
}

/* The config page and the MSI-X table pages, trapped through the core
 * contract (glue.h); the domain follows the holes they leave in the map. */
static int cfg_trap(void *ctx, uint64_t gpa, uint8_t *data, unsigned size, bool is_write);
static int msix_trap(void *ctx, uint64_t gpa, uint8_t *data, unsigned size, bool is_write);

static int trap(struct bmpt_dev *dev, uint64_t gpa, uint64_t size, glue_trap_fn fn, int *id)
{
	int rc = glue_trap(dev->glue, GLUE_MMIO, gpa, size, fn, dev, id);
	if (!rc && dev->c.dma)
		rc = bmpt_dma_sync(dev->c.dma, gpa, size);
	return rc;
}

static void untrap(struct bmpt_dev *dev, int *id)
{
	if (*id >= 0)
		glue_untrap(dev->glue, *id);
	*id = -1;
}

int bmpt_dev_init(struct bmpt_dev *dev, struct glue *g, const struct bmpt_dev_cfg *cfg)
{
	if (!dev || !g || !cfg || !cfg->cfg.read || !cfg->cfg.write || (cfg->virt_cfg_gpa & (PAGE - 1)) ||
	    (cfg->table && !cfg->guest))
		return -PORT_EINVAL;
	*dev = (struct bmpt_dev){ .c = *cfg, .glue = g, .cfg_trap = -1, .msix_trap = -1 };
	const struct pt_config_phys phys = { cfg_acc_read, cfg_acc_write, dev };
	pt_config_init(&dev->cfgv, &phys, PT_CFG_LIVE_RD);
	dev->msi = find_cap(dev, PCI_CAP_ID_MSI);
	dev->msix = find_cap(dev, PCI_CAP_ID_MSIX);
	if (!dev->msi && !dev->msix) {
		port_log("bmpt: function " BDF_FMT " has neither MSI nor MSI-X", BDF(dev));
		return -PORT_ENODEV;
	}
	int rc = caps_fit(dev);
	if (!rc && dev->msix)
		rc = msix_probe(dev);
	if (!rc)
		rc = check_vectors(dev);
	if (!rc && cfg->table)
		rc = open_routes(dev);
	if (rc)
		return rc;
	/* The traps before the device: a core that cannot make them (no slot
	 * left: -PORT_ENOSPC) leaves the device untouched. */
	rc = trap(dev, cfg->virt_cfg_gpa, PAGE, cfg_trap, &dev->cfg_trap);
	if (!rc && dev->msix)
		rc = trap(dev, dev->msix_trap_gpa, dev->msix_trap_size, msix_trap, &dev->msix_trap);
	if (rc)
		port_log("bmpt: " BDF_FMT " needs %u MMIO trap(s), the core made %u (%d)", BDF(dev),
			 dev->msix ? 2u : 1u, (dev->cfg_trap >= 0) + (dev->msix_trap >= 0), rc);
	/* The device starts with MSI and MSI-X off, every MSI-X entry masked. */
	if (!rc && dev->msi)
		rc = msi_init_virtual(dev);
	if (!rc && dev->msix)
		msix_phys_off(dev);
	if (rc) {
		untrap(dev, &dev->msix_trap);
		untrap(dev, &dev->cfg_trap);
		close_routes(dev);
	}
	dev->c.msix_host_vectors = NULL;   /* read at init only (the routes copied them) */
	return rc;
}

int bmpt_dev_host_irq(struct bmpt_dev *dev, uint8_t host_vector)
{
	unsigned vcpu;
	uint8_t virt_vector;
	uint64_t *count = NULL;
	bool ours = dev->route_open && !ir_route_lookup_host_vector(&dev->route, host_vector, &vcpu, &virt_vector);
	for (unsigned k = 0; !ours && k < dev->msix_routes; k++) {
		struct bmpt_msix_entry *e = &dev->msix_entries[k];
		ours = !ir_route_lookup_host_vector(&e->route, host_vector, &vcpu, &virt_vector);
		count = &e->injected;
	}
	struct core_glue *cg = core_glue_of(dev->glue);
	if (!ours || !cg)
		return -PORT_ENOENT;
	int rc = core_glue_host_irq(cg, host_vector);
	if (!rc) {
		dev->injected++;
		if (count)
			(*count)++;
	}
	return rc;
}

void bmpt_dev_fini(struct bmpt_dev *dev)
{
	if (dev->msi) {
		uint16_t ctrl = (uint16_t)phys_read(dev, dev->msi + BMPT_MSI_CTRL, 2);
		phys_write(dev, dev->msi + BMPT_MSI_CTRL, 2, ctrl & (uint16_t)~BMPT_MSI_CTRL_EN);
	}
	if (dev->msix_phys_size)
		msix_phys_off(dev);
	close_routes(dev);
}

/* --- glue_trap_fn adapters ------------------------------------------------------ */

/* One access in glue's byte form to a read/write pair in value form; a
 * refused read returns all-ones, as a master abort would. */
static int trap_access(int (*rd)(void *, uint64_t, unsigned, uint64_t *),
		       int (*wr)(void *, uint64_t, unsigned, uint64_t),
		       void *ctx, uint64_t gpa, uint8_t *data, unsigned size, bool is_write)
{
	uint64_t val = glue_get_le(data, size);
	int rc = is_write ? wr(ctx, gpa, size, val) : rd(ctx, gpa, size, &val);
	if (!is_write)
		glue_put_le(data, size, rc ? ~0ull : val);
	return rc;
}

static int cfg_trap(void *ctx, uint64_t gpa, uint8_t *data, unsigned size, bool is_write)
{
	return trap_access(bmpt_cfg_read, bmpt_cfg_write, ctx, gpa, data, size, is_write);
}

static int msix_trap(void *ctx, uint64_t gpa, uint8_t *data, unsigned size, bool is_write)
{
	return trap_access(bmpt_msix_read, bmpt_msix_write, ctx, gpa, data, size, is_write);
}
