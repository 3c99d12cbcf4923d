/*
 * idt.h — the interrupt descriptor table: every vector has a stub; an
 * exception (vector < 32) with no handler installed prints the vector, error
 * code, RIP and CR2 as a TAP failure and ends the run.  Vectors >= 32 are
 * counted; an installed handler runs, then the LAPIC gets its EOI.
 */
#ifndef VFS_BM_IDT_H
#define VFS_BM_IDT_H

#include <stdint.h>

/* The stack frame isr.S builds (lowest address first). */
struct idt_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*idt_handler_fn)(struct idt_frame *frame, void *ctx);

#define IDT_VEC_SPURIOUS 0xff /* the LAPIC spurious vector */

void idt_init(void);

/* Install (fn != NULL) or remove a handler for a vector; replaces any. */
void idt_set_handler(uint8_t vector, idt_handler_fn fn, void *ctx);

/* Interrupts delivered on a vector since boot (or the last reset).  The
 * counter is updated inside the handler; read it with interrupts on. */
uint64_t idt_count(uint8_t vector);
void idt_reset_count(uint8_t vector);

/* Wait (interrupts enabled, spinning) until idt_count(vector) reaches at
 * least `count` or timeout_ns passes: 0, or -PORT_ETIMEDOUT.  Interrupts
 * stay enabled afterwards. */
int idt_wait_count(uint8_t vector, uint64_t count, uint64_t timeout_ns);

#endif
