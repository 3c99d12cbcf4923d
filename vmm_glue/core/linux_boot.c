/*
 * linux_boot.c — the Linux x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst: "The real-mode kernel header",
 * "64-bit Boot Protocol"; arch/x86/include/uapi/asm/bootparam.h for the
 * zero page).  See linux_boot.h.
 */
#include "vmm_glue/core/linux_boot.h"

#include "port.h"

/* boot_params / setup header offsets (boot.rst, "The real-mode kernel header"). */
#define BP_ACPI_RSDP_ADDR 0x070   /* u64, protocol 2.14 */
#define BP_E820_ENTRIES   0x1e8   /* u8 */
#define HDR_SETUP_SECTS   0x1f1   /* u8 */
#define HDR_BOOT_FLAG     0x1fe   /* u16, 0xAA55 */
#define HDR_JUMP          0x200   /* u16; byte 0x201 = header length - 0x202 */
#define HDR_MAGIC         0x202   /* "HdrS" */
#define HDR_VERSION       0x206   /* u16 */
#define HDR_TYPE_OF_LOADER 0x210  /* u8 */
#define HDR_LOADFLAGS     0x211   /* u8 */
#define HDR_CODE32_START  0x214   /* u32 */
#define HDR_RAMDISK_IMAGE 0x218   /* u32 */
#define HDR_RAMDISK_SIZE  0x21c   /* u32 */
#define HDR_HEAP_END_PTR  0x224   /* u16 */
#define HDR_CMD_LINE_PTR  0x228   /* u32 */
#define HDR_INITRD_MAX    0x22c   /* u32 */
#define HDR_XLOADFLAGS    0x236   /* u16, protocol 2.12 */
#define HDR_CMDLINE_SIZE  0x238   /* u32 */
#define BP_E820_TABLE     0x2d0   /* 128 x {u64 addr, u64 size, u32 type} */
#define BP_E820_MAX       128
#define BOOT_PARAMS_SIZE  4096

#define LOADED_HIGH   0x01        /* loadflags bit 0 */
#define CAN_USE_HEAP  0x80        /* loadflags bit 7 */
#define XLF_KERNEL_64 0x01        /* xloadflags bit 0: has the 64-bit entry at +0x200 */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static size_t str_len(const char *s) { size_t n = 0; while (s && s[n]) n++; return n; }

static void page_tables(uint8_t *ram);

int linux_boot_load(uint8_t *ram, uint64_t ram_size, const struct lb_image *img, struct lb_entry *out)
{
	const uint8_t *k = img->kernel;
	if (img->kernel_len < 0x1000 || get16(k + HDR_BOOT_FLAG) != 0xaa55 || k[HDR_MAGIC] != 'H' ||
	    k[HDR_MAGIC + 1] != 'd' || k[HDR_MAGIC + 2] != 'r' || k[HDR_MAGIC + 3] != 'S')
		return -PORT_EINVAL;
	uint16_t version = get16(k + HDR_VERSION);
	if (version < 0x20c || !(k[HDR_LOADFLAGS] & LOADED_HIGH) || !(get16(k + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return -PORT_EINVAL;
	unsigned setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	size_t setup_len = (setup_sects + 1) * 512u;
	if (setup_len >= img->kernel_len)
		return -PORT_EINVAL;
	size_t pm_len = img->kernel_len - setup_len;
	if (ram_size < (64u << 20) || ram_size > (4ull << 30) || LB_KERNEL_GPA + pm_len > ram_size)
		return -PORT_E2BIG;
	size_t cmd_len = str_len(img->cmdline);
	uint32_t cmdline_max = get32(k + HDR_CMDLINE_SIZE);
	if (cmd_len >= LB_CMDLINE_MAX || (cmdline_max && cmd_len > cmdline_max) || img->nr_e820 > BP_E820_MAX)
		return -PORT_E2BIG;

	__builtin_memset(ram, 0, 0x100000);   /* low memory: BDA, boot data, BIOS area */
	uint8_t *bp = ram + LB_PARAMS_GPA;
	/* The setup header runs from 0x1f1 to 0x202 + the byte at 0x201. */
	size_t hdr_end = 0x202 + k[HDR_JUMP + 1];
	if (hdr_end > 0x280)
		hdr_end = 0x280;
	__builtin_memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff;  /* undefined boot loader */
	bp[HDR_LOADFLAGS] = (uint8_t)(bp[HDR_LOADFLAGS] | CAN_USE_HEAP);
	put16(bp + HDR_HEAP_END_PTR, 0xfe00);
	put32(bp + HDR_CODE32_START, LB_KERNEL_GPA);
	put32(bp + HDR_CMD_LINE_PTR, LB_CMDLINE_GPA);
	__builtin_memcpy(ram + LB_CMDLINE_GPA, img->cmdline ? img->cmdline : "", cmd_len + 1);
	__builtin_memcpy(ram + LB_KERNEL_GPA, k + setup_len, pm_len);
	if (version >= 0x20e)
		put64(bp + BP_ACPI_RSDP_ADDR, img->rsdp_gpa);

	out->initrd_gpa = 0;
	if (img->initrd && img->initrd_len) {
		uint64_t top = ram_size, max = (uint64_t)get32(k + HDR_INITRD_MAX) + 1;
		if (max > 1 && top > max)
			top = max;
		if (img->initrd_len > top)
			return -PORT_E2BIG;
		uint64_t at = (top - img->initrd_len) & ~0xfffull;
		/* Room for the decompressed kernel above the compressed one. */
		if (at < LB_KERNEL_GPA + 4 * (uint64_t)pm_len)
			return -PORT_E2BIG;
		__builtin_memcpy(ram + at, img->initrd, img->initrd_len);
		out->initrd_gpa = at;
		put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
		put32(bp + HDR_RAMDISK_SIZE, (uint32_t)img->initrd_len);
	}

	for (unsigned i = 0; i < img->nr_e820; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		put64(e, img->e820[i].addr);
		put64(e + 8, img->e820[i].size);
		put32(e + 16, img->e820[i].type);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)img->nr_e820;

	/* A GDT with __BOOT_CS (0x10, 64-bit code) and __BOOT_DS (0x18), as
	 * the 64-bit protocol requires (SDM Vol. 3A §3.4.5 descriptors). */
	put64(ram + LB_GDT_GPA + LB_BOOT_CS, 0x00af9b000000ffffull);
	put64(ram + LB_GDT_GPA + LB_BOOT_DS, 0x00cf93000000ffffull);
	page_tables(ram);

	out->rip = LB_KERNEL_GPA + 0x200;   /* boot.rst: the 64-bit entry is startup_32 + 0x200 */
	out->rsi = LB_PARAMS_GPA;
	out->cr3 = LB_PML4_GPA;
	out->gdt = LB_GDT_GPA;
	out->gdt_limit = LB_BOOT_DS + 7;
	out->protocol = version;
	return 0;
}

/* Identity map of 0-4 GiB with 2 MiB pages (SDM Vol. 3A §4.5: PML4E,
 * PDPTE, PDE with PS), present + writable; the kernel builds its own. */
static void page_tables(uint8_t *ram)
{
	uint8_t *pml4 = ram + LB_PML4_GPA, *pdpt = pml4 + 0x1000, *pd = pdpt + 0x1000;
	put64(pml4, (LB_PML4_GPA + 0x1000) | 3);
	for (unsigned g = 0; g < 4; g++) {
		put64(pdpt + 8 * g, (LB_PML4_GPA + 0x2000 + 0x1000ull * g) | 3);
		for (unsigned i = 0; i < 512; i++)
			put64(pd + 0x1000 * g + 8 * i, ((uint64_t)g << 30 | (uint64_t)i << 21) | 0x83);
	}
}
