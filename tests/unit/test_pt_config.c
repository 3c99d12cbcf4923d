/* The hosted passthrough device's config space and BAR traps against a
 * hostile device (tests/unit/model/pt_model: VFIO and the core stood in
 * for; every device access checked against the probed sizes): capabilities
 * at the end of the 256 bytes, loops, MSI-X structures outside their BAR,
 * and the COMMAND filter under every layout (issue 13 items 1 and 2). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pci/pci_cap.h"
#include "tests/unit/model/pt_model.h"

static struct pt_model m;
static char why[256];

static void put(unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		m.cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void caps_on(unsigned first)
{
	put(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	m.cfg[PCI_CAP_PTR] = (uint8_t)first;
}

static void cap(unsigned at, unsigned id, unsigned next, uint16_t ctrl)
{
	m.cfg[at] = (uint8_t)id;
	m.cfg[at + 1] = (uint8_t)next;
	put(at + 2, 2, ctrl);
}

/* A 64-bit memory BAR0 of `size` bytes (VFIO region 0). */
static void bar0(uint64_t size)
{
	put(PCI_BAR0, 4, 0xfe000000u | PCI_BAR_TYPE_64);
	m.region_size[0] = size;
}

static int setup(void **state)
{
	(void)state;
	pt_model_init(&m);
	why[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_model_unplug(&m);
	assert_int_equal(m.routes, 0);
	return 0;
}

/* The guest's capability list: every entry once, at most 48, inside 256. */
static unsigned guest_caps(unsigned *ids, unsigned max)
{
	unsigned n = 0;
	for (unsigned at = pt_model_cfg_read(&m, PCI_CAP_PTR, 1); at; at = pt_model_cfg_read(&m, at + 1, 1)) {
		assert_true(at >= 0x40 && at <= 0xfc && !(at & 3));
		for (unsigned i = 0; i < n && i < max; i++)
			assert_int_not_equal(ids[i] >> 8, at); /* no loop */
		assert_true(n < 48);
		if (n < max)
			ids[n] = at << 8 | pt_model_cfg_read(&m, at, 1);
		n++;
	}
	return n;
}

/* Item 2: MSI (64-bit, per-vector masking: 24 bytes) at 0xf0, and MSI-X
 * (12 bytes) at 0xfc: the bodies run past 0x100; the device is refused and
 * nothing outside the 256 bytes is read or written. */
static void capability_past_the_end_is_refused(void **state)
{
	(void)state;
	caps_on(0x40);
	cap(0x40, PCI_CAP_ID_PCIE, 0xf0, 0);
	cap(0xf0, PCI_CAP_ID_MSI, 0, PCI_MSI_CTRL_64 | PCI_MSI_CTRL_PVM);
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "0000:00:12.0"));
	assert_non_null(strstr(why, "MSI capability at 0xf0"));
	assert_int_equal(m.violations, 0);

	pt_model_init(&m);
	bar0(0x4000);
	caps_on(0xfc);
	cap(0xfc, PCI_CAP_ID_MSIX, 0, 3);
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "MSI-X capability at 0xfc"));
	assert_int_equal(m.violations, 0);
}

/* What fits at the end is kept: a 32-bit MSI (10 bytes) at 0xf0; the
 * guest programs it, and the device's COMMAND gets only what the filter
 * allows, whatever the guest writes. */
static void capability_that_fits_at_the_end_works(void **state)
{
	(void)state;
	caps_on(0xf0);
	cap(0xf0, PCI_CAP_ID_MSI, 0, 0);
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), 0);
	unsigned ids[4];
	assert_int_equal(guest_caps(ids, 4), 1);
	assert_int_equal(ids[0], 0xf0u << 8 | PCI_CAP_ID_MSI);
	pt_model_cfg_write(&m, 0xf4, 4, 0xfee00000u);
	pt_model_cfg_write(&m, 0xf8, 2, 0x41);
	pt_model_cfg_write(&m, 0xf2, 2, PCI_MSI_CTRL_EN);
	assert_int_equal(pt_model_cfg_read(&m, 0xf2, 2) & PCI_MSI_CTRL_EN, PCI_MSI_CTRL_EN);
	assert_int_equal(m.routes, 1);
	pt_model_cfg_write(&m, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(pt_model_command(&m),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(m.violations, 0);
}

/* A PCI Express capability whose live registers reach 0xff, a loop back
 * to the first entry, and a second MSI: the guest sees each kept
 * capability once and a finite list; COMMAND stays filtered, byte or
 * word, and nothing outside the 256 bytes is touched. */
static void loops_and_live_registers_keep_the_filter(void **state)
{
	(void)state;
	caps_on(0x40);
	cap(0x40, PCI_CAP_ID_MSI, 0x50, 0);
	cap(0x50, PCI_CAP_ID_MSI, 0xc8, PCI_MSI_CTRL_64);
	cap(0xc8, PCI_CAP_ID_PCIE, 0x40, 0x0002);   /* -> back to 0x40 */
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), 0);
	unsigned ids[8];
	assert_int_equal(guest_caps(ids, 8), 2);
	assert_int_equal(ids[0], 0x40u << 8 | PCI_CAP_ID_MSI);
	assert_int_equal(ids[1], 0xc8u << 8 | PCI_CAP_ID_PCIE);
	/* Live PCIe registers through 0xff go to the device ... */
	pt_model_cfg_write(&m, 0xfc, 4, 0x12345678);
	assert_int_equal(m.cfg[0xfc], 0x78);
	/* ... COMMAND never does, unfiltered. */
	pt_model_cfg_write(&m, PCI_COMMAND, 1, 0xff);
	pt_model_cfg_write(&m, PCI_COMMAND + 1, 1, 0xff);
	pt_model_cfg_write(&m, PCI_COMMAND, 4, 0xffffffff);
	assert_int_equal(pt_model_command(&m) & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE),
			 0);
	for (unsigned off = 0; off < 256; off += 4)
		(void)pt_model_cfg_read(&m, off, 4);
	assert_int_equal(m.violations, 0);
}

/* A PCI Express capability (0x3c bytes in version 2) with MSI 0x10 above
 * it (a version-1 layout): its live registers stop at the MSI header, so
 * the guest's MSI is the virtual one and its writes never reach the
 * device; an MSI running into the next header refuses the device. */
static void overlapping_capabilities_stay_apart(void **state)
{
	(void)state;
	caps_on(0x40);
	cap(0x40, PCI_CAP_ID_PCIE, 0x50, 0x0001);
	cap(0x50, PCI_CAP_ID_MSI, 0x70, PCI_MSI_CTRL_64);
	cap(0x70, 0x00, 0x05, 0);                   /* a broken tail */
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), 0);
	unsigned ids[4];
	assert_int_equal(guest_caps(ids, 4), 2);
	assert_int_equal(ids[1], 0x50u << 8 | PCI_CAP_ID_MSI);
	unsigned writes = m.cfg_writes;
	pt_model_cfg_write(&m, 0x52, 2, PCI_MSI_CTRL_EN);
	assert_int_equal(m.cfg[0x52] & PCI_MSI_CTRL_EN, 0);     /* the device's MSI stays off */
	assert_int_equal(m.cfg_writes, writes);
	pt_model_cfg_write(&m, 0x48, 4, 0xa5a5a5a5);             /* PCIe registers are live */
	assert_int_equal(m.cfg[0x48], 0xa5);
	pt_model_unplug(&m);

	pt_model_init(&m);
	caps_on(0x40);
	cap(0x40, PCI_CAP_ID_MSI, 0x48, PCI_MSI_CTRL_64);  /* 14 bytes: over 0x48 */
	cap(0x48, PCI_CAP_ID_PCIE, 0, 0);
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "into the next capability"));
	assert_int_equal(m.violations, 0);
}

/* Item 1 (hosted): the MSI-X table or PBA outside the BAR VFIO reports is
 * refused, naming the device; inside, the device is taken. */
static void msix_outside_its_bar_is_refused(void **state)
{
	(void)state;
	static const struct {
		uint32_t table, pba;
		const char *what;
	} bad[] = {
		{ 0x3fc0 | 0, 0x800 | 0, "table" },      /* 8 entries from 0x3fc0 pass 0x4000 */
		{ 0x0000 | 0, 0x4000 | 0, "PBA" },       /* PBA at the BAR's end */
		{ 0xfffffff8u | 0, 0x800 | 0, "table" }, /* 32-bit offset arithmetic would wrap */
		{ 0x0000 | 1, 0x800 | 0, "table" },      /* BIR 1: the upper half of BAR0 */
		{ 0x0000 | 6, 0x800 | 0, "table" },      /* a reserved BIR */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pt_model_init(&m);
		bar0(0x4000);
		caps_on(0x70);
		cap(0x70, PCI_CAP_ID_MSIX, 0, 7);
		put(0x74, 4, bad[i].table);
		put(0x78, 4, bad[i].pba);
		assert_int_equal(pt_model_plug(&m, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "0000:00:12.0"));
		assert_non_null(strstr(why, bad[i].what));
		assert_non_null(strstr(why, "outside"));
	}
	pt_model_init(&m);
	bar0(0x4000);
	caps_on(0x70);
	cap(0x70, PCI_CAP_ID_MSIX, 0, 7);
	put(0x74, 4, 0x3f80);
	put(0x78, 4, 0x3ff8);
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), 0);
	assert_int_equal(pt_dev_msix_vectors(m.pt), 8);
	assert_int_equal(m.violations, 0);
}

/* A BAR smaller than a page is trapped as a whole page: the guest's
 * accesses past the region VFIO reports never reach the device. */
static void small_bar_page_stays_inside_the_region(void **state)
{
	(void)state;
	bar0(0x800);
	caps_on(0x70);
	cap(0x70, PCI_CAP_ID_MSIX, 0, 3);
	put(0x74, 4, 0x400);
	put(0x78, 4, 0x600);
	assert_int_equal(pt_model_plug(&m, why, sizeof(why)), 0);
	uint64_t gpa = pt_dev_bar_gpa(m.pt, 0), v = 0;
	assert_true(gpa != 0);
	m.bar[0][0x10] = 0xab;
	assert_true(pt_model_mmio(&m, gpa + 0x10, 1, false, &v));
	assert_int_equal(v, 0xab);
	assert_true(pt_model_mmio(&m, gpa + 0x900, 4, false, &v));
	assert_int_equal(v, 0xffffffffu);
	v = 0x11223344;
	assert_true(pt_model_mmio(&m, gpa + 0xffc, 4, true, &v));
	/* The guest's table entry is virtual: the device's stays as it was. */
	v = 0xfee00000u;
	assert_true(pt_model_mmio(&m, gpa + 0x400, 4, true, &v));
	assert_int_equal(m.bar[0][0x400], 0);
	assert_int_equal(m.violations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(capability_past_the_end_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(capability_that_fits_at_the_end_works, setup, teardown),
		cmocka_unit_test_setup_teardown(loops_and_live_registers_keep_the_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(overlapping_capabilities_stay_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(msix_outside_its_bar_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(small_bar_page_stays_inside_the_region, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
