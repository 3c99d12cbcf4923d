/*
 * vtd_domain.h — a DMA-remapping domain: a domain id on a unit and the
 * page tables that translate its IOVAs: second-stage (VT-d 3.7, 9.8), or
 * first-stage (IA-32e format, 3.6, 9.7) on a scalable-mode unit that offers
 * only first-stage translation (ECAP.FLTS without ECAP.SLTS).
 *
 *   struct vtd_domain d;
 *   vtd_domain_init(&d, &unit, 39);                      // DID, AGAW, top table
 *   vtd_domain_map(&d, iova, hpa, len, VTD_MAP_READ | VTD_MAP_WRITE);
 *   vtd_domain_translate(&d, iova, &hpa, &prot, &page_size);  // software walk
 *   vtd_domain_unmap(&d, iova, len, &res);               // IOTLB invalidated
 *   vtd_domain_destroy(&d);                              // every table page freed
 */
#ifndef VFS_VTD_DOMAIN_H
#define VFS_VTD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "dmar.h"
#include "vtd_unit.h"

/* map flags */
#define VTD_MAP_READ (1u << 0)
#define VTD_MAP_WRITE (1u << 1)
#define VTD_MAP_SNOOP (1u << 2)     /* SLPTE.SNP; only when ECAP.SC */
#define VTD_MAP_NO_SUPER (1u << 3)  /* 4 KiB pages only, even when superpages fit */

struct vtd_domain {
	struct vtd_unit *unit;   /* DID owner and target of IOTLB invalidation */
	unsigned did;
	unsigned levels;         /* 3, 4 or 5 */
	unsigned aw;             /* context-entry AW code: 1, 2 or 3 (9.3) */
	unsigned width;          /* adjusted guest address width: 39, 48 or 57 */
	unsigned sllps;          /* superpage sizes used: bit 0 2 MiB, bit 1 1 GiB (CAP.SLLPS,
				    or for first-stage 2 MiB always and 1 GiB with CAP.FS1GP) */
	bool first_stage;        /* IA-32e tables, PGTT=1 in the PASID entry (9.6, 9.7) */
	bool coherent;           /* ECAP.C: no cache flushes needed */
	bool snoop;              /* ECAP.SC */
	uint64_t *top;           /* top-level table (SLPTPTR) */
	uint64_t *leaf_hint;     /* the level-1 table the last per-page map used */
	uint64_t leaf_hint_iova; /* and the 2 MiB it covers (cleared when a table goes) */
	unsigned long table_pages;  /* page-table pages in use, top included */
};

struct vtd_unmap_result {
	uint64_t bytes;              /* bytes that were mapped and now are not */
	unsigned long leaves;        /* leaf entries cleared (4K, 2M or 1G) */
	unsigned long tables_freed;  /* page-table pages freed */
};

/* Choose the AGAW (3.6, 11.4.2 SAGAW): the smallest width in {39, 48, 57}
 * that SAGAW supports and that covers want_bits (<= MGAW if mgaw != 0).
 * Returns the AW code 1..3 and *levels, or -PORT_ENOTSUP. */
int vtd_agaw_select(unsigned sagaw, unsigned mgaw, unsigned want_bits, unsigned *levels);

/* A domain on unit u for IOVAs below 2^addr_width: allocates a DID and the
 * top-level table.  -PORT_ENOTSUP when no supported AGAW covers the width.
 * On an enabled scalable-mode unit with first-stage but no second-stage
 * translation the tables are first-stage, 4 levels (48 bits); such a
 * domain maps nothing write-only (IA-32e has no write without read). */
int vtd_domain_init(struct vtd_domain *d, struct vtd_unit *u, unsigned addr_width);
/* Frees every table page and the DID.  Detach devices first. */
void vtd_domain_destroy(struct vtd_domain *d);

/* Map [iova, iova+len) to [hpa, hpa+len); page aligned.  Uses 2 MiB / 1 GiB
 * leaves where both addresses are aligned and CAP.SLLPS allows.  -PORT_EEXIST
 * if any part is already mapped (nothing changed), -PORT_ENOMEM (partial
 * work undone), -PORT_ERANGE beyond the AGAW.  With CAP.CM the new range is
 * invalidated (not-present -> present is cached); CAP.RWBF flushes. */
int vtd_domain_map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t len,
		   unsigned flags);
/* Unmap [iova, iova+len): holes are fine; a superpage only partly inside the
 * range is split.  Empty tables are freed.  IOTLB invalidated for the range.
 * res (may be NULL) says what was freed. */
int vtd_domain_unmap(struct vtd_domain *d, uint64_t iova, uint64_t len,
		     struct vtd_unmap_result *res);
/* Identity-map (IOVA = HPA, read/write) every RMRR (8.4) whose scope names
 * requester sid in segment, so the device's firmware-initiated DMA keeps
 * working: call it before vtd_ctx_attach makes the context entry live.
 * The number of RMRRs mapped (0: none names the device), or a negative
 * errno from vtd_domain_map (-PORT_ERANGE: the region is beyond the
 * domain's width; -PORT_EINVAL: not page aligned), logged naming the RMRR. */
int vtd_domain_map_rmrrs(struct vtd_domain *d, const struct dmar_info *info, uint16_t segment,
			 uint16_t sid, dmar_pci_probe_fn probe, void *ctx);
/* Software walk as the hardware would do it: *hpa, *flags (VTD_MAP_*),
 * *page_size of the leaf.  -PORT_ENOENT when not mapped. */
int vtd_domain_translate(const struct vtd_domain *d, uint64_t iova, uint64_t *hpa,
			 unsigned *flags, uint64_t *page_size);

#endif /* VFS_VTD_DOMAIN_H */
