/*
 * boot_multiboot2.c — a multiboot2 entry (GRUB's `multiboot2` command, used
 * under Bochs) beside baremetal/boot.S's PVH entry, the multiboot2 boot
 * information (Multiboot2 specification 1.0) into struct boot_info, and the
 * glue that lets a GRUB-booted image run baremetal/'s unchanged bring-up.
 *
 * The entry and header are in boot_multiboot2.S.
 *
 * mb2_parse() is what boot_main() calls for BOOT_PROTO_MB2 once it has that
 * case.  Until then the image is linked with
 *   --wrap=boot_main --wrap=boot_exit --wrap=pci_init
 * (tests/vmx/vmx.mk): boot_main() is handed the same information as a PVH
 * start_info, boot_exit() also stops Bochs (magic breakpoint `xchg %bx,%bx`,
 * enabled by `magic_break: enabled=1`), and a PC without MCFG (Bochs's
 * i440FX) boots with PCI unavailable instead of bailing out.
 */
#include <stddef.h>
#include <stdint.h>

#include "baremetal/boot.h"
#include "port.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u /* %eax at entry (§3.3) */
/* Boot information tags (§3.6.1-3.6.16): u32 type, u32 size, 8-aligned. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1      /* §3.6.3: NUL-terminated string */
#define MB2_TAG_MMAP 6         /* §3.6.8: u32 entry_size, u32 version, entries */
#define MB2_TAG_ACPI_OLD 14    /* §3.6.12: a copy of the RSDP (ACPI 1.0) */
#define MB2_TAG_ACPI_NEW 15    /* §3.6.13: a copy of the RSDP (ACPI 2.0+) */
/* mmap entry: u64 base_addr, u64 length, u32 type (1 = RAM, 3 = ACPI,
 * 4 = NVS, 5 = bad), u32 reserved: the E820 types boot.h uses. */


extern uint32_t mb2_boot_magic, mb2_boot_info; /* boot_multiboot2.S, in .data */

static uint8_t rsdp_copy[36] __attribute__((aligned(16)));

static uint32_t rd32(uint64_t pa) { return *(const volatile uint32_t *)(uintptr_t)pa; }
static uint64_t rd64(uint64_t pa) { return *(const volatile uint64_t *)(uintptr_t)pa; }

int mb2_parse(uint64_t info_pa, struct boot_info *bi);
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

/* --- the interim glue (until boot_main() has a multiboot2 case) --------- */

/* struct hvm_start_info version 1 and hvm_memmap_table_entry, the layout
 * baremetal/pvh.c reads (offsets checked below). */
struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
_Static_assert(offsetof(struct pvh_start_info, cmdline_paddr) == 0x18, "PVH layout");
_Static_assert(offsetof(struct pvh_start_info, memmap_entries) == 0x30, "PVH layout");
_Static_assert(sizeof(struct pvh_memmap_entry) == 24, "PVH layout");

static struct boot_info mb2_info;
static struct pvh_start_info pvh_si;
static struct pvh_memmap_entry pvh_mm[BOOT_MEMMAP_MAX];

static bool booted_by_mb2(void) { return mb2_boot_magic == MB2_BOOTLOADER_MAGIC; }

/* Weak: resolved by --wrap in the multiboot2 image, absent (and never
 * called) in the PVH images that link this file too. */
void __real_boot_main(uint32_t protocol, uint32_t info_pa) __attribute__((weak));
void __wrap_boot_main(uint32_t protocol, uint32_t info_pa);
void __wrap_boot_main(uint32_t protocol, uint32_t info_pa)
{
	if (!booted_by_mb2() || mb2_parse(mb2_boot_info, &mb2_info) != 0) {
		__real_boot_main(protocol, info_pa);
		return;
	}
	for (unsigned i = 0; i < mb2_info.nr_memmap; i++)
		pvh_mm[i] = (struct pvh_memmap_entry){ mb2_info.memmap[i].addr, mb2_info.memmap[i].size,
						       mb2_info.memmap[i].type, 0 };
	pvh_si = (struct pvh_start_info){
		.magic = 0x336ec578u, /* XEN_HVM_START_MAGIC_VALUE */
		.version = 1,
		.cmdline_paddr = (uint64_t)(uintptr_t)mb2_info.cmdline,
		.rsdp_paddr = mb2_info.rsdp_pa,
		.memmap_paddr = (uint64_t)(uintptr_t)pvh_mm,
		.memmap_entries = mb2_info.nr_memmap,
	};
	__real_boot_main(BOOT_PROTO_PVH, (uint32_t)(uintptr_t)&pvh_si);
}

void __real_boot_exit(uint32_t code) __attribute__((noreturn, weak));
void __wrap_boot_exit(uint32_t code) __attribute__((noreturn));
void __wrap_boot_exit(uint32_t code)
{
	if (booted_by_mb2()) {
		port_log("exit code %u", code);
		/* Let COM1 (16550, LSR at 0x3fd) send its last byte: bit 6 =
		 * transmitter empty.  Bounded: a missing UART reads 0xff. */
		for (unsigned i = 0; i < 1000000; i++) {
			uint8_t lsr;
			__asm__ volatile("inb %1, %0" : "=a"(lsr) : "Nd"((uint16_t)0x3fd));
			if (lsr & 0x40)
				break;
		}
		/* Bochs magic breakpoint: its debugger takes over and quits. */
		__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
	}
	__real_boot_exit(code);
}

int __real_pci_init(void) __attribute__((weak));
int __wrap_pci_init(void);
int __wrap_pci_init(void)
{
	int r = __real_pci_init();
	if (r && booted_by_mb2()) {
		port_log("PCI unavailable (no MCFG: a legacy PC such as Bochs's i440FX)");
		return 0;
	}
	return r;
}
