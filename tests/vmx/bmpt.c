/*
 * bmpt.c — the VMX image's passthrough half (tests/vmx/main.c runs it when
 * the platform has a VT-d unit): the bare-metal passthrough glue
 * (vmm_glue/dev/bm_passthrough) against QEMU's intel-iommu, without
 * launching a guest: TCG has no VMX, so
 * the image builds the guest's EPT (GPA != HPA) as the core would, derives
 * the VT-d domain from it, and then acts as the guest — it programs the edu
 * (a passed-through function) with guest-physical DMA addresses, and writes
 * the guest's MSI capability through the trapped-config path (the same
 * callback an EPT violation at the guest's config page reaches,
 * vmx_vm_mmio_access).  What is checked is what QEMU's VT-d model and the
 * edu did: bytes at the HPA the EPT names, fault records, the vector an
 * interrupt arrived on, and the vector the core would inject.
 *
 * Guest layout:  GPA [0, 1 GiB) RAM  -> HPA [1 GiB, 2 GiB)  (one 1 GiB leaf;
 *                                      the tests touch its first 256 MiB)
 *                GPA 0xb0018000        its config page for the edu (virtual
 *                                      00:03.0), trapped
 *                GPA 0xb0020000        its config page for the igb (virtual
 *                                      00:04.0), trapped
 *                igb BAR0, BAR3        at GPA = HPA (BARs are not
 *                                      virtualized); the page of BAR3 that
 *                                      holds the MSI-X table trapped
 * The igb (an 82576 PF, MSI-X) is the second passed-through function: the
 * image plays the guest programming its MSI-X table through the trapped
 * page, and makes the igb send each vector (EICS).
 * Variants (--append): aw=48|39 (the unit's AGAW: the domain shares the
 * EPT's PML4 / its PDPT) and mode=share|mirror (mirror forced).
 */
#include "baremetal/acpi.h"
#include "baremetal/boot.h"
#include "baremetal/console.h"
#include "baremetal/edu.h"
#include "baremetal/idt.h"
#include "baremetal/igb.h"
#include "baremetal/lapic.h"
#include "baremetal/libc.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "iommu/dmar.h"
#include "iommu/vtd_context.h"
#include "iommu/vtd_fault.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "pci/pci_cap.h"
#include "port.h"
#include "tests/vmx/vmx_test.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/dev/bm_passthrough.h"
#include "vmm_glue/vmx/vmx.h"

#define PAGE_SZ 4096ull
#define SZ_1G (1ull << 30)
#define MS (1000ull * 1000)
#define GUEST_RAM_HPA SZ_1G            /* physical: where the guest's RAM is */
#define GUEST_RAM_SIZE SZ_1G
#define GPA_OUTSIDE (SZ_1G + SZ_1G / 2) /* no guest memory there */
#define VIRT_CFG_GPA 0xb0018000ull     /* virtual: the guest's ECAM page of 00:03.0 */
#define VEC_GUEST 0x41                 /* virtual: the guest's vector */
#define VEC_GUEST2 0x43
#define VEC_HOST 0x51                  /* physical: what the IRTE names */
#define FR_WRITE 0x05                  /* VT-d 7.1.3: write without permission / not present */
#define IGB_CFG_GPA 0xb0020000ull      /* virtual: the guest's ECAM page of 00:04.0 */
#define IGB_ENTRIES 3                  /* MSI-X entries the guest gets (of the igb's 10) */
#define IGB_VEC_MSI 0x55               /* physical: the igb's MSI (unused by the guest) */
static const uint8_t igb_host_vec[IGB_ENTRIES] = { 0x52, 0x53, 0x54 };   /* physical */
static const uint8_t igb_guest_vec[IGB_ENTRIES] = { 0x61, 0x62, 0x63 };  /* virtual */

static unsigned aw;
static bool force_mirror;
static struct vtd_unit unit;
static struct ir_table table;
static struct edu edu;
static uint16_t rid;
static uint32_t my_apic;
static struct dmar_info dmar;

static struct vmx_cpu cpu;     /* capabilities only: no VMXON under TCG */
static struct vmx_vm vm;
static struct vmx_vcpu vcpu;   /* event state only: no VMCS under TCG */
static struct bmpt_dma dma;
static struct bmpt_dev dev;
static struct igb igb;
static uint16_t igb_rid;
static struct bmpt_dev igb_dev;

/* --- helpers --------------------------------------------------------------- */

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void pattern_fill(void *p, uint32_t seed)
{
	uint32_t *w = p;
	for (unsigned i = 0; i < PAGE_SZ / 4; i++)
		w[i] = seed ^ (i * 0x9e3779b9u);
}

static bool pattern_is(const void *p, uint32_t seed)
{
	const uint32_t *w = p;
	for (unsigned i = 0; i < PAGE_SZ / 4; i++)
		if (w[i] != (seed ^ (i * 0x9e3779b9u)))
			return false;
	return true;
}

static void *hpa_ptr(uint64_t hpa) { return port_phys_to_virt(hpa); }

/* A pool page with a pattern: its physical address is used as a GPA, so an
 * untranslated DMA would hit it. */
static uint64_t test_pages; /* pool pages the tests keep */

static void *test_page(void)
{
	void *p = mem_page_alloc();
	if (!p)
		tap_bail("page pool exhausted");
	test_pages++;
	return p;
}

static uint64_t sentinel(uint32_t seed)
{
	void *p = test_page();
	if (!p)
		tap_bail("page pool exhausted");
	pattern_fill(p, seed);
	return port_virt_to_phys(p);
}

static int faults_take(struct vtd_fault *first)
{
	struct vtd_fault f[8];
	int n = vtd_fault_collect(&unit, f, 8, NULL);
	for (int i = 0; i < n; i++)
		tap_diag("fault record: sid 0x%x %s addr 0x%llx reason 0x%x (%s)%s", f[i].sid,
			 f[i].write ? "write" : "read", (unsigned long long)f[i].addr, f[i].reason,
			 vtd_fault_reason_name(f[i].reason), f[i].irq ? " [IR]" : "");
	if (n > 0 && first)
		*first = f[0];
	return n;
}

/* The guest's config accesses, through the trap. */
static uint64_t guest_cfg_read(unsigned off, unsigned size)
{
	uint64_t v = ~0ull;
	if (vmx_vm_mmio_access(&vm, VIRT_CFG_GPA + off, false, size, &v))
		tap_diag("trapped read at +0x%x failed", off);
	return v;
}

/* The guest walks its (virtual) capability list through a config read
 * function, with the tree's walker (pci/pci_cap); 0 when the ID is absent. */
static uint64_t (*walk_rd)(unsigned off, unsigned size);
static uint32_t walk_acc(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	return (uint32_t)walk_rd(off, size);
}

static unsigned guest_cap(uint64_t (*rd)(unsigned off, unsigned size), unsigned id)
{
	const struct pci_cfg_acc acc = { walk_acc, NULL, PCI_CFG_SIZE };
	struct pci_cap c;
	walk_rd = rd;
	return pci_cap_find(&acc, id, &c) == 0 ? c.off : 0;
}

static void guest_cfg_write(unsigned off, unsigned size, uint64_t v)
{
	if (vmx_vm_mmio_access(&vm, VIRT_CFG_GPA + off, true, size, &v))
		tap_diag("trapped write at +0x%x failed", off);
}

/* The host's handler for the host vector: what the core's external-
 * interrupt exit would call. */
static int last_host_irq_rc = 1;
static void host_irq(struct idt_frame *f, void *ctx)
{
	last_host_irq_rc = bmpt_dev_host_irq(ctx, (uint8_t)f->vector);
}

/* Raise the edu's interrupt once; count where it arrived. */
static uint64_t n_host, n_guest, n_guest2;
static void raise_irq(bool expect)
{
	idt_reset_count(VEC_HOST);
	idt_reset_count(VEC_GUEST);
	idt_reset_count(VEC_GUEST2);
	edu_irq_raise(&edu, 1);
	idt_wait_count(VEC_HOST, 1, expect ? 500 * MS : 100 * MS);
	edu_irq_ack(&edu, 1);
	n_host = idt_count(VEC_HOST);
	n_guest = idt_count(VEC_GUEST);
	n_guest2 = idt_count(VEC_GUEST2);
}

/* --- setup ------------------------------------------------------------------ */

static void setup(void)
{
	char a[8] = "", m[8] = "share";
	if (boot_cmdline_get("aw", a, sizeof(a)))
		tap_bail("no variant: run with --append \"aw=48|39 mode=share|mirror\"");
	boot_cmdline_get("mode", m, sizeof(m));
	aw = streq(a, "39") ? 39 : 48;
	force_mirror = streq(m, "mirror");
	static char name[32];
	console_snprintf(name, sizeof(name), "qemu aw%u %s", aw, force_mirror ? "mirror" : "share");
	tap_set_prefix(name);

	if (edu_find(&edu, 0))
		tap_bail("no edu: run with -device edu,dma_mask=0xffffffffffff");
	rid = pci_rid(edu.pci);
	if (igb_find(&igb, 0) || !igb.msix_cap)
		tap_bail("no igb with MSI-X: run with -device igb");
	igb_rid = pci_rid(igb.pci);
	my_apic = lapic_id();
	const struct acpi_header *t = acpi_find("DMAR", 0);
	if (!t || dmar_parse(t, t->length, 0, &dmar) || !dmar.ndrhd)
		tap_bail("no ACPI DMAR: run with -device intel-iommu");
	int r = vtd_unit_init(&unit, dmar.drhd[0].reg_base, 0);
	if (!r)
		r = vtd_unit_enable(&unit);
	if (!r)
		r = ir_table_init(&table, 256, 0);
	if (!r)
		r = ir_table_enable(&table, &unit);
	if (r)
		tap_bail("VT-d unit at 0x%llx: DMA and interrupt remapping could not be enabled (%d)",
			 (unsigned long long)dmar.drhd[0].reg_base, r);

	/* The guest, as the core builds it on a CPU whose EPT has 4 levels,
	 * WB, 2 MiB and 1 GiB pages (IA32_VMX_EPT_VPID_CAP bits 6, 14, 16, 17). */
	cpu.caps.ept_vpid = EPT_CAP_PWL4 | EPT_CAP_MT_WB | EPT_CAP_2M | EPT_CAP_1G;
	if ((r = vmx_vm_init(&vm, &cpu, NULL, NULL)))
		tap_bail("vmx_vm_init: %d", r);
	/* The 1 GiB leaf's first 256 MiB (where GPA = a pool page's address
	 * lands) is claimed: the tests touch no other part of it. */
	if ((r = mem_claim(GUEST_RAM_HPA, MEM_POOL_LIMIT)))
		tap_bail("cannot claim the guest's RAM at HPA 0x%llx (%d): run with -m 2G",
			 (unsigned long long)GUEST_RAM_HPA, r);
	if ((r = vmx_vm_map(&vm, 0, GUEST_RAM_HPA, GUEST_RAM_SIZE, EPT_RWX | EPT_RAM, EPT_MT_WB)))
		tap_bail("EPT map of the guest's RAM: %d", r);
	vcpu = (struct vmx_vcpu){ .core = { &vm.core, -1 }, .vm = &vm };
	tap_diag("VT-d: CAP.SAGAW 0x%x MGAW %u SLLPS 0x%x CM %u ECAP.C %u SC %u PI %u; edu %02x:%02x.%u; "
		 "igb %02x:%02x.%u BAR0 0x%llx BAR3 0x%llx+0x%llx",
		 unit.caps.sagaw, unit.caps.mgaw, unit.caps.sllps, unit.caps.cm, unit.caps.c, unit.caps.sc,
		 unit.caps.pi, rid >> 8, (rid >> 3) & 31, rid & 7, igb_rid >> 8, (igb_rid >> 3) & 31, igb_rid & 7,
		 (unsigned long long)igb.mmio, (unsigned long long)igb.msix_bar, (unsigned long long)igb.msix_bar_size);
}

/* --- DMA ------------------------------------------------------------------- */

static void test_domain(void)
{
	int r = bmpt_dma_init(&dma, &vm.core, &unit, force_mirror ? BMPT_FORCE_MIRROR : 0);
	int a = r ? r : bmpt_dma_attach(&dma, rid);
	uint64_t lo = 0, hi = 0;
	vtd_ctx_read(&unit, (uint8_t)(rid >> 8), (uint8_t)rid, &lo, &hi);
	uint64_t slptptr = lo & VTD_GENMASK(63, 12);
	uint64_t want_top = force_mirror ? port_virt_to_phys(dma.dom.top)
			    : aw == 48   ? vm.core.ept.pml4_pa
					 : ept_entry_addr(vm.core.ept.pml4[0]);
	/* Shared: as many levels as the unit's AGAW (the EPT's 4, or 3 from
	 * PML4[0] down); mirror: the smallest AGAW covering the guest (39 bits). */
	unsigned want_levels = aw == 48 && !force_mirror ? 4 : 3;
	enum bmpt_mode want_mode = force_mirror ? BMPT_MIRROR : BMPT_SHARED;
	tap_ok(r == 0 && a == 0 && dma.mode == want_mode && dma.dom.levels == want_levels &&
		       slptptr == want_top && (lo & 1) && ((hi & 7) == dma.dom.aw) &&
		       ((hi >> 8) & 0xffff) == dma.dom.did &&
		       (force_mirror ? slptptr != vm.core.ept.pml4_pa && slptptr != ept_entry_addr(vm.core.ept.pml4[0]) : 1),
	       "guest domain %s the EPT: %u-level, context entry of %02x:%02x.%u = 0x%016llx%016llx "
	       "(SLPTPTR 0x%llx = %s, AW %llu, DID %llu) (%d/%d)",
	       dma.mode == BMPT_SHARED ? "shares" : "mirrors", dma.dom.levels, rid >> 8, (rid >> 3) & 31, rid & 7,
	       (unsigned long long)hi, (unsigned long long)lo, (unsigned long long)slptptr,
	       force_mirror ? "its own table" : aw == 48 ? "the EPT PML4" : "the EPT PDPT under PML4[0]",
	       (unsigned long long)(hi & 7), (unsigned long long)((hi >> 8) & 0xffff), r, a);
	tap_diag("domain mode: %s", dma.why);
	if (r || a)
		tap_bail("no DMA domain for the guest");
}

/* The guest's edu copies GPA src -> GPA dst: the data must come from and go
 * to the HPAs the EPT names (HPA = 1 GiB + GPA), never the identity pages. */
static void test_dma_translated(void)
{
	uint64_t gpa_src = sentinel(0x51515151), gpa_dst = sentinel(0xd5d5d5d5);
	pattern_fill(hpa_ptr(GUEST_RAM_HPA + gpa_src), 0x600d0001);
	pattern_fill(hpa_ptr(GUEST_RAM_HPA + gpa_dst), 0);
	int r1 = edu_dma_read_sync(&edu, gpa_src, 0, EDU_BUF_SIZE);
	int r2 = edu_dma_write_sync(&edu, gpa_dst, 0, EDU_BUF_SIZE);
	int nf = faults_take(NULL);
	tap_ok(r1 == 0 && r2 == 0 && pattern_is(hpa_ptr(GUEST_RAM_HPA + gpa_dst), 0x600d0001) &&
		       pattern_is(hpa_ptr(gpa_src), 0x51515151) && pattern_is(hpa_ptr(gpa_dst), 0xd5d5d5d5) && nf == 0,
	       "edu DMA with guest-physical addresses: read GPA 0x%llx, write GPA 0x%llx -> data at HPA 0x%llx "
	       "(the EPT's), identity pages untouched, %d fault(s) (%d/%d)",
	       (unsigned long long)gpa_src, (unsigned long long)gpa_dst,
	       (unsigned long long)(GUEST_RAM_HPA + gpa_dst), nf, r1, r2);
}

static void test_dma_outside(void)
{
	/* The identity page at GPA_OUTSIDE is RAM the guest does not own. */
	bool claimed = mem_claim(GPA_OUTSIDE, PAGE_SZ) == 0;
	if (claimed)
		pattern_fill(hpa_ptr(GPA_OUTSIDE), 0x0de0de00);
	int r = edu_dma_write_sync(&edu, GPA_OUTSIDE, 0, EDU_BUF_SIZE);
	struct vtd_fault f = { 0 };
	int nf = faults_take(&f);
	tap_ok(nf == 1 && f.sid == rid && f.addr == GPA_OUTSIDE && f.write && f.reason == FR_WRITE &&
		       (!claimed || pattern_is(hpa_ptr(GPA_OUTSIDE), 0x0de0de00)),
	       "edu DMA write to GPA 0x%llx (outside the guest) blocked: %d fault(s), sid 0x%x addr 0x%llx %s reason "
	       "0x%x (%s)%s (%d)",
	       (unsigned long long)GPA_OUTSIDE, nf, f.sid, (unsigned long long)f.addr, f.write ? "write" : "read",
	       f.reason, vtd_fault_reason_name(f.reason), claimed ? ", page there unchanged" : "", r);
}

/* The EPT changes after the device is attached: one guest page moves to
 * another HPA (the 1 GiB leaf splits to 2 MiB and 4 KiB).  The device must
 * follow — the IOTLB may hold the old 1 GiB translation. */
static void test_ept_change(void)
{
	uint64_t gpa = sentinel(0x3e3e3e3e);
	void *new_page = test_page();
	uint64_t new_hpa = port_virt_to_phys(new_page);
	pattern_fill(hpa_ptr(GUEST_RAM_HPA + gpa), 0);
	/* Fill the edu's buffer with a known pattern (read it from guest RAM). */
	uint64_t gpa_pat = sentinel(0x1a1a1a1a);
	pattern_fill(hpa_ptr(GUEST_RAM_HPA + gpa_pat), 0x77777777);
	int r0 = edu_dma_read_sync(&edu, gpa_pat, 0, EDU_BUF_SIZE);
	int r1 = edu_dma_write_sync(&edu, gpa, 0, EDU_BUF_SIZE);      /* caches the old translation */
	bool old_landed = pattern_is(hpa_ptr(GUEST_RAM_HPA + gpa), 0x77777777);

	uint64_t syncs = dma.syncs;
	int m = bmpt_vm_map(&dma, gpa, new_hpa, PAGE_SZ, EPT_RWX | EPT_RAM, EPT_MT_WB);
	uint64_t ept_hpa = 0, ept_entry = 0, vtd_hpa = 0, psz = 0;
	unsigned level = 0, fl = 0;
	ept_lookup(&vm.core.ept, gpa, &ept_hpa, &ept_entry, &level);
	int tr = vtd_domain_translate(&dma.dom, gpa, &vtd_hpa, &fl, &psz);

	pattern_fill(hpa_ptr(GUEST_RAM_HPA + gpa_pat), 0x88888888);
	int r2 = edu_dma_read_sync(&edu, gpa_pat, 0, EDU_BUF_SIZE);
	int r3 = edu_dma_write_sync(&edu, gpa, 0, EDU_BUF_SIZE);
	int nf = faults_take(NULL);
	tap_ok(r0 == 0 && r1 == 0 && old_landed && m == 0 && dma.syncs == syncs + 1 && level == 1 &&
		       ept_hpa == new_hpa && tr == 0 && vtd_hpa == new_hpa && psz == PAGE_SZ && r2 == 0 && r3 == 0 &&
		       pattern_is(new_page, 0x88888888) && pattern_is(hpa_ptr(GUEST_RAM_HPA + gpa), 0x77777777) &&
		       pattern_is(hpa_ptr(gpa), 0x3e3e3e3e) && nf == 0,
	       "EPT change after attach: GPA 0x%llx moved from HPA 0x%llx to 0x%llx (EPT level-%u leaf, VT-d %s "
	       "4 KiB leaf): the next DMA lands at the new HPA, the old one keeps the earlier data, %d fault(s)",
	       (unsigned long long)gpa, (unsigned long long)(GUEST_RAM_HPA + gpa), (unsigned long long)new_hpa,
	       level, dma.mode == BMPT_SHARED ? "the same" : "a mirrored", nf);
	if (dma.mode == BMPT_SHARED) {
		/* Shared: the leaf VT-d walks to is the EPT's own entry. */
		uint64_t *t = dma.dom.top;
		for (unsigned l = dma.dom.levels; l > 1 && t; l--) {
			uint64_t e = t[(gpa >> (12 + 9 * (l - 1))) & 511];
			t = (e & 3) && !(e & VTD_SLPTE_PS) ? port_phys_to_virt(e & VTD_SLPTE_ADDR_MASK) : NULL;
		}
		uint64_t vtd_leaf = t ? t[(gpa >> 12) & 511] : 0;
		tap_diag("shared leaf for GPA 0x%llx: EPT entry 0x%llx, VT-d walk reads 0x%llx",
			 (unsigned long long)gpa, (unsigned long long)ept_entry, (unsigned long long)vtd_leaf);
	}
}

/* --- MSI: virtual -> shadow -> physical -------------------------------------- */

static struct ir_vcpu ir_vcpu;
static struct ir_guest guest;
static struct core_vcpu *vcpus[1] = { &vcpu.core };
/* The core as bm_passthrough's device side reaches it (glue.h), one for
 * both devices of the VM: made once, over the guest test_dev_init sets. */
static struct core_glue glue;
static bool glue_up;

static int glue_init(void)
{
	if (glue_up)
		return 0;
	int rc = core_glue_init(&glue, &vm.core, &guest, vcpus);
	glue_up = !rc;
	return rc;
}

static void test_dev_init(void)
{
	ir_vcpu = (struct ir_vcpu){ .virt_apic_id = 0, .host_apic_id = my_apic };
	guest = (struct ir_guest){ .name = "bmpt", .vcpus = &ir_vcpu, .n_vcpus = 1 };
	struct bmpt_dev_cfg c = {
		.rid = rid, .cfg = { pci_cfg_read, pci_cfg_write, (void *)edu.pci }, .virt_cfg_gpa = VIRT_CFG_GPA,
		.dma = &dma, .table = &table, .guest = &guest, .host_vector = VEC_HOST,
	};
	int r = glue_init();
	r = r ? r : bmpt_dev_init(&dev, &glue.glue, &c);
	idt_set_handler(VEC_HOST, host_irq, &dev);
	uint64_t hpa = 0;
	bool hole = ept_lookup(&vm.core.ept, VIRT_CFG_GPA, &hpa, NULL, NULL) == -PORT_ENOENT;
	/* The guest walks its (virtual) capability list through the trap. */
	uint32_t id = (uint32_t)guest_cfg_read(0, 4);
	unsigned msi = guest_cap(guest_cfg_read, PCI_CAP_ID_MSI);
	uint16_t ctrl = (uint16_t)guest_cfg_read(msi + 2, 2);
	tap_ok(r == 0 && hole && id == 0x11e81234 && msi == dev.msi && msi == edu.msi_cap &&
		       !(ctrl & BMPT_MSI_CTRL_EN) && (ctrl & BMPT_MSI_CTRL_64) && dev.route_open,
	       "guest config page GPA 0x%llx trapped (EPT hole): the guest reads ID 0x%08x, finds its MSI "
	       "capability at 0x%x, control 0x%04x (disabled, 64-bit); route opened on IRTE %u (%d)",
	       (unsigned long long)VIRT_CFG_GPA, id, msi, ctrl, dev.route.base, r);
}

/* The guest programs its MSI as a driver does: address, data, enable. */
static void guest_msi_program(uint8_t dest, uint8_t vector, bool level)
{
	struct msi_msg virt_msi;
	msi_compat_compose(&(struct msi_compat){ .dest_id = dest, .vector = vector, .level = level, .assert = level },
			   &virt_msi);
	unsigned m = dev.msi;
	guest_cfg_write(m + 4, 4, virt_msi.addr_lo);
	guest_cfg_write(m + 8, 4, virt_msi.addr_hi);
	guest_cfg_write(m + 12, 2, virt_msi.data);
	guest_cfg_write(m + 2, 2, BMPT_MSI_CTRL_EN);
}

static void test_msi_route(void)
{
	vcpu.core.pending_irq = -1;
	guest_msi_program(0, VEC_GUEST, false);
	unsigned m = dev.msi;
	/* virtual: what the guest reads back is what it wrote */
	uint32_t g_addr = (uint32_t)guest_cfg_read(m + 4, 4), g_data = (uint32_t)guest_cfg_read(m + 12, 2);
	/* shadow: the IRTE and the device's real message */
	const struct irte *e = ir_table_entry(&table, dev.route.base);
	struct irte_remapped f = { 0 };
	int d = e ? irte_decode_remapped(e, false, &f) : -1;
	uint32_t p_addr = pci_read32(edu.pci, (uint16_t)(m + 4)), p_data = pci_read16(edu.pci, (uint16_t)(m + 12));
	uint16_t p_ctrl = pci_read16(edu.pci, (uint16_t)(m + 2));
	struct msi_remap h = { 0 };
	int hd = msi_remap_decode(&(struct msi_msg){ p_addr, 0, p_data }, &h);
	/* physical: the interrupt itself */
	raise_irq(true);
	tap_ok(dev.last_update == 0 && g_addr == 0xfee00000u && g_data == VEC_GUEST && d == 0 && (e->lo & 1) &&
		       f.vector == VEC_HOST && f.dest == my_apic && !f.dest_logical && f.source.sid == rid &&
		       f.source.svt == IRTE_SVT_SID && hd == 0 && msi_is_remappable(&(struct msi_msg){ p_addr, 0, 0 }) &&
		       msi_remap_index(&h) == dev.route.base && (p_ctrl & BMPT_MSI_CTRL_EN) && n_host == 1 &&
		       n_guest == 0 && last_host_irq_rc == 0 && vcpu.core.pending_irq == VEC_GUEST && faults_take(NULL) == 0,
	       "guest MSI 0x%08x/0x%x (virtual, read back through the trap) -> IRTE %u: vector 0x%x, APIC 0x%x, SID "
	       "0x%x (shadow), edu holds 0x%08x/0x%x (remappable) -> arrived %llu time(s) on host vector 0x%x, %llu on "
	       "0x%x; the vCPU's pending injection is guest vector 0x%x",
	       g_addr, g_data, dev.route.base, f.vector, f.dest, f.source.sid, p_addr, p_data,
	       (unsigned long long)n_host, VEC_HOST, (unsigned long long)n_guest, VEC_GUEST, vcpu.core.pending_irq);
}

static void test_msi_mask_retarget(void)
{
	unsigned m = dev.msi;
	/* The guest disables MSI: the device must not signal. */
	vcpu.core.pending_irq = -1;
	guest_cfg_write(m + 2, 2, 0);
	uint16_t p_ctrl_off = pci_read16(edu.pci, (uint16_t)(m + 2));
	raise_irq(false);
	uint64_t silent = n_host + n_guest;
	int pend_off = vcpu.core.pending_irq;
	/* New vector, enabled again: the device keeps its handle, the host
	 * vector now stands for the new guest vector. */
	struct msi_msg shadow_before = dev.route.shadow_msi;
	guest_msi_program(0, VEC_GUEST2, false);
	raise_irq(true);
	tap_ok(!(p_ctrl_off & BMPT_MSI_CTRL_EN) && silent == 0 && pend_off == -1 && dev.last_update == 0 &&
		       dev.route.shadow_msi.addr_lo == shadow_before.addr_lo && n_host == 1 && n_guest2 == 0 &&
		       vcpu.core.pending_irq == VEC_GUEST2,
	       "guest disables MSI: edu MSI enable cleared, raise delivers nothing (%llu); guest reprograms vector "
	       "0x%x and enables: same handle, arrives on host vector 0x%x (%llu), injection pending for 0x%x",
	       (unsigned long long)silent, VEC_GUEST2, VEC_HOST, (unsigned long long)n_host, vcpu.core.pending_irq);
}

static void test_msi_refused(void)
{
	unsigned m = dev.msi;
	vcpu.core.pending_irq = -1;
	guest_cfg_write(m + 2, 2, 0);
	guest_msi_program(0, VEC_GUEST, true);    /* level-triggered: not passed through */
	int upd = dev.last_update;
	const struct irte *e = ir_table_entry(&table, dev.route.base);
	uint16_t p_ctrl = pci_read16(edu.pci, (uint16_t)(m + 2));
	raise_irq(false);
	tap_ok(upd < 0 && e && !(e->lo & 1) && !(p_ctrl & BMPT_MSI_CTRL_EN) && n_host + n_guest == 0 &&
		       vcpu.core.pending_irq == -1,
	       "level-triggered guest MSI refused (%d): IRTE %u not present, edu MSI disabled, nothing delivered",
	       upd, dev.route.base);
}

/* --- MSI-X: the igb, virtual -> shadow -> physical per table entry ------------ */

static unsigned guest_msix;    /* the guest's view: its MSI-X capability offset */
static uint64_t guest_table;   /* and its table's GPA, from BAR[BIR] + offset */

static uint64_t igb_cfg_rd(unsigned off, unsigned size)
{
	uint64_t v = ~0ull;
	if (vmx_vm_mmio_access(&vm, IGB_CFG_GPA + off, false, size, &v))
		tap_diag("trapped igb config read at +0x%x failed", off);
	return v;
}

static void igb_cfg_wr(unsigned off, unsigned size, uint64_t v)
{
	if (vmx_vm_mmio_access(&vm, IGB_CFG_GPA + off, true, size, &v))
		tap_diag("trapped igb config write at +0x%x failed", off);
}

/* The guest's accesses to its MSI-X table: through the trap (an EPT
 * violation at the table's page reaches this callback). */
static uint64_t table_rd(unsigned k, unsigned field, unsigned size)
{
	uint64_t v = ~0ull;
	if (vmx_vm_mmio_access(&vm, guest_table + 16ull * k + field, false, size, &v))
		tap_diag("trapped MSI-X read of entry %u +%u failed", k, field);
	return v;
}

static void table_wr(unsigned k, unsigned field, unsigned size, uint64_t v)
{
	if (vmx_vm_mmio_access(&vm, guest_table + 16ull * k + field, true, size, &v))
		tap_diag("trapped MSI-X write of entry %u +%u failed", k, field);
}

/* The device's own table entry, as the host reads it. */
static uint32_t phys_entry(unsigned k, unsigned field)
{
	return port_mmio_read32(igb_dev.msix_table + 16ull * k + field);
}

static uint16_t phys_msix_ctrl(void) { return pci_read16(igb.pci, (uint16_t)(igb.msix_cap + 2)); }

/* Fire igb vector k; count where interrupts arrived.  n_hv[j] / n_gv[j]:
 * entry j's host / guest vector. */
static uint64_t n_hv[IGB_ENTRIES], n_gv[IGB_ENTRIES];

static void igb_counts_reset(void)
{
	for (unsigned j = 0; j < IGB_ENTRIES; j++) {
		idt_reset_count(igb_host_vec[j]);
		idt_reset_count(igb_guest_vec[j]);
	}
}

static void igb_counts_take(void)
{
	for (unsigned j = 0; j < IGB_ENTRIES; j++) {
		n_hv[j] = idt_count(igb_host_vec[j]);
		n_gv[j] = idt_count(igb_guest_vec[j]);
	}
}

static uint64_t igb_sum(const uint64_t *n)
{
	uint64_t s = 0;
	for (unsigned j = 0; j < IGB_ENTRIES; j++)
		s += n[j];
	return s;
}

static void igb_raise(unsigned k, bool expect)
{
	igb_counts_reset();
	igb_msix_fire(&igb, k);
	idt_wait_count(igb_host_vec[k], 1, expect ? 500 * MS : 100 * MS);
	igb_counts_take();
}

/* The PBA's DWORD 0: not in the trapped page (QEMU puts it at BAR3 +
 * 0x2000), so the guest reads the device's own at GPA = HPA. */
static uint32_t guest_pba(void) { return port_mmio_read32(igb_dev.msix_pba); }

static void test_igb_init(void)
{
	int a = bmpt_dma_attach(&dma, igb_rid);
	/* The VMM maps the igb's BARs at GPA = HPA (BARs are not virtualized). */
	int m0 = bmpt_vm_map(&dma, igb.mmio, igb.mmio, igb.mmio_size, EPT_R | EPT_W, EPT_MT_UC);
	int m3 = bmpt_vm_map(&dma, igb.msix_bar, igb.msix_bar, igb.msix_bar_size, EPT_R | EPT_W, EPT_MT_UC);
	struct bmpt_dev_cfg c = {
		.rid = igb_rid, .cfg = { pci_cfg_read, pci_cfg_write, (void *)igb.pci }, .virt_cfg_gpa = IGB_CFG_GPA,
		.dma = &dma, .table = &table, .guest = &guest, .host_vector = IGB_VEC_MSI,
		.msix_host_vectors = igb_host_vec, .n_msix_host_vectors = IGB_ENTRIES,
	};
	int r = glue_init();
	r = r ? r : bmpt_dev_init(&igb_dev, &glue.glue, &c);
	for (unsigned k = 0; k < IGB_ENTRIES; k++)
		idt_set_handler(igb_host_vec[k], host_irq, &igb_dev);
	uint64_t hpa = 0;
	bool holes = ept_lookup(&vm.core.ept, IGB_CFG_GPA, &hpa, NULL, NULL) == -PORT_ENOENT &&
		     ept_lookup(&vm.core.ept, igb_dev.msix_table, &hpa, NULL, NULL) == -PORT_ENOENT;
	bool pba_mapped = ept_lookup(&vm.core.ept, igb_dev.msix_pba, &hpa, NULL, NULL) == 0 && hpa == igb_dev.msix_pba;
	/* The guest walks its capability list to MSI-X and finds its table:
	 * BAR[BIR] (the host's value) + the table offset. */
	uint32_t id = (uint32_t)igb_cfg_rd(0, 4);
	guest_msix = guest_cap(igb_cfg_rd, PCI_CAP_ID_MSIX);
	uint16_t ctrl = (uint16_t)igb_cfg_rd(guest_msix + 2, 2);
	uint32_t tbl = (uint32_t)igb_cfg_rd(guest_msix + 4, 4);
	unsigned bir = tbl & 7;
	uint32_t bar_lo = (uint32_t)igb_cfg_rd(0x10 + 4 * bir, 4);
	uint64_t bar_hi = (bar_lo & 6) == 4 ? igb_cfg_rd(0x14 + 4 * bir, 4) : 0;
	guest_table = ((bar_lo & ~0xfull) | bar_hi << 32) + (tbl & ~7u);
	igb_cfg_wr(guest_msix + 2, 2, 0x07ff);   /* Table Size is read-only */
	uint16_t ctrl2 = (uint16_t)igb_cfg_rd(guest_msix + 2, 2);
	/* The device: MSI-X off, every one of its entries masked. */
	uint16_t pctrl = phys_msix_ctrl();
	bool all_masked = true;
	for (unsigned k = 0; k < igb_dev.msix_phys_size; k++)
		all_masked &= (phys_entry(k, 12) & 1) != 0;
	/* The guest's entries start masked; past the table the trapped page
	 * is the device's; a 2-byte access is refused. */
	uint32_t v_ctrl = (uint32_t)table_rd(0, 12, 4);
	uint64_t past = ~0ull, bad = 0;
	uint64_t past_gpa = guest_table + 16ull * igb_dev.msix_phys_size;
	int pr = vmx_vm_mmio_access(&vm, past_gpa, false, 4, &past);
	int br = vmx_vm_mmio_access(&vm, guest_table + 12, false, 2, &bad);
	tap_ok(a == 0 && m0 == 0 && m3 == 0 && r == 0 && holes && pba_mapped && id == 0x10c98086 &&
		       guest_msix == igb.msix_cap && guest_msix == igb_dev.msix && bir == IGB_MSIX_BAR &&
		       guest_table == igb_dev.msix_table && (ctrl & 0x7ff) == IGB_ENTRIES - 1 &&
		       !(ctrl & BMPT_MSIX_CTRL_EN) && ctrl2 == ctrl && igb_dev.msix_phys_size == IGB_MSIX_VECTORS &&
		       !(pctrl & (BMPT_MSIX_CTRL_EN | BMPT_MSIX_CTRL_FMASK)) && all_masked && v_ctrl == 1 && pr == 0 &&
		       past == port_mmio_read32(past_gpa) && br == -PORT_EINVAL && igb_dev.msix_routes == IGB_ENTRIES &&
		       igb_dev.route_open,
	       "igb %02x:%02x.%u attached, BARs at GPA = HPA, config page GPA 0x%llx and MSI-X table page 0x%llx "
	       "trapped (EPT holes; the PBA's page still mapped): the guest finds MSI-X at 0x%x, Table Size %u of the "
	       "device's %u (read-only), table at BAR%u+0x%x = GPA 0x%llx, entries masked; the device's MSI-X off, all "
	       "%u entries masked; past the table the page is the device's, a 2-byte access refused (%d/%d/%d)",
	       igb_rid >> 8, (igb_rid >> 3) & 31, igb_rid & 7, (unsigned long long)IGB_CFG_GPA,
	       (unsigned long long)igb_dev.msix_trap_gpa, guest_msix, (ctrl & 0x7ff) + 1, igb_dev.msix_phys_size, bir,
	       tbl & ~7u, (unsigned long long)guest_table, igb_dev.msix_phys_size, a, r, br);
	if (r)
		tap_bail("no passthrough for the igb");
}

/* The guest programs entry k as a driver does: address, data, then the
 * vector control that unmasks it (entry 1 with QWORD stores). */
static void guest_msix_entry(unsigned k, uint8_t vector)
{
	struct msi_msg m;
	msi_compat_compose(&(struct msi_compat){ .dest_id = 0, .vector = vector }, &m);
	if (k == 1) {
		table_wr(k, 0, 8, (uint64_t)m.addr_hi << 32 | m.addr_lo);
		table_wr(k, 8, 8, m.data);   /* data, and vector control 0 */
		return;
	}
	table_wr(k, 0, 4, m.addr_lo);
	table_wr(k, 4, 4, m.addr_hi);
	table_wr(k, 8, 4, m.data);
	table_wr(k, 12, 4, 0);
}

static void test_msix_route(void)
{
	for (unsigned k = 0; k < IGB_ENTRIES; k++)
		guest_msix_entry(k, igb_guest_vec[k]);
	bool masked_while_off = true;   /* MSI-X still off: every entry effectively masked */
	for (unsigned k = 0; k < IGB_ENTRIES; k++)
		masked_while_off &= (phys_entry(k, 12) & 1) != 0;
	igb_cfg_wr(guest_msix + 2, 2, BMPT_MSIX_CTRL_EN);
	uint16_t pctrl = phys_msix_ctrl();
	bool ok = masked_while_off && (pctrl & BMPT_MSIX_CTRL_EN) && !(pctrl & BMPT_MSIX_CTRL_FMASK);
	for (unsigned k = 0; k < IGB_ENTRIES; k++) {
		const struct bmpt_msix_entry *e = &igb_dev.msix_entries[k];
		/* virtual: the guest reads back its own entry */
		uint64_t g_addr = table_rd(k, 0, 8);
		uint32_t g_data = (uint32_t)table_rd(k, 8, 4), g_vc = (uint32_t)table_rd(k, 12, 4);
		/* shadow: the IRTE, and the device's entry */
		struct irte_remapped f = { 0 };
		const struct irte *ie = ir_table_entry(&table, e->route.base);
		int d = ie ? irte_decode_remapped(ie, false, &f) : -1;
		struct msi_msg pm = { phys_entry(k, 0), phys_entry(k, 4), phys_entry(k, 8) };
		struct msi_remap h = { 0 };
		int hd = msi_remap_decode(&pm, &h);
		bool this_ok = e->last_update == 0 && g_addr == 0xfee00000u && g_data == igb_guest_vec[k] && g_vc == 0 &&
			       d == 0 && (ie->lo & 1) && f.vector == igb_host_vec[k] && f.dest == my_apic &&
			       !f.dest_logical && f.source.sid == igb_rid && f.source.svt == IRTE_SVT_SID && hd == 0 &&
			       msi_is_remappable(&pm) && msi_remap_index(&h) == e->route.base &&
			       !(phys_entry(k, 12) & 1);
		tap_diag("MSI-X entry %u: guest 0x%08llx/0x%x -> IRTE %u: vector 0x%x, APIC 0x%x, SID 0x%x; the device's "
			 "entry 0x%08x/0x%x (remappable, handle %u), vector control 0x%x",
			 k, (unsigned long long)g_addr, g_data, e->route.base, f.vector, f.dest, f.source.sid, pm.addr_lo,
			 pm.data, h.handle, phys_entry(k, 12));
		ok &= this_ok;
	}
	tap_ok(ok && faults_take(NULL) == 0,
	       "guest programs %u MSI-X entries through the trapped table page (vectors 0x%x 0x%x 0x%x; entry 1 with "
	       "QWORD stores) and enables MSI-X: it reads back its own entries; each entry's IRTE names its own host "
	       "vector, this APIC and the igb's SID; the device's entries hold the remappable messages with those "
	       "handles, unmasked only after MSI-X was enabled; the device's MSI-X on, Function Mask clear",
	       IGB_ENTRIES, igb_guest_vec[0], igb_guest_vec[1], igb_guest_vec[2]);
}

static void test_msix_deliver(void)
{
	igb_msix_causes_on(&igb, IGB_ENTRIES);
	bool ok = true;
	for (unsigned k = 0; k < IGB_ENTRIES; k++) {
		uint64_t inj = igb_dev.msix_entries[k].injected;
		vcpu.core.pending_irq = -1;
		last_host_irq_rc = 1;
		igb_raise(k, true);
		bool this_ok = n_hv[k] == 1 && igb_sum(n_hv) == 1 && igb_sum(n_gv) == 0 && last_host_irq_rc == 0 &&
			       vcpu.core.pending_irq == igb_guest_vec[k] && igb_dev.msix_entries[k].injected == inj + 1;
		tap_diag("igb vector %u: %llu on host vector 0x%x, %llu on others, %llu on guest vectors; pending "
			 "injection 0x%x", k, (unsigned long long)n_hv[k], igb_host_vec[k],
			 (unsigned long long)(igb_sum(n_hv) - n_hv[k]), (unsigned long long)igb_sum(n_gv), vcpu.core.pending_irq);
		ok &= this_ok;
	}
	tap_ok(ok && faults_take(NULL) == 0,
	       "igb fires MSI-X vectors 0..%u (EICS): each arrives once on its entry's host vector (0x%x 0x%x 0x%x), "
	       "never on a guest vector, and the vCPU's pending injection is that entry's guest vector",
	       IGB_ENTRIES - 1, igb_host_vec[0], igb_host_vec[1], igb_host_vec[2]);
}

static void test_msix_mask(void)
{
	vcpu.core.pending_irq = -1;
	table_wr(1, 12, 4, 1);   /* the guest masks entry 1 */
	bool pmasked = phys_entry(1, 12) & 1;
	igb_raise(1, false);
	uint64_t silent = igb_sum(n_hv) + igb_sum(n_gv);
	uint32_t pba = guest_pba();
	int pend_masked = vcpu.core.pending_irq;
	/* Unmasked: the device sends the pending message (PCI 3.0 §6.8.2.10). */
	igb_counts_reset();
	table_wr(1, 12, 4, 0);
	idt_wait_count(igb_host_vec[1], 1, 500 * MS);
	igb_counts_take();
	uint32_t pba_after = guest_pba();
	tap_ok(pmasked && silent == 0 && (pba & 2) && pend_masked == -1 && n_hv[1] == 1 && igb_sum(n_hv) == 1 &&
		       igb_sum(n_gv) == 0 && vcpu.core.pending_irq == igb_guest_vec[1] && !(pba_after & 2) &&
		       !(phys_entry(1, 12) & 1),
	       "guest masks entry 1: the device's entry masked, firing it delivers nothing (%llu) and sets its PBA bit "
	       "(PBA 0x%x); the guest unmasks it: the pending message arrives once on 0x%x (%llu), injection pending for "
	       "0x%x, PBA 0x%x",
	       (unsigned long long)silent, pba, igb_host_vec[1], (unsigned long long)n_hv[1], vcpu.core.pending_irq, pba_after);
}

static void test_msix_function_mask(void)
{
	uint64_t inj0 = igb_dev.msix_entries[0].injected, inj2 = igb_dev.msix_entries[2].injected;
	igb_cfg_wr(guest_msix + 2, 2, BMPT_MSIX_CTRL_EN | BMPT_MSIX_CTRL_FMASK);
	uint16_t pctrl = phys_msix_ctrl();
	bool all_masked = true;
	for (unsigned k = 0; k < IGB_ENTRIES; k++)
		all_masked &= (phys_entry(k, 12) & 1) != 0;
	igb_raise(0, false);
	uint64_t silent = igb_sum(n_hv) + igb_sum(n_gv);
	igb_raise(2, false);
	silent += igb_sum(n_hv) + igb_sum(n_gv);
	uint32_t pba = guest_pba();
	uint16_t g_ctrl = (uint16_t)igb_cfg_rd(guest_msix + 2, 2);
	igb_counts_reset();
	igb_cfg_wr(guest_msix + 2, 2, BMPT_MSIX_CTRL_EN);
	idt_wait_count(igb_host_vec[0], 1, 500 * MS);
	idt_wait_count(igb_host_vec[2], 1, 500 * MS);
	igb_counts_take();
	tap_ok(all_masked && (pctrl & BMPT_MSIX_CTRL_EN) && !(pctrl & BMPT_MSIX_CTRL_FMASK) && silent == 0 &&
		       (pba & 5) == 5 && (g_ctrl & BMPT_MSIX_CTRL_FMASK) && n_hv[0] == 1 && n_hv[2] == 1 &&
		       igb_sum(n_hv) == 2 && igb_sum(n_gv) == 0 && igb_dev.msix_entries[0].injected == inj0 + 1 &&
		       igb_dev.msix_entries[2].injected == inj2 + 1 && !(guest_pba() & 5),
	       "guest sets Function Mask: every device entry masked (its own Function Mask clear, MSI-X on), vectors 0 "
	       "and 2 deliver nothing (%llu), PBA 0x%x; the guest clears it: both pending messages arrive once on their "
	       "host vectors (%llu, %llu) and inject their guest vectors",
	       (unsigned long long)silent, pba, (unsigned long long)n_hv[0], (unsigned long long)n_hv[2]);
}

static void test_posted(void)
{
	tap_skip("posted delivery to the vCPU's descriptor",
		 "no VMX under TCG (posted-interrupt processing is a VMX feature) and this VT-d unit has CAP.PI = %u",
		 unit.caps.pi);
}

static void test_teardown(uint64_t pages_at_start)
{
	igb_msix_causes_off(&igb);
	bmpt_dev_fini(&igb_dev);
	bool igb_masked = !(phys_msix_ctrl() & BMPT_MSIX_CTRL_EN);
	for (unsigned k = 0; k < igb_dev.msix_phys_size; k++)
		igb_masked &= (phys_entry(k, 12) & 1) != 0;
	int d2 = bmpt_dma_detach(&dma, igb_rid);
	uint64_t lo2 = 1, hi2 = 1;
	vtd_ctx_read(&unit, (uint8_t)(igb_rid >> 8), (uint8_t)igb_rid, &lo2, &hi2);
	bmpt_dev_fini(&dev);
	unsigned irtes_used = table.n_used;
	int d = bmpt_dma_detach(&dma, rid);
	uint64_t lo = 1, hi = 1;
	vtd_ctx_read(&unit, (uint8_t)(rid >> 8), (uint8_t)rid, &lo, &hi);
	bmpt_dma_fini(&dma);
	vmx_vm_destroy(&vm);
	int r = ir_table_disable(&table);
	ir_table_fini(&table);
	vtd_unit_fini(&unit);
	uint64_t after = mem_pages_in_use();
	tap_ok(d == 0 && d2 == 0 && r == 0 && lo == 0 && hi == 0 && lo2 == 0 && hi2 == 0 && igb_masked &&
		       irtes_used == 0 && after == pages_at_start + test_pages,
	       "teardown: the igb's %u MSI-X entries masked and MSI-X off; both context entries cleared, every route "
	       "closed (%u IRTEs in use), domain, EPT, IR table and unit freed (%llu pages in use = %llu at start + %llu "
	       "the tests keep) (%d/%d/%d)",
	       igb_dev.msix_phys_size, irtes_used, (unsigned long long)after, (unsigned long long)pages_at_start,
	       (unsigned long long)test_pages, d, d2, r);
}

void bmpt_tests(void)
{
	uint64_t pages_at_start = mem_pages_in_use();
	setup();
	test_domain();
	test_dma_translated();
	test_dma_outside();
	test_ept_change();
	test_dev_init();
	test_msi_route();
	test_msi_mask_retarget();
	test_msi_refused();
	test_igb_init();
	test_msix_route();
	test_msix_deliver();
	test_msix_mask();
	test_msix_function_mask();
	test_posted();
	test_teardown(pages_at_start);
}
