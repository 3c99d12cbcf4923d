/* The 82576 PF's mailbox server (baremetal/igb_pf.c) against a fake
 * register file that models the mailbox hardware the way QEMU's igb does
 * (P2VMAILBOX STS/ACK/PFU, MBVFICR and VFLRE write-1-to-clear, VTCTRL.RST). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "baremetal/igb_pf.c"

#define V2P_PFSTS (1u << 4)
#define V2P_PFACK (1u << 5)

struct fake {
	uint32_t mac[0x20000 / 4];
	uint32_t v2p[8];           /* the VF side's mailbox register */
	unsigned vf_resets;
};

static uint32_t f_rd(void *ctx, uint32_t off)
{
	struct fake *f = ctx;
	assert_true(off < sizeof(f->mac));
	return f->mac[off / 4];
}

static void f_wr(void *ctx, uint32_t off, uint32_t v)
{
	struct fake *f = ctx;
	assert_true(off < sizeof(f->mac));
	if (off >= IGB_P2VMAILBOX(0) && off <= IGB_P2VMAILBOX(7)) {
		unsigned vf = (off - IGB_P2VMAILBOX(0)) / 4;
		uint32_t *r = &f->mac[off / 4];
		if (v & IGB_P2V_STS)
			f->v2p[vf] |= V2P_PFSTS;
		if (v & IGB_P2V_ACK)
			f->v2p[vf] |= V2P_PFACK;
		if (v & IGB_P2V_PFU) {
			if (!(*r & IGB_P2V_VFU))
				*r |= IGB_P2V_PFU;
		} else {
			*r &= ~IGB_P2V_PFU;
		}
		return;
	}
	if (off == IGB_MBVFICR || off == IGB_VFLRE) {
		f->mac[off / 4] &= ~v;
		return;
	}
	if (off >= IGB_VTCTRL(0) && off <= IGB_VTCTRL(7) && (v & IGB_CTRL_RST)) {
		unsigned vf = (off - IGB_VTCTRL(0)) / 0x100;
		f->mac[IGB_VFRE / 4] &= ~(1u << vf);
		f->mac[IGB_VFTE / 4] &= ~(1u << vf);
		f->mac[IGB_VFLRE / 4] |= 1u << vf;
		f->vf_resets++;
		return;
	}
	f->mac[off / 4] = v;
}

static const uint8_t macs[2][6] = { { 0x02, 0x00, 0x00, 0x00, 0x0f, 0x01 }, { 0x02, 0x00, 0x00, 0x00, 0x0f, 0x02 } };
static struct fake fk;
static struct igb_pf pf;

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	struct igb_pf_regs r = { f_rd, f_wr, &fk };
	assert_int_equal(igb_pf_init(&pf, &r, 2, macs), 0);
	assert_int_equal(igb_pf_switch_init(&pf), 0);
	return 0;
}

static void msg1(unsigned vf, const uint32_t *m, unsigned n, uint32_t *reply, unsigned *rlen)
{
	uint32_t full[IGB_MBX_WORDS] = { 0 };
	memcpy(full, m, n * 4);
	assert_int_equal(igb_pf_handle_msg(&pf, vf, full, IGB_MBX_WORDS, reply, rlen), 0);
}

static void test_switch(void **state)
{
	(void)state;
	assert_int_equal(fk.mac[IGB_MRQC / 4], IGB_MRQC_VMDQ);
	assert_true(fk.mac[IGB_DTXSWC / 4] & IGB_DTXSWC_LOOPBACK);
	assert_int_equal(fk.mac[IGB_RAL(2) / 4], 0x00000002u);
	assert_int_equal(fk.mac[IGB_RAH(2) / 4], 0x020fu | IGB_RAH_POOL(1) | IGB_RAH_AV);
	assert_true(fk.mac[IGB_CTRL_EXT / 4] & IGB_CTRL_EXT_PFRSTD);
	assert_int_equal(fk.mac[IGB_VFRE / 4], 0);   /* until the reset handshake */
	assert_true(fk.mac[IGB_RCTL / 4] & IGB_RCTL_EN);
}

static void test_reset_reply(void **state)
{
	(void)state;
	uint32_t m = IGB_VF_RESET, r[16];
	unsigned n;
	msg1(1, &m, 1, r, &n);
	assert_int_equal(n, 4);
	assert_int_equal(r[0], IGB_VF_RESET | IGB_MSG_ACK);
	assert_int_equal(r[1], 0x00000002u);
	assert_int_equal(r[2], 0x020fu);
	assert_int_equal(r[3], 0);
	assert_int_equal(fk.mac[IGB_VFRE / 4], 2u);
	assert_int_equal(fk.mac[IGB_VFTE / 4], 2u);
	assert_true(pf.vf[1].cts);
}

static void test_nack_before_reset(void **state)
{
	(void)state;
	uint32_t m[3] = { IGB_VF_SET_MAC_ADDR, 0x33221102u, 0x5544u }, r[16];
	unsigned n;
	msg1(0, m, 3, r, &n);
	assert_int_equal(n, 1);
	assert_true(r[0] & IGB_MSG_NACK);
	assert_false(r[0] & (IGB_MSG_ACK | IGB_MSG_CTS));
	assert_memory_equal(pf.vf[0].mac, macs[0], 6);
}

static void reset(unsigned vf)
{
	uint32_t m = IGB_VF_RESET, r[16];
	unsigned n;
	msg1(vf, &m, 1, r, &n);
}

static void test_messages(void **state)
{
	(void)state;
	reset(0);
	uint32_t r[16];
	unsigned n;
	/* SET_MAC_ADDR: a unicast MAC is taken, a multicast one refused. */
	uint32_t mac_ok[3] = { IGB_VF_SET_MAC_ADDR, 0x33221102u, 0x5544u };
	msg1(0, mac_ok, 3, r, &n);
	assert_int_equal(r[0], IGB_VF_SET_MAC_ADDR | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(fk.mac[IGB_RAL(1) / 4], 0x33221102u);
	uint32_t mac_mc[3] = { IGB_VF_SET_MAC_ADDR, 0x33221101u, 0x5544u };
	msg1(0, mac_mc, 3, r, &n);
	assert_int_equal(r[0], IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS);
	/* SET_MULTICAST: 3 hashes ACKed; 31 (more than a message holds) NACKed. */
	uint32_t mc[3] = { IGB_VF_SET_MULTICAST | 3u << 16, 0x00020001u, 0x0003u };
	msg1(0, mc, 3, r, &n);
	assert_true(r[0] & IGB_MSG_ACK);
	assert_int_equal(pf.vf[0].n_mc, 3);
	assert_int_equal(pf.vf[0].mc_hashes[2], 3);
	uint32_t mc_big = IGB_VF_SET_MULTICAST | 31u << 16;
	msg1(0, &mc_big, 1, r, &n);
	assert_true(r[0] & IGB_MSG_NACK);
	assert_int_equal(pf.vf[0].n_mc, 3);
	/* SET_LPE: a jumbo size within bounds programs VMOLR; 20000 is NACKed. */
	uint32_t lpe[2] = { IGB_VF_SET_LPE, 1522 };
	msg1(0, lpe, 2, r, &n);
	assert_true(r[0] & IGB_MSG_ACK);
	assert_int_equal(fk.mac[IGB_VMOLR(0) / 4] & (IGB_VMOLR_LPE | IGB_VMOLR_RLPML), IGB_VMOLR_LPE | 1522);
	uint32_t lpe_bad[2] = { IGB_VF_SET_LPE, 20000 };
	msg1(0, lpe_bad, 2, r, &n);
	assert_true(r[0] & IGB_MSG_NACK);
	/* SET_VLAN: VID 100 added, VID 5000 refused. */
	uint32_t vl[2] = { IGB_VF_SET_VLAN | 1u << 16, 100 };
	msg1(0, vl, 2, r, &n);
	assert_true(r[0] & IGB_MSG_ACK);
	assert_int_equal(pf.vf[0].n_vlans, 1);
	uint32_t vl_bad[2] = { IGB_VF_SET_VLAN | 1u << 16, 5000 };
	msg1(0, vl_bad, 2, r, &n);
	assert_true(r[0] & IGB_MSG_NACK);
	/* API negotiation and promiscuous mode: NACK, as the 82576 PF. */
	uint32_t api[2] = { IGB_VF_API_NEGOTIATE, 2 };
	msg1(0, api, 2, r, &n);
	assert_int_equal(r[0], IGB_VF_API_NEGOTIATE | IGB_MSG_NACK | IGB_MSG_CTS);
	uint32_t pr = IGB_VF_SET_PROMISC;
	msg1(0, &pr, 1, r, &n);
	assert_true(r[0] & IGB_MSG_NACK);
	/* A reply from the VF (ACK set) is not answered. */
	uint32_t ack = IGB_VF_RESET | IGB_MSG_ACK;
	msg1(0, &ack, 1, r, &n);
	assert_int_equal(n, 0);
}

static void test_bad_args(void **state)
{
	(void)state;
	uint32_t m[16] = { IGB_VF_RESET }, r[16];
	unsigned n;
	assert_int_equal(igb_pf_handle_msg(&pf, 2, m, 16, r, &n), -PORT_EINVAL);  /* only 2 VFs */
	assert_int_equal(igb_pf_handle_msg(&pf, 0, m, 17, r, &n), -PORT_EINVAL);
	assert_int_equal(igb_pf_handle_msg(&pf, 0, m, 0, r, &n), -PORT_EINVAL);
	assert_int_equal(igb_pf_vf_reset(&pf, 9), -PORT_EINVAL);
	/* Short messages: the fields they lack are never read (ASan). */
	reset(0);
	uint32_t *one = malloc(4);
	assert_non_null(one);
	const uint32_t ids[] = { IGB_VF_SET_MAC_ADDR, IGB_VF_SET_MULTICAST | 3u << 16, IGB_VF_SET_LPE,
				 IGB_VF_SET_VLAN | 1u << 16 };
	for (unsigned i = 0; i < 4; i++) {
		one[0] = ids[i];
		assert_int_equal(igb_pf_handle_msg(&pf, 0, one, 1, r, &n), 0);
		assert_int_equal(n, 1);
		assert_true(r[0] & IGB_MSG_NACK);
	}
	free(one);
	struct igb_pf_regs rr = { f_rd, f_wr, &fk };
	uint8_t bad[1][6] = { { 0x01, 0, 0, 0, 0, 1 } };
	struct igb_pf p2;
	assert_int_equal(igb_pf_init(&p2, &rr, 1, (const uint8_t(*)[6])bad), -PORT_EINVAL);
	assert_int_equal(igb_pf_init(&p2, &rr, 9, macs), -PORT_EINVAL);
}

/* The whole round trip through the registers: the VF posts VF_RESET in
 * VMBMEM(1) and raises VFREQ; one poll answers it. */
static void test_poll_round_trip(void **state)
{
	(void)state;
	fk.mac[IGB_VMBMEM(1) / 4] = IGB_VF_RESET;
	fk.mac[IGB_MBVFICR / 4] = 1u << 1;
	assert_int_equal(igb_pf_mbx_poll(&pf), 1);
	assert_int_equal(fk.mac[IGB_VMBMEM(1) / 4], IGB_VF_RESET | IGB_MSG_ACK);
	assert_int_equal(fk.mac[IGB_VMBMEM(1) / 4 + 2], 0x020fu);
	assert_int_equal(fk.v2p[1] & (V2P_PFACK | V2P_PFSTS), V2P_PFACK | V2P_PFSTS);
	assert_int_equal(fk.mac[IGB_MBVFICR / 4], 0);
	assert_false(fk.mac[IGB_P2VMAILBOX(1) / 4] & IGB_P2V_PFU);
	/* The VF holding the buffer (VFU): the PF cannot take it, no answer. */
	fk.mac[IGB_P2VMAILBOX(0) / 4] = IGB_P2V_VFU;
	fk.mac[IGB_MBVFICR / 4] = 1u;
	assert_int_equal(igb_pf_mbx_poll(&pf), 0);
	/* A VF reset event: its pool off, not clear to send. */
	fk.mac[IGB_MBVFICR / 4] = 0;
	fk.mac[IGB_VFLRE / 4] = 1u << 1;
	assert_int_equal(igb_pf_mbx_poll(&pf), 0);
	assert_false(pf.vf[1].cts);
	assert_int_equal(fk.mac[IGB_VFRE / 4] & 2u, 0);
	assert_int_equal(fk.mac[IGB_VFLRE / 4], 0);
	assert_int_equal(pf.vf[1].flr_events, 1);
	/* On an interrupt: VMMB enabled as an "other" cause on entry 0; the
	 * handler's call serves a pending request. */
	assert_int_equal(igb_pf_mbx_irq_enable(&pf, 0), 0);
	assert_int_equal(fk.mac[IGB_IVAR_MISC / 4], 0x8000u);
	assert_int_equal(fk.mac[IGB_IMS / 4], IGB_ICR_VMMB);
	assert_int_equal(fk.mac[IGB_EIMS / 4] & 1u, 1u);
	assert_int_equal(igb_pf_mbx_irq_enable(&pf, 10), -PORT_EINVAL);
	fk.mac[IGB_VMBMEM(1) / 4] = IGB_VF_RESET;
	fk.mac[IGB_MBVFICR / 4] = 1u << 1;
	assert_int_equal(igb_pf_mbx_irq(&pf), 1);
	assert_int_equal(pf.mbx_irqs, 1);
	/* The PF resets VF 1: VTCTRL.RST reaches the model. */
	assert_int_equal(igb_pf_vf_reset(&pf, 1), 0);
	assert_int_equal(fk.vf_resets, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_switch, setup),
		cmocka_unit_test_setup(test_reset_reply, setup),
		cmocka_unit_test_setup(test_nack_before_reset, setup),
		cmocka_unit_test_setup(test_messages, setup),
		cmocka_unit_test_setup(test_bad_args, setup),
		cmocka_unit_test_setup(test_poll_round_trip, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
