/*
 * vlapic.h — a virtual local APIC in xAPIC mode for the bare-metal core's
 * guest (Intel SDM Vol. 3A ch. 11 "Advanced Programmable Interrupt
 * Controller"): the 4 KiB register page as an MMIO trap, IRR/ISR with
 * priorities, EOI, self-IPIs through the ICR, and the timer in TSC-deadline
 * mode (IA32_TSC_DEADLINE, §11.5.4.1).  Not modelled: x2APIC, the one-shot
 * and periodic count-down modes (the current count reads 0), LINT0/1, NMI,
 * IPIs to other CPUs.  Interrupts reach the guest through the core's
 * pending-interrupt injection (vlapic_deliver).
 */
#ifndef VFS_VLAPIC_H
#define VFS_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm_glue/core/core_vm.h"

#define VLAPIC_GPA 0xfee00000u
#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u

struct vlapic {
	uint32_t reg[64];          /* the page's 16-byte registers 0x000-0x3f0, as written */
	uint32_t irr[8], isr[8];   /* 256 vectors each */
	uint64_t apic_base;        /* IA32_APIC_BASE as the guest sees it */
	uint64_t deadline;         /* IA32_TSC_DEADLINE, 0: disarmed */
	uint32_t timer_fired, eois, self_ipis, delivered;
};

void vlapic_init(struct vlapic *a);
/* The MMIO trap's ops (ctx = the vlapic). */
extern const struct core_mmio_ops vlapic_mmio_ops;
/* IA32_APIC_BASE / IA32_TSC_DEADLINE: 0, or -PORT_ENOENT for another MSR,
 * -PORT_EINVAL for a value the model refuses (#GP). */
int vlapic_rdmsr(struct vlapic *a, uint32_t msr, uint64_t *val);
int vlapic_wrmsr(struct vlapic *a, uint32_t msr, uint64_t val);
/* Raise `vector` in the IRR (an edge-triggered interrupt). */
void vlapic_raise(struct vlapic *a, uint8_t vector);
/* The deadline passed (tsc >= deadline, timer unmasked): its vector pending. */
void vlapic_tick(struct vlapic *a, uint64_t tsc);
/* Hand the highest deliverable IRR vector to the core's injection when it
 * has none pending (it moves to the ISR).  true when one was handed over. */
bool vlapic_deliver(struct vlapic *a, struct core_vcpu *v);
/* Something is deliverable now (for a HLT wait). */
bool vlapic_has_irq(const struct vlapic *a);

#endif
