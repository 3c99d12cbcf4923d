/* mmio_insn.c — MMIO instruction decoding; see mmio_insn.h. */
#include "vmm_glue/core/mmio_insn.h"

#include "port.h"

/* Length of the ModRM addressing bytes after the ModRM byte itself
 * (Vol. 2 §2.1.5, Tables 2-2/2-3, 32/64-bit addressing).  -1 for a register
 * operand, which cannot be MMIO. */
static int modrm_tail(const uint8_t *p, size_t n, size_t at)
{
	uint8_t modrm = p[at];
	unsigned mod = modrm >> 6, rm = modrm & 7u;
	int len = 0;

	if (mod == 3)
		return -1;
	if (rm == 4) {              /* SIB follows */
		if (at + 1 >= n)
			return -2;
		len = 1;
		if (mod == 0 && (p[at + 1] & 7u) == 5)
			len += 4;   /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		len = 4;            /* disp32 (RIP-relative in 64-bit mode) */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len;
}

int core_decode_mmio(const uint8_t *p, size_t n, bool long_mode, struct core_mmio_insn *out)
{
	size_t i = 0;
	bool opsize16 = false;
	uint8_t rex = 0;

	*out = (struct core_mmio_insn){ 0 };
	for (; i < n && (p[i] == 0x66 || p[i] == 0x2e || p[i] == 0x3e || p[i] == 0x26 ||
			 p[i] == 0x36 || p[i] == 0x64 || p[i] == 0x65); i++)
		if (p[i] == 0x66)
			opsize16 = true;
	if (i < n && long_mode && (p[i] & 0xf0) == 0x40)
		rex = p[i++];
	if (i >= n)
		return -PORT_EINVAL;

	unsigned wsize = (rex & 8) ? 8 : opsize16 ? 2 : 4;
	uint8_t op = p[i++];
	bool two_byte = false;
	if (op == 0x0f) {
		if (i >= n)
			return -PORT_EINVAL;
		op = p[i++];
		two_byte = true;
	}
	if (i >= n)
		return -PORT_EINVAL;

	uint8_t modrm = p[i];
	unsigned reg = ((modrm >> 3) & 7u) | ((rex & 4) ? 8u : 0u);
	int tail = modrm_tail(p, n, i);
	if (tail == -1)
		return -PORT_ENOTSUP;
	if (tail < 0)
		return -PORT_EINVAL;
	i += 1 + (size_t)tail;

	if (!two_byte && (op == 0x88 || op == 0x8a)) {
		out->size = 1;
		out->write = op == 0x88;
		out->reg = reg;
		out->reg_size = 1;
		out->reg_high8 = !rex && reg >= 4 && reg < 8;
		if (out->reg_high8)
			out->reg -= 4;
	} else if (!two_byte && (op == 0x89 || op == 0x8b)) {
		out->size = wsize;
		out->write = op == 0x89;
		out->reg = reg;
		out->reg_size = wsize;
	} else if (!two_byte && (op == 0xc6 || op == 0xc7) && ((modrm >> 3) & 7u) == 0) {
		unsigned isz = op == 0xc6 ? 1 : (wsize == 2 ? 2 : 4);
		if (i + isz > n)
			return -PORT_EINVAL;
		uint64_t imm = 0;
		for (unsigned k = 0; k < isz; k++)
			imm |= (uint64_t)p[i + k] << (8 * k);
		if (isz == 4 && wsize == 8 && (imm & 0x80000000u))
			imm |= 0xffffffff00000000ull;   /* imm32 sign-extended */
		i += isz;
		out->size = op == 0xc6 ? 1 : wsize;
		out->write = true;
		out->has_imm = true;
		out->imm = imm;
	} else if (two_byte && (op == 0xb6 || op == 0xb7)) {
		out->size = op == 0xb6 ? 1 : 2;
		out->zero_extend = true;
		out->reg = reg;
		out->reg_size = wsize;
	} else {
		return -PORT_ENOTSUP;
	}
	if (i > n || i > 15)
		return -PORT_EINVAL;
	out->len = (unsigned)i;
	return 0;
}
