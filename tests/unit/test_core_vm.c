/* The neutral core's contract on the host (vmm_glue/core/core_vm.c): the
 * MMIO trap registry, RAM-only guest reads (issue 13 item 7), and MMIO
 * emulation through the decoder.  The host port's pages are heap memory
 * with virt == phys, so a guest's page tables can be built here. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "port.h"
#include "port/host/port_host.h"
#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/vmx/vmx_caps.h"

static unsigned flushes, injected_vec;
static void fake_flush(struct core_vm *vm) { (void)vm; flushes++; }
/* Takes vectors >= 0x80 itself (as VMX posts with APICv), leaves the rest
 * to the core's pending state. */
static int fake_inject(struct core_vcpu *v, uint8_t vector)
{
	(void)v;
	if (vector < 0x80)
		return 1;
	injected_vec = vector;
	return 0;
}
static void fake_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	r[0] = leaf;
	r[1] = sub;
	r[2] = 0xc;
	r[3] = 0xd;
}
static uint8_t fake_bitmap[8192];
static int fake_trap_io(struct core_vm *vm, uint16_t port, unsigned count, bool on)
{
	(void)vm;
	for (unsigned p = port; p < port + count; p++)
		fake_bitmap[p / 8] = (uint8_t)(on ? fake_bitmap[p / 8] | 1u << (p % 8) : fake_bitmap[p / 8] & ~(1u << (p % 8)));
	return 0;
}
static const struct core_backend fake = { "fake", fake_flush, fake_trap_io, fake_cpuid, fake_inject };

/* A device model that counts its reads: a read is a side effect. */
struct dev {
	unsigned reads, writes;
	uint64_t last_write;
};
static int dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct dev *d = ctx;
	d->reads++;
	*val = 0x1122334455667788ull & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
	(void)gpa;
	return 0;
}
static int dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct dev *d = ctx;
	(void)gpa;
	(void)size;
	d->writes++;
	d->last_write = val;
	return 0;
}

static void traps_are_a_registry_with_removal(void **state)
{
	(void)state;
	struct core_vm vm;
	struct dev d = { 0 };
	const struct core_mmio_ops ops = { dev_read, dev_write, &d };
	assert_int_equal(core_vm_init(&vm, &fake, EPT_FMT_EPT, EPT_CAP_2M, NULL, NULL), 0);
	assert_int_equal(core_vm_map(&vm, 0, 0x100000, 0x400000, EPT_RWX | EPT_RAM, EPT_MT_WB), 0);
	assert_int_equal(core_vm_trap_mmio(&vm, 0x200000, 0x1000, &ops), 0);
	assert_int_equal(core_vm_trap_mmio(&vm, 0x200800, 0x1000, &ops), -PORT_EEXIST);   /* overlaps */
	uint64_t hpa;
	assert_int_equal(core_vm_lookup(&vm, 0x200000, &hpa, NULL), -PORT_ENOENT);     /* a hole now */
	uint64_t v = 0;
	assert_int_equal(core_vm_mmio_access(&vm, 0x200004, false, 4, &v), 0);
	assert_int_equal(v, 0x55667788u);
	assert_int_equal(core_vm_untrap_mmio(&vm, 0x200000), 0);
	assert_int_equal(core_vm_mmio_access(&vm, 0x200004, false, 4, &v), -PORT_ENOENT);
	assert_int_equal(core_vm_untrap_mmio(&vm, 0x200000), -PORT_ENOENT);
	for (unsigned i = 0; i < CORE_MAX_MMIO; i++)
		assert_int_equal(core_vm_trap_mmio(&vm, 0x10000000ull + i * 0x1000, 0x1000, &ops), 0);
	assert_int_equal(core_vm_trap_mmio(&vm, 0x20000000ull, 0x1000, &ops), -PORT_ENOSPC);
	assert_int_equal(core_vm_mmio_free(&vm), 0);
	flushes = 0;
	core_vm_flush(&vm);
	assert_int_equal(flushes, 1);
	core_vm_destroy(&vm);
}

/* The pending-interrupt state and the injection decision (neutral). */
static void pending_interrupt_waits_for_the_guest(void **state)
{
	(void)state;
	struct core_vm vm = { .be = &fake };
	struct core_vcpu vc;
	bool window;
	core_vcpu_init(&vc, &vm);
	assert_int_equal(core_vcpu_irq_to_inject(&vc, true, &window), -1);
	assert_false(window);
	core_vcpu_inject_irq(&vc, 0x45);
	assert_int_equal(vc.pending_irq, 0x45);
	assert_int_equal(core_vcpu_irq_to_inject(&vc, false, &window), -1);   /* IF = 0 or a shadow */
	assert_true(window);                                                   /* ask for the window */
	assert_int_equal(core_vcpu_irq_to_inject(&vc, true, &window), 0x45);  /* now */
	assert_false(window);
	assert_int_equal(vc.pending_irq, -1);
	injected_vec = 0;
	core_vcpu_inject_irq(&vc, 0x90);                                       /* the backend's */
	assert_int_equal(injected_vec, 0x90);
	assert_int_equal(vc.pending_irq, -1);
}

/* A guest whose page tables map linear 0x400000 (one 4 KiB page) to GPA
 * `target`; its tables are guest RAM at GPA = HPA. */
struct guest {
	struct core_vm vm;
	uint64_t *t[4];   /* PML4, PDPT, PD, PT */
	struct core_paging pg;
};

#define LIN 0x400000ull

static void guest_init(struct guest *g, uint64_t target, bool tables_are_ram)
{
	assert_int_equal(core_vm_init(&g->vm, &fake, EPT_FMT_NPT, EPT_CAP_2M, NULL, NULL), 0);
	for (unsigned i = 0; i < 4; i++) {
		g->t[i] = port_page_alloc();
		uint64_t pa = port_virt_to_phys(g->t[i]);
		assert_int_equal(core_vm_map(&g->vm, pa, pa, 0x1000, EPT_R | EPT_W | (tables_are_ram ? EPT_RAM : 0),
					     EPT_MT_WB), 0);
	}
	g->t[0][EPT_INDEX(LIN, 4)] = port_virt_to_phys(g->t[1]) | 7;
	g->t[1][EPT_INDEX(LIN, 3)] = port_virt_to_phys(g->t[2]) | 7;
	g->t[2][EPT_INDEX(LIN, 2)] = port_virt_to_phys(g->t[3]) | 7;
	g->t[3][EPT_INDEX(LIN, 1)] = target | 7;
	g->pg = (struct core_paging){ .paging = true, .long_mode = true, .cr3 = port_virt_to_phys(g->t[0]) };
}

static void guest_fini(struct guest *g)
{
	core_vm_destroy(&g->vm);
	for (unsigned i = 0; i < 4; i++)
		port_page_free(g->t[i]);
}

/* Issue 13 item 7: the core reads a guest page only through a RAM leaf.
 * Fails on the old vmx.c guest_translate/vmx_guest_read, which read any
 * mapped leaf (a BAR) as memory. */
static void guest_reads_touch_only_ram_leaves(void **state)
{
	(void)state;
	struct guest g;
	uint8_t *ram = port_page_alloc(), *bar = port_page_alloc();
	memcpy(ram, "\x8b\x00", 2);
	memcpy(bar, "\xde\xad", 2);
	uint64_t ram_pa = port_virt_to_phys(ram), bar_pa = port_virt_to_phys(bar);
	uint8_t b[2] = { 0, 0 };

	guest_init(&g, ram_pa, true);
	assert_int_equal(core_vm_map(&g.vm, ram_pa, ram_pa, 0x1000, EPT_RWX | EPT_RAM, EPT_MT_WB), 0);
	assert_int_equal(core_guest_read(&g.vm, &g.pg, LIN, b, 2), 0);
	assert_int_equal(b[0], 0x8b);
	guest_fini(&g);

	/* The linear page is backed by a BAR (mapped, not RAM): an error. */
	guest_init(&g, bar_pa, true);
	assert_int_equal(core_vm_map(&g.vm, bar_pa, bar_pa, 0x1000, EPT_R | EPT_W, EPT_MT_UC), 0);
	b[0] = 0;
	assert_int_equal(core_guest_read(&g.vm, &g.pg, LIN, b, 2), -PORT_EFAULT);
	assert_int_equal(b[0], 0);
	guest_fini(&g);

	/* The guest's own page tables behind a non-RAM leaf: an error too. */
	guest_init(&g, ram_pa, false);
	assert_int_equal(core_vm_map(&g.vm, ram_pa, ram_pa, 0x1000, EPT_RWX | EPT_RAM, EPT_MT_WB), 0);
	assert_int_equal(core_guest_read(&g.vm, &g.pg, LIN, b, 2), -PORT_EFAULT);
	guest_fini(&g);
	port_page_free(ram);
	port_page_free(bar);
}

/* A trapped access emulated: decode at RIP, the model, the register. */
static void mmio_is_emulated_through_the_decoder(void **state)
{
	(void)state;
	struct guest g;
	struct dev d = { 0 };
	const struct core_mmio_ops ops = { dev_read, dev_write, &d };
	uint8_t *code = port_page_alloc();
	uint64_t code_pa = port_virt_to_phys(code);
	guest_init(&g, code_pa, true);
	assert_int_equal(core_vm_map(&g.vm, code_pa, code_pa, 0x1000, EPT_RWX | EPT_RAM, EPT_MT_WB), 0);
	assert_int_equal(core_vm_trap_mmio(&g.vm, 0xfe000000ull, 0x1000, &ops), 0);
	uint64_t gpr[16] = { 0 };
	gpr[0] = 0xfe000000ull;
	gpr[1] = 0xabcdef0123456789ull;
	struct core_mmio_site site = { .pg = g.pg, .long_mode_cs = true, .rip_linear = LIN };
	unsigned len = 0;
	memcpy(code, "\x8b\x00", 2);                 /* mov (%rax), %eax */
	assert_int_equal(core_mmio_emulate(&g.vm, gpr, &site, 0xfe000000ull, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(gpr[0], 0x55667788u);        /* zero-extended into RAX */
	gpr[0] = 0xfe000000ull;
	memcpy(code, "\x48\x89\x08", 3);             /* mov %rcx, (%rax) */
	assert_int_equal(core_mmio_emulate(&g.vm, gpr, &site, 0xfe000000ull, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(d.last_write, 0xabcdef0123456789ull);
	memcpy(code, "\x01\x08", 2);                 /* add %ecx, (%rax): not emulated */
	assert_int_equal(core_mmio_emulate(&g.vm, gpr, &site, 0xfe000000ull, &len), -PORT_ENOTSUP);
	assert_int_equal(core_mmio_emulate(&g.vm, gpr, &site, 0xfd000000ull, &len), -PORT_ENOENT);
	guest_fini(&g);
	port_page_free(code);
}

/* The neutral exit dispatch: a VMM's handler or the default, and how the
 * instruction ends, whichever backend read the exit. */
static int h_cpuid(struct core_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)v;
	(void)sub;
	if (leaf != 0x40000000u)
		return 1;
	r[0] = r[1] = r[2] = r[3] = 0x76667300u;
	return 0;
}
static int h_io(struct core_vcpu *v, const struct core_io *io, uint32_t *val)
{
	(void)v;
	if (io->port != 0x80)
		return -PORT_ENOENT;
	if (io->in)
		*val = 0x12345678u;
	return 0;
}
static int pio_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	(void)ctx;
	(void)port;
	(void)size;
	*val = 0;
	return 0;
}
static int pio_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	(void)port;
	(void)size;
	*(uint32_t *)ctx = val;
	return 0;
}
static int h_hlt(struct core_vcpu *v) { (void)v; return CORE_STOP_HANDLER; }
static const struct core_vm_ops h_ops = { .cpuid = h_cpuid, .io = h_io, .hlt = h_hlt };

static void exits_are_dispatched_by_the_cores_reason(void **state)
{
	(void)state;
	struct core_vm vm;
	struct core_vcpu v;
	assert_int_equal(core_vm_init(&vm, &fake, EPT_FMT_EPT, EPT_CAP_2M, &h_ops, NULL), 0);
	core_vcpu_init(&v, &vm);
	struct core_exit e = { .reason = CORE_EXIT_CPUID };
	v.gpr[GPR_RAX] = 0x40000000u;
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);
	assert_true(e.complete);
	assert_int_equal(v.gpr[GPR_RBX], 0x76667300u);
	v.gpr[GPR_RAX] = 1;
	v.gpr[GPR_RCX] = 7;
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);         /* the backend's default */
	assert_int_equal(v.gpr[GPR_RAX], 1);
	assert_int_equal(v.gpr[GPR_RBX], 7);
	assert_int_equal(v.gpr[GPR_RDX], 0xd);
	e = (struct core_exit){ .reason = CORE_EXIT_IO, .io = { 0x80, 2, true } };
	v.gpr[GPR_RAX] = 0xaaaabbbbccccddddull;
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);
	assert_int_equal(v.gpr[GPR_RAX], 0xaaaabbbbcccc5678ull);            /* 16-bit IN merges */
	e = (struct core_exit){ .reason = CORE_EXIT_IO, .io = { 0x81, 4, true } };
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);
	assert_int_equal(v.gpr[GPR_RAX], 0xffffffffu);                      /* nobody there */
	/* A port trap comes before the VMM's io handler, and is removable. */
	static uint32_t pio_seen;
	const struct core_pio_ops pops = { pio_in, pio_out, &pio_seen };
	assert_int_equal(core_vm_trap_pio(&vm, 0x80, 1, &pops), 0);
	assert_true(fake_bitmap[0x10] & 1);
	assert_int_equal(core_vm_trap_pio(&vm, 0x7f, 2, &pops), -PORT_EEXIST);
	e = (struct core_exit){ .reason = CORE_EXIT_IO, .io = { 0x80, 1, false } };
	v.gpr[GPR_RAX] = 0x1234;
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);
	assert_int_equal(pio_seen, 0x34);
	assert_int_equal(core_vm_untrap_pio(&vm, 0x80), 0);
	assert_false(fake_bitmap[0x10] & 1);
	assert_int_equal(core_vm_untrap_pio(&vm, 0x80), -PORT_ENOENT);
	e = (struct core_exit){ .reason = CORE_EXIT_MSR };
	v.gpr[GPR_RCX] = 0x10;
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);
	assert_int_equal(e.exception, 13);                                   /* #GP, not completed */
	assert_false(e.complete);
	e = (struct core_exit){ .reason = CORE_EXIT_HYPERCALL };
	assert_int_equal(core_handle_exit(&v, &e), CORE_CONTINUE);
	assert_int_equal(e.exception, 6);                                    /* #UD without a handler */
	e = (struct core_exit){ .reason = CORE_EXIT_HLT };
	assert_int_equal(core_handle_exit(&v, &e), CORE_STOP_HANDLER);
	assert_true(e.complete);
	e = (struct core_exit){ .reason = CORE_EXIT_BACKEND };
	assert_int_equal(core_handle_exit(&v, &e), -PORT_EINVAL);
	assert_int_equal(v.exits[CORE_EXIT_CPUID], 2);
	assert_int_equal(v.exits[CORE_EXIT_IO], 3);
	assert_int_equal(v.exits[CORE_EXIT_MSR], 1);
	assert_string_equal(core_exit_reason_name(CORE_EXIT_MMIO), "MMIO");
	core_vm_destroy(&vm);
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
		cmocka_unit_test_setup_teardown(traps_are_a_registry_with_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_interrupt_waits_for_the_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(exits_are_dispatched_by_the_cores_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(guest_reads_touch_only_ram_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(mmio_is_emulated_through_the_decoder, setup, teardown),
	};
	return cmocka_run_group_tests_name("core_vm", tests, NULL, NULL);
}
