/*
 * bench.c — `bench=on`: the VT-d range walker on QEMU's intel-iommu, the
 * unit enabled, every invalidation a real queued one the model processes.
 *
 * 64 MiB in 4 KiB PTEs (16 384 PTEs, 32 level-1 tables and their level-2
 * table): per repetition (BENCH_REPS after a warm-up, interleaved) the floor
 * (zero, then fill, the same number of pages, allocated once), a memset of
 * the PTE bytes, one range map and one range unmap, then one call per page.
 * Counts come from the unit itself: queue slots per range call (an IOTLB
 * descriptor and its wait = one invalidation).  Under TCG the nanoseconds
 * are emulated ones: the ratios are what carries over, and only roughly.
 *
 * No floating point here (-mgeneral-regs-only): figures are printed as
 * thousandths, one diagnostic line per key:
 *   # bench-vtd-qemu KEY MIN MEDIAN MAX
 * which `make bench-vtd` turns into build/bench/vtd/bench-qemu.json.
 */
#include "vtd_env.h"

#include "baremetal/clock.h"
#include "baremetal/libc.h"
#include "baremetal/mem.h"
#include "baremetal/tap.h"
#include "port.h"

#define BENCH_REPS 5
#define BENCH_LEN (64ull << 20)
#define BENCH_PTES (BENCH_LEN / PAGE_SZ)
#define BENCH_TABLES (BENCH_PTES / 512 + 1)
#define BENCH_IOVA SZ_1G
#define BENCH_HPA (4 * SZ_1G)

enum { K_RMAP, K_RMAP_F, K_RUNMAP, K_RUNMAP_M, K_PMAP, K_PUNMAP, K_INV, K_FLOOR, K_MEMSET, NKEYS };
static const char *const key[NKEYS] = {
	"range_map_ns_per_pte", "range_map_vs_floor", "range_unmap_ns_per_pte",
	"range_unmap_vs_memset", "page_map_ns", "page_unmap_ns", "invalidations_per_range_call",
	"floor_ns_per_pte", "memset_ns_per_pte",
};

static void sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static uint64_t floor_ns(uint64_t *const *pages)
{
	uint64_t t0 = clock_ns();
	for (unsigned p = 0; p < BENCH_TABLES; p++) {
		uint64_t *t = pages[p];
		memset(t, 0, PAGE_SZ);
		uint64_t e = p + 1 < BENCH_TABLES ? (BENCH_HPA + (uint64_t)p * SZ_2M) | 3 : pa(pages[0]) | 3;
		for (unsigned j = 0; j < 512; j++, e += PAGE_SZ)
			((volatile uint64_t *)t)[j] = e;
	}
	return clock_ns() - t0;
}

/* Queue slots the unit consumed since `tail`: descriptors + their waits. */
static unsigned slots_since(const struct vtd_unit *u, unsigned tail)
{
	unsigned n = u->iq_dw ? 128 : 256;
	return (u->iq_tail + n - tail) % n;
}

static void print_fixed(const char *k, const uint64_t *v)
{
	tap_diag("bench-vtd-qemu %s %llu.%03llu %llu.%03llu %llu.%03llu", k, (unsigned long long)(v[0] / 1000),
		 (unsigned long long)(v[0] % 1000), (unsigned long long)(v[BENCH_REPS / 2] / 1000),
		 (unsigned long long)(v[BENCH_REPS / 2] % 1000), (unsigned long long)(v[BENCH_REPS - 1] / 1000),
		 (unsigned long long)(v[BENCH_REPS - 1] % 1000));
}

void bench_qemu(struct env *v)
{
	int r = env_unit_up(v, 0);
	if (r)
		tap_bail("VT-d unit at 0x%llx did not come up (%d)", (unsigned long long)v->drhd_base, r);
	uint64_t *pages[BENCH_TABLES];
	for (unsigned p = 0; p < BENCH_TABLES; p++)
		if (!(pages[p] = mem_page_alloc()))
			tap_bail("no pool page for the floor");
	uint8_t *buf = mem_alloc_contig(BENCH_PTES * 8, PAGE_SZ);
	if (!buf)
		tap_bail("no pool memory for the memset");
	static uint64_t fig[NKEYS][BENCH_REPS];
	bool ok = v->u.qi_on;
	for (int rep = -1; rep < BENCH_REPS && ok; rep++) {
		struct vtd_domain d;
		if (vtd_domain_init(&d, &v->u, 39))
			tap_bail("vtd_domain_init failed");
		uint64_t t_floor = floor_ns(pages);
		uint64_t t0 = clock_ns();
		memset(buf, rep + 2, BENCH_PTES * 8);
		uint64_t t_memset = clock_ns() - t0;
		unsigned tail = v->u.iq_tail;
		t0 = clock_ns();
		ok &= vtd_domain_map(&d, BENCH_IOVA, BENCH_HPA, BENCH_LEN, VTD_MAP_READ | VTD_MAP_WRITE | VTD_MAP_NO_SUPER) == 0;
		uint64_t t_rmap = clock_ns() - t0;
		unsigned map_slots = slots_since(&v->u, tail);
		tail = v->u.iq_tail;
		t0 = clock_ns();
		ok &= vtd_domain_unmap(&d, BENCH_IOVA, BENCH_LEN, NULL) == 0;
		uint64_t t_runmap = clock_ns() - t0;
		unsigned unmap_slots = slots_since(&v->u, tail);
		t0 = clock_ns();
		for (uint64_t i = 0; i < BENCH_PTES && ok; i++)
			ok &= vtd_domain_map(&d, BENCH_IOVA + i * PAGE_SZ, BENCH_HPA + i * PAGE_SZ, PAGE_SZ,
					     VTD_MAP_READ | VTD_MAP_WRITE) == 0;
		uint64_t t_pmap = clock_ns() - t0;
		t0 = clock_ns();
		for (uint64_t i = 0; i < BENCH_PTES && ok; i++)
			ok &= vtd_domain_unmap(&d, BENCH_IOVA + i * PAGE_SZ, PAGE_SZ, NULL) == 0;
		uint64_t t_punmap = clock_ns() - t0;
		ok &= d.table_pages == 1;
		vtd_domain_destroy(&d);
		if (rep < 0)
			continue;
		/* thousandths: ns/PTE x 1000, ratios x 1000, invalidations x 1000
		 * (CM=1: the map is invalidated too; two slots per invalidation) */
		unsigned calls = v->u.caps.cm ? 2 : 1;
		fig[K_RMAP][rep] = t_rmap * 1000 / BENCH_PTES;
		fig[K_RMAP_F][rep] = t_floor ? t_rmap * 1000 / t_floor : 0;
		fig[K_RUNMAP][rep] = t_runmap * 1000 / BENCH_PTES;
		fig[K_RUNMAP_M][rep] = t_memset ? t_runmap * 1000 / t_memset : 0;
		fig[K_PMAP][rep] = t_pmap * 1000 / BENCH_PTES;
		fig[K_PUNMAP][rep] = t_punmap * 1000 / BENCH_PTES;
		fig[K_INV][rep] = (uint64_t)(map_slots + unmap_slots) * 1000 / 2 / calls;
		fig[K_FLOOR][rep] = t_floor * 1000 / BENCH_PTES;
		fig[K_MEMSET][rep] = t_memset * 1000 / BENCH_PTES;
	}
	if (ok)
		for (unsigned k = 0; k < NKEYS; k++) {
			sort(fig[k], BENCH_REPS);
			print_fixed(key[k], fig[k]);
		}
	tap_ok(ok, "bench: 64 MiB in 4 KiB PTEs, range and per-page map/unmap, %d repetitions on the enabled unit "
	       "(CAP.CM %u)", BENCH_REPS, v->u.caps.cm);
	env_unit_down(v);
}
