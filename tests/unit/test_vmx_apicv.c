/* APIC virtualization and posted interrupts, the pure part
 * (vmm_glue/vmx/vmx_apicv.c): which controls are chosen from the
 * capability MSRs (SDM Vol. 3C App. A.3-A.4), the §26.2.1.1 VM-entry checks
 * on them, the x2APIC MSRs the MSR bitmap lets through (§29.5), and the
 * software harvest of a posted-interrupt descriptor into the virtual-APIC
 * page (§29.6's steps: ON cleared, PIR -> VIRR, RVI raised). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irq_remap/posted.h"
#include "port.h"
#include "vmm_glue/vmx/vmcs_fields.h"
#include "vmm_glue/vmx/vmx_apicv.h"
#include "vmm_glue/vmx/vmx_caps.h"

static uint64_t cap(uint32_t must_be_1, uint32_t may_be_1)
{
	return ((uint64_t)may_be_1 << 32) | must_be_1;
}

/* A CPU like Bochs 2.7's tigerlake model (TRUE_* MSRs): everything but
 * posted-interrupt processing. */
static struct vmx_caps bochs_like(void)
{
	struct vmx_caps c = { 0 };
	c.basic = VMX_BASIC_TRUE_CTLS;
	c.pin = cap(0x16, 0x16 | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPT_TIMER);
	c.proc = cap(0x04006172, 0xfff9fffe);
	c.proc2 = cap(0, PROC2_VIRT_APIC_ACCESS | PROC2_ENABLE_EPT | PROC2_VIRT_X2APIC | PROC2_ENABLE_VPID |
			 PROC2_UNRESTRICTED_GUEST | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY);
	c.exit = cap(0x36dfb, 0x3fefff);
	c.entry = cap(0x11fb, 0xf3ff);
	return c;
}

/* The controls the core chose before APICv (write_controls). */
static struct vmx_apicv_ctls base_ctls(const struct vmx_caps *c)
{
	struct vmx_apicv_ctls n = {
		.pin = (uint32_t)c->pin | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING,
		.proc = (uint32_t)c->proc | PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
			PROC_SECONDARY_CTLS,
		.proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID,
		.exit = (uint32_t)c->exit | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT,
	};
	return n;
}

static void caps_flags_follow_the_allowed_1_bits_and_need_secondary_controls(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_like();
	uint32_t f = vmx_caps_apicv(&c);
	assert_true(f & VMX_APICV_CAP_TPR_SHADOW);
	assert_true(f & VMX_APICV_CAP_VIRT_X2APIC);
	assert_true(f & VMX_APICV_CAP_VINTR_DELIVERY);
	assert_true(f & VMX_APICV_CAP_APIC_REG_VIRT);
	assert_true(f & VMX_APICV_CAP_ACK_ON_EXIT);
	assert_false(f & VMX_APICV_CAP_POSTED);
	/* Secondary controls that cannot be activated do not count, whatever
	 * PROCBASED_CTLS2 says. */
	c.proc &= ~((uint64_t)PROC_SECONDARY_CTLS << 32);
	f = vmx_caps_apicv(&c);
	assert_false(f & (VMX_APICV_CAP_VIRT_X2APIC | VMX_APICV_CAP_VINTR_DELIVERY | VMX_APICV_CAP_SECONDARY));
	assert_true(f & VMX_APICV_CAP_TPR_SHADOW);
}

static void all_controls_present_selects_x2apic_vid_and_register_virtualization(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_like();
	struct vmx_apicv_ctls n = base_ctls(&c);
	n.proc |= PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
	n.proc2 |= PROC2_VIRT_APIC_ACCESS;
	bool posted = true;
	const char *missing = "x";

	assert_int_equal(vmx_apicv_select(&c, true, &n, &posted, &missing), 0);
	assert_null(missing);
	assert_false(posted);                      /* pin-based bit 7 not allowed */
	assert_true(n.pin & PIN_EXT_INTR_EXITING);
	assert_false(n.pin & PIN_POSTED_INTR);
	assert_true(n.proc & PROC_TPR_SHADOW);
	assert_true(n.proc & PROC_SECONDARY_CTLS);
	assert_false(n.proc & (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING));
	assert_int_equal(n.proc2 & (PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY),
			 PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY);
	assert_false(n.proc2 & PROC2_VIRT_APIC_ACCESS);   /* excluded by x2APIC mode */
	assert_true(n.proc2 & PROC2_ENABLE_EPT);          /* the rest kept */

	/* Whatever was chosen passes the VM-entry checks. */
	struct vmx_apicv_vmcs s = { .c = n, .vapic_pa = 0x123000, .maxphyaddr = 39 };
	assert_null(vmx_apicv_check(&s));
}

static void posted_is_chosen_only_with_pin_bit_7_and_ack_on_exit(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_like();
	c.pin |= (uint64_t)PIN_POSTED_INTR << 32;
	struct vmx_apicv_ctls n = base_ctls(&c);
	n.exit &= ~EXIT_ACK_INTR_ON_EXIT;
	bool posted = false;

	assert_int_equal(vmx_apicv_select(&c, true, &n, &posted, NULL), 0);
	assert_true(posted);
	assert_true(n.pin & PIN_POSTED_INTR);
	assert_true(n.exit & EXIT_ACK_INTR_ON_EXIT);
	struct vmx_apicv_vmcs s = { .c = n, .vapic_pa = 0x5000, .pi_desc_pa = 0x6040, .pi_nv = 0xf2,
				    .maxphyaddr = 39 };
	assert_null(vmx_apicv_check(&s));

	/* Not asked for: not set. */
	n = base_ctls(&c);
	assert_int_equal(vmx_apicv_select(&c, false, &n, &posted, NULL), 0);
	assert_false(posted);
	assert_false(n.pin & PIN_POSTED_INTR);

	/* Allowed, but acknowledge-interrupt-on-exit cannot be 1: no posting,
	 * virtual-interrupt delivery still on. */
	c.exit &= ~((uint64_t)EXIT_ACK_INTR_ON_EXIT << 32);
	n = base_ctls(&c);
	n.exit &= ~EXIT_ACK_INTR_ON_EXIT;
	assert_int_equal(vmx_apicv_select(&c, true, &n, &posted, NULL), 0);
	assert_false(posted);
	assert_false(n.pin & PIN_POSTED_INTR);
	assert_true(n.proc2 & PROC2_VIRT_INTR_DELIVERY);
}

static void a_missing_required_control_is_enotsup_named_and_changes_nothing(void **state)
{
	(void)state;
	static const struct {
		int which;          /* 0 pin, 1 proc, 2 proc2 */
		uint32_t bit;
		const char *word;
	} cases[] = {
		{ 2, PROC2_VIRT_INTR_DELIVERY, "virtual-interrupt delivery" },
		{ 2, PROC2_VIRT_X2APIC, "virtualize x2APIC mode" },
		{ 1, PROC_TPR_SHADOW, "use TPR shadow" },
		{ 1, PROC_SECONDARY_CTLS, "activate secondary controls" },
		{ 0, PIN_EXT_INTR_EXITING, "external-interrupt exiting" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmx_caps c = bochs_like();
		uint64_t *msr = cases[i].which == 0 ? &c.pin : cases[i].which == 1 ? &c.proc : &c.proc2;
		*msr &= ~((uint64_t)cases[i].bit << 32);
		struct vmx_apicv_ctls n = base_ctls(&c), before = n;
		const char *missing = NULL;
		bool posted = true;
		assert_int_equal(vmx_apicv_select(&c, true, &n, &posted, &missing), -PORT_ENOTSUP);
		assert_non_null(missing);
		assert_non_null(strstr(missing, cases[i].word));
		assert_memory_equal(&n, &before, sizeof(n));
	}
}

static void without_apic_register_virtualization_only_vid_and_x2apic_are_set(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_like();
	c.proc2 &= ~((uint64_t)PROC2_APIC_REG_VIRT << 32);
	struct vmx_apicv_ctls n = base_ctls(&c);
	assert_int_equal(vmx_apicv_select(&c, false, &n, NULL, NULL), 0);
	assert_false(n.proc2 & PROC2_APIC_REG_VIRT);
	assert_true(n.proc2 & PROC2_VIRT_INTR_DELIVERY);
}

static void a_bit_the_cpu_forces_to_1_is_not_cleared(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_like();
	c.proc |= PROC_CR8_LOAD_EXITING;           /* allowed-0: must be 1 */
	struct vmx_apicv_ctls n = base_ctls(&c);
	assert_int_equal(vmx_apicv_select(&c, false, &n, NULL, NULL), 0);
	assert_true(n.proc & PROC_CR8_LOAD_EXITING);
	assert_false(n.proc & PROC_CR8_STORE_EXITING);
}

static struct vmx_apicv_vmcs good_vmcs(void)
{
	struct vmx_apicv_vmcs s = {
		.c = { .pin = PIN_EXT_INTR_EXITING | PIN_POSTED_INTR,
		       .proc = PROC_TPR_SHADOW | PROC_SECONDARY_CTLS,
		       .proc2 = PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY,
		       .exit = EXIT_ACK_INTR_ON_EXIT },
		.vapic_pa = 0x7000, .pi_desc_pa = 0x8040, .pi_nv = 0xf2, .maxphyaddr = 39,
	};
	return s;
}

#define assert_rule(s, word) do { \
	const char *r_ = vmx_apicv_check(&(s)); \
	assert_non_null(r_); \
	assert_non_null(strstr(r_, (word))); \
} while (0)

static void the_vm_entry_checks_of_26_2_1_1(void **state)
{
	(void)state;
	struct vmx_apicv_vmcs s = good_vmcs();
	assert_null(vmx_apicv_check(&s));

	s = good_vmcs(); s.vapic_pa = 0x7008;
	assert_rule(s, "virtual-APIC address");
	s = good_vmcs(); s.vapic_pa = 1ull << 39;
	assert_rule(s, "virtual-APIC address");

	s = good_vmcs(); s.c.proc &= ~PROC_TPR_SHADOW;
	assert_rule(s, "need use TPR shadow");

	s = good_vmcs(); s.c.proc2 |= PROC2_VIRT_APIC_ACCESS; s.apic_access_pa = 0x9000;
	assert_rule(s, "exclude each other");

	s = good_vmcs(); s.c.pin &= ~PIN_EXT_INTR_EXITING;
	assert_rule(s, "needs external-interrupt exiting");

	s = good_vmcs(); s.c.proc2 &= ~PROC2_VIRT_INTR_DELIVERY;
	assert_rule(s, "process posted interrupts needs virtual-interrupt delivery");
	s = good_vmcs(); s.c.exit = 0;
	assert_rule(s, "acknowledge interrupt on exit");
	s = good_vmcs(); s.pi_nv = 0x1f2;
	assert_rule(s, "bits 15:8");
	s = good_vmcs(); s.pi_desc_pa = 0x8020;
	assert_rule(s, "64-byte aligned");
	s = good_vmcs(); s.pi_desc_pa = 1ull << 40;
	assert_rule(s, "descriptor address");

	/* Secondary controls count only when activated: VID in the field but
	 * not active does not satisfy posted. */
	s = good_vmcs(); s.c.proc &= ~PROC_SECONDARY_CTLS;
	assert_rule(s, "process posted interrupts needs virtual-interrupt delivery");

	/* APIC-access virtualization on its own needs an aligned page. */
	s = good_vmcs(); s.c.proc2 = PROC2_VIRT_APIC_ACCESS; s.c.pin = PIN_EXT_INTR_EXITING;
	s.apic_access_pa = 0x9010;
	assert_rule(s, "APIC-access address");
	s.apic_access_pa = 0x9000;
	assert_null(vmx_apicv_check(&s));
}

static void tpr_threshold_rules_apply_only_without_virtual_interrupt_delivery(void **state)
{
	(void)state;
	struct vmx_apicv_vmcs s = { .c = { .pin = PIN_EXT_INTR_EXITING, .proc = PROC_TPR_SHADOW },
				    .vapic_pa = 0x7000, .maxphyaddr = 39 };
	s.tpr_threshold = 0x10;
	assert_rule(s, "bits 31:4");
	s.tpr_threshold = 3; s.vtpr = 0x20;       /* 3 > VTPR[7:4] = 2 */
	assert_rule(s, "must not exceed VTPR");
	s.tpr_threshold = 2;
	assert_null(vmx_apicv_check(&s));
	/* With APIC-access virtualization the VTPR comparison is not made. */
	s.tpr_threshold = 3; s.c.proc |= PROC_SECONDARY_CTLS; s.c.proc2 = PROC2_VIRT_APIC_ACCESS;
	s.apic_access_pa = 0xa000;
	assert_null(vmx_apicv_check(&s));
	/* With virtual-interrupt delivery neither rule applies. */
	s = (struct vmx_apicv_vmcs){ .c = { .pin = PIN_EXT_INTR_EXITING, .proc = PROC_TPR_SHADOW | PROC_SECONDARY_CTLS,
					    .proc2 = PROC2_VIRT_INTR_DELIVERY },
				     .vapic_pa = 0x7000, .maxphyaddr = 39, .tpr_threshold = 0xff, .vtpr = 0 };
	assert_null(vmx_apicv_check(&s));
}

static void the_msr_bitmap_passes_only_what_the_cpu_virtualizes(void **state)
{
	(void)state;
	/* Writes: TPR, EOI, self-IPI virtualized; the rest would reach the
	 * host's x2APIC. */
	assert_false(vmx_apicv_msr_exits(MSR_X2APIC_TPR, true, true));
	assert_false(vmx_apicv_msr_exits(MSR_X2APIC_EOI, true, false));
	assert_false(vmx_apicv_msr_exits(MSR_X2APIC_SELF_IPI, true, true));
	assert_true(vmx_apicv_msr_exits(0x830, true, true));      /* ICR */
	assert_true(vmx_apicv_msr_exits(0x838, true, true));      /* timer initial count */
	assert_true(vmx_apicv_msr_exits(MSR_X2APIC_PPR, true, true));
	/* Reads: TPR always; the others with APIC-register virtualization,
	 * except the timer's current count. */
	assert_false(vmx_apicv_msr_exits(MSR_X2APIC_TPR, false, false));
	assert_false(vmx_apicv_msr_exits(MSR_X2APIC_ISR0 + 2, false, true));
	assert_true(vmx_apicv_msr_exits(MSR_X2APIC_ISR0 + 2, false, false));
	assert_false(vmx_apicv_msr_exits(MSR_X2APIC_IRR0, false, true));
	assert_true(vmx_apicv_msr_exits(0x839, false, true));
	/* Outside 800H-8FFH: not this function's to pass. */
	assert_true(vmx_apicv_msr_exits(0x7ff, false, true));
	assert_true(vmx_apicv_msr_exits(0x900, true, true));
}

static uint8_t page[4096] __attribute__((aligned(4096)));
static struct pi_desc pd;

static int fresh(void **state)
{
	(void)state;
	memset(page, 0, sizeof(page));
	assert_int_equal(pi_desc_init(&pd, 0xf2, 1, false), 0);
	return 0;
}

static uint32_t dword(unsigned off)
{
	uint32_t v;
	memcpy(&v, page + off, 4);
	return v;
}

static void one_posted_vector_lands_in_virr_and_rvi_and_on_is_cleared(void **state)
{
	(void)state;
	assert_true(pi_post(&pd, 0x51));
	assert_true(pi_on(&pd));
	uint16_t st = 0x3000;                      /* SVI 0x30 in service */
	struct vmx_pir_harvest h;
	vmx_apicv_harvest(&pd, page, &st, &h);
	assert_true(h.on);
	assert_int_equal(h.taken, 1);
	assert_int_equal(h.dropped, 0);
	assert_int_equal(h.highest, 0x51);
	assert_int_equal(dword(VAPIC_IRR + 0x10 * 2), 1u << (0x51 - 64));   /* VIRR at 0x220, bit 17 */
	assert_int_equal(VMX_RVI(st), 0x51);
	assert_int_equal(VMX_SVI(st), 0x30);       /* untouched */
	assert_false(pi_on(&pd));
	assert_false(pi_is_pending(&pd, 0x51));
	assert_true(vmx_vapic_test(page, VAPIC_IRR, 0x51));
	assert_false(vmx_vapic_test(page, VAPIC_ISR, 0x51));

	/* A second harvest with nothing posted changes nothing. */
	vmx_apicv_harvest(&pd, page, &st, &h);
	assert_false(h.on);
	assert_int_equal(h.taken, 0);
	assert_int_equal(h.highest, -1);
	assert_int_equal(st, 0x3051);
}

static void several_vectors_highest_wins_and_virr_is_or_ed(void **state)
{
	(void)state;
	vmx_vapic_set(page, VAPIC_IRR, 0x40);      /* already pending */
	const uint8_t vecs[] = { 0x30, 0x62, 0xff, 0x41, 0x80 };
	for (unsigned i = 0; i < sizeof(vecs); i++)
		pi_post(&pd, vecs[i]);
	uint16_t st = 0x0040;
	struct vmx_pir_harvest h;
	vmx_apicv_harvest(&pd, page, &st, &h);
	assert_int_equal(h.taken, 5);
	assert_int_equal(h.highest, 0xff);
	assert_int_equal(VMX_RVI(st), 0xff);
	for (unsigned i = 0; i < sizeof(vecs); i++)
		assert_true(vmx_vapic_test(page, VAPIC_IRR, vecs[i]));
	assert_true(vmx_vapic_test(page, VAPIC_IRR, 0x40));
	assert_int_equal(vmx_vapic_highest(page, VAPIC_IRR), 0xff);
	assert_int_equal(dword(VAPIC_IRR + 0x10 * 7), 1u << 31);
	assert_int_equal(dword(VAPIC_IRR + 0x10 * 4), 1u << 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pd.pir[i], 0);
}

static void rvi_is_never_lowered(void **state)
{
	(void)state;
	pi_post(&pd, 0x51);
	uint16_t st = 0x0090;
	vmx_apicv_harvest(&pd, page, &st, NULL);
	assert_int_equal(st, 0x0090);
	assert_true(vmx_vapic_test(page, VAPIC_IRR, 0x51));
}

static void vectors_below_16_are_dropped_not_moved(void **state)
{
	(void)state;
	pi_post(&pd, 3);                            /* as a bad IRTE could */
	pi_post(&pd, 15);
	pi_post(&pd, 0x20);
	uint16_t st = 0;
	struct vmx_pir_harvest h;
	vmx_apicv_harvest(&pd, page, &st, &h);
	assert_int_equal(h.dropped, 2);
	assert_int_equal(h.taken, 1);
	assert_int_equal(h.highest, 0x20);
	assert_int_equal(dword(VAPIC_IRR), 0);      /* vectors 0-31: nothing */
	assert_true(vmx_vapic_test(page, VAPIC_IRR, 0x20));
	assert_int_equal(VMX_RVI(st), 0x20);
	assert_int_equal(pd.pir[0], 0);             /* cleared all the same */

	/* Only illegal vectors: nothing taken, RVI unchanged. */
	pi_post(&pd, 7);
	st = 0;
	vmx_apicv_harvest(&pd, page, &st, &h);
	assert_int_equal(h.dropped, 1);
	assert_int_equal(h.taken, 0);
	assert_int_equal(h.highest, -1);
	assert_int_equal(st, 0);
}

static void pir_is_taken_even_when_suppressed_posts_left_on_clear(void **state)
{
	(void)state;
	pi_suppress(&pd);                           /* vCPU was not running */
	assert_false(pi_post(&pd, 0x77));
	assert_false(pi_on(&pd));
	uint16_t st = 0;
	struct vmx_pir_harvest h;
	vmx_apicv_harvest(&pd, page, &st, &h);
	assert_false(h.on);
	assert_int_equal(h.taken, 1);
	assert_int_equal(VMX_RVI(st), 0x77);
	assert_true(pi_sn(&pd));                    /* SN is the caller's */
}

static void vapic_register_helpers(void **state)
{
	(void)state;
	assert_int_equal(vmx_vapic_highest(page, VAPIC_ISR), -1);
	vmx_vapic_set(page, VAPIC_ISR, 0x10);
	vmx_vapic_set(page, VAPIC_ISR, 0x9f);
	assert_int_equal(vmx_vapic_highest(page, VAPIC_ISR), 0x9f);
	assert_int_equal(dword(VAPIC_ISR + 0x10 * 4), 1u << 31);
	assert_true(vmx_vapic_test(page, VAPIC_ISR, 0x10));
	assert_false(vmx_vapic_test(page, VAPIC_IRR, 0x10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caps_flags_follow_the_allowed_1_bits_and_need_secondary_controls),
		cmocka_unit_test(all_controls_present_selects_x2apic_vid_and_register_virtualization),
		cmocka_unit_test(posted_is_chosen_only_with_pin_bit_7_and_ack_on_exit),
		cmocka_unit_test(a_missing_required_control_is_enotsup_named_and_changes_nothing),
		cmocka_unit_test(without_apic_register_virtualization_only_vid_and_x2apic_are_set),
		cmocka_unit_test(a_bit_the_cpu_forces_to_1_is_not_cleared),
		cmocka_unit_test(the_vm_entry_checks_of_26_2_1_1),
		cmocka_unit_test(tpr_threshold_rules_apply_only_without_virtual_interrupt_delivery),
		cmocka_unit_test(the_msr_bitmap_passes_only_what_the_cpu_virtualizes),
		cmocka_unit_test_setup(one_posted_vector_lands_in_virr_and_rvi_and_on_is_cleared, fresh),
		cmocka_unit_test_setup(several_vectors_highest_wins_and_virr_is_or_ed, fresh),
		cmocka_unit_test_setup(rvi_is_never_lowered, fresh),
		cmocka_unit_test_setup(vectors_below_16_are_dropped_not_moved, fresh),
		cmocka_unit_test_setup(pir_is_taken_even_when_suppressed_posts_left_on_clear, fresh),
		cmocka_unit_test_setup(vapic_register_helpers, fresh),
	};
	return cmocka_run_group_tests_name("vmx_apicv", tests, NULL, NULL);
}
