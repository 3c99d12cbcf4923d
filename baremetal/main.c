/*
 * main.c — boot_main: from boot.S's long-mode entry to the image's
 * test_main(), bringing the platform up in dependency order.
 */
#include "baremetal/acpi.h"
#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/console.h"
#include "baremetal/cpu.h"
#include "baremetal/idt.h"
#include "baremetal/lapic.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "port.h"

#define DEBUG_EXIT_PORT 0xf4 /* -device isa-debug-exit,iobase=0xf4,iosize=4 */

/* Legacy 8259 PICs (Intel 8259A data sheet): remapped to 0x20-0x2f, all
 * lines masked, so a stray ISA interrupt never lands on an exception vector. */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

static struct boot_info info;

const struct boot_info *boot_info(void) { return &info; }

void boot_exit(uint32_t code)
{
	cpu_cli();
	if (info.protocol == BOOT_PROTO_MB2) {
		/* Bochs: no isa-debug-exit; the magic breakpoint (enabled by
		 * `magic_break: enabled=1`) hands over to its debugger, which
		 * quits.  The serial log says pass or fail. */
		console_printf("# exit code %u\n", code);
		/* 16550 LSR (COM1 + 5) bit 6, transmitter empty: let the last
		 * byte leave before Bochs stops (bounded: no UART reads 0xff). */
		for (unsigned i = 0; i < 1000000 && !(inb(0x3fd) & 0x40); i++)
			;
		__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
	}
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("hlt");
}

static void pic_disable(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: init, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20); /* ICW2: vector base */
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IR2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff); /* OCW1: mask all */
	outb(PIC2_DATA, 0xff);
}

int boot_cmdline_get(const char *key, char *buf, unsigned n)
{
	const char *c = info.cmdline;
	unsigned klen = 0;
	while (key[klen])
		klen++;
	while (*c) {
		while (*c == ' ')
			c++;
		unsigned i = 0;
		while (i < klen && c[i] == key[i])
			i++;
		if (i == klen && c[i] == '=') {
			c += klen + 1;
			unsigned j = 0;
			for (; c[j] && c[j] != ' ' && j + 1 < n; j++)
				buf[j] = c[j];
			if (n)
				buf[j] = 0;
			return 0;
		}
		while (*c && *c != ' ')
			c++;
	}
	return -PORT_ENOENT;
}

void boot_main(uint32_t protocol, uint32_t info_pa);
void boot_main(uint32_t protocol, uint32_t info_pa)
{
	int r;
	console_init();
	idt_init();
	pic_disable();
	if (protocol == BOOT_PROTO_PVH)
		r = pvh_parse(info_pa, &info);
	else if (protocol == BOOT_PROTO_MB2 && mb2_parse)
		r = mb2_parse(info_pa, &info);
	else
		r = -PORT_ENOTSUP;
	if (r)
		tap_bail("boot protocol %u: boot information at 0x%x unusable (%d)", protocol, info_pa, r);
	if ((r = mem_init(&info)))
		tap_bail("no RAM for the page pool (%d)", r);
	if ((r = clock_init()))
		tap_bail("TSC calibration against the PIT failed (%d)", r);
	if ((r = lapic_init(false)))
		tap_bail("no local APIC (%d)", r);
	if ((r = acpi_init(info.rsdp_pa)))
		tap_bail("ACPI: no valid RSDP/RSDT (%d)", r);
	/* A legacy PC (Bochs's i440FX under GRUB) has no MCFG: go on without PCI. */
	if ((r = pci_init()) && protocol != BOOT_PROTO_MB2)
		tap_bail("PCI: no MCFG (%d)", r);
	if (r)
		port_log("PCI unavailable (no MCFG)");
	test_main();
	tap_done();
}
