/*
 * bzimage.h — the parts of the Linux x86 boot protocol
 * (Documentation/arch/x86/boot.rst, "The real-mode kernel header";
 * arch/x86/include/uapi/asm/bootparam.h) that both cores' loaders share:
 * reading a bzImage's setup header and writing the zero page's setup
 * header, initrd fields and e820 map.  Freestanding, so the hosted library
 * links it too: vmm_glue/boot_linux.c (hosted KVM core, 32-bit protocol)
 * and vmm_glue/core/linux_boot.c (bare-metal core, 64-bit protocol).
 */
#ifndef VFS_BZIMAGE_H
#define VFS_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BZ_BOOT_PARAMS_SIZE 4096u
#define BZ_E820_MAX         128u
#define BZ_LOADED_HIGH      0x01   /* loadflags bit 0 */
#define BZ_XLF_KERNEL_64    0x01   /* xloadflags bit 0: the 64-bit entry at +0x200 */

/* e820 types (ACPI 6.5 Table 15-6). */
#define BZ_E820_RAM      1
#define BZ_E820_RESERVED 2
#define BZ_E820_ACPI     3

struct bz_header {
	uint16_t version;      /* boot protocol, e.g. 0x20f */
	uint8_t loadflags;
	uint16_t xloadflags;   /* protocol 2.12 */
	size_t setup_len;      /* real-mode part: (setup_sects + 1) * 512 */
	uint32_t cmdline_max;  /* cmdline_size, 0: not stated */
	uint32_t initrd_max;   /* initrd_addr_max */
};

/* Read the setup header of `kernel` (the whole bzImage file).  false: not
 * a bzImage (shorter than 4 KiB, no 0xAA55 boot flag or no "HdrS"). */
bool bz_header_read(const uint8_t *kernel, size_t len, struct bz_header *out);

/* Where an initrd of `len` bytes goes: page-aligned, as high as ram_size
 * and initrd_addr_max allow; 0 when it is larger than that limit. */
uint64_t bz_initrd_gpa(const struct bz_header *h, uint64_t ram_size, uint64_t len);

/* Start the zero page at `bp` (zeroed by the caller): the kernel's setup
 * header, the loader type (undefined), CAN_USE_HEAP with heap_end_ptr,
 * code32_start and cmd_line_ptr. */
void bz_zero_page(uint8_t *bp, const uint8_t *kernel, uint32_t kernel_gpa, uint32_t cmdline_gpa);

/* ramdisk_image and ramdisk_size. */
void bz_set_initrd(uint8_t *bp, uint32_t gpa, uint32_t len);

/* Append an e820 entry; ignored once the table holds BZ_E820_MAX. */
void bz_e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type);

#endif
