/*
 * ept.h — the GPA -> HPA map of one guest, 4 levels, with 4 KiB, 2 MiB and
 * 1 GiB leaves, written in one of two formats chosen at ept_init_fmt():
 *   EPT (Intel SDM Vol. 3C §28.2) for the VMX backend;
 *   NPT (AMD APM Vol. 2 §15.25: nested tables are ordinary long-mode page
 *   tables, §5.3.3) for the SVM backend.
 * The module keeps the EPT's name (its first format).  The formats agree
 * on what the rest of the code reads: bit 0 (EPT R / NPT P), bit 1 (W / R/W),
 * bit 7 (page size), address 51:12; a table entry is 0x7 in both (EPT RWX,
 * NPT P|R/W|U/S — NPT walks are user accesses, so U/S = 1 at every level,
 * APM §15.25.5).  They differ only in a leaf's other bits (ept_map): EPT
 * X bit 2 and memory type 5:3; NPT U/S bit 2, PWT/PCD 3/4 (NX unused: every
 * NPT leaf is executable, see ept.c).
 *
 * Two layers, kept apart on purpose:
 *  - entry-format helpers (static inline, pure): what one 64-bit entry means.
 *    A VT-d second-level table (VT-d spec §9.8) has the same geometry (4
 *    levels of 512 entries, 9 bits per level, bit 7 = page size) and the
 *    same R (bit 0) and W (bit 1) bits, but bit 2 is not "execute" (it is
 *    ignored, or means execute only with ECAP.SLEE / PASID use), bits 5:3
 *    and 6 are the extended memory type and "ignore PAT" only when the unit
 *    reports ECAP.EMTS, and bit 11 is SNP (force snoop).  So a VT-d table
 *    can mirror this one leaf by leaf with ept_for_each_leaf() and a small
 *    conversion, or be these very tables when those differences do not
 *    matter for the unit (bm_passthrough.c decides; nothing here assumes it).
 *  - table management (ept.c): build, split, look up, visit, free.  Pages
 *    come from port_page_alloc(); tables are referenced by physical address.
 */
#ifndef VFS_CORE_EPT_H
#define VFS_CORE_EPT_H

#include <stdbool.h>
#include <stdint.h>

/* Permissions (§28.2.2, Tables 28-1..28-6, bits 2:0). */
#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
/* Leaf memory type bits 5:3 and "ignore PAT" bit 6 (§28.2.6.2). */
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK (7ull << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_PAGE_SIZE (1ull << 7)  /* in a PDPTE (1 GiB) or PDE (2 MiB) */
#define EPT_ACCESSED (1ull << 8)   /* with EPTP[6] (§28.2.4) */
#define EPT_DIRTY (1ull << 9)
#define EPT_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
/* Software bit: the leaf maps guest RAM (the core may read and write it;
 * any other leaf — a BAR, MMIO — it may not touch).  Bit 52 is ignored by
 * the CPU in an EPT leaf (§28.2.2, Table 28-6), available in an NPT leaf
 * (APM §5.4.1), and ignored by a VT-d second-level entry (VT-d 9.8), so a
 * shared table carries it harmlessly.  Pass it in ept_map's perms. */
#define EPT_RAM (1ull << 52)

/* NPT leaf bits besides P, R/W (APM Vol. 2 §5.4.1). */
#define NPT_US (1ull << 2)
#define NPT_PWT (1ull << 3)
#define NPT_PCD (1ull << 4)

enum ept_format { EPT_FMT_EPT = 0, EPT_FMT_NPT = 1 };

/* Memory types (§28.2.6.1; Vol. 3A §11.3 numbering). 2, 3 and 7 are
 * reserved: a leaf with one is an EPT misconfiguration (§28.2.3.1). */
#define EPT_MT_UC 0u
#define EPT_MT_WC 1u
#define EPT_MT_WT 4u
#define EPT_MT_WP 5u
#define EPT_MT_WB 6u

/* Levels: 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE.  Bytes one entry maps. */
#define EPT_LEVEL_SIZE(l) (1ull << (12 + 9 * ((l) - 1)))
#define EPT_INDEX(gpa, l) ((unsigned)((gpa) >> (12 + 9 * ((l) - 1))) & 511u)

/* A non-leaf entry pointing at the next table: full RWX so only the leaf
 * decides the permissions (§28.2.2: access needs every level's bit). */
static inline uint64_t ept_table_entry(uint64_t table_pa)
{
	return (table_pa & EPT_ADDR_MASK) | EPT_RWX;
}

/* A leaf at `level` (1, 2 or 3) mapping `hpa` (aligned to the level). */
static inline uint64_t ept_leaf_entry(uint64_t hpa, uint64_t perms, unsigned memtype, unsigned level)
{
	return (hpa & EPT_ADDR_MASK) | (perms & EPT_RWX) |
	       (((uint64_t)memtype << EPT_MT_SHIFT) & EPT_MT_MASK) |
	       (level > 1 ? EPT_PAGE_SIZE : 0);
}

/* Present = any of R/W/X (§28.2.2: an entry with bits 2:0 clear is not
 * present; an access through it is an EPT violation). */
static inline bool ept_entry_present(uint64_t e) { return (e & EPT_RWX) != 0; }
static inline bool ept_entry_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (e & EPT_PAGE_SIZE) != 0;
}
static inline uint64_t ept_entry_addr(uint64_t e) { return e & EPT_ADDR_MASK; }
static inline unsigned ept_entry_memtype(uint64_t e) { return (unsigned)((e & EPT_MT_MASK) >> EPT_MT_SHIFT); }

/* EPTP (§24.6.11): memory type of the walk (bits 2:0), walk length - 1
 * (bits 5:3, 3 for 4 levels), A/D enable (bit 6), PML4 address. */
static inline uint64_t ept_pointer(uint64_t pml4_pa, unsigned walk_memtype, bool ad)
{
	return (pml4_pa & EPT_ADDR_MASK) | (walk_memtype & 7u) | (3ull << 3) | (ad ? 1ull << 6 : 0);
}

/* Would the CPU call this entry a misconfiguration (§28.2.3.1)?  Write
 * without read; execute-only without the capability; a reserved memory
 * type in a leaf; bit 7 set in a PML4E or (without 1 GiB pages) a PDPTE.
 * `caps` is IA32_VMX_EPT_VPID_CAP. */
bool ept_entry_misconfigured(uint64_t e, unsigned level, uint64_t caps);

#define EPT_STALE_MAX 64

struct ept {
	uint64_t *pml4;   /* virtual address of the root */
	enum ept_format fmt;
	uint64_t pml4_pa;
	uint64_t caps;    /* IA32_VMX_EPT_VPID_CAP: which page sizes to use */
	unsigned tables;  /* table pages held (root included, retired ones too) */
	/* Subtrees cut out of the map, freed by ept_reclaim() after a flush. */
	struct { uint64_t *table; unsigned level; } stale[EPT_STALE_MAX];
	unsigned nr_stale;
};

/* An empty map in the EPT format.  0 or -PORT_ENOMEM. */
int ept_init(struct ept *ept, uint64_t caps);
/* An empty map in `fmt`; for NPT, caps says which leaf sizes to use with
 * the EPT_CAP_2M / EPT_CAP_1G bits. */
int ept_init_fmt(struct ept *ept, uint64_t caps, enum ept_format fmt);
/* Free every table page (not the memory the map points at). */
void ept_destroy(struct ept *ept);
/* Free the table pages ept_map/ept_unmap cut out of the map (a larger leaf
 * replacing a table).  Call only after the flush that stops every walker
 * using them (INVEPT; an NPT TLB flush on the next VMRUN; the IOTLB
 * invalidation of a VT-d unit sharing the tables): the core's
 * core_vm_flush() does.  ept_map/ept_unmap return -PORT_ENOSPC when
 * EPT_STALE_MAX subtrees wait: flush and reclaim first. */
void ept_reclaim(struct ept *ept);

/* Map [gpa, gpa+size) to [hpa, hpa+size) with `perms` (EPT_R|W|X, plus
 * EPT_RAM for guest RAM) and `memtype` (EPT_MT_*; NPT: WB, UC, WT only), using
 * the largest pages the alignment and caps allow; an existing larger leaf in
 * the way is split first.  gpa, hpa, size 4 KiB-aligned.  0, -PORT_EINVAL,
 * -PORT_ENOMEM. */
int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype);
/* Remove [gpa, gpa+size) (splitting larger leaves): an access there is an
 * EPT violation, which is how an MMIO range is trapped. */
int ept_unmap(struct ept *ept, uint64_t gpa, uint64_t size);
/* Store a raw value in the 4 KiB leaf for gpa (splitting as needed); for
 * tests of the misconfiguration path. */
int ept_set_raw_4k(struct ept *ept, uint64_t gpa, uint64_t raw);

/* Translate: 0 with *hpa (and *entry, *level if not NULL) set, or
 * -PORT_ENOENT when not mapped. */
int ept_lookup(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *entry, unsigned *level);

/* Visit every present leaf in GPA order: fn(ctx, gpa, entry, level).  A
 * non-zero return stops the walk and is returned.  This is the hook a VT-d
 * second-level table uses to mirror the guest's map. */
typedef int (*ept_leaf_fn)(void *ctx, uint64_t gpa, uint64_t entry, unsigned level);
int ept_for_each_leaf(const struct ept *ept, ept_leaf_fn fn, void *ctx);

#endif
