/*
 * msi_state.c — the MSI / MSI-X state machine (see msi_state.h).
 * Register facts: PCI Local Bus 3.0 §6.8.1 (MSI capability), §6.8.2.3
 * (MSI-X Message Control),
 * §6.8.2.6-6.8.2.9 (table entry), §6.8.2.10 (PBA).
 */
#include "vmm_glue/dev/msi_state.h"

#include "pci/pci_cap.h"
#include "port/port.h"

/* Bits of an entry the guest may set (§6.8.2.6-6.8.2.9): address 31:2
 * (DWORD aligned), upper address, data, vector control's mask bit (31:1
 * reserved). */
/* Store a vector's decoded virtual message and effective mask; true (and one
 * more update counted) when either changed since it was last acted on. */
static bool vec_record(struct msi_vec *v, struct msi_msg m, bool masked, uint64_t *updates)
{
	if (v->acted && m.addr_lo == v->virt_msi.addr_lo && m.addr_hi == v->virt_msi.addr_hi &&
	    m.data == v->virt_msi.data && masked == v->virt_masked)
		return false;
	v->virt_msi = m;
	v->virt_masked = masked;
	v->acted = true;
	(*updates)++;
	return true;
}

static const uint32_t entry_writable[4] = { 0xfffffffcu, 0xffffffffu, 0xffffffffu, PCI_MSIX_ENTRY_VCTRL_MASK };

static bool decode(struct msix_state *st, unsigned k);
static void routes_del(struct msix_state *st, unsigned n);

int msix_state_init(struct msix_state *st, unsigned n, const struct msi_route_ops *ops, void *ctx)
{
	if (!st || !ops || !ops->add || !ops->update || !ops->del || !ops->enable || n == 0 || n > MSIX_STATE_MAX)
		return -PORT_EINVAL;
	*st = (struct msix_state){ .ops = ops, .ctx = ctx, .n = n, .virt_ctrl = (uint16_t)(n - 1) };
	for (unsigned k = 0; k < n; k++) {
		st->virt[k][3] = PCI_MSIX_ENTRY_VCTRL_MASK;
		decode(st, k);
	}
	st->updates = 0;
	return 0;
}

uint16_t msix_state_ctrl(const struct msix_state *st)
{
	return st->virt_ctrl;
}

int msix_state_ctrl_write(struct msix_state *st, uint16_t ctrl)
{
	const uint16_t w = PCI_MSIX_CTRL_EN | PCI_MSIX_CTRL_FMASK;
	st->virt_ctrl = (uint16_t)((st->virt_ctrl & ~w) | (ctrl & w));
	bool want = st->virt_ctrl & PCI_MSIX_CTRL_EN;
	if (want && !st->on) {
		/* Every route first, then the function's Enable. */
		int rc = 0;
		unsigned added = 0;
		for (unsigned k = 0; k < st->n && !rc; k++) {
			decode(st, k);
			rc = st->ops->add(st->ctx, k, &st->vec[k].virt_msi, st->vec[k].virt_masked);
			st->route_calls++;
			st->vec[k].last_update = rc;
			added += rc == 0;
		}
		if (!rc)
			rc = st->ops->enable(st->ctx, st->n, true);
		if (rc) {
			routes_del(st, added);
			st->virt_ctrl &= (uint16_t)~PCI_MSIX_CTRL_EN;
			for (unsigned j = 0; j < st->n; j++)
				decode(st, j);
			return rc;
		}
		st->on = true;
		return 0;
	}
	if (!want && st->on) {
		msix_state_off(st);
		return 0;
	}
	/* Function Mask, or nothing, changed: each vector that changed. */
	for (unsigned k = 0; k < st->n; k++)
		if (decode(st, k) && st->on) {
			st->vec[k].last_update = st->ops->update(st->ctx, k, &st->vec[k].virt_msi, st->vec[k].virt_masked);
			st->route_calls++;
		}
	return 0;
}

uint32_t msix_state_read(const struct msix_state *st, unsigned k, unsigned dw)
{
	if (k >= st->n || dw > 3)
		return dw == 3 ? PCI_MSIX_ENTRY_VCTRL_MASK : 0;
	return st->virt[k][dw];
}

void msix_state_write(struct msix_state *st, unsigned k, unsigned dw, const uint32_t *val, unsigned n)
{
	if (k >= st->n || dw > 3 || n == 0 || n > 4 - dw)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint32_t w = entry_writable[dw + i];
		st->virt[k][dw + i] = (st->virt[k][dw + i] & ~w) | (val[i] & w);
	}
	if (decode(st, k) && st->on) {
		st->vec[k].last_update = st->ops->update(st->ctx, k, &st->vec[k].virt_msi, st->vec[k].virt_masked);
		st->route_calls++;
	}
}

bool msix_state_pending(const struct msix_state *st, unsigned k)
{
	return k < st->n && st->on && st->vec[k].virt_masked && st->ops->pending && st->ops->pending(st->ctx, k);
}

void msix_state_off(struct msix_state *st)
{
	st->virt_ctrl &= (uint16_t)~PCI_MSIX_CTRL_EN;
	if (!st->on)
		return;
	for (unsigned k = 0; k < st->n; k++)
		decode(st, k);
	routes_del(st, st->n);
	st->ops->enable(st->ctx, st->n, false);
	st->on = false;
}

/* Entry k's message and effective mask from the guest's dwords and Message
 * Control; true when either changed since the last decode. */
static bool decode(struct msix_state *st, unsigned k)
{
	struct msi_vec *v = &st->vec[k];
	struct msi_msg m = { .addr_lo = st->virt[k][0], .addr_hi = st->virt[k][1], .data = st->virt[k][2] };
	bool masked = (st->virt[k][3] & PCI_MSIX_ENTRY_VCTRL_MASK) || !(st->virt_ctrl & PCI_MSIX_CTRL_EN) ||
		      (st->virt_ctrl & PCI_MSIX_CTRL_FMASK);
	return vec_record(v, m, masked, &st->updates);
}

/* Routes [0, n) deleted. */
static void routes_del(struct msix_state *st, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		st->ops->del(st->ctx, k);
		st->route_calls++;
	}
}

/* --- MSI ----------------------------------------------------------------------- */

static unsigned msi_data_off(const struct msi_state *st) { return st->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32; }
static unsigned msi_mask_off(const struct msi_state *st) { return st->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32; }

static uint32_t cap_get(const struct msi_state *st, unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)st->virt_cap[off + i] << (8 * i);
	return v;
}

/* Vectors the route serves and MMC allows. */
static unsigned msi_served(const struct msi_state *st) { return 1u << st->max_mme; }

/* Byte i's writable bits (§6.8.1.3-6.8.1.8). */
static uint8_t msi_writable(const struct msi_state *st, unsigned i)
{
	unsigned d = msi_data_off(st), m = msi_mask_off(st);
	if (i == PCI_MSI_CTRL)
		return (uint8_t)(PCI_MSI_CTRL_EN | PCI_MSI_CTRL_MME);
	if (i == PCI_MSI_ADDR_LO)
		return 0xfc;   /* DWORD aligned */
	if (i > PCI_MSI_ADDR_LO && i < PCI_MSI_ADDR_LO + 4)
		return 0xff;
	if (st->is64 && i >= PCI_MSI_ADDR_HI && i < PCI_MSI_ADDR_HI + 4)
		return 0xff;
	if (i == d || i == d + 1)
		return 0xff;
	if (st->pvm && i >= m && i < m + 4) {
		uint32_t bits = msi_served(st) >= 32 ? 0xffffffffu : (1u << msi_served(st)) - 1u;
		return (uint8_t)(bits >> (8 * (i - m)));
	}
	return 0;
}

/* Vector k of n (n a power of two): message and effective mask. */
static bool msi_decode(struct msi_state *st, unsigned k, unsigned n)
{
	struct msi_vec *v = &st->vec[k];
	uint16_t ctrl = (uint16_t)cap_get(st, PCI_MSI_CTRL, 2);
	uint32_t data = cap_get(st, msi_data_off(st), 2);
	struct msi_msg m = {
		.addr_lo = cap_get(st, PCI_MSI_ADDR_LO, 4),
		.addr_hi = st->is64 ? cap_get(st, PCI_MSI_ADDR_HI, 4) : 0,
		.data = (data & ~(n - 1)) | k,
	};
	bool masked = !(ctrl & PCI_MSI_CTRL_EN) || (st->pvm && (cap_get(st, msi_mask_off(st), 4) >> k & 1));
	return vec_record(v, m, masked, &st->updates);
}

int msi_state_init(struct msi_state *st, uint16_t phys_ctrl, unsigned max_vectors, const struct msi_route_ops *ops,
		   void *ctx)
{
	if (!st || !ops || !ops->add || !ops->update || !ops->del || !ops->enable || max_vectors == 0)
		return -PORT_EINVAL;
	unsigned mmc = (phys_ctrl & PCI_MSI_CTRL_MMC) >> 1, max_mme = 0;
	if (mmc > 5)
		mmc = 5;   /* 110b, 111b reserved */
	while (max_mme < mmc && (2u << max_mme) <= max_vectors && (2u << max_mme) <= MSI_STATE_MAX)
		max_mme++;
	*st = (struct msi_state){ .ops = ops, .ctx = ctx, .is64 = phys_ctrl & PCI_MSI_CTRL_64,
				  .pvm = phys_ctrl & PCI_MSI_CTRL_PVM, .max_mme = max_mme };
	st->len = pci_msi_cap_len(phys_ctrl);
	uint16_t ctrl = phys_ctrl & (uint16_t)~(PCI_MSI_CTRL_EN | PCI_MSI_CTRL_MME);
	st->virt_cap[PCI_MSI_CTRL] = (uint8_t)ctrl;
	st->virt_cap[PCI_MSI_CTRL + 1] = (uint8_t)(ctrl >> 8);
	for (unsigned i = 0; st->pvm && i < 4; i++)
		st->virt_cap[msi_mask_off(st) + i] = msi_writable(st, msi_mask_off(st) + i);
	msi_decode(st, 0, 1);
	st->updates = 0;
	return 0;
}

uint32_t msi_state_read(const struct msi_state *st, unsigned off, unsigned size)
{
	uint32_t v = 0;
	unsigned pend = msi_mask_off(st) + 4;
	for (unsigned i = 0; i < size; i++) {
		unsigned b = off + i;
		uint32_t byte = 0;
		if (b >= PCI_MSI_CTRL && b < st->len && b < PCI_MSI_CAP_MAX)
			byte = st->virt_cap[b];
		if (st->pvm && b >= pend && b < pend + 4 && st->on && st->ops->pending)
			for (unsigned bit = 0; bit < 8; bit++) {
				unsigned k = 8 * (b - pend) + bit;
				if (k < st->n && st->vec[k].virt_masked && st->ops->pending(st->ctx, k))
					byte |= 1u << bit;
			}
		v |= byte << (8 * i);
	}
	return v;
}

int msi_state_write(struct msi_state *st, unsigned off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned b = off + i;
		if (b < PCI_MSI_CTRL || b >= st->len || b >= PCI_MSI_CAP_MAX)
			continue;
		uint8_t w = msi_writable(st, b), byte = (uint8_t)(val >> (8 * i));
		st->virt_cap[b] = (uint8_t)((st->virt_cap[b] & ~w) | (byte & w));
	}
	/* MME: at most what MMC and the route allow. */
	uint16_t ctrl = (uint16_t)cap_get(st, PCI_MSI_CTRL, 2);
	if (((ctrl & PCI_MSI_CTRL_MME) >> 4) > st->max_mme) {
		ctrl = (uint16_t)((ctrl & ~PCI_MSI_CTRL_MME) | st->max_mme << 4);
		st->virt_cap[PCI_MSI_CTRL] = (uint8_t)ctrl;
	}
	bool want = ctrl & PCI_MSI_CTRL_EN;
	if (want && !st->on) {
		unsigned n = 1u << ((ctrl & PCI_MSI_CTRL_MME) >> 4), added = 0;
		int rc = 0;
		for (unsigned k = 0; k < n && !rc; k++) {
			msi_decode(st, k, n);
			rc = st->ops->add(st->ctx, k, &st->vec[k].virt_msi, st->vec[k].virt_masked);
			st->route_calls++;
			st->vec[k].last_update = rc;
			added += rc == 0;
		}
		if (!rc)
			rc = st->ops->enable(st->ctx, n, true);
		if (rc) {
			for (unsigned k = 0; k < added; k++, st->route_calls++)
				st->ops->del(st->ctx, k);
			st->virt_cap[PCI_MSI_CTRL] &= (uint8_t)~PCI_MSI_CTRL_EN;
			msi_decode(st, 0, 1);
			return rc;
		}
		st->n = n;
		st->on = true;
		return 0;
	}
	if (!want && st->on) {
		msi_state_off(st);
		return 0;
	}
	for (unsigned k = 0; k < (st->on ? st->n : 1); k++)
		if (msi_decode(st, k, st->on ? st->n : 1) && st->on) {
			st->vec[k].last_update = st->ops->update(st->ctx, k, &st->vec[k].virt_msi, st->vec[k].virt_masked);
			st->route_calls++;
		}
	return 0;
}

void msi_state_off(struct msi_state *st)
{
	st->virt_cap[PCI_MSI_CTRL] &= (uint8_t)~PCI_MSI_CTRL_EN;
	if (!st->on)
		return;
	for (unsigned k = 0; k < st->n; k++) {
		msi_decode(st, k, st->n);
		st->ops->del(st->ctx, k);
		st->route_calls++;
	}
	st->ops->enable(st->ctx, st->n, false);
	st->on = false;
	st->n = 0;
}
