/*
 * glue.h — the core contract: what a core provides to the device models
 * above it.  Two cores implement it: the hosted Linux KVM core
 * (vmm_glue/kvm/kvm_core.c) and the bare-metal core
 * (vmm_glue/core/core_glue.c, over core_vm.h and a VMX or SVM backend).
 * Device models use only this header, so they run on either core.  See
 * docs/vmm_glue.md.
 *
 * CPU- and OS-neutral: only <stdint.h> <stddef.h> <stdbool.h> and the
 * port's error numbers (-PORT_E*, Linux's values), so freestanding code
 * includes it too.
 *
 * Contexts (DESIGN.md): a GPA and the MSI address/data the guest programmed
 * are *virtual*; what the core installs for them (a memslot, a KVM GSI route,
 * an IRTE, an NPT/EPT leaf) is *shadow*; host addresses and a route's host
 * interrupt source (a host eventfd, a host vector) are *physical*.  Names
 * below say which.
 */
#ifndef VFS_GLUE_H
#define VFS_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

struct glue;

/* Guest RAM: guest-physical [gpa, gpa+size) lives at host address hva. */
struct glue_ram_region {
	uint64_t gpa;
	uint64_t size;
	void *hva;
};

/* An access the core trapped.  `addr` is the GPA (MMIO) or port (PIO);
 * `size` is 1, 2, 4 or 8; `data` is little-endian, filled by the handler
 * on reads.  The handler returns 0, or a negative error for an access the
 * device refuses (out of its range, a width it does not take): the
 * bare-metal core fails that access as it fails one it cannot emulate; the
 * KVM core has no way to refuse one (a read returns what `data` holds). */
enum glue_space { GLUE_MMIO, GLUE_PIO };
typedef int (*glue_trap_fn)(void *ctx, uint64_t addr, uint8_t *data,
			    unsigned size, bool is_write);

/* A passed-through device's interrupt route: `host_src` is the physical
 * interrupt source, opaque to the device model — on the KVM core the
 * eventfd VFIO signals, on the bare-metal core the host vector our IRTE
 * delivers to (physical context); `virt_addr/virt_data` the MSI the guest
 * programmed (virtual context); the core keeps whatever it needs (shadow
 * context: on KVM a GSI route plus an irqfd, on bare metal the route from
 * host vector to guest vector). */
struct glue_msi_route;

struct glue_ops {
	int (*ram_regions)(struct glue *g, const struct glue_ram_region **regions, size_t *n);
	/* Map host memory (e.g. an mmapped BAR) at a guest-physical range;
	 * returns a handle in *slot for unmap. */
	int (*map_host_range)(struct glue *g, uint64_t gpa, void *hva, uint64_t size,
			      bool read_only, int *slot);
	int (*unmap_host_range)(struct glue *g, int slot);
	/* Trap [base, base+len) of MMIO or port space to fn(ctx,...). */
	int (*trap)(struct glue *g, enum glue_space space, uint64_t base, uint64_t len,
		    glue_trap_fn fn, void *ctx, int *trap_id);
	int (*untrap)(struct glue *g, int trap_id);
	/* Inject one MSI now (an emulated device's interrupt). */
	int (*deliver_msi)(struct glue *g, uint64_t virt_addr, uint32_t virt_data);
	/* Route a passed-through vector: host_src -> the guest's MSI.
	 * `masked` routes keep the source but inject nothing: what fires while
	 * masked stays pending (msi_route_pending) and is delivered once on
	 * unmask. */
	int (*msi_route_add)(struct glue *g, int host_src, uint64_t virt_addr,
			     uint32_t virt_data, bool masked, struct glue_msi_route **route);
	int (*msi_route_update)(struct glue *g, struct glue_msi_route *route,
				uint64_t virt_addr, uint32_t virt_data, bool masked);
	void (*msi_route_del)(struct glue *g, struct glue_msi_route *route);
	/* Whether a masked route's host source has fired since it was masked
	 * (the PBA bit the guest reads). */
	bool (*msi_route_pending)(struct glue *g, struct glue_msi_route *route);
	/* Level-triggered legacy line (serial, INTx); -PORT_ENOTSUP on a core
	 * without an IOAPIC model (the bare-metal core). */
	int (*set_irq_line)(struct glue *g, unsigned gsi, bool level);
	/* Signal `fd` (an eventfd) instead of exiting to a trap handler when
	 * the guest writes `len` bytes at MMIO `gpa`, whatever the value (an
	 * emulated device's doorbell); assign=false removes it.  Optional: a
	 * core without it leaves the op NULL and the write traps as usual. */
	int (*ioeventfd)(struct glue *g, uint64_t gpa, unsigned len, int fd, bool assign);
};

struct glue {
	const struct glue_ops *ops;
};

static inline int glue_ram_regions(struct glue *g, const struct glue_ram_region **r, size_t *n)
{ return g->ops->ram_regions(g, r, n); }
static inline int glue_map_host_range(struct glue *g, uint64_t gpa, void *hva, uint64_t size,
				      bool ro, int *slot)
{ return g->ops->map_host_range(g, gpa, hva, size, ro, slot); }
static inline int glue_unmap_host_range(struct glue *g, int slot)
{ return g->ops->unmap_host_range(g, slot); }
static inline int glue_trap(struct glue *g, enum glue_space s, uint64_t base, uint64_t len,
			    glue_trap_fn fn, void *ctx, int *id)
{ return g->ops->trap(g, s, base, len, fn, ctx, id); }
static inline int glue_untrap(struct glue *g, int id)
{ return g->ops->untrap(g, id); }
static inline int glue_deliver_msi(struct glue *g, uint64_t virt_addr, uint32_t virt_data)
{ return g->ops->deliver_msi(g, virt_addr, virt_data); }
static inline int glue_msi_route_add(struct glue *g, int host_src, uint64_t virt_addr,
				     uint32_t virt_data, bool masked, struct glue_msi_route **r)
{ return g->ops->msi_route_add(g, host_src, virt_addr, virt_data, masked, r); }
static inline int glue_msi_route_update(struct glue *g, struct glue_msi_route *r,
					uint64_t virt_addr, uint32_t virt_data, bool masked)
{ return g->ops->msi_route_update(g, r, virt_addr, virt_data, masked); }
static inline void glue_msi_route_del(struct glue *g, struct glue_msi_route *r)
{ g->ops->msi_route_del(g, r); }
static inline bool glue_msi_route_pending(struct glue *g, struct glue_msi_route *r)
{ return g->ops->msi_route_pending(g, r); }
static inline int glue_set_irq_line(struct glue *g, unsigned gsi, bool level)
{ return g->ops->set_irq_line(g, gsi, level); }
static inline int glue_ioeventfd(struct glue *g, uint64_t gpa, unsigned len, int fd, bool assign)
{ return g->ops->ioeventfd ? g->ops->ioeventfd(g, gpa, len, fd, assign) : -PORT_ENOTSUP; }

/* Little-endian helpers for trap handlers. */
static inline uint64_t glue_get_le(const uint8_t *d, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}
static inline void glue_put_le(uint8_t *d, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

#endif
