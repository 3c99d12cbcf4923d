/* svm_guest.c — a 64-bit test guest on the SVM backend; see svm_guest.h. */
#include "tests/svm/svm_guest.h"

#include "tests/vmx/guest_edu.h"

extern uint64_t boot_pml4[512];

int svm_guest_run64(struct svm_vcpu *v, struct svm_vm *vm, void (*entry)(void), uint64_t rsp, uint64_t arg)
{
	struct svm_guest64 g = {
		.rip = (uint64_t)(uintptr_t)entry, .rsp = rsp, .rflags = 0,
		.cr3 = (uint64_t)(uintptr_t)boot_pml4,
		.gdt_base = (uint64_t)(uintptr_t)guest_edu_gdt, .gdt_limit = GUEST_EDU_GDT_LIMIT,
		.idt_base = 0, .idt_limit = 0xffff,
		.tr_base = (uint64_t)(uintptr_t)guest_edu_tss,
		.cs = GUEST_EDU_CS, .ds = GUEST_EDU_DS, .tr = GUEST_EDU_TR,
	};
	int rc = svm_vcpu_init(v, vm);
	rc = rc ? rc : svm_vcpu_setup_long64(v, &g);
	if (rc)
		return rc;
	v->core.gpr[GPR_RDI] = arg;   /* its one argument */
	return svm_vcpu_run(v);
}
