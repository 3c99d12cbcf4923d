/*
 * guest64.c — the 64-bit guest of the Bochs test.  It runs in the image's
 * own (identity) address space: the host gives it the boot page tables as
 * CR3 and an identity EPT, so it can be plain C.  It never touches host
 * state: it talks to the host only through the instructions under test
 * (CPUID, RDMSR/WRMSR, IN/OUT, MOV CR, MMIO, HLT, VMCALL) and its own IDT.
 */
#include <stdint.h>

#include "tests/vmx/guest_io.h"
#include "tests/vmx/vmx_test.h"
#include "vmm_glue/vmx/vmcs_fields.h"

uint8_t guest64_stack[16384] __attribute__((aligned(16)));
uint64_t guest64_gdt[6] __attribute__((aligned(8))) = {
	0,
	0x00af9a000000ffffull, /* 0x08: 64-bit code, DPL 0 (Vol. 3A §3.4.5) */
	0x00cf92000000ffffull, /* 0x10: data */
	0, 0,                  /* 0x18: TSS (TR state is given in the VMCS) */
	0,
};
uint8_t guest64_tss[104] __attribute__((aligned(16)));
uint64_t guest64_idt[512] __attribute__((aligned(16)));
volatile uint32_t misconf_page[1024] __attribute__((aligned(4096)));

/* Written by the interrupt stubs below. */
volatile uint64_t guest_vec_count[256];
volatile uint64_t guest_last_err;
volatile uint64_t guest_resume_rip;

/* Interrupt stubs: #GP records its error code and resumes at
 * guest_resume_rip; the others count their vector (virtual interrupts are
 * injected through the VMCS: no APIC, no EOI). */
__asm__(
	"	.text\n"
	"	.globl guest_isr_gp\n"
	"guest_isr_gp:\n"
	"	pushq %rax\n"
	"	incq guest_vec_count+13*8(%rip)\n"
	"	movq 8(%rsp), %rax\n"
	"	movq %rax, guest_last_err(%rip)\n"
	"	movq guest_resume_rip(%rip), %rax\n"
	"	movq %rax, 16(%rsp)\n"
	"	popq %rax\n"
	"	addq $8, %rsp\n"
	"	iretq\n"
	"	.globl guest_isr_31, guest_isr_32\n"
	"guest_isr_31:\n"
	"	incq guest_vec_count+0x31*8(%rip)\n"
	"	iretq\n"
	"guest_isr_32:\n"
	"	incq guest_vec_count+0x32*8(%rip)\n"
	"	iretq\n");
void guest_isr_gp(void);
void guest_isr_31(void);
void guest_isr_32(void);

static void report(enum guest_key k, uint64_t v) { vmcall(CMD_REPORT, k, v); }

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void test_cpuid(void)
{
	uint32_t r[4];
	cpuid(HV_LEAF, r);
	report(K_HV_EAX, r[0]);
	report(K_HV_EBX, r[1]);
	report(K_HV_ECX, r[2]);
	report(K_HV_EDX, r[3]);
	cpuid(1, r);
	report(K_CPUID1_ECX, r[2]);
}

static void test_msr(void)
{
	uint64_t v = 0x1122334455667788ull;
	__asm__ volatile("wrmsr" : : "c"(TEST_MSR), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
	report(K_MSR_READBACK, rdmsr(TEST_MSR));

	vmcall(CMD_MARK, 0, 0);
	(void)rdmsr(UNTRAPPED_MSR);
	vmcall(CMD_MARK, 1, 0);

	uint64_t before = guest_vec_count[13];
	/* Trapped, and the host has no such MSR: #GP(0), resume after it. */
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, guest_resume_rip(%%rip)\n\t"
			 "rdmsr\n"
			 "1:"
			 : : "c"(TEST_MSR_ABSENT) : "rax", "rdx", "memory");
	report(K_MSR_GP_COUNT, guest_vec_count[13] - before);
	report(K_MSR_GP_ERR, guest_last_err);
}

static void test_io(void)
{
	uint32_t in;
	__asm__ volatile("outb %0, %1" : : "a"((uint8_t)0xab), "Nd"((uint16_t)PORT_OUT));
	__asm__ volatile("inl %1, %0" : "=a"(in) : "Nd"((uint16_t)PORT_IN));
	report(K_IO_IN, in);
	vmcall(CMD_MARK, 2, 0);
	__asm__ volatile("outb %0, %1" : : "a"((uint8_t)0x42), "Nd"((uint16_t)PORT_UNTRAPPED));
	vmcall(CMD_MARK, 3, 0);
}

static void test_cr(void)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	report(K_CR4_READ, cr4);

	uint64_t before = guest_vec_count[13];
	uint64_t want = cr4 | (1ull << 13);  /* CR4.VMXE: the host's */
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, guest_resume_rip(%%rip)\n\t"
			 "mov %0, %%cr4\n"
			 "1:"
			 : : "r"(want) : "rax", "memory");
	report(K_CR4_GP_COUNT, guest_vec_count[13] - before);
	report(K_CR4_GP_ERR, guest_last_err);
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	report(K_CR4_AFTER, cr4);
}

static void test_mmio(void)
{
	uint64_t base = MMIO_GPA, x, id, q;
	/* Several encodings on purpose: C7 imm store, 89 store, 8B load,
	 * 0F B6 byte load, REX.W 89 and 8B. */
	__asm__ volatile("movl $0x12345678, (%[b])\n\t"
			 "movl %[v], 4(%[b])\n\t"
			 "movl 8(%[b]), %k[x]\n\t"
			 "movzbl 12(%[b]), %k[id]\n\t"
			 "movq %[q], 16(%[b])\n\t"
			 "movq 24(%[b]), %[qo]\n\t"
			 : [x] "=&r"(x), [id] "=&r"(id), [qo] "=&r"(q)
			 : [b] "r"(base), [v] "r"(0x0f0f0f0fu), [q] "r"(0x8877665544332211ull)
			 : "memory");
	report(K_MMIO_XOR, x);
	report(K_MMIO_ID, id);
	report(K_MMIO_Q, q);
}

/* A driver programming its MSI (PCI 3.0 §6.8.1, 64-bit capability):
 * address, upper address, data (16-bit store), then enable (16-bit store);
 * every store is an EPT violation on the trapped config page. */
static void test_msi(void)
{
	uintptr_t cap = (uintptr_t)(MSI_CFG_GPA + MSI_CAP_OFF);
	*(volatile uint32_t *)(cap + 4) = MSI_GUEST_ADDR;
	*(volatile uint32_t *)(cap + 8) = 0;
	*(volatile uint16_t *)(cap + 12) = MSI_GUEST_VECTOR;
	*(volatile uint16_t *)(cap + 2) = 1;
	report(K_MSI_READBACK, *(volatile uint32_t *)(cap + 4));
}

static void test_misconfig(void)
{
	report(K_MISCONF_VAL, misconf_page[0]);
}

static void test_events(void)
{
	/* External interrupt: the host's own IPI arrives while we run. */
	vmcall(CMD_SELF_IPI, VEC_EXTINT, 0);

	/* Interrupt window: queued while IF = 0, delivered after STI. */
	__asm__ volatile("cli" ::: "memory");
	vmcall(CMD_INJECT_IRQ, VEC_WINDOW, 0);
	__asm__ volatile("nop; nop" ::: "memory");
	report(K_WIN_BEFORE_STI, guest_vec_count[VEC_WINDOW]);
	__asm__ volatile("sti; nop; nop" ::: "memory");
	report(K_WIN_AFTER, guest_vec_count[VEC_WINDOW]);

	/* HLT: the host injects when we halt. */
	vmcall(CMD_IRQ_ON_HLT, VEC_HLT, 0);
	__asm__ volatile("sti; hlt" ::: "memory");
	report(K_HLT_COUNT, guest_vec_count[VEC_HLT]);
	__asm__ volatile("cli" ::: "memory");

	/* A hardware exception with an error code, injected by the host. */
	uint64_t before = guest_vec_count[13];
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, guest_resume_rip(%%rip)\n\t"
			 "movl %0, %%eax\n\t"
			 "movl $0x1234, %%ebx\n\t"
			 "vmcall\n"
			 "1:"
			 : : "i"(CMD_INJECT_GP) : "rax", "rbx", "memory");
	report(K_INJ_GP_COUNT, guest_vec_count[13] - before);
	report(K_INJ_GP_ERR, guest_last_err);
}

static void guest64_main(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
		sizeof(guest64_idt) - 1, (uint64_t)(uintptr_t)guest64_idt
	};
	guest_idt_gate(guest64_idt, 13, guest_isr_gp, GUEST64_CS);
	guest_idt_gate(guest64_idt, VEC_WINDOW, guest_isr_31, GUEST64_CS);
	guest_idt_gate(guest64_idt, VEC_HLT, guest_isr_32, GUEST64_CS);
	__asm__ volatile("lidt %0" : : "m"(idtr));

	test_cpuid();
	test_msr();
	test_io();
	test_cr();
	test_mmio();
	test_msi();
	test_misconfig();
	test_events();

	/* The end: an exception with no IDT becomes #DF, then a triple fault. */
	idtr.limit = 0;
	__asm__ volatile("lidt %0; ud2" : : "m"(idtr));
	for (;;)
		;
}

void guest64_entry(void)
{
	guest64_main();
}

/* --- the APICv guest ------------------------------------------------------
 * A guest of an x2APIC the CPU virtualizes: its interrupt handlers EOI
 * through WRMSR 80BH and read their in-service bit through RDMSR 81xH, it
 * raises and lowers its TPR through MSR 808H — all without a VM exit when
 * the host's APIC virtualization is right.  Each handler asks the host to
 * log the guest interrupt status (RVI/SVI) before and after its EOI. */

volatile uint8_t apicv_order[16];
volatile unsigned apicv_order_n, apicv_isr_set, apicv_isr_clear;

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static unsigned in_service(uint64_t vec)
{
	return (unsigned)(rdmsr(MSR_X2APIC_ISR0 + (uint32_t)(vec / 32)) >> (vec % 32)) & 1u;
}

void guest_apicv_isr(uint64_t vec);
void guest_apicv_isr(uint64_t vec)
{
	if (apicv_order_n < sizeof(apicv_order))
		apicv_order[apicv_order_n++] = (uint8_t)vec;
	guest_vec_count[vec]++;
	apicv_isr_set += in_service(vec);
	vmcall(CMD_SNAP, 0, 0);
	wrmsr(MSR_X2APIC_EOI, 0);
	apicv_isr_clear += !in_service(vec);
	vmcall(CMD_SNAP, 1, 0);
}

/* One stub per vector: RDI = vector, then the caller-saved registers
 * around a C call (9 pushes keep the ABI's 16-byte alignment). */
__asm__(
	"	.text\n"
	"	.globl guest_isr_51, guest_isr_55, guest_isr_62, guest_isr_70\n"
	"guest_isr_51: pushq %rdi; movl $0x51, %edi; jmp guest_isr_apicv\n"
	"guest_isr_55: pushq %rdi; movl $0x55, %edi; jmp guest_isr_apicv\n"
	"guest_isr_62: pushq %rdi; movl $0x62, %edi; jmp guest_isr_apicv\n"
	"guest_isr_70: pushq %rdi; movl $0x70, %edi; jmp guest_isr_apicv\n"
	"guest_isr_apicv:\n"
	"	pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi\n"
	"	pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"
	"	call guest_apicv_isr\n"
	"	popq %r11; popq %r10; popq %r9; popq %r8\n"
	"	popq %rsi; popq %rdx; popq %rcx; popq %rax\n"
	"	popq %rdi\n"
	"	iretq\n");
void guest_isr_51(void);
void guest_isr_55(void);
void guest_isr_62(void);
void guest_isr_70(void);

static void areport(enum apicv_key k, uint64_t v) { vmcall(CMD_REPORT, k, v); }

static void settle(void)
{
	__asm__ volatile("nop; nop" ::: "memory");
}

static void guest64_apicv_main(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
		sizeof(guest64_idt) - 1, (uint64_t)(uintptr_t)guest64_idt
	};
	guest_idt_gate(guest64_idt, 13, guest_isr_gp, GUEST64_CS);
	guest_idt_gate(guest64_idt, VEC_PI_A, guest_isr_51, GUEST64_CS);
	guest_idt_gate(guest64_idt, VEC_PI_LOW, guest_isr_55, GUEST64_CS);
	guest_idt_gate(guest64_idt, VEC_PI_B, guest_isr_62, GUEST64_CS);
	guest_idt_gate(guest64_idt, VEC_PI_EOIX, guest_isr_70, GUEST64_CS);
	__asm__ volatile("lidt %0; sti" : : "m"(idtr) : "memory");

	/* One vector, then two at once (the higher must come first). */
	vmcall(CMD_POST, VEC_PI_A, 0);
	settle();
	vmcall(CMD_POST, VEC_PI_A, VEC_PI_B);
	settle();

	/* TPR: class 6 holds a class-5 vector until it is lowered. */
	wrmsr(MSR_X2APIC_TPR, PI_TPR);
	areport(A_TPR_READ, rdmsr(MSR_X2APIC_TPR));
	vmcall(CMD_POST, VEC_PI_LOW, 0);
	settle();
	vmcall(CMD_SNAP, 2, 0);
	areport(A_LOW_HELD, guest_vec_count[VEC_PI_LOW]);
	wrmsr(MSR_X2APIC_TPR, 0);
	settle();
	areport(A_LOW_AFTER, guest_vec_count[VEC_PI_LOW]);

	/* A vector in the EOI-exit bitmap. */
	vmcall(CMD_POST, VEC_PI_EOIX, 0);
	settle();

	uint64_t order = 0;
	for (unsigned i = 0; i < apicv_order_n && i < 8; i++)
		order |= (uint64_t)apicv_order[i] << (8 * i);
	areport(A_ORDER, order);
	areport(A_ISR_SET, apicv_isr_set);
	areport(A_ISR_CLEAR, apicv_isr_clear);
	areport(A_COUNT_A, guest_vec_count[VEC_PI_A]);
	areport(A_COUNT_B, guest_vec_count[VEC_PI_B]);
	areport(A_COUNT_EOIX, guest_vec_count[VEC_PI_EOIX]);
	areport(A_DONE, 1);
	vmcall(CMD_DONE, 0, 0);
	for (;;)
		__asm__ volatile("hlt");
}

void guest64_apicv_entry(void)
{
	guest64_apicv_main();
}
