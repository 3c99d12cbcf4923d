/* ept.c — EPT table management; formats and contract in ept.h. */
#include "vmm_glue/core/ept.h"

#include "port.h"
#include "vmm_glue/vmx/vmx_caps.h"

#define SZ_4K 0x1000ull

bool ept_entry_misconfigured(uint64_t e, unsigned level, uint64_t caps)
{
	if (!ept_entry_present(e))
		return false;
	if ((e & EPT_W) && !(e & EPT_R))
		return true;
	if ((e & EPT_RWX) == EPT_X && !(caps & EPT_CAP_EXEC_ONLY))
		return true;
	if (level == 4 && (e & EPT_PAGE_SIZE))
		return true;
	if (level == 3 && (e & EPT_PAGE_SIZE) && !(caps & EPT_CAP_1G))
		return true;
	if (level == 2 && (e & EPT_PAGE_SIZE) && !(caps & EPT_CAP_2M))
		return true;
	if (ept_entry_is_leaf(e, level)) {
		unsigned mt = ept_entry_memtype(e);
		if (mt == 2 || mt == 3 || mt == 7)
			return true;
	}
	return false;
}

int ept_init(struct ept *ept, uint64_t caps)
{
	return ept_init_fmt(ept, caps, EPT_FMT_EPT);
}

int ept_init_fmt(struct ept *ept, uint64_t caps, enum ept_format fmt)
{
	*ept = (struct ept){ .fmt = fmt };
	ept->pml4 = port_page_alloc();
	if (!ept->pml4)
		return -PORT_ENOMEM;
	ept->pml4_pa = port_virt_to_phys(ept->pml4);
	ept->caps = caps;
	ept->tables = 1;
	return 0;
}

static void free_table(struct ept *ept, uint64_t *table, unsigned level)
{
	if (level > 1)
		for (unsigned i = 0; i < 512; i++)
			if (ept_entry_present(table[i]) && !ept_entry_is_leaf(table[i], level))
				free_table(ept, port_phys_to_virt(ept_entry_addr(table[i])), level - 1);
	port_page_free(table);
	ept->tables--;
}

/* A subtree cut out of the map: the CPU (EPT/NPT TLB, paging-structure
 * caches) and a VT-d unit sharing the tables may still walk it until the
 * caller's flush, so its pages are freed only by ept_reclaim() after that
 * (SDM Vol. 3C §28.4.3.1: a table may be reused only after INVEPT; APM
 * §15.16 for the nested TLB). */
static int retire_table(struct ept *ept, uint64_t *table, unsigned level)
{
	if (ept->nr_stale == EPT_STALE_MAX)
		return -PORT_ENOSPC;
	ept->stale[ept->nr_stale].table = table;
	ept->stale[ept->nr_stale].level = level;
	ept->nr_stale++;
	return 0;
}

void ept_reclaim(struct ept *ept)
{
	for (unsigned i = 0; i < ept->nr_stale; i++)
		free_table(ept, ept->stale[i].table, ept->stale[i].level);
	ept->nr_stale = 0;
}

void ept_destroy(struct ept *ept)
{
	ept_reclaim(ept);
	if (ept->pml4)
		free_table(ept, ept->pml4, 4);
	ept->pml4 = NULL;
	ept->pml4_pa = 0;
}

/* The table below entry *e (at `level`), creating it -- or splitting a leaf
 * there into 512 leaves of the next size with the same attributes. */
static uint64_t *next_table(struct ept *ept, uint64_t *e, unsigned level)
{
	if (ept_entry_present(*e) && !ept_entry_is_leaf(*e, level))
		return port_phys_to_virt(ept_entry_addr(*e));
	uint64_t *t = port_page_alloc();
	if (!t)
		return NULL;
	ept->tables++;
	if (ept_entry_present(*e)) {
		uint64_t step = EPT_LEVEL_SIZE(level - 1);
		uint64_t attrs = *e & ~EPT_ADDR_MASK & ~(level - 1 == 1 ? EPT_PAGE_SIZE : 0);
		for (unsigned i = 0; i < 512; i++)
			t[i] = (ept_entry_addr(*e) + i * step) | attrs;
	}
	*e = ept_table_entry(port_virt_to_phys(t));
	return t;
}

static bool level_allowed(const struct ept *ept, unsigned level)
{
	return level == 1 || (level == 2 && (ept->caps & EPT_CAP_2M)) ||
	       (level == 3 && (ept->caps & EPT_CAP_1G));
}

/* Write `leaf(addr)` for one page of the largest allowed size at gpa;
 * returns the bytes covered or a negative error.  `max_level` caps it. */
static int64_t set_one(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t left,
		       uint64_t leaf_bits, bool is_map, unsigned max_level)
{
	unsigned want = 1;
	for (unsigned l = max_level; l > 1; l--) {
		uint64_t sz = EPT_LEVEL_SIZE(l);
		if (level_allowed(ept, l) && !(gpa & (sz - 1)) && (!is_map || !(hpa & (sz - 1))) && left >= sz) {
			want = l;
			break;
		}
	}
	uint64_t *table = ept->pml4;
	for (unsigned l = 4; l > want; l--) {
		uint64_t *e = &table[EPT_INDEX(gpa, l)];
		if (!is_map && leaf_bits == 0 && !ept_entry_present(*e)) {
			/* Unmapping where nothing is mapped: skip to the end of
			 * this entry's range without building tables. */
			uint64_t end = (gpa | (EPT_LEVEL_SIZE(l) - 1)) + 1;
			return (int64_t)(end - gpa < left ? end - gpa : left);
		}
		table = next_table(ept, e, l);
		if (!table)
			return -PORT_ENOMEM;
	}
	uint64_t *e = &table[EPT_INDEX(gpa, want)];
	if (ept_entry_present(*e) && !ept_entry_is_leaf(*e, want)) {
		int rc = retire_table(ept, port_phys_to_virt(ept_entry_addr(*e)), want - 1);
		if (rc)
			return rc;
	}
	if (is_map)
		*e = (hpa & EPT_ADDR_MASK) | leaf_bits | (want > 1 ? EPT_PAGE_SIZE : 0);
	else
		*e = leaf_bits;
	return (int64_t)EPT_LEVEL_SIZE(want);
}

static int apply(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t bits,
		 bool is_map, unsigned max_level)
{
	if ((gpa | hpa | size) & (SZ_4K - 1) || size == 0 || gpa + size < gpa ||
	    ((gpa + size - 1) >> 48) != 0)
		return -PORT_EINVAL;
	while (size) {
		int64_t done = set_one(ept, gpa, hpa, size, bits, is_map, max_level);
		if (done < 0)
			return (int)done;
		gpa += (uint64_t)done;
		hpa += (uint64_t)done;
		size -= (uint64_t)done;
	}
	return 0;
}

/* A leaf's bits besides the address and page size, in the map's format. */
static int format_leaf(const struct ept *ept, uint64_t perms, unsigned memtype, uint64_t *bits)
{
	if (!(perms & EPT_RWX) || memtype == 2 || memtype == 3 || memtype > 6)
		return -PORT_EINVAL;
	if (ept->fmt == EPT_FMT_EPT) {
		*bits = (perms & (EPT_RWX | EPT_RAM)) | ((uint64_t)memtype << EPT_MT_SHIFT);
		return 0;
	}
	/* NPT (APM §5.4.1): present = readable, so no write- or execute-only;
	 * the memory type through PWT/PCD with the host's default PAT.  NX is
	 * not written: the walk checks it against the host's EFER.NXE
	 * (§15.25.5), and with NXE off bit 63 is reserved (a #NPF on every
	 * access), so every NPT leaf is executable. */
	if (!(perms & EPT_R) || (memtype != EPT_MT_WB && memtype != EPT_MT_UC && memtype != EPT_MT_WT))
		return -PORT_EINVAL;
	*bits = (perms & (EPT_R | EPT_W | EPT_RAM)) | NPT_US |
		(memtype == EPT_MT_UC ? NPT_PCD | NPT_PWT : memtype == EPT_MT_WT ? NPT_PWT : 0);
	return 0;
}

int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
	uint64_t bits;
	int rc = format_leaf(ept, perms, memtype, &bits);
	return rc ? rc : apply(ept, gpa, hpa, size, bits, true, 3);
}

int ept_unmap(struct ept *ept, uint64_t gpa, uint64_t size)
{
	return apply(ept, gpa, 0, size, 0, false, 3);
}

int ept_set_raw_4k(struct ept *ept, uint64_t gpa, uint64_t raw)
{
	return apply(ept, gpa, 0, SZ_4K, raw, false, 1);
}

int ept_lookup(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *entry, unsigned *level)
{
	const uint64_t *table = ept->pml4;
	for (unsigned l = 4; l >= 1; l--) {
		uint64_t e = table[EPT_INDEX(gpa, l)];
		if (!ept_entry_present(e))
			return -PORT_ENOENT;
		if (ept_entry_is_leaf(e, l)) {
			if (hpa)
				*hpa = ept_entry_addr(e) + (gpa & (EPT_LEVEL_SIZE(l) - 1));
			if (entry)
				*entry = e;
			if (level)
				*level = l;
			return 0;
		}
		table = port_phys_to_virt(ept_entry_addr(e));
	}
	return -PORT_ENOENT;
}

static int visit(const uint64_t *table, unsigned level, uint64_t base, ept_leaf_fn fn, void *ctx)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = table[i];
		uint64_t gpa = base + i * EPT_LEVEL_SIZE(level);
		int rc = 0;
		if (!ept_entry_present(e))
			continue;
		if (ept_entry_is_leaf(e, level))
			rc = fn(ctx, gpa, e, level);
		else
			rc = visit(port_phys_to_virt(ept_entry_addr(e)), level - 1, gpa, fn, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int ept_for_each_leaf(const struct ept *ept, ept_leaf_fn fn, void *ctx)
{
	return visit(ept->pml4, 4, 0, fn, ctx);
}
