/* The MSI-X state machine (vmm_glue/dev/msi_state) under ONE table of guest
 * actions, run over both route implementations the passthrough models use:
 *
 *   irte   the bare-metal one: an ir_route per vector on a real IR table
 *          (irq_remap/, a modelled VT-d unit), a physical table entry that
 *          is masked, then the IRTE written, then the remappable message,
 *          then unmasked if the route allows; a message while the entry is
 *          masked pends (PBA) and goes on unmask (PCI 3.0 §6.8.2.10);
 *   glue   the hosted one: an eventfd per vector and a core route (what
 *          glue_msi_route_add/update/del give kvm_core: a GSI route, an
 *          irqfd when unmasked); a signal on a masked route stays counted
 *          in the eventfd and is injected when the irqfd comes back.
 *
 * Each row is a guest action and what the guest then sees: the vector and
 * vCPU an interrupt of vector k arrives as, and its PBA bit.  Both
 * implementations must give every row's answer: the policy is the state
 * machine's, not the route's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd_unit.h"
#include "irq_remap/ir_route.h"
#include "irq_remap/ir_table.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vmm_glue/dev/msi_state.h"
#include "vtd_model.h"

#define UNIT_BASE 0xfed90000ull
#define N 4

/* --- what both implementations record ---------------------------------------- */

enum ev_kind { EV_ADD, EV_UPDATE, EV_DEL, EV_ENABLE, EV_PHYS_MASK, EV_PHYS_UNMASK, EV_IRTE };
struct ev {
	enum ev_kind kind;
	unsigned k;
	bool flag;           /* enable: on; irte: present */
};
static struct ev evs[256];
static unsigned nev;

static void ev(enum ev_kind kind, unsigned k, bool flag)
{
	if (nev < 256)
		evs[nev++] = (struct ev){ kind, k, flag };
}

/* What arrived in the guest: vector and virtual APIC id, one slot. */
static int got_vector = -1, got_apic = -1;
static unsigned delivered;

static void deliver(uint8_t vector, unsigned apic)
{
	got_vector = vector;
	got_apic = (int)apic;
	delivered++;
}

static struct msix_state st;

/* --- the irte route ---------------------------------------------------------- */

static struct vtd_model model;
static struct vtd_unit unit;
static struct ir_table table;
static struct ir_vcpu vcpus[2];
static struct ir_guest guest;
static const uint8_t host_vectors[N] = { 0x70, 0x71, 0x72, 0x73 };

static struct irte_dev {
	struct ir_route route[N];
	bool phys_masked[N], phys_pending[N], phys_on;
	struct msi_msg phys_msg[N];
} idev;

/* The device sends vector k (the hardware: masked -> pending; else through
 * the IRTE the remappable message names). */
static void irte_send(unsigned k)
{
	unsigned vcpu;
	uint8_t vv;
	if (!idev.phys_on)
		return;
	if (idev.phys_masked[k]) {
		idev.phys_pending[k] = true;
		return;
	}
	const struct irte *e = ir_table_entry(&table, idev.route[k].base);
	if (irte_is_present(e) && ir_route_lookup_host_vector(&idev.route[k], host_vectors[k], &vcpu, &vv) == 0)
		deliver(vv, guest.vcpus[vcpu].virt_apic_id);
}

static void irte_phys_mask(unsigned k, bool masked)
{
	ev(masked ? EV_PHYS_MASK : EV_PHYS_UNMASK, k, false);
	idev.phys_masked[k] = masked;
	if (!masked && idev.phys_pending[k]) {
		idev.phys_pending[k] = false;
		irte_send(k);
	}
}

static int irte_update(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	(void)ctx;
	ev(EV_UPDATE, k, masked);
	irte_phys_mask(k, true);
	int rc = ir_route_update(&idev.route[k], virt_msi, masked);
	ev(EV_IRTE, k, irte_is_present(ir_table_entry(&table, idev.route[k].base)));
	idev.phys_msg[k] = idev.route[k].shadow_msi;
	if (!idev.route[k].shadow_masked)
		irte_phys_mask(k, false);
	return rc;
}

static int fail_add_at = -1;   /* both: the add of this vector fails */

static int irte_add(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	if ((int)k == fail_add_at)
		return -PORT_ENOSPC;
	ev(EV_ADD, k, masked);
	return irte_update(ctx, k, virt_msi, masked);
}

static void irte_del(void *ctx, unsigned k)
{
	ev(EV_DEL, k, false);
	irte_update(ctx, k, &st.vec[k].virt_msi, true);
}

static int irte_enable(void *ctx, unsigned n, bool on)
{
	(void)ctx, (void)n;
	ev(EV_ENABLE, 0, on);
	idev.phys_on = on;
	return 0;
}

static bool irte_pending(void *ctx, unsigned k)
{
	(void)ctx;
	return idev.phys_pending[k];
}

static const struct msi_route_ops irte_ops = { irte_add, irte_update, irte_del, irte_enable, irte_pending };

/* --- the glue route ---------------------------------------------------------- */

static struct glue_dev {
	bool route[N], irqfd[N], vfio_on;
	uint64_t addr[N];
	uint32_t data[N];
	unsigned efd_count[N];
} gdev;

static void glue_inject(unsigned k)
{
	/* KVM: an MSI with the route's address and data (xAPIC: vector 7:0,
	 * destination ID 19:12). */
	deliver((uint8_t)gdev.data[k], (unsigned)(gdev.addr[k] >> 12) & 0xff);
}

static void glue_send(unsigned k)
{
	if (!gdev.vfio_on)
		return;
	if (gdev.irqfd[k])
		glue_inject(k);
	else
		gdev.efd_count[k]++;
}

static int glue_update(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	(void)ctx;
	ev(EV_UPDATE, k, masked);
	gdev.addr[k] = (uint64_t)virt_msi->addr_hi << 32 | virt_msi->addr_lo;
	gdev.data[k] = virt_msi->data;
	gdev.irqfd[k] = !masked;
	/* An irqfd assigned over a signalled eventfd fires at once. */
	if (gdev.irqfd[k] && gdev.efd_count[k]) {
		gdev.efd_count[k] = 0;
		glue_inject(k);
	}
	return 0;
}

static int glue_add(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	if ((int)k == fail_add_at)
		return -PORT_ENOMEM;
	ev(EV_ADD, k, masked);
	gdev.route[k] = true;
	gdev.efd_count[k] = 0;
	return glue_update(ctx, k, virt_msi, masked);
}

static void glue_del(void *ctx, unsigned k)
{
	(void)ctx;
	ev(EV_DEL, k, false);
	gdev.route[k] = gdev.irqfd[k] = false;
	gdev.efd_count[k] = 0;
}

static int glue_enable(void *ctx, unsigned n, bool on)
{
	(void)ctx, (void)n;
	ev(EV_ENABLE, 0, on);
	gdev.vfio_on = on;
	return 0;
}

static bool glue_pending(void *ctx, unsigned k)
{
	(void)ctx;
	return gdev.efd_count[k] != 0;
}

static const struct msi_route_ops glue_ops = { glue_add, glue_update, glue_del, glue_enable, glue_pending };

/* --- the two implementations behind one face --------------------------------- */

struct impl {
	const char *name;
	const struct msi_route_ops *ops;
	void (*send)(unsigned k);
	bool (*open)(unsigned k);     /* vector k's path to the guest is open (shadow) */
};

/* irte: the physical entry unmasked (its IRTE may stay present: a masked
 * entry sends nothing); glue: an irqfd on a route. */
static bool irte_open(unsigned k) { return !idev.phys_masked[k]; }
static bool glue_open(unsigned k) { return gdev.route[k] && gdev.irqfd[k]; }

static const struct impl impls[2] = {
	{ "irte", &irte_ops, irte_send, irte_open },
	{ "glue", &glue_ops, glue_send, glue_open },
};

static int setup(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	vtd_model_init(&model, UNIT_BASE, vtd_model_qemu_cap(48, true), vtd_model_qemu_ecap(true, false, true, false));
	vtd_model_install(&model);
	assert_int_equal(vtd_unit_init(&unit, UNIT_BASE, 0), 0);
	assert_int_equal(ir_table_init(&table, 256, 0), 0);
	assert_int_equal(ir_table_enable(&table, &unit), 0);
	vcpus[0] = (struct ir_vcpu){ .virt_apic_id = 0, .virt_logical_id = 1, .host_apic_id = 4 };
	vcpus[1] = (struct ir_vcpu){ .virt_apic_id = 1, .virt_logical_id = 2, .host_apic_id = 6 };
	guest = (struct ir_guest){ .name = "g", .vcpus = vcpus, .n_vcpus = 2 };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(ir_table_disable(&table), 0);
	ir_table_fini(&table);
	vtd_unit_fini(&unit);
	vtd_model_uninstall_all();
	port_host_set_log_quiet(0);
	return 0;
}

/* A fresh device on implementation i: routes opened (bare metal opens its
 * IRTE blocks at init), every entry masked and off. */
static void start(const struct impl *im)
{
	memset(&idev, 0, sizeof(idev));
	memset(&gdev, 0, sizeof(gdev));
	for (unsigned k = 0; k < N; k++) {
		const struct ir_route_cfg c = { .table = &table, .guest = &guest,
						.source = { .sid = 0x18, .sq = IRTE_SQ_ALL, .svt = IRTE_SVT_SID },
						.n_msgs = 1, .host_vectors = &host_vectors[k] };
		assert_int_equal(ir_route_open(&idev.route[k], &c), 0);
		idev.phys_masked[k] = true;
	}
	nev = 0;
	delivered = 0;
	fail_add_at = -1;
	assert_int_equal(msix_state_init(&st, N, im->ops, NULL), 0);
}

static void stop(void)
{
	for (unsigned k = 0; k < N; k++)
		ir_route_close(&idev.route[k]);
}

/* --- the table ------------------------------------------------------------------ */

enum act { ENTRY, ENTRY_QWORD, MASK, CTRL, FIRE };
struct row {
	enum act act;
	unsigned k;
	unsigned a, b;        /* ENTRY: apic, vector; MASK: on; CTRL: bits */
	/* expected after the action */
	int vector, apic;     /* FIRE: what arrives (-1: nothing); other rows:
			       * an arrival the action itself caused (a pending
			       * message sent on unmask), -1 none */
	int pba;              /* vector k's PBA bit, -1: not checked */
	int route_calls;      /* route calls the action made, -1: not checked */
};

#define MSG_ADDR(apic) (0xfee00000u | (apic) << 12)
#define EN PCI_MSIX_CTRL_EN
#define FM PCI_MSIX_CTRL_FMASK

static const struct row rows[] = {
	/* programmed while MSI-X is off: recorded, no route call */
	{ ENTRY, 0, 0, 0x50, -1, -1, -1, 0 },
	{ ENTRY, 1, 1, 0x51, -1, -1, -1, 0 },
	{ ENTRY, 2, 0, 0x52, -1, -1, -1, 0 },
	{ MASK, 0, 0, 0, -1, -1, 0, 0 },
	{ MASK, 1, 0, 0, -1, -1, 0, 0 },
	{ FIRE, 0, 0, 0, -1, -1, 0, 0 },             /* off: nothing, nothing pends */
	/* enable: one add per vector (4) */
	{ CTRL, 0, EN, 0, -1, -1, -1, N },
	{ FIRE, 0, 0, 0, 0x50, 0, 0, 0 },
	{ FIRE, 1, 0, 0, 0x51, 1, 0, 0 },
	{ FIRE, 2, 0, 0, -1, -1, 1, 0 },             /* entry 2 still masked: pends */
	{ MASK, 2, 0, 0, 0x52, 0, 0, 1 },            /* unmask sends it */
	/* Function Mask: every vector masked, pends, sent when it clears */
	{ CTRL, 0, EN | FM, 0, -1, -1, -1, 3 },      /* 3 unmasked vectors change */
	{ FIRE, 0, 0, 0, -1, -1, 1, 0 },
	{ FIRE, 3, 0, 0, -1, -1, 1, 0 },             /* entry 3 masked by itself too */
	{ CTRL, 0, EN, 0, 0x50, 0, 0, 3 },
	/* retarget while unmasked (APIC 1 -> 0): one update; the same values
	 * again: none */
	{ ENTRY, 1, 0, 0x51, -1, -1, -1, 1 },
	{ FIRE, 1, 0, 0, 0x51, 0, 0, 0 },
	{ ENTRY, 1, 0, 0x51, -1, -1, -1, 0 },
	{ MASK, 1, 0, 0, -1, -1, -1, 0 },            /* already unmasked */
	/* a QWORD of the address is one change, one route call */
	{ ENTRY_QWORD, 0, 1, 0, -1, -1, -1, 1 },
	{ FIRE, 0, 0, 0, 0x50, 1, 0, 0 },
	/* an entry mask: pends; unmask: sent */
	{ MASK, 0, 1, 0, -1, -1, -1, 1 },
	{ FIRE, 0, 0, 0, -1, -1, 1, 0 },
	{ MASK, 0, 0, 0, 0x50, 1, 0, 1 },
	/* disable: one del per vector; nothing arrives, nothing pends */
	{ CTRL, 0, 0, 0, -1, -1, 0, N },
	{ FIRE, 1, 0, 0, -1, -1, 0, 0 },
	/* enable again: the table kept its contents */
	{ CTRL, 0, EN, 0, -1, -1, -1, N },
	{ FIRE, 1, 0, 0, 0x51, 0, 0, 0 },
	{ FIRE, 3, 0, 0, -1, -1, 1, 0 },
};

static void run_row(const struct impl *im, unsigned i)
{
	const struct row *r = &rows[i];
	uint64_t calls = st.route_calls;
	got_vector = got_apic = -1;
	switch (r->act) {
	case ENTRY: {
		const uint32_t lo = MSG_ADDR(r->a), hi = 0, data = r->b;
		msix_state_write(&st, r->k, 0, &lo, 1);
		msix_state_write(&st, r->k, 1, &hi, 1);
		msix_state_write(&st, r->k, 2, &data, 1);
		break;
	}
	case ENTRY_QWORD: {
		const uint32_t q[2] = { MSG_ADDR(r->a), 0 };
		msix_state_write(&st, r->k, 0, q, 2);
		break;
	}
	case MASK: {
		const uint32_t vc = r->a;
		msix_state_write(&st, r->k, 3, &vc, 1);
		break;
	}
	case CTRL:
		assert_int_equal(msix_state_ctrl_write(&st, (uint16_t)r->a), 0);
		break;
	case FIRE:
		im->send(r->k);
		break;
	}
	if (got_vector != r->vector || got_apic != r->apic)
		fail_msg("%s, row %u: vector 0x%x on APIC %d arrived, the table says 0x%x on APIC %d", im->name, i,
			 got_vector, got_apic, r->vector, r->apic);
	if (r->pba >= 0 && msix_state_pending(&st, r->k) != (r->pba != 0))
		fail_msg("%s, row %u: PBA bit %u is %d", im->name, i, r->k, msix_state_pending(&st, r->k));
	if (r->route_calls >= 0 && st.route_calls - calls != (uint64_t)r->route_calls)
		fail_msg("%s, row %u: %llu route calls, the table says %d", im->name, i,
			 (unsigned long long)(st.route_calls - calls), r->route_calls);
}

static void same_table_on(const struct impl *im)
{
	start(im);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(im, i);
	msix_state_off(&st);
	for (unsigned k = 0; k < N; k++)
		assert_false(im->open(k));
	stop();
}

static void table_on_irte_routes(void **state) { (void)state; same_table_on(&impls[0]); }
static void table_on_glue_routes(void **state) { (void)state; same_table_on(&impls[1]); }

/* Enable: every add before the function's Enable; disable: every del
 * before it goes off.  On the IRTE route, each (un)mask of an unmasked
 * vector is physical mask -> IRTE present -> unmask. */
static void order_of_route_calls(const struct impl *im)
{
	start(im);
	const uint32_t lo = MSG_ADDR(0), data = 0x50, unmasked = 0;
	msix_state_write(&st, 0, 0, &lo, 1);
	msix_state_write(&st, 0, 2, &data, 1);
	msix_state_write(&st, 0, 3, &unmasked, 1);
	nev = 0;
	assert_int_equal(msix_state_ctrl_write(&st, EN), 0);
	int en = -1, last_add = -1;
	for (unsigned i = 0; i < nev; i++) {
		if (evs[i].kind == EV_ADD)
			last_add = (int)i;
		if (evs[i].kind == EV_ENABLE && evs[i].flag)
			en = (int)i;
	}
	assert_true(last_add >= 0 && en > last_add);
	if (im->ops == &irte_ops) {
		/* vector 0: mask, IRTE present, unmask, in that order */
		int mask = -1, irte = -1, unmask = -1;
		for (unsigned i = 0; i < nev; i++) {
			if (evs[i].k != 0)
				continue;
			if (evs[i].kind == EV_PHYS_MASK && mask < 0)
				mask = (int)i;
			if (evs[i].kind == EV_IRTE && evs[i].flag && irte < 0)
				irte = (int)i;
			if (evs[i].kind == EV_PHYS_UNMASK && unmask < 0)
				unmask = (int)i;
		}
		assert_true(mask >= 0 && irte > mask && unmask > irte);
	}
	nev = 0;
	assert_int_equal(msix_state_ctrl_write(&st, 0), 0);
	int off = -1, last_del = -1;
	for (unsigned i = 0; i < nev; i++) {
		if (evs[i].kind == EV_DEL)
			last_del = (int)i;
		if (evs[i].kind == EV_ENABLE && !evs[i].flag)
			off = (int)i;
	}
	assert_true(last_del >= 0 && off > last_del);
	stop();
}

static void order_on_irte_routes(void **state) { (void)state; order_of_route_calls(&impls[0]); }
static void order_on_glue_routes(void **state) { (void)state; order_of_route_calls(&impls[1]); }

/* An add that fails refuses the enable: routes already added deleted, the
 * function never enabled, Enable reads back 0; a later enable works. */
static void refused_enable(const struct impl *im)
{
	start(im);
	fail_add_at = 2;
	assert_true(msix_state_ctrl_write(&st, EN) < 0);
	assert_int_equal(msix_state_ctrl(&st) & EN, 0);
	unsigned adds = 0, dels = 0;
	for (unsigned i = 0; i < nev; i++) {
		adds += evs[i].kind == EV_ADD;
		dels += evs[i].kind == EV_DEL;
		assert_false(evs[i].kind == EV_ENABLE && evs[i].flag);
	}
	assert_int_equal(adds, 2);
	assert_int_equal(dels, 2);
	for (unsigned k = 0; k < N; k++)
		assert_false(im->open(k));
	im->send(0);
	assert_int_equal(delivered, 0);
	fail_add_at = -1;
	assert_int_equal(msix_state_ctrl_write(&st, EN), 0);
	assert_int_equal(msix_state_ctrl(&st), EN | (N - 1));
	msix_state_off(&st);
	stop();
}

static void refused_on_irte_routes(void **state) { (void)state; refused_enable(&impls[0]); }
static void refused_on_glue_routes(void **state) { (void)state; refused_enable(&impls[1]); }

/* MSI (64-bit, per-vector masking, MMC 4 messages) over the same routes:
 * multi-message data, mask bits starting set, pending bits, MME clamped to
 * what the route serves; the guest sees the same on both. */
#define MSI_CTRL_OFF PCI_MSI_CTRL
#define MSI_MASK_OFF PCI_MSI_MASK_64
#define MSI_PEND_OFF (PCI_MSI_MASK_64 + 4)

static void msi_on(const struct impl *im)
{
	struct msi_state ms;
	const uint16_t phys_ctrl = (2u << 1) | PCI_MSI_CTRL_64 | PCI_MSI_CTRL_PVM;
	start(im);
	assert_int_equal(msi_state_init(&ms, phys_ctrl, 4, im->ops, NULL), 0);
	assert_int_equal(ms.len, 24);
	assert_int_equal(msi_state_read(&ms, MSI_CTRL_OFF, 2), phys_ctrl);   /* off, MME 0 */
	assert_int_equal(msi_state_read(&ms, MSI_MASK_OFF, 4), 0xf);        /* served vectors masked */
	/* programmed while off: no route call */
	assert_int_equal(msi_state_write(&ms, PCI_MSI_ADDR_LO, 4, MSG_ADDR(1) | 3), 0);
	assert_int_equal(msi_state_write(&ms, PCI_MSI_DATA_64, 2, 0x41), 0);
	assert_int_equal(msi_state_read(&ms, PCI_MSI_ADDR_LO, 4), MSG_ADDR(1));
	assert_int_equal(ms.route_calls, 0);
	/* enable with 4 messages: 4 adds, then the function */
	assert_int_equal(msi_state_write(&ms, MSI_CTRL_OFF, 2, PCI_MSI_CTRL_EN | 2u << 4), 0);
	assert_int_equal(ms.route_calls, 4);
	assert_int_equal(msi_state_read(&ms, MSI_CTRL_OFF, 2), phys_ctrl | PCI_MSI_CTRL_EN | 2u << 4);
	/* masked: pends */
	got_vector = -1;
	im->send(0);
	assert_int_equal(got_vector, -1);
	assert_int_equal(msi_state_read(&ms, MSI_PEND_OFF, 4), 1);
	/* unmask all: the pending one arrives, as message 0 (data 0x41 with
	 * its low two bits 0) */
	assert_int_equal(msi_state_write(&ms, MSI_MASK_OFF, 4, 0), 0);
	assert_int_equal(ms.route_calls, 8);
	assert_int_equal(got_vector, 0x40);
	assert_int_equal(got_apic, 1);
	assert_int_equal(msi_state_read(&ms, MSI_PEND_OFF, 4), 0);
	im->send(3);
	assert_int_equal(got_vector, 0x43);
	/* mask bits beyond the served vectors are not writable; MME above
	 * MMC is clamped; neither changes a route */
	assert_int_equal(msi_state_write(&ms, MSI_MASK_OFF, 4, 0xfffffff0u), 0);
	assert_int_equal(msi_state_write(&ms, MSI_CTRL_OFF, 1, PCI_MSI_CTRL_EN | 7u << 4), 0);
	assert_int_equal(msi_state_read(&ms, MSI_MASK_OFF, 4), 0);
	assert_int_equal((msi_state_read(&ms, MSI_CTRL_OFF, 2) & PCI_MSI_CTRL_MME) >> 4, 2);
	assert_int_equal(ms.route_calls, 8);
	/* off: 4 dels, nothing arrives */
	assert_int_equal(msi_state_write(&ms, MSI_CTRL_OFF, 2, 0), 0);
	assert_int_equal(ms.route_calls, 12);
	got_vector = -1;
	im->send(1);
	assert_int_equal(got_vector, -1);
	for (unsigned k = 0; k < N; k++)
		assert_false(im->open(k));
	/* a route serving one vector (bare metal): MME stays 0, one mask bit */
	assert_int_equal(msi_state_init(&ms, phys_ctrl, 1, im->ops, NULL), 0);
	assert_int_equal(msi_state_read(&ms, MSI_MASK_OFF, 4), 1);
	assert_int_equal(msi_state_write(&ms, MSI_CTRL_OFF, 2, PCI_MSI_CTRL_EN | 2u << 4), 0);
	assert_int_equal(msi_state_read(&ms, MSI_CTRL_OFF, 2), phys_ctrl | PCI_MSI_CTRL_EN);
	assert_int_equal(ms.route_calls, 1);
	msi_state_off(&ms);
	stop();
}

static void msi_on_irte_routes(void **state) { (void)state; msi_on(&impls[0]); }
static void msi_on_glue_routes(void **state) { (void)state; msi_on(&impls[1]); }

/* The guest's view: Table Size read-only, reserved bits dropped, past the
 * table a masked empty entry, bad arguments refused. */
static void guest_view(void **state)
{
	(void)state;
	start(&impls[1]);
	assert_int_equal(msix_state_ctrl(&st), N - 1);
	assert_int_equal(msix_state_ctrl_write(&st, 0x3fff), 0);   /* Table Size bits, reserved 13:11 */
	assert_int_equal(msix_state_ctrl(&st), N - 1);
	const uint32_t ones[2] = { 0xffffffffu, 0xffffffffu };
	msix_state_write(&st, 1, 0, ones, 1);
	msix_state_write(&st, 1, 3, ones, 1);
	assert_int_equal(msix_state_read(&st, 1, 0), 0xfffffffcu);   /* address DWORD aligned */
	assert_int_equal(msix_state_read(&st, 1, 3), PCI_MSIX_ENTRY_VCTRL_MASK);
	msix_state_write(&st, 1, 3, ones, 2);                         /* past the entry: dropped */
	msix_state_write(&st, N, 0, ones, 1);                         /* past the table: dropped */
	assert_int_equal(msix_state_read(&st, N, 3), PCI_MSIX_ENTRY_VCTRL_MASK);
	assert_int_equal(msix_state_read(&st, N, 0), 0);
	for (unsigned k = 0; k < N; k++)
		assert_int_equal(msix_state_read(&st, k, 3), PCI_MSIX_ENTRY_VCTRL_MASK);   /* reset: masked */
	struct msix_state other;
	assert_int_equal(msix_state_init(&other, 0, &glue_ops, NULL), -PORT_EINVAL);
	assert_int_equal(msix_state_init(&other, MSIX_STATE_MAX + 1, &glue_ops, NULL), -PORT_EINVAL);
	assert_int_equal(msix_state_init(&other, 1, NULL, NULL), -PORT_EINVAL);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_on_irte_routes),
		cmocka_unit_test(table_on_glue_routes),
		cmocka_unit_test(order_on_irte_routes),
		cmocka_unit_test(order_on_glue_routes),
		cmocka_unit_test(refused_on_irte_routes),
		cmocka_unit_test(refused_on_glue_routes),
		cmocka_unit_test(msi_on_irte_routes),
		cmocka_unit_test(msi_on_glue_routes),
		cmocka_unit_test(guest_view),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
