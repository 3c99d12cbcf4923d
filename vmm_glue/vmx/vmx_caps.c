/* vmx_caps.c — capability-MSR arithmetic; see vmx_caps.h. */
#include "vmm_glue/vmx/vmx_caps.h"

#include "port.h"
#include "vmm_glue/vmx/vmcs_fields.h"

int vmx_adjust_controls(uint64_t cap_msr, uint32_t required, uint32_t optional,
			uint32_t *out, uint32_t *missing)
{
	uint32_t must_be_1 = (uint32_t)cap_msr;        /* allowed-0 settings */
	uint32_t may_be_1 = (uint32_t)(cap_msr >> 32); /* allowed-1 settings */
	uint32_t lacking = required & ~may_be_1;

	if (missing)
		*missing = lacking;
	if (lacking)
		return -PORT_ENOTSUP;
	*out = (required | (optional & may_be_1) | must_be_1) & may_be_1;
	/* A bit that must be 1 is always allowed to be 1 on a sane CPU; if the
	 * MSR says otherwise, no setting is valid. */
	if (must_be_1 & ~may_be_1)
		return -PORT_ENOTSUP;
	return 0;
}

uint32_t vmx_controls_msr(uint64_t vmx_basic, enum vmx_ctls which)
{
	static const uint32_t plain[] = {
		MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS,
		MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_ENTRY_CTLS,
	};
	static const uint32_t truectl[] = {
		MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
		MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
	};

	return (vmx_basic & VMX_BASIC_TRUE_CTLS) ? truectl[which] : plain[which];
}

uint64_t vmx_cr_fix(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t exempt)
{
	return (val | (fixed0 & ~exempt)) & fixed1;
}

bool vmx_cr_valid(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t exempt)
{
	return vmx_cr_fix(val, fixed0, fixed1, exempt) == val;
}

int vmx_feature_control(uint64_t cur, uint64_t *next)
{
	if (cur & FEATURE_CONTROL_LOCK)
		return (cur & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? 0 : -PORT_EPERM;
	*next = cur | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCK;
	return 1;
}

uint32_t vmx_caps_apicv(const struct vmx_caps *c)
{
	uint32_t pin = (uint32_t)(c->pin >> 32), proc = (uint32_t)(c->proc >> 32);
	uint32_t proc2 = (proc & PROC_SECONDARY_CTLS) ? (uint32_t)(c->proc2 >> 32) : 0;
	uint32_t exit = (uint32_t)(c->exit >> 32), f = 0;

	f |= (pin & PIN_EXT_INTR_EXITING) ? VMX_APICV_CAP_EXT_INTR_EXIT : 0;
	f |= (pin & PIN_POSTED_INTR) ? VMX_APICV_CAP_POSTED : 0;
	f |= (proc & PROC_TPR_SHADOW) ? VMX_APICV_CAP_TPR_SHADOW : 0;
	f |= (proc & PROC_SECONDARY_CTLS) ? VMX_APICV_CAP_SECONDARY : 0;
	f |= (proc2 & PROC2_VIRT_APIC_ACCESS) ? VMX_APICV_CAP_VIRT_APIC_ACCESS : 0;
	f |= (proc2 & PROC2_VIRT_X2APIC) ? VMX_APICV_CAP_VIRT_X2APIC : 0;
	f |= (proc2 & PROC2_APIC_REG_VIRT) ? VMX_APICV_CAP_APIC_REG_VIRT : 0;
	f |= (proc2 & PROC2_VIRT_INTR_DELIVERY) ? VMX_APICV_CAP_VINTR_DELIVERY : 0;
	f |= (exit & EXIT_ACK_INTR_ON_EXIT) ? VMX_APICV_CAP_ACK_ON_EXIT : 0;
	return f;
}
