/* vtd_domain.c — domains and second-level page tables (VT-d 3.6, 3.7, 9.8). */
#include "vtd_domain.h"

#include "port.h"
#include "vtd_regs.h"

#define ENTRIES 512u
#define PAGE 4096ull

struct walk {
	struct vtd_domain *d;
	unsigned flags;
	uint64_t hpa_delta;             /* map: hpa - iova */
	uint64_t cursor;                /* map: end of the last leaf written */
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
static int map_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		     uint64_t end);
static int unmap_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		       uint64_t end);
static void free_level(struct vtd_domain *d, uint64_t *t, unsigned level);
static bool table_empty(const uint64_t *t, unsigned from);
static int sync_unit(struct vtd_domain *d, uint64_t iova, uint64_t len, bool always);

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
	return 0;
}

void vtd_domain_destroy(struct vtd_domain *d)
{
	if (!d || !d->top)
		return;
	free_level(d, d->top, d->levels);
	d->top = NULL;
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
	struct walk w = { .d = d, .flags = flags, .hpa_delta = hpa - iova };
	int rc = map_level(&w, d->top, d->levels, iova, iova + len);
	if (rc) {
		/* Leaves go in in address order: [iova, cursor) held nothing before. */
		struct walk u = { .d = d };
		if (w.cursor > iova)
			(void)unmap_level(&u, d->top, d->levels, iova, w.cursor);
		return rc;
	}
	/* 6.1: with CM=1, not-present -> present entries may be cached. */
	return sync_unit(d, iova, len, d->unit->caps.cm);
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
	struct walk w = { .d = d };
	int rc = unmap_level(&w, d->top, d->levels, iova, iova + len);
	if (res)
		*res = w.res;
	int src = w.res.leaves ? sync_unit(d, iova, len, true) : 0;
	return rc ? rc : src;
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

static int map_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		     uint64_t end)
{
	struct vtd_domain *d = w->d;
	uint64_t size = level_size(level);
	unsigned first = level_index(iova, level), last = first;
	int rc = 0;
	while (iova < end) {
		unsigned i = level_index(iova, level);
		uint64_t next = (iova | (size - 1)) + 1;   /* start of the next entry's span */
		uint64_t stop = next < end ? next : end;   /* no wrap: IOVAs are < 2^57 */
		uint64_t pte = t[i];
		last = i;
		if (level == 1 || (stop - iova == size && !((iova + w->hpa_delta) & (size - 1)) &&
				   superpage_ok(d, level, w->flags))) {
			if (present(pte)) {
				rc = -PORT_EEXIST;
				break;
			}
			t[i] = leaf_pte(d, iova + w->hpa_delta, level, w->flags);
			w->cursor = stop;
		} else {
			if (present(pte) && is_leaf(pte, level)) {
				rc = -PORT_EEXIST;
				break;
			}
			bool fresh = !present(pte);
			if (fresh) {
				uint64_t *child = table_alloc(d);
				if (!child) {
					rc = -PORT_ENOMEM;
					break;
				}
				/* 9.8: a non-leaf entry grants R/W; the leaf decides. */
				t[i] = port_virt_to_phys(child) | VTD_SLPTE_R | VTD_SLPTE_W;
				pte = t[i];
			}
			rc = map_level(w, table_of(pte), level - 1, iova, stop);
			if (rc) {
				/* A table made for this call that got no leaf before the
				 * failure is not reached by the caller's undo: drop it. */
				if (fresh && table_empty(table_of(pte), 0)) {
					t[i] = 0;
					table_free(d, table_of(pte), NULL);
				}
				break;
			}
		}
		iova = next;
	}
	flush(d, &t[first], (last - first + 1) * sizeof(uint64_t));
	return rc;
}

static int unmap_level(struct walk *w, uint64_t *t, unsigned level, uint64_t iova,
		       uint64_t end)
{
	struct vtd_domain *d = w->d;
	uint64_t size = level_size(level);
	unsigned first = level_index(iova, level), last = first;
	int rc = 0;
	while (iova < end) {
		unsigned i = level_index(iova, level);
		uint64_t next = (iova | (size - 1)) + 1;
		uint64_t stop = next < end ? next : end;
		bool whole = stop - iova == size;
		uint64_t pte = t[i];
		last = i;
		if (present(pte) && is_leaf(pte, level) && !whole) {
			/* Split a superpage partly inside the range into the next size down. */
			uint64_t *child = table_alloc(d);
			if (!child) {
				rc = -PORT_ENOMEM;
				break;
			}
			uint64_t base = pte & VTD_SLPTE_ADDR_MASK & ~(size - 1);
			uint64_t keep = pte & ~VTD_SLPTE_ADDR_MASK & ~VTD_SLPTE_PS;
			uint64_t csize = level_size(level - 1);
			for (unsigned j = 0; j < ENTRIES; j++)
				child[j] = (base + j * csize) | keep | (level - 1 > 1 ? VTD_SLPTE_PS : 0);
			flush(d, child, PAGE);
			t[i] = port_virt_to_phys(child) | VTD_SLPTE_R | VTD_SLPTE_W;
			pte = t[i];
		}
		if (present(pte)) {
			if (is_leaf(pte, level)) {
				t[i] = 0;
				w->res.bytes += size;
				w->res.leaves++;
			} else {
				uint64_t *child = table_of(pte);
				rc = unmap_level(w, child, level - 1, iova, stop);
				/* A fully covered child is empty now; else look. */
				if ((whole && !rc) ||
				    table_empty(child, level_index(stop - 1, level - 1) + 1)) {
					t[i] = 0;
					table_free(d, child, w);
				}
				if (rc)
					break;
			}
		}
		iova = next;
	}
	flush(d, &t[first], (last - first + 1) * sizeof(uint64_t));
	return rc;
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

static void free_level(struct vtd_domain *d, uint64_t *t, unsigned level)
{
	if (level > 1)
		for (unsigned i = 0; i < ENTRIES; i++)
			if (present(t[i]) && !is_leaf(t[i], level))
				free_level(d, table_of(t[i]), level - 1);
	table_free(d, t, NULL);
}

static uint64_t *table_alloc(struct vtd_domain *d)
{
	uint64_t *t = port_page_alloc();
	if (t) {
		d->table_pages++;
		flush(d, t, PAGE);
	}
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

/* 9.8 / 11.4.2 SLLPS: bit 0 = 2 MiB leaves at level 2, bit 1 = 1 GiB at level 3. */
static bool superpage_ok(const struct vtd_domain *d, unsigned level, unsigned flags)
{
	if (flags & VTD_MAP_NO_SUPER)
		return false;
	return (level == 2 && (d->sllps & 1)) || (level == 3 && (d->sllps & 2));
}

static uint64_t leaf_pte(const struct vtd_domain *d, uint64_t hpa, unsigned level,
			 unsigned flags)
{
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
	if (!u->root)
		return 0;   /* unit not enabled: nothing cached */
	int rc = vtd_unit_flush_write_buffer(u);
	if (!rc && always)
		rc = vtd_unit_inv_range(u, d->did, iova, len);
	return rc;
}
