/* libFuzzer target for the MMIO instruction decoder (vmm_glue/core/
 * mmio_insn.c), which both backends run on guest-controlled bytes after an
 * EPT violation / nested page fault.  Byte 0 picks the mode (bit 0: 64-bit
 * code segment); the rest is the fetched instruction (up to 15 bytes, as
 * the core fetches).  Any input must give 0 or a negative error and never
 * read outside the bytes (ASan); a decode must be self-consistent. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "port.h"
#include "vmm_glue/core/mmio_insn.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool long_mode = data[0] & 1;
	size_t n = size - 1 > 15 ? 15 : size - 1;
	/* A copy of exactly n bytes on the heap: ASan sees any read past it. */
	uint8_t *bytes = malloc(n ? n : 1);
	if (!bytes)
		return 0;
	for (size_t i = 0; i < n; i++)
		bytes[i] = data[1 + i];
	struct core_mmio_insn in;
	int rc = core_decode_mmio(bytes, n, long_mode, &in);
	check(rc == 0 || rc == -PORT_ENOTSUP || rc == -PORT_EINVAL);
	if (rc == 0) {
		check(in.len >= 2 && in.len <= 15 && in.len <= n);
		check(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
		check(in.reg < 16);
		check(!(in.reg_high8 && in.reg > 3));          /* AH/CH/DH/BH are 4-7 encoded, stored as 0-3 */
		check(!(in.reg_high8 && long_mode && in.reg >= 8));
		check(!long_mode ? in.reg < 8 : 1);            /* no REX outside 64-bit mode */
		check(!in.has_imm || in.write);                /* an immediate is only ever stored */
		check(!in.zero_extend || !in.write);           /* MOVZX only loads */
		if (!in.write && !in.has_imm)
			check(in.reg_size == 1 || in.reg_size == 2 || in.reg_size == 4 || in.reg_size == 8);
		if (in.zero_extend)
			check(in.size < in.reg_size || (in.size == 2 && in.reg_size == 2));
		if (in.has_imm && in.size < 8)
			check(in.imm >> (8 * in.size) == 0);
	}
	free(bytes);
	return 0;
}
