/*
 * vtd_context.h — root and context tables (VT-d 3.4, 9.1-9.4): attach a
 * PCI function to a domain, detach it, with the invalidations the spec
 * requires (6.5.3.3: device-selective context cache, then domain-selective
 * IOTLB; with CAP.CM also on not-present -> present).  Legacy mode, and
 * scalable mode (ECAP.SMTS) with a PASID table whose RID_PASID entry uses
 * second-level translation (PGTT=2).
 */
#ifndef VFS_VTD_CONTEXT_H
#define VFS_VTD_CONTEXT_H

#include <stdint.h>

#include "vtd_domain.h"
#include "vtd_unit.h"

#define VTD_SID(bus, dev, fn) ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))

/* Point requester bus:devfn at domain d.  tt: VTD_TT_UNTRANSLATED, or
 * VTD_TT_DEVTLB (needs ECAP.DT), or VTD_TT_PASSTHROUGH (needs ECAP.PT; the
 * domain only supplies the DID).  -PORT_EBUSY if already attached to
 * another domain (detach first); re-attaching to the same domain is 0. */
int vtd_ctx_attach(struct vtd_unit *u, uint8_t bus, uint8_t devfn,
		   const struct vtd_domain *d, unsigned tt);
/* Clear the context entry and invalidate.  -PORT_ENOENT if not attached. */
int vtd_ctx_detach(struct vtd_unit *u, uint8_t bus, uint8_t devfn);
/* The raw 128-bit context entry (legacy) or the first 128 bits of the
 * scalable-mode one; zeros when none. */
int vtd_ctx_read(const struct vtd_unit *u, uint8_t bus, uint8_t devfn,
		 uint64_t *lo, uint64_t *hi);

/* Used by vtd_unit_fini: free context tables (and PASID directories/tables)
 * reachable from the root table. */
void vtd_ctx_free_tables(struct vtd_unit *u);

#endif /* VFS_VTD_CONTEXT_H */
