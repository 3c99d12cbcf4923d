/*
 * isr.S — 256 interrupt entry stubs, 16 bytes apart (idt.c computes each
 * stub's address as isr_stubs + 16 * vector), and the common path that
 * saves the general registers and calls idt_dispatch(struct idt_frame *).
 *
 * The CPU pushes an error code for vectors 8, 10-14, 17, 21, 29, 30
 * (Intel SDM vol. 3A 6.15, table 6-1); the other stubs push a zero so the
 * frame has one layout.
 */
	.text
	.code64
	.p2align 4
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call idt_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector, error code */
	iretq

	.section .note.GNU-stack, "", @progbits
