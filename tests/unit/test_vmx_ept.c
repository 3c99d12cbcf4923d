/* EPT entry formats and table management (vmm_glue/core/ept.c; SDM Vol. 3C
 * §28.2).  The host port's pages are plain heap memory with virt == phys,
 * so the tables can be walked here as the CPU would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "port.h"
#include "port/host/port_host.h"
#include "vmm_glue/core/ept.h"
#include "vmm_glue/vmx/vmx_caps.h"

#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)
#define ALL_CAPS (EPT_CAP_PWL4 | EPT_CAP_MT_WB | EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_INVEPT)

static void entry_formats_follow_the_sdm_tables(void **state)
{
	(void)state;
	/* 2 MiB leaf, RW, WB: bits 0-1, type 6 in bits 5:3, bit 7. */
	assert_int_equal(ept_leaf_entry(0x40200000, EPT_R | EPT_W, EPT_MT_WB, 2), 0x40200000ull | 0x3 | (6 << 3) | 0x80);
	/* 4 KiB leaf: no page-size bit, UC type 0. */
	assert_int_equal(ept_leaf_entry(0x1234000, EPT_RWX, EPT_MT_UC, 1), 0x1234007ull);
	assert_int_equal(ept_table_entry(0x5000), 0x5007ull);
	assert_int_equal(ept_entry_addr(0x000fffff12345fffull), 0x000fffff12345000ull);
	assert_true(ept_entry_is_leaf(0x83, 2));
	assert_false(ept_entry_is_leaf(0x7, 2));
	assert_true(ept_entry_is_leaf(0x7, 1));
	/* EPTP: WB walk, 4 levels (3 in bits 5:3), A/D bit 6. */
	assert_int_equal(ept_pointer(0x9000, EPT_MT_WB, false), 0x9000ull | 6 | (3 << 3));
	assert_int_equal(ept_pointer(0x9000, EPT_MT_WB, true), 0x9000ull | 6 | (3 << 3) | 0x40);
}

static void misconfigurations_are_recognised(void **state)
{
	(void)state;
	assert_true(ept_entry_misconfigured(0x1000 | EPT_W, 1, ALL_CAPS));         /* W without R */
	assert_true(ept_entry_misconfigured(0x1000 | EPT_X, 1, ALL_CAPS));         /* X-only, not supported */
	assert_false(ept_entry_misconfigured(0x1000 | EPT_X, 1, ALL_CAPS | EPT_CAP_EXEC_ONLY));
	assert_true(ept_entry_misconfigured(ept_leaf_entry(0, EPT_R, 2, 1), 1, ALL_CAPS)); /* type 2 */
	assert_true(ept_entry_misconfigured(ept_leaf_entry(0, EPT_R, 7, 1), 1, ALL_CAPS)); /* type 7 */
	assert_true(ept_entry_misconfigured(0x80 | EPT_R, 4, ALL_CAPS));           /* PS in a PML4E */
	assert_true(ept_entry_misconfigured(ept_leaf_entry(0, EPT_R, 6, 3), 3, EPT_CAP_2M)); /* no 1 GiB */
	assert_false(ept_entry_misconfigured(ept_leaf_entry(0, EPT_RWX, 6, 3), 3, ALL_CAPS));
	assert_false(ept_entry_misconfigured(0, 1, ALL_CAPS));                     /* not present */
}

static void maps_use_the_largest_pages_allowed(void **state)
{
	(void)state;
	struct ept e;
	uint64_t hpa, ent;
	unsigned lvl;
	long before = port_host_pages_in_use();

	assert_int_equal(ept_init(&e, ALL_CAPS), 0);
	assert_int_equal(ept_map(&e, 0, 0x80000000, SZ_1G + SZ_2M + 0x3000, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_lookup(&e, 0x12345678, &hpa, &ent, &lvl), 0);
	assert_int_equal(lvl, 3);
	assert_int_equal(hpa, 0x80000000ull + 0x12345678);
	assert_int_equal(ept_entry_memtype(ent), EPT_MT_WB);
	assert_int_equal(ept_lookup(&e, SZ_1G + 0x1000, &hpa, NULL, &lvl), 0);
	assert_int_equal(lvl, 2);
	assert_int_equal(ept_lookup(&e, SZ_1G + SZ_2M + 0x2fff, &hpa, NULL, &lvl), 0);
	assert_int_equal(lvl, 1);
	assert_int_equal(hpa, 0x80000000ull + SZ_1G + SZ_2M + 0x2fff);
	assert_int_equal(ept_lookup(&e, SZ_1G + SZ_2M + 0x3000, &hpa, NULL, &lvl), -PORT_ENOENT);
	/* Without 1 GiB support the same range takes 2 MiB pages. */
	struct ept small;
	assert_int_equal(ept_init(&small, ALL_CAPS & ~EPT_CAP_1G), 0);
	assert_int_equal(ept_map(&small, 0, 0, SZ_1G, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_lookup(&small, 0x12345678, &hpa, NULL, &lvl), 0);
	assert_int_equal(lvl, 2);
	ept_destroy(&small);
	ept_destroy(&e);
	assert_int_equal(port_host_pages_in_use(), before);
}

static void unmapping_a_page_splits_the_large_leaf_around_it(void **state)
{
	(void)state;
	struct ept e;
	uint64_t hpa, ent;
	unsigned lvl;
	assert_int_equal(ept_init(&e, ALL_CAPS), 0);
	assert_int_equal(ept_map(&e, 0, 0, SZ_1G, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, 0x20000000, 0x1000), 0);   /* an MMIO trap */
	assert_int_equal(ept_lookup(&e, 0x20000000, &hpa, NULL, NULL), -PORT_ENOENT);
	assert_int_equal(ept_lookup(&e, 0x20001000, &hpa, &ent, &lvl), 0);
	assert_int_equal(lvl, 1);
	assert_int_equal(hpa, 0x20001000);
	assert_int_equal(ent & EPT_RWX, EPT_RWX);
	assert_int_equal(ept_entry_memtype(ent), EPT_MT_WB);
	assert_int_equal(ept_lookup(&e, 0x201fffff, &hpa, NULL, &lvl), 0);
	assert_int_equal(lvl, 1);
	assert_int_equal(ept_lookup(&e, 0x20200000, &hpa, NULL, &lvl), 0);   /* next 2 MiB untouched */
	assert_int_equal(lvl, 2);
	assert_int_equal(ept_lookup(&e, 0x3fffffff, &hpa, NULL, &lvl), 0);
	assert_int_equal(lvl, 2);
	/* A raw (misconfigured) value lands in the 4 KiB leaf. */
	assert_int_equal(ept_set_raw_4k(&e, 0x5000, 0x5000 | EPT_W), 0);
	assert_int_equal(ept_lookup(&e, 0x5000, &hpa, &ent, &lvl), 0);
	assert_int_equal(ent, 0x5000 | EPT_W);
	assert_true(ept_entry_misconfigured(ent, lvl, ALL_CAPS));
	/* Unmapping where nothing is mapped builds no tables. */
	unsigned tables = e.tables;
	assert_int_equal(ept_unmap(&e, 0x7000000000ull, SZ_1G + 0x1000), 0);
	assert_int_equal(e.tables, tables);
	ept_destroy(&e);
}

struct visit { unsigned n; uint64_t bytes; uint64_t last_gpa; int ordered; };
static int count_leaf(void *ctx, uint64_t gpa, uint64_t entry, unsigned level)
{
	struct visit *v = ctx;
	(void)entry;
	if (v->n && gpa <= v->last_gpa)
		v->ordered = 0;
	v->n++;
	v->bytes += EPT_LEVEL_SIZE(level);
	v->last_gpa = gpa;
	return 0;
}

static void every_leaf_is_visited_in_order_for_a_vtd_mirror(void **state)
{
	(void)state;
	struct ept e;
	struct visit v = { 0, 0, 0, 1 };
	assert_int_equal(ept_init(&e, ALL_CAPS), 0);
	assert_int_equal(ept_map(&e, SZ_1G, 0, SZ_1G, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x200000, 0x7000000, SZ_2M + 0x2000, EPT_R | EPT_W, EPT_MT_UC), 0);
	assert_int_equal(ept_for_each_leaf(&e, count_leaf, &v), 0);
	assert_int_equal(v.n, 1 + 1 + 2);
	assert_int_equal(v.bytes, SZ_1G + SZ_2M + 0x2000);
	assert_true(v.ordered);
	ept_destroy(&e);
}

static void bad_arguments_and_exhausted_memory_are_errors(void **state)
{
	(void)state;
	struct ept e;
	long before = port_host_pages_in_use();
	assert_int_equal(ept_init(&e, ALL_CAPS), 0);
	assert_int_equal(ept_map(&e, 0x1001, 0, 0x1000, EPT_RWX, EPT_MT_WB), -PORT_EINVAL);
	assert_int_equal(ept_map(&e, 0, 0, 0x1000, 0, EPT_MT_WB), -PORT_EINVAL);
	assert_int_equal(ept_map(&e, 0, 0, 0x1000, EPT_RWX, 2), -PORT_EINVAL);
	assert_int_equal(ept_map(&e, 1ull << 48, 0, 0x1000, EPT_RWX, EPT_MT_WB), -PORT_EINVAL);
	port_host_fail_page_allocs_after(1);
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 0x1000, EPT_RWX, EPT_MT_WB), -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
	ept_destroy(&e);
	assert_int_equal(port_host_pages_in_use(), before);
	port_host_fail_page_allocs_after(0);
	assert_int_equal(ept_init(&e, ALL_CAPS), -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
}

/* Issue 13 item 3: a table cut out of the map (a 2 MiB leaf replacing a
 * page table) stays allocated and unchanged until ept_reclaim(), which the
 * core calls after the flush (INVEPT / the nested TLB flush / the IOTLB
 * invalidation) — freeing it before would let a walker still caching the
 * old pointer read a page already reused.  Fails on the old ept.c: the page
 * was freed inside ept_map (ASan: use after free below). */
static void cut_out_tables_are_freed_only_after_the_flush(void **state)
{
	(void)state;
	struct ept e;
	assert_int_equal(ept_init(&e, ALL_CAPS), 0);
	assert_int_equal(ept_map(&e, 0x1000, 0x5000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
	uint64_t pde = e.pml4[0];
	const uint64_t *pdpt = port_phys_to_virt(ept_entry_addr(pde));
	const uint64_t *pd = port_phys_to_virt(ept_entry_addr(pdpt[0]));
	const uint64_t *pt = port_phys_to_virt(ept_entry_addr(pd[0]));
	uint64_t old = pt[1];
	unsigned tables = e.tables;
	assert_int_equal(ept_map(&e, 0, SZ_2M, SZ_2M, EPT_RWX, EPT_MT_WB), 0);   /* PD[0] becomes a leaf */
	assert_true(ept_entry_is_leaf(pd[0], 2));
	assert_int_equal(e.tables, tables);        /* nothing freed yet */
	assert_int_equal(e.nr_stale, 1);
	assert_int_equal(pt[1], old);              /* a late walker still sees the old entry */
	ept_reclaim(&e);
	assert_int_equal(e.tables, tables - 1);
	assert_int_equal(e.nr_stale, 0);
	ept_destroy(&e);
}

/* The NPT format (AMD APM Vol. 2 §15.25, §5.4.1): U/S in every entry,
 * PWT/PCD for the memory type, no write- or execute-only leaves. */
static void npt_format_is_long_mode_paging_with_user_set(void **state)
{
	(void)state;
	struct ept n;
	assert_int_equal(ept_init_fmt(&n, EPT_CAP_2M | EPT_CAP_1G, EPT_FMT_NPT), 0);
	assert_int_equal(ept_map(&n, 0, 0, SZ_2M, EPT_RWX | EPT_RAM, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&n, SZ_2M, 0xfe000000ull, 0x1000, EPT_R | EPT_W, EPT_MT_UC), 0);
	uint64_t e, hpa;
	unsigned level;
	assert_int_equal(ept_lookup(&n, 0x1000, &hpa, &e, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(e, 0x1000ull - 0x1000 + (EPT_RAM | EPT_PAGE_SIZE | NPT_US | EPT_W | EPT_R));
	assert_int_equal(ept_lookup(&n, SZ_2M, &hpa, &e, &level), 0);
	assert_int_equal(e, 0xfe000000ull | NPT_PCD | NPT_PWT | NPT_US | EPT_W | EPT_R);
	assert_int_equal(n.pml4[0] & 0xfff, 0x7);   /* table entries: P, R/W, U/S */
	assert_int_equal(ept_map(&n, 0, 0, 0x1000, EPT_W, EPT_MT_WB), -PORT_EINVAL);
	assert_int_equal(ept_map(&n, 0, 0, 0x1000, EPT_X, EPT_MT_WB), -PORT_EINVAL);
	assert_int_equal(ept_map(&n, 0, 0, 0x1000, EPT_R, EPT_MT_WC), -PORT_EINVAL);
	ept_destroy(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entry_formats_follow_the_sdm_tables),
		cmocka_unit_test(misconfigurations_are_recognised),
		cmocka_unit_test(maps_use_the_largest_pages_allowed),
		cmocka_unit_test(unmapping_a_page_splits_the_large_leaf_around_it),
		cmocka_unit_test(every_leaf_is_visited_in_order_for_a_vtd_mirror),
		cmocka_unit_test(bad_arguments_and_exhausted_memory_are_errors),
		cmocka_unit_test(cut_out_tables_are_freed_only_after_the_flush),
		cmocka_unit_test(npt_format_is_long_mode_paging_with_user_set),
	};
	return cmocka_run_group_tests_name("vmx_ept", tests, NULL, NULL);
}
