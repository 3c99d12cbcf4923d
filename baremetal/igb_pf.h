/*
 * igb_pf.h — a minimal freestanding 82576 PF driver for SR-IOV: VFs
 * enabled in the SR-IOV capability, link up, the internal switch set up for
 * VF-to-VF delivery, and the PF side of the PF<->VF mailbox (82576
 * datasheet §7.8.2.9 "Mailbox", §8.14 "Virtualization registers").
 *
 * The registers are reached through an ops table (struct igb_pf_regs), so
 * the mailbox server runs against a fake register file in the unit tests
 * (tests/unit/test_igb_pf.c) and against the real BAR0 on bare metal
 * (igb_pf_mmio_regs).
 *
 * A VF's mailbox message is hostile input: its length is bounded by the
 * mailbox (16 dwords), every field is checked before it is used, and a bad
 * message is answered with NACK, never trusted.
 */
#ifndef VFS_BM_IGB_PF_H
#define VFS_BM_IGB_PF_H

#include <stdbool.h>
#include <stdint.h>

#include "sriov/sriov_cap.h"

#define IGB_PF_MAX_VFS 8          /* 82576: 8 pools (§7.10) */
#define IGB_MBX_WORDS 16          /* VMBMEM: 16 dwords per VF (§8.14.4) */

/* The PF's BAR0 registers (82576 datasheet §8). */
#define IGB_CTRL 0x00000          /* §8.2.1 Device Control */
#define IGB_CTRL_SLU (1u << 6)    /* Set Link Up */
#define IGB_CTRL_RST (1u << 26)   /* Device Reset (in VTCTRL: VF reset) */
#define IGB_STATUS 0x00008        /* §8.2.2 Device Status */
#define IGB_STATUS_LU (1u << 1)   /* Link Up */
#define IGB_CTRL_EXT 0x00018      /* §8.2.3 Extended Device Control */
#define IGB_CTRL_EXT_PFRSTD (1u << 14) /* PF reset done (→ VF mailboxes' RSTD) */
#define IGB_MDIC 0x00020          /* §8.2.4 MDI Control */
#define IGB_MDIC_READY (1u << 28)
#define IGB_RCTL 0x00100          /* §8.10.1 Receive Control */
#define IGB_RCTL_EN (1u << 1)
#define IGB_RCTL_BAM (1u << 15)
#define IGB_RCTL_SECRC (1u << 26) /* strip the CRC */
#define IGB_TCTL 0x00400          /* §8.12.1 Transmit Control */
#define IGB_TCTL_EN (1u << 1)
#define IGB_TCTL_PSP (1u << 3)
#define IGB_ICR 0x000c0           /* §8.8.1 Interrupt Cause Read (read clears: GPIE.NSICR) */
#define IGB_IMS 0x000d0           /* §8.8.4 Interrupt Mask Set */
#define IGB_ICR_VMMB (1u << 8)    /* VM mailbox / VF reset event */
#define IGB_EIMS 0x01524          /* §8.8.10 Extended Interrupt Mask Set */
#define IGB_EIAC 0x0152c          /* §8.8.12 Extended Interrupt Auto Clear */
#define IGB_IVAR_MISC 0x01740     /* §8.8.15: 15:8 "other" causes' MSI-X vector, bit 15 valid */
#define IGB_GPIE 0x01514          /* §8.8.16 General Purpose Interrupt Enable */
#define IGB_GPIE_MSIX_MODE (1u << 4)
#define IGB_GPIE_NSICR (1u << 0)
#define IGB_DTXSWC 0x03500        /* §8.14.14 DMA Tx Switch Control */
#define IGB_DTXSWC_LOOPBACK (1u << 31) /* VMDq loopback enable */
#define IGB_RAL(n) (0x05400u + 8u * (n))  /* §8.10.13 Receive Address Low */
#define IGB_RAH(n) (0x05404u + 8u * (n))  /* §8.10.14 Receive Address High */
#define IGB_RAH_AV (1u << 31)
#define IGB_RAH_POOL(p) (1u << (18 + (p)))  /* POOLSEL */
#define IGB_MRQC 0x05818          /* §8.10.10 Multiple Receive Queues Command */
#define IGB_MRQC_VMDQ 0x3u        /* Multiple Receive Queues Enable: VMDq */
#define IGB_VMOLR(p) (0x05ad0u + 4u * (p)) /* §8.14.13 VM Offload Register */
#define IGB_VMOLR_AUPE (1u << 24) /* accept untagged */
#define IGB_VMOLR_ROMPE (1u << 25) /* accept MTA hash matches */
#define IGB_VMOLR_BAM (1u << 27)  /* accept broadcast */
#define IGB_VMOLR_LPE (1u << 16)  /* long packets (RLPML bits 13:0) */
#define IGB_VMOLR_RLPML 0x3fffu
#define IGB_VT_CTL 0x0581c        /* §8.14.1 VMDq control */
#define IGB_VT_CTL_DIS_DEF_POOL (1u << 29)
#define IGB_P2VMAILBOX(v) (0x00c00u + 4u * (v)) /* §8.14.3 PF mailbox */
#define IGB_P2V_STS (1u << 0)     /* status/command message sent to the VF */
#define IGB_P2V_ACK (1u << 1)     /* VF's message received */
#define IGB_P2V_VFU (1u << 2)     /* buffer taken by the VF (read only) */
#define IGB_P2V_PFU (1u << 3)     /* buffer taken by the PF */
#define IGB_P2V_RVFU (1u << 4)    /* reset VFU */
#define IGB_VMBMEM(v) (0x00800u + 0x40u * (v)) /* §8.14.4 mailbox memory */
#define IGB_MBVFICR 0x00c80       /* §8.14.5 VF→PF requests (bit v) and acks (16 + v), W1C */
#define IGB_MBVFIMR 0x00c84       /* §8.14.6 mailbox interrupt mask */
#define IGB_VFLRE 0x00c88         /* §8.14.7 VF reset events (W1C) */
#define IGB_VFRE 0x00c8c          /* §8.14.8 VF receive enables */
#define IGB_VFTE 0x00c90          /* §8.14.9 VF transmit enables */
#define IGB_VTCTRL(v) (0x10000u + 0x100u * (v)) /* §8.14.x VF's CTRL as the PF sees it */

/* Mailbox messages (82576 §7.8.2.9.2; the message IDs Linux's igb and
 * igbvf agree on). Word 0: bits 15:0 the ID, 23:16 the info field, bit 31
 * ACK, bit 30 NACK, bit 29 clear-to-send. */
#define IGB_VF_RESET 0x01u
#define IGB_VF_SET_MAC_ADDR 0x02u
#define IGB_VF_SET_MULTICAST 0x03u
#define IGB_VF_SET_VLAN 0x04u
#define IGB_VF_SET_LPE 0x05u
#define IGB_VF_SET_PROMISC 0x06u
#define IGB_VF_API_NEGOTIATE 0x08u   /* ixgbe's; the 82576 PF does not know it: NACK */
#define IGB_MSG_ACK (1u << 31)
#define IGB_MSG_NACK (1u << 30)
#define IGB_MSG_CTS (1u << 29)
#define IGB_MSG_INFO(w) (((w) >> 16) & 0xffu)
#define IGB_MSG_ID(w) ((w) & 0xffffu)
#define IGB_MC_HASHES_MAX 30u      /* what one message can carry */
#define IGB_MAX_FRAME 9728u        /* SET_LPE upper bound (jumbo) */
#define IGB_VLAN_MAX 8u            /* VLAN ids remembered per VF */

struct igb_pf_regs {
	uint32_t (*rd)(void *ctx, uint32_t off);
	void (*wr)(void *ctx, uint32_t off, uint32_t val);
	void *ctx;
};

struct igb_pf_vf {
	uint8_t mac[6];
	bool cts;                 /* clear to send: reset handshake done */
	bool mac_by_vf;           /* set by SET_MAC_ADDR */
	uint16_t mc_hashes[IGB_MC_HASHES_MAX];
	unsigned n_mc;
	uint16_t vlans[IGB_VLAN_MAX];
	unsigned n_vlans;
	uint32_t max_frame;
	/* counters */
	uint32_t msgs, acks, nacks, resets, flr_events;
};

struct igb_pf {
	struct igb_pf_regs r;
	unsigned num_vfs;
	struct igb_pf_vf vf[IGB_PF_MAX_VFS];
	uint32_t mbx_polls, mbx_msgs, mbx_bad, mbx_irqs;
};

/* MMIO accessors for a BAR0 at physical address `bar0` (port_mmio_*). */
struct igb_pf_regs igb_pf_mmio_regs(uint64_t *bar0);

/* Bind: registers, VF count (1..8), the VFs' MACs (vf_macs[i], 6 bytes
 * each).  0 or -PORT_EINVAL. */
int igb_pf_init(struct igb_pf *pf, const struct igb_pf_regs *r, unsigned num_vfs,
		const uint8_t (*vf_macs)[6]);

/* PCIe 5.0 §9.3.3: NumVFs, VF BAR0 and VF BAR3 (64-bit, per-VF sizes read
 * back by sriov_vf_bars_probe) at bar0_base / bar3_base, then VF Enable +
 * VF MSE.  The capability as decoded after enabling goes to *cap and the
 * BARs to bars[].  0 or -PORT_E*. */
int igb_pf_sriov_enable(const struct sriov_cfg_ops *cfg, unsigned num_vfs, uint64_t bar0_base,
			uint64_t bar3_base, struct sriov_cap *cap, struct sriov_vf_bar bars[SRIOV_NUM_BARS]);
/* VF Enable and VF MSE off, NumVFs 0. */
int igb_pf_sriov_disable(const struct sriov_cfg_ops *cfg);

/* CTRL.SLU, an autoneg restart through MDIC (PHY 1, BMCR), then up to
 * max_polls reads of STATUS for LU.  0 or -PORT_ETIMEDOUT. */
int igb_pf_link_up(struct igb_pf *pf, uint32_t max_polls);

/* The switch for VF-to-VF delivery (§7.10.3): MRQC VMDq, DTXSWC loopback,
 * a RAL/RAH entry per VF MAC with its pool bit, VMOLR per pool (untagged,
 * broadcast), RCTL/TCTL on, PF interrupts in MSI-X mode, CTRL_EXT.PFRSTD.
 * VFRE/VFTE stay off until a VF's reset handshake (as Linux's PF does). */
int igb_pf_switch_init(struct igb_pf *pf);

/* Serve the mailbox once: VF reset events (VFLRE) and every VF request
 * pending in MBVFICR, each answered with ACK or NACK.  Returns the number
 * of messages answered (>= 0). */
int igb_pf_mbx_poll(struct igb_pf *pf);

/* Handle one message from VF `vf` (msg[0..len)); the reply goes to
 * reply[0..*reply_len).  Exposed for the unit tests.  0 or -PORT_EINVAL. */
int igb_pf_handle_msg(struct igb_pf *pf, unsigned vf, const uint32_t *msg, unsigned len, uint32_t *reply,
		      unsigned *reply_len);

/* The mailbox on an interrupt: ICR.VMMB (a VF request, ack or reset)
 * enabled as an "other" cause on the PF's MSI-X entry `entry` (IVAR_MISC),
 * auto-cleared.  The caller programs that entry.  0 or -PORT_EINVAL. */
int igb_pf_mbx_irq_enable(struct igb_pf *pf, unsigned entry);
/* The PF's mailbox interrupt arrived: clear ICR (read), serve the mailbox.
 * Returns igb_pf_mbx_poll's count. */
int igb_pf_mbx_irq(struct igb_pf *pf);

/* Reset VF `vf` from the PF (VTCTRL.RST: the VF's queues, VFRE and VFTE
 * off), forget its mailbox state.  0 or -PORT_EINVAL. */
int igb_pf_vf_reset(struct igb_pf *pf, unsigned vf);

#endif
