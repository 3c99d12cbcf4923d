/*
 * mini-guest.S — a tiny 32-bit guest for assign/release cycles: entered by
 * the 32-bit boot protocol at 0x100000 (flat segments, paging off), it
 * checks the passed-through device at 00:01.0 through configuration
 * mechanism #1, turns MSI-X on, programs and unmasks vector 0 (the testbed's
 * igb VF: MSI-X table at offset 0 of BAR3), reads it back, prints one line on
 * COM1 and resets through the i8042 (0xFE to port 0x64).
 *   "VFS-MINI vendor=Y msix=Y table=Y"   (N where a check failed)
 */
	.code32
	.text
	.globl _start
_start:
	mov	$0x90000, %esp		/* a stack in low RAM (the loader leaves esp 0) */
	mov	$0x3f8, %dx
	lea	banner, %esi
	call	puts

	/* Vendor/device of 00:01.0: 8086:10ca. */
	mov	$0x80000800, %eax
	call	cfg_read
	cmp	$0x10ca8086, %eax
	call	yes_no

	/* Walk the capability list (PCI 3.0 §6.7) for MSI-X (ID 0x11). */
	lea	s_msix, %esi
	call	puts
	mov	$0x80000834, %eax
	call	cfg_read
	movzbl	%al, %ebx
1:	test	%ebx, %ebx
	jz	2f
	mov	%ebx, %eax
	or	$0x80000800, %eax
	call	cfg_read
	cmp	$0x11, %al
	je	3f
	movzbl	%ah, %ebx
	jmp	1b
2:	xor	%eax, %eax
	cmp	$1, %eax		/* not found: ZF clear -> N */
	call	yes_no
	jmp	out
3:	/* Message control is the upper half: set Enable (bit 15). */
	or	$0x80000000, %eax
	mov	%eax, %ecx
	mov	%ebx, %eax
	or	$0x80000800, %eax
	mov	$0xcf8, %dx
	out	%eax, (%dx)
	mov	$0xcfc, %dx
	mov	%ecx, %eax
	out	%eax, (%dx)
	mov	%ebx, %eax
	or	$0x80000800, %eax
	call	cfg_read
	test	$0x80000000, %eax
	setnz	%al
	cmp	$1, %al
	call	yes_no

	/* Vector 0 of the table at BAR3: address, data, unmask; read back. */
	lea	s_table, %esi
	call	puts
	mov	$0x8000081c, %eax
	call	cfg_read
	and	$0xfffffff0, %eax
	mov	%eax, %edi
	movl	$0xfee00000, 0(%edi)
	movl	$0, 4(%edi)
	movl	$0x41, 8(%edi)
	movl	$0, 12(%edi)
	mov	8(%edi), %eax
	cmp	$0x41, %eax
	call	yes_no

out:	mov	$0x3f8, %dx
	mov	$'\n', %al
	out	%al, (%dx)
	mov	$0xfe, %al
	out	%al, $0x64
4:	hlt
	jmp	4b

/* eax = CONFIG_ADDRESS -> eax = CONFIG_DATA dword; clobbers dx */
cfg_read:
	mov	$0xcf8, %dx
	out	%eax, (%dx)
	mov	$0xcfc, %dx
	in	(%dx), %eax
	ret

/* print 'Y' when ZF is set, 'N' otherwise */
yes_no:
	mov	$'N', %al
	jne	1f
	mov	$'Y', %al
1:	mov	$0x3f8, %dx
	out	%al, (%dx)
	ret

/* print the NUL-terminated string at esi */
puts:
	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, (%dx)
	jmp	1b
2:	ret

banner:	.asciz	"VFS-MINI vendor="
s_msix:	.asciz	" msix="
s_table: .asciz	" table="
