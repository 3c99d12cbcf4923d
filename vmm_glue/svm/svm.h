/*
 * svm.h — the SVM backend of the bare-metal core (AMD APM Vol. 2 ch. 15):
 * VMCB, VMRUN, how to read an exit.  Everything else — the GPA map (in NPT
 * format), MMIO traps and their emulation, injection, the device models —
 * is the neutral core's (vmm_glue/core/core_vm.h).
 *
 * A TEST VEHICLE: real AMD machines pair SVM with AMD-Vi, not VT-d.  This
 * backend exists so QEMU TCG (which emulates SVM + nested paging but not
 * VMX) can run a real guest whose device traffic goes through our VT-d
 * tables and IRTEs (tests/svm/).  VMX stays the product path for Intel.
 *
 * Model as the VMX backend's: one svm_cpu per physical CPU (EFER.SVME,
 * host-save area), one svm_vm per guest, one svm_vcpu per guest CPU (its
 * VMCB).  Host interrupts are taken by the host's IDT after an INTR exit
 * (V_INTR_MASKING; the world switch in svm_entry.S), not acknowledged by
 * the exit: the VMM's IDT handler is where a device's host vector arrives.
 */
#ifndef VFS_SVM_H
#define VFS_SVM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/svm/vmcb.h"

struct svm_cpu {
	void *hsave;            /* VM_HSAVE_PA's page */
	void *host_vmcb;        /* VMSAVE/VMLOAD of the host's hidden state */
	bool on;
	bool nrips;             /* CPUID 8000_000Ah EDX[3] */
	bool gb_pages;          /* 1 GiB NPT leaves allowed */
	uint32_t nasid;
	uint32_t next_asid;
};

/* CPUID 8000_0001h ECX.SVM and 8000_000Ah EDX.NP, VM_CR.SVMDIS clear, then
 * EFER.SVME and VM_HSAVE_PA.  -PORT_ENODEV (no SVM or no NPT), -PORT_EPERM
 * (SVMDIS), -PORT_ENOMEM. */
int svm_cpu_on(struct svm_cpu *cpu);
void svm_cpu_off(struct svm_cpu *cpu);

struct svm_vcpu;

struct svm_vm {
	struct core_vm core;     /* NPT-format map, MMIO traps (first member) */
	struct svm_cpu *cpu;
	uint8_t *iopm;           /* 12 KiB: one bit per port (§15.10.1) */
	uint8_t *msrpm;          /* 8 KiB: two bits per MSR (§15.11) */
	uint32_t asid;
	bool flush_pending;      /* TLB_CONTROL on the next VMRUN */
};

/* ops: the VMM's neutral handlers (core_vm.h; the hypercall is VMCALL,
 * which this CPU raises as #UD, or VMMCALL); ctx is core.ctx. */
int svm_vm_init(struct svm_vm *vm, struct svm_cpu *cpu, const struct core_vm_ops *ops, void *ctx);
void svm_vm_destroy(struct svm_vm *vm);
int svm_vm_trap_io(struct svm_vm *vm, uint16_t port, unsigned count, bool trap);
int svm_vm_trap_msr(struct svm_vm *vm, uint32_t msr, bool on_read, bool on_write);

struct svm_vcpu {
	struct core_vcpu core;   /* first member: GPRs (RAX, RSP mirror the VMCB), pending
				    interrupt, exits by the core's reason */
	struct svm_vm *vm;
	void *vmcb;
	uint64_t vmcb_pa;
	uint64_t guest_efer;     /* EFER as the guest sees it (SVME hidden) */
	uint64_t reinject;       /* EXITINTINFO of an event that did not complete */
	uint64_t exit_code, exit_info1, exit_info2;
	uint32_t injected;       /* external interrupts delivered through EVENTINJ */
	uint32_t reinjected;
	uint32_t vmruns;
};

int svm_vcpu_init(struct svm_vcpu *v, struct svm_vm *vm);
void svm_vcpu_destroy(struct svm_vcpu *v);

/* A 64-bit guest at CPL 0 with the host's CR0/CR3/CR4/EFER settings except
 * its own CR3 (same layout as struct vmx_guest64). */
struct svm_guest64 {
	uint64_t rip, rsp, rflags, cr3;
	uint64_t gdt_base, idt_base, tr_base;
	uint16_t gdt_limit, idt_limit;
	uint16_t cs, ds, tr;
};
int svm_vcpu_setup_long64(struct svm_vcpu *v, const struct svm_guest64 *g);

/* Run until a handler or the guest stops it: CORE_STOP_* (> 0), or a
 * negative error (VMEXIT_INVALID, an exit it cannot handle: logged). */
int svm_vcpu_run(struct svm_vcpu *v);

void svm_vcpu_inject_irq(struct svm_vcpu *v, uint8_t vector);

/* The VMCB fields the backend depends on, against VMRUN's consistency
 * checks (§15.5.1) and its own set-up: the first bad field's name, or
 * NULL.  svm_vcpu_run checks before every VMRUN (-PORT_EINVAL, logged). */
const char *svm_vmcb_check(const struct svm_vcpu *v);

/* svm_entry.S: the world switch.  gpr: 16 GPRs in SDM order (RAX and RSP
 * unused: they are in the VMCB). */
void svm_world_switch(uint64_t *gpr, uint64_t guest_vmcb_pa, uint64_t host_vmcb_pa);

#endif
