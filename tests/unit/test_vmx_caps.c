/* The VMX core's capability arithmetic (vmm_glue/vmx/vmx_caps.c): control
 * fields against their capability MSRs (SDM Vol. 3C App. A.3-A.5), the
 * CR0/CR4 fixed bits (A.7/A.8), IA32_FEATURE_CONTROL (§23.7). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "port.h"
#include "vmm_glue/vmx/vmcs_fields.h"
#include "vmm_glue/vmx/vmx_caps.h"

static uint64_t cap(uint32_t must_be_1, uint32_t may_be_1)
{
	return ((uint64_t)may_be_1 << 32) | must_be_1;
}

static void controls_get_must_be_one_bits_and_drop_unsupported_optional_ones(void **state)
{
	(void)state;
	uint32_t out = 0, missing = 0xdead;
	/* Bochs's pin-based TRUE MSR shape: bits 1, 2, 4 default to 1. */
	uint64_t c = cap(0x16, 0x16 | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING);
	assert_int_equal(vmx_adjust_controls(c, PIN_EXT_INTR_EXITING, PIN_NMI_EXITING | PIN_POSTED_INTR,
					     &out, &missing), 0);
	assert_int_equal(out, 0x16 | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING);
	assert_int_equal(missing, 0);
}

static void a_required_control_the_cpu_lacks_is_enotsup_and_named(void **state)
{
	(void)state;
	uint32_t out = 0x1234, missing = 0;
	uint64_t c = cap(0, PROC_HLT_EXITING | PROC_USE_IO_BITMAPS);
	assert_int_equal(vmx_adjust_controls(c, PROC_HLT_EXITING | PROC_USE_MSR_BITMAPS, 0, &out, &missing),
			 -PORT_ENOTSUP);
	assert_int_equal(missing, PROC_USE_MSR_BITMAPS);
	assert_int_equal(out, 0x1234);   /* untouched on failure */
}

static void an_msr_that_forces_a_bit_it_forbids_has_no_valid_setting(void **state)
{
	(void)state;
	uint32_t out;
	assert_int_equal(vmx_adjust_controls(cap(0x1, 0x0), 0, 0, &out, NULL), -PORT_ENOTSUP);
}

static void true_control_msrs_are_used_when_basic_bit_55_says_so(void **state)
{
	(void)state;
	uint64_t plain = 0x00da040000000004ull & ~VMX_BASIC_TRUE_CTLS, with_true = plain | VMX_BASIC_TRUE_CTLS;
	assert_int_equal(vmx_controls_msr(plain, VMX_CTLS_PIN), MSR_IA32_VMX_PINBASED_CTLS);
	assert_int_equal(vmx_controls_msr(plain, VMX_CTLS_ENTRY), MSR_IA32_VMX_ENTRY_CTLS);
	assert_int_equal(vmx_controls_msr(with_true, VMX_CTLS_PIN), MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	assert_int_equal(vmx_controls_msr(with_true, VMX_CTLS_PROC), MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	assert_int_equal(vmx_controls_msr(with_true, VMX_CTLS_EXIT), MSR_IA32_VMX_TRUE_EXIT_CTLS);
	assert_int_equal(vmx_controls_msr(with_true, VMX_CTLS_ENTRY), MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	/* The fields of IA32_VMX_BASIC the core reads (A.1). */
	assert_int_equal(VMX_BASIC_REVISION(0x00da040000000004ull), 4);
	assert_int_equal(VMX_BASIC_REGION_SIZE(0x00da040000000004ull), 0x400);
	assert_int_equal(VMX_BASIC_MEMTYPE(0x00da040000000004ull), 6);
}

static void cr_fixed_bits_are_forced_and_exemptions_respected(void **state)
{
	(void)state;
	/* Values Bochs reports (tigerlake): CR0 fixed0 PE|NE|PG, fixed1 all. */
	uint64_t f0 = 0x80000021, f1 = 0xffffffff;
	assert_int_equal(vmx_cr_fix(0x10, f0, f1, 0), 0x80000031);
	assert_false(vmx_cr_valid(0x10, f0, f1, 0));
	/* Unrestricted guest: PE and PG may be 0, NE still must be 1. */
	assert_int_equal(vmx_cr_fix(0x10, f0, f1, CR0_PE | CR0_PG), 0x30);
	assert_true(vmx_cr_valid(0x30, f0, f1, CR0_PE | CR0_PG));
	/* CR4: VMXE forced on, a bit outside fixed1 forced off. */
	assert_int_equal(vmx_cr_fix(CR4_PAE | (1ull << 24), 0x2000, 0xf72fff, 0), CR4_PAE | CR4_VMXE);
	assert_true(vmx_cr_valid(CR4_PAE | CR4_VMXE, 0x2000, 0xf72fff, 0));
}

static void feature_control_is_locked_with_vmx_or_refused(void **state)
{
	(void)state;
	uint64_t next = 0;
	assert_int_equal(vmx_feature_control(0, &next), 1);
	assert_int_equal(next, FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	assert_int_equal(vmx_feature_control(FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX, &next), 0);
	assert_int_equal(vmx_feature_control(FEATURE_CONTROL_LOCK, &next), -PORT_EPERM);
	/* Other bits survive when the core locks it. */
	assert_int_equal(vmx_feature_control(1ull << 20, &next), 1);
	assert_int_equal(next, (1ull << 20) | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(controls_get_must_be_one_bits_and_drop_unsupported_optional_ones),
		cmocka_unit_test(a_required_control_the_cpu_lacks_is_enotsup_and_named),
		cmocka_unit_test(an_msr_that_forces_a_bit_it_forbids_has_no_valid_setting),
		cmocka_unit_test(true_control_msrs_are_used_when_basic_bit_55_says_so),
		cmocka_unit_test(cr_fixed_bits_are_forced_and_exemptions_respected),
		cmocka_unit_test(feature_control_is_locked_with_vmx_or_refused),
	};
	return cmocka_run_group_tests_name("vmx_caps", tests, NULL, NULL);
}
