/*
 * bzimage.c — the setup header and the zero page (boot.rst, "The real-mode
 * kernel header"; bootparam.h).  See bzimage.h.
 */
#include "vmm_glue/core/bzimage.h"

/* boot_params / setup header offsets (boot.rst, "The real-mode kernel header"). */
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

#define CAN_USE_HEAP  0x80        /* loadflags bit 7 */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

bool bz_header_read(const uint8_t *k, size_t len, struct bz_header *out)
{
	if (len < 0x1000 || get16(k + HDR_BOOT_FLAG) != 0xaa55 || k[HDR_MAGIC] != 'H' ||
	    k[HDR_MAGIC + 1] != 'd' || k[HDR_MAGIC + 2] != 'r' || k[HDR_MAGIC + 3] != 'S')
		return false;
	unsigned setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	out->version = get16(k + HDR_VERSION);
	out->loadflags = k[HDR_LOADFLAGS];
	out->xloadflags = get16(k + HDR_XLOADFLAGS);
	out->setup_len = (setup_sects + 1) * 512u;
	out->cmdline_max = get32(k + HDR_CMDLINE_SIZE);
	out->initrd_max = get32(k + HDR_INITRD_MAX);
	return true;
}

uint64_t bz_initrd_gpa(const struct bz_header *h, uint64_t ram_size, uint64_t len)
{
	uint64_t top = ram_size, max = (uint64_t)h->initrd_max + 1;
	if (max > 1 && top > max)
		top = max;
	if (len > top)
		return 0;
	return (top - len) & ~0xfffull;
}

void bz_zero_page(uint8_t *bp, const uint8_t *k, uint32_t kernel_gpa, uint32_t cmdline_gpa)
{
	/* The setup header runs from 0x1f1 to 0x202 + the byte at 0x201. */
	size_t hdr_end = 0x202 + k[HDR_JUMP + 1];
	if (hdr_end > 0x280)
		hdr_end = 0x280;
	__builtin_memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff;  /* undefined boot loader */
	bp[HDR_LOADFLAGS] = (uint8_t)(bp[HDR_LOADFLAGS] | CAN_USE_HEAP);
	put16(bp + HDR_HEAP_END_PTR, 0xfe00);
	put32(bp + HDR_CODE32_START, kernel_gpa);
	put32(bp + HDR_CMD_LINE_PTR, cmdline_gpa);
}

void bz_set_initrd(uint8_t *bp, uint32_t gpa, uint32_t len)
{
	put32(bp + HDR_RAMDISK_IMAGE, gpa);
	put32(bp + HDR_RAMDISK_SIZE, len);
}

void bz_e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = bp[BP_E820_ENTRIES];
	if (n >= BZ_E820_MAX)
		return;
	uint8_t *e = bp + BP_E820_TABLE + 20 * n;
	put64(e, addr);
	put64(e + 8, size);
	put32(e + 16, type);
	bp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
}
