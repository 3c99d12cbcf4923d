/*
 * port.c — port/port.h for bare metal: identity-mapped memory from the
 * pool (baremetal/mem.h), MMIO through the identity map (uncached outside
 * RAM), clflush (Intel SDM vol. 2A CLFLUSH; 64-byte lines), the TSC clock,
 * and log lines as TAP diagnostics ("# ...").
 */
#include <stdarg.h>

#include "baremetal/clock.h"
#include "baremetal/console.h"
#include "baremetal/mem.h"
#include "port.h"

#define CACHE_LINE 64u

void *port_page_alloc(void) { return mem_page_alloc(); }
void port_page_free(void *page) { mem_page_free(page); }
int port_pages_reserve(unsigned count) { return mem_pages_reserve(count); }
void *port_pages_alloc(unsigned count) { return mem_pages_alloc(count); }

void port_pages_free(void *first, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		mem_page_free((char *)first + (size_t)i * PORT_PAGE_SIZE);
}
uint64_t port_virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }
void *port_phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }

void port_cache_flush(const void *va, size_t len)
{
	uintptr_t p = (uintptr_t)va & ~(uintptr_t)(CACHE_LINE - 1);
	uintptr_t end = (uintptr_t)va + len;
	__asm__ volatile("mfence" ::: "memory");
	for (; p < end; p += CACHE_LINE)
		__asm__ volatile("clflush (%0)" : : "r"(p) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

uint32_t port_mmio_read32(uint64_t pa) { return *(volatile uint32_t *)(uintptr_t)pa; }
uint64_t port_mmio_read64(uint64_t pa) { return *(volatile uint64_t *)(uintptr_t)pa; }
void port_mmio_write32(uint64_t pa, uint32_t val) { *(volatile uint32_t *)(uintptr_t)pa = val; }
void port_mmio_write64(uint64_t pa, uint64_t val) { *(volatile uint64_t *)(uintptr_t)pa = val; }

uint64_t port_time_ns(void) { return clock_ns(); }

void port_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_write("# ", 2);
	console_vprintf(fmt, ap);
	console_putc('\n');
	va_end(ap);
}
