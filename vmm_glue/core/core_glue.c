/* core_glue.c — glue.h's contract on the bare-metal core (core_vm.h); what
 * each op does is in core_glue.h. */
#include "vmm_glue/core/core_glue.h"

#include "irq_remap/msi.h"
#include "port.h"

#define PAGE_MASK ((uint64_t)PORT_PAGE_SIZE - 1)
/* Vectors 0-31 are the CPU's exceptions (SDM Vol. 3A §6.2): no host
 * interrupt source uses them. */
#define FIRST_HOST_VECTOR 32

static const struct glue_ops core_glue_ops;

static struct core_glue *cg_of(struct glue *g) { return (struct core_glue *)g; }
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }
static bool overlaps_ram(const struct core_glue *cg, uint64_t gpa, uint64_t size);
static struct glue_msi_route *route_of(struct core_glue *cg, struct glue_msi_route *r);
static int msi_target(const struct core_glue *cg, uint64_t virt_addr, uint32_t virt_data, unsigned *vcpu,
		      uint8_t *virt_vector);
static int mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);
static int mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val);
static int pio_in(void *ctx, uint16_t port, unsigned size, uint32_t *val);
static int pio_out(void *ctx, uint16_t port, unsigned size, uint32_t val);

int core_glue_init(struct core_glue *cg, struct core_vm *vm, const struct ir_guest *guest,
		   struct core_vcpu *const *vcpus)
{
	if (!cg || !vm || !guest || !guest->n_vcpus || !vcpus)
		return -PORT_EINVAL;
	for (unsigned i = 0; i < guest->n_vcpus; i++)
		if (!vcpus[i] || vcpus[i]->vm != vm)
			return -PORT_EINVAL;
	*cg = (struct core_glue){ .glue = { &core_glue_ops }, .vm = vm, .guest = guest, .vcpus = vcpus };
	return 0;
}

int core_glue_add_ram(struct core_glue *cg, uint64_t gpa, uint64_t size)
{
	uint64_t hpa, entry;
	if (!size || gpa + size < gpa || core_vm_lookup(cg->vm, gpa, &hpa, &entry) || !(entry & EPT_RAM))
		return -PORT_EINVAL;
	if (overlaps_ram(cg, gpa, size))
		return -PORT_EEXIST;
	if (cg->n_ram == CORE_GLUE_MAX_RAM)
		return -PORT_ENOSPC;
	cg->ram[cg->n_ram++] = (struct glue_ram_region){ gpa, size, port_phys_to_virt(hpa) };
	return 0;
}

int core_glue_host_irq(struct core_glue *cg, uint8_t host_vector)
{
	for (unsigned i = 0; i < CORE_GLUE_MAX_ROUTES; i++) {
		struct glue_msi_route *r = &cg->routes[i];
		if (!r->used || r->host_vector != host_vector)
			continue;
		if (r->masked) {
			r->pending = true;
			return 1;
		}
		int rc = glue_deliver_msi(&cg->glue, r->virt_addr, r->virt_data);
		if (!rc)
			r->injected++;
		return rc;
	}
	return -PORT_ENOENT;
}

struct core_glue *core_glue_of(struct glue *g)
{
	return g && g->ops == &core_glue_ops ? cg_of(g) : NULL;
}

/* --- the ops ------------------------------------------------------------------ */

static int op_ram_regions(struct glue *g, const struct glue_ram_region **regions, size_t *n)
{
	*regions = cg_of(g)->ram;
	*n = cg_of(g)->n_ram;
	return 0;
}

/* A host range is device memory (a BAR): readable, writable unless
 * read_only, never executed, uncached (SDM Vol. 3C §28.2.6.2: the leaf's
 * memory type UC; ept.c writes NPT's equivalent). */
static int op_map_host_range(struct glue *g, uint64_t gpa, void *hva, uint64_t size, bool read_only, int *slot)
{
	struct core_glue *cg = cg_of(g);
	uint64_t hpa = port_virt_to_phys(hva);
	if (!size || ((gpa | hpa | size) & PAGE_MASK) || gpa + size < gpa)
		return -PORT_EINVAL;
	int free_slot = -1;
	for (int i = 0; i < CORE_GLUE_MAX_MAPS; i++) {
		if (!cg->maps[i].size) {
			if (free_slot < 0)
				free_slot = i;
		} else if (overlaps(gpa, size, cg->maps[i].gpa, cg->maps[i].size)) {
			return -PORT_EEXIST;
		}
	}
	if (overlaps_ram(cg, gpa, size) || core_vm_mmio_overlaps(cg->vm, gpa, size))
		return -PORT_EEXIST;
	if (free_slot < 0)
		return -PORT_ENOSPC;
	int rc = core_vm_map(cg->vm, gpa, hpa, size, EPT_R | (read_only ? 0 : EPT_W), EPT_MT_UC);
	if (rc)
		return rc;
	core_vm_flush(cg->vm);
	cg->maps[free_slot].gpa = gpa;
	cg->maps[free_slot].size = size;
	*slot = free_slot;
	return 0;
}

static int op_unmap_host_range(struct glue *g, int slot)
{
	struct core_glue *cg = cg_of(g);
	if (slot < 0 || slot >= CORE_GLUE_MAX_MAPS || !cg->maps[slot].size)
		return -PORT_ENOENT;
	int rc = core_vm_unmap(cg->vm, cg->maps[slot].gpa, cg->maps[slot].size);
	core_vm_flush(cg->vm);
	if (!rc)
		cg->maps[slot].size = 0;
	return rc;
}

static int op_trap(struct glue *g, enum glue_space space, uint64_t base, uint64_t len, glue_trap_fn fn, void *ctx,
		   int *trap_id)
{
	struct core_glue *cg = cg_of(g);
	if (!len || !fn || base + len < base || (space == GLUE_PIO && base + len > 0x10000) ||
	    (space == GLUE_MMIO && ((base | len) & PAGE_MASK)) || (space != GLUE_PIO && space != GLUE_MMIO))
		return -PORT_EINVAL;
	int id = -1;
	for (int i = 0; i < CORE_GLUE_MAX_TRAPS && id < 0; i++)
		if (!cg->traps[i].len)
			id = i;
	if (id < 0)
		return -PORT_ENOSPC;
	struct core_glue_trap *t = &cg->traps[id];
	int rc;
	if (space == GLUE_MMIO) {
		const struct core_mmio_ops ops = { mmio_read, mmio_write, t };
		rc = core_vm_trap_mmio(cg->vm, base, len, &ops);
	} else {
		const struct core_pio_ops ops = { pio_in, pio_out, t };
		rc = core_vm_trap_pio(cg->vm, (uint16_t)base, (unsigned)len, &ops);
	}
	if (rc)
		return rc;
	*t = (struct core_glue_trap){ space, base, len, fn, ctx };
	*trap_id = id;
	return 0;
}

static int op_untrap(struct glue *g, int trap_id)
{
	struct core_glue *cg = cg_of(g);
	if (trap_id < 0 || trap_id >= CORE_GLUE_MAX_TRAPS || !cg->traps[trap_id].len)
		return -PORT_ENOENT;
	struct core_glue_trap *t = &cg->traps[trap_id];
	int rc = t->space == GLUE_MMIO ? core_vm_untrap_mmio(cg->vm, t->base) : core_vm_untrap_pio(cg->vm, (uint16_t)t->base);
	if (!rc)
		t->len = 0;
	return rc;
}

static int op_deliver_msi(struct glue *g, uint64_t virt_addr, uint32_t virt_data)
{
	struct core_glue *cg = cg_of(g);
	unsigned vcpu;
	uint8_t virt_vector;
	int rc = msi_target(cg, virt_addr, virt_data, &vcpu, &virt_vector);
	if (!rc)
		core_vcpu_inject_irq(cg->vcpus[vcpu], virt_vector);
	return rc;
}

/* host_src is the host vector the route's IRTE delivers to (physical). */
static int op_msi_route_add(struct glue *g, int host_src, uint64_t virt_addr, uint32_t virt_data, bool masked,
			    struct glue_msi_route **route)
{
	struct core_glue *cg = cg_of(g);
	unsigned vcpu;
	uint8_t virt_vector;
	if (host_src < FIRST_HOST_VECTOR || host_src > 0xff)
		return -PORT_EINVAL;
	if (!masked) {
		int rc = msi_target(cg, virt_addr, virt_data, &vcpu, &virt_vector);
		if (rc)
			return rc;
	}
	struct glue_msi_route *free_r = NULL;
	for (unsigned i = 0; i < CORE_GLUE_MAX_ROUTES; i++) {
		struct glue_msi_route *r = &cg->routes[i];
		if (r->used && r->host_vector == host_src)
			return -PORT_EEXIST;
		if (!r->used && !free_r)
			free_r = r;
	}
	if (!free_r)
		return -PORT_ENOSPC;
	*free_r = (struct glue_msi_route){ true, (uint8_t)host_src, virt_addr, virt_data, masked, false, 0 };
	*route = free_r;
	return 0;
}

/* Unmasking delivers what fired while masked, once, to the new message
 * (PCI Local Bus 3.0 §6.8.3.4: a pending message is sent when unmasked). */
static int op_msi_route_update(struct glue *g, struct glue_msi_route *route, uint64_t virt_addr, uint32_t virt_data,
			       bool masked)
{
	struct core_glue *cg = cg_of(g);
	struct glue_msi_route *r = route_of(cg, route);
	unsigned vcpu = 0;
	uint8_t virt_vector = 0;
	if (!r)
		return -PORT_ENOENT;
	if (!masked) {
		int rc = msi_target(cg, virt_addr, virt_data, &vcpu, &virt_vector);
		if (rc)
			return rc;
	}
	r->virt_addr = virt_addr;
	r->virt_data = virt_data;
	r->masked = masked;
	if (!masked && r->pending) {
		r->pending = false;
		core_vcpu_inject_irq(cg->vcpus[vcpu], virt_vector);
		r->injected++;
	}
	return 0;
}

static void op_msi_route_del(struct glue *g, struct glue_msi_route *route)
{
	struct glue_msi_route *r = route_of(cg_of(g), route);
	if (r)
		*r = (struct glue_msi_route){ .used = false };
}

static bool op_msi_route_pending(struct glue *g, struct glue_msi_route *route)
{
	struct glue_msi_route *r = route_of(cg_of(g), route);
	return r && r->pending;
}

static int op_set_irq_line(struct glue *g, unsigned gsi, bool level)
{
	(void)g, (void)gsi, (void)level;
	return -PORT_ENOTSUP;   /* no IOAPIC model on this core */
}

static const struct glue_ops core_glue_ops = {
	.ram_regions = op_ram_regions,
	.map_host_range = op_map_host_range,
	.unmap_host_range = op_unmap_host_range,
	.trap = op_trap,
	.untrap = op_untrap,
	.deliver_msi = op_deliver_msi,
	.msi_route_add = op_msi_route_add,
	.msi_route_update = op_msi_route_update,
	.msi_route_del = op_msi_route_del,
	.msi_route_pending = op_msi_route_pending,
	.set_irq_line = op_set_irq_line,
	.ioeventfd = NULL,
};

/* --- helpers ------------------------------------------------------------------ */

static bool overlaps_ram(const struct core_glue *cg, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < cg->n_ram; i++)
		if (overlaps(gpa, size, cg->ram[i].gpa, cg->ram[i].size))
			return true;
	return false;
}

/* A route handle this core gave out and has not taken back, or NULL. */
static struct glue_msi_route *route_of(struct core_glue *cg, struct glue_msi_route *r)
{
	if (r < cg->routes || r >= cg->routes + CORE_GLUE_MAX_ROUTES || !r->used)
		return NULL;
	return r;
}

/* The guest's MSI, compatibility format (Intel SDM Vol. 3A §11.11.1
 * "Message Address Register Format", §11.11.2 "Message Data Register
 * Format"; VT-d 5.1.2.1), to one vCPU and guest vector by the rules the
 * IRTE path applies (irq_remap/ir_route.h): -PORT_EINVAL for a message that
 * is not a valid interrupt to this guest (not 0xFEExxxxx, a reserved
 * vector, a destination no vCPU owns), -PORT_ENOTSUP for one this core
 * cannot deliver (SMI, NMI, INIT, ExtINT, level-triggered, fixed to several
 * vCPUs). */
static int msi_target(const struct core_glue *cg, uint64_t virt_addr, uint32_t virt_data, unsigned *vcpu,
		      uint8_t *virt_vector)
{
	const struct msi_msg virt_msi = { (uint32_t)virt_addr, (uint32_t)(virt_addr >> 32), virt_data };
	return ir_guest_msi_target(cg->guest, &virt_msi, vcpu, virt_vector);
}

/* --- trap adapters: core_vm's MMIO / port ops -> glue_trap_fn ------------------- */

static int mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	const struct core_glue_trap *t = ctx;
	uint8_t d[8] = { 0 };
	if (size == 0 || size > 8)
		return -PORT_EINVAL;
	int rc = t->fn(t->ctx, gpa, d, size, false);
	*val = glue_get_le(d, size);
	return rc;
}

static int mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	const struct core_glue_trap *t = ctx;
	uint8_t d[8];
	if (size == 0 || size > 8)
		return -PORT_EINVAL;
	glue_put_le(d, size, val);
	return t->fn(t->ctx, gpa, d, size, true);
}

static int pio_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	uint64_t v = ~0ull;
	int rc = mmio_read(ctx, port, size > 4 ? 0 : size, &v);
	*val = (uint32_t)v;
	return rc;
}

static int pio_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	return mmio_write(ctx, port, size > 4 ? 0 : size, val);
}
