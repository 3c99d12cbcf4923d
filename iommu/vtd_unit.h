/*
 * vtd_unit.h — one VT-d remapping unit (a DRHD): capability decode, global
 * command/status handshakes, bring-up, queued and register-based invalidation.
 *
 * Typical bring-up (DMA remapping):
 *     struct vtd_unit u;
 *     vtd_unit_init(&u, drhd->reg_base, 0);   // reads VER/CAP/ECAP only
 *     vtd_unit_enable(&u);                    // QI, root table, global inv, TE
 *     ... vtd_domain_* / vtd_ctx_attach ...
 *     vtd_unit_fini(&u);                      // TE/QI off, every page freed
 * Interrupt remapping (irq_remap/) needs only init + vtd_unit_qi_enable +
 * vtd_unit_submit + vtd_unit_gcmd.
 *
 * Every wait on the hardware is bounded by u->timeout_ns and fails with
 * -PORT_ETIMEDOUT and a log line naming the unit and the register.
 */
#ifndef VFS_VTD_UNIT_H
#define VFS_VTD_UNIT_H

#include <stdbool.h>
#include <stdint.h>

/* VT-d 6.5.2: a 128-bit invalidation descriptor (lo = bits 63:0). */
struct vtd_desc {
	uint64_t lo, hi;
};

/* VER/CAP/ECAP decoded (11.4.1-11.4.3).  Widths and offsets are decoded to
 * their meaning: mgaw in bits, nfr the number of fault-recording registers,
 * fro/iro byte offsets from the register base, ndoms = 2^(4+2*ND). */
struct vtd_caps {
	uint32_t ver;
	uint64_t cap, ecap;                      /* raw registers */
	unsigned ver_major, ver_minor;
	/* ECAP */
	bool qi, ir, eim, pt, c, sc, smts, dt, pasid, slts, flts, nest, prs, srs;
	unsigned iro, mhmv, pss;
	/* CAP */
	unsigned nd, mgaw, sagaw, sllps, nfr, fro, mamv;
	bool cm, rwbf, psi, zlr, afl, plmr, phmr, pi, drd, dwd, fs1gp;
	unsigned ndoms;
};

/* vtd_unit_init flags */
#define VTD_UNIT_NO_QI (1u << 0)     /* register-based invalidation even if ECAP.QI */
#define VTD_UNIT_SCALABLE (1u << 1)  /* scalable-mode tables (needs ECAP.SMTS) */

#define VTD_UNIT_DEFAULT_TIMEOUT_NS 200000000ull   /* 200 ms per wait */
#define VTD_UNIT_MAX_DIDS 32768u                   /* DID bitmap: one page */

struct vtd_unit {
	uint64_t reg_base;          /* physical base of the register page */
	struct vtd_caps caps;
	unsigned flags;             /* VTD_UNIT_* given to init */
	uint64_t timeout_ns;        /* bound on every wait; callers may change it */
	/* queued invalidation (6.5.2) */
	bool qi_on;
	uint64_t *iq;               /* one 4 KiB page: 256 x 128-bit or 128 x 256-bit */
	bool iq_dw;                 /* IQA.DW: 256-bit slots (scalable mode) */
	unsigned iq_tail;           /* next free slot */
	volatile uint32_t *wait_status;   /* status-write target of wait descriptors */
	uint32_t wait_seq;
	/* translation structures */
	bool scalable;
	uint64_t *root;             /* root table page (9.1 / 9.2), NULL until enable */
	uint64_t *did_map;          /* bitmap of domain ids in use (DID 0 reserved) */
	unsigned ndids;             /* min(caps.ndoms, VTD_UNIT_MAX_DIDS) */
	/* fault handling state (vtd_fault.h) */
	uint64_t fault_window_ns;   /* start of the current rate-limit window */
	unsigned fault_window_count, fault_limit;
	uint64_t faults_seen, faults_suppressed;
};

/* Read VER/CAP/ECAP and decode them; no register is written, nothing is
 * allocated.  -PORT_EINVAL for base 0 or an unaligned base, -PORT_ENODEV when
 * the registers read all-ones or CAP/ECAP make no sense (naming the unit). */
int vtd_unit_init(struct vtd_unit *u, uint64_t reg_base, unsigned flags);

/* 11.4.4/11.4.5: set or clear one GCMD bit, carrying the persistent bits from
 * GSTS; wait (bounded) for GSTS to follow.  For the one-shot bits (SRTP,
 * SIRTP, SFL) `set` must be true and the wait is for the status bit to be
 * set; for WBF it is for WBFS to clear. */
int vtd_unit_gcmd(struct vtd_unit *u, uint32_t gcmd_bit, bool set);

/* Queued invalidation: append the descriptors, then a wait descriptor with a
 * status write, ring IQT, and wait (bounded) for the status.  -PORT_EIO when
 * the hardware reports IQE/ITE/ICE (decoded in the log, error cleared and
 * the queue resynchronised), -PORT_ETIMEDOUT when the status never arrives,
 * -PORT_ENOTSUP when QI is not enabled. */
int vtd_unit_submit(struct vtd_unit *u, const struct vtd_desc *descs, unsigned n);

/* Enable/disable queued invalidation (11.4.11): allocates the queue page and
 * the status page, IQA with QS=0 (256 x 128-bit; 128 x 256-bit, DW=1, for a
 * VTD_UNIT_SCALABLE unit), IQT, GCMD.QIE. */
int vtd_unit_qi_enable(struct vtd_unit *u);
int vtd_unit_qi_disable(struct vtd_unit *u);

/* DMA-remapping bring-up: QI (unless VTD_UNIT_NO_QI or ECAP.QI=0), a zeroed
 * root table, RTADDR + SRTP, global context-cache and IOTLB invalidation,
 * write-buffer flush if CAP.RWBF, then GCMD.TE.  Undone on failure. */
int vtd_unit_enable(struct vtd_unit *u);
/* TE off, QIE off, and every page the unit owns freed (root, context and
 * PASID tables, queue, DID map).  Domains are the caller's to destroy, and
 * interrupt remapping the caller's to turn off first (ir_table_fini). */
void vtd_unit_fini(struct vtd_unit *u);

/* Domain ids within CAP.ND (DID 0 is never handed out). */
int vtd_unit_did_alloc(struct vtd_unit *u);     /* DID or -PORT_ENOSPC */
void vtd_unit_did_free(struct vtd_unit *u, unsigned did);

/* --- invalidation: queued when QI is on, else through CCMD / IOTLB_REG --- */
/* Context cache (6.5.2.2 / 11.4.7): gran VTD_CC_GLOBAL/DOMAIN/DEVICE. */
int vtd_unit_inv_context(struct vtd_unit *u, unsigned gran, unsigned did,
			 uint16_t sid, unsigned fm);
/* IOTLB (6.5.2.3 / 11.4.8): gran VTD_TLB_GLOBAL/DOMAIN/PAGE; for PAGE,
 * 2^am pages at iova (aligned to that size).  Drains reads and writes when
 * CAP.DRD/DWD. */
int vtd_unit_inv_iotlb(struct vtd_unit *u, unsigned gran, unsigned did,
		       uint64_t iova, unsigned am, bool ih);
/* Page-selective IOTLB invalidation of [iova, iova+len): the smallest
 * aligned 2^am block within CAP.MAMV that covers it, else domain-selective
 * (also when CAP.PSI=0). */
int vtd_unit_inv_range(struct vtd_unit *u, unsigned did, uint64_t iova, uint64_t len);
/* The same for first-stage mappings of one PASID (6.5.2.4, QI only):
 * page-selective within the PASID, else all of the PASID. */
int vtd_unit_inv_range_pasid(struct vtd_unit *u, unsigned did, unsigned pasid, uint64_t iova,
			     uint64_t len);
/* Device-TLB (6.5.2.5, QI only): size_pages a power of two; 0 = everything. */
int vtd_unit_inv_devtlb(struct vtd_unit *u, uint16_t sid, uint16_t pfsid,
			unsigned qdep, uint64_t addr, uint64_t size_pages);
/* Interrupt entry cache (6.5.2.7, QI only): global, or 2^im entries at index. */
int vtd_unit_inv_iec(struct vtd_unit *u, bool global, unsigned index, unsigned im);
/* Write-buffer flush when CAP.RWBF (11.4.4 WBF); a no-op otherwise. */
int vtd_unit_flush_write_buffer(struct vtd_unit *u);

/* --- descriptor builders (6.5.2), bit-exact --------------------------- */
struct vtd_desc vtd_desc_context(unsigned gran, unsigned did, uint16_t sid, unsigned fm);
struct vtd_desc vtd_desc_iotlb(unsigned gran, unsigned did, uint64_t addr, unsigned am,
			       bool ih, bool dr, bool dw);
struct vtd_desc vtd_desc_piotlb(unsigned gran, unsigned did, unsigned pasid, uint64_t addr,
				unsigned am, bool ih);
struct vtd_desc vtd_desc_devtlb(uint16_t sid, uint16_t pfsid, unsigned mip,
				uint64_t addr, bool size_bit);
struct vtd_desc vtd_desc_iec(bool global, unsigned index, unsigned im);
struct vtd_desc vtd_desc_wait(uint64_t status_pa, uint32_t data, bool intr, bool fence);

/* The GCMD bit's name ("TE", "SRTP", ...; "?" for none) — used in log lines. */
const char *vtd_gcmd_bit_name(uint32_t gcmd_bit);

#endif /* VFS_VTD_UNIT_H */
