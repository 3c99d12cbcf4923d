/*
 * igb_pf.c — the 82576 PF for SR-IOV: VFs on, link up, the VMDq switch,
 * and the PF side of the mailbox (82576 datasheet §7.8.2.9, §7.10, §8.14).
 *
 * The mailbox protocol, PF side (§7.8.2.9.1):
 *   a VF request:  MBVFICR.VFREQ(v) set → the PF takes the buffer
 *                  (P2VMAILBOX.PFU), reads VMBMEM(v), clears VFREQ (W1C) and
 *                  writes P2VMAILBOX.ACK (which releases PFU);
 *   the reply:     PFU, VMBMEM(v) written, P2VMAILBOX.STS (releases PFU);
 *                  the VF acknowledges with its ACK → MBVFICR.VFACK(v).
 * Replies follow Linux's PF (igb_rcv_msg_from_vf): ACK or NACK in word 0,
 * CTS once the VF did its reset handshake; a VF_RESET reply carries the MAC
 * in words 1-2 and the multicast filter type in word 3.
 */
#include "baremetal/igb_pf.h"

#include "port.h"

#define MDIC_PHY1 (1u << 21)      /* §8.2.4: PHYADD = 1 */
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_REG(r) ((uint32_t)(r) << 16)
#define PHY_BMCR 0
#define BMCR_ANENABLE (1u << 12)
#define BMCR_ANRESTART (1u << 9)
#define BMCR_FULLDPLX (1u << 8)
#define BMCR_SPEED1000 (1u << 6)
#define MDIC_POLLS 1000u
#define MC_FILTER_TYPE 0u         /* MTA uses bits 47:36 (RCTL.MO = 0) */

static uint32_t rd(const struct igb_pf *pf, uint32_t off) { return pf->r.rd(pf->r.ctx, off); }
static void wr(const struct igb_pf *pf, uint32_t off, uint32_t v) { pf->r.wr(pf->r.ctx, off, v); }
static void vf_pool_on(struct igb_pf *pf, unsigned vf, bool on);
static void set_rar(struct igb_pf *pf, unsigned vf);
static bool mac_valid(const uint8_t *m);

/* --- MMIO ---------------------------------------------------------------- */

static uint32_t mmio_rd(void *ctx, uint32_t off) { return port_mmio_read32(*(uint64_t *)ctx + off); }
static void mmio_wr(void *ctx, uint32_t off, uint32_t v) { port_mmio_write32(*(uint64_t *)ctx + off, v); }

struct igb_pf_regs igb_pf_mmio_regs(uint64_t *bar0)
{
	return (struct igb_pf_regs){ mmio_rd, mmio_wr, bar0 };
}

/* --- bring-up -------------------------------------------------------------- */

int igb_pf_init(struct igb_pf *pf, const struct igb_pf_regs *r, unsigned num_vfs, const uint8_t (*vf_macs)[6])
{
	if (!pf || !r || !r->rd || !r->wr || !vf_macs || num_vfs == 0 || num_vfs > IGB_PF_MAX_VFS)
		return -PORT_EINVAL;
	*pf = (struct igb_pf){ .r = *r, .num_vfs = num_vfs };
	for (unsigned v = 0; v < num_vfs; v++) {
		if (!mac_valid(vf_macs[v]))
			return -PORT_EINVAL;
		for (unsigned i = 0; i < 6; i++)
			pf->vf[v].mac[i] = vf_macs[v][i];
		pf->vf[v].max_frame = 1518;
	}
	return 0;
}

int igb_pf_sriov_enable(const struct sriov_cfg_ops *cfg, unsigned num_vfs, uint64_t bar0_base, uint64_t bar3_base,
			struct sriov_cap *cap, struct sriov_vf_bar bars[SRIOV_NUM_BARS])
{
	if (!cfg || !cfg->read32 || !cfg->write32 || !cap || !bars || num_vfs == 0 || num_vfs > IGB_PF_MAX_VFS)
		return -PORT_EINVAL;
	int rc = sriov_cap_read(cfg, cap);
	if (rc)
		return rc;
	if (num_vfs > cap->total_vfs)
		return -PORT_ERANGE;
	uint16_t pos = cap->pos;
	/* §9.3.3.3: VF Enable and VF MSE off while the BARs change. */
	uint32_t ctl = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CTRL));
	cfg->write32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CTRL),
		     ctl & ~(uint32_t)(SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE));
	rc = sriov_vf_bars_probe(cfg, cap, bars);
	if (rc)
		return rc;
	if (!bars[0].size || !bars[3].size || !bars[0].is_64bit || !bars[3].is_64bit ||
	    (bar0_base & (bars[0].size - 1)) || (bar3_base & (bars[3].size - 1)))
		return -PORT_EINVAL;
	/* §9.3.3.7 NumVFs (16 bits; the dword's upper half is FDL, read-only). */
	uint32_t nv = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_NUM_VFS));
	cfg->write32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_NUM_VFS), (nv & 0xffff0000u) | num_vfs);
	/* §9.3.3.14 VF BAR0 / BAR3, both 64-bit: VF i's copy at base + i * size. */
	const uint16_t b0 = (uint16_t)(pos + SRIOV_REG_VF_BAR0), b3 = (uint16_t)(pos + SRIOV_REG_VF_BAR0 + 12);
	cfg->write32(cfg->ctx, b0, (uint32_t)bar0_base | (cfg->read32(cfg->ctx, b0) & 0xfu));
	cfg->write32(cfg->ctx, (uint16_t)(b0 + 4), (uint32_t)(bar0_base >> 32));
	cfg->write32(cfg->ctx, b3, (uint32_t)bar3_base | (cfg->read32(cfg->ctx, b3) & 0xfu));
	cfg->write32(cfg->ctx, (uint16_t)(b3 + 4), (uint32_t)(bar3_base >> 32));
	ctl = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CTRL));
	cfg->write32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CTRL), ctl | SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE);
	rc = sriov_cap_read(cfg, cap);
	if (rc)
		return rc;
	bars[0].base = bar0_base;
	bars[3].base = bar3_base;
	return cap->vf_enable && cap->num_vfs == num_vfs ? 0 : -PORT_EIO;
}

int igb_pf_sriov_disable(const struct sriov_cfg_ops *cfg)
{
	uint16_t pos;
	int rc = cfg ? sriov_cap_find(cfg, &pos) : -PORT_EINVAL;
	if (rc)
		return rc;
	uint32_t ctl = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CTRL));
	cfg->write32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CTRL),
		     ctl & ~(uint32_t)(SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE));
	uint32_t nv = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_NUM_VFS));
	cfg->write32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_NUM_VFS), nv & 0xffff0000u);
	return 0;
}

int igb_pf_link_up(struct igb_pf *pf, uint32_t max_polls)
{
	if (!pf)
		return -PORT_EINVAL;
	wr(pf, IGB_CTRL, rd(pf, IGB_CTRL) | IGB_CTRL_SLU);
	/* §8.2.4: a PHY register write through MDIC; BMCR autoneg restart. */
	wr(pf, IGB_MDIC, MDIC_OP_WRITE | MDIC_PHY1 | MDIC_REG(PHY_BMCR) |
			       (BMCR_ANENABLE | BMCR_ANRESTART | BMCR_FULLDPLX | BMCR_SPEED1000));
	for (uint32_t i = 0; i < MDIC_POLLS && !(rd(pf, IGB_MDIC) & IGB_MDIC_READY); i++)
		;
	for (uint32_t i = 0; i < max_polls; i++)
		if (rd(pf, IGB_STATUS) & IGB_STATUS_LU)
			return 0;
	return -PORT_ETIMEDOUT;
}

int igb_pf_switch_init(struct igb_pf *pf)
{
	if (!pf || !pf->num_vfs)
		return -PORT_EINVAL;
	wr(pf, IGB_MRQC, IGB_MRQC_VMDQ);                      /* §8.10.10: VMDq */
	wr(pf, IGB_VT_CTL, IGB_VT_CTL_DIS_DEF_POOL);          /* §8.14.1: no default pool */
	wr(pf, IGB_DTXSWC, IGB_DTXSWC_LOOPBACK);              /* §8.14.14: VM-to-VM loopback */
	for (unsigned v = 0; v < pf->num_vfs; v++) {
		set_rar(pf, v);
		wr(pf, IGB_VMOLR(v), IGB_VMOLR_AUPE | IGB_VMOLR_BAM);
	}
	wr(pf, IGB_VFRE, 0);
	wr(pf, IGB_VFTE, 0);
	/* §8.8.16: VF interrupts are extended causes: MSI-X mode on the PF. */
	wr(pf, IGB_GPIE, IGB_GPIE_MSIX_MODE | IGB_GPIE_NSICR);
	wr(pf, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_BAM | IGB_RCTL_SECRC);
	wr(pf, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP);
	wr(pf, IGB_MBVFIMR, (1u << pf->num_vfs) - 1);         /* §8.14.6: VF mailbox interrupts */
	wr(pf, IGB_MBVFICR, 0xffffffffu);
	wr(pf, IGB_VFLRE, 0xffffffffu);
	wr(pf, IGB_CTRL_EXT, rd(pf, IGB_CTRL_EXT) | IGB_CTRL_EXT_PFRSTD); /* §8.2.3: PF reset done */
	return 0;
}

int igb_pf_mbx_irq_enable(struct igb_pf *pf, unsigned entry)
{
	if (!pf || entry > 9)
		return -PORT_EINVAL;
	wr(pf, IGB_IVAR_MISC, (entry | 0x80u) << 8);
	wr(pf, IGB_EIAC, rd(pf, IGB_EIAC) | 1u << entry);
	(void)rd(pf, IGB_ICR);
	wr(pf, IGB_IMS, IGB_ICR_VMMB);
	wr(pf, IGB_EIMS, 1u << entry);
	return 0;
}

int igb_pf_mbx_irq(struct igb_pf *pf)
{
	if (!pf)
		return 0;
	pf->mbx_irqs++;
	(void)rd(pf, IGB_ICR);        /* NSICR: the read clears VMMB, so the next one raises again */
	return igb_pf_mbx_poll(pf);
}

int igb_pf_vf_reset(struct igb_pf *pf, unsigned vf)
{
	if (!pf || vf >= pf->num_vfs)
		return -PORT_EINVAL;
	wr(pf, IGB_VTCTRL(vf), IGB_CTRL_RST);
	vf_pool_on(pf, vf, false);
	struct igb_pf_vf *s = &pf->vf[vf];
	s->cts = false;
	s->n_mc = s->n_vlans = 0;
	wr(pf, IGB_VFLRE, 1u << vf);
	wr(pf, IGB_MBVFICR, (1u << vf) | (1u << (16 + vf)));
	return 0;
}

/* --- the mailbox ---------------------------------------------------------- */

static int mbx_read(struct igb_pf *pf, unsigned vf, uint32_t *msg)
{
	wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_PFU);
	if (!(rd(pf, IGB_P2VMAILBOX(vf)) & IGB_P2V_PFU))
		return -PORT_EBUSY;       /* the VF holds the buffer */
	for (unsigned i = 0; i < IGB_MBX_WORDS; i++)
		msg[i] = rd(pf, IGB_VMBMEM(vf) + 4u * i);
	wr(pf, IGB_MBVFICR, 1u << vf);
	wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_ACK);              /* ack, PFU released */
	return 0;
}

static int mbx_write(struct igb_pf *pf, unsigned vf, const uint32_t *msg, unsigned len)
{
	wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_PFU);
	if (!(rd(pf, IGB_P2VMAILBOX(vf)) & IGB_P2V_PFU))
		return -PORT_EBUSY;
	wr(pf, IGB_MBVFICR, 1u << (16 + vf));                 /* a stale VF ack */
	for (unsigned i = 0; i < IGB_MBX_WORDS; i++)
		wr(pf, IGB_VMBMEM(vf) + 4u * i, i < len ? msg[i] : 0);
	wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_STS);              /* message sent, PFU released */
	return 0;
}

int igb_pf_mbx_poll(struct igb_pf *pf)
{
	if (!pf)
		return 0;
	pf->mbx_polls++;
	uint32_t vflre = rd(pf, IGB_VFLRE);
	for (unsigned v = 0; v < pf->num_vfs; v++) {
		if (!(vflre & (1u << v)))
			continue;
		/* The VF reset itself (CTRL.RST through its BAR, or FLR): it is
		 * not clear to send until its VF_RESET message. */
		pf->vf[v].cts = false;
		pf->vf[v].flr_events++;
		vf_pool_on(pf, v, false);
		wr(pf, IGB_VFLRE, 1u << v);
	}
	uint32_t icr = rd(pf, IGB_MBVFICR);
	int answered = 0;
	for (unsigned v = 0; v < pf->num_vfs; v++) {
		if (icr & (1u << (16 + v)))
			wr(pf, IGB_MBVFICR, 1u << (16 + v));  /* the VF acked our reply */
		if (!(icr & (1u << v)))
			continue;
		uint32_t msg[IGB_MBX_WORDS], reply[IGB_MBX_WORDS];
		unsigned rlen = 0;
		if (mbx_read(pf, v, msg))
			continue;
		pf->mbx_msgs++;
		if (igb_pf_handle_msg(pf, v, msg, IGB_MBX_WORDS, reply, &rlen) == 0 && rlen &&
		    mbx_write(pf, v, reply, rlen) == 0)
			answered++;
	}
	return answered;
}

int igb_pf_handle_msg(struct igb_pf *pf, unsigned vf, const uint32_t *msg, unsigned len, uint32_t *reply,
		      unsigned *reply_len)
{
	if (!pf || vf >= pf->num_vfs || !msg || !reply || !reply_len || len == 0 || len > IGB_MBX_WORDS)
		return -PORT_EINVAL;
	struct igb_pf_vf *s = &pf->vf[vf];
	uint32_t w0 = msg[0];
	*reply_len = 0;
	s->msgs++;
	/* An ACK/NACK from the VF is a reply, not a request: nothing to say. */
	if (w0 & (IGB_MSG_ACK | IGB_MSG_NACK))
		return 0;
	uint32_t id = IGB_MSG_ID(w0), info = IGB_MSG_INFO(w0);
	bool ok = false;
	reply[0] = w0 & 0xffffffu;
	*reply_len = 1;
	if (id == IGB_VF_RESET) {
		/* igb_vf_reset_msg: state cleared, MAC filter, queues enabled. */
		s->n_mc = s->n_vlans = 0;
		s->mac_by_vf = false;
		s->max_frame = 1518;
		set_rar(pf, vf);
		vf_pool_on(pf, vf, true);
		s->cts = true;
		s->resets++;
		reply[0] = IGB_VF_RESET | IGB_MSG_ACK;
		reply[1] = (uint32_t)s->mac[0] | (uint32_t)s->mac[1] << 8 | (uint32_t)s->mac[2] << 16 |
			   (uint32_t)s->mac[3] << 24;
		reply[2] = (uint32_t)s->mac[4] | (uint32_t)s->mac[5] << 8;
		reply[3] = MC_FILTER_TYPE;
		*reply_len = 4;
		s->acks++;
		return 0;
	}
	if (!s->cts) {
		/* Anything before the reset handshake: NACK, not clear to send. */
		reply[0] |= IGB_MSG_NACK;
		s->nacks++;
		return 0;
	}
	switch (id) {
	case IGB_VF_SET_MAC_ADDR: {
		uint8_t m[6] = { 0 };
		for (unsigned i = 0; len >= 3 && i < 6; i++)
			m[i] = (uint8_t)(msg[1 + i / 4] >> (8 * (i % 4)));
		ok = len >= 3 && mac_valid(m);
		if (ok) {
			for (unsigned i = 0; i < 6; i++)
				s->mac[i] = m[i];
			s->mac_by_vf = true;
			set_rar(pf, vf);
		}
		break;
	}
	case IGB_VF_SET_MULTICAST: {
		/* info = count of 16-bit hashes in words 1.. (two per word). */
		unsigned n = info;
		ok = n <= IGB_MC_HASHES_MAX && 1 + (n + 1) / 2 <= len;
		if (ok) {
			for (unsigned i = 0; i < n; i++)
				s->mc_hashes[i] = (uint16_t)(msg[1 + i / 2] >> (16 * (i % 2)));
			s->n_mc = n;
		}
		break;
	}
	case IGB_VF_SET_LPE: {
		uint32_t size = len >= 2 ? msg[1] : 0;
		ok = size >= 64 && size <= IGB_MAX_FRAME;
		if (ok) {
			s->max_frame = size;
			uint32_t vm = rd(pf, IGB_VMOLR(vf)) & ~(IGB_VMOLR_RLPML | IGB_VMOLR_LPE);
			wr(pf, IGB_VMOLR(vf), vm | IGB_VMOLR_LPE | (size & IGB_VMOLR_RLPML));
		}
		break;
	}
	case IGB_VF_SET_VLAN: {
		/* info: 1 add, 0 remove; word 1 bits 11:0 the VLAN id.  Recorded
		 * (the VLAN filter stays off: RCTL.VFE = 0). */
		uint32_t vid = len >= 2 ? msg[1] : 0xffffffffu;
		ok = vid < 4096 && info <= 1;
		if (ok && info) {
			bool have = false;
			for (unsigned i = 0; i < s->n_vlans; i++)
				have |= s->vlans[i] == vid;
			if (!have && s->n_vlans >= IGB_VLAN_MAX)
				ok = false;
			else if (!have)
				s->vlans[s->n_vlans++] = (uint16_t)vid;
		} else if (ok) {
			for (unsigned i = 0; i < s->n_vlans; i++)
				if (s->vlans[i] == vid)
					s->vlans[i] = s->vlans[--s->n_vlans];
		}
		break;
	}
	default:
		/* SET_PROMISC, API negotiation (an ixgbe message) and anything
		 * else: the 82576 PF driver does not handle it — NACK. */
		ok = false;
		break;
	}
	reply[0] |= (ok ? IGB_MSG_ACK : IGB_MSG_NACK) | IGB_MSG_CTS;
	if (ok)
		s->acks++;
	else
		s->nacks++;
	return 0;
}

/* --- helpers ---------------------------------------------------------------- */

static void vf_pool_on(struct igb_pf *pf, unsigned vf, bool on)
{
	uint32_t bit = 1u << vf;
	uint32_t re = rd(pf, IGB_VFRE), te = rd(pf, IGB_VFTE);
	wr(pf, IGB_VFRE, on ? re | bit : re & ~bit);
	wr(pf, IGB_VFTE, on ? te | bit : te & ~bit);
}

/* RAR entry 1 + vf (0 is the PF's): the VF's MAC, Address Valid, its pool. */
static void set_rar(struct igb_pf *pf, unsigned vf)
{
	const uint8_t *m = pf->vf[vf].mac;
	wr(pf, IGB_RAL(1 + vf), (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24);
	wr(pf, IGB_RAH(1 + vf), (uint32_t)m[4] | (uint32_t)m[5] << 8 | IGB_RAH_POOL(vf) | IGB_RAH_AV);
}

/* A unicast address, not all zeros. */
static bool mac_valid(const uint8_t *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}
