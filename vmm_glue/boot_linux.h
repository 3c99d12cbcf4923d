/*
 * boot_linux.h — lay a Linux bzImage, its initrd and command line into guest
 * RAM for the 32-bit boot protocol (Documentation/arch/x86/boot.rst), with an
 * e820 map and an MP table (Intel MultiProcessor Specification 1.4) so the
 * guest finds its CPUs, local APICs and IOAPIC without ACPI.  Core-agnostic:
 * it writes into a RAM buffer and says where to enter.
 */
#ifndef VFS_BOOT_LINUX_H
#define VFS_BOOT_LINUX_H

#include <stddef.h>
#include <stdint.h>

/* Guest-physical layout the loader uses (all below 1 MiB but the kernel). */
#define BOOT_GDT_GPA        0x00000500u
#define BOOT_PARAMS_GPA     0x00007000u  /* the "zero page" */
#define BOOT_CMDLINE_GPA    0x00020000u
#define BOOT_CMDLINE_MAX    0x00010000u
#define BOOT_MPTABLE_GPA    0x000f0000u
#define BOOT_KERNEL_GPA     0x00100000u  /* protected-mode code, "code32_start" */

struct boot_linux_image {
	const uint8_t *kernel;      /* the whole bzImage file */
	size_t kernel_len;
	const uint8_t *initrd;      /* may be NULL */
	size_t initrd_len;
	const char *cmdline;
	unsigned ncpus;             /* processor entries in the MP table */
	uint32_t ioapic_gpa;
	uint32_t lapic_gpa;
};

struct boot_linux_entry {
	uint32_t eip;               /* 32-bit entry: code32_start */
	uint32_t esi;               /* boot_params */
	uint32_t initrd_gpa;
};

/* Fill `ram` (guest-physical 0 .. ram_size).  -ENOEXEC when the image is
 * not a bzImage with boot protocol >= 2.06, -E2BIG when it or the initrd do
 * not fit; `why` says which. */
int boot_linux_load(uint8_t *ram, uint64_t ram_size, const struct boot_linux_image *img,
		    struct boot_linux_entry *entry, char *why, size_t why_len);

/* Read a whole file (kernel, initrd) into a malloc'd buffer. */
int boot_linux_read_file(const char *path, uint8_t **buf, size_t *len);

#endif
