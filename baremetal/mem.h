/*
 * mem.h — physical memory of a bare-metal image.  Virtual == physical.
 *
 * The page pool is the RAM (per the boot memory map) from the end of the
 * image up to MEM_POOL_LIMIT (256 MiB), so every pool page is reachable by
 * edu's 28-bit DMA mask even with no IOMMU in the way.  port_page_alloc()
 * takes single pages from it; mem_alloc_contig() takes aligned runs.
 * RAM at or above MEM_POOL_LIMIT is never handed out by the pool: a test
 * that needs a specific physical range (a 1 GiB-aligned HPA) claims it.
 */
#ifndef VFS_BM_MEM_H
#define VFS_BM_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "baremetal/boot.h"

#define MEM_POOL_LIMIT (256ull << 20)

/* Build the pool; set the page attributes (RAM write-back, everything else
 * uncached) of the identity map 0..4 GiB, and map 4 GiB..512 GiB with
 * 1 GiB pages when the CPU has them.  0 or -PORT_ENOMEM (no pool). */
int mem_init(const struct boot_info *bi);

/* A zeroed 4 KiB page, or NULL.  Freed pages go back to the pool as they
 * are and are zeroed when handed out again, unless zeroed ahead. */
void *mem_page_alloc(void);
void mem_page_free(void *page);
/* Zero pages ahead until `count` are ready for mem_page_alloc.
 * 0 or -PORT_ENOMEM (the pool keeps what it zeroed). */
int mem_pages_reserve(uint64_t count);
/* `count` zeroed, contiguous, counted pages (freed one by one with
 * mem_page_free), or NULL. */
void *mem_pages_alloc(unsigned count);
/* `bytes` (a multiple of 4 KiB) of zeroed, `align`-aligned (power of two,
 * >= 4 KiB) contiguous pool memory, or NULL.  Never freed. */
void *mem_alloc_contig(uint64_t bytes, uint64_t align);
/* Pool pages currently handed out. */
uint64_t mem_pages_in_use(void);

/* Reserve [pa, pa+len) for the caller: it must be RAM in the memory map,
 * outside the pool and the image, and not claimed before.
 * 0, -PORT_ENOENT (not all RAM), -PORT_EBUSY (overlaps). */
int mem_claim(uint64_t pa, uint64_t len);

/* Is [pa, pa+len) entirely RAM in the boot memory map? */
bool mem_is_ram(uint64_t pa, uint64_t len);

#endif
