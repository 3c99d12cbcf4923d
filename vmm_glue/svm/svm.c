/* svm.c — the SVM backend: enabling SVM, the VMCB, VMRUN and reading an
 * exit (svm.h).  The rest is the neutral core's (core_vm.h). */
#include "vmm_glue/svm/svm.h"

#include "port.h"

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

#define RFLAGS_FIXED (1ull << 1)
#define RFLAGS_IF (1ull << 9)
#define IOPM_PAGES 3
#define MSRPM_PAGES 2
#define PAT_DEFAULT 0x0007040600070406ull  /* Vol. 2 §7.8.2 power-on PAT */

/* --- the CPU ---------------------------------------------------------------- */

int svm_cpu_on(struct svm_cpu *cpu)
{
	uint32_t r[4];
	*cpu = (struct svm_cpu){ 0 };
	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x8000000au)
		return -PORT_ENODEV;
	cpuid(0x80000001u, 0, r);
	if (!(r[2] & CPUID_8000_0001_ECX_SVM))
		return -PORT_ENODEV;
	cpu->gb_pages = (r[3] & CPUID_8000_0001_EDX_PAGE1GB) != 0;
	cpuid(0x8000000au, 0, r);
	if (!(r[3] & CPUID_8000_000A_EDX_NP)) {
		port_log("svm: no nested paging (CPUID 8000_000Ah EDX[0])");
		return -PORT_ENODEV;
	}
	cpu->nrips = (r[3] & CPUID_8000_000A_EDX_NRIPS) != 0;
	cpu->nasid = r[1];
	/* §15.4: VM_CR.SVMDIS set means EFER.SVME cannot be set. */
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
		return -PORT_EPERM;
	cpu->hsave = port_page_alloc();
	cpu->host_vmcb = port_page_alloc();
	if (!cpu->hsave || !cpu->host_vmcb) {
		port_page_free(cpu->hsave);
		port_page_free(cpu->host_vmcb);
		return -PORT_ENOMEM;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, port_virt_to_phys(cpu->hsave));
	cpu->next_asid = 1;
	cpu->on = true;
	return 0;
}

void svm_cpu_off(struct svm_cpu *cpu)
{
	if (!cpu->on)
		return;
	wrmsr(MSR_VM_HSAVE_PA, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
	port_page_free(cpu->hsave);
	port_page_free(cpu->host_vmcb);
	cpu->on = false;
}

/* --- the VM ------------------------------------------------------------------ */

/* The backend's side of the neutral core: a map change takes effect with
 * a TLB flush on the next VMRUN (§15.16.1, TLB_CONTROL = 1); the guest does
 * not run meanwhile, so the core may free cut-out tables at once. */
static void svm_core_flush(struct core_vm *core)
{
	((struct svm_vm *)core)->flush_pending = true;
}

/* CPUID's default: the CPU's values, SVM hidden (8000_0001h ECX[2]) and
 * its feature leaf 8000_000Ah empty: no nested SVM. */
static void svm_cpuid_default(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid(leaf, sub, r);
	if (leaf == 0x80000001u)
		r[2] &= ~CPUID_8000_0001_ECX_SVM;
	if (leaf == 0x8000000au)
		r[0] = r[1] = r[2] = r[3] = 0;
}

static int svm_core_trap_io(struct core_vm *core, uint16_t port, unsigned count, bool on)
{
	return svm_vm_trap_io((struct svm_vm *)core, port, count, on);
}

static const struct core_backend svm_backend = { "svm", svm_core_flush, svm_core_trap_io, svm_cpuid_default, NULL };

static void bit_set(uint8_t *map, unsigned bit, bool on)
{
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

int svm_vm_init(struct svm_vm *vm, struct svm_cpu *cpu, const struct core_vm_ops *ops, void *ctx)
{
	if (!cpu->on)
		return -PORT_EINVAL;
	if (cpu->next_asid >= cpu->nasid)
		return -PORT_ENOSPC;
	/* NPT leaves: 2 MiB always (long-mode tables), 1 GiB with Page1GB;
	 * ept.c takes the page sizes in the EPT capability bits. */
	uint64_t sizes = (1ull << 16) | (cpu->gb_pages ? 1ull << 17 : 0);
	int rc = core_vm_init(&vm->core, &svm_backend, EPT_FMT_NPT, sizes, ops, ctx);
	if (rc)
		return rc;
	vm->cpu = cpu;
	vm->asid = cpu->next_asid++;
	vm->flush_pending = true;
	vm->iopm = port_pages_alloc(IOPM_PAGES);
	vm->msrpm = port_pages_alloc(MSRPM_PAGES);
	if (!vm->iopm || !vm->msrpm) {
		svm_vm_destroy(vm);
		return -PORT_ENOMEM;
	}
	/* EFER is the core's: SVME must stay set in the VMCB (§15.5.1) and
	 * hidden from the guest. */
	return svm_vm_trap_msr(vm, MSR_EFER, true, true);
}

void svm_vm_destroy(struct svm_vm *vm)
{
	core_vm_destroy(&vm->core);
	if (vm->iopm)
		port_pages_free(vm->iopm, IOPM_PAGES);
	if (vm->msrpm)
		port_pages_free(vm->msrpm, MSRPM_PAGES);
	vm->iopm = vm->msrpm = NULL;
}

int svm_vm_trap_io(struct svm_vm *vm, uint16_t port, unsigned count, bool trap)
{
	if (!count || port + count > 0x10000u)
		return -PORT_EINVAL;
	for (unsigned p = port; p < port + count; p++)
		bit_set(vm->iopm, p, trap);   /* §15.10.1: bit n = port n */
	return 0;
}

/* §15.11: three 2 KiB ranges, two bits per MSR (read, then write). */
static int msrpm_bit(uint32_t msr)
{
	if (msr <= 0x1fffu)
		return (int)(msr * 2);
	if (msr - 0xc0000000u <= 0x1fffu)
		return (int)(0x800 * 8 + (msr - 0xc0000000u) * 2);
	if (msr - 0xc0010000u <= 0x1fffu)
		return (int)(0x1000 * 8 + (msr - 0xc0010000u) * 2);
	return -1;
}

int svm_vm_trap_msr(struct svm_vm *vm, uint32_t msr, bool on_read, bool on_write)
{
	int bit = msrpm_bit(msr);
	if (bit < 0)
		return (on_read && on_write) ? 0 : -PORT_EINVAL;   /* always intercepted */
	bit_set(vm->msrpm, (unsigned)bit, on_read);
	bit_set(vm->msrpm, (unsigned)bit + 1, on_write);
	return 0;
}

/* --- the vCPU ------------------------------------------------------------------ */

int svm_vcpu_init(struct svm_vcpu *v, struct svm_vm *vm)
{
	*v = (struct svm_vcpu){ .vm = vm };
	core_vcpu_init(&v->core, &vm->core);
	v->vmcb = port_page_alloc();
	if (!v->vmcb)
		return -PORT_ENOMEM;
	v->vmcb_pa = port_virt_to_phys(v->vmcb);
	void *c = v->vmcb;
	/* Intercepts (Table B-1): physical interrupts, the interrupt window,
	 * CPUID, HLT, ports and MSRs through the maps, shutdown, VMRUN
	 * (required), VMMCALL; #UD (VMCALL is #UD on this CPU: a hypercall). */
	vmcb_wr32(c, VMCB_INTERCEPT_EXC, 1u << 6);
	vmcb_wr32(c, VMCB_INTERCEPT_1, INTERCEPT1_INTR | INTERCEPT1_CPUID | INTERCEPT1_HLT | INTERCEPT1_IOIO_PROT |
				       INTERCEPT1_MSR_PROT | INTERCEPT1_SHUTDOWN);
	vmcb_wr32(c, VMCB_INTERCEPT_2, INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL);
	vmcb_wr(c, VMCB_IOPM_BASE, port_virt_to_phys(vm->iopm));
	vmcb_wr(c, VMCB_MSRPM_BASE, port_virt_to_phys(vm->msrpm));
	vmcb_wr32(c, VMCB_ASID, vm->asid);
	/* §15.21.1: V_INTR_MASKING — the guest's IF masks only virtual
	 * interrupts; physical ones follow the host's IF (INTR exit). */
	vmcb_wr(c, VMCB_VINTR, VINTR_MASKING);
	vmcb_wr(c, VMCB_NP_CTL, 1);   /* §15.25.3 NP_ENABLE */
	vmcb_wr(c, VMCB_N_CR3, vm->core.ept.pml4_pa);
	vmcb_wr(c, VMCB_G_PAT, PAT_DEFAULT);
	return 0;
}

void svm_vcpu_destroy(struct svm_vcpu *v)
{
	port_page_free(v->vmcb);
	v->vmcb = NULL;
}

/* Segment attributes (Table B-2 note): descriptor bits 47:40 in 7:0,
 * 55:52 in 11:8. */
#define ATTR_CODE64 0x0a9bu  /* P, S, type 1011 (code, read, accessed), L, G */
#define ATTR_DATA 0x0c93u    /* P, S, type 0011 (data, write, accessed), D/B, G */
#define ATTR_TSS64 0x008bu   /* P, type 1011 (busy 64-bit TSS) */
#define ATTR_LDT 0x0082u     /* P, type 0010 (LDT) */

int svm_vcpu_setup_long64(struct svm_vcpu *v, const struct svm_guest64 *g)
{
	void *c = v->vmcb;
	uint64_t efer = rdmsr(MSR_EFER);   /* LME, LMA, NXE as the host's; SVME */
	vmcb_set_seg(c, VMCB_CS, g->cs, ATTR_CODE64, 0xffffffffu, 0);
	vmcb_set_seg(c, VMCB_DS, g->ds, ATTR_DATA, 0xffffffffu, 0);
	vmcb_set_seg(c, VMCB_ES, g->ds, ATTR_DATA, 0xffffffffu, 0);
	vmcb_set_seg(c, VMCB_SS, g->ds, ATTR_DATA, 0xffffffffu, 0);
	vmcb_set_seg(c, VMCB_FS, g->ds, ATTR_DATA, 0xffffffffu, 0);
	vmcb_set_seg(c, VMCB_GS, g->ds, ATTR_DATA, 0xffffffffu, 0);
	vmcb_set_seg(c, VMCB_TR, g->tr, ATTR_TSS64, 103, g->tr_base);
	vmcb_set_seg(c, VMCB_LDTR, 0, ATTR_LDT, 0, 0);
	vmcb_set_seg(c, VMCB_GDTR, 0, 0, g->gdt_limit, g->gdt_base);
	vmcb_set_seg(c, VMCB_IDTR, 0, 0, g->idt_limit, g->idt_base);
	*((volatile uint8_t *)c + VMCB_CPL) = 0;
	vmcb_wr(c, VMCB_EFER, efer | EFER_SVME);
	v->guest_efer = efer & ~EFER_SVME;
	vmcb_wr(c, VMCB_CR0, read_cr0());
	vmcb_wr(c, VMCB_CR3, g->cr3);
	vmcb_wr(c, VMCB_CR4, read_cr4());
	vmcb_wr(c, VMCB_DR7, 0x400);
	vmcb_wr(c, VMCB_DR6, 0xffff0ff0u);
	vmcb_wr(c, VMCB_RFLAGS, g->rflags | RFLAGS_FIXED);
	vmcb_wr(c, VMCB_RIP, g->rip);
	vmcb_wr(c, VMCB_RSP, g->rsp);
	v->core.gpr[GPR_RSP] = g->rsp;
	return 0;
}

/* --- events --------------------------------------------------------------------- */

void svm_vcpu_inject_irq(struct svm_vcpu *v, uint8_t vector)
{
	core_vcpu_inject_irq(&v->core, vector);
}

static void inject_exception(struct svm_vcpu *v, uint8_t vector)
{
	vmcb_wr(v->vmcb, VMCB_EVENTINJ, EVENT_VALID | ((uint64_t)EVENT_TYPE_EXC << 8) | vector |
					(vector == 13 ? EVENT_EV : 0));
}

/* Before VMRUN: an event that did not complete first (EXITINTINFO,
 * §15.7.2), then a pending interrupt if the guest can take it now (IF = 1,
 * no interrupt shadow), else a virtual interrupt request whose
 * acceptance exits (VINTR intercept) so the next entry injects it. */
static void prepare_injection(struct svm_vcpu *v)
{
	void *c = v->vmcb;
	uint64_t vintr = vmcb_rd(c, VMCB_VINTR) & ~(VINTR_V_IRQ | VINTR_IGN_TPR | (0xfull << VINTR_PRIO_SHIFT) |
						     (0xffull << VINTR_VECTOR_SHIFT));
	uint32_t i1 = vmcb_rd32(c, VMCB_INTERCEPT_1) & ~INTERCEPT1_VINTR;
	if (vmcb_rd(c, VMCB_EVENTINJ) & EVENT_VALID) {
		/* an exception queued by a handler: it goes first */
	} else if (v->reinject & EVENT_VALID) {
		vmcb_wr(c, VMCB_EVENTINJ, v->reinject);
		v->reinject = 0;
		v->reinjected++;
	} else {
		bool can = (vmcb_rd(c, VMCB_RFLAGS) & RFLAGS_IF) && !(vmcb_rd(c, VMCB_INT_STATE) & 1), window;
		int vec = core_vcpu_irq_to_inject(&v->core, can, &window);
		if (vec >= 0) {
			vmcb_wr(c, VMCB_EVENTINJ, EVENT_VALID | ((uint64_t)EVENT_TYPE_INTR << 8) | (uint8_t)vec);
			v->injected++;
		} else if (window) {
			vintr |= VINTR_V_IRQ | VINTR_IGN_TPR | (0xfull << VINTR_PRIO_SHIFT) |
				 ((uint64_t)(uint8_t)v->core.pending_irq << VINTR_VECTOR_SHIFT);
			i1 |= INTERCEPT1_VINTR;
		}
	}
	vmcb_wr(c, VMCB_VINTR, vintr);
	vmcb_wr32(c, VMCB_INTERCEPT_1, i1);
}

/* --- exits ------------------------------------------------------------------------- */

/* Past the intercepted instruction: an STI or MOV SS shadow covered only
 * that instruction, so it ends too (VMCB 068h bit 0, §15.21.5). */
static void skip(struct svm_vcpu *v, unsigned len)
{
	vmcb_wr(v->vmcb, VMCB_RIP, vmcb_rd(v->vmcb, VMCB_RIP) + len);
	vmcb_wr(v->vmcb, VMCB_INT_STATE, vmcb_rd(v->vmcb, VMCB_INT_STATE) & ~1ull);
}

static struct core_paging guest_paging(const void *c)
{
	return (struct core_paging){
		.paging = (vmcb_rd(c, VMCB_CR0) >> 31) & 1,
		.long_mode = (vmcb_rd(c, VMCB_EFER) >> 10) & 1,   /* EFER.LMA */
		.cr3 = vmcb_rd(c, VMCB_CR3),
	};
}

/* EFER is the backend's: SVME stays set in the VMCB and hidden from the
 * guest.  1 when handled. */
static int handle_efer(struct svm_vcpu *v, bool write)
{
	if ((uint32_t)v->core.gpr[GPR_RCX] != MSR_EFER)
		return 0;
	uint64_t val = (v->core.gpr[GPR_RDX] << 32) | (uint32_t)v->core.gpr[GPR_RAX];
	if (write) {
		v->guest_efer = val & ~EFER_SVME;   /* the guest cannot turn SVM on */
		vmcb_wr(v->vmcb, VMCB_EFER, val | EFER_SVME);
	} else {
		v->core.gpr[GPR_RAX] = (uint32_t)v->guest_efer;
		v->core.gpr[GPR_RDX] = v->guest_efer >> 32;
	}
	skip(v, 2);
	return 1;
}

/* A #UD: the hypercall if the bytes at RIP are VMCALL (0F 01 C1, which
 * this CPU does not implement); else back to the guest.  1: a hypercall. */
static int ud_is_vmcall(struct svm_vcpu *v)
{
	struct core_paging pg = guest_paging(v->vmcb);
	uint8_t b[3] = { 0 };
	uint64_t rip = vmcb_rd(v->vmcb, VMCB_RIP);
	return core_guest_read(&v->vm->core, &pg, rip, b, 3) == 0 && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xc1;
}

/* Where the instruction that touched MMIO is: the core decodes it there
 * (no decode assists on this CPU). */
static struct core_mmio_site mmio_site(const void *c)
{
	uint16_t cs_attr = *(const volatile uint16_t *)((const uint8_t *)c + VMCB_CS + 2);
	struct core_mmio_site site = { .pg = guest_paging(c) };
	site.long_mode_cs = site.pg.long_mode && (cs_attr & 0x200u);   /* CS.L */
	site.cs_32 = (cs_attr & 0x400u) != 0;                          /* CS.D */
	site.rip_linear = (site.long_mode_cs ? 0 : vmcb_rd(c, VMCB_CS + 8)) + vmcb_rd(c, VMCB_RIP);
	return site;
}

/* Read the exit (Appendix C, EXITINFO1/2) into the core's terms and apply
 * what the core decided.  Without NRIPS the next RIP is the instruction's
 * known length (CPUID, RDMSR/WRMSR 2, HLT 1, VMCALL/VMMCALL 3) or, for
 * IOIO, EXITINFO2 (§15.10.2). */
static int dispatch(struct svm_vcpu *v)
{
	void *c = v->vmcb;
	struct core_exit e = { .reason = CORE_EXIT_BACKEND, .vector = -1 };
	unsigned len = 0;
	switch (v->exit_code) {
	case SVM_EXIT_INTR:
		/* Not acknowledged by the exit: let the host's IDT take it. */
		__asm__ volatile("sti; nop; cli" ::: "memory");
		e.reason = CORE_EXIT_EXTINT;
		break;
	case SVM_EXIT_VINTR:
		e.reason = CORE_EXIT_INTR_WINDOW;
		break;
	case SVM_EXIT_CPUID:
		e.reason = CORE_EXIT_CPUID;
		len = 2;
		break;
	case SVM_EXIT_HLT:
		e.reason = CORE_EXIT_HLT;
		len = 1;
		break;
	case SVM_EXIT_IOIO: {
		uint64_t info = v->exit_info1;
		if (info & (IOIO_STR | IOIO_REP)) {
			port_log("svm: string I/O to port 0x%x is not emulated", (unsigned)(info >> 16));
			return -PORT_ENOTSUP;
		}
		e.reason = CORE_EXIT_IO;
		e.io = (struct core_io){ (uint16_t)(info >> 16), (unsigned)((info >> IOIO_SZ_SHIFT) & 7u),
					 (info & IOIO_IN) != 0 };
		len = (unsigned)(v->exit_info2 - vmcb_rd(c, VMCB_RIP));
		break;
	}
	case SVM_EXIT_MSR:
		if (handle_efer(v, v->exit_info1 == 1)) {
			v->core.exits[CORE_EXIT_MSR]++;
			return CORE_CONTINUE;
		}
		e.reason = CORE_EXIT_MSR;
		e.msr_write = v->exit_info1 == 1;
		len = 2;
		break;
	case SVM_EXIT_NPF:
		/* §15.25.6: EXITINFO2 the GPA.  Outside a trap it is an error. */
		if (!core_vm_mmio_find(&v->vm->core, v->exit_info2)) {
			port_log("svm: nested page fault at GPA 0x%llx (error code 0x%llx) outside guest memory, "
				 "RIP 0x%llx", (unsigned long long)v->exit_info2, (unsigned long long)v->exit_info1,
				 (unsigned long long)vmcb_rd(c, VMCB_RIP));
			return -PORT_EFAULT;
		}
		e.reason = CORE_EXIT_MMIO;
		e.gpa = v->exit_info2;
		e.site = mmio_site(c);
		break;
	case SVM_EXIT_VMMCALL:
		e.reason = CORE_EXIT_HYPERCALL;
		len = 3;
		break;
	case SVM_EXIT_EXC_BASE + 6:
		if (!ud_is_vmcall(v)) {
			v->core.exits[CORE_EXIT_BACKEND]++;
			inject_exception(v, 6);
			return CORE_CONTINUE;
		}
		e.reason = CORE_EXIT_HYPERCALL;
		len = 3;
		break;
	case SVM_EXIT_SHUTDOWN:
		v->core.exits[CORE_EXIT_BACKEND]++;
		port_log("svm: guest shutdown (triple fault) at RIP 0x%llx", (unsigned long long)vmcb_rd(c, VMCB_RIP));
		return CORE_STOP_SHUTDOWN;
	default:
		v->core.exits[CORE_EXIT_BACKEND]++;
		port_log("svm: unhandled exit 0x%llx (info1 0x%llx info2 0x%llx) at RIP 0x%llx",
			 (unsigned long long)v->exit_code, (unsigned long long)v->exit_info1,
			 (unsigned long long)v->exit_info2, (unsigned long long)vmcb_rd(c, VMCB_RIP));
		return -PORT_ENOTSUP;
	}
	int rc = core_handle_exit(&v->core, &e);
	if (rc < 0)
		return rc;
	if (e.exception >= 0)
		inject_exception(v, (uint8_t)e.exception);
	else if (e.complete)
		skip(v, e.len ? e.len : len);
	return rc;
}

/* The VMCB fields the backend depends on, against VMRUN's consistency
 * checks (APM Vol. 2 §15.5.1) and the backend's own set-up: the name of the
 * first bad field, or NULL.  Checked before every VMRUN, so a bad field is
 * an error naming it rather than a VMEXIT_INVALID that names nothing. */
const char *svm_vmcb_check(const struct svm_vcpu *v)
{
	const void *c = v->vmcb;
	uint64_t efer = vmcb_rd(c, VMCB_EFER), cr0 = vmcb_rd(c, VMCB_CR0), cr4 = vmcb_rd(c, VMCB_CR4);
	uint16_t cs_attr = *(const volatile uint16_t *)((const uint8_t *)c + VMCB_CS + 2);
	bool lme_pg = (efer & (1ull << 8)) && (cr0 & (1ull << 31));
	if (!(efer & EFER_SVME))
		return "EFER (SVME clear)";
	if (efer >> 16)
		return "EFER (reserved bits 63:16 set)";
	if ((cr0 & (1ull << 30)) == 0 && (cr0 & (1ull << 29)))
		return "CR0 (NW set with CD clear)";
	if (cr0 >> 32)
		return "CR0 (bits 63:32 set)";
	if (cr4 >> 32)
		return "CR4 (bits 63:32 set)";
	if (vmcb_rd(c, VMCB_DR6) >> 32 || vmcb_rd(c, VMCB_DR7) >> 32)
		return "DR6/DR7 (bits 63:32 set)";
	if (lme_pg && !(cr4 & (1ull << 5)))
		return "CR4 (EFER.LME and CR0.PG without PAE)";
	if (lme_pg && !(cr0 & 1))
		return "CR0 (EFER.LME and CR0.PG without PE)";
	if (lme_pg && (cs_attr & 0x200u) && (cs_attr & 0x400u))
		return "CS attributes (L and D both set in long mode)";
	if (!(vmcb_rd32(c, VMCB_INTERCEPT_2) & INTERCEPT2_VMRUN))
		return "INTERCEPT_2 (VMRUN not intercepted)";
	if (!vmcb_rd32(c, VMCB_ASID))
		return "ASID (0 is the host's)";
	if (!(vmcb_rd32(c, VMCB_INTERCEPT_1) & INTERCEPT1_INTR) || !(vmcb_rd(c, VMCB_VINTR) & VINTR_MASKING))
		return "INTERCEPT_1/V_INTR_MASKING (host interrupts would reach the guest)";
	if (!(vmcb_rd(c, VMCB_NP_CTL) & 1) || vmcb_rd(c, VMCB_N_CR3) != v->vm->core.ept.pml4_pa)
		return "NP_ENABLE/N_CR3 (not the VM's nested tables)";
	if (vmcb_rd(c, VMCB_IOPM_BASE) != port_virt_to_phys(v->vm->iopm) ||
	    vmcb_rd(c, VMCB_MSRPM_BASE) != port_virt_to_phys(v->vm->msrpm))
		return "IOPM_BASE/MSRPM_BASE (not the VM's maps)";
	uint64_t ev = vmcb_rd(c, VMCB_EVENTINJ);
	if ((ev & EVENT_VALID) && (((ev >> 8) & 7u) == 1 || ((ev >> 8) & 7u) > 4))
		return "EVENTINJ (reserved event type)";
	return NULL;
}

int svm_vcpu_run(struct svm_vcpu *v)
{
	void *c = v->vmcb;
	for (;;) {
		prepare_injection(v);
		const char *bad = svm_vmcb_check(v);
		if (bad) {
			port_log("svm: not running the guest: VMCB field %s", bad);
			return -PORT_EINVAL;
		}
		vmcb_wr(c, VMCB_RAX, v->core.gpr[GPR_RAX]);
		vmcb_wr(c, VMCB_RSP, v->core.gpr[GPR_RSP]);
		*((volatile uint8_t *)c + VMCB_TLB_CONTROL) = v->vm->flush_pending ? 1 : 0;
		v->vm->flush_pending = false;
		vmcb_wr32(c, VMCB_CLEAN, 0);
		v->vmruns++;
		svm_world_switch(v->core.gpr, v->vmcb_pa, port_virt_to_phys(v->vm->cpu->host_vmcb));
		v->core.gpr[GPR_RAX] = vmcb_rd(c, VMCB_RAX);
		v->core.gpr[GPR_RSP] = vmcb_rd(c, VMCB_RSP);
		v->exit_code = vmcb_rd(c, VMCB_EXITCODE);
		v->exit_info1 = vmcb_rd(c, VMCB_EXITINFO1);
		v->exit_info2 = vmcb_rd(c, VMCB_EXITINFO2);
		if (v->exit_code == SVM_EXIT_INVALID) {
			port_log("svm: VMRUN failed: VMEXIT_INVALID (APM §15.5.1) with every field the backend checks "
				 "consistent: a check svm_vmcb_check() lacks");
			return -PORT_EIO;
		}
		/* An event the exit interrupted is delivered again (§15.7.2). */
		uint64_t ii = vmcb_rd(c, VMCB_EXITINTINFO);
		vmcb_wr(c, VMCB_EVENTINJ, 0);
		if (ii & EVENT_VALID) {
			unsigned type = (unsigned)(ii >> 8) & 7u;
			if (type == EVENT_TYPE_INTR || type == EVENT_TYPE_NMI || type == EVENT_TYPE_EXC)
				v->reinject = ii;
		}
		int rc = dispatch(v);
		if (rc != CORE_CONTINUE)
			return rc;
	}
}
