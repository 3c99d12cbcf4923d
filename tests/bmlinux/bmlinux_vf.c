/* bmlinux_vf.c — the Linux guest's assigned VF and the hypervisor's
 * responder; see bmlinux_vf.h. */
#include "tests/bmlinux/bmlinux_vf.h"

#include "baremetal/console.h"
#include "baremetal/idt.h"
#include "baremetal/igb.h"
#include "baremetal/igb_pf.h"
#include "baremetal/lapic.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "port.h"
#include "sriov/sriov_cap.h"
#include "tests/bmvf/igbvf.h"
#include "tests/bmvf/vf_host.h"
#include "vmm_glue/core/core_glue.h"

#define PAGE_SZ 4096ull
#define VF_CFG_GPA 0xd0000000ull     /* bm_passthrough's config page (its trap removed: pci_host calls it) */
#define RESP_NDESC 16u
#define GUEST_RAM_TOP (256ull << 20)

struct bmlvf_stats bmlvf;
struct bmpt_dev bmlvf_dev;
struct vbars bmlvf_bars;
struct bmpt_dma bmlvf_dma;

static const uint8_t vf_macs[VFH_NUM_VFS][6] = { { 0x02, 0x56, 0x46, 0x00, 0x00, 0x20 },
						 { 0x02, 0x56, 0x46, 0x00, 0x00, 0x21 } };
static const uint8_t resp_ip[4] = { 10, 0, 0, 1 };

static struct core_vm *cur_vm;
static bool pf_up, dma_up, attached, dev_up;
/* bm_passthrough injects into this stand-in vCPU (no backend: the vector
 * lands in pending_irq); the IDT handler moves it to a bitmap the exit path
 * raises in the vlapic. */
static struct core_vcpu shim;
static struct core_vcpu *shim_list[1] = { &shim };
static struct core_glue glue;   /* the core, as bm_passthrough's device side reaches it */
static struct ir_vcpu ir_vcpu;
static struct ir_guest irg;
static volatile uint64_t pend[4];

/* --- the guest's view of VF 0: virtual BARs, then bm_passthrough --------------- */

static uint32_t slot_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	uint32_t v = 0xffffffffu;
	if (vbar_read(&bmlvf_bars, off, size, &v))
		return v;
	uint64_t r = 0;
	if (bmpt_cfg_read(&bmlvf_dev, VF_CFG_GPA + off, size, &r))
		return size == 4 ? 0xffffffffu : size == 2 ? 0xffffu : 0xffu;
	return (uint32_t)r;
}

static void slot_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	if (!vbar_write(&bmlvf_bars, off, size, val))
		bmpt_cfg_write(&bmlvf_dev, VF_CFG_GPA + off, size, val);
}

/* A BAR moved: BAR0 remapped in the NPT (and so the domain), uncached;
 * BAR3's MSI-X table is served by the window trap wherever it is. */
static void bar_moved(void *ctx, unsigned n, uint64_t from, uint64_t to)
{
	struct core_vm *vm = ctx;
	uint64_t size = bmlvf_bars.bar[n].size;
	if (n != 0 || !vm)
		return;
	if (from) {
		core_vm_unmap(vm, from, size);
		if (dma_up)
			bmpt_dma_sync(&bmlvf_dma, from, size);
	}
	if (to) {
		if (core_vm_map(vm, to, vfh_vf_bar(0, 0), size, EPT_R | EPT_W, EPT_MT_UC) == 0)
			bmlvf.bar0_maps++;
		if (to != BMLVF_BAR0_GPA)
			bmlvf.bar0_elsewhere = to;
		if (dma_up)
			bmpt_dma_sync(&bmlvf_dma, to, size);
	}
	core_vm_flush(vm);
}

/* The guest's PCI window: what is not mapped (BAR0) traps here.  Inside
 * BAR3: the MSI-X table pages go to bm_passthrough at their physical
 * address, the rest of BAR3 (the PBA) to the device; elsewhere all-ones. */
static int win_access(uint64_t gpa, bool write, unsigned size, uint64_t *val)
{
	const struct vbar *b3 = &bmlvf_bars.bar[3];
	if (b3->mapped && gpa >= b3->mapped && gpa - b3->mapped < b3->size && size <= b3->size - (gpa - b3->mapped)) {
		uint64_t pa = vfh_vf_bar(3, 0) + (gpa - b3->mapped);
		if (pa >= bmlvf_dev.msix_trap_gpa && pa - bmlvf_dev.msix_trap_gpa < bmlvf_dev.msix_trap_size)
			return write ? bmpt_msix_write(&bmlvf_dev, pa, size, *val) : bmpt_msix_read(&bmlvf_dev, pa, size, val);
		if (size == 4 && !(pa & 3)) {
			if (write)
				port_mmio_write32(pa, (uint32_t)*val);
			else
				*val = port_mmio_read32(pa);
			return 0;
		}
	}
	if (!write)
		*val = ~0ull;
	return 0;
}

static int win_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	(void)ctx;
	return win_access(gpa, false, size, val);
}

static int win_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	(void)ctx;
	return win_access(gpa, true, size, &val);
}

static const struct core_mmio_ops win_ops = { win_read, win_write, NULL };

static void host_vec_handler(struct idt_frame *f, void *ctx)
{
	(void)ctx;
	bmlvf.host_irqs++;
	shim.pending_irq = -1;
	if (!dev_up || bmpt_dev_host_irq(&bmlvf_dev, (uint8_t)f->vector) < 0) {
		bmlvf.foreign++;
		return;
	}
	if (shim.pending_irq >= 0) {
		unsigned v = (unsigned)shim.pending_irq & 0xff;
		pend[v / 64] |= 1ull << (v % 64);
	}
	shim.pending_irq = -1;
}

/* --- the responder: VF 1, in a domain of its own ---------------------------------- */

static struct vfh_ring resp;

static void resp_send(const uint8_t *f, uint32_t len)
{
	vfh_ring_send(&resp, f, len);
	bmlvf.tx_frames++;
}

static bool eq(const uint8_t *a, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static void cpy(uint8_t *d, const uint8_t *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		d[i] = s[i];
}

/* One received frame: an ARP request for 10.0.0.1 (RFC 826) gets the
 * reply; an ICMP echo request to it (RFC 792) gets the echo reply (type 0,
 * addresses swapped, the checksum adjusted: RFC 1624). */
static void resp_frame(void *ctx, uint8_t *f, uint32_t len)
{
	(void)ctx;
	bmlvf.rx_frames++;
	uint8_t o[VFH_BUF];
	if (len > sizeof(o))
		return;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806 && len >= 42 && f[20] == 0 && f[21] == 1 && eq(f + 38, resp_ip, 4)) {
		bmlvf.arp_req++;
		cpy(o, f + 6, 6);
		cpy(o + 6, vf_macs[1], 6);
		cpy(o + 12, f + 12, 8);        /* type, htype, ptype, hlen, plen */
		o[20] = 0, o[21] = 2;          /* reply */
		cpy(o + 22, vf_macs[1], 6);    /* sender: us */
		cpy(o + 28, resp_ip, 4);
		cpy(o + 32, f + 22, 10);       /* target: the asker */
		resp_send(o, 42);
		bmlvf.arp_rep++;
		return;
	}
	unsigned ihl = (f[14] & 0xf) * 4u;
	if (type == 0x0800 && len >= 14 + ihl + 8 && ihl >= 20 && f[23] == 1 && eq(f + 30, resp_ip, 4) &&
	    f[14 + ihl] == 8 && eq(f, vf_macs[1], 6)) {
		bmlvf.icmp_req++;
		cpy(o, f, len);
		cpy(o, f + 6, 6);
		cpy(o + 6, vf_macs[1], 6);
		cpy(o + 26, f + 30, 4);
		cpy(o + 30, f + 26, 4);
		uint8_t *ic = o + 14 + ihl;
		ic[0] = 0;
		uint32_t sum = (uint32_t)(ic[2] << 8 | ic[3]) + 0x0800u;   /* ~(~HC + ~m + m'), m 0x0800 -> 0 */
		sum = (sum & 0xffff) + (sum >> 16);
		ic[2] = (uint8_t)(sum >> 8), ic[3] = (uint8_t)sum;
		resp_send(o, len);
		bmlvf.icmp_rep++;
		return;
	}
	bmlvf.other++;
}

static void resp_poll(void)
{
	if (!bmlvf.responder_up)
		return;
	vfh_ring_poll(&resp, RESP_NDESC, resp_frame, NULL);
}

/* --- the API ---------------------------------------------------------------------- */

int bmlvf_host_init(struct svm_cpu *cpu, char *why, unsigned why_len)
{
	enum vfh_find found = vfh_find();
	if (found == VFH_NO_DMAR) {
		console_snprintf(why, why_len, "no ACPI DMAR (intel-iommu)");
		return -PORT_ENODEV;
	}
	if (found == VFH_NO_PF) {
		console_snprintf(why, why_len, "no igb PF");
		return -PORT_ENODEV;
	}
	int rc = vfh_iommu_up();
	for (unsigned k = 0; k < 3; k++)
		idt_set_handler((uint8_t)(VFH_HOST_VEC0 + k), host_vec_handler, NULL);
	rc = rc ? rc : vfh_pf_init(vf_macs);
	for (unsigned v = 0; v < VFH_NUM_VFS; v++)
		bmlvf.vf_rid[v] = vfh.vf_rid[v];
	pf_up = rc == 0;
	int link = rc ? rc : igb_pf_link_up(&vfh.pf, 1u << 22);
	bmlvf.link_pf = link == 0;
	rc = rc ? rc : igb_pf_switch_init(&vfh.pf);
	int r2 = rc ? rc : vfh_ring_init(&resp, RESP_NDESC, cpu, NULL);
	bmlvf.responder_up = r2 == 0;
	console_snprintf(why, why_len, "VT-d/PF set-up %d, link %d, responder %d", rc, link, r2);
	return rc ? rc : r2;
}

int bmlvf_assign(struct core_vm *vm, struct pci_host *h, bool badmap)
{
	cur_vm = vm;
	int rc = bmpt_dma_init(&bmlvf_dma, vm, &vfh.unit, badmap ? BMPT_FORCE_MIRROR : 0);
	dma_up = !rc;
	/* The deliberate bad mapping: the guest's RAM left out of the domain. */
	if (!rc && badmap)
		rc = vtd_domain_unmap(&bmlvf_dma.dom, 0, GUEST_RAM_TOP, NULL);
	rc = rc ? rc : bmpt_dma_attach(&bmlvf_dma, bmlvf.vf_rid[0]);
	attached = !rc;
	if (rc)
		return rc;
	/* The shim's pending vector (SVM has no backend injection) is moved
	 * into the guest's vlapic by host_vec_handler. */
	shim = (struct core_vcpu){ .vm = vm, .pending_irq = -1 };
	ir_vcpu = (struct ir_vcpu){ .virt_apic_id = 0, .host_apic_id = lapic_id() };
	irg = (struct ir_guest){ .name = "linux", .vcpus = &ir_vcpu, .n_vcpus = 1 };
	struct bmpt_dev_cfg dc;
	vfh_dev_cfg(&dc, VF_CFG_GPA, &bmlvf_dma, &irg);
	rc = core_glue_init(&glue, vm, &irg, shim_list);
	rc = rc ? rc : bmpt_dev_init(&bmlvf_dev, &glue.glue, &dc);
	dev_up = !rc;
	if (rc)
		return rc;
	/* Its traps at the config page and the physical table page go: the
	 * config comes through pci_host, the table through the window. */
	glue_untrap(&glue.glue, bmlvf_dev.cfg_trap);
	glue_untrap(&glue.glue, bmlvf_dev.msix_trap);
	bmlvf_dev.cfg_trap = bmlvf_dev.msix_trap = -1;
	rc = core_vm_trap_mmio(vm, BMLVF_WIN, BMLVF_WIN_SIZE, &win_ops);
	bmlvf_bars = (struct vbars){ .win_base = BMLVF_WIN, .win_size = BMLVF_WIN_SIZE, .moved = bar_moved, .ctx = vm };
	rc = rc ? rc : vbar_add(&bmlvf_bars, 0, vfh.vbars[0].size, true, true, BMLVF_BAR0_GPA);
	rc = rc ? rc : vbar_add(&bmlvf_bars, 3, vfh.vbars[3].size, true, true, BMLVF_BAR3_GPA);
	const struct pci_host_fn fn = { slot_read, slot_write, NULL };
	rc = rc ? rc : pci_host_attach(h, BMLVF_DEVFN, &fn);
	for (unsigned i = 0; i < 4; i++)
		pend[i] = 0;
	bmlvf_collect_faults();   /* anything older is not this guest's */
	bmlvf.faults_vf0 = bmlvf.faults_other = 0;
	bmlvf.first_fault = (struct vtd_fault){ 0 };
	bmlvf.bar0_elsewhere = 0;
	return rc;
}

void bmlvf_poll(struct vlapic *lapic, bool mbx)
{
	if (mbx && pf_up) {
		int n = igb_pf_mbx_poll(&vfh.pf);
		if (n > 0)
			bmlvf.mbx_msgs += (uint32_t)n;
		bmlvf.vf0_resets = vfh.pf.vf[0].resets;
		cpy(bmlvf.vf0_mac, vfh.pf.vf[0].mac, 6);
	}
	resp_poll();
	for (unsigned i = 0; i < 4; i++) {
		uint64_t m = pend[i];
		if (!m)
			continue;
		pend[i] = 0;
		for (unsigned b = 0; b < 64; b++)
			if (m & (1ull << b)) {
				vlapic_raise(lapic, (uint8_t)(i * 64 + b));
				bmlvf.raised++;
			}
	}
}

void bmlvf_collect_faults(void)
{
	if (!pf_up)
		return;
	struct vtd_fault fs[8];
	int n = vtd_fault_collect(&vfh.unit, fs, 8, NULL);
	for (int i = 0; i < n; i++) {
		if (fs[i].sid == bmlvf.vf_rid[0]) {
			if (!bmlvf.faults_vf0++)
				bmlvf.first_fault = fs[i];
		} else {
			bmlvf.faults_other++;
		}
	}
}

void bmlvf_release(struct core_vm *vm)
{
	if (!pf_up)
		return;
	if (dev_up) {
		bmpt_dev_fini(&bmlvf_dev);
		core_vm_untrap_mmio(vm, BMLVF_WIN);
	}
	dev_up = false;
	igb_pf_vf_reset(&vfh.pf, 0);
	if (attached)
		bmpt_dma_detach(&bmlvf_dma, bmlvf.vf_rid[0]);
	attached = false;
	if (dma_up)
		bmpt_dma_fini(&bmlvf_dma);
	dma_up = false;
	bmlvf_bars.ctx = NULL;
	cur_vm = NULL;
}
