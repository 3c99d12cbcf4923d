/*
 * bmvf_test.c — bare-metal VF assignment on the SVM core under QEMU TCG:
 * QEMU's igb (82576) PF managed by baremetal/igb_pf (SR-IOV on, link up,
 * the VMDq switch with loopback, the PF side of the mailbox), VF 0 assigned
 * to a guest (guest_igbvf.c) through bm_passthrough — its RID in the
 * guest's VT-d domain, BAR0 mapped GPA = HPA, its config page and MSI-X
 * table page trapped, its IDs synthesized from the PF's SR-IOV capability
 * (sriov_vf_view), its MSI-X entries remapped through our IRTEs — and VF 1
 * driven by the host in a domain of its own, echoing the guest's frames.
 *
 * Everything is counted, never timed (a frames/s figure is printed as a
 * diagnostic only).  QEMU: -device igb,netdev=n0 -netdev hubport (a hub
 * with one port: nothing leaves the igb's switch).
 */
#include <stdbool.h>
#include <stdint.h>

#include "baremetal/acpi.h"
#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/console.h"
#include "baremetal/cpu.h"
#include "baremetal/idt.h"
#include "baremetal/igb.h"
#include "baremetal/igb_pf.h"
#include "baremetal/lapic.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "iommu/dmar.h"
#include "iommu/vtd_context.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_fault.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "port.h"
#include "sriov/sriov_cap.h"
#include "tests/bmvf/igbvf.h"
#include "tests/bmvf/vf_host.h"
#include "tests/svm/svm_guest.h"
#include "tests/vmx/guest_edu.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/svm/svm.h"
#include "vmm_glue/dev/bm_passthrough.h"

#define PAGE_SZ 4096ull
#define SZ_1G (1ull << 30)
#define VF_CFG_GPA 0xb0110000ull     /* virtual: the guest's config page for VF 0 */
#define VEC_RX 0x41u                 /* virtual: the guest's vectors */
#define VEC_TX 0x42u
#define VEC_MBX 0x43u
#define PF_HOST_VEC 0x68u            /* physical: the PF's mailbox interrupt (its MSI-X entry 0) */
#define GUEST_APIC 0u
#define FRAMES 64u
#define FRAME_LEN 128u
#define SEED 0x5eedf00du
#define CYCLES 20u
#define DECOY 0xdecafbaddecafbadull
#define WAIT_NS (5ull * 1000 * 1000 * 1000)
#define BMVF_TESTS 42

static struct svm_cpu cpu;
static const uint8_t vf_macs[VFH_NUM_VFS][6] = { { 0x02, 0x56, 0x46, 0x00, 0x00, 0x10 },
						 { 0x02, 0x56, 0x46, 0x00, 0x00, 0x11 } };

static uint64_t fnv(const void *p, uint64_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint64_t i = 0; i < len; i++)
		h = (h ^ ((const volatile uint8_t *)p)[i]) * 0x100000001b3ull;
	return h;
}

/* --- the peer: VF 1, driven by the host in a domain of its own ------------- */

struct peer {
	struct vfh_ring q;             /* BMVF_NDESC descriptors */
	uint32_t rx_frames, rx_good, rx_bad, echoed;
	uint8_t first[FRAME_LEN];      /* the first frame as it arrived */
	bool up;
};
static struct peer peer;
static bool break_echo;          /* "break=echo" on the command line: the peer corrupts one echo */

static int peer_init(void)
{
	peer = (struct peer){ 0 };
	int rc = vfh_ring_init(&peer.q, BMVF_NDESC, &cpu, &peer);
	if (rc)
		return rc;
	peer.up = true;
	return 0;
}

static bool peer_frame_ok(const uint8_t *f, uint32_t len, uint32_t *seq)
{
	if (len < FRAME_LEN)
		return false;
	for (unsigned i = 0; i < 6; i++)
		if (f[i] != vf_macs[1][i] || f[6 + i] != vfh.pf.vf[0].mac[i])
			return false;
	if (f[12] != (BMVF_ETHERTYPE >> 8) || f[13] != (BMVF_ETHERTYPE & 0xff))
		return false;
	*seq = f[14] | f[15] << 8 | f[16] << 16 | (uint32_t)f[17] << 24;
	for (unsigned i = 18; i < FRAME_LEN; i++)
		if (f[i] != bmvf_pattern(SEED, *seq, i))
			return false;
	return true;
}

static void peer_send(const uint8_t *f, uint32_t len)
{
	vfh_ring_send(&peer.q, f, len);
}

/* Echo one frame that arrived: MACs swapped, the rest as received. */
static void peer_frame(void *ctx, uint8_t *f, uint32_t len)
{
	(void)ctx;
	uint32_t seq = 0;
	peer.rx_frames++;
	if (peer.rx_frames == 1)
		for (unsigned i = 0; i < FRAME_LEN && i < len; i++)
			peer.first[i] = f[i];
	if (peer_frame_ok(f, len, &seq)) {
		peer.rx_good++;
		uint8_t out[FRAME_LEN];
		for (unsigned i = 0; i < FRAME_LEN; i++)
			out[i] = f[i];
		for (unsigned i = 0; i < 6; i++) {
			out[i] = f[6 + i];
			out[6 + i] = f[i];
		}
		if (break_echo && peer.echoed == FRAMES / 2)
			out[FRAME_LEN - 1] ^= 0x5a;   /* fault injected on purpose */
		peer_send(out, FRAME_LEN);
		peer.echoed++;
	} else {
		peer.rx_bad++;
	}
}

/* Echo every frame that arrived. */
static unsigned peer_echo(void)
{
	if (!peer.up)
		return 0;
	return vfh_ring_poll(&peer.q, ~0u, peer_frame, NULL);
}

/* --- the guest's host side ----------------------------------------------------- */

struct rig {
	struct svm_vm vm;
	struct svm_vcpu v;
	uint64_t reported[32];
	uint32_t reported_mask;
	bool done;
	struct bmpt_dma dma;
	struct bmpt_dev dev;
	bool dma_up, attached, dev_up;
	unsigned hlt_waits, hlt_timeouts;
	/* the fault phases */
	int hole_faults, foreign_faults;
	struct vtd_fault hole_f, foreign_f;
	uint64_t hole_hash_before, hole_hash_after, foreign_hash_before, foreign_hash_after;
	uint32_t peer_frames_before_foreign, peer_frames_after_foreign;
	unsigned faults_in_traffic;
	/* the traffic window: from the last report before the first frame to
	 * the first report after the last one */
	uint32_t exits_before, exits_after, npf_before, npf_after;
	uint64_t hs_injected[3];       /* per MSI-X entry, when the handshake was over */
	uint64_t ns_before, ns_after;
};
static struct rig rg;
static struct rig *cur;
static unsigned host_irqs_foreign;
static uint8_t *hole;                /* a host page outside the guest's domain */
static uint8_t *ram, *decoy;         /* RX buffers: GPA = decoy's address, HPA = ram */
static uint8_t *ring, *txbuf;
static struct bmvf_params prm;

static void host_vec_handler(struct idt_frame *f, void *ctx)
{
	(void)ctx;
	if (!cur || !cur->dev_up || bmpt_dev_host_irq(&cur->dev, (uint8_t)f->vector) < 0)
		host_irqs_foreign++;
}

static uint32_t exits_total(const struct svm_vcpu *v);

static int collect(struct vtd_fault *fs, unsigned max)
{
	return vtd_fault_collect(&vfh.unit, fs, max, NULL);
}

static int rig_hypercall(struct core_vcpu *v)
{
	struct rig *r = v->vm->ctx;
	uint64_t cmd = v->gpr[GPR_RAX], a = v->gpr[GPR_RBX];
	if (cmd == CMD_REPORT) {
		if (a < 32) {
			r->reported[a] = v->gpr[GPR_RCX];
			r->reported_mask |= 1u << a;
		}
		if (a == G_HS_MBX) {
			for (unsigned k = 0; k < 3; k++)
				r->hs_injected[k] = r->dev.msix_entries[k].injected;
			r->exits_before = exits_total((struct svm_vcpu *)v);
			r->npf_before = v->exits[CORE_EXIT_MMIO];
			r->ns_before = clock_ns();
		} else if (a == G_TX_DONE) {
			r->exits_after = exits_total((struct svm_vcpu *)v);
			r->npf_after = v->exits[CORE_EXIT_MMIO];
			r->ns_after = clock_ns();
		}
		return CORE_CONTINUE;
	}
	if (cmd == CMD_PHASE && a == PH_RX_HOLE) {
		struct vtd_fault fs[4];
		r->faults_in_traffic = (unsigned)collect(fs, 4);
		r->hole_hash_before = fnv(hole, PAGE_SZ);
		/* The peer sends the guest one more frame: its VF's RX DMA
		 * goes to the descriptor naming the hole. */
		uint8_t f[FRAME_LEN];
		for (unsigned i = 0; i < FRAME_LEN; i++)
			f[i] = (uint8_t)(0xa5 ^ i);
		for (unsigned i = 0; i < 6; i++) {
			f[i] = vfh.pf.vf[0].mac[i];
			f[6 + i] = vf_macs[1][i];
		}
		peer_send(f, FRAME_LEN);
		r->hole_faults = collect(fs, 4);
		r->hole_f = r->hole_faults > 0 ? fs[0] : (struct vtd_fault){ 0 };
		r->hole_hash_after = fnv(hole, PAGE_SZ);
		r->foreign_hash_before = fnv(peer.q.txbuf, PAGE_SZ);
		r->peer_frames_before_foreign = peer.rx_frames;
		return CORE_CONTINUE;
	}
	if (cmd == CMD_PHASE && a == PH_TX_FOREIGN) {
		struct vtd_fault fs[4];
		r->foreign_faults = collect(fs, 4);
		r->foreign_f = r->foreign_faults > 0 ? fs[0] : (struct vtd_fault){ 0 };
		peer_echo();
		r->peer_frames_after_foreign = peer.rx_frames;
		r->foreign_hash_after = fnv(peer.q.txbuf, PAGE_SZ);
		return CORE_CONTINUE;
	}
	r->done = cmd == CMD_DONE;
	return CORE_STOP_HANDLER;
}

/* HLT with IF = 1: serve the peer (the host's own VF, polled) until a guest
 * vector is pending (bounded).  The PF's mailbox is served on its own
 * interrupt (pf_vec_handler), not here. */
static int rig_hlt(struct core_vcpu *v)
{
	struct rig *r = v->vm->ctx;
	if (!(vmcb_rd(((struct svm_vcpu *)v)->vmcb, VMCB_RFLAGS) & (1ull << 9)))
		return CORE_CONTINUE;
	r->hlt_waits++;
	uint64_t end = clock_ns() + WAIT_NS;
	while (v->pending_irq < 0 && clock_ns() < end) {
		peer_echo();
		__asm__ volatile("sti; pause; cli" ::: "memory");
	}
	if (v->pending_irq < 0)
		r->hlt_timeouts++;
	return CORE_CONTINUE;
}

static const struct core_vm_ops rig_ops = { .hypercall = rig_hypercall, .hlt = rig_hlt };

static uint32_t exits_total(const struct svm_vcpu *v)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < CORE_EXIT_COUNT; i++)
		n += v->core.exits[i];
	return n;
}

static struct ir_vcpu ir_vcpu;
static struct ir_guest irg;
static struct core_vcpu *vcpus[1];
static struct core_glue glue;   /* the core, as bm_passthrough's device side reaches it */

/* Assign VF 0 to r's VM: the domain (sharing the NPT, or BMPT_FORCE_MIRROR:
 * a table of its own), the context entry, bm_passthrough. */
static int assign(struct rig *r, unsigned flags)
{
	int rc = bmpt_dma_init(&r->dma, &r->vm.core, &vfh.unit, flags);
	r->dma_up = !rc;
	rc = rc ? rc : bmpt_dma_attach(&r->dma, vfh.vf_rid[0]);
	r->attached = !rc;
	if (rc)
		return rc;
	ir_vcpu = (struct ir_vcpu){ .virt_apic_id = GUEST_APIC, .host_apic_id = lapic_id() };
	irg = (struct ir_guest){ .name = "igbvf", .vcpus = &ir_vcpu, .n_vcpus = 1 };
	vcpus[0] = &r->v.core;
	r->v.core.vm = &r->vm.core;
	struct bmpt_dev_cfg dc;
	vfh_dev_cfg(&dc, VF_CFG_GPA, &r->dma, &irg);
	rc = core_glue_init(&glue, &r->vm.core, &irg, vcpus);
	rc = rc ? rc : bmpt_dev_init(&r->dev, &glue.glue, &dc);
	r->dev_up = !rc;
	return rc;
}

/* Release: the device masked and its routes closed, the VF reset by the
 * PF (VTCTRL.RST), the context entry removed, the domain freed. */
static void release(struct rig *r)
{
	cur = NULL;
	if (r->dev_up) {
		bmpt_dev_fini(&r->dev);
		/* The VM may be assigned the VF again: its traps go too. */
		core_vm_untrap_mmio(&r->vm.core, VF_CFG_GPA);
		core_vm_untrap_mmio(&r->vm.core, r->dev.msix_trap_gpa);
	}
	r->dev_up = false;
	igb_pf_vf_reset(&vfh.pf, 0);
	if (r->attached)
		bmpt_dma_detach(&r->dma, vfh.vf_rid[0]);
	r->attached = false;
	if (r->dma_up)
		bmpt_dma_fini(&r->dma);
	r->dma_up = false;
}

static int rig_vm(struct rig *r)
{
	*r = (struct rig){ 0 };
	int rc = svm_vm_init(&r->vm, &cpu, &rig_ops, r);
	rc = rc ? rc : core_vm_map(&r->vm.core, 0, 0, SZ_1G, EPT_RWX | EPT_RAM, EPT_MT_WB);
	/* Outside the guest: the hole and the peer's pages. */
	rc = rc ? rc : core_vm_unmap(&r->vm.core, port_virt_to_phys(hole), PAGE_SZ);
	rc = rc ? rc : core_vm_unmap(&r->vm.core, port_virt_to_phys(peer.q.ring), PAGE_SZ);
	rc = rc ? rc : core_vm_unmap(&r->vm.core, port_virt_to_phys(peer.q.txbuf), BMVF_NDESC * BMVF_BUF);
	rc = rc ? rc : core_vm_unmap(&r->vm.core, port_virt_to_phys(peer.q.rxbuf), BMVF_NDESC * BMVF_BUF);
	/* RX buffers: GPA = the decoy's address, backed by `ram`. */
	rc = rc ? rc : core_vm_map(&r->vm.core, port_virt_to_phys(decoy), port_virt_to_phys(ram),
				   BMVF_NDESC * BMVF_BUF, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	/* VF 0's BAR0 at GPA = HPA, uncached; BAR3 is bm_passthrough's trap. */
	rc = rc ? rc : core_vm_map(&r->vm.core, vfh_vf_bar(0, 0), vfh_vf_bar(0, 0), vfh.vbars[0].size, EPT_R | EPT_W, EPT_MT_UC);
	return rc;
}

static void rig_fini(struct rig *r)
{
	svm_vcpu_destroy(&r->v);
	svm_vm_destroy(&r->vm);
}

static int rig_run(struct rig *r)
{
	return svm_guest_run64(&r->v, &r->vm, (void (*)(void))guest_igbvf_entry,
			       (uint64_t)(uintptr_t)(guest_igbvf_stack + sizeof(guest_igbvf_stack) - 8),
			       (uint64_t)(uintptr_t)&prm);
}

/* Context entries present on the VFs' bus; IRTEs present in the table. */
static unsigned ctx_count(void)
{
	unsigned n = 0;
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		uint64_t lo = 0, hi = 0;
		if (vtd_ctx_read(&vfh.unit, (uint8_t)(vfh.vf_rid[0] >> 8), (uint8_t)devfn, &lo, &hi) == 0 && (lo & 1))
			n++;
	}
	return n;
}

static unsigned irte_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vfh.table.n_entries; i++)
		n += (unsigned)(vfh.table.entries[i].lo & IRTE_LO_P);
	return n;
}

/* --- 1. the PF ---------------------------------------------------------------- */

static void test_pf(void)
{
	uint32_t status = port_mmio_read32(vfh.pf_bar0 + IGB_STATUS);
	uint32_t raw_id = port_mmio_read32(vfh.vcfg[0].dev.cfg);
	uint32_t view_id = vfh_cfg_read(&vfh.vcfg[0], 0, 4);
	tap_ok(vfh.scap.vf_enable && vfh.scap.num_vfs == VFH_NUM_VFS && vfh.vbars[0].size && vfh.vbars[3].size &&
	       vfh_vf_bar(0, 0) == VFH_VF_BAR0_BASE && vfh_vf_bar(3, 1) == VFH_VF_BAR3_BASE + vfh.vbars[3].size &&
	       ((status >> 14) & 0xf) == VFH_NUM_VFS && raw_id == 0xffffffffu && view_id == 0x10ca8086u,
	       "SR-IOV on: NumVFs %u (STATUS.NUM_VFS %u), VF offset %u stride %u, VF device 0x%04x; VF BAR0 %llu KiB "
	       "per VF at 0x%llx, VF BAR3 %llu KiB at 0x%llx; VF 0 %02x:%02x.%u reads ID 0x%08x, synthesized 0x%08x",
	       vfh.scap.num_vfs, (status >> 14) & 0xf, vfh.scap.vf_offset, vfh.scap.vf_stride, vfh.scap.vf_device_id,
	       (unsigned long long)(vfh.vbars[0].size >> 10), (unsigned long long)vfh.vbars[0].base,
	       (unsigned long long)(vfh.vbars[3].size >> 10), (unsigned long long)vfh.vbars[3].base, vfh.vf_rid[0] >> 8,
	       (vfh.vf_rid[0] >> 3) & 31, vfh.vf_rid[0] & 7, raw_id, view_id);
	uint32_t rah1 = port_mmio_read32(vfh.pf_bar0 + IGB_RAH(1)), rah2 = port_mmio_read32(vfh.pf_bar0 + IGB_RAH(2));
	tap_ok((status & IGB_STATUS_LU) && port_mmio_read32(vfh.pf_bar0 + IGB_MRQC) == IGB_MRQC_VMDQ &&
	       (port_mmio_read32(vfh.pf_bar0 + IGB_DTXSWC) & IGB_DTXSWC_LOOPBACK) && (rah1 & IGB_RAH_AV) &&
	       (rah1 & IGB_RAH_POOL(0)) && (rah2 & IGB_RAH_POOL(1)) &&
	       (port_mmio_read32(vfh.pf_bar0 + IGB_CTRL_EXT) & IGB_CTRL_EXT_PFRSTD),
	       "link up (STATUS 0x%08x), MRQC VMDq, DTXSWC loopback, RAH[1] 0x%08x (pool 0), RAH[2] 0x%08x (pool 1), "
	       "CTRL_EXT.PFRSTD", status, rah1, rah2);
	tap_ok(peer.up && (port_mmio_read32(vfh.pf_bar0 + IGB_VFRE) & 2u) && (port_mmio_read32(vfh.pf_bar0 + IGB_VFTE) & 2u) &&
	       vfh.pf.vf[1].resets == 1 && peer.q.dma.mode == BMPT_SHARED,
	       "the peer VF 1 (%02x:%02x.%u): reset handshake answered by the PF (VFRE/VFTE bit 1 on), rings in its "
	       "own domain (%s)", vfh.vf_rid[1] >> 8, (vfh.vf_rid[1] >> 3) & 31, vfh.vf_rid[1] & 7, peer.q.dma.why);
}

/* --- 2. the guest ----------------------------------------------------------------- */

/* --- the PF's own interrupt: its MSI-X entry 0 through an IRTE of ours -------- */

static struct ir_route pf_route;
static struct ir_vcpu host_cpu;
static struct ir_guest host_side;
static uint32_t pf_irq_answered;

static void pf_vec_handler(struct idt_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	int n = igb_pf_mbx_irq(&vfh.pf);
	pf_irq_answered += n > 0 ? (uint32_t)n : 0;
}

static int pf_irq_setup(void)
{
	static const uint8_t hv[1] = { PF_HOST_VEC };
	host_cpu = (struct ir_vcpu){ .virt_apic_id = lapic_id(), .host_apic_id = lapic_id() };
	host_side = (struct ir_guest){ .name = "host", .vcpus = &host_cpu, .n_vcpus = 1 };
	const struct ir_route_cfg rc = { .table = &vfh.table, .guest = &host_side,
					 .source = { .sid = vfh.pf_rid, .svt = IRTE_SVT_SID }, .n_msgs = 1, .host_vectors = hv };
	int err = ir_route_open(&pf_route, &rc);
	/* The host's own message, compatibility format, then remapped by the route. */
	const struct msi_msg m = { .addr_lo = 0xfee00000u | lapic_id() << 12, .data = PF_HOST_VEC };
	err = err ? err : ir_route_update(&pf_route, &m, false);
	if (err)
		return err;
	uint64_t e = vfh.pfdev.msix_bar;   /* PF MSI-X entry 0 (BAR3 + 0) */
	port_mmio_write32(e + PCI_MSIX_ENTRY_ADDR_LO, pf_route.shadow_msi.addr_lo);
	port_mmio_write32(e + PCI_MSIX_ENTRY_ADDR_HI, pf_route.shadow_msi.addr_hi);
	port_mmio_write32(e + PCI_MSIX_ENTRY_DATA, pf_route.shadow_msi.data);
	port_mmio_write32(e + PCI_MSIX_ENTRY_VCTRL, 0);
	uint16_t ctl = pci_read16(vfh.pfdev.pci, (uint16_t)(vfh.pfdev.msix_cap + PCI_MSIX_CTRL));
	pci_write16(vfh.pfdev.pci, (uint16_t)(vfh.pfdev.msix_cap + PCI_MSIX_CTRL),
		    (uint16_t)((ctl & ~PCI_MSIX_CTRL_FMASK) | PCI_MSIX_CTRL_EN));
	return igb_pf_mbx_irq_enable(&vfh.pf, 0);
}

static uint64_t msix_phys(unsigned k, unsigned off)
{
	return port_mmio_read32(vfh_vf_bar(3, 0) + k * 16 + off);
}

static void test_guest(bool mirror)
{
	struct rig *r = &rg;
	tap_set_prefix(mirror ? "bm-vf mirror" : "bm-vf share");
	int rc = rig_vm(r);
	/* Counted per run: the peer's tallies and the host vectors. */
	peer.rx_frames = peer.rx_good = peer.rx_bad = peer.echoed = 0;
	host_irqs_foreign = 0;
	for (unsigned k = 0; k < 3; k++)
		idt_reset_count((uint8_t)(VFH_HOST_VEC0 + k));
	unsigned ctx0 = ctx_count(), irte0 = irte_count(), used0 = vfh.table.n_used;
	for (unsigned i = 0; i < BMVF_NDESC * BMVF_BUF / 8; i++) {
		((volatile uint64_t *)decoy)[i] = DECOY;
		((volatile uint64_t *)ram)[i] = 0;
	}
	for (unsigned i = 0; i < PAGE_SZ; i++)
		hole[i] = (uint8_t)(i * 7 + 1);
	prm = (struct bmvf_params){
		.cfg_gpa = VF_CFG_GPA, .ring_gpa = port_virt_to_phys(ring), .txbuf_gpa = port_virt_to_phys(txbuf),
		.rxbuf_gpa = port_virt_to_phys(decoy), .hole_gpa = port_virt_to_phys(hole),
		.foreign_gpa = port_virt_to_phys(peer.q.txbuf), .vec_rx = VEC_RX, .vec_tx = VEC_TX, .vec_mbx = VEC_MBX,
		.apic_id = GUEST_APIC, .frames = FRAMES, .frame_len = FRAME_LEN, .seed = SEED,
	};
	for (unsigned i = 0; i < 6; i++)
		prm.peer_mac[i] = vf_macs[1][i];
	rc = rc ? rc : assign(r, mirror ? BMPT_FORCE_MIRROR : 0);
	cur = r;
	unsigned resets0 = vfh.pf.vf[0].resets, flr0 = vfh.pf.vf[0].flr_events;
	uint32_t answered0 = pf_irq_answered, msgs0 = vfh.pf.mbx_msgs;
	idt_reset_count(PF_HOST_VEC);
	uint64_t t0 = clock_ns();
	int run = rc ? rc : rig_run(r);
	uint64_t dt = clock_ns() - t0;
	const uint64_t *g = r->reported;
	bool ran = run == CORE_STOP_HANDLER && r->done && (r->reported_mask & ((1u << G_COUNT) - 1)) == (1u << G_COUNT) - 1;
	tap_diag("guest run: setup %d, run %d, %u exits (NPF %u, hypercall %u, HLT %u, INTR %u, VINTR %u); %u HLT "
		 "waits (%u timed out); %u host interrupts not the VF's; PF: %u polls, %u messages",
		 rc, run, exits_total(&r->v), r->v.core.exits[CORE_EXIT_MMIO], r->v.core.exits[CORE_EXIT_HYPERCALL],
		 r->v.core.exits[CORE_EXIT_HLT], r->v.core.exits[CORE_EXIT_EXTINT],
		 r->v.core.exits[CORE_EXIT_INTR_WINDOW], r->hlt_waits, r->hlt_timeouts, host_irqs_foreign, vfh.pf.mbx_polls,
		 vfh.pf.mbx_msgs);

	/* (a) its config page: the synthesized IDs, MSI-X, the BARs. */
	tap_ok(ran && g[G_CFG_ID] == 0x10ca8086u && g[G_MSIX_CAP] == r->dev.msix && r->dev.msix &&
	       g[G_BAR0] == vfh_vf_bar(0, 0) && g[G_BAR3] == vfh_vf_bar(3, 0) && g[G_MSIX_SIZE] == 3,
	       "the guest read ID 0x%08llx (8086:10ca synthesized from the PF's SR-IOV capability) through its "
	       "trapped config page, MSI-X at 0x%llx with %llu entries, BAR0 0x%llx, BAR3 0x%llx",
	       (unsigned long long)g[G_CFG_ID], (unsigned long long)g[G_MSIX_CAP], (unsigned long long)g[G_MSIX_SIZE],
	       (unsigned long long)g[G_BAR0], (unsigned long long)g[G_BAR3]);
	/* (b) the reset handshake. */
	uint64_t mac_lo = vfh.pf.vf[0].mac[0] | vfh.pf.vf[0].mac[1] << 8 | vfh.pf.vf[0].mac[2] << 16 |
			  (uint64_t)vfh.pf.vf[0].mac[3] << 24;
	uint64_t mac_hi = vfh.pf.vf[0].mac[4] | vfh.pf.vf[0].mac[5] << 8;
	tap_ok(ran && g[G_RESET_W0] == (IGB_VF_RESET | IGB_MSG_ACK) && g[G_MAC_LO] == mac_lo && g[G_MAC_HI] == mac_hi &&
	       g[G_MC_TYPE] == 0 && vfh.pf.vf[0].resets == resets0 + 1 && vfh.pf.vf[0].flr_events > flr0,
	       "VF reset handshake: the guest's CTRL.RST reached the PF as a VFLRE event (%u), its VF_RESET was answered "
	       "0x%08llx (ACK) with MAC %02x:%02x:%02x:%02x:%02x:%02x and filter type %llu", vfh.pf.vf[0].flr_events - flr0,
	       (unsigned long long)g[G_RESET_W0], vfh.pf.vf[0].mac[0], vfh.pf.vf[0].mac[1], vfh.pf.vf[0].mac[2], vfh.pf.vf[0].mac[3],
	       vfh.pf.vf[0].mac[4], vfh.pf.vf[0].mac[5], (unsigned long long)g[G_MC_TYPE]);
	tap_ok(ran && g[G_MC_W0] == (IGB_VF_SET_MULTICAST | 2u << 16 | IGB_MSG_ACK | IGB_MSG_CTS) && vfh.pf.vf[0].n_mc == 2 &&
	       g[G_LPE_W0] == (IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS) &&
	       g[G_API_W0] == (IGB_VF_API_NEGOTIATE | IGB_MSG_NACK | IGB_MSG_CTS),
	       "mailbox: SET_MULTICAST (2 hashes) -> 0x%08llx ACK, SET_LPE 1518 -> 0x%08llx ACK, API negotiation -> "
	       "0x%08llx NACK (the 82576 PF does not know it)", (unsigned long long)g[G_MC_W0],
	       (unsigned long long)g[G_LPE_W0], (unsigned long long)g[G_API_W0]);
	/* The PF's side ran on the PF's own MSI-X vector, through our IRTE. */
	struct irte pe = vfh.table.entries[pf_route.base];
	uint64_t pfv = idt_count(PF_HOST_VEC);
	tap_ok(ran && pf_irq_answered - answered0 == 4 && vfh.pf.mbx_msgs - msgs0 == 4 && pfv >= 1 && (pe.lo & IRTE_LO_P) &&
	       (pe.hi & 0xffffu) == vfh.pf_rid && irte_vector(&pe) == PF_HOST_VEC,
	       "the PF answered the guest's 4 messages from its mailbox interrupt: host vector 0x%x arrived %llu times "
	       "through IRTE %u (SID 0x%04x verified), no polling in the guest's HLT exits", PF_HOST_VEC,
	       (unsigned long long)pfv, pf_route.base, (unsigned)(pe.hi & 0xffffu));
	/* QEMU's igb raises a VF's mailbox cause as (IVAR_MISC & 3) << (22 - 3 * vfn):
	 * the vector number taken as a bit mask, so the guest's mailbox vector 2
	 * (what Linux's igbvf programs) arrives on MSI-X entry 1; entry 2 stays
	 * silent.  Counted per vector, not assumed. */
	uint32_t vfre = port_mmio_read32(vfh.pf_bar0 + IGB_VFRE);
	uint64_t hs = r->hs_injected[0] + r->hs_injected[1] + r->hs_injected[2];
	tap_ok(ran && (vfre & 1u) && (port_mmio_read32(vfh.pf_bar0 + IGB_VFTE) & 1u) && hs >= 1 && r->hs_injected[1] >= 1 &&
	       idt_count(VFH_HOST_VEC0 + 1) >= r->hs_injected[1],
	       "the PF's mailbox replies raised the VF's interrupt through our IRTEs before any frame: %llu injected "
	       "(entry 0: %llu, 1: %llu, 2: %llu; QEMU sends the mailbox cause of IVAR_MISC vector 2 on entry 1; the "
	       "guest, polling with IF = 0, took %llu); VFRE 0x%x", (unsigned long long)hs,
	       (unsigned long long)r->hs_injected[0], (unsigned long long)r->hs_injected[1],
	       (unsigned long long)r->hs_injected[2], (unsigned long long)(g[G_HS_RX] + g[G_HS_TX] + g[G_HS_MBX]),
	       vfre);
	/* (c) the three contexts of MSI-X entry 0 (RX). */
	const struct bmpt_msix_entry *e0 = &r->dev.msix_entries[0];
	uint16_t idx = e0->route.base;
	struct irte hw = vfh.table.entries[idx];
	uint32_t pa = (uint32_t)msix_phys(0, 0), pd = (uint32_t)msix_phys(0, 8);
	struct msi_compat mc = { 0 };
	int dec = msi_compat_decode(&r->dev.msix_state.vec[0].virt_msi, &mc);
	unsigned vec = (unsigned)((hw.lo & IRTE_LO_VECTOR_MASK) >> IRTE_LO_VECTOR_SHIFT);
	tap_ok(ran && dec == 0 && mc.vector == VEC_RX && (pa & MSI_ADDR_IF) && (hw.lo & IRTE_LO_P) && vec == VFH_HOST_VEC0 &&
	       (hw.hi & 0xffffu) == vfh.vf_rid[0] && ((hw.hi >> 18) & 3u) == 1,
	       "MSI-X entry 0: virtual 0x%08x/0x%08x (vector 0x%x, APIC %u); shadow: IRTE %u = 0x%016llx_%016llx "
	       "(SID 0x%04x verified) and the VF's table holds 0x%08x/0x%08x (remappable); physical: host vector 0x%x",
	       r->dev.msix_state.virt[0][0], r->dev.msix_state.virt[0][2], mc.vector, mc.dest_id, idx, (unsigned long long)hw.hi,
	       (unsigned long long)hw.lo, (unsigned)(hw.hi & 0xffff), pa, pd, vec);
	/* (d) frames at the peer. */
	uint32_t s0 = 0;
	bool first_ok = peer_frame_ok(peer.first, FRAME_LEN, &s0) && s0 == 0;
	tap_ok(ran && peer.rx_good >= FRAMES && peer.rx_bad == 0 && first_ok && g[G_TX_DONE] == FRAMES,
	       "%u frames of %u bytes from the guest arrived at the peer VF with the right bytes (%u bad; frame 0 "
	       "byte for byte); %llu TX descriptors written back DD", peer.rx_good, FRAME_LEN, peer.rx_bad,
	       (unsigned long long)g[G_TX_DONE]);
	/* (e) replies in the guest's RX buffers, where our tables put them. */
	uint64_t vt = 0;
	unsigned fl = 0;
	int tr = vtd_domain_translate(&r->dma.dom, prm.rxbuf_gpa, &vt, &fl, NULL);
	unsigned landed = 0;
	for (unsigned b = 0; b < BMVF_NDESC; b++) {
		const uint8_t *f = ram + b * BMVF_BUF;
		bool ok = true;
		for (unsigned i = 0; i < 6; i++)
			ok &= f[i] == vfh.pf.vf[0].mac[i] && f[6 + i] == vf_macs[1][i];
		landed += ok;
	}
	bool decoy_ok = true;
	for (unsigned i = 0; i < BMVF_NDESC * BMVF_BUF / 8; i++)
		decoy_ok &= ((volatile uint64_t *)decoy)[i] == DECOY;
	tap_ok(ran && g[G_RX_GOOD] == FRAMES && g[G_RX_BAD] == 0 && tr == 0 && vt == port_virt_to_phys(ram) &&
	       landed == BMVF_NDESC && decoy_ok && g[G_RX_LAST_LEN] == FRAME_LEN,
	       "%llu echoes checked by the guest (%llu bad) in RX buffers at GPA 0x%llx, which the domain translates "
	       "to HPA 0x%llx: all %u buffers there hold an echo, the pages at HPA = GPA keep their sentinel",
	       (unsigned long long)g[G_RX_GOOD], (unsigned long long)g[G_RX_BAD], (unsigned long long)prm.rxbuf_gpa,
	       (unsigned long long)vt, landed);
	/* (f) interrupts: the VF's RX/TX causes -> IRTE -> host vector -> guest vector. */
	uint64_t h0 = idt_count(VFH_HOST_VEC0), h1 = idt_count(VFH_HOST_VEC0 + 1);
	tap_ok(ran && g[G_RX_IRQS] >= FRAMES && r->dev.msix_entries[0].injected >= g[G_RX_IRQS] &&
	       h0 == r->dev.msix_entries[0].injected && g[G_STRAY] == 0 && host_irqs_foreign == 0,
	       "RX: host vector 0x%x arrived %llu times through IRTE %u, injected %llu times as guest vector 0x%x, "
	       "taken %llu times by the guest's handler; no stray vectors", VFH_HOST_VEC0, (unsigned long long)h0, idx,
	       (unsigned long long)r->dev.msix_entries[0].injected, VEC_RX, (unsigned long long)g[G_RX_IRQS]);
	tap_ok(ran && g[G_TX_IRQS] >= FRAMES && r->dev.msix_entries[1].injected >= g[G_TX_IRQS] &&
	       h1 == r->dev.msix_entries[1].injected,
	       "TX: host vector 0x%x arrived %llu times through IRTE %u, injected %llu times as guest vector 0x%x, "
	       "taken %llu times", VFH_HOST_VEC0 + 1, (unsigned long long)h1, r->dev.msix_entries[1].route.base,
	       (unsigned long long)r->dev.msix_entries[1].injected, VEC_TX, (unsigned long long)g[G_TX_IRQS]);
	/* The delivery was the core's (core_glue_host_irq on each entry's glue
	 * route): its per-route count equals the arrivals at the host vector. */
	const struct glue_msi_route *q0 = r->dev.msix_entries[0].groute, *q1 = r->dev.msix_entries[1].groute;
	tap_ok(ran && q0 && q1 && q0->host_vector == VFH_HOST_VEC0 && q1->host_vector == VFH_HOST_VEC0 + 1 &&
	       h0 >= FRAMES && h1 >= FRAMES && q0->injected == h0 && q1->injected == h1 && !q0->pending && !q1->pending,
	       "the core's MSI routes injected %llu (RX) and %llu (TX) guest vectors via core_glue_host_irq for "
	       "%llu and %llu arrivals at host vectors 0x%x and 0x%x; none left pending",
	       q0 ? (unsigned long long)q0->injected : 0ull, q1 ? (unsigned long long)q1->injected : 0ull,
	       (unsigned long long)h0, (unsigned long long)h1, VFH_HOST_VEC0, VFH_HOST_VEC0 + 1);
	tap_ok(ran && r->faults_in_traffic == 0, "no VT-d fault during the %u round trips", FRAMES);
	/* (g) a descriptor naming a GPA outside the guest. */
	tap_ok(ran && r->hole_faults == 1 && !r->hole_f.irq && r->hole_f.sid == vfh.vf_rid[0] && r->hole_f.write &&
	       (r->hole_f.addr & ~(PAGE_SZ - 1)) == prm.hole_gpa && r->hole_hash_before == r->hole_hash_after &&
	       r->hole_hash_after == fnv(hole, PAGE_SZ),
	       "RX descriptor at GPA 0x%llx (outside the domain): VT-d fault reason 0x%x (%s), SID 0x%04x, write, "
	       "page 0x%llx; the host page there unchanged (hash)", (unsigned long long)prm.hole_gpa,
	       r->hole_f.reason, vtd_fault_reason_name(r->hole_f.reason), r->hole_f.sid,
	       (unsigned long long)r->hole_f.addr);
	/* (h) the other domain: the guest's VF cannot read the peer's buffer. */
	tap_ok(ran && r->foreign_faults == 1 && r->foreign_f.sid == vfh.vf_rid[0] && !r->foreign_f.write &&
	       (r->foreign_f.addr & ~(PAGE_SZ - 1)) == prm.foreign_gpa &&
	       r->peer_frames_after_foreign == r->peer_frames_before_foreign &&
	       r->foreign_hash_before == r->foreign_hash_after,
	       "TX descriptor at GPA 0x%llx (VF 1's buffer, in the peer's domain): VT-d fault reason 0x%x, SID 0x%04x, "
	       "read; no frame reached the peer (%u before, %u after), its page unchanged",
	       (unsigned long long)prm.foreign_gpa, r->foreign_f.reason, r->foreign_f.sid,
	       r->peer_frames_before_foreign, r->peer_frames_after_foreign);
	uint64_t lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
	vtd_ctx_read(&vfh.unit, (uint8_t)(vfh.vf_rid[0] >> 8), (uint8_t)vfh.vf_rid[0], &lo0, &hi0);
	vtd_ctx_read(&vfh.unit, (uint8_t)(vfh.vf_rid[1] >> 8), (uint8_t)vfh.vf_rid[1], &lo1, &hi1);
	uint64_t pv = 0;
	unsigned pfl = 0;
	int pt = vtd_domain_translate(&r->dma.dom, prm.foreign_gpa, &pv, &pfl, NULL);
	bool mode_ok = mirror ? r->dma.mode == BMPT_MIRROR && (void *)r->dma.dom.top != (void *)r->vm.core.ept.pml4
			      : r->dma.mode == BMPT_SHARED;
	tap_ok(mode_ok && (lo0 & 1) && (lo1 & 1) && ((hi0 >> 8) & 0xffff) != ((hi1 >> 8) & 0xffff) &&
	       (lo0 & ~0xfffull) != (lo1 & ~0xfffull) && pt == -PORT_ENOENT,
	       "two domains: VF 0's (%s the NPT) context entry DID %llu, SLPTPTR 0x%llx; VF 1's DID %llu, SLPTPTR 0x%llx; the "
	       "guest's domain does not map the peer's pages (%d)", mirror ? "mirroring" : "sharing",
	       (unsigned long long)((hi0 >> 8) & 0xffff),
	       (unsigned long long)(lo0 & ~0xfffull), (unsigned long long)((hi1 >> 8) & 0xffff),
	       (unsigned long long)(lo1 & ~0xfffull), pt);
	/* (i) counted, not timed. */
	uint32_t ex = exits_total(&r->v);
	tap_ok(ran && r->v.core.exits[CORE_EXIT_BACKEND] == 0 && r->hlt_timeouts == 0,
	       "%u exits for the whole run: %u per 1000 frames round trip (%u frames; NPF %u: config and MSI-X table "
	       "pages only, BAR0 is mapped); no HLT wait timed out", ex, (unsigned)((uint64_t)ex * 1000 / FRAMES),
	       FRAMES, r->v.core.exits[CORE_EXIT_MMIO]);
	uint64_t win = r->ns_after - r->ns_before;
	uint32_t wex = r->exits_after - r->exits_before;
	tap_ok(ran && r->exits_after > r->exits_before && wex >= 2 * FRAMES && r->npf_after == r->npf_before,
	       "the traffic alone: %u exits for %u round trips = %u per 1000 frames (the guest's HLT while it waits, "
	       "the INTR exits of the VF's vectors; no NPF: rings and BAR0 are mapped)", wex, FRAMES,
	       (unsigned)((uint64_t)wex * 1000 / FRAMES));
	tap_diag("figure (TCG, noisy, not a threshold): %u round trips in %llu us = %llu round trips/s (%llu frames/s "
		 "over the wire, both directions); %u exits per 1000 round trips; whole run %llu ms",
		 FRAMES, (unsigned long long)(win / 1000), (unsigned long long)(win ? FRAMES * 1000000000ull / win : 0),
		 (unsigned long long)(win ? 2ull * FRAMES * 1000000000ull / win : 0),
		 (unsigned)((uint64_t)wex * 1000 / FRAMES), (unsigned long long)(dt / 1000000));
	/* (j) release. */
	release(r);
	uint64_t lo = 0, hi = 0;
	vtd_ctx_read(&vfh.unit, (uint8_t)(vfh.vf_rid[0] >> 8), (uint8_t)vfh.vf_rid[0], &lo, &hi);
	uint32_t rxdctl = vfh_vf_rd(0, VF_RXDCTL), txdctl = vfh_vf_rd(0, VF_TXDCTL);
	vfre = port_mmio_read32(vfh.pf_bar0 + IGB_VFRE);
	tap_ok(!(lo & 1) && !(rxdctl & VF_QUEUE_ENABLE) && !(txdctl & VF_QUEUE_ENABLE) && !(vfre & 1u) &&
	       ctx_count() == ctx0 && irte_count() == irte0 && vfh.table.n_used == used0 &&
	       !(pci_cfg_read(&vfh.vcfg[0].dev, r->dev.msix + PCI_MSIX_CTRL, 2) & PCI_MSIX_CTRL_EN),
	       "release: VF 0 reset through VTCTRL (RXDCTL 0x%08x, TXDCTL 0x%08x, VFRE 0x%x), MSI-X off, context entry "
	       "gone (%u on the bus, as before), IRTEs %u present / %u allocated (as before)", rxdctl, txdctl, vfre,
	       ctx_count(), irte_count(), vfh.table.n_used);
	rig_fini(r);
}

/* --- 3. twenty assign/release cycles --------------------------------------------- */

static void test_cycles(void)
{
	unsigned ctx0 = ctx_count(), irte0 = irte_count(), used0 = vfh.table.n_used;
	unsigned ok = 0, peak_ctx = 0, peak_irte = 0;
	/* One VM (the SVM backend hands out ASIDs without taking them back),
	 * the VF assigned to it and released twenty times. */
	struct rig *r = &rg;
	int vm_rc = rig_vm(r);
	for (unsigned c = 0; c < CYCLES && !vm_rc; c++) {
		int rc = assign(r, 0);
		unsigned cc = ctx_count(), ic = vfh.table.n_used;
		peak_ctx = cc > peak_ctx ? cc : peak_ctx;
		peak_irte = ic > peak_irte ? ic : peak_irte;
		release(r);
		ok += rc == 0 && cc == ctx0 + 1 && ic == used0 + 3 && ctx_count() == ctx0 && irte_count() == irte0 &&
		      vfh.table.n_used == used0 && core_vm_mmio_free(&r->vm.core) == CORE_MAX_MMIO;
	}
	rig_fini(r);
	tap_ok(ok == CYCLES && ctx_count() == ctx0 && irte_count() == irte0 && vfh.table.n_used == used0,
	       "%u assign/release cycles: each added 1 context entry and allocated 3 IRTEs (peaks %u and %u) and removed "
	       "them; "
	       "after: %u context entries, %u IRTEs present, %u allocated (baseline %u, %u, %u)", ok, peak_ctx,
	       peak_irte, ctx_count(), irte_count(), vfh.table.n_used, ctx0, irte0, used0);
	/* The PF's mailbox state after it all: every request answered. */
	unsigned msgs = 0, acks = 0, nacks = 0;
	for (unsigned v = 0; v < VFH_NUM_VFS; v++) {
		msgs += vfh.pf.vf[v].msgs;
		acks += vfh.pf.vf[v].acks;
		nacks += vfh.pf.vf[v].nacks;
	}
	tap_ok(msgs == acks + nacks && msgs == vfh.pf.mbx_msgs && nacks == 2,
	       "PF mailbox: %u messages, %u ACK, %u NACK (the API negotiation of each guest run), none unanswered", msgs, acks, nacks);
}

/* --- the image ----------------------------------------------------------------------- */

void test_main(void)
{
	char brk[16] = "";
	boot_cmdline_get("break", brk, sizeof(brk));
	break_echo = brk[0] == 'e';
	tap_set_prefix("bm-vf");
	tap_plan(BMVF_TESTS);
	enum vfh_find found = vfh_find();
	if (found == VFH_NO_DMAR)
		tap_bail("no ACPI DMAR: run with -device intel-iommu,intremap=on");
	if (found == VFH_NO_PF)
		tap_bail("no igb PF: run with -device igb");
	int rc = vfh_iommu_up();
	tap_ok(rc == 0 && vfh.unit.caps.ir, "VT-d unit up with interrupt remapping; igb PF %02x:%02x.%u, BAR0 0x%llx",
	       vfh.pf_rid >> 8, (vfh.pf_rid >> 3) & 31, vfh.pf_rid & 7, (unsigned long long)vfh.pf_bar0);
	if (rc)
		tap_bail("VT-d bring-up: %d", rc);
	for (unsigned k = 0; k < 3; k++)
		idt_set_handler((uint8_t)(VFH_HOST_VEC0 + k), host_vec_handler, NULL);

	/* The PF: SR-IOV, link, switch, mailbox. */
	rc = vfh_pf_init(vf_macs);
	int link = rc ? rc : igb_pf_link_up(&vfh.pf, 1u << 22);
	rc = rc ? rc : igb_pf_switch_init(&vfh.pf);
	tap_diag("PF: setup %d, link %d after autoneg", rc, link);
	if (rc)
		tap_bail("PF bring-up: %d", rc);

	rc = svm_cpu_on(&cpu);
	if (rc)
		tap_bail("svm_cpu_on: %d", rc);
	hole = mem_alloc_contig(PAGE_SZ, PAGE_SZ);
	ram = mem_alloc_contig(BMVF_NDESC * BMVF_BUF, PAGE_SZ);
	decoy = mem_alloc_contig(BMVF_NDESC * BMVF_BUF, PAGE_SZ);
	ring = mem_alloc_contig(PAGE_SZ, PAGE_SZ);
	txbuf = mem_alloc_contig(BMVF_NDESC * BMVF_BUF, PAGE_SZ);
	if (!hole || !ram || !decoy || !ring || !txbuf)
		tap_bail("out of memory");
	rc = peer_init();
	if (rc)
		tap_diag("peer VF 1: %d", rc);
	/* After the peer's in-line handshake: from here on the PF's mailbox is
	 * served on its interrupt only. */
	idt_set_handler(PF_HOST_VEC, pf_vec_handler, NULL);
	int pirq = pf_irq_setup();
	if (pirq)
		tap_diag("PF mailbox interrupt: %d", pirq);
	test_pf();                 /* 3 (+1 above) */
	test_guest(false);         /* 18: the domain shares the NPT */
	test_guest(true);          /* 18: the domain mirrors it; the same guest again */
	tap_set_prefix("bm-vf");
	test_cycles();             /* 2: 42 in all */
	svm_cpu_off(&cpu);
	if (break_echo)
		tap_diag("fault injected on purpose: the peer corrupted echo %u (break=echo)", FRAMES / 2);
	else
		tap_diag("fault injected on purpose: none in this run (break=echo corrupts one echo)");
}
