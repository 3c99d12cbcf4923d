/*
 * guest_io.h — what the freestanding 64-bit test guests (tests/vmx/guest64.c,
 * guest_edu.c, tests/svm/guest_probe.c, tests/bmvf/guest_igbvf.c) do the
 * same way: MMIO through one explicit MOV each (the core decodes the
 * instruction at an EPT/NPT violation: vmm_glue/core/mmio_insn.h), the
 * VMCALL they report through, a config page read for pci/pci_cap's walker,
 * and a 64-bit interrupt gate.  Header-only: each guest inlines what it uses.
 */
#ifndef VFS_TESTS_VMX_GUEST_IO_H
#define VFS_TESTS_VMX_GUEST_IO_H

#include <stdint.h>

static inline uint32_t rd8(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline uint32_t rd16(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("movzwl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline uint32_t rd32(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline uint64_t rd64(uint64_t a)
{
	uint64_t v;
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void wr16(uint64_t a, uint32_t v)
{
	__asm__ volatile("movw %w0, (%1)" : : "r"(v), "r"(a) : "memory");
}
static inline void wr32(uint64_t a, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}
static inline void wr64(uint64_t a, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

/* RAX = cmd, RBX = a, RCX = b (tests/vmx/vmx_test.h: CMD_REPORT, CMD_DONE). */
static inline void vmcall(uint64_t cmd, uint64_t a, uint64_t b)
{
	__asm__ volatile("vmcall" : : "a"(cmd), "b"(a), "c"(b) : "memory");
}

/* A config page (ctx: its address) as a pci_cfg_acc reads it. */
static inline uint32_t guest_cfg_read(void *ctx, unsigned off, unsigned size)
{
	uint64_t a = (uint64_t)(uintptr_t)ctx + off;
	return size == 1 ? rd8(a) : size == 2 ? rd16(a) : rd32(a);
}

/* Vector `vec` of `idt` (256 x 16 bytes) to `fn`: a 64-bit interrupt gate
 * (SDM Vol. 3A §6.14.1), type 14, present, DPL 0, code segment `cs`. */
static inline void guest_idt_gate(uint64_t *idt, unsigned vec, void (*fn)(void), uint16_t cs)
{
	uint64_t a = (uint64_t)(uintptr_t)fn;
	idt[2 * vec] = (a & 0xffff) | ((uint64_t)cs << 16) | (0xeull << 40) | (1ull << 47) |
		       (((a >> 16) & 0xffff) << 48);
	idt[2 * vec + 1] = a >> 32;
}

#endif
