/*
 * pvh.c — struct hvm_start_info (Xen public header
 * xen/include/public/arch-x86/hvm/start_info.h, version 1) into boot_info.
 */
#include "baremetal/boot.h"
#include "port.h"

/* hvm_start_info field offsets. */
#define SI_MAGIC 0x00          /* u32, XEN_HVM_START_MAGIC_VALUE */
#define SI_VERSION 0x04        /* u32 */
#define SI_NR_MODULES 0x0c     /* u32 (0x08: flags) */
#define SI_MODLIST_PADDR 0x10  /* u64: hvm_modlist_entry {u64 paddr, u64 size, u64 cmdline, u64 rsvd} */
#define SI_CMDLINE_PADDR 0x18  /* u64 */
#define SI_RSDP_PADDR 0x20     /* u64 */
#define SI_MEMMAP_PADDR 0x28   /* u64, version >= 1 */
#define SI_MEMMAP_ENTRIES 0x30 /* u32, version >= 1 */
#define SI_MAGIC_VALUE 0x336ec578u

/* hvm_memmap_table_entry: u64 addr, u64 size, u32 type, u32 reserved. */
#define MM_ENTRY_SIZE 24

static uint32_t rd32(uint64_t pa) { return *(const volatile uint32_t *)(uintptr_t)pa; }
static uint64_t rd64(uint64_t pa) { return *(const volatile uint64_t *)(uintptr_t)pa; }

int pvh_parse(uint64_t si, struct boot_info *bi)
{
	if (si == 0 || rd32(si + SI_MAGIC) != SI_MAGIC_VALUE)
		return -PORT_EINVAL;
	bi->protocol = BOOT_PROTO_PVH;
	bi->rsdp_pa = rd64(si + SI_RSDP_PADDR);

	uint64_t cl = rd64(si + SI_CMDLINE_PADDR);
	unsigned i = 0;
	if (cl)
		for (; i + 1 < sizeof(bi->cmdline) && *(const char *)(uintptr_t)(cl + i); i++)
			bi->cmdline[i] = *(const char *)(uintptr_t)(cl + i);
	bi->cmdline[i] = 0;

	bi->module_pa = bi->module_len = 0;
	if (rd32(si + SI_NR_MODULES) && rd64(si + SI_MODLIST_PADDR)) {
		bi->module_pa = rd64(rd64(si + SI_MODLIST_PADDR));
		bi->module_len = rd64(rd64(si + SI_MODLIST_PADDR) + 8);
	}

	bi->nr_memmap = 0;
	if (rd32(si + SI_VERSION) < 1)
		return -PORT_ENOTSUP;
	uint64_t mm = rd64(si + SI_MEMMAP_PADDR);
	uint32_t n = rd32(si + SI_MEMMAP_ENTRIES);
	for (uint32_t k = 0; k < n && bi->nr_memmap < BOOT_MEMMAP_MAX; k++) {
		uint64_t e = mm + (uint64_t)k * MM_ENTRY_SIZE;
		struct boot_mem_range *r = &bi->memmap[bi->nr_memmap++];
		r->addr = rd64(e);
		r->size = rd64(e + 8);
		r->type = rd32(e + 16);
	}
	return bi->nr_memmap ? 0 : -PORT_ENOENT;
}
