/*
 * bmlinux.c — the bare-metal core boots a Linux guest on the SVM backend
 * under QEMU TCG (issue 16 item 1, without the VF): the testbed's Debian
 * 6.12 bzImage and a tiny busybox initramfs (tests/bmlinux/build-blob),
 * handed to this image as QEMU's -initrd (the PVH start info's module 0).
 *
 * What the guest gets (docs/bm-linux.md):
 *   RAM            GUEST_RAM at GPA 0, mapped to a claimed host range (NPT)
 *   boot           64-bit boot protocol (vmm_glue/core/linux_boot.c)
 *   ACPI           RSDP/XSDT/FADT (hardware-reduced)/DSDT (\_S5)/MADT, one CPU
 *                  (vmm_glue/core/acpi_build.c)
 *   local APIC     xAPIC page trapped, TSC-deadline timer (vmm_glue/core/vlapic.c)
 *   COM1           polled 16550A at 0x3f8 (vmm_glue/core/uart.c), lines copied
 *                  to our console as "# guest: ..."
 *   PCI            CF8/CFC with a host bridge at 00:00.0 (vmm_glue/core/pci_host.c)
 *   stop           ACPI S5 through the FADT's sleep control register (port
 *                  0x600), reset through its reset register (port 0x604),
 *                  HLT with interrupts off, a time limit per guest
 *   CPUID / MSRs   a synthetic CPU (below); every port and MSR is intercepted:
 *                  an unknown port reads all-ones, an unknown MSR #GPs;
 *                  a GPA outside RAM and the APIC reads all-ones
 *
 *   assigned VF    VF 0 of QEMU's igb at 00:01.0 behind the host bridge,
 *                  virtual BARs, DMA through our VT-d domain, MSI-X through
 *                  our IRTEs into the vlapic; our PF driver on the mailbox;
 *                  VF 1 the hypervisor's ARP/ICMP responder (bmlinux_vf.c)
 *
 * Checks (events seen, never times): the kernel's banner on the guest's
 * serial, its e820 as given, /init ran, 1 CPU in /proc/cpuinfo, the timer
 * ticks (sleep 1 returns, uptime advances, LOC interrupts), the host bridge
 * and the VF in sysfs, ACPI S5 stops the core cleanly; the VF: its BARs in
 * the guest's window and moved, igbvf bound with our PF's MAC, link up, 600
 * pings answered (frames counted at the responder), MSI-X counts, no VT-d
 * fault; a second guest on the same core, its VF's domain without its RAM,
 * records a VT-d fault and reboots through the FADT's reset register.  Boot-to-init time and exits by
 * reason are printed as figures.
 */
#include <stdbool.h>
#include <stdint.h>

#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/console.h"
#include "baremetal/cpu.h"
#include "baremetal/idt.h"
#include "baremetal/mem.h"
#include "baremetal/tap.h"
#include "port.h"
#include "vmm_glue/core/acpi_build.h"
#include "vmm_glue/core/linux_boot.h"
#include "vmm_glue/core/pci_host.h"
#include "vmm_glue/core/uart.h"
#include "vmm_glue/core/vlapic.h"
#include "vmm_glue/svm/svm.h"
#include "tests/bmlinux/bmlinux_vf.h"

#define GUEST_RAM (256ull << 20)
#define ACPI_GPA 0xe0000u
#define SLEEP_PORT 0x600
#define RESET_PORT 0x604
#define RESET_VALUE 0x01
#define HOST_TIMER_VEC 0xeeu
#define HOST_TIMER_US 1000u
#define RUN_LIMIT_NS (100ull * 1000 * 1000 * 1000)
#define HLT_SLICE_NS (200ull * 1000 * 1000)
#define MAX_BAD_MSRS 12
#define MAX_PORTS 24
#define BLOB_HDR 32
#define HOST_LAPIC 0xfee00000ull
#define BM_LINUX_TESTS 19

static struct svm_cpu cpu;
static struct svm_vm vm;
static struct svm_vcpu vcpu;
static struct vlapic lapic;
static struct uart com1;
static struct pci_host pcih;

static struct {
	bool banner, init_ran, sleep_ok, poweroff_said, reboot_said;
	unsigned e820_match, e820_lines, cpus, pci_bridge, pci_other;
	unsigned long long memtotal_kb, loc_irqs, slept_cs;
	char uptime[48];
	uint64_t t_start, t_banner, t_init;
	unsigned lines, trouble;
	char first_trouble[120];
	/* the assigned VF */
	bool igbvf_loaded, vf_driver, carrier, ping_said, badmap_ping_said, kernel_link_up;
	unsigned pci_vf, irq_lines[2];
	unsigned long long irq_sum[2], ping_tx, ping_rx;
	char mac[24], ping_line[100], drv[24];
	uint64_t t_link;
	bool barmove;
	unsigned long long bm_old, bm_new, bm_gone, bm_back, bm_tnew, bm_tgone, bm_tback;
} seen;

static struct {
	bool s5, reset;
	uint8_t sleep_val;
	uint32_t unknown_in, unknown_out, unassigned_mmio, legacy_reads;
	uint32_t bad_msr[MAX_BAD_MSRS];
	unsigned nr_bad_msr, bad_msr_hits;
	struct { uint16_t port; uint32_t n; } ports[MAX_PORTS];
	unsigned nr_ports;
	uint32_t host_ticks, hlt_waits;
	bool timeout, halted_if0;
} ev;

static const struct lb_e820 e820[] = {
	{ 0, 0x9fc00, LB_E820_RAM },
	{ 0x9fc00, 0x400, LB_E820_RESERVED },
	{ 0xe0000, 0x20000, LB_E820_RESERVED },
	{ 0x100000, GUEST_RAM - 0x100000, LB_E820_RAM },
};

/* --- small string helpers (freestanding) ---------------------------------------- */

static bool starts(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return false;
	return true;
}

static const char *find(const char *s, const char *p)
{
	for (; *s; s++)
		if (starts(s, p))
			return s;
	return NULL;
}

static unsigned long long num(const char *s)
{
	unsigned long long n = 0;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (unsigned)(*s++ - '0');
	return n;
}

static unsigned long long hexnum(const char *s)
{
	unsigned long long n = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (;; s++) {
		unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
			     : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10)
			     : *s >= 'A' && *s <= 'F' ? (unsigned)(*s - 'A' + 10) : 16u;
		if (d > 15)
			return n;
		n = n * 16 + d;
	}
}

/* "12.34" -> 1234 (hundredths); *end past it. */
static unsigned long long centi(const char *s, const char **end)
{
	unsigned long long n = num(s) * 100;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9') {
		n += (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
		s += 3;
	}
	*end = s;
	return n;
}

/* --- the guest's console ------------------------------------------------------------ */

static void on_line(void *ctx, const char *line)
{
	(void)ctx;
	seen.lines++;
	console_printf("# guest: %s\n", line);
	const char *m;
	if (!seen.banner && find(line, "Linux version ")) {
		seen.banner = true;
		seen.t_banner = clock_ns();
	}
	if ((m = find(line, "BIOS-e820: [mem ")) != NULL) {
		seen.e820_lines++;
		for (unsigned i = 0; i < sizeof(e820) / sizeof(e820[0]); i++) {
			char want[96];
			console_snprintf(want, sizeof(want), "BIOS-e820: [mem 0x%016llx-0x%016llx] %s",
					 (unsigned long long)e820[i].addr,
					 (unsigned long long)(e820[i].addr + e820[i].size - 1),
					 e820[i].type == LB_E820_RAM ? "usable" : "reserved");
			if (starts(m, want))
				seen.e820_match++;
		}
	}
	/* What the kernel says when something it probed went wrong. */
	static const char *const bad[] = { "BUG:", "WARNING:", "Oops", "Call Trace", "unchecked MSR",
					   "Kernel panic", "general protection" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (find(line, bad[i])) {
			if (!seen.trouble++)
				console_snprintf(seen.first_trouble, sizeof(seen.first_trouble), "%s", line);
			break;
		}
	if (find(line, "eth0") && find(line, "Link is Up"))
		seen.kernel_link_up = true;
	if (!(m = find(line, "BMLINUX ")))
		return;
	m += 8;
	if (starts(m, "init-ran")) {
		seen.init_ran = true;
		seen.t_init = clock_ns();
	} else if (starts(m, "cpus=")) {
		seen.cpus = (unsigned)num(m + 5);
	} else if (starts(m, "memtotal=")) {
		seen.memtotal_kb = num(m + 9);
	} else if (starts(m, "sleep-returned uptime=")) {
		seen.sleep_ok = true;
		unsigned i = 0;
		for (const char *u = m + 22; *u && i + 1 < sizeof(seen.uptime); u++)
			seen.uptime[i++] = *u;
		seen.uptime[i] = 0;
		const char *e;
		unsigned long long a = centi(seen.uptime, &e);
		if (e[0] == '.' && e[1] == '.')
			seen.slept_cs = centi(e + 2, &e) - a;
	} else if (starts(m, "pci ")) {
		if (find(m, "0000:00:00.0 0x8086 0x29c0 0x060000"))
			seen.pci_bridge++;
		else if (find(m, "0000:00:01.0 0x8086 0x10ca 0x020000"))
			seen.pci_vf++;
		else
			seen.pci_other++;
	} else if (starts(m, "barmove ")) {
		const char *o = find(m, "old="), *n = find(m, " new="), *g = find(m, " gone="), *b = find(m, " back=");
		const char *tn = find(m, "tnew="), *tg = find(m, "tgone="), *tb = find(m, "tback=");
		seen.barmove = o && n && g && b && tn && tg && tb;
		if (seen.barmove) {
			seen.bm_old = hexnum(o + 4);
			seen.bm_new = hexnum(n + 5);
			seen.bm_gone = hexnum(g + 6);
			seen.bm_back = hexnum(b + 6);
			seen.bm_tnew = hexnum(tn + 5);
			seen.bm_tgone = hexnum(tg + 6);
			seen.bm_tback = hexnum(tb + 6);
		}
	} else if (starts(m, "igbvf-loaded")) {
		seen.igbvf_loaded = true;
	} else if (starts(m, "vf-driver=")) {
		console_snprintf(seen.drv, sizeof(seen.drv), "%s", m + 10);
		seen.vf_driver = starts(m + 10, "igbvf");
	} else if (starts(m, "link carrier=")) {
		seen.carrier = m[13] == '1';
		if (seen.carrier && !seen.t_link)
			seen.t_link = clock_ns();
		const char *a = find(m, "mac=");
		if (a)
			console_snprintf(seen.mac, sizeof(seen.mac), "%s", a + 4);
	} else if (starts(m, "irq ")) {
		/* "irq N: COUNT eth0-...": before the ping [0], after it [1] */
		const char *c = find(m + 4, " ");
		unsigned ph = seen.ping_said ? 1 : 0;
		if (c) {
			seen.irq_sum[ph] += num(c + 1);
			seen.irq_lines[ph]++;
		}
	} else if (starts(m, "ping ") || starts(m, "badmap-ping ")) {
		bool bad = m[0] == 'b';
		const char *p = m + (bad ? 12 : 5);
		console_snprintf(seen.ping_line, sizeof(seen.ping_line), "%s", p);
		seen.ping_tx = num(p);
		const char *r = find(p, ", ");
		seen.ping_rx = r ? num(r + 2) : 0;
		if (bad)
			seen.badmap_ping_said = true;
		else
			seen.ping_said = true;
	} else if (starts(m, "timer-irqs=")) {
		seen.loc_irqs = num(m + 11);
	} else if (starts(m, "reboot")) {
		seen.reboot_said = true;
	} else if (starts(m, "poweroff")) {
		seen.poweroff_said = true;
	}
}

/* --- the guest's platform: ports, MSRs, CPUID ---------------------------------------- */

static void sync_irqs(struct core_vcpu *v)
{
	bmlvf_poll(&lapic, false);
	vlapic_tick(&lapic, rdtsc());
	vlapic_deliver(&lapic, v);
}

static bool out_of_time(void)
{
	if (clock_ns() - seen.t_start < RUN_LIMIT_NS)
		return false;
	ev.timeout = true;
	return true;
}

/* FADT sleep control (ACPI 6.5 §4.8.3.7) and reset (§4.8.3.6) registers. */
static int acpi_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	(void)ctx, (void)port, (void)size;
	*val = 0;   /* sleep status: WAK_STS clear */
	return 0;
}

static int acpi_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	(void)ctx, (void)size;
	if (port == SLEEP_PORT && (val & ACPI_SLEEP_SLP_EN) && ACPI_SLEEP_TYP(val) == ACPI_BUILD_S5_TYPE) {
		ev.s5 = true;
		ev.sleep_val = (uint8_t)val;
		return CORE_STOP_HANDLER;   /* the OUT completes, the run ends */
	}
	if (port == RESET_PORT && (uint8_t)val == RESET_VALUE) {
		ev.reset = true;
		return CORE_STOP_HANDLER;
	}
	return 0;
}

static const struct core_pio_ops acpi_pio = { acpi_in, acpi_out, NULL };

/* Two legacy ports the kernel polls even on a hardware-reduced platform,
 * absent here but read as 0, not all-ones, so the polling ends at once:
 * PIT channel 2 (0x42: quick_pit_calibrate sees a counter that does not
 * count down and gives up after 2 reads instead of 50,000 loops) and the
 * CMOS RTC data port (0x71: UIP clear, an empty clock, instead of
 * "update in progress" polled 10,000 times).  Writes are dropped. */
static int legacy_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	(void)ctx, (void)port, (void)size;
	ev.legacy_reads++;
	*val = 0;
	return 0;
}

static int legacy_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	(void)ctx, (void)port, (void)size, (void)val;
	return 0;
}

static const struct core_pio_ops legacy_pio = { legacy_in, legacy_out, NULL };

/* Any other port: reads all-ones, writes dropped (counted). */
static int g_io(struct core_vcpu *v, const struct core_io *io, uint32_t *val)
{
	unsigned i = 0;
	while (i < ev.nr_ports && ev.ports[i].port != io->port)
		i++;
	if (i == ev.nr_ports && i < MAX_PORTS)
		ev.ports[ev.nr_ports++].port = io->port;
	if (i < ev.nr_ports)
		ev.ports[i].n++;
	if (io->in)
		ev.unknown_in++;
	else
		ev.unknown_out++;
	*val = 0xffffffffu;
	sync_irqs(v);
	return out_of_time() ? CORE_STOP_HANDLER : CORE_CONTINUE;
}

static void bad_msr(uint32_t msr)
{
	ev.bad_msr_hits++;
	for (unsigned i = 0; i < ev.nr_bad_msr; i++)
		if (ev.bad_msr[i] == msr)
			return;
	if (ev.nr_bad_msr < MAX_BAD_MSRS)
		ev.bad_msr[ev.nr_bad_msr++] = msr;
}

#define MSR_TSC 0x10u
#define MSR_PAT 0x277u

static int g_rdmsr(struct core_vcpu *v, uint32_t msr, uint64_t *val)
{
	sync_irqs(v);
	if (vlapic_rdmsr(&lapic, msr, val) == 0)
		return 0;
	if (msr == MSR_TSC) {
		*val = rdtsc();
		return 0;
	}
	if (msr == MSR_PAT) {   /* with nested paging the guest's PAT is the VMCB's G_PAT (APM §15.25.8) */
		*val = vmcb_rd(((struct svm_vcpu *)v)->vmcb, VMCB_G_PAT);
		return 0;
	}
	/* Read-only, all zero: IA32_MTRRCAP (no variable or fixed ranges,
	 * SDM Vol. 3A §12.11.2.1), IA32_MTRR_DEF_TYPE (MTRRs disabled,
	 * §12.11.2.1), IA32_MCG_CAP (no banks, §16.3.1.1): mtrr_bp_init reads
	 * MTRRCAP with an unchecked RDMSR even with CPUID.MTRR clear. */
	if (msr == 0xfeu || msr == 0x2ffu || msr == 0x179u) {
		*val = 0;
		return 0;
	}
	bad_msr(msr);
	return -PORT_ENOENT;
}

static int g_wrmsr(struct core_vcpu *v, uint32_t msr, uint64_t val)
{
	int rc = vlapic_wrmsr(&lapic, msr, val);
	sync_irqs(v);
	if (rc == 0)
		return 0;
	if (rc == -PORT_EINVAL)
		return -PORT_ENOENT;   /* a value the vlapic refuses: #GP */
	if (msr == MSR_PAT) {
		/* SDM Vol. 3A §12.12.2: each entry 0, 1, 4, 5, 6 or 7, else #GP. */
		for (unsigned i = 0; i < 8; i++) {
			unsigned t = (val >> (8 * i)) & 0xff;
			if (t == 2 || t == 3 || t > 7)
				return -PORT_ENOENT;
		}
		vmcb_wr(((struct svm_vcpu *)v)->vmcb, VMCB_G_PAT, val);
		return 0;
	}
	bad_msr(msr);
	return -PORT_ENOENT;
}

/* CPUID leaf 1 features offered (SDM Vol. 2A Table 3-10/3-11), masked
 * with the host's: EDX FPU PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT PSE36
 * CLFSH MMX FXSR SSE SSE2; ECX SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT.  Added
 * whatever the host has: TSC-deadline (ECX 24, the vlapic's) and the
 * hypervisor bit (ECX 31).  Hidden: x2APIC, XSAVE, MCE/MCA, MTRR, PCID,
 * VMX/SVM, monitor, every leaf-7 feature. */
#define LEAF1_EDX 0x07a3b979u
#define LEAF1_ECX 0x00982201u
/* 8000_0001h EDX SYSCALL(11) NX(20) Page1GB(26) LM(29); ECX LAHF(0). */
#define EXT1_EDX 0x24100800u

static int g_cpuid(struct core_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const char vendor[12] = "VfstackBMcpu";
	static const char brand[48] = "vfstack bare-metal core vCPU (SVM backend)";
	uint32_t h[4];
	sync_irqs(v);
	r[0] = r[1] = r[2] = r[3] = 0;
	cpuid(leaf, sub, h);
	switch (leaf) {
	case 0:
		r[0] = 1;
		__builtin_memcpy(&r[1], vendor, 4);
		__builtin_memcpy(&r[3], vendor + 4, 4);
		__builtin_memcpy(&r[2], vendor + 8, 4);
		break;
	case 1:
		r[0] = h[0];
		r[1] = 1u << 16 | 8u << 8;   /* APIC ID 0, 1 logical CPU, CLFLUSH line 8 x 8 bytes */
		r[2] = (h[2] & LEAF1_ECX) | 1u << 24 | 1u << 31;
		r[3] = (h[3] & LEAF1_EDX) | 1u << 9;
		break;
	case 0x80000000u:
		r[0] = 0x80000008u;
		break;
	case 0x80000001u:
		r[2] = h[2] & 1u;
		r[3] = h[3] & EXT1_EDX;
		break;
	case 0x80000002u:
	case 0x80000003u:
	case 0x80000004u:
		__builtin_memcpy(r, brand + 16 * (leaf - 0x80000002u), 16);
		break;
	case 0x80000007u:
		r[3] = 1u << 8;   /* invariant TSC (APM Vol. 3 CPUID 8000_0007h EDX[8]) */
		break;
	case 0x80000008u:
		r[0] = h[0] & 0xffffu;   /* physical and linear address sizes */
		break;
	default:
		break;
	}
	return 0;
}

/* HLT with IF = 1: wait (host interrupts on) until the vlapic has an
 * interrupt for the guest (its deadline passed), in slices; HLT with
 * IF = 0 stops the guest (it can never wake: a panic or halt). */
static int g_hlt(struct core_vcpu *v)
{
	if (!(vmcb_rd(((struct svm_vcpu *)v)->vmcb, VMCB_RFLAGS) & (1ull << 9))) {
		ev.halted_if0 = true;
		return CORE_STOP_HANDLER;
	}
	ev.hlt_waits++;
	uint64_t end = clock_ns() + HLT_SLICE_NS;
	for (;;) {
		bmlvf_poll(&lapic, true);
		vlapic_tick(&lapic, rdtsc());
		if (vlapic_has_irq(&lapic) || v->pending_irq >= 0 || clock_ns() >= end)
			break;
		__asm__ volatile("sti; pause; cli" ::: "memory");
	}
	vlapic_deliver(&lapic, v);
	return out_of_time() ? CORE_STOP_HANDLER : CORE_CONTINUE;
}

static int g_extint(struct core_vcpu *v, int vector)
{
	(void)vector;
	bmlvf_poll(&lapic, true);   /* the PF's mailbox: on the 1 ms host tick at least */
	sync_irqs(v);
	if (ev.s5 || ev.reset)
		return CORE_STOP_HANDLER;
	return out_of_time() ? CORE_STOP_HANDLER : CORE_CONTINUE;
}

static const struct core_vm_ops guest_ops = {
	.cpuid = g_cpuid, .io = g_io, .rdmsr = g_rdmsr, .wrmsr = g_wrmsr, .hlt = g_hlt, .external_intr = g_extint,
};

/* A GPA without RAM or a device: reads all-ones, writes dropped. */
static int none_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	(void)ctx, (void)gpa, (void)size;
	ev.unassigned_mmio++;
	*val = ~0ull;
	return 0;
}

static int none_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	(void)ctx, (void)gpa, (void)size, (void)val;
	ev.unassigned_mmio++;
	return 0;
}

static const struct core_mmio_ops none_ops = { none_read, none_write, NULL };

/* --- the host side: a periodic host timer so a busy guest exits --------------------- */

static void host_tick(struct idt_frame *f, void *ctx)
{
	(void)f, (void)ctx;
	ev.host_ticks++;
}

/* The host's xAPIC timer (SDM Vol. 3A §11.5.4), periodic, ~HOST_TIMER_US:
 * its count rate measured against the TSC clock first. */
static void host_timer_start(void)
{
	idt_set_handler(HOST_TIMER_VEC, host_tick, NULL);
	port_mmio_write32(HOST_LAPIC + 0x3e0, 0xb);          /* divide by 1 */
	port_mmio_write32(HOST_LAPIC + 0x320, 1u << 16 | HOST_TIMER_VEC);
	port_mmio_write32(HOST_LAPIC + 0x380, 0xffffffffu);
	clock_delay_us(2000);
	uint32_t used = 0xffffffffu - port_mmio_read32(HOST_LAPIC + 0x390);
	uint32_t count = used / 2000 * HOST_TIMER_US;
	if (count < 1000)
		count = 1000;
	port_mmio_write32(HOST_LAPIC + 0x320, 1u << 17 | HOST_TIMER_VEC);   /* periodic, unmasked */
	port_mmio_write32(HOST_LAPIC + 0x380, count);
	tap_diag("host timer: vector 0x%x every %u us (%u counts)", HOST_TIMER_VEC, HOST_TIMER_US, count);
}

static void host_timer_stop(void)
{
	port_mmio_write32(HOST_LAPIC + 0x320, 1u << 16 | HOST_TIMER_VEC);
	port_mmio_write32(HOST_LAPIC + 0x380, 0);
}

/* --- set-up and the run ----------------------------------------------------------- */

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Guest RAM: GUEST_RAM of host RAM, 2 MiB-aligned, not overlapping the
 * blob QEMU loaded. */
static uint64_t claim_guest_ram(uint64_t blob_pa, uint64_t blob_len)
{
	for (uint64_t pa = 1ull << 30; pa + GUEST_RAM <= (2ull << 30); pa += GUEST_RAM) {
		if (pa < blob_pa + blob_len && blob_pa < pa + GUEST_RAM)
			continue;
		if (mem_claim(pa, GUEST_RAM) == 0)
			return pa;
	}
	return 0;
}

static void log_exits(void)
{
	char buf[240];
	unsigned at = 0, total = 0;
	for (unsigned i = 0; i < CORE_EXIT_COUNT && at < sizeof(buf) - 32; i++) {
		total += vcpu.core.exits[i];
		at += console_snprintf(buf + at, sizeof(buf) - at, "%s%s %u", i ? ", " : "", core_exit_reason_name(i),
				       vcpu.core.exits[i]);
	}
	tap_diag("exits: %u (%s); %u VMRUNs, %u interrupts injected (%u re-injected)", total, buf, vcpu.vmruns,
		 vcpu.injected, vcpu.reinjected);
	tap_diag("ports: %u unknown IN, %u unknown OUT (all-ones / dropped), %u PIT/CMOS reads (0); %u accesses to unassigned GPAs; "
		 "PCI config %u reads, %u writes; COM1 %llu bytes, %u lines",
		 ev.unknown_in, ev.unknown_out, ev.legacy_reads, ev.unassigned_mmio, pcih.reads, pcih.writes,
		 (unsigned long long)com1.bytes, seen.lines);
	at = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < ev.nr_ports && at < sizeof(buf) - 20; i++)
		if (ev.ports[i].n >= 16)
			at += console_snprintf(buf + at, sizeof(buf) - at, " 0x%x:%u", ev.ports[i].port, ev.ports[i].n);
	tap_diag("unknown ports with 16 or more accesses (port:count):%s", buf);
	at = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < ev.nr_bad_msr && at < sizeof(buf) - 12; i++)
		at += console_snprintf(buf + at, sizeof(buf) - at, " 0x%x", ev.bad_msr[i]);
	tap_diag("MSRs refused (#GP): %u accesses to%s", ev.bad_msr_hits, buf);
	tap_diag("vlapic: %u timer deadlines fired, %u interrupts delivered, %u EOIs, %u self-IPIs; host: %u timer "
		 "ticks, %u HLT waits", lapic.timer_fired, lapic.delivered, lapic.eois, lapic.self_ipis, ev.host_ticks,
		 ev.hlt_waits);
}

/* Lay the guest out in `ram` (GPA 0): the ACPI tables, the kernel, its
 * initrd and command line (`extra` appended).  0 or the loader's error. */
static int load_guest(uint8_t *ram, const struct lb_image *base, const char *extra, struct lb_entry *entry,
		      int *acpi_len, char *cmdline, size_t cmdline_len)
{
	static const struct acpi_build acfg = { VLAPIC_GPA, SLEEP_PORT, RESET_PORT, RESET_VALUE };
	console_snprintf(cmdline, cmdline_len,
			 "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 tsc_early_khz=%llu tsc=reliable "
			 "pci=conf1,noacpi mitigations=off nokaslr panic=-1 reboot=acpi nowatchdog rcupdate.rcu_cpu_stall_suppress=1 "
			 "rdinit=/init%s%s",
			 (unsigned long long)(clock_tsc_hz() / 1000), extra[0] ? " " : "", extra);
	struct lb_image img = *base;
	img.cmdline = cmdline;
	int lrc = linux_boot_load(ram, GUEST_RAM, &img, entry);
	/* linux_boot_load clears low memory: the ACPI tables go in after it. */
	*acpi_len = lrc ? lrc : acpi_build(ram + ACPI_GPA, ACPI_GPA, 0x20000, &acfg);
	return lrc;
}

/* One guest from its 64-bit entry to its stop, on a fresh VM and vCPU
 * over the same RAM (`hpa`); the models and counters start empty.
 * Returns svm_vcpu_run's result (or a set-up error, negative). */
static int run_guest(uint64_t hpa, const struct lb_entry *entry, uint64_t *t_end, bool vf, bool badmap)
{
	__builtin_memset(&seen, 0, sizeof(seen));
	__builtin_memset(&ev, 0, sizeof(ev));
	int rc;
	/* The VM: RAM, traps for every port and MSR but the few the CPU
	 * switches itself, the devices. */
	rc = svm_vm_init(&vm, &cpu, &guest_ops, NULL);
	rc = rc ? rc : core_vm_map(&vm.core, 0, hpa, GUEST_RAM, EPT_RWX | EPT_RAM, EPT_MT_WB);
	if (rc == 0) {
		__builtin_memset(vm.msrpm, 0xff, 8192);
		/* Saved and loaded by VMSAVE/VMLOAD with the guest's state (APM
		 * §15.5.2): FS/GS/KernelGS base, STAR, LSTAR, CSTAR, SFMASK,
		 * SYSENTER_CS/ESP/EIP. */
		static const uint32_t pass[] = { 0xc0000100u, 0xc0000101u, 0xc0000102u, 0xc0000081u, 0xc0000082u,
						 0xc0000083u, 0xc0000084u, 0x174u, 0x175u, 0x176u };
		for (unsigned i = 0; i < sizeof(pass) / sizeof(pass[0]) && rc == 0; i++)
			rc = svm_vm_trap_msr(&vm, pass[i], false, false);
		rc = rc ? rc : svm_vm_trap_io(&vm, 0, 0x10000, true);
	}
	vlapic_init(&lapic);
	uart_init(&com1, on_line, NULL);
	pci_host_init(&pcih, 0x8086, 0x29c0);   /* the Q35 MCH's IDs */
	/* The VF first: bm_passthrough's traps come and go before the others. */
	int vrc = rc || !vf ? 0 : bmlvf_assign(&vm.core, &pcih, badmap);
	if (vrc)
		tap_diag("VF assignment: %d", vrc);
	struct core_mmio_ops aops = vlapic_mmio_ops, nops = none_ops;
	aops.ctx = &lapic;
	struct core_pio_ops uops = uart_pio_ops, pops = pci_host_pio_ops, acops = acpi_pio;
	uops.ctx = &com1;
	pops.ctx = &pcih;
	rc = rc ? rc : core_vm_trap_mmio(&vm.core, VLAPIC_GPA, 0x1000, &aops);
	rc = rc ? rc : core_vm_trap_mmio(&vm.core, GUEST_RAM, BMLVF_WIN - GUEST_RAM, &nops);
	if (!vf || vrc)   /* no VF: the window is unassigned space too */
		rc = rc ? rc : core_vm_trap_mmio(&vm.core, BMLVF_WIN, BMLVF_WIN_SIZE, &nops);
	rc = rc ? rc : core_vm_trap_mmio(&vm.core, BMLVF_WIN + BMLVF_WIN_SIZE, VLAPIC_GPA - BMLVF_WIN - BMLVF_WIN_SIZE, &nops);
	rc = rc ? rc : core_vm_trap_mmio(&vm.core, VLAPIC_GPA + 0x1000, (4ull << 30) - VLAPIC_GPA - 0x1000, &nops);
	rc = rc ? rc : core_vm_trap_pio(&vm.core, 0x3f8, 8, &uops);
	rc = rc ? rc : core_vm_trap_pio(&vm.core, PCI_HOST_PORT, PCI_HOST_PORTS, &pops);
	rc = rc ? rc : core_vm_trap_pio(&vm.core, SLEEP_PORT, 5, &acops);
	rc = rc ? rc : core_vm_trap_pio(&vm.core, 0x42, 1, &legacy_pio);
	rc = rc ? rc : core_vm_trap_pio(&vm.core, 0x70, 2, &legacy_pio);
	rc = rc ? rc : svm_vcpu_init(&vcpu, &vm);
	struct svm_guest64 g = {
		.rip = entry->rip, .rsp = 0x8000, .rflags = 0, .cr3 = entry->cr3,
		.gdt_base = entry->gdt, .gdt_limit = (uint16_t)entry->gdt_limit, .idt_base = 0, .idt_limit = 0,
		.tr_base = 0, .cs = LB_BOOT_CS, .ds = LB_BOOT_DS, .tr = 0,
	};
	rc = rc ? rc : svm_vcpu_setup_long64(&vcpu, &g);
	if (rc)
		return rc;
	vcpu.core.gpr[GPR_RSI] = entry->rsi;   /* boot.rst: %rsi = boot_params */

	host_timer_start();
	seen.t_start = clock_ns();
	int run = svm_vcpu_run(&vcpu);
	*t_end = clock_ns();
	host_timer_stop();
	if (com1.len) {
		com1.line[com1.len] = 0;
		on_line(NULL, com1.line);
	}
	tap_diag("run ended: %d (%s)%s%s%s", run, run == CORE_STOP_HANDLER ? "a handler stopped it" :
		 run == CORE_STOP_SHUTDOWN ? "shutdown" : "error", ev.timeout ? "; time limit" : "",
		 ev.halted_if0 ? "; HLT with interrupts off" : "", ev.reset ? "; reset register" : "");
	log_exits();
	if (vf) {
		bmlvf_collect_faults();
		bmlvf_release(&vm.core);
	}
	svm_vcpu_destroy(&vcpu);
	svm_vm_destroy(&vm);
	return run;
}

/* The first guest's VF (issue 16 items 2-3): 6 checks on the guest's
 * own output and the host's counts. */
static void vf_checks(const struct bmlvf_stats *st, const struct vbars *b, uint64_t injected, int vfrc)
{
	static const uint8_t want_mac[6] = { 0x02, 0x56, 0x46, 0x00, 0x00, 0x20 };
	char mac[24];
	console_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", want_mac[0], want_mac[1], want_mac[2],
			 want_mac[3], want_mac[4], want_mac[5]);
	const struct vbar *b0 = &b->bar[0], *b3 = &b->bar[3];
	tap_ok(vfrc == 0 && seen.pci_vf == 1 && b0->mapped >= BMLVF_WIN && b3->mapped >= BMLVF_WIN &&
	       b0->mapped < BMLVF_WIN + BMLVF_WIN_SIZE && b->writes >= 4 && b->moves >= 4 && pcih.fn_reads > 0,
	       "the VF behind the guest's host bridge: sysfs shows 0000:00:01.0 8086:10ca class 020000 (IDs "
	       "synthesized from the PF's SR-IOV capability); virtual BARs in the guest's window: BAR0 at GPA 0x%llx "
	       "(HPA 0x%llx), BAR3 at 0x%llx (its MSI-X table trapped there); %u BAR writes, %u moves (sizing "
	       "included), %u refused; %u config reads, %u writes",
	       (unsigned long long)b0->mapped, (unsigned long long)0xe8000000ull, (unsigned long long)b3->mapped,
	       b->writes, b->moves, b->refused, pcih.fn_reads, pcih.fn_writes);
	tap_ok(seen.barmove && st->bar0_elsewhere == BMLVF_WIN + 0x100000 && seen.bm_old != 0xffffffffull &&
	       seen.bm_new == 0x5a5a5a00ull && seen.bm_gone == 0xffffffffull && seen.bm_back == seen.bm_new &&
	       seen.bm_tnew == 1 && seen.bm_tgone == 0xffffffffull && seen.bm_tback == 1,
	       "the guest moved BAR0 (sysfs config) to 0x%llx and back: the core remapped it (%u NPT mappings of BAR0); "
	       "the VF's RDBAL written there read back 0x%llx (0x%llx before, at the first place), the old place read "
	       "0x%llx meanwhile (the window's trap), 0x%llx at the first place once back; BAR3 moved to 0xc0204000 and "
	       "back: MSI-X entry 0's vector control read 0x%llx (masked) through the table's trap there, 0x%llx at "
	       "the old place, 0x%llx once back",
	       (unsigned long long)st->bar0_elsewhere, st->bar0_maps, seen.bm_new, seen.bm_old, seen.bm_gone,
	       seen.bm_back, seen.bm_tnew, seen.bm_tgone, seen.bm_tback);
	bool mac_ok = starts(seen.mac, mac);
	tap_ok(seen.igbvf_loaded && seen.vf_driver && mac_ok && st->vf0_resets >= 1 && st->mbx_msgs >= 1,
	       "igbvf bound to 0000:00:01.0 (driver %s) and took MAC %s from our PF (VF_RESET answered %u times, %u "
	       "mailbox messages served), given %s", seen.drv[0] ? seen.drv : "-", seen.mac[0] ? seen.mac : "-",
	       st->vf0_resets, st->mbx_msgs, mac);
	tap_ok(seen.carrier && st->link_pf, "igbvf reports link up (carrier 1%s) on the PF's link",
	       seen.kernel_link_up ? ", the kernel said \"Link is Up\"" : "");
	uint32_t frames = st->rx_frames + st->tx_frames;
	tap_ok(seen.ping_said && seen.ping_tx >= 500 && seen.ping_rx == seen.ping_tx && st->icmp_req >= seen.ping_tx &&
	       st->icmp_rep == st->icmp_req && st->arp_rep >= 1 && frames >= 1000,
	       "the guest pinged the hypervisor's responder (VF 1): %s; the responder counted %u frames in (%u ARP "
	       "requests, %u ICMP echo requests, %u other), %u out: %u frames exchanged",
	       seen.ping_line[0] ? seen.ping_line : "-", st->rx_frames, st->arp_req, st->icmp_req, st->other,
	       st->tx_frames, frames);
	/* Counted up across the ping (a quarter of the replies at least: NAPI
	 * and the vlapic's IRR may merge some), each one from a host vector. */
	tap_ok(seen.irq_lines[1] >= 2 && seen.ping_rx > 0 && seen.irq_sum[1] >= seen.irq_sum[0] + seen.ping_rx / 4 &&
	       st->raised >= seen.irq_sum[1] && injected >= st->raised && st->foreign == 0,
	       "MSI-X: the guest's /proc/interrupts counts %llu on %u eth0 vectors after the ping (%llu before); %llu "
	       "host vectors through our IRTEs, %llu injected, %llu raised in the vlapic, %llu not the VF's",
	       seen.irq_sum[1], seen.irq_lines[1], seen.irq_sum[0], (unsigned long long)st->host_irqs,
	       (unsigned long long)injected, (unsigned long long)st->raised, (unsigned long long)st->foreign);
	tap_ok(vfrc == 0 && seen.ping_said && st->faults_vf0 == 0 && st->faults_other == 0,
	       "no VT-d fault recorded during the run (%u for the VF, %u other): every DMA went through our tables",
	       st->faults_vf0, st->faults_other);
	/* One line for scripts/demo.sh's table. */
	tap_diag("bm-linux summary: boot_to_link_ms=%llu boot_to_init_ms=%llu frames=%u pings=%llu/%llu guest_msix=%llu "
		 "host_vectors=%llu faults=%u",
		 seen.t_link ? (unsigned long long)((seen.t_link - seen.t_start) / 1000000) : 0ull,
		 seen.init_ran ? (unsigned long long)((seen.t_init - seen.t_start) / 1000000) : 0ull, frames,
		 seen.ping_rx, seen.ping_tx, seen.irq_sum[1], (unsigned long long)st->host_irqs,
		 st->faults_vf0 + st->faults_other);
}

void test_main(void)
{
	tap_plan(BM_LINUX_TESTS);
	const struct boot_info *bi = boot_info();
	const uint8_t *blob = port_phys_to_virt(bi->module_pa);
	bool blob_ok = bi->module_pa && bi->module_len >= BLOB_HDR && __builtin_memcmp(blob, "VFSLNX01", 8) == 0;
	uint64_t koff = blob_ok ? get64(blob + 8) : 0, klen = blob_ok ? get64(blob + 16) : 0;
	uint64_t ilen = blob_ok ? (uint32_t)get64(blob + 24) : 0, ioff = (koff + klen + 4095) & ~4095ull;
	blob_ok = blob_ok && koff == BLOB_HDR && ioff + ilen <= bi->module_len;
	if (!blob_ok)
		tap_bail("no guest blob as the PVH module (QEMU -initrd build/bm-linux/guest.blob): module at 0x%llx, "
			 "%llu bytes", (unsigned long long)bi->module_pa, (unsigned long long)bi->module_len);

	int rc = svm_cpu_on(&cpu);
	if (rc)
		tap_bail("svm_cpu_on: %d", rc);
	char why[96];
	int vfrc = bmlvf_host_init(&cpu, why, sizeof(why));
	tap_diag("the VF's host side: %d (%s); VF 0 %02x:%02x.%u for the guest, VF 1 %02x:%02x.%u the responder", vfrc,
		 why, bmlvf.vf_rid[0] >> 8, (bmlvf.vf_rid[0] >> 3) & 31, bmlvf.vf_rid[0] & 7, bmlvf.vf_rid[1] >> 8,
		 (bmlvf.vf_rid[1] >> 3) & 31, bmlvf.vf_rid[1] & 7);
	uint64_t hpa = claim_guest_ram(bi->module_pa, bi->module_len);
	if (!hpa)
		tap_bail("no %llu MiB of host RAM for the guest", (unsigned long long)(GUEST_RAM >> 20));
	uint8_t *ram = port_phys_to_virt(hpa);

	/* The guest's memory and boot data. */
	struct lb_image base = {
		.kernel = blob + koff, .kernel_len = klen, .initrd = blob + ioff, .initrd_len = ilen,
		.e820 = e820, .nr_e820 = sizeof(e820) / sizeof(e820[0]), .rsdp_gpa = ACPI_GPA,
	};
	struct lb_entry entry;
	char cmdline[LB_CMDLINE_MAX];
	int acpi_len;
	int lrc = load_guest(ram, &base, "", &entry, &acpi_len, cmdline, sizeof(cmdline));
	tap_ok(lrc == 0 && acpi_len > 0,
	       "bzImage (boot protocol %u.%02u, %llu KiB) at GPA 0x%x, initramfs (%llu KiB) at GPA 0x%llx, zero page "
	       "0x%x, 64-bit entry 0x%llx; ACPI tables %d bytes at 0x%x; guest RAM %llu MiB at HPA 0x%llx",
	       entry.protocol >> 8, entry.protocol & 0xff, (unsigned long long)(klen >> 10), LB_KERNEL_GPA,
	       (unsigned long long)(ilen >> 10), (unsigned long long)entry.initrd_gpa, LB_PARAMS_GPA,
	       (unsigned long long)entry.rip, acpi_len, ACPI_GPA, (unsigned long long)(GUEST_RAM >> 20),
	       (unsigned long long)hpa);
	if (lrc || acpi_len < 0)
		tap_bail("linux_boot_load %d, acpi_build %d", lrc, acpi_len);
	tap_diag("guest command line: %s", cmdline);

	uint64_t t_end;
	int run = run_guest(hpa, &entry, &t_end, vfrc == 0, false);
	struct bmlvf_stats st1 = bmlvf;
	struct vbars bars1 = bmlvf_bars;
	uint64_t injected1 = bmlvf_dev.injected;
	if (run < 0 && !seen.t_start)
		tap_bail("VM set-up: %d", run);
	tap_diag("figures (wall, TCG, noisy): banner after %llu ms, /init after %llu ms, run %llu ms",
		 seen.banner ? (unsigned long long)((seen.t_banner - seen.t_start) / 1000000) : 0ull,
		 seen.init_ran ? (unsigned long long)((seen.t_init - seen.t_start) / 1000000) : 0ull,
		 (unsigned long long)((t_end - seen.t_start) / 1000000));

	tap_ok(seen.banner, "the kernel's banner (\"Linux version ...\") on the guest's serial (COM1 trapped, %llu bytes)",
	       (unsigned long long)com1.bytes);
	tap_ok(seen.e820_match == sizeof(e820) / sizeof(e820[0]) && seen.e820_lines == seen.e820_match,
	       "the kernel's e820 is the one given: %u of %u ranges printed as given (%u BIOS-e820 lines)",
	       seen.e820_match, (unsigned)(sizeof(e820) / sizeof(e820[0])), seen.e820_lines);
	tap_ok(seen.init_ran, "/init ran (its marker line on the guest's console)");
	tap_ok(seen.cpus == 1, "/proc/cpuinfo shows %u CPU (MADT: one local APIC)", seen.cpus);
	uint64_t ram_kb = (GUEST_RAM - 0x100000 + 0x9fc00) >> 10;
	tap_ok(seen.memtotal_kb > ram_kb / 2 && seen.memtotal_kb <= ram_kb,
	       "MemTotal %llu KiB of the %llu KiB of usable RAM given", seen.memtotal_kb, (unsigned long long)ram_kb);
	tap_ok(seen.sleep_ok && seen.slept_cs >= 100 && seen.slept_cs < 1000 && seen.loc_irqs > 0 && lapic.timer_fired > 0,
	       "the timer ticks: sleep 1 returned (uptime %s: %llu.%02llu s), %llu local-timer interrupts in /proc/interrupts, %u "
	       "TSC deadlines fired", seen.uptime[0] ? seen.uptime : "-", seen.slept_cs / 100, seen.slept_cs % 100, seen.loc_irqs, lapic.timer_fired);
	tap_ok(seen.pci_bridge == 1 && seen.pci_vf == 1 && seen.pci_other == 0,
	       "PCI (CF8/CFC): sysfs shows the host bridge 0000:00:00.0 8086:29c0 class 060000, the assigned VF "
	       "0000:00:01.0, and nothing else (%u other)", seen.pci_other);
	tap_ok(seen.init_ran && seen.trouble == 0 && vcpu.core.exits[CORE_EXIT_BACKEND] == 0,
	       "what the kernel probed and found missing failed cleanly: %u unknown port accesses (all-ones), %u "
	       "MSRs refused (#GP), %u unassigned GPA accesses; no oops/BUG/WARNING/unchecked-MSR/panic line "
	       "(%u%s%s), no exit the core could not handle", ev.unknown_in + ev.unknown_out, ev.bad_msr_hits,
	       ev.unassigned_mmio, seen.trouble, seen.trouble ? ", first: " : "", seen.first_trouble);
	tap_ok(run == CORE_STOP_HANDLER && ev.s5 && seen.poweroff_said && !ev.timeout,
	       "poweroff: the guest wrote SLP_TYP %u | SLP_EN (0x%x) to the FADT's sleep control register, the core "
	       "stopped the guest cleanly (run %d)", ACPI_SLEEP_TYP(ev.sleep_val), ev.sleep_val, run);
	vf_checks(&st1, &bars1, injected1, vfrc);

	/* A second guest on the same core and RAM, told to reboot: the FADT's
	 * reset register stops it.  loglevel=5: only the kernel's warnings
	 * and /init's lines (written at the default level 4) reach COM1, which
	 * saves most of the serial exits. */
	lrc = load_guest(ram, &base, "bmlinux.reboot bmlinux.badmap loglevel=5", &entry, &acpi_len, cmdline,
			 sizeof(cmdline));
	run = lrc ? lrc : run_guest(hpa, &entry, &t_end, vfrc == 0, true);
	tap_diag("second guest (bmlinux.reboot): run %d, /init after %llu ms; %u exits", run,
		 seen.init_ran ? (unsigned long long)((seen.t_init - seen.t_start) / 1000000) : 0ull,
		 vcpu.core.exits[CORE_EXIT_IO] + vcpu.core.exits[CORE_EXIT_MSR] + vcpu.core.exits[CORE_EXIT_MMIO] +
		 vcpu.core.exits[CORE_EXIT_EXTINT] + vcpu.core.exits[CORE_EXIT_HLT] + vcpu.core.exits[CORE_EXIT_CPUID] +
		 vcpu.core.exits[CORE_EXIT_INTR_WINDOW]);
	tap_ok(run == CORE_STOP_HANDLER && ev.reset && seen.init_ran && seen.reboot_said && !ev.s5 && !ev.timeout,
	       "reboot: a second guest on the same core reached /init, wrote 0x%x to the FADT's reset register (port "
	       "0x%x) and the core stopped it cleanly (run %d)", RESET_VALUE, RESET_PORT, run);
	/* The second guest's VF had a domain mirroring the NPT without the
	 * guest's RAM: igbvf's rings are in that RAM, its DMA must fault. */
	const struct vtd_fault *ff = &bmlvf.first_fault;
	tap_ok(vfrc == 0 && seen.igbvf_loaded && bmlvf.faults_vf0 >= 1 && ff->sid == bmlvf.vf_rid[0] && !ff->irq &&
	       ff->addr < GUEST_RAM && bmlvf_dma.mode == BMPT_MIRROR && seen.badmap_ping_said && seen.ping_tx >= 1 &&
	       seen.ping_rx == 0,
	       "a deliberate bad mapping (second guest: the VF's domain mirrors the NPT without the guest's RAM): QEMU's "
	       "VT-d recorded %u faults for SID 0x%04x, the first reason 0x%x (%s), %s at GPA 0x%llx; the guest's ping: "
	       "%s", bmlvf.faults_vf0, ff->sid, ff->reason, vtd_fault_reason_name(ff->reason), ff->write ? "write" : "read",
	       (unsigned long long)ff->addr, seen.ping_line[0] ? seen.ping_line : "-");
	tap_diag("bm-linux summary-badmap: faults=%u reason=0x%x", bmlvf.faults_vf0, ff->reason);
	tap_done();
}
