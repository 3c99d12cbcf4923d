/*
 * main.c — one image for the bare-metal VMX core and its passthrough glue
 * (issue 8): the same ELF boots from GRUB under Bochs (multiboot2) and from
 * QEMU -kernel (PVH), and runs each half the platform can run:
 *
 *   platform                               VMX   VT-d   halves run
 *   Bochs 2.7, cpu model tigerlake         yes   no     the core (vmx_tests)
 *   QEMU TCG + intel-iommu, edu, igb       no    yes    the passthrough glue (bmpt_tests)
 *   QEMU/KVM, nested VMX on an Intel host  yes   yes    both, then the edu guest on the
 *                                                          real edu (vmx_edu_vtd_tests; never run)
 *
 * The plan counts only the halves that run; the one left out is named in a
 * diagnostic with the target that runs it, so no line is skipped for a
 * platform that could never run it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baremetal/acpi.h"
#include "baremetal/cpu.h"
#include "baremetal/tap.h"
#include "tests/vmx/vmx_test.h"

#define CPUID1_ECX_VMX (1u << 5) /* SDM Vol. 3C §23.6: VMX support */

static bool cpu_has_vmx(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[2] & CPUID1_ECX_VMX;
}

void test_main(void)
{
	bool vmx = cpu_has_vmx();
	bool vtd = acpi_find("DMAR", 0) != NULL;
	if (!vmx && !vtd)
		tap_bail("neither VMX (CPUID.1:ECX[5]) nor a VT-d unit (ACPI DMAR): run it under Bochs "
			 "(make test-vmx) or QEMU with -device intel-iommu (make test-bmpt)");
	tap_plan((vmx ? VMX_TESTS : 0) + (vtd ? BMPT_TESTS : 0) + (vmx && vtd ? EDU_VTD_TESTS : 0));
	if (!vmx)
		tap_diag("this CPU has no VMX (QEMU's TCG): the core's %u checks are make test-vmx's (Bochs)",
			 VMX_TESTS);
	if (!vtd)
		tap_diag("no ACPI DMAR (Bochs has no IOMMU): the passthrough glue's %u checks are make "
			 "test-bmpt's (QEMU intel-iommu)", BMPT_TESTS);
	if (vmx)
		vmx_tests();
	if (vtd)
		bmpt_tests();
	/* Both: the edu guest once more, driving the real edu through VT-d
	 * (vmx_edu.c; never run so far: no platform here has both). */
	if (vmx && vtd)
		vmx_edu_vtd_tests();
}
