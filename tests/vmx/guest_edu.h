/*
 * guest_edu.h — what the edu guest (guest_edu.c) and its host side
 * (vmx_edu.c) agree on: the parameter block the host hands the guest, the
 * keys of what the guest reports, and the edu's registers as the guest
 * programs them (QEMU hw/misc/edu.c, docs/specs/edu.rst; baremetal/edu.c).
 *
 * The guest is a driver of one passed-through edu function: it finds the
 * function's registers through its config page (ECAM layout, trapped by
 * bm_passthrough) and drives the edu with guest-physical addresses only.
 * It reports through VMCALL (RAX = CMD_REPORT, RBX = key, RCX = value) and
 * ends with VMCALL CMD_DONE.
 */
#ifndef VFS_TESTS_VMX_GUEST_EDU_H
#define VFS_TESTS_VMX_GUEST_EDU_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/vmx/vmx_test.h"

/* The parameter block: the host fills it, the guest gets its address in
 * RDI (the guest's address space is the image's, so a pointer will do). */
struct guest_edu_params {
	uint64_t cfg_gpa;      /* the guest's config page (4 KiB ECAM page) for the edu */
	uint64_t src_gpa;      /* A: guest RAM the pattern is written to, read by DMA */
	uint64_t dst_gpa;      /* B: guest RAM the edu's buffer is written back to */
	uint32_t len;          /* bytes per transfer (<= the edu's 4 KiB buffer) */
	uint32_t seed;         /* the pattern's */
	uint8_t vector;        /* the guest's MSI vector */
	uint8_t apic_id;       /* the vCPU's (virtual) APIC ID: the MSI's destination */
};

/* What the guest reports (CMD_REPORT keys). */
enum edu_key {
	E_CFG_ID,          /* dword 0 of its config page: device << 16 | vendor */
	E_MSI_CAP,         /* the MSI capability's offset, found by walking the list */
	E_BAR0,            /* BAR0's address (GPA) from its config page */
	E_COMMAND,         /* Command after it set memory space + bus master */
	E_MMIO_ID,         /* the edu's identification register (BAR0 + 0) */
	E_DMA1_IDLE,       /* 1: the RAM -> edu transfer finished (command's busy bit clear) */
	E_DMA2_IDLE,       /* 1: the edu -> RAM transfer finished */
	E_IRQ_COUNT,       /* interrupts its handler took on its MSI vector */
	E_IRQ_STRAY,       /* interrupts on any other vector >= 32 */
	E_IRQ_STATUS,      /* the edu's interrupt status its handler read (then acked) */
	E_STATUS_AFTER,    /* the interrupt status after the handler's ack */
	E_MATCH,           /* bytes at B equal to the pattern it wrote at A */
	E_HALTS,           /* STI;HLT rounds it waited */
	E_DONE,
	E_COUNT
};

/* The edu (register offsets in BAR0, command bits, the buffer's device
 * address; baremetal/edu.c keeps its own copies private). */
#define EDU_REG_ID 0x00
#define EDU_ID_VAL 0x010000edu
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_CNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_CMD_RUN (1u << 0)
#define EDU_CMD_TO_RAM (1u << 1)
#define EDU_CMD_IRQ (1u << 2)
#define EDU_DEV_BUF 0x40000u   /* = EDU_BUF */
#define EDU_DMA_IRQ 0x100u     /* = EDU_IRQ_DMA */
#define EDU_CFG_ID_VAL 0x11e81234u

/* The guest's pattern: a word per 8 bytes, from the seed. */
static inline uint64_t guest_edu_pattern(uint32_t seed, unsigned i)
{
	return ((uint64_t)seed << 32 | i) * 0x9e3779b97f4a7c15ull;
}

/* Host side: bytes of `p` equal to the pattern of `seed` (len / 8 words). */
static inline unsigned guest_edu_pattern_bytes(const uint8_t *p, uint32_t len, uint32_t seed)
{
	unsigned n = 0;
	for (unsigned i = 0; i < len / 8; i++)
		n += ((const volatile uint64_t *)p)[i] == guest_edu_pattern(seed, i) ? 8 : 0;
	return n;
}

/* Host side: every word of p[0 .. len) still `fill` (a decoy untouched). */
static inline bool guest_edu_filled(const uint8_t *p, uint64_t len, uint64_t fill)
{
	for (uint64_t i = 0; i < len / 8; i++)
		if (((const volatile uint64_t *)p)[i] != fill)
			return false;
	return true;
}

/* guest_edu.c */
void guest_edu_entry(const struct guest_edu_params *p);
extern uint8_t guest_edu_stack[8192];
extern uint64_t guest_edu_gdt[];
extern uint8_t guest_edu_tss[];
#define GUEST_EDU_GDT_LIMIT (6 * 8 - 1)
#define GUEST_EDU_CS 0x08
#define GUEST_EDU_DS 0x10
#define GUEST_EDU_TR 0x18

#endif
