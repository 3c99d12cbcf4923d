/*
 * The IR table on a modelled VT-d unit, and the three-context route:
 * guest MSI (virtual) -> IRTE + remappable MSI (shadow) -> host vector/CPU
 * or posted descriptor (physical).
 *
 * "What the hardware would see" is checked by hw_interrupt(), which does
 * what a VT-d unit does with a device's MSI write (5.1.4): it reads the
 * table through the IRTA the model latched at SIRTP, computes the
 * interrupt index from the remappable message the device holds, and either
 * delivers (vector + destination, or a post into the descriptor) or names
 * the IR fault reason it would record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_fault.h"
#include "irq_remap/ir_route.h"
#include "irq_remap/ir_table.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define UNIT_BASE 0xfed90000ull
#define DEV_SID 0x0018          /* 00:03.0 */

static struct vtd_model model;
static struct vtd_unit unit;
static struct ir_table table;
static long pages_before;
static uint64_t extra_cap;      /* CAP bits on top of QEMU's (CAP.PI) */

/* --- the hardware's view ---------------------------------------------------- */

struct hw_result {
	int fault;              /* IR fault reason, 0 if delivered */
	uint32_t index;
	bool posted;
	uint8_t vector;
	uint32_t dest;          /* APIC ID (remapped) */
	bool dest_logical;
	uint8_t delivery;
	struct pi_desc *pd;     /* posted */
};

static struct hw_result hw_interrupt(struct msi_msg msg, uint16_t requester)
{
	struct hw_result r = { 0 };
	uint32_t gsts = vtd_model_reg32(&model, VTD_REG_GSTS);
	assert_true(gsts & VTD_GSTS_IRES);
	if (msg.addr_hi || (msg.addr_lo >> 20) != 0xfee) {
		r.fault = 0x20;
		return r;
	}
	if (!(msg.addr_lo & (1u << 4))) {          /* compatibility format */
		r.fault = (gsts & VTD_GSTS_CFIS) && !(model.irta_latched & (1u << 11)) ? 0 : 0x25;
		return r;
	}
	uint64_t irta = model.irta_latched;
	const struct irte *tbl = port_phys_to_virt(irta & ~0xfffull);
	uint32_t size = 2u << (irta & 0xf);
	bool eim = irta & (1u << 11);
	uint32_t index = ((msg.addr_lo >> 5) & 0x7fff) | (((msg.addr_lo >> 2) & 1) << 15);
	if (msg.addr_lo & (1u << 3)) {             /* SHV */
		if (msg.data & 0xffff0000u) {
			r.fault = 0x20;
			return r;
		}
		index += msg.data & 0xffff;
	}
	r.index = index;
	if (index >= size) {
		r.fault = 0x21;
		return r;
	}
	struct irte e = tbl[index];
	if (!(e.lo & 1)) {
		r.fault = 0x22;
		return r;
	}
	if (irte_reserved_bits_set(&e, eim)) {
		r.fault = 0x24;
		return r;
	}
	if (!irte_source_allows(&e, requester)) {
		r.fault = 0x26;
		return r;
	}
	r.vector = (uint8_t)(e.lo >> 16);
	if ((e.lo & (1u << 15)) && !(vtd_model_reg64(&model, VTD_REG_CAP) & VTD_CAP_PI)) {
		r.fault = 0x24;                    /* 9.11: IM is reserved without CAP.PI */
		return r;
	}
	if (e.lo & (1u << 15)) {
		r.posted = true;
		uint64_t pda = ((e.lo >> 38) << 6) | ((e.hi >> 32) << 32);
		r.pd = port_phys_to_virt(pda);
		pi_post(r.pd, r.vector);
		return r;
	}
	r.dest = eim ? (uint32_t)(e.lo >> 32) : (uint32_t)((e.lo >> 40) & 0xff);
	r.dest_logical = e.lo & (1u << 2);
	r.delivery = (uint8_t)((e.lo >> 5) & 7);
	return r;
}

/* The n-th message of a multi-message MSI: the device ORs n into the data. */
static struct msi_msg nth(struct msi_msg shadow, unsigned n)
{
	shadow.data |= n;
	return shadow;
}

/* IEC descriptors the unit processed (6.5.2.7), from the k-th last one. */
static unsigned iec_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < model.ndescs; i++)
		n += (model.descs[i].lo & 0xf) == 0x4;
	return n;
}
static struct vtd_desc last_iec(void)
{
	for (unsigned i = model.ndescs; i-- > 0;)
		if ((model.descs[i].lo & 0xf) == 0x4)
			return model.descs[i];
	fail_msg("no IEC descriptor");
	return (struct vtd_desc){ 0, 0 };
}
/* Index-selective IEC: type 4, G (bit 4), IM (31:27), IIDX (47:32). */
static uint64_t iec_index_lo(unsigned index, unsigned im)
{
	return 0x4 | (1ull << 4) | ((uint64_t)im << 27) | ((uint64_t)index << 32);
}

/* --- fixtures --------------------------------------------------------------- */

static int bring_up(unsigned n_entries, unsigned flags, uint64_t ecap)
{
	pages_before = port_host_pages_in_use();
	vtd_model_init(&model, UNIT_BASE, vtd_model_qemu_cap(48, true) | extra_cap, ecap);
	vtd_model_install(&model);
	assert_int_equal(vtd_unit_init(&unit, UNIT_BASE, 0), 0);
	assert_int_equal(ir_table_init(&table, n_entries, flags), 0);
	return ir_table_enable(&table, &unit);
}

static int setup_xapic(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	assert_int_equal(bring_up(256, 0, vtd_model_qemu_ecap(true, false, true, false)), 0);
	return 0;
}

static int setup_x2apic(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	assert_int_equal(bring_up(256, IR_TABLE_X2APIC, vtd_model_qemu_ecap(true, false, true, false)), 0);
	return 0;
}

static int setup_x2apic_pi(void **state)
{
	extra_cap = VTD_CAP_PI;
	int rc = setup_x2apic(state);
	extra_cap = 0;
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	if (table.unit)
		assert_int_equal(ir_table_disable(&table), 0);
	ir_table_fini(&table);
	vtd_unit_fini(&unit);
	vtd_model_uninstall_all();
	assert_int_equal(port_host_pages_in_use(), pages_before);
	port_host_set_log_quiet(0);
	return 0;
}

/* A guest of three vCPUs on host CPUs 2, 3, 6; xAPIC flat logical IDs 1, 2, 4. */
static struct ir_vcpu vcpus[3];
static struct ir_guest guest;
static const uint8_t host_vectors[32] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
};

static void make_guest(void)
{
	vcpus[0] = (struct ir_vcpu){ .virt_apic_id = 0, .virt_logical_id = 0x01, .host_apic_id = 2 };
	vcpus[1] = (struct ir_vcpu){ .virt_apic_id = 1, .virt_logical_id = 0x02, .host_apic_id = 3 };
	vcpus[2] = (struct ir_vcpu){ .virt_apic_id = 2, .virt_logical_id = 0x04, .host_apic_id = 6 };
	guest = (struct ir_guest){ .name = "g1", .vcpus = vcpus, .n_vcpus = 3 };
}

static struct ir_route_cfg cfg_for(unsigned n_msgs)
{
	return (struct ir_route_cfg){ .table = &table, .guest = &guest,
				      .source = { .sid = DEV_SID, .sq = IRTE_SQ_ALL, .svt = IRTE_SVT_SID },
				      .n_msgs = n_msgs, .host_vectors = host_vectors };
}

/* What a guest writes: physical or logical destination, vector, mode. */
static struct msi_msg guest_msi(uint8_t dest, bool logical, uint8_t vector, uint8_t delivery)
{
	struct msi_msg m;
	msi_compat_compose(&(struct msi_compat){ .dest_id = dest, .dest_logical = logical,
						 .vector = vector, .delivery = delivery }, &m);
	return m;
}

/* --- table bring-up ---------------------------------------------------------- */

static void enable_latches_table_blocks_cfi_and_invalidates(void **state)
{
	(void)state;
	/* 11.4.12: address | S, with 256 entries S = 7; no EIME in xAPIC mode. */
	assert_int_equal(model.irta_latched, table.phys | 7);
	assert_int_equal(table.phys % 4096, 0);
	uint32_t gsts = vtd_model_reg32(&model, VTD_REG_GSTS);
	assert_true(gsts & VTD_GSTS_IRTPS);
	assert_true(gsts & VTD_GSTS_IRES);
	assert_true(gsts & VTD_GSTS_QIES);
	assert_false(gsts & VTD_GSTS_CFIS);
	/* 6.5.2.7: a global IEC invalidation (G = 0) after SIRTP. */
	assert_int_equal(iec_count(), 1);
	assert_int_equal(last_iec().lo, 0x4);
	assert_int_equal(last_iec().hi, 0);
	/* A compatibility-format MSI is blocked (fault 0x25). */
	assert_int_equal(hw_interrupt(guest_msi(0, false, 0x41, 0), DEV_SID).fault, 0x25);
	/* Disable: IRE off. */
	assert_int_equal(ir_table_disable(&table), 0);
	assert_false(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_IRES);
}

static void enable_x2apic_sets_eime(void **state)
{
	(void)state;
	assert_int_equal(model.irta_latched, table.phys | (1u << 11) | 7);
	assert_true(table.eim);
}

static void enable_with_cfi_when_asked(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	assert_int_equal(bring_up(16, IR_TABLE_ALLOW_CFI, vtd_model_qemu_ecap(true, false, true, false)), 0);
	assert_int_equal(model.irta_latched, table.phys | 3);
	assert_true(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_CFIS);
	assert_int_equal(hw_interrupt(guest_msi(0, false, 0x41, 0), DEV_SID).fault, 0);
	teardown(state);
}

static void enable_refuses_units_without_ir_qi_or_eim(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	uint64_t qi_only = VTD_ECAP_QI | vtd_make(0x200 / 16, 17, 8);
	assert_int_equal(bring_up(16, 0, qi_only), -PORT_ENODEV);
	assert_non_null(strstr(port_host_last_log(), "ECAP.IR"));
	teardown(state);
	uint64_t ir_no_qi = VTD_ECAP_IR | VTD_ECAP_EIM | vtd_make(0x200 / 16, 17, 8);
	assert_int_equal(bring_up(16, 0, ir_no_qi), -PORT_ENOTSUP);
	assert_non_null(strstr(port_host_last_log(), "ECAP.QI"));
	teardown(state);
	uint64_t no_eim = VTD_ECAP_QI | VTD_ECAP_IR | vtd_make(0x200 / 16, 17, 8);
	assert_int_equal(bring_up(16, IR_TABLE_X2APIC, no_eim), -PORT_ENOTSUP);
	assert_non_null(strstr(port_host_last_log(), "ECAP.EIM"));
	/* Nothing was turned on. */
	assert_false(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_IRES);
	teardown(state);
}

static void table_sizes_and_out_of_memory(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	long before = port_host_pages_in_use();
	struct ir_table t;
	assert_int_equal(ir_table_init(&t, 3, 0), -PORT_EINVAL);
	assert_int_equal(ir_table_init(&t, 1, 0), -PORT_EINVAL);
	assert_int_equal(ir_table_init(&t, 131072, 0), -PORT_EINVAL);
	assert_int_equal(ir_table_init(&t, 2, 0), 0);
	assert_int_equal(t.s, 0);
	ir_table_fini(&t);
	port_host_fail_page_allocs_after(0);
	assert_int_equal(ir_table_init(&t, 256, 0), -PORT_ENOMEM);
	port_host_fail_page_allocs_after(1);   /* table yes, bitmap no */
	assert_int_equal(ir_table_init(&t, 256, 0), -PORT_ENOMEM);
	/* Above 256 entries the table is one physically contiguous run from
	 * the port; a failure after it gives the whole run back. */
	port_host_fail_page_allocs_after(1);
	assert_int_equal(ir_table_init(&t, 4096, 0), -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
	assert_int_equal(port_host_pages_in_use(), before);
	assert_int_equal(ir_table_init(&t, 4096, 0), 0);
	assert_int_equal(port_host_pages_in_use(), before + 17);
	assert_int_equal(t.s, 11);
	assert_int_equal(t.n_pages, 16);
	assert_int_equal(t.phys, port_virt_to_phys(ir_table_entry(&t, 0)));
	for (unsigned i = 0; i < 4096; i++)
		assert_false(irte_is_present(ir_table_entry(&t, (uint16_t)i)));
	ir_table_fini(&t);
	assert_int_equal(port_host_pages_in_use(), before);
	port_host_set_log_quiet(0);
}

static void table_enable_twice_and_fini_while_enabled(void **state)
{
	(void)state;
	assert_int_equal(ir_table_enable(&table, &unit), -PORT_EBUSY);
	/* fini turns IRE off before the memory goes. */
	ir_table_fini(&table);
	assert_false(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_IRES);
	assert_null(table.entries);
	/* Remapping left on by someone else: turned off, our table installed. */
	assert_int_equal(vtd_unit_gcmd(&unit, VTD_GCMD_IRE, true), 0);
	assert_int_equal(ir_table_init(&table, 16, 0), 0);
	assert_int_equal(ir_table_enable(&table, &unit), 0);
	assert_non_null(strstr(port_host_last_log(), "remaps through 16 IRTEs"));
	assert_int_equal(model.irta_latched, table.phys | 3);
	assert_true(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_IRES);
	/* A closed route refuses updates. */
	struct ir_route rt = { 0 };
	struct msi_msg m = { 0xfee00000, 0, 0x41 };
	assert_int_equal(ir_route_update(&rt, &m, false), -PORT_EINVAL);
}

static void table_set_is_atomic_store_plus_index_iec(void **state)
{
	(void)state;
	uint16_t base;
	assert_int_equal(ir_alloc(&table, 1, &base), 0);
	struct irte e;
	assert_int_equal(irte_compose_remapped(&(struct irte_remapped){ .vector = 0x55, .dest = 1,
					.source = { DEV_SID, 0, IRTE_SVT_SID } }, false, &e), 0);
	unsigned before = iec_count();
	assert_int_equal(ir_table_set(&table, base, &e), 0);
	assert_int_equal(iec_count(), before + 1);
	assert_int_equal(last_iec().lo, iec_index_lo(base, 0));
	struct msi_msg shadow;
	msi_remap_compose(&(struct msi_remap){ .handle = base }, &shadow);
	struct hw_result r = hw_interrupt(shadow, DEV_SID);
	assert_int_equal(r.fault, 0);
	assert_int_equal(r.vector, 0x55);
	assert_int_equal(r.dest, 1);
	/* Freeing makes it not present and invalidates it. */
	assert_int_equal(ir_free(&table, base, 1), 0);
	assert_int_equal(hw_interrupt(shadow, DEV_SID).fault, 0x22);
	assert_int_equal(last_iec().lo, iec_index_lo(base, 0));
	assert_int_equal(ir_free(&table, base, 1), -PORT_EINVAL);   /* double free */
	assert_int_equal(ir_table_set(&table, 256, &e), -PORT_ERANGE);
	assert_int_equal(ir_table_invalidate(&table, 2, 4), -PORT_EINVAL);  /* unaligned */
}

/* --- three contexts ----------------------------------------------------------- */

static void route_xapic_remapped_all_three_contexts(void **state)
{
	(void)state;
	make_guest();
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	/* Shadow before the guest acts: a remappable handle, masked, IRTE absent. */
	assert_true(rt.shadow_masked);
	assert_int_equal(rt.shadow_msi.addr_lo, 0xfee00010u | ((uint32_t)rt.base << 5));
	assert_int_equal(rt.shadow_msi.data, 0);
	assert_true(ir_is_allocated(&table, rt.base));
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).fault, 0x22);

	/* Virtual: the guest aims vector 0x41 at its APIC 1, fixed, unmasked. */
	struct msi_msg virt_msi = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
	unsigned iecs = iec_count();
	assert_int_equal(ir_route_update(&rt, &virt_msi, false), 0);
	assert_memory_equal(&rt.virt_msi, &virt_msi, sizeof(virt_msi));
	assert_false(rt.virt_masked);
	/* Shadow: unmasked; the IRTE is remapped, physical, fixed, source-checked. */
	assert_false(rt.shadow_masked);
	assert_true(rt.routed);
	const struct irte *irte = ir_table_entry(&table, rt.base);
	assert_int_equal(irte->lo, 0x0000030000800001ull);   /* vector 0x80, APIC 3 in 47:40 */
	assert_int_equal(irte->hi, 0x0000000000040018ull);   /* SVT 1, SID 00:03.0 */
	assert_int_equal(iec_count(), iecs + 1);
	assert_int_equal(last_iec().lo, iec_index_lo(rt.base, 0));
	/* Physical: host vector 0x80 on host APIC 3, standing for guest vector 0x41 on vCPU 1. */
	assert_int_equal(rt.msgs[0].vcpu, 1);
	assert_int_equal(rt.msgs[0].virt_vector, 0x41);
	assert_int_equal(rt.msgs[0].host_vector, 0x80);
	assert_int_equal(rt.msgs[0].host_apic_id, 3);
	assert_false(rt.msgs[0].posted);
	unsigned vcpu;
	uint8_t vv;
	assert_int_equal(ir_route_lookup_host_vector(&rt, 0x80, &vcpu, &vv), 0);
	assert_int_equal(vcpu, 1);
	assert_int_equal(vv, 0x41);
	assert_int_equal(ir_route_lookup_host_vector(&rt, 0x81, &vcpu, &vv), -PORT_ENOENT);
	/* The hardware delivers host vector 0x80 to APIC 3, physical, fixed. */
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.fault, 0);
	assert_int_equal(r.vector, 0x80);
	assert_int_equal(r.dest, 3);
	assert_false(r.dest_logical);
	assert_int_equal(r.delivery, 0);
	/* Another requester using the same handle is refused (fault 0x26). */
	assert_int_equal(hw_interrupt(rt.shadow_msi, 0x0020).fault, 0x26);

	ir_route_close(&rt);
	assert_false(ir_is_allocated(&table, (uint16_t)(rt.base)));
	assert_int_equal(table.n_used, 0);
}

static void route_retarget_vector_and_vcpu(void **state)
{
	(void)state;
	make_guest();
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	struct msi_msg first = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &first, false), 0);
	struct msi_msg shadow_before = rt.shadow_msi;

	/* The guest moves the interrupt to vCPU 2 with vector 0x62. */
	struct msi_msg moved = guest_msi(2, false, 0x62, MSI_DLM_FIXED);
	unsigned iecs = iec_count();
	assert_int_equal(ir_route_update(&rt, &moved, false), 0);
	/* The device keeps its message: only the IRTE changed, then one IEC. */
	assert_memory_equal(&rt.shadow_msi, &shadow_before, sizeof(shadow_before));
	assert_false(rt.shadow_masked);
	assert_int_equal(iec_count(), iecs + 1);
	assert_int_equal(last_iec().lo, iec_index_lo(rt.base, 0));
	assert_int_equal(rt.msgs[0].vcpu, 2);
	assert_int_equal(rt.msgs[0].virt_vector, 0x62);
	assert_int_equal(rt.msgs[0].host_apic_id, 6);
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.fault, 0);
	assert_int_equal(r.dest, 6);
	assert_int_equal(r.vector, 0x80);
	unsigned vcpu;
	uint8_t vv;
	assert_int_equal(ir_route_lookup_host_vector(&rt, 0x80, &vcpu, &vv), 0);
	assert_int_equal(vcpu, 2);
	assert_int_equal(vv, 0x62);

	/* The host moves vCPU 2 to host CPU 7: the remapped IRTE follows. */
	vcpus[2].host_apic_id = 7;
	assert_int_equal(ir_route_vcpu_moved(&rt, 2), 0);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).dest, 7);
	assert_int_equal(rt.msgs[0].host_apic_id, 7);
	assert_int_equal(last_iec().lo, iec_index_lo(rt.base, 0));
	/* Moving a vCPU the route does not target changes nothing. */
	iecs = iec_count();
	vcpus[0].host_apic_id = 9;
	assert_int_equal(ir_route_vcpu_moved(&rt, 0), 0);
	assert_int_equal(iec_count(), iecs);
	ir_route_close(&rt);
}

static void route_mask_and_unmask(void **state)
{
	(void)state;
	make_guest();
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	struct msi_msg a = guest_msi(0, false, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &a, false), 0);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).dest, 2);

	/* Masked: the device is masked, the IRTE still names the guest's CPU. */
	assert_int_equal(ir_route_update(&rt, &a, true), 0);
	assert_true(rt.virt_masked);
	assert_true(rt.shadow_masked);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).dest, 2);

	/* While masked the guest writes a half-programmed entry: accepted as
	 * virtual state only, nothing reaches the IRTE. */
	struct msi_msg half = { 0, 0, 0 };
	unsigned iecs = iec_count();
	assert_int_equal(ir_route_update(&rt, &half, true), 0);
	assert_memory_equal(&rt.virt_msi, &half, sizeof(half));
	assert_int_equal(iec_count(), iecs);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).dest, 2);

	/* Then the real message and unmask: the IRTE is rewritten first. */
	struct msi_msg b = guest_msi(1, false, 0x52, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &b, true), 0);
	assert_int_equal(ir_route_update(&rt, &b, false), 0);
	assert_false(rt.shadow_masked);
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.dest, 3);
	assert_int_equal(rt.msgs[0].virt_vector, 0x52);

	/* Unmasking the half-programmed entry would be refused and block. */
	assert_int_equal(ir_route_update(&rt, &half, false), -PORT_EINVAL);
	assert_true(rt.shadow_masked);
	assert_false(rt.routed);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).fault, 0x22);
	ir_route_close(&rt);
}

static void route_x2apic_32bit_destination(void **state)
{
	(void)state;
	make_guest();
	vcpus[1].host_apic_id = 0x00012345;
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	struct msi_msg m = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	const struct irte *irte = ir_table_entry(&table, rt.base);
	assert_int_equal(irte->lo, 0x0001234500800001ull);   /* DST bits 63:32 whole */
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.fault, 0);
	assert_int_equal(r.dest, 0x00012345);
	assert_int_equal(r.vector, 0x80);
	ir_route_close(&rt);
}

static void route_xapic_table_refuses_wide_host_apic_id(void **state)
{
	(void)state;
	make_guest();
	vcpus[1].host_apic_id = 0x100;
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	struct msi_msg m = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), -PORT_ERANGE);
	assert_non_null(strstr(port_host_last_log(), "x2APIC"));
	assert_true(rt.shadow_masked);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).fault, 0x22);
	ir_route_close(&rt);
}

static void route_multi_message_msi_block(void **state)
{
	(void)state;
	make_guest();
	struct ir_route one, blk;
	struct ir_route_cfg c1 = cfg_for(1), c4 = cfg_for(4);
	assert_int_equal(ir_route_open(&one, &c1), 0);    /* index 0 taken */
	assert_int_equal(ir_route_open(&blk, &c4), 0);
	assert_int_equal(blk.base % 4, 0);
	assert_int_equal(blk.base, 4);
	/* SHV set, subhandle 0: the device adds the message number. */
	assert_int_equal(blk.shadow_msi.addr_lo, 0xfee00018u | (4u << 5));
	assert_int_equal(blk.shadow_msi.data, 0);
	/* The guest's MSI: base vector 0x60, 4 vectors, vCPU 0. */
	struct msi_msg m = guest_msi(0, false, 0x60, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&blk, &m, false), 0);
	/* One IEC for the whole aligned block: IM = 2. */
	assert_int_equal(last_iec().lo, iec_index_lo(4, 2));
	for (unsigned i = 0; i < 4; i++) {
		struct hw_result r = hw_interrupt(nth(blk.shadow_msi, i), DEV_SID);
		assert_int_equal(r.fault, 0);
		assert_int_equal(r.index, 4 + i);
		assert_int_equal(r.vector, host_vectors[i]);
		assert_int_equal(r.dest, 2);
		assert_int_equal(blk.msgs[i].virt_vector, 0x60 + i);
		assert_int_equal(blk.msgs[i].irte_index, 4 + i);
		unsigned vcpu;
		uint8_t vv;
		assert_int_equal(ir_route_lookup_host_vector(&blk, host_vectors[i], &vcpu, &vv), 0);
		assert_int_equal(vv, 0x60 + i);
	}
	/* An unaligned base vector: the device still replaces the low bits. */
	m = guest_msi(0, false, 0x62, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&blk, &m, false), 0);
	assert_int_equal(blk.msgs[0].virt_vector, 0x60);
	assert_int_equal(blk.msgs[3].virt_vector, 0x63);
	/* Message 4 would index past the block into a free, not-present entry. */
	assert_int_equal(hw_interrupt(nth(blk.shadow_msi, 4), DEV_SID).fault, 0x22);
	ir_route_close(&blk);
	ir_route_close(&one);
	assert_int_equal(table.n_used, 0);
}

static void route_posted_to_the_vcpu_descriptor(void **state)
{
	(void)state;
	make_guest();
	static struct pi_desc pd;
	assert_int_equal(pi_desc_init(&pd, 0xf2, 3, false), 0);
	vcpus[1].pi_desc = &pd;
	guest.posted = true;
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	struct msi_msg m = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	const struct irte *irte = ir_table_entry(&table, rt.base);
	struct irte_posted p;
	assert_int_equal(irte_decode_posted(irte, &p), 0);
	assert_int_equal(p.vector, 0x41);                  /* the guest's own vector */
	assert_int_equal(p.pda, port_virt_to_phys(&pd));
	assert_int_equal(p.source.sid, DEV_SID);
	assert_true(rt.msgs[0].posted);
	assert_ptr_equal(rt.msgs[0].pi_desc, &pd);
	unsigned vcpu;
	uint8_t vv;
	assert_int_equal(ir_route_lookup_host_vector(&rt, 0x80, &vcpu, &vv), -PORT_ENOENT);
	/* The hardware posts: PIR bit 0x41 and ON, notification to NV/NDST. */
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.fault, 0);
	assert_true(r.posted);
	assert_ptr_equal(r.pd, &pd);
	assert_true(pi_is_pending(&pd, 0x41));
	assert_true(pi_on(&pd));
	/* The vCPU moves host CPU: a posted IRTE stays as it is (the core moves
	 * NDST), no invalidation. */
	unsigned iecs = iec_count();
	vcpus[1].host_apic_id = 0x4242;
	assert_int_equal(ir_route_vcpu_moved(&rt, 1), 0);
	assert_int_equal(iec_count(), iecs);
	assert_int_equal(irte_decode_posted(ir_table_entry(&table, rt.base), &p), 0);
	assert_int_equal(p.pda, port_virt_to_phys(&pd));
	assert_int_equal(pi_set_ndst(&pd, 0x4242, true), 0);
	assert_int_equal(pi_ndst(&pd, true), 0x4242);
	/* A vCPU without a descriptor falls back to remapped delivery. */
	m = guest_msi(0, false, 0x42, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_false(irte_is_posted(ir_table_entry(&table, rt.base)));
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).dest, 2);
	ir_route_close(&rt);
}

static void route_posted_needs_cap_pi(void **state)
{
	(void)state;
	make_guest();
	static struct pi_desc pd;
	assert_int_equal(pi_desc_init(&pd, 0xf2, 3, true), 0);
	vcpus[1].pi_desc = &pd;
	guest.posted = true;
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	struct msi_msg m = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_non_null(strstr(port_host_last_log(), "CAP.PI"));
	/* QEMU's unit has no CAP.PI: a remapped IRTE to vCPU 1's host CPU, not
	 * an IM=1 entry the hardware would reject as reserved (0x24). */
	assert_false(irte_is_posted(ir_table_entry(&table, rt.base)));
	assert_false(rt.msgs[0].posted);
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.fault, 0);
	assert_int_equal(r.dest, 3);
	assert_int_equal(r.vector, host_vectors[0]);
	unsigned vcpu;
	uint8_t vv;
	assert_int_equal(ir_route_lookup_host_vector(&rt, host_vectors[0], &vcpu, &vv), 0);
	assert_int_equal(vcpu, 1);
	assert_int_equal(vv, 0x41);
	assert_false(pi_on(&pd));
	ir_route_close(&rt);
}

static void route_exhaustion_is_an_error(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	assert_int_equal(bring_up(16, 0, vtd_model_qemu_ecap(true, false, true, false)), 0);
	make_guest();
	struct ir_route rts[17];
	struct ir_route_cfg c1 = cfg_for(1), c8 = cfg_for(8);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(ir_route_open(&rts[i], &c1), 0);
	assert_int_equal(ir_route_open(&rts[16], &c1), -PORT_ENOSPC);
	assert_non_null(strstr(port_host_last_log(), "no free aligned block"));
	/* Free 8 entries, but not an aligned block of 8: still no room for 8. */
	for (unsigned i = 4; i < 12; i++)
		ir_route_close(&rts[i]);
	assert_int_equal(table.n_used, 8);
	assert_int_equal(ir_route_open(&rts[4], &c8), -PORT_ENOSPC);
	/* Single entries still fit. */
	assert_int_equal(ir_route_open(&rts[4], &c1), 0);
	assert_int_equal(rts[4].base, 4);
	ir_route_close(&rts[4]);
	for (unsigned i = 12; i < 16; i++)
		ir_route_close(&rts[i]);
	assert_int_equal(ir_route_open(&rts[8], &c8), 0);
	assert_int_equal(rts[8].base, 8);
	ir_route_close(&rts[8]);
	for (unsigned i = 0; i < 4; i++)
		ir_route_close(&rts[i]);
	assert_int_equal(table.n_used, 0);
	teardown(state);
}

struct bad_case {
	const char *what;
	struct msi_msg msg;
	int rc;
	const char *log;
};

static void route_refuses_bad_guest_messages(void **state)
{
	(void)state;
	make_guest();
	const struct bad_case cases[] = {
		{ "reserved delivery 011b", guest_msi(1, false, 0x41, 3), -PORT_EINVAL, "reserved (011b)" },
		{ "reserved delivery 110b", guest_msi(1, false, 0x41, 6), -PORT_EINVAL, "reserved (110b)" },
		{ "SMI", guest_msi(1, false, 0x41, MSI_DLM_SMI), -PORT_ENOTSUP, "SMI" },
		{ "NMI", guest_msi(1, false, 0x41, MSI_DLM_NMI), -PORT_ENOTSUP, "NMI" },
		{ "INIT", guest_msi(1, false, 0x41, MSI_DLM_INIT), -PORT_ENOTSUP, "INIT" },
		{ "ExtINT", guest_msi(1, false, 0x41, MSI_DLM_EXTINT), -PORT_ENOTSUP, "ExtINT" },
		{ "unowned APIC", guest_msi(5, false, 0x41, MSI_DLM_FIXED), -PORT_EINVAL, "owned by no vCPU" },
		{ "unowned logical", guest_msi(0x08, true, 0x41, MSI_DLM_LOWPRI), -PORT_EINVAL, "owned by no vCPU" },
		{ "fixed multicast", guest_msi(0x03, true, 0x41, MSI_DLM_FIXED), -PORT_ENOTSUP, "2 vCPUs" },
		{ "fixed broadcast", guest_msi(0xff, false, 0x41, MSI_DLM_FIXED), -PORT_ENOTSUP, "3 vCPUs" },
		{ "illegal vector", guest_msi(1, false, 0x0f, MSI_DLM_FIXED), -PORT_EINVAL, "illegal vector" },
		{ "level", { 0xfee01000, 0, 0xc041 }, -PORT_ENOTSUP, "level-triggered" },
		{ "not an interrupt", { 0xfec00000, 0, 0x41 }, -PORT_EINVAL, "not a compatibility-format" },
		{ "remappable from guest", { 0xfee00010, 0, 0 }, -PORT_EINVAL, "not a compatibility-format" },
		{ "64-bit address", { 0xfee01000, 1, 0x41 }, -PORT_EINVAL, "not a compatibility-format" },
	};
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Start from a working route each time. */
		struct msi_msg good = guest_msi(1, false, 0x41, MSI_DLM_FIXED);
		assert_int_equal(ir_route_update(&rt, &good, false), 0);
		assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).fault, 0);
		print_message("# %s\n", cases[i].what);
		assert_int_equal(ir_route_update(&rt, &cases[i].msg, false), cases[i].rc);
		assert_non_null(strstr(port_host_last_log(), "guest g1"));
		assert_non_null(strstr(port_host_last_log(), cases[i].log));
		/* Blocked in every context: device masked, IRTE absent. */
		assert_true(rt.shadow_masked);
		assert_false(rt.routed);
		assert_int_equal(rt.msgs[0].vcpu, -1);
		assert_false(irte_is_present(ir_table_entry(&table, rt.base)));
		assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).fault, 0x22);
	}
	ir_route_close(&rt);
	/* A route without source verification is refused outright. */
	cfg.source.svt = IRTE_SVT_NONE;
	assert_int_equal(ir_route_open(&rt, &cfg), -PORT_EINVAL);
	cfg = cfg_for(3);
	assert_int_equal(ir_route_open(&rt, &cfg), -PORT_EINVAL);
	cfg = cfg_for(64);
	assert_int_equal(ir_route_open(&rt, &cfg), -PORT_EINVAL);
	assert_int_equal(table.n_used, 0);
}

static void route_lowest_priority_and_logical_destinations(void **state)
{
	(void)state;
	make_guest();
	struct ir_route rt;
	struct ir_route_cfg cfg = cfg_for(1);
	assert_int_equal(ir_route_open(&rt, &cfg), 0);
	/* Lowest priority to logical 0x06 (vCPUs 1, 2): one of them, vCPU 1,
	 * physical fixed delivery to its host CPU only. */
	struct msi_msg m = guest_msi(0x06, true, 0x41, MSI_DLM_LOWPRI);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_non_null(strstr(port_host_last_log(), "lowest-priority MSI to 2 vCPUs"));
	struct hw_result r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.dest, 3);
	assert_false(r.dest_logical);
	assert_int_equal(r.delivery, 0);
	/* Lowest priority broadcast: one vCPU, never a host broadcast. */
	m = guest_msi(0xff, false, 0x41, MSI_DLM_LOWPRI);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	r = hw_interrupt(rt.shadow_msi, DEV_SID);
	assert_int_equal(r.dest, 2);
	assert_false(r.dest_logical);
	/* Fixed logical to exactly one vCPU (flat 0x04 = vCPU 2). */
	m = guest_msi(0x04, true, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_int_equal(hw_interrupt(rt.shadow_msi, DEV_SID).dest, 6);
	/* xAPIC cluster model: cluster 1, member bit 2. */
	guest.virt_logical_cluster = true;
	vcpus[0].virt_logical_id = 0x11;
	vcpus[1].virt_logical_id = 0x12;
	vcpus[2].virt_logical_id = 0x22;
	m = guest_msi(0x12, true, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_int_equal(rt.msgs[0].vcpu, 1);
	m = guest_msi(0x22, true, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_int_equal(rt.msgs[0].vcpu, 2);
	/* x2APIC guest: logical ID = 1 << APIC ID within cluster 0. */
	guest.virt_logical_cluster = false;
	guest.virt_x2apic = true;
	m = guest_msi(0x04, true, 0x41, MSI_DLM_FIXED);
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_int_equal(rt.msgs[0].vcpu, 2);
	m = guest_msi(0x02, false, 0x41, MSI_DLM_FIXED);   /* physical APIC 2 */
	assert_int_equal(ir_route_update(&rt, &m, false), 0);
	assert_int_equal(rt.msgs[0].vcpu, 2);
	ir_route_close(&rt);
}

static void route_faults_for_out_of_range_handle(void **state)
{
	(void)state;
	/* A handle beyond the 256-entry table: fault 0x21, as the unit reports. */
	struct msi_msg m;
	msi_remap_compose(&(struct msi_remap){ .handle = 300 }, &m);
	struct hw_result r = hw_interrupt(m, DEV_SID);
	assert_int_equal(r.fault, IR_FAULT_INDEX_OVER);
	assert_int_equal(r.index, 300);
	/* Subhandle with reserved data bits: fault 0x20. */
	msi_remap_compose(&(struct msi_remap){ .handle = 1, .shv = true }, &m);
	m.data = 0x10000;
	assert_int_equal(hw_interrupt(m, DEV_SID).fault, IR_FAULT_REQ_RSVD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(enable_latches_table_blocks_cfi_and_invalidates, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(enable_x2apic_sets_eime, setup_x2apic, teardown),
		cmocka_unit_test(enable_with_cfi_when_asked),
		cmocka_unit_test(enable_refuses_units_without_ir_qi_or_eim),
		cmocka_unit_test(table_sizes_and_out_of_memory),
		cmocka_unit_test_setup_teardown(table_enable_twice_and_fini_while_enabled, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(table_set_is_atomic_store_plus_index_iec, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_xapic_remapped_all_three_contexts, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_retarget_vector_and_vcpu, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_mask_and_unmask, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_x2apic_32bit_destination, setup_x2apic, teardown),
		cmocka_unit_test_setup_teardown(route_xapic_table_refuses_wide_host_apic_id, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_multi_message_msi_block, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_posted_to_the_vcpu_descriptor, setup_x2apic_pi, teardown),
		cmocka_unit_test_setup_teardown(route_posted_needs_cap_pi, setup_x2apic, teardown),
		cmocka_unit_test(route_exhaustion_is_an_error),
		cmocka_unit_test_setup_teardown(route_refuses_bad_guest_messages, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_lowest_priority_and_logical_destinations, setup_xapic, teardown),
		cmocka_unit_test_setup_teardown(route_faults_for_out_of_range_handle, setup_xapic, teardown),
	};
	return cmocka_run_group_tests_name("irq_route", tests, NULL, NULL);
}
