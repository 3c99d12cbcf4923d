/*
 * boot_multiboot2.S — a multiboot2 entry (GRUB's `multiboot2` command, used
 * under Bochs) beside baremetal/boot.S's PVH entry.
 *
 * Multiboot2 specification 1.0, §3.1: the header (magic 0xe85250d6,
 * architecture 0 = i386 protected mode, length, checksum, tags ending with
 * an end tag) must lie 8-byte aligned in the first 32 KiB of the image;
 * baremetal/boot_multiboot2.ld puts it first.  The loader enters in 32-bit
 * protected mode, paging off, %eax = 0x36d76289, %ebx = the physical
 * address of the boot information (§3.3).
 *
 * The entry keeps both in .data (boot.S clears .bss) and joins boot.S's
 * shared path through pvh_start32, which takes %ebx as its info pointer;
 * boot_multiboot2.c turns the multiboot2 information into what boot_main()
 * expects.  (When boot.S exports boot_common32 and boot_main() has a
 * BOOT_PROTO_MB2 case, this becomes "movl $BOOT_PROTO_MB2, %ebp;
 * movl %ebx, %esi; jmp boot_common32" -- see docs/vmx.md.)
 */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_ENTRY 3		/* entry address tag (§3.1.6) */

	.section .multiboot2, "a"
	.p2align 3
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.p2align 3
	.word MB2_TAG_ENTRY, 0	/* flags 0: required */
	.long 12
	.long mb2_start32
	.p2align 3
	.word MB2_TAG_END, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl mb2_start32
mb2_start32:
	cli
	cld
	movl %eax, mb2_boot_magic
	movl %ebx, mb2_boot_info
	jmp pvh_start32

	.section .data
	.p2align 2
	.globl mb2_boot_magic, mb2_boot_info
mb2_boot_magic:	.long 0
mb2_boot_info:	.long 0

	.section .note.GNU-stack, "", @progbits
