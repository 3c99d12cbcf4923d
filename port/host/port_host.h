/*
 * port_host.h — the host implementation of port.h, for unit tests.
 *
 * Pages come from a pool over the heap and virtual == "physical" (the pointer value), so a
 * table built by a freestanding module can be walked directly by the test.
 * MMIO goes to a hook the test installs: a test models a device's registers
 * (a VT-d unit that sets GSTS after GCMD, say) in plain C.
 */
#ifndef VFS_PORT_HOST_H
#define VFS_PORT_HOST_H

#include <stddef.h>
#include <stdint.h>

struct port_host_mmio_ops {
	uint64_t (*read)(void *ctx, uint64_t pa, unsigned size);
	void (*write)(void *ctx, uint64_t pa, uint64_t val, unsigned size);
	void *ctx;
};

/* Install (or with NULL remove) the MMIO model.  With none, reads return
 * all-ones and writes are dropped, as on an empty bus. */
void port_host_set_mmio(const struct port_host_mmio_ops *ops);

/* Pages allocated and not yet freed: a test asserts 0 after teardown. */
long port_host_pages_in_use(void);

/* After N more successful allocations (port_page_alloc or port_pages_alloc
 * calls) every allocation fails, so a
 * test can drive a module's out-of-memory path; a negative N restores. */
void port_host_fail_page_allocs_after(long n);

/* Advance the clock port_time_ns() reports by this much on every read, so a
 * wait on a register that never changes times out quickly (0 = real clock). */
void port_host_set_clock_step(uint64_t ns);

/* Log lines go to stderr unless quiet; the last one is kept for asserts. */
void port_host_set_log_quiet(int quiet);
const char *port_host_last_log(void);

/* Cache lines port_cache_flush has written back since the start (it runs
 * CLFLUSHOPT / CLFLUSH for real): a test takes the difference. */
unsigned long port_host_lines_flushed(void);

/* Called on every port_page_free / port_pages_free before the page goes
 * back (NULL removes it): a test records when a table page was released. */
void port_host_set_page_free_hook(void (*fn)(void *ctx, void *page, unsigned count), void *ctx);

#endif /* VFS_PORT_HOST_H */
