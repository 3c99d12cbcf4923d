/*
 * boot_multiboot2.c — the multiboot2 boot information (Multiboot2
 * specification 1.0, §3.6) into struct boot_info.  boot_main()
 * (baremetal/main.c) calls mb2_parse() when boot_multiboot2.S's entry
 * joined boot.S with BOOT_PROTO_MB2; linked only into GRUB images (Bochs).
 */
#include <stdint.h>

#include "baremetal/boot.h"
#include "port.h"

/* Boot information tags (§3.6.1-3.6.16): u32 type, u32 size, 8-aligned. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1      /* §3.6.3: NUL-terminated string */
#define MB2_TAG_MMAP 6         /* §3.6.8: u32 entry_size, u32 version, entries */
#define MB2_TAG_ACPI_OLD 14    /* §3.6.12: a copy of the RSDP (ACPI 1.0) */
#define MB2_TAG_ACPI_NEW 15    /* §3.6.13: a copy of the RSDP (ACPI 2.0+) */
/* mmap entry: u64 base_addr, u64 length, u32 type (1 = RAM, 3 = ACPI,
 * 4 = NVS, 5 = bad), u32 reserved: the E820 types boot.h uses. */

static uint8_t rsdp_copy[36] __attribute__((aligned(16)));

static uint32_t rd32(uint64_t pa) { return *(const volatile uint32_t *)(uintptr_t)pa; }
static uint64_t rd64(uint64_t pa) { return *(const volatile uint64_t *)(uintptr_t)pa; }

int mb2_parse(uint64_t info_pa, struct boot_info *bi)
{
	uint32_t total = rd32(info_pa);
	uint64_t rsdp_new = 0, rsdp_old = 0;

	bi->protocol = BOOT_PROTO_MB2;
	bi->rsdp_pa = 0;
	bi->cmdline[0] = 0;
	bi->nr_memmap = 0;
	for (uint64_t t = info_pa + 8; t + 8 <= info_pa + total;) {
		uint32_t type = rd32(t), size = rd32(t + 4);
		if (type == MB2_TAG_END || size < 8)
			break;
		if (type == MB2_TAG_CMDLINE) {
			unsigned i = 0;
			for (; i + 1 < sizeof(bi->cmdline) && 8 + i < size && *(const char *)(uintptr_t)(t + 8 + i); i++)
				bi->cmdline[i] = *(const char *)(uintptr_t)(t + 8 + i);
			bi->cmdline[i] = 0;
		} else if (type == MB2_TAG_MMAP) {
			uint32_t esz = rd32(t + 8);
			for (uint64_t e = t + 16; esz >= 24 && e + 24 <= t + size && bi->nr_memmap < BOOT_MEMMAP_MAX; e += esz) {
				struct boot_mem_range *r = &bi->memmap[bi->nr_memmap++];
				r->addr = rd64(e);
				r->size = rd64(e + 8);
				r->type = rd32(e + 16);
			}
		} else if (type == MB2_TAG_ACPI_NEW) {
			rsdp_new = t + 8;
		} else if (type == MB2_TAG_ACPI_OLD) {
			rsdp_old = t + 8;
		}
		t += (size + 7u) & ~7u;
	}
	/* The tags hold copies of the RSDP, in memory the page pool may reuse:
	 * keep one in the image. */
	uint64_t src = rsdp_new ? rsdp_new : rsdp_old;
	if (src) {
		for (unsigned i = 0; i < sizeof(rsdp_copy); i++)
			rsdp_copy[i] = (i < 20 || rsdp_new) ? *(const uint8_t *)(uintptr_t)(src + i) : 0;
		bi->rsdp_pa = (uint64_t)(uintptr_t)rsdp_copy;
	}
	return bi->nr_memmap ? 0 : -PORT_ENOENT;
}
