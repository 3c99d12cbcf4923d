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
