/*
 * vtd_bench — what a VT-d domain's page-table work costs, against the floor
 * the memory itself sets, all measured side by side in one run.
 *
 * The unit is a vtd_model (QEMU's CAP/ECAP) on the host port, *enabled*:
 * queued invalidation on, every IOTLB invalidation really submitted and
 * waited for.  Two units:
 *   - timing unit: ECAP.C = 1 (page walks snoop the caches, as on current
 *     server parts), CAP.CM = 0 (real hardware): no cache-line flushes, and
 *     a map needs no invalidation;
 *   - strict unit: ECAP.C = 0 and CAP.CM = 1 (QEMU's testbed setting): every
 *     changed line is written back with CLFLUSHOPT/CLFLUSH and every call
 *     is invalidated; it gives the invalidation and flush counts.
 *
 * Per repetition (REPS, interleaved, the order rotated each time):
 *   floor        zero, then fill, the same number of table pages the 1 GiB
 *                map needs (allocated once beforehand: same memory size)
 *   range map    1 GiB in 4 KiB PTEs, one vtd_domain_map call
 *   range unmap  the same 1 GiB, one vtd_domain_unmap call
 *   memset       a plain memset of the 2 MiB of PTE bytes
 *   page map     the same 1 GiB, one vtd_domain_map call per 4 KiB page
 *   page unmap   one vtd_domain_unmap call per page (each one invalidates)
 * A warm-up repetition first: afterwards the port's pool holds the table
 * pages as freed (dirty), so every timed map zeroes what it takes.
 *
 * Writes a JSON file (argv[1], default build/bench/vtd/bench.json) with
 * {min, median, max} per key, and prints the medians.  A benchmark, not a
 * test: it exits 0 unless the library fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommu/vtd_domain.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define GiB (1ull << 30)
#define REPS 7
#define BASE_T 0xfed90000ull   /* timing unit */
#define BASE_S 0xfed91000ull   /* strict unit */
#define IOVA GiB
#define HPA (4 * GiB)
#define PTES (GiB / 4096)
#define TABLES (PTES / 512 + 1)   /* 512 level-1 tables + their level-2 table */
#define FLAGS (VTD_MAP_READ | VTD_MAP_WRITE | VTD_MAP_NO_SUPER)

enum { FLOOR, RMAP, RUNMAP, MEMSET, PMAP, PUNMAP, NSTEPS };

struct series {
	const char *key;
	double v[4 * REPS];
	unsigned n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define BARRIER() __asm__ volatile("" ::: "memory")

static void fail(const char *what, int rc)
{
	fprintf(stderr, "bench-vtd: %s failed (%d)\n", what, rc);
	exit(1);
}

/* The floor: zero each page, then fill its 512 entries as the walker
 * would (level-1 leaves for all but the last page, pointers in the last). */
static double floor_ns(uint64_t **pages)
{
	uint64_t t0 = now_ns();
	for (unsigned p = 0; p < TABLES; p++) {
		uint64_t *t = pages[p];
		memset(t, 0, 4096);
		BARRIER();
		uint64_t v = p + 1 < TABLES ? (HPA + (uint64_t)p * (2ull << 20)) | 3
					    : (uint64_t)(uintptr_t)pages[0] | 3;
		for (unsigned j = 0; j < 512; j++, v += 4096)
			t[j] = v;
		BARRIER();
	}
	return (double)(now_ns() - t0);
}

static double memset_ns(uint8_t *buf, int r)
{
	uint64_t t0 = now_ns();
	memset(buf, r + 1, PTES * 8);
	BARRIER();
	return (double)(now_ns() - t0);
}

static unsigned iotlb_descs(const struct vtd_model *m, unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < m->ndescs && i < VTD_MODEL_MAX_DESCS; i++)
		n += (m->descs[i].lo & 0xf) == VTD_DESC_IOTLB;
	return n;
}

/* Lines of the invalidation queue the CPU wrote between two tails. */
static unsigned queue_lines(const struct vtd_unit *u, unsigned tail0)
{
	unsigned lines = 0, last = ~0u, slot = u->iq_dw ? 32 : 16, n = 4096 / slot;
	for (unsigned t = tail0; t != u->iq_tail; t = (t + 1) % n)
		for (unsigned b = 0; b < slot; b += 64 < slot ? 64 : slot)
			if ((t * slot + b) / 64 != last)
				last = (t * slot + b) / 64, lines++;
	return lines;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_of(struct series *s)
{
	qsort(s->v, s->n, sizeof(double), cmp);
	return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static void add(struct series *s, double v)
{
	if (s->n < 4 * REPS)
		s->v[s->n++] = v;
}

static void unit_up(struct vtd_model *m, struct vtd_unit *u, uint64_t base, bool coherent,
		    bool cm)
{
	uint64_t ecap = vtd_model_qemu_ecap(false, false, false, false) |
			(coherent ? VTD_ECAP_C : 0);
	vtd_model_init(m, base, vtd_model_qemu_cap(39, cm), ecap);
	vtd_model_install(m);
	int rc = vtd_unit_init(u, base, 0);
	if (!rc)
		rc = vtd_unit_enable(u);
	if (rc)
		fail("unit bring-up", rc);
}

/* The strict unit: one range map and one range unmap, counting IOTLB
 * invalidations and lines flushed against lines whose content the unit
 * reads (table lines changed, and the queue lines of the invalidation). */
static void strict_pass(struct vtd_model *m, struct vtd_unit *u, struct series *inv,
			struct series *fl)
{
	struct vtd_domain d;
	int rc = vtd_domain_init(&d, u, 39);
	if (rc)
		fail("strict domain", rc);
	for (int call = 0; call < 2; call++) {
		unsigned d0 = m->ndescs, tail0 = u->iq_tail;
		unsigned long l0 = port_host_lines_flushed(), pages0 = d.table_pages;
		rc = call == 0 ? vtd_domain_map(&d, IOVA, HPA, GiB, FLAGS)
			       : vtd_domain_unmap(&d, IOVA, GiB, NULL);
		if (rc)
			fail("strict range call", rc);
		/* map: every new table whole (zeroed, then filled) and one line of
		 * the top table; unmap: the one top-table line (tables dropped) */
		double touched = (call == 0 ? (double)(d.table_pages - pages0) * 64 : 0) + 1 +
				 queue_lines(u, tail0);
		add(inv, iotlb_descs(m, d0));
		add(fl, (double)(port_host_lines_flushed() - l0) / touched);
	}
	vtd_domain_destroy(&d);
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "build/bench/vtd/bench.json";
	static struct vtd_model mt, ms;
	struct vtd_unit ut, us;
	port_host_set_log_quiet(1);
	unit_up(&mt, &ut, BASE_T, true, false);
	unit_up(&ms, &us, BASE_S, false, true);

	uint64_t **pages = malloc(TABLES * sizeof(*pages));
	uint8_t *buf = aligned_alloc(4096, PTES * 8);
	if (!pages || !buf)
		fail("malloc", -PORT_ENOMEM);
	for (unsigned p = 0; p < TABLES; p++)
		if (!(pages[p] = aligned_alloc(4096, 4096)) || !memset(pages[p], 1, 4096))
			fail("malloc", -PORT_ENOMEM);
	memset(buf, 1, PTES * 8);

	static struct series s[] = {
		{ .key = "range_map_ns_per_pte" }, { .key = "range_map_vs_floor" },
		{ .key = "range_unmap_ns_per_pte" }, { .key = "range_unmap_vs_memset" },
		{ .key = "page_map_ns" }, { .key = "page_unmap_ns" },
		{ .key = "invalidations_per_range_call" }, { .key = "flushes_per_table_touched" },
		{ .key = "floor_ns_per_pte" }, { .key = "memset_ns_per_pte" },
	};
	enum { K_RMAP, K_RMAP_F, K_RUNMAP, K_RUNMAP_M, K_PMAP, K_PUNMAP, K_INV, K_FLUSH,
	       K_FLOOR, K_MEMSET };
	unsigned long tables = 0;

	for (int r = -1; r < REPS; r++) {
		double t[NSTEPS] = { 0 };
		struct vtd_domain d;
		int rc = vtd_domain_init(&d, &ut, 39);
		if (rc)
			fail("domain", rc);
		/* Steps rotate; range map precedes range unmap and page map
		 * precedes page unmap wherever the rotation puts them. */
		static const int order[][4] = { { FLOOR, RMAP, MEMSET, PMAP },
						{ RMAP, FLOOR, PMAP, MEMSET },
						{ MEMSET, PMAP, FLOOR, RMAP },
						{ PMAP, MEMSET, RMAP, FLOOR } };
		const int *o = order[(r + 4) % 4];
		for (int k = 0; k < 4; k++) {
			uint64_t t0;
			switch (o[k]) {
			case FLOOR:
				t[FLOOR] = floor_ns(pages);
				break;
			case MEMSET:
				t[MEMSET] = memset_ns(buf, r);
				break;
			case RMAP:
				t0 = now_ns();
				rc = vtd_domain_map(&d, IOVA, HPA, GiB, FLAGS);
				t[RMAP] = (double)(now_ns() - t0);
				if (rc)
					fail("range map", rc);
				tables = d.table_pages;
				t0 = now_ns();
				rc = vtd_domain_unmap(&d, IOVA, GiB, NULL);
				t[RUNMAP] = (double)(now_ns() - t0);
				if (rc || d.table_pages != 1)
					fail("range unmap", rc);
				break;
			case PMAP:
				t0 = now_ns();
				for (uint64_t i = 0; i < PTES && !rc; i++)
					rc = vtd_domain_map(&d, IOVA + i * 4096, HPA + i * 4096, 4096,
							    FLAGS);
				t[PMAP] = (double)(now_ns() - t0);
				if (rc)
					fail("page map", rc);
				t0 = now_ns();
				for (uint64_t i = 0; i < PTES && !rc; i++)
					rc = vtd_domain_unmap(&d, IOVA + i * 4096, 4096, NULL);
				t[PUNMAP] = (double)(now_ns() - t0);
				if (rc || d.table_pages != 1)
					fail("page unmap", rc);
				break;
			}
		}
		vtd_domain_destroy(&d);
		if (r < 0)
			continue;   /* warm-up */
		add(&s[K_RMAP], t[RMAP] / PTES);
		add(&s[K_RMAP_F], t[RMAP] / t[FLOOR]);
		add(&s[K_RUNMAP], t[RUNMAP] / PTES);
		add(&s[K_RUNMAP_M], t[RUNMAP] / t[MEMSET]);
		add(&s[K_PMAP], t[PMAP] / PTES);
		add(&s[K_PUNMAP], t[PUNMAP] / PTES);
		add(&s[K_FLOOR], t[FLOOR] / PTES);
		add(&s[K_MEMSET], t[MEMSET] / PTES);
		strict_pass(&ms, &us, &s[K_INV], &s[K_FLUSH]);
	}

	vtd_unit_fini(&ut);
	vtd_unit_fini(&us);
	vtd_model_uninstall_all();
	if (port_host_pages_in_use()) {
		fprintf(stderr, "bench-vtd: %ld pages leaked\n", port_host_pages_in_use());
		return 1;
	}

	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "{\n  \"sizes\": {\"range_bytes\": %llu, \"ptes\": %llu, \"pte_bytes\": %llu, "
		   "\"table_pages\": %lu, \"floor_pages\": %llu, \"page_calls\": %llu, "
		   "\"repetitions\": %d, \"levels\": 3},\n",
		(unsigned long long)GiB, (unsigned long long)PTES, (unsigned long long)PTES * 8,
		tables - 1, (unsigned long long)TABLES, (unsigned long long)PTES, REPS);
	printf("bench-vtd: 1 GiB in 4 KiB PTEs (%llu PTEs, %lu table pages), %d repetitions, "
	       "medians (min..max)\n", (unsigned long long)PTES, tables - 1, REPS);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		double med = median_of(&s[i]);
		fprintf(f, "  \"%s\": {\"min\": %.4f, \"median\": %.4f, \"max\": %.4f}%s\n", s[i].key,
			s[i].v[0], med, s[i].v[s[i].n - 1], i + 1 < sizeof(s) / sizeof(s[0]) ? "," : "");
		printf("bench-vtd:   %-30s %10.4f  (%.4f .. %.4f)\n", s[i].key, med, s[i].v[0],
		       s[i].v[s[i].n - 1]);
	}
	fprintf(f, "}\n");
	fclose(f);
	printf("bench-vtd: wrote %s\n", out);
	for (unsigned p = 0; p < TABLES; p++)
		free(pages[p]);
	free(pages);
	free(buf);
	return 0;
}
