/*
 * linux_boot.h — lay a Linux bzImage, its initrd and command line into
 * guest RAM for the 64-bit boot protocol (Documentation/arch/x86/boot.rst,
 * "64-bit Boot Protocol"): the zero page with the setup header, the e820
 * map and the ACPI RSDP address, a GDT with __BOOT_CS / __BOOT_DS and
 * identity page tables for the low 4 GiB.  Freestanding, CPU-neutral: it
 * writes into the host's view of guest RAM and says where to enter; the
 * bare-metal core's VMM (tests/bmlinux) uses it.
 *
 * (The hosted KVM path, vmm_glue/boot_linux.c, uses the 32-bit protocol
 * and an MP table; both write the setup header and e820 map through
 * vmm_glue/core/bzimage.c.)
 */
#ifndef VFS_LINUX_BOOT_H
#define VFS_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vmm_glue/core/bzimage.h"

/* Guest-physical layout (below 1 MiB but the kernel and the initrd). */
#define LB_GDT_GPA     0x00000500u
#define LB_PARAMS_GPA  0x00007000u   /* the "zero page" */
#define LB_PML4_GPA    0x00009000u   /* PML4, PDPT, 4 PDs: 0x9000-0xefff */
#define LB_CMDLINE_GPA 0x00020000u
#define LB_CMDLINE_MAX 0x00001000u
#define LB_KERNEL_GPA  0x00100000u
#define LB_BOOT_CS     0x10u
#define LB_BOOT_DS     0x18u

/* e820 types (ACPI 6.5 Table 15-6). */
#define LB_E820_RAM      BZ_E820_RAM
#define LB_E820_RESERVED BZ_E820_RESERVED
#define LB_E820_ACPI     BZ_E820_ACPI

struct lb_e820 {
	uint64_t addr, size;
	uint32_t type;
};

struct lb_image {
	const uint8_t *kernel;      /* the whole bzImage file */
	size_t kernel_len;
	const uint8_t *initrd;      /* may be NULL */
	size_t initrd_len;
	const char *cmdline;
	const struct lb_e820 *e820; /* the guest's memory map, as the guest gets it */
	unsigned nr_e820;
	uint64_t rsdp_gpa;          /* boot_params.acpi_rsdp_addr (protocol 2.14), 0: none */
};

struct lb_entry {
	uint64_t rip;               /* startup_64: the kernel + 0x200 */
	uint64_t rsi;               /* boot_params */
	uint64_t cr3;               /* identity map of 0-4 GiB */
	uint64_t gdt, gdt_limit;
	uint64_t initrd_gpa;
	uint16_t protocol;          /* the kernel's boot protocol version */
};

/* Fill guest RAM (`ram` is GPA 0 in the host's view, ram_size bytes).
 * -PORT_EINVAL: not a 64-bit-capable bzImage with protocol >= 2.12;
 * -PORT_E2BIG: the kernel, initrd or command line do not fit. */
int linux_boot_load(uint8_t *ram, uint64_t ram_size, const struct lb_image *img, struct lb_entry *out);

#endif
