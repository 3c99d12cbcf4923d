/*
 * svm_entry.S — the SVM world switch (AMD APM Vol. 2 §15.5, §15.17):
 *
 *   CLGI; STI; VMSAVE host; VMLOAD guest; VMRUN; VMSAVE guest; VMLOAD host; CLI; STGI
 *
 * GIF = 0 holds every interrupt off from CLGI to STGI; IF = 1 at VMRUN is
 * what lets a physical interrupt reach the guest's INTR intercept (with
 * V_INTR_MASKING the host's IF governs physical interrupts, §15.21.1).  The
 * interrupt stays pending (the exit does not acknowledge it) and the host
 * takes it through its own IDT when the caller sets IF again.  VMRUN saves
 * and #VMEXIT restores the host's RAX, RSP, RIP, RFLAGS, CR0/3/4, EFER,
 * GDTR/IDTR and ES/CS/SS/DS (§15.5.1); VMSAVE/VMLOAD move FS, GS, TR, LDTR
 * and the syscall MSRs (§15.5.2); the other GPRs are saved here.
 *
 * void svm_world_switch(uint64_t *gpr, uint64_t guest_vmcb_pa, uint64_t host_vmcb_pa)
 * gpr[] in the SDM order: RAX 0, RCX 1, RDX 2, RBX 3, RSP 4, RBP 5, RSI 6,
 * RDI 7, R8..R15 8..15 (RAX and RSP live in the VMCB).
 */
	.text
	.globl svm_world_switch
	.type svm_world_switch, @function
svm_world_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                 /* gpr */
	pushq %rdx                 /* host VMCB */
	pushq %rsi                 /* guest VMCB */

	clgi
	sti
	movq %rdx, %rax
	vmsave
	movq (%rsp), %rax
	vmload

	movq 8*1(%rdi), %rcx
	movq 8*2(%rdi), %rdx
	movq 8*3(%rdi), %rbx
	movq 8*5(%rdi), %rbp
	movq 8*6(%rdi), %rsi
	movq 8*8(%rdi), %r8
	movq 8*9(%rdi), %r9
	movq 8*10(%rdi), %r10
	movq 8*11(%rdi), %r11
	movq 8*12(%rdi), %r12
	movq 8*13(%rdi), %r13
	movq 8*14(%rdi), %r14
	movq 8*15(%rdi), %r15
	movq 8*7(%rdi), %rdi

	vmrun                      /* RAX = the guest VMCB's physical address */

	vmsave                     /* RAX: restored to the guest VMCB by #VMEXIT */
	pushq %rdi
	movq 24(%rsp), %rdi        /* gpr (above: guest rdi, guest VMCB, host VMCB) */
	movq %rcx, 8*1(%rdi)
	movq %rdx, 8*2(%rdi)
	movq %rbx, 8*3(%rdi)
	movq %rbp, 8*5(%rdi)
	movq %rsi, 8*6(%rdi)
	movq %r8, 8*8(%rdi)
	movq %r9, 8*9(%rdi)
	movq %r10, 8*10(%rdi)
	movq %r11, 8*11(%rdi)
	movq %r12, 8*12(%rdi)
	movq %r13, 8*13(%rdi)
	movq %r14, 8*14(%rdi)
	movq %r15, 8*15(%rdi)
	popq %rcx
	movq %rcx, 8*7(%rdi)

	popq %rax                  /* guest VMCB (dropped) */
	popq %rax                  /* host VMCB */
	vmload
	cli
	stgi

	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size svm_world_switch, .-svm_world_switch
	.section .note.GNU-stack,"",@progbits
