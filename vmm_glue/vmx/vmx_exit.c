/* vmx_exit.c — exit decoding; see vmx_exit.h. */
#include "vmm_glue/vmx/vmx_exit.h"

#include <stddef.h>

#include "vmm_glue/vmx/vmcs_fields.h"

const char *vmx_exit_reason_name(uint32_t r)
{
	static const char *const names[] = {
		[0] = "exception or NMI", [1] = "external interrupt", [2] = "triple fault",
		[3] = "INIT signal", [4] = "SIPI", [5] = "I/O SMI", [6] = "other SMI",
		[7] = "interrupt window", [8] = "NMI window", [9] = "task switch",
		[10] = "CPUID", [11] = "GETSEC", [12] = "HLT", [13] = "INVD", [14] = "INVLPG",
		[15] = "RDPMC", [16] = "RDTSC", [17] = "RSM", [18] = "VMCALL", [19] = "VMCLEAR",
		[20] = "VMLAUNCH", [21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD",
		[24] = "VMRESUME", [25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON",
		[28] = "control-register access", [29] = "MOV DR", [30] = "I/O instruction",
		[31] = "RDMSR", [32] = "WRMSR", [33] = "VM-entry failure: invalid guest state",
		[34] = "VM-entry failure: MSR loading", [36] = "MWAIT", [37] = "monitor trap flag",
		[39] = "MONITOR", [40] = "PAUSE", [41] = "VM-entry failure: machine-check event",
		[43] = "TPR below threshold", [44] = "APIC access", [45] = "virtualized EOI",
		[46] = "GDTR or IDTR access", [47] = "LDTR or TR access", [48] = "EPT violation",
		[49] = "EPT misconfiguration", [50] = "INVEPT", [51] = "RDTSCP",
		[52] = "VMX-preemption timer expired", [53] = "INVVPID", [54] = "WBINVD",
		[55] = "XSETBV", [56] = "APIC write", [57] = "RDRAND", [58] = "INVPCID",
		[59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "page-modification log full",
		[63] = "XSAVES", [64] = "XRSTORS",
	};
	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "unknown exit reason";
}

const char *vmx_insn_error_name(uint32_t err)
{
	static const char *const names[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
		[19] = "VMCALL with non-clear VMCS",
		[20] = "VMCALL with invalid VM-exit control fields",
		[22] = "VMCALL with incorrect MSEG revision identifier",
		[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
		[24] = "VMCALL with invalid SMM-monitor features",
		[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};
	if (err < sizeof(names) / sizeof(names[0]) && names[err])
		return names[err];
	return "unknown VM-instruction error";
}

void vmx_decode_cr_access(uint64_t q, struct vmx_cr_access *out)
{
	out->cr = (unsigned)(q & 0xf);
	out->type = (unsigned)(q >> 4) & 3u;
	out->lmsw_memory = (q >> 6) & 1u;
	out->gpr = (unsigned)(q >> 8) & 0xfu;
	out->lmsw_src = (uint16_t)(q >> 16);
}

void vmx_decode_io(uint64_t q, struct vmx_io_access *out)
{
	out->size = (unsigned)(q & 7u) + 1u;   /* 0 -> 1, 1 -> 2, 3 -> 4 */
	out->in = (q >> 3) & 1u;
	out->string = (q >> 4) & 1u;
	out->rep = (q >> 5) & 1u;
	out->imm_operand = (q >> 6) & 1u;
	out->port = (uint16_t)(q >> 16);
}

void vmx_decode_ept_violation(uint64_t q, struct vmx_ept_violation *out)
{
	out->read = q & 1u;
	out->write = (q >> 1) & 1u;
	out->fetch = (q >> 2) & 1u;
	out->was_readable = (q >> 3) & 1u;
	out->was_writable = (q >> 4) & 1u;
	out->was_executable = (q >> 5) & 1u;
	out->gla_valid = (q >> 7) & 1u;
	out->gla_is_translation = out->gla_valid && ((q >> 8) & 1u);
	out->nmi_unblocking = (q >> 12) & 1u;
}

void vmx_decode_intr_info(uint32_t info, struct vmx_intr_info *out)
{
	out->valid = (info & INTR_INFO_VALID) != 0;
	out->vector = (uint8_t)INTR_INFO_VECTOR(info);
	out->type = INTR_INFO_TYPE_OF(info);
	out->has_errcode = (info & INTR_INFO_ERRCODE_VALID) != 0;
}

uint32_t vmx_encode_intr_info(uint8_t vector, unsigned type, bool has_errcode)
{
	return INTR_INFO_VALID | INTR_INFO_TYPE(type) | INTR_INFO_VECTOR(vector) |
	       (has_errcode ? INTR_INFO_ERRCODE_VALID : 0);
}

bool vmx_exception_has_errcode(uint8_t v)
{
	/* #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17, #CP 21. */
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

int vmx_msr_bitmap_bit(uint32_t msr, bool write)
{
	int base = write ? 2048 * 8 : 0;
	if (msr <= 0x1fffu)
		return base + (int)msr;
	if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		return base + 1024 * 8 + (int)(msr - 0xc0000000u);
	return -1;
}

unsigned vmx_io_bitmap_bit(uint16_t port, unsigned *which)
{
	*which = port >> 15;
	return port & 0x7fffu;
}

/* The VMCS fields the core uses (vmcs_fields.h; SDM App. B encodings), by
 * name, for errors that name the field. */
static const struct {
	uint32_t enc;
	const char *name;
} vmcs_field_names[] = {
	{ 0x0000u, "VPID" },
	{ 0x0002u, "PI_NOTIFY_VECTOR" },
	{ 0x0800u, "GUEST_ES_SEL" },
	{ 0x0802u, "GUEST_CS_SEL" },
	{ 0x0804u, "GUEST_SS_SEL" },
	{ 0x0806u, "GUEST_DS_SEL" },
	{ 0x0808u, "GUEST_FS_SEL" },
	{ 0x080au, "GUEST_GS_SEL" },
	{ 0x080cu, "GUEST_LDTR_SEL" },
	{ 0x080eu, "GUEST_TR_SEL" },
	{ 0x0810u, "GUEST_INTR_STATUS" },
	{ 0x0c00u, "HOST_ES_SEL" },
	{ 0x0c02u, "HOST_CS_SEL" },
	{ 0x0c04u, "HOST_SS_SEL" },
	{ 0x0c06u, "HOST_DS_SEL" },
	{ 0x0c08u, "HOST_FS_SEL" },
	{ 0x0c0au, "HOST_GS_SEL" },
	{ 0x0c0cu, "HOST_TR_SEL" },
	{ 0x2000u, "IO_BITMAP_A" },
	{ 0x2002u, "IO_BITMAP_B" },
	{ 0x2004u, "MSR_BITMAP" },
	{ 0x2006u, "EXIT_MSR_STORE_ADDR" },
	{ 0x2008u, "EXIT_MSR_LOAD_ADDR" },
	{ 0x200au, "ENTRY_MSR_LOAD_ADDR" },
	{ 0x2010u, "TSC_OFFSET" },
	{ 0x2012u, "VIRT_APIC_PAGE" },
	{ 0x2014u, "APIC_ACCESS_ADDR" },
	{ 0x2016u, "PI_DESC_ADDR" },
	{ 0x201au, "EPT_POINTER" },
	{ 0x201cu, "EOI_EXIT0" },
	{ 0x201eu, "EOI_EXIT1" },
	{ 0x2020u, "EOI_EXIT2" },
	{ 0x2022u, "EOI_EXIT3" },
	{ 0x2400u, "GUEST_PHYS_ADDR" },
	{ 0x2800u, "LINK_POINTER" },
	{ 0x2802u, "GUEST_DEBUGCTL" },
	{ 0x2804u, "GUEST_PAT" },
	{ 0x2806u, "GUEST_EFER" },
	{ 0x280au, "GUEST_PDPTE0" },
	{ 0x2c00u, "HOST_PAT" },
	{ 0x2c02u, "HOST_EFER" },
	{ 0x4000u, "PIN_CTLS" },
	{ 0x4002u, "PROC_CTLS" },
	{ 0x4004u, "EXCEPTION_BITMAP" },
	{ 0x4006u, "PF_ERRCODE_MASK" },
	{ 0x4008u, "PF_ERRCODE_MATCH" },
	{ 0x400au, "CR3_TARGET_COUNT" },
	{ 0x400cu, "EXIT_CTLS" },
	{ 0x400eu, "EXIT_MSR_STORE_COUNT" },
	{ 0x4010u, "EXIT_MSR_LOAD_COUNT" },
	{ 0x4012u, "ENTRY_CTLS" },
	{ 0x4014u, "ENTRY_MSR_LOAD_COUNT" },
	{ 0x4016u, "ENTRY_INTR_INFO" },
	{ 0x4018u, "ENTRY_EXC_ERRCODE" },
	{ 0x401au, "ENTRY_INSN_LEN" },
	{ 0x401cu, "TPR_THRESHOLD" },
	{ 0x401eu, "PROC_CTLS2" },
	{ 0x4400u, "INSN_ERROR" },
	{ 0x4402u, "EXIT_REASON" },
	{ 0x4404u, "EXIT_INTR_INFO" },
	{ 0x4406u, "EXIT_INTR_ERRCODE" },
	{ 0x4408u, "IDT_VECTORING_INFO" },
	{ 0x440au, "IDT_VECTORING_ERRCODE" },
	{ 0x440cu, "EXIT_INSN_LEN" },
	{ 0x440eu, "EXIT_INSN_INFO" },
	{ 0x4800u, "GUEST_ES_LIMIT" },
	{ 0x4810u, "GUEST_GDTR_LIMIT" },
	{ 0x4812u, "GUEST_IDTR_LIMIT" },
	{ 0x4814u, "GUEST_ES_AR" },
	{ 0x4824u, "GUEST_INTERRUPTIBILITY" },
	{ 0x4826u, "GUEST_ACTIVITY" },
	{ 0x482au, "GUEST_SYSENTER_CS" },
	{ 0x4c00u, "HOST_SYSENTER_CS" },
	{ 0x6000u, "CR0_MASK" },
	{ 0x6002u, "CR4_MASK" },
	{ 0x6004u, "CR0_SHADOW" },
	{ 0x6006u, "CR4_SHADOW" },
	{ 0x6400u, "EXIT_QUALIFICATION" },
	{ 0x640au, "GUEST_LINEAR_ADDR" },
	{ 0x6800u, "GUEST_CR0" },
	{ 0x6802u, "GUEST_CR3" },
	{ 0x6804u, "GUEST_CR4" },
	{ 0x6806u, "GUEST_ES_BASE" },
	{ 0x6816u, "GUEST_GDTR_BASE" },
	{ 0x6818u, "GUEST_IDTR_BASE" },
	{ 0x681au, "GUEST_DR7" },
	{ 0x681cu, "GUEST_RSP" },
	{ 0x681eu, "GUEST_RIP" },
	{ 0x6820u, "GUEST_RFLAGS" },
	{ 0x6822u, "GUEST_PENDING_DBG" },
	{ 0x6824u, "GUEST_SYSENTER_ESP" },
	{ 0x6826u, "GUEST_SYSENTER_EIP" },
	{ 0x6c00u, "HOST_CR0" },
	{ 0x6c02u, "HOST_CR3" },
	{ 0x6c04u, "HOST_CR4" },
	{ 0x6c06u, "HOST_FS_BASE" },
	{ 0x6c08u, "HOST_GS_BASE" },
	{ 0x6c0au, "HOST_TR_BASE" },
	{ 0x6c0cu, "HOST_GDTR_BASE" },
	{ 0x6c0eu, "HOST_IDTR_BASE" },
	{ 0x6c10u, "HOST_SYSENTER_ESP" },
	{ 0x6c12u, "HOST_SYSENTER_EIP" },
	{ 0x6c14u, "HOST_RSP" },
	{ 0x6c16u, "HOST_RIP" },
};

const char *vmx_field_name(uint32_t field)
{
	for (unsigned i = 0; i < sizeof(vmcs_field_names) / sizeof(vmcs_field_names[0]); i++)
		if (vmcs_field_names[i].enc == field)
			return vmcs_field_names[i].name;
	return "unknown field";
}
