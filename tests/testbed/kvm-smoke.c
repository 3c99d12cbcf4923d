/*
 * kvm-smoke — prove /dev/kvm works: run a few real-mode instructions in a vCPU.
 *
 * Creates a VM with one 4 KiB memory slot at guest physical 0x1000 holding
 *
 *     mov  $0x3f8, %dx     ; COM1
 *     add  %bl, %al        ; al = 2 + 3
 *     add  $'0', %al       ; al = '5'
 *     out  %al, (%dx)
 *     hlt
 *
 * and checks what the hardware (here: nested SVM or VMX) reports: a KVM_EXIT_IO for
 * port 0x3f8, one byte out, value '5'; then KVM_EXIT_HLT with RIP just past the hlt.
 * Prints one line per step; exit status 0 only when every check held.
 * Static, so it runs in the testbed's busybox image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_CODE_GPA 0x1000u
#define GUEST_MEM_SIZE 0x1000u

static const uint8_t guest_code[] = {
	0xba, 0xf8, 0x03, /* mov $0x3f8, %dx */
	0x00, 0xd8,       /* add %bl, %al */
	0x04, '0',        /* add $'0', %al */
	0xee,             /* out %al, (%dx) */
	0xf4,             /* hlt */
};

static int fail(const char *what)
{
	fprintf(stderr, "kvm-smoke: %s failed: %s\n", what, strerror(errno));
	return 1;
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "KVM_EXIT_IO";
	case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	default: return "another exit";
	}
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");

	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		fprintf(stderr, "kvm-smoke: KVM_GET_API_VERSION is %d, expected %d\n", api, KVM_API_VERSION);
		return 1;
	}
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		fprintf(stderr, "kvm-smoke: KVM_CAP_USER_MEMORY is missing\n");
		return 1;
	}
	printf("kvm-smoke: /dev/kvm API version %d\n", api);

	int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	if (vm < 0)
		return fail("KVM_CREATE_VM");

	uint8_t *mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap guest memory");
	memcpy(mem, guest_code, sizeof(guest_code));

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_CODE_GPA,
		.memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (run_size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");

	struct kvm_regs regs = {
		.rip = GUEST_CODE_GPA,
		.rax = 2,
		.rbx = 3,
		.rflags = 0x2, /* bit 1 is reserved and must be set */
	};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");
	printf("kvm-smoke: VM with one vCPU, 4 KiB at GPA 0x%x, real mode at 0x%x\n",
	       GUEST_CODE_GPA, GUEST_CODE_GPA);

	/* First exit: the out to COM1. */
	if (ioctl(vcpu, KVM_RUN, NULL) < 0)
		return fail("KVM_RUN (1)");
	if (run->exit_reason != KVM_EXIT_IO) {
		fprintf(stderr, "kvm-smoke: first exit is %s (%u), expected KVM_EXIT_IO\n",
			exit_name(run->exit_reason), run->exit_reason);
		return 1;
	}
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
	printf("kvm-smoke: exit 1: KVM_EXIT_IO port 0x%x size %u %s count %u data '%c'\n",
	       run->io.port, run->io.size, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
	       run->io.count, *data);
	if (run->io.port != 0x3f8 || run->io.size != 1 || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.count != 1 || *data != '5') {
		fprintf(stderr, "kvm-smoke: expected an out of '5' (1 byte) to port 0x3f8\n");
		return 1;
	}

	/* Second exit: hlt. */
	if (ioctl(vcpu, KVM_RUN, NULL) < 0)
		return fail("KVM_RUN (2)");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvm-smoke: second exit is %s (%u), expected KVM_EXIT_HLT\n",
			exit_name(run->exit_reason), run->exit_reason);
		return 1;
	}
	if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0)
		return fail("KVM_GET_REGS");
	printf("kvm-smoke: exit 2: KVM_EXIT_HLT, rip 0x%llx, al 0x%02llx\n",
	       (unsigned long long)regs.rip, (unsigned long long)(regs.rax & 0xff));
	if (regs.rip != GUEST_CODE_GPA + sizeof(guest_code) || (regs.rax & 0xff) != '5') {
		fprintf(stderr, "kvm-smoke: expected rip 0x%zx and al '5' after hlt\n",
			GUEST_CODE_GPA + sizeof(guest_code));
		return 1;
	}
	printf("kvm-smoke: ok\n");
	munmap(run, (size_t)run_size);
	munmap(mem, GUEST_MEM_SIZE);
	close(vcpu);
	close(vm);
	close(kvm);
	return 0;
}
