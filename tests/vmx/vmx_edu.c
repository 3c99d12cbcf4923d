/*
 * vmx_edu.c — a launched guest (guest_edu.c) drives an edu through the
 * VMX core and bm_passthrough: its config page trapped by bmpt_dev_init,
 * its DMA with guest-physical addresses, its MSI with a guest vector.
 *
 * Bochs has VMX but neither an edu nor an IOMMU, so here the edu is a
 * host-side model:
 *   - its BAR0 page is trapped (vmx_vm_trap_mmio at the BAR's GPA): the
 *     guest's register accesses are EPT violations the core decodes;
 *   - its config space is a model behind bm_passthrough's config-page trap
 *     (bmpt_dev_init with no IR table: the guest's MSI is recorded as the
 *     virtual MSI only, the device's own MSI stays off);
 *   - on the DMA command it copies with the guest-physical addresses
 *     translated through the guest's EPT (ept_lookup) — what the VT-d unit
 *     does when the domain shares the EPT (bm_passthrough.h) — and refuses
 *     an address the EPT does not map or lacks the permission for;
 *   - its completion interrupt is the virtual MSI the guest programmed
 *     (dev.msi_state.vec[0].virt_msi, decoded with irq_remap/msi.h) injected with
 *     vmx_vcpu_inject_irq — standing in for what VT-d does: IRTE -> host
 *     vector -> bmpt_dev_host_irq -> the same injection.
 *
 * The guest's buffers are where GPA != HPA: GPAs A and B are the physical
 * addresses of two host "decoy" pages filled with a sentinel, and the EPT
 * maps them to two other host pages.  A store or a DMA done with an
 * untranslated address would land in a decoy; the test asserts the bytes
 * are at the HPAs the EPT names and the decoys are untouched.
 */
#include <stdint.h>

#include "baremetal/acpi.h"
#include "baremetal/edu.h"
#include "baremetal/lapic.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "iommu/dmar.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "irq_remap/msi.h"
#include "port.h"
#include "tests/vmx/guest_edu.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/dev/bm_passthrough.h"
#include "vmm_glue/core/ept.h"
#include "vmm_glue/vmx/vmx.h"

#define PAGE_SZ 4096ull
#define SZ_1G (1ull << 30)
#define EDU_CFG_GPA 0xb0018000ull  /* virtual: the guest's ECAM page for the edu */
#define EDU_BAR_GPA 0xfea00000ull  /* the model's BAR0 (a real edu's BAR is at GPA = HPA) */
#define EDU_RID 0x0018             /* 00:03.0 */
#define EDU_VEC 0x45u              /* virtual: the guest's MSI vector */
#define EDU_APIC 0u                /* the vCPU's virtual APIC ID */
#define EDU_SEED 0x5eed0edu
#define DECOY 0xdecafbaddecafbadull
#define EDU_HOST_VEC 0x5au         /* physical: the IRTE's vector (VT-d variant) */

extern uint64_t boot_pml4[512];

/* --- the edu model ---------------------------------------------------------- */

#define M_CAP_VNDR 0x40            /* a vendor-specific capability first ... */
#define M_CAP_MSI 0x60             /* ... so the guest's walk has a hop to make */

struct edu_dma_log {
	uint64_t src, dst;             /* as the guest wrote them */
	uint64_t hpa;                  /* the RAM side translated through the EPT */
	uint32_t len;
	bool to_ram;
	int rc;                        /* 0, or why the model refused */
};

struct edu_model {
	struct vmx_vm *vm;
	struct vmx_vcpu *vcpu;
	struct bmpt_dev *dev;
	uint8_t cfg[256];
	uint16_t command;              /* what bm_passthrough wrote to Command */
	unsigned command_writes;
	uint32_t liveness, irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint8_t buf[4096];
	struct edu_dma_log log[4];
	unsigned dmas;                 /* transfers started */
	unsigned msis, msis_dropped;   /* MSIs injected / not delivered */
	uint8_t msi_vector;
	unsigned bar_reads, bar_writes;
};

static uint32_t m_cfg_read(void *ctx, unsigned off, unsigned size)
{
	struct edu_model *m = ctx;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (off + i < sizeof(m->cfg) ? (uint32_t)m->cfg[off + i] : 0u) << (8 * i);
	return v;
}

static void m_cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	struct edu_model *m = ctx;
	/* Writable: Command, and the MSI capability's control, address, data. */
	for (unsigned i = 0; i < size; i++) {
		unsigned b = off + i;
		uint8_t byte = (uint8_t)(val >> (8 * i));
		if (b == 0x04 || b == 0x05 || (b >= M_CAP_MSI + 2 && b < M_CAP_MSI + 14))
			m->cfg[b] = byte;
	}
	if (off <= 0x05 && off + size > 0x04) {
		m->command = (uint16_t)(m->cfg[4] | m->cfg[5] << 8);
		m->command_writes++;
	}
}

static void m_cfg_init(struct edu_model *m)
{
	static const uint8_t hdr[16] = { 0x34, 0x12, 0xe8, 0x11, 0x00, 0x00, 0x10, 0x00, /* status: cap list */
					 0x10, 0x00, 0xff, 0x00 };                        /* rev 0x10, class 00ff */
	for (unsigned i = 0; i < sizeof(m->cfg); i++)
		m->cfg[i] = i < sizeof(hdr) ? hdr[i] : 0;
	uint32_t bar = (uint32_t)EDU_BAR_GPA;          /* 32-bit memory BAR, not prefetchable */
	for (unsigned i = 0; i < 4; i++)
		m->cfg[0x10 + i] = (uint8_t)(bar >> (8 * i));
	m->cfg[0x34] = M_CAP_VNDR;
	m->cfg[M_CAP_VNDR] = 0x09;                     /* vendor specific, length 4 */
	m->cfg[M_CAP_VNDR + 1] = M_CAP_MSI;
	m->cfg[M_CAP_VNDR + 2] = 4;
	m->cfg[M_CAP_MSI] = 0x05;                      /* MSI (QEMU's edu: 64-bit, one message) */
	m->cfg[M_CAP_MSI + 2] = 0x80;
}

/* Copy `len` bytes between guest-physical `gpa` and the model's buffer,
 * page by page through the EPT (needs R to read RAM, W to write it). */
static int m_dma_ram(struct edu_model *m, uint64_t gpa, uint8_t *buf, uint32_t len, bool to_ram, uint64_t *first_hpa)
{
	for (uint32_t done = 0; done < len;) {
		uint64_t hpa, e;
		if (core_vm_lookup(&m->vm->core, gpa + done, &hpa, &e))
			return -PORT_EFAULT;
		if (!(e & (to_ram ? EPT_W : EPT_R)))
			return -PORT_EPERM;
		if (!done)
			*first_hpa = hpa;
		uint32_t n = (uint32_t)(PAGE_SZ - ((gpa + done) & (PAGE_SZ - 1)));
		if (n > len - done)
			n = len - done;
		uint8_t *ram = port_phys_to_virt(hpa);
		for (uint32_t i = 0; i < n; i++) {
			if (to_ram)
				ram[i] = buf[done + i];
			else
				buf[done + i] = ram[i];
		}
		done += n;
	}
	return 0;
}

/* The edu signals: status bits set, then its MSI — if the function may
 * master the bus and the guest's MSI is enabled, the vector it names goes
 * to the vCPU (the one vCPU, APIC ID EDU_APIC). */
static void m_raise(struct edu_model *m, uint32_t bits)
{
	m->irq_status |= bits;
	struct msi_compat mc;
	if (!(m->command & 0x0004u) || m->dev->msi_state.vec[0].virt_masked || msi_compat_decode(&m->dev->msi_state.vec[0].virt_msi, &mc) ||
	    mc.delivery != MSI_DLM_FIXED || mc.dest_logical || mc.dest_id != EDU_APIC || mc.vector < 32) {
		m->msis_dropped++;
		return;
	}
	vmx_vcpu_inject_irq(m->vcpu, mc.vector);
	m->msi_vector = mc.vector;
	m->msis++;
}

static void m_dma_start(struct edu_model *m)
{
	bool to_ram = m->dma_cmd & EDU_CMD_TO_RAM;
	struct edu_dma_log l = { .src = m->dma_src, .dst = m->dma_dst, .len = (uint32_t)m->dma_cnt, .to_ram = to_ram };
	uint64_t ram = to_ram ? l.dst : l.src, dev = to_ram ? l.src : l.dst;
	if (!(m->command & 0x0004u))
		l.rc = -PORT_EPERM;                    /* no bus master */
	else if (dev < EDU_DEV_BUF || dev + l.len > EDU_DEV_BUF + sizeof(m->buf) || !l.len)
		l.rc = -PORT_EINVAL;                   /* QEMU's edu: hw_error */
	else
		l.rc = m_dma_ram(m, ram, m->buf + (dev - EDU_DEV_BUF), l.len, to_ram, &l.hpa);
	if (m->dmas < sizeof(m->log) / sizeof(m->log[0]))
		m->log[m->dmas] = l;
	m->dmas++;
	m->dma_cmd &= ~(uint64_t)EDU_CMD_RUN;          /* done at once: the busy bit reads 0 */
	if (!l.rc && (m->dma_cmd & EDU_CMD_IRQ))
		m_raise(m, EDU_DMA_IRQ);
}

static int m_bar_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct edu_model *m = ctx;
	unsigned off = (unsigned)(gpa - EDU_BAR_GPA);
	m->bar_reads++;
	if (!(m->command & 0x0002u)) {                 /* memory space off: no one answers */
		*val = ~0ull;
		return 0;
	}
	if (off < 0x80 ? size != 4 : (size != 4 && size != 8))
		return -PORT_EINVAL;
	switch (off) {
	case EDU_REG_ID: *val = EDU_ID_VAL; break;
	case 0x04: *val = ~m->liveness; break;
	case EDU_REG_IRQ_STATUS: *val = m->irq_status; break;
	case EDU_REG_DMA_SRC: *val = m->dma_src; break;
	case EDU_REG_DMA_DST: *val = m->dma_dst; break;
	case EDU_REG_DMA_CNT: *val = m->dma_cnt; break;
	case EDU_REG_DMA_CMD: *val = m->dma_cmd; break;
	default: *val = ~0ull; break;
	}
	if (size == 4)
		*val &= 0xffffffffu;
	return 0;
}

static int m_bar_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct edu_model *m = ctx;
	unsigned off = (unsigned)(gpa - EDU_BAR_GPA);
	m->bar_writes++;
	if (!(m->command & 0x0002u))
		return 0;
	if (off < 0x80 ? size != 4 : (size != 4 && size != 8))
		return -PORT_EINVAL;
	switch (off) {
	case 0x04: m->liveness = (uint32_t)val; break;
	case EDU_REG_IRQ_RAISE: m_raise(m, (uint32_t)val); break;
	case EDU_REG_IRQ_ACK: m->irq_status &= ~(uint32_t)val; break;
	case EDU_REG_DMA_SRC: m->dma_src = val; break;
	case EDU_REG_DMA_DST: m->dma_dst = val; break;
	case EDU_REG_DMA_CNT: m->dma_cnt = val; break;
	case EDU_REG_DMA_CMD:
		if (m->dma_cmd & EDU_CMD_RUN)
			break;                         /* busy: ignored, as the edu does */
		m->dma_cmd = val;
		if (val & EDU_CMD_RUN)
			m_dma_start(m);
		break;
	default: break;
	}
	return 0;
}

/* --- the guest's host side ------------------------------------------------- */

struct edu_rig {
	struct vmx_vm vm;
	struct vmx_vcpu v;
	struct core_glue glue;         /* the core as bm_passthrough's device side reaches it */
	struct bmpt_dev dev;
	struct guest_edu_params p;
	uint8_t *ram, *decoy;          /* HPA of A/B (what the EPT names) / HPA = GPA */
	uint64_t reported[E_COUNT];
	uint32_t reported_mask;
	bool done;
	struct bmpt_dev *irq_dev;      /* VT-d: whose host vector an external interrupt is */
	unsigned host_irqs, host_irqs_foreign;
};

static int rig_vmcall(struct core_vcpu *v)
{
	struct edu_rig *r = v->vm->ctx;
	uint64_t a = v->gpr[GPR_RBX], b = v->gpr[GPR_RCX];
	if (v->gpr[GPR_RAX] == CMD_REPORT) {
		if (a < E_COUNT) {
			r->reported[a] = b;
			r->reported_mask |= 1u << a;
		}
		return VMX_CONTINUE;
	}
	r->done = v->gpr[GPR_RAX] == CMD_DONE;
	return VMX_STOP_HANDLER;
}

/* A host interrupt while the guest ran (acknowledged on exit): with VT-d,
 * the edu's MSI remapped to the host vector; bm_passthrough injects the
 * guest vector the route stands for. */
static int rig_extint(struct core_vcpu *v, int vector)
{
	struct edu_rig *r = v->vm->ctx;
	r->host_irqs++;
	if (!r->irq_dev || bmpt_dev_host_irq(r->irq_dev, (uint8_t)vector) < 0)
		r->host_irqs_foreign++;
	lapic_eoi();
	return VMX_CONTINUE;
}

static const struct vmx_vm_ops rig_ops = { .core = { .hypercall = rig_vmcall, .external_intr = rig_extint } };

/* The VM both platforms share: identity EPT over 0..4 GiB (the guest runs
 * in the image's address space; the top GiB uncached), the two buffer pages
 * remapped (GPA = decoy's HPA -> ram's HPA), the guest's vCPU set up.
 * What stands behind the edu (the model's traps, or the real one) is the
 * caller's. */
/* The rig's glue (glue.h on this core) over its VM and vCPU: the vCPU as
 * `guest` names it, or (NULL: no interrupt remapping) at EDU_APIC. */
static int rig_glue_init(struct edu_rig *r, const struct ir_guest *guest)
{
	static struct ir_vcpu irv;
	static struct ir_guest lone;
	static struct core_vcpu *vcpus[1];
	if (!guest) {
		irv = (struct ir_vcpu){ .virt_apic_id = EDU_APIC };
		lone = (struct ir_guest){ .name = "edu", .vcpus = &irv, .n_vcpus = 1 };
		guest = &lone;
	}
	vcpus[0] = &r->v.core;
	return core_glue_init(&r->glue, &r->vm.core, guest, vcpus);
}

static int rig_init(struct edu_rig *r, struct vmx_cpu *cpu)
{
	if (!r->ram)
		r->ram = mem_alloc_contig(2 * PAGE_SZ, PAGE_SZ);
	if (!r->decoy)
		r->decoy = mem_alloc_contig(2 * PAGE_SZ, PAGE_SZ);
	if (!r->ram || !r->decoy)
		return -PORT_ENOMEM;
	for (unsigned i = 0; i < 2 * PAGE_SZ / 8; i++)
		((volatile uint64_t *)r->decoy)[i] = DECOY;
	uint64_t ram_pa = port_virt_to_phys(r->ram), decoy_pa = port_virt_to_phys(r->decoy);
	int rc = vmx_vm_init(&r->vm, cpu, &rig_ops, r);
	rc = rc ? rc : vmx_vm_map(&r->vm, 0, 0, SZ_1G, EPT_RWX | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : vmx_vm_map(&r->vm, SZ_1G, SZ_1G, 2 * SZ_1G, EPT_RWX, EPT_MT_WB);
	rc = rc ? rc : vmx_vm_map(&r->vm, 3 * SZ_1G, 3 * SZ_1G, SZ_1G, EPT_RWX, EPT_MT_UC);
	rc = rc ? rc : vmx_vm_map(&r->vm, decoy_pa, ram_pa, 2 * PAGE_SZ, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : vmx_vcpu_init(&r->v, &r->vm);
	r->p = (struct guest_edu_params){
		.cfg_gpa = EDU_CFG_GPA, .src_gpa = decoy_pa, .dst_gpa = decoy_pa + PAGE_SZ,
		.len = (uint32_t)PAGE_SZ, .seed = EDU_SEED, .vector = EDU_VEC, .apic_id = EDU_APIC,
	};
	return rc;
}

static int rig_run(struct edu_rig *r)
{
	struct vmx_guest64 gs = {
		.rip = (uint64_t)(uintptr_t)guest_edu_entry,
		.rsp = (uint64_t)(uintptr_t)(guest_edu_stack + sizeof(guest_edu_stack) - 8),
		.cr3 = (uint64_t)(uintptr_t)boot_pml4,
		.gdt_base = (uint64_t)(uintptr_t)guest_edu_gdt, .gdt_limit = GUEST_EDU_GDT_LIMIT,
		.idt_base = 0, .idt_limit = 0xffff,
		.tr_base = (uint64_t)(uintptr_t)guest_edu_tss,
		.cs = GUEST_EDU_CS, .ds = GUEST_EDU_DS, .tr = GUEST_EDU_TR,
	};
	int rc = vmx_vcpu_setup_long64(&r->v, &gs);
	if (rc)
		return rc;
	r->v.core.gpr[GPR_RDI] = (uint64_t)(uintptr_t)&r->p;   /* its one argument */
	return vmx_vcpu_run(&r->v);
}

/* --- Bochs: the guest and the model ---------------------------------------- */

static uint32_t exits_total(const struct vmx_vcpu *v)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < EXIT_REASON_MAX; i++)
		n += v->exits[i];
	return n;
}

/* One run of the guest on a fresh VM and model; the guest's own state is
 * whatever the previous run left in the image (issue 13 item 10: it must
 * reset it itself). */
static void edu_model_run(struct vmx_cpu *cpu, unsigned run_no)
{
	static struct edu_rig r;
	static struct edu_model m;
	uint8_t *ram = r.ram, *decoy = r.decoy;
	r = (struct edu_rig){ .ram = ram, .decoy = decoy };
	m = (struct edu_model){ 0 };
	for (unsigned i = 0; ram && i < 2 * PAGE_SZ / 8; i++)
		((volatile uint64_t *)ram)[i] = 0;
	int rc = rig_init(&r, cpu);

	m.vm = &r.vm;
	m.vcpu = &r.v;
	m.dev = &r.dev;
	m_cfg_init(&m);
	if (!rc) {
		static const struct core_mmio_ops bar_ops = { m_bar_read, m_bar_write, &m };
		rc = vmx_vm_trap_mmio(&r.vm, EDU_BAR_GPA, PAGE_SZ, &bar_ops);
	}
	if (!rc) {
		const struct bmpt_dev_cfg dc = { .rid = EDU_RID, .cfg = { m_cfg_read, m_cfg_write, &m },
						 .virt_cfg_gpa = EDU_CFG_GPA };
		rc = rig_glue_init(&r, NULL);
		rc = rc ? rc : bmpt_dev_init(&r.dev, &r.glue.glue, &dc);
	}
	unsigned cmd_writes_at_init = m.command_writes;
	uint16_t phys_msi_ctrl_init = (uint16_t)m_cfg_read(&m, M_CAP_MSI + 2, 2);
	int run = rc ? rc : rig_run(&r);
	tap_diag("edu guest run %u: run %d (last exit %u %s), %u exits: EPT violation %u, VMCALL %u, HLT %u, "
		 "interrupt window %u; %u injected; model: %u BAR reads, %u BAR writes, %u DMAs, %u MSIs (%u dropped)",
		 run_no, run, r.v.exit_reason, vmx_exit_reason_name(r.v.exit_reason), exits_total(&r.v),
		 r.v.exits[EXIT_EPT_VIOLATION], r.v.exits[EXIT_VMCALL], r.v.exits[EXIT_HLT],
		 r.v.exits[EXIT_INTR_WINDOW], r.v.injected, m.bar_reads, m.bar_writes, m.dmas, m.msis,
		 m.msis_dropped);

	/* (1) the config page: ID, capability walk, BAR, Command, virtual MSI. */
	struct msi_compat mc = { 0 };
	int dec = msi_compat_decode(&r.dev.msi_state.vec[0].virt_msi, &mc);
	bool all = r.done && (r.reported_mask & ((1u << E_COUNT) - 1)) == (1u << E_COUNT) - 1;
	tap_ok(run == VMX_STOP_HANDLER && all && r.reported[E_CFG_ID] == EDU_CFG_ID_VAL &&
	       r.reported[E_MSI_CAP] == M_CAP_MSI && r.dev.msi == M_CAP_MSI && r.reported[E_BAR0] == EDU_BAR_GPA &&
	       (r.reported[E_COMMAND] & 0x6u) == 0x6u && (m.command & 0x6u) == 0x6u &&
	       m.command_writes > cmd_writes_at_init && r.reported[E_MMIO_ID] == EDU_ID_VAL &&
	       dec == 0 && mc.vector == EDU_VEC && mc.dest_id == EDU_APIC && !mc.dest_logical &&
	       mc.delivery == MSI_DLM_FIXED && !mc.level && !r.dev.msi_state.vec[0].virt_masked && r.dev.cap_writes == 5 &&
	       !(phys_msi_ctrl_init & BMPT_MSI_CTRL_EN) &&
	       !((uint16_t)m_cfg_read(&m, M_CAP_MSI + 2, 2) & BMPT_MSI_CTRL_EN),
	       "edu guest run %u: through its trapped config page (GPA 0x%llx) the launched guest read ID 0x%08llx, walked "
	       "the capability list to MSI at 0x%llx, found BAR0 at GPA 0x%llx, set memory space + bus master "
	       "(the model's Command 0x%04x), read the edu's ID 0x%08llx through BAR0; bm_passthrough recorded its "
	       "virtual MSI 0x%08x/0x%x = vector 0x%x to APIC %u, fixed, edge, enabled (%llu capability writes); "
	       "the device's own MSI left off (no VT-d)",
	       run_no, (unsigned long long)EDU_CFG_GPA, (unsigned long long)r.reported[E_CFG_ID],
	       (unsigned long long)r.reported[E_MSI_CAP], (unsigned long long)r.reported[E_BAR0], m.command,
	       (unsigned long long)r.reported[E_MMIO_ID], r.dev.msi_state.vec[0].virt_msi.addr_lo, r.dev.msi_state.vec[0].virt_msi.data, mc.vector,
	       mc.dest_id, (unsigned long long)r.dev.cap_writes);

	/* (2) DMA with guest-physical addresses, translated through the EPT. */
	uint64_t ram_pa = port_virt_to_phys(r.ram), a = r.p.src_gpa, b = r.p.dst_gpa;
	const struct edu_dma_log *l0 = &m.log[0], *l1 = &m.log[1];
	unsigned at_a = guest_edu_pattern_bytes(r.ram, r.p.len, EDU_SEED);
	unsigned at_b = guest_edu_pattern_bytes(r.ram + PAGE_SZ, r.p.len, EDU_SEED);
	bool decoys = guest_edu_filled(r.decoy, 2 * PAGE_SZ, DECOY);
	tap_ok(run == VMX_STOP_HANDLER && m.dmas == 2 && l0->rc == 0 && l1->rc == 0 && !l0->to_ram && l1->to_ram &&
	       l0->src == a && l0->dst == EDU_DEV_BUF && l0->len == r.p.len && l0->hpa == ram_pa && l0->hpa != a &&
	       l1->src == EDU_DEV_BUF && l1->dst == b && l1->len == r.p.len && l1->hpa == ram_pa + PAGE_SZ &&
	       l1->hpa != b && r.reported[E_DMA1_IDLE] == 1 && r.reported[E_DMA2_IDLE] == 1 &&
	       r.reported[E_MATCH] == r.p.len && at_a == r.p.len && at_b == r.p.len && decoys,
	       "edu guest run %u DMA with guest-physical addresses: the model saw src GPA 0x%llx -> edu 0x%llx and edu "
	       "0x%llx -> dst GPA 0x%llx (%u bytes each) and translated them through the EPT to HPA 0x%llx / 0x%llx; "
	       "the guest found %llu/%u pattern bytes at GPA B, the host %u at HPA 0x%llx; the pages at HPA = GPA %s",
	       run_no, (unsigned long long)l0->src, (unsigned long long)l0->dst, (unsigned long long)l1->src,
	       (unsigned long long)l1->dst, r.p.len, (unsigned long long)l0->hpa, (unsigned long long)l1->hpa,
	       (unsigned long long)r.reported[E_MATCH], r.p.len, at_b, (unsigned long long)(ram_pa + PAGE_SZ),
	       decoys ? "hold their sentinel" : "were written");

	/* (3) the completion MSI, on the guest's vector, once, by injection. */
	tap_ok(run == VMX_STOP_HANDLER && r.reported[E_IRQ_COUNT] == 1 && r.reported[E_IRQ_STRAY] == 0 &&
	       r.reported[E_IRQ_STATUS] == EDU_DMA_IRQ && r.reported[E_STATUS_AFTER] == 0 && m.irq_status == 0 &&
	       m.msis == 1 && m.msis_dropped == 0 && m.msi_vector == EDU_VEC && r.v.injected == 1 &&
	       r.v.core.pending_irq < 0 && r.v.exits[EXIT_INTR_WINDOW] + r.v.exits[EXIT_HLT] >= 1,
	       "edu guest run %u MSI: the DMA completion reached the guest's IDT on vector 0x%x %llu time(s) (%llu on other "
	       "vectors), the handler saw status 0x%llx and acked it (0x%llx after); the model raised %u MSI, the core "
	       "injected %u event(s) (%u interrupt-window, %u HLT exits)",
	       run_no, EDU_VEC, (unsigned long long)r.reported[E_IRQ_COUNT], (unsigned long long)r.reported[E_IRQ_STRAY],
	       (unsigned long long)r.reported[E_IRQ_STATUS], (unsigned long long)r.reported[E_STATUS_AFTER], m.msis,
	       r.v.injected, r.v.exits[EXIT_INTR_WINDOW], r.v.exits[EXIT_HLT]);
	bmpt_dev_fini(&r.dev);
	vmx_vcpu_destroy(&r.v);
	vmx_vm_destroy(&r.vm);
}

void vmx_edu_tests(struct vmx_cpu *cpu)
{
	edu_model_run(cpu, 1);
	edu_model_run(cpu, 2);   /* the same guest again in the same image */
}

/* --- VMX + VT-d: the same guest, the real edu ---------------------------------
 *
 * NEVER RUN: it needs a CPU with VMX and a VT-d unit together (QEMU/KVM
 * with nested VMX on an Intel host, -device intel-iommu,intremap=on
 * -device edu); Bochs has no IOMMU and QEMU's TCG no VMX.  tests/vmx/main.c
 * calls it only when both are there.  It shares the guest, the VM (rig_init,
 * rig_run) and the checks' inputs with the Bochs half above; what differs:
 * the edu is the real one (baremetal/edu.h), its BAR0 at GPA = HPA (the
 * identity EPT, the page remapped uncached), its config space the physical
 * one behind the same trap; the guest's DMA goes through a bmpt_dma domain
 * sharing the EPT, attached to the edu's RID; its MSI through an IRTE
 * (bmpt_dev_init with the IR table) to EDU_HOST_VEC, which arrives as an
 * external-interrupt exit and is injected by bmpt_dev_host_irq. */

void vmx_edu_vtd_tests(void)
{
	static struct vmx_cpu cpu;
	static struct edu_rig r;
	static struct edu edu;
	static struct dmar_info dmar;
	static struct vtd_unit unit;
	static struct ir_table table;
	static struct bmpt_dma dma;
	static struct ir_vcpu ir_vcpu;
	static struct ir_guest guest;
	tap_set_prefix("vmx+vt-d");

	/* Each step only after the one before it; `stage` says what to undo. */
	const struct acpi_header *t = acpi_find("DMAR", 0);
	unsigned stage = 0;
	int rc = vmx_cpu_on(&cpu);
	stage += !rc;                                                          /* 1: VMXON */
	rc = rc ? rc : edu_find(&edu, 0);
	rc = rc ? rc : (!t || dmar_parse(t, t->length, 0, &dmar) || !dmar.ndrhd) ? -PORT_ENODEV : 0;
	rc = rc ? rc : vtd_unit_init(&unit, dmar.drhd[0].reg_base, 0);
	stage += !rc;                                                          /* 2: the unit */
	rc = rc ? rc : vtd_unit_enable(&unit);
	rc = rc ? rc : ir_table_init(&table, 256, 0);
	stage += !rc;                                                          /* 3: the IR table */
	rc = rc ? rc : ir_table_enable(&table, &unit);
	rc = rc ? rc : rig_init(&r, &cpu);
	rc = rc ? rc : vmx_vm_map(&r.vm, edu.mmio & ~(PAGE_SZ - 1), edu.mmio & ~(PAGE_SZ - 1), PAGE_SZ,
				  EPT_R | EPT_W, EPT_MT_UC);
	rc = rc ? rc : bmpt_dma_init(&dma, &r.vm.core, &unit, 0);
	stage += !rc;                                                          /* 4: the domain */
	rc = rc ? rc : bmpt_dma_attach(&dma, pci_rid(edu.pci));
	stage += !rc;                                                          /* 5: attached */
	if (!rc) {
		ir_vcpu = (struct ir_vcpu){ .virt_apic_id = EDU_APIC, .host_apic_id = lapic_id() };
		guest = (struct ir_guest){ .name = "edu", .vcpus = &ir_vcpu, .n_vcpus = 1 };
		const struct bmpt_dev_cfg dc = {
			.rid = pci_rid(edu.pci), .cfg = { pci_cfg_read, pci_cfg_write, (void *)edu.pci },
			.virt_cfg_gpa = EDU_CFG_GPA, .dma = &dma, .table = &table, .guest = &guest,
			.host_vector = EDU_HOST_VEC,
		};
		rc = rig_glue_init(&r, &guest);
		rc = rc ? rc : bmpt_dev_init(&r.dev, &r.glue.glue, &dc);
		if (!rc)
			r.irq_dev = &r.dev;
	}
	int run = rc ? rc : rig_run(&r);
	tap_diag("edu guest (VT-d): setup %d, run %d, %u host interrupts (%u not the edu's), %u injected, "
		 "domain: %s", rc, run, r.host_irqs, r.host_irqs_foreign, r.v.injected, dma.why);

	struct msi_compat mc = { 0 };
	int dec = msi_compat_decode(&r.dev.msi_state.vec[0].virt_msi, &mc);
	uint16_t phys_ctrl = rc ? 0 : pci_read16(edu.pci, (uint16_t)(edu.msi_cap + BMPT_MSI_CTRL));
	uint32_t phys_addr = rc ? 0 : pci_read32(edu.pci, (uint16_t)(edu.msi_cap + BMPT_MSI_ADDR_LO));
	tap_ok(run == VMX_STOP_HANDLER && r.done && r.reported[E_CFG_ID] == EDU_CFG_ID_VAL &&
	       r.reported[E_MSI_CAP] == edu.msi_cap && r.reported[E_BAR0] == edu.mmio &&
	       r.reported[E_MMIO_ID] == EDU_ID_VAL && dec == 0 && mc.vector == EDU_VEC && mc.dest_id == EDU_APIC &&
	       !r.dev.msi_state.vec[0].virt_masked && r.dev.route_open && r.dev.last_update == 0 && (phys_ctrl & BMPT_MSI_CTRL_EN) &&
	       (phys_addr & MSI_ADDR_IF),
	       "edu guest, real edu: ID 0x%08llx through the trapped config page, MSI at 0x%llx, BAR0 0x%llx (GPA = "
	       "HPA), ID 0x%08llx through BAR0; virtual MSI vector 0x%x to APIC %u, the device's MSI remappable "
	       "(0x%08x, control 0x%04x)",
	       (unsigned long long)r.reported[E_CFG_ID], (unsigned long long)r.reported[E_MSI_CAP],
	       (unsigned long long)r.reported[E_BAR0], (unsigned long long)r.reported[E_MMIO_ID], mc.vector,
	       mc.dest_id, phys_addr, phys_ctrl);
	unsigned at_b = rc ? 0 : guest_edu_pattern_bytes(r.ram + PAGE_SZ, r.p.len, EDU_SEED);
	bool decoys = !rc && guest_edu_filled(r.decoy, 2 * PAGE_SZ, DECOY);
	tap_ok(run == VMX_STOP_HANDLER && r.reported[E_DMA1_IDLE] == 1 && r.reported[E_DMA2_IDLE] == 1 &&
	       r.reported[E_MATCH] == r.p.len && at_b == r.p.len && decoys,
	       "edu guest, real edu DMA through the domain %s the EPT: the guest found %llu/%u pattern bytes at GPA "
	       "0x%llx, the host %u at the EPT's HPA; the pages at HPA = GPA %s",
	       dma.mode == BMPT_SHARED ? "sharing" : "mirroring", (unsigned long long)r.reported[E_MATCH], r.p.len,
	       (unsigned long long)r.p.dst_gpa, at_b, decoys ? "hold their sentinel" : "were written");
	tap_ok(run == VMX_STOP_HANDLER && r.reported[E_IRQ_COUNT] == 1 && r.reported[E_IRQ_STRAY] == 0 &&
	       r.reported[E_IRQ_STATUS] == EDU_DMA_IRQ && r.reported[E_STATUS_AFTER] == 0 && r.dev.injected == 1 &&
	       r.v.injected == 1 && r.v.exits[EXIT_EXTERNAL_INTR] >= 1 && r.host_irqs_foreign == 0,
	       "edu guest, real edu MSI: IRTE -> host vector 0x%x (%u external-interrupt exits) -> guest vector 0x%x, "
	       "taken %llu time(s) by the guest's handler (status 0x%llx, 0x%llx after its ack)",
	       EDU_HOST_VEC, r.v.exits[EXIT_EXTERNAL_INTR], EDU_VEC, (unsigned long long)r.reported[E_IRQ_COUNT],
	       (unsigned long long)r.reported[E_IRQ_STATUS], (unsigned long long)r.reported[E_STATUS_AFTER]);

	if (r.irq_dev)
		bmpt_dev_fini(&r.dev);
	if (stage >= 5)
		bmpt_dma_detach(&dma, pci_rid(edu.pci));
	if (stage >= 4)
		bmpt_dma_fini(&dma);
	if (stage >= 3) {
		ir_table_disable(&table);
		ir_table_fini(&table);
	}
	if (stage >= 2)
		vtd_unit_fini(&unit);
	if (stage >= 1)
		vmx_cpu_off(&cpu);
}
