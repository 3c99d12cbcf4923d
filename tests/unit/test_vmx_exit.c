/* What a VM exit says, decoded (vmm_glue/vmx/vmx_exit.c: SDM Vol. 3C
 * §27.2.1 qualifications, §24.8.3/§24.9.2 interruption information, App. C
 * exit reasons, §30.4 VM-instruction errors, §24.6.4/§24.6.9 bitmaps), and
 * the MMIO instruction decoder used after an EPT violation
 * (vmm_glue/core/mmio_insn.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "port.h"
#include "vmm_glue/vmx/vmcs_fields.h"
#include "vmm_glue/vmx/vmx_exit.h"
#include "vmm_glue/core/mmio_insn.h"

static void names_come_from_the_sdm_tables(void **state)
{
	(void)state;
	assert_string_equal(vmx_exit_reason_name(EXIT_EPT_VIOLATION), "EPT violation");
	assert_string_equal(vmx_exit_reason_name(EXIT_ENTRY_FAIL_GUEST), "VM-entry failure: invalid guest state");
	assert_string_equal(vmx_exit_reason_name(35), "unknown exit reason");
	assert_string_equal(vmx_exit_reason_name(10000), "unknown exit reason");
	assert_string_equal(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
	assert_string_equal(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
	assert_string_equal(vmx_insn_error_name(14), "unknown VM-instruction error");
	assert_string_equal(vmx_field_name(0x681e), "GUEST_RIP");        /* App. B.4.3 */
	assert_string_equal(vmx_field_name(0x4402), "EXIT_REASON");      /* App. B.3.2 */
	assert_string_equal(vmx_field_name(0x7fff), "unknown field");
	assert_int_equal(EXIT_REASON_BASIC(0x80000021u), 33);
}

static void cr_access_qualification(void **state)
{
	(void)state;
	struct vmx_cr_access a;
	vmx_decode_cr_access(0x0304, &a);          /* MOV to CR4 from RBX */
	assert_int_equal(a.cr, 4);
	assert_int_equal(a.type, CR_MOV_TO);
	assert_int_equal(a.gpr, 3);
	vmx_decode_cr_access(0x0f13, &a);          /* MOV from CR3 to R15 */
	assert_int_equal(a.cr, 3);
	assert_int_equal(a.type, CR_MOV_FROM);
	assert_int_equal(a.gpr, 15);
	vmx_decode_cr_access(0x00110030 | 0x40, &a); /* LMSW from memory, source 0x11 */
	assert_int_equal(a.type, CR_LMSW);
	assert_true(a.lmsw_memory);
	assert_int_equal(a.lmsw_src, 0x11);
}

static void io_qualification(void **state)
{
	(void)state;
	struct vmx_io_access io;
	vmx_decode_io(0x00e90040, &io);            /* OUT imm8 port 0xe9, 1 byte */
	assert_int_equal(io.port, 0xe9);
	assert_int_equal(io.size, 1);
	assert_false(io.in);
	assert_true(io.imm_operand);
	vmx_decode_io(0x56580003 | 0x8, &io);      /* IN DX = 0x5658, 4 bytes */
	assert_int_equal(io.port, 0x5658);
	assert_int_equal(io.size, 4);
	assert_true(io.in);
	assert_false(io.string);
	vmx_decode_io(0x03f80031, &io);            /* REP OUTSW 0x3f8 */
	assert_int_equal(io.size, 2);
	assert_true(io.string);
	assert_true(io.rep);
}

static void ept_violation_qualification(void **state)
{
	(void)state;
	struct vmx_ept_violation ev;
	vmx_decode_ept_violation(0x182, &ev);      /* write, not present, GLA valid, translation */
	assert_true(ev.write);
	assert_false(ev.read);
	assert_false(ev.was_readable);
	assert_true(ev.gla_valid);
	assert_true(ev.gla_is_translation);
	vmx_decode_ept_violation(0x09 | 0x1000, &ev); /* read of a readable page, NMI unblocking */
	assert_true(ev.read);
	assert_true(ev.was_readable);
	assert_false(ev.gla_valid);
	assert_false(ev.gla_is_translation);
	assert_true(ev.nmi_unblocking);
	vmx_decode_ept_violation(0x24, &ev);
	assert_true(ev.fetch);
	assert_true(ev.was_executable);
}

static void interruption_information_round_trips(void **state)
{
	(void)state;
	struct vmx_intr_info ii;
	uint32_t gp = vmx_encode_intr_info(13, INTR_TYPE_HW_EXCEPTION, true);
	assert_int_equal(gp, 0x80000b0d);
	vmx_decode_intr_info(gp, &ii);
	assert_true(ii.valid);
	assert_int_equal(ii.vector, 13);
	assert_int_equal(ii.type, INTR_TYPE_HW_EXCEPTION);
	assert_true(ii.has_errcode);
	assert_int_equal(vmx_encode_intr_info(0x40, INTR_TYPE_EXT_INTR, false), 0x80000040);
	vmx_decode_intr_info(0x40, &ii);
	assert_false(ii.valid);
	assert_true(vmx_exception_has_errcode(8));
	assert_true(vmx_exception_has_errcode(14));
	assert_false(vmx_exception_has_errcode(6));
	assert_false(vmx_exception_has_errcode(3));
}

static void bitmap_positions(void **state)
{
	(void)state;
	unsigned which;
	assert_int_equal(vmx_msr_bitmap_bit(0x10, false), 0x10);
	assert_int_equal(vmx_msr_bitmap_bit(0x10, true), 2048 * 8 + 0x10);
	assert_int_equal(vmx_msr_bitmap_bit(0xc0000080, false), 1024 * 8 + 0x80);
	assert_int_equal(vmx_msr_bitmap_bit(0xc0000080, true), 3072 * 8 + 0x80);
	assert_int_equal(vmx_msr_bitmap_bit(0x2000, false), -1);
	assert_int_equal(vmx_msr_bitmap_bit(0x40000000, true), -1);
	assert_int_equal(vmx_io_bitmap_bit(0xe9, &which), 0xe9);
	assert_int_equal(which, 0);
	assert_int_equal(vmx_io_bitmap_bit(0x8001, &which), 1);
	assert_int_equal(which, 1);
}

static void decode(const char *what, const uint8_t *b, size_t n, bool lm, struct core_mmio_insn *out)
{
	(void)what;
	assert_int_equal(core_decode_mmio(b, n, lm, out), 0);
}

static void mmio_instructions_decode_to_length_size_and_register(void **state)
{
	(void)state;
	struct core_mmio_insn i;
	/* movl $0x12345678, (%rax) */
	static const uint8_t c7[] = { 0xc7, 0x00, 0x78, 0x56, 0x34, 0x12, 0x90 };
	decode("c7", c7, sizeof(c7), true, &i);
	assert_int_equal(i.len, 6);
	assert_int_equal(i.size, 4);
	assert_true(i.write && i.has_imm);
	assert_int_equal(i.imm, 0x12345678);
	/* mov %ecx, 0x4(%rax) */
	static const uint8_t st[] = { 0x89, 0x48, 0x04 };
	decode("89", st, sizeof(st), true, &i);
	assert_int_equal(i.len, 3);
	assert_true(i.write && !i.has_imm);
	assert_int_equal(i.reg, 1);
	/* mov 0x8(%r9), %r10d: REX.RB */
	static const uint8_t ld[] = { 0x45, 0x8b, 0x51, 0x08 };
	decode("8b", ld, sizeof(ld), true, &i);
	assert_int_equal(i.len, 4);
	assert_false(i.write);
	assert_int_equal(i.reg, 10);
	assert_int_equal(i.size, 4);
	/* movq %rsi, 0x10(%rax) */
	static const uint8_t q[] = { 0x48, 0x89, 0x70, 0x10 };
	decode("48 89", q, sizeof(q), true, &i);
	assert_int_equal(i.size, 8);
	assert_int_equal(i.reg, 6);
	/* movzbl 0xc(%rax), %edx */
	static const uint8_t zx[] = { 0x0f, 0xb6, 0x50, 0x0c };
	decode("0f b6", zx, sizeof(zx), true, &i);
	assert_int_equal(i.len, 4);
	assert_int_equal(i.size, 1);
	assert_true(i.zero_extend);
	assert_int_equal(i.reg, 2);
	/* mov %eax, 0x20000000 (SIB, no base: disp32) */
	static const uint8_t abs[] = { 0x89, 0x04, 0x25, 0x00, 0x00, 0x00, 0x20 };
	decode("89 04 25", abs, sizeof(abs), true, &i);
	assert_int_equal(i.len, 7);
	/* mov 0x100(%rip), %eax */
	static const uint8_t rip[] = { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 };
	decode("8b 05", rip, sizeof(rip), true, &i);
	assert_int_equal(i.len, 6);
	/* movw $0x1234, 0x8(%rbx,%rcx,4): 66 prefix, SIB + disp8, imm16 */
	static const uint8_t w[] = { 0x66, 0xc7, 0x44, 0x8b, 0x08, 0x34, 0x12 };
	decode("66 c7", w, sizeof(w), true, &i);
	assert_int_equal(i.len, 7);
	assert_int_equal(i.size, 2);
	assert_int_equal(i.imm, 0x1234);
	/* mov %ah, (%rdx): high byte register without REX */
	static const uint8_t ah[] = { 0x88, 0x22 };
	decode("88", ah, sizeof(ah), true, &i);
	assert_true(i.reg_high8);
	assert_int_equal(i.reg, 0);
	/* movq $-1, (%rax): imm32 sign-extended to 64 bits */
	static const uint8_t neg[] = { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff };
	decode("48 c7", neg, sizeof(neg), true, &i);
	assert_int_equal(i.imm, 0xffffffffffffffffull);
	assert_int_equal(i.size, 8);
}

static void unsupported_or_truncated_instructions_are_refused(void **state)
{
	(void)state;
	struct core_mmio_insn i;
	static const uint8_t reg_only[] = { 0x89, 0xc8 };       /* mov %ecx, %eax */
	static const uint8_t add[] = { 0x01, 0x00 };            /* add %eax, (%rax) */
	static const uint8_t cut[] = { 0xc7, 0x00, 0x78 };      /* immediate cut short */
	static const uint8_t cut_disp[] = { 0x8b, 0x80, 0x00 }; /* disp32 cut short */
	assert_int_equal(core_decode_mmio(reg_only, sizeof(reg_only), true, &i), -PORT_ENOTSUP);
	assert_int_equal(core_decode_mmio(add, sizeof(add), true, &i), -PORT_ENOTSUP);
	assert_int_equal(core_decode_mmio(cut, sizeof(cut), true, &i), -PORT_EINVAL);
	assert_int_equal(core_decode_mmio(cut_disp, sizeof(cut_disp), true, &i), -PORT_EINVAL);
	assert_int_equal(core_decode_mmio(cut, 0, true, &i), -PORT_EINVAL);
	/* Outside 64-bit mode 0x48 is DEC EAX, not a REX prefix: refused. */
	static const uint8_t not_rex[] = { 0x48, 0x89, 0x00 };
	assert_int_equal(core_decode_mmio(not_rex, sizeof(not_rex), false, &i), -PORT_ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_come_from_the_sdm_tables),
		cmocka_unit_test(cr_access_qualification),
		cmocka_unit_test(io_qualification),
		cmocka_unit_test(ept_violation_qualification),
		cmocka_unit_test(interruption_information_round_trips),
		cmocka_unit_test(bitmap_positions),
		cmocka_unit_test(mmio_instructions_decode_to_length_size_and_register),
		cmocka_unit_test(unsupported_or_truncated_instructions_are_refused),
	};
	return cmocka_run_group_tests_name("vmx_exit", tests, NULL, NULL);
}
