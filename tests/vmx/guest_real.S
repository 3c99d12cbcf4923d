/*
 * guest_real.S — the real-mode guest of the Bochs test (unrestricted
 * guest).  The host copies guest_real_start..guest_real_end to GPA 0x1000
 * of a guest whose RAM (GPA 0..2 MiB) is a separate host buffer, and starts
 * it at 0000:1000 in real mode.  It reports through OUT to port 0xe0, then
 * boots itself into 64-bit mode the way an OS does: CR0.PE, a far jump,
 * LTR, CR4.PAE, CR3, EFER.LME (WRMSR), CR0.PG, a far jump to a 64-bit code
 * segment -- so the core's CR0 trap must turn EFER.LMA and the "IA-32e mode
 * guest" entry control on.  The host put 4-level page tables at GPA 0x2000
 * (identity map of the first 2 MiB).
 */
#define LOAD 0x1000
#define ADDR(x) ((x) - guest_real_start + LOAD)
#define REPORT 0xe0

	.section .rodata.guest_real, "a"
	.globl guest_real_start, guest_real_end
	.code16
guest_real_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x8000, %sp
	movl $0x52454131, %eax		/* "REA1": running in real mode */
	outl %eax, $REPORT
	movl $0x40000000, %eax		/* the hypervisor CPUID leaf */
	xorl %ecx, %ecx
	cpuid
	movl %ebx, %eax
	outl %eax, $REPORT
	movl $0x5a5a1234, %eax		/* a mark in guest RAM, found by the host */
	movl %eax, 0x7000
	lgdtl ADDR(gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax			/* CR0.PE: a trapped bit */
	movl %eax, %cr0
	ljmpl $0x08, $ADDR(pm32)

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x8000, %esp
	movw $0x18, %ax
	ltr %ax
	movl %cr4, %eax
	orl $0x20, %eax			/* CR4.PAE: the guest's own bit */
	movl %eax, %cr4
	movl $0x2000, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* IA32_EFER.LME (trapped, emulated) */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax		/* CR0.PG: IA-32e mode from here */
	movl %eax, %cr0
	ljmp $0x28, $ADDR(lm64)

	.code64
lm64:
	movl $0x4c4f4e47, %eax		/* "LONG": 64-bit code runs */
	outl %eax, $REPORT
	movl $0xc0000080, %ecx
	rdmsr
	outl %eax, $REPORT		/* EFER as the guest reads it */
	xorl %eax, %eax
	vmcall				/* done */
	hlt

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x0000890060000067	/* 0x18: TSS at 0x6000, limit 0x67, type 9 */
	.quad 0				/*       (its upper half in IA-32e mode) */
	.quad 0x00af9a000000ffff	/* 0x28: 64-bit code */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long ADDR(gdt)
guest_real_end:

	.section .note.GNU-stack, "", @progbits
