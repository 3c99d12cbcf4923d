/*
 * vmx_caps.h — pure logic over the VMX capability MSRs: which control bits
 * may be set, the CR0/CR4 bits VMX operation fixes, IA32_FEATURE_CONTROL.
 * No instruction is executed here, so the host unit tests cover it all.
 */
#ifndef VFS_VMX_CAPS_H
#define VFS_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Adjust a 32-bit control field against its capability MSR (App. A.3-A.5:
 * bits 31:0 are the allowed-0 settings -- a 1 there means the control must
 * be 1 -- and bits 63:32 the allowed-1 settings -- a 0 there means it must
 * be 0).  `required` bits must be supported, `optional` bits are kept when
 * they are.  Returns 0 with *out set, or -PORT_ENOTSUP when a required bit
 * cannot be 1; *missing (if not NULL) then holds those bits. */
int vmx_adjust_controls(uint64_t cap_msr, uint32_t required, uint32_t optional,
			uint32_t *out, uint32_t *missing);

/* Which MSR reports a control field's capability: the TRUE_* MSR when
 * IA32_VMX_BASIC[55] says they exist (App. A.2), the original otherwise.
 * `which` is one of the VMX_CTLS_* below. */
enum vmx_ctls { VMX_CTLS_PIN, VMX_CTLS_PROC, VMX_CTLS_EXIT, VMX_CTLS_ENTRY };
uint32_t vmx_controls_msr(uint64_t vmx_basic, enum vmx_ctls which);

/* CR0/CR4 fixed bits (App. A.7/A.8): a bit 1 in FIXED0 must be 1, a bit 0 in
 * FIXED1 must be 0.  vmx_cr_fix() forces a value into range; vmx_cr_valid()
 * says whether it already is.  `exempt` names bits that need not follow
 * FIXED0 (CR0.PE|CR0.PG for an unrestricted guest, §26.3.1.1). */
uint64_t vmx_cr_fix(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t exempt);
bool vmx_cr_valid(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t exempt);

/* IA32_FEATURE_CONTROL (§23.7): VMXON outside SMX needs bit 2 set and the
 * lock bit 0 set.  Returns 0 when VMXON may run with `cur` as is, 1 when
 * *next must be written first (unlocked: set bit 2 and lock), or
 * -PORT_EPERM when firmware locked the MSR with VMX disabled. */
int vmx_feature_control(uint64_t cur, uint64_t *next);

/* The capability values the core reads once per CPU. */
struct vmx_caps {
	uint64_t basic;
	uint64_t pin, proc, proc2, exit, entry; /* the MSRs to adjust against */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;
	uint32_t apicv;     /* VMX_APICV_CAP_*: vmx_caps_apicv() of the above */
};

/* The APIC-virtualization controls a CPU allows (their allowed-1 bits in
 * the MSRs above, App. A.3.1-A.3.3, A.4), one flag each. */
#define VMX_APICV_CAP_EXT_INTR_EXIT (1u << 0)    /* pin 0 */
#define VMX_APICV_CAP_POSTED (1u << 1)           /* pin 7: process posted interrupts */
#define VMX_APICV_CAP_TPR_SHADOW (1u << 2)       /* primary 21 */
#define VMX_APICV_CAP_SECONDARY (1u << 3)        /* primary 31 */
#define VMX_APICV_CAP_VIRT_APIC_ACCESS (1u << 4) /* secondary 0 */
#define VMX_APICV_CAP_VIRT_X2APIC (1u << 5)      /* secondary 4 */
#define VMX_APICV_CAP_APIC_REG_VIRT (1u << 6)    /* secondary 8 */
#define VMX_APICV_CAP_VINTR_DELIVERY (1u << 7)   /* secondary 9 */
#define VMX_APICV_CAP_ACK_ON_EXIT (1u << 8)      /* exit 15 */
uint32_t vmx_caps_apicv(const struct vmx_caps *c);

/* IA32_VMX_EPT_VPID_CAP bits (App. A.10). */
#define EPT_CAP_EXEC_ONLY (1ull << 0)
#define EPT_CAP_PWL4 (1ull << 6)
#define EPT_CAP_MT_UC (1ull << 8)
#define EPT_CAP_MT_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_AD (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_SINGLE (1ull << 41)
#define VPID_CAP_ALL (1ull << 42)

#endif /* VFS_VMX_CAPS_H */
