/*
 * glue.h — the VMX-core contract: what a core (Linux KVM here; the bare-metal
 * VMX core later) provides to the device models above it.  The passthrough
 * device, the PCI bus and the emulated vNIC use only this header, so they run
 * on either core.  See docs/vmm_glue.md.
 *
 * Contexts (DESIGN.md): a GPA and the MSI address/data the guest programmed
 * are *virtual*; what the core installs for them (a memslot, a KVM GSI route,
 * an IRTE) is *shadow*; host addresses, host eventfds and host vectors are
 * *physical*.  Names below say which.
 */
#ifndef VFS_GLUE_H
#define VFS_GLUE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct glue;

/* Guest RAM: guest-physical [gpa, gpa+size) lives at host address hva. */
struct glue_ram_region {
	uint64_t gpa;
	uint64_t size;
	void *hva;
};

/* An access the core trapped.  `addr` is the GPA (MMIO) or port (PIO);
 * `size` is 1, 2, 4 or 8; `data` is little-endian, filled by the handler
 * on reads. */
enum glue_space { GLUE_MMIO, GLUE_PIO };
typedef void (*glue_trap_fn)(void *ctx, uint64_t addr, uint8_t *data,
			     unsigned size, bool is_write);

/* A passed-through device's interrupt route: `host_eventfd` is the eventfd
 * VFIO signals (physical context); `virt_addr/virt_data` the MSI the guest
 * programmed (virtual context); the core keeps whatever it needs (shadow
 * context: on KVM a GSI route plus an irqfd, on bare metal an IRTE). */
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
	/* Route a passed-through vector: host_eventfd -> the guest's MSI.
	 * `masked` routes keep the eventfd but inject nothing (pending stays in
	 * the eventfd, readable by glue_msi_route_pending). */
	int (*msi_route_add)(struct glue *g, int host_eventfd, uint64_t virt_addr,
			     uint32_t virt_data, bool masked, struct glue_msi_route **route);
	int (*msi_route_update)(struct glue *g, struct glue_msi_route *route,
				uint64_t virt_addr, uint32_t virt_data, bool masked);
	void (*msi_route_del)(struct glue *g, struct glue_msi_route *route);
	/* Level-triggered legacy line (serial, INTx). */
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
static inline int glue_msi_route_add(struct glue *g, int host_eventfd, uint64_t virt_addr,
				     uint32_t virt_data, bool masked, struct glue_msi_route **r)
{ return g->ops->msi_route_add(g, host_eventfd, virt_addr, virt_data, masked, r); }
static inline int glue_msi_route_update(struct glue *g, struct glue_msi_route *r,
					uint64_t virt_addr, uint32_t virt_data, bool masked)
{ return g->ops->msi_route_update(g, r, virt_addr, virt_data, masked); }
static inline void glue_msi_route_del(struct glue *g, struct glue_msi_route *r)
{ g->ops->msi_route_del(g, r); }
static inline int glue_set_irq_line(struct glue *g, unsigned gsi, bool level)
{ return g->ops->set_irq_line(g, gsi, level); }
static inline int glue_ioeventfd(struct glue *g, uint64_t gpa, unsigned len, int fd, bool assign)
{ return g->ops->ioeventfd ? g->ops->ioeventfd(g, gpa, len, fd, assign) : -ENOTSUP; }

/* Whether a masked route's eventfd has fired since (the PBA bit). */
bool glue_eventfd_pending(int host_eventfd);

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
