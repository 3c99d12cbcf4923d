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

/* General-purpose registers in the SDM's numbering (Vol. 3C Table 28-3;
 * the same order AMD's ModRM uses): instruction operands name them so. */
enum core_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, GPR_COUNT
};

/* Why the guest stopped, in the core's terms: each backend reads its exit
 * (VMX exit reason, SVM exit code) and says which of these it is. */
enum core_exit_reason {
	CORE_EXIT_EXTINT,       /* a host interrupt */
	CORE_EXIT_INTR_WINDOW,  /* the guest can take the pending interrupt now */
	CORE_EXIT_CPUID,
	CORE_EXIT_HLT,
	CORE_EXIT_IO,
	CORE_EXIT_MSR,
	CORE_EXIT_MMIO,         /* an access to a trapped range (EPT violation / #NPF) */
	CORE_EXIT_HYPERCALL,    /* VMCALL (VMX), VMCALL-as-#UD or VMMCALL (SVM) */
	CORE_EXIT_BACKEND,      /* one only the backend handles (CR access, EPT misconfiguration...) */
	CORE_EXIT_COUNT
};
const char *core_exit_reason_name(unsigned reason);

/* Handler return values besides negative errors. */
enum core_stop {
	CORE_CONTINUE = 0,      /* resume the guest */
	CORE_STOP_HANDLER = 1,  /* a handler asked to stop */
	CORE_STOP_SHUTDOWN = 2, /* triple fault / shutdown */
};

/* A port access (IN / OUT, not string). */
struct core_io {
	uint16_t port;
	unsigned size;    /* 1, 2 or 4 */
	bool in;
};

/* The VMM's exit handlers, the same for both backends.  Any may be NULL:
 * the default noted applies.  They return CORE_CONTINUE, CORE_STOP_HANDLER
 * or a negative error; the instruction is already complete (RIP past it)
 * when they run, except that cpuid/io/rdmsr/wrmsr run before and their
 * result completes it. */
struct core_vm_ops {
	/* Fill r[] (EAX, EBX, ECX, EDX) and return 0, or return 1 for the
	 * backend's default (the CPU's values with its virtualization
	 * feature hidden). */
	int (*cpuid)(struct core_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4]);
	/* *val: what OUT wrote / what IN reads (default: all-ones, OUT
	 * dropped; also on -PORT_ENOENT). */
	int (*io)(struct core_vcpu *v, const struct core_io *io, uint32_t *val);
	/* -PORT_ENOENT (and the default): the guest takes #GP(0). */
	int (*rdmsr)(struct core_vcpu *v, uint32_t msr, uint64_t *val);
	int (*wrmsr)(struct core_vcpu *v, uint32_t msr, uint64_t val);
	/* Default: the guest takes #UD. */
	int (*hypercall)(struct core_vcpu *v);
	int (*hlt)(struct core_vcpu *v);
	/* A host interrupt while the guest ran: its vector (VMX acknowledges
	 * on exit; the VMM must EOI it), or -1 (SVM: the host's IDT already
	 * took it).  Default: resume. */
	int (*external_intr)(struct core_vcpu *v, int vector);
};

/* A trapped MMIO range's device model.  gpa is the address accessed. */
struct core_mmio_ops {
	int (*read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);
	int (*write)(void *ctx, uint64_t gpa, unsigned size, uint64_t val);
	void *ctx;
};

/* A trapped port range's device model (IN / OUT of 1, 2 or 4 bytes). */
struct core_pio_ops {
	int (*in)(void *ctx, uint16_t port, unsigned size, uint32_t *val);
	int (*out)(void *ctx, uint16_t port, unsigned size, uint32_t val);
	void *ctx;
};

/* What a backend does for the neutral core. */
struct core_backend {
	const char *name;   /* "vmx", "svm" */
	/* The map changed: no CPU may keep using old translations (INVEPT;
	 * SVM: a TLB flush on the next VMRUN).  No-op before a guest ran. */
	void (*flush)(struct core_vm *vm);
	/* Make ports [port, port+count) exit (on) or run natively (off):
	 * the I/O bitmaps (VMX) / the I/O permission map (SVM). */
	int (*trap_io)(struct core_vm *vm, uint16_t port, unsigned count, bool on);
	/* CPUID's default result: the CPU's values with the backend's
	 * virtualization feature hidden from the guest. */
	void (*cpuid_default)(uint32_t leaf, uint32_t sub, uint32_t r[4]);
	/* Deliver external-interrupt `vector` some other way (VMX: post it
	 * to the virtual APIC); NULL, or a return of 1: the core's pending
	 * state (core_vcpu.pending_irq) takes it. */
	int (*inject_irq)(struct core_vcpu *v, uint8_t vector);
};

#define CORE_MAX_MMIO 8
#define CORE_MAX_PIO 8

struct core_vm {
	struct ept ept;                 /* GPA -> HPA, in the backend's format */
	const struct core_backend *be;
	const struct core_vm_ops *ops;  /* the VMM's */
	void *ctx;                      /* the VMM's, for its handlers */
	struct {
		uint64_t gpa, size;     /* size 0: a free slot */
		struct core_mmio_ops ops;
	} mmio[CORE_MAX_MMIO];
	unsigned nr_mmio;               /* slots in use */
	struct {
		uint16_t port, count;   /* count 0: a free slot */
		struct core_pio_ops ops;
	} pio[CORE_MAX_PIO];
};

struct core_vcpu {
	struct core_vm *vm;
	int pending_irq;     /* guest vector waiting until the guest can take it, or -1 */
	uint64_t gpr[GPR_COUNT];          /* RSP mirrors the control structure */
	uint32_t exits[CORE_EXIT_COUNT];  /* exits seen, by the core's reason */
};

/* An empty map in the backend's format; caps as ept_init_fmt's. */
int core_vm_init(struct core_vm *vm, const struct core_backend *be, enum ept_format fmt, uint64_t caps,
		 const struct core_vm_ops *ops, void *ctx);
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
/* Port accesses to [port, port+count) become calls to ops (the backend
 * makes them exit); the I/O exit reaches a trap before the VMM's io
 * handler.  -PORT_EINVAL, -PORT_EEXIST (overlap), -PORT_ENOSPC. */
int core_vm_trap_pio(struct core_vm *vm, uint16_t port, unsigned count, const struct core_pio_ops *ops);
/* Remove the port trap that starts at port (the ports run natively
 * again).  -PORT_ENOENT when none does. */
int core_vm_untrap_pio(struct core_vm *vm, uint16_t port);
/* The trap covering gpa, or NULL. */
const struct core_mmio_ops *core_vm_mmio_find(const struct core_vm *vm, uint64_t gpa);
/* Whether any trap covers part of [gpa, gpa+size). */
bool core_vm_mmio_overlaps(const struct core_vm *vm, uint64_t gpa, uint64_t size);
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

/* One exit as the backend read it, and what the core decided. */
struct core_exit {
	enum core_exit_reason reason;
	struct core_io io;              /* CORE_EXIT_IO */
	bool msr_write;                 /* CORE_EXIT_MSR (the MSR is ECX) */
	uint64_t gpa;                   /* CORE_EXIT_MMIO */
	struct core_mmio_site site;     /* CORE_EXIT_MMIO */
	int vector;                     /* CORE_EXIT_EXTINT: host vector or -1 */
	/* out */
	bool complete;                  /* skip the instruction ... */
	unsigned len;                   /* ... of this length (0: the exit's own: VMX's instruction length
					   field, SVM's known length or EXITINFO2) */
	int exception;                  /* >= 0: inject this exception (#GP with error code 0) instead */
};
/* Dispatch an exit by the core's reason (CORE_EXIT_BACKEND is the
 * backend's own): count it, run the VMM's handler or the default, and say
 * how the instruction ends (e->complete / e->len / e->exception), which
 * the backend applies.  Register operands are in v->gpr.  Returns the
 * handler's CORE_* or a negative error. */
int core_handle_exit(struct core_vcpu *v, struct core_exit *e);

#endif
