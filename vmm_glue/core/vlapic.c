/* vlapic.c — a virtual xAPIC with a TSC-deadline timer; see vlapic.h. */
#include "vmm_glue/core/vlapic.h"

#include "port.h"

/* Register offsets (SDM Vol. 3A Table 11-1). */
#define R_ID 0x020
#define R_VER 0x030
#define R_TPR 0x080
#define R_PPR 0x0a0
#define R_EOI 0x0b0
#define R_LDR 0x0d0
#define R_DFR 0x0e0
#define R_SVR 0x0f0
#define R_ISR 0x100
#define R_TMR 0x180
#define R_IRR 0x200
#define R_ESR 0x280
#define R_ICR_LO 0x300
#define R_LVT_TIMER 0x320
#define R_LVT_FIRST 0x2f0   /* CMCI; timer, thermal, perf, LINT0, LINT1, error to 0x370 */
#define R_LVT_LAST 0x370
#define R_TMCCT 0x390
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3u)  /* 2: TSC-deadline (§11.5.4.1) */
#define APIC_VERSION 0x00050014u             /* version 0x14, max LVT entry 5 */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

void vlapic_init(struct vlapic *a)
{
	*a = (struct vlapic){ 0 };
	a->apic_base = VLAPIC_GPA | APIC_BASE_EN | APIC_BASE_BSP;
	a->reg[R_DFR >> 4] = 0xffffffffu;   /* §11.12.10.1: flat model at reset */
	a->reg[R_SVR >> 4] = 0xff;          /* §11.9: reset value, software-disabled */
	for (unsigned r = R_LVT_FIRST; r <= R_LVT_LAST; r += 16)
		a->reg[r >> 4] = LVT_MASKED;
}

static int highest(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--)
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	return -1;
}

static void set_bit(uint32_t *bits, unsigned v, bool on)
{
	if (on)
		bits[v / 32] |= 1u << (v % 32);
	else
		bits[v / 32] &= ~(1u << (v % 32));
}

/* §11.8.3.1: PPR is the higher of TPR and the in-service class. */
static unsigned ppr(const struct vlapic *a)
{
	unsigned tpr = a->reg[R_TPR >> 4] & 0xff;
	int isr = highest(a->isr);
	unsigned isrv = isr < 0 ? 0 : (unsigned)isr & 0xf0;
	return (tpr & 0xf0) >= isrv ? tpr : isrv;
}

static int deliverable(const struct vlapic *a)
{
	int v = highest(a->irr);
	if (v < 0 || !(a->reg[R_SVR >> 4] & 0x100))   /* SVR bit 8: APIC software-enabled */
		return -1;
	return ((unsigned)v & 0xf0) > (ppr(a) & 0xf0) ? v : -1;
}

bool vlapic_has_irq(const struct vlapic *a)
{
	return deliverable(a) >= 0;
}

bool vlapic_deliver(struct vlapic *a, struct core_vcpu *v)
{
	if (v->pending_irq >= 0)
		return false;
	int vec = deliverable(a);
	if (vec < 0)
		return false;
	set_bit(a->irr, (unsigned)vec, false);
	set_bit(a->isr, (unsigned)vec, true);
	a->delivered++;
	core_vcpu_inject_irq(v, (uint8_t)vec);
	return true;
}

void vlapic_raise(struct vlapic *a, uint8_t vector)
{
	if (vector >= 16)   /* §11.5.2: vectors 0-15 are illegal */
		set_bit(a->irr, vector, true);
}

void vlapic_tick(struct vlapic *a, uint64_t tsc)
{
	uint32_t lvt = a->reg[R_LVT_TIMER >> 4];
	if (!a->deadline || tsc < a->deadline || LVT_TIMER_MODE(lvt) != 2)
		return;
	a->deadline = 0;   /* §11.5.4.1: the timer disarms once it fires */
	a->timer_fired++;
	if (!(lvt & LVT_MASKED))
		vlapic_raise(a, (uint8_t)lvt);
}

static int apic_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct vlapic *a = ctx;
	unsigned off = (unsigned)(gpa - VLAPIC_GPA);
	*val = 0;
	if (size != 4 || (off & 0xf))   /* §11.4.1: 32-bit aligned accesses only */
		return 0;
	unsigned r = off & 0xff0;
	if (r >= 0x400)
		return 0;
	if (r == R_VER)
		*val = APIC_VERSION;
	else if (r == R_PPR)
		*val = ppr(a);
	else if (r >= R_ISR && r < R_TMR)
		*val = a->isr[(r - R_ISR) >> 4];
	else if (r >= R_IRR && r < R_ESR)
		*val = a->irr[(r - R_IRR) >> 4];
	else if (r >= R_TMR && r < R_IRR)
		*val = 0;   /* every interrupt here is edge-triggered */
	else if (r == R_TMCCT || r == R_EOI)
		*val = 0;
	else
		*val = a->reg[r >> 4];
	return 0;
}

static int apic_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct vlapic *a = ctx;
	unsigned off = (unsigned)(gpa - VLAPIC_GPA);
	if (size != 4 || (off & 0xf) || off >= 0x400)
		return 0;
	uint32_t v = (uint32_t)val;
	switch (off) {
	case R_EOI: {   /* §11.8.5: clears the highest in-service vector */
		int isr = highest(a->isr);
		if (isr >= 0)
			set_bit(a->isr, (unsigned)isr, false);
		a->eois++;
		return 0;
	}
	case R_ID:
	case R_VER:
	case R_PPR:
	case R_TMCCT:
		return 0;   /* read-only here */
	case R_ESR:
		a->reg[R_ESR >> 4] = 0;
		return 0;
	case R_ICR_LO:
		/* §11.6.1: fixed delivery (bits 10:8 = 0) to self (shorthand 01b,
		 * or physical destination 0, the only CPU). */
		a->reg[off >> 4] = v & ~(1u << 12);
		if (((v >> 8) & 7u) == 0 && (((v >> 18) & 3u) == 1 ||
		    (((v >> 18) & 3u) == 0 && (a->reg[0x310 >> 4] >> 24) == 0) || ((v >> 18) & 3u) == 2)) {
			vlapic_raise(a, (uint8_t)v);
			a->self_ipis++;
		}
		return 0;
	default:
		if (off >= R_ISR && off < R_ESR)
			return 0;   /* ISR, TMR, IRR: read-only */
		if (off == R_LVT_TIMER && LVT_TIMER_MODE(v) != 2)
			a->deadline = 0;
		a->reg[off >> 4] = v;
		return 0;
	}
}

const struct core_mmio_ops vlapic_mmio_ops = { apic_read, apic_write, NULL };

int vlapic_rdmsr(struct vlapic *a, uint32_t msr, uint64_t *val)
{
	if (msr == MSR_APIC_BASE)
		*val = a->apic_base;
	else if (msr == MSR_TSC_DEADLINE)
		*val = a->deadline;
	else
		return -PORT_ENOENT;
	return 0;
}

int vlapic_wrmsr(struct vlapic *a, uint32_t msr, uint64_t val)
{
	if (msr == MSR_APIC_BASE) {
		/* §11.4.4: the base stays where the trap is; x2APIC (EXTD) is
		 * not offered (CPUID hides it): #GP. */
		if ((val & ~0xfffull) != VLAPIC_GPA || (val & APIC_BASE_EXTD))
			return -PORT_EINVAL;
		a->apic_base = (a->apic_base & ~APIC_BASE_EN) | (val & APIC_BASE_EN);
		return 0;
	}
	if (msr == MSR_TSC_DEADLINE) {
		/* §11.5.4.1: ignored unless the timer is in TSC-deadline mode. */
		if (LVT_TIMER_MODE(a->reg[R_LVT_TIMER >> 4]) == 2)
			a->deadline = val;
		return 0;
	}
	return -PORT_ENOENT;
}
