/*
 * acpi.c — RSDP (ACPI 6.5 5.2.5.3: signature "RSD PTR ", checksum over the
 * first 20 bytes, revision >= 2 adds the XSDT address at 24 and an extended
 * checksum over `length` at 20), RSDT (5.2.7, 32-bit entries) and XSDT
 * (5.2.8, 64-bit entries).
 */
#include <stdbool.h>

#include "baremetal/acpi.h"
#include "port.h"

#define RSDP_RSDT_ADDR 16
#define RSDP_LENGTH 20
#define RSDP_XSDT_ADDR 24
#define RSDP_V1_SIZE 20
#define HDR_SIZE 36

/* MCFG: header, 8 reserved bytes, then 16-byte allocation entries. */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_SIZE 16

static const struct acpi_header *root; /* the XSDT, else the RSDT */
static unsigned entry_size;

uint8_t acpi_checksum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

static uint64_t rd(const void *p, unsigned size)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static bool is_rsdp(const uint8_t *p)
{
	static const char sig[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
	for (int i = 0; i < 8; i++)
		if (p[i] != (uint8_t)sig[i])
			return false;
	return acpi_checksum(p, RSDP_V1_SIZE) == 0;
}

static bool table_ok(const struct acpi_header *h)
{
	return h && h->length >= HDR_SIZE && acpi_checksum(h, h->length) == 0;
}

int acpi_init(uint64_t rsdp_pa)
{
	if (!rsdp_pa)
		for (uint64_t pa = 0xe0000; pa < 0x100000; pa += 16)
			if (is_rsdp((const uint8_t *)(uintptr_t)pa)) {
				rsdp_pa = pa;
				break;
			}
	if (!rsdp_pa)
		return -PORT_ENOENT;
	const uint8_t *rsdp = (const uint8_t *)(uintptr_t)rsdp_pa;
	if (!is_rsdp(rsdp))
		return -PORT_EIO;
	uint8_t revision = rsdp[15];
	uint64_t xsdt = revision >= 2 ? rd(rsdp + RSDP_XSDT_ADDR, 8) : 0;
	if (xsdt && acpi_checksum(rsdp, (uint32_t)rd(rsdp + RSDP_LENGTH, 4)) == 0 &&
	    table_ok((const struct acpi_header *)(uintptr_t)xsdt)) {
		root = (const struct acpi_header *)(uintptr_t)xsdt;
		entry_size = 8;
		return 0;
	}
	root = (const struct acpi_header *)(uintptr_t)rd(rsdp + RSDP_RSDT_ADDR, 4);
	entry_size = 4;
	return table_ok(root) ? 0 : -PORT_EIO;
}

const struct acpi_header *acpi_find(const char sig[4], unsigned index)
{
	if (!root)
		return NULL;
	unsigned n = (root->length - HDR_SIZE) / entry_size;
	const uint8_t *entries = (const uint8_t *)root + HDR_SIZE;
	for (unsigned i = 0; i < n; i++) {
		const struct acpi_header *h =
			(const struct acpi_header *)(uintptr_t)rd(entries + i * entry_size, entry_size);
		if (!h || h->signature[0] != sig[0] || h->signature[1] != sig[1] || h->signature[2] != sig[2] ||
		    h->signature[3] != sig[3] || !table_ok(h))
			continue;
		if (index-- == 0)
			return h;
	}
	return NULL;
}

int acpi_mcfg(uint16_t segment, uint64_t *ecam_base, uint8_t *bus_start, uint8_t *bus_end)
{
	const struct acpi_header *m = acpi_find("MCFG", 0);
	if (!m)
		return -PORT_ENOENT;
	const uint8_t *p = (const uint8_t *)m;
	for (uint32_t off = MCFG_ENTRIES; off + MCFG_ENTRY_SIZE <= m->length; off += MCFG_ENTRY_SIZE) {
		if (rd(p + off + 8, 2) != segment)
			continue;
		*ecam_base = rd(p + off, 8);
		*bus_start = p[off + 10];
		*bus_end = p[off + 11];
		return 0;
	}
	return -PORT_ENOENT;
}
