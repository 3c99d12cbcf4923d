/*
 * msi_state.h — the one MSI / MSI-X state machine both passthrough models use
 * (the hosted one, vmm_glue/dev/passthrough.c, and the bare-metal one,
 * vmm_glue/dev/bm_passthrough.c): the MSI-X table and Message Control as the
 * guest sees them, the mask / enable / function-mask policy, and the calls
 * it makes to a route interface the adapter implements.
 *
 * The three contexts (DESIGN.md) of a vector k:
 *   virtual   st->virt[k] (the guest's dwords) and st->vec[k].virt_msi /
 *             virt_masked (decoded: the message, the effective mask);
 *   shadow    what the route keeps for it — on KVM a GSI route and an irqfd,
 *             on bare metal an IRTE and the remappable message in the
 *             device's physical table entry;
 *   physical  the host eventfd VFIO signals, or the host vector the IRTE
 *             targets: the adapter's.
 *
 * The policy (docs/vmm_glue.md, "The MSI-X state machine"):
 *   - vector k's effective mask is its entry's mask bit OR Function Mask;
 *   - routes exist exactly while MSI-X Enable is set: on enable every
 *     vector is added (masked or not), THEN the function is enabled; on
 *     disable every route is deleted (its source masked), THEN the
 *     function is disabled;
 *   - while enabled, a vector's route is updated only when its message or
 *     its effective mask changed; a write that changes neither costs nothing;
 *   - an enable the route cannot honour (an add fails) is refused: every
 *     route added is deleted, and the guest reads MSI-X Enable back as 0;
 *   - a route may refuse a message (bare metal: an IRTE it cannot build):
 *     the vector then stays masked at the route; that is the route's answer,
 *     recorded in vec[k].last_update, not a refusal of the enable.
 * Freestanding: <stdint.h> <stddef.h> <stdbool.h> and port/ only.
 */
#ifndef VFS_DEV_MSI_STATE_H
#define VFS_DEV_MSI_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "irq_remap/msi.h"
#include "pci/pci_regs.h"

/* The guest's table has at most this many entries. */
#define MSIX_STATE_MAX 64

/* The route interface: the adapter's shadow for vector k (an MSI-X entry,
 * or message k of a multi-message MSI).  All calls
 * return 0 or a negative errno / -PORT_E*. */
struct msi_route_ops {
	/* Vector k gets a route to virt_msi (masked: nothing delivered, a
	 * message stays pending).  Failing refuses the enable. */
	int (*add)(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked);
	/* Vector k's message or effective mask changed. */
	int (*update)(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked);
	/* Vector k's route goes (its source masked first). */
	void (*del)(void *ctx, unsigned k);
	/* The function's own MSI / MSI-X Enable: on after every add, off after
	 * every del; n is the number of vectors routed. */
	int (*enable)(void *ctx, unsigned n, bool on);
	/* Optional: whether masked vector k has a message pending (the PBA). */
	bool (*pending)(void *ctx, unsigned k);
};

/* One vector, decoded. */
struct msi_vec {
	struct msi_msg virt_msi;     /* virtual: compatibility format, guest vector */
	bool virt_masked;            /* effective: entry mask, function mask or MSI-X off */
	bool acted;                  /* the two above have been decoded once */
	int last_update;             /* the route's answer to the last add/update */
};

struct msix_state {
	const struct msi_route_ops *ops;
	void *ctx;
	unsigned n;                  /* the guest's Table Size */
	uint16_t virt_ctrl;          /* virtual Message Control (Table Size n - 1) */
	bool on;                     /* routes exist (MSI-X Enable honoured) */
	uint32_t virt[MSIX_STATE_MAX][4]; /* virtual: the guest's entries, dwords */
	struct msi_vec vec[MSIX_STATE_MAX];
	uint64_t updates;            /* decoded changes (message or effective mask) */
	uint64_t route_calls;        /* add + update + del calls made */
};

/* A table of n entries (1..MSIX_STATE_MAX), MSI-X off, Function Mask clear,
 * every entry masked (PCI 3.0 §6.8.2.9: the mask bit resets to 1).
 * 0 or -PORT_EINVAL. */
int msix_state_init(struct msix_state *st, unsigned n, const struct msi_route_ops *ops, void *ctx);
/* Message Control as the guest reads it (§6.8.2.3). */
uint16_t msix_state_ctrl(const struct msix_state *st);
/* The guest wrote Message Control (only Enable and Function Mask are
 * writable).  0, or the add/enable error that refused the enable. */
int msix_state_ctrl_write(struct msix_state *st, uint16_t ctrl);
/* Dword dw (0..3) of entry k as the guest reads it; past the table, a
 * masked empty entry. */
uint32_t msix_state_read(const struct msix_state *st, unsigned k, unsigned dw);
/* The guest wrote n dwords (1 or 2: a DWORD or QWORD access, §6.8.2)
 * from dword dw of entry k: the writable bits of §6.8.2.6-9 (address
 * 31:2, upper address, data, the mask bit), then ONE decode — a QWORD
 * write of the address is one change, never a half-written message.  Past
 * the table or the entry: dropped. */
void msix_state_write(struct msix_state *st, unsigned k, unsigned dw, const uint32_t *val, unsigned n);
/* PBA bit k (§6.8.2.10): MSI-X on, vector k masked, and the route says a
 * message is pending. */
bool msix_state_pending(const struct msix_state *st, unsigned k);
/* MSI-X off as if the guest cleared Enable (routes deleted, function off);
 * the table keeps its contents. */
void msix_state_off(struct msix_state *st);


/* --- MSI (PCI 3.0 §6.8.1) ---------------------------------------------------
 * The same policy, for the capability's registers from Message Control on
 * (offsets below are the capability's; ID and next pointer stay the
 * adapter's):
 *   - the guest sees the device's MMC, 64-bit and PVM bits; MME is
 *     writable up to what the route can serve (max_vectors: bare metal 1,
 *     one host vector; hosted 32) and never above MMC; the vector count is
 *     taken when Enable goes on (PCI: MME is not changed while enabled);
 *   - message k of n is the guest's data with its low log2(n) bits = k;
 *   - vector k's effective mask is !Enable OR its mask bit (PVM); mask bits
 *     of the vectors the route can serve are writable and start set;
 *     pending bits read as the route says (0 without a pending op).
 */
#define MSI_STATE_MAX 32

struct msi_state {
	const struct msi_route_ops *ops;
	void *ctx;
	uint8_t virt_cap[PCI_MSI_CAP_MAX]; /* virtual: the capability, bytes 2.. */
	unsigned len;                /* its length: 10, 14, 20 or 24 */
	bool is64, pvm;
	unsigned max_mme;            /* log2 of the vectors the route serves (and MMC) */
	unsigned n;                  /* vectors routed while on */
	bool on;
	struct msi_vec vec[MSI_STATE_MAX];
	uint64_t updates, route_calls;
};

/* From the device's Message Control (phys_ctrl): MSI off, MME 0, an empty
 * message, the served vectors masked.  0 or -PORT_EINVAL. */
int msi_state_init(struct msi_state *st, uint16_t phys_ctrl, unsigned max_vectors, const struct msi_route_ops *ops,
		   void *ctx);
/* size bytes (1, 2, 4) at capability offset off (>= 2, inside len) as the
 * guest reads them; outside: zeros. */
uint32_t msi_state_read(const struct msi_state *st, unsigned off, unsigned size);
/* The guest wrote them (the writable bits only).  0, or the add/enable
 * error that refused the enable (Enable then reads back 0). */
int msi_state_write(struct msi_state *st, unsigned off, unsigned size, uint32_t val);
/* MSI off as if the guest cleared Enable. */
void msi_state_off(struct msi_state *st);

#endif
