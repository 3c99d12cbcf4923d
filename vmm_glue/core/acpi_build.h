/*
 * acpi_build.h — the minimal ACPI description a Linux guest of the
 * bare-metal core boots with (ACPI 6.5): RSDP -> XSDT -> FADT (hardware-
 * reduced: no PM timer, no SCI, no legacy PIC/PIT/RTC/8042; a sleep control
 * register for S5 and a reset register, both I/O ports the VMM traps) ->
 * DSDT (just \_S5), and a MADT with one processor local APIC and no I/O
 * APIC.  Freestanding: written into the host's view of guest memory.
 */
#ifndef VFS_ACPI_BUILD_H
#define VFS_ACPI_BUILD_H

#include <stdint.h>

struct acpi_build {
	uint32_t lapic_gpa;       /* MADT Local Interrupt Controller Address */
	uint16_t sleep_ctl_port;  /* FADT SLEEP_CONTROL_REG (8-bit I/O); status at +1 */
	uint16_t reset_port;      /* FADT RESET_REG (8-bit I/O) */
	uint8_t reset_value;
};

/* The S5 sleep type \_S5 gives (what the guest writes as SLP_TYP). */
#define ACPI_BUILD_S5_TYPE 5
/* Sleep control register (ACPI 6.5 §4.8.3.7): SLP_TYP bits 4:2, SLP_EN bit 5. */
#define ACPI_SLEEP_SLP_EN 0x20u
#define ACPI_SLEEP_TYP(v) (((v) >> 2) & 7u)

/* Write the tables at guest-physical `gpa` (16-byte aligned, in the
 * 0xe0000-0xfffff BIOS area so a scan finds the RSDP too); `at` is the
 * host's view of that address, `room` its size.  Returns the bytes used
 * (the RSDP is first, at gpa), or -PORT_E2BIG. */
int acpi_build(uint8_t *at, uint32_t gpa, uint32_t room, const struct acpi_build *cfg);

#endif
