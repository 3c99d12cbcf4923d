/*
 * msi_state.c — the MSI-X state machine (see msi_state.h).
 * Register facts: PCI Local Bus 3.0 §6.8.2.3 (Message Control),
 * §6.8.2.6-6.8.2.9 (table entry), §6.8.2.10 (PBA).
 */
#include "vmm_glue/dev/msi_state.h"

#include "port/port.h"

/* Bits of an entry the guest may set (§6.8.2.6-6.8.2.9): address 31:2
 * (DWORD aligned), upper address, data, vector control's mask bit (31:1
 * reserved). */
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
	if (v->acted && m.addr_lo == v->virt_msi.addr_lo && m.addr_hi == v->virt_msi.addr_hi &&
	    m.data == v->virt_msi.data && masked == v->virt_masked)
		return false;
	v->virt_msi = m;
	v->virt_masked = masked;
	v->acted = true;
	st->updates++;
	return true;
}

/* Routes [0, n) deleted. */
static void routes_del(struct msix_state *st, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		st->ops->del(st->ctx, k);
		st->route_calls++;
	}
}
