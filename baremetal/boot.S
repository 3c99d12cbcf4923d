/*
 * boot.S — from the loader's 32-bit protected-mode entry to C in long mode.
 *
 * Entries (each sets %ebp = boot protocol, %esi = its info pointer, then
 * joins boot_common32, which everything after is shared by):
 *   pvh_start32  — the PVH entry QEMU `-kernel` jumps to (Xen PVH ABI:
 *                  32-bit flat protected mode, paging off, %ebx = physical
 *                  address of struct hvm_start_info, no stack).
 *   (a multiboot2 entry for GRUB/Bochs goes beside it — see the comment at
 *   mb2 below and docs/baremetal.md; an image linking it boots both ways.)
 *
 * boot_common32: GDT with a 64-bit code segment, BSS cleared, an identity
 * map of the low 4 GiB with 2 MiB pages (Intel SDM vol. 3A 4.5: PML4 ->
 * PDPT -> PD, PS=1), CR4.PAE, EFER.LME, CR0.PG, far jump to 64-bit code,
 * a stack, then boot_main(protocol, info) in baremetal/main.c.
 */
#include "baremetal/boot_defs.h"

/* Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry
 * point (xen/include/public/elfnote.h).  Name "Xen", 8-byte descriptor. */
	.section .note.pvh, "a", @note
	.p2align 2
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* type: XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad pvh_start32
	.p2align 2

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl $BOOT_PROTO_PVH, %ebp
	movl %ebx, %esi
	jmp boot_common32

/*
 * mb2: the multiboot2 entry is linked only by the images that use it
 * (the VMX image, booted by GRUB under Bochs and by QEMU -kernel, which
 * looks only for multiboot 1 headers): baremetal/boot_multiboot2.S carries
 * the header
 * (magic 0xe85250d6, an entry-address tag) and
 *   mb2_start32: cli; cld; movl $BOOT_PROTO_MB2, %ebp; movl %ebx, %esi;
 *                jmp boot_common32
 * and mb2_parse() (baremetal/boot_multiboot2.c) turns the multiboot2 info
 * into struct boot_info, as baremetal/pvh.c does for PVH.
 */

	.globl boot_common32
boot_common32:
	lgdt boot_gdt_ptr
	ljmp $BOOT_CS32, $1f
1:	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	/* Clear .bss (it holds the page tables and the stack). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* PML4[0] -> PDPT (P|RW). */
	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4

	/* PDPT[0..3] -> the four page directories (P|RW). */
	movl $boot_pd, %eax
	orl $0x3, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
2:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 2b

	/* 2048 PDEs, 2 MiB each, P|RW|PS: identity 0..4 GiB, write-back.
	 * baremetal/mem.c later marks everything that is not RAM uncached. */
	movl $boot_pd, %edi
	movl $0x83, %eax
	movl $2048, %ecx
3:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 3b

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* CR4.PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx		/* IA32_EFER */
	rdmsr
	orl $(1 << 8), %eax		/* EFER.LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* CR0.PG | CR0.PE */
	movl %eax, %cr0
	ljmp $BOOT_CS64, $long_entry

	.code64
long_entry:
	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movabsq $boot_stack_top, %rsp
	xorl %ebx, %ebx
	pushq %rbx			/* a zero return address ends backtraces */
	movl %ebp, %edi			/* arg 1: protocol */
	movl %esi, %esi			/* arg 2: info pointer, zero-extended */
	call boot_main
4:	cli
	hlt
	jmp 4b

/* GDT (Intel SDM vol. 3A 3.4.5, 5.2.1): null, 64-bit code, data, 32-bit code. */
	.section .rodata.boot, "a"
	.p2align 3
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* BOOT_CS64: L=1, D=0, present, DPL0, code */
	.quad 0x00cf92000000ffff	/* BOOT_DS: 4 GiB flat data */
	.quad 0x00cf9a000000ffff	/* BOOT_CS32: 4 GiB flat 32-bit code */
boot_gdt_end:
	.globl boot_gdt_ptr
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss.boot, "aw", @nobits
	.p2align 12
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	.p2align 4
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
