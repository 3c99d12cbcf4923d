/*
 * idt.c — 64-bit IDT of interrupt gates (Intel SDM vol. 3A 6.14.1, figure
 * 6-8: offset 15:0, selector, IST, type 0xE, DPL 0, P, offset 63:16).
 */
#include "baremetal/idt.h"
#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/console.h"
#include "baremetal/cpu.h"
#include "baremetal/lapic.h"
#include "port.h"

#define GATE_INTERRUPT 0x8e /* P=1, DPL=0, type 1110b */
#define STUB_SIZE 16

extern char isr_stubs[];

static uint64_t idt[256][2] __attribute__((aligned(16)));
static struct {
	idt_handler_fn fn;
	void *ctx;
} handlers[256];
static volatile uint64_t counts[256];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound",
	"#UD invalid opcode", "#NM no FPU", "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection", "#PF page fault",
	"reserved", "#MF x87", "#AC alignment", "#MC machine check", "#XM SIMD", "#VE virtualization",
	"#CP control protection",
};

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t off = (uint64_t)(uintptr_t)(isr_stubs + v * STUB_SIZE);
		idt[v][0] = (off & 0xffff) | ((uint64_t)BOOT_CS64 << 16) | ((uint64_t)GATE_INTERRUPT << 40) |
			    ((off >> 16) & 0xffff) << 48;
		idt[v][1] = off >> 32;
	}
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_set_handler(uint8_t vector, idt_handler_fn fn, void *ctx)
{
	handlers[vector].ctx = ctx;
	handlers[vector].fn = fn;
}

uint64_t idt_count(uint8_t vector) { return counts[vector]; }
void idt_reset_count(uint8_t vector) { counts[vector] = 0; }

int idt_wait_count(uint8_t vector, uint64_t count, uint64_t timeout_ns)
{
	uint64_t end = clock_ns() + timeout_ns;
	while (counts[vector] < count) {
		if (clock_ns() > end)
			return -PORT_ETIMEDOUT;
		/* sti; pause keeps the window open without sleeping past the
		 * deadline (no timer interrupt is armed to wake a hlt). */
		cpu_sti();
		cpu_pause();
	}
	return 0;
}

static void __attribute__((noreturn)) fatal_exception(const struct idt_frame *f)
{
	const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector] : "exception";
	console_printf("not ok - unexpected exception %u (%s) error=0x%llx rip=0x%llx cr2=0x%llx rsp=0x%llx\n",
		       (unsigned)f->vector, name, (unsigned long long)f->error, (unsigned long long)f->rip,
		       (unsigned long long)read_cr2(), (unsigned long long)f->rsp);
	console_printf("Bail out! exception %u at rip 0x%llx\n", (unsigned)f->vector, (unsigned long long)f->rip);
	boot_exit(BOOT_EXIT_FAIL);
}

void idt_dispatch(struct idt_frame *f);
void idt_dispatch(struct idt_frame *f)
{
	uint8_t v = (uint8_t)f->vector;
	counts[v]++;
	if (handlers[v].fn) {
		handlers[v].fn(f, handlers[v].ctx);
	} else if (v < 32) {
		fatal_exception(f);
	}
	/* The LAPIC spurious vector takes no EOI (SDM vol. 3A 11.9). */
	if (v >= 32 && v != IDT_VEC_SPURIOUS)
		lapic_eoi();
}
