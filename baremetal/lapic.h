/*
 * lapic.h — the local APIC of the boot CPU, in xAPIC (MMIO at
 * IA32_APIC_BASE) or x2APIC (MSR) mode (Intel SDM vol. 3A ch. 11).
 */
#ifndef VFS_BM_LAPIC_H
#define VFS_BM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Enable the LAPIC (spurious vector 0xff, TPR 0); with want_x2apic and a
 * CPU that has it (CPUID.1:ECX[21]), switch to x2APIC mode.  0 or -PORT_E*. */
int lapic_init(bool want_x2apic);
bool lapic_x2apic(void);
/* The APIC ID: 8 bits in xAPIC mode, 32 bits in x2APIC mode.  This is the
 * destination an MSI (or an IRTE) must name to reach this CPU. */
uint32_t lapic_id(void);
void lapic_eoi(void);
/* A fixed, edge interrupt on `vector` to this CPU. */
void lapic_self_ipi(uint8_t vector);
/* The physical base of the xAPIC MMIO page (the MSI address window is
 * 0xfee00000 regardless). */
uint64_t lapic_base(void);

#endif
