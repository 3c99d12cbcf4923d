/*
 * vmx_entry.S — VM entry and the VM-exit landing point (SDM Vol. 3C §30.3
 * VMLAUNCH/VMRESUME, §27.5 loading host state).
 *
 *   int vmx_enter(uint64_t *gpr, int launched)
 *
 * gpr[16] in SDM order (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15; the RSP
 * slot is ignored: the VMCS holds guest RSP).  Saves the callee-saved host
 * registers and gpr on the stack, writes HOST_RSP, loads the guest's
 * registers and enters.  A VM exit lands in vmx_exit_point (HOST_RIP) with
 * that stack, stores the guest's registers and returns 0.  A failed
 * VMLAUNCH/VMRESUME falls through: 1 for VMfailInvalid (CF), 2 for
 * VMfailValid (ZF; the VM-instruction error field says why).
 */
#define VMCS_HOST_RSP 0x6c14

	.text
	.code64
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* gpr, found again at 0(%rsp) on exit */
	movl $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe 9f
	testl %esi, %esi		/* flags survive the MOVs below */
	movq 0x00(%rdi), %rax
	movq 0x08(%rdi), %rcx
	movq 0x10(%rdi), %rdx
	movq 0x18(%rdi), %rbx
	movq 0x28(%rdi), %rbp
	movq 0x30(%rdi), %rsi
	movq 0x40(%rdi), %r8
	movq 0x48(%rdi), %r9
	movq 0x50(%rdi), %r10
	movq 0x58(%rdi), %r11
	movq 0x60(%rdi), %r12
	movq 0x68(%rdi), %r13
	movq 0x70(%rdi), %r14
	movq 0x78(%rdi), %r15
	movq 0x38(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp 9f
1:	vmresume
9:	/* entry failed: CF = VMfailInvalid, ZF = VMfailValid */
	movl $1, %eax
	jc 2f
	movl $2, %eax
2:	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size vmx_enter, . - vmx_enter

	.globl vmx_exit_point
	.type vmx_exit_point, @function
vmx_exit_point:
	pushq %rdi			/* guest RDI */
	movq 8(%rsp), %rdi		/* gpr */
	movq %rax, 0x00(%rdi)
	movq %rcx, 0x08(%rdi)
	movq %rdx, 0x10(%rdi)
	movq %rbx, 0x18(%rdi)
	movq %rbp, 0x28(%rdi)
	movq %rsi, 0x30(%rdi)
	movq %r8, 0x40(%rdi)
	movq %r9, 0x48(%rdi)
	movq %r10, 0x50(%rdi)
	movq %r11, 0x58(%rdi)
	movq %r12, 0x60(%rdi)
	movq %r13, 0x68(%rdi)
	movq %r14, 0x70(%rdi)
	movq %r15, 0x78(%rdi)
	popq %rax
	movq %rax, 0x38(%rdi)
	xorl %eax, %eax
	jmp 2b
	.size vmx_exit_point, . - vmx_exit_point

	.section .note.GNU-stack, "", @progbits
