/* The device-model contract (vmm_glue/glue.h) on the bare-metal core
 * (vmm_glue/core/core_glue.c), driven only through the glue_* wrappers, with
 * what landed read back from the core: the map (core_vm_lookup), the trap
 * registry (core_vm_mmio_access, a port exit through core_handle_exit), the
 * vCPU's pending interrupt (core_vcpu_irq_to_inject).  The host port's pages
 * are heap memory with virt == phys. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "port.h"
#include "port/host/port_host.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/vmx/vmx_caps.h"
#include "vmm_glue/glue.h"

#define APIC_ID 2u
#define LOGICAL_ID 0x04u   /* xAPIC flat model: LDR[31:24] */
#define MSI(dest) (0xfee00000ull | (uint64_t)(dest) << 12)   /* physical destination mode */

static unsigned flushes;
static void fake_flush(struct core_vm *vm) { (void)vm; flushes++; }
static uint8_t io_bitmap[8192];
static int fake_trap_io(struct core_vm *vm, uint16_t port, unsigned count, bool on)
{
	(void)vm;
	for (unsigned p = port; p < port + count; p++)
		io_bitmap[p / 8] = (uint8_t)(on ? io_bitmap[p / 8] | 1u << (p % 8) : io_bitmap[p / 8] & ~(1u << (p % 8)));
	return 0;
}
static void fake_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) { (void)leaf; (void)sub; memset(r, 0, 16); }
/* Every vector goes to the core's pending state, where the test reads it. */
static const struct core_backend fake = { "fake", fake_flush, fake_trap_io, fake_cpuid, NULL };

struct bm {
	struct core_vm vm;
	struct core_vcpu vcpu;
	struct ir_vcpu ir_vcpu;
	struct ir_guest guest;
	struct core_vcpu *vcpus[1];
	struct core_glue cg;
	struct glue *g;
	void *ram;           /* 2 pages of guest RAM at GPA 0x100000 */
};

static void bm_init(struct bm *b)
{
	assert_int_equal(core_vm_init(&b->vm, &fake, EPT_FMT_EPT, EPT_CAP_2M, NULL, NULL), 0);
	core_vcpu_init(&b->vcpu, &b->vm);
	b->ir_vcpu = (struct ir_vcpu){ .virt_apic_id = APIC_ID, .virt_logical_id = LOGICAL_ID };
	b->guest = (struct ir_guest){ .name = "t", .vcpus = &b->ir_vcpu, .n_vcpus = 1 };
	b->vcpus[0] = &b->vcpu;
	assert_int_equal(core_glue_init(&b->cg, &b->vm, &b->guest, b->vcpus), 0);
	b->g = &b->cg.glue;
	b->ram = port_pages_alloc(2);
	assert_non_null(b->ram);
	assert_int_equal(core_vm_map(&b->vm, 0x100000, port_virt_to_phys(b->ram), 0x2000, EPT_RWX | EPT_RAM, EPT_MT_WB), 0);
}

static void bm_fini(struct bm *b)
{
	core_vm_destroy(&b->vm);
	port_pages_free(b->ram, 2);
}

/* The vector the core would inject now, or -1 (and nothing stays pending). */
static int injected(struct bm *b)
{
	bool window;
	return core_vcpu_irq_to_inject(&b->vcpu, true, &window);
}

static void ram_regions_are_what_the_vmm_registered(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	const struct glue_ram_region *r;
	size_t n = 99;
	assert_int_equal(glue_ram_regions(b.g, &r, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(core_glue_add_ram(&b.cg, 0x100000, 0x2000), 0);
	assert_int_equal(glue_ram_regions(b.g, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].gpa, 0x100000);
	assert_int_equal(r[0].size, 0x2000);
	assert_ptr_equal(r[0].hva, b.ram);                                        /* identity: the HPA's host address */
	assert_int_equal(core_glue_add_ram(&b.cg, 0x101000, 0x1000), -PORT_EEXIST);
	assert_int_equal(core_glue_add_ram(&b.cg, 0x400000, 0x1000), -PORT_EINVAL);  /* not mapped */
	assert_int_equal(core_glue_add_ram(&b.cg, 0x100000, 0), -PORT_EINVAL);
	bm_fini(&b);
}

static void a_host_range_lands_in_the_map_and_leaves_it(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	void *bar = port_pages_alloc(2);
	assert_non_null(bar);
	uint64_t bar_hpa = port_virt_to_phys(bar), hpa, entry;
	int rw, ro;
	flushes = 0;
	assert_int_equal(glue_map_host_range(b.g, 0xc0000000, bar, 0x1000, false, &rw), 0);
	assert_int_equal(flushes, 1);
	assert_int_equal(core_vm_lookup(&b.vm, 0xc0000000, &hpa, &entry), 0);
	assert_int_equal(hpa, bar_hpa);
	assert_true(entry & EPT_R);
	assert_true(entry & EPT_W);
	assert_false(entry & EPT_X);
	assert_false(entry & EPT_RAM);                         /* the core's own reads never touch it */
	assert_int_equal(glue_map_host_range(b.g, 0xc0001000, (uint8_t *)bar + 0x1000, 0x1000, true, &ro), 0);
	assert_int_equal(core_vm_lookup(&b.vm, 0xc0001000, &hpa, &entry), 0);
	assert_int_equal(hpa, bar_hpa + 0x1000);
	assert_true(entry & EPT_R);
	assert_false(entry & EPT_W);                           /* read_only */
	assert_int_not_equal(rw, ro);
	/* refused: overlapping, unaligned, empty, over RAM */
	int slot = -7;
	assert_int_equal(glue_map_host_range(b.g, 0xc0001000, bar, 0x1000, false, &slot), -PORT_EEXIST);
	assert_int_equal(glue_map_host_range(b.g, 0xc0002800, bar, 0x1000, false, &slot), -PORT_EINVAL);
	assert_int_equal(glue_map_host_range(b.g, 0xc0002000, (uint8_t *)bar + 8, 0x1000, false, &slot), -PORT_EINVAL);
	assert_int_equal(glue_map_host_range(b.g, 0xc0002000, bar, 0, false, &slot), -PORT_EINVAL);
	assert_int_equal(core_glue_add_ram(&b.cg, 0x100000, 0x2000), 0);
	assert_int_equal(glue_map_host_range(b.g, 0x101000, bar, 0x1000, false, &slot), -PORT_EEXIST);
	assert_int_equal(slot, -7);
	flushes = 0;
	assert_int_equal(glue_unmap_host_range(b.g, rw), 0);
	assert_int_equal(flushes, 1);
	assert_int_equal(core_vm_lookup(&b.vm, 0xc0000000, &hpa, &entry), -PORT_ENOENT);
	assert_int_equal(core_vm_lookup(&b.vm, 0xc0001000, &hpa, &entry), 0);    /* the other stays */
	assert_int_equal(glue_unmap_host_range(b.g, rw), -PORT_ENOENT);
	assert_int_equal(glue_unmap_host_range(b.g, -1), -PORT_ENOENT);
	assert_int_equal(glue_unmap_host_range(b.g, 1000), -PORT_ENOENT);
	assert_int_equal(glue_unmap_host_range(b.g, ro), 0);
	assert_int_equal(core_vm_lookup(&b.vm, 0xc0001000, &hpa, &entry), -PORT_ENOENT);
	bm_fini(&b);
	port_pages_free(bar, 2);
}

/* A device model: records the last access, answers reads with `answer`. */
struct dev {
	unsigned calls;
	uint64_t addr, data;
	unsigned size;
	bool is_write;
	uint64_t answer;
	int rc;             /* what the handler returns */
};
static int dev_fn(void *ctx, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	struct dev *d = ctx;
	d->calls++;
	d->addr = addr;
	d->size = size;
	d->is_write = is_write;
	if (is_write)
		d->data = glue_get_le(data, size);
	else
		glue_put_le(data, size, d->answer);
	return d->rc;
}

static void a_trapped_mmio_access_reaches_the_handler(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	struct dev d = { .answer = 0x1122334455667788ull };
	int id, other = -7;
	assert_int_equal(glue_trap(b.g, GLUE_MMIO, 0xd0000000, 0x1000, dev_fn, &d, &id), 0);
	uint64_t val = 0xdeadbeef;
	assert_int_equal(core_vm_mmio_access(&b.vm, 0xd0000010, true, 4, &val), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.addr, 0xd0000010);
	assert_int_equal(d.size, 4);
	assert_true(d.is_write);
	assert_int_equal(d.data, 0xdeadbeef);
	val = 0;
	assert_int_equal(core_vm_mmio_access(&b.vm, 0xd0000ff8, false, 8, &val), 0);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.addr, 0xd0000ff8);
	assert_int_equal(d.size, 8);
	assert_false(d.is_write);
	assert_int_equal(val, 0x1122334455667788ull);
	val = 0;
	assert_int_equal(core_vm_mmio_access(&b.vm, 0xd0000002, false, 2, &val), 0);
	assert_int_equal(val, 0x7788);
	d.rc = -PORT_EINVAL;                                                    /* the device refuses */
	assert_int_equal(core_vm_mmio_access(&b.vm, 0xd0000003, true, 1, &val), -PORT_EINVAL);
	assert_int_equal(core_vm_mmio_access(&b.vm, 0xd0000003, false, 1, &val), -PORT_EINVAL);
	d.rc = 0;
	/* refused: an overlapping trap, an empty one, a bad handler */
	assert_int_equal(glue_trap(b.g, GLUE_MMIO, 0xcffff000, 0x2000, dev_fn, &d, &other), -PORT_EEXIST);
	assert_int_equal(glue_trap(b.g, GLUE_MMIO, 0xd0004000, 0, dev_fn, &d, &other), -PORT_EINVAL);
	assert_int_equal(glue_trap(b.g, GLUE_MMIO, 0xd0004000, 0x1000, NULL, &d, &other), -PORT_EINVAL);
	assert_int_equal(glue_trap(b.g, GLUE_MMIO, 0xd0004800, 0x800, dev_fn, &d, &other), -PORT_EINVAL); /* pages only */
	assert_int_equal(other, -7);
	assert_int_equal(glue_untrap(b.g, id), 0);
	assert_int_equal(core_vm_mmio_access(&b.vm, 0xd0000010, false, 4, &val), -PORT_ENOENT);
	assert_int_equal(d.calls, 5);
	assert_int_equal(glue_untrap(b.g, id), -PORT_ENOENT);
	assert_int_equal(glue_untrap(b.g, -1), -PORT_ENOENT);
	/* the slot is free again */
	assert_int_equal(glue_trap(b.g, GLUE_MMIO, 0xd0000000, 0x2000, dev_fn, &d, &other), 0);
	bm_fini(&b);
}

static void a_trapped_port_access_reaches_the_handler(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	struct dev d = { .answer = 0xa5 };
	int id, other = -7;
	memset(io_bitmap, 0, sizeof(io_bitmap));
	assert_int_equal(glue_trap(b.g, GLUE_PIO, 0x3f8, 8, dev_fn, &d, &id), 0);
	assert_true(io_bitmap[0x3f9 / 8] & 1u << (0x3f9 % 8));                 /* the backend makes it exit */
	struct core_exit e = { .reason = CORE_EXIT_IO, .io = { 0x3f9, 1, false } };
	b.vcpu.gpr[GPR_RAX] = 0x1234565a;
	assert_int_equal(core_handle_exit(&b.vcpu, &e), CORE_CONTINUE);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.addr, 0x3f9);
	assert_int_equal(d.size, 1);
	assert_true(d.is_write);
	assert_int_equal(d.data, 0x5a);
	e = (struct core_exit){ .reason = CORE_EXIT_IO, .io = { 0x3fc, 2, true } };
	assert_int_equal(core_handle_exit(&b.vcpu, &e), CORE_CONTINUE);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.addr, 0x3fc);
	assert_int_equal(d.size, 2);
	assert_false(d.is_write);
	assert_int_equal(b.vcpu.gpr[GPR_RAX], 0x123400a5);                      /* IN AX: the handler's bytes */
	/* refused: overlapping, past port 0xffff, empty */
	assert_int_equal(glue_trap(b.g, GLUE_PIO, 0x3fc, 8, dev_fn, &d, &other), -PORT_EEXIST);
	assert_int_equal(glue_trap(b.g, GLUE_PIO, 0xfffe, 4, dev_fn, &d, &other), -PORT_EINVAL);
	assert_int_equal(glue_trap(b.g, GLUE_PIO, 0x10000, 1, dev_fn, &d, &other), -PORT_EINVAL);
	assert_int_equal(glue_trap(b.g, GLUE_PIO, 0x80, 0, dev_fn, &d, &other), -PORT_EINVAL);
	assert_int_equal(other, -7);
	assert_int_equal(glue_untrap(b.g, id), 0);
	assert_false(io_bitmap[0x3f9 / 8] & 1u << (0x3f9 % 8));
	e = (struct core_exit){ .reason = CORE_EXIT_IO, .io = { 0x3f9, 1, true } };
	assert_int_equal(core_handle_exit(&b.vcpu, &e), CORE_CONTINUE);
	assert_int_equal(d.calls, 2);                                           /* no longer ours */
	assert_int_equal(b.vcpu.gpr[GPR_RAX] & 0xff, 0xff);                     /* the default: all ones */
	bm_fini(&b);
}

static void deliver_msi_injects_the_guests_vector(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	assert_int_equal(injected(&b), -1);
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID), 0x41), 0);
	assert_int_equal(injected(&b), 0x41);
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID), 0x100 | 0x52), 0);   /* lowest priority */
	assert_int_equal(injected(&b), 0x52);
	assert_int_equal(glue_deliver_msi(b.g, MSI(0xff), 0x53), 0);              /* broadcast: our one vCPU */
	assert_int_equal(injected(&b), 0x53);
	/* refused, nothing injected */
	assert_int_equal(glue_deliver_msi(b.g, 0xfed00000, 0x41), -PORT_EINVAL);   /* not an MSI address */
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID) | 1ull << 32, 0x41), -PORT_EINVAL);
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID) | 0x10, 0x41), -PORT_EINVAL);  /* remappable format */
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID + 1), 0x41), -PORT_EINVAL);    /* no such vCPU */
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID), 0x0f), -PORT_EINVAL);        /* reserved vector */
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID), 0x400 | 0x41), -PORT_ENOTSUP); /* NMI */
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID), 0x200 | 0x41), -PORT_ENOTSUP); /* SMI */
	assert_int_equal(glue_deliver_msi(b.g, MSI(APIC_ID), 0xc041), -PORT_ENOTSUP);       /* level */
	assert_int_equal(glue_deliver_msi(b.g, MSI(1) | 0x4, 0x41), -PORT_EINVAL);          /* logical: no one's */
	assert_int_equal(injected(&b), -1);
	assert_int_equal(glue_deliver_msi(b.g, MSI(LOGICAL_ID) | 0x4, 0x54), 0);            /* logical: ours */
	assert_int_equal(injected(&b), 0x54);
	/* no IOAPIC, no ioeventfd on this core */
	assert_int_equal(glue_set_irq_line(b.g, 4, true), -PORT_ENOTSUP);
	assert_int_equal(glue_ioeventfd(b.g, 0xd0000000, 2, 3, true), -PORT_ENOTSUP);
	bm_fini(&b);
}

static void a_route_follows_its_host_vector_and_mask(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	struct glue_msi_route *r = NULL, *r2 = NULL;
	assert_int_equal(glue_msi_route_add(b.g, 0x60, MSI(APIC_ID), 0x45, false, &r), 0);
	assert_non_null(r);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x61), -PORT_ENOENT);          /* not ours */
	assert_int_equal(injected(&b), -1);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x60), 0);
	assert_int_equal(injected(&b), 0x45);
	assert_false(glue_msi_route_pending(b.g, r));
	/* masked: nothing injected, the source's firing is pending */
	assert_int_equal(glue_msi_route_update(b.g, r, MSI(APIC_ID), 0x45, true), 0);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x60), 1);
	assert_int_equal(injected(&b), -1);
	assert_true(glue_msi_route_pending(b.g, r));
	/* unmasked with a new message: the pending one is delivered there, once */
	assert_int_equal(glue_msi_route_update(b.g, r, MSI(APIC_ID), 0x46, false), 0);
	assert_false(glue_msi_route_pending(b.g, r));
	assert_int_equal(injected(&b), 0x46);
	assert_int_equal(injected(&b), -1);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x60), 0);
	assert_int_equal(injected(&b), 0x46);                                      /* re-targeted */
	/* a second route on its own vector */
	assert_int_equal(glue_msi_route_add(b.g, 0x61, MSI(APIC_ID), 0x47, true, &r2), 0);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x61), 1);
	assert_true(glue_msi_route_pending(b.g, r2));
	assert_false(glue_msi_route_pending(b.g, r));
	/* refused: a host vector taken or out of range, a bad message on unmask */
	struct glue_msi_route *bad = NULL;
	assert_int_equal(glue_msi_route_add(b.g, 0x60, MSI(APIC_ID), 0x48, false, &bad), -PORT_EEXIST);
	assert_int_equal(glue_msi_route_add(b.g, 0x1f, MSI(APIC_ID), 0x48, false, &bad), -PORT_EINVAL);
	assert_int_equal(glue_msi_route_add(b.g, 0x100, MSI(APIC_ID), 0x48, false, &bad), -PORT_EINVAL);
	assert_int_equal(glue_msi_route_add(b.g, -1, MSI(APIC_ID), 0x48, false, &bad), -PORT_EINVAL);
	assert_int_equal(glue_msi_route_add(b.g, 0x62, 0xfed00000, 0x48, false, &bad), -PORT_EINVAL);
	assert_null(bad);
	assert_int_equal(glue_msi_route_update(b.g, r2, 0xfed00000, 0x47, false), -PORT_EINVAL);
	assert_true(glue_msi_route_pending(b.g, r2));                              /* kept, still masked */
	assert_int_equal(injected(&b), -1);
	assert_int_equal(glue_msi_route_update(b.g, r2, MSI(APIC_ID), 0x48, true), 0);  /* masked to masked */
	assert_true(glue_msi_route_pending(b.g, r2));
	assert_int_equal(injected(&b), -1);
	/* a masked route may hold a message not yet programmed (a virtio vector) */
	struct glue_msi_route *blank = NULL;
	assert_int_equal(glue_msi_route_add(b.g, 0x62, 0, 0, true, &blank), 0);
	glue_msi_route_del(b.g, blank);
	/* deleted: its vector is no one's, its handle refused */
	glue_msi_route_del(b.g, r);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x60), -PORT_ENOENT);
	assert_int_equal(injected(&b), -1);
	assert_int_equal(glue_msi_route_update(b.g, r, MSI(APIC_ID), 0x46, false), -PORT_ENOENT);
	glue_msi_route_del(b.g, r);                                                /* twice: harmless */
	glue_msi_route_del(b.g, NULL);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x61), 1);                      /* the other still works */
	/* the freed vector can be routed again */
	assert_int_equal(glue_msi_route_add(b.g, 0x60, MSI(APIC_ID), 0x49, false, &r), 0);
	assert_int_equal(core_glue_host_irq(&b.cg, 0x60), 0);
	assert_int_equal(injected(&b), 0x49);
	bm_fini(&b);
}

static void routes_are_a_fixed_table(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	struct glue_msi_route *r;
	unsigned n = 0;
	for (int v = 0x20; v < 0x100 && n < CORE_GLUE_MAX_ROUTES; v++, n++)
		assert_int_equal(glue_msi_route_add(b.g, v, MSI(APIC_ID), 0x40, true, &r), 0);
	assert_int_equal(n, CORE_GLUE_MAX_ROUTES);
	assert_int_equal(glue_msi_route_add(b.g, 0xfe, MSI(APIC_ID), 0x40, true, &r), -PORT_ENOSPC);
	struct core_glue cg;
	assert_int_equal(core_glue_init(&cg, NULL, &b.guest, b.vcpus), -PORT_EINVAL);
	assert_int_equal(core_glue_init(&cg, &b.vm, NULL, b.vcpus), -PORT_EINVAL);
	assert_int_equal(core_glue_init(&cg, &b.vm, &b.guest, NULL), -PORT_EINVAL);
	struct core_vm other;
	struct core_vcpu stray;
	core_vcpu_init(&stray, &other);
	struct core_vcpu *strays[1] = { &stray };
	assert_int_equal(core_glue_init(&cg, &b.vm, &b.guest, strays), -PORT_EINVAL);   /* another VM's */
	bm_fini(&b);
}

/* Two vCPUs: a message reaches the one it names, never the other. */
static void an_msi_reaches_the_vcpu_it_names(void **state)
{
	(void)state;
	struct bm b;
	bm_init(&b);
	struct core_vcpu v1;
	core_vcpu_init(&v1, &b.vm);
	struct ir_vcpu irv[2] = { { .virt_apic_id = 0, .virt_logical_id = 1 }, { .virt_apic_id = 1, .virt_logical_id = 2 } };
	struct ir_guest two = { .name = "two", .vcpus = irv, .n_vcpus = 2 };
	struct core_vcpu *vcpus[2] = { &b.vcpu, &v1 };
	struct core_glue cg;
	assert_int_equal(core_glue_init(&cg, &b.vm, &two, vcpus), 0);
	bool w;
	assert_int_equal(glue_deliver_msi(&cg.glue, MSI(1), 0x61), 0);
	assert_int_equal(core_vcpu_irq_to_inject(&v1, true, &w), 0x61);
	assert_int_equal(injected(&b), -1);
	assert_int_equal(glue_deliver_msi(&cg.glue, MSI(1) | 0x4, 0x62), 0);            /* logical 1: vCPU 0 */
	assert_int_equal(injected(&b), 0x62);
	assert_int_equal(core_vcpu_irq_to_inject(&v1, true, &w), -1);
	assert_int_equal(glue_deliver_msi(&cg.glue, MSI(0xff), 0x63), -PORT_ENOTSUP);   /* fixed to both */
	struct glue_msi_route *r;
	assert_int_equal(glue_msi_route_add(&cg.glue, 0x70, MSI(1), 0x64, false, &r), 0);
	assert_int_equal(core_glue_host_irq(&cg, 0x70), 0);
	assert_int_equal(core_vcpu_irq_to_inject(&v1, true, &w), 0x64);
	assert_int_equal(injected(&b), -1);
	bm_fini(&b);
}

static int setup(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(port_host_pages_in_use(), 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ram_regions_are_what_the_vmm_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(a_host_range_lands_in_the_map_and_leaves_it, setup, teardown),
		cmocka_unit_test_setup_teardown(a_trapped_mmio_access_reaches_the_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(a_trapped_port_access_reaches_the_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(deliver_msi_injects_the_guests_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(a_route_follows_its_host_vector_and_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(routes_are_a_fixed_table, setup, teardown),
		cmocka_unit_test_setup_teardown(an_msi_reaches_the_vcpu_it_names, setup, teardown),
	};
	return cmocka_run_group_tests_name("glue_bm", tests, NULL, NULL);
}
