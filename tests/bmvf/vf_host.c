/* vf_host.c — the host side of an igb VF on the bare-metal core; see vf_host.h. */
#include "tests/bmvf/vf_host.h"

#include "baremetal/acpi.h"
#include "baremetal/mem.h"
#include "port.h"
#include "tests/bmvf/igbvf.h"

#define PAGE_SZ 4096ull

struct vf_host vfh;

static const uint8_t host_vecs[3] = { VFH_HOST_VEC0, VFH_HOST_VEC0 + 1, VFH_HOST_VEC0 + 2 };

static uint32_t pf_cfg_read32(void *ctx, uint16_t off) { return pci_read32(ctx, off); }
static void pf_cfg_write32(void *ctx, uint16_t off, uint32_t v) { pci_write32(ctx, off, v); }
static volatile struct adv_desc *ring_tx(struct vfh_ring *q) { return (volatile struct adv_desc *)q->ring; }
static volatile struct adv_desc *ring_rx(struct vfh_ring *q) { return (volatile struct adv_desc *)(q->ring + 0x800); }
static int reset_handshake(void);

enum vfh_find vfh_find(void)
{
	const struct acpi_header *t = acpi_find("DMAR", 0);
	if (!t || dmar_parse(t, t->length, 0, &vfh.dmar) || !vfh.dmar.ndrhd)
		return VFH_NO_DMAR;
	if (igb_find(&vfh.pfdev, 0))
		return VFH_NO_PF;
	vfh.pf_bar0 = vfh.pfdev.mmio;
	vfh.pf_rid = pci_rid(vfh.pfdev.pci);
	return VFH_FOUND;
}

int vfh_iommu_up(void)
{
	int rc = vtd_unit_init(&vfh.unit, vfh.dmar.drhd[0].reg_base, 0);
	rc = rc ? rc : vtd_unit_enable(&vfh.unit);
	rc = rc ? rc : ir_table_init(&vfh.table, 256, 0);
	rc = rc ? rc : ir_table_enable(&vfh.table, &vfh.unit);
	return rc;
}

int vfh_pf_init(const uint8_t macs[VFH_NUM_VFS][6])
{
	const struct sriov_cfg_ops pcfg = { pf_cfg_read32, pf_cfg_write32, (void *)vfh.pfdev.pci };
	int rc = igb_pf_sriov_enable(&pcfg, VFH_NUM_VFS, VFH_VF_BAR0_BASE, VFH_VF_BAR3_BASE, &vfh.scap, vfh.vbars);
	for (unsigned v = 0; !rc && v < VFH_NUM_VFS; v++) {
		rc = sriov_vf_rid(&vfh.scap, vfh.pf_rid, (uint16_t)v, &vfh.vf_rid[v]);
		vfh.vcfg[v].dev = (struct pci_dev){ .cfg = vfh.pfdev.pci->cfg + ((uint64_t)(vfh.vf_rid[v] - vfh.pf_rid) << 12) };
		rc = rc ? rc : sriov_vf_view_init(&vfh.vcfg[v].view, IGB_VENDOR, &vfh.scap, vfh.vbars, (uint16_t)v);
	}
	struct igb_pf_regs regs = igb_pf_mmio_regs(&vfh.pf_bar0);
	return rc ? rc : igb_pf_init(&vfh.pf, &regs, VFH_NUM_VFS, macs);
}

uint64_t vfh_vf_bar(unsigned bar, unsigned vf) { return vfh.vbars[bar].base + vf * vfh.vbars[bar].size; }
uint32_t vfh_vf_rd(unsigned vf, uint32_t off) { return port_mmio_read32(vfh_vf_bar(0, vf) + off); }
void vfh_vf_wr(unsigned vf, uint32_t off, uint32_t v) { port_mmio_write32(vfh_vf_bar(0, vf) + off, v); }

uint32_t vfh_cfg_read(void *ctx, unsigned off, unsigned size)
{
	struct vf_cfg *c = ctx;
	return sriov_vf_view_read(&c->view, (uint16_t)off, size, pci_cfg_read(&c->dev, off, size));
}

void vfh_cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	struct vf_cfg *c = ctx;
	if (!sriov_vf_view_write(&c->view, (uint16_t)off, size, val))
		pci_cfg_write(&c->dev, off, size, val);
}

void vfh_dev_cfg(struct bmpt_dev_cfg *dc, uint64_t virt_cfg_gpa, struct bmpt_dma *dma, struct ir_guest *guest)
{
	*dc = (struct bmpt_dev_cfg){
		.rid = vfh.vf_rid[0], .cfg = { vfh_cfg_read, vfh_cfg_write, &vfh.vcfg[0] },
		.virt_cfg_gpa = virt_cfg_gpa, .dma = dma, .table = &vfh.table, .guest = guest,
		.host_vector = 0x5f, .msix_host_vectors = host_vecs, .n_msix_host_vectors = 3,
	};
	dc->bar_size[0] = vfh.vbars[0].size;
	dc->bar_size[3] = vfh.vbars[3].size;
}

int vfh_ring_init(struct vfh_ring *q, unsigned ndesc, struct svm_cpu *cpu, void *ctx)
{
	q->ndesc = ndesc;
	q->ring = mem_alloc_contig(PAGE_SZ, PAGE_SZ);
	q->txbuf = mem_alloc_contig(ndesc * VFH_BUF, PAGE_SZ);
	q->rxbuf = mem_alloc_contig(ndesc * VFH_BUF, PAGE_SZ);
	if (!q->ring || !q->txbuf || !q->rxbuf)
		return -PORT_ENOMEM;
	static const struct core_vm_ops none = { 0 };
	int rc = svm_vm_init(&q->vm, cpu, &none, ctx);
	/* Its domain: its own pages, identity; nothing else. */
	uint64_t r = port_virt_to_phys(q->ring), t = port_virt_to_phys(q->txbuf), x = port_virt_to_phys(q->rxbuf);
	rc = rc ? rc : core_vm_map(&q->vm.core, r, r, PAGE_SZ, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : core_vm_map(&q->vm.core, t, t, ndesc * VFH_BUF, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : core_vm_map(&q->vm.core, x, x, ndesc * VFH_BUF, EPT_R | EPT_W | EPT_RAM, EPT_MT_WB);
	rc = rc ? rc : bmpt_dma_init(&q->dma, &q->vm.core, &vfh.unit, 0);
	rc = rc ? rc : bmpt_dma_attach(&q->dma, vfh.vf_rid[1]);
	pci_command(&vfh.vcfg[1].dev, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, true);
	rc = rc ? rc : reset_handshake();
	if (rc)
		return rc;
	for (unsigned i = 0; i < PAGE_SZ; i++)
		q->ring[i] = 0;
	volatile struct adv_desc *rx = ring_rx(q);
	for (unsigned i = 0; i < ndesc; i++)
		rx[i] = (struct adv_desc){ .a = x + i * VFH_BUF };
	vfh_vf_wr(1, VF_TDBAL, (uint32_t)r);
	vfh_vf_wr(1, VF_TDBAH, (uint32_t)(r >> 32));
	vfh_vf_wr(1, VF_TDLEN, ndesc * 16);
	vfh_vf_wr(1, VF_TDH, 0);
	vfh_vf_wr(1, VF_TDT, 0);
	vfh_vf_wr(1, VF_TXDCTL, VF_QUEUE_ENABLE);
	vfh_vf_wr(1, VF_RDBAL, (uint32_t)(r + 0x800));
	vfh_vf_wr(1, VF_RDBAH, (uint32_t)((r + 0x800) >> 32));
	vfh_vf_wr(1, VF_RDLEN, ndesc * 16);
	vfh_vf_wr(1, VF_SRRCTL, VF_SRRCTL_BSIZE_2K | VF_SRRCTL_ADV_ONEBUF);
	vfh_vf_wr(1, VF_RDH, 0);
	vfh_vf_wr(1, VF_RXDCTL, VF_QUEUE_ENABLE);
	q->rt = ndesc - 1;
	vfh_vf_wr(1, VF_RDT, q->rt);
	return 0;
}

void vfh_ring_send(struct vfh_ring *q, const uint8_t *f, uint32_t len)
{
	volatile struct adv_desc *tx = ring_tx(q);
	uint8_t *b = q->txbuf + q->th * VFH_BUF;
	for (uint32_t i = 0; i < len; i++)
		b[i] = f[i];
	for (uint32_t i = len; i < 60; i++)   /* the minimum frame, FCS added by the MAC */
		b[i] = 0;
	if (len < 60)
		len = 60;
	tx[q->th].a = port_virt_to_phys(b);
	tx[q->th].c = len | TXD_DTYP_DATA | TXD_DEXT | TXD_RS | TXD_IFCS | TXD_EOP;
	tx[q->th].d = len << TXD_PAYLEN_SHIFT;
	q->th = (q->th + 1) % q->ndesc;
	vfh_vf_wr(1, VF_TDT, q->th);
}

unsigned vfh_ring_poll(struct vfh_ring *q, unsigned max, void (*frame)(void *ctx, uint8_t *f, uint32_t len),
		       void *ctx)
{
	volatile struct adv_desc *rx = ring_rx(q);
	uint64_t x = port_virt_to_phys(q->rxbuf);
	unsigned n = 0;
	for (; n < max && (rx[q->rh].c & RXD_STAT_DD); n++) {
		frame(ctx, q->rxbuf + q->rh * VFH_BUF, rx[q->rh].d & 0xffff);
		rx[q->rh] = (struct adv_desc){ .a = x + q->rh * VFH_BUF };
		rx[q->rt] = (struct adv_desc){ .a = x + q->rt * VFH_BUF };
		q->rt = (q->rt + 1) % q->ndesc;
		vfh_vf_wr(1, VF_RDT, q->rt);
		q->rh = (q->rh + 1) % q->ndesc;
	}
	return n;
}

/* The host's own little igbvf: mailbox VF_RESET (the PF served in line). */
static int reset_handshake(void)
{
	vfh_vf_wr(1, VF_CTRL, VF_CTRL_RST);
	igb_pf_mbx_poll(&vfh.pf);               /* the reset event */
	vfh_vf_wr(1, VF_VMMB, VF_MB_VFU);
	if (!(vfh_vf_rd(1, VF_VMMB) & VF_MB_VFU))
		return -PORT_EBUSY;
	vfh_vf_wr(1, VF_VMBMEM, MSG_VF_RESET);
	vfh_vf_wr(1, VF_VMMB, VF_MB_REQ);
	if (igb_pf_mbx_poll(&vfh.pf) != 1)
		return -PORT_EIO;
	uint32_t w0 = vfh_vf_rd(1, VF_VMBMEM);
	vfh_vf_wr(1, VF_VMMB, VF_MB_ACK);
	igb_pf_mbx_poll(&vfh.pf);
	return w0 == (IGB_VF_RESET | IGB_MSG_ACK) ? 0 : -PORT_EIO;
}
