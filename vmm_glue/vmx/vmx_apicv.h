/*
 * vmx_apicv.h — APIC virtualization and posted interrupts, the pure part:
 * which controls to set from the capability MSRs, the VM-entry checks
 * those controls must pass (SDM Vol. 3C §26.2.1.1), which x2APIC MSRs the
 * MSR bitmap must let through, and the posted-interrupt harvest done by
 * software (§29.6's steps, PIR -> VIRR and RVI).  No instruction is executed
 * here, so the host unit tests (tests/unit/test_vmx_apicv.c) cover it all;
 * vmx.c applies it to a VMCS (vmx_vcpu_enable_apicv, vmx_vcpu_post_irq).
 *
 * The virtual-APIC page is the guest's APIC as the CPU virtualizes it
 * (§29.1.1); the posted-interrupt descriptor is irq_remap/posted.h's
 * struct pi_desc, the same one a posted IRTE targets (VT-d 9.12).
 */
#ifndef VFS_VMX_APICV_H
#define VFS_VMX_APICV_H

#include <stdbool.h>
#include <stdint.h>

#include "irq_remap/posted.h"
#include "vmm_glue/vmx/vmx_caps.h"

/* Control fields, in and out of vmx_apicv_select(). */
struct vmx_apicv_ctls {
	uint32_t pin, proc, proc2, exit;
};

/* Add APIC virtualization to a vCPU's controls `c` (as the core chose them
 * without it): use TPR shadow, secondary controls, virtualize x2APIC mode,
 * virtual-interrupt delivery and external-interrupt exiting are required;
 * APIC-register virtualization is taken when allowed; CR8-load/store
 * exiting and virtualize APIC accesses are cleared (unless the CPU forces
 * them to 1, which the checks below then reject).  With want_posted, "process
 * posted interrupts" is set when the pin-based MSR allows it and "acknowledge
 * interrupt on exit" can be 1; *posted says whether it was.
 * 0, or -PORT_ENOTSUP with *missing naming the first control the CPU lacks
 * (c is then unchanged). */
int vmx_apicv_select(const struct vmx_caps *caps, bool want_posted, struct vmx_apicv_ctls *c,
		     bool *posted, const char **missing);

/* Everything §26.2.1.1 checks about these controls, for a VMCS about to be
 * entered.  Addresses are physical; maxphyaddr is CPUID.80000008H:EAX[7:0].
 * Returns NULL when the entry would pass these checks, else the rule broken
 * (one sentence, for the log). */
struct vmx_apicv_vmcs {
	struct vmx_apicv_ctls c;
	uint64_t vapic_pa, apic_access_pa, pi_desc_pa;
	uint32_t tpr_threshold;
	uint8_t vtpr;            /* byte 0x80 of the virtual-APIC page */
	uint16_t pi_nv;          /* the 16-bit notification-vector field */
	unsigned maxphyaddr;
};
const char *vmx_apicv_check(const struct vmx_apicv_vmcs *s);

/* Does MSR `msr` (0x800-0x8ff) have to exit for an APIC-virtualized guest?
 * §29.5: with "virtualize x2APIC mode" a WRMSR to 0x808 (TPR), and with
 * virtual-interrupt delivery to 0x80B (EOI) and 0x83F (self-IPI), is
 * virtualized; RDMSR of 0x808, and with APIC-register virtualization of
 * every register §29.5 lists, reads the virtual-APIC page.  Every other
 * x2APIC access is not virtualized — it would reach the host's real x2APIC
 * — so it must exit (the VMM's rdmsr/wrmsr; by default the guest gets
 * #GP). */
bool vmx_apicv_msr_exits(uint32_t msr, bool write, bool apic_reg_virt);

/* The virtual-APIC page's 256-bit registers (VISR, VTMR, VIRR at
 * VAPIC_ISR/VAPIC_TMR/VAPIC_IRR): vector v is bit v % 32 of the dword at
 * base + 0x10 * (v / 32) (§29.1.1). */
bool vmx_vapic_test(const void *page, unsigned base, uint8_t vector);
void vmx_vapic_set(void *page, unsigned base, uint8_t vector);
/* The highest vector set in the register at base, or -1 if none. */
int vmx_vapic_highest(const void *page, unsigned base);

/* Guest interrupt status (§24.4.2): RVI bits 7:0, SVI bits 15:8. */
#define VMX_RVI(status) ((uint8_t)(status))
#define VMX_SVI(status) ((uint8_t)((status) >> 8))

/* What one harvest did. */
struct vmx_pir_harvest {
	bool on;             /* ON was set (it is now clear) */
	unsigned taken;      /* vectors moved from PIR into VIRR */
	unsigned dropped;    /* vectors 0-15 found in PIR: cleared, not moved */
	int highest;         /* the highest vector taken, or -1 */
};

/* Posted-interrupt processing done by software (the steps of §29.6 that
 * follow the notification): clear ON, move PIR into VIRR (each PIR bit is
 * read and cleared atomically, pi_harvest), and raise RVI in *intr_status
 * to the highest vector moved when that is above it.  Vectors 0-15 are
 * dropped: they are illegal APIC vectors (Vol. 3A §10.5.3) and virtual-
 * interrupt delivery could never deliver them (§29.2.1 delivers only when
 * RVI[7:4] > VPPR[7:4]), so in VIRR they would only pin RVI.  The caller
 * writes *intr_status back to the VMCS before VM entry; the CPU then
 * evaluates and delivers (§29.2.1) with no VM exit. */
void vmx_apicv_harvest(struct pi_desc *pd, void *vapic_page, uint16_t *intr_status,
		       struct vmx_pir_harvest *out);

#endif /* VFS_VMX_APICV_H */
