/*
 * lapic.c — local APIC (Intel SDM vol. 3A ch. 11).  Register offsets are the
 * xAPIC MMIO offsets (table 11-1); the x2APIC MSR is 0x800 + offset/16
 * (table 11-6).
 */
#include "baremetal/lapic.h"
#include "baremetal/cpu.h"
#include "baremetal/idt.h"
#include "port.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_ADDR_MASK 0xffffff000ull

#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define MSR_X2APIC_SELF_IPI 0x83f

#define SVR_ENABLE (1u << 8)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_SHORTHAND_SELF (1u << 18)

static uint64_t base;
static bool x2;

static uint32_t rd(uint32_t off)
{
	if (x2)
		return (uint32_t)rdmsr(0x800 + (off >> 4));
	return *(volatile uint32_t *)(uintptr_t)(base + off);
}

static void wr(uint32_t off, uint32_t v)
{
	if (x2)
		wrmsr(0x800 + (off >> 4), v);
	else
		*(volatile uint32_t *)(uintptr_t)(base + off) = v;
}

int lapic_init(bool want_x2apic)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[3] & (1u << 9))) /* CPUID.1:EDX[9] APIC */
		return -PORT_ENODEV;
	uint64_t msr = rdmsr(MSR_APIC_BASE);
	base = msr & APIC_BASE_ADDR_MASK;
	msr |= APIC_BASE_EN;
	if (want_x2apic && (r[2] & (1u << 21)))
		msr |= APIC_BASE_EXTD;
	wrmsr(MSR_APIC_BASE, msr);
	x2 = (rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD) != 0;
	wr(LAPIC_TPR, 0);
	wr(LAPIC_SVR, SVR_ENABLE | IDT_VEC_SPURIOUS);
	return 0;
}

bool lapic_x2apic(void) { return x2; }
uint64_t lapic_base(void) { return base; }

uint32_t lapic_id(void)
{
	uint32_t id = rd(LAPIC_ID);
	return x2 ? id : id >> 24;
}

void lapic_eoi(void) { wr(LAPIC_EOI, 0); }

void lapic_self_ipi(uint8_t vector)
{
	if (x2) {
		wrmsr(MSR_X2APIC_SELF_IPI, vector);
		return;
	}
	wr(LAPIC_ICR_HI, 0);
	wr(LAPIC_ICR_LO, ICR_SHORTHAND_SELF | ICR_LEVEL_ASSERT | vector);
	for (unsigned spins = 0; (rd(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING) && spins < 1000000; spins++)
		cpu_pause();
}
