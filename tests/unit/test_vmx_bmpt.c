/* bm_passthrough on the host: the share-or-mirror decision and what the
 * unit then walks (tests/unit/support/vtd_model translates with QEMU's
 * reserved-bit checks), the invalidation after an EPT change, the trapped
 * MSI capability's virtual view and its shadow in a modelled device, and
 * the trapped MSI-X capability and table over a config-space + BAR model
 * that masks, pends and delivers as PCIe (and QEMU's msix.c) do.  The VMX
 * core's EPT-side calls are stood in for below (vmx.c needs VMX
 * instructions); ept.c is the real one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd_regs.h"
#include "irq_remap/ir_table.h"
#include "irq_remap/msi.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/dev/bm_passthrough.h"
#include "vmm_glue/vmx/vmx.h"
#include "vtd_model.h"

#define BASE 0xfed90000ull
#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define RID 0x0018
#define CFG_GPA 0xb0018000ull

/* --- the core's calls bm_passthrough makes, over the real ept.c -------- */

static unsigned invept_calls;
static struct core_mmio_ops trapped;   /* the config page's */
static struct { uint64_t gpa, size; struct core_mmio_ops ops; } traps[CORE_MAX_MMIO];

int core_vm_map(struct core_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
	return ept_map(&vm->ept, gpa, hpa, size, perms, memtype);
}

/* As the core: a slot per range (CORE_MAX_MMIO), the range an EPT hole. */
int core_vm_trap_mmio(struct core_vm *vm, uint64_t gpa, uint64_t size, const struct core_mmio_ops *ops)
{
	if (vm->nr_mmio == CORE_MAX_MMIO)
		return -PORT_ENOSPC;
	int rc = ept_unmap(&vm->ept, gpa, size);
	if (rc)
		return rc;
	if (gpa == 0xb0018000ull)
		trapped = *ops;
	traps[vm->nr_mmio].gpa = gpa;
	traps[vm->nr_mmio].size = size;
	traps[vm->nr_mmio].ops = *ops;
	vm->nr_mmio++;
	return 0;
}

/* The most recent trap at gpa goes (bm_passthrough removes its traps in
 * the reverse order it made them). */
int core_vm_untrap_mmio(struct core_vm *vm, uint64_t gpa)
{
	for (unsigned i = vm->nr_mmio; i-- > 0;)
		if (traps[i].size && traps[i].gpa == gpa) {
			traps[i].size = 0;
			vm->nr_mmio--;
			return 0;
		}
	return -PORT_ENOENT;
}

/* Whether a trap made above covers part of [gpa, gpa+size). */
bool core_vm_mmio_overlaps(const struct core_vm *vm, uint64_t gpa, uint64_t size)
{
	(void)vm;
	for (unsigned i = 0; i < CORE_MAX_MMIO; i++)
		if (traps[i].size && gpa < traps[i].gpa + traps[i].size && traps[i].gpa < gpa + size)
			return true;
	return false;
}

/* The rest of what core_glue calls: bm_passthrough's device side never
 * maps, unmaps or traps ports. */
int core_vm_unmap(struct core_vm *vm, uint64_t gpa, uint64_t size) { return ept_unmap(&vm->ept, gpa, size); }
int core_vm_lookup(const struct core_vm *vm, uint64_t gpa, uint64_t *hpa, uint64_t *entry)
{
	return ept_lookup(&vm->ept, gpa, hpa, entry, NULL);
}
int core_vm_trap_pio(struct core_vm *vm, uint16_t port, unsigned count, const struct core_pio_ops *ops)
{
	(void)vm, (void)port, (void)count, (void)ops;
	return -PORT_ENOTSUP;
}
int core_vm_untrap_pio(struct core_vm *vm, uint16_t port) { (void)vm, (void)port; return -PORT_ENOENT; }
const struct ept *core_vm_table(const struct core_vm *vm) { return &vm->ept; }

/* What an EPT violation reaches (core_vm_mmio_access). */
static int guest_mmio(uint64_t gpa, bool write, unsigned size, uint64_t *val)
{
	for (unsigned i = 0; i < CORE_MAX_MMIO; i++)
		if (traps[i].size && gpa - traps[i].gpa < traps[i].size)
			return write ? traps[i].ops.write(traps[i].ops.ctx, gpa, size, *val)
				     : traps[i].ops.read(traps[i].ops.ctx, gpa, size, val);
	return -PORT_ENOENT;
}

/* As the VMX backend: INVEPT only when the CPU is in VMX operation. */
void core_vm_flush(struct core_vm *core)
{
	struct vmx_vm *v = (struct vmx_vm *)core;
	if (v->cpu && v->cpu->on)
		invept_calls++;
	ept_reclaim(&core->ept);
}

void core_vcpu_inject_irq(struct core_vcpu *v, uint8_t vector) { v->pending_irq = vector; }

/* --- fixtures ------------------------------------------------------------ */

static struct vtd_model model;
static struct vtd_unit unit;
static struct vmx_cpu cpu;
static struct vmx_vm vm;
static struct bmpt_dma dma;

/* bm_passthrough reaches the core through its glue (core_glue over the
 * test's VM): the cfg's guest and the vCPUs the test gives it (one vCPU
 * when the cfg has no guest). */
static struct core_glue cglue;
static struct vmx_vcpu lone;
static struct ir_vcpu lone_irv;
static const struct ir_guest lone_guest = { .name = "t", .vcpus = &lone_irv, .n_vcpus = 1 };
static struct core_vcpu *const lone_vcpus[1] = { &lone.core };

static int dev_init_on(struct bmpt_dev *dev, const struct bmpt_dev_cfg *c, struct core_vcpu *const *vcpus)
{
	const struct ir_guest *g = c->guest ? c->guest : &lone_guest;
	lone = (struct vmx_vcpu){ .core = { &vm.core, -1 }, .vm = &vm };
	assert_int_equal(core_glue_init(&cglue, &vm.core, g, c->guest ? vcpus : lone_vcpus), 0);
	return bmpt_dev_init(dev, &cglue.glue, c);
}

static void start(uint64_t cap, uint64_t ept_caps)
{
	vtd_model_init(&model, BASE, cap, vtd_model_qemu_ecap(true, false, true, false));
	assert_int_equal(vtd_unit_init(&unit, BASE, 0), 0);
	assert_int_equal(vtd_unit_enable(&unit), 0);
	cpu = (struct vmx_cpu){ .caps = { .ept_vpid = ept_caps } };
	vm = (struct vmx_vm){ .cpu = &cpu };
	assert_int_equal(ept_init(&vm.core.ept, ept_caps), 0);
	/* Guest RAM GPA [0, 1 GiB) at HPA 4 GiB (never dereferenced). */
	assert_int_equal(ept_map(&vm.core.ept, 0, 4 * GiB, GiB, EPT_RWX, EPT_MT_WB), 0);
}

static void stop(void)
{
	bmpt_dma_fini(&dma);
	ept_destroy(&vm.core.ept);
	vtd_unit_fini(&unit);
}

static int setup(void **state)
{
	(void)state;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(48, false), vtd_model_qemu_ecap(true, false, true, false));
	vtd_model_install(&model);
	port_host_set_log_quiet(1);
	port_host_set_clock_step(1000000);
	invept_calls = 0;
	memset(traps, 0, sizeof(traps));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtd_model_uninstall_all();
	port_host_set_clock_step(0);
	assert_int_equal(port_host_pages_in_use(), 0);
	return 0;
}

#define EPT_ALL (EPT_CAP_PWL4 | EPT_CAP_MT_WB | EPT_CAP_2M | EPT_CAP_1G)
#define SLLPS_2M_ONLY(cap) (((cap) & ~VTD_GENMASK(37, 34)) | (1ull << 34))

/* The unit translates every GPA as the EPT does, through the context entry. */
static void assert_dma_follows_ept(void) /* reads: every mapping has R */
{
	static const uint64_t gpas[] = { 0, 0x1000, 0x200000, 0x3ffff000, 0x12345000 };
	for (unsigned i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++) {
		uint64_t ept_hpa = 0, vtd_hpa = 0;
		assert_int_equal(ept_lookup(&vm.core.ept, gpas[i], &ept_hpa, NULL, NULL), 0);
		assert_int_equal(vtd_model_translate(&model, RID, gpas[i], false, &vtd_hpa), 0);
		assert_int_equal(vtd_hpa, ept_hpa);
	}
	uint64_t hpa;
	assert_int_not_equal(vtd_model_translate(&model, RID, GiB + 0x1000, false, &hpa), 0);
}

/* --- DMA domain ------------------------------------------------------------ */

static void shares_pml4_on_a_4_level_unit(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, false), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm.core, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_SHARED);
	assert_ptr_equal(dma.dom.top, vm.core.ept.pml4);
	assert_int_equal(dma.dom.levels, 4);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	stop();
}

static void shares_pdpt_on_a_3_level_unit(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm.core, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_SHARED);
	assert_int_equal(dma.dom.levels, 3);
	assert_int_equal(port_virt_to_phys(dma.dom.top), ept_entry_addr(vm.core.ept.pml4[0]));
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	/* Above 512 GiB a 3-level shared domain cannot follow. */
	assert_int_equal(ept_map(&vm.core.ept, 1ull << 39, 8 * GiB, GiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(bmpt_dma_sync(&dma, 1ull << 39, GiB), -PORT_ERANGE);
	stop();
}

static void mirrors_when_sllps_lacks_a_size_the_ept_uses(void **state)
{
	(void)state;
	start(SLLPS_2M_ONLY(vtd_model_qemu_cap(48, false)), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm.core, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_MIRROR);
	assert_non_null(strstr(dma.why, "1 GiB"));
	assert_ptr_not_equal(dma.dom.top, vm.core.ept.pml4);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	stop();
}

static void shares_when_the_ept_never_uses_the_missing_size(void **state)
{
	(void)state;
	start(SLLPS_2M_ONLY(vtd_model_qemu_cap(48, false)), EPT_ALL & ~EPT_CAP_1G);
	assert_int_equal(bmpt_dma_init(&dma, &vm.core, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_SHARED);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	stop();
}

static void mirror_follows_an_ept_change(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, false), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm.core, &unit, BMPT_FORCE_MIRROR), 0);
	assert_int_equal(dma.mode, BMPT_MIRROR);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_int_equal(bmpt_vm_map(&dma, 0x12345000, 0x777000, 0x1000, EPT_R, EPT_MT_WB), 0);
	assert_dma_follows_ept();
	uint64_t hpa;
	/* Read-only in the EPT: a DMA write faults (VT-d 7.1.3 reason 5). */
	assert_int_equal(vtd_model_translate(&model, RID, 0x12345000, true, &hpa), 5);
	assert_int_equal(vtd_model_translate(&model, RID, 0x12345000, false, &hpa), 0);
	assert_int_equal(hpa, 0x777000);
	assert_int_equal(invept_calls, 0); /* the CPU is not in VMX operation */
	stop();
}

static void shared_change_invalidates_the_range(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, false), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm.core, &unit, 0), 0);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	unsigned before = model.ndescs;
	assert_int_equal(bmpt_vm_map(&dma, 0x12345000, 0x777000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
	bool page_inv = false;
	for (unsigned i = before; i < model.ndescs; i++) {
		const struct vtd_desc *d = &model.descs[i];
		if (VTD_DESC_TYPE(d->lo) == VTD_DESC_IOTLB && vtd_field(d->lo, 5, 4) == VTD_TLB_PAGE &&
		    vtd_field(d->lo, 31, 16) == dma.dom.did && (d->hi & ~0xfffull) == 0x12345000 &&
		    !(d->hi & VTD_DESC_IOTLB_IH))
			page_inv = true;
	}
	assert_true(page_inv);
	assert_dma_follows_ept();
	stop();
}

/* --- the trapped MSI capability ---------------------------------------------- */

static uint8_t cfg[4096];
static unsigned cfg_writes;

static uint32_t cfg_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void model_cfg_written(unsigned off, unsigned size, uint32_t val);

static uint32_t bar3_size;   /* the model's BAR3 (64-bit, with BAR4): its sizing mask */

static void cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	cfg_writes++;
	/* BAR3's address bits below its size and its type bits are read-only
	 * (PCI 3.0 §6.2.5.1): all ones reads back the size. */
	if (off == 0x1c && size == 4 && bar3_size)
		val = (val & ~(bar3_size - 1) & ~0xfu) | (cfg[0x1c] & 0xfu);
	for (unsigned i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(val >> (8 * i));
	model_cfg_written(off, size, val);
}

/* A function with a 32-bit MSI capability with per-vector masking at 0x60
 * (PCI 3.0 §6.8.1: ctrl, addr +4, data +8, mask +12, pending +16). */
static void device_32bit_pvm(void)
{
	memset(cfg, 0, sizeof(cfg));
	cfg[0] = 0x86, cfg[1] = 0x80, cfg[2] = 0xca, cfg[3] = 0x10;
	cfg[6] = 0x10;          /* status: capability list */
	cfg[0x34] = 0x60;
	cfg[0x60] = 0x05;
	cfg[0x62] = 0x02 | 0x00; /* MMC = 1 (2 messages) */
	cfg[0x63] = 0x01;       /* per-vector masking */
	cfg_writes = 0;
}

static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(trapped.read(trapped.ctx, CFG_GPA + off, size, &v), 0);
	return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(trapped.write(trapped.ctx, CFG_GPA + off, size, v), 0);
}

static void virtual_capability_without_remapping(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	device_32bit_pvm();
	vm = (struct vmx_vm){ .cpu = &cpu };
	assert_int_equal(ept_init(&vm.core.ept, EPT_ALL), 0);
	const struct bmpt_dev_cfg c = { .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA };
	assert_int_equal(dev_init_on(&dev, &c, NULL), 0);
	assert_int_equal(dev.msi, 0x60);
	assert_false(dev.msi_64);
	assert_true(dev.msi_pvm);
	unsigned writes_at_init = cfg_writes;

	/* Header reads pass through; the capability reads are virtual. */
	assert_int_equal(rd(0, 4), 0x10ca8086);
	assert_int_equal(rd(0x60, 1), 0x05);
	assert_int_equal(rd(0x62, 2), 0x0102);      /* MMC, PVM; disabled */
	assert_int_equal(rd(0x6c, 4), 1);           /* vector 0 starts masked */

	/* Read-only bits stay; the address's low bits are not writable; MME
	 * stays 0 (one message). */
	wr(0x60, 4, 0xffffffff);
	assert_int_equal(rd(0x60, 2), 0x0005);
	assert_int_equal(rd(0x62, 2), 0x0103);      /* enable took, MME did not */
	wr(0x64, 4, 0xfee02003);
	wr(0x68, 2, 0x0042);
	assert_int_equal(rd(0x64, 4), 0xfee02000);
	assert_true(dev.msi_state.vec[0].virt_masked);               /* vector 0 still masked */
	wr(0x6c, 4, 0);
	assert_false(dev.msi_state.vec[0].virt_masked);
	assert_int_equal(dev.msi_state.vec[0].virt_msi.addr_lo, 0xfee02000);
	assert_int_equal(dev.msi_state.vec[0].virt_msi.data, 0x42);
	/* An 8-byte read is two dwords. */
	assert_int_equal(rd(0x60, 8), (uint64_t)0xfee02000 << 32 | 0x01030005);
	/* No interrupt remapping: the device is never touched. */
	assert_int_equal(cfg_writes, writes_at_init);
	/* Command: only memory space, bus master, INTx disable get through. */
	wr(0x04, 2, 0xffff);
	assert_int_equal(cfg_read(NULL, 4, 2), 0x0406);
	/* Outside the page: refused. */
	uint64_t v;
	assert_int_equal(trapped.read(trapped.ctx, CFG_GPA + 4096, 4, &v), -PORT_EINVAL);
	assert_int_equal(trapped.write(trapped.ctx, CFG_GPA + 2, 4, 0), -PORT_EINVAL);
	bmpt_dev_fini(&dev);
	ept_destroy(&vm.core.ept);
}

static void msi_becomes_an_irte_and_a_remappable_message(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	static struct ir_table table;
	start(vtd_model_qemu_cap(48, false), EPT_ALL);
	assert_int_equal(ir_table_init(&table, 256, 0), 0);
	assert_int_equal(ir_table_enable(&table, &unit), 0);
	device_32bit_pvm();
	struct ir_vcpu irv[2] = { { .virt_apic_id = 0, .host_apic_id = 4 }, { .virt_apic_id = 1, .host_apic_id = 6 } };
	struct ir_guest guest = { .name = "t", .vcpus = irv, .n_vcpus = 2 };
	struct vmx_vcpu v0 = { .core = { &vm.core, -1 }, .vm = &vm },
			v1 = { .core = { &vm.core, -1 }, .vm = &vm };
	struct core_vcpu *vcpus[2] = { &v0.core, &v1.core };
	const struct bmpt_dev_cfg c = { .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA,
					.table = &table, .guest = &guest, .host_vector = 0x61 };
	assert_int_equal(dev_init_on(&dev, &c, vcpus), 0);

	/* Guest: vector 0x45 to APIC 1, unmask, enable. */
	wr(0x64, 4, 0xfee01000);
	wr(0x68, 2, 0x45);
	wr(0x6c, 4, 0);
	assert_int_equal(cfg_read(NULL, 0x62, 2) & 1, 0);  /* still disabled */
	wr(0x62, 2, 1);
	/* shadow: the IRTE names host vector 0x61 on APIC 6, the device holds
	 * the remappable message and is enabled. */
	struct irte_remapped f;
	assert_int_equal(irte_decode_remapped(ir_table_entry(&table, dev.route.base), false, &f), 0);
	assert_int_equal(f.vector, 0x61);
	assert_int_equal(f.dest, 6);
	assert_int_equal(f.source.sid, RID);
	struct msi_msg dev_msg = { cfg_read(NULL, 0x64, 4), 0, cfg_read(NULL, 0x68, 2) };
	struct msi_remap h;
	assert_true(msi_is_remappable(&dev_msg));
	assert_int_equal(msi_remap_decode(&dev_msg, &h), 0);
	assert_int_equal(msi_remap_index(&h), dev.route.base);
	assert_int_equal(cfg_read(NULL, 0x62, 2) & 1, 1);
	/* virtual: the guest still reads its own message */
	assert_int_equal(rd(0x64, 4), 0xfee01000);
	/* physical: 0x61 stands for guest vector 0x45 on vCPU 1 */
	assert_int_equal(bmpt_dev_host_irq(&dev, 0x61), 0);
	assert_int_equal(v1.core.pending_irq, 0x45);
	assert_int_equal(v0.core.pending_irq, -1);
	assert_int_equal(bmpt_dev_host_irq(&dev, 0x62), -PORT_ENOENT);
	/* The guest masks vector 0: the device's MSI goes off. */
	wr(0x6c, 4, 1);
	assert_int_equal(cfg_read(NULL, 0x62, 2) & 1, 0);
	/* An NMI message is refused: IRTE not present, device stays off. */
	wr(0x68, 2, 0x0400 | 0x45);
	wr(0x6c, 4, 0);
	assert_true(dev.last_update < 0);
	assert_int_equal(ir_table_entry(&table, dev.route.base)->lo & 1, 0);
	assert_int_equal(cfg_read(NULL, 0x62, 2) & 1, 0);

	bmpt_dev_fini(&dev);
	assert_int_equal(ir_table_disable(&table), 0);
	ir_table_fini(&table);
	ept_destroy(&vm.core.ept);
	vtd_unit_fini(&unit);
}

/* --- the trapped MSI-X capability and table ------------------------------------ */

/* The function: MSI (64-bit) at 0x50 -> MSI-X at 0x70, its table and PBA in
 * a 64-bit BAR3 (BAR3/BAR4) at BAR_HPA, the layout of QEMU's igb (table at
 * BIR 3 + 0) but with the PBA and another register in the table's page. */
#define BAR_HPA 0x2fe000000ull
#define BAR_SIZE 0x4000u
#define PBA_OFF 0x800u
#define OTHER_OFF 0xc00u     /* some register sharing the table's page */
#define MSIX_CAP 0x70u
#define MSIX_CTRL (MSIX_CAP + 2)

static uint8_t bar[BAR_SIZE];
static unsigned msix_n;                 /* the device's Table Size */
static struct bmpt_dev *irq_dev;        /* where the model's interrupts go */
static struct ir_table *irq_table;
static unsigned delivered, blocked, irq_rc_fail;

/* Every physical write, in order, with what the IRTE of that entry's route
 * said at that moment (present, destination). */
struct ev {
	bool bar;
	unsigned off;
	uint32_t val;
	bool irte_present;
	uint32_t irte_dest;
};
static struct ev evs[8192];
static unsigned nev;

static uint32_t bar32(unsigned off)
{
	uint32_t v;
	memcpy(&v, bar + off, 4);
	return v;
}

static bool model_masked(unsigned k)
{
	uint16_t ctrl = (uint16_t)(cfg[MSIX_CTRL] | cfg[MSIX_CTRL + 1] << 8);
	return !(ctrl & BMPT_MSIX_CTRL_EN) || (ctrl & BMPT_MSIX_CTRL_FMASK) || (bar32(k * 16 + 12) & 1);
}

static bool pba_pending(unsigned k) { return bar[PBA_OFF + k / 8] & (1u << (k % 8)); }

/* The message leaves the device: VT-d remaps it through the IRTE its
 * handle names (the SID must match), the host vector reaches the glue. */
static void deliver(unsigned k)
{
	struct msi_msg m = { bar32(k * 16), bar32(k * 16 + 4), bar32(k * 16 + 8) };
	struct msi_remap h;
	struct irte_remapped f;
	const struct irte *e = NULL;
	if (msi_is_remappable(&m) && !msi_remap_decode(&m, &h))
		e = ir_table_entry(irq_table, (uint16_t)msi_remap_index(&h));
	if (!e || !(e->lo & 1) || irte_decode_remapped(e, false, &f) || f.source.sid != RID) {
		blocked++;
		return;
	}
	delivered++;
	if (bmpt_dev_host_irq(irq_dev, f.vector))
		irq_rc_fail++;
}

/* PCIe 6.8.2.10 (QEMU msix_notify / msix_handle_mask_update): a masked
 * vector sets its pending bit; unmasking a pending one sends it. */
static void fire(unsigned k)
{
	if (model_masked(k))
		bar[PBA_OFF + k / 8] |= (uint8_t)(1u << (k % 8));
	else
		deliver(k);
}

static void model_update(void)
{
	for (unsigned k = 0; k < msix_n; k++)
		if (pba_pending(k) && !model_masked(k)) {
			bar[PBA_OFF + k / 8] &= (uint8_t)~(1u << (k % 8));
			deliver(k);
		}
}

static void log_ev(bool is_bar, unsigned off, uint32_t val)
{
	struct ev ev = { .bar = is_bar, .off = off, .val = val };
	unsigned k = off / 16;
	if (is_bar && off < msix_n * 16 && irq_dev && k < irq_dev->msix_routes) {
		const struct irte *e = ir_table_entry(irq_table, irq_dev->msix_entries[k].route.base);
		struct irte_remapped f = { 0 };
		ev.irte_present = e->lo & 1;
		if (ev.irte_present)
			irte_decode_remapped(e, false, &f);
		ev.irte_dest = f.dest;
	}
	if (nev < sizeof(evs) / sizeof(evs[0]))
		evs[nev++] = ev;
}

static void model_cfg_written(unsigned off, unsigned size, uint32_t val)
{
	log_ev(false, off, val);
	if (msix_n && off <= MSIX_CTRL + 1 && off + size > MSIX_CTRL + 1)
		model_update();
}

static uint64_t bar_read(void *ctx, uint64_t pa, unsigned size)
{
	(void)ctx;
	uint64_t v = 0;
	if (pa < BAR_HPA || pa - BAR_HPA + size > BAR_SIZE)
		return ~0ull;
	memcpy(&v, bar + (pa - BAR_HPA), size);
	return v;
}

/* Writes reach the BAR only with memory space on (§6.2.2). */
static void bar_write(void *ctx, uint64_t pa, uint64_t val, unsigned size)
{
	(void)ctx;
	if (pa < BAR_HPA || pa - BAR_HPA + size > BAR_SIZE || !(cfg[4] & 2))
		return;
	unsigned off = (unsigned)(pa - BAR_HPA);
	memcpy(bar + off, &val, size);
	log_ev(true, off, (uint32_t)val);
	if (off < msix_n * 16 && off % 16 == 12)
		model_update();
}

static const struct port_host_mmio_ops bar_ops = { bar_read, bar_write, NULL };

/* n table entries, MSI too when with_msi; the host left MSI-X enabled with
 * every entry unmasked and holding garbage, which init must undo. */
static void device_msix(unsigned n, bool with_msi)
{
	memset(cfg, 0, sizeof(cfg));
	memset(bar, 0, sizeof(bar));
	cfg[0] = 0x86, cfg[1] = 0x80, cfg[2] = 0xc9, cfg[3] = 0x10;
	cfg[4] = 0x06;                          /* memory space, bus master */
	cfg[6] = 0x10;
	uint32_t bar3 = (uint32_t)(BAR_HPA & 0xfffffff0u) | 0x4u, bar4 = (uint32_t)(BAR_HPA >> 32);
	memcpy(cfg + 0x1c, &bar3, 4);           /* BAR3: 64-bit memory, with BAR4 */
	memcpy(cfg + 0x20, &bar4, 4);
	cfg[0x34] = with_msi ? 0x50 : MSIX_CAP;
	if (with_msi) {
		cfg[0x50] = 0x05, cfg[0x51] = MSIX_CAP;
		cfg[0x52] = 0x80;               /* 64-bit */
	}
	uint16_t ctrl = (uint16_t)((n - 1) | BMPT_MSIX_CTRL_EN);
	uint32_t table = 0 | 3, pba = PBA_OFF | 3;
	cfg[MSIX_CAP] = 0x11;
	memcpy(cfg + MSIX_CTRL, &ctrl, 2);
	memcpy(cfg + MSIX_CAP + 4, &table, 4);
	memcpy(cfg + MSIX_CAP + 8, &pba, 4);
	for (unsigned k = 0; k < n; k++)
		memset(bar + k * 16, 0x5a, 12);  /* unmasked garbage */
	memcpy(bar + OTHER_OFF, &(uint32_t){ 0xc0ffee00 }, 4);
	msix_n = n;
	bar3_size = BAR_SIZE;
	nev = 0;
	delivered = blocked = irq_rc_fail = 0;
	cfg_writes = 0;
	port_host_set_mmio(&bar_ops);
}

static struct ir_table mtable;
static struct ir_vcpu mirv[2];
static struct ir_guest mguest;
static struct vmx_vcpu mv0, mv1;
static struct core_vcpu *mvcpus[2] = { &mv0.core, &mv1.core };
static int dev_init(struct bmpt_dev *dev, const struct bmpt_dev_cfg *c) { return dev_init_on(dev, c, mvcpus); }
static const uint8_t hv[40] = { 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d,
				0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
				0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 };

/* A VM (EPT with the BAR mapped at GPA = HPA, as the VMM maps BARs), an IR
 * table (not on a unit: IRTEs in memory, no invalidations), two vCPUs on
 * host APICs 4 and 6. */
static void msix_start(unsigned table_entries)
{
	vm = (struct vmx_vm){ .cpu = &cpu };
	memset(traps, 0, sizeof(traps));
	assert_int_equal(ept_init(&vm.core.ept, EPT_ALL), 0);
	assert_int_equal(ept_map(&vm.core.ept, BAR_HPA, BAR_HPA, BAR_SIZE, EPT_R | EPT_W, EPT_MT_UC), 0);
	assert_int_equal(ir_table_init(&mtable, table_entries, 0), 0);
	mirv[0] = (struct ir_vcpu){ .virt_apic_id = 0, .host_apic_id = 4 };
	mirv[1] = (struct ir_vcpu){ .virt_apic_id = 1, .host_apic_id = 6 };
	mguest = (struct ir_guest){ .name = "t", .vcpus = mirv, .n_vcpus = 2 };
	mv0 = (struct vmx_vcpu){ .core = { &vm.core, -1 }, .vm = &vm };
	mv1 = (struct vmx_vcpu){ .core = { &vm.core, -1 }, .vm = &vm };
	irq_table = &mtable;
}

static void msix_stop(void)
{
	ir_table_fini(&mtable);
	ept_destroy(&vm.core.ept);
	irq_dev = NULL;
	msix_n = 0;
	port_host_set_mmio(NULL);
}

static struct bmpt_dev_cfg msix_cfg(unsigned n_vectors)
{
	return (struct bmpt_dev_cfg){ .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA,
				      .table = &mtable, .guest = &mguest, .host_vector = 0x61,
				      .msix_host_vectors = hv, .n_msix_host_vectors = n_vectors,
				      .bar_size = { [3] = BAR_SIZE } };
}

/* The usual start of an MSI-X case: the model with an n-entry table (and
 * MSI when with_msi), a 256-entry IR table, n host vectors, the device
 * initialized and its interrupts routed to the test's vCPUs. */
static void msix_up(struct bmpt_dev *dev, unsigned n, bool with_msi)
{
	msix_start(256);
	device_msix(n, with_msi);
	struct bmpt_dev_cfg c = msix_cfg(n);
	assert_int_equal(dev_init(dev, &c), 0);
	irq_dev = dev;
}

static uint64_t grd(uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(guest_mmio(gpa, false, size, &v), 0);
	return v;
}

static void gwr(uint64_t gpa, unsigned size, uint64_t v)
{
	assert_int_equal(guest_mmio(gpa, true, size, &v), 0);
}

#define ENTRY(k, f) (BAR_HPA + (k) * 16u + (f))   /* the guest's table: GPA = HPA */

/* The guest programs entry k: vector to virtual APIC dest, edge; 4-byte
 * stores, or two 8-byte ones (address; data + vector control). */
static void guest_entry(unsigned k, uint8_t dest, uint8_t vector, bool level, bool qword, bool masked)
{
	struct msi_msg m;
	msi_compat_compose(&(struct msi_compat){ .dest_id = dest, .vector = vector, .level = level, .assert = level }, &m);
	if (qword) {
		gwr(ENTRY(k, 0), 8, (uint64_t)m.addr_hi << 32 | m.addr_lo);
		gwr(ENTRY(k, 8), 8, (uint64_t)(masked ? 1 : 0) << 32 | m.data);
	} else {
		gwr(ENTRY(k, 0), 4, m.addr_lo);
		gwr(ENTRY(k, 4), 4, m.addr_hi);
		gwr(ENTRY(k, 8), 4, m.data);
		gwr(ENTRY(k, 12), 4, masked ? 1 : 0);
	}
}

static void guest_msix_ctrl(uint16_t bits) { wr(MSIX_CTRL, 2, bits); }

static bool phys_enabled(void) { return cfg[MSIX_CTRL + 1] & (BMPT_MSIX_CTRL_EN >> 8); }
static bool phys_fmask(void) { return cfg[MSIX_CTRL + 1] & (BMPT_MSIX_CTRL_FMASK >> 8); }
static bool phys_masked(unsigned k) { return bar32(k * 16 + 12) & 1; }

/* Physical entry k holds the remappable message naming its route's IRTE. */
static void assert_phys_entry_remappable(const struct bmpt_dev *dev, unsigned k)
{
	struct msi_msg m = { bar32(k * 16), bar32(k * 16 + 4), bar32(k * 16 + 8) };
	struct msi_remap h;
	assert_true(msi_is_remappable(&m));
	assert_int_equal(msi_remap_decode(&m, &h), 0);
	assert_int_equal(msi_remap_index(&h), dev->msix_entries[k].route.base);
}

static void assert_irte(const struct bmpt_dev *dev, unsigned k, uint8_t host_vector, uint32_t host_apic)
{
	struct irte_remapped f;
	const struct irte *e = ir_table_entry(&mtable, dev->msix_entries[k].route.base);
	assert_true(e->lo & 1);
	assert_int_equal(irte_decode_remapped(e, false, &f), 0);
	assert_int_equal(f.vector, host_vector);
	assert_int_equal(f.dest, host_apic);
	assert_false(f.dest_logical);
	assert_int_equal(f.source.sid, RID);
	assert_int_equal(f.source.svt, IRTE_SVT_SID);
}

/* The first event from `from` on: a BAR (or config) write at off whose
 * value has (val & mask) == want; -1 if none. */
static int ev_find(unsigned from, bool is_bar, unsigned off, uint32_t mask, uint32_t want)
{
	for (unsigned i = from; i < nev; i++)
		if (evs[i].bar == is_bar && evs[i].off == off && (evs[i].val & mask) == want)
			return (int)i;
	return -1;
}

static void msix_capability_found_and_virtualized(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_up(&dev, 40, false);   /* MSI-X only; more entries than the glue's maximum */
	assert_int_equal(dev.msi, 0);
	assert_int_equal(dev.msix, MSIX_CAP);
	assert_int_equal(dev.msix_phys_size, 40);
	assert_int_equal(dev.msix_size, BMPT_MSIX_MAX);
	assert_int_equal(dev.msix_table, BAR_HPA);
	assert_int_equal(dev.msix_pba, BAR_HPA + PBA_OFF);
	assert_int_equal(dev.msix_routes, BMPT_MSIX_MAX);
	assert_int_equal(mtable.n_used, BMPT_MSIX_MAX);
	/* Two traps: the config page, the table's page (an EPT hole); the
	 * rest of the BAR stays mapped at GPA = HPA. */
	assert_int_equal(vm.core.nr_mmio, 2);
	assert_int_equal(traps[1].gpa, BAR_HPA);
	assert_int_equal(traps[1].size, 0x1000);
	uint64_t hpa = 0;
	assert_int_equal(ept_lookup(&vm.core.ept, BAR_HPA, &hpa, NULL, NULL), -PORT_ENOENT);
	assert_int_equal(ept_lookup(&vm.core.ept, BAR_HPA + 0x1000, &hpa, NULL, NULL), 0);
	assert_int_equal(hpa, BAR_HPA + 0x1000);
	/* Physical: MSI-X off, Function Mask clear, every entry masked. */
	assert_false(phys_enabled());
	assert_false(phys_fmask());
	for (unsigned k = 0; k < 40; k++)
		assert_true(phys_masked(k));

	/* The guest's capability: ID and next from the device, Table Size its
	 * own (32), off; table and PBA BIR/offset as the device has them. */
	assert_int_equal(rd(0x34, 1), MSIX_CAP);
	assert_int_equal(rd(MSIX_CAP, 2), 0x0011);
	assert_int_equal(rd(MSIX_CTRL, 2), BMPT_MSIX_MAX - 1);
	assert_int_equal(rd(MSIX_CAP + 4, 4), 3);
	assert_int_equal(rd(MSIX_CAP + 8, 4), PBA_OFF | 3);
	/* Read-only stays read-only: ID, next, Table Size, table/PBA. */
	wr(MSIX_CAP, 4, 0xffffffff);
	wr(MSIX_CAP + 4, 4, 0x12345678);
	wr(MSIX_CAP + 8, 4, 0x12345678);
	assert_int_equal(rd(MSIX_CAP, 4), (uint32_t)(BMPT_MSIX_CTRL_EN | BMPT_MSIX_CTRL_FMASK | (BMPT_MSIX_MAX - 1)) << 16 | 0x11);
	assert_int_equal(rd(MSIX_CAP + 4, 4), 3);
	assert_int_equal(rd(MSIX_CAP + 8, 4), PBA_OFF | 3);
	guest_msix_ctrl(0);
	assert_int_equal(rd(MSIX_CTRL, 2), BMPT_MSIX_MAX - 1);
	/* Physical enable followed the guest's on and off; FM never set. */
	assert_false(phys_enabled());
	assert_true(ev_find(0, false, MSIX_CTRL, BMPT_MSIX_CTRL_EN, BMPT_MSIX_CTRL_EN) >= 0);
	assert_int_equal(ev_find(0, false, MSIX_CTRL, BMPT_MSIX_CTRL_FMASK, BMPT_MSIX_CTRL_FMASK), -1);

	/* Entries start masked; the guest reads its own (virtual) entries. */
	assert_int_equal(grd(ENTRY(0, 12), 4), 1);
	assert_int_equal(grd(ENTRY(31, 8), 8), (uint64_t)1 << 32);
	/* Past the guest's Table Size (entry 35 exists on the device): a masked
	 * empty entry; writes are dropped, the device's entry untouched. */
	assert_int_equal(grd(ENTRY(35, 0), 8), 0);
	assert_int_equal(grd(ENTRY(35, 12), 4), 1);
	unsigned before = nev;
	gwr(ENTRY(35, 12), 4, 0);
	gwr(ENTRY(35, 0), 8, 0xfee00000);
	assert_int_equal(nev, before);
	assert_true(phys_masked(35));
	assert_int_equal(dev.msix_writes, 0);

	bmpt_dev_fini(&dev);
	assert_int_equal(mtable.n_used, 0);
	msix_stop();
}

static void msix_entries_become_irtes_and_remappable_entries(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_up(&dev, 4, true);
	assert_int_equal(dev.msi, 0x50);
	assert_true(dev.route_open);
	assert_int_equal(dev.msix_size, 4);
	assert_int_equal(mtable.n_used, 5);   /* MSI + 4 entries */
	assert_int_equal(rd(MSIX_CTRL, 2), 3);

	/* Guest: entry 0 -> vector 0x50 on APIC 0 (dwords), entry 1 -> 0x51 on
	 * APIC 1 (qwords), entry 2 -> 0x52 on APIC 0, unmasked; then enable. */
	guest_entry(0, 0, 0x50, false, false, false);
	guest_entry(1, 1, 0x51, false, true, false);
	guest_entry(2, 0, 0x52, false, false, false);
	assert_false(phys_enabled());
	for (unsigned k = 0; k < 4; k++)
		assert_true(phys_masked(k));   /* MSI-X off: effectively masked */
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	assert_true(phys_enabled());
	assert_false(phys_fmask());
	/* shadow: IRTEs name entry k's host vector on the vCPU's host APIC;
	 * the device holds remappable messages, unmasked; entry 3 (masked by
	 * the guest) stays masked. */
	assert_irte(&dev, 0, 0x70, 4);
	assert_irte(&dev, 1, 0x71, 6);
	assert_irte(&dev, 2, 0x72, 4);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(dev.msix_entries[k].last_update, 0);
		assert_phys_entry_remappable(&dev, k);
		assert_false(phys_masked(k));
	}
	assert_true(phys_masked(3));
	/* virtual: the guest reads back what it wrote. */
	assert_int_equal(grd(ENTRY(1, 0), 8), 0xfee01000);
	assert_int_equal(grd(ENTRY(1, 8), 4), 0x51);
	assert_int_equal(grd(ENTRY(1, 12), 4), 0);
	assert_int_equal(grd(ENTRY(0, 8), 8), 0x50);
	/* physical: entry k's interrupt arrives on its host vector and injects
	 * entry k's guest vector into its vCPU. */
	fire(1);
	assert_int_equal(delivered, 1);
	assert_int_equal(mv1.core.pending_irq, 0x51);
	assert_int_equal(mv0.core.pending_irq, -1);
	fire(2);
	assert_int_equal(mv0.core.pending_irq, 0x52);
	fire(0);
	assert_int_equal(mv0.core.pending_irq, 0x50);
	assert_int_equal(delivered, 3);
	assert_int_equal(blocked + irq_rc_fail, 0);
	assert_int_equal(dev.msix_entries[0].injected, 1);
	assert_int_equal(dev.msix_entries[1].injected, 1);
	assert_int_equal(dev.msix_entries[2].injected, 1);
	assert_int_equal(dev.injected, 3);
	/* The MSI route is found too (its host vector, once routed); a vector
	 * of no route is not this device's. */
	assert_int_equal(bmpt_dev_host_irq(&dev, 0x73), -PORT_ENOENT);   /* entry 3 never routed */
	assert_int_equal(bmpt_dev_host_irq(&dev, 0x99), -PORT_ENOENT);
	wr(0x54, 4, 0xfee01000);
	wr(0x5c, 2, 0x45);
	wr(0x52, 2, 1);
	assert_int_equal(bmpt_dev_host_irq(&dev, 0x61), 0);
	assert_int_equal(mv1.core.pending_irq, 0x45);

	bmpt_dev_fini(&dev);
	msix_stop();
}

static void msix_mask_transitions_keep_the_irte_order(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_up(&dev, 4, false);

	/* Entry 0 programmed while MSI-X is off: recorded, the device entry
	 * stays masked, no IRTE yet. */
	unsigned from = nev;
	guest_entry(0, 0, 0x50, false, false, false);
	assert_true(phys_masked(0));
	assert_int_equal(ev_find(from, true, 12, 1, 0), -1);
	assert_false(ir_table_entry(&mtable, dev.msix_entries[0].route.base)->lo & 1);
	/* Enable: the unmask comes after the IRTE is present, and before the
	 * device's MSI-X Enable. */
	from = nev;
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	int unmask = ev_find(from, true, 12, 1, 0), en = ev_find(from, false, MSIX_CTRL, BMPT_MSIX_CTRL_EN, BMPT_MSIX_CTRL_EN);
	assert_true(unmask >= 0 && en > unmask);
	assert_true(evs[unmask].irte_present);
	assert_int_equal(evs[unmask].irte_dest, 4);

	/* Entry mask: the device entry is masked; a message pends in the PBA
	 * (which the guest reads through the trap: it shares the page) and is
	 * sent on unmask. */
	gwr(ENTRY(0, 12), 4, 1);
	assert_true(phys_masked(0));
	fire(0);
	assert_int_equal(delivered, 0);
	assert_int_equal(grd(BAR_HPA + PBA_OFF, 4) & 1, 1);
	assert_int_equal(grd(BAR_HPA + PBA_OFF, 8) & 1, 1);
	mv0.core.pending_irq = -1;
	gwr(ENTRY(0, 12), 4, 0);
	assert_false(phys_masked(0));
	assert_int_equal(delivered, 1);
	assert_int_equal(grd(BAR_HPA + PBA_OFF, 4) & 1, 0);
	assert_int_equal(mv0.core.pending_irq, 0x50);

	/* One in flight when the guest masked reaches the host vector after
	 * the mask: the core's route (core_glue_host_irq) records it pending,
	 * the guest's PBA shows it though the device's bit is clear, and the
	 * unmask delivers it once. */
	uint64_t routed_before = dev.msix_entries[0].groute->injected;
	gwr(ENTRY(0, 12), 4, 1);
	mv0.core.pending_irq = -1;
	assert_int_equal(bmpt_dev_host_irq(&dev, 0x70), 1);
	assert_int_equal(mv0.core.pending_irq, -1);
	assert_false(pba_pending(0));
	assert_int_equal(grd(BAR_HPA + PBA_OFF, 4) & 1, 1);
	gwr(ENTRY(0, 12), 4, 0);
	assert_int_equal(mv0.core.pending_irq, 0x50);
	assert_int_equal(dev.msix_entries[0].groute->injected, routed_before + 1);
	assert_int_equal(grd(BAR_HPA + PBA_OFF, 4) & 1, 0);
	assert_int_equal(delivered, 1);

	/* Function Mask: every entry masked on the device (its own FM stays
	 * clear, MSI-X stays on); pending, then sent when it clears. */
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN | BMPT_MSIX_CTRL_FMASK);
	assert_true(phys_masked(0));
	assert_true(phys_enabled());
	assert_false(phys_fmask());
	assert_true(dev.msix_state.vec[0].virt_masked);
	assert_int_equal(grd(ENTRY(0, 12), 4), 0);   /* the guest's own mask bit untouched */
	fire(0);
	assert_int_equal(delivered, 1);
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	assert_false(phys_masked(0));
	assert_int_equal(delivered, 2);

	/* Retarget while unmasked (entry 0 -> APIC 1): the device entry is
	 * masked while the IRTE still names APIC 4, unmasked once it names 6. */
	from = nev;
	gwr(ENTRY(0, 0), 4, 0xfee01000);
	int mask = ev_find(from, true, 12, 1, 1);
	unmask = ev_find(from, true, 12, 1, 0);
	assert_true(mask >= 0 && unmask > mask);
	assert_int_equal(evs[mask].irte_dest, 4);
	assert_int_equal(evs[unmask].irte_dest, 6);
	assert_irte(&dev, 0, 0x70, 6);
	mv1.core.pending_irq = -1;
	fire(0);
	assert_int_equal(mv1.core.pending_irq, 0x50);

	/* Disable: entries masked before the device's MSI-X Enable clears. */
	from = nev;
	guest_msix_ctrl(0);
	mask = ev_find(from, true, 12, 1, 1);
	en = ev_find(from, false, MSIX_CTRL, BMPT_MSIX_CTRL_EN, 0);
	assert_true(mask >= 0 && en > mask);
	assert_false(phys_enabled());
	fire(0);
	assert_int_equal(delivered, 3);

	/* Memory space off then on (the guest owns it): the table writes made
	 * meanwhile went nowhere, so the glue writes every entry again. */
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	wr(0x04, 2, 0x0004);
	memset(bar, 0, 64);                      /* what a device reset would leave */
	wr(0x04, 2, 0x0006);
	assert_phys_entry_remappable(&dev, 0);
	assert_false(phys_masked(0));
	assert_true(phys_masked(1));
	bmpt_dev_fini(&dev);
	msix_stop();
}

static void msix_refused_message_blocks_only_its_entry(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_up(&dev, 4, false);
	guest_entry(0, 0, 0x50, false, false, false);
	guest_entry(1, 0, 0x51, true, false, false);    /* level-triggered: refused */
	guest_entry(2, 1, 0x52, false, true, false);
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	assert_true(dev.msix_entries[1].last_update < 0);
	assert_false(ir_table_entry(&mtable, dev.msix_entries[1].route.base)->lo & 1);
	assert_true(phys_masked(1));
	assert_false(phys_masked(0));
	assert_false(phys_masked(2));
	fire(1);
	assert_int_equal(delivered, 0);
	fire(0);
	fire(2);
	assert_int_equal(delivered, 2);
	assert_int_equal(mv0.core.pending_irq, 0x50);
	assert_int_equal(mv1.core.pending_irq, 0x52);
	/* An NMI message on entry 2: refused too, entry 0 still delivers. */
	gwr(ENTRY(2, 8), 4, 0x0400 | 0x52);
	assert_true(dev.msix_entries[2].last_update < 0);
	assert_true(phys_masked(2));
	fire(0);
	assert_int_equal(delivered, 3);
	bmpt_dev_fini(&dev);
	msix_stop();
}

static void msix_bad_accesses_and_pass_through(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_up(&dev, 4, false);
	uint64_t v = 0;
	/* PCIe: aligned DWORD or QWORD only. */
	assert_int_equal(guest_mmio(ENTRY(0, 0), false, 1, &v), -PORT_EINVAL);
	assert_int_equal(guest_mmio(ENTRY(0, 0), false, 2, &v), -PORT_EINVAL);
	assert_int_equal(guest_mmio(ENTRY(0, 2), false, 4, &v), -PORT_EINVAL);
	assert_int_equal(guest_mmio(ENTRY(0, 4), false, 8, &v), -PORT_EINVAL);
	v = 0;
	assert_int_equal(guest_mmio(ENTRY(0, 12), true, 1, &v), -PORT_EINVAL);
	assert_int_equal(guest_mmio(ENTRY(0, 10), true, 2, &v), -PORT_EINVAL);
	assert_int_equal(guest_mmio(ENTRY(0, 12), true, 8, &v), -PORT_EINVAL);
	assert_int_equal(guest_mmio(BAR_HPA + 0xffc, true, 8, &v), -PORT_EINVAL);
	assert_int_equal(grd(ENTRY(0, 12), 4), 1);   /* nothing unmasked */
	assert_int_equal(dev.msix_writes, 0);
	/* Read-only bits of an entry: address 1:0, vector control 31:1. */
	gwr(ENTRY(0, 0), 4, 0xfee00003);
	gwr(ENTRY(0, 12), 4, 0xfffffffe);
	assert_int_equal(grd(ENTRY(0, 0), 4), 0xfee00000);
	assert_int_equal(grd(ENTRY(0, 12), 4), 0);
	/* Outside the table, in the trapped page: the device's registers. */
	assert_int_equal(grd(BAR_HPA + OTHER_OFF, 4), 0xc0ffee00);
	gwr(BAR_HPA + OTHER_OFF + 8, 8, 0x1122334455667788ull);
	assert_int_equal(bar32(OTHER_OFF + 8), 0x55667788);
	assert_int_equal(bar32(OTHER_OFF + 12), 0x11223344);
	assert_int_equal(grd(BAR_HPA + OTHER_OFF + 8, 8), 0x1122334455667788ull);
	bmpt_dev_fini(&dev);
	msix_stop();
}

static void msix_fini_masks_disables_and_frees(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_up(&dev, 4, true);
	for (unsigned k = 0; k < 4; k++)
		guest_entry(k, k & 1, (uint8_t)(0x50 + k), false, false, false);
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	uint16_t bases[4];
	for (unsigned k = 0; k < 4; k++) {
		assert_false(phys_masked(k));
		bases[k] = dev.msix_entries[k].route.base;
	}
	assert_int_equal(mtable.n_used, 5);
	bmpt_dev_fini(&dev);
	for (unsigned k = 0; k < 4; k++) {
		assert_true(phys_masked(k));
		assert_false(ir_is_allocated(&mtable, bases[k]));
		assert_false(ir_table_entry(&mtable, bases[k])->lo & 1);
	}
	assert_false(phys_enabled());
	assert_int_equal(mtable.n_used, 0);
	assert_int_equal(dev.msix_routes, 0);
	assert_false(dev.route_open);
	fire(0);
	assert_int_equal(delivered, 0);
	msix_stop();
}

static void msix_init_failures_leave_nothing(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	/* IR table full: MSI + 4 entries need 5 IRTEs, the table has 4. */
	msix_start(4);
	device_msix(4, true);
	struct bmpt_dev_cfg c = msix_cfg(4);
	assert_int_equal(dev_init(&dev, &c), -PORT_ENOSPC);
	assert_int_equal(mtable.n_used, 0);
	assert_int_equal(vm.core.nr_mmio, 0);
	assert_int_equal(dev.msix_routes, 0);
	assert_false(dev.route_open);
	uint64_t hpa;
	assert_int_equal(ept_lookup(&vm.core.ept, BAR_HPA, &hpa, NULL, NULL), 0);   /* no hole punched */
	msix_stop();

	msix_start(256);
	/* No host vectors for MSI-X; a duplicate host vector; MSI's vector reused. */
	device_msix(4, true);
	c = msix_cfg(0);
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	static const uint8_t dup[4] = { 0x70, 0x71, 0x70, 0x72 }, msi_dup[2] = { 0x70, 0x61 };
	c = msix_cfg(4);
	c.msix_host_vectors = dup;
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	c.msix_host_vectors = msi_dup;
	c.n_msix_host_vectors = 2;
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	/* A host vector below 32: the route refuses it after others opened. */
	static const uint8_t low[4] = { 0x70, 0x71, 0x10, 0x72 };
	c.msix_host_vectors = low;
	c.n_msix_host_vectors = 4;
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	assert_int_equal(mtable.n_used, 0);
	/* The table in an unassigned BAR, or an I/O BAR. */
	memset(cfg + 0x1c, 0, 8);
	assert_int_equal(dev_init(&dev, (c = msix_cfg(4), &c)), -PORT_EINVAL);
	cfg[0x1c] = 0x01;
	assert_int_equal(dev_init(&dev, (c = msix_cfg(4), &c)), -PORT_EINVAL);
	/* Only one MMIO slot left: MSI-X needs two. */
	device_msix(4, true);
	vm.core.nr_mmio = CORE_MAX_MMIO - 1;
	assert_int_equal(dev_init(&dev, (c = msix_cfg(4), &c)), -PORT_ENOSPC);
	assert_int_equal(vm.core.nr_mmio, CORE_MAX_MMIO - 1);
	vm.core.nr_mmio = 0;
	assert_int_equal(mtable.n_used, 0);
	assert_int_equal(cfg_writes, 0);   /* the device untouched by every refusal */
	/* Neither MSI nor MSI-X. */
	cfg[0x34] = 0;
	cfg[6] = 0;
	assert_int_equal(dev_init(&dev, (c = msix_cfg(4), &c)), -PORT_ENODEV);
	msix_stop();
}

/* Without interrupt remapping the guest's table is only recorded: the
 * device's table is never written. */
static void msix_without_remapping_records_only(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_start(256);
	device_msix(4, false);
	struct bmpt_dev_cfg c = { .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA,
				  .bar_size = { [3] = BAR_SIZE } };
	assert_int_equal(dev_init(&dev, &c), 0);
	assert_int_equal(dev.msix_size, 4);
	assert_int_equal(dev.msix_routes, 0);
	assert_false(phys_enabled());
	guest_entry(1, 0, 0x51, false, false, false);
	guest_msix_ctrl(BMPT_MSIX_CTRL_EN);
	assert_false(dev.msix_state.vec[1].virt_masked);
	assert_int_equal(dev.msix_state.vec[1].virt_msi.data, 0x51);
	assert_true(dev.msix_state.vec[0].virt_masked);
	for (unsigned i = 0; i < nev; i++)
		assert_false(evs[i].bar);
	assert_false(phys_enabled());
	bmpt_dev_fini(&dev);
	msix_stop();
}

/* Issue 13 item 1: an MSI-X table or PBA that the device places past the
 * end of its BAR (probed by the host, or sized here the PCI way) refuses
 * the device before anything is routed or trapped; sizing leaves the BAR
 * and Command as they were. */
static void msix_structures_outside_the_bar_are_refused(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	static const struct {
		uint32_t table, pba;
		uint64_t probed;    /* 0: bm_passthrough sizes BAR3 itself */
	} bad[] = {
		{ 0x3fc0 | 3, PBA_OFF | 3, BAR_SIZE },      /* 8 entries from 0x3fc0 pass 0x4000 */
		{ 0x3fc0 | 3, PBA_OFF | 3, 0 },
		{ 0 | 3, 0x4000 | 3, BAR_SIZE },            /* the PBA just past the end */
		{ 0 | 3, 0x4000 | 3, 0 },
		{ 0xfffffff8u | 3, PBA_OFF | 3, 0 },        /* far outside */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msix_start(256);
		device_msix(8, false);
		memcpy(cfg + MSIX_CAP + 4, &bad[i].table, 4);
		memcpy(cfg + MSIX_CAP + 8, &bad[i].pba, 4);
		uint8_t before[0x28];
		memcpy(before, cfg, sizeof(before));
		struct bmpt_dev_cfg c = msix_cfg(8);
		c.bar_size[3] = bad[i].probed;
		assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
		assert_int_equal(mtable.n_used, 0);
		assert_int_equal(vm.core.nr_mmio, 0);
		assert_memory_equal(cfg, before, sizeof(before));   /* BARs, Command restored */
		for (unsigned e = 0; e < nev; e++)
			assert_false(evs[e].bar);                   /* the BAR never touched */
		msix_stop();
	}
	/* The table in BAR4, the upper half of the 64-bit BAR3, whose dword
	 * would read as a 32-bit BAR at 0x7e000000. */
	msix_start(256);
	device_msix(8, false);
	uint32_t hi = 0x7e000000u, table4 = 0 | 4;
	memcpy(cfg + 0x20, &hi, 4);
	memcpy(cfg + MSIX_CAP + 4, &table4, 4);
	struct bmpt_dev_cfg c4 = msix_cfg(8);
	c4.bar_size[4] = BAR_SIZE;
	assert_int_equal(dev_init(&dev, &c4), -PORT_EINVAL);
	assert_int_equal(vm.core.nr_mmio, 0);
	msix_stop();
	/* In bounds, sized here: taken, with the size the device decodes. */
	msix_start(256);
	device_msix(8, false);
	struct bmpt_dev_cfg c = msix_cfg(8);
	c.bar_size[3] = 0;
	assert_int_equal(dev_init(&dev, &c), 0);
	assert_int_equal(dev.msix_bar_size[0], BAR_SIZE);
	assert_int_equal(dev.msix_bar_base[0], BAR_HPA);
	assert_int_equal(cfg[4], 0x06);
	bmpt_dev_fini(&dev);
	msix_stop();
}

/* A BAR smaller than a page: the trapped page reaches past it, and the
 * guest's accesses there never reach the host's MMIO. */
static void msix_page_beyond_a_small_bar_is_refused(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	msix_start(256);
	device_msix(4, false);
	uint32_t pba = 0x400 | 3;
	memcpy(cfg + MSIX_CAP + 8, &pba, 4);
	struct bmpt_dev_cfg c = msix_cfg(4);
	c.bar_size[3] = 0x800;
	assert_int_equal(dev_init(&dev, &c), 0);
	assert_int_equal(traps[1].size, 0x1000);
	uint64_t v = 0;
	assert_int_equal(guest_mmio(BAR_HPA + 0x400, false, 4, &v), 0);   /* the PBA: inside */
	assert_int_equal(guest_mmio(BAR_HPA + OTHER_OFF, false, 4, &v), -PORT_EINVAL);
	v = 0x12345678;
	assert_int_equal(guest_mmio(BAR_HPA + OTHER_OFF, true, 4, &v), -PORT_EINVAL);
	assert_int_equal(bar32(OTHER_OFF), 0xc0ffee00);
	bmpt_dev_fini(&dev);
	msix_stop();
}

/* Issue 13 item 2 (the bare-metal config path): an MSI or MSI-X capability
 * whose body runs past 0x100 is refused; the device is not touched. */
static void capability_past_the_end_is_refused(void **state)
{
	(void)state;
	static struct bmpt_dev dev;
	vm = (struct vmx_vm){ .cpu = &cpu };
	assert_int_equal(ept_init(&vm.core.ept, EPT_ALL), 0);
	const struct bmpt_dev_cfg c = { .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA };
	device_32bit_pvm();
	cfg[0x34] = 0xf0;
	cfg[0xf0] = 0x05;
	cfg[0xf2] = 0x80;        /* 64-bit */
	cfg[0xf3] = 0x01;        /* per-vector masking: 24 bytes, to 0x108 */
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	assert_int_equal(cfg_writes, 0);
	assert_int_equal(vm.core.nr_mmio, 0);
	/* The same capability at 0xe8 ends at 0x100: taken. */
	device_32bit_pvm();
	cfg[0x34] = 0xe8;
	cfg[0xe8] = 0x05;
	cfg[0xea] = 0x80;
	cfg[0xeb] = 0x01;
	assert_int_equal(dev_init(&dev, &c), 0);
	assert_int_equal(dev.msi, 0xe8);
	assert_int_equal(dev.msi_len, 24);
	bmpt_dev_fini(&dev);
	/* MSI-X inside the MSI body (0x60 + 20 bytes). */
	device_32bit_pvm();
	cfg[0x61] = 0x6c;
	cfg[0x6c] = 0x11;
	vm.core.nr_mmio = 0;
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	assert_int_equal(cfg_writes, 0);
	/* MSI-X at 0xf8 (to 0x104); a loop back to it from 0x60 is walked once. */
	device_32bit_pvm();
	cfg[0x61] = 0xf8;
	cfg[0xf8] = 0x11;
	cfg[0xf9] = 0x60;
	vm.core.nr_mmio = 0;
	assert_int_equal(dev_init(&dev, &c), -PORT_EINVAL);
	assert_int_equal(cfg_writes, 0);
	ept_destroy(&vm.core.ept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(shares_pml4_on_a_4_level_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(shares_pdpt_on_a_3_level_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(mirrors_when_sllps_lacks_a_size_the_ept_uses, setup, teardown),
		cmocka_unit_test_setup_teardown(shares_when_the_ept_never_uses_the_missing_size, setup, teardown),
		cmocka_unit_test_setup_teardown(mirror_follows_an_ept_change, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_change_invalidates_the_range, setup, teardown),
		cmocka_unit_test_setup_teardown(virtual_capability_without_remapping, setup, teardown),
		cmocka_unit_test_setup_teardown(msi_becomes_an_irte_and_a_remappable_message, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_capability_found_and_virtualized, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_entries_become_irtes_and_remappable_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_mask_transitions_keep_the_irte_order, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_refused_message_blocks_only_its_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_bad_accesses_and_pass_through, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_fini_masks_disables_and_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_init_failures_leave_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_without_remapping_records_only, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_structures_outside_the_bar_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_page_beyond_a_small_bar_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(capability_past_the_end_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
