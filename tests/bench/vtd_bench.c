/*
 * vtd_bench — map and unmap 1 GiB of IOVA space in 4 KiB and in 2 MiB pages
 * (one vtd_domain_map / vtd_domain_unmap call per page) and compare with a
 * memset over the same number of PTE bytes, all in one run.  A benchmark,
 * not a test: it prints figures and exits 0 unless the library fails.
 *
 * Host build, host port.  The unit is a vtd_model with QEMU's CAP/ECAP that
 * is initialised but not enabled, so the figures are the page-table work
 * alone (no IOTLB invalidation, which costs what the hardware makes it cost).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommu/vtd_domain.h"
#include "iommu/vtd_unit.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define GiB (1ull << 30)
#define REPS 3

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile uint8_t sink;

/* Best of REPS: ns to memset `bytes` bytes of PTEs. */
static double memset_ns(size_t bytes)
{
	uint8_t *buf = aligned_alloc(4096, bytes < 4096 ? 4096 : bytes);
	double best = 1e18;
	for (int r = 0; r < REPS * 3; r++) {
		uint64_t t0 = now_ns();
		memset(buf, r + 1, bytes);
		sink = buf[bytes - 1];
		uint64_t t = now_ns() - t0;
		if (t < best)
			best = (double)t;
	}
	free(buf);
	return best;
}

static int run(struct vtd_unit *u, uint64_t page, const char *label)
{
	const uint64_t n = GiB / page;
	const unsigned flags = VTD_MAP_READ | VTD_MAP_WRITE | (page == 4096 ? VTD_MAP_NO_SUPER : 0);
	double best_map = 1e18, best_unmap = 1e18;
	unsigned long tables = 0;
	for (int r = 0; r < REPS; r++) {
		struct vtd_domain d;
		if (vtd_domain_init(&d, u, 39))
			return 1;
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < n; i++)
			if (vtd_domain_map(&d, GiB + i * page, 4 * GiB + i * page, page, flags))
				return 1;
		uint64_t t1 = now_ns();
		tables = d.table_pages;
		for (uint64_t i = 0; i < n; i++)
			if (vtd_domain_unmap(&d, GiB + i * page, page, NULL))
				return 1;
		uint64_t t2 = now_ns();
		if (d.table_pages != 1)
			return 1;
		vtd_domain_destroy(&d);
		if ((double)(t1 - t0) < best_map)
			best_map = (double)(t1 - t0);
		if ((double)(t2 - t1) < best_unmap)
			best_unmap = (double)(t2 - t1);
	}
	double ms = memset_ns(n * sizeof(uint64_t));
	printf("bench-vtd: 1 GiB in %s pages: %llu pages, %lu table pages\n", label,
	       (unsigned long long)n, tables);
	printf("bench-vtd:   map   %8.1f ns/page (%.2f ms total)\n", best_map / n, best_map / 1e6);
	printf("bench-vtd:   unmap %8.1f ns/page (%.2f ms total)\n", best_unmap / n,
	       best_unmap / 1e6);
	printf("bench-vtd:   memset of the same %llu PTE bytes: %.3f ns/PTE (%.1f us total)\n",
	       (unsigned long long)(n * 8), ms / n, ms / 1e3);
	printf("bench-vtd:   ratio map/memset %.0fx, unmap/memset %.0fx\n", best_map / ms,
	       best_unmap / ms);
	return 0;
}

int main(void)
{
	static struct vtd_model m;
	struct vtd_unit u;
	port_host_set_log_quiet(1);
	vtd_model_init(&m, 0xfed90000, vtd_model_qemu_cap(39, false),
		       vtd_model_qemu_ecap(true, false, false, false));
	vtd_model_install(&m);
	if (vtd_unit_init(&u, 0xfed90000, 0)) {
		fprintf(stderr, "bench-vtd: unit init failed\n");
		return 1;
	}
	printf("bench-vtd: best of %d runs each, one map/unmap call per page, 3-level tables\n",
	       REPS);
	int rc = run(&u, 4096, "4 KiB") || run(&u, 2ull << 20, "2 MiB");
	vtd_unit_fini(&u);
	vtd_model_uninstall_all();
	if (rc || port_host_pages_in_use()) {
		fprintf(stderr, "bench-vtd: library error or %ld pages leaked\n",
			port_host_pages_in_use());
		return 1;
	}
	return 0;
}
