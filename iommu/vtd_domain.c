/* vtd_domain.c — domains and their page tables: second-stage (VT-d 3.6,
 * 3.7, 9.8) or first-stage in the IA-32e format (9.7).  Both formats keep
 * the address at 51:12 and a large leaf's PS at bit 7, and bit 0 marks a
 * present entry in both (R / P), so one walker writes either. */
#include "vtd_domain.h"

#include "port.h"
#include "vtd_regs.h"

#define ENTRIES 512u
#define PAGE 4096ull
/* 9.8: bits 61:52 of a second-level entry are ignored by the hardware.  The
 * walker sets bit 52 in a non-leaf entry whose table holds 512 leaves, so an
 * unmap that drops that table whole counts it without reading it. */
#define FULL (1ull << 52)
#define INLINE_DROPS 8

/* Tables unlinked by one call, released only after the IOTLB invalidation
 * that stops the hardware from walking them (6.5.2.3, IH = 0 drops the
 * paging-structure caches too).  Each entry is the table's address | its
 * level | DROP_FULL; past INLINE_DROPS they go to chained pool pages. */
#define DROP_FULL 8u
struct drops {
	uint64_t inline_[INLINE_DROPS];
	unsigned n;          /* entries in inline_ */
	uint64_t *chunk;     /* [0] = previous chunk, [1] = count, [2..511] = entries */
};

struct walk {
	struct vtd_domain *d;
	unsigned flags;
	uint64_t hpa_delta;             /* map: hpa - iova */
	uint64_t cursor;                /* map: end of the last leaf written */
	uint64_t iova, len;             /* the call's range (for an early sync) */
	struct drops drops;
	struct vtd_unmap_result res;
};

static uint64_t level_size(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }
static unsigned level_index(uint64_t iova, unsigned level)
{
	return (unsigned)((iova >> (12 + 9 * (level - 1))) & (ENTRIES - 1));
}
static uint64_t *table_of(uint64_t pte)
{
	return port_phys_to_virt(pte & VTD_SLPTE_ADDR_MASK);
}
static bool present(uint64_t pte) { return (pte & (VTD_SLPTE_R | VTD_SLPTE_W)) != 0; }
static bool is_leaf(uint64_t pte, unsigned level) { return level == 1 || (pte & VTD_SLPTE_PS); }

static uint64_t *table_alloc(struct vtd_domain *d);
static void table_free(struct vtd_domain *d, uint64_t *t, struct walk *w);
static void flush(const struct vtd_domain *d, const void *va, size_t len);
static bool superpage_ok(const struct vtd_domain *d, unsigned level, unsigned flags);
static uint64_t leaf_pte(const struct vtd_domain *d, uint64_t hpa, unsigned level,
			 unsigned flags);
static uint64_t nonleaf_bits(const struct vtd_domain *d);
static int map_page(struct vtd_domain *d, uint64_t iova, uint64_t hpa, unsigned flags);
static unsigned tables_needed(const struct vtd_domain *d, uint64_t iova, uint64_t hpa,
			      uint64_t len, unsigned flags);
static int map_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		     uint64_t end, bool fresh, unsigned *leaves);
static int unmap_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		       uint64_t end);
static void count_tree(struct walk *w, const uint64_t *t, unsigned level, bool full);
static void free_tree(struct vtd_domain *d, uint64_t *t, unsigned level, bool full,
		      struct walk *w);
static bool table_empty(const uint64_t *t, unsigned from);
static void mark(unsigned *lo, unsigned *hi, unsigned j);
static bool drop_room(struct walk *w);
static void drop(struct walk *w, uint64_t *t, unsigned level, bool full);
static int finish(struct walk *w, bool invalidate);
static int sync_unit(struct vtd_domain *d, uint64_t iova, uint64_t len, bool always);
static bool identity_mapped(const struct vtd_domain *d, uint64_t iova, uint64_t end);

int vtd_agaw_select(unsigned sagaw, unsigned mgaw, unsigned want_bits, unsigned *levels)
{
	if (want_bits == 0 || want_bits > 57 || (mgaw && want_bits > mgaw))
		return -PORT_ENOTSUP;
	/* 3.6 / 11.4.2 SAGAW: bit 1 = 39-bit 3-level, 2 = 48-bit 4-level,
	 * 3 = 57-bit 5-level. */
	for (unsigned aw = 1; aw <= 3; aw++) {
		unsigned width = 30 + 9 * aw;
		if ((sagaw & (1u << aw)) && width >= want_bits) {
			if (levels)
				*levels = aw + 2;
			return (int)aw;
		}
	}
	return -PORT_ENOTSUP;
}

int vtd_domain_init(struct vtd_domain *d, struct vtd_unit *u, unsigned addr_width)
{
	if (!d || !u)
		return -PORT_EINVAL;
	*d = (struct vtd_domain){ .unit = u };
	unsigned levels;
	int aw = vtd_agaw_select(u->caps.sagaw, u->caps.mgaw, addr_width, &levels);
	if (aw < 0) {
		port_log("VT-d unit 0x%llx: no AGAW for a %u-bit domain (CAP.SAGAW 0x%x, MGAW %u)",
			 (unsigned long long)u->reg_base, addr_width, u->caps.sagaw, u->caps.mgaw);
		return aw;
	}
	d->aw = (unsigned)aw;
	d->levels = levels;
	d->width = 30 + 9 * d->aw;
	d->sllps = u->caps.sllps;
	if (u->scalable && u->caps.flts && !u->caps.slts) {
		/* 3.6: 4-level first-stage tables cover 48 bits; 2 MiB pages
		 * always, 1 GiB with CAP.FS1GP (11.4.2). */
		if (addr_width > 48)
			return -PORT_ENOTSUP;
		d->first_stage = true;
		d->levels = 4;
		d->aw = 2;
		d->width = 48;
		d->sllps = 1u | (u->caps.fs1gp ? 2u : 0u);
	}
	d->coherent = u->caps.c;
	d->snoop = u->caps.sc;
	int did = vtd_unit_did_alloc(u);
	if (did < 0)
		return did;
	d->did = (unsigned)did;
	d->top = table_alloc(d);
	if (!d->top) {
		vtd_unit_did_free(u, d->did);
		return -PORT_ENOMEM;
	}
	flush(d, d->top, PAGE);
	return 0;
}

void vtd_domain_destroy(struct vtd_domain *d)
{
	if (!d || !d->top)
		return;
	/* Tables are released only after the unit stopped caching them. */
	if (d->unit->root && vtd_unit_inv_iotlb(d->unit, VTD_TLB_DOMAIN, d->did, 0, 0, false)) {
		port_log("VT-d unit 0x%llx: domain %u not invalidated; its %lu table pages are "
			 "kept out of use", (unsigned long long)d->unit->reg_base, d->did,
			 d->table_pages);
	} else {
		free_tree(d, d->top, d->levels, false, NULL);
	}
	d->top = NULL;
	d->leaf_hint = NULL;
	vtd_unit_did_free(d->unit, d->did);
}

int vtd_domain_map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t len,
		   unsigned flags)
{
	if (!d || !d->top || !len || ((iova | hpa | len) & (PAGE - 1)) ||
	    !(flags & (VTD_MAP_READ | VTD_MAP_WRITE)))
		return -PORT_EINVAL;
	if (iova + len < iova || ((iova + len - 1) >> d->width) ||
	    ((hpa + len - 1) >> 52) || hpa + len < hpa)
		return -PORT_ERANGE;
	if (d->first_stage && !(flags & VTD_MAP_READ)) {
		port_log("VT-d domain %u: first-stage tables cannot map write-only", d->did);
		return -PORT_ENOTSUP;
	}
	if (len == PAGE) {
		int rc = map_page(d, iova, hpa, flags);
		if (rc != -PORT_EAGAIN)
			return rc;
	}
	if (len >= (2ull << 20))
		(void)port_pages_reserve(tables_needed(d, iova, hpa, len, flags));
	struct walk w = { .d = d, .flags = flags, .hpa_delta = hpa - iova, .iova = iova,
			  .len = len, .cursor = iova };
	unsigned leaves;
	int rc = map_level(&w, d->top, d->levels, iova, iova + len, false, &leaves);
	if (rc) {
		/* Leaves go in in address order: [iova, cursor) held nothing before. */
		if (w.cursor > iova)
			(void)unmap_level(&w, d->top, d->levels, iova, w.cursor);
		(void)finish(&w, true);
		return rc;
	}
	/* 6.1: with CM=1, not-present -> present entries may be cached. */
	return finish(&w, d->unit->caps.cm);
}

int vtd_domain_unmap(struct vtd_domain *d, uint64_t iova, uint64_t len,
		     struct vtd_unmap_result *res)
{
	if (res)
		*res = (struct vtd_unmap_result){ 0 };
	if (!d || !d->top || !len || ((iova | len) & (PAGE - 1)))
		return -PORT_EINVAL;
	if (iova + len < iova || ((iova + len - 1) >> d->width))
		return -PORT_ERANGE;
	struct walk w = { .d = d, .iova = iova, .len = len };
	int rc = unmap_level(&w, d->top, d->levels, iova, iova + len);
	int src = finish(&w, w.res.leaves != 0);
	if (res)
		*res = w.res;
	return rc ? rc : src;
}

int vtd_domain_map_rmrrs(struct vtd_domain *d, const struct dmar_info *info, uint16_t segment,
			 uint16_t sid, dmar_pci_probe_fn probe, void *ctx)
{
	if (!d || !info)
		return -PORT_EINVAL;
	int n = 0;
	for (int r = dmar_rmrr_for_device(info, 0, segment, sid, probe, ctx); r >= 0;
	     r = dmar_rmrr_for_device(info, (unsigned)r + 1, segment, sid, probe, ctx)) {
		const struct dmar_rmrr *m = &info->rmrr[r];
		/* 8.4: base 4 KiB aligned, limit + 1 4 KiB aligned */
		int rc = vtd_domain_map(d, m->base, m->base, m->limit - m->base + 1,
					VTD_MAP_READ | VTD_MAP_WRITE);
		if (rc == -PORT_EEXIST && identity_mapped(d, m->base, m->limit + 1))
			rc = 0;   /* two RMRRs may share a range, or a second attach */
		if (rc) {
			port_log("VT-d domain %u: RMRR %d [0x%llx, 0x%llx] for %02x:%02x.%u not "
				 "identity-mapped (%d)", d->did, r, (unsigned long long)m->base,
				 (unsigned long long)m->limit, sid >> 8, (sid >> 3) & 31, sid & 7, rc);
			return rc;
		}
		n++;
	}
	return n;
}

/* Is all of [iova, end) mapped read/write to itself? */
static bool identity_mapped(const struct vtd_domain *d, uint64_t iova, uint64_t end)
{
	while (iova < end) {
		uint64_t hpa, size;
		unsigned flags;
		if (vtd_domain_translate(d, iova, &hpa, &flags, &size) || hpa != iova ||
		    (flags & (VTD_MAP_READ | VTD_MAP_WRITE)) != (VTD_MAP_READ | VTD_MAP_WRITE))
			return false;
		iova = (iova | (size - 1)) + 1;
	}
	return true;
}

int vtd_domain_translate(const struct vtd_domain *d, uint64_t iova, uint64_t *hpa,
			 unsigned *flags, uint64_t *page_size)
{
	if (!d || !d->top)
		return -PORT_EINVAL;
	if (iova >> d->width)
		return -PORT_ERANGE;
	const uint64_t *t = d->top;
	for (unsigned level = d->levels; level >= 1; level--) {
		uint64_t pte = t[level_index(iova, level)];
		if (!present(pte))
			return -PORT_ENOENT;
		if (is_leaf(pte, level)) {
			uint64_t size = level_size(level);
			if (hpa)
				*hpa = (pte & VTD_SLPTE_ADDR_MASK & ~(size - 1)) | (iova & (size - 1));
			if (flags)
				*flags = ((pte & VTD_SLPTE_R) ? VTD_MAP_READ : 0) |
					 ((pte & VTD_SLPTE_W) ? VTD_MAP_WRITE : 0) |
					 ((pte & VTD_SLPTE_SNP) ? VTD_MAP_SNOOP : 0);
			if (page_size)
				*page_size = size;
			return 0;
		}
		t = table_of(pte);
	}
	return -PORT_ENOENT;
}

/* --- helpers --------------------------------------------------------------- */

/* At most how many tables a map of [iova, iova+len) creates: per level the
 * entries of the level above it spans, plus one for a misaligned end; none
 * below 2 MiB where 2 MiB leaves will do.  For the port's pool to fill in
 * one go (a failed reserve is no error: the allocation that runs short is). */
static unsigned tables_needed(const struct vtd_domain *d, uint64_t iova, uint64_t hpa,
			      uint64_t len, unsigned flags)
{
	bool super = superpage_ok(d, 2, flags) && !((iova ^ hpa) & ((2ull << 20) - 1));
	uint64_t n = d->levels;
	for (unsigned level = 2; level < d->levels; level++)
		n += (len >> (12 + 9 * (level - 1))) + 2;
	n += super ? 2 : (len >> 21) + 2;
	return n > 0xffffffffu ? 0xffffffffu : (unsigned)n;
}

/* The common per-page case: every table on the way exists and the leaf slot
 * is empty.  Anything else (-PORT_EAGAIN) takes the range walker. */
static int map_page(struct vtd_domain *d, uint64_t iova, uint64_t hpa, unsigned flags)
{
	uint64_t *t = d->leaf_hint;
	if (!t || (iova >> 21) != d->leaf_hint_iova) {
		t = d->top;
		for (unsigned level = d->levels; level > 1; level--) {
			uint64_t pte = t[level_index(iova, level)];
			if (!present(pte) || (pte & VTD_SLPTE_PS))
				return -PORT_EAGAIN;
			t = table_of(pte);
		}
		d->leaf_hint = t;
		d->leaf_hint_iova = iova >> 21;
	}
	uint64_t *e = &t[level_index(iova, 1)];
	if (present(*e))
		return -PORT_EEXIST;
	*e = leaf_pte(d, hpa, 1, flags);
	flush(d, e, sizeof(*e));
	return sync_unit(d, iova, PAGE, d->unit->caps.cm);
}

/* Map [iova, end), which lies inside table t's span, one descent per table.
 * A fresh table (just allocated, all zero) is filled without checks and is
 * flushed whole by the caller before it is linked; *leaves counts the leaf
 * entries written into t itself. */
static int map_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		     uint64_t end, bool fresh, unsigned *leaves)
{
	struct vtd_domain *d = w->d;
	unsigned first = level_index(iova, level), last = level_index(end - 1, level);
	*leaves = 0;
	if (level == 1) {
		if (!fresh)
			for (unsigned j = first; j <= last; j++)
				if (present(t[j]))
					return -PORT_EEXIST;
		uint64_t pte = leaf_pte(d, iova + w->hpa_delta, 1, w->flags);
		for (unsigned j = first; j <= last; j++, pte += PAGE)
			t[j] = pte;
		*leaves = last - first + 1;
		w->cursor = end;
		if (!fresh)
			flush(d, &t[first], (last - first + 1) * sizeof(uint64_t));
		return 0;
	}
	uint64_t size = level_size(level), lo = iova;
	bool super = superpage_ok(d, level, w->flags) && !(w->hpa_delta & (size - 1));
	unsigned j = first, lo_j = ENTRIES, hi_j = 0;   /* entries written */
	int rc = 0;
	for (; j <= last; j++) {
		uint64_t next = (lo | (size - 1)) + 1;     /* no wrap: IOVAs are < 2^57 */
		uint64_t stop = next < end ? next : end;
		uint64_t pte = t[j];
		if (super && stop - lo == size) {
			if (present(pte)) {
				rc = -PORT_EEXIST;
				break;
			}
			t[j] = leaf_pte(d, lo + w->hpa_delta, level, w->flags);
			mark(&lo_j, &hi_j, j);
			++*leaves;
			w->cursor = stop;
		} else if (present(pte)) {
			unsigned n;
			rc = is_leaf(pte, level) ? -PORT_EEXIST
						 : map_level(w, table_of(pte), level - 1, lo, stop, false, &n);
			if (rc)
				break;
		} else {
			uint64_t *child = table_alloc(d);
			if (!child) {
				rc = -PORT_ENOMEM;
				break;
			}
			unsigned n;
			rc = map_level(w, child, level - 1, lo, stop, true, &n);
			if (w->cursor > lo) {
				/* 9.8: a non-leaf entry grants R/W; the leaf decides.  The
				 * child reaches memory before the entry that points at it. */
				flush(d, child, PAGE);
				t[j] = port_virt_to_phys(child) | nonleaf_bits(d) |
				       (n == ENTRIES ? FULL : 0);
				mark(&lo_j, &hi_j, j);
			} else {
				table_free(d, child, NULL);   /* never linked: never walked */
			}
			if (rc)
				break;
		}
		lo = next;
	}
	if (!fresh && lo_j <= hi_j)
		flush(d, &t[lo_j], (hi_j - lo_j + 1) * sizeof(uint64_t));
	return rc;
}

/* Unmap [iova, end) inside table t's span.  A child table the range covers
 * whole is unlinked and dropped without being cleared; one it covers in
 * part is cleared entry by entry and dropped if that left it empty. */
static int unmap_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		       uint64_t end)
{
	struct vtd_domain *d = w->d;
	unsigned first = level_index(iova, level), last = level_index(end - 1, level);
	if (level == 1) {
		unsigned lo_j = ENTRIES, hi_j = 0;
		for (unsigned j = first; j <= last; j++)
			if (present(t[j])) {
				t[j] = 0;
				mark(&lo_j, &hi_j, j);
				w->res.leaves++;
				w->res.bytes += PAGE;
			}
		if (lo_j <= hi_j)
			flush(d, &t[lo_j], (hi_j - lo_j + 1) * sizeof(uint64_t));
		return 0;
	}
	uint64_t size = level_size(level), lo = iova;
	unsigned j = first, lo_j = ENTRIES, hi_j = 0;   /* entries the unit sees change */
	int rc = 0;
	for (; j <= last; j++) {
		uint64_t next = (lo | (size - 1)) + 1;
		uint64_t stop = next < end ? next : end;
		bool whole = stop - lo == size;
		uint64_t pte = t[j];
		uint64_t at = lo;
		lo = next;
		if (!present(pte))
			continue;
		if (is_leaf(pte, level)) {
			if (whole) {
				t[j] = 0;
				mark(&lo_j, &hi_j, j);
				w->res.leaves++;
				w->res.bytes += size;
				continue;
			}
			/* Split a superpage partly inside the range into the next size down. */
			uint64_t *child = table_alloc(d);
			if (!child) {
				rc = -PORT_ENOMEM;
				break;
			}
			uint64_t base = pte & VTD_SLPTE_ADDR_MASK & ~(size - 1);
			uint64_t keep = (pte & ~VTD_SLPTE_ADDR_MASK & ~VTD_SLPTE_PS) |
					(level - 1 > 1 ? VTD_SLPTE_PS : 0);
			uint64_t csize = level_size(level - 1);
			for (unsigned k = 0; k < ENTRIES; k++)
				child[k] = (base + k * csize) | keep;
			flush(d, child, PAGE);
			pte = port_virt_to_phys(child) | nonleaf_bits(d) | FULL;
			t[j] = pte;
			mark(&lo_j, &hi_j, j);
		}
		uint64_t *child = table_of(pte);
		if (whole && drop_room(w)) {
			count_tree(w, child, level - 1, pte & FULL);
			t[j] = 0;
			mark(&lo_j, &hi_j, j);
			drop(w, child, level - 1, pte & FULL);
			continue;
		}
		rc = unmap_level(w, child, level - 1, at, stop);
		if (table_empty(child, level_index(stop - 1, level - 1) + 1) && drop_room(w)) {
			t[j] = 0;
			mark(&lo_j, &hi_j, j);
			drop(w, child, level - 1, false);
		} else if (pte & FULL) {
			t[j] = pte & ~FULL;   /* an ignored bit: nothing to write back */
		}
		if (rc)
			break;
	}
	if (lo_j <= hi_j)
		flush(d, &t[lo_j], (hi_j - lo_j + 1) * sizeof(uint64_t));
	return rc;
}

static void mark(unsigned *lo, unsigned *hi, unsigned j)
{
	if (j < *lo)
		*lo = j;
	if (j > *hi)
		*hi = j;
}

/* Leaves and bytes under a table about to be dropped (read, not cleared). */
static void count_tree(struct walk *w, const uint64_t *t, unsigned level, bool full)
{
	uint64_t size = level_size(level);
	if (full) {
		w->res.leaves += ENTRIES;
		w->res.bytes += ENTRIES * size;
		return;
	}
	for (unsigned k = 0; k < ENTRIES; k++) {
		if (!present(t[k]))
			continue;
		if (is_leaf(t[k], level)) {
			w->res.leaves++;
			w->res.bytes += size;
		} else {
			count_tree(w, table_of(t[k]), level - 1, t[k] & FULL);
		}
	}
}

/* Scan from `from` round the table: after an unmap of entries just below
 * `from`, a live neighbour is usually found at once. */
static bool table_empty(const uint64_t *t, unsigned from)
{
	for (unsigned k = 0; k < ENTRIES; k++)
		if (t[(from + k) % ENTRIES])
			return false;
	return true;
}

/* Release a table and the tables under it (after the invalidation). */
static void free_tree(struct vtd_domain *d, uint64_t *t, unsigned level, bool full,
		      struct walk *w)
{
	if (level > 1 && !full)
		for (unsigned k = 0; k < ENTRIES; k++)
			if (present(t[k]) && !is_leaf(t[k], level))
				free_tree(d, table_of(t[k]), level - 1, t[k] & FULL, w);
	table_free(d, t, w);
}

static void release_drops(struct walk *w)
{
	struct drops *dr = &w->drops;
	for (unsigned k = 0; k < dr->n; k++)
		free_tree(w->d, port_phys_to_virt(dr->inline_[k] & ~0xfffull),
			  (unsigned)(dr->inline_[k] & 7), dr->inline_[k] & DROP_FULL, w);
	dr->n = 0;
	while (dr->chunk) {
		uint64_t *c = dr->chunk;
		for (uint64_t k = 0; k < c[1]; k++)
			free_tree(w->d, port_phys_to_virt(c[2 + k] & ~0xfffull),
				  (unsigned)(c[2 + k] & 7), c[2 + k] & DROP_FULL, w);
		dr->chunk = c[0] ? port_phys_to_virt(c[0]) : NULL;
		port_page_free(c);   /* bookkeeping, never walked by the unit */
	}
}

/* Is there room on the drop list for one more table?  A chunk page is
 * taken from the pool when the inline slots and the chunk are full; out of
 * memory, the caller leaves the table linked (cleared, not dropped). */
static bool drop_room(struct walk *w)
{
	struct drops *dr = &w->drops;
	if (dr->n < INLINE_DROPS || (dr->chunk && dr->chunk[1] < ENTRIES - 2))
		return true;
	uint64_t *c = port_page_alloc();
	if (!c)
		return false;
	c[0] = dr->chunk ? port_virt_to_phys(dr->chunk) : 0;
	dr->chunk = c;
	return true;
}

/* t, just unlinked, is released after the invalidation (drop_room first). */
static void drop(struct walk *w, uint64_t *t, unsigned level, bool full)
{
	struct drops *dr = &w->drops;
	uint64_t e = port_virt_to_phys(t) | level | (full ? DROP_FULL : 0);
	w->d->leaf_hint = NULL;   /* it may be this table or one under it */
	if (dr->n < INLINE_DROPS)
		dr->inline_[dr->n++] = e;
	else
		dr->chunk[2 + dr->chunk[1]++] = e;
}

/* End of a call: write-buffer flush, one IOTLB invalidation for the range
 * when `invalidate` or tables were unlinked, then release the tables. */
static int finish(struct walk *w, bool invalidate)
{
	struct vtd_domain *d = w->d;
	int rc = sync_unit(d, w->iova, w->len, invalidate || w->drops.n || w->drops.chunk);
	if (rc) {
		port_log("VT-d unit 0x%llx: IOTLB not invalidated for domain %u; unlinked table "
			 "pages are kept out of use", (unsigned long long)d->unit->reg_base, d->did);
		return rc;
	}
	release_drops(w);
	return 0;
}

static uint64_t *table_alloc(struct vtd_domain *d)
{
	/* Not flushed here: the caller flushes a new table once it is filled. */
	uint64_t *t = port_page_alloc();
	if (t)
		d->table_pages++;
	return t;
}

static void table_free(struct vtd_domain *d, uint64_t *t, struct walk *w)
{
	d->table_pages--;
	if (w)
		w->res.tables_freed++;
	port_page_free(t);
}

static void flush(const struct vtd_domain *d, const void *va, size_t len)
{
	if (!d->coherent)   /* ECAP.C=0: table walks do not snoop (6.2.5) */
		port_cache_flush(va, len);
}

/* d->sllps (11.4.2 SLLPS, or the first-stage sizes): bit 0 = 2 MiB leaves at
 * level 2, bit 1 = 1 GiB at level 3. */
static bool superpage_ok(const struct vtd_domain *d, unsigned level, unsigned flags)
{
	if (flags & VTD_MAP_NO_SUPER)
		return false;
	return (level == 2 && (d->sllps & 1)) || (level == 3 && (d->sllps & 2));
}

/* 9.8: a second-stage non-leaf entry grants R/W and the leaf decides; 9.7:
 * a first-stage one is P, R/W and U/S (requests without PASID are user
 * requests), the leaf again deciding on writes. */
static uint64_t nonleaf_bits(const struct vtd_domain *d)
{
	return d->first_stage ? VTD_FSPTE_P | VTD_FSPTE_RW | VTD_FSPTE_US
			      : VTD_SLPTE_R | VTD_SLPTE_W;
}

static uint64_t leaf_pte(const struct vtd_domain *d, uint64_t hpa, unsigned level,
			 unsigned flags)
{
	if (d->first_stage)
		return (hpa & VTD_SLPTE_ADDR_MASK) | VTD_FSPTE_P | VTD_FSPTE_US |
		       ((flags & VTD_MAP_WRITE) ? VTD_FSPTE_RW : 0) |
		       (level > 1 ? VTD_SLPTE_PS : 0);
	uint64_t pte = (hpa & VTD_SLPTE_ADDR_MASK) |
		       ((flags & VTD_MAP_READ) ? VTD_SLPTE_R : 0) |
		       ((flags & VTD_MAP_WRITE) ? VTD_SLPTE_W : 0);
	if (level > 1)
		pte |= VTD_SLPTE_PS;
	if ((flags & VTD_MAP_SNOOP) && d->snoop)   /* SNP is reserved without ECAP.SC */
		pte |= VTD_SLPTE_SNP;
	return pte;
}

/* Tell the unit about changed entries: write-buffer flush (CAP.RWBF), then
 * page-selective IOTLB invalidation when `always` (unmap, or map under CM). */
static int sync_unit(struct vtd_domain *d, uint64_t iova, uint64_t len, bool always)
{
	struct vtd_unit *u = d->unit;
	if (!u->root || (!always && !u->caps.rwbf))
		return 0;   /* unit not enabled: nothing cached; or nothing to do */
	int rc = vtd_unit_flush_write_buffer(u);
	if (!rc && always)   /* first-stage mappings are tagged with RID_PASID 0 */
		rc = d->first_stage ? vtd_unit_inv_range_pasid(u, d->did, 0, iova, len)
				    : vtd_unit_inv_range(u, d->did, iova, len);
	return rc;
}
