/* VT-d primary fault recording: decode, clear, overflow, fault event
 * registers, reason names and the rate limit, against vtd_model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd_fault.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define BASE 0xfed91000ull

static struct vtd_model model;
static struct vtd_unit unit;

static void start(unsigned nfr)
{
	uint64_t cap = (vtd_model_qemu_cap(39, false) & ~VTD_GENMASK(47, 40)) |
		       vtd_make(nfr - 1, 47, 40);
	vtd_model_init(&model, BASE, cap, vtd_model_qemu_ecap(true, false, false, false));
	assert_int_equal(vtd_unit_init(&unit, BASE, 0), 0);
	assert_int_equal(unit.caps.nfr, nfr);
}

static int setup(void **state)
{
	(void)state;
	vtd_model_init(&model, BASE, 0, 0);
	vtd_model_install(&model);
	port_host_set_log_quiet(1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtd_unit_fini(&unit);
	vtd_model_uninstall_all();
	assert_int_equal(port_host_pages_in_use(), 0);
	return 0;
}

static void every_reason_has_its_name(void **state)
{
	(void)state;
	const char *seen[0x28] = { 0 };
	for (unsigned r = 0x01; r <= 0x27; r++) {
		if (r > 0x0d && r < 0x20) {
			assert_string_equal(vtd_fault_reason_name(r), "reserved fault reason");
			continue;
		}
		const char *n = vtd_fault_reason_name(r);
		assert_non_null(n);
		assert_string_not_equal(n, "reserved fault reason");
		for (unsigned q = 1; q < r; q++)
			if (seen[q])
				assert_string_not_equal(seen[q], n);   /* each its own name */
		seen[r] = n;
	}
	assert_string_equal(vtd_fault_reason_name(0x00), "reserved fault reason");
	assert_non_null(strstr(vtd_fault_reason_name(0x05), "write"));
	assert_non_null(strstr(vtd_fault_reason_name(0x06), "read"));
	assert_non_null(strstr(vtd_fault_reason_name(0x21), "index"));
	assert_non_null(strstr(vtd_fault_reason_name(0x22), "not present"));
	assert_non_null(strstr(vtd_fault_reason_name(0x26), "source-id"));
	assert_non_null(strstr(vtd_fault_reason_name(0x25), "compatibility"));
}

static void dma_fault_decoded_and_cleared(void **state)
{
	(void)state;
	start(4);
	assert_int_equal(vtd_model_inject_fault(&model, 0x0318, 0x12345678, 0x06, false), 0);
	uint32_t fsts = vtd_model_reg32(&model, VTD_REG_FSTS);
	assert_true(fsts & VTD_FSTS_PPF);
	assert_int_equal(VTD_FSTS_FRI(fsts), 0);
	struct vtd_fault f[4];
	bool ov = true;
	assert_int_equal(vtd_fault_collect(&unit, f, 4, &ov), 1);
	assert_false(ov);
	assert_int_equal(f[0].index, 0);
	assert_int_equal(f[0].sid, 0x0318);
	assert_int_equal(f[0].addr, 0x12345000);
	assert_int_equal(f[0].reason, 0x06);
	assert_false(f[0].write);
	assert_false(f[0].irq);
	/* the record's F bit was cleared (RW1C) and PPF with it */
	assert_false(vtd_model_reg64(&model, 0x220 + 8) & VTD_FRCD_HI_F);
	assert_false(vtd_model_reg32(&model, VTD_REG_FSTS) & VTD_FSTS_PPF);
	assert_int_equal(vtd_fault_collect(&unit, f, 4, &ov), 0);
}

static void records_are_read_from_fri_round(void **state)
{
	(void)state;
	start(4);
	model.next_fr = 2;   /* the unit continues where it left off */
	assert_int_equal(vtd_model_inject_fault(&model, 0x0010, 0x1000, 0x05, true), 2);
	assert_int_equal(vtd_model_inject_fault(&model, 0x0011, 0x2000, 0x02, false), 3);
	assert_int_equal(vtd_model_inject_fault(&model, 0x0012, 0x3000, 0x22, false), 0);
	assert_int_equal(VTD_FSTS_FRI(vtd_model_reg32(&model, VTD_REG_FSTS)), 2);
	struct vtd_fault f[4];
	assert_int_equal(vtd_fault_collect(&unit, f, 4, NULL), 3);
	assert_int_equal(f[0].index, 2);
	assert_true(f[0].write);
	assert_int_equal(f[0].reason, 0x05);
	assert_int_equal(f[1].index, 3);
	assert_int_equal(f[1].sid, 0x0011);
	assert_int_equal(f[2].index, 0);
	/* an interrupt-remapping fault: FI[63:48] is the interrupt index */
	assert_true(f[2].irq);
	assert_int_equal(f[2].ir_index, 0x3000);
	assert_int_equal(f[2].addr, 0);
	/* max limits how many are taken; the rest stay pending */
	assert_int_equal(vtd_model_inject_fault(&model, 0x0020, 0x4000, 0x05, true), 1);
	assert_int_equal(vtd_model_inject_fault(&model, 0x0021, 0x5000, 0x05, true), 2);
	assert_int_equal(vtd_fault_collect(&unit, f, 1, NULL), 1);
	assert_true(vtd_model_reg32(&model, VTD_REG_FSTS) & VTD_FSTS_PPF);
	assert_int_equal(vtd_fault_collect(&unit, f, 4, NULL), 1);
	assert_false(vtd_model_reg32(&model, VTD_REG_FSTS) & VTD_FSTS_PPF);
}

static void overflow_is_reported_and_cleared(void **state)
{
	(void)state;
	start(1);   /* QEMU has one record */
	assert_int_equal(vtd_model_inject_fault(&model, 0x0100, 0x1000, 0x05, true), 0);
	assert_int_equal(vtd_model_inject_fault(&model, 0x0101, 0x2000, 0x05, true), -1);
	assert_true(vtd_model_reg32(&model, VTD_REG_FSTS) & VTD_FSTS_PFO);
	assert_int_equal(vtd_fault_service(&unit), 1);
	assert_non_null(strstr(port_host_last_log(), "PFO"));
	assert_false(vtd_model_reg32(&model, VTD_REG_FSTS) & (VTD_FSTS_PFO | VTD_FSTS_PPF));
}

static void service_logs_with_names_and_rate_limits(void **state)
{
	(void)state;
	start(8);
	unit.fault_limit = 3;
	assert_int_equal(vtd_model_inject_fault(&model, 0x0318, 0xdead000, 0x05, true), 0);
	assert_int_equal(vtd_fault_service(&unit), 1);
	const char *line = port_host_last_log();
	assert_non_null(strstr(line, "0xfed91000"));
	assert_non_null(strstr(line, "03:03.0"));
	assert_non_null(strstr(line, "0xdead000"));
	assert_non_null(strstr(line, "write"));
	assert_non_null(strstr(line, vtd_fault_reason_name(0x05)));
	assert_int_equal(vtd_model_inject_fault(&model, 0x0318, 7, 0x21, false), 1);
	assert_int_equal(vtd_fault_service(&unit), 1);
	assert_non_null(strstr(port_host_last_log(), "index 7"));
	assert_non_null(strstr(port_host_last_log(), vtd_fault_reason_name(0x21)));
	/* a storm: every record full, overflowing; handled in bounded time, and
	 * only fault_limit lines per window are logged */
	for (int i = 0; i < 20; i++)
		vtd_model_inject_fault(&model, 0x0400, 0x1000u * (unsigned)i, 0x06, false);
	assert_int_equal(vtd_fault_service(&unit), 8);
	assert_int_equal(unit.faults_seen, 10);
	assert_int_equal(unit.faults_suppressed, 7);   /* 3 logged in this window */
	assert_false(vtd_model_reg32(&model, VTD_REG_FSTS) & (VTD_FSTS_PFO | VTD_FSTS_PPF));
}

static void fault_event_interrupt_registers(void **state)
{
	(void)state;
	start(2);
	/* masked after reset: a fault only sets IP */
	assert_int_equal(vtd_model_inject_fault(&model, 1, 0x1000, 0x05, true), 0);
	assert_int_equal(model.fault_irqs, 0);
	assert_true(vtd_model_reg32(&model, VTD_REG_FECTL) & VTD_FECTL_IP);
	vtd_fault_irq_setup(&unit, 0xfee01000ull, 0x41);
	assert_int_equal(vtd_model_reg32(&model, VTD_REG_FEDATA), 0x41);
	assert_int_equal(vtd_model_reg32(&model, VTD_REG_FEADDR), 0xfee01000u);
	assert_int_equal(vtd_model_reg32(&model, VTD_REG_FEUADDR), 0);
	assert_int_equal(vtd_model_reg32(&model, VTD_REG_FECTL), 0);
	assert_int_equal(model.fault_irqs, 1);   /* the pending event is delivered on unmask */
	assert_int_equal(vtd_fault_service(&unit), 1);
	assert_int_equal(vtd_model_inject_fault(&model, 2, 0x2000, 0x06, false), 1);
	assert_int_equal(model.fault_irqs, 2);
	vtd_fault_irq_mask(&unit, true);
	assert_int_equal(vtd_model_reg32(&model, VTD_REG_FECTL), VTD_FECTL_IM);
	assert_int_equal(vtd_fault_service(&unit), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_reason_has_its_name, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_fault_decoded_and_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(records_are_read_from_fri_round, setup, teardown),
		cmocka_unit_test_setup_teardown(overflow_is_reported_and_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(service_logs_with_names_and_rate_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(fault_event_interrupt_registers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
