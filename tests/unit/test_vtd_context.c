/* VT-d root/context tables: entries bit for bit (legacy and scalable mode),
 * attach/detach invalidation order, caching mode, translation types, and the
 * unit model's table walk as the end-to-end check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd_context.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define BASE 0xfed90000ull

static struct vtd_model model;
static struct vtd_unit unit;
static struct vtd_domain dom;

static void start(uint64_t cap, uint64_t ecap, unsigned flags)
{
	vtd_model_init(&model, BASE, cap, ecap);
	assert_int_equal(vtd_unit_init(&unit, BASE, flags), 0);
	assert_int_equal(vtd_unit_enable(&unit), 0);
	assert_int_equal(vtd_domain_init(&dom, &unit, 39), 0);
	assert_int_equal(vtd_domain_map(&dom, 0x10000, 0xabc000, 0x1000,
					VTD_MAP_READ | VTD_MAP_WRITE), 0);
}

static int setup(void **state)
{
	(void)state;
	vtd_model_init(&model, BASE, 0, 0);
	vtd_model_install(&model);
	port_host_set_log_quiet(1);
	port_host_set_clock_step(1000000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtd_domain_destroy(&dom);
	vtd_unit_fini(&unit);
	vtd_model_uninstall_all();
	port_host_set_clock_step(0);
	assert_int_equal(port_host_pages_in_use(), 0);
	return 0;
}

static void legacy_entries_bit_for_bit(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, false), vtd_model_qemu_ecap(false, false, false, false), 0);
	unsigned before = model.ndescs;
	assert_int_equal(vtd_ctx_attach(&unit, 0x02, (3 << 3) | 1, &dom, VTD_TT_UNTRANSLATED), 0);
	assert_int_equal(model.ndescs, before);   /* CM=0: not-present entries are not cached */
	/* 9.1 root entry: CTP | P, upper 64 bits zero */
	uint64_t re = unit.root[2 * 2];
	assert_int_equal(re & 0xfff, VTD_ROOT_LO_P);
	assert_int_equal(unit.root[2 * 2 + 1], 0);
	/* 9.3 context entry: lo SLPTPTR | TT=0 | P, hi AW=1 (39-bit) | DID << 8 */
	const uint64_t *ctx = port_phys_to_virt(re & VTD_ROOT_LO_CTP_MASK);
	unsigned devfn = (3 << 3) | 1;
	assert_int_equal(ctx[2 * devfn], port_virt_to_phys(dom.top) | 0x1);
	assert_int_equal(ctx[2 * devfn + 1], 0x1ull | ((uint64_t)dom.did << 8));
	uint64_t lo, hi;
	assert_int_equal(vtd_ctx_read(&unit, 0x02, devfn, &lo, &hi), 0);
	assert_int_equal(lo, ctx[2 * devfn]);
	assert_int_equal(hi, ctx[2 * devfn + 1]);
	/* the hardware translates through it */
	uint64_t hpa;
	assert_int_equal(vtd_model_translate(&model, VTD_SID(2, 3, 1), 0x10008, true, &hpa), 0);
	assert_int_equal(hpa, 0xabc008);
	assert_int_equal(vtd_model_translate(&model, VTD_SID(2, 3, 2), 0x10008, true, &hpa), 0x2);
	assert_int_equal(vtd_model_translate(&model, VTD_SID(3, 3, 1), 0x10008, true, &hpa), 0x1);
	/* re-attach to the same domain is fine; to another is refused */
	assert_int_equal(vtd_ctx_attach(&unit, 0x02, devfn, &dom, VTD_TT_UNTRANSLATED), 0);
	struct vtd_domain other;
	assert_int_equal(vtd_domain_init(&other, &unit, 39), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 0x02, devfn, &other, VTD_TT_UNTRANSLATED), -PORT_EBUSY);
	vtd_domain_destroy(&other);
}

static void detach_invalidates_context_then_iotlb(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x18, &dom, VTD_TT_UNTRANSLATED), 0);
	unsigned before = model.ndescs;
	assert_int_equal(vtd_ctx_detach(&unit, 0, 0x18), 0);
	/* 6.5.3.3: device-selective context cache, then domain-selective IOTLB */
	assert_int_equal(model.ndescs, before + 4);
	assert_int_equal(model.descs[before].lo,
			 vtd_desc_context(VTD_CC_DEVICE, dom.did, 0x0018, 0).lo);
	assert_int_equal(VTD_DESC_TYPE(model.descs[before + 1].lo), VTD_DESC_WAIT);
	assert_int_equal(model.descs[before + 2].lo,
			 VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(VTD_TLB_DOMAIN) | VTD_DESC_IOTLB_DID(dom.did));
	uint64_t lo, hi, hpa;
	assert_int_equal(vtd_ctx_read(&unit, 0, 0x18, &lo, &hi), 0);
	assert_int_equal(lo | hi, 0);
	assert_int_equal(vtd_model_translate(&model, 0x0018, 0x10000, false, &hpa), 0x2);
	assert_int_equal(vtd_ctx_detach(&unit, 0, 0x18), -PORT_ENOENT);
}

static void caching_mode_invalidates_on_attach(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, true), vtd_model_qemu_ecap(false, false, false, false), 0);
	unsigned before = model.ndescs;
	assert_int_equal(vtd_ctx_attach(&unit, 1, 0x08, &dom, VTD_TT_UNTRANSLATED), 0);
	/* not-present -> present under CM: context (DID 0, the not-present tag),
	 * then IOTLB for the domain */
	assert_int_equal(model.ndescs, before + 4);
	assert_int_equal(model.descs[before].lo, vtd_desc_context(VTD_CC_DEVICE, 0, 0x0108, 0).lo);
	assert_int_equal(model.descs[before + 2].lo,
			 VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(VTD_TLB_DOMAIN) | VTD_DESC_IOTLB_DID(dom.did));
	assert_int_equal(vtd_ctx_detach(&unit, 1, 0x08), 0);
}

static void caching_mode_through_registers(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, true), vtd_model_qemu_ecap(false, false, false, false),
	      VTD_UNIT_NO_QI);
	unsigned cc = model.nccmd, tlb = model.niotlb;
	assert_int_equal(vtd_ctx_attach(&unit, 1, 0x08, &dom, VTD_TT_UNTRANSLATED), 0);
	assert_int_equal(model.nccmd, cc + 1);
	assert_int_equal(model.ccmd_log[cc], VTD_CCMD_ICC | VTD_CCMD_CIRG(VTD_CC_DEVICE) |
						     VTD_CCMD_SID(0x0108) | VTD_CCMD_DID(0));
	assert_int_equal(model.niotlb, tlb + 1);
	assert_int_equal(model.iotlb_log[tlb][0], VTD_IOTLB_IVT | VTD_IOTLB_IIRG(VTD_TLB_DOMAIN) |
							  VTD_IOTLB_DID(dom.did));
	assert_int_equal(vtd_ctx_detach(&unit, 1, 0x08), 0);
	assert_int_equal(model.ccmd_log[cc + 1], VTD_CCMD_ICC | VTD_CCMD_CIRG(VTD_CC_DEVICE) |
							 VTD_CCMD_SID(0x0108) | VTD_CCMD_DID(dom.did));
}

static void translation_types(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x10, &dom, VTD_TT_PASSTHROUGH), -PORT_ENOTSUP);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x10, &dom, VTD_TT_DEVTLB), -PORT_ENOTSUP);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x10, &dom, 3), -PORT_EINVAL);
	vtd_domain_destroy(&dom);
	vtd_unit_fini(&unit);

	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, true, true, false), 0);
	uint64_t lo, hi, hpa;
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x10, &dom, VTD_TT_PASSTHROUGH), 0);
	assert_int_equal(vtd_ctx_read(&unit, 0, 0x10, &lo, &hi), 0);
	assert_int_equal(VTD_CTX_LO_TT_GET(lo), 2);
	assert_int_equal(vtd_model_translate(&model, 0x0010, 0x12345678, true, &hpa), 0);
	assert_int_equal(hpa, 0x12345678);   /* pass-through */
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x11, &dom, VTD_TT_DEVTLB), 0);
	assert_int_equal(vtd_ctx_read(&unit, 0, 0x11, &lo, &hi), 0);
	assert_int_equal(VTD_CTX_LO_TT_GET(lo), 1);
	assert_int_equal(vtd_model_translate(&model, 0x0011, 0x10000, false, &hpa), 0);
	assert_int_equal(hpa, 0xabc000);
	/* detaching a device-TLB user also invalidates its device TLB */
	unsigned before = model.ndescs;
	assert_int_equal(vtd_ctx_detach(&unit, 0, 0x11), 0);
	bool devtlb = false;
	for (unsigned i = before; i < model.ndescs; i++)
		if (VTD_DESC_TYPE(model.descs[i].lo) == VTD_DESC_DEVTLB) {
			devtlb = true;
			assert_int_equal(vtd_field(model.descs[i].lo, 47, 32), 0x0011);
			assert_true(model.descs[i].hi & VTD_DESC_DEVTLB_S);   /* everything */
		}
	assert_true(devtlb);
	assert_int_equal(vtd_ctx_detach(&unit, 0, 0x10), 0);
	vtd_domain_destroy(&dom);
	vtd_unit_fini(&unit);

	/* 9.3: pass-through AW is the largest SAGAW (48-bit here), not the
	 * 39-bit domain's; a translated entry keeps the domain's AW. */
	start(vtd_model_qemu_cap(48, false), vtd_model_qemu_ecap(false, false, true, false), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x10, &dom, VTD_TT_PASSTHROUGH), 0);
	assert_int_equal(vtd_ctx_read(&unit, 0, 0x10, &lo, &hi), 0);
	assert_int_equal(VTD_CTX_HI_AW_GET(hi), 2);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x18, &dom, VTD_TT_UNTRANSLATED), 0);
	assert_int_equal(vtd_ctx_read(&unit, 0, 0x18, &lo, &hi), 0);
	assert_int_equal(VTD_CTX_HI_AW_GET(hi), 1);
	assert_int_equal(vtd_model_translate(&model, 0x0010, 0x12345678, true, &hpa), 0);
	assert_int_equal(hpa, 0x12345678);
	/* the same pass-through attachment again is still 0 */
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0x10, &dom, VTD_TT_PASSTHROUGH), 0);
}

static void attach_refuses_foreign_or_unready(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false), 0);
	struct vtd_unit cold;
	assert_int_equal(vtd_unit_init(&cold, BASE, 0), 0);
	/* not enabled: no root table */
	assert_int_equal(vtd_ctx_attach(&cold, 0, 0, &dom, VTD_TT_UNTRANSLATED), -PORT_EINVAL);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 0, NULL, VTD_TT_UNTRANSLATED), -PORT_EINVAL);
	/* out of memory for the context table */
	port_host_fail_page_allocs_after(0);
	assert_int_equal(vtd_ctx_attach(&unit, 9, 0, &dom, VTD_TT_UNTRANSLATED), -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
	assert_int_equal(unit.root[2 * 9], 0);
}

static void scalable_mode_entries(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, true), vtd_model_qemu_ecap(false, false, false, true),
	      VTD_UNIT_SCALABLE);
	/* 11.4.6: RTADDR.TTM = 01b (scalable) */
	assert_int_equal(model.rtaddr_latched & VTD_GENMASK(11, 10), VTD_RTADDR_TTM_SCALABLE);
	/* 6.5.2: scalable mode queues 256-bit descriptors (IQA.DW), IQT in 32-byte steps */
	assert_int_equal(vtd_model_reg64(&model, VTD_REG_IQA),
			 port_virt_to_phys(unit.iq) | VTD_IQA_DW);
	assert_int_equal(vtd_model_reg64(&model, VTD_REG_IQT) % 32, 0);
	/* bring-up: global context + wait, global IOTLB + wait; the map under CM: page IOTLB + wait */
	assert_int_equal(vtd_model_reg64(&model, VTD_REG_IQT), 6 * 32);
	unsigned before = model.ndescs;
	assert_int_equal(vtd_ctx_attach(&unit, 4, 0x08, &dom, VTD_TT_UNTRANSLATED), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 4, 0x88, &dom, VTD_TT_UNTRANSLATED), 0);
	/* 9.2: lower half (devfn < 128) in bits 63:0, upper half in 127:64 */
	uint64_t lo = unit.root[2 * 4], hi = unit.root[2 * 4 + 1];
	assert_int_equal(lo & 0xfff, VTD_SMROOT_LO_LP);
	assert_int_equal(hi & 0xfff, VTD_SMROOT_HI_UP);
	/* 9.4: 256-bit context entries, 128 per table */
	const uint64_t *ctx = port_phys_to_virt(lo & VTD_ROOT_LO_CTP_MASK);
	const uint64_t *ce = &ctx[4 * 0x08];
	assert_int_equal(ce[0] & 0xfff, VTD_SMCTX_LO_P);   /* PDTS 0, no DTE/PASIDE */
	assert_int_equal(ce[1], 0);                         /* RID_PASID 0 */
	assert_int_equal(ce[2] | ce[3], 0);
	const uint64_t *uctx = port_phys_to_virt(hi & VTD_ROOT_LO_CTP_MASK);
	assert_true(uctx[4 * (0x88 - 128)] & VTD_SMCTX_LO_P);
	/* 9.5 PASID directory entry 0, 9.6 PASID-table entry 0 */
	const uint64_t *dir = port_phys_to_virt(ce[0] & VTD_SMCTX_LO_PASIDDIRPTR_MASK);
	assert_int_equal(dir[0] & 0xfff, VTD_PASIDDIR_P);
	const uint64_t *pe = port_phys_to_virt(dir[0] & VTD_PASIDDIR_PTP_MASK);
	assert_int_equal(pe[0], port_virt_to_phys(dom.top) | (2ull << 6) | (1ull << 2) | 1);
	assert_int_equal(pe[1], dom.did);
	for (unsigned i = 2; i < 8; i++)
		assert_int_equal(pe[i], 0);
	/* CM=1: context, PASID cache, IOTLB, then the wait */
	assert_int_equal(VTD_DESC_TYPE(model.descs[before].lo), VTD_DESC_CC);
	assert_int_equal(VTD_DESC_TYPE(model.descs[before + 1].lo), VTD_DESC_PC);
	assert_int_equal(vtd_field(model.descs[before + 1].lo, 31, 16), dom.did);
	assert_int_equal(VTD_DESC_TYPE(model.descs[before + 2].lo), VTD_DESC_IOTLB);
	assert_int_equal(VTD_DESC_TYPE(model.descs[before + 3].lo), VTD_DESC_WAIT);
	/* the same attachment again is 0 and changes nothing; another domain is EBUSY */
	unsigned ndescs = model.ndescs;
	long in_use = port_host_pages_in_use();
	assert_int_equal(vtd_ctx_attach(&unit, 4, 0x08, &dom, VTD_TT_UNTRANSLATED), 0);
	assert_int_equal(model.ndescs, ndescs);
	assert_int_equal(port_host_pages_in_use(), in_use);
	struct vtd_domain other;
	assert_int_equal(vtd_domain_init(&other, &unit, 39), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 4, 0x08, &other, VTD_TT_UNTRANSLATED), -PORT_EBUSY);
	vtd_domain_destroy(&other);
	/* 6.5.2.1: PASID cache, domain-selective (G=00b), PASID field 0 */
	assert_int_equal(model.descs[before + 1].lo, VTD_DESC_PC | ((uint64_t)dom.did << 16));
	assert_int_equal(model.descs[before + 1].hi, 0);
	long pages = port_host_pages_in_use();
	assert_int_equal(vtd_ctx_detach(&unit, 4, 0x08), 0);
	assert_int_equal(ctx[4 * 0x08], 0);
	assert_int_equal(port_host_pages_in_use(), pages - 2);   /* PASID directory + table */
	/* An invalidation that never completes: the PASID tables the unit may
	 * still have cached are not handed back to the allocator. */
	const uint64_t *udir = port_phys_to_virt(uctx[4 * (0x88 - 128)] &
						   VTD_SMCTX_LO_PASIDDIRPTR_MASK);
	model.qi_stuck = true;
	assert_int_equal(vtd_ctx_detach(&unit, 4, 0x88), -PORT_ETIMEDOUT);
	assert_int_equal(port_host_pages_in_use(), pages - 2);
	assert_int_equal(udir[0] & 0xfff, VTD_PASIDDIR_P);   /* still ours, not freed */
	model.qi_stuck = false;
	port_mmio_write64(BASE + VTD_REG_IQT, vtd_model_reg64(&model, VTD_REG_IQT));  /* drain */
	port_page_free(port_phys_to_virt(udir[0] & VTD_PASIDDIR_PTP_MASK));
	port_page_free((void *)udir);
}

static void scalable_needs_smts(void **state)
{
	(void)state;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(48, false),
		       vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_unit_init(&unit, BASE, VTD_UNIT_SCALABLE), -PORT_ENOTSUP);
	assert_non_null(strstr(port_host_last_log(), "SMTS"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(legacy_entries_bit_for_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(detach_invalidates_context_then_iotlb, setup, teardown),
		cmocka_unit_test_setup_teardown(caching_mode_invalidates_on_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(caching_mode_through_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(translation_types, setup, teardown),
		cmocka_unit_test_setup_teardown(attach_refuses_foreign_or_unready, setup, teardown),
		cmocka_unit_test_setup_teardown(scalable_mode_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(scalable_needs_smts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
