/*
 * vmx.h — the bare-metal VMX core: the API a VMM (and vmm_glue's
 * passthrough device and vNIC) drives.  It provides what DESIGN.md asks of
 * a VMX core:
 *   guest RAM map / map a host range into guest physical space  vmx_vm_map()
 *   trap an MMIO range (EPT violation + decode + callback)      vmx_vm_trap_mmio()
 *   deliver a guest vector (injection, interrupt window)        vmx_vcpu_inject_irq()
 *   ... or by virtual-interrupt delivery / posted interrupts    vmx_vcpu_enable_apicv(),
 *                                                               vmx_vcpu_post_irq()
 * plus I/O and MSR trapping through the bitmaps.
 *
 * Model: one struct vmx_cpu per physical CPU (VMXON region, capabilities);
 * one struct vmx_vm per guest (EPT, VPID, bitmaps, MMIO traps, handlers);
 * one struct vmx_vcpu per guest CPU (VMCS, GPRs, pending events).  All
 * calls on a vcpu run on the CPU whose vmx_cpu it belongs to, with host
 * interrupts disabled (external interrupts exit with "acknowledge interrupt
 * on exit"; the VMM gets the vector through ops->external_intr).
 *
 * Return values: 0 or a negative PORT_E*; vmx_vcpu_run() returns a
 * positive VMX_STOP_* when the guest stops for a reason that is not an
 * error.
 */
#ifndef VFS_VMX_H
#define VFS_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/core/ept.h"
#include "vmm_glue/vmx/vmx_caps.h"
#include "vmm_glue/vmx/vmx_exit.h"

/* Why vmx_vcpu_run() returned without an error. */
enum vmx_stop {
	VMX_CONTINUE = 0,      /* handler return value: resume the guest */
	VMX_STOP_HANDLER = 1,  /* a handler asked to stop */
	VMX_STOP_TRIPLE_FAULT = 2,
};

struct vmx_cpu {
	struct vmx_caps caps;
	void *vmxon_region;
	uint64_t vmxon_pa;
	uint16_t next_vpid;
	bool on;
};

/* Check CPUID.1:ECX.VMX, read the capability MSRs, set IA32_FEATURE_CONTROL
 * if firmware left it unlocked, bring CR0/CR4 to the fixed bits, make sure
 * the host has a TR (a VM exit needs one, §26.2.3), VMXON.
 * -PORT_ENODEV (no VMX), -PORT_EPERM (disabled by firmware), -PORT_ENOTSUP,
 * -PORT_ENOMEM, -PORT_EIO (VMXON failed). */
int vmx_cpu_on(struct vmx_cpu *cpu);
void vmx_cpu_off(struct vmx_cpu *cpu);

struct vmx_vcpu;
struct vmx_io_access;

/* The VMM's handlers: the neutral ones (core_vm.h, the same for both
 * backends: CPUID, I/O, MSR, hypercall = VMCALL, HLT, host interrupts)
 * and the two only VMX has.  Any may be NULL. */
struct vmx_vm_ops {
	struct core_vm_ops core;
	/* An EPT misconfiguration at gpa; return VMX_CONTINUE after fixing the
	 * map (the core flushes the EPT) or an error (default: -PORT_EFAULT). */
	int (*ept_misconfig)(struct vmx_vcpu *v, uint64_t gpa, uint64_t entry);
	/* APICv: the guest EOIed a vector set in the EOI-exit bitmap (exit 45,
	 * trap-like: the virtual EOI is already done, RIP is past the WRMSR).
	 * Default: resume. */
	int (*eoi)(struct vmx_vcpu *v, uint8_t vector);
};

struct vmx_vm {
	struct core_vm core;      /* the neutral part: EPT-format map, MMIO traps */
	struct vmx_cpu *cpu;
	uint64_t eptp;
	uint16_t vpid;            /* 0 when VPID is not in use */
	uint8_t *io_bitmap[2];    /* A: ports 0-7fff, B: 8000-ffff */
	uint8_t *msr_bitmap;
	const struct vmx_vm_ops *ops;   /* ops->core is also core.ops; the VMM's ctx is core.ctx */
};

/* An empty guest: no memory mapped, no port or MSR trapped except
 * IA32_EFER (emulated by the core so CR0.PG can drive IA-32e mode). */
int vmx_vm_init(struct vmx_vm *vm, struct vmx_cpu *cpu, const struct vmx_vm_ops *ops, void *ctx);
void vmx_vm_destroy(struct vmx_vm *vm);
/* Guest RAM / a host range into guest-physical space (EPT_R|W|X, EPT_MT_*). */
int vmx_vm_map(struct vmx_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype);
/* Accesses to [gpa, gpa+size) become calls to ops (the range is unmapped). */
int vmx_vm_trap_mmio(struct vmx_vm *vm, uint64_t gpa, uint64_t size, const struct core_mmio_ops *ops);
/* The access an EPT violation in a trapped range turns into, after the
 * instruction is decoded: the range's read/write callback for `size` bytes
 * at gpa (*val in for a write, out for a read).  -PORT_ENOENT when no range
 * traps gpa.  Also how a test without VMX plays the guest's access. */
int vmx_vm_mmio_access(struct vmx_vm *vm, uint64_t gpa, bool write, unsigned size, uint64_t *val);
/* Ports [port, port+count) / one MSR exit (true) or run natively (false). */
int vmx_vm_trap_io(struct vmx_vm *vm, uint16_t port, unsigned count, bool trap);
int vmx_vm_trap_msr(struct vmx_vm *vm, uint32_t msr, bool on_read, bool on_write);
/* After changing the map of a guest that has run: INVEPT (§30.3). */
void vmx_vm_flush_ept(struct vmx_vm *vm);

struct pi_desc;

/* A vCPU's APIC virtualization (vmx_vcpu_enable_apicv). */
struct vmx_vcpu_apicv {
	bool on;                  /* virtual-interrupt delivery, x2APIC mode virtualized */
	bool posted;              /* the CPU processes posted interrupts (pin-based bit 7) */
	bool reg_virt;            /* APIC-register virtualization */
	bool own_vapic, own_pi;   /* the core allocated them */
	void *vapic;              /* the virtual-APIC page (4 KiB) */
	struct pi_desc *pi;       /* the posted-interrupt descriptor */
	uint8_t notify_vector;    /* host vector (hardware posting only) */
	uint32_t harvests;        /* software harvests that moved a vector */
	uint32_t harvested;       /* vectors they moved from PIR to VIRR */
	uint32_t dropped;         /* vectors 0-15 found in PIR and dropped */
};

struct vmx_vcpu {
	struct core_vcpu core;    /* the neutral part: GPRs, pending interrupt, neutral exit counts */
	struct vmx_vm *vm;
	void *vmcs;
	uint64_t vmcs_pa;
	bool launched;
	bool unrestricted;        /* PE/PG need not follow CR0_FIXED0 */
	bool exc_pending, exc_has_err;
	uint8_t exc_vector;
	uint32_t exc_err;
	uint32_t reinject_info, reinject_err, reinject_len; /* IDT vectoring */
	uint32_t exit_reason;     /* the last exit's basic reason */
	uint64_t exit_qual;
	uint32_t exits[EXIT_REASON_MAX]; /* exits seen, by basic reason */
	uint32_t injected;        /* events delivered through the VM-entry
				     interruption-information field */
	struct vmx_vcpu_apicv apicv;
};

int vmx_vcpu_init(struct vmx_vcpu *v, struct vmx_vm *vm);
void vmx_vcpu_destroy(struct vmx_vcpu *v);

/* A 64-bit guest at CPL 0, paging on (its own CR3), flat segments. */
struct vmx_guest64 {
	uint64_t rip, rsp, rflags, cr3;
	uint64_t gdt_base, idt_base, tr_base;
	uint16_t gdt_limit, idt_limit;
	uint16_t cs, ds, tr;      /* selectors in the guest's GDT */
};
int vmx_vcpu_setup_long64(struct vmx_vcpu *v, const struct vmx_guest64 *g);
/* A real-mode guest (CR0.PE = 0) at cs:ip, ss = 0, sp; needs the
 * "unrestricted guest" control (-PORT_ENOTSUP without it). */
int vmx_vcpu_setup_real(struct vmx_vcpu *v, uint16_t cs, uint16_t ip, uint16_t sp);

/* Run until a handler or the guest stops it: VMX_STOP_* (> 0), or a
 * negative error after a failed VM entry (the VM-instruction error or the
 * failed-entry exit reason is logged by number and SDM name) or an exit the
 * core cannot handle (logged). */
int vmx_vcpu_run(struct vmx_vcpu *v);

/* Deliver external-interrupt `vector` as soon as the guest's RFLAGS.IF and
 * interruptibility allow (interrupt-window exiting until then).  On a vCPU
 * with APIC virtualization on, a vector >= 16 is posted instead
 * (vmx_vcpu_post_irq): the guest's virtual APIC takes it, and the guest
 * EOIs it. */
void vmx_vcpu_inject_irq(struct vmx_vcpu *v, uint8_t vector);

/* APIC virtualization and posted interrupts (SDM Vol. 3C ch. 29).
 * After vmx_vcpu_init, before the first run.  The guest sees an x2APIC
 * whose TPR (MSR 808H), EOI (80BH) and self-IPI (83FH) writes and — with
 * APIC-register virtualization — register reads are done by the CPU on the
 * virtual-APIC page, with no VM exit; interrupts reach it by
 * virtual-interrupt delivery.  The VM's MSR bitmap is set for MSRs
 * 800H-8FFH accordingly (every other x2APIC access exits: the VMM's
 * rdmsr/wrmsr, by default #GP), so every vCPU of a VM should enable it
 * alike.  Posted-interrupt processing is used when cfg->notify_vector is
 * nonzero and the CPU allows it; otherwise the core harvests the
 * descriptor before every VM entry.  -PORT_ENOTSUP (logged with the
 * control's name) when the CPU lacks a required control, -PORT_EINVAL for
 * a bad configuration, -PORT_ENOMEM, -PORT_EEXIST when already on. */
struct vmx_apicv_cfg {
	void *vapic_page;         /* 4 KiB, page-aligned, zeroed; NULL: allocated */
	struct pi_desc *pi_desc;  /* 64-byte aligned, initialised (pi_desc_init) —
				     ir_vcpu.pi_desc, which posted IRTEs target;
				     NULL: allocated and initialised here */
	uint8_t notify_vector;    /* host vector for hardware posting; 0: software only */
	uint32_t host_apic_id;    /* NDST of an allocated descriptor */
	bool host_x2apic;
	uint64_t eoi_exit[4];     /* vectors whose EOI exits (ops->eoi), bit v = vector v */
};
int vmx_vcpu_enable_apicv(struct vmx_vcpu *v, const struct vmx_apicv_cfg *cfg);

/* Post guest vector `vector` (16-255) to the vCPU's descriptor: its PIR
 * bit, then ON (irq_remap/posted.c's atomic pi_post, as a VT-d unit does for
 * a posted IRTE).  Callable from any CPU.  Returns 1 when ON went from 0 to
 * 1 and the vCPU, if it is running on another CPU, needs a kick: the
 * notification vector to it (hardware posting: the CPU takes the vector
 * without a VM exit) or any IPI (software: the external-interrupt exit
 * brings it to the next VM entry, which harvests); 0 when no kick is
 * needed; -PORT_EINVAL for a vector below 16, -PORT_ENOTSUP without APICv. */
int vmx_vcpu_post_irq(struct vmx_vcpu *v, uint8_t vector);
/* Deliver a hardware exception on the next entry (error code if the vector
 * takes one). */
void vmx_vcpu_inject_exception(struct vmx_vcpu *v, uint8_t vector, uint32_t errcode);

/* VMCS access for the VMM's handlers (the vcpu's VMCS is current inside
 * vmx_vcpu_run and the setup calls). */
uint64_t vmx_vmread(uint32_t field);
/* 0, or -PORT_EIO (logged with the field's name and the VM-instruction
 * error); the first failure is also kept for vmx_vmwrite_status(). */
int vmx_vmwrite(uint32_t field, uint64_t val);
/* -PORT_EIO naming the first VMWRITE that failed since the last call (and
 * forget it), or 0.  vmx_vcpu_init, the setup calls, APICv enabling and
 * every VM entry check it: a failed write is never a silent continue. */
int vmx_vmwrite_status(const char *where);
/* Copy guest-linear [gla, gla+len) out of the guest: its page tables (when
 * paging is on, 4-level) and then the EPT.  0 or -PORT_EFAULT. */
int vmx_guest_read(struct vmx_vcpu *v, uint64_t gla, void *buf, size_t len);

#endif
