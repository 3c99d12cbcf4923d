/*
 * igbvf.h — what the igbvf guest (guest_igbvf.c) and its host side
 * (bmvf_test.c) agree on: the 82576 VF's registers as a VF driver sees them
 * in its BAR0 (82576 datasheet §8.15 "Virtual Function registers"; QEMU
 * hw/net/igbvf.c maps each to the PF's copy for that pool), the advanced
 * descriptor formats (§7.1.5, §7.2.3), the parameter block and the report
 * keys.
 */
#ifndef VFS_TESTS_BMVF_IGBVF_H
#define VFS_TESTS_BMVF_IGBVF_H

#include <stdint.h>

#include "tests/vmx/vmx_test.h"   /* CMD_REPORT, CMD_DONE */

/* VF BAR0 (§8.15) */
#define VF_CTRL 0x0000            /* CTRL.RST bit 26: VF reset */
#define VF_CTRL_RST (1u << 26)
#define VF_STATUS 0x0008
#define VF_VMBMEM 0x0800          /* §8.15.x mailbox memory, 16 dwords */
#define VF_VMMB 0x0c40            /* V2PMAILBOX */
#define VF_MB_REQ (1u << 0)       /* request for the PF */
#define VF_MB_ACK (1u << 1)       /* PF message received */
#define VF_MB_VFU (1u << 2)       /* buffer taken by the VF */
#define VF_MB_PFU (1u << 3)       /* buffer taken by the PF */
#define VF_MB_PFSTS (1u << 4)     /* PF wrote a message (read clears) */
#define VF_MB_PFACK (1u << 5)     /* PF acked ours (read clears) */
#define VF_MB_RSTI (1u << 6)
#define VF_MB_RSTD (1u << 7)      /* PF reset done (read clears) */
#define VF_EICS 0x1520
#define VF_EIMS 0x1524            /* §8.15: interrupt mask set, bits 2:0 */
#define VF_EIMC 0x1528
#define VF_EIAC 0x152c            /* auto clear */
#define VF_EICR 0x1580
#define VF_IVAR0 0x1700           /* 7:0 RX queue 0 vector, 15:8 TX queue 0; bit 7 valid */
#define VF_IVAR_MISC 0x1740       /* 7:0 mailbox vector; bit 7 valid */
#define VF_IVAR_VALID 0x80u
#define VF_RDBAL 0x2800           /* §8.15: RX queue 0 */
#define VF_RDBAH 0x2804
#define VF_RDLEN 0x2808
#define VF_SRRCTL 0x280c
#define VF_SRRCTL_BSIZE_2K 2u     /* BSIZEPACKET, 1 KiB units */
#define VF_SRRCTL_ADV_ONEBUF (1u << 25) /* DESCTYPE 001 */
#define VF_RDH 0x2810
#define VF_RDT 0x2818
#define VF_RXDCTL 0x2828
#define VF_TDBAL 0x3800           /* TX queue 0 */
#define VF_TDBAH 0x3804
#define VF_TDLEN 0x3808
#define VF_TDH 0x3810
#define VF_TDT 0x3818
#define VF_TXDCTL 0x3828
#define VF_QUEUE_ENABLE (1u << 25) /* RXDCTL / TXDCTL.ENABLE */

/* Advanced TX data descriptor (§7.2.3.2.4): read format. */
#define TXD_DTYP_DATA (3u << 20)
#define TXD_EOP (1u << 24)
#define TXD_IFCS (1u << 25)
#define TXD_RS (1u << 27)
#define TXD_DEXT (1u << 29)
#define TXD_PAYLEN_SHIFT 14
#define TXD_STAT_DD 1u            /* write-back: dword 3 bit 0 */
/* Advanced RX descriptor (§7.1.5): read = pkt_addr, hdr_addr; write-back
 * dword 2 status/error (DD bit 0, EOP bit 1), dword 3 bits 15:0 length. */
#define RXD_STAT_DD 1u
#define RXD_STAT_EOP 2u

struct adv_desc {
	uint64_t a;   /* TX: buffer address; RX: packet buffer address */
	uint32_t c;   /* TX: cmd_type_len; RX: hdr_addr low (0) / status_error after */
	uint32_t d;   /* TX: olinfo_status, DD after; RX: hdr_addr high / length after */
};

#define BMVF_NDESC 8u
#define BMVF_BUF 2048u
#define BMVF_ETHERTYPE 0x88b5u    /* IEEE local experimental */

/* Mailbox messages the guest sends (baremetal/igb_pf.h has the PF's view). */
#define MSG_VF_RESET 0x01u
#define MSG_SET_MULTICAST 0x03u
#define MSG_SET_LPE 0x05u
#define MSG_API_NEGOTIATE 0x08u

/* VMCALL RAX = CMD_PHASE, RBX = phase: the guest set something up and the
 * host acts (send a frame to it, collect faults). */
#define CMD_PHASE 9u
enum bmvf_phase { PH_RX_HOLE = 1, PH_TX_FOREIGN = 2 };

struct bmvf_params {
	uint64_t cfg_gpa;      /* its config page (trapped) */
	uint64_t ring_gpa;     /* TX ring at +0, RX ring at +0x800 */
	uint64_t txbuf_gpa;    /* BMVF_NDESC buffers of BMVF_BUF */
	uint64_t rxbuf_gpa;    /* BMVF_NDESC buffers of BMVF_BUF */
	uint64_t hole_gpa;     /* a GPA its domain does not map */
	uint64_t foreign_gpa;  /* the peer VF's buffer (another domain) */
	uint8_t peer_mac[6];
	uint8_t vec_rx, vec_tx, vec_mbx, apic_id;
	uint32_t frames, frame_len, seed;
};

enum bmvf_key {
	G_CFG_ID, G_MSIX_CAP, G_BAR0, G_BAR3, G_MSIX_SIZE,
	G_RESET_W0, G_MAC_LO, G_MAC_HI, G_MC_TYPE,
	G_MC_W0, G_LPE_W0, G_API_W0,
	G_TX_DONE, G_RX_GOOD, G_RX_BAD, G_RX_LAST_LEN,
	G_RX_IRQS, G_TX_IRQS, G_MBX_IRQS, G_STRAY, G_HALTS,
	G_HOLE_DD, G_HS_RX, G_HS_TX, G_HS_MBX, G_DONE,
	G_COUNT
};

/* The guest's frame i: dst, src, type, then a 32-bit sequence number and
 * pattern bytes. */
static inline uint8_t bmvf_pattern(uint32_t seed, uint32_t seq, unsigned i)
{
	return (uint8_t)((seed ^ (seq * 2654435761u)) >> (8 * (i % 4))) ^ (uint8_t)i;
}

void guest_igbvf_entry(const struct bmvf_params *p);
extern uint8_t guest_igbvf_stack[8192];

#endif
