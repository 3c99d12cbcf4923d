/* vmx_apicv.c — APIC-virtualization controls, their checks and the
 * software posted-interrupt harvest; see vmx_apicv.h.  Section numbers:
 * Intel SDM Vol. 3C (vmcs_fields.h names the edition). */
#include "vmm_glue/vmx/vmx_apicv.h"

#include "port.h"
#include "vmm_glue/vmx/vmcs_fields.h"

int vmx_apicv_select(const struct vmx_caps *caps, bool want_posted, struct vmx_apicv_ctls *c,
		     bool *posted, const char **missing)
{
	static const struct {
		uint32_t cap;
		const char *name;
	} need[] = {
		{ VMX_APICV_CAP_EXT_INTR_EXIT, "external-interrupt exiting (pin-based bit 0)" },
		{ VMX_APICV_CAP_TPR_SHADOW, "use TPR shadow (primary processor-based bit 21)" },
		{ VMX_APICV_CAP_SECONDARY, "activate secondary controls (primary processor-based bit 31)" },
		{ VMX_APICV_CAP_VIRT_X2APIC, "virtualize x2APIC mode (secondary bit 4)" },
		{ VMX_APICV_CAP_VINTR_DELIVERY, "virtual-interrupt delivery (secondary bit 9)" },
	};
	uint32_t f = vmx_caps_apicv(caps);
	struct vmx_apicv_ctls n = *c;

	for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(f & need[i].cap)) {
			if (missing)
				*missing = need[i].name;
			return -PORT_ENOTSUP;
		}
	}
	if (missing)
		*missing = NULL;

	n.pin |= PIN_EXT_INTR_EXITING;               /* §26.2.1.1: required by VID */
	n.proc |= PROC_TPR_SHADOW | PROC_SECONDARY_CTLS;
	/* CR8 accesses go to VTPR (§29.3) unless these exit; a bit the CPU
	 * forces to 1 (allowed-0 clear) stays. */
	n.proc &= ~((PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING) & ~(uint32_t)caps->proc);
	n.proc2 |= PROC2_VIRT_X2APIC | PROC2_VIRT_INTR_DELIVERY;
	if (f & VMX_APICV_CAP_APIC_REG_VIRT)
		n.proc2 |= PROC2_APIC_REG_VIRT;
	/* §26.2.1.1: virtualize x2APIC mode excludes virtualize APIC accesses. */
	n.proc2 &= ~(PROC2_VIRT_APIC_ACCESS & ~(uint32_t)caps->proc2);

	bool pi = want_posted && (f & VMX_APICV_CAP_POSTED) && (f & VMX_APICV_CAP_ACK_ON_EXIT);
	if (pi) {
		n.pin |= PIN_POSTED_INTR;
		n.exit |= EXIT_ACK_INTR_ON_EXIT;     /* §26.2.1.1: required by posted */
	} else {
		n.pin &= ~(PIN_POSTED_INTR & ~(uint32_t)caps->pin);
	}
	if (posted)
		*posted = pi;
	*c = n;
	return 0;
}

static bool pa_ok(uint64_t pa, uint64_t align, unsigned maxphyaddr)
{
	return !(pa & (align - 1)) && (maxphyaddr >= 64 || !(pa >> maxphyaddr));
}

const char *vmx_apicv_check(const struct vmx_apicv_vmcs *s)
{
	uint32_t pin = s->c.pin, proc = s->c.proc, exit = s->c.exit;
	/* Secondary controls count only when activated (§24.6.2). */
	uint32_t proc2 = (proc & PROC_SECONDARY_CTLS) ? s->c.proc2 : 0;
	bool tpr_shadow = proc & PROC_TPR_SHADOW;
	bool vid = proc2 & PROC2_VIRT_INTR_DELIVERY;

	/* §26.2.1.1, in the order the SDM lists them. */
	if (tpr_shadow && !pa_ok(s->vapic_pa, 4096, s->maxphyaddr))
		return "use TPR shadow: the virtual-APIC address must be 4 KiB aligned and within MAXPHYADDR";
	if (tpr_shadow && !vid && (s->tpr_threshold & ~0xfu))
		return "use TPR shadow without virtual-interrupt delivery: TPR threshold bits 31:4 must be 0";
	if (tpr_shadow && !vid && !(proc2 & PROC2_VIRT_APIC_ACCESS) &&
	    (s->tpr_threshold & 0xfu) > (s->vtpr >> 4u))
		return "use TPR shadow without virtual-interrupt delivery or APIC-access virtualization: "
		       "TPR threshold bits 3:0 must not exceed VTPR bits 7:4";
	if (!tpr_shadow && (proc2 & (PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)))
		return "virtualize x2APIC mode, APIC-register virtualization and virtual-interrupt delivery "
		       "need use TPR shadow";
	if ((proc2 & PROC2_VIRT_X2APIC) && (proc2 & PROC2_VIRT_APIC_ACCESS))
		return "virtualize x2APIC mode and virtualize APIC accesses exclude each other";
	if (vid && !(pin & PIN_EXT_INTR_EXITING))
		return "virtual-interrupt delivery needs external-interrupt exiting";
	if ((pin & PIN_POSTED_INTR) && !vid)
		return "process posted interrupts needs virtual-interrupt delivery";
	if ((pin & PIN_POSTED_INTR) && !(exit & EXIT_ACK_INTR_ON_EXIT))
		return "process posted interrupts needs acknowledge interrupt on exit";
	if ((pin & PIN_POSTED_INTR) && (s->pi_nv & 0xff00u))
		return "process posted interrupts: notification vector bits 15:8 must be 0";
	if ((pin & PIN_POSTED_INTR) && !pa_ok(s->pi_desc_pa, 64, s->maxphyaddr))
		return "process posted interrupts: the descriptor address must be 64-byte aligned and within MAXPHYADDR";
	if ((proc2 & PROC2_VIRT_APIC_ACCESS) && !pa_ok(s->apic_access_pa, 4096, s->maxphyaddr))
		return "virtualize APIC accesses: the APIC-access address must be 4 KiB aligned and within MAXPHYADDR";
	return NULL;
}

bool vmx_apicv_msr_exits(uint32_t msr, bool write, bool apic_reg_virt)
{
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return true;   /* not this range's business: the caller's choice */
	if (write)
		return !(msr == MSR_X2APIC_TPR || msr == MSR_X2APIC_EOI || msr == MSR_X2APIC_SELF_IPI);
	if (msr == MSR_X2APIC_TPR)
		return false;
	/* 839H, the timer's current count, is not kept in the virtual-APIC
	 * page: a read there must reach the VMM. */
	return !apic_reg_virt || msr == 0x839u;
}

/* No libgcc in the image: count bits by hand. */
static unsigned popcount64(uint64_t w)
{
	unsigned n = 0;
	for (; w; w &= w - 1)
		n++;
	return n;
}

static volatile uint32_t *vapic_reg(const void *page, unsigned base, uint8_t vector)
{
	return (volatile uint32_t *)((uintptr_t)page + base + 0x10u * (vector / 32u));
}

bool vmx_vapic_test(const void *page, unsigned base, uint8_t vector)
{
	return (*vapic_reg(page, base, vector) >> (vector % 32u)) & 1u;
}

void vmx_vapic_set(void *page, unsigned base, uint8_t vector)
{
	*vapic_reg(page, base, vector) |= 1u << (vector % 32u);
}

int vmx_vapic_highest(const void *page, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = *vapic_reg(page, base, (uint8_t)(32 * i));
		if (w)
			return 32 * i + 31 - __builtin_clz(w);
	}
	return -1;
}

void vmx_apicv_harvest(struct pi_desc *pd, void *vapic_page, uint16_t *intr_status,
		       struct vmx_pir_harvest *out)
{
	uint64_t pending[4] = { 0, 0, 0, 0 };
	struct vmx_pir_harvest h = { .highest = -1 };

	/* §29.6: ON is cleared first, then PIR is moved; a vector posted in
	 * between sets ON again and waits for the next harvest. */
	h.on = pi_test_and_clear_on(pd);
	pi_harvest(pd, pending);
	h.dropped = popcount64(pending[0] & 0xffffull);
	pending[0] &= ~0xffffull;
	for (unsigned i = 0; i < 4; i++) {
		if (!pending[i])
			continue;
		h.taken += popcount64(pending[i]);
		h.highest = (int)(64 * i + 63 - (unsigned)__builtin_clzll(pending[i]));
		*vapic_reg(vapic_page, VAPIC_IRR, (uint8_t)(64 * i)) |= (uint32_t)pending[i];
		*vapic_reg(vapic_page, VAPIC_IRR, (uint8_t)(64 * i + 32)) |= (uint32_t)(pending[i] >> 32);
	}
	/* RVI := max(RVI, highest vector posted). */
	if (h.highest > (int)VMX_RVI(*intr_status))
		*intr_status = (uint16_t)((*intr_status & 0xff00u) | (unsigned)h.highest);
	if (out)
		*out = h;
}
