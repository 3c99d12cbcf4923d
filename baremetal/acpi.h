/*
 * acpi.h — ACPI tables (ACPI 6.5 ch. 5.2): the RSDP, the RSDT or XSDT, and
 * any table by its signature, checksums verified.  Tables are used in place
 * (identity map): a returned pointer is the table's physical address.
 */
#ifndef VFS_BM_ACPI_H
#define VFS_BM_ACPI_H

#include <stdint.h>

/* The common System Description Table header (ACPI 6.5 5.2.6, 36 bytes). */
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/* Validate the RSDP at rsdp_pa (0: search the BIOS area 0xe0000-0xfffff)
 * and its RSDT/XSDT.  0, -PORT_ENOENT (no RSDP), -PORT_EIO (bad checksum). */
int acpi_init(uint64_t rsdp_pa);

/* The index'th table with this signature ("DMAR", "MCFG", "APIC"...) whose
 * checksum is right, or NULL. */
const struct acpi_header *acpi_find(const char sig[4], unsigned index);

/* Sum of the bytes of [p, p+len) modulo 256 (0 for a valid table). */
uint8_t acpi_checksum(const void *p, uint32_t len);

/* MCFG (PCI Firmware Specification 3.2 table 4-3): the ECAM window for a
 * PCI segment.  0 or -PORT_ENOENT. */
int acpi_mcfg(uint16_t segment, uint64_t *ecam_base, uint8_t *bus_start, uint8_t *bus_end);

#endif
