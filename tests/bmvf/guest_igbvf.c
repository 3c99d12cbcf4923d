/*
 * guest_igbvf.c — a freestanding 64-bit guest that drives an assigned
 * 82576 VF as a minimal igbvf driver would, with guest-physical addresses
 * only:
 *
 *   1. its config page (trapped by bm_passthrough): the IDs, the MSI-X
 *      capability, BAR0 and BAR3, memory space + bus master;
 *   2. MSI-X: entry 0 (RX), 1 (TX), 2 (mailbox) programmed in the table
 *      (trapped page) with its vectors, MSI-X on; IVAR/IVAR_MISC route the
 *      VF's causes to them, EIAC/EIMS enable them;
 *   3. the reset handshake: CTRL.RST, then VF_RESET through the mailbox;
 *      the PF's reply carries its MAC (and the multicast filter type); then
 *      SET_MULTICAST, SET_LPE and an API negotiation (which the 82576 PF
 *      refuses);
 *   4. one TX and one RX ring (advanced descriptors) in its memory; frames
 *      to the peer MAC, each waited for (STI;HLT) until the echo lands in
 *      an RX buffer; the echo's bytes checked;
 *   5. faults on purpose: an RX descriptor naming a GPA its domain lacks,
 *      then a TX descriptor naming the peer's buffer; the host looks.
 *
 * Reports through VMCALL (igbvf.h keys), ends with VMCALL CMD_DONE.  BAR0
 * is mapped (no exits); the config page and the MSI-X table page exit.
 */
#include <stdint.h>

#include "pci/pci_cap.h"
#include "tests/bmvf/igbvf.h"
#include "tests/vmx/guest_edu.h"
#include "tests/vmx/guest_io.h"

uint8_t guest_igbvf_stack[8192] __attribute__((aligned(16)));
static uint64_t idt[512] __attribute__((aligned(16)));
volatile uint64_t gvf_rx_irqs, gvf_tx_irqs, gvf_mbx_irqs, gvf_stray;
static uint64_t bar0;
static uint32_t mb_sticky;     /* read-to-clear mailbox bits seen so far */
static unsigned halts;

#define WAIT_ROUNDS 2000u

static void report(enum bmvf_key k, uint64_t v) { vmcall(CMD_REPORT, k, v); }
static uint32_t vrd(uint32_t off) { return rd32(bar0 + off); }
static void vwr(uint32_t off, uint32_t v) { wr32(bar0 + off, v); }

/* --- interrupts: count per vector; no EOI (injected, no APIC) ------------- */

__asm__(
	"	.text\n"
	"gvf_rx_isr:	incq gvf_rx_irqs(%rip); iretq\n"
	"gvf_tx_isr:	incq gvf_tx_irqs(%rip); iretq\n"
	"gvf_mbx_isr:	incq gvf_mbx_irqs(%rip); iretq\n"
	"gvf_stray_isr:	incq gvf_stray(%rip); iretq\n");
void gvf_rx_isr(void);
void gvf_tx_isr(void);
void gvf_mbx_isr(void);
void gvf_stray_isr(void);

/* Wait for an interrupt (the host runs the PF and the peer meanwhile). */
static void wait_once(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	halts++;
}

/* --- the mailbox, VF side (82576 §7.8.2.9.1) -------------------------------- */

static uint32_t mb_read(void)
{
	uint32_t v = vrd(VF_VMMB);
	mb_sticky |= v & (VF_MB_PFSTS | VF_MB_PFACK | VF_MB_RSTD);
	return v;
}

static int mb_send(const uint32_t *w, unsigned n)
{
	vwr(VF_VMMB, VF_MB_VFU);
	if (!(mb_read() & VF_MB_VFU))
		return -1;
	for (unsigned i = 0; i < 16; i++)
		vwr(VF_VMBMEM + 4 * i, i < n ? w[i] : 0);
	mb_sticky &= ~(uint32_t)VF_MB_PFACK;
	vwr(VF_VMMB, VF_MB_REQ);          /* request; VFU released */
	for (unsigned r = 0; r < WAIT_ROUNDS; r++) {
		mb_read();
		if (mb_sticky & VF_MB_PFACK)
			return 0;
		wait_once();
	}
	return -1;
}

static int mb_recv(uint32_t *w, unsigned n)
{
	for (unsigned r = 0; r < WAIT_ROUNDS && !(mb_sticky & VF_MB_PFSTS); r++) {
		mb_read();
		if (!(mb_sticky & VF_MB_PFSTS))
			wait_once();
	}
	if (!(mb_sticky & VF_MB_PFSTS))
		return -1;
	vwr(VF_VMMB, VF_MB_VFU);
	mb_read();
	for (unsigned i = 0; i < n; i++)
		w[i] = vrd(VF_VMBMEM + 4 * i);
	mb_sticky &= ~(uint32_t)VF_MB_PFSTS;
	vwr(VF_VMMB, VF_MB_ACK);          /* received; VFU released */
	return 0;
}

static uint32_t mb_call(const uint32_t *w, unsigned n, uint32_t *reply, unsigned rn)
{
	if (mb_send(w, n) || mb_recv(reply, rn))
		return 0xdeadu;
	return reply[0];
}

/* --- config page ------------------------------------------------------------ */

static uint64_t bar64(uint64_t cfg, unsigned n)
{
	return (rd32(cfg + PCI_BAR0 + 4 * n) & ~0xfull) | (uint64_t)rd32(cfg + PCI_BAR0 + 4 * n + 4) << 32;
}

/* --- the driver ---------------------------------------------------------------- */

static void build_frame(const struct bmvf_params *p, const uint8_t *mac, uint8_t *f, uint32_t seq)
{
	for (unsigned i = 0; i < 6; i++) {
		f[i] = p->peer_mac[i];
		f[6 + i] = mac[i];
	}
	f[12] = BMVF_ETHERTYPE >> 8;
	f[13] = BMVF_ETHERTYPE & 0xff;
	f[14] = (uint8_t)seq;
	f[15] = (uint8_t)(seq >> 8);
	f[16] = (uint8_t)(seq >> 16);
	f[17] = (uint8_t)(seq >> 24);
	for (unsigned i = 18; i < p->frame_len; i++)
		f[i] = bmvf_pattern(p->seed, seq, i);
}

/* The echo: MACs swapped, everything else as sent. */
static int reply_ok(const struct bmvf_params *p, const uint8_t *mac, const uint8_t *f, uint32_t len, uint32_t seq)
{
	if (len < p->frame_len)
		return 0;
	for (unsigned i = 0; i < 6; i++)
		if (f[i] != mac[i] || f[6 + i] != p->peer_mac[i])
			return 0;
	if (f[12] != (BMVF_ETHERTYPE >> 8) || f[13] != (BMVF_ETHERTYPE & 0xff))
		return 0;
	if ((f[14] | f[15] << 8 | f[16] << 16 | (uint32_t)f[17] << 24) != seq)
		return 0;
	for (unsigned i = 18; i < p->frame_len; i++)
		if (f[i] != bmvf_pattern(p->seed, seq, i))
			return 0;
	return 1;
}

static void post_rx(volatile struct adv_desc *rx, unsigned i, uint64_t addr)
{
	rx[i].a = addr;
	rx[i].c = 0;
	rx[i].d = 0;
}

static void guest_igbvf_main(const struct bmvf_params *p)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { sizeof(idt) - 1,
										    (uint64_t)(uintptr_t)idt };
	for (unsigned v = 32; v < 256; v++)
		guest_idt_gate(idt, v, v == p->vec_rx ? gvf_rx_isr : v == p->vec_tx ? gvf_tx_isr
								 : v == p->vec_mbx ? gvf_mbx_isr : gvf_stray_isr, GUEST_EDU_CS);
	__asm__ volatile("cli; lidt %0" : : "m"(idtr) : "memory");

	/* 1. The function through its config page. */
	uint64_t cfg = p->cfg_gpa;
	report(G_CFG_ID, rd32(cfg));
	const struct pci_cfg_acc acc = { guest_cfg_read, (void *)(uintptr_t)cfg, PCI_CFG_SIZE };
	struct pci_cap c = { 0 };
	unsigned msix = pci_cap_find(&acc, PCI_CAP_ID_MSIX, &c) == 0 ? c.off : 0;
	report(G_MSIX_CAP, msix);
	bar0 = bar64(cfg, 0);
	uint64_t bar3 = bar64(cfg, 3);
	report(G_BAR0, bar0);
	report(G_BAR3, bar3);
	wr16(cfg + PCI_COMMAND, rd16(cfg + PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!msix)
		goto out;

	/* 2. MSI-X: the table (BIR 3 expected), three entries, then enable. */
	uint32_t tbl = rd32(cfg + msix + PCI_MSIX_TABLE);
	unsigned size = (rd16(cfg + msix + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_SIZE) + 1;
	report(G_MSIX_SIZE, size);
	uint64_t table = ((tbl & PCI_MSIX_BIR) == 3 ? bar3 : bar0) + (tbl & ~PCI_MSIX_BIR);
	const uint8_t vecs[3] = { p->vec_rx, p->vec_tx, p->vec_mbx };
	for (unsigned k = 0; k < 3 && k < size; k++) {
		uint64_t e = table + k * PCI_MSIX_ENTRY_SIZE;
		/* Compatibility format (SDM Vol. 3A §11.11): fixed, edge, physical. */
		wr32(e + PCI_MSIX_ENTRY_ADDR_LO, 0xfee00000u | (uint32_t)p->apic_id << 12);
		wr32(e + PCI_MSIX_ENTRY_ADDR_HI, 0);
		wr32(e + PCI_MSIX_ENTRY_DATA, vecs[k]);
		wr32(e + PCI_MSIX_ENTRY_VCTRL, 0);
	}
	wr16(cfg + msix + PCI_MSIX_CTRL, PCI_MSIX_CTRL_EN);

	/* 3. Reset, interrupt routing, the handshake. */
	vwr(VF_CTRL, VF_CTRL_RST);
	vwr(VF_IVAR0, (0u | VF_IVAR_VALID) | (1u | VF_IVAR_VALID) << 8);
	vwr(VF_IVAR_MISC, 2u | VF_IVAR_VALID);
	vwr(VF_EIAC, 7);
	vwr(VF_EIMS, 7);
	uint32_t m[4] = { MSG_VF_RESET }, r[4] = { 0 };
	report(G_RESET_W0, mb_call(m, 1, r, 4));
	report(G_MAC_LO, r[1]);
	report(G_MAC_HI, r[2]);
	report(G_MC_TYPE, r[3]);
	uint8_t mac[6] = { (uint8_t)r[1], (uint8_t)(r[1] >> 8), (uint8_t)(r[1] >> 16), (uint8_t)(r[1] >> 24),
			   (uint8_t)r[2], (uint8_t)(r[2] >> 8) };
	uint32_t mc[2] = { MSG_SET_MULTICAST | 2u << 16, 0x0bad0123u };
	report(G_MC_W0, mb_call(mc, 2, r, 1));
	uint32_t lpe[2] = { MSG_SET_LPE, 1518 };
	report(G_LPE_W0, mb_call(lpe, 2, r, 1));
	uint32_t api[2] = { MSG_API_NEGOTIATE, 2 };
	report(G_API_W0, mb_call(api, 2, r, 1));
	/* The interrupts the PF's replies raised, per vector, before any frame. */
	report(G_HS_RX, gvf_rx_irqs);
	report(G_HS_TX, gvf_tx_irqs);
	report(G_HS_MBX, gvf_mbx_irqs);

	/* 4. Rings. */
	volatile struct adv_desc *tx = (volatile struct adv_desc *)(uintptr_t)p->ring_gpa;
	volatile struct adv_desc *rx = (volatile struct adv_desc *)(uintptr_t)(p->ring_gpa + 0x800);
	for (unsigned i = 0; i < BMVF_NDESC; i++) {
		tx[i] = (struct adv_desc){ 0 };
		post_rx(rx, i, p->rxbuf_gpa + i * BMVF_BUF);
	}
	vwr(VF_TDBAL, (uint32_t)p->ring_gpa);
	vwr(VF_TDBAH, (uint32_t)(p->ring_gpa >> 32));
	vwr(VF_TDLEN, BMVF_NDESC * 16);
	vwr(VF_TDH, 0);
	vwr(VF_TDT, 0);
	vwr(VF_TXDCTL, VF_QUEUE_ENABLE);
	vwr(VF_RDBAL, (uint32_t)(p->ring_gpa + 0x800));
	vwr(VF_RDBAH, (uint32_t)((p->ring_gpa + 0x800) >> 32));
	vwr(VF_RDLEN, BMVF_NDESC * 16);
	vwr(VF_SRRCTL, VF_SRRCTL_BSIZE_2K | VF_SRRCTL_ADV_ONEBUF);
	vwr(VF_RDH, 0);
	vwr(VF_RXDCTL, VF_QUEUE_ENABLE);
	vwr(VF_RDT, BMVF_NDESC - 1);

	unsigned th = 0, rh = 0, rt = BMVF_NDESC - 1;
	uint64_t tx_done = 0, good = 0, bad = 0, last_len = 0;
	for (uint32_t seq = 0; seq < p->frames; seq++) {
		uint8_t *f = (uint8_t *)(uintptr_t)(p->txbuf_gpa + th * BMVF_BUF);
		build_frame(p, mac, f, seq);
		tx[th].a = p->txbuf_gpa + th * BMVF_BUF;
		tx[th].c = p->frame_len | TXD_DTYP_DATA | TXD_DEXT | TXD_RS | TXD_IFCS | TXD_EOP;
		tx[th].d = p->frame_len << TXD_PAYLEN_SHIFT;
		unsigned sent = th;
		th = (th + 1) % BMVF_NDESC;
		vwr(VF_TDT, th);
		unsigned rounds = 0;
		while (!(rx[rh].c & RXD_STAT_DD) && rounds++ < WAIT_ROUNDS)
			wait_once();
		tx_done += tx[sent].d & TXD_STAT_DD;
		if (!(rx[rh].c & RXD_STAT_DD))
			break;
		uint32_t len = rx[rh].d & 0xffff;
		last_len = len;
		if (reply_ok(p, mac, (const uint8_t *)(uintptr_t)(p->rxbuf_gpa + rh * BMVF_BUF), len, seq))
			good++;
		else
			bad++;
		/* Hand the descriptor back; the tail follows. */
		post_rx(rx, rt, p->rxbuf_gpa + rt * BMVF_BUF);
		if (rt != rh)
			post_rx(rx, rh, p->rxbuf_gpa + rh * BMVF_BUF);
		rt = (rt + 1) % BMVF_NDESC;
		vwr(VF_RDT, rt);
		rh = (rh + 1) % BMVF_NDESC;
	}
	report(G_TX_DONE, tx_done);
	report(G_RX_GOOD, good);
	report(G_RX_BAD, bad);
	report(G_RX_LAST_LEN, last_len);

	/* 5a. The next RX descriptor names a GPA outside its domain. */
	post_rx(rx, rh, p->hole_gpa);
	vmcall(CMD_PHASE, PH_RX_HOLE, 0);
	report(G_HOLE_DD, rx[rh].c & RXD_STAT_DD);
	/* 5b. A TX descriptor naming the peer's buffer (another domain). */
	tx[th].a = p->foreign_gpa;
	tx[th].c = p->frame_len | TXD_DTYP_DATA | TXD_DEXT | TXD_RS | TXD_IFCS | TXD_EOP;
	tx[th].d = p->frame_len << TXD_PAYLEN_SHIFT;
	th = (th + 1) % BMVF_NDESC;
	vwr(VF_TDT, th);
	vmcall(CMD_PHASE, PH_TX_FOREIGN, 0);

out:
	report(G_RX_IRQS, gvf_rx_irqs);
	report(G_TX_IRQS, gvf_tx_irqs);
	report(G_MBX_IRQS, gvf_mbx_irqs);
	report(G_STRAY, gvf_stray);
	report(G_HALTS, halts);
	report(G_DONE, 1);
	vmcall(CMD_DONE, 0, 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_igbvf_entry(const struct bmvf_params *p)
{
	gvf_rx_irqs = gvf_tx_irqs = gvf_mbx_irqs = gvf_stray = 0;
	bar0 = 0;
	mb_sticky = 0;
	halts = 0;
	guest_igbvf_main(p);
}
