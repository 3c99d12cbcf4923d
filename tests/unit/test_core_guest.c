/* The bare-metal core's guest platform on the host (vmm_glue/core/:
 * linux_boot, acpi_build, vlapic, uart, pci_host, vbar): the tables and the boot
 * data as a Linux guest reads them, the device models as Linux probes
 * them, and their bounds against a hostile guest.  make test-bm-linux boots
 * the real kernel on them. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "port.h"
#include "vmm_glue/core/acpi_build.h"
#include "vmm_glue/core/linux_boot.h"
#include "vmm_glue/core/pci_host.h"
#include "vmm_glue/core/uart.h"
#include "vmm_glue/core/vbar.h"
#include "vmm_glue/core/vlapic.h"

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint8_t sum(const uint8_t *p, size_t n) { uint8_t s = 0; while (n--) s = (uint8_t)(s + *p++); return s; }

/* --- ACPI ------------------------------------------------------------------------- */

static void test_acpi_tables(void **state)
{
	(void)state;
	static uint8_t buf[0x1000];
	const uint32_t gpa = 0xe0000;
	struct acpi_build cfg = { 0xfee00000u, 0x600, 0x604, 1 };
	int len = acpi_build(buf, gpa, sizeof(buf), &cfg);
	assert_true(len > 0);
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(sum(buf, 36), 0);
	assert_int_equal(buf[15], 2);
	uint8_t *x = buf + (rd64(buf + 24) - gpa);
	assert_memory_equal(x, "XSDT", 4);
	assert_int_equal(sum(x, rd32(x + 4)), 0);
	assert_int_equal(rd32(x + 4), 36 + 16);
	uint8_t *f = buf + (rd64(x + 36) - gpa), *m = buf + (rd64(x + 44) - gpa);
	assert_memory_equal(f, "FACP", 4);
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(sum(f, 276), 0);
	assert_true(rd32(f + 112) & (1u << 20));           /* HW_REDUCED_ACPI */
	assert_int_equal(f[244], 1);                        /* sleep control: System I/O */
	assert_int_equal(rd64(f + 248), 0x600);
	assert_int_equal(rd64(f + 120), 0x604);             /* reset register */
	assert_int_equal(f[128], 1);
	uint8_t *d = buf + (rd64(f + 140) - gpa);
	assert_memory_equal(d, "DSDT", 4);
	assert_int_equal(sum(d, rd32(d + 4)), 0);
	assert_non_null(memmem(d + 36, rd32(d + 4) - 36, "_S5_", 4));
	assert_memory_equal(m, "APIC", 4);
	assert_int_equal(sum(m, rd32(m + 4)), 0);
	assert_int_equal(rd32(m + 36), 0xfee00000u);
	assert_int_equal(rd32(m + 4), 36 + 8 + 8);          /* one Processor Local APIC */
	assert_int_equal(m[44], 0);
	assert_int_equal(rd32(m + 48) & 1, 1);
	assert_int_equal(acpi_build(buf, gpa, 100, &cfg), -PORT_E2BIG);
}

/* --- the boot protocol ------------------------------------------------------------ */

#define RAM (64u << 20)

static uint8_t *fake_bzimage(size_t len, uint16_t version, uint8_t xlf)
{
	uint8_t *k = calloc(1, len);
	k[0x1f1] = 3;                 /* setup_sects: 4 sectors of setup */
	k[0x1fe] = 0x55;
	k[0x1ff] = 0xaa;
	k[0x201] = 0x6a;              /* header to 0x26c */
	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = (uint8_t)version;
	k[0x207] = (uint8_t)(version >> 8);
	k[0x211] = 0x01;              /* LOADED_HIGH */
	uint32_t initrd_max = 0x7fffffff, cmdline_size = 2047;
	memcpy(k + 0x22c, &initrd_max, 4);
	k[0x236] = xlf;
	memcpy(k + 0x238, &cmdline_size, 4);
	for (size_t i = 2048; i < len; i++)
		k[i] = (uint8_t)i;
	return k;
}

static void test_linux_boot(void **state)
{
	(void)state;
	uint8_t *ram = calloc(1, RAM), *k = fake_bzimage(1 << 20, 0x20f, 1), initrd[5000];
	memset(initrd, 0x5a, sizeof(initrd));
	const struct lb_e820 e820[] = { { 0, 0x9fc00, LB_E820_RAM }, { 0x100000, RAM - 0x100000, LB_E820_RAM } };
	struct lb_image img = { k, 1 << 20, initrd, sizeof(initrd), "console=ttyS0", e820, 2, 0xe0000 };
	struct lb_entry e;
	assert_int_equal(linux_boot_load(ram, RAM, &img, &e), 0);
	const uint8_t *bp = ram + LB_PARAMS_GPA;
	assert_int_equal(e.rip, LB_KERNEL_GPA + 0x200);
	assert_int_equal(e.rsi, LB_PARAMS_GPA);
	assert_int_equal(e.protocol, 0x20f);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff);                   /* type_of_loader */
	assert_int_equal(rd32(bp + 0x228), LB_CMDLINE_GPA);
	assert_string_equal((const char *)ram + LB_CMDLINE_GPA, "console=ttyS0");
	assert_int_equal(rd64(bp + 0x70), 0xe0000);          /* acpi_rsdp_addr */
	assert_int_equal(bp[0x1e8], 2);                      /* e820_entries */
	assert_int_equal(rd64(bp + 0x2d0 + 20), 0x100000);
	assert_int_equal(rd32(bp + 0x2d0 + 20 + 16), LB_E820_RAM);
	assert_memory_equal(ram + LB_KERNEL_GPA, k + 5 * 512, (1 << 20) - 5 * 512);
	assert_int_equal(e.initrd_gpa & 0xfff, 0);
	assert_true(e.initrd_gpa + sizeof(initrd) <= RAM);
	assert_int_equal(rd32(bp + 0x218), e.initrd_gpa);
	assert_int_equal(rd32(bp + 0x21c), sizeof(initrd));
	assert_memory_equal(ram + e.initrd_gpa, initrd, sizeof(initrd));
	/* The identity map: PML4[0] -> PDPT, PDPT[3] -> the 4th PD, its last
	 * entry a 2 MiB page at 4 GiB - 2 MiB. */
	assert_int_equal(rd64(ram + e.cr3) & ~0xfffull, e.cr3 + 0x1000);
	uint64_t pd3 = rd64(ram + e.cr3 + 0x1000 + 24) & ~0xfffull;
	assert_int_equal(rd64(ram + pd3 + 511 * 8), 0xffe00000ull | 0x83);
	assert_int_equal(rd64(ram + e.gdt + LB_BOOT_CS), 0x00af9b000000ffffull);

	/* Refused: no 64-bit entry, an old protocol, a bad magic, a command
	 * line or an initrd that does not fit. */
	k[0x236] = 0;
	assert_int_equal(linux_boot_load(ram, RAM, &img, &e), -PORT_EINVAL);
	k[0x236] = 1;
	k[0x206] = 0x0b;
	assert_int_equal(linux_boot_load(ram, RAM, &img, &e), -PORT_EINVAL);
	k[0x206] = 0x0f;
	k[0x202] = 'X';
	assert_int_equal(linux_boot_load(ram, RAM, &img, &e), -PORT_EINVAL);
	k[0x202] = 'H';
	char *long_cmd = malloc(LB_CMDLINE_MAX + 1);
	memset(long_cmd, 'a', LB_CMDLINE_MAX);
	long_cmd[LB_CMDLINE_MAX] = 0;
	img.cmdline = long_cmd;
	assert_int_equal(linux_boot_load(ram, RAM, &img, &e), -PORT_E2BIG);
	img.cmdline = "";
	img.initrd_len = RAM - (1u << 20);
	img.initrd = calloc(1, img.initrd_len);
	assert_int_equal(linux_boot_load(ram, RAM, &img, &e), -PORT_E2BIG);
	free((void *)img.initrd);
	free(long_cmd);
	free(k);
	free(ram);
}

/* --- the local APIC ------------------------------------------------------------------ */

static uint32_t apic_rd(struct vlapic *a, unsigned off)
{
	uint64_t v = 0;
	assert_int_equal(vlapic_mmio_ops.read(a, VLAPIC_GPA + off, 4, &v), 0);
	return (uint32_t)v;
}
static void apic_wr(struct vlapic *a, unsigned off, uint32_t v)
{
	assert_int_equal(vlapic_mmio_ops.write(a, VLAPIC_GPA + off, 4, v), 0);
}

static void test_vlapic(void **state)
{
	(void)state;
	struct vlapic a;
	struct core_vcpu v;
	core_vcpu_init(&v, NULL);
	vlapic_init(&a);
	assert_int_equal(apic_rd(&a, 0x30), 0x00050014u);
	vlapic_raise(&a, 0x50);
	assert_false(vlapic_deliver(&a, &v));          /* software-disabled (SVR bit 8 clear) */
	apic_wr(&a, 0xf0, 0x1ff);
	vlapic_raise(&a, 0x30);
	assert_int_equal(apic_rd(&a, 0x200 + 0x10 * (0x50 / 32)) >> (0x50 % 32) & 1, 1);
	assert_true(vlapic_deliver(&a, &v));
	assert_int_equal(v.pending_irq, 0x50);         /* the highest first */
	assert_false(vlapic_deliver(&a, &v));          /* the core still holds one */
	v.pending_irq = -1;
	assert_false(vlapic_deliver(&a, &v));          /* 0x30 is below the in-service 0x50 */
	assert_int_equal(apic_rd(&a, 0xa0), 0x50);     /* PPR */
	apic_wr(&a, 0xb0, 0);                          /* EOI */
	assert_true(vlapic_deliver(&a, &v));
	assert_int_equal(v.pending_irq, 0x30);
	v.pending_irq = -1;
	apic_wr(&a, 0xb0, 0);
	/* TPR masks a class. */
	apic_wr(&a, 0x80, 0x40);
	vlapic_raise(&a, 0x41);
	assert_false(vlapic_has_irq(&a));
	apic_wr(&a, 0x80, 0);
	assert_true(vlapic_deliver(&a, &v));
	v.pending_irq = -1;
	apic_wr(&a, 0xb0, 0);
	/* TSC-deadline: ignored outside its mode, fires once at the deadline,
	 * not delivered while masked. */
	assert_int_equal(vlapic_wrmsr(&a, MSR_TSC_DEADLINE, 100), 0);
	uint64_t dl = 1;
	vlapic_rdmsr(&a, MSR_TSC_DEADLINE, &dl);
	assert_int_equal(dl, 0);
	apic_wr(&a, 0x320, 2u << 17 | 0xec);
	assert_int_equal(vlapic_wrmsr(&a, MSR_TSC_DEADLINE, 100), 0);
	vlapic_tick(&a, 99);
	assert_false(vlapic_has_irq(&a));
	vlapic_tick(&a, 100);
	assert_true(vlapic_deliver(&a, &v));
	assert_int_equal(v.pending_irq, 0xec);
	assert_int_equal(a.timer_fired, 1);
	vlapic_tick(&a, 1000);
	assert_int_equal(a.timer_fired, 1);
	v.pending_irq = -1;
	apic_wr(&a, 0xb0, 0);
	apic_wr(&a, 0x320, 1u << 16 | 2u << 17 | 0xec);
	vlapic_wrmsr(&a, MSR_TSC_DEADLINE, 5);
	vlapic_tick(&a, 10);
	assert_false(vlapic_has_irq(&a));
	/* A self-IPI through the ICR. */
	apic_wr(&a, 0x300, 1u << 18 | 0x61);
	assert_true(vlapic_deliver(&a, &v));
	assert_int_equal(v.pending_irq, 0x61);
	/* Hostile accesses: unaligned, narrow, past the registers, read-only
	 * registers, vectors below 16, x2APIC or a moved base. */
	uint32_t id = apic_rd(&a, 0x20);
	uint64_t val = 7;
	assert_int_equal(vlapic_mmio_ops.write(&a, VLAPIC_GPA + 0x22, 4, 0xffffffff), 0);
	assert_int_equal(vlapic_mmio_ops.write(&a, VLAPIC_GPA + 0x20, 2, 0xffff), 0);
	assert_int_equal(vlapic_mmio_ops.write(&a, VLAPIC_GPA + 0xff0, 4, 1), 0);
	assert_int_equal(vlapic_mmio_ops.read(&a, VLAPIC_GPA + 0xff0, 4, &val), 0);
	assert_int_equal(val, 0);
	apic_wr(&a, 0x20, 0x5000000);
	apic_wr(&a, 0x100, 0xffffffff);
	assert_int_equal(apic_rd(&a, 0x20), id);
	assert_int_equal(apic_rd(&a, 0x100), 0);
	vlapic_raise(&a, 3);
	assert_int_equal(apic_rd(&a, 0x200), 0);
	assert_int_equal(vlapic_wrmsr(&a, MSR_APIC_BASE, VLAPIC_GPA | 1u << 11 | 1u << 10), -PORT_EINVAL);
	assert_int_equal(vlapic_wrmsr(&a, MSR_APIC_BASE, 0xfed00000u | 1u << 11), -PORT_EINVAL);
	assert_int_equal(vlapic_wrmsr(&a, MSR_APIC_BASE, VLAPIC_GPA | 1u << 11 | 1u << 8), 0);
	assert_int_equal(vlapic_rdmsr(&a, 0x10, &val), -PORT_ENOENT);
}

/* --- the UART ------------------------------------------------------------------------ */

static char lines[4][300];
static unsigned nlines;
static void on_line(void *ctx, const char *l)
{
	(void)ctx;
	if (nlines < 4)
		snprintf(lines[nlines], sizeof(lines[0]), "%s", l);
	nlines++;
}

static uint8_t uin(struct uart *u, unsigned r)
{
	uint32_t v = 0;
	assert_int_equal(uart_pio_ops.in(u, (uint16_t)(0x3f8 + r), 1, &v), 0);
	return (uint8_t)v;
}
static void uout(struct uart *u, unsigned r, uint8_t v) { assert_int_equal(uart_pio_ops.out(u, (uint16_t)(0x3f8 + r), 1, v), 0); }

static void test_uart(void **state)
{
	(void)state;
	struct uart u;
	uart_init(&u, on_line, NULL);
	/* Linux's 8250 autoconfig: scratch, IER, loopback, FIFO -> 16550A. */
	uout(&u, 7, 0xa5);
	assert_int_equal(uin(&u, 7), 0xa5);
	uout(&u, 1, 0x0f);
	assert_int_equal(uin(&u, 1), 0x0f);
	uout(&u, 4, 0x10 | 0x0a);
	assert_int_equal(uin(&u, 6) & 0xf0, 0x90);
	uout(&u, 4, 0);
	uout(&u, 2, 0x01);
	assert_int_equal(uin(&u, 2) & 0xc0, 0xc0);
	assert_int_equal(uin(&u, 5) & 0x60, 0x60);
	/* The divisor latch does not transmit. */
	uout(&u, 3, 0x80);
	uout(&u, 0, 1);
	assert_int_equal(uin(&u, 0), 1);
	uout(&u, 3, 0x03);
	const char *s = "hello\r\nworld\n";
	for (; *s; s++)
		uout(&u, 0, (uint8_t)*s);
	assert_int_equal(nlines, 2);
	assert_string_equal(lines[0], "hello");
	assert_string_equal(lines[1], "world");
	/* A line longer than the buffer is cut, never overflows. */
	for (unsigned i = 0; i < 1000; i++)
		uout(&u, 0, 'x');
	assert_true(nlines >= 3);
	assert_int_equal(strlen(lines[2]), UART_LINE_MAX);
}

/* --- PCI configuration ------------------------------------------------------------------ */

static uint32_t cfg_rd(struct pci_host *h, uint32_t addr, uint16_t port, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(pci_host_pio_ops.out(h, 0xcf8, 4, addr), 0);
	assert_int_equal(pci_host_pio_ops.in(h, port, size, &v), 0);
	return v;
}

static void test_pci_host(void **state)
{
	(void)state;
	struct pci_host h;
	pci_host_init(&h, 0x8086, 0x29c0);
	uint32_t v = 0;
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000000u);
	pci_host_pio_ops.in(&h, 0xcf8, 4, &v);
	assert_int_equal(v, 0x80000000u);                          /* pci_check_type1 */
	assert_int_equal(cfg_rd(&h, 0x80000000u, 0xcfc, 4), 0x29c08086u);
	assert_int_equal(cfg_rd(&h, 0x80000000u, 0xcfe, 2), 0x29c0);
	assert_int_equal(cfg_rd(&h, 0x80000008u, 0xcff, 1), 0x06); /* class: bridge */
	assert_int_equal(cfg_rd(&h, 0x80000008u, 0xcfe, 1), 0x00); /* subclass: host */
	assert_int_equal(cfg_rd(&h, 0x80000800u, 0xcfc, 4), 0xffffffffu);  /* 00:01.0: none */
	assert_int_equal(cfg_rd(&h, 0x80010000u, 0xcfc, 4), 0xffffffffu);  /* bus 1: none */
	assert_int_equal(cfg_rd(&h, 0x00000000u, 0xcfc, 4), 0xffffffffu);  /* not enabled */
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000010u);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xffffffffu);           /* a BAR sizing write: read-only */
	assert_int_equal(cfg_rd(&h, 0x80000010u, 0xcfc, 4), 0);
	assert_int_equal(cfg_rd(&h, 0x80000000u, 0xcfc, 4), 0x29c08086u);
}

/* --- the passthrough slot and virtual BARs ---------------------------------------- */

static struct vbars tb;
static struct { unsigned n; uint64_t from, to; unsigned calls; } mv;

static void on_move(void *ctx, unsigned n, uint64_t from, uint64_t to)
{
	(void)ctx;
	mv.n = n, mv.from = from, mv.to = to;
	mv.calls++;
}

static uint32_t slot_rd(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	uint32_t v;
	if (vbar_read(&tb, off, size, &v))
		return v;
	uint32_t d = off < 4 ? 0x10ca8086u >> (8 * off) : 0;
	return size == 4 ? d : size == 2 ? (d & 0xffff) : (d & 0xff);
}

static uint32_t slot_last_off, slot_last_val;
static void slot_wr(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	if (!vbar_write(&tb, off, size, val))
		slot_last_off = off, slot_last_val = val;
}

static void test_vbar_slot(void **state)
{
	(void)state;
	struct pci_host h;
	pci_host_init(&h, 0x8086, 0x29c0);
	tb = (struct vbars){ .win_base = 0xc0000000ull, .win_size = 0x10000000ull, .moved = on_move };
	mv.calls = 0;
	assert_int_equal(vbar_add(&tb, 0, 0x4000, true, true, 0xc0000000ull), 0);
	assert_int_equal(mv.calls, 1);   /* the first placement: a move from nowhere */
	assert_int_equal(mv.to, 0xc0000000ull);
	assert_int_equal(vbar_add(&tb, 5, 0x4000, true, true, 0xc0010000ull), -PORT_EINVAL);   /* no BAR6 */
	assert_int_equal(vbar_add(&tb, 3, 0x3000, false, false, 0xc0010000ull), -PORT_EINVAL); /* not a power of 2 */
	assert_int_equal(vbar_add(&tb, 3, 0x4000, true, true, 0xc0004000ull), 0);
	const struct pci_host_fn fn = { slot_rd, slot_wr, NULL };
	assert_int_equal(pci_host_attach(&h, 0, &fn), -PORT_EINVAL);   /* the bridge's slot */
	assert_int_equal(pci_host_attach(&h, 0x08, &fn), 0);
	assert_int_equal(cfg_rd(&h, 0x80000800u, 0xcfc, 4), 0x10ca8086u);
	assert_int_equal(cfg_rd(&h, 0x80000800u, 0xcfe, 2), 0x10cau);
	assert_int_equal(cfg_rd(&h, 0x80001000u, 0xcfc, 4), 0xffffffffu);   /* 00:02.0: nothing */
	assert_int_equal(cfg_rd(&h, 0x80000810u, 0xcfc, 4), 0xc000000cu);   /* 64-bit, prefetchable */
	assert_int_equal(cfg_rd(&h, 0x80000814u, 0xcfc, 4), 0);
	/* Linux's sizing: all ones, read back ~(size - 1), restore; unmapped meanwhile. */
	mv.calls = 0;
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xffffffffu);   /* CONFIG_ADDRESS still 0x814 */
	assert_int_equal(cfg_rd(&h, 0x80000810u, 0xcfc, 4), 0xc000000cu);   /* high all-ones: outside */
	assert_int_equal(mv.calls, 1);
	assert_int_equal(mv.to, 0);
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000810u);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xffffffffu);
	assert_int_equal(cfg_rd(&h, 0x80000810u, 0xcfc, 4), 0xffffc00cu);
	assert_int_equal(cfg_rd(&h, 0x80000814u, 0xcfc, 4), 0xffffffffu);
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000810u);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xc0000000u);
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000814u);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0);
	assert_int_equal(mv.to, 0xc0000000ull);
	assert_int_equal(tb.bar[0].mapped, 0xc0000000ull);
	/* A move inside the window; an unaligned value is aligned; a hostile
	 * one (outside the window, or straddling its end) maps nothing. */
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000810u);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xc0101234u);
	assert_int_equal(mv.from, 0xc0000000ull);
	assert_int_equal(mv.to, 0xc0100000ull);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0x80000000u);
	assert_int_equal(mv.to, 0);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xcfffc000u);   /* last 16 KiB of the window: fits */
	assert_int_equal(mv.to, 0xcfffc000ull);
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xd0000000u);
	assert_int_equal(mv.to, 0);
	assert_true(tb.refused >= 2);
	/* A byte write to the BAR's second byte. */
	pci_host_pio_ops.out(&h, 0xcfc, 4, 0xc0000000u);
	pci_host_pio_ops.out(&h, 0xcfd, 1, 0x80);
	assert_int_equal(tb.bar[0].mapped, 0xc0008000ull);
	/* Other registers go to the slot's own handler; the ROM reads 0. */
	pci_host_pio_ops.out(&h, 0xcf8, 4, 0x80000804u);
	pci_host_pio_ops.out(&h, 0xcfc, 2, 0x6);
	assert_int_equal(slot_last_off, 4);
	assert_int_equal(slot_last_val, 6);
	assert_int_equal(cfg_rd(&h, 0x80000830u, 0xcfc, 4), 0);
	/* Misaligned: all-ones, the write dropped. */
	assert_int_equal(cfg_rd(&h, 0x80000810u, 0xcfd, 2), 0xffffffffu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acpi_tables), cmocka_unit_test(test_linux_boot), cmocka_unit_test(test_vlapic),
		cmocka_unit_test(test_uart), cmocka_unit_test(test_pci_host), cmocka_unit_test(test_vbar_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
