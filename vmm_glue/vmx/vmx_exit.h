/*
 * vmx_exit.h — what a VM exit says, decoded: exit-reason and VM-instruction
 * error names, exit qualifications, interruption information, and which
 * MSR/port accesses the bitmaps make exit.  Pure functions (host-tested).
 */
#ifndef VFS_VMX_EXIT_H
#define VFS_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

/* Basic exit reasons (App. C). */
enum vmx_exit_reason {
	EXIT_EXCEPTION_NMI = 0,
	EXIT_EXTERNAL_INTR = 1,
	EXIT_TRIPLE_FAULT = 2,
	EXIT_INIT = 3,
	EXIT_INTR_WINDOW = 7,
	EXIT_NMI_WINDOW = 8,
	EXIT_CPUID = 10,
	EXIT_HLT = 12,
	EXIT_VMCALL = 18,
	EXIT_CR_ACCESS = 28,
	EXIT_IO = 30,
	EXIT_RDMSR = 31,
	EXIT_WRMSR = 32,
	EXIT_ENTRY_FAIL_GUEST = 33,
	EXIT_ENTRY_FAIL_MSR = 34,
	EXIT_ENTRY_FAIL_MCE = 41,
	EXIT_TPR_BELOW_THRESHOLD = 43,  /* use TPR shadow without virtual-interrupt delivery */
	EXIT_APIC_ACCESS = 44,          /* virtualize APIC accesses (the core never sets it) */
	EXIT_VIRT_EOI = 45,             /* EOI virtualization of a vector in the EOI-exit bitmap (§29.1.4) */
	EXIT_EPT_VIOLATION = 48,
	EXIT_EPT_MISCONFIG = 49,
	EXIT_XSETBV = 55,
	EXIT_APIC_WRITE = 56,           /* trap-like: a virtual-APIC write not virtualized (§29.4.3.3) */
	EXIT_REASON_MAX = 70,
};
/* Exit-reason field (§24.9.1): bits 15:0 basic reason, bit 31 entry failed. */
#define EXIT_REASON_BASIC(r) ((r) & 0xffffu)
#define EXIT_REASON_ENTRY_FAILED (1u << 31)

const char *vmx_exit_reason_name(uint32_t basic_reason);
/* The name of a VMCS field the core uses ("GUEST_RIP"), by its encoding
 * (App. B); "unknown field" otherwise. */
const char *vmx_field_name(uint32_t field);
/* VM-instruction error numbers (§30.4, Table 30-1). */
const char *vmx_insn_error_name(uint32_t err);

/* Control-register access qualification (§27.2.1, Table 27-3). */
enum vmx_cr_access_type { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };
struct vmx_cr_access {
	unsigned cr;       /* 0, 3, 4, 8 */
	unsigned type;     /* enum vmx_cr_access_type */
	unsigned gpr;      /* 0 RAX, 1 RCX, ... 4 RSP ... 15 R15 */
	bool lmsw_memory;  /* LMSW operand was in memory */
	uint16_t lmsw_src;
};
void vmx_decode_cr_access(uint64_t qual, struct vmx_cr_access *out);

/* I/O instruction qualification (§27.2.1, Table 27-5). */
struct vmx_io_access {
	uint16_t port;
	unsigned size;     /* 1, 2 or 4 bytes */
	bool in, string, rep, imm_operand;
};
void vmx_decode_io(uint64_t qual, struct vmx_io_access *out);

/* EPT-violation qualification (§27.2.1, Table 27-7). */
struct vmx_ept_violation {
	bool read, write, fetch;                    /* the access */
	bool was_readable, was_writable, was_executable; /* the entry allowed */
	bool gla_valid, gla_is_translation;         /* bit 7, bit 8 */
	bool nmi_unblocking;                        /* bit 12 */
};
void vmx_decode_ept_violation(uint64_t qual, struct vmx_ept_violation *out);

/* Interruption information, exit (§24.9.2) and entry (§24.8.3). */
struct vmx_intr_info {
	bool valid;
	uint8_t vector;
	unsigned type;     /* INTR_TYPE_* in vmcs_fields.h */
	bool has_errcode;
};
void vmx_decode_intr_info(uint32_t info, struct vmx_intr_info *out);
uint32_t vmx_encode_intr_info(uint8_t vector, unsigned type, bool has_errcode);
/* Does this exception vector push an error code (Vol. 3A §6.3.1)? */
bool vmx_exception_has_errcode(uint8_t vector);

/* MSR bitmap (§24.6.9): one 4 KiB page; reads of 0..1fff at byte 0, of
 * c0000000..c0001fff at 1024, writes at 2048 and 3072.  Returns the bit
 * index in the page, or -1 for an MSR outside both ranges (those always
 * exit). */
int vmx_msr_bitmap_bit(uint32_t msr, bool write);
/* I/O bitmaps (§24.6.4): A covers ports 0..7fff, B 8000..ffff.  Sets
 * *which (0 = A, 1 = B) and returns the bit index in that page. */
unsigned vmx_io_bitmap_bit(uint16_t port, unsigned *which);

#endif
