/*
 * boot_multiboot2.S — a multiboot2 entry (GRUB's `multiboot2` command, used
 * under Bochs) beside baremetal/boot.S's PVH entry.
 *
 * Multiboot2 specification 1.0, §3.1: the header (magic 0xe85250d6,
 * architecture 0 = i386 protected mode, length, checksum, tags ending with
 * an end tag) must lie 8-byte aligned in the first 32 KiB of the image;
 * baremetal/linker.ld puts it first.  The loader enters in 32-bit
 * protected mode, paging off, %eax = 0x36d76289, %ebx = the physical
 * address of the boot information (§3.3).
 *
 * The entry joins boot.S's shared path (boot_common32) with the protocol
 * in %ebp and the information pointer in %esi, as pvh_start32 does;
 * boot_main() then calls mb2_parse() (boot_multiboot2.c) for
 * BOOT_PROTO_MB2.  GRUB checks the magic in %eax itself; the information
 * lies outside the image, so boot.S's .bss clearing leaves it intact.
 */
#include "baremetal/boot_defs.h"

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
	movl $BOOT_PROTO_MB2, %ebp
	movl %ebx, %esi
	jmp boot_common32

	.section .note.GNU-stack, "", @progbits
