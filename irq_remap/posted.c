/* posted.c — posted-interrupt descriptor operations (VT-d 9.12, 5.2.3). */
#include "irq_remap/posted.h"

#include "port.h"

static uint64_t ndst_field(uint32_t host_apic_id, bool x2apic);
static uint64_t load(const uint64_t *p);
static void control_update(struct pi_desc *pd, uint64_t mask, uint64_t val);

int pi_desc_init(struct pi_desc *pd, uint8_t notify_vector, uint32_t host_apic_id,
		 bool x2apic)
{
	if (!x2apic && host_apic_id > 0xff)
		return -PORT_ERANGE;
	for (unsigned i = 0; i < 4; i++)
		__atomic_store_n(&pd->pir[i], 0, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < 3; i++)
		pd->rsvd[i] = 0;
	__atomic_store_n(&pd->control,
			 ((uint64_t)notify_vector << PI_CTL_NV_SHIFT) | ndst_field(host_apic_id, x2apic),
			 __ATOMIC_SEQ_CST);
	return 0;
}

int pi_set_ndst(struct pi_desc *pd, uint32_t host_apic_id, bool x2apic)
{
	if (!x2apic && host_apic_id > 0xff)
		return -PORT_ERANGE;
	control_update(pd, PI_CTL_NDST_MASK, ndst_field(host_apic_id, x2apic));
	return 0;
}

void pi_set_nv(struct pi_desc *pd, uint8_t notify_vector)
{
	control_update(pd, PI_CTL_NV_MASK, (uint64_t)notify_vector << PI_CTL_NV_SHIFT);
}

uint32_t pi_ndst(const struct pi_desc *pd, bool x2apic)
{
	uint32_t ndst = (uint32_t)(load(&pd->control) >> PI_CTL_NDST_SHIFT);
	return x2apic ? ndst : (ndst >> PI_NDST_XAPIC_SHIFT) & 0xff;
}

uint8_t pi_nv(const struct pi_desc *pd)
{
	return (uint8_t)((load(&pd->control) & PI_CTL_NV_MASK) >> PI_CTL_NV_SHIFT);
}

bool pi_post(struct pi_desc *pd, uint8_t virt_vector)
{
	__atomic_fetch_or(&pd->pir[virt_vector / 64], 1ull << (virt_vector % 64), __ATOMIC_SEQ_CST);
	uint64_t old = load(&pd->control);
	for (;;) {
		if (old & (PI_CTL_ON | PI_CTL_SN))
			return false;
		if (__atomic_compare_exchange_n(&pd->control, &old, old | PI_CTL_ON, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return true;
	}
}

bool pi_is_pending(const struct pi_desc *pd, uint8_t virt_vector)
{
	return (load(&pd->pir[virt_vector / 64]) >> (virt_vector % 64)) & 1;
}

bool pi_on(const struct pi_desc *pd) { return load(&pd->control) & PI_CTL_ON; }
bool pi_sn(const struct pi_desc *pd) { return load(&pd->control) & PI_CTL_SN; }

bool pi_test_and_clear_on(struct pi_desc *pd)
{
	return __atomic_fetch_and(&pd->control, ~PI_CTL_ON, __ATOMIC_SEQ_CST) & PI_CTL_ON;
}

unsigned pi_harvest(struct pi_desc *pd, uint64_t pending[4])
{
	unsigned n = 0;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t w = __atomic_exchange_n(&pd->pir[i], 0, __ATOMIC_SEQ_CST);
		pending[i] |= w;
		for (; w; w &= w - 1)
			n++;
	}
	return n;
}

void pi_suppress(struct pi_desc *pd)
{
	__atomic_fetch_or(&pd->control, PI_CTL_SN, __ATOMIC_SEQ_CST);
}

bool pi_unsuppress(struct pi_desc *pd)
{
	__atomic_fetch_and(&pd->control, ~PI_CTL_SN, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < 4; i++)
		if (load(&pd->pir[i]))
			return true;
	return false;
}

/* --- helpers -------------------------------------------------------------- */

static uint64_t ndst_field(uint32_t host_apic_id, bool x2apic)
{
	uint64_t ndst = x2apic ? host_apic_id : (uint64_t)host_apic_id << PI_NDST_XAPIC_SHIFT;
	return ndst << PI_CTL_NDST_SHIFT;
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* Replace the bits in mask of the control word with val, atomically. */
static void control_update(struct pi_desc *pd, uint64_t mask, uint64_t val)
{
	uint64_t old = load(&pd->control);
	while (!__atomic_compare_exchange_n(&pd->control, &old, (old & ~mask) | val, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}
