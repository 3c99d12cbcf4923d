/*
 * core_vm.h — the CPU-neutral part of the bare-metal core: the contract
 * between a backend (vmm_glue/vmx/: VMCS, VMLAUNCH; vmm_glue/svm/: VMCB,
 * VMRUN) and everything above it (device models such as bm_passthrough,
 * the tests).  A device model reaches a core only through these calls.
 *
 *   guest memory map, GPA -> HPA      core_vm_map / core_vm_unmap, one table
 *                                     built by ept.c in the backend's format
 *                                     (EPT or NPT), shareable with VT-d
 *   MMIO trap registry                core_vm_trap_mmio / core_vm_untrap_mmio,
 *                                     core_vm_mmio_access
 *   after a map change                core_vm_flush (backend's INVEPT / nested
 *                                     TLB flush, then freeing cut-out tables)
 *   interrupt delivery                core_vcpu_inject_irq (backend: VM-entry
 *                                     interruption info / EVENTINJ)
 *   the guest's memory, RAM only      core_guest_read
 *   an MMIO access emulated           core_mmio_emulate (decode at RIP, the
 *                                     device model, register write-back)
 *
 * The backend embeds struct core_vm in its VM and struct core_vcpu in its
 * vCPU and fills `be` (struct core_backend) with the few operations that
 * need the CPU's instructions.
 */
#ifndef VFS_CORE_VM_H
#define VFS_CORE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_glue/core/ept.h"
#include "vmm_glue/core/mmio_insn.h"

struct core_vm;
struct core_vcpu;

/* A trapped MMIO range's device model.  gpa is the address accessed. */
struct core_mmio_ops {
	int (*read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);
	int (*write)(void *ctx, uint64_t gpa, unsigned size, uint64_t val);
	void *ctx;
};

/* What a backend does for the neutral core. */
struct core_backend {
	const char *name;   /* "vmx", "svm" */
	/* The map changed: no CPU may keep using old translations (INVEPT;
	 * SVM: a TLB flush on the next VMRUN).  No-op before a guest ran. */
	void (*flush)(struct core_vm *vm);
	/* Deliver external-interrupt `vector` some other way (VMX: post it
	 * to the virtual APIC); NULL, or a return of 1: the core's pending
	 * state (core_vcpu.pending_irq) takes it. */
	int (*inject_irq)(struct core_vcpu *v, uint8_t vector);
};

#define CORE_MAX_MMIO 8

struct core_vm {
	struct ept ept;                 /* GPA -> HPA, in the backend's format */
	const struct core_backend *be;
	struct {
		uint64_t gpa, size;     /* size 0: a free slot */
		struct core_mmio_ops ops;
	} mmio[CORE_MAX_MMIO];
	unsigned nr_mmio;               /* slots in use */
};

struct core_vcpu {
	struct core_vm *vm;
	int pending_irq;     /* guest vector waiting until the guest can take it, or -1 */
};

/* An empty map in the backend's format; caps as ept_init_fmt's. */
int core_vm_init(struct core_vm *vm, const struct core_backend *be, enum ept_format fmt, uint64_t caps);
void core_vm_destroy(struct core_vm *vm);
/* Guest RAM (perms with EPT_RAM) or a host range (a BAR: without it). */
int core_vm_map(struct core_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype);
int core_vm_unmap(struct core_vm *vm, uint64_t gpa, uint64_t size);
/* Accesses to [gpa, gpa+size) become calls to ops (the range is unmapped).
 * -PORT_ENOSPC (no slot), -PORT_EEXIST (overlaps a trap), ept_unmap's. */
int core_vm_trap_mmio(struct core_vm *vm, uint64_t gpa, uint64_t size, const struct core_mmio_ops *ops);
/* Remove the trap that starts at gpa (the range stays unmapped: map it
 * again if it should be).  -PORT_ENOENT when none does. */
int core_vm_untrap_mmio(struct core_vm *vm, uint64_t gpa);
unsigned core_vm_mmio_free(const struct core_vm *vm);
/* The trap covering gpa, or NULL. */
const struct core_mmio_ops *core_vm_mmio_find(const struct core_vm *vm, uint64_t gpa);
/* One access to the trap covering gpa (*val in for a write, out for a
 * read).  -PORT_ENOENT when no trap covers it. */
int core_vm_mmio_access(struct core_vm *vm, uint64_t gpa, bool write, unsigned size, uint64_t *val);
/* The GPA -> HPA table, read-only: for a device model that shares it with
 * an IOMMU or mirrors it (bm_passthrough), and for lookups. */
const struct ept *core_vm_table(const struct core_vm *vm);
/* GPA -> HPA: 0 with *hpa and *entry (may be NULL), or -PORT_ENOENT. */
int core_vm_lookup(const struct core_vm *vm, uint64_t gpa, uint64_t *hpa, uint64_t *entry);
/* After changing the map of a guest that may have run. */
void core_vm_flush(struct core_vm *vm);

/* A vCPU of vm, nothing pending. */
void core_vcpu_init(struct core_vcpu *v, struct core_vm *vm);
/* Deliver guest vector `vector` as an external interrupt as soon as the
 * guest can take it (a later one replaces one still pending). */
void core_vcpu_inject_irq(struct core_vcpu *v, uint8_t vector);
/* The injection decision, made by the core before each entry: `can_take`
 * is the backend's reading of the guest (RFLAGS.IF = 1 and no STI / MOV SS
 * shadow).  Returns the vector to inject now (no longer pending), or -1;
 * *want_window says whether the backend should have the CPU exit as soon
 * as the guest can take one (interrupt-window exiting; SVM: V_IRQ + the
 * VINTR intercept). */
int core_vcpu_irq_to_inject(struct core_vcpu *v, bool can_take, bool *want_window);

/* How the guest translates linear addresses right now. */
struct core_paging {
	bool paging;      /* CR0.PG */
	bool long_mode;   /* EFER.LMA: 4-level paging (else -PORT_ENOTSUP with paging) */
	uint64_t cr3;
};
/* Copy guest-linear [gla, gla+len) out of the guest: its page tables, then
 * the map.  Only leaves marked EPT_RAM are read (the guest's tables and the
 * bytes both): a GPA behind MMIO or a BAR is -PORT_EFAULT, never touched. */
int core_guest_read(const struct core_vm *vm, const struct core_paging *pg, uint64_t gla, void *buf, size_t len);

/* The state an MMIO emulation needs from the backend. */
struct core_mmio_site {
	struct core_paging pg;
	bool long_mode_cs;    /* a 64-bit code segment (REX allowed) */
	bool cs_32;           /* else a 32-bit one (16-bit: -PORT_ENOTSUP) */
	uint64_t rip_linear;  /* CS.base + RIP */
};
/* The guest touched trapped `gpa`: decode the instruction at the site's
 * RIP, call the trap's device model, write a load's register (gpr[16] in
 * the SDM's order RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15).  0 with
 * *insn_len the bytes to skip, or a negative error (logged). */
int core_mmio_emulate(struct core_vm *vm, uint64_t gpr[16], const struct core_mmio_site *site, uint64_t gpa,
		      unsigned *insn_len);

#endif
