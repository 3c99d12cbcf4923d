/*
 * svm_guest.h — start a 64-bit test guest on the SVM backend the way the
 * SVM images do (tests/svm/svm_test.c, tests/bmvf/bmvf_test.c): the image's
 * page tables as CR3, the edu guest's GDT and TSS (tests/vmx/guest_edu.c),
 * IF = 0, one argument in RDI.
 */
#ifndef VFS_TESTS_SVM_SVM_GUEST_H
#define VFS_TESTS_SVM_SVM_GUEST_H

#include <stdint.h>

#include "vmm_glue/svm/svm.h"

/* svm_vcpu_init(v, vm), the long-mode state, RIP = entry, RSP = rsp,
 * RDI = arg, then svm_vcpu_run: its result, or the set-up's error. */
int svm_guest_run64(struct svm_vcpu *v, struct svm_vm *vm, void (*entry)(void), uint64_t rsp, uint64_t arg);

#endif
