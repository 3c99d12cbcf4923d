/*
 * irte.h — interrupt-remapping table entries (IRTEs), the 128-bit records
 * the VT-d hardware reads to translate a remappable interrupt.
 *
 * Section numbers are the Intel VT-d specification, rev 4.x:
 *   9.10  IRTE for remapped interrupts (IM = 0)
 *   9.11  IRTE for posted interrupts   (IM = 1)
 *   6.5.2.7 / 9.10  how a live IRTE is changed (128-bit atomic, then IEC
 *         invalidation — see ir_table.h for the invalidation)
 *
 * An IRTE lives in the shadow context: it is what the hardware uses while
 * the guest runs.  Its destination/vector (or posted-descriptor address) is
 * the physical context.  Fields are built and read with explicit
 * shift/mask helpers; no bitfields.
 */
#ifndef VFS_IRQ_REMAP_IRTE_H
#define VFS_IRQ_REMAP_IRTE_H

#include <stdbool.h>
#include <stdint.h>

/* One IRTE, low and high quadwords as the hardware reads them (9.10). */
struct irte {
	uint64_t lo, hi;
};

/* --- Low quadword, both formats (9.10, 9.11) ---------------------------- */
#define IRTE_LO_P (1ull << 0)             /* present */
#define IRTE_LO_FPD (1ull << 1)           /* fault processing disable */
#define IRTE_LO_AVAIL_SHIFT 8             /* [11:8] available to software */
#define IRTE_LO_AVAIL_MASK (0xfull << 8)
#define IRTE_LO_IM (1ull << 15)           /* IRTE mode: 0 remapped, 1 posted */
#define IRTE_LO_VECTOR_SHIFT 16           /* [23:16] vector */
#define IRTE_LO_VECTOR_MASK (0xffull << 16)
/* Remapped format only (9.10) */
#define IRTE_LO_DM (1ull << 2)            /* destination mode: 1 logical */
#define IRTE_LO_RH (1ull << 3)            /* redirection hint */
#define IRTE_LO_TM (1ull << 4)            /* trigger mode: 1 level */
#define IRTE_LO_DLM_SHIFT 5               /* [7:5] delivery mode */
#define IRTE_LO_DLM_MASK (0x7ull << 5)
#define IRTE_LO_DST_SHIFT 32              /* [63:32] destination ID */
#define IRTE_LO_DST_MASK (0xffffffffull << 32)
#define IRTE_LO_REMAP_RSVD ((0x7ull << 12) | (0xffull << 24))  /* [14:12], [31:24] */
/* 9.10: in xAPIC mode (IRTA.EIME = 0) the APIC ID sits in DST[15:8];
 * DST[7:0] and DST[31:16] are reserved. */
#define IRTE_DST_XAPIC_SHIFT 8
#define IRTE_LO_XAPIC_RSVD ((0xffull << 32) | (0xffffull << 48))
/* Posted format only (9.11) */
#define IRTE_LO_URG (1ull << 14)          /* urgent */
#define IRTE_LO_PDA_LO_SHIFT 38           /* [63:38] posted descriptor address [31:6] */
#define IRTE_LO_PDA_LO_MASK (0x3ffffffull << 38)
#define IRTE_LO_POSTED_RSVD ((0x3full << 2) | (0x3ull << 12) | (0x3fffull << 24)) /* [7:2], [13:12], [37:24] */

/* --- High quadword (9.10, 9.11) ----------------------------------------- */
#define IRTE_HI_SID_MASK 0xffffull        /* [79:64] source identifier */
#define IRTE_HI_SQ_SHIFT 16               /* [81:80] source-id qualifier */
#define IRTE_HI_SQ_MASK (0x3ull << 16)
#define IRTE_HI_SVT_SHIFT 18              /* [83:82] source validation type */
#define IRTE_HI_SVT_MASK (0x3ull << 18)
#define IRTE_HI_REMAP_RSVD (~0ull << 20)  /* [127:84] */
#define IRTE_HI_PDA_HI_SHIFT 32           /* posted: [127:96] descriptor address [63:32] */
#define IRTE_HI_POSTED_RSVD (0xfffull << 20) /* posted: [95:84] */

/* Delivery modes an IRTE may carry (9.10 DLM; the same encoding as the
 * compatibility MSI data register, 5.1.2.1). */
enum irte_delivery {
	IRTE_DLM_FIXED = 0,
	IRTE_DLM_LOWPRI = 1,
	IRTE_DLM_SMI = 2,
	IRTE_DLM_NMI = 4,
	IRTE_DLM_INIT = 5,
	IRTE_DLM_EXTINT = 7,
};

/* Source validation (9.10 SVT, SQ). */
enum irte_svt {
	IRTE_SVT_NONE = 0,  /* no requester-id check */
	IRTE_SVT_SID = 1,   /* requester id must equal SID under the SQ mask */
	IRTE_SVT_BUS = 2,   /* requester bus in [SID[15:8], SID[7:0]] */
};
enum irte_sq {
	IRTE_SQ_ALL = 0,     /* compare all 16 bits */
	IRTE_SQ_IGN_2 = 1,   /* ignore function bit 2 */
	IRTE_SQ_IGN_21 = 2,  /* ignore function bits 2:1 */
	IRTE_SQ_IGN_210 = 3, /* ignore function bits 2:0 */
};

/* Who may raise the interrupt (9.10 SID/SQ/SVT). */
struct irte_source {
	uint16_t sid;      /* requester id: bus << 8 | dev << 3 | fn */
	uint8_t sq;        /* enum irte_sq */
	uint8_t svt;       /* enum irte_svt */
};

/* A remapped-format IRTE (9.10), field by field. */
struct irte_remapped {
	bool fpd;
	bool dest_logical;   /* DM */
	bool redir_hint;     /* RH */
	bool level;          /* TM */
	uint8_t delivery;    /* enum irte_delivery */
	uint8_t vector;
	uint32_t dest;       /* APIC ID: 8-bit in xAPIC mode, 32-bit with EIME */
	struct irte_source source;
};

/* A posted-format IRTE (9.11), field by field. */
struct irte_posted {
	bool fpd;
	bool urgent;         /* URG */
	uint8_t vector;      /* the guest vector set in the descriptor's PIR */
	uint64_t pda;        /* physical address of the posted-interrupt descriptor */
	struct irte_source source;
};

/* Build a present IRTE.  eim says whether the table is in x2APIC mode
 * (IRTA.EIME, 11.4.12).  -PORT_EINVAL / -PORT_ERANGE on fields the format
 * cannot hold (an xAPIC destination above 0xff, a reserved delivery mode,
 * a descriptor address not 64-byte aligned, SVT/SQ out of range). */
int irte_compose_remapped(const struct irte_remapped *f, bool eim, struct irte *out);
int irte_compose_posted(const struct irte_posted *f, struct irte *out);

/* Read an IRTE back.  -PORT_EINVAL if it is in the other format. */
int irte_decode_remapped(const struct irte *e, bool eim, struct irte_remapped *out);
int irte_decode_posted(const struct irte *e, struct irte_posted *out);

static inline bool irte_is_present(const struct irte *e) { return e->lo & IRTE_LO_P; }
static inline bool irte_is_posted(const struct irte *e) { return e->lo & IRTE_LO_IM; }
static inline uint8_t irte_vector(const struct irte *e)
{
	return (uint8_t)((e->lo & IRTE_LO_VECTOR_MASK) >> IRTE_LO_VECTOR_SHIFT);
}

/* Whether a present IRTE has any reserved bit set: what the hardware
 * reports as fault reason 0x24 (5.1.4.1). */
bool irte_reserved_bits_set(const struct irte *e, bool eim);

/* The source check the hardware does for a present IRTE (9.10 SVT/SQ):
 * true when a request from requester_id may use this entry. */
bool irte_source_allows(const struct irte *e, uint16_t requester_id);

/* Store an entry into a table slot the hardware may be reading.  A present
 * slot is replaced in one 128-bit compare-exchange (lock cmpxchg16b); a
 * slot that is not present gets the high quadword first, then the low one
 * that carries P (9.10).  -PORT_EBUSY if the slot changed under us.  The
 * caller invalidates the interrupt entry cache afterwards. */
int irte_store(struct irte *slot, const struct irte *val);

#endif /* VFS_IRQ_REMAP_IRTE_H */
