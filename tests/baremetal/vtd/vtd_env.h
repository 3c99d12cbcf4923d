/*
 * vtd_env.h — what the VT-d conformance tests share: the variant this run
 * is on, the remapping unit, the two edu DMA masters, and helpers that make
 * the device do DMA and read back what the hardware recorded.
 */
#ifndef VFS_TEST_VTD_ENV_H
#define VFS_TEST_VTD_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "baremetal/edu.h"
#include "iommu/dmar.h"
#include "iommu/vtd_context.h"
#include "iommu/vtd_domain.h"
#include "iommu/vtd_fault.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"

#define PAGE_SZ 4096ull
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

/* Fault reasons (VT-d 7.1.3, table "Unrecoverable fault conditions"). */
#define FR_WRITE 0x05 /* write to a page without write permission (or not present) */
#define FR_READ 0x06  /* read of a page without read permission (or not present) */
/* Scalable-mode first-stage conditions (7.1.3, as QEMU 10 records them). */
#define FR_FS_NOT_PRESENT 0x71 /* first-stage paging entry not present */
#define FR_SM_WRITE 0x85       /* write to a page without write permission */

struct env {
	/* the variant, from the command line (aw=39|48 cm=on|off sm=on|off
	 * fs=on|off; fs: the unit offers first-stage translation only) */
	unsigned aw;
	bool cm, sm, fs;
	/* the fault reasons this variant's tables produce: a write / read of an
	 * unmapped IOVA, a write to a read-only page */
	uint8_t fr_np_write, fr_np_read, fr_ro_write;
	char name[32];
	const struct dmar_info *dmar; /* the ACPI DMAR, parsed by iommu/dmar */
	int drhd0, drhd1;             /* the DRHD (index) remapping edu0 / edu1 */
	uint64_t drhd_base;           /* edu0's DRHD register page */
	struct vtd_unit u;
	struct edu e0, e1;
	uint16_t sid0, sid1;
};

/* Variant from the command line, both edus bound, the DMAR parsed and the
 * DRHD that remaps edu0 found.
 * Bails out (the run fails) when any is missing. */
void env_init(struct env *v);

/* The unit brought up for DMA remapping with these vtd_unit_init flags:
 * 0 or -PORT_E*. */
int env_unit_up(struct env *v, unsigned flags);
void env_unit_down(struct env *v);

/* A pool page filled with the pattern of `seed`. */
void *page_fill(uint32_t seed);
void pattern_fill(void *p, uint64_t len, uint32_t seed);
bool pattern_check(const void *p, uint64_t len, uint32_t seed);
uint64_t pa(const void *p);

/* Device reads 4 KiB at IOVA `src` into its buffer (0 or -PORT_ETIMEDOUT). */
int dev_read(struct edu *e, uint64_t src);
/* Device writes its 4 KiB buffer to IOVA `dst`. */
int dev_write(struct edu *e, uint64_t dst);
/* Device reads `src`, then writes what it read to `sink`. */
int dev_copy(struct edu *e, uint64_t src, uint64_t sink);

/* Read and clear every pending fault (each logged as a diagnostic); returns
 * the count (or a negative error), the first one in *first when non-NULL. */
int faults_take(struct vtd_unit *u, struct vtd_fault *first);
/* Exactly one fault pending, from `sid` at the page of `iova`, of that type
 * and reason; it is cleared (and FSTS.PPF reads 0 afterwards). */
bool fault_is(struct vtd_unit *u, uint16_t sid, uint64_t iova, bool write, uint8_t reason, char *why,
	      unsigned why_len);

/* Walk the domain's second-level tables as the hardware does (VT-d 9.8):
 * the leaf entry for iova and its level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB),
 * or NULL when not present. */
uint64_t *slpt_leaf(const struct vtd_domain *d, uint64_t iova, unsigned *level);

/* bench.c: `bench=on` on the command line runs the walker's benchmark on
 * the unit instead of the conformance tests (one TAP test). */
void bench_qemu(struct env *v);

uint32_t reg32(const struct env *v, uint32_t off);
uint64_t reg64(const struct env *v, uint32_t off);

#endif
