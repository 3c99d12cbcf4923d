/* port_host.c — port.h on a Linux host, for unit tests. */
#define _POSIX_C_SOURCE 200809L
#include "port_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "port.h"

static const struct port_host_mmio_ops *mmio_ops;
static long pages_in_use;
static long fail_after = -1;
static uint64_t clock_step, fake_clock;
static int log_quiet;
static char last_log[512];

void *port_page_alloc(void) { return port_pages_alloc(1); }
void port_page_free(void *page) { port_pages_free(page, 1); }

void *port_pages_alloc(unsigned count)
{
	if (fail_after == 0 || count == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	void *p = aligned_alloc(PORT_PAGE_SIZE, (size_t)count * PORT_PAGE_SIZE);
	if (!p)
		return NULL;
	memset(p, 0, (size_t)count * PORT_PAGE_SIZE);
	pages_in_use += count;
	return p;
}

void port_pages_free(void *first, unsigned count)
{
	if (!first)
		return;
	pages_in_use -= count;
	free(first);
}

uint64_t port_virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }
void *port_phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
void port_cache_flush(const void *va, size_t len) { (void)va; (void)len; }

static uint64_t mmio_read(uint64_t pa, unsigned size)
{
	return mmio_ops ? mmio_ops->read(mmio_ops->ctx, pa, size) : ~0ull;
}

static void mmio_write(uint64_t pa, uint64_t val, unsigned size)
{
	if (mmio_ops)
		mmio_ops->write(mmio_ops->ctx, pa, val, size);
}

uint32_t port_mmio_read32(uint64_t pa) { return (uint32_t)mmio_read(pa, 4); }
uint64_t port_mmio_read64(uint64_t pa) { return mmio_read(pa, 8); }
void port_mmio_write32(uint64_t pa, uint32_t val) { mmio_write(pa, val, 4); }
void port_mmio_write64(uint64_t pa, uint64_t val) { mmio_write(pa, val, 8); }

uint64_t port_time_ns(void)
{
	if (clock_step)
		return fake_clock += clock_step;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void port_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	if (!log_quiet)
		fprintf(stderr, "# log: %s\n", last_log);
}

void port_host_set_mmio(const struct port_host_mmio_ops *ops) { mmio_ops = ops; }
long port_host_pages_in_use(void) { return pages_in_use; }
void port_host_fail_page_allocs_after(long n) { fail_after = n; }
void port_host_set_clock_step(uint64_t ns) { clock_step = ns; fake_clock = 0; }
void port_host_set_log_quiet(int quiet) { log_quiet = quiet; }
const char *port_host_last_log(void) { return last_log; }
