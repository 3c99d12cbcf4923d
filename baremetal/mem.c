/*
 * mem.c — the page pool and the attributes of the identity map.
 * Page-table entry bits: Intel SDM vol. 3A 4.5, tables 4-15 (PDPTE mapping
 * a 1 GiB page) and 4-17 (PDE mapping a 2 MiB page): P=bit 0, RW=1,
 * PWT=3, PCD=4, PS=7.
 */
#include "baremetal/mem.h"
#include "baremetal/cpu.h"
#include "port.h"

#define PAGE 4096ull
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)
#define MAX_CLAIMS 16

extern uint64_t boot_pdpt[512];
extern uint64_t boot_pd[4 * 512];

static const struct boot_info *info;
static uint64_t pool_next, pool_end;
static void *free_list;     /* freed pages, zeroed again when handed out */
static void *zeroed_list;   /* pages zeroed ahead (mem_pages_reserve) */
static uint64_t zeroed_count;
static uint64_t in_use;
static struct {
	uint64_t pa, len;
} claims[MAX_CLAIMS];
static unsigned nr_claims;

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool mem_is_ram(uint64_t pa, uint64_t len)
{
	/* Walk forward through RAM ranges covering pa (they may be adjacent). */
	uint64_t end = pa + len;
	bool progress = true;
	while (pa < end && progress) {
		progress = false;
		for (unsigned i = 0; i < info->nr_memmap; i++) {
			const struct boot_mem_range *r = &info->memmap[i];
			if (r->type == BOOT_MEM_RAM && r->addr <= pa && pa < r->addr + r->size) {
				pa = r->addr + r->size;
				progress = true;
			}
		}
	}
	return pa >= end;
}

static bool any_ram(uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < info->nr_memmap; i++) {
		const struct boot_mem_range *r = &info->memmap[i];
		if (r->type == BOOT_MEM_RAM && overlaps(pa, len, r->addr, r->size))
			return true;
	}
	return false;
}

static void set_attributes(void)
{
	/* 0..4 GiB: a 2 MiB page with no RAM in it is MMIO: uncached. */
	for (unsigned i = 0; i < 4 * 512; i++)
		if (!any_ram((uint64_t)i * SZ_2M, SZ_2M))
			boot_pd[i] |= PTE_PCD | PTE_PWT;
	/* 4..512 GiB with 1 GiB pages (CPUID.80000001H:EDX[26]): high RAM
	 * write-back, 64-bit BARs uncached. */
	uint32_t r[4];
	cpuid(0x80000000u, 0, r);
	if (r[0] >= 0x80000001u) {
		cpuid(0x80000001u, 0, r);
		if (r[3] & (1u << 26))
			for (unsigned i = 4; i < 512; i++) {
				uint64_t pa = (uint64_t)i * SZ_1G;
				boot_pdpt[i] = pa | PTE_P | PTE_RW | PTE_PS |
					       (any_ram(pa, SZ_1G) ? 0 : PTE_PCD | PTE_PWT);
			}
	}
	write_cr3(read_cr3()); /* flush the TLB */
}

int mem_init(const struct boot_info *bi)
{
	info = bi;
	set_attributes();
	uint64_t start = ((uint64_t)(uintptr_t)__image_end + PAGE - 1) & ~(PAGE - 1);
	/* The pool: the RAM range holding the image end, capped at the limit. */
	for (unsigned i = 0; i < bi->nr_memmap; i++) {
		const struct boot_mem_range *r = &bi->memmap[i];
		if (r->type != BOOT_MEM_RAM || start < r->addr || start >= r->addr + r->size)
			continue;
		pool_next = start;
		pool_end = (r->addr + r->size) & ~(PAGE - 1);
		if (pool_end > MEM_POOL_LIMIT)
			pool_end = MEM_POOL_LIMIT;
	}
	return pool_end > pool_next ? 0 : -PORT_ENOMEM;
}

/* A page off the free list, else from the untouched end of the pool. */
static void *take_page(void)
{
	void *p = free_list;
	if (p) {
		free_list = *(void **)p;
	} else if (pool_next + PAGE <= pool_end) {
		p = (void *)(uintptr_t)pool_next;
		pool_next += PAGE;
	}
	return p;
}

static void zero_page(void *p)
{
	uint64_t *q = p;
	for (unsigned i = 0; i < PAGE / 8; i++)
		q[i] = 0;
}

void *mem_page_alloc(void)
{
	void *p = zeroed_list;
	if (p) {
		zeroed_list = *(void **)p;
		*(void **)p = 0;   /* the link was the page's only non-zero word */
		zeroed_count--;
		in_use++;
		return p;
	}
	p = take_page();
	if (!p)
		return NULL;
	zero_page(p);
	in_use++;
	return p;
}

int mem_pages_reserve(uint64_t count)
{
	while (zeroed_count < count) {
		void *p = take_page();
		if (!p)
			return -PORT_ENOMEM;
		zero_page(p);
		*(void **)p = zeroed_list;
		zeroed_list = p;
		zeroed_count++;
	}
	return 0;
}

void mem_page_free(void *page)
{
	if (!page)
		return;
	*(void **)page = free_list;
	free_list = page;
	in_use--;
}

void *mem_pages_alloc(unsigned count)
{
	if (count == 1)
		return mem_page_alloc();
	void *p = mem_alloc_contig((uint64_t)count * PAGE, PAGE);
	if (p)
		in_use += count;
	return p;
}

void *mem_alloc_contig(uint64_t bytes, uint64_t align)
{
	if (align < PAGE || (align & (align - 1)) || (bytes & (PAGE - 1)) || bytes == 0)
		return NULL;
	uint64_t at = (pool_next + align - 1) & ~(align - 1);
	if (at + bytes > pool_end || at + bytes < at)
		return NULL;
	/* Pages skipped for alignment go to the free list. */
	for (uint64_t p = pool_next; p < at; p += PAGE) {
		*(void **)(uintptr_t)p = free_list;
		free_list = (void *)(uintptr_t)p;
	}
	pool_next = at + bytes;
	for (uint64_t p = at; p < at + bytes; p += PAGE)
		zero_page((void *)(uintptr_t)p);
	return (void *)(uintptr_t)at;
}

uint64_t mem_pages_in_use(void) { return in_use; }

int mem_claim(uint64_t pa, uint64_t len)
{
	if (len == 0 || pa + len < pa)
		return -PORT_EINVAL;
	if (!mem_is_ram(pa, len))
		return -PORT_ENOENT;
	uint64_t img = (uint64_t)(uintptr_t)__image_start;
	if (overlaps(pa, len, 0, MEM_POOL_LIMIT) || overlaps(pa, len, img, (uint64_t)(uintptr_t)__image_end - img))
		return -PORT_EBUSY;
	for (unsigned i = 0; i < nr_claims; i++)
		if (overlaps(pa, len, claims[i].pa, claims[i].len))
			return -PORT_EBUSY;
	if (nr_claims == MAX_CLAIMS)
		return -PORT_ENOSPC;
	claims[nr_claims].pa = pa;
	claims[nr_claims].len = len;
	nr_claims++;
	return 0;
}
