/*
 * port.h — the only way the freestanding modules (iommu/, irq_remap/, the
 * freestanding half of sriov/) reach the platform they run on.
 *
 * Three platforms implement it:
 *   - port/host/       host unit tests (pages from the heap, MMIO through a
 *                       hook so a test can model a device's registers);
 *   - baremetal/       the bare-metal images (identity-mapped memory, real MMIO);
 *   - the hosted KVM core links none of the freestanding VT-d code.
 *
 * The build checks (`make check-freestanding`) that a freestanding object
 * references no symbol but these `port_*` functions and the four the C
 * standard requires of a freestanding environment (memcpy, memmove, memset,
 * memcmp).  Only <stdint.h>, <stddef.h> and <stdbool.h> may be included.
 */
#ifndef VFS_PORT_H
#define VFS_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORT_PAGE_SIZE 4096u

/* Memory ---------------------------------------------------------------- */

/* A zeroed, 4 KiB-aligned 4 KiB page, or NULL when memory is exhausted.
 * Pages come from the port's page pool: a freed page goes back to the pool
 * as it is (the port zeroes it again when it hands it out), so freeing a
 * page-table page costs no more than dropping a pointer. */
void *port_page_alloc(void);
void port_page_free(void *page);

/* Fill the pool so that the next `count` port_page_alloc calls are served
 * without reaching the platform's allocator; pages added here are zeroed
 * ahead of time.  0 or -PORT_ENOMEM (the pool keeps what it got). */
int port_pages_reserve(unsigned count);

/* `count` zeroed pages, physically contiguous and 4 KiB-aligned, or NULL:
 * for structures the hardware wants in one piece that are larger than a
 * page (an interrupt-remapping table of more than 256 entries). */
void *port_pages_alloc(unsigned count);
void port_pages_free(void *first, unsigned count);

/* Host-physical address of a pointer returned by port_page_alloc (or of any
 * memory the platform can DMA to), and back. */
uint64_t port_virt_to_phys(const void *va);
void *port_phys_to_virt(uint64_t pa);

/* Write back (and invalidate) the cache lines covering [va, va+len): needed
 * when a remapping unit does not snoop its table walks (VT-d ECAP.C = 0). */
void port_cache_flush(const void *va, size_t len);

/* MMIO ------------------------------------------------------------------ */

/* Register access at a physical address (a DRHD register page, a config
 * space); the platform maps it.  Accesses are strongly ordered. */
uint32_t port_mmio_read32(uint64_t pa);
uint64_t port_mmio_read64(uint64_t pa);
void port_mmio_write32(uint64_t pa, uint32_t val);
void port_mmio_write64(uint64_t pa, uint64_t val);

/* Time and log ---------------------------------------------------------- */

/* A monotonic clock in nanoseconds, for bounding every wait. */
uint64_t port_time_ns(void);

/* One log line (no trailing newline).  Formats: %d %u %x %s %c %p and %%,
 * with an optional '0', a width, and the 'l' / 'll' length modifiers. */
void port_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Errors: functions return 0 or a negative errno.  The values are Linux's,
 * so hosted callers may hand them to strerror(). */
#define PORT_EPERM 1
#define PORT_ENOENT 2
#define PORT_EIO 5
#define PORT_E2BIG 7
#define PORT_EAGAIN 11
#define PORT_ENOMEM 12
#define PORT_EFAULT 14
#define PORT_EBUSY 16
#define PORT_EEXIST 17
#define PORT_ENODEV 19
#define PORT_EINVAL 22
#define PORT_ENOSPC 28
#define PORT_ERANGE 34
#define PORT_ENOTSUP 95
#define PORT_ETIMEDOUT 110

#endif /* VFS_PORT_H */
