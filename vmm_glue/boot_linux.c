/*
 * boot_linux.c — the Linux x86 boot protocol (Documentation/arch/x86/boot.rst,
 * "The real-mode kernel header" and "32-bit boot protocol"), the e820 map in
 * boot_params (arch/x86/include/uapi/asm/bootparam.h), and an MP table
 * (MultiProcessor Specification 1.4, chapter 4).  The setup header and the
 * zero page are written by the freestanding vmm_glue/core/bzimage.c, which
 * the bare-metal core's 64-bit loader shares.
 */
#include "vmm_glue/boot_linux.h"

#include "vmm_glue/core/bzimage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0x100 - sum);
}

/* MP spec 1.4 §4.1 floating pointer (16 bytes) and §4.2 configuration table
 * header (44 bytes), then entries (§4.3): processor 20 bytes, bus, IOAPIC,
 * I/O interrupt and local interrupt 8 bytes each. */
static size_t write_mptable(uint8_t *at, uint32_t gpa, const struct boot_linux_image *img)
{
	uint8_t *fp = at, *hdr = at + 16, *e = hdr + 44;
	unsigned count = 0;
	const uint8_t bus_pci = 0, bus_isa = 1, ioapic_id = (uint8_t)img->ncpus;
	for (unsigned cpu = 0; cpu < img->ncpus; cpu++, count++, e += 20) {
		e[0] = 0;                    /* processor */
		e[1] = (uint8_t)cpu;         /* local APIC ID */
		e[2] = 0x14;                 /* local APIC version */
		e[3] = 0x01 | (cpu == 0 ? 0x02 : 0);  /* EN, BP */
		put32(e + 4, 0x600);         /* signature: family 6 */
		put32(e + 8, 0x201);         /* features: FPU, APIC */
	}
	const struct { uint8_t id; const char *name; } buses[] = { { bus_pci, "PCI   " }, { bus_isa, "ISA   " } };
	for (unsigned i = 0; i < 2; i++, count++, e += 8) {
		e[0] = 1;                    /* bus */
		e[1] = buses[i].id;
		memcpy(e + 2, buses[i].name, 6);
	}
	e[0] = 2;                            /* I/O APIC */
	e[1] = ioapic_id;
	e[2] = 0x11;                         /* version */
	e[3] = 0x01;                         /* EN */
	put32(e + 4, img->ioapic_gpa);
	e += 8, count++;
	for (unsigned irq = 0; irq < 16; irq++, count++, e += 8) {
		e[0] = 3;                    /* I/O interrupt assignment */
		e[1] = 0;                    /* INT (vectored) */
		put16(e + 2, 0);             /* polarity/trigger: conforms to the bus (ISA: edge, high) */
		e[4] = bus_isa;
		e[5] = (uint8_t)irq;
		e[6] = ioapic_id;
		e[7] = (uint8_t)irq;         /* IOAPIC pin = ISA IRQ, as KVM routes GSIs */
	}
	const uint8_t lint_type[2] = { 3, 1 };  /* ExtINT on LINT0, NMI on LINT1 */
	for (unsigned l = 0; l < 2; l++, count++, e += 8) {
		e[0] = 4;                    /* local interrupt assignment */
		e[1] = lint_type[l];
		put16(e + 2, 0);
		e[4] = bus_isa;
		e[5] = 0;
		e[6] = 0xff;                 /* every local APIC */
		e[7] = (uint8_t)l;
	}
	size_t table_len = (size_t)(e - hdr);
	memcpy(hdr, "PCMP", 4);
	put16(hdr + 4, (uint16_t)table_len);
	hdr[6] = 4;                          /* spec revision 1.4 */
	memcpy(hdr + 8, "VFSTACK ", 8);      /* OEM ID */
	memcpy(hdr + 16, "KVM-CORE    ", 12); /* product ID */
	put16(hdr + 34, (uint16_t)count);
	put32(hdr + 36, img->lapic_gpa);
	hdr[7] = checksum(hdr, table_len);

	memcpy(fp, "_MP_", 4);
	put32(fp + 4, gpa + 16);             /* physical address of the table */
	fp[8] = 1;                           /* length in 16-byte units */
	fp[9] = 4;                           /* revision 1.4 */
	fp[11] = 0;                          /* feature byte 1: a table is present */
	fp[10] = checksum(fp, 16);
	return 16 + table_len;
}

int boot_linux_load(uint8_t *ram, uint64_t ram_size, const struct boot_linux_image *img,
		    struct boot_linux_entry *entry, char *why, size_t why_len)
{
#define FAIL(e, ...) do { if (why_len) snprintf(why, why_len, __VA_ARGS__); return (e); } while (0)
	const uint8_t *k = img->kernel;
	struct bz_header h;
	if (!bz_header_read(k, img->kernel_len, &h))
		FAIL(-ENOEXEC, "the kernel is not a bzImage (no HdrS header)");
	if (h.version < 0x206)
		FAIL(-ENOEXEC, "the kernel speaks boot protocol %u.%02u; 2.06 or later is needed",
		     h.version >> 8, h.version & 0xff);
	if (!(h.loadflags & BZ_LOADED_HIGH))
		FAIL(-ENOEXEC, "the kernel is a zImage (not loaded high); a bzImage is needed");
	if (h.setup_len >= img->kernel_len)
		FAIL(-ENOEXEC, "the kernel image is truncated");
	size_t pm_len = img->kernel_len - h.setup_len;
	if (ram_size < (64u << 20) || BOOT_KERNEL_GPA + pm_len > ram_size)
		FAIL(-E2BIG, "the kernel does not fit in %llu MiB of guest memory",
		     (unsigned long long)(ram_size >> 20));
	size_t cmd_len = strlen(img->cmdline ? img->cmdline : "");
	if (cmd_len >= BOOT_CMDLINE_MAX || (h.cmdline_max && cmd_len > h.cmdline_max))
		FAIL(-E2BIG, "the kernel command line is too long (%zu bytes)", cmd_len);

	memset(ram, 0, 0x100000);            /* low memory: BDA, boot data, BIOS area */
	uint8_t *bp = ram + BOOT_PARAMS_GPA;
	memset(bp, 0, BZ_BOOT_PARAMS_SIZE);
	bz_zero_page(bp, k, BOOT_KERNEL_GPA, BOOT_CMDLINE_GPA);
	memcpy(ram + BOOT_CMDLINE_GPA, img->cmdline ? img->cmdline : "", cmd_len + 1);
	memcpy(ram + BOOT_KERNEL_GPA, k + h.setup_len, pm_len);

	uint32_t initrd_gpa = 0;
	if (img->initrd && img->initrd_len) {
		uint64_t at = bz_initrd_gpa(&h, ram_size, img->initrd_len);
		if (at < BOOT_KERNEL_GPA + pm_len + (16u << 20))
			FAIL(-E2BIG, "the initrd (%zu KiB) does not fit in guest memory above the kernel",
			     img->initrd_len >> 10);
		memcpy(ram + at, img->initrd, img->initrd_len);
		initrd_gpa = (uint32_t)at;
		bz_set_initrd(bp, initrd_gpa, (uint32_t)img->initrd_len);
	}

	/* e820 (the ACPI "address range descriptor" types): low RAM up to the
	 * EBDA, the EBDA and BIOS area reserved, RAM from 1 MiB. */
	bz_e820_add(bp, 0, 0x9fc00, BZ_E820_RAM);
	bz_e820_add(bp, 0x9fc00, 0x400, BZ_E820_RESERVED);
	bz_e820_add(bp, 0xf0000, 0x10000, BZ_E820_RESERVED);
	bz_e820_add(bp, 0x100000, ram_size - 0x100000, BZ_E820_RAM);

	/* BIOS data area: base memory size in KiB at 0x413 (639 KiB). */
	put16(ram + 0x413, 639);
	write_mptable(ram + BOOT_MPTABLE_GPA, BOOT_MPTABLE_GPA, img);

	/* A GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18), flat 4 GiB (Intel SDM
	 * vol. 3 §3.4.5 descriptor format). */
	uint8_t *gdt = ram + BOOT_GDT_GPA;
	put64(gdt + 0x10, 0x00cf9b000000ffffull);
	put64(gdt + 0x18, 0x00cf93000000ffffull);

	entry->eip = BOOT_KERNEL_GPA;
	entry->esi = BOOT_PARAMS_GPA;
	entry->initrd_gpa = initrd_gpa;
	return 0;
#undef FAIL
}

int boot_linux_read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return -EINVAL;
	}
	uint8_t *b = malloc((size_t)st.st_size);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			free(b);
			close(fd);
			return err;
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}
