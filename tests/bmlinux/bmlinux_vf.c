/* bmlinux_vf.c — the Linux guest's assigned VF and the hypervisor's
 * responder; see bmlinux_vf.h. */
#include "tests/bmlinux/bmlinux_vf.h"

#include "baremetal/acpi.h"
#include "baremetal/console.h"
#include "baremetal/idt.h"
#include "baremetal/igb.h"
#include "baremetal/igb_pf.h"
#include "baremetal/lapic.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "iommu/dmar.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "port.h"
#include "sriov/sriov_cap.h"
#include "tests/bmvf/igbvf.h"

#define PAGE_SZ 4096ull
#define NUM_VFS 2u
#define VF_BAR0_BASE 0xe8000000ull   /* physical: the PF's VF BAR0 */
#define VF_BAR3_BASE 0xe8100000ull   /* physical: VF BAR3 (MSI-X) */
#define VF_CFG_GPA 0xd0000000ull     /* bm_passthrough's config page (its trap removed: pci_host calls it) */
#define HOST_VEC0 0x60u              /* VF 0's MSI-X entry k -> host vector 0x60 + k */
#define RESP_NDESC 16u
#define RESP_BUF 2048u
#define GUEST_RAM_TOP (256ull << 20)

struct bmlvf_stats bmlvf;
struct bmpt_dev bmlvf_dev;
struct vbars bmlvf_bars;
struct bmpt_dma bmlvf_dma;

static struct dmar_info dmar;
static struct vtd_unit unit;
static struct ir_table table;
static struct igb pfdev;
static uint64_t pf_bar0;
static struct igb_pf pf;
static struct sriov_cap scap;
static struct sriov_vf_bar vbars_phys[SRIOV_NUM_BARS];
static uint16_t pf_rid;
static const uint8_t vf_macs[NUM_VFS][6] = { { 0x02, 0x56, 0x46, 0x00, 0x00, 0x20 },
					     { 0x02, 0x56, 0x46, 0x00, 0x00, 0x21 } };
static const uint8_t resp_ip[4] = { 10, 0, 0, 1 };

static struct core_vm *cur_vm;
static bool pf_up, dma_up, attached, dev_up;
/* bm_passthrough injects into this stand-in vCPU (no backend: the vector
 * lands in pending_irq); the IDT handler moves it to a bitmap the exit path
 * raises in the vlapic. */
static struct core_vcpu shim;
static struct core_vcpu *shim_list[1] = { &shim };
static struct ir_vcpu ir_vcpu;
static struct ir_guest irg;
static volatile uint64_t pend[4];
static const uint8_t host_vecs[3] = { HOST_VEC0, HOST_VEC0 + 1, HOST_VEC0 + 2 };

/* --- VF config: the ECAM page with the SR-IOV view on top --------------------- */

struct vf_cfg {
	struct pci_dev dev;
	struct sriov_vf_view view;
};
static struct vf_cfg vcfg[NUM_VFS];

static uint32_t vf_cfg_read(void *ctx, unsigned off, unsigned size)
{
	struct vf_cfg *c = ctx;
	return sriov_vf_view_read(&c->view, (uint16_t)off, size, pci_cfg_read(&c->dev, off, size));
}

static void vf_cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	struct vf_cfg *c = ctx;
	if (!sriov_vf_view_write(&c->view, (uint16_t)off, size, val))
		pci_cfg_write(&c->dev, off, size, val);
}

static uint32_t pf_cfg_read32(void *ctx, uint16_t off) { return pci_read32(ctx, off); }
static void pf_cfg_write32(void *ctx, uint16_t off, uint32_t v) { pci_write32(ctx, off, v); }
static uint64_t vf_bar(unsigned bar, unsigned vf) { return vbars_phys[bar].base + vf * vbars_phys[bar].size; }
static uint32_t vf_rd(unsigned vf, uint32_t off) { return port_mmio_read32(vf_bar(0, vf) + off); }
static void vf_wr(unsigned vf, uint32_t off, uint32_t v) { port_mmio_write32(vf_bar(0, vf) + off, v); }

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
		if (core_vm_map(vm, to, vf_bar(0, 0), size, EPT_R | EPT_W, EPT_MT_UC) == 0)
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
		uint64_t pa = vf_bar(3, 0) + (gpa - b3->mapped);
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
	if (!dev_up || bmpt_dev_host_irq(&bmlvf_dev, (uint8_t)f->vector)) {
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

static struct {
	struct svm_vm vm;              /* only its NPT: the domain's tables */
	struct bmpt_dma dma;
	uint8_t *ring;                 /* TX ring +0, RX ring +0x800 */
	uint8_t *txbuf, *rxbuf;
	unsigned rh, rt, th;
} resp;

static volatile struct adv_desc *resp_tx(void) { return (volatile struct adv_desc *)resp.ring; }
static volatile struct adv_desc *resp_rx(void) { return (volatile struct adv_desc *)(resp.ring + 0x800); }

static int resp_handshake(void)
{
	vf_wr(1, VF_CTRL, VF_CTRL_RST);
	igb_pf_mbx_poll(&pf);
	vf_wr(1, VF_VMMB, VF_MB_VFU);
	if (!(vf_rd(1, VF_VMMB) & VF_MB_VFU))
		return -PORT_EBUSY;
	vf_wr(1, VF_VMBMEM, MSG_VF_RESET);
	vf_wr(1, VF_VMMB, VF_MB_REQ);
	if (igb_pf_mbx_poll(&pf) != 1)
		return -PORT_EIO;
	uint32_t w0 = vf_rd(1, VF_VMBMEM);
	vf_wr(1, VF_VMMB, VF_MB_ACK);
	igb_pf_mbx_poll(&pf);
	return w0 == (IGB_VF_RESET | IGB_MSG_ACK) ? 0 : -PORT_EIO;
}

static int resp_init(struct svm_cpu *cpu)
{
	resp.ring = mem_alloc_contig(PAGE_SZ, PAGE_SZ);
	resp.txbuf = mem_alloc_contig(RESP_NDESC * RESP_BUF, PAGE_SZ);
	resp.rxbuf = mem_alloc_contig(RESP_NDESC * RESP_BUF, PAGE_SZ);
	if (!resp.ring || !resp.txbuf || !resp.rxbuf)
		return -PORT_ENOMEM;
	static const struct core_vm_ops none = { 0 };
	int rc = svm_vm_init(&resp.vm, cpu, &none, NULL);
	uint64_t r = port_virt_to_phys(resp.ring), t = port_virt_to_phys(resp.txbuf), x = port_virt_to_phys(resp.rxbuf);
	rc = rc ? rc : core_vm_map(&resp.vm.core, r, r, PAGE_SZ, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : core_vm_map(&resp.vm.core, t, t, RESP_NDESC * RESP_BUF, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : core_vm_map(&resp.vm.core, x, x, RESP_NDESC * RESP_BUF, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : bmpt_dma_init(&resp.dma, &resp.vm.core, &unit, 0);
	rc = rc ? rc : bmpt_dma_attach(&resp.dma, bmlvf.vf_rid[1]);
	pci_command(&vcfg[1].dev, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, true);
	rc = rc ? rc : resp_handshake();
	if (rc)
		return rc;
	for (unsigned i = 0; i < PAGE_SZ; i++)
		resp.ring[i] = 0;
	volatile struct adv_desc *rx = resp_rx();
	for (unsigned i = 0; i < RESP_NDESC; i++)
		rx[i] = (struct adv_desc){ .a = x + i * RESP_BUF };
	vf_wr(1, VF_TDBAL, (uint32_t)r);
	vf_wr(1, VF_TDBAH, (uint32_t)(r >> 32));
	vf_wr(1, VF_TDLEN, RESP_NDESC * 16);
	vf_wr(1, VF_TDH, 0);
	vf_wr(1, VF_TDT, 0);
	vf_wr(1, VF_TXDCTL, VF_QUEUE_ENABLE);
	vf_wr(1, VF_RDBAL, (uint32_t)(r + 0x800));
	vf_wr(1, VF_RDBAH, (uint32_t)((r + 0x800) >> 32));
	vf_wr(1, VF_RDLEN, RESP_NDESC * 16);
	vf_wr(1, VF_SRRCTL, VF_SRRCTL_BSIZE_2K | VF_SRRCTL_ADV_ONEBUF);
	vf_wr(1, VF_RDH, 0);
	vf_wr(1, VF_RXDCTL, VF_QUEUE_ENABLE);
	resp.rt = RESP_NDESC - 1;
	vf_wr(1, VF_RDT, resp.rt);
	return 0;
}

static void resp_send(const uint8_t *f, uint32_t len)
{
	volatile struct adv_desc *tx = resp_tx();
	uint8_t *b = resp.txbuf + resp.th * RESP_BUF;
	for (uint32_t i = 0; i < len; i++)
		b[i] = f[i];
	for (uint32_t i = len; i < 60; i++)   /* the minimum frame, FCS added by the MAC */
		b[i] = 0;
	if (len < 60)
		len = 60;
	tx[resp.th].a = port_virt_to_phys(b);
	tx[resp.th].c = len | TXD_DTYP_DATA | TXD_DEXT | TXD_RS | TXD_IFCS | TXD_EOP;
	tx[resp.th].d = len << TXD_PAYLEN_SHIFT;
	resp.th = (resp.th + 1) % RESP_NDESC;
	vf_wr(1, VF_TDT, resp.th);
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
static void resp_frame(const uint8_t *f, uint32_t len)
{
	uint8_t o[RESP_BUF];
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
	volatile struct adv_desc *rx = resp_rx();
	uint64_t x = port_virt_to_phys(resp.rxbuf);
	for (unsigned n = 0; n < RESP_NDESC && (rx[resp.rh].c & RXD_STAT_DD); n++) {
		bmlvf.rx_frames++;
		resp_frame(resp.rxbuf + resp.rh * RESP_BUF, rx[resp.rh].d & 0xffff);
		rx[resp.rh] = (struct adv_desc){ .a = x + resp.rh * RESP_BUF };
		rx[resp.rt] = (struct adv_desc){ .a = x + resp.rt * RESP_BUF };
		resp.rt = (resp.rt + 1) % RESP_NDESC;
		vf_wr(1, VF_RDT, resp.rt);
		resp.rh = (resp.rh + 1) % RESP_NDESC;
	}
}

/* --- the API ---------------------------------------------------------------------- */

int bmlvf_host_init(struct svm_cpu *cpu, char *why, unsigned why_len)
{
	const struct acpi_header *t = acpi_find("DMAR", 0);
	if (!t || dmar_parse(t, t->length, 0, &dmar) || !dmar.ndrhd) {
		console_snprintf(why, why_len, "no ACPI DMAR (intel-iommu)");
		return -PORT_ENODEV;
	}
	if (igb_find(&pfdev, 0)) {
		console_snprintf(why, why_len, "no igb PF");
		return -PORT_ENODEV;
	}
	pf_bar0 = pfdev.mmio;
	pf_rid = pci_rid(pfdev.pci);
	int rc = vtd_unit_init(&unit, dmar.drhd[0].reg_base, 0);
	rc = rc ? rc : vtd_unit_enable(&unit);
	rc = rc ? rc : ir_table_init(&table, 256, 0);
	rc = rc ? rc : ir_table_enable(&table, &unit);
	for (unsigned k = 0; k < 3; k++)
		idt_set_handler((uint8_t)(HOST_VEC0 + k), host_vec_handler, NULL);
	const struct sriov_cfg_ops pcfg = { pf_cfg_read32, pf_cfg_write32, (void *)pfdev.pci };
	rc = rc ? rc : igb_pf_sriov_enable(&pcfg, NUM_VFS, VF_BAR0_BASE, VF_BAR3_BASE, &scap, vbars_phys);
	for (unsigned v = 0; !rc && v < NUM_VFS; v++) {
		rc = sriov_vf_rid(&scap, pf_rid, (uint16_t)v, &bmlvf.vf_rid[v]);
		vcfg[v].dev = (struct pci_dev){ .cfg = pfdev.pci->cfg + ((uint64_t)(bmlvf.vf_rid[v] - pf_rid) << 12) };
		rc = rc ? rc : sriov_vf_view_init(&vcfg[v].view, IGB_VENDOR, &scap, vbars_phys, (uint16_t)v);
	}
	struct igb_pf_regs regs = igb_pf_mmio_regs(&pf_bar0);
	rc = rc ? rc : igb_pf_init(&pf, &regs, NUM_VFS, vf_macs);
	pf_up = rc == 0;
	int link = rc ? rc : igb_pf_link_up(&pf, 1u << 22);
	bmlvf.link_pf = link == 0;
	rc = rc ? rc : igb_pf_switch_init(&pf);
	int r2 = rc ? rc : resp_init(cpu);
	bmlvf.responder_up = r2 == 0;
	console_snprintf(why, why_len, "VT-d/PF set-up %d, link %d, responder %d", rc, link, r2);
	return rc ? rc : r2;
}

int bmlvf_assign(struct core_vm *vm, struct pci_host *h, bool badmap)
{
	cur_vm = vm;
	int rc = bmpt_dma_init(&bmlvf_dma, vm, &unit, badmap ? BMPT_FORCE_MIRROR : 0);
	dma_up = !rc;
	/* The deliberate bad mapping: the guest's RAM left out of the domain. */
	if (!rc && badmap)
		rc = vtd_domain_unmap(&bmlvf_dma.dom, 0, GUEST_RAM_TOP, NULL);
	rc = rc ? rc : bmpt_dma_attach(&bmlvf_dma, bmlvf.vf_rid[0]);
	attached = !rc;
	if (rc)
		return rc;
	shim = (struct core_vcpu){ .pending_irq = -1 };
	ir_vcpu = (struct ir_vcpu){ .virt_apic_id = 0, .host_apic_id = lapic_id() };
	irg = (struct ir_guest){ .name = "linux", .vcpus = &ir_vcpu, .n_vcpus = 1 };
	struct bmpt_dev_cfg dc = {
		.rid = bmlvf.vf_rid[0], .cfg = { vf_cfg_read, vf_cfg_write, &vcfg[0] },
		.virt_cfg_gpa = VF_CFG_GPA, .dma = &bmlvf_dma, .table = &table, .guest = &irg, .vcpus = shim_list,
		.host_vector = 0x5f, .msix_host_vectors = host_vecs, .n_msix_host_vectors = 3,
	};
	dc.bar_size[0] = vbars_phys[0].size;
	dc.bar_size[3] = vbars_phys[3].size;
	rc = bmpt_dev_init(&bmlvf_dev, vm, &dc);
	dev_up = !rc;
	if (rc)
		return rc;
	/* Its traps at the config page and the physical table page go: the
	 * config comes through pci_host, the table through the window. */
	core_vm_untrap_mmio(vm, VF_CFG_GPA);
	core_vm_untrap_mmio(vm, bmlvf_dev.msix_trap_gpa);
	rc = core_vm_trap_mmio(vm, BMLVF_WIN, BMLVF_WIN_SIZE, &win_ops);
	bmlvf_bars = (struct vbars){ .win_base = BMLVF_WIN, .win_size = BMLVF_WIN_SIZE, .moved = bar_moved, .ctx = vm };
	rc = rc ? rc : vbar_add(&bmlvf_bars, 0, vbars_phys[0].size, true, true, BMLVF_BAR0_GPA);
	rc = rc ? rc : vbar_add(&bmlvf_bars, 3, vbars_phys[3].size, true, true, BMLVF_BAR3_GPA);
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
		int n = igb_pf_mbx_poll(&pf);
		if (n > 0)
			bmlvf.mbx_msgs += (uint32_t)n;
		bmlvf.vf0_resets = pf.vf[0].resets;
		cpy(bmlvf.vf0_mac, pf.vf[0].mac, 6);
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
	int n = vtd_fault_collect(&unit, fs, 8, NULL);
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
	igb_pf_vf_reset(&pf, 0);
	if (attached)
		bmpt_dma_detach(&bmlvf_dma, bmlvf.vf_rid[0]);
	attached = false;
	if (dma_up)
		bmpt_dma_fini(&bmlvf_dma);
	dma_up = false;
	bmlvf_bars.ctx = NULL;
	cur_vm = NULL;
}
