/*
 * linux_boot.c — the Linux x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst: "The real-mode kernel header",
 * "64-bit Boot Protocol"; arch/x86/include/uapi/asm/bootparam.h for the
 * zero page).  See linux_boot.h.
 */
#include "vmm_glue/core/linux_boot.h"

#include "port.h"
#include "vmm_glue/core/bzimage.h"

#define BP_ACPI_RSDP_ADDR 0x070   /* u64, protocol 2.14 */

static void put64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}
static size_t str_len(const char *s) { size_t n = 0; while (s && s[n]) n++; return n; }

static void page_tables(uint8_t *ram);

int linux_boot_load(uint8_t *ram, uint64_t ram_size, const struct lb_image *img, struct lb_entry *out)
{
	const uint8_t *k = img->kernel;
	struct bz_header h;
	if (!bz_header_read(k, img->kernel_len, &h))
		return -PORT_EINVAL;
	if (h.version < 0x20c || !(h.loadflags & BZ_LOADED_HIGH) || !(h.xloadflags & BZ_XLF_KERNEL_64))
		return -PORT_EINVAL;
	if (h.setup_len >= img->kernel_len)
		return -PORT_EINVAL;
	size_t pm_len = img->kernel_len - h.setup_len;
	if (ram_size < (64u << 20) || ram_size > (4ull << 30) || LB_KERNEL_GPA + pm_len > ram_size)
		return -PORT_E2BIG;
	size_t cmd_len = str_len(img->cmdline);
	if (cmd_len >= LB_CMDLINE_MAX || (h.cmdline_max && cmd_len > h.cmdline_max) || img->nr_e820 > BZ_E820_MAX)
		return -PORT_E2BIG;

	__builtin_memset(ram, 0, 0x100000);   /* low memory: BDA, boot data, BIOS area */
	uint8_t *bp = ram + LB_PARAMS_GPA;
	bz_zero_page(bp, k, LB_KERNEL_GPA, LB_CMDLINE_GPA);
	__builtin_memcpy(ram + LB_CMDLINE_GPA, img->cmdline ? img->cmdline : "", cmd_len + 1);
	__builtin_memcpy(ram + LB_KERNEL_GPA, k + h.setup_len, pm_len);
	if (h.version >= 0x20e)
		put64(bp + BP_ACPI_RSDP_ADDR, img->rsdp_gpa);

	out->initrd_gpa = 0;
	if (img->initrd && img->initrd_len) {
		uint64_t at = bz_initrd_gpa(&h, ram_size, img->initrd_len);
		/* Room for the decompressed kernel above the compressed one. */
		if (at < LB_KERNEL_GPA + 4 * (uint64_t)pm_len)
			return -PORT_E2BIG;
		__builtin_memcpy(ram + at, img->initrd, img->initrd_len);
		out->initrd_gpa = at;
		bz_set_initrd(bp, (uint32_t)at, (uint32_t)img->initrd_len);
	}

	for (unsigned i = 0; i < img->nr_e820; i++)
		bz_e820_add(bp, img->e820[i].addr, img->e820[i].size, img->e820[i].type);

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
	out->protocol = h.version;
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
