/* port_host.c — port.h on a Linux host, for unit tests. */
#define _POSIX_C_SOURCE 200809L
#include "port_host.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "port.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p) ASAN_POISON_MEMORY_REGION((p), PORT_PAGE_SIZE)
#define UNPOISON(p) ASAN_UNPOISON_MEMORY_REGION((p), PORT_PAGE_SIZE)
#else
#define POISON(p) ((void)(p))
#define UNPOISON(p) ((void)(p))
#endif

#define POOL_CHUNK 64u   /* pages the pool takes from the heap at a time */

static const struct port_host_mmio_ops *mmio_ops;
static long pages_in_use;
static long fail_after = -1;
static uint64_t clock_step, fake_clock;
static int log_quiet;
static char last_log[512];
static unsigned long lines_flushed;
static void (*free_hook)(void *ctx, void *page, unsigned count);
static void *free_hook_ctx;

/* The page pool: zeroed pages ready to go, and freed pages not yet zeroed.
 * Pool pages are poisoned under AddressSanitizer, so a freed table that is
 * still touched is reported as a use after free. */
struct stack {
	void **v;
	size_t n, cap;
};
static struct stack clean, dirty;

static bool push(struct stack *s, void *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		void **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return false;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
	return true;
}

static bool pool_refill(unsigned count);
static bool allow_alloc(void);

void *port_page_alloc(void)
{
	if (!allow_alloc())
		return NULL;
	if (!clean.n && !dirty.n && !pool_refill(POOL_CHUNK))
		return NULL;
	void *p;
	if (clean.n) {
		p = clean.v[--clean.n];
		UNPOISON(p);
	} else {
		p = dirty.v[--dirty.n];
		UNPOISON(p);
		memset(p, 0, PORT_PAGE_SIZE);
	}
	pages_in_use++;
	return p;
}

void port_page_free(void *page)
{
	if (!page)
		return;
	if (free_hook)
		free_hook(free_hook_ctx, page, 1);
	pages_in_use--;
	if (push(&dirty, page))
		POISON(page);
	/* else: kept out of the pool (reachable from nowhere, a leak under
	 * LSan, but only when realloc of the pool's index failed) */
}

int port_pages_reserve(unsigned count)
{
	return clean.n + dirty.n >= count || pool_refill((unsigned)(count - clean.n - dirty.n))
		       ? 0 : -PORT_ENOMEM;
}

void *port_pages_alloc(unsigned count)
{
	if (count == 1)
		return port_page_alloc();
	if (count == 0 || !allow_alloc())
		return NULL;
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
	if (count == 1) {
		port_page_free(first);
		return;
	}
	if (free_hook)
		free_hook(free_hook_ctx, first, count);
	pages_in_use -= count;
	free(first);
}

uint64_t port_virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }
void *port_phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }

/* A real write-back: CLFLUSHOPT where CPUID.(EAX=7,ECX=0):EBX[23] says so,
 * else CLFLUSH, fenced on both sides (Intel SDM vol. 2A). */
void port_cache_flush(const void *va, size_t len)
{
	if (!len)
		return;
	uintptr_t p = (uintptr_t)va & ~(uintptr_t)63, end = (uintptr_t)va + len;
	lines_flushed += (end - p + 63) / 64;
#if defined(__x86_64__)
	static int opt = -1;
	if (opt < 0) {
		unsigned a, b, c, d;
		opt = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 23));
	}
	__asm__ volatile("mfence" ::: "memory");
	if (opt)
		for (; p < end; p += 64)
			__asm__ volatile("clflushopt (%0)" : : "r"(p) : "memory");
	else
		for (; p < end; p += 64)
			__asm__ volatile("clflush (%0)" : : "r"(p) : "memory");
	__asm__ volatile("mfence" ::: "memory");
#endif
}

/* One heap block of `count` pages, zeroed, all to the clean stack; the
 * blocks are never returned to the heap (the index keeps them reachable). */
static bool pool_refill(unsigned count)
{
	if (count < POOL_CHUNK)
		count = POOL_CHUNK;
	char *block = aligned_alloc(PORT_PAGE_SIZE, (size_t)count * PORT_PAGE_SIZE);
	if (!block)
		return false;
	memset(block, 0, (size_t)count * PORT_PAGE_SIZE);
	for (unsigned i = 0; i < count; i++) {
		if (!push(&clean, block + (size_t)i * PORT_PAGE_SIZE))
			return false;
		POISON(block + (size_t)i * PORT_PAGE_SIZE);
	}
	return true;
}

static bool allow_alloc(void)
{
	if (fail_after == 0)
		return false;
	if (fail_after > 0)
		fail_after--;
	return true;
}

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
unsigned long port_host_lines_flushed(void) { return lines_flushed; }

void port_host_set_page_free_hook(void (*fn)(void *ctx, void *page, unsigned count), void *ctx)
{
	free_hook = fn;
	free_hook_ctx = ctx;
}
