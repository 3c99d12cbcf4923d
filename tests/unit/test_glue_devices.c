/* vmm_glue/: the PCI bus (configuration mechanism #1) and the 16550A UART on
 * a fake VMX core that records traps and interrupt lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm_glue/glue.h"
#include "vmm_glue/dev/pci_bus.h"
#include "vmm_glue/dev/serial.h"

/* --- a fake core: a trap table and the level of each GSI ---------------------- */

struct fake_trap { bool used; enum glue_space space; uint64_t base, len; glue_trap_fn fn; void *ctx; };
static struct fake_trap traps[8];
static int irq_level[24];

static int f_trap(struct glue *g, enum glue_space s, uint64_t base, uint64_t len,
		  glue_trap_fn fn, void *ctx, int *id)
{
	(void)g;
	for (int i = 0; i < 8; i++)
		if (!traps[i].used) {
			traps[i] = (struct fake_trap){ true, s, base, len, fn, ctx };
			*id = i;
			return 0;
		}
	return -ENOSPC;
}
static int f_untrap(struct glue *g, int id) { (void)g; traps[id].used = false; return 0; }
static int f_irq(struct glue *g, unsigned gsi, bool level) { (void)g; irq_level[gsi] = level; return 0; }
static const struct glue_ops fake_ops = { .trap = f_trap, .untrap = f_untrap, .set_irq_line = f_irq };
static struct glue fake = { &fake_ops };

static uint32_t io(uint64_t port, unsigned size, bool wr, uint32_t val)
{
	uint8_t d[4];
	glue_put_le(d, size, val);
	for (int i = 0; i < 8; i++)
		if (traps[i].used && traps[i].space == GLUE_PIO && port >= traps[i].base &&
		    port + size <= traps[i].base + traps[i].len) {
			traps[i].fn(traps[i].ctx, port, d, size, wr);
			return (uint32_t)glue_get_le(d, size);
		}
	fail_msg("no trap at port %#lx", (unsigned long)port);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	memset(traps, 0, sizeof(traps));
	memset(irq_level, 0, sizeof(irq_level));
	return 0;
}

/* --- PCI --------------------------------------------------------------------------- */

static uint8_t dev_cfg[256];
static unsigned last_write_off, last_write_size;
static uint32_t last_write_val;
static uint32_t d_read(struct pci_dev *d, unsigned off, unsigned size)
{
	(void)d;
	uint32_t v = 0;
	memcpy(&v, dev_cfg + off, size);
	return v;
}
static void d_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val)
{
	(void)d;
	last_write_off = off, last_write_size = size, last_write_val = val;
}
static const struct pci_dev_ops d_ops = { d_read, d_write };

static uint32_t cfg(unsigned devfn, unsigned reg, unsigned size)
{
	io(0xcf8, 4, true, 0x80000000u | devfn << 8 | (reg & 0xfc));
	return io(0xcfc + (reg & 3), size, false, 0);
}

static void config_mechanism_1_reaches_the_right_device(void **state)
{
	(void)state;
	struct pci_bus *bus;
	assert_int_equal(pci_bus_create(&fake, 0xc0000000, 0x10000000, &bus), 0);
	/* CONFIG_ADDRESS reads back what was written (Linux's type-1 probe). */
	io(0xcf8, 4, true, 0x80000000);
	assert_int_equal(io(0xcf8, 4, false, 0), 0x80000000);
	/* Host bridge at 00:00.0: Intel, class 06/00. */
	assert_int_equal(cfg(0, 0, 2), 0x8086);
	assert_int_equal(cfg(0, 0x0b, 1), 0x06);
	/* An empty slot reads all ones. */
	assert_int_equal(cfg(3 << 3, 0, 4), 0xffffffff);
	/* A plugged device gets slot 1; sub-dword accesses land at reg + offset. */
	for (unsigned i = 0; i < 256; i++)
		dev_cfg[i] = (uint8_t)i;
	struct pci_dev dev = { &d_ops, NULL };
	unsigned devfn;
	assert_int_equal(pci_bus_add(bus, &dev, &devfn), 0);
	assert_int_equal(devfn, 1 << 3);
	assert_int_equal(cfg(devfn, 0x40, 4), 0x43424140);
	assert_int_equal(cfg(devfn, 0x42, 2), 0x4342);
	assert_int_equal(cfg(devfn, 0x43, 1), 0x43);
	io(0xcf8, 4, true, 0x80000000u | devfn << 8 | 0x10);
	io(0xcfe, 2, true, 0xbeef);
	assert_int_equal(last_write_off, 0x12);
	assert_int_equal(last_write_size, 2);
	assert_int_equal(last_write_val, 0xbeef);
	/* Disabled CONFIG_ADDRESS or another bus: no device. */
	io(0xcf8, 4, true, devfn << 8);
	assert_int_equal(io(0xcfc, 4, false, 0), 0xffffffff);
	io(0xcf8, 4, true, 0x80010000u | devfn << 8);
	assert_int_equal(io(0xcfc, 4, false, 0), 0xffffffff);
	/* BAR space: naturally aligned, at least a page, then exhausted. */
	uint64_t a, b;
	assert_int_equal(pci_bus_alloc_mmio(bus, 0x4000, &a), 0);
	assert_int_equal(pci_bus_alloc_mmio(bus, 0x100, &b), 0);
	assert_int_equal(a, 0xc0000000);
	assert_int_equal(b, 0xc0004000);
	assert_int_equal(pci_bus_alloc_mmio(bus, 0x3000, &b), -EINVAL);
	assert_int_equal(pci_bus_alloc_mmio(bus, 0x10000000, &b), -ENOSPC);
	pci_bus_remove(bus, devfn);
	assert_int_equal(cfg(devfn, 0, 4), 0xffffffff);
	pci_bus_destroy(bus);
	for (int i = 0; i < 8; i++)
		assert_false(traps[i].used);
}

/* --- 16550A ------------------------------------------------------------------------- */

static char seen_line[64];
static void on_line(void *ctx, const char *line)
{
	(void)ctx;
	strncpy(seen_line, line, sizeof(seen_line) - 1);
}

static void uart_transmits_interrupts_and_loops_back(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct serial *s;
	assert_int_equal(serial_create(&fake, 0x3f8, 4, p[1], -1, &s), 0);
	serial_set_line_hook(s, on_line, NULL);
	/* Scratch register and LCR hold what is written (the 8250 probe). */
	io(0x3ff, 1, true, 0x5a);
	assert_int_equal(io(0x3ff, 1, false, 0), 0x5a);
	/* FIFO enabled: IIR says 16550A (bits 7:6), no interrupt pending. */
	io(0x3fa, 1, true, 0x01);
	assert_int_equal(io(0x3fa, 1, false, 0), 0xc1);
	/* Transmit "ok\n": bytes reach the fd, the line hook sees "ok". */
	io(0x3f8, 1, true, 'o');
	io(0x3f8, 1, true, 'k');
	io(0x3f8, 1, true, '\n');
	char buf[8] = "";
	assert_int_equal(read(p[0], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "ok\n", 3);
	assert_string_equal(seen_line, "ok");
	assert_true(io(0x3fd, 1, false, 0) & 0x60);  /* LSR: THRE, TEMT */
	/* THRE interrupt: enabling it raises IRQ 4 (with OUT2); reading IIR clears it. */
	io(0x3fc, 1, true, 0x08);                    /* MCR.OUT2 */
	io(0x3f9, 1, true, 0x02);                    /* IER.THRI */
	assert_int_equal(irq_level[4], 1);
	assert_int_equal(io(0x3fa, 1, false, 0) & 0x0f, 0x02);
	assert_int_equal(irq_level[4], 0);
	assert_int_equal(io(0x3fa, 1, false, 0) & 0x0f, 0x01);
	io(0x3f8, 1, true, 'x');                     /* sent: THR empty again */
	assert_int_equal(irq_level[4], 1);
	io(0x3f9, 1, true, 0x00);
	assert_int_equal(irq_level[4], 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 1);
	/* Loopback (MCR.LOOP): modem outputs feed MSR; data comes back to RBR. */
	io(0x3fc, 1, true, 0x1a);                    /* LOOP | OUT2 | RTS */
	assert_int_equal(io(0x3fe, 1, false, 0) & 0xf0, 0x90);  /* DCD | CTS */
	io(0x3f8, 1, true, 'L');
	assert_true(io(0x3fd, 1, false, 0) & 0x01);  /* LSR.DR */
	assert_int_equal(io(0x3f8, 1, false, 0), 'L');
	/* Divisor latch behind LCR.DLAB. */
	io(0x3fb, 1, true, 0x80);
	io(0x3f8, 1, true, 0x01);
	io(0x3f9, 1, true, 0x00);
	assert_int_equal(io(0x3f8, 1, false, 0), 0x01);
	io(0x3fb, 1, true, 0x03);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(config_mechanism_1_reaches_the_right_device, reset),
		cmocka_unit_test_setup(uart_transmits_interrupts_and_loops_back, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
