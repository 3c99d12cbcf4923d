/* bm_passthrough on the host: the share-or-mirror decision and what the
 * unit then walks (tests/unit/support/vtd_model translates with QEMU's
 * reserved-bit checks), the invalidation after an EPT change, and the
 * trapped MSI capability's virtual view and its shadow in a modelled
 * device.  The VMX core's EPT-side calls are stood in for below (vmx.c
 * needs VMX instructions); ept.c is the real one. */
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
#include "vmm_glue/vmx/bm_passthrough.h"
#include "vtd_model.h"

#define BASE 0xfed90000ull
#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define RID 0x0018
#define CFG_GPA 0xb0018000ull

/* --- the core's calls bm_passthrough makes, over the real ept.c -------- */

static unsigned invept_calls;
static struct vmx_mmio_ops trapped;

int vmx_vm_map(struct vmx_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
	return ept_map(&vm->ept, gpa, hpa, size, perms, memtype);
}

int vmx_vm_trap_mmio(struct vmx_vm *vm, uint64_t gpa, uint64_t size, const struct vmx_mmio_ops *ops)
{
	trapped = *ops;
	return ept_unmap(&vm->ept, gpa, size);
}

void vmx_vm_flush_ept(struct vmx_vm *vm)
{
	(void)vm;
	invept_calls++;
}

void vmx_vcpu_inject_irq(struct vmx_vcpu *v, uint8_t vector) { v->pending_irq = vector; }

/* --- fixtures ------------------------------------------------------------ */

static struct vtd_model model;
static struct vtd_unit unit;
static struct vmx_cpu cpu;
static struct vmx_vm vm;
static struct bmpt_dma dma;

static void start(uint64_t cap, uint64_t ept_caps)
{
	vtd_model_init(&model, BASE, cap, vtd_model_qemu_ecap(true, false, true, false));
	assert_int_equal(vtd_unit_init(&unit, BASE, 0), 0);
	assert_int_equal(vtd_unit_enable(&unit), 0);
	cpu = (struct vmx_cpu){ .caps = { .ept_vpid = ept_caps } };
	vm = (struct vmx_vm){ .cpu = &cpu };
	assert_int_equal(ept_init(&vm.ept, ept_caps), 0);
	/* Guest RAM GPA [0, 1 GiB) at HPA 4 GiB (never dereferenced). */
	assert_int_equal(ept_map(&vm.ept, 0, 4 * GiB, GiB, EPT_RWX, EPT_MT_WB), 0);
}

static void stop(void)
{
	bmpt_dma_fini(&dma);
	ept_destroy(&vm.ept);
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
		assert_int_equal(ept_lookup(&vm.ept, gpas[i], &ept_hpa, NULL, NULL), 0);
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
	assert_int_equal(bmpt_dma_init(&dma, &vm, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_SHARED);
	assert_ptr_equal(dma.dom.top, vm.ept.pml4);
	assert_int_equal(dma.dom.levels, 4);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	stop();
}

static void shares_pdpt_on_a_3_level_unit(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_SHARED);
	assert_int_equal(dma.dom.levels, 3);
	assert_int_equal(port_virt_to_phys(dma.dom.top), ept_entry_addr(vm.ept.pml4[0]));
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	/* Above 512 GiB a 3-level shared domain cannot follow. */
	assert_int_equal(ept_map(&vm.ept, 1ull << 39, 8 * GiB, GiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(bmpt_dma_sync(&dma, 1ull << 39, GiB), -PORT_ERANGE);
	stop();
}

static void mirrors_when_sllps_lacks_a_size_the_ept_uses(void **state)
{
	(void)state;
	start(SLLPS_2M_ONLY(vtd_model_qemu_cap(48, false)), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_MIRROR);
	assert_non_null(strstr(dma.why, "1 GiB"));
	assert_ptr_not_equal(dma.dom.top, vm.ept.pml4);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	stop();
}

static void shares_when_the_ept_never_uses_the_missing_size(void **state)
{
	(void)state;
	start(SLLPS_2M_ONLY(vtd_model_qemu_cap(48, false)), EPT_ALL & ~EPT_CAP_1G);
	assert_int_equal(bmpt_dma_init(&dma, &vm, &unit, 0), 0);
	assert_int_equal(dma.mode, BMPT_SHARED);
	assert_int_equal(bmpt_dma_attach(&dma, RID), 0);
	assert_dma_follows_ept();
	stop();
}

static void mirror_follows_an_ept_change(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, false), EPT_ALL);
	assert_int_equal(bmpt_dma_init(&dma, &vm, &unit, BMPT_FORCE_MIRROR), 0);
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
	assert_int_equal(bmpt_dma_init(&dma, &vm, &unit, 0), 0);
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

static void cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	cfg_writes++;
	for (unsigned i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(val >> (8 * i));
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
	assert_int_equal(ept_init(&vm.ept, EPT_ALL), 0);
	const struct bmpt_dev_cfg c = { .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA };
	assert_int_equal(bmpt_dev_init(&dev, &vm, &c), 0);
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
	assert_true(dev.virt_masked);               /* vector 0 still masked */
	wr(0x6c, 4, 0);
	assert_false(dev.virt_masked);
	assert_int_equal(dev.virt_msi.addr_lo, 0xfee02000);
	assert_int_equal(dev.virt_msi.data, 0x42);
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
	ept_destroy(&vm.ept);
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
	struct vmx_vcpu v0 = { .vm = &vm, .pending_irq = -1 }, v1 = { .vm = &vm, .pending_irq = -1 };
	struct vmx_vcpu *vcpus[2] = { &v0, &v1 };
	const struct bmpt_dev_cfg c = { .rid = RID, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA,
					.table = &table, .guest = &guest, .vcpus = vcpus, .host_vector = 0x61 };
	assert_int_equal(bmpt_dev_init(&dev, &vm, &c), 0);

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
	assert_int_equal(v1.pending_irq, 0x45);
	assert_int_equal(v0.pending_irq, -1);
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
	ept_destroy(&vm.ept);
	vtd_unit_fini(&unit);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
