/*
 * vmcs_fields.h — VMCS field encodings, control bits and the VMX MSRs.
 *
 * Section numbers are those of the Intel SDM, Vol. 3C, 2016-2021 editions
 * (ch. 23 VMX intro, 24 VMCS, 26 VM entries, 27 VM exits, 28 EPT, 30 VMX
 * instructions, appendices A-C).  Editions from 2022 on shift these chapters
 * by one (24 -> 25 ...); the section titles quoted are the same.
 * Header only: encodings and bit masks, no code.
 */
#ifndef VFS_VMX_VMCS_FIELDS_H
#define VFS_VMX_VMCS_FIELDS_H

#include <stdint.h>

/* --- VMX capability and control MSRs (App. A; §23.7 for FEATURE_CONTROL) */
#define MSR_IA32_FEATURE_CONTROL 0x03au
#define   FEATURE_CONTROL_LOCK (1ull << 0)
#define   FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)
#define MSR_IA32_VMX_BASIC 0x480u           /* A.1 */
#define   VMX_BASIC_REVISION(v) ((uint32_t)(v) & 0x7fffffffu)
#define   VMX_BASIC_REGION_SIZE(v) ((uint32_t)((v) >> 32) & 0x1fffu)
#define   VMX_BASIC_MEMTYPE(v) ((unsigned)((v) >> 50) & 0xfu)
#define   VMX_BASIC_TRUE_CTLS (1ull << 55)
#define MSR_IA32_VMX_PINBASED_CTLS 0x481u   /* A.3.1 */
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482u  /* A.3.2 */
#define MSR_IA32_VMX_EXIT_CTLS 0x483u       /* A.4 */
#define MSR_IA32_VMX_ENTRY_CTLS 0x484u      /* A.5 */
#define MSR_IA32_VMX_MISC 0x485u            /* A.6 */
#define MSR_IA32_VMX_CR0_FIXED0 0x486u      /* A.7 */
#define MSR_IA32_VMX_CR0_FIXED1 0x487u
#define MSR_IA32_VMX_CR4_FIXED0 0x488u      /* A.8 */
#define MSR_IA32_VMX_CR4_FIXED1 0x489u
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48bu /* A.3.3 */
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48cu    /* A.10 */
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490u

/* Other MSRs the core touches (Vol. 4 / Vol. 3A §2.2.1). */
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_PAT 0x277u
#define MSR_IA32_EFER 0xc0000080u
#define   EFER_LME (1ull << 8)
#define   EFER_LMA (1ull << 10)
#define   EFER_NXE (1ull << 11)
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u

/* Control registers (Vol. 3A §2.5). */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_VMXE (1ull << 13)

/* --- 16-bit fields (App. B.1) -------------------------------------- */
#define VMCS_VPID 0x0000u                  /* §24.6.12 */
#define VMCS_PI_NOTIFY_VECTOR 0x0002u      /* §24.6.8: posted-interrupt notification vector */
#define VMCS_GUEST_ES_SEL 0x0800u          /* §24.4.1, in ES..TR order */
#define VMCS_GUEST_CS_SEL 0x0802u
#define VMCS_GUEST_SS_SEL 0x0804u
#define VMCS_GUEST_DS_SEL 0x0806u
#define VMCS_GUEST_FS_SEL 0x0808u
#define VMCS_GUEST_GS_SEL 0x080au
#define VMCS_GUEST_LDTR_SEL 0x080cu
#define VMCS_GUEST_TR_SEL 0x080eu
#define VMCS_GUEST_INTR_STATUS 0x0810u     /* §24.4.2: RVI bits 7:0, SVI bits 15:8 */
#define VMCS_HOST_ES_SEL 0x0c00u           /* §24.5 */
#define VMCS_HOST_CS_SEL 0x0c02u
#define VMCS_HOST_SS_SEL 0x0c04u
#define VMCS_HOST_DS_SEL 0x0c06u
#define VMCS_HOST_FS_SEL 0x0c08u
#define VMCS_HOST_GS_SEL 0x0c0au
#define VMCS_HOST_TR_SEL 0x0c0cu

/* --- 64-bit fields (App. B.2) -------------------------------------- */
#define VMCS_IO_BITMAP_A 0x2000u           /* §24.6.4: ports 0000-7fff */
#define VMCS_IO_BITMAP_B 0x2002u           /*          ports 8000-ffff */
#define VMCS_MSR_BITMAP 0x2004u            /* §24.6.9 */
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006u
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008u
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200au
#define VMCS_TSC_OFFSET 0x2010u
#define VMCS_VIRT_APIC_PAGE 0x2012u        /* §24.6.8: virtual-APIC address */
#define VMCS_APIC_ACCESS_ADDR 0x2014u      /* §24.6.8: APIC-access address */
#define VMCS_PI_DESC_ADDR 0x2016u          /* §24.6.8: posted-interrupt descriptor */
#define VMCS_EOI_EXIT0 0x201cu             /* §24.6.8: EOI-exit bitmap, vectors 0-63; */
#define VMCS_EOI_EXIT1 0x201eu             /*          64-127 */
#define VMCS_EOI_EXIT2 0x2020u             /*          128-191 */
#define VMCS_EOI_EXIT3 0x2022u             /*          192-255 */
#define VMCS_EPT_POINTER 0x201au           /* §24.6.11 */
#define VMCS_GUEST_PHYS_ADDR 0x2400u       /* §24.9.1, read-only */
#define VMCS_LINK_POINTER 0x2800u          /* §24.4.2: ~0 when unused */
#define VMCS_GUEST_DEBUGCTL 0x2802u
#define VMCS_GUEST_PAT 0x2804u
#define VMCS_GUEST_EFER 0x2806u
#define VMCS_GUEST_PDPTE0 0x280au
#define VMCS_HOST_PAT 0x2c00u              /* §24.5 */
#define VMCS_HOST_EFER 0x2c02u

/* --- 32-bit fields (App. B.3) -------------------------------------- */
#define VMCS_PIN_CTLS 0x4000u              /* §24.6.1 */
#define VMCS_PROC_CTLS 0x4002u             /* §24.6.2 */
#define VMCS_EXCEPTION_BITMAP 0x4004u      /* §24.6.3 */
#define VMCS_PF_ERRCODE_MASK 0x4006u
#define VMCS_PF_ERRCODE_MATCH 0x4008u
#define VMCS_CR3_TARGET_COUNT 0x400au
#define VMCS_EXIT_CTLS 0x400cu             /* §24.7.1 */
#define VMCS_EXIT_MSR_STORE_COUNT 0x400eu
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010u
#define VMCS_ENTRY_CTLS 0x4012u            /* §24.8.1 */
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014u
#define VMCS_ENTRY_INTR_INFO 0x4016u       /* §24.8.3 */
#define VMCS_ENTRY_EXC_ERRCODE 0x4018u
#define VMCS_ENTRY_INSN_LEN 0x401au
#define VMCS_TPR_THRESHOLD 0x401cu         /* §24.6.8 */
#define VMCS_PROC_CTLS2 0x401eu            /* §24.6.2, secondary */
#define VMCS_INSN_ERROR 0x4400u            /* §24.9.5, read-only */
#define VMCS_EXIT_REASON 0x4402u           /* §24.9.1 */
#define VMCS_EXIT_INTR_INFO 0x4404u        /* §24.9.2 */
#define VMCS_EXIT_INTR_ERRCODE 0x4406u
#define VMCS_IDT_VECTORING_INFO 0x4408u    /* §24.9.3 */
#define VMCS_IDT_VECTORING_ERRCODE 0x440au
#define VMCS_EXIT_INSN_LEN 0x440cu         /* §24.9.4 */
#define VMCS_EXIT_INSN_INFO 0x440eu
#define VMCS_GUEST_ES_LIMIT 0x4800u        /* §24.4.1, in ES..TR order */
#define VMCS_GUEST_GDTR_LIMIT 0x4810u
#define VMCS_GUEST_IDTR_LIMIT 0x4812u
#define VMCS_GUEST_ES_AR 0x4814u           /* access rights, ES..TR order */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824u /* §24.4.2 */
#define VMCS_GUEST_ACTIVITY 0x4826u
#define VMCS_GUEST_SYSENTER_CS 0x482au
#define VMCS_HOST_SYSENTER_CS 0x4c00u

/* --- natural-width fields (App. B.4) ------------------------------- */
#define VMCS_CR0_MASK 0x6000u              /* §24.6.6 guest/host masks */
#define VMCS_CR4_MASK 0x6002u
#define VMCS_CR0_SHADOW 0x6004u            /*         and read shadows */
#define VMCS_CR4_SHADOW 0x6006u
#define VMCS_EXIT_QUALIFICATION 0x6400u    /* §27.2.1 */
#define VMCS_GUEST_LINEAR_ADDR 0x640au
#define VMCS_GUEST_CR0 0x6800u             /* §24.4.1 */
#define VMCS_GUEST_CR3 0x6802u
#define VMCS_GUEST_CR4 0x6804u
#define VMCS_GUEST_ES_BASE 0x6806u         /* ES..TR order */
#define VMCS_GUEST_GDTR_BASE 0x6816u
#define VMCS_GUEST_IDTR_BASE 0x6818u
#define VMCS_GUEST_DR7 0x681au
#define VMCS_GUEST_RSP 0x681cu
#define VMCS_GUEST_RIP 0x681eu
#define VMCS_GUEST_RFLAGS 0x6820u
#define VMCS_GUEST_PENDING_DBG 0x6822u
#define VMCS_GUEST_SYSENTER_ESP 0x6824u
#define VMCS_GUEST_SYSENTER_EIP 0x6826u
#define VMCS_HOST_CR0 0x6c00u              /* §24.5 */
#define VMCS_HOST_CR3 0x6c02u
#define VMCS_HOST_CR4 0x6c04u
#define VMCS_HOST_FS_BASE 0x6c06u
#define VMCS_HOST_GS_BASE 0x6c08u
#define VMCS_HOST_TR_BASE 0x6c0au
#define VMCS_HOST_GDTR_BASE 0x6c0cu
#define VMCS_HOST_IDTR_BASE 0x6c0eu
#define VMCS_HOST_SYSENTER_ESP 0x6c10u
#define VMCS_HOST_SYSENTER_EIP 0x6c12u
#define VMCS_HOST_RSP 0x6c14u
#define VMCS_HOST_RIP 0x6c16u

/* Segment registers in the order the guest-state fields use (§24.4.1):
 * field = ..._ES_... + 2 * seg. */
enum vmx_seg { VMX_ES, VMX_CS, VMX_SS, VMX_DS, VMX_FS, VMX_GS, VMX_LDTR, VMX_TR, VMX_NSEG };

/* Segment access rights (§24.4.1, Table 24-2). */
#define AR_TYPE(t) ((uint32_t)(t) & 0xfu)
#define AR_S (1u << 4)        /* code/data (not system) */
#define AR_DPL(d) (((uint32_t)(d) & 3u) << 5)
#define AR_P (1u << 7)
#define AR_L (1u << 13)       /* 64-bit code */
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)
#define SEG_TYPE_DATA_RW_A 0x3u
#define SEG_TYPE_CODE_RX_A 0xbu
#define SEG_TYPE_TSS16_BUSY 0x3u
#define SEG_TYPE_TSS64_BUSY 0xbu
#define SEG_TYPE_LDT 0x2u

/* Pin-based controls (§24.6.1, Table 24-5). */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPT_TIMER (1u << 6)
#define PIN_POSTED_INTR (1u << 7)

/* Primary processor-based controls (§24.6.2, Table 24-6). */
#define PROC_INTR_WINDOW_EXITING (1u << 2)
#define PROC_USE_TSC_OFFSET (1u << 3)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_RDTSC_EXITING (1u << 12)
#define PROC_CR3_LOAD_EXITING (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_TPR_SHADOW (1u << 21)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define PROC_MOV_DR_EXITING (1u << 23)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_MTF (1u << 27)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_PAUSE_EXITING (1u << 30)
#define PROC_SECONDARY_CTLS (1u << 31)

/* Secondary processor-based controls (§24.6.2, Table 24-7). */
#define PROC2_VIRT_APIC_ACCESS (1u << 0)
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP (1u << 3)
#define PROC2_VIRT_X2APIC (1u << 4)       /* virtualize x2APIC mode */
#define PROC2_ENABLE_VPID (1u << 5)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_APIC_REG_VIRT (1u << 8)     /* APIC-register virtualization */
#define PROC2_VIRT_INTR_DELIVERY (1u << 9) /* virtual-interrupt delivery */
#define PROC2_ENABLE_INVPCID (1u << 12)

/* VM-exit controls (§24.7.1, Table 24-10). */
#define EXIT_SAVE_DEBUG_CTLS (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)

/* VM-entry controls (§24.8.1, Table 24-12). */
#define ENTRY_LOAD_DEBUG_CTLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/* Interruption information, entry (§24.8.3) and exit (§24.9.2). */
#define INTR_INFO_VECTOR(v) ((uint32_t)(v) & 0xffu)
#define INTR_INFO_TYPE(t) (((uint32_t)(t) & 7u) << 8)
#define INTR_INFO_TYPE_OF(v) (((uint32_t)(v) >> 8) & 7u)
#define INTR_TYPE_EXT_INTR 0u
#define INTR_TYPE_NMI 2u
#define INTR_TYPE_HW_EXCEPTION 3u
#define INTR_TYPE_SW_INTR 4u
#define INTR_TYPE_SW_EXCEPTION 6u
#define INTR_INFO_ERRCODE_VALID (1u << 11)
#define INTR_INFO_VALID (1u << 31)

/* Guest interruptibility state (§24.4.2, Table 24-3) and activity state. */
#define INTERRUPTIBILITY_STI (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define ACTIVITY_ACTIVE 0u
#define ACTIVITY_HLT 1u

/* The virtual-APIC page (§29.1.1: the APIC register at offset X of the
 * xAPIC page is at offset X here) and the x2APIC MSRs that reach it
 * (§29.5: MSR 800H + N is the register at offset N << 4). */
#define VAPIC_TPR 0x080u                  /* VTPR */
#define VAPIC_PPR 0x0a0u                  /* VPPR */
#define VAPIC_EOI 0x0b0u                  /* VEOI */
#define VAPIC_ISR 0x100u                  /* VISR: vector v at 0x100 + 0x10 * (v / 32), bit v % 32 */
#define VAPIC_TMR 0x180u                  /* VTMR */
#define VAPIC_IRR 0x200u                  /* VIRR, same layout */
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu
#define MSR_X2APIC_TPR 0x808u
#define MSR_X2APIC_PPR 0x80au
#define MSR_X2APIC_EOI 0x80bu
#define MSR_X2APIC_ISR0 0x810u            /* ISR bits 31:0; 0x811 bits 63:32 ... */
#define MSR_X2APIC_IRR0 0x820u
#define MSR_X2APIC_SELF_IPI 0x83fu

/* RFLAGS bits the core looks at (Vol. 1 §3.4.3). */
#define RFLAGS_FIXED (1ull << 1)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_ZF (1ull << 6)

#endif /* VFS_VMX_VMCS_FIELDS_H */
