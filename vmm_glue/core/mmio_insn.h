/*
 * mmio_insn.h — the few instructions the core emulates after an EPT (or NPT)
 * violation on a trapped MMIO page.  The exit gives the guest-physical
 * address but not the instruction length (§24.9.4: the length field is only
 * valid for exits caused by instruction execution, not EPT violations), so
 * the core decodes the instruction at the guest's RIP.
 *
 * Supported (Vol. 2 opcode map): MOV r/m,r (88, 89), MOV r,r/m (8A, 8B),
 * MOV r/m,imm (C6 /0, C7 /0), MOVZX r,r/m8 and r/m16 (0F B6, 0F B7); prefixes
 * 66 (operand size) and REX (64-bit mode); ModRM with SIB, disp8, disp32 and
 * RIP-relative addressing.  Anything else is -PORT_ENOTSUP.
 */
#ifndef VFS_CORE_MMIO_INSN_H
#define VFS_CORE_MMIO_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct core_mmio_insn {
	unsigned len;       /* instruction bytes to skip */
	unsigned size;      /* access width: 1, 2, 4, 8 */
	bool write;         /* guest stores to MMIO */
	bool has_imm;       /* store of an immediate (imm holds it) */
	bool zero_extend;   /* MOVZX: load `size`, write the register zero-extended */
	unsigned reg;       /* register operand, 0 RAX .. 15 R15 */
	unsigned reg_size;  /* register width written on a load */
	bool reg_high8;     /* AH/CH/DH/BH (8-bit form, no REX) */
	uint64_t imm;
};

/* Decode the instruction in bytes[0..n).  `long_mode` is true for a 64-bit
 * code segment (REX allowed), false for 32-bit (default operand size 4).
 * 0 or -PORT_ENOTSUP / -PORT_EINVAL (truncated). */
int core_decode_mmio(const uint8_t *bytes, size_t n, bool long_mode, struct core_mmio_insn *out);

#endif
