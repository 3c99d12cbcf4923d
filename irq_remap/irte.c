/* irte.c — IRTE formats (VT-d 9.10, 9.11) and the atomic store. */
#include "irq_remap/irte.h"

#include "port.h"

static bool delivery_mode_valid(uint8_t dlm);
static int source_encode(const struct irte_source *s, uint64_t *hi);
static void source_decode(uint64_t hi, struct irte_source *s);
static bool cmpxchg128(struct irte *slot, struct irte *expect, const struct irte *val);

int irte_compose_remapped(const struct irte_remapped *f, bool eim, struct irte *out)
{
	if (!delivery_mode_valid(f->delivery))
		return -PORT_EINVAL;
	if (!eim && f->dest > 0xff)
		return -PORT_ERANGE;
	uint64_t hi;
	int rc = source_encode(&f->source, &hi);
	if (rc)
		return rc;
	uint64_t dst = eim ? f->dest : (uint64_t)f->dest << IRTE_DST_XAPIC_SHIFT;
	uint64_t lo = IRTE_LO_P;
	if (f->fpd)
		lo |= IRTE_LO_FPD;
	if (f->dest_logical)
		lo |= IRTE_LO_DM;
	if (f->redir_hint)
		lo |= IRTE_LO_RH;
	if (f->level)
		lo |= IRTE_LO_TM;
	lo |= (uint64_t)f->delivery << IRTE_LO_DLM_SHIFT;
	lo |= (uint64_t)f->vector << IRTE_LO_VECTOR_SHIFT;
	lo |= dst << IRTE_LO_DST_SHIFT;
	out->lo = lo;
	out->hi = hi;
	return 0;
}

int irte_compose_posted(const struct irte_posted *f, struct irte *out)
{
	/* 9.11: the descriptor is 64-byte aligned; PDA holds bits [63:6]. */
	if (f->pda == 0 || (f->pda & 0x3f))
		return -PORT_EINVAL;
	uint64_t hi;
	int rc = source_encode(&f->source, &hi);
	if (rc)
		return rc;
	uint64_t lo = IRTE_LO_P | IRTE_LO_IM;
	if (f->fpd)
		lo |= IRTE_LO_FPD;
	if (f->urgent)
		lo |= IRTE_LO_URG;
	lo |= (uint64_t)f->vector << IRTE_LO_VECTOR_SHIFT;
	lo |= ((f->pda >> 6) << IRTE_LO_PDA_LO_SHIFT) & IRTE_LO_PDA_LO_MASK;
	hi |= (f->pda >> 32) << IRTE_HI_PDA_HI_SHIFT;
	out->lo = lo;
	out->hi = hi;
	return 0;
}

int irte_decode_remapped(const struct irte *e, bool eim, struct irte_remapped *out)
{
	if (irte_is_posted(e))
		return -PORT_EINVAL;
	uint64_t dst = (e->lo & IRTE_LO_DST_MASK) >> IRTE_LO_DST_SHIFT;
	out->fpd = e->lo & IRTE_LO_FPD;
	out->dest_logical = e->lo & IRTE_LO_DM;
	out->redir_hint = e->lo & IRTE_LO_RH;
	out->level = e->lo & IRTE_LO_TM;
	out->delivery = (uint8_t)((e->lo & IRTE_LO_DLM_MASK) >> IRTE_LO_DLM_SHIFT);
	out->vector = irte_vector(e);
	out->dest = eim ? (uint32_t)dst : (uint32_t)((dst >> IRTE_DST_XAPIC_SHIFT) & 0xff);
	source_decode(e->hi, &out->source);
	return 0;
}

int irte_decode_posted(const struct irte *e, struct irte_posted *out)
{
	if (!irte_is_posted(e))
		return -PORT_EINVAL;
	out->fpd = e->lo & IRTE_LO_FPD;
	out->urgent = e->lo & IRTE_LO_URG;
	out->vector = irte_vector(e);
	out->pda = (((e->lo & IRTE_LO_PDA_LO_MASK) >> IRTE_LO_PDA_LO_SHIFT) << 6) |
		   ((e->hi >> IRTE_HI_PDA_HI_SHIFT) << 32);
	source_decode(e->hi, &out->source);
	return 0;
}

bool irte_reserved_bits_set(const struct irte *e, bool eim)
{
	if (irte_is_posted(e))
		return (e->lo & IRTE_LO_POSTED_RSVD) || (e->hi & IRTE_HI_POSTED_RSVD) ||
		       ((e->hi & IRTE_HI_SVT_MASK) >> IRTE_HI_SVT_SHIFT) == 3;
	if ((e->lo & IRTE_LO_REMAP_RSVD) || (e->hi & IRTE_HI_REMAP_RSVD))
		return true;
	if (!eim && (e->lo & IRTE_LO_XAPIC_RSVD))
		return true;
	/* 9.10: SVT 11b is reserved. */
	return ((e->hi & IRTE_HI_SVT_MASK) >> IRTE_HI_SVT_SHIFT) == 3;
}

bool irte_source_allows(const struct irte *e, uint16_t requester_id)
{
	struct irte_source s;
	source_decode(e->hi, &s);
	switch (s.svt) {
	case IRTE_SVT_NONE:
		return true;
	case IRTE_SVT_SID: {
		/* 9.10 SQ: which function-number bits are not compared. */
		static const uint16_t ignore[4] = { 0x0, 0x4, 0x6, 0x7 };
		uint16_t mask = (uint16_t)~ignore[s.sq];
		return (requester_id & mask) == (s.sid & mask);
	}
	case IRTE_SVT_BUS: {
		uint8_t bus = (uint8_t)(requester_id >> 8);
		return bus >= (uint8_t)(s.sid >> 8) && bus <= (uint8_t)s.sid;
	}
	default:
		return false;
	}
}

int irte_store(struct irte *slot, const struct irte *val)
{
	volatile uint64_t *q = (volatile uint64_t *)slot;
	struct irte old = { q[0], q[1] };
	if (old.lo & IRTE_LO_P) {
		/* Live entry: the hardware must see the old or the new 128 bits,
		 * never a mix (9.10). */
		return cmpxchg128(slot, &old, val) ? 0 : -PORT_EBUSY;
	}
	/* Not present: the hardware ignores it until P is set, so write the
	 * high half, then the low half carrying P. */
	q[1] = val->hi;
	__asm__ __volatile__("" ::: "memory");
	q[0] = val->lo;
	return 0;
}

/* --- helpers -------------------------------------------------------------- */

static bool delivery_mode_valid(uint8_t dlm)
{
	/* 9.10 DLM: 011b and 110b are reserved. */
	return dlm <= 7 && dlm != 3 && dlm != 6;
}

static int source_encode(const struct irte_source *s, uint64_t *hi)
{
	if (s->svt > IRTE_SVT_BUS || s->sq > IRTE_SQ_IGN_210)
		return -PORT_EINVAL;
	*hi = (uint64_t)s->sid | ((uint64_t)s->sq << IRTE_HI_SQ_SHIFT) |
	      ((uint64_t)s->svt << IRTE_HI_SVT_SHIFT);
	return 0;
}

static void source_decode(uint64_t hi, struct irte_source *s)
{
	s->sid = (uint16_t)(hi & IRTE_HI_SID_MASK);
	s->sq = (uint8_t)((hi & IRTE_HI_SQ_MASK) >> IRTE_HI_SQ_SHIFT);
	s->svt = (uint8_t)((hi & IRTE_HI_SVT_MASK) >> IRTE_HI_SVT_SHIFT);
}

/* lock cmpxchg16b: replace *slot with val if it still holds *expect. */
static bool cmpxchg128(struct irte *slot, struct irte *expect, const struct irte *val)
{
	bool ok;
	__asm__ __volatile__("lock cmpxchg16b %1"
			     : "=@ccz"(ok), "+m"(*slot), "+a"(expect->lo), "+d"(expect->hi)
			     : "b"(val->lo), "c"(val->hi)
			     : "memory");
	return ok;
}
