/*
 * vmx_test.h — what the Bochs test's host side (vmx_test.c) and its 64-bit
 * guest (guest64.c) agree on: the VMCALL commands, the ports, MSRs and MMIO
 * page the host traps, and the keys of the values the guest reports.
 */
#ifndef VFS_TESTS_VMX_TEST_H
#define VFS_TESTS_VMX_TEST_H

#include <stdint.h>

/* The image's two halves (tests/vmx/main.c runs each the platform allows)
 * and their TAP line counts. */
void vmx_tests(void);   /* the core: needs VMX (Bochs; QEMU/KVM nested) */
void bmpt_tests(void);  /* the passthrough glue: needs a VT-d unit, an edu, an igb */
struct vmx_cpu;
void vmx_edu_tests(struct vmx_cpu *cpu); /* vmx_edu.c: a launched guest drives an edu (model) */
void vmx_edu_vtd_tests(void);  /* ... the real edu: needs VMX and VT-d together (never run) */
#define APICV_TESTS 8
#define EDU_TESTS 6      /* 3 per run, the edu guest run twice */
#define EDU_VTD_TESTS 3  /* vmx_edu_vtd_tests */
#define VMX_TESTS (25 + APICV_TESTS + EDU_TESTS)
#define BMPT_TESTS 15

/* VMCALL: RAX = command, RBX / RCX = arguments. */
enum guest_cmd {
	CMD_DONE = 0,        /* unused by guest64 (it ends in a triple fault) */
	CMD_REPORT = 1,      /* RBX = key, RCX = value */
	CMD_MARK = 2,        /* host snapshots its exit counters (RBX = slot) */
	CMD_INJECT_IRQ = 3,  /* host queues external interrupt RBX */
	CMD_IRQ_ON_HLT = 4,  /* host injects RBX when the guest next halts */
	CMD_INJECT_GP = 5,   /* host injects #GP with error code RBX */
	CMD_SELF_IPI = 6,    /* host sends itself IPI RBX: an external-interrupt exit */
	CMD_POST = 7,        /* APICv guest: host posts vector RBX (and RCX if nonzero) */
	CMD_SNAP = 8,        /* APICv guest: host logs the guest interrupt status */
};

/* What the guest reports (CMD_REPORT keys). */
enum guest_key {
	K_HV_EAX, K_HV_EBX, K_HV_ECX, K_HV_EDX, K_CPUID1_ECX,
	K_MSR_READBACK, K_MSR_GP_COUNT, K_MSR_GP_ERR,
	K_IO_IN,
	K_CR4_READ, K_CR4_GP_COUNT, K_CR4_GP_ERR, K_CR4_AFTER,
	K_MMIO_XOR, K_MMIO_ID, K_MMIO_Q,
	K_MISCONF_VAL,
	K_WIN_BEFORE_STI, K_WIN_AFTER,
	K_HLT_COUNT,
	K_INJ_GP_COUNT, K_INJ_GP_ERR,
	K_MSI_READBACK,
	K_COUNT
};

#define TEST_MSR 0xc0001000u     /* trapped; host emulates (read = written + 1) */
#define TEST_MSR_ABSENT 0xc0001001u /* trapped; host says no such MSR: #GP */
#define UNTRAPPED_MSR 0x10u      /* IA32_TIME_STAMP_COUNTER: runs natively */
#define PORT_OUT 0xe9u           /* trapped OUT */
#define PORT_IN 0x5658u          /* trapped IN (bitmap B) */
#define PORT_UNTRAPPED 0x80u     /* POST port, native */
#define PORT_REPORT_RM 0xe0u     /* the real-mode guest's reports */
#define IO_IN_VALUE 0xcafef00du
#define MMIO_GPA 0x20000000ull   /* inside a 2 MiB EPT page: split to 4 KiB */
/* A passed-through function's config page (bm_passthrough's trap) and its
 * MSI capability in the host's model of the device. */
#define MSI_CFG_GPA 0x20002000ull
#define MSI_CAP_OFF 0x50u
#define MSI_GUEST_ADDR 0xfee01000u /* compatibility format: APIC 1 */
#define MSI_GUEST_VECTOR 0x41u
#define VEC_WINDOW 0x31u
#define VEC_HLT 0x32u
#define VEC_EXTINT 0x40u
#define MISCONF_MAGIC 0x600df00du
#define HV_LEAF 0x40000000u

/* The APICv guest (guest64_apicv_entry): what it reports. */
enum apicv_key {
	A_TPR_READ,          /* RDMSR 808H after writing PI_TPR */
	A_LOW_HELD,          /* handler count of VEC_PI_LOW while TPR = PI_TPR */
	A_LOW_AFTER,         /* ... after lowering TPR to 0 */
	A_ISR_SET,           /* deliveries whose VISR bit (RDMSR 81xH) was set in the handler */
	A_ISR_CLEAR,         /* ... and clear after the handler's EOI (WRMSR 80BH) */
	A_ORDER,             /* the vectors in delivery order, one byte each, first lowest */
	A_COUNT_A, A_COUNT_B, A_COUNT_EOIX,
	A_DONE,
	A_COUNT
};
#define VEC_PI_A 0x51u       /* posted alone, then with VEC_PI_B */
#define VEC_PI_B 0x62u
#define VEC_PI_LOW 0x55u     /* posted while the guest's TPR is PI_TPR: held */
#define VEC_PI_EOIX 0x70u    /* in the EOI-exit bitmap: its EOI exits (45) */
#define PI_TPR 0x60u
#define PI_NOTIFY_VECTOR 0xf2u /* host vector asked for hardware posting */

/* guest64.c */
void guest64_apicv_entry(void);
void guest64_entry(void);
extern uint8_t guest64_stack[16384];
extern uint64_t guest64_gdt[];
extern uint8_t guest64_tss[];
extern uint64_t guest64_idt[];
extern volatile uint32_t misconf_page[1024];
#define GUEST64_GDT_LIMIT (6 * 8 - 1)
#define GUEST64_CS 0x08
#define GUEST64_DS 0x10
#define GUEST64_TR 0x18

/* guest_real.S: copied to GPA 0x1000 of the real-mode guest. */
extern const uint8_t guest_real_start[], guest_real_end[];
#define REAL_LOAD 0x1000u
#define REAL_MARK_GPA 0x7000u
#define REAL_MARK 0x5a5a1234u

#endif
