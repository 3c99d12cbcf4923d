/*
 * guest_probe.c — a freestanding 64-bit guest that makes one exit of each
 * kind the SVM backend handles, and reports what it saw through VMCALL
 * (RAX = CMD_REPORT, RBX = key, RCX = value; tests/vmx/vmx_test.h), ending
 * with VMCALL CMD_DONE:
 *   CPUID 8000_0001h (SVM must be hidden) and 0;
 *   RDMSR EFER (SVME must be hidden), WRMSR EFER with SVME set, RDMSR again;
 *   OUT then IN on a trapped port;
 *   HLT with IF = 0 (an exit, no interrupt expected);
 *   a load and a store on a trapped MMIO page (nested page faults).
 * Same address space as the image (the host gives it the boot CR3).
 */
#include <stdint.h>

#include "tests/svm/svm_test.h"
#include "tests/vmx/guest_io.h"

static void report(enum probe_key k, uint64_t v) { vmcall(CMD_REPORT, k, v); }

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

void guest_probe_entry(const struct probe_params *p);
void guest_probe_entry(const struct probe_params *p)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
	report(P_CPUID_ECX, c);
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0u), "c"(0));
	report(P_CPUID0_EBX, b);

	uint64_t efer = rdmsr(0xc0000080u);
	report(P_EFER, efer);
	uint64_t set = efer | (1ull << 12);
	__asm__ volatile("wrmsr" : : "c"(0xc0000080u), "a"((uint32_t)set), "d"((uint32_t)(set >> 32)) : "memory");
	report(P_EFER_AFTER, rdmsr(0xc0000080u));

	__asm__ volatile("outl %0, %w1" : : "a"(p->out_val), "Nd"(p->port));
	uint32_t in;
	__asm__ volatile("inl %w1, %0" : "=a"(in) : "Nd"(p->port));
	report(P_IN, in);

	__asm__ volatile("cli; hlt" ::: "memory");
	report(P_AFTER_HLT, 1);

	uint32_t v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p->mmio_gpa) : "memory");
	report(P_MMIO_READ, v);
	__asm__ volatile("movl %0, 4(%1)" : : "r"(p->mmio_val), "r"(p->mmio_gpa) : "memory");
	vmcall(CMD_DONE, 0, 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}
