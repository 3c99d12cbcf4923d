/*
 * vmx.c — VMXON, VMCS setup, the run loop and the exit handlers.
 * Section numbers: Intel SDM Vol. 3C (see vmcs_fields.h for the edition).
 */
#include "vmm_glue/vmx/vmx.h"

#include "irq_remap/posted.h"
#include "port.h"
#include "vmm_glue/vmx/vmcs_fields.h"
#include "vmm_glue/vmx/vmx_apicv.h"
#include "vmm_glue/core/mmio_insn.h"

/* vmx_entry.S: load the guest GPRs, VMLAUNCH/VMRESUME; returns 0 after a VM
 * exit (GPRs saved), 1 on VMfailInvalid, 2 on VMfailValid (§30.2). */
int vmx_enter(uint64_t *gpr, int launched);
void vmx_exit_point(void);

/* --- instructions -------------------------------------------------------- */

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
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
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* The six data/code selectors, in enum vmx_seg order (ES CS SS DS FS GS). */
static void read_selectors(uint16_t sel[6])
{
	__asm__ volatile("mov %%es, %0" : "=r"(sel[VMX_ES]));
	__asm__ volatile("mov %%cs, %0" : "=r"(sel[VMX_CS]));
	__asm__ volatile("mov %%ss, %0" : "=r"(sel[VMX_SS]));
	__asm__ volatile("mov %%ds, %0" : "=r"(sel[VMX_DS]));
	__asm__ volatile("mov %%fs, %0" : "=r"(sel[VMX_FS]));
	__asm__ volatile("mov %%gs, %0" : "=r"(sel[VMX_GS]));
}

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

/* VMX instructions (§30.3): CF = VMfailInvalid, ZF = VMfailValid; "setna"
 * catches both. */
static int vmxon(uint64_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -PORT_EIO : 0;
}

static int vmclear(uint64_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -PORT_EIO : 0;
}

static int vmptrld(uint64_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -PORT_EIO : 0;
}

uint64_t vmx_vmread(uint32_t field)
{
	uint64_t v = 0;
	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"((uint64_t)field) : "cc");
	return v;
}

/* The first VMWRITE that failed since vmx_vmwrite_status() last looked:
 * one CPU, calls on it are serialised (vmx.h). */
static struct vmwrite_fail {
	bool failed;
	uint32_t field, err;
} vmwrite_fail;

int vmx_vmwrite(uint32_t field, uint64_t val)
{
	uint8_t fail;
	__asm__ volatile("vmwrite %1, %2; setna %0" : "=q"(fail) : "rm"(val), "r"((uint64_t)field) : "cc");
	if (!fail)
		return 0;
	uint32_t err = (uint32_t)vmx_vmread(VMCS_INSN_ERROR);
	port_log("vmx: VMWRITE of %s (0x%x) = 0x%llx failed: VM-instruction error %u (%s)", vmx_field_name(field),
		 field, (unsigned long long)val, err, vmx_insn_error_name(err));
	if (!vmwrite_fail.failed)
		vmwrite_fail = (struct vmwrite_fail){ true, field, err };
	return -PORT_EIO;
}

int vmx_vmwrite_status(const char *where)
{
	if (!vmwrite_fail.failed)
		return 0;
	port_log("vmx: %s: VMWRITE of %s (0x%x) failed (VM-instruction error %u): not entering the guest", where,
		 vmx_field_name(vmwrite_fail.field), vmwrite_fail.field, vmwrite_fail.err);
	vmwrite_fail.failed = false;
	return -PORT_EIO;
}

/* INVEPT (§30.3): type 1 single-context, 2 all-context. */
static void invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, zero; } d = { eptp, 0 };
	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

/* --- the physical CPU ---------------------------------------------------- */

static void read_caps(struct vmx_caps *c)
{
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->pin = rdmsr(vmx_controls_msr(c->basic, VMX_CTLS_PIN));
	c->proc = rdmsr(vmx_controls_msr(c->basic, VMX_CTLS_PROC));
	c->exit = rdmsr(vmx_controls_msr(c->basic, VMX_CTLS_EXIT));
	c->entry = rdmsr(vmx_controls_msr(c->basic, VMX_CTLS_ENTRY));
	/* Secondary controls exist only when the primary may enable them. */
	c->proc2 = (c->proc >> 32) & PROC_SECONDARY_CTLS ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c->ept_vpid = (c->proc2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID) ?
		rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	c->apicv = vmx_caps_apicv(c);
}

/* 64-bit TSS descriptor (Vol. 3A §7.2.3): 16 bytes, type 9 (available). */
static void tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	slot[0] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (9ull << 40) | (1ull << 47) |
		  ((uint64_t)(limit >> 16 & 0xf) << 48) | (((base >> 24) & 0xffull) << 56);
	slot[1] = base >> 32;
}

static uint64_t descriptor_base(const uint64_t *d)
{
	return ((d[0] >> 16) & 0xffffffull) | (((d[0] >> 56) & 0xffull) << 24) | (d[1] << 32);
}

/* A VM exit loads TR from the host-state area and VM entry requires a
 * non-null host TR selector (§26.2.3).  A platform that never loaded a TR
 * gets a copy of its GDT with a TSS appended. */
static int ensure_host_tr(void)
{
	uint16_t tr;
	struct desc_ptr gdtr;
	__asm__ volatile("str %0" : "=r"(tr));
	if (tr)
		return 0;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	unsigned n = (gdtr.limit + 1u) / 8u;
	if (n + 2 > PORT_PAGE_SIZE / 8)
		return -PORT_ENOSPC;
	uint64_t *gdt = port_page_alloc();
	uint8_t *tss = port_page_alloc();
	if (!gdt || !tss) {
		port_page_free(gdt);
		port_page_free(tss);
		return -PORT_ENOMEM;
	}
	__builtin_memcpy(gdt, (const void *)(uintptr_t)gdtr.base, n * 8u);
	tss[102] = 104;  /* I/O map base beyond the limit: no I/O bitmap */
	tss_descriptor(&gdt[n], (uint64_t)(uintptr_t)tss, 103);
	struct desc_ptr ng = { (uint16_t)((n + 2) * 8 - 1), (uint64_t)(uintptr_t)gdt };
	uint16_t sel = (uint16_t)(n * 8);
	__asm__ volatile("lgdt %0; ltr %1" : : "m"(ng), "r"(sel) : "memory");
	port_log("vmx: host had no TR; loaded TSS selector 0x%x", sel);
	return 0;
}

int vmx_cpu_on(struct vmx_cpu *cpu)
{
	uint32_t r[4];
	uint64_t fc_next;
	int rc;

	*cpu = (struct vmx_cpu){ .next_vpid = 1 };
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 5)))            /* CPUID.1:ECX.VMX (§23.6) */
		return -PORT_ENODEV;
	rc = vmx_feature_control(rdmsr(MSR_IA32_FEATURE_CONTROL), &fc_next);
	if (rc < 0) {
		port_log("vmx: IA32_FEATURE_CONTROL locked with VMX disabled (firmware setting)");
		return rc;
	}
	if (rc == 1)
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc_next);

	read_caps(&cpu->caps);
	if (VMX_BASIC_REGION_SIZE(cpu->caps.basic) > PORT_PAGE_SIZE)
		return -PORT_ENOTSUP;
	/* EPT is what the whole design rests on. */
	if (!((cpu->caps.proc2 >> 32) & PROC2_ENABLE_EPT) || !(cpu->caps.ept_vpid & EPT_CAP_PWL4))
		return -PORT_ENOTSUP;

	/* §23.8: CR0 and CR4 must hold their fixed bits in VMX operation. */
	write_cr0(vmx_cr_fix(read_cr0(), cpu->caps.cr0_fixed0, cpu->caps.cr0_fixed1, 0));
	write_cr4(vmx_cr_fix(read_cr4() | CR4_VMXE, cpu->caps.cr4_fixed0, cpu->caps.cr4_fixed1, 0));

	rc = ensure_host_tr();
	if (rc)
		return rc;
	cpu->vmxon_region = port_page_alloc();
	if (!cpu->vmxon_region)
		return -PORT_ENOMEM;
	/* §24.11.5: the VMXON region starts with the VMCS revision identifier. */
	*(uint32_t *)cpu->vmxon_region = VMX_BASIC_REVISION(cpu->caps.basic);
	cpu->vmxon_pa = port_virt_to_phys(cpu->vmxon_region);
	if (vmxon(cpu->vmxon_pa)) {
		port_log("vmx: VMXON failed");
		port_page_free(cpu->vmxon_region);
		return -PORT_EIO;
	}
	cpu->on = true;
	return 0;
}

void vmx_cpu_off(struct vmx_cpu *cpu)
{
	if (!cpu->on)
		return;
	__asm__ volatile("vmxoff" ::: "cc", "memory");
	write_cr4(read_cr4() & ~CR4_VMXE);
	port_page_free(cpu->vmxon_region);
	cpu->on = false;
}

/* --- a guest ------------------------------------------------------------- */

static void bitmap_set(uint8_t *map, unsigned bit, bool on)
{
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

/* The backend's side of the neutral core (core_vm.h). */
static void vmx_core_flush(struct core_vm *core)
{
	struct vmx_vm *vm = (struct vmx_vm *)core;   /* core is the first member */
	uint64_t caps = vm->cpu->caps.ept_vpid;
	if (!vm->cpu->on || !(caps & EPT_CAP_INVEPT))
		return;
	invept((caps & EPT_CAP_INVEPT_SINGLE) ? 1 : 2, vm->eptp);
}

/* With APIC virtualization a vector >= 16 is posted (the next entry
 * harvests it); otherwise the core's pending state takes it (1). */
static int vmx_core_inject_irq(struct core_vcpu *core, uint8_t vector)
{
	struct vmx_vcpu *v = (struct vmx_vcpu *)core;   /* core is the first member */
	if (v->apicv.on && vector >= 16) {
		vmx_vcpu_post_irq(v, vector);
		return 0;
	}
	return 1;
}

/* CPUID's default: the CPU's values, VMX hidden (not nested), the
 * hypervisor bit set (CPUID.1:ECX[5], [31]). */
static void vmx_cpuid_default(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid(leaf, sub, r);
	if (leaf == 1) {
		r[2] &= ~(1u << 5);
		r[2] |= 1u << 31;
	}
}

static int vmx_core_trap_io(struct core_vm *core, uint16_t port, unsigned count, bool on)
{
	return vmx_vm_trap_io((struct vmx_vm *)core, port, count, on);
}

static const struct core_backend vmx_backend = { "vmx", vmx_core_flush, vmx_core_trap_io, vmx_cpuid_default,
						 vmx_core_inject_irq };

int vmx_vm_init(struct vmx_vm *vm, struct vmx_cpu *cpu, const struct vmx_vm_ops *ops, void *ctx)
{
	*vm = (struct vmx_vm){ .cpu = cpu, .ops = ops };
	int rc = core_vm_init(&vm->core, &vmx_backend, EPT_FMT_EPT, cpu->caps.ept_vpid, ops ? &ops->core : NULL, ctx);
	if (rc)
		return rc;
	vm->io_bitmap[0] = port_page_alloc();
	vm->io_bitmap[1] = port_page_alloc();
	vm->msr_bitmap = port_page_alloc();
	if (!vm->io_bitmap[0] || !vm->io_bitmap[1] || !vm->msr_bitmap) {
		vmx_vm_destroy(vm);
		return -PORT_ENOMEM;
	}
	/* EPTP: walk memory type WB when allowed, else UC (§24.6.11). */
	vm->eptp = ept_pointer(vm->core.ept.pml4_pa,
			       (cpu->caps.ept_vpid & EPT_CAP_MT_WB) ? EPT_MT_WB : EPT_MT_UC, false);
	if ((cpu->caps.proc2 >> 32) & PROC2_ENABLE_VPID)
		vm->vpid = cpu->next_vpid++;
	return vmx_vm_trap_msr(vm, MSR_IA32_EFER, true, true);
}

void vmx_vm_destroy(struct vmx_vm *vm)
{
	core_vm_destroy(&vm->core);
	port_page_free(vm->io_bitmap[0]);
	port_page_free(vm->io_bitmap[1]);
	port_page_free(vm->msr_bitmap);
	vm->io_bitmap[0] = vm->io_bitmap[1] = vm->msr_bitmap = NULL;
}

int vmx_vm_map(struct vmx_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
	return core_vm_map(&vm->core, gpa, hpa, size, perms, memtype);
}

int vmx_vm_trap_mmio(struct vmx_vm *vm, uint64_t gpa, uint64_t size, const struct core_mmio_ops *ops)
{
	return core_vm_trap_mmio(&vm->core, gpa, size, ops);
}

int vmx_vm_trap_io(struct vmx_vm *vm, uint16_t port, unsigned count, bool trap)
{
	if (count == 0 || port + count > 0x10000u)
		return -PORT_EINVAL;
	for (unsigned p = port; p < port + count; p++) {
		unsigned which, bit = vmx_io_bitmap_bit((uint16_t)p, &which);
		bitmap_set(vm->io_bitmap[which], bit, trap);
	}
	return 0;
}

int vmx_vm_trap_msr(struct vmx_vm *vm, uint32_t msr, bool on_read, bool on_write)
{
	int rd = vmx_msr_bitmap_bit(msr, false), wr = vmx_msr_bitmap_bit(msr, true);
	if (rd < 0)
		return (on_read && on_write) ? 0 : -PORT_EINVAL; /* always exits */
	bitmap_set(vm->msr_bitmap, (unsigned)rd, on_read);
	bitmap_set(vm->msr_bitmap, (unsigned)wr, on_write);
	return 0;
}

void vmx_vm_flush_ept(struct vmx_vm *vm)
{
	core_vm_flush(&vm->core);
}

/* --- a vcpu: the VMCS ---------------------------------------------------- */

static void write_host_state(void)
{
	struct desc_ptr gdtr, idtr;
	uint16_t tr, sel[6];
	__asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
	read_selectors(sel);

	/* §24.5 host-state area; §26.2.3: selectors with RPL = TI = 0. */
	vmx_vmwrite(VMCS_HOST_CR0, read_cr0());
	vmx_vmwrite(VMCS_HOST_CR3, read_cr3());
	vmx_vmwrite(VMCS_HOST_CR4, read_cr4());
	vmx_vmwrite(VMCS_HOST_ES_SEL, sel[VMX_ES] & 0xf8u);
	vmx_vmwrite(VMCS_HOST_CS_SEL, sel[VMX_CS] & 0xf8u);
	vmx_vmwrite(VMCS_HOST_SS_SEL, sel[VMX_SS] & 0xf8u);
	vmx_vmwrite(VMCS_HOST_DS_SEL, sel[VMX_DS] & 0xf8u);
	vmx_vmwrite(VMCS_HOST_FS_SEL, sel[VMX_FS] & 0xf8u);
	vmx_vmwrite(VMCS_HOST_GS_SEL, sel[VMX_GS] & 0xf8u);
	vmx_vmwrite(VMCS_HOST_TR_SEL, tr & 0xf8u);
	vmx_vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmx_vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmx_vmwrite(VMCS_HOST_TR_BASE, descriptor_base((const uint64_t *)(uintptr_t)(gdtr.base + (tr & 0xf8u))));
	vmx_vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmx_vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmx_vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmx_vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmx_vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmx_vmwrite(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	vmx_vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmx_vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_point);
	/* HOST_RSP is written by vmx_enter on every entry. */
}

static int write_controls(struct vmx_vcpu *v)
{
	const struct vmx_caps *c = &v->vm->cpu->caps;
	uint32_t pin, proc, proc2, exit, entry, missing;
	int rc;

	rc = vmx_adjust_controls(c->pin, PIN_EXT_INTR_EXITING, PIN_NMI_EXITING, &pin, &missing);
	if (!rc)
		rc = vmx_adjust_controls(c->proc, PROC_HLT_EXITING | PROC_USE_IO_BITMAPS |
					 PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CTLS, 0, &proc, &missing);
	if (!rc)
		rc = vmx_adjust_controls(c->proc2, PROC2_ENABLE_EPT,
					 PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST, &proc2, &missing);
	if (!rc)
		rc = vmx_adjust_controls(c->exit, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |
					 EXIT_SAVE_EFER | EXIT_LOAD_EFER, EXIT_SAVE_PAT | EXIT_LOAD_PAT,
					 &exit, &missing);
	if (!rc)
		rc = vmx_adjust_controls(c->entry, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, &entry, &missing);
	if (rc) {
		port_log("vmx: required VMX controls 0x%x not supported by this CPU", missing);
		return rc;
	}
	if (!v->vm->vpid)
		proc2 &= ~PROC2_ENABLE_VPID;
	v->unrestricted = (proc2 & PROC2_UNRESTRICTED_GUEST) != 0;

	vmx_vmwrite(VMCS_PIN_CTLS, pin);                  /* §24.6.1 */
	vmx_vmwrite(VMCS_PROC_CTLS, proc);                /* §24.6.2 */
	vmx_vmwrite(VMCS_PROC_CTLS2, proc2);
	vmx_vmwrite(VMCS_EXIT_CTLS, exit);                /* §24.7.1 */
	vmx_vmwrite(VMCS_ENTRY_CTLS, entry);              /* §24.8.1 */
	vmx_vmwrite(VMCS_EXCEPTION_BITMAP, 0);            /* §24.6.3 */
	vmx_vmwrite(VMCS_PF_ERRCODE_MASK, 0);
	vmx_vmwrite(VMCS_PF_ERRCODE_MATCH, 0);
	vmx_vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmx_vmwrite(VMCS_IO_BITMAP_A, port_virt_to_phys(v->vm->io_bitmap[0]));  /* §24.6.4 */
	vmx_vmwrite(VMCS_IO_BITMAP_B, port_virt_to_phys(v->vm->io_bitmap[1]));
	vmx_vmwrite(VMCS_MSR_BITMAP, port_virt_to_phys(v->vm->msr_bitmap));     /* §24.6.9 */
	vmx_vmwrite(VMCS_EPT_POINTER, v->vm->eptp);       /* §24.6.11 */
	if (v->vm->vpid)
		vmx_vmwrite(VMCS_VPID, v->vm->vpid);      /* §24.6.12 */
	vmx_vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);        /* §24.7.2 */
	vmx_vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmx_vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);        /* §24.8.2 */
	vmx_vmwrite(VMCS_ENTRY_INTR_INFO, 0);             /* §24.8.3 */
	vmx_vmwrite(VMCS_LINK_POINTER, ~0ull);            /* §24.4.2 */
	return 0;
}

int vmx_vcpu_init(struct vmx_vcpu *v, struct vmx_vm *vm)
{
	*v = (struct vmx_vcpu){ .vm = vm };
	core_vcpu_init(&v->core, &vm->core);
	v->vmcs = port_page_alloc();
	if (!v->vmcs)
		return -PORT_ENOMEM;
	*(uint32_t *)v->vmcs = VMX_BASIC_REVISION(vm->cpu->caps.basic); /* §24.2 */
	v->vmcs_pa = port_virt_to_phys(v->vmcs);
	if (vmclear(v->vmcs_pa) || vmptrld(v->vmcs_pa)) {
		port_log("vmx: VMCLEAR/VMPTRLD of a new VMCS failed");
		return -PORT_EIO;
	}
	vmx_vmwrite_status("before the VMCS set-up");   /* start clean */
	write_host_state();
	int rc = write_controls(v);
	int wr = vmx_vmwrite_status("VMCS set-up");
	return rc ? rc : wr;
}

void vmx_vcpu_destroy(struct vmx_vcpu *v)
{
	if (v->apicv.own_vapic)
		port_page_free(v->apicv.vapic);
	if (v->apicv.own_pi)
		port_page_free(v->apicv.pi);
	v->apicv = (struct vmx_vcpu_apicv){ 0 };
	if (v->vmcs) {
		vmclear(v->vmcs_pa);
		port_page_free(v->vmcs);
		v->vmcs = NULL;
	}
}

static void write_segment(enum vmx_seg s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vmx_vmwrite(VMCS_GUEST_ES_SEL + 2u * s, sel);
	vmx_vmwrite(VMCS_GUEST_ES_BASE + 2u * s, base);
	vmx_vmwrite(VMCS_GUEST_ES_LIMIT + 2u * s, limit);
	vmx_vmwrite(VMCS_GUEST_ES_AR + 2u * s, ar);
}

/* The guest-state fields both guest kinds share (§24.4.1, §24.4.2). */
static void write_common_guest_state(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	vmx_vmwrite(VMCS_GUEST_DR7, 0x400);
	vmx_vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmx_vmwrite(VMCS_GUEST_PAT, 0x0007040600070406ull); /* power-up PAT (Vol. 3A §11.12.4) */
	vmx_vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmx_vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmx_vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmx_vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmx_vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	vmx_vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmx_vmwrite(VMCS_GUEST_EFER, efer);
	write_segment(VMX_LDTR, 0, 0, 0, AR_UNUSABLE);
	vmx_vmwrite(VMCS_CR0_SHADOW, cr0);
	vmx_vmwrite(VMCS_CR4_SHADOW, cr4);
}

/* §24.6.6: the guest owns the CR bits outside the masks; the host owns
 * the bits VMX fixes, CR0.PE/PG/NE (so the core tracks the paging mode and
 * IA-32e entry) and CR4.VMXE (hidden: the guest reads its shadow, 0).  A
 * guest write that changes an owned bit relative to the shadow exits
 * (§25.1.3); reads of CR0/CR4 never exit and return the shadow there. */
static void write_cr_masks(struct vmx_vcpu *v)
{
	const struct vmx_caps *c = &v->vm->cpu->caps;
	uint64_t cr0_mask = ((c->cr0_fixed0 | ~c->cr0_fixed1) & 0xffffffffull) | CR0_PE | CR0_PG | CR0_NE;
	uint64_t cr4_mask = ((c->cr4_fixed0 | ~c->cr4_fixed1) & 0xffffffffull) | CR4_VMXE;
	vmx_vmwrite(VMCS_CR0_MASK, cr0_mask);
	vmx_vmwrite(VMCS_CR4_MASK, cr4_mask);
}

static uint64_t guest_cr0_actual(const struct vmx_vcpu *v, uint64_t cr0)
{
	const struct vmx_caps *c = &v->vm->cpu->caps;
	return vmx_cr_fix(cr0, c->cr0_fixed0, c->cr0_fixed1, v->unrestricted ? CR0_PE | CR0_PG : 0);
}

static uint64_t guest_cr4_actual(const struct vmx_vcpu *v, uint64_t cr4)
{
	const struct vmx_caps *c = &v->vm->cpu->caps;
	return vmx_cr_fix(cr4, c->cr4_fixed0, c->cr4_fixed1, 0);
}

int vmx_vcpu_setup_long64(struct vmx_vcpu *v, const struct vmx_guest64 *g)
{
	uint64_t cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	uint64_t cr4 = CR4_PAE;
	uint32_t code = AR_TYPE(SEG_TYPE_CODE_RX_A) | AR_S | AR_P | AR_L | AR_G;
	uint32_t data = AR_TYPE(SEG_TYPE_DATA_RW_A) | AR_S | AR_P | AR_DB | AR_G;

	if (vmptrld(v->vmcs_pa))
		return -PORT_EIO;
	write_cr_masks(v);
	write_common_guest_state(cr0, cr4, EFER_LME | EFER_LMA);
	vmx_vmwrite(VMCS_GUEST_CR0, guest_cr0_actual(v, cr0));
	vmx_vmwrite(VMCS_GUEST_CR3, g->cr3);
	vmx_vmwrite(VMCS_GUEST_CR4, guest_cr4_actual(v, cr4));
	write_segment(VMX_CS, g->cs, 0, 0xffffffffu, code);
	write_segment(VMX_SS, g->ds, 0, 0xffffffffu, data);
	write_segment(VMX_DS, g->ds, 0, 0xffffffffu, data);
	write_segment(VMX_ES, g->ds, 0, 0xffffffffu, data);
	write_segment(VMX_FS, g->ds, 0, 0xffffffffu, data);
	write_segment(VMX_GS, g->ds, 0, 0xffffffffu, data);
	/* §26.3.1.2: in IA-32e mode TR must be a busy 64-bit TSS. */
	write_segment(VMX_TR, g->tr, g->tr_base, 103, AR_TYPE(SEG_TYPE_TSS64_BUSY) | AR_P);
	vmx_vmwrite(VMCS_GUEST_GDTR_BASE, g->gdt_base);
	vmx_vmwrite(VMCS_GUEST_GDTR_LIMIT, g->gdt_limit);
	vmx_vmwrite(VMCS_GUEST_IDTR_BASE, g->idt_base);
	vmx_vmwrite(VMCS_GUEST_IDTR_LIMIT, g->idt_limit);
	vmx_vmwrite(VMCS_GUEST_RSP, g->rsp);
	vmx_vmwrite(VMCS_GUEST_RIP, g->rip);
	vmx_vmwrite(VMCS_GUEST_RFLAGS, g->rflags | RFLAGS_FIXED);
	vmx_vmwrite(VMCS_ENTRY_CTLS, vmx_vmread(VMCS_ENTRY_CTLS) | ENTRY_IA32E_MODE_GUEST);
	v->core.gpr[GPR_RSP] = g->rsp;
	return vmx_vmwrite_status("64-bit guest state");
}

int vmx_vcpu_setup_real(struct vmx_vcpu *v, uint16_t cs, uint16_t ip, uint16_t sp)
{
	/* §26.3.1.2 with "unrestricted guest": CS type 11 or 3, DPL 0; SS type
	 * 3, DPL 0; data segments accessed; TR a busy TSS. */
	uint32_t code = AR_TYPE(SEG_TYPE_CODE_RX_A) | AR_S | AR_P;
	uint32_t data = AR_TYPE(SEG_TYPE_DATA_RW_A) | AR_S | AR_P;
	uint64_t cr0 = CR0_ET;

	if (!v->unrestricted)
		return -PORT_ENOTSUP;
	if (vmptrld(v->vmcs_pa))
		return -PORT_EIO;
	write_cr_masks(v);
	write_common_guest_state(cr0, 0, 0);
	vmx_vmwrite(VMCS_GUEST_CR0, guest_cr0_actual(v, cr0));
	vmx_vmwrite(VMCS_GUEST_CR3, 0);
	vmx_vmwrite(VMCS_GUEST_CR4, guest_cr4_actual(v, 0));
	write_segment(VMX_CS, cs, (uint64_t)cs << 4, 0xffff, code);
	write_segment(VMX_SS, 0, 0, 0xffff, data);
	write_segment(VMX_DS, 0, 0, 0xffff, data);
	write_segment(VMX_ES, 0, 0, 0xffff, data);
	write_segment(VMX_FS, 0, 0, 0xffff, data);
	write_segment(VMX_GS, 0, 0, 0xffff, data);
	write_segment(VMX_TR, 0, 0, 0xffff, AR_TYPE(SEG_TYPE_TSS16_BUSY) | AR_P);
	vmx_vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmx_vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmx_vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmx_vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	vmx_vmwrite(VMCS_GUEST_RSP, sp);
	vmx_vmwrite(VMCS_GUEST_RIP, ip);
	vmx_vmwrite(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmx_vmwrite(VMCS_ENTRY_CTLS, vmx_vmread(VMCS_ENTRY_CTLS) & ~ENTRY_IA32E_MODE_GUEST);
	v->core.gpr[GPR_RSP] = sp;
	return vmx_vmwrite_status("real-mode guest state");
}

/* --- events -------------------------------------------------------------- */

void vmx_vcpu_inject_irq(struct vmx_vcpu *v, uint8_t vector)
{
	core_vcpu_inject_irq(&v->core, vector);
}

/* --- APIC virtualization and posted interrupts (ch. 29) ------------------ */

/* CPUID.80000008H:EAX[7:0], the physical-address width (Vol. 3A §4.1.4). */
static unsigned maxphyaddr(void)
{
	uint32_t r[4];
	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, r);
	return r[0] & 0xffu;
}

int vmx_vcpu_enable_apicv(struct vmx_vcpu *v, const struct vmx_apicv_cfg *cfg)
{
	const struct vmx_caps *caps = &v->vm->cpu->caps;
	struct vmx_apicv_ctls c;
	struct vmx_vcpu_apicv a = { 0 };
	const char *missing = NULL, *broken;
	int rc;

	if (v->apicv.on)
		return -PORT_EEXIST;
	if (((uintptr_t)cfg->vapic_page & 0xfffu) || ((uintptr_t)cfg->pi_desc & 63u) ||
	    (cfg->notify_vector && cfg->notify_vector < 16))
		return -PORT_EINVAL;
	if (vmptrld(v->vmcs_pa))
		return -PORT_EIO;
	c.pin = (uint32_t)vmx_vmread(VMCS_PIN_CTLS);
	c.proc = (uint32_t)vmx_vmread(VMCS_PROC_CTLS);
	c.proc2 = (uint32_t)vmx_vmread(VMCS_PROC_CTLS2);
	c.exit = (uint32_t)vmx_vmread(VMCS_EXIT_CTLS);
	rc = vmx_apicv_select(caps, cfg->notify_vector != 0, &c, &a.posted, &missing);
	if (rc) {
		port_log("vmx: APIC virtualization needs %s, which this CPU does not allow", missing);
		return rc;
	}
	if (cfg->notify_vector && !a.posted)
		port_log("vmx: this CPU has no posted-interrupt processing (pin-based bit 7%s): "
			 "posted vectors are harvested by software before each VM entry",
			 (caps->apicv & VMX_APICV_CAP_ACK_ON_EXIT) ? "" : ", or no acknowledge interrupt on exit");
	a.reg_virt = (c.proc2 & PROC2_APIC_REG_VIRT) != 0;
	a.notify_vector = a.posted ? cfg->notify_vector : 0;
	a.vapic = cfg->vapic_page;
	a.pi = cfg->pi_desc;
	if (!a.vapic) {
		a.vapic = port_page_alloc();
		a.own_vapic = true;
	}
	if (!a.pi) {
		a.pi = port_page_alloc();
		a.own_pi = true;
		if (a.pi && pi_desc_init(a.pi, cfg->notify_vector, cfg->host_apic_id, cfg->host_x2apic))
			rc = -PORT_EINVAL;
	} else if (a.posted && pi_nv(a.pi) != cfg->notify_vector) {
		port_log("vmx: the posted-interrupt descriptor's NV 0x%x is not the notification vector 0x%x",
			 pi_nv(a.pi), cfg->notify_vector);
		rc = -PORT_EINVAL;
	}
	if (!a.vapic || !a.pi)
		rc = -PORT_ENOMEM;

	struct vmx_apicv_vmcs chk = {
		.c = c, .vapic_pa = a.vapic ? port_virt_to_phys(a.vapic) : 0,
		.pi_desc_pa = a.pi ? port_virt_to_phys(a.pi) : 0,
		.tpr_threshold = 0, .vtpr = a.vapic ? ((const volatile uint8_t *)a.vapic)[VAPIC_TPR] : 0,
		.pi_nv = a.notify_vector, .maxphyaddr = maxphyaddr(),
	};
	if (!rc && (broken = vmx_apicv_check(&chk)) != NULL) {
		port_log("vmx: APIC virtualization: %s", broken);   /* SDM §26.2.1.1 */
		rc = -PORT_EINVAL;
	}
	if (rc) {
		if (a.own_vapic)
			port_page_free(a.vapic);
		if (a.own_pi)
			port_page_free(a.pi);
		return rc;
	}

	vmx_vmwrite_status("before APIC virtualization");   /* start clean */
	vmx_vmwrite(VMCS_VIRT_APIC_PAGE, chk.vapic_pa);       /* §24.6.8 */
	vmx_vmwrite(VMCS_TPR_THRESHOLD, 0);                   /* unused with VID */
	vmx_vmwrite(VMCS_EOI_EXIT0, cfg->eoi_exit[0]);
	vmx_vmwrite(VMCS_EOI_EXIT1, cfg->eoi_exit[1]);
	vmx_vmwrite(VMCS_EOI_EXIT2, cfg->eoi_exit[2]);
	vmx_vmwrite(VMCS_EOI_EXIT3, cfg->eoi_exit[3]);
	vmx_vmwrite(VMCS_GUEST_INTR_STATUS, 0);               /* §24.4.2: RVI = SVI = 0 */
	if (a.posted) {
		vmx_vmwrite(VMCS_PI_NOTIFY_VECTOR, a.notify_vector);
		vmx_vmwrite(VMCS_PI_DESC_ADDR, chk.pi_desc_pa);
	}
	/* §29.5: only what the CPU virtualizes passes; the rest of the x2APIC
	 * range would reach the host's own APIC, so it exits. */
	for (uint32_t msr = MSR_X2APIC_FIRST; !rc && msr <= MSR_X2APIC_LAST; msr++)
		rc = vmx_vm_trap_msr(v->vm, msr, vmx_apicv_msr_exits(msr, false, a.reg_virt),
				     vmx_apicv_msr_exits(msr, true, a.reg_virt));
	/* The controls last, and only when everything they depend on is in
	 * place: a control committed over a failed field write would enter
	 * the guest with APIC virtualization pointing at nothing. */
	if (!rc)
		rc = vmx_vmwrite_status("APIC virtualization fields");
	if (!rc) {
		vmx_vmwrite(VMCS_PIN_CTLS, c.pin);
		vmx_vmwrite(VMCS_PROC_CTLS, c.proc);
		vmx_vmwrite(VMCS_PROC_CTLS2, c.proc2);
		vmx_vmwrite(VMCS_EXIT_CTLS, c.exit);
		rc = vmx_vmwrite_status("APIC virtualization controls");
	}
	if (rc) {
		if (a.own_vapic)
			port_page_free(a.vapic);
		if (a.own_pi)
			port_page_free(a.pi);
		return rc;
	}
	a.on = true;
	v->apicv = a;
	return 0;
}

int vmx_vcpu_post_irq(struct vmx_vcpu *v, uint8_t vector)
{
	if (vector < 16)
		return -PORT_EINVAL;   /* illegal APIC vector (Vol. 3A §10.5.3) */
	if (!v->apicv.on)
		return -PORT_ENOTSUP;
	return pi_post(v->apicv.pi, vector) ? 1 : 0;
}

/* Before each entry: posted-interrupt processing by software (§29.6 steps,
 * vmx_apicv_harvest): PIR into VIRR, RVI raised; the CPU's evaluation at
 * VM entry (§29.2.1) then delivers with no exit and no injection.  With
 * hardware posting on, the same catches what was posted while the vCPU was
 * out of non-root operation. */
static void harvest_posted(struct vmx_vcpu *v)
{
	struct vmx_pir_harvest h;
	uint16_t st = (uint16_t)vmx_vmread(VMCS_GUEST_INTR_STATUS), old = st;

	vmx_apicv_harvest(v->apicv.pi, v->apicv.vapic, &st, &h);
	if (h.taken) {
		v->apicv.harvests++;
		v->apicv.harvested += h.taken;
	}
	if (h.dropped) {
		v->apicv.dropped += h.dropped;
		port_log("vmx: %u posted vector(s) below 16 dropped (illegal APIC vectors)", h.dropped);
	}
	if (st != old)
		vmx_vmwrite(VMCS_GUEST_INTR_STATUS, st);
}

void vmx_vcpu_inject_exception(struct vmx_vcpu *v, uint8_t vector, uint32_t errcode)
{
	v->exc_pending = true;
	v->exc_vector = vector;
	v->exc_has_err = vmx_exception_has_errcode(vector);
	v->exc_err = errcode;
}

static void set_intr_window(bool on)
{
	uint64_t proc = vmx_vmread(VMCS_PROC_CTLS);
	uint64_t want = on ? proc | PROC_INTR_WINDOW_EXITING : proc & ~(uint64_t)PROC_INTR_WINDOW_EXITING;
	if (want != proc)
		vmx_vmwrite(VMCS_PROC_CTLS, want);
}

/* Before each entry (§26.5 event injection): an event whose delivery an
 * exit interrupted goes first, then an exception, then a pending interrupt
 * if RFLAGS.IF = 1 and no STI / MOV SS blocking (§24.4.2); otherwise ask for
 * an interrupt-window exit (§25.2). */
static void prepare_injection(struct vmx_vcpu *v)
{
	uint32_t info = 0;
	bool window = false;

	if (v->apicv.on)
		harvest_posted(v);
	if (v->reinject_info & INTR_INFO_VALID) {
		info = v->reinject_info;
		vmx_vmwrite(VMCS_ENTRY_EXC_ERRCODE, v->reinject_err);
		vmx_vmwrite(VMCS_ENTRY_INSN_LEN, v->reinject_len);
		v->reinject_info = 0;
	} else if (v->exc_pending) {
		info = vmx_encode_intr_info(v->exc_vector, INTR_TYPE_HW_EXCEPTION, v->exc_has_err);
		vmx_vmwrite(VMCS_ENTRY_EXC_ERRCODE, v->exc_err);
		v->exc_pending = false;
	} else {
		uint64_t rflags = vmx_vmread(VMCS_GUEST_RFLAGS);
		uint64_t block = vmx_vmread(VMCS_GUEST_INTERRUPTIBILITY);
		bool can = (rflags & RFLAGS_IF) && !(block & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
		int vec = core_vcpu_irq_to_inject(&v->core, can, &window);
		if (vec >= 0)
			info = vmx_encode_intr_info((uint8_t)vec, INTR_TYPE_EXT_INTR, false);
	}
	if (info)
		v->injected++;
	vmx_vmwrite(VMCS_ENTRY_INTR_INFO, info);
	set_intr_window(window || v->core.pending_irq >= 0);
}

/* --- exit handlers ------------------------------------------------------- */

static void skip_instruction(void)
{
	vmx_vmwrite(VMCS_GUEST_RIP, vmx_vmread(VMCS_GUEST_RIP) + vmx_vmread(VMCS_EXIT_INSN_LEN));
	/* Emulating the instruction ends STI / MOV SS blocking (§24.4.2). */
	uint64_t block = vmx_vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (block & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmx_vmwrite(VMCS_GUEST_INTERRUPTIBILITY, block & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* CR0 write (MOV, LMSW, CLTS): the read shadow holds the guest's value,
 * the real CR0 its fixed-up version.  CR0.PG with EFER.LME switches the
 * guest into IA-32e mode: EFER.LMA and the "IA-32e mode guest" entry
 * control follow (§26.3.1.1 requires them to agree). */
static int write_guest_cr0(struct vmx_vcpu *v, uint64_t val)
{
	uint64_t old = vmx_vmread(VMCS_CR0_SHADOW);
	uint64_t efer = vmx_vmread(VMCS_GUEST_EFER);
	uint64_t entry = vmx_vmread(VMCS_ENTRY_CTLS);

	if (((val & CR0_PG) && !(val & CR0_PE)) || (val >> 32)) {
		vmx_vcpu_inject_exception(v, 13, 0);
		return VMX_CONTINUE;
	}
	if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(vmx_vmread(VMCS_GUEST_CR4) & CR4_PAE)) {
			vmx_vcpu_inject_exception(v, 13, 0);
			return VMX_CONTINUE;
		}
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE_GUEST;
	} else if (!(val & CR0_PG) && (old & CR0_PG)) {
		efer &= ~EFER_LMA;
		entry &= ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
	}
	vmx_vmwrite(VMCS_GUEST_EFER, efer);
	vmx_vmwrite(VMCS_ENTRY_CTLS, entry);
	vmx_vmwrite(VMCS_GUEST_CR0, guest_cr0_actual(v, val));
	vmx_vmwrite(VMCS_CR0_SHADOW, val);
	skip_instruction();
	return VMX_CONTINUE;
}

/* CR4 write: VMXE belongs to the host; the guest, which sees no VMX in
 * CPUID, gets #GP for setting it or any bit CR4_FIXED1 rules out. */
static int write_guest_cr4(struct vmx_vcpu *v, uint64_t val)
{
	const struct vmx_caps *c = &v->vm->cpu->caps;
	if ((val & CR4_VMXE) || (val & ~c->cr4_fixed1)) {
		vmx_vcpu_inject_exception(v, 13, 0);
		return VMX_CONTINUE;
	}
	vmx_vmwrite(VMCS_GUEST_CR4, guest_cr4_actual(v, val));
	vmx_vmwrite(VMCS_CR4_SHADOW, val);
	skip_instruction();
	return VMX_CONTINUE;
}

static int handle_cr_access(struct vmx_vcpu *v)
{
	struct vmx_cr_access a;
	vmx_decode_cr_access(v->exit_qual, &a);
	uint64_t shadow0 = vmx_vmread(VMCS_CR0_SHADOW);

	switch (a.type) {
	case CR_MOV_TO:
		if (a.cr == 0)
			return write_guest_cr0(v, v->core.gpr[a.gpr]);
		if (a.cr == 4)
			return write_guest_cr4(v, v->core.gpr[a.gpr]);
		if (a.cr == 3) {
			vmx_vmwrite(VMCS_GUEST_CR3, v->core.gpr[a.gpr]);
			skip_instruction();
			return VMX_CONTINUE;
		}
		break;
	case CR_MOV_FROM:
		if (a.cr == 3) {
			v->core.gpr[a.gpr] = vmx_vmread(VMCS_GUEST_CR3);
			skip_instruction();
			return VMX_CONTINUE;
		}
		break;
	case CR_CLTS:
		return write_guest_cr0(v, shadow0 & ~(1ull << 3));
	case CR_LMSW: /* Vol. 2 LMSW: loads PE, MP, EM, TS; cannot clear PE */
		return write_guest_cr0(v, (shadow0 & ~0xeull) | (a.lmsw_src & 0xfu) | (shadow0 & CR0_PE));
	}
	port_log("vmx: unhandled CR access: CR%u type %u", a.cr, a.type);
	return -PORT_ENOTSUP;
}

/* EFER is the core's own (LMA follows CR0.PG); every other MSR goes to
 * the neutral dispatch.  1 when handled here. */
static int handle_efer(struct vmx_vcpu *v, bool write)
{
	if ((uint32_t)v->core.gpr[GPR_RCX] != MSR_IA32_EFER)
		return 0;
	uint64_t val = (v->core.gpr[GPR_RDX] << 32) | (uint32_t)v->core.gpr[GPR_RAX];
	uint64_t cur = vmx_vmread(VMCS_GUEST_EFER);
	if (write) {
		vmx_vmwrite(VMCS_GUEST_EFER, (val & ~EFER_LMA) | (cur & EFER_LMA));
	} else {
		v->core.gpr[GPR_RAX] = (uint32_t)cur;
		v->core.gpr[GPR_RDX] = cur >> 32;
	}
	skip_instruction();
	return 1;
}

/* How the guest translates right now (for core_guest_read). */
static struct core_paging guest_paging(void)
{
	return (struct core_paging){
		.paging = (vmx_vmread(VMCS_GUEST_CR0) & CR0_PG) != 0,
		.long_mode = (vmx_vmread(VMCS_ENTRY_CTLS) & ENTRY_IA32E_MODE_GUEST) != 0,
		.cr3 = vmx_vmread(VMCS_GUEST_CR3),
	};
}

int vmx_guest_read(struct vmx_vcpu *v, uint64_t gla, void *buf, size_t len)
{
	struct core_paging pg = guest_paging();
	return core_guest_read(&v->vm->core, &pg, gla, buf, len);
}

int vmx_vm_mmio_access(struct vmx_vm *vm, uint64_t gpa, bool write, unsigned size, uint64_t *val)
{
	return core_vm_mmio_access(&vm->core, gpa, write, size, val);
}

/* Where the instruction that touched MMIO is: the core decodes it there. */
static struct core_mmio_site mmio_site(void)
{
	uint64_t cs_ar = vmx_vmread(VMCS_GUEST_ES_AR + 2u * VMX_CS);
	struct core_mmio_site site = { .pg = guest_paging() };
	site.long_mode_cs = (cs_ar & AR_L) && site.pg.long_mode;
	site.cs_32 = (cs_ar & AR_DB) != 0;
	site.rip_linear = (site.long_mode_cs ? 0 : vmx_vmread(VMCS_GUEST_ES_BASE + 2u * VMX_CS)) +
			  vmx_vmread(VMCS_GUEST_RIP);
	return site;
}

static int handle_ept_violation(struct vmx_vcpu *v)
{
	uint64_t gpa = vmx_vmread(VMCS_GUEST_PHYS_ADDR);
	struct vmx_ept_violation ev;
	vmx_decode_ept_violation(v->exit_qual, &ev);

	if (core_vm_mmio_find(&v->vm->core, gpa))
		return 1;   /* the neutral dispatch's (CORE_EXIT_MMIO) */
	port_log("vmx: EPT violation at GPA 0x%llx (%s%s%s) outside guest memory, RIP 0x%llx",
		 (unsigned long long)gpa, ev.read ? "read" : "", ev.write ? "write" : "",
		 ev.fetch ? "fetch" : "", (unsigned long long)vmx_vmread(VMCS_GUEST_RIP));
	return -PORT_EFAULT;
}

static int handle_ept_misconfig(struct vmx_vcpu *v)
{
	uint64_t gpa = vmx_vmread(VMCS_GUEST_PHYS_ADDR), entry = 0;
	unsigned level = 0;
	const struct vmx_vm_ops *ops = v->vm->ops;

	ept_lookup(&v->vm->core.ept, gpa, NULL, &entry, &level);
	port_log("vmx: EPT misconfiguration at GPA 0x%llx: level-%u entry 0x%llx",
		 (unsigned long long)gpa, level, (unsigned long long)entry);
	if (!ops || !ops->ept_misconfig)
		return -PORT_EFAULT;
	int rc = ops->ept_misconfig(v, gpa, entry);
	if (rc == VMX_CONTINUE)
		vmx_vm_flush_ept(v->vm);   /* the instruction restarts */
	return rc;
}

/* Apply what the neutral dispatch decided about the instruction. */
static int finish(struct vmx_vcpu *v, const struct core_exit *e, int rc)
{
	if (e->exception >= 0) {
		vmx_vcpu_inject_exception(v, (uint8_t)e->exception, 0);
	} else if (e->complete) {
		if (e->len) {
			vmx_vmwrite(VMCS_GUEST_RIP, vmx_vmread(VMCS_GUEST_RIP) + e->len);
			uint64_t block = vmx_vmread(VMCS_GUEST_INTERRUPTIBILITY);
			if (block & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
				vmx_vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
					    block & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
		} else {
			skip_instruction();
		}
	}
	return rc;
}

/* Read the exit (§27.2) into the core's terms; the few only VMX has stay
 * here. */
static int dispatch(struct vmx_vcpu *v)
{
	const struct vmx_vm_ops *ops = v->vm->ops;
	struct core_exit e = { .reason = CORE_EXIT_BACKEND, .vector = -1 };
	struct vmx_intr_info ii;
	struct vmx_io_access io;

	switch (v->exit_reason) {
	case EXIT_EXTERNAL_INTR:  /* acknowledged on exit: vector in the info */
		vmx_decode_intr_info((uint32_t)vmx_vmread(VMCS_EXIT_INTR_INFO), &ii);
		e.reason = CORE_EXIT_EXTINT;
		e.vector = ii.vector;
		if (!ops || !ops->core.external_intr)
			port_log("vmx: host interrupt %u during guest execution", ii.vector);
		break;
	case EXIT_INTR_WINDOW:
		e.reason = CORE_EXIT_INTR_WINDOW;
		break;
	case EXIT_CPUID:
		e.reason = CORE_EXIT_CPUID;
		break;
	case EXIT_HLT:
		e.reason = CORE_EXIT_HLT;
		break;
	case EXIT_VMCALL:
		e.reason = CORE_EXIT_HYPERCALL;
		break;
	case EXIT_IO:
		vmx_decode_io(v->exit_qual, &io);
		if (io.string) {
			port_log("vmx: string I/O on port 0x%x is not emulated", io.port);
			return -PORT_ENOTSUP;
		}
		e.reason = CORE_EXIT_IO;
		e.io = (struct core_io){ io.port, io.size, io.in };
		break;
	case EXIT_RDMSR:
	case EXIT_WRMSR:
		if (handle_efer(v, v->exit_reason == EXIT_WRMSR))
			return VMX_CONTINUE;
		e.reason = CORE_EXIT_MSR;
		e.msr_write = v->exit_reason == EXIT_WRMSR;
		break;
	case EXIT_EPT_VIOLATION: {
		int rc = handle_ept_violation(v);
		if (rc != 1)
			return rc;
		e.reason = CORE_EXIT_MMIO;
		e.gpa = vmx_vmread(VMCS_GUEST_PHYS_ADDR);
		e.site = mmio_site();
		break;
	}
	case EXIT_TRIPLE_FAULT:
		v->core.exits[CORE_EXIT_BACKEND]++;
		port_log("vmx: guest triple fault at RIP 0x%llx", (unsigned long long)vmx_vmread(VMCS_GUEST_RIP));
		return VMX_STOP_TRIPLE_FAULT;
	case EXIT_CR_ACCESS:
		v->core.exits[CORE_EXIT_BACKEND]++;
		return handle_cr_access(v);
	case EXIT_EPT_MISCONFIG:
		v->core.exits[CORE_EXIT_BACKEND]++;
		return handle_ept_misconfig(v);
	case EXIT_VIRT_EOI:       /* trap-like: the EOI is done, RIP is past it */
		v->core.exits[CORE_EXIT_BACKEND]++;
		return (ops && ops->eoi) ? ops->eoi(v, (uint8_t)v->exit_qual) : VMX_CONTINUE;
	case EXIT_APIC_WRITE:     /* trap-like; qualification = page offset (§27.2.1) */
		port_log("vmx: APIC-write exit at virtual-APIC offset 0x%llx (e.g. a self-IPI with a vector "
			 "below 16) is not emulated", (unsigned long long)(v->exit_qual & 0xfffu));
		return -PORT_ENOTSUP;
	case EXIT_TPR_BELOW_THRESHOLD:
	case EXIT_APIC_ACCESS:
		/* Neither can happen with the controls the core sets: TPR
		 * threshold exits need TPR shadow without virtual-interrupt
		 * delivery, APIC-access exits "virtualize APIC accesses". */
		port_log("vmx: unexpected VM exit %u (%s) with APIC virtualization %s, qualification 0x%llx",
			 v->exit_reason, vmx_exit_reason_name(v->exit_reason), v->apicv.on ? "on" : "off",
			 (unsigned long long)v->exit_qual);
		return -PORT_ENOTSUP;
	default:
		port_log("vmx: unhandled VM exit %u (%s), qualification 0x%llx, RIP 0x%llx", v->exit_reason,
			 vmx_exit_reason_name(v->exit_reason), (unsigned long long)v->exit_qual,
			 (unsigned long long)vmx_vmread(VMCS_GUEST_RIP));
		return -PORT_ENOTSUP;
	}
	int rc = core_handle_exit(&v->core, &e);
	if (rc < 0)
		return rc;
	return finish(v, &e, rc);
}

/* --- the run loop -------------------------------------------------------- */

int vmx_vcpu_run(struct vmx_vcpu *v)
{
	if (vmptrld(v->vmcs_pa))
		return -PORT_EIO;
	for (;;) {
		prepare_injection(v);
		vmx_vmwrite(VMCS_GUEST_RSP, v->core.gpr[GPR_RSP]);
		/* Every write since the last entry (set-up, handlers, injection). */
		int wr = vmx_vmwrite_status(v->launched ? "VMRESUME" : "VMLAUNCH");
		if (wr)
			return wr;
		int rc = vmx_enter(v->core.gpr, v->launched);
		if (rc == 1) {
			port_log("vmx: %s failed: VMfailInvalid (no current VMCS)", v->launched ? "VMRESUME" : "VMLAUNCH");
			return -PORT_EIO;
		}
		if (rc == 2) {
			uint32_t err = (uint32_t)vmx_vmread(VMCS_INSN_ERROR);
			port_log("vmx: %s failed: VM-instruction error %u (%s)", v->launched ? "VMRESUME" : "VMLAUNCH",
				 err, vmx_insn_error_name(err));
			return -PORT_EIO;
		}
		v->launched = true;
		v->core.gpr[GPR_RSP] = vmx_vmread(VMCS_GUEST_RSP);
		uint32_t reason = (uint32_t)vmx_vmread(VMCS_EXIT_REASON);
		v->exit_reason = EXIT_REASON_BASIC(reason);
		v->exit_qual = vmx_vmread(VMCS_EXIT_QUALIFICATION);
		if (v->exit_reason < EXIT_REASON_MAX)
			v->exits[v->exit_reason]++;
		if (reason & EXIT_REASON_ENTRY_FAILED) {
			/* §26.7: the guest-state checks failed after the VMCS was valid. */
			port_log("vmx: VM entry failed: exit reason %u (%s), qualification %llu",
				 v->exit_reason, vmx_exit_reason_name(v->exit_reason),
				 (unsigned long long)v->exit_qual);
			return -PORT_EINVAL;
		}
		/* §27.2.3: an event whose delivery caused the exit is re-injected. */
		uint32_t vec = (uint32_t)vmx_vmread(VMCS_IDT_VECTORING_INFO);
		if (vec & INTR_INFO_VALID) {
			v->reinject_info = vec & ~(1u << 12);
			v->reinject_err = (uint32_t)vmx_vmread(VMCS_IDT_VECTORING_ERRCODE);
			v->reinject_len = (uint32_t)vmx_vmread(VMCS_EXIT_INSN_LEN);
		}
		rc = dispatch(v);
		if (rc != VMX_CONTINUE)
			return rc;
	}
}
