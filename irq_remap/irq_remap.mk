# irq_remap.mk — interrupt remapping's QEMU conformance suite.
#
#   make test-ir    the tests/baremetal/ir image under QEMU's VT-d model, twice:
#                   xAPIC (intremap=on) and x2APIC (intremap=on,eim=on), each
#                   with an edu as the MSI source.  Unit tests (tests/unit/
#                   test_irq_*.c) run in the `unit` suite.

SUITES += ir
.PHONY: test-ir
test-ir: $(BUILD)/baremetal/ir.elf
	@tests/lib/run-suite ir 300 -- tests/baremetal/ir/run-variants $<
