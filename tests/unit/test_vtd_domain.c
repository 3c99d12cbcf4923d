/* VT-d domains: AGAW selection, second-level page tables bit for bit,
 * superpage rules, and a property test of random map/unmap against a
 * reference model, checked through translate and through the unit model's
 * own table walk (what the hardware would do). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/dmar.h"
#include "iommu/vtd_context.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define BASE 0xfed90000ull
#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct vtd_model model;
static struct vtd_unit unit;

static void start(uint64_t cap, uint64_t ecap)
{
	vtd_model_init(&model, BASE, cap, ecap);
	assert_int_equal(vtd_unit_init(&unit, BASE, 0), 0);
	assert_int_equal(vtd_unit_enable(&unit), 0);
}

static int setup(void **state)
{
	(void)state;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(48, true),
		       vtd_model_qemu_ecap(true, true, true, false));
	vtd_model_install(&model);
	port_host_set_log_quiet(1);
	port_host_set_clock_step(1000000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtd_unit_fini(&unit);
	vtd_model_uninstall_all();
	port_host_set_clock_step(0);
	port_host_fail_page_allocs_after(-1);
	port_host_set_page_free_hook(NULL, NULL);
	assert_int_equal(port_host_pages_in_use(), 0);
	return 0;
}

static uint64_t *table(uint64_t pte) { return port_phys_to_virt(pte & VTD_SLPTE_ADDR_MASK); }

static void agaw_selection(void **state)
{
	(void)state;
	unsigned levels = 0;
	/* SAGAW bit 1 only (QEMU aw-bits=39) */
	assert_int_equal(vtd_agaw_select(0x2, 39, 32, &levels), 1);
	assert_int_equal(levels, 3);
	assert_int_equal(vtd_agaw_select(0x2, 39, 39, &levels), 1);
	assert_int_equal(vtd_agaw_select(0x2, 39, 40, &levels), -PORT_ENOTSUP);
	/* SAGAW 39+48 (aw-bits=48): smallest that covers */
	assert_int_equal(vtd_agaw_select(0x6, 48, 39, &levels), 1);
	assert_int_equal(levels, 3);
	assert_int_equal(vtd_agaw_select(0x6, 48, 40, &levels), 2);
	assert_int_equal(levels, 4);
	assert_int_equal(vtd_agaw_select(0x6, 48, 49, &levels), -PORT_ENOTSUP);
	/* 48 only: a 32-bit domain still gets 4 levels */
	assert_int_equal(vtd_agaw_select(0x4, 48, 32, &levels), 2);
	assert_int_equal(levels, 4);
	/* 5-level */
	assert_int_equal(vtd_agaw_select(0x8, 57, 50, &levels), 3);
	assert_int_equal(levels, 5);
	/* MGAW caps the request even when SAGAW would cover it */
	assert_int_equal(vtd_agaw_select(0xe, 45, 46, &levels), -PORT_ENOTSUP);
	assert_int_equal(vtd_agaw_select(0x0, 48, 32, &levels), -PORT_ENOTSUP);
	assert_int_equal(vtd_agaw_select(0x6, 48, 0, &levels), -PORT_ENOTSUP);

	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 40), -PORT_ENOTSUP);
	assert_int_equal(vtd_domain_init(&d, &unit, 32), 0);
	assert_int_equal(d.levels, 3);
	assert_int_equal(d.aw, 1);
	assert_int_equal(d.width, 39);
	assert_int_equal(d.did, 1);
	vtd_domain_destroy(&d);
}

static void pte_layout_bit_for_bit(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(48, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 48), 0);
	assert_int_equal(d.levels, 4);
	uint64_t iova = (3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12);
	assert_int_equal(vtd_domain_map(&d, iova, 0x123456000ull, 4096, VTD_MAP_READ), 0);
	/* 9.8: non-leaf = next table | R | W; leaf = address | R (| W) */
	uint64_t l4 = d.top[3];
	assert_int_equal(l4 & ~VTD_SLPTE_ADDR_MASK, VTD_SLPTE_R | VTD_SLPTE_W);
	uint64_t l3 = table(l4)[5];
	assert_int_equal(l3 & ~VTD_SLPTE_ADDR_MASK, VTD_SLPTE_R | VTD_SLPTE_W);
	uint64_t l2 = table(l3)[7];
	assert_int_equal(l2 & ~VTD_SLPTE_ADDR_MASK, VTD_SLPTE_R | VTD_SLPTE_W);
	assert_int_equal(table(l2)[9], 0x123456000ull | VTD_SLPTE_R);
	assert_int_equal(d.table_pages, 4);
	/* a 2 MiB leaf: PS (bit 7) at level 2 */
	assert_int_equal(vtd_domain_map(&d, 0x40000000ull, 0x80000000ull, 2 * MiB,
					 VTD_MAP_READ | VTD_MAP_WRITE), 0);
	uint64_t l3b = table(d.top[0])[1];
	assert_int_equal(table(l3b)[0], 0x80000000ull | VTD_SLPTE_PS | VTD_SLPTE_R | VTD_SLPTE_W);
	/* a 1 GiB leaf: PS at level 3 */
	assert_int_equal(vtd_domain_map(&d, 4 * GiB, 8 * GiB, GiB, VTD_MAP_WRITE), 0);
	assert_int_equal(table(d.top[0])[4], 8 * GiB | VTD_SLPTE_PS | VTD_SLPTE_W);
	/* SNP is reserved without ECAP.SC: never written */
	assert_int_equal(vtd_domain_map(&d, 0x1000, 0x2000, 4096, VTD_MAP_READ | VTD_MAP_SNOOP), 0);
	uint64_t leaf = table(table(table(d.top[0])[0])[0])[1];
	assert_int_equal(leaf, 0x2000ull | VTD_SLPTE_R);
	vtd_domain_destroy(&d);
	vtd_unit_fini(&unit);

	start(vtd_model_qemu_cap(48, false),
	      vtd_model_qemu_ecap(false, false, false, false) | VTD_ECAP_SC);
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_int_equal(vtd_domain_map(&d, 0x1000, 0x2000, 4096, VTD_MAP_READ | VTD_MAP_SNOOP), 0);
	leaf = table(table(d.top[0])[0])[1];
	assert_int_equal(leaf, 0x2000ull | VTD_SLPTE_R | VTD_SLPTE_SNP);
	unsigned flags;
	assert_int_equal(vtd_domain_translate(&d, 0x1abc, NULL, &flags, NULL), 0);
	assert_int_equal(flags, VTD_MAP_READ | VTD_MAP_SNOOP);
	vtd_domain_destroy(&d);
}

static void superpage_rules(void **state)
{
	(void)state;
	uint64_t hpa, size;
	unsigned flags;
	struct vtd_domain d;
	/* SLLPS = 0: 4 KiB only */
	start(vtd_model_qemu_cap(48, false) & ~VTD_GENMASK(37, 34),
	      vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_domain_init(&d, &unit, 48), 0);
	assert_int_equal(vtd_domain_map(&d, GiB, GiB, GiB, VTD_MAP_READ), 0);
	assert_int_equal(vtd_domain_translate(&d, GiB + 5 * MiB + 17, &hpa, &flags, &size), 0);
	assert_int_equal(hpa, GiB + 5 * MiB + 17);
	assert_int_equal(size, 4096);
	assert_int_equal(d.table_pages, 1 + 1 + 1 + 512);
	vtd_domain_destroy(&d);
	vtd_unit_fini(&unit);
	/* SLLPS = 1: 2 MiB but not 1 GiB */
	start((vtd_model_qemu_cap(48, false) & ~VTD_GENMASK(37, 34)) | (1ull << 34),
	      vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_domain_init(&d, &unit, 48), 0);
	assert_int_equal(vtd_domain_map(&d, GiB, 3 * GiB, GiB, VTD_MAP_READ), 0);
	assert_int_equal(vtd_domain_translate(&d, GiB + 3 * MiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 2 * MiB);
	assert_int_equal(hpa, 3 * GiB + 3 * MiB);
	assert_int_equal(d.table_pages, 3);
	vtd_domain_destroy(&d);
	vtd_unit_fini(&unit);
	/* SLLPS = 3 */
	start(vtd_model_qemu_cap(48, false), vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_domain_init(&d, &unit, 48), 0);
	/* iova aligned, hpa only 4K aligned: no superpage */
	assert_int_equal(vtd_domain_map(&d, 2 * MiB, 2 * MiB + 4096, 2 * MiB, VTD_MAP_READ), 0);
	assert_int_equal(vtd_domain_translate(&d, 2 * MiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 4096);
	assert_int_equal(hpa, 2 * MiB + 4096);
	/* a range from 1 MiB to 2 GiB + 1 MiB: 4K head, 2M run, 1G middle, 4K tail */
	assert_int_equal(vtd_domain_map(&d, 4 * GiB + MiB, 8 * GiB + MiB, 2 * GiB, VTD_MAP_WRITE), 0);
	assert_int_equal(vtd_domain_translate(&d, 4 * GiB + MiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 4096);
	assert_int_equal(vtd_domain_translate(&d, 4 * GiB + 2 * MiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 2 * MiB);
	assert_int_equal(vtd_domain_translate(&d, 5 * GiB + 12345, &hpa, &flags, &size), 0);
	assert_int_equal(size, GiB);
	assert_int_equal(hpa, 9 * GiB + 12345);
	assert_int_equal(flags, VTD_MAP_WRITE);
	assert_int_equal(vtd_domain_translate(&d, 5 * GiB - 2 * MiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 2 * MiB);
	assert_int_equal(hpa, 9 * GiB - 2 * MiB);
	assert_int_equal(vtd_domain_translate(&d, 6 * GiB + MiB - 1, &hpa, &flags, &size), 0);
	assert_int_equal(size, 4096);
	assert_int_equal(hpa, 10 * GiB + MiB - 1);
	assert_int_equal(vtd_domain_translate(&d, 6 * GiB + MiB, &hpa, &flags, &size), -PORT_ENOENT);
	/* NO_SUPER */
	assert_int_equal(vtd_domain_map(&d, 16 * GiB, 16 * GiB, 2 * MiB,
					 VTD_MAP_READ | VTD_MAP_NO_SUPER), 0);
	assert_int_equal(vtd_domain_translate(&d, 16 * GiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 4096);
	/* unmapping 4K out of a 1G leaf splits it: 1G -> 511 x 2M + 511 x 4K */
	struct vtd_unmap_result r;
	unsigned long pages = d.table_pages;
	assert_int_equal(vtd_domain_unmap(&d, 5 * GiB + 4096, 4096, &r), 0);
	assert_int_equal(r.bytes, 4096);
	assert_int_equal(r.leaves, 1);
	assert_int_equal(r.tables_freed, 0);
	assert_int_equal(d.table_pages, pages + 2);
	assert_int_equal(vtd_domain_translate(&d, 5 * GiB + 4096, &hpa, &flags, &size), -PORT_ENOENT);
	assert_int_equal(vtd_domain_translate(&d, 5 * GiB, &hpa, &flags, &size), 0);
	assert_int_equal(hpa, 9 * GiB);
	assert_int_equal(size, 4096);
	assert_int_equal(vtd_domain_translate(&d, 5 * GiB + 2 * MiB, &hpa, &flags, &size), 0);
	assert_int_equal(size, 2 * MiB);
	assert_int_equal(flags, VTD_MAP_WRITE);
	vtd_domain_destroy(&d);
}

static void map_errors_change_nothing(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_int_equal(vtd_domain_map(&d, 0x5000, 0x9000, 4096, VTD_MAP_READ), 0);
	unsigned long pages = d.table_pages;
	long in_use = port_host_pages_in_use();
	/* overlapping: refused, the first 5 pages it mapped are taken back */
	assert_int_equal(vtd_domain_map(&d, 0x0000, 0x100000, 0x10000, VTD_MAP_READ), -PORT_EEXIST);
	assert_int_equal(vtd_domain_translate(&d, 0x0000, NULL, NULL, NULL), -PORT_ENOENT);
	assert_int_equal(vtd_domain_translate(&d, 0x6000, NULL, NULL, NULL), -PORT_ENOENT);
	uint64_t hpa;
	assert_int_equal(vtd_domain_translate(&d, 0x5000, &hpa, NULL, NULL), 0);
	assert_int_equal(hpa, 0x9000);
	assert_int_equal(d.table_pages, pages);
	/* argument checks */
	assert_int_equal(vtd_domain_map(&d, 0x1001, 0, 4096, VTD_MAP_READ), -PORT_EINVAL);
	assert_int_equal(vtd_domain_map(&d, 0x1000, 0, 4096, 0), -PORT_EINVAL);
	assert_int_equal(vtd_domain_map(&d, 1ull << 39, 0, 4096, VTD_MAP_READ), -PORT_ERANGE);
	assert_int_equal(vtd_domain_map(&d, (1ull << 39) - 4096, 0, 8192, VTD_MAP_READ), -PORT_ERANGE);
	/* out of memory half way: undone, nothing leaked */
	port_host_fail_page_allocs_after(3);
	assert_int_equal(vtd_domain_map(&d, 100 * GiB, 0, 8 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER),
			 -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
	assert_int_equal(vtd_domain_translate(&d, 100 * GiB, NULL, NULL, NULL), -PORT_ENOENT);
	assert_int_equal(port_host_pages_in_use(), in_use);
	assert_int_equal(d.table_pages, pages);
	/* out of memory before the first leaf: the new level-2 table goes too */
	port_host_fail_page_allocs_after(1);
	assert_int_equal(vtd_domain_map(&d, 100 * GiB, 0, 8 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER),
			 -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
	assert_int_equal(port_host_pages_in_use(), in_use);
	assert_int_equal(d.table_pages, pages);
	/* unmap of a hole is fine and says it freed nothing */
	struct vtd_unmap_result r;
	assert_int_equal(vtd_domain_unmap(&d, 200 * GiB, 4096, &r), 0);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(vtd_domain_unmap(&d, 0x5000, 4096, &r), 0);
	assert_int_equal(r.bytes, 4096);
	assert_int_equal(r.tables_freed, 2);   /* the level-1 and level-2 tables */
	assert_int_equal(d.table_pages, 1);
	vtd_domain_destroy(&d);
}

static void unmap_invalidates_the_iotlb(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	unsigned before = model.ndescs;
	assert_int_equal(vtd_domain_map(&d, 0x40000, 0x80000, 0x4000, VTD_MAP_READ), 0);
	assert_int_equal(model.ndescs, before);   /* CM=0: no invalidation on map */
	assert_int_equal(vtd_domain_unmap(&d, 0x40000, 0x4000, NULL), 0);
	struct vtd_desc inv = model.descs[model.ndescs - 2];
	assert_int_equal(inv.lo, VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(VTD_TLB_PAGE) |
				 VTD_DESC_IOTLB_DID(d.did));
	assert_int_equal(inv.hi, 0x40000ull | 2);
	vtd_domain_destroy(&d);
	vtd_unit_fini(&unit);
	/* CM=1: not-present -> present is invalidated too */
	start(vtd_model_qemu_cap(39, true), vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	before = model.ndescs;
	assert_int_equal(vtd_domain_map(&d, 0x40000, 0x80000, 0x1000, VTD_MAP_READ), 0);
	assert_int_equal(model.ndescs, before + 2);
	inv = model.descs[model.ndescs - 2];
	assert_int_equal(inv.hi, 0x40000ull);
	vtd_domain_destroy(&d);
}

/* --- page-table pages are released only after the invalidation ------------ */

/* Every page the port takes back, with how many descriptors the unit had
 * processed at that moment (the model handles a queue write at once). */
struct free_record {
	void *page;
	unsigned ndescs;
};
static struct free_record freed[64];
static unsigned nfreed;

static void record_free(void *ctx, void *page, unsigned count)
{
	(void)ctx;
	(void)count;
	if (nfreed < 64)
		freed[nfreed++] = (struct free_record){ page, model.ndescs };
}

/* Does a completed IOTLB invalidation for did that covers [iova, iova+len)
 * (domain-selective, or page-selective whose 2^am block covers it) lie in
 * descs[from, upto), followed by its wait descriptor before upto? */
static bool invalidated(unsigned did, uint64_t iova, uint64_t len, unsigned from, unsigned upto)
{
	for (unsigned i = from; i + 1 < upto; i++) {
		struct vtd_desc e = model.descs[i];
		if ((e.lo & 0xf) != VTD_DESC_IOTLB || (model.descs[i + 1].lo & 0xf) != VTD_DESC_WAIT)
			continue;
		unsigned g = (unsigned)vtd_field(e.lo, 5, 4);
		if (g == VTD_TLB_GLOBAL)
			return true;
		if (vtd_field(e.lo, 31, 16) != did)
			continue;
		if (g == VTD_TLB_DOMAIN)
			return true;
		uint64_t block = 4096ull << vtd_field(e.hi, 5, 0), base = e.hi & ~0xfffull;
		if (base <= iova && iova + len <= base + block)
			return true;
	}
	return false;
}

static unsigned iotlb_descs_since(unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < model.ndescs; i++)
		n += (model.descs[i].lo & 0xf) == VTD_DESC_IOTLB;
	return n;
}

static void tables_released_after_the_invalidation(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	port_host_set_page_free_hook(record_free, NULL);
	/* unmap of a whole range: two level-1 tables and their level-2 table go */
	assert_int_equal(vtd_domain_map(&d, GiB, 0, 4 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER), 0);
	nfreed = 0;
	unsigned from = model.ndescs;
	struct vtd_unmap_result r;
	assert_int_equal(vtd_domain_unmap(&d, GiB, 4 * MiB, &r), 0);
	assert_int_equal(r.tables_freed, 3);
	assert_int_equal(nfreed, 3);
	for (unsigned i = 0; i < nfreed; i++)
		assert_true(invalidated(d.did, GiB, 4 * MiB, from, freed[i].ndescs));
	/* unmap of the last page of a table: the table goes, after the invalidation */
	assert_int_equal(vtd_domain_map(&d, 2 * GiB, 0, 8192, VTD_MAP_READ), 0);
	assert_int_equal(vtd_domain_unmap(&d, 2 * GiB, 4096, &r), 0);
	assert_int_equal(r.tables_freed, 0);
	nfreed = 0;
	from = model.ndescs;
	assert_int_equal(vtd_domain_unmap(&d, 2 * GiB + 4096, 4096, &r), 0);
	assert_int_equal(r.tables_freed, 2);
	assert_int_equal(nfreed, 2);
	for (unsigned i = 0; i < nfreed; i++)
		assert_true(invalidated(d.did, 2 * GiB + 4096, 4096, from, freed[i].ndescs));
	/* a map that runs out of memory half way takes back tables it had made
	 * live: they too go only after an invalidation */
	port_host_fail_page_allocs_after(3);
	nfreed = 0;
	from = model.ndescs;
	assert_int_equal(vtd_domain_map(&d, 3 * GiB, 0, 8 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER),
			 -PORT_ENOMEM);
	port_host_fail_page_allocs_after(-1);
	assert_int_equal(d.table_pages, 1);
	assert_true(nfreed >= 2);
	for (unsigned i = 0; i < nfreed; i++)
		assert_true(invalidated(d.did, 3 * GiB, 8 * MiB, from, freed[i].ndescs));
	/* more tables than the drop list holds inline, and no memory for more:
	 * the rest are cleared and stay linked (never released early); a later
	 * unmap drops them */
	assert_int_equal(vtd_domain_map(&d, GiB + 2 * MiB, 0, 40 * MiB,
					 VTD_MAP_READ | VTD_MAP_NO_SUPER), 0);
	unsigned long pages = d.table_pages;
	nfreed = 0;
	from = model.ndescs;
	port_host_fail_page_allocs_after(0);
	assert_int_equal(vtd_domain_unmap(&d, GiB, 64 * MiB, &r), 0);
	port_host_fail_page_allocs_after(-1);
	assert_int_equal(r.bytes, 40 * MiB);
	assert_int_equal(r.tables_freed, 8);
	assert_int_equal(d.table_pages, pages - 8);
	assert_int_equal(iotlb_descs_since(from), 1);
	for (unsigned i = 0; i < nfreed; i++)
		assert_true(invalidated(d.did, GiB, 64 * MiB, from, freed[i].ndescs));
	for (uint64_t a = GiB; a < GiB + 64 * MiB; a += 2 * MiB)
		assert_int_equal(vtd_domain_translate(&d, a + 4096, NULL, NULL, NULL), -PORT_ENOENT);
	assert_int_equal(vtd_domain_unmap(&d, GiB, 64 * MiB, &r), 0);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(d.table_pages, 1);
	/* teardown: every table of a domain still holding mappings goes after a
	 * domain invalidation */
	assert_int_equal(vtd_domain_map(&d, GiB, 0, 4 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER), 0);
	nfreed = 0;
	from = model.ndescs;
	unsigned did = d.did;
	vtd_domain_destroy(&d);
	assert_int_equal(nfreed, 4);
	for (unsigned i = 0; i < nfreed; i++)
		assert_true(invalidated(did, 0, 1ull << 39, from, freed[i].ndescs));
	port_host_set_page_free_hook(NULL, NULL);
}

/* --- one invalidation per range call, one flush per line touched ----------- */

/* The unit's invalidation queue is flushed too: an IOTLB descriptor and its
 * wait descriptor, 32 bytes, at most 2 lines (vtd_unit.c). */
#define QUEUE_LINES 2

static void range_calls_count_invalidations_and_flushes(void **state)
{
	(void)state;
	/* CM=1: maps are invalidated too; ECAP.C=0: every table change is flushed */
	start(vtd_model_qemu_cap(39, true), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_false(d.coherent);
	unsigned from = model.ndescs;
	unsigned long lines = port_host_lines_flushed();
	/* 8 MiB in 4 KiB leaves: 4 new level-1 tables and a level-2 table (64
	 * lines each, zeroed and filled) and one line of the top table */
	assert_int_equal(vtd_domain_map(&d, GiB, 0, 8 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER), 0);
	assert_int_equal(iotlb_descs_since(from), 1);
	assert_true(port_host_lines_flushed() - lines <= 5 * 64 + 1 + QUEUE_LINES);
	assert_true(port_host_lines_flushed() - lines >= 1);
	/* 2 GiB from 4 GiB + 1 MiB: 4 KiB head, 2 MiB runs, a 1 GiB leaf, tail */
	from = model.ndescs;
	lines = port_host_lines_flushed();
	unsigned long pages = d.table_pages;
	assert_int_equal(vtd_domain_map(&d, 4 * GiB + MiB, 8 * GiB + MiB, 2 * GiB, VTD_MAP_READ), 0);
	assert_int_equal(iotlb_descs_since(from), 1);
	assert_true(port_host_lines_flushed() - lines <=
		    (d.table_pages - pages) * 64 + 1 + QUEUE_LINES);
	/* one page out and back in: one line and one invalidation each */
	from = model.ndescs;
	lines = port_host_lines_flushed();
	assert_int_equal(vtd_domain_unmap(&d, GiB + 4096, 4096, NULL), 0);
	assert_int_equal(iotlb_descs_since(from), 1);
	assert_true(port_host_lines_flushed() - lines <= 1 + QUEUE_LINES);
	from = model.ndescs;
	lines = port_host_lines_flushed();
	assert_int_equal(vtd_domain_map(&d, GiB + 4096, 4096, 4096, VTD_MAP_READ), 0);
	assert_int_equal(iotlb_descs_since(from), 1);
	assert_true(port_host_lines_flushed() - lines <= 1 + QUEUE_LINES);
	/* unmap of the 8 MiB: the level-1 tables are dropped whole, not
	 * cleared: two lines flushed (level 2 and the top) */
	from = model.ndescs;
	lines = port_host_lines_flushed();
	struct vtd_unmap_result r;
	assert_int_equal(vtd_domain_unmap(&d, GiB, 8 * MiB, &r), 0);
	assert_int_equal(r.bytes, 8 * MiB);
	assert_int_equal(r.leaves, 2048);
	assert_int_equal(r.tables_freed, 5);
	assert_int_equal(iotlb_descs_since(from), 1);
	assert_true(port_host_lines_flushed() - lines <= 2 + QUEUE_LINES);
	/* a range that needs a domain-selective invalidation is still one */
	from = model.ndescs;
	assert_int_equal(vtd_domain_unmap(&d, 4 * GiB, 4 * GiB, &r), 0);
	assert_int_equal(r.bytes, 2 * GiB);
	assert_int_equal(iotlb_descs_since(from), 1);
	assert_int_equal(d.table_pages, 1);
	vtd_domain_destroy(&d);
	vtd_unit_fini(&unit);
	/* CM=0: a map is not invalidated at all */
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	from = model.ndescs;
	assert_int_equal(vtd_domain_map(&d, GiB, 0, 8 * MiB, VTD_MAP_READ | VTD_MAP_NO_SUPER), 0);
	assert_int_equal(vtd_domain_map(&d, 0, 0, 4096, VTD_MAP_READ), 0);
	assert_int_equal(iotlb_descs_since(from), 0);
	vtd_domain_destroy(&d);
}

/* The per-page path remembers the last level-1 table it used; a table that
 * an unmap dropped must never be written through that memory again (the
 * pool poisons released pages: AddressSanitizer would report it). */
static void per_page_hint_never_outlives_its_table(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 3 << 3, &d, VTD_TT_UNTRANSLATED), 0);
	const uint16_t sid = VTD_SID(0, 3, 0);
	uint64_t hpa;
	for (unsigned round = 0; round < 3; round++) {
		assert_int_equal(vtd_domain_map(&d, GiB, 0x10000, 4096, VTD_MAP_READ), 0);
		assert_int_equal(vtd_domain_map(&d, GiB + 4096, 0x20000, 4096, VTD_MAP_READ), 0);
		assert_non_null(d.leaf_hint);
		/* the whole 2 MiB goes: its table is dropped, then released */
		assert_int_equal(vtd_domain_unmap(&d, GiB, 2 * MiB, NULL), 0);
		assert_null(d.leaf_hint);
		assert_int_equal(d.table_pages, 1);
		assert_int_equal(vtd_domain_map(&d, GiB + 8192, 0x30000, 4096, VTD_MAP_READ), 0);
		assert_int_equal(vtd_model_translate(&model, sid, GiB + 8192, false, &hpa), 0);
		assert_int_equal(hpa, 0x30000);
		assert_int_equal(vtd_model_translate(&model, sid, GiB, false, &hpa), 0x6);
		assert_int_equal(vtd_domain_unmap(&d, GiB, 2 * MiB, NULL), 0);
	}
	assert_int_equal(vtd_ctx_detach(&unit, 0, 3 << 3), 0);
	vtd_domain_destroy(&d);
}

/* --- first-stage tables on a unit without second-stage translation ------- */

static void first_stage_domain(void **state)
{
	(void)state;
	/* QEMU's x-scalable-mode=on,x-flts=on: ECAP.FLTS, no SLTS; CAP.FS1GP */
	uint64_t ecap = (vtd_model_qemu_ecap(false, false, false, true) & ~VTD_ECAP_SLTS) |
			VTD_ECAP_FLTS;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(48, false) | VTD_CAP_FS1GP, ecap);
	assert_int_equal(vtd_unit_init(&unit, BASE, VTD_UNIT_SCALABLE), 0);
	assert_int_equal(vtd_unit_enable(&unit), 0);
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 49), -PORT_ENOTSUP);   /* 4 levels: 48 bits */
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_true(d.first_stage);
	assert_int_equal(d.levels, 4);
	assert_int_equal(d.sllps, 3);
	/* 9.7: non-leaf = next table | P | R/W | U/S; leaf = address | P | U/S (| R/W) */
	uint64_t iova = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12);
	assert_int_equal(vtd_domain_map(&d, iova, 0x5000, 4096, VTD_MAP_READ), 0);
	assert_int_equal(vtd_domain_map(&d, iova + 4096, 0x6000, 4096, VTD_MAP_READ | VTD_MAP_WRITE),
			 0);
	const uint64_t nonleaf = VTD_FSPTE_P | VTD_FSPTE_RW | VTD_FSPTE_US;
	uint64_t l4 = d.top[1], l3 = table(l4)[2], l2 = table(l3)[3];
	assert_int_equal(l4 & ~VTD_SLPTE_ADDR_MASK, nonleaf);
	assert_int_equal(l3 & ~VTD_SLPTE_ADDR_MASK, nonleaf);
	assert_int_equal(l2 & ~VTD_SLPTE_ADDR_MASK, nonleaf);
	assert_int_equal(table(l2)[4], 0x5000ull | VTD_FSPTE_P | VTD_FSPTE_US);
	assert_int_equal(table(l2)[5], 0x6000ull | VTD_FSPTE_P | VTD_FSPTE_US | VTD_FSPTE_RW);
	uint64_t hpa, size;
	unsigned flags;
	assert_int_equal(vtd_domain_translate(&d, iova + 4096 + 7, &hpa, &flags, &size), 0);
	assert_int_equal(hpa, 0x6007);
	assert_int_equal(flags, VTD_MAP_READ | VTD_MAP_WRITE);
	/* IA-32e has no write-only page */
	assert_int_equal(vtd_domain_map(&d, 0x10000, 0x10000, 4096, VTD_MAP_WRITE), -PORT_ENOTSUP);
	/* 2 MiB and (CAP.FS1GP) 1 GiB leaves: PS */
	assert_int_equal(vtd_domain_map(&d, 2 * MiB, 4 * MiB, 2 * MiB, VTD_MAP_READ), 0);
	assert_int_equal(table(table(d.top[0])[0])[1],
			 4 * MiB | VTD_FSPTE_P | VTD_FSPTE_US | VTD_SLPTE_PS);
	assert_int_equal(vtd_domain_map(&d, GiB, 2 * GiB, GiB, VTD_MAP_READ | VTD_MAP_WRITE), 0);
	assert_int_equal(table(d.top[0])[1],
			 2 * GiB | VTD_FSPTE_P | VTD_FSPTE_US | VTD_FSPTE_RW | VTD_SLPTE_PS);
	/* 9.6: the RID_PASID entry: PGTT=1 with FSPTPTR in qword 2 (FSPM 0: 4 levels) */
	assert_int_equal(vtd_ctx_attach(&unit, 2, 0x10, &d, VTD_TT_UNTRANSLATED), 0);
	uint64_t lo = unit.root[2 * 2];
	const uint64_t *ce = &((const uint64_t *)port_phys_to_virt(lo & VTD_ROOT_LO_CTP_MASK))[4 * 0x10];
	const uint64_t *dir = port_phys_to_virt(ce[0] & VTD_SMCTX_LO_PASIDDIRPTR_MASK);
	const uint64_t *pe = port_phys_to_virt(dir[0] & VTD_PASIDDIR_PTP_MASK);
	assert_int_equal(pe[0] & VTD_GENMASK(11, 0), VTD_PASID_Q0_PGTT(VTD_PGTT_FL) |
							  VTD_PASID_Q0_AW(2) | VTD_PASID_Q0_P);
	assert_int_equal(pe[0] & VTD_PASID_Q0_SLPTPTR_MASK, 0);
	assert_int_equal(pe[1], d.did);
	assert_int_equal(pe[2], port_virt_to_phys(d.top));
	/* one unmap, one PASID-based IOTLB invalidation (6.5.2.4): page-selective
	 * within RID_PASID 0 of the domain */
	unsigned from = model.ndescs;
	assert_int_equal(vtd_domain_unmap(&d, iova, 8192, NULL), 0);
	assert_int_equal(model.ndescs, from + 2);
	struct vtd_desc inv = model.descs[from];
	assert_int_equal(inv.lo, VTD_DESC_PIOTLB | VTD_DESC_PIOTLB_G(VTD_PIOTLB_PAGE) |
				 VTD_DESC_PIOTLB_DID(d.did) | VTD_DESC_PIOTLB_PASID(0));
	assert_int_equal(inv.hi, iova | 1);   /* 2 pages: AM 1 */
	assert_int_equal(vtd_domain_translate(&d, iova, NULL, NULL, NULL), -PORT_ENOENT);
	assert_int_equal(vtd_ctx_detach(&unit, 2, 0x10), 0);
	vtd_domain_destroy(&d);
}

/* --- RMRR identity maps ----------------------------------------------------- */

static void le(uint8_t *b, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/* A DMAR (8.1) with an INCLUDE_PCI_ALL DRHD and two RMRRs (8.4): a 2 MiB one
 * for 00:02.0 and a 128 KiB one for 00:14.0, each with one endpoint scope. */
static size_t dmar_with_rmrrs(uint8_t *b)
{
	static const struct { uint64_t base, limit; uint8_t dev; } r[2] = {
		{ 0x7c000000, 0x7c1fffff, 0x02 }, { 0xe0000, 0xfffff, 0x14 } };
	memset(b, 0, 256);
	memcpy(b, "DMAR", 4);
	b[8] = 1;
	b[36] = 38;                       /* host address width 39 */
	size_t len = 48;
	le(b, len, 0, 2);                 /* 8.3 DRHD, INCLUDE_PCI_ALL, no scopes */
	le(b, len + 2, 16, 2);
	b[len + 4] = 1;
	le(b, len + 8, BASE, 8);
	len += 16;
	for (unsigned i = 0; i < 2; i++) {
		le(b, len, 1, 2);         /* 8.4 RMRR + an endpoint scope (8.3.1) */
		le(b, len + 2, 24 + 8, 2);
		le(b, len + 8, r[i].base, 8);
		le(b, len + 16, r[i].limit, 8);
		b[len + 24] = 1;
		b[len + 25] = 8;
		b[len + 30] = r[i].dev;
		len += 32;
	}
	le(b, 4, len, 4);
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	b[9] = (uint8_t)(0x100 - sum);
	return len;
}

static int pci_probe(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	(void)ctx;
	return seg == 0 && bus == 0 && fn == 0 && (dev == 2 || dev == 3 || dev == 0x14) ? 0 : -1;
}

static void rmrr_identity_maps(void **state)
{
	(void)state;
	static struct dmar_info info;
	uint8_t table[256];
	size_t len = dmar_with_rmrrs(table);
	assert_int_equal(dmar_parse(table, len, 0, &info), 0);
	assert_int_equal(info.nrmrr, 2);
	const uint16_t gpu = VTD_SID(0, 2, 0), usb = VTD_SID(0, 0x14, 0), nic = VTD_SID(0, 3, 0);
	/* which RMRR names a device: what `vfctl assign` refuses on */
	assert_int_equal(dmar_rmrr_for_device(&info, 0, 0, gpu, pci_probe, NULL), 0);
	assert_int_equal(dmar_rmrr_for_device(&info, 1, 0, gpu, pci_probe, NULL), -PORT_ENOENT);
	assert_int_equal(dmar_rmrr_for_device(&info, 0, 0, usb, pci_probe, NULL), 1);
	assert_int_equal(dmar_rmrr_for_device(&info, 0, 0, nic, pci_probe, NULL), -PORT_ENOENT);
	assert_int_equal(dmar_rmrr_for_device(&info, 0, 1, gpu, pci_probe, NULL), -PORT_ENOENT);

	start(vtd_model_qemu_cap(39, false), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_int_equal(vtd_domain_map_rmrrs(&d, &info, 0, nic, pci_probe, NULL), 0);
	assert_int_equal(d.table_pages, 1);
	assert_int_equal(vtd_domain_map_rmrrs(&d, &info, 0, gpu, pci_probe, NULL), 1);
	/* mapped before the context entry is live: the device's first DMA hits it */
	assert_int_equal(vtd_ctx_attach(&unit, 0, 2 << 3, &d, VTD_TT_UNTRANSLATED), 0);
	uint64_t hpa, size;
	assert_int_equal(vtd_model_translate(&model, gpu, 0x7c123456, true, &hpa), 0);
	assert_int_equal(hpa, 0x7c123456);
	assert_int_equal(vtd_model_translate(&model, gpu, 0x7c1ff000, false, &hpa), 0);
	assert_int_equal(vtd_model_translate(&model, gpu, 0x7c200000, false, &hpa), 0x6);
	assert_int_equal(vtd_model_translate(&model, gpu, 0xe0000, false, &hpa), 0x6);
	assert_int_equal(vtd_domain_translate(&d, 0x7c000000, &hpa, NULL, &size), 0);
	assert_int_equal(size, 2 * MiB);   /* superpages by alignment, as any map */
	/* again (a second attach of the same device): nothing changes */
	unsigned long pages = d.table_pages;
	assert_int_equal(vtd_domain_map_rmrrs(&d, &info, 0, gpu, pci_probe, NULL), 1);
	assert_int_equal(d.table_pages, pages);
	assert_int_equal(vtd_domain_map_rmrrs(&d, &info, 0, usb, pci_probe, NULL), 1);
	assert_int_equal(vtd_domain_translate(&d, 0xfffff, &hpa, NULL, NULL), 0);
	assert_int_equal(hpa, 0xfffff);
	assert_int_equal(vtd_ctx_detach(&unit, 0, 2 << 3), 0);
	vtd_domain_destroy(&d);
	/* a domain that maps the range elsewhere: refused, not silently kept */
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	assert_int_equal(vtd_domain_map(&d, 0xf0000, 0x200000, 4096, VTD_MAP_READ), 0);
	assert_int_equal(vtd_domain_map_rmrrs(&d, &info, 0, usb, pci_probe, NULL), -PORT_EEXIST);
	assert_int_equal(vtd_domain_translate(&d, 0xe0000, NULL, NULL, NULL), -PORT_ENOENT);
	vtd_domain_destroy(&d);
}

/* --- the property test ----------------------------------------------------- */

#define WIN_PAGES (1u << 19)   /* a 2 GiB window at 4 GiB */
#define WIN_BASE (4 * GiB)
static uint64_t ref[WIN_PAGES];   /* 0 = unmapped, else hpa | 1 (R) | 2 (W) */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_page(struct vtd_domain *d, unsigned p, uint16_t sid)
{
	uint64_t iova = WIN_BASE + (uint64_t)p * 4096, hpa;
	unsigned flags;
	int rc = vtd_domain_translate(d, iova + 0x123, &hpa, &flags, NULL);
	if (!ref[p]) {
		assert_int_equal(rc, -PORT_ENOENT);
		assert_int_equal(vtd_model_translate(&model, sid, iova, false, &hpa), 0x6);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(hpa, (ref[p] & ~0xfffull) + 0x123);
	assert_int_equal(flags, ref[p] & 3);
	/* the hardware's view agrees */
	uint64_t hw;
	int want_read = (ref[p] & 1) ? 0 : 0x6, want_write = (ref[p] & 2) ? 0 : 0x5;
	assert_int_equal(vtd_model_translate(&model, sid, iova + 8, false, &hw), want_read);
	if (!want_read)
		assert_int_equal(hw, (ref[p] & ~0xfffull) + 8);
	assert_int_equal(vtd_model_translate(&model, sid, iova, true, &hw), want_write);
}

static void random_map_unmap_matches_reference(void **state)
{
	(void)state;
	start(vtd_model_qemu_cap(39, true), vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 39), 0);
	const uint16_t sid = VTD_SID(0, 3, 0);
	assert_int_equal(vtd_ctx_attach(&unit, 0, 3 << 3, &d, VTD_TT_UNTRANSLATED), 0);
	memset(ref, 0, sizeof(ref));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned maps = 0, exists = 0, unmaps = 0;
	for (unsigned op = 0; op < 20000; op++) {
		uint64_t r = rnd(&seed);
		unsigned kind = r % 100;
		if (kind < 60) {   /* map */
			unsigned npages, p;
			uint64_t hpa;
			if (kind < 40) {
				npages = 1 + (unsigned)(rnd(&seed) % 32);
				p = (unsigned)(rnd(&seed) % (WIN_PAGES - npages));
				hpa = (rnd(&seed) % (1ull << 26)) << 12;
			} else if (kind < 58) {
				npages = 512 * (1 + (unsigned)(rnd(&seed) % 3));
				p = 512 * (unsigned)(rnd(&seed) % (WIN_PAGES / 512 - 3));
				hpa = (rnd(&seed) % (1ull << 17)) << 21;
				if (rnd(&seed) % 4 == 0)
					hpa += 4096;   /* misaligned: must fall back to 4K */
			} else {
				npages = 1u << 18;
				p = (1u << 18) * (unsigned)(rnd(&seed) % 2);
				hpa = (rnd(&seed) % 64) << 30;
			}
			unsigned prot = 1 + (unsigned)(rnd(&seed) % 3);
			bool clash = false;
			for (unsigned i = 0; i < npages && !clash; i++)
				clash = ref[p + i] != 0;
			int rc = vtd_domain_map(&d, WIN_BASE + (uint64_t)p * 4096, hpa,
						(uint64_t)npages * 4096, prot);
			if (clash) {
				assert_int_equal(rc, -PORT_EEXIST);
				exists++;
			} else {
				assert_int_equal(rc, 0);
				for (unsigned i = 0; i < npages; i++)
					ref[p + i] = (hpa + (uint64_t)i * 4096) | prot;
				maps++;
			}
			check_page(&d, p, sid);
			check_page(&d, p + npages - 1, sid);
		} else {   /* unmap */
			unsigned npages = kind < 95 ? 1 + (unsigned)(rnd(&seed) % 1024)
						    : 1 + (unsigned)(rnd(&seed) % (1u << 18));
			unsigned p = (unsigned)(rnd(&seed) % (WIN_PAGES - npages));
			uint64_t want = 0;
			for (unsigned i = 0; i < npages; i++) {
				want += ref[p + i] ? 4096 : 0;
				ref[p + i] = 0;
			}
			struct vtd_unmap_result res;
			assert_int_equal(vtd_domain_unmap(&d, WIN_BASE + (uint64_t)p * 4096,
							  (uint64_t)npages * 4096, &res), 0);
			assert_int_equal(res.bytes, want);
			unmaps++;
			if (p)
				check_page(&d, p - 1, sid);
			check_page(&d, p, sid);
			check_page(&d, p + npages, sid);
		}
		for (unsigned k = 0; k < 4; k++)
			check_page(&d, (unsigned)(rnd(&seed) % WIN_PAGES), sid);
		if (op % 5000 == 4999)
			for (unsigned p = 0; p < WIN_PAGES; p += 7)
				check_page(&d, p, sid);
	}
	assert_true(maps > 1000 && unmaps > 1000 && exists > 10);
	/* unmap everything: only the top table remains */
	struct vtd_unmap_result res;
	assert_int_equal(vtd_domain_unmap(&d, WIN_BASE, (uint64_t)WIN_PAGES * 4096, &res), 0);
	assert_int_equal(d.table_pages, 1);
	assert_int_equal(vtd_ctx_detach(&unit, 0, 3 << 3), 0);
	vtd_domain_destroy(&d);
	print_message("# %u maps, %u refused overlaps, %u unmaps\n", maps, exists, unmaps);
}

static void five_level_domain(void **state)
{
	(void)state;
	uint64_t cap = (vtd_model_qemu_cap(48, false) & ~VTD_GENMASK(21, 8)) |
		       vtd_make(56, 21, 16) | vtd_make(0x8, 12, 8);   /* MGAW 57, SAGAW 57 */
	start(cap, vtd_model_qemu_ecap(false, false, false, false));
	struct vtd_domain d;
	assert_int_equal(vtd_domain_init(&d, &unit, 32), 0);   /* only 5-level offered */
	assert_int_equal(d.levels, 5);
	assert_int_equal(d.aw, 3);
	uint64_t iova = (1ull << 56) | (1ull << 47) | 0x5000;
	assert_int_equal(vtd_domain_map(&d, iova, 0x7000, 4096, VTD_MAP_READ), 0);
	assert_true(d.top[256] & VTD_SLPTE_R);
	assert_true(table(d.top[256])[256] & VTD_SLPTE_R);
	assert_int_equal(vtd_ctx_attach(&unit, 1, 0, &d, VTD_TT_UNTRANSLATED), 0);
	uint64_t hpa;
	assert_int_equal(vtd_model_translate(&model, VTD_SID(1, 0, 0), iova + 4, false, &hpa), 0);
	assert_int_equal(hpa, 0x7004);
	assert_int_equal(vtd_ctx_detach(&unit, 1, 0), 0);
	vtd_domain_destroy(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(agaw_selection, setup, teardown),
		cmocka_unit_test_setup_teardown(pte_layout_bit_for_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(superpage_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(map_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_invalidates_the_iotlb, setup, teardown),
		cmocka_unit_test_setup_teardown(tables_released_after_the_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(range_calls_count_invalidations_and_flushes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(random_map_unmap_matches_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(five_level_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(per_page_hint_never_outlives_its_table, setup, teardown),
		cmocka_unit_test_setup_teardown(first_stage_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(rmrr_identity_maps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
