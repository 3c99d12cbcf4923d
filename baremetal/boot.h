/*
 * boot.h — what the loader told us, independent of the boot protocol, and
 * how an image ends.
 *
 * boot_main() (baremetal/main.c) brings the platform up in this order:
 * console, boot info, IDT, memory, clock, LAPIC, ACPI, PCI — then calls the
 * image's test_main().  Any step that fails prints "Bail out!" and exits.
 */
#ifndef VFS_BM_BOOT_H
#define VFS_BM_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "baremetal/boot_defs.h"

#define BOOT_MEMMAP_MAX 64

/* E820 / hvm_memmap_table_entry types (ACPI 6.5 table 15-6). */
#define BOOT_MEM_RAM 1
#define BOOT_MEM_RESERVED 2
#define BOOT_MEM_ACPI 3
#define BOOT_MEM_NVS 4

struct boot_mem_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct boot_info {
	uint32_t protocol; /* BOOT_PROTO_* */
	uint64_t rsdp_pa;  /* 0 when the loader gave none */
	char cmdline[256]; /* QEMU -append, NUL-terminated ("" if none) */
	unsigned nr_memmap;
	struct boot_mem_range memmap[BOOT_MEMMAP_MAX];
	uint64_t module_pa, module_len; /* PVH module 0 (QEMU -initrd), 0 if none */
};

/* The boot information, valid once test_main() runs. */
const struct boot_info *boot_info(void);

/* The value of "KEY=value" on the command line, copied into buf (size n);
 * 0, or -PORT_ENOENT when the key is absent. */
int boot_cmdline_get(const char *key, char *buf, unsigned n);

/* Leave QEMU through isa-debug-exit (port 0xf4): QEMU's exit status is
 * (code << 1) | 1, so code 0 -> 1 (pass), anything else -> odd > 1 (fail).
 * Without that device the CPU halts with interrupts off. */
#define BOOT_EXIT_PASS 0u
#define BOOT_EXIT_FAIL 1u
void boot_exit(uint32_t code) __attribute__((noreturn));

/* Each image defines this; it runs after the platform is up. */
void test_main(void);

/* Protocol parsers, each filling *bi from its loader's info (0 or -PORT_E*). */
int pvh_parse(uint64_t start_info_pa, struct boot_info *bi);
/* multiboot2 (baremetal/boot_multiboot2.c, linked only into GRUB images;
 * weak here so PVH images need not carry it). */
int mb2_parse(uint64_t info_pa, struct boot_info *bi) __attribute__((weak));

/* Linker-script symbols. */
extern char __image_start[], __image_end[];

#endif
