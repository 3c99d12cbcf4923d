/*
 * ir_table.h — the interrupt-remapping table of one VT-d unit: memory,
 * index allocation, bring-up, and changing entries the hardware may be
 * using (VT-d spec rev 4.x).
 *
 *   11.4.12  IRTA_REG: table address, EIME (x2APIC destinations), S (the
 *            table holds 2^(S+1) entries, 16 bytes each, physically
 *            contiguous, 4 KiB aligned)
 *   11.4.4   GCMD.SIRTP / GSTS.IRTPS, GCMD.IRE, GCMD.CFI
 *   6.5.2.7  interrupt entry cache (IEC) invalidation: global, or 2^IM
 *            entries from an index; a queued-invalidation descriptor only,
 *            so interrupt remapping needs ECAP.QI
 *   5.1.2.2  multi-message MSI: one handle + subhandle, hence the aligned
 *            power-of-two blocks ir_alloc hands out
 *
 * Typical use:
 *     struct ir_table t;
 *     ir_table_init(&t, 256, IR_TABLE_X2APIC);
 *     ir_table_enable(&t, &unit);        // IRTA, SIRTP, global IEC, CFI off, IRE
 *     ir_alloc(&t, 4, &base);            // a block for a 4-message MSI
 *     ir_table_set(&t, base, &irte);     // atomic store + index IEC invalidation
 *     ...
 *     ir_table_disable(&t); ir_table_fini(&t);
 */
#ifndef VFS_IRQ_REMAP_IR_TABLE_H
#define VFS_IRQ_REMAP_IR_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "irq_remap/irte.h"

struct vtd_unit;

#define IR_TABLE_MAX_ENTRIES 65536u   /* S = 15 */
#define IR_TABLE_MIN_ENTRIES 2u       /* S = 0 */

/* ir_table_init flags */
#define IR_TABLE_X2APIC (1u << 0)     /* IRTA.EIME: 32-bit (x2APIC) destinations */
#define IR_TABLE_ALLOW_CFI (1u << 1)  /* let compatibility-format interrupts
					 through (GCMD.CFI = 1); blocked otherwise */

struct ir_table {
	struct irte *entries;   /* 2^(s+1) entries, physically contiguous */
	uint64_t phys;          /* their physical address (IRTA) */
	unsigned s;             /* IRTA.S */
	unsigned n_entries;
	unsigned n_pages;
	bool eim;               /* IRTA.EIME */
	bool allow_cfi;
	uint64_t *used;         /* allocation bitmap, one bit per entry */
	unsigned used_pages;
	unsigned n_used;
	struct vtd_unit *unit;  /* the unit it is enabled on, or NULL */
};

/* Allocate a zeroed table of n_entries (a power of two, 2..65536).
 * -PORT_EINVAL for another size; -PORT_ENOMEM when the pages cannot be had
 * (or, above 256 entries, are not physically contiguous). */
int ir_table_init(struct ir_table *t, unsigned n_entries, unsigned flags);
/* Turn remapping off if it is on (IRE), then free the table.  If IRE
 * cannot be turned off the memory is left allocated (logged). */
void ir_table_fini(struct ir_table *t);

/* Point unit u at the table and turn remapping on: IRTA (11.4.12), SIRTP,
 * a global IEC invalidation, CFI per the flags, then IRE.  Enables queued
 * invalidation if it is not on.  -PORT_EBUSY if the table is already
 * enabled; -PORT_ENODEV without ECAP.IR,
 * -PORT_ENOTSUP without ECAP.QI, or x2APIC mode without ECAP.EIM. */
int ir_table_enable(struct ir_table *t, struct vtd_unit *u);
/* IRE off.  The table stays allocated, its entries untouched. */
int ir_table_disable(struct ir_table *t);

/* Reserve count entries (a power of two), aligned to count; *base gets
 * the first index.  -PORT_ENOSPC when no such block is free: the caller
 * must not fall back to compatibility format. */
int ir_alloc(struct ir_table *t, unsigned count, uint16_t *base);
/* Return a block: its entries are made not present and invalidated.
 * -PORT_EINVAL if any of them was not allocated. */
int ir_free(struct ir_table *t, uint16_t base, unsigned count);
bool ir_is_allocated(const struct ir_table *t, uint16_t index);

/* Store one entry (irte_store: atomic on a live entry) and flush it from
 * the CPU caches when the unit does not snoop (ECAP.C = 0).  No
 * invalidation; -PORT_ERANGE for an index outside the table. */
int ir_table_write(struct ir_table *t, uint16_t index, const struct irte *e);
/* IEC invalidation (6.5.2.7) of count entries from index (count a power of
 * two, index aligned to it), or of everything when count is 0.  A no-op
 * while the table is not enabled on a unit. */
int ir_table_invalidate(struct ir_table *t, uint16_t index, unsigned count);
/* ir_table_write + ir_table_invalidate of that one entry. */
int ir_table_set(struct ir_table *t, uint16_t index, const struct irte *e);
int ir_table_clear(struct ir_table *t, uint16_t index);

/* The entry as the hardware would read it (NULL outside the table). */
const struct irte *ir_table_entry(const struct ir_table *t, uint16_t index);

#endif /* VFS_IRQ_REMAP_IR_TABLE_H */
