/*
 * vtd_fault.h — primary fault recording (VT-d 7.2, 11.4.9): read and clear
 * the fault-recording registers, decode them (source-id, address, type,
 * reason and the reason's name from the spec), the fault-event interrupt
 * registers, and a rate limit so a fault storm cannot wedge the host.
 */
#ifndef VFS_VTD_FAULT_H
#define VFS_VTD_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "vtd_unit.h"

/* Faults logged per window before further ones are only counted. */
#define VTD_FAULT_DEFAULT_LIMIT 16u
#define VTD_FAULT_WINDOW_NS 1000000000ull   /* 1 s */

/* One decoded fault record (11.4.9.6). */
struct vtd_fault {
	unsigned index;        /* which fault-recording register */
	uint16_t sid;          /* requester id: bus << 8 | dev << 3 | fn */
	uint8_t reason;        /* FR: fault reason (7.1.3, 7.2 tables) */
	bool write;            /* T1=0: write request; T1=1: read */
	bool irq;              /* an interrupt-remapping fault (reason 0x20-0x27) */
	uint64_t addr;         /* DMA: faulting page address (FI) */
	unsigned ir_index;     /* IR: interrupt index (FI[63:48]) */
	unsigned at;           /* address type */
	bool pasid_present;
	uint32_t pasid;
};

/* The spec's name for a fault reason (7.1.3 DMA, 7.1.4 interrupt), e.g.
 * 0x05 "write access to a page without write permission", 0x21 "interrupt
 * index exceeds the interrupt remapping table size"; "reserved fault reason"
 * for codes the spec does not define. */
const char *vtd_fault_reason_name(unsigned reason);

/* Read every pending primary fault (FSTS.PPF) into out[0..max), clearing
 * each record's F bit, then FSTS.PFO.  Returns the number of faults read
 * (records beyond max stay pending), *overflow tells whether PFO was set. */
int vtd_fault_collect(struct vtd_unit *u, struct vtd_fault *out, unsigned max,
		      bool *overflow);

/* What a fault-event interrupt handler calls: collect, log each fault with
 * its name (at most u->fault_limit log lines per VTD_FAULT_WINDOW_NS; the rest
 * are counted in u->faults_suppressed), clear.  Returns faults handled. */
int vtd_fault_service(struct vtd_unit *u);

/* Fault-event interrupt (11.4.9.2-11.4.9.5): program FEDATA/FEADDR/FEUADDR
 * with the MSI the host wants, then unmask (FECTL.IM=0).  mask() sets IM. */
void vtd_fault_irq_setup(struct vtd_unit *u, uint64_t msi_addr, uint32_t msi_data);
void vtd_fault_irq_mask(struct vtd_unit *u, bool masked);

#endif /* VFS_VTD_FAULT_H */
