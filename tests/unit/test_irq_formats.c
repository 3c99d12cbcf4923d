/*
 * IRTE (VT-d 9.10, 9.11), MSI (5.1.2.1, 5.1.2.2), posted-interrupt
 * descriptor (9.12) and IR fault reason (5.1.4.1) layouts, bit for bit.
 * Expected values are written out from the spec's bit positions, not
 * computed with the library's own masks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irq_remap/ir_fault.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "irq_remap/posted.h"
#include "port.h"
#include "port/host/port_host.h"

/* Field-wise equality (struct padding is not part of the format). */
static void assert_source_equal(struct irte_source a, struct irte_source b)
{
	assert_int_equal(a.sid, b.sid);
	assert_int_equal(a.sq, b.sq);
	assert_int_equal(a.svt, b.svt);
}
static void assert_remapped_equal(const struct irte_remapped *a, const struct irte_remapped *b)
{
	assert_int_equal(a->fpd, b->fpd);
	assert_int_equal(a->dest_logical, b->dest_logical);
	assert_int_equal(a->redir_hint, b->redir_hint);
	assert_int_equal(a->level, b->level);
	assert_int_equal(a->delivery, b->delivery);
	assert_int_equal(a->vector, b->vector);
	assert_int_equal(a->dest, b->dest);
	assert_source_equal(a->source, b->source);
}
static void assert_posted_equal(const struct irte_posted *a, const struct irte_posted *b)
{
	assert_int_equal(a->fpd, b->fpd);
	assert_int_equal(a->urgent, b->urgent);
	assert_int_equal(a->vector, b->vector);
	assert_int_equal(a->pda, b->pda);
	assert_source_equal(a->source, b->source);
}

/* --- IRTE, remapped format (9.10) ----------------------------------------- */

static struct irte remapped(struct irte_remapped f, bool eim)
{
	struct irte e = { 0, 0 };
	assert_int_equal(irte_compose_remapped(&f, eim, &e), 0);
	return e;
}

static void irte_remapped_each_field_lands_on_its_bits(void **state)
{
	(void)state;
	/* P alone: bit 0. */
	assert_int_equal(remapped((struct irte_remapped){ 0 }, true).lo, 0x1);
	assert_int_equal(remapped((struct irte_remapped){ .fpd = true }, true).lo, 0x3);
	assert_int_equal(remapped((struct irte_remapped){ .dest_logical = true }, true).lo, 0x5);
	assert_int_equal(remapped((struct irte_remapped){ .redir_hint = true }, true).lo, 0x9);
	assert_int_equal(remapped((struct irte_remapped){ .level = true }, true).lo, 0x11);
	assert_int_equal(remapped((struct irte_remapped){ .delivery = IRTE_DLM_LOWPRI }, true).lo, 0x21);
	assert_int_equal(remapped((struct irte_remapped){ .delivery = IRTE_DLM_NMI }, true).lo, 0x81);
	assert_int_equal(remapped((struct irte_remapped){ .delivery = IRTE_DLM_EXTINT }, true).lo, 0xe1);
	assert_int_equal(remapped((struct irte_remapped){ .vector = 0xff }, true).lo, 0x00ff0001);
	/* Destination: x2APIC takes bits 63:32 whole ... */
	assert_int_equal(remapped((struct irte_remapped){ .dest = 0xdeadbeef }, true).lo,
			 0xdeadbeef00000001ull);
	/* ... xAPIC puts the 8-bit APIC ID in DST[15:8] = bits 47:40. */
	assert_int_equal(remapped((struct irte_remapped){ .dest = 0xff }, false).lo,
			 0x0000ff0000000001ull);
	/* High quadword: SID 79:64, SQ 81:80, SVT 83:82. */
	assert_int_equal(remapped((struct irte_remapped){ .source = { .sid = 0xffff } }, true).hi, 0xffff);
	assert_int_equal(remapped((struct irte_remapped){ .source = { .sq = 3 } }, true).hi, 0x30000);
	assert_int_equal(remapped((struct irte_remapped){ .source = { .svt = IRTE_SVT_BUS } }, true).hi,
			 0x80000);
	/* Nothing is ever posted-format. */
	assert_false(irte_is_posted(&(struct irte){ remapped((struct irte_remapped){ 0 }, true).lo, 0 }));
}

static void irte_remapped_typical_entry_and_round_trip(void **state)
{
	(void)state;
	/* Vector 0x41, fixed, physical, to xAPIC 3, verified against 00:03.0. */
	struct irte_remapped f = { .vector = 0x41, .dest = 3,
				   .source = { .sid = 0x0018, .sq = 0, .svt = IRTE_SVT_SID } };
	struct irte e = remapped(f, false);
	assert_int_equal(e.lo, 0x0000030000410001ull);
	assert_int_equal(e.hi, 0x0000000000040018ull);
	struct irte_remapped back;
	assert_int_equal(irte_decode_remapped(&e, false, &back), 0);
	assert_remapped_equal(&back, &f);
	assert_true(irte_is_present(&e));
	assert_int_equal(irte_vector(&e), 0x41);
	struct irte_posted p;
	assert_int_equal(irte_decode_posted(&e, &p), -PORT_EINVAL);

	struct irte_remapped all = { .fpd = true, .dest_logical = true, .redir_hint = true,
				     .level = true, .delivery = IRTE_DLM_LOWPRI, .vector = 0xec,
				     .dest = 0x00012345,
				     .source = { .sid = 0xa5a5, .sq = 2, .svt = IRTE_SVT_SID } };
	e = remapped(all, true);
	assert_int_equal(irte_decode_remapped(&e, true, &back), 0);
	assert_remapped_equal(&back, &all);
	assert_false(irte_reserved_bits_set(&e, true));
}

static void irte_remapped_refuses_what_the_format_cannot_hold(void **state)
{
	(void)state;
	struct irte e = { 0x1234, 0x5678 };
	assert_int_equal(irte_compose_remapped(&(struct irte_remapped){ .dest = 0x100 }, false, &e),
			 -PORT_ERANGE);
	assert_int_equal(irte_compose_remapped(&(struct irte_remapped){ .delivery = 3 }, true, &e),
			 -PORT_EINVAL);
	assert_int_equal(irte_compose_remapped(&(struct irte_remapped){ .delivery = 6 }, true, &e),
			 -PORT_EINVAL);
	assert_int_equal(irte_compose_remapped(&(struct irte_remapped){ .source = { .svt = 3 } }, true, &e),
			 -PORT_EINVAL);
	assert_int_equal(irte_compose_remapped(&(struct irte_remapped){ .source = { .sq = 4 } }, true, &e),
			 -PORT_EINVAL);
	/* The output is untouched on refusal. */
	assert_int_equal(e.lo, 0x1234);
	assert_int_equal(e.hi, 0x5678);
}

/* --- IRTE, posted format (9.11) --------------------------------------------- */

static void irte_posted_layout(void **state)
{
	(void)state;
	struct irte_posted f = { .urgent = true, .vector = 0x5a, .pda = 0x123456789abcdec0ull,
				 .source = { .sid = 0x0018, .svt = IRTE_SVT_SID } };
	struct irte e;
	assert_int_equal(irte_compose_posted(&f, &e), 0);
	/* P 0, URG 14, IM 15, vector 23:16, PDA[31:6] in 63:38 */
	assert_int_equal(e.lo, 0x9abcdec0005ac001ull);
	/* SID/SQ/SVT as remapped, PDA[63:32] in 127:96 */
	assert_int_equal(e.hi, 0x1234567800040018ull);
	assert_true(irte_is_posted(&e));
	struct irte_posted back;
	assert_int_equal(irte_decode_posted(&e, &back), 0);
	assert_posted_equal(&back, &f);
	struct irte_remapped r;
	assert_int_equal(irte_decode_remapped(&e, true, &r), -PORT_EINVAL);
	assert_false(irte_reserved_bits_set(&e, true));

	assert_int_equal(irte_compose_posted(&(struct irte_posted){ .pda = 0x1000 }, &e), 0);
	assert_int_equal(e.lo, 0x0000100000008001ull);
	assert_int_equal(e.hi, 0);
	/* 64-byte alignment is required. */
	assert_int_equal(irte_compose_posted(&(struct irte_posted){ .pda = 0x1020 }, &e), -PORT_EINVAL);
	assert_int_equal(irte_compose_posted(&(struct irte_posted){ .pda = 0 }, &e), -PORT_EINVAL);
}

static void irte_reserved_bits_as_the_hardware_checks_them(void **state)
{
	(void)state;
	struct irte ok = remapped((struct irte_remapped){ .vector = 0x30, .dest = 1 }, false);
	assert_false(irte_reserved_bits_set(&ok, false));
	static const struct { uint64_t lo, hi; bool eim; } bad[] = {
		{ 1ull << 12, 0, true },             /* 14:12 */
		{ 1ull << 14, 0, true },
		{ 1ull << 24, 0, true },             /* 31:24 */
		{ 1ull << 32, 0, false },            /* xAPIC: DST[7:0] */
		{ 1ull << 48, 0, false },            /* xAPIC: DST[31:16] */
		{ 0, 1ull << 20, true },             /* 127:84 */
		{ 0, 1ull << 63, true },
		{ 0, 3ull << 18, true },             /* SVT 11b */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct irte e = { ok.lo | bad[i].lo, ok.hi | bad[i].hi };
		assert_true(irte_reserved_bits_set(&e, bad[i].eim));
	}
	/* The same DST bits are a destination in x2APIC mode. */
	struct irte x2 = { ok.lo | (1ull << 32) | (1ull << 48), ok.hi };
	assert_false(irte_reserved_bits_set(&x2, true));
	/* Posted: 7:2, 13:12, 37:24, 95:84 are reserved. */
	struct irte p;
	assert_int_equal(irte_compose_posted(&(struct irte_posted){ .pda = 0x40 }, &p), 0);
	static const struct { uint64_t lo, hi; } pbad[] = {
		{ 1ull << 2, 0 }, { 1ull << 13, 0 }, { 1ull << 24, 0 }, { 1ull << 37, 0 }, { 0, 1ull << 20 } /* bit 84 */,
	};
	for (unsigned i = 0; i < sizeof(pbad) / sizeof(pbad[0]); i++) {
		struct irte e = { p.lo | pbad[i].lo, p.hi | pbad[i].hi };
		assert_true(irte_reserved_bits_set(&e, true));
	}
}

static void irte_source_validation(void **state)
{
	(void)state;
	/* Requester 02:03.5 = 0x021d. */
	struct irte_source exact = { .sid = 0x021d, .sq = IRTE_SQ_ALL, .svt = IRTE_SVT_SID };
	struct irte e = remapped((struct irte_remapped){ .source = exact }, true);
	assert_true(irte_source_allows(&e, 0x021d));
	assert_false(irte_source_allows(&e, 0x021c));
	assert_false(irte_source_allows(&e, 0x031d));
	/* SQ=3: function bits ignored, so 02:03.0-7 pass, 02:04.x does not. */
	e = remapped((struct irte_remapped){ .source = { 0x021d, IRTE_SQ_IGN_210, IRTE_SVT_SID } }, true);
	assert_true(irte_source_allows(&e, 0x0218));
	assert_true(irte_source_allows(&e, 0x021f));
	assert_false(irte_source_allows(&e, 0x0220));
	/* SQ=1 ignores function bit 2 only. */
	e = remapped((struct irte_remapped){ .source = { 0x0219, IRTE_SQ_IGN_2, IRTE_SVT_SID } }, true);
	assert_true(irte_source_allows(&e, 0x021d));
	assert_false(irte_source_allows(&e, 0x021b));
	/* SVT=2: buses 3..5 (SID = start << 8 | end). */
	e = remapped((struct irte_remapped){ .source = { 0x0305, 0, IRTE_SVT_BUS } }, true);
	assert_true(irte_source_allows(&e, 0x0300));
	assert_true(irte_source_allows(&e, 0x05ff));
	assert_false(irte_source_allows(&e, 0x0200));
	assert_false(irte_source_allows(&e, 0x0600));
	/* SVT=0: anyone. */
	e = remapped((struct irte_remapped){ 0 }, true);
	assert_true(irte_source_allows(&e, 0xbeef));
}

static void irte_store_live_and_not_present(void **state)
{
	(void)state;
	struct irte slot __attribute__((aligned(16))) = { 0, 0xffff };
	struct irte a = remapped((struct irte_remapped){ .vector = 0x40, .dest = 1 }, true);
	struct irte b = remapped((struct irte_remapped){ .vector = 0x41, .dest = 2 }, true);
	/* Not present: plain ordered stores. */
	assert_int_equal(irte_store(&slot, &a), 0);
	assert_memory_equal(&slot, &a, sizeof(a));
	/* Present: one cmpxchg16b. */
	assert_int_equal(irte_store(&slot, &b), 0);
	assert_memory_equal(&slot, &b, sizeof(b));
	struct irte off = { 0, 0 };
	assert_int_equal(irte_store(&slot, &off), 0);
	assert_false(irte_is_present(&slot));
}

/* --- MSI formats (5.1.2) ----------------------------------------------------- */

static void msi_compat_decode_every_bit(void **state)
{
	(void)state;
	/* dest 0x03, RH (bit 3), DM (bit 2); vector 0x31, lowest priority,
	 * assert (14), level (15). */
	struct msi_msg m = { .addr_lo = 0xfee0300c, .addr_hi = 0, .data = 0xc131 };
	struct msi_compat c;
	assert_int_equal(msi_compat_decode(&m, &c), 0);
	assert_int_equal(c.dest_id, 3);
	assert_true(c.dest_logical);
	assert_true(c.redir_hint);
	assert_int_equal(c.vector, 0x31);
	assert_int_equal(c.delivery, MSI_DLM_LOWPRI);
	assert_true(c.level);
	assert_true(c.assert);
	struct msi_msg again;
	msi_compat_compose(&c, &again);
	assert_memory_equal(&again, &m, sizeof(m));

	/* A plain Linux MSI: physical, fixed, edge, APIC 0xff... */
	m = (struct msi_msg){ 0xfeeff000, 0, 0x00000041 };
	assert_int_equal(msi_compat_decode(&m, &c), 0);
	assert_int_equal(c.dest_id, 0xff);
	assert_false(c.dest_logical || c.redir_hint || c.level || c.assert);
	assert_int_equal(c.delivery, MSI_DLM_FIXED);
	/* Each delivery mode from data[10:8]. */
	for (unsigned d = 0; d < 8; d++) {
		m.data = 0x41 | (d << 8);
		assert_int_equal(msi_compat_decode(&m, &c), 0);
		assert_int_equal(c.delivery, d);
	}
}

static void msi_compat_decode_refuses_non_interrupts(void **state)
{
	(void)state;
	struct msi_compat c;
	assert_int_equal(msi_compat_decode(&(struct msi_msg){ 0xfed00000, 0, 0x41 }, &c), -PORT_EINVAL);
	assert_int_equal(msi_compat_decode(&(struct msi_msg){ 0xfee00000, 1, 0x41 }, &c), -PORT_EINVAL);
	/* Interrupt format bit set: a remappable message, not compatibility. */
	assert_int_equal(msi_compat_decode(&(struct msi_msg){ 0xfee00010, 0, 0x41 }, &c), -PORT_EINVAL);
}

static void msi_remap_compose_and_index(void **state)
{
	(void)state;
	struct msi_msg m;
	/* handle 0x1234 -> addr[19:5]; IF (4); SHV (3); subhandle 5 in data. */
	msi_remap_compose(&(struct msi_remap){ .handle = 0x1234, .shv = true, .subhandle = 5 }, &m);
	assert_int_equal(m.addr_lo, 0xfee24698);
	assert_int_equal(m.addr_hi, 0);
	assert_int_equal(m.data, 5);
	/* handle[15] goes to address bit 2. */
	msi_remap_compose(&(struct msi_remap){ .handle = 0x8001 }, &m);
	assert_int_equal(m.addr_lo, 0xfee00034);
	assert_int_equal(m.data, 0);
	assert_true(msi_is_remappable(&m));

	struct msi_remap r;
	assert_int_equal(msi_remap_decode(&(struct msi_msg){ 0xfee24698, 0, 5 }, &r), 0);
	assert_int_equal(r.handle, 0x1234);
	assert_true(r.shv);
	assert_int_equal(r.subhandle, 5);
	assert_int_equal(msi_remap_index(&r), 0x1239);
	assert_int_equal(msi_remap_decode(&(struct msi_msg){ 0xfee00034, 0, 7 }, &r), 0);
	assert_int_equal(r.handle, 0x8001);
	assert_false(r.shv);
	/* Without SHV the data is not part of the index. */
	assert_int_equal(msi_remap_index(&r), 0x8001);
	assert_int_equal(msi_remap_decode(&(struct msi_msg){ 0xfee01000, 0, 0 }, &r), -PORT_EINVAL);
}

/* --- posted-interrupt descriptor (9.12) ------------------------------------- */

static void pi_desc_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct pi_desc), 64);
	assert_int_equal(_Alignof(struct pi_desc), 64);
	struct pi_desc pd;
	memset(&pd, 0xaa, sizeof(pd));
	assert_int_equal(pi_desc_init(&pd, 0xf2, 0x12345678, true), 0);
	const unsigned char *b = (const unsigned char *)&pd;
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(b[i], 0);                 /* PIR clear */
	assert_int_equal(b[32], 0);                        /* ON (bit 256), SN (257) clear */
	assert_int_equal(b[34], 0xf2);                     /* NV bits 279:272 */
	assert_int_equal(b[36] | b[37] << 8 | b[38] << 16 | (uint32_t)b[39] << 24, 0x12345678); /* NDST */
	for (unsigned i = 40; i < 64; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(pi_ndst(&pd, true), 0x12345678);
	assert_int_equal(pi_nv(&pd), 0xf2);
	/* xAPIC: the APIC ID sits in NDST[15:8] (byte 37). */
	assert_int_equal(pi_desc_init(&pd, 0xf2, 5, false), 0);
	assert_int_equal(b[36], 0);
	assert_int_equal(b[37], 5);
	assert_int_equal(pi_ndst(&pd, false), 5);
	assert_int_equal(pi_desc_init(&pd, 0xf2, 0x100, false), -PORT_ERANGE);
	assert_int_equal(pi_set_ndst(&pd, 9, false), 0);
	assert_int_equal(b[37], 9);
	pi_set_nv(&pd, 0xe0);
	assert_int_equal(b[34], 0xe0);
	assert_int_equal(pi_ndst(&pd, false), 9);
}

static void pi_post_on_sn_and_harvest(void **state)
{
	(void)state;
	struct pi_desc pd;
	pi_desc_init(&pd, 0xf2, 1, true);
	/* First post: PIR bit 0x41 (word 1, bit 1) and ON 0->1: notify. */
	assert_true(pi_post(&pd, 0x41));
	assert_int_equal(pd.pir[1], 0x2);
	assert_true(pi_on(&pd));
	assert_true(pi_is_pending(&pd, 0x41));
	/* ON already set: no second notification. */
	assert_false(pi_post(&pd, 0xff));
	assert_int_equal(pd.pir[3], 1ull << 63);
	/* The VMX core consumes. */
	assert_true(pi_test_and_clear_on(&pd));
	assert_false(pi_test_and_clear_on(&pd));
	uint64_t pending[4] = { 0, 0, 0, 0 };
	assert_int_equal(pi_harvest(&pd, pending), 2);
	assert_int_equal(pending[1], 0x2);
	assert_int_equal(pending[3], 1ull << 63);
	assert_int_equal(pd.pir[0] | pd.pir[1] | pd.pir[2] | pd.pir[3], 0);
	/* Suppressed: vector recorded, ON not set, no notification. */
	pi_suppress(&pd);
	assert_true(pi_sn(&pd));
	assert_int_equal((uint8_t)pd.control & 0x2, 0x2);    /* SN is bit 257 */
	assert_false(pi_post(&pd, 0x30));
	assert_false(pi_on(&pd));
	assert_true(pi_is_pending(&pd, 0x30));
	assert_true(pi_unsuppress(&pd));
	assert_false(pi_sn(&pd));
	uint64_t p2[4] = { 0, 0, 0, 0 };
	assert_int_equal(pi_harvest(&pd, p2), 1);
	assert_false(pi_unsuppress(&pd));
	/* NV and NDST survive all of it. */
	assert_int_equal(pi_nv(&pd), 0xf2);
	assert_int_equal(pi_ndst(&pd, true), 1);
}

/* --- IR fault reasons (5.1.4.1) ----------------------------------------------- */

static void ir_fault_reasons_and_decode(void **state)
{
	(void)state;
	for (unsigned r = 0x20; r <= 0x27; r++) {
		assert_true(ir_fault_is_ir((uint8_t)r));
		assert_non_null(ir_fault_reason_name((uint8_t)r));
		for (unsigned q = 0x20; q < r; q++)
			assert_string_not_equal(ir_fault_reason_name((uint8_t)r),
						ir_fault_reason_name((uint8_t)q));
	}
	assert_null(ir_fault_reason_name(0x1f));
	assert_null(ir_fault_reason_name(0x28));
	assert_string_equal(ir_fault_reason_name(0x22), "interrupt remapping table entry not present");
	assert_string_equal(ir_fault_reason_name(0x26),
			    "remappable interrupt blocked by source-id verification");

	/* A fault record: F (127), FR 0x22 (103:96), SID 00:03.0 (79:64),
	 * interrupt index 7 in FI[63:48]. */
	struct ir_fault f;
	uint64_t lo = 7ull << 48, hi = (1ull << 63) | (0x22ull << 32) | 0x0018;
	assert_int_equal(ir_fault_decode(lo, hi, &f), 0);
	assert_int_equal(f.reason, 0x22);
	assert_int_equal(f.source_id, 0x18);
	assert_int_equal(f.index, 7);
	port_host_set_log_quiet(1);
	ir_fault_log(&f);
	assert_string_equal(port_host_last_log(), "ir fault 0x22 (interrupt remapping table entry not present) sid 00:03.0 index 7");
	port_host_set_log_quiet(0);
	/* F clear, or a DMA-remapping reason: not ours. */
	assert_int_equal(ir_fault_decode(lo, hi & ~(1ull << 63), &f), -PORT_EINVAL);
	assert_int_equal(ir_fault_decode(0, (1ull << 63) | (0x05ull << 32), &f), -PORT_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(irte_remapped_each_field_lands_on_its_bits),
		cmocka_unit_test(irte_remapped_typical_entry_and_round_trip),
		cmocka_unit_test(irte_remapped_refuses_what_the_format_cannot_hold),
		cmocka_unit_test(irte_posted_layout),
		cmocka_unit_test(irte_reserved_bits_as_the_hardware_checks_them),
		cmocka_unit_test(irte_source_validation),
		cmocka_unit_test(irte_store_live_and_not_present),
		cmocka_unit_test(msi_compat_decode_every_bit),
		cmocka_unit_test(msi_compat_decode_refuses_non_interrupts),
		cmocka_unit_test(msi_remap_compose_and_index),
		cmocka_unit_test(pi_desc_layout),
		cmocka_unit_test(pi_post_on_sn_and_harvest),
		cmocka_unit_test(ir_fault_reasons_and_decode),
	};
	return cmocka_run_group_tests_name("irq_formats", tests, NULL, NULL);
}
