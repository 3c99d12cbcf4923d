/*
 * svm_test.h — what the SVM image's guests and host side agree on (the
 * probe guest's parameter block and report keys; the edu guest's are in
 * tests/vmx/guest_edu.h).
 */
#ifndef VFS_TESTS_SVM_TEST_H
#define VFS_TESTS_SVM_TEST_H

#include <stdint.h>

#include "tests/vmx/vmx_test.h"   /* CMD_REPORT, CMD_DONE */

struct probe_params {
	uint16_t port;        /* a trapped port */
	uint32_t out_val;     /* what OUT writes */
	uint64_t mmio_gpa;    /* a trapped MMIO page */
	uint32_t mmio_val;    /* what the store writes at mmio_gpa + 4 */
};

enum probe_key { P_CPUID_ECX, P_CPUID0_EBX, P_EFER, P_EFER_AFTER, P_IN, P_AFTER_HLT, P_MMIO_READ, P_COUNT };

void guest_probe_entry(const struct probe_params *p);

#endif
