/*
 * core_glue.h — the bare-metal core implements the device-model contract
 * (vmm_glue/glue.h) over a struct core_vm and its vCPUs, so a device model
 * written on glue.h runs on this core as on the KVM core.  Freestanding: all
 * state lives in struct core_glue (fixed tables, no allocation).
 *
 * What each op does here (docs/vmm_glue.md has both cores side by side):
 *   ram_regions        the guest RAM the VMM registered (core_glue_add_ram);
 *                      hva is the host address of its HPA (identity-mapped
 *                      on bare metal, port_phys_to_virt)
 *   map_host_range     core_vm_map GPA -> port_virt_to_phys(hva), read and
 *                      write (read_only: no write), no execute, uncached;
 *                      then core_vm_flush
 *   unmap_host_range   core_vm_unmap + core_vm_flush
 *   trap / untrap      MMIO: core_vm_trap_mmio (the range leaves the map;
 *                      whole pages only: an EPT violation / #NPF is per
 *                      page); PIO: core_vm_trap_pio
 *   deliver_msi        the guest's compatibility-format MSI resolved to
 *                      one vCPU and guest vector by the rules the IRTE path
 *                      uses (ir_guest_msi_target: fixed or lowest-priority,
 *                      edge), the vector injected (core_vcpu_inject_irq)
 *   msi_route_*        host_src is the host vector our IRTE delivers to;
 *                      core_glue_host_irq, called from the VMM's
 *                      external-interrupt handler, injects the route's guest
 *                      vector, or, masked, marks it pending
 *   set_irq_line       -PORT_ENOTSUP: this core has no IOAPIC model
 *   ioeventfd          NULL (a doorbell write traps as usual)
 *
 * Contexts (DESIGN.md): virt_addr/virt_data and guest vectors are virtual;
 * the map leaves and the routes are shadow; host vectors and HPAs are
 * physical.
 */
#ifndef VFS_CORE_GLUE_H
#define VFS_CORE_GLUE_H

#include <stdbool.h>
#include <stdint.h>

#include "irq_remap/ir_route.h"
#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/glue.h"

#define CORE_GLUE_MAX_RAM 4
#define CORE_GLUE_MAX_MAPS 8
#define CORE_GLUE_MAX_TRAPS (CORE_MAX_MMIO + CORE_MAX_PIO)
/* One passed-through function's MSI plus a full guest MSI-X table
 * (BMPT_MSIX_MAX), twice. */
#define CORE_GLUE_MAX_ROUTES 66

/* A route on this core (glue.h leaves the type to the core). */
struct glue_msi_route {
	bool used;
	uint8_t host_vector;   /* physical: where our IRTE delivers */
	uint64_t virt_addr;    /* virtual: the MSI the guest programmed */
	uint32_t virt_data;
	bool masked;
	bool pending;          /* the host vector fired while masked */
	uint64_t injected;     /* guest vectors injected from it */
};

struct core_glue_trap {
	enum glue_space space;
	uint64_t base, len;    /* len 0: a free slot */
	glue_trap_fn fn;
	void *ctx;
};

struct core_glue {
	struct glue glue;              /* hand &cg->glue to device models */
	struct core_vm *vm;
	/* virtual: the guest's vCPUs as its MSIs name them (APIC IDs, logical
	 * IDs, destination model) ... */
	const struct ir_guest *guest;
	struct core_vcpu *const *vcpus;   /* ... and the core's, same order */
	struct glue_ram_region ram[CORE_GLUE_MAX_RAM];
	unsigned n_ram;
	struct { uint64_t gpa, size; } maps[CORE_GLUE_MAX_MAPS];   /* size 0: free */
	struct core_glue_trap traps[CORE_GLUE_MAX_TRAPS];
	struct glue_msi_route routes[CORE_GLUE_MAX_ROUTES];
};

/* The contract over vm and its vCPUs: vcpus[i] is guest->vcpus[i]
 * (guest->n_vcpus of each, all of vm; both kept by pointer).  0 or
 * -PORT_EINVAL. */
int core_glue_init(struct core_glue *cg, struct core_vm *vm, const struct ir_guest *guest,
		   struct core_vcpu *const *vcpus);
/* Guest RAM [gpa, gpa+size) the VMM mapped (core_vm_map with EPT_RAM), for
 * ram_regions.  -PORT_EINVAL (empty, wrapping, or not mapped as RAM there),
 * -PORT_EEXIST (overlaps a region), -PORT_ENOSPC. */
int core_glue_add_ram(struct core_glue *cg, uint64_t gpa, uint64_t size);
/* Host vector `host_vector` arrived (the external-interrupt exit or an IDT
 * handler): the route whose host_src it is injects its guest vector (0), or
 * records it pending while masked (1).  -PORT_ENOENT: no route has it;
 * a route whose guest MSI cannot be delivered: deliver_msi's error. */
int core_glue_host_irq(struct core_glue *cg, uint8_t host_vector);
/* The core_glue whose glue g is, or NULL when g is another core's. */
struct core_glue *core_glue_of(struct glue *g);

#endif
