/*
 * vmcb.h — the virtual machine control block (AMD APM Vol. 2 Appendix B,
 * Tables B-1 control area and B-2 state-save area), exit codes (Appendix C)
 * and the SVM MSRs (§15.30).  Offsets in bytes from the VMCB's start.
 */
#ifndef VFS_SVM_VMCB_H
#define VFS_SVM_VMCB_H

#include <stdint.h>

/* Control area (Table B-1). */
#define VMCB_INTERCEPT_EXC 0x008    /* u32: bit n = exception vector n */
#define VMCB_INTERCEPT_1 0x00c      /* u32: the bits below */
#define VMCB_INTERCEPT_2 0x010      /* u32 */
#define VMCB_IOPM_BASE 0x040        /* u64 */
#define VMCB_MSRPM_BASE 0x048       /* u64 */
#define VMCB_ASID 0x058             /* u32 */
#define VMCB_TLB_CONTROL 0x05c      /* u8 */
#define VMCB_VINTR 0x060            /* u64: V_TPR 7:0, V_IRQ 8, V_INTR_PRIO 19:16, V_IGN_TPR 20,
				       V_INTR_MASKING 24, V_INTR_VECTOR 39:32 */
#define VMCB_INT_STATE 0x068        /* u64: bit 0 interrupt shadow */
#define VMCB_EXITCODE 0x070         /* u64 */
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_CTL 0x090           /* u64: bit 0 NP_ENABLE */
#define VMCB_EVENTINJ 0x0a8         /* u64 */
#define VMCB_N_CR3 0x0b0            /* u64 */
#define VMCB_CLEAN 0x0c0            /* u32: 0 = reload everything */

/* State-save area (Table B-2): segment registers are 16 bytes each:
 * selector u16, attrib u16 (descriptor bits 47:40 and 55:52), limit u32,
 * base u64. */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_FS 0x440
#define VMCB_GS 0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR 0x490
#define VMCB_CPL 0x4cb              /* u8 */
#define VMCB_EFER 0x4d0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5d8
#define VMCB_RAX 0x5f8
#define VMCB_CR2 0x640
#define VMCB_G_PAT 0x668

/* VMCB_INTERCEPT_1 bits (Table B-1, offset 00Ch). */
#define INTERCEPT1_INTR (1u << 0)
#define INTERCEPT1_VINTR (1u << 4)
#define INTERCEPT1_CPUID (1u << 18)
#define INTERCEPT1_HLT (1u << 24)
#define INTERCEPT1_IOIO_PROT (1u << 27)
#define INTERCEPT1_MSR_PROT (1u << 28)
#define INTERCEPT1_SHUTDOWN (1u << 31)
/* VMCB_INTERCEPT_2 bits (offset 010h). */
#define INTERCEPT2_VMRUN (1u << 0)   /* required: VMRUN fails without it (§15.5.1) */
#define INTERCEPT2_VMMCALL (1u << 1)

#define VINTR_V_IRQ (1ull << 8)
#define VINTR_IGN_TPR (1ull << 20)
#define VINTR_MASKING (1ull << 24)
#define VINTR_PRIO_SHIFT 16
#define VINTR_VECTOR_SHIFT 32

/* EVENTINJ / EXITINTINFO (§15.20): vector 7:0, type 10:8, EV 11, V 31,
 * error code 63:32. */
#define EVENT_TYPE_INTR 0u
#define EVENT_TYPE_NMI 2u
#define EVENT_TYPE_EXC 3u
#define EVENT_TYPE_SOFT 4u
#define EVENT_EV (1ull << 11)
#define EVENT_VALID (1ull << 31)

/* Exit codes (Appendix C). */
#define SVM_EXIT_EXC_BASE 0x040     /* + vector */
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffffffffffull

/* IOIO EXITINFO1 (§15.10.2, Figure 15-2). */
#define IOIO_IN (1u << 0)
#define IOIO_STR (1u << 2)
#define IOIO_REP (1u << 3)
#define IOIO_SZ_SHIFT 4             /* bits 6:4: SZ8, SZ16, SZ32 */

/* MSRs (§15.30, Vol. 2 App. A). */
#define MSR_EFER 0xc0000080u
#define EFER_SVME (1ull << 12)
#define MSR_VM_CR 0xc0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xc0010117u

/* CPUID (§15.4; Vol. 3 App. E). */
#define CPUID_8000_0001_ECX_SVM (1u << 2)
#define CPUID_8000_000A_EDX_NP (1u << 0)
#define CPUID_8000_000A_EDX_NRIPS (1u << 3)
#define CPUID_8000_0001_EDX_PAGE1GB (1u << 26)

static inline uint64_t vmcb_rd(const void *vmcb, unsigned off)
{
	return *(const volatile uint64_t *)((const uint8_t *)vmcb + off);
}
static inline void vmcb_wr(void *vmcb, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)((uint8_t *)vmcb + off) = v;
}
static inline uint32_t vmcb_rd32(const void *vmcb, unsigned off)
{
	return *(const volatile uint32_t *)((const uint8_t *)vmcb + off);
}
static inline void vmcb_wr32(void *vmcb, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)((uint8_t *)vmcb + off) = v;
}

/* A segment in the save area. */
static inline void vmcb_set_seg(void *vmcb, unsigned off, uint16_t sel, uint16_t attrib, uint32_t limit,
				uint64_t base)
{
	uint8_t *p = (uint8_t *)vmcb + off;
	*(volatile uint16_t *)p = sel;
	*(volatile uint16_t *)(p + 2) = attrib;
	*(volatile uint32_t *)(p + 4) = limit;
	*(volatile uint64_t *)(p + 8) = base;
}

#endif
