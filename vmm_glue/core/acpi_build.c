/* acpi_build.c — RSDP, XSDT, FADT, DSDT, MADT (ACPI 6.5 §5.2); see acpi_build.h. */
#include "vmm_glue/core/acpi_build.h"

#include "port.h"

#define HDR_LEN 36        /* §5.2.6 System Description Table Header */
#define FADT_LEN 276      /* §5.2.9 Table 5.9, revision 6 */
#define FADT_HW_REDUCED (1u << 20)   /* Flags: HW_REDUCED_ACPI */
#define FADT_RESET_SUP (1u << 10)    /* Flags: RESET_REG_SUP */
#define FADT_PWR_BUTTON (1u << 4)    /* Flags: no fixed power button */
#define FADT_SLP_BUTTON (1u << 5)    /* Flags: no fixed sleep button */
#define BOOT_NO_VGA (1u << 2)        /* IAPC_BOOT_ARCH (§5.2.9.3): VGA Not Present */
#define BOOT_NO_CMOS (1u << 5)       /* IAPC_BOOT_ARCH: CMOS RTC Not Present */
#define GAS_IO 1                     /* §5.2.3.2 address space: System I/O */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t sum(const uint8_t *p, unsigned len)
{
	uint8_t s = 0;
	for (unsigned i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static void copy(uint8_t *d, const char *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		d[i] = (uint8_t)s[i];
}

/* §5.2.6: signature, length, revision, checksum (last), OEM IDs, creator. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	copy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	copy(t + 10, "VFSTCK", 6);
	copy(t + 16, "BMCORE  ", 8);
	put32(t + 24, 1);
	copy(t + 28, "VFST", 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0x100 - sum(t, len));
}

/* §5.2.3.2 Generic Address Structure: an 8-bit I/O port. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_IO;
	g[1] = 8;    /* register bit width */
	g[2] = 0;    /* bit offset */
	g[3] = 1;    /* access size: byte */
	put64(g + 4, port);
}

/* DSDT body: Name (_S5, Package (4) { 5, 0, 0, 0 }) (§19.6.90, §7.4.2 \_S5;
 * AML §20.2.5.1 NameOp 0x08, PackageOp 0x12 PkgLength NumElements,
 * BytePrefix 0x0A, ZeroOp 0x00). */
static const uint8_t s5_aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, ACPI_BUILD_S5_TYPE, 0x00, 0x00, 0x00 };

int acpi_build(uint8_t *at, uint32_t gpa, uint32_t room, const struct acpi_build *cfg)
{
	const uint32_t rsdp = 0, xsdt = 48, fadt = xsdt + HDR_LEN + 16, dsdt = fadt + FADT_LEN,
		       madt = dsdt + HDR_LEN + (uint32_t)sizeof(s5_aml), madt_len = HDR_LEN + 8 + 8, end = madt + madt_len;
	if (room < end)
		return -PORT_E2BIG;
	__builtin_memset(at, 0, end);

	/* XSDT (§5.2.8): 64-bit pointers to the FADT and the MADT. */
	uint8_t *x = at + xsdt;
	header(x, "XSDT", HDR_LEN + 16, 1);
	put64(x + HDR_LEN, gpa + fadt);
	put64(x + HDR_LEN + 8, gpa + madt);
	finish(x, HDR_LEN + 16);

	/* FADT (§5.2.9, Table 5.9 offsets). */
	uint8_t *f = at + fadt;
	header(f, "FACP", FADT_LEN, 6);
	put32(f + 40, gpa + dsdt);                  /* DSDT */
	put16(f + 109, BOOT_NO_VGA | BOOT_NO_CMOS); /* IAPC_BOOT_ARCH: no 8042, no VGA, no RTC */
	put32(f + 112, FADT_HW_REDUCED | FADT_RESET_SUP | FADT_PWR_BUTTON | FADT_SLP_BUTTON);
	gas_io8(f + 116, cfg->reset_port);         /* RESET_REG */
	f[128] = cfg->reset_value;                 /* RESET_VALUE */
	f[131] = 5;                                /* FADT minor version (6.5) */
	put64(f + 140, gpa + dsdt);                 /* X_DSDT */
	gas_io8(f + 244, cfg->sleep_ctl_port);     /* SLEEP_CONTROL_REG */
	gas_io8(f + 256, (uint16_t)(cfg->sleep_ctl_port + 1)); /* SLEEP_STATUS_REG */
	finish(f, FADT_LEN);

	uint8_t *d = at + dsdt;
	header(d, "DSDT", HDR_LEN + sizeof(s5_aml), 2);
	__builtin_memcpy(d + HDR_LEN, s5_aml, sizeof(s5_aml));
	finish(d, HDR_LEN + sizeof(s5_aml));

	/* MADT (§5.2.12): the local APIC address, flags 0 (no 8259s), one
	 * Processor Local APIC structure (§5.2.12.2: type 0, length 8, UID,
	 * APIC ID, flags bit 0 Enabled). */
	uint8_t *m = at + madt;
	header(m, "APIC", madt_len, 5);
	put32(m + HDR_LEN, cfg->lapic_gpa);
	put32(m + HDR_LEN + 4, 0);
	uint8_t *lapic = m + HDR_LEN + 8;
	lapic[0] = 0;
	lapic[1] = 8;
	lapic[2] = 0;   /* ACPI processor UID */
	lapic[3] = 0;   /* APIC ID */
	put32(lapic + 4, 1);
	finish(m, madt_len);

	/* RSDP (§5.2.5.3): revision 2, XSDT; checksum over the first 20
	 * bytes, extended checksum over all 36. */
	uint8_t *r = at + rsdp;
	copy(r, "RSD PTR ", 8);
	copy(r + 9, "VFSTCK", 6);
	r[15] = 2;
	put32(r + 20, 36);
	put64(r + 24, gpa + xsdt);
	r[8] = (uint8_t)(0x100 - sum(r, 20));
	r[32] = (uint8_t)(0x100 - sum(r, 36));
	return (int)end;
}
