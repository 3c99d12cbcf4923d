/* ir_table.c — IR table memory, allocator, bring-up and IEC invalidation
 * (VT-d 11.4.12, 11.4.4, 6.5.2.7). */
#include "irq_remap/ir_table.h"

#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "port.h"

#define IRTES_PER_PAGE (PORT_PAGE_SIZE / sizeof(struct irte))
#define BITS_PER_PAGE (PORT_PAGE_SIZE * 8u)

static bool coherent(const struct ir_table *t);
static bool block_free(const struct ir_table *t, unsigned base, unsigned count);
static unsigned log2_of(unsigned v);
static bool is_pow2(unsigned v);
static bool bit_test(const uint64_t *map, unsigned i);
static void bit_assign(uint64_t *map, unsigned i, bool v);

int ir_table_init(struct ir_table *t, unsigned n_entries, unsigned flags)
{
	*t = (struct ir_table){ 0 };
	if (!is_pow2(n_entries) || n_entries < IR_TABLE_MIN_ENTRIES ||
	    n_entries > IR_TABLE_MAX_ENTRIES) {
		port_log("ir: table size %u is not a power of two in 2..65536", n_entries);
		return -PORT_EINVAL;
	}
	t->n_entries = n_entries;
	t->s = log2_of(n_entries) - 1;
	t->n_pages = (n_entries + IRTES_PER_PAGE - 1) / IRTES_PER_PAGE;
	t->eim = flags & IR_TABLE_X2APIC;
	t->allow_cfi = flags & IR_TABLE_ALLOW_CFI;
	t->entries = port_pages_alloc(t->n_pages);
	if (!t->entries) {
		port_log("ir: cannot get %u physically contiguous pages for %u IRTEs",
			 t->n_pages, n_entries);
		return -PORT_ENOMEM;
	}
	t->phys = port_virt_to_phys(t->entries);
	t->used_pages = (n_entries + BITS_PER_PAGE - 1) / BITS_PER_PAGE;
	t->used = port_pages_alloc(t->used_pages);
	if (!t->used) {
		port_pages_free(t->entries, t->n_pages);
		t->entries = NULL;
		return -PORT_ENOMEM;
	}
	return 0;
}

void ir_table_fini(struct ir_table *t)
{
	/* Never free memory the hardware may still walk. */
	if (t->unit && ir_table_disable(t)) {
		port_log("ir: table at %llx left allocated: IRE could not be turned off",
			 (unsigned long long)t->phys);
		return;
	}
	if (t->entries)
		port_pages_free(t->entries, t->n_pages);
	if (t->used)
		port_pages_free(t->used, t->used_pages);
	*t = (struct ir_table){ 0 };
}

int ir_table_enable(struct ir_table *t, struct vtd_unit *u)
{
	if (t->unit || !t->entries)
		return t->unit ? -PORT_EBUSY : -PORT_EINVAL;
	if (!u->caps.ir) {
		port_log("ir: unit %llx has no interrupt remapping (ECAP.IR = 0)",
			 (unsigned long long)u->reg_base);
		return -PORT_ENODEV;
	}
	if (!u->caps.qi) {
		port_log("ir: unit %llx has no queued invalidation (ECAP.QI = 0); IEC cannot be invalidated",
			 (unsigned long long)u->reg_base);
		return -PORT_ENOTSUP;
	}
	if (t->eim && !u->caps.eim) {
		port_log("ir: unit %llx has no x2APIC mode (ECAP.EIM = 0)", (unsigned long long)u->reg_base);
		return -PORT_ENOTSUP;
	}
	int rc = u->qi_on ? 0 : vtd_unit_qi_enable(u);
	if (rc)
		return rc;
	/* Remapping left on (firmware, a previous kernel) through another
	 * table: off before the pointer changes. */
	if (port_mmio_read32(u->reg_base + VTD_REG_GSTS) & VTD_GSTS_IRES) {
		port_log("ir: unit %llx had interrupt remapping on; turning it off to install our table",
			 (unsigned long long)u->reg_base);
		rc = vtd_unit_gcmd(u, VTD_GCMD_IRE, false);
		if (rc)
			return rc;
	}
	if (!u->caps.c)
		port_cache_flush(t->entries, (size_t)t->n_entries * sizeof(struct irte));
	/* 11.4.12: IRTA = address | EIME | S; 11.4.4: latch it with SIRTP. */
	uint64_t irta = (t->phys & VTD_IRTA_ADDR_MASK) | VTD_IRTA_S(t->s);
	if (t->eim)
		irta |= VTD_IRTA_EIME;
	port_mmio_write64(u->reg_base + VTD_REG_IRTA, irta);
	rc = vtd_unit_gcmd(u, VTD_GCMD_SIRTP, true);
	/* 6.5.2.7: after a new table pointer, invalidate the whole IEC. */
	if (!rc)
		rc = vtd_unit_inv_iec(u, true, 0, 0);
	/* Compatibility-format interrupts bypass remapping: off unless asked. */
	if (!rc)
		rc = vtd_unit_gcmd(u, VTD_GCMD_CFI, t->allow_cfi);
	if (!rc)
		rc = vtd_unit_gcmd(u, VTD_GCMD_IRE, true);
	if (rc) {
		port_log("ir: enabling interrupt remapping on unit %llx failed (%d)",
			 (unsigned long long)u->reg_base, rc);
		return rc;
	}
	t->unit = u;
	port_log("ir: unit %llx remaps through %u IRTEs at %llx (%s, compatibility format %s)",
		 (unsigned long long)u->reg_base, t->n_entries, (unsigned long long)t->phys,
		 t->eim ? "x2APIC" : "xAPIC", t->allow_cfi ? "allowed" : "blocked");
	return 0;
}

int ir_table_disable(struct ir_table *t)
{
	if (!t->unit)
		return 0;
	int rc = vtd_unit_gcmd(t->unit, VTD_GCMD_IRE, false);
	if (!rc)
		t->unit = NULL;
	return rc;
}

int ir_alloc(struct ir_table *t, unsigned count, uint16_t *base)
{
	if (!is_pow2(count) || count > t->n_entries)
		return -PORT_EINVAL;
	for (unsigned b = 0; b < t->n_entries; b += count) {
		if (!block_free(t, b, count))
			continue;
		for (unsigned i = b; i < b + count; i++)
			bit_assign(t->used, i, true);
		t->n_used += count;
		*base = (uint16_t)b;
		return 0;
	}
	port_log("ir: no free aligned block of %u IRTEs (%u of %u in use)", count, t->n_used,
		 t->n_entries);
	return -PORT_ENOSPC;
}

int ir_free(struct ir_table *t, uint16_t base, unsigned count)
{
	if (!is_pow2(count) || base % count || (unsigned)base + count > t->n_entries)
		return -PORT_EINVAL;
	for (unsigned i = base; i < base + count; i++)
		if (!bit_test(t->used, i))
			return -PORT_EINVAL;
	static const struct irte not_present;
	int rc = 0;
	for (unsigned i = base; i < base + count; i++) {
		int r = ir_table_write(t, (uint16_t)i, &not_present);
		if (r && !rc)
			rc = r;
		bit_assign(t->used, i, false);
	}
	t->n_used -= count;
	int r = ir_table_invalidate(t, base, count);
	return rc ? rc : r;
}

bool ir_is_allocated(const struct ir_table *t, uint16_t index)
{
	return index < t->n_entries && bit_test(t->used, index);
}

int ir_table_write(struct ir_table *t, uint16_t index, const struct irte *e)
{
	if (index >= t->n_entries)
		return -PORT_ERANGE;
	struct irte *slot = &t->entries[index];
	int rc = irte_store(slot, e);
	if (!rc && !coherent(t))
		port_cache_flush(slot, sizeof(*slot));
	return rc;
}

int ir_table_invalidate(struct ir_table *t, uint16_t index, unsigned count)
{
	if (count && (!is_pow2(count) || index % count || (unsigned)index + count > t->n_entries))
		return -PORT_EINVAL;
	if (!t->unit)
		return 0;
	return vtd_unit_inv_iec(t->unit, count == 0, index, count ? log2_of(count) : 0);
}

int ir_table_set(struct ir_table *t, uint16_t index, const struct irte *e)
{
	int rc = ir_table_write(t, index, e);
	return rc ? rc : ir_table_invalidate(t, index, 1);
}

int ir_table_clear(struct ir_table *t, uint16_t index)
{
	static const struct irte not_present;
	return ir_table_set(t, index, &not_present);
}

const struct irte *ir_table_entry(const struct ir_table *t, uint16_t index)
{
	return index < t->n_entries ? &t->entries[index] : NULL;
}

/* --- helpers -------------------------------------------------------------- */

static bool coherent(const struct ir_table *t)
{
	return t->unit && t->unit->caps.c;
}

static bool block_free(const struct ir_table *t, unsigned base, unsigned count)
{
	for (unsigned i = base; i < base + count; i++)
		if (bit_test(t->used, i))
			return false;
	return true;
}

static unsigned log2_of(unsigned v)
{
	unsigned l = 0;
	while ((1u << l) < v)
		l++;
	return l;
}

static bool is_pow2(unsigned v) { return v && !(v & (v - 1)); }

static bool bit_test(const uint64_t *map, unsigned i) { return (map[i / 64] >> (i % 64)) & 1; }

static void bit_assign(uint64_t *map, unsigned i, bool v)
{
	if (v)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}
