/*
 * kvm_core.h — the hosted VMX core: a Linux KVM virtual machine (guest RAM at
 * GPA 0, N vCPUs, in-kernel irqchip and PIT) that implements the glue.h
 * contract.  Facts: include/uapi/linux/kvm.h, Documentation/virt/kvm/api.rst.
 */
#ifndef VFS_KVM_CORE_H
#define VFS_KVM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_glue/glue.h"

/* Guest physical layout: RAM from 0 up to at most KVM_RAM_MAX; PCI BARs in
 * the hole above it; the IOAPIC and local APIC at their usual addresses. */
#define KVM_RAM_MAX       0xc0000000ull
#define KVM_PCI_MMIO_BASE 0xc0000000ull
#define KVM_PCI_MMIO_SIZE 0x20000000ull
#define KVM_IOAPIC_BASE   0xfec00000ull
#define KVM_LAPIC_BASE    0xfee00000ull
#define KVM_MAX_VCPUS     16

struct kvm_vm;

enum kvm_vm_stop {
	KVM_VM_POWEROFF,   /* the guest powered off or reset itself */
	KVM_VM_STOPPED,    /* kvm_vm_request_stop (a signal) */
	KVM_VM_FAILED,     /* KVM refused to run the guest */
};

/* The KVM device: $VFSTACK_KVM_DEV when set and not empty, else /dev/kvm
 * (a test sets it to a missing path to run as on a machine without KVM). */
const char *kvm_dev_path(void);
/* `why` receives one sentence on failure (no /dev/kvm, too much memory…). */
int kvm_vm_create(uint64_t mem_bytes, unsigned ncpus, struct kvm_vm **out,
		  char *why, size_t why_len);
void kvm_vm_destroy(struct kvm_vm *vm);
struct glue *kvm_vm_glue(struct kvm_vm *vm);
/* Whether eventfd `host_eventfd` has fired (a count not yet read): on this
 * core a route's host source (glue.h's host_src) is an eventfd, and this is
 * its msi_route_pending. */
bool glue_eventfd_pending(int host_eventfd);
/* Guest RAM (GPA 0 .. size) as the host sees it. */
uint8_t *kvm_vm_ram(struct kvm_vm *vm, uint64_t *size);
unsigned kvm_vm_ncpus(const struct kvm_vm *vm);

/* The bootstrap processor enters 32-bit protected mode, flat segments, at
 * `eip` with %esi = `esi` (Linux boot protocol, "32-bit boot protocol"); the
 * GDT (__BOOT_CS 0x10, __BOOT_DS 0x18) is at `gdt_gpa`. */
int kvm_vm_set_entry32(struct kvm_vm *vm, uint32_t eip, uint32_t esi, uint32_t gdt_gpa);

/* Run every vCPU until the guest powers off / resets, a stop is requested or
 * KVM fails; returns which.  `why` gets the failure. */
enum kvm_vm_stop kvm_vm_run(struct kvm_vm *vm, char *why, size_t why_len);
/* Async-signal-safe: make kvm_vm_run return KVM_VM_STOPPED. */
void kvm_vm_request_stop(struct kvm_vm *vm);
/* From a device model: the guest powered off; kvm_vm_run returns
 * KVM_VM_POWEROFF. */
void kvm_vm_poweroff(struct kvm_vm *vm);

/* VM exits seen so far (for the log). */
uint64_t kvm_vm_exits(const struct kvm_vm *vm);
/* Of those, KVM_EXIT_MMIO: accesses to a trapped MMIO range (an emulated
 * device's registers; a doorbell taken by ioeventfd never exits). */
uint64_t kvm_vm_mmio_exits(const struct kvm_vm *vm);

#endif
