/*
 * ir_route.h — one passed-through interrupt source (an MSI-X vector, or a
 * multi-message MSI) in its three contexts (DESIGN.md):
 *
 *   virtual   what the guest programmed: virt_msi, a compatibility-format
 *             message (VT-d 5.1.2.1) naming a guest vector and a guest
 *             APIC destination, and whether the guest masked it;
 *   shadow    what the hardware uses: the IRTE(s) this route owns
 *             (9.10 remapped / 9.11 posted) and shadow_msi, the
 *             remappable-format message (5.1.2.2) written into the device,
 *             with the mask state the device must carry;
 *   physical  the host's view: either a host vector on the host CPU that
 *             runs the target vCPU (the VMX core then injects the guest
 *             vector), or the vCPU's posted-interrupt descriptor (9.12).
 *
 * The guest's message is resolved to exactly one vCPU of that guest; the
 * IRTE always uses physical destination mode and fixed delivery to that
 * vCPU's host CPU (or its descriptor), so a device can never interrupt a
 * CPU the guest does not own.  Lowest-priority messages to several vCPUs
 * go to the first matching one (any single destination is a valid
 * lowest-priority arbitration outcome); fixed multicast, SMI/NMI/INIT/
 * ExtINT, reserved delivery modes, level-triggered messages, vectors below
 * 16 and destinations no vCPU owns are refused with a log line naming the
 * guest and the reason; the route is then blocked (IRTEs not present,
 * device masked).
 *
 * Order for the VMX core: call ir_route_update when the guest writes or
 * (un)masks its entry, THEN write shadow_msi and shadow_masked into the
 * device — the IRTEs are already in place when the device is unmasked.
 */
#ifndef VFS_IRQ_REMAP_IR_ROUTE_H
#define VFS_IRQ_REMAP_IR_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "irq_remap/ir_table.h"
#include "irq_remap/irte.h"
#include "irq_remap/msi.h"
#include "irq_remap/posted.h"

#define IR_ROUTE_MAX_MSGS 32u   /* multi-message MSI: up to 32 (MME = 5) */

/* One vCPU of a guest, as the interrupt path needs to know it. */
struct ir_vcpu {
	uint32_t virt_apic_id;     /* virtual: the APIC ID the guest sees */
	uint8_t virt_logical_id;   /* virtual: xAPIC LDR[31:24] the guest set */
	uint32_t host_apic_id;     /* physical: APIC ID of the host CPU running it */
	struct pi_desc *pi_desc;   /* physical: its posted-interrupt descriptor, or NULL */
};

struct ir_guest {
	const char *name;
	struct ir_vcpu *vcpus;
	unsigned n_vcpus;
	bool virt_x2apic;          /* the guest's LAPICs are in x2APIC mode */
	bool virt_logical_cluster; /* xAPIC DFR = cluster model (else flat) */
	bool posted;               /* post to descriptors; remapped delivery on a
				      unit without CAP.PI (or a vCPU without one) */
};

struct ir_route_cfg {
	struct ir_table *table;
	const struct ir_guest *guest;
	struct irte_source source;   /* the device's requester id; SVT must not be NONE */
	unsigned n_msgs;             /* 1 (MSI-X vector, single MSI) or 2..32 (multi-message MSI) */
	const uint8_t *host_vectors; /* physical: n_msgs host vectors (>= 32), reserved
					on every host CPU, for remapped delivery */
};

/* One message of a route. */
struct ir_msg {
	/* virtual */
	uint8_t virt_vector;
	int vcpu;                  /* index in guest->vcpus; -1 while not routed */
	/* shadow */
	uint16_t irte_index;
	/* physical */
	bool posted;
	uint8_t host_vector;       /* remapped: the vector the IRTE names */
	uint32_t host_apic_id;     /* remapped: the IRTE's destination */
	struct pi_desc *pi_desc;   /* posted: the descriptor the IRTE names */
};

struct ir_route {
	struct ir_table *table;
	const struct ir_guest *guest;
	struct irte_source source;
	unsigned n_msgs;
	uint16_t base;             /* first IRTE index (the handle) */
	uint8_t host_vectors[IR_ROUTE_MAX_MSGS];
	/* virtual */
	struct msi_msg virt_msi;
	bool virt_masked;
	/* shadow */
	struct msi_msg shadow_msi;
	bool shadow_masked;
	bool routed;               /* its IRTEs are present */
	struct ir_msg msgs[IR_ROUTE_MAX_MSGS];
};

/* Reserve the route's IRTE block (aligned, n_msgs entries) and compute
 * shadow_msi (handle = base; SHV + subhandle 0 for a multi-message block).
 * Starts masked with no IRTE present.  -PORT_ENOSPC when the table is full
 * (never a fall back to compatibility format), -PORT_EINVAL for a bad cfg. */
int ir_route_open(struct ir_route *rt, const struct ir_route_cfg *cfg);

/* The guest wrote its message and/or mask bit.  Masked: the new message is
 * only recorded (a guest may reprogram a masked entry freely) and the device
 * is masked.  Unmasked: the message is translated, every IRTE of the block
 * is rewritten atomically, then one IEC invalidation covers the block, and
 * shadow_masked is cleared.  On a refused message: -PORT_EINVAL or
 * -PORT_ENOTSUP (or -PORT_ERANGE for a host APIC ID an xAPIC table cannot
 * hold), logged, and the route is blocked. */
int ir_route_update(struct ir_route *rt, const struct msi_msg *virt_msi, bool virt_masked);

/* vCPU vcpu now runs on another host CPU (guest->vcpus[vcpu].host_apic_id
 * already changed): rewrite the remapped IRTEs aimed at it.  Posted ones
 * need nothing here: the caller moves the descriptor's NDST (pi_set_ndst). */
int ir_route_vcpu_moved(struct ir_route *rt, unsigned vcpu);

/* Remapped delivery, for the VMX core's handler: which vCPU and guest
 * vector does host_vector stand for?  -PORT_ENOENT if none of this route. */
int ir_route_lookup_host_vector(const struct ir_route *rt, uint8_t host_vector,
				unsigned *vcpu, uint8_t *virt_vector);

/* The one vCPU (index in g->vcpus) and guest vector a guest's
 * compatibility-format MSI names, by the rules ir_route_update applies
 * (fixed or lowest-priority, edge, vector >= 16; physical, logical flat or
 * cluster, or x2APIC destination; lowest priority to several vCPUs: the
 * first).  For a core that injects a guest's MSI itself (core_glue).  0, or
 * -PORT_EINVAL / -PORT_ENOTSUP, logged, as ir_route_update. */
int ir_guest_msi_target(const struct ir_guest *g, const struct msi_msg *virt_msi, unsigned *vcpu,
			uint8_t *virt_vector);

/* Make the IRTEs not present, invalidate, and free the block. */
void ir_route_close(struct ir_route *rt);

#endif /* VFS_IRQ_REMAP_IR_ROUTE_H */
