/*
 * vtd_regs.h — VT-d remapping-hardware registers and the in-memory formats
 * the hardware reads (Intel VT-d specification rev 4.x; section numbers in
 * each comment).  Shift/mask constants and tiny field helpers only; no state.
 */
#ifndef VFS_VTD_REGS_H
#define VFS_VTD_REGS_H

#include <stdint.h>

/* Bits [hi:lo] of a 64-bit value, and a value placed at [hi:lo]. */
#define VTD_GENMASK(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))
static inline uint64_t vtd_field(uint64_t v, unsigned hi, unsigned lo)
{
	return (v & VTD_GENMASK(hi, lo)) >> lo;
}
static inline uint64_t vtd_make(uint64_t v, unsigned hi, unsigned lo)
{
	return (v << lo) & VTD_GENMASK(hi, lo);
}

/* --- Register offsets (11.4, table "Register Offsets") ------------------ */
#define VTD_REG_VER 0x000      /* 11.4.1 version, 32 */
#define VTD_REG_CAP 0x008      /* 11.4.2 capability, 64 */
#define VTD_REG_ECAP 0x010     /* 11.4.3 extended capability, 64 */
#define VTD_REG_GCMD 0x018     /* 11.4.4 global command, 32 */
#define VTD_REG_GSTS 0x01c     /* 11.4.5 global status, 32 */
#define VTD_REG_RTADDR 0x020   /* 11.4.6 root table address, 64 */
#define VTD_REG_CCMD 0x028     /* 11.4.7 context command, 64 */
#define VTD_REG_FSTS 0x034     /* 11.4.9.1 fault status, 32 */
#define VTD_REG_FECTL 0x038    /* 11.4.9.2 fault event control, 32 */
#define VTD_REG_FEDATA 0x03c   /* 11.4.9.3 fault event data, 32 */
#define VTD_REG_FEADDR 0x040   /* 11.4.9.4 fault event address, 32 */
#define VTD_REG_FEUADDR 0x044  /* 11.4.9.5 fault event upper address, 32 */
#define VTD_REG_AFLOG 0x058    /* 11.4.9.7 advanced fault log, 64 */
#define VTD_REG_PMEN 0x064     /* 11.4.10.1 protected memory enable, 32 */
#define VTD_REG_IQH 0x080      /* 11.4.11.1 invalidation queue head, 64 */
#define VTD_REG_IQT 0x088      /* 11.4.11.2 invalidation queue tail, 64 */
#define VTD_REG_IQA 0x090      /* 11.4.11.3 invalidation queue address, 64 */
#define VTD_REG_ICS 0x09c      /* 11.4.11.4 invalidation completion status, 32 */
#define VTD_REG_IECTL 0x0a0    /* 11.4.11.5 invalidation event control, 32 */
#define VTD_REG_IEDATA 0x0a4   /* 11.4.11.6 invalidation event data, 32 */
#define VTD_REG_IEADDR 0x0a8   /* 11.4.11.7 invalidation event address, 32 */
#define VTD_REG_IEUADDR 0x0ac  /* 11.4.11.8 invalidation event upper address, 32 */
#define VTD_REG_IQERCD 0x0b0   /* 11.4.11.9 invalidation queue error record, 64 */
#define VTD_REG_IRTA 0x0b8     /* 11.4.12 interrupt remapping table address, 64 */
/* At ECAP.IRO * 16 (11.4.8): */
#define VTD_REG_IVA_OFF 0x0    /* 11.4.8.2 invalidate address, 64 */
#define VTD_REG_IOTLB_OFF 0x8  /* 11.4.8.1 IOTLB invalidate, 64 */
/* At CAP.FRO * 16, NFR+1 records of 16 bytes (11.4.9.6) */
#define VTD_FRCD_SIZE 16u

/* --- VER (11.4.1) ------------------------------------------------------- */
#define VTD_VER_MAJOR(v) vtd_field((v), 7, 4)
#define VTD_VER_MINOR(v) vtd_field((v), 3, 0)

/* --- CAP (11.4.2) ------------------------------------------------------- */
#define VTD_CAP_ND(c) vtd_field((c), 2, 0)        /* domains: 2^(4+2*ND) */
#define VTD_CAP_AFL (1ull << 3)                   /* advanced fault logging */
#define VTD_CAP_RWBF (1ull << 4)                  /* write-buffer flush required */
#define VTD_CAP_PLMR (1ull << 5)
#define VTD_CAP_PHMR (1ull << 6)
#define VTD_CAP_CM (1ull << 7)                    /* caching mode */
#define VTD_CAP_SAGAW(c) vtd_field((c), 12, 8)    /* bit1 39b/3L, bit2 48b/4L, bit3 57b/5L */
#define VTD_CAP_MGAW(c) vtd_field((c), 21, 16)    /* max guest address width - 1 */
#define VTD_CAP_ZLR (1ull << 22)                  /* zero-length read */
#define VTD_CAP_FRO(c) vtd_field((c), 33, 24)     /* fault-recording offset / 16 */
#define VTD_CAP_SLLPS(c) vtd_field((c), 37, 34)   /* bit0 2 MiB, bit1 1 GiB */
#define VTD_CAP_FS1GP (1ull << 56)                /* first-stage 1 GiB pages */
#define VTD_CAP_PSI (1ull << 39)                  /* page-selective invalidation */
#define VTD_CAP_NFR(c) vtd_field((c), 47, 40)     /* fault-recording registers - 1 */
#define VTD_CAP_MAMV(c) vtd_field((c), 53, 48)    /* max address mask value */
#define VTD_CAP_DWD (1ull << 54)
#define VTD_CAP_DRD (1ull << 55)
#define VTD_CAP_FL1GP (1ull << 56)
#define VTD_CAP_PI (1ull << 59)                   /* posted interrupts */
#define VTD_CAP_FL5LP (1ull << 60)
#define VTD_CAP_ESIRTPS (1ull << 62)
#define VTD_CAP_ESRTPS (1ull << 63)

/* --- ECAP (11.4.3) ------------------------------------------------------ */
#define VTD_ECAP_C (1ull << 0)                    /* page-walk coherency */
#define VTD_ECAP_QI (1ull << 1)                   /* queued invalidation */
#define VTD_ECAP_DT (1ull << 2)                   /* device-TLB */
#define VTD_ECAP_IR (1ull << 3)                   /* interrupt remapping */
#define VTD_ECAP_EIM (1ull << 4)                  /* extended interrupt mode (x2APIC) */
#define VTD_ECAP_PT (1ull << 6)                   /* pass-through */
#define VTD_ECAP_SC (1ull << 7)                   /* snoop control */
#define VTD_ECAP_IRO(e) vtd_field((e), 17, 8)     /* IOTLB register offset / 16 */
#define VTD_ECAP_MHMV(e) vtd_field((e), 23, 20)
#define VTD_ECAP_MTS (1ull << 25)
#define VTD_ECAP_NEST (1ull << 26)
#define VTD_ECAP_PRS (1ull << 29)
#define VTD_ECAP_ERS (1ull << 30)
#define VTD_ECAP_SRS (1ull << 31)
#define VTD_ECAP_NWFS (1ull << 33)
#define VTD_ECAP_EAFS (1ull << 34)
#define VTD_ECAP_PSS(e) vtd_field((e), 39, 35)    /* PASID size - 1 */
#define VTD_ECAP_PASID (1ull << 40)
#define VTD_ECAP_DIT (1ull << 41)
#define VTD_ECAP_PDS (1ull << 42)
#define VTD_ECAP_SMTS (1ull << 43)                /* scalable-mode translation */
#define VTD_ECAP_VCS (1ull << 44)
#define VTD_ECAP_SLADS (1ull << 45)
#define VTD_ECAP_SLTS (1ull << 46)                /* second-level translation (SM) */
#define VTD_ECAP_FLTS (1ull << 47)
#define VTD_ECAP_SMPWCS (1ull << 48)

/* --- GCMD / GSTS (11.4.4, 11.4.5): same bit positions ------------------ */
#define VTD_GCMD_TE (1u << 31)     /* translation enable */
#define VTD_GCMD_SRTP (1u << 30)   /* set root table pointer (one-shot) */
#define VTD_GCMD_SFL (1u << 29)    /* set fault log (one-shot) */
#define VTD_GCMD_EAFL (1u << 28)   /* enable advanced fault logging */
#define VTD_GCMD_WBF (1u << 27)    /* write buffer flush (one-shot) */
#define VTD_GCMD_QIE (1u << 26)    /* queued invalidation enable */
#define VTD_GCMD_IRE (1u << 25)    /* interrupt remapping enable */
#define VTD_GCMD_SIRTP (1u << 24)  /* set interrupt remap table pointer (one-shot) */
#define VTD_GCMD_CFI (1u << 23)    /* compatibility format interrupts */
#define VTD_GSTS_TES (1u << 31)
#define VTD_GSTS_RTPS (1u << 30)
#define VTD_GSTS_FLS (1u << 29)
#define VTD_GSTS_AFLS (1u << 28)
#define VTD_GSTS_WBFS (1u << 27)
#define VTD_GSTS_QIES (1u << 26)
#define VTD_GSTS_IRES (1u << 25)
#define VTD_GSTS_IRTPS (1u << 24)
#define VTD_GSTS_CFIS (1u << 23)
/* 11.4.4: the status bits software must carry into every GCMD write. */
#define VTD_GSTS_PERSISTENT \
	(VTD_GSTS_TES | VTD_GSTS_AFLS | VTD_GSTS_QIES | VTD_GSTS_IRES | VTD_GSTS_CFIS)

/* --- RTADDR (11.4.6) ---------------------------------------------------- */
#define VTD_RTADDR_TTM_LEGACY (0ull << 10)  /* translation table mode [11:10] */
#define VTD_RTADDR_TTM_SCALABLE (1ull << 10)
#define VTD_RTADDR_ADDR_MASK VTD_GENMASK(63, 12)

/* --- CCMD (11.4.7) ------------------------------------------------------ */
#define VTD_CCMD_ICC (1ull << 63)                 /* invalidate; clears when done */
#define VTD_CCMD_CIRG(g) vtd_make((g), 62, 61)    /* requested granularity */
#define VTD_CCMD_CAIG(v) vtd_field((v), 60, 59)   /* actual granularity */
#define VTD_CCMD_CAIG_MASK VTD_GENMASK(60, 59)
#define VTD_CCMD_FM(m) vtd_make((m), 33, 32)      /* function mask */
#define VTD_CCMD_SID(s) vtd_make((s), 31, 16)
#define VTD_CCMD_DID(d) vtd_make((d), 15, 0)
#define VTD_CC_GLOBAL 1u   /* context-cache granularities (11.4.7, 6.5.2.1) */
#define VTD_CC_DOMAIN 2u
#define VTD_CC_DEVICE 3u

/* --- IOTLB_REG / IVA_REG (11.4.8) --------------------------------------- */
#define VTD_IOTLB_IVT (1ull << 63)                /* invalidate; clears when done */
#define VTD_IOTLB_IIRG(g) vtd_make((g), 61, 60)
#define VTD_IOTLB_IAIG(v) vtd_field((v), 58, 57)   /* actual granularity */
#define VTD_IOTLB_IAIG_MASK VTD_GENMASK(58, 57)
#define VTD_IOTLB_DR (1ull << 49)
#define VTD_IOTLB_DW (1ull << 48)
#define VTD_IOTLB_DID(d) vtd_make((d), 47, 32)
#define VTD_IVA_ADDR_MASK VTD_GENMASK(63, 12)
#define VTD_IVA_IH (1ull << 6)                    /* invalidation hint */
#define VTD_IVA_AM(m) vtd_make((m), 5, 0)         /* address mask: 2^AM pages */
#define VTD_TLB_GLOBAL 1u  /* IOTLB granularities (11.4.8.1, 6.5.2.3) */
#define VTD_TLB_DOMAIN 2u
#define VTD_TLB_PAGE 3u

/* --- FSTS / FECTL (11.4.9.1, 11.4.9.2) ---------------------------------- */
#define VTD_FSTS_PFO (1u << 0)   /* primary fault overflow (RW1C) */
#define VTD_FSTS_PPF (1u << 1)   /* primary pending fault (RO) */
#define VTD_FSTS_AFO (1u << 2)
#define VTD_FSTS_APF (1u << 3)
#define VTD_FSTS_IQE (1u << 4)   /* invalidation queue error (RW1C) */
#define VTD_FSTS_ICE (1u << 5)   /* invalidation completion error (RW1C) */
#define VTD_FSTS_ITE (1u << 6)   /* invalidation time-out error (RW1C) */
#define VTD_FSTS_FRI(f) vtd_field((f), 15, 8)  /* fault record index */
#define VTD_FSTS_RW1C (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | \
		       VTD_FSTS_ICE | VTD_FSTS_ITE)
#define VTD_FECTL_IM (1u << 31)  /* interrupt mask */
#define VTD_FECTL_IP (1u << 30)  /* interrupt pending */

/* --- Fault recording register, 128 bits (11.4.9.6) ---------------------- */
/* lo: FI [63:12] faulting page address (DMA), or [63:48] interrupt index (IR) */
#define VTD_FRCD_LO_FI_MASK VTD_GENMASK(63, 12)
#define VTD_FRCD_LO_IRIDX(lo) vtd_field((lo), 63, 48)
/* hi: SID [15:0], T2 [28], PRIV [29], EXE [30], PP [31], FR [39:32],
 *     PV [59:40], AT [61:60], T1 [62], F [63] */
#define VTD_FRCD_HI_SID(hi) vtd_field((hi), 15, 0)
#define VTD_FRCD_HI_T2 (1ull << 28)
#define VTD_FRCD_HI_PP (1ull << 31)
#define VTD_FRCD_HI_FR(hi) vtd_field((hi), 39, 32)
#define VTD_FRCD_HI_PV(hi) vtd_field((hi), 59, 40)
#define VTD_FRCD_HI_AT(hi) vtd_field((hi), 61, 60)
#define VTD_FRCD_HI_T1 (1ull << 62)              /* 1: read/atomic, 0: write */
#define VTD_FRCD_HI_F (1ull << 63)               /* fault (RW1C) */

/* --- Invalidation queue (11.4.11) --------------------------------------- */
#define VTD_IQA_ADDR_MASK VTD_GENMASK(63, 12)
#define VTD_IQA_DW (1ull << 11)                  /* 256-bit descriptors */
#define VTD_IQA_QS(q) vtd_make((q), 2, 0)        /* 2^QS pages */
#define VTD_IQ_INDEX(reg) vtd_field((reg), 18, 4) /* IQH/IQT: 128-bit index */
#define VTD_ICS_IWC (1u << 0)                    /* invalidation wait complete */
#define VTD_IECTL_IM (1u << 31)
#define VTD_IQERCD_IQEI(v) vtd_field((v), 3, 0)  /* IQE cause */
#define VTD_IQERCD_ITESID(v) vtd_field((v), 47, 32)
#define VTD_IQERCD_ICESID(v) vtd_field((v), 63, 48)

/* --- IRTA (11.4.12) ----------------------------------------------------- */
#define VTD_IRTA_ADDR_MASK VTD_GENMASK(63, 12)
#define VTD_IRTA_EIME (1ull << 11)               /* x2APIC mode */
#define VTD_IRTA_S(s) vtd_make((s), 3, 0)        /* 2^(S+1) entries */

/* --- Invalidation descriptors, 128-bit (6.5.2) ------------------------- */
#define VTD_DESC_TYPE(lo) (vtd_field((lo), 3, 0) | (vtd_field((lo), 11, 9) << 4))
#define VTD_DESC_CC 0x1      /* 6.5.2.2 context-cache */
#define VTD_DESC_IOTLB 0x2   /* 6.5.2.3 IOTLB */
#define VTD_DESC_DEVTLB 0x3  /* 6.5.2.5 device-TLB */
#define VTD_DESC_IEC 0x4     /* 6.5.2.7 interrupt entry cache */
#define VTD_DESC_WAIT 0x5    /* 6.5.2.8 invalidation wait */
#define VTD_DESC_PIOTLB 0x6  /* 6.5.2.4 PASID-based IOTLB */
#define VTD_DESC_PC 0x7      /* 6.5.2.1 PASID cache */
/* context-cache (6.5.2.2): G [5:4], DID [31:16], SID [47:32], FM [49:48] */
#define VTD_DESC_CC_G(g) vtd_make((g), 5, 4)
#define VTD_DESC_CC_DID(d) vtd_make((d), 31, 16)
#define VTD_DESC_CC_SID(s) vtd_make((s), 47, 32)
#define VTD_DESC_CC_FM(m) vtd_make((m), 49, 48)
/* IOTLB (6.5.2.3): lo G [5:4], DW [6], DR [7], DID [31:16];
 *                  hi AM [5:0], IH [6], ADDR [63:12] */
#define VTD_DESC_IOTLB_G(g) vtd_make((g), 5, 4)
#define VTD_DESC_IOTLB_DW (1ull << 6)
#define VTD_DESC_IOTLB_DR (1ull << 7)
#define VTD_DESC_IOTLB_DID(d) vtd_make((d), 31, 16)
#define VTD_DESC_IOTLB_AM(m) vtd_make((m), 5, 0)
#define VTD_DESC_IOTLB_IH (1ull << 6)
/* PASID-based IOTLB (6.5.2.4): G [5:4] (2 all of a PASID, 3 page-selective
 * within a PASID), DID [31:16], PASID [51:32]; hi AM [5:0], IH [6], ADDR [63:12] */
#define VTD_DESC_PIOTLB_G(g) vtd_make((g), 5, 4)
#define VTD_DESC_PIOTLB_DID(d) vtd_make((d), 31, 16)
#define VTD_DESC_PIOTLB_PASID(p) vtd_make((p), 51, 32)
#define VTD_PIOTLB_PASID 2u
#define VTD_PIOTLB_PAGE 3u
/* device-TLB (6.5.2.5): lo PFSID[3:0] [15:12], MIP [20:16], SID [47:32],
 *                       PFSID[15:4] [63:52]; hi S [0], ADDR [63:12] */
#define VTD_DESC_DEVTLB_SID(s) vtd_make((s), 47, 32)
#define VTD_DESC_DEVTLB_MIP(q) vtd_make((q), 20, 16)
#define VTD_DESC_DEVTLB_PFSID(p) (vtd_make((p) & 0xf, 15, 12) | vtd_make((p) >> 4, 63, 52))
#define VTD_DESC_DEVTLB_S (1ull << 0)
/* PASID cache (6.5.2.1): G [5:4] (0 domain-, 1 PASID-selective, 3 global),
 *                        DID [31:16], PASID [51:32] */
#define VTD_DESC_PC_G(g) vtd_make((g), 5, 4)
#define VTD_DESC_PC_DID(d) vtd_make((d), 31, 16)
#define VTD_PC_DOMAIN 0u
/* IEC (6.5.2.7): G [4] (0 global, 1 index), IM [31:27], IIDX [47:32] */
#define VTD_DESC_IEC_INDEXED (1ull << 4)
#define VTD_DESC_IEC_IM(m) vtd_make((m), 31, 27)
#define VTD_DESC_IEC_IIDX(i) vtd_make((i), 47, 32)
/* wait (6.5.2.8): lo IF [4], SW [5], FN [6], PD [7], SDATA [63:32];
 *                 hi SADDR [63:2] */
#define VTD_DESC_WAIT_IF (1ull << 4)
#define VTD_DESC_WAIT_SW (1ull << 5)
#define VTD_DESC_WAIT_FN (1ull << 6)
#define VTD_DESC_WAIT_SDATA(d) vtd_make((d), 63, 32)
#define VTD_DESC_WAIT_SADDR_MASK VTD_GENMASK(63, 2)

/* --- Root and context entries, legacy mode (9.1, 9.3) ------------------- */
#define VTD_ROOT_LO_P (1ull << 0)
#define VTD_ROOT_LO_CTP_MASK VTD_GENMASK(63, 12)
#define VTD_CTX_LO_P (1ull << 0)
#define VTD_CTX_LO_FPD (1ull << 1)                /* fault processing disable */
#define VTD_CTX_LO_TT(t) vtd_make((t), 3, 2)      /* translation type */
#define VTD_CTX_LO_TT_GET(lo) vtd_field((lo), 3, 2)
#define VTD_CTX_LO_SLPTPTR_MASK VTD_GENMASK(63, 12)
#define VTD_CTX_HI_AW(a) vtd_make((a), 2, 0)      /* 1: 39b, 2: 48b, 3: 57b */
#define VTD_CTX_HI_AW_GET(hi) vtd_field((hi), 2, 0)
#define VTD_CTX_HI_DID(d) vtd_make((d), 23, 8)
#define VTD_CTX_HI_DID_GET(hi) vtd_field((hi), 23, 8)
#define VTD_TT_UNTRANSLATED 0u   /* 9.3: untranslated requests only */
#define VTD_TT_DEVTLB 1u         /* 9.3: all requests, device-TLB allowed */
#define VTD_TT_PASSTHROUGH 2u    /* 9.3: pass-through (ECAP.PT) */

/* --- Scalable-mode root, context, PASID entries (9.2, 9.4, 9.5, 9.6) ---- */
#define VTD_SMROOT_LO_LP (1ull << 0)              /* lower (devfn 0..127) present */
#define VTD_SMROOT_HI_UP (1ull << 0)              /* upper (devfn 128..255) present */
#define VTD_SMCTX_LO_P (1ull << 0)
#define VTD_SMCTX_LO_FPD (1ull << 1)
#define VTD_SMCTX_LO_DTE (1ull << 2)
#define VTD_SMCTX_LO_PASIDE (1ull << 3)
#define VTD_SMCTX_LO_PRE (1ull << 4)
#define VTD_SMCTX_LO_PDTS(s) vtd_make((s), 11, 9) /* PASID dir: 2^(7+PDTS) entries */
#define VTD_SMCTX_LO_PASIDDIRPTR_MASK VTD_GENMASK(63, 12)
#define VTD_SMCTX_HI_RID_PASID(p) vtd_make((p), 19, 0) /* second qword */
#define VTD_PASIDDIR_P (1ull << 0)                /* 9.5 */
#define VTD_PASIDDIR_FPD (1ull << 1)
#define VTD_PASIDDIR_PTP_MASK VTD_GENMASK(63, 12)
/* PASID-table entry, 512 bits (9.6): qword 0 P [0], FPD [1], AW [4:2],
 * SLEE [5], PGTT [8:6], SLADE [9], SLPTPTR [63:12]; qword 1 DID [15:0] */
#define VTD_PASID_Q0_P (1ull << 0)
#define VTD_PASID_Q0_FPD (1ull << 1)
#define VTD_PASID_Q0_AW(a) vtd_make((a), 4, 2)
#define VTD_PASID_Q0_PGTT(t) vtd_make((t), 8, 6)
#define VTD_PASID_Q0_SLPTPTR_MASK VTD_GENMASK(63, 12)
#define VTD_PASID_Q1_DID(d) vtd_make((d), 15, 0)
/* qword 2: SRE [0], FSPM [3:2] (0 = 4-level), FSPTPTR [63:12] (9.6) */
#define VTD_PASID_Q2_FSPM(m) vtd_make((m), 3, 2)
#define VTD_PASID_Q2_FSPTPTR_MASK VTD_GENMASK(63, 12)
#define VTD_PGTT_FL 1u   /* first-level only */
#define VTD_PGTT_SL 2u   /* second-level only */
#define VTD_PGTT_NESTED 3u
#define VTD_PGTT_PT 4u   /* pass-through */

/* --- Second-level paging entries (9.8) ---------------------------------- */
#define VTD_SLPTE_R (1ull << 0)
#define VTD_SLPTE_W (1ull << 1)
#define VTD_SLPTE_X (1ull << 2)
#define VTD_SLPTE_PS (1ull << 7)                  /* page size: 2 MiB / 1 GiB leaf */
#define VTD_SLPTE_SNP (1ull << 11)                /* snoop (ECAP.SC) */
#define VTD_SLPTE_ADDR_MASK VTD_GENMASK(51, 12)
/* First-stage (IA-32e format) entries (9.7): P, R/W, U/S, PS; the address
 * at 51:12 as in a second-stage entry, bits 62:52 ignored. */
#define VTD_FSPTE_P (1ull << 0)
#define VTD_FSPTE_RW (1ull << 1)
#define VTD_FSPTE_US (1ull << 2)

#endif /* VFS_VTD_REGS_H */
