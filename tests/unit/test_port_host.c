/* The host port itself: what every other unit test stands on. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "port.h"
#include "port/host/port_host.h"

static void page_alloc_is_zeroed_aligned_and_counted(void **state)
{
	(void)state;
	long before = port_host_pages_in_use();
	unsigned char *p = port_page_alloc();
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % PORT_PAGE_SIZE, 0);
	for (unsigned i = 0; i < PORT_PAGE_SIZE; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(port_host_pages_in_use(), before + 1);
	assert_ptr_equal(port_phys_to_virt(port_virt_to_phys(p)), p);
	port_page_free(p);
	assert_int_equal(port_host_pages_in_use(), before);
}

static void page_alloc_failure_injection(void **state)
{
	(void)state;
	port_host_fail_page_allocs_after(1);
	void *a = port_page_alloc();
	assert_non_null(a);
	assert_null(port_page_alloc());
	port_host_fail_page_allocs_after(-1);
	void *b = port_page_alloc();
	assert_non_null(b);
	port_page_free(a);
	port_page_free(b);
}

/* The pool: a freed page comes back dirty and is zeroed when handed out
 * again; a reserve fills it ahead; the free hook sees every release. */
static unsigned hook_calls;
static void *hook_page;
static void on_free(void *ctx, void *page, unsigned count)
{
	(void)ctx;
	(void)count;
	hook_calls++;
	hook_page = page;
}

static void pool_reuses_dirty_pages_zeroed(void **state)
{
	(void)state;
	long before = port_host_pages_in_use();
	assert_int_equal(port_pages_reserve(100), 0);
	assert_int_equal(port_host_pages_in_use(), before);   /* reserved is not in use */
	unsigned char *p = port_page_alloc();
	assert_non_null(p);
	memset(p, 0xa5, PORT_PAGE_SIZE);
	port_host_set_page_free_hook(on_free, NULL);
	port_page_free(p);
	port_host_set_page_free_hook(NULL, NULL);
	assert_int_equal(hook_calls, 1);
	assert_ptr_equal(hook_page, p);
	/* the dirty page is handed out again, zeroed */
	unsigned char *q[200];
	bool seen = false;
	for (unsigned i = 0; i < 200; i++) {
		q[i] = port_page_alloc();
		assert_non_null(q[i]);
		for (unsigned k = 0; k < PORT_PAGE_SIZE; k++)
			assert_int_equal(q[i][k], 0);
		seen |= q[i] == p;
	}
	assert_true(seen);
	assert_int_equal(port_host_pages_in_use(), before + 200);
	for (unsigned i = 0; i < 200; i++)
		port_page_free(q[i]);
	assert_int_equal(port_host_pages_in_use(), before);
}

static void cache_flush_counts_lines(void **state)
{
	(void)state;
	static unsigned char buf[4096] __attribute__((aligned(64)));
	unsigned long l0 = port_host_lines_flushed();
	port_cache_flush(buf, 8);
	assert_int_equal(port_host_lines_flushed() - l0, 1);
	port_cache_flush(buf + 60, 8);   /* straddles two lines */
	assert_int_equal(port_host_lines_flushed() - l0, 3);
	port_cache_flush(buf, sizeof(buf));
	assert_int_equal(port_host_lines_flushed() - l0, 3 + 64);
	port_cache_flush(buf, 0);
	assert_int_equal(port_host_lines_flushed() - l0, 3 + 64);
}

static uint64_t last_pa, last_val;
static uint64_t reg_read(void *ctx, uint64_t pa, unsigned size)
{
	(void)ctx;
	return pa + size;
}
static void reg_write(void *ctx, uint64_t pa, uint64_t val, unsigned size)
{
	(void)ctx; (void)size;
	last_pa = pa;
	last_val = val;
}

static void mmio_goes_to_the_model_or_floats(void **state)
{
	(void)state;
	assert_int_equal(port_mmio_read32(0x1000), 0xffffffffu);
	struct port_host_mmio_ops ops = { reg_read, reg_write, NULL };
	port_host_set_mmio(&ops);
	assert_int_equal(port_mmio_read32(0x1000), 0x1004);
	assert_int_equal(port_mmio_read64(0x2000), 0x2008);
	port_mmio_write64(0x3000, 0xdeadbeefcafe);
	assert_int_equal(last_pa, 0x3000);
	assert_int_equal(last_val, 0xdeadbeefcafe);
	port_host_set_mmio(NULL);
}

static void fake_clock_steps(void **state)
{
	(void)state;
	port_host_set_clock_step(1000);
	uint64_t a = port_time_ns(), b = port_time_ns();
	assert_int_equal(b - a, 1000);
	port_host_set_clock_step(0);
	a = port_time_ns();
	b = port_time_ns();
	assert_true(b >= a);
}

static void log_formats_and_keeps_last_line(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	port_log("vtd%u: reg %#x = %llx", 2u, 0x1c, 0xabcull);
	assert_string_equal(port_host_last_log(), "vtd2: reg 0x1c = abc");
	port_host_set_log_quiet(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_alloc_is_zeroed_aligned_and_counted),
		cmocka_unit_test(page_alloc_failure_injection),
		cmocka_unit_test(pool_reuses_dirty_pages_zeroed),
		cmocka_unit_test(cache_flush_counts_lines),
		cmocka_unit_test(mmio_goes_to_the_model_or_floats),
		cmocka_unit_test(fake_clock_steps),
		cmocka_unit_test(log_formats_and_keeps_last_line),
	};
	return cmocka_run_group_tests_name("port_host", tests, NULL, NULL);
}
