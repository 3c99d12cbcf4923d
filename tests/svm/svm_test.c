/*
 * svm_test.c — the SVM backend under QEMU TCG (-cpu max emulates SVM with
 * nested paging; no VMX), with intel-iommu and a real edu: the platform
 * where a real guest's device traffic goes through our VT-d tables and
 * IRTEs on our bare-metal core.  SVM + VT-d is a test vehicle (real AMD
 * machines pair SVM with AMD-Vi); see docs/svm.md.
 *
 *   1. SVM on: CPUID, VM_CR, EFER.SVME, VM_HSAVE_PA; the VMCB as written;
 *      the NPT in its format (U/S = 1 at every level).
 *   2. The probe guest (guest_probe.c): CPUID, MSR, I/O, HLT and NPF exits,
 *      counted; SVM hidden from the guest (CPUID, EFER.SVME).
 *   3. The unchanged edu guest (tests/vmx/guest_edu.c, the VMX image's)
 *      drives the real edu: its config page trapped by bm_passthrough, its
 *      BAR mapped GPA = HPA, its DMA with GPAs through a VT-d domain that
 *      shares the NPT (run 1) or mirrors it (run 2, the same guest again:
 *      its state must reset), its MSI through our IRTE to a host vector
 *      that the host's IDT takes after an INTR exit, injected as the
 *      guest's vector.
 *   4. Faults: edu DMA to an unmapped and to a read-only GPA records a
 *      VT-d fault and leaves host memory unchanged (hashes); an MSI whose
 *      IRTE verifies another SID is blocked (fault 0x26).
 *
 * Exits are counted, never timed.  The variant (aw-bits, caching-mode)
 * comes on the command line and prefixes every line.
 */
#include <stdbool.h>
#include <stdint.h>

#include "baremetal/acpi.h"
#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/console.h"
#include "baremetal/cpu.h"
#include "baremetal/edu.h"
#include "baremetal/idt.h"
#include "baremetal/lapic.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "iommu/dmar.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_fault.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "port.h"
#include "tests/svm/svm_guest.h"
#include "tests/svm/svm_test.h"
#include "tests/vmx/guest_edu.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/svm/svm.h"
#include "vmm_glue/dev/bm_passthrough.h"

#define PAGE_SZ 4096ull
#define SZ_1G (1ull << 30)
#define EDU_CFG_GPA 0xb0018000ull  /* virtual: the guest's ECAM page for the edu */
#define EDU_VEC 0x45u              /* virtual: the guest's MSI vector */
#define EDU_HOST_VEC 0x5au         /* physical: the IRTE's vector */
#define EDU_APIC 0u
#define EDU_SEED 0x5eed0edu
#define DECOY 0xdecafbaddecafbadull
#define PROBE_PORT 0x7e0
#define PROBE_MMIO_GPA 0xa0000000ull
#define IR_FAULT_SID 0x26
#define WAIT_NS (5ull * 1000 * 1000 * 1000)
#define SVM_TESTS 33

extern uint64_t boot_pml4[512];

static struct svm_cpu cpu;
static struct edu edu;
static struct dmar_info dmar;
static struct vtd_unit unit;
static struct ir_table table;
static uint16_t edu_rid;

/* --- a guest's host side ----------------------------------------------------- */

struct rig {
	struct svm_vm vm;
	struct svm_vcpu v;
	uint64_t reported[16];
	uint32_t reported_mask;
	bool done;
	/* probe */
	uint32_t io_out, io_outs, io_ins;
	uint32_t mmio_reads, mmio_writes, mmio_written;
	/* edu */
	struct bmpt_dev dev;
	bool dev_up;
	unsigned hlt_waits, hlt_timeouts;
};

static struct rig *cur;       /* the rig whose device the host vector belongs to */
static int one_dma_fault(uint64_t page, struct vtd_fault *f);
static unsigned host_irqs, host_irqs_foreign;

static int rig_hypercall(struct core_vcpu *v)
{
	struct rig *r = v->vm->ctx;
	if (v->gpr[GPR_RAX] == CMD_REPORT) {
		if (v->gpr[GPR_RBX] < 16) {
			r->reported[v->gpr[GPR_RBX]] = v->gpr[GPR_RCX];
			r->reported_mask |= 1u << v->gpr[GPR_RBX];
		}
		return CORE_CONTINUE;
	}
	r->done = v->gpr[GPR_RAX] == CMD_DONE;
	return CORE_STOP_HANDLER;
}

/* The probe's port: a device model in the core's port-trap registry. */
static int probe_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	struct rig *r = ctx;
	if (port != PROBE_PORT || size != 4)
		return -PORT_EINVAL;
	*val = ~r->io_out;
	r->io_ins++;
	return 0;
}

static int probe_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct rig *r = ctx;
	if (port != PROBE_PORT || size != 4)
		return -PORT_EINVAL;
	r->io_out = val;
	r->io_outs++;
	return 0;
}

/* HLT: wait (interrupts on) for a host interrupt to leave a guest vector
 * pending — the edu's DMA completes 100 ms of QEMU time after its command
 * — bounded; the probe guest's HLT with IF = 0 returns at once. */
static int rig_hlt(struct core_vcpu *v)
{
	struct rig *r = v->vm->ctx;
	if (!(vmcb_rd(((struct svm_vcpu *)v)->vmcb, VMCB_RFLAGS) & (1ull << 9)))
		return CORE_CONTINUE;
	r->hlt_waits++;
	uint64_t end = clock_ns() + WAIT_NS;
	while (v->pending_irq < 0 && clock_ns() < end)
		__asm__ volatile("sti; pause; cli" ::: "memory");
	if (v->pending_irq < 0)
		r->hlt_timeouts++;
	return CORE_CONTINUE;
}

static const struct core_vm_ops rig_ops = { .hypercall = rig_hypercall, .hlt = rig_hlt };

/* The host vector of the edu's IRTE, taken by the host's IDT after the
 * INTR exit (or while the host waits in rig_hlt). */
static void host_vec_handler(struct idt_frame *f, void *ctx)
{
	(void)ctx;
	host_irqs++;
	if (!cur || !cur->dev_up || bmpt_dev_host_irq(&cur->dev, (uint8_t)f->vector) < 0)
		host_irqs_foreign++;
}

static int probe_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct rig *r = ctx;
	r->mmio_reads++;
	*val = size == 4 && gpa == PROBE_MMIO_GPA ? 0x5afe5afeu : ~0ull;
	return 0;
}

static int probe_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct rig *r = ctx;
	r->mmio_writes++;
	if (size == 4 && gpa == PROBE_MMIO_GPA + 4)
		r->mmio_written = (uint32_t)val;
	return 0;
}

static int rig_vm(struct rig *r)
{
	*r = (struct rig){ 0 };
	int rc = svm_vm_init(&r->vm, &cpu, &rig_ops, r);
	/* Guest RAM: the low GiB, identity (the image, its pool, its tables). */
	rc = rc ? rc : core_vm_map(&r->vm.core, 0, 0, SZ_1G, EPT_RWX | EPT_RAM, EPT_MT_WB);
	return rc;
}

static int rig_run(struct rig *r, void (*entry)(void), uint64_t rsp, uint64_t arg)
{
	return svm_guest_run64(&r->v, &r->vm, entry, rsp, arg);
}

static void rig_fini(struct rig *r)
{
	svm_vcpu_destroy(&r->v);
	svm_vm_destroy(&r->vm);
}

static uint32_t exits_total(const struct svm_vcpu *v)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < CORE_EXIT_COUNT; i++)
		n += v->core.exits[i];
	return n;
}

static void log_exits(const char *what, const struct svm_vcpu *v)
{
	char buf[200];
	unsigned at = 0;
	for (unsigned i = 0; i < CORE_EXIT_COUNT && at < sizeof(buf) - 24; i++)
		at += console_snprintf(buf + at, sizeof(buf) - at, "%s%s %u", i ? ", " : "", core_exit_reason_name(i),
				       v->core.exits[i]);
	tap_diag("%s: %u exits (%s); %u VMRUNs, %u injected, %u re-injected", what, exits_total(v), buf,
		 v->vmruns, v->injected, v->reinjected);
}

/* --- 1. SVM on -------------------------------------------------------------- */

/* Every non-leaf entry of the NPT, and every leaf, has U/S = 1 (§15.25.5). */
static bool npt_user_everywhere(const uint64_t *t, unsigned level, unsigned *entries)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & 1))
			continue;
		(*entries)++;
		if (!(e & NPT_US))
			return false;
		if (level > 1 && !(e & EPT_PAGE_SIZE) &&
		    !npt_user_everywhere(port_phys_to_virt(e & EPT_ADDR_MASK), level - 1, entries))
			return false;
	}
	return true;
}

static void test_svm_on(void)
{
	uint32_t r[4];
	cpuid(0x80000001u, 0, r);
	uint32_t ecx = r[2];
	cpuid(0x8000000au, 0, r);
	uint64_t vm_cr = rdmsr(MSR_VM_CR);
	int rc = svm_cpu_on(&cpu);
	uint64_t efer = rdmsr(MSR_EFER), hsave = rdmsr(MSR_VM_HSAVE_PA);
	tap_ok(rc == 0 && (ecx & CPUID_8000_0001_ECX_SVM) && (r[3] & CPUID_8000_000A_EDX_NP) && !(vm_cr & VM_CR_SVMDIS) &&
	       (efer & EFER_SVME) && hsave == port_virt_to_phys(cpu.hsave) && cpu.nasid > 1,
	       "SVM on: CPUID 8000_0001h ECX 0x%x (SVM), 8000_000Ah EDX 0x%x (NP %u, NRIPS %u), %u ASIDs, VM_CR 0x%llx; "
	       "EFER 0x%llx (SVME), VM_HSAVE_PA 0x%llx = the host-save page",
	       ecx, r[3], r[3] & 1, (r[3] >> 3) & 1, r[1], (unsigned long long)vm_cr, (unsigned long long)efer,
	       (unsigned long long)hsave);
	if (rc)
		tap_bail("svm_cpu_on: %d", rc);
}

/* --- 2. the probe guest --------------------------------------------------------- */

static uint8_t probe_stack[8192] __attribute__((aligned(16)));

static void test_probe(void)
{
	static struct rig r;
	static struct probe_params p = { .port = PROBE_PORT, .out_val = 0x12345678u, .mmio_gpa = PROBE_MMIO_GPA,
					 .mmio_val = 0xc0ffee11u };
	int rc = rig_vm(&r);
	const struct core_pio_ops pio = { probe_in, probe_out, &r };
	rc = rc ? rc : core_vm_trap_pio(&r.vm.core, PROBE_PORT, 4, &pio);
	static const struct core_mmio_ops mops = { probe_read, probe_write, NULL };
	struct core_mmio_ops ops = mops;
	ops.ctx = &r;
	rc = rc ? rc : core_vm_trap_mmio(&r.vm.core, PROBE_MMIO_GPA, PAGE_SZ, &ops);
	int run = rc ? rc : rig_run(&r, (void (*)(void))guest_probe_entry,
				   (uint64_t)(uintptr_t)(probe_stack + sizeof(probe_stack) - 8), (uint64_t)(uintptr_t)&p);
	log_exits("probe guest", &r.v);
	void *c = r.v.vmcb;
	bool ran = run == CORE_STOP_HANDLER && r.done;

	/* The VMCB as the backend wrote it, read back after the run. */
	uint64_t host_efer = rdmsr(MSR_EFER);
	tap_ok(ran && vmcb_rd(c, VMCB_N_CR3) == r.vm.core.ept.pml4_pa && (vmcb_rd(c, VMCB_NP_CTL) & 1) &&
	       vmcb_rd32(c, VMCB_ASID) == r.vm.asid && r.vm.asid != 0 &&
	       (vmcb_rd32(c, VMCB_INTERCEPT_2) & INTERCEPT2_VMRUN) && (vmcb_rd32(c, VMCB_INTERCEPT_1) & INTERCEPT1_INTR) &&
	       (vmcb_rd(c, VMCB_VINTR) & VINTR_MASKING) && (vmcb_rd(c, VMCB_EFER) & EFER_SVME) &&
	       vmcb_rd(c, VMCB_IOPM_BASE) == port_virt_to_phys(r.vm.iopm) &&
	       vmcb_rd(c, VMCB_MSRPM_BASE) == port_virt_to_phys(r.vm.msrpm),
	       "VMCB: N_CR3 0x%llx = the NPT root, NP_ENABLE, ASID %u, VMRUN and INTR intercepted, V_INTR_MASKING, "
	       "guest EFER 0x%llx keeps SVME (host 0x%llx), IOPM/MSRPM at the VM's maps; guest %s",
	       (unsigned long long)vmcb_rd(c, VMCB_N_CR3), vmcb_rd32(c, VMCB_ASID),
	       (unsigned long long)vmcb_rd(c, VMCB_EFER), (unsigned long long)host_efer,
	       ran ? "ran to its end" : "did not finish");

	unsigned entries = 0;
	bool us = npt_user_everywhere(r.vm.core.ept.pml4, 4, &entries);
	uint64_t e = 0, hpa = 0;
	unsigned level = 0;
	int lk = ept_lookup(&r.vm.core.ept, 0x200000, &hpa, &e, &level);
	tap_ok(us && entries > 1 && lk == 0 && hpa == 0x200000 && (e & 3) == 3 && (e & NPT_US) &&
	       !(e & (NPT_PWT | NPT_PCD)) && !(e >> 63) && (e & EPT_RAM),
	       "NPT format (APM §15.25): %u present entries, U/S = 1 at every level; GPA 0x200000 -> HPA 0x%llx "
	       "through a level-%u leaf 0x%llx (P, R/W, U/S, WB, executable, RAM)",
	       entries, (unsigned long long)hpa, level, (unsigned long long)e);

	bool host_svm = true;
	tap_ok(ran && (r.reported_mask & 1u << P_CPUID_ECX) && !(r.reported[P_CPUID_ECX] & CPUID_8000_0001_ECX_SVM) &&
	       host_svm && r.v.core.exits[CORE_EXIT_CPUID] == 2,
	       "CPUID: 2 exits; the guest's 8000_0001h ECX 0x%llx has SVM (bit 2) clear",
	       (unsigned long long)r.reported[P_CPUID_ECX]);
	uint32_t ebx0 = r.reported[P_CPUID0_EBX] & 0xffffffffu;
	uint32_t hr[4];
	cpuid(0, 0, hr);
	tap_ok(ran && ebx0 == hr[1], "CPUID 0 passes through: the guest's EBX 0x%x = the host's 0x%x", ebx0, hr[1]);
	tap_ok(ran && !(r.reported[P_EFER] & EFER_SVME) && !(r.reported[P_EFER_AFTER] & EFER_SVME) &&
	       (r.reported[P_EFER] & (1ull << 10)) && r.v.core.exits[CORE_EXIT_MSR] == 3 && (vmcb_rd(c, VMCB_EFER) & EFER_SVME),
	       "EFER: 3 MSR exits; the guest reads 0x%llx (LMA, SVME hidden), sets SVME and reads 0x%llx (still "
	       "clear); the VMCB's EFER 0x%llx keeps SVME", (unsigned long long)r.reported[P_EFER],
	       (unsigned long long)r.reported[P_EFER_AFTER], (unsigned long long)vmcb_rd(c, VMCB_EFER));
	tap_ok(ran && r.v.core.exits[CORE_EXIT_IO] == 2 && r.io_outs == 1 && r.io_ins == 1 && r.io_out == p.out_val &&
	       r.reported[P_IN] == (uint32_t)~p.out_val,
	       "I/O: 2 IOIO exits; OUT 0x%x reached the port trap's model, IN read 0x%llx from it; RIP from EXITINFO2",
	       r.io_out, (unsigned long long)r.reported[P_IN]);
	tap_ok(ran && r.v.core.exits[CORE_EXIT_HLT] == 1 && r.reported[P_AFTER_HLT] == 1 && r.hlt_waits == 0,
	       "HLT: 1 exit (IF = 0: no wait), the guest resumed after it");
	tap_ok(ran && r.v.core.exits[CORE_EXIT_MMIO] == 2 && r.mmio_reads == 1 && r.mmio_writes == 1 &&
	       r.reported[P_MMIO_READ] == 0x5afe5afeu && r.mmio_written == p.mmio_val,
	       "NPF: 2 nested page faults on the trapped page, decoded: the load read 0x%llx from the model, the "
	       "store wrote 0x%x", (unsigned long long)r.reported[P_MMIO_READ], r.mmio_written);
	tap_ok(ran && r.v.core.exits[CORE_EXIT_HYPERCALL] == P_COUNT + 1 && r.v.core.exits[CORE_EXIT_BACKEND] == 0,
	       "VMCALL (#UD on this CPU, intercepted): %u hypercalls for %u reports + done; no other exits",
	       r.v.core.exits[CORE_EXIT_HYPERCALL], (unsigned)P_COUNT);
	/* Issue 14 item 4: a VMCB field VMRUN would refuse is an error naming
	 * it, before VMRUN (the guest's EFER without SVME, on purpose). */
	uint32_t vmruns = r.v.vmruns;
	vmcb_wr(c, VMCB_EFER, vmcb_rd(c, VMCB_EFER) & ~EFER_SVME);
	const char *bad = svm_vmcb_check(&r.v);
	int again = svm_vcpu_run(&r.v);
	tap_ok(bad && bad[0] == 'E' && again == -PORT_EINVAL && r.v.vmruns == vmruns,
	       "a VMCB with the guest's EFER.SVME clear is refused before VMRUN naming the field (%s): run %d, "
	       "no VMRUN", bad ? bad : "none", again);
	/* A trap is removable: after core_vm_untrap_mmio the GPA is nobody's. */
	uint64_t val = 0;
	int before = core_vm_mmio_access(&r.vm.core, PROBE_MMIO_GPA, false, 4, &val);
	int un = core_vm_untrap_mmio(&r.vm.core, PROBE_MMIO_GPA);
	int after = core_vm_mmio_access(&r.vm.core, PROBE_MMIO_GPA, false, 4, &val);
	bool iopm_before = (r.vm.iopm[PROBE_PORT / 8] >> (PROBE_PORT % 8)) & 1;
	int unp = core_vm_untrap_pio(&r.vm.core, PROBE_PORT);
	bool iopm_after = (r.vm.iopm[PROBE_PORT / 8] >> (PROBE_PORT % 8)) & 1;
	tap_ok(before == 0 && un == 0 && after == -PORT_ENOENT && core_vm_mmio_free(&r.vm.core) == CORE_MAX_MMIO &&
	       iopm_before && unp == 0 && !iopm_after,
	       "traps removed: MMIO access %d before, %d after, all %u slots free; port 0x%x's IOPM bit %u -> %u",
	       before, after, CORE_MAX_MMIO, PROBE_PORT, iopm_before, iopm_after);
	rig_fini(&r);
}

/* --- 3. the edu guest on the real edu --------------------------------------------- */

struct edu_run {
	uint8_t *ram, *decoy;
	struct guest_edu_params p;
	struct bmpt_dma dma;
};

static bool no_faults(void)
{
	struct vtd_fault f[4];
	return vtd_fault_collect(&unit, f, 4, NULL) == 0;
}

static struct rig r;           /* the edu guest's VM (one run at a time) */
static struct edu_run e;
static unsigned stage;         /* 1: domain, 2: attached */

static void edu_teardown(void)
{
	cur = NULL;
	if (r.dev_up)
		bmpt_dev_fini(&r.dev);
	r.dev_up = false;
	if (stage >= 2)
		bmpt_dma_detach(&e.dma, edu_rid);
	if (stage >= 1)
		bmpt_dma_fini(&e.dma);
	stage = 0;
	rig_fini(&r);
}

/* The IRTE the route wrote: remapped format, present, the host vector, this
 * CPU, verifying the edu's SID (VT-d 9.10). */
static void check_irte(unsigned run_no, const char *mode)
{
	uint16_t idx = r.dev.route.base;
	struct irte hw = r.dev_up ? table.entries[idx] : (struct irte){ 0, 0 };
	unsigned dst = (unsigned)((hw.lo >> IRTE_LO_DST_SHIFT) >> IRTE_DST_XAPIC_SHIFT) & 0xffu;
	tap_ok(r.dev_up && (hw.lo & IRTE_LO_P) && !(hw.lo & IRTE_LO_IM) &&
	       ((hw.lo & IRTE_LO_VECTOR_MASK) >> IRTE_LO_VECTOR_SHIFT) == EDU_HOST_VEC && dst == lapic_id() &&
	       (hw.hi & 0xffffu) == edu_rid && ((hw.hi >> 18) & 3u) == 1,
	       "run %u (%s): IRTE %u = 0x%016llx_%016llx: present, remapped format, vector 0x%x, APIC %u, SVT = SID "
	       "0x%04x", run_no, mode, idx, (unsigned long long)hw.hi, (unsigned long long)hw.lo, EDU_HOST_VEC, dst,
	       (unsigned)(hw.hi & 0xffffu));
}

static void test_edu_guest(unsigned run_no, bool mirror)
{
	static struct ir_vcpu ir_vcpu;
	static struct ir_guest guest;
	static struct core_vcpu *vcpus[1];
	static struct core_glue glue;   /* the core, as bm_passthrough's device side reaches it */
	const char *mode = mirror ? "mirror" : "share";

	stage = 0;
	int rc = rig_vm(&r);
	if (!e.ram) {
		e.ram = mem_alloc_contig(2 * PAGE_SZ, PAGE_SZ);
		e.decoy = mem_alloc_contig(2 * PAGE_SZ, PAGE_SZ);
	}
	if (!e.ram || !e.decoy)
		rc = -PORT_ENOMEM;
	uint64_t ram_pa = rc ? 0 : port_virt_to_phys(e.ram), decoy_pa = rc ? 0 : port_virt_to_phys(e.decoy);
	if (!rc) {
		for (unsigned i = 0; i < 2 * PAGE_SZ / 8; i++) {
			((volatile uint64_t *)e.decoy)[i] = DECOY;
			((volatile uint64_t *)e.ram)[i] = 0;
		}
		e.p = (struct guest_edu_params){ .cfg_gpa = EDU_CFG_GPA, .src_gpa = decoy_pa, .dst_gpa = decoy_pa + PAGE_SZ,
						 .len = (uint32_t)PAGE_SZ, .seed = EDU_SEED, .vector = EDU_VEC,
						 .apic_id = EDU_APIC };
	}
	/* GPA A/B (the decoys' addresses) -> the ram pages; the BAR at GPA = HPA, uncached. */
	rc = rc ? rc : core_vm_map(&r.vm.core, decoy_pa, ram_pa, 2 * PAGE_SZ, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : core_vm_map(&r.vm.core, edu.mmio & ~(PAGE_SZ - 1), edu.mmio & ~(PAGE_SZ - 1), PAGE_SZ,
				   EPT_R | EPT_W, EPT_MT_UC);
	rc = rc ? rc : bmpt_dma_init(&e.dma, &r.vm.core, &unit, mirror ? BMPT_FORCE_MIRROR : 0);
	stage += !rc;
	rc = rc ? rc : bmpt_dma_attach(&e.dma, edu_rid);
	stage += !rc;
	if (!rc) {
		ir_vcpu = (struct ir_vcpu){ .virt_apic_id = EDU_APIC, .host_apic_id = lapic_id() };
		guest = (struct ir_guest){ .name = "edu", .vcpus = &ir_vcpu, .n_vcpus = 1 };
		vcpus[0] = &r.v.core;
		const struct bmpt_dev_cfg dc = {
			.rid = edu_rid, .cfg = { pci_cfg_read, pci_cfg_write, (void *)edu.pci },
			.virt_cfg_gpa = EDU_CFG_GPA, .dma = &e.dma, .table = &table, .guest = &guest,
			.host_vector = EDU_HOST_VEC,
		};
		/* The vCPU's core part must exist before a host vector can name it. */
		r.v.core.vm = &r.vm.core;
		rc = core_glue_init(&glue, &r.vm.core, &guest, vcpus);
		rc = rc ? rc : bmpt_dev_init(&r.dev, &glue.glue, &dc);
		r.dev_up = !rc;
	}
	cur = &r;
	host_irqs = host_irqs_foreign = 0;
	(void)one_dma_fault;
	idt_reset_count(EDU_HOST_VEC);
	int run = rc ? rc : rig_run(&r, (void (*)(void))guest_edu_entry,
				   (uint64_t)(uintptr_t)(guest_edu_stack + sizeof(guest_edu_stack) - 8),
				   (uint64_t)(uintptr_t)&e.p);
	tap_diag("edu guest run %u (%s): setup %d, run %d, domain: %s; %u host interrupts (%u not the edu's), "
		 "%u HLT waits (%u timed out)", run_no, mode, rc, run, e.dma.why, host_irqs, host_irqs_foreign,
		 r.hlt_waits, r.hlt_timeouts);
	log_exits("edu guest", &r.v);
	bool ran = run == CORE_STOP_HANDLER && r.done &&
		   (r.reported_mask & ((1u << E_COUNT) - 1)) == (1u << E_COUNT) - 1;

	/* (a) the config page, the virtual MSI, the physical one remappable. */
	struct msi_compat mc = { 0 };
	int dec = msi_compat_decode(&r.dev.msi_state.vec[0].virt_msi, &mc);
	uint16_t phys_ctrl = pci_read16(edu.pci, (uint16_t)(edu.msi_cap + BMPT_MSI_CTRL));
	uint32_t phys_addr = pci_read32(edu.pci, (uint16_t)(edu.msi_cap + BMPT_MSI_ADDR_LO));
	tap_ok(ran && r.reported[E_CFG_ID] == EDU_CFG_ID_VAL && r.reported[E_MSI_CAP] == edu.msi_cap &&
	       r.reported[E_BAR0] == edu.mmio && r.reported[E_MMIO_ID] == EDU_ID_VAL && dec == 0 &&
	       mc.vector == EDU_VEC && mc.dest_id == EDU_APIC && !r.dev.msi_state.vec[0].virt_masked && r.dev.route_open &&
	       r.dev.last_update == 0 && (phys_ctrl & BMPT_MSI_CTRL_EN) && (phys_addr & MSI_ADDR_IF),
	       "run %u (%s): the guest read ID 0x%08llx through its trapped config page, MSI at 0x%llx, BAR0 0x%llx "
	       "(GPA = HPA), ID 0x%08llx through BAR0; its virtual MSI vector 0x%x to APIC %u; the edu's own MSI "
	       "remappable (0x%08x, control 0x%04x)", run_no, mode, (unsigned long long)r.reported[E_CFG_ID],
	       (unsigned long long)r.reported[E_MSI_CAP], (unsigned long long)r.reported[E_BAR0],
	       (unsigned long long)r.reported[E_MMIO_ID], mc.vector, mc.dest_id, phys_addr, phys_ctrl);

	/* (b) DMA where the VT-d table says. */
	uint64_t vt_a = 0, vt_b = 0;
	unsigned fl_a = 0, fl_b = 0;
	int ta = vtd_domain_translate(&e.dma.dom, e.p.src_gpa, &vt_a, &fl_a, NULL);
	int tb = vtd_domain_translate(&e.dma.dom, e.p.dst_gpa, &vt_b, &fl_b, NULL);
	unsigned at_a = guest_edu_pattern_bytes(e.ram, e.p.len, EDU_SEED);
	unsigned at_b = guest_edu_pattern_bytes(e.ram + PAGE_SZ, e.p.len, EDU_SEED);
	bool decoys = guest_edu_filled(e.decoy, 2 * PAGE_SZ, DECOY);
	bool shared_ok = mirror ? e.dma.mode == BMPT_MIRROR && (void *)e.dma.dom.top != (void *)r.vm.core.ept.pml4
				: e.dma.mode == BMPT_SHARED;
	tap_ok(ran && shared_ok && ta == 0 && tb == 0 && vt_a == ram_pa && vt_b == ram_pa + PAGE_SZ &&
	       r.reported[E_DMA1_IDLE] == 1 && r.reported[E_DMA2_IDLE] == 1 && r.reported[E_MATCH] == e.p.len &&
	       at_a == e.p.len && at_b == e.p.len && decoys,
	       "run %u (%s): the domain (%s the NPT) translates GPA 0x%llx -> 0x%llx and 0x%llx -> 0x%llx; the "
	       "edu's DMA A -> edu -> B left %u/%u pattern bytes at HPA 0x%llx, the guest found %llu at GPA B; "
	       "the pages at HPA = GPA %s", run_no, mode, e.dma.mode == BMPT_SHARED ? "sharing" : "mirroring",
	       (unsigned long long)e.p.src_gpa, (unsigned long long)vt_a, (unsigned long long)e.p.dst_gpa,
	       (unsigned long long)vt_b, at_b, e.p.len, (unsigned long long)(ram_pa + PAGE_SZ),
	       (unsigned long long)r.reported[E_MATCH], decoys ? "hold their sentinel" : "were written");

	/* (c) the MSI: IRTE -> host vector -> guest vector, once. */
	uint64_t took = idt_count(EDU_HOST_VEC);
	tap_ok(ran && r.reported[E_IRQ_COUNT] == 1 && r.reported[E_IRQ_STRAY] == 0 &&
	       r.reported[E_IRQ_STATUS] == EDU_DMA_IRQ && r.reported[E_STATUS_AFTER] == 0 && r.dev.injected == 1 &&
	       r.v.injected == 1 && took == 1 && host_irqs == 1 && host_irqs_foreign == 0 && no_faults(),
	       "run %u (%s): the edu's MSI through IRTE %u arrived on host vector 0x%x (%llu time(s), %u INTR "
	       "exits), was injected by EVENTINJ as guest vector 0x%x and taken %llu time(s) by the guest's handler "
	       "(status 0x%llx, 0x%llx after its ack); no VT-d fault", run_no, mode, r.dev.route.base, EDU_HOST_VEC,
	       (unsigned long long)took, r.v.core.exits[CORE_EXIT_EXTINT], EDU_VEC, (unsigned long long)r.reported[E_IRQ_COUNT],
	       (unsigned long long)r.reported[E_IRQ_STATUS], (unsigned long long)r.reported[E_STATUS_AFTER]);

	/* ... and the delivery was the core's: the MSI route bm_passthrough keeps
	 * for the edu (core_glue_host_irq) injected once per arrival. */
	const struct glue_msi_route *q = r.dev.groute;
	tap_ok(ran && q && q->host_vector == EDU_HOST_VEC && took == 1 && q->injected == took && !q->pending,
	       "run %u (%s): the core's MSI route for host vector 0x%x injected %llu guest vector(s) via "
	       "core_glue_host_irq for %llu arrival(s); none left pending", run_no, mode, EDU_HOST_VEC,
	       q ? (unsigned long long)q->injected : 0ull, (unsigned long long)took);

	/* (d) counted, not timed: the exits one DMA round trip cost. */
	tap_ok(ran && r.v.core.exits[CORE_EXIT_BACKEND] == 0 && r.v.core.exits[CORE_EXIT_MMIO] >= 5 &&
	       r.v.core.exits[CORE_EXIT_HYPERCALL] == E_COUNT + 1,
	       "run %u (%s): %u exits for the whole driver run (%u NPF on the config page, %u hypercalls, %u HLT, "
	       "%u INTR, %u VINTR); BAR0 and the DMA itself cost none", run_no, mode, exits_total(&r.v),
	       r.v.core.exits[CORE_EXIT_MMIO], r.v.core.exits[CORE_EXIT_HYPERCALL], r.v.core.exits[CORE_EXIT_HLT], r.v.core.exits[CORE_EXIT_EXTINT],
	       r.v.core.exits[CORE_EXIT_INTR_WINDOW]);

	check_irte(run_no, mode);
	if (!mirror) {
		/* Shared: the unit walks the NPT itself (4-level: its root; 3-level: the PDPT under PML4[0]). */
		uint64_t top = port_virt_to_phys(e.dma.dom.top), npt = r.vm.core.ept.pml4_pa;
		uint64_t want = e.dma.dom.levels == 4 ? npt : ept_entry_addr(r.vm.core.ept.pml4[0]);
		tap_ok(stage == 2 && e.dma.mode == BMPT_SHARED && top == want,
		       "run %u: the domain's %u-level table IS the NPT (SLPTPTR 0x%llx, NPT root 0x%llx): one table for "
		       "the CPU and the device", run_no, e.dma.dom.levels, (unsigned long long)top,
		       (unsigned long long)npt);
		/* Issue 13 item 7: the core reads only RAM leaves; a GPA whose
		 * leaf is the BAR is an error, never read (a read has side effects). */
		struct core_paging pg = { .paging = true, .long_mode = true, .cr3 = (uint64_t)(uintptr_t)boot_pml4 };
		uint32_t word = 0, id = 0;
		int ram_rc = core_guest_read(&r.vm.core, &pg, e.p.dst_gpa, &word, 4);
		int bar_rc = core_guest_read(&r.vm.core, &pg, edu.mmio, &id, 4);
		tap_ok(ram_rc == 0 && word == (uint32_t)guest_edu_pattern(EDU_SEED, 0) && bar_rc == -PORT_EFAULT && id == 0,
		       "run %u: the core reads guest RAM (GPA B: 0x%08x) but refuses GPA 0x%llx, whose leaf is the edu's "
		       "BAR (%d): only RAM leaves are read", run_no, word, (unsigned long long)edu.mmio, bar_rc);
	}
}

/* --- 4. faults ---------------------------------------------------------------------- */

static uint64_t fnv(const void *p, uint64_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint64_t i = 0; i < len; i++)
		h = (h ^ ((const volatile uint8_t *)p)[i]) * 0x100000001b3ull;
	return h;
}

static int one_dma_fault(uint64_t page, struct vtd_fault *f)
{
	struct vtd_fault fs[4];
	int n = vtd_fault_collect(&unit, fs, 4, NULL);
	if (n < 1)
		return -1;
	*f = fs[0];
	return n == 1 && !fs[0].irq && fs[0].sid == edu_rid && (fs[0].addr & ~(PAGE_SZ - 1)) == page && fs[0].write
		       ? 0
		       : -1;
}

/* The edu, from the host, writes its buffer to a GPA the domain does not
 * map, then to one it maps read-only: a fault each, no byte lands. */
static void test_dma_faults(void)
{
	static struct rig r;   /* a VM of its own: RAM minus two pages */
	static struct bmpt_dma dma;
	uint8_t *hole = mem_alloc_contig(PAGE_SZ, PAGE_SZ), *ro = mem_alloc_contig(2 * PAGE_SZ, PAGE_SZ);
	int rc = hole && ro ? rig_vm(&r) : -PORT_ENOMEM;
	uint64_t hole_pa = rc ? 0 : port_virt_to_phys(hole), ro_pa = rc ? 0 : port_virt_to_phys(ro);
	rc = rc ? rc : core_vm_unmap(&r.vm.core, hole_pa, PAGE_SZ);
	rc = rc ? rc : core_vm_map(&r.vm.core, ro_pa, ro_pa + PAGE_SZ, PAGE_SZ, EPT_R | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : bmpt_dma_init(&dma, &r.vm.core, &unit, 0);
	int at = rc ? rc : bmpt_dma_attach(&dma, edu_rid);
	no_faults();
	uint64_t e_ro = 0, hpa = 0, vt = 0;
	unsigned fl = 0;
	int lk = ept_lookup(&r.vm.core.ept, ro_pa, &hpa, &e_ro, NULL);
	int th = at ? at : vtd_domain_translate(&dma.dom, hole_pa, &vt, &fl, NULL);
	int tr = at ? at : vtd_domain_translate(&dma.dom, ro_pa, &vt, &fl, NULL);
	tap_ok(lk == 0 && hpa == ro_pa + PAGE_SZ && (e_ro & 1) && !(e_ro & 2) && th == -PORT_ENOENT && tr == 0 &&
	       vt == ro_pa + PAGE_SZ && fl == VTD_MAP_READ,
	       "the fault VM's table (%s): GPA 0x%llx unmapped for the unit (%d); GPA 0x%llx -> 0x%llx read-only "
	       "(NPT leaf 0x%llx: P, no R/W)", dma.why, (unsigned long long)hole_pa, th, (unsigned long long)ro_pa,
	       (unsigned long long)vt, (unsigned long long)e_ro);
	for (unsigned i = 0; i < PAGE_SZ; i++) {
		hole[i] = (uint8_t)(i * 7);
		ro[i] = (uint8_t)(i * 13);
		ro[PAGE_SZ + i] = (uint8_t)(i * 3);
	}
	uint64_t h_hole = fnv(hole, PAGE_SZ), h_ro = fnv(ro, 2 * PAGE_SZ);
	int w1 = at ? at : edu_dma_write_sync(&edu, hole_pa, 0, 256);
	struct vtd_fault f = { 0 };
	int f1 = one_dma_fault(hole_pa, &f);
	tap_ok(at == 0 && w1 == 0 && f1 == 0 && fnv(hole, PAGE_SZ) == h_hole,
	       "DMA to unmapped GPA 0x%llx: VT-d fault reason 0x%x (%s) from %02x:%02x.%u recorded; the page at HPA "
	       "= GPA unchanged (hash)", (unsigned long long)hole_pa, f.reason, vtd_fault_reason_name(f.reason),
	       f.sid >> 8, (f.sid >> 3) & 31, f.sid & 7);
	int w2 = at ? at : edu_dma_write_sync(&edu, ro_pa, 0, 256);
	f = (struct vtd_fault){ 0 };
	int f2 = one_dma_fault(ro_pa, &f);
	tap_ok(at == 0 && w2 == 0 && f2 == 0 && fnv(ro, 2 * PAGE_SZ) == h_ro,
	       "DMA to read-only GPA 0x%llx (-> HPA 0x%llx): VT-d fault reason 0x%x (%s) recorded; neither page "
	       "changed (hash)", (unsigned long long)ro_pa, (unsigned long long)(ro_pa + PAGE_SZ), f.reason,
	       vtd_fault_reason_name(f.reason));
	/* The read direction through the same read-only leaf is allowed. */
	int rd = at ? at : edu_dma_read_sync(&edu, ro_pa, 0, 256);
	tap_ok(rd == 0 && no_faults(), "DMA read from the read-only GPA: allowed, no fault");
	if (!at)
		bmpt_dma_detach(&dma, edu_rid);
	if (!rc)
		bmpt_dma_fini(&dma);
	rig_fini(&r);
}

/* An IRTE that verifies another requester's SID: the edu's MSI is blocked
 * (fault 0x26), the host vector never fires; restored, it fires. */
static void test_forged_sid(const struct bmpt_dev *dev)
{
	uint16_t idx = dev->route.base;
	struct irte saved = table.entries[idx], forged = saved;
	/* VT-d 9.10: SID 79:64, SQ 81:80, SVT 83:82 (hi bits 15:0, 17:16, 19:18). */
	forged.hi = (forged.hi & ~0xffffull) | (uint16_t)(edu_rid ^ 0x0008);
	int s = ir_table_set(&table, idx, &forged);
	idt_reset_count(EDU_HOST_VEC);
	no_faults();
	edu_irq_raise(&edu, 1);
	idt_wait_count(EDU_HOST_VEC, 1, 500ull * 1000 * 1000);
	edu_irq_ack(&edu, 1);
	struct vtd_fault fs[4];
	int n = vtd_fault_collect(&unit, fs, 4, NULL);
	uint64_t blocked = idt_count(EDU_HOST_VEC);
	tap_ok(s == 0 && ((saved.hi >> 18) & 3) == 1 && blocked == 0 && n == 1 && fs[0].irq &&
	       fs[0].reason == IR_FAULT_SID && fs[0].sid == edu_rid && fs[0].ir_index == idx,
	       "forged SID: IRTE %u verifies SID 0x%04x, the edu is 0x%04x: its MSI blocked (%llu on the host "
	       "vector), fault 0x%x recorded for index %u", idx, edu_rid ^ 0x0008, edu_rid,
	       (unsigned long long)blocked, n > 0 ? fs[0].reason : 0, n > 0 ? fs[0].ir_index : 0);
	s = ir_table_set(&table, idx, &saved);
	idt_reset_count(EDU_HOST_VEC);
	edu_irq_raise(&edu, 1);
	int w = idt_wait_count(EDU_HOST_VEC, 1, WAIT_NS);
	edu_irq_ack(&edu, 1);
	tap_ok(s == 0 && w == 0 && idt_count(EDU_HOST_VEC) == 1 && no_faults(),
	       "IRTE %u restored to the edu's SID: delivered again on 0x%x", idx, EDU_HOST_VEC);
}

/* --- the image ------------------------------------------------------------------------- */

void test_main(void)
{
	char aw[8] = "?", cm[8] = "?", prefix[32];
	boot_cmdline_get("aw", aw, sizeof(aw));
	boot_cmdline_get("cm", cm, sizeof(cm));
	console_snprintf(prefix, sizeof(prefix), "svm aw%s cm %s", aw, cm);
	tap_set_prefix(prefix);
	tap_plan(SVM_TESTS);

	const struct acpi_header *t = acpi_find("DMAR", 0);
	if (!t || dmar_parse(t, t->length, 0, &dmar) || !dmar.ndrhd)
		tap_bail("no ACPI DMAR: run with -device intel-iommu,intremap=on");
	if (edu_find(&edu, 0))
		tap_bail("no edu: run with -device edu");
	edu_rid = pci_rid(edu.pci);
	int rc = vtd_unit_init(&unit, dmar.drhd[0].reg_base, 0);
	rc = rc ? rc : vtd_unit_enable(&unit);
	rc = rc ? rc : ir_table_init(&table, 256, 0);
	rc = rc ? rc : ir_table_enable(&table, &unit);
	unsigned want_aw = aw[0] == '3' ? 39 : 48;
	bool want_cm = cm[0] == 'o' && cm[1] == 'n';
	tap_ok(rc == 0 && unit.caps.ir && (unit.caps.sagaw & (want_aw == 48 ? 4u : 2u)) && unit.caps.cm == want_cm,
	       "VT-d unit up with interrupt remapping: CAP.SAGAW 0x%x (aw-bits %u), CM %u, SLLPS 0x%x, ECAP.C %u; "
	       "edu %02x:%02x.%u", unit.caps.sagaw, want_aw, unit.caps.cm, unit.caps.sllps, unit.caps.c,
	       edu_rid >> 8, (edu_rid >> 3) & 31, edu_rid & 7);
	if (rc)
		tap_bail("VT-d bring-up: %d", rc);
	idt_set_handler(EDU_HOST_VEC, host_vec_handler, NULL);

	test_svm_on();                 /* 1 */
	test_probe();                  /* 11 */
	test_edu_guest(1, false);      /* 8: shares the NPT */
	test_forged_sid(&r.dev);       /* 2 */
	edu_teardown();
	test_edu_guest(2, true);       /* 6: mirrors the NPT; the same guest again, its state reset */
	edu_teardown();
	test_dma_faults();             /* 4 */
	svm_cpu_off(&cpu);
	tap_diag("fault injected on purpose: none in this build");
}
