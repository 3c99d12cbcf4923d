/*
 * bench_trace.c — the VM's exits by hardware exit reason, and its MSR writes by
 * register, from tracefs histogram triggers on kvm:kvm_exit and kvm:kvm_msr
 * (Documentation/trace/histogram.rst). KVM's debugfs counters put MSR accesses,
 * nested page faults and CPUID into one "other"; these name them.
 *
 * Exit codes: AMD APM Vol. 2 §15 appendix C (SVM intercept codes); Intel SDM Vol. 3
 * appendix C (VMX basic exit reasons). MSRs: x2APIC EOI 0x80B and timer initial count
 * 0x838 (SDM Vol. 3 §11.12.1), IA32_TSC_DEADLINE 0x6E0 (§11.5.4.1).
 */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/vfctl/bench.h"

#define TRACEFS "/sys/kernel/tracing"
#define EXIT_TRIGGER "hist:keys=common_pid,exit_reason:size=8192"
#define MSR_TRIGGER "hist:keys=common_pid,ecx,write:size=8192"

const char *const bench_hw_key[BENCH_NHW] = {
	"intr", "vintr", "msr_eoi", "msr_timer", "msr_other", "npf", "io", "hlt", "cpuid", "rest",
};

enum { HW_INTR, HW_VINTR, HW_MSR_EOI, HW_MSR_TIMER, HW_MSR_OTHER, HW_NPF, HW_IO, HW_HLT, HW_CPUID, HW_REST };

static enum { NONE, SVM, VMX } isa;

static int write_trigger(const char *event, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), TRACEFS "/events/kvm/%s/trigger", event);
	return bench_append_file(path, text);
}

/* Install the two histograms; a note says why not (no tracefs, no hist triggers, not KVM). */
int bench_trace_start(char *note, size_t len)
{
	struct stat st;
	isa = stat("/sys/module/kvm_amd", &st) == 0 ? SVM : stat("/sys/module/kvm_intel", &st) == 0 ? VMX : NONE;
	if (isa == NONE) {
		bench_note(note, len, "no kvm_amd or kvm_intel module");
		return -ENOTSUP;
	}
	if (stat(TRACEFS "/events", &st) != 0)
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	int err = write_trigger("kvm_exit", EXIT_TRIGGER);
	if (!err && (err = write_trigger("kvm_msr", MSR_TRIGGER)) != 0)
		write_trigger("kvm_exit", "!" EXIT_TRIGGER);
	if (err) {
		bench_note(note, len, "tracefs histogram triggers on kvm:kvm_exit and kvm:kvm_msr: %s "
			   "(a kernel without CONFIG_HIST_TRIGGERS, or no tracefs at " TRACEFS ")", strerror(-err));
		isa = NONE;
	}
	return err;
}

void bench_trace_stop(void)
{
	if (isa == NONE)
		return;
	write_trigger("kvm_exit", "!" EXIT_TRIGGER);
	write_trigger("kvm_msr", "!" MSR_TRIGGER);
	isa = NONE;
}

static bool thread_of(pid_t pid, int tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, tid);
	return access(path, F_OK) == 0;
}

static int hw_class(unsigned code)
{
	if (isa == SVM)
		switch (code) {
		case 0x60: return HW_INTR;
		case 0x64: return HW_VINTR;
		case 0x7c: return HW_MSR_OTHER;   /* split by kvm_msr below */
		case 0x400: return HW_NPF;
		case 0x7b: return HW_IO;
		case 0x78: return HW_HLT;
		case 0x72: return HW_CPUID;
		default: return HW_REST;
		}
	switch (code & 0xffff) { /* VMX: the basic exit reason */
	case 1: return HW_INTR;
	case 7: return HW_VINTR;
	case 31: case 32: return HW_MSR_OTHER;
	case 48: case 49: return HW_NPF;
	case 30: return HW_IO;
	case 12: return HW_HLT;
	case 10: return HW_CPUID;
	default: return HW_REST;
	}
}

/* Totals for the threads of process pid, every exit by class: msr_other holds all MSR
 * exits here, msr_eoi and msr_timer the writes of those registers (bench_trace_delta
 * takes them out of msr_other). */
bool bench_trace_snap(pid_t pid, double hw[BENCH_NHW])
{
	memset(hw, 0, sizeof(double) * BENCH_NHW);
	if (isa == NONE)
		return false;
	FILE *f = fopen(TRACEFS "/events/kvm/kvm_exit/hist", "r");
	if (!f)
		return false;
	char line[256];
	int tid;
	unsigned code, ecx, wr;
	unsigned long long n;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "{ common_pid: %d, exit_reason: %u } hitcount: %llu", &tid, &code, &n) == 3 &&
		    thread_of(pid, tid))
			hw[hw_class(code)] += (double)n;
	fclose(f);
	if (!(f = fopen(TRACEFS "/events/kvm/kvm_msr/hist", "r")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "{ common_pid: %d, ecx: %u, write: %u } hitcount: %llu", &tid, &ecx, &wr, &n) == 4 &&
		    wr && thread_of(pid, tid)) {
			int k = ecx == 0x80b ? HW_MSR_EOI : ecx == 0x6e0 || ecx == 0x838 ? HW_MSR_TIMER : -1;
			if (k >= 0)
				hw[k] += (double)n;
		}
	fclose(f);
	return true;
}

/* The exits between two snapshots, the named MSR writes out of msr_other. */
void bench_trace_delta(const double before[BENCH_NHW], const double after[BENCH_NHW], double out[BENCH_NHW])
{
	for (int k = 0; k < BENCH_NHW; k++)
		out[k] = after[k] - before[k];
	out[HW_MSR_OTHER] -= out[HW_MSR_EOI] + out[HW_MSR_TIMER];
	if (out[HW_MSR_OTHER] < 0) /* an MSR exit traced between reading the two histograms */
		out[HW_MSR_OTHER] = 0;
}
