/*
 * vtd_model.h — a register-level model of a VT-d remapping unit for host
 * unit tests, on the host port's MMIO hook (port_host_set_mmio).
 *
 *   struct vtd_model m;
 *   vtd_model_init(&m, 0xfed90000, vtd_model_qemu_cap(48, true),
 *                  vtd_model_qemu_ecap(true, false, true, false));
 *   vtd_model_install(&m);               // several models may be installed
 *   ... drive the library at 0xfed90000, assert on m's registers and logs ...
 *   vtd_model_uninstall_all();
 *
 * What it does, like QEMU's intel_iommu (the conformance image's target):
 *  - GCMD -> GSTS: TE/QIE/IRE/CFI/EAFL follow; SRTP/SIRTP/SFL latch RTADDR /
 *    IRTA and set RTPS/IRTPS/FLS; WBF completes at once.  Bits in
 *    `stuck_gsts` never follow (a broken unit).
 *  - CCMD / IOTLB_REG (at ECAP.IRO): ICC / IVT clear with CAIG / IAIG set,
 *    unless ccmd_stuck / iotlb_stuck; each request is recorded.
 *  - Queued invalidation: an IQT write processes descriptors from IQH
 *    (unless qi_stuck).  Every descriptor is recorded in descs[]; wait
 *    descriptors do their status write / set ICS.IWC.  A descriptor with an
 *    unknown type or a reserved bit set (QEMU's masks) stops the queue with
 *    FSTS.IQE and IQERCD; clearing IQE resumes.  ite_on_devtlb makes a
 *    device-TLB descriptor fail with FSTS.ITE; iqe_always rejects every
 *    descriptor (waits too), as a queue of the wrong width would.
 *  - Fault recording: vtd_model_inject_fault fills the next record, sets
 *    FSTS.PPF/FRI (PFO when it is still full) and raises the fault event
 *    (counted in fault_irqs) unless FECTL.IM.
 *  - vtd_model_translate walks the root/context/second-level tables in
 *    memory the way the unit would (legacy mode), checking reserved bits.
 */
#ifndef VFS_VTD_MODEL_H
#define VFS_VTD_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/vtd_unit.h"

#define VTD_MODEL_MAX_DESCS 4096
#define VTD_MODEL_MAX_REGINV 256

struct vtd_model {
	uint64_t base;                   /* register page physical address */
	unsigned char regs[0x1000];      /* register file (little endian) */
	/* failure modes */
	uint32_t stuck_gsts;             /* GSTS bits that never follow GCMD */
	bool ccmd_stuck, iotlb_stuck;    /* ICC / IVT never clear */
	bool qi_stuck;                   /* IQT accepted, nothing processed */
	bool ite_on_devtlb;              /* device-TLB descriptors time out */
	bool iqe_always;                 /* every descriptor is rejected with IQE */
	/* what the unit saw */
	unsigned gcmd_writes;
	uint32_t gcmd_last;
	uint64_t rtaddr_latched, irta_latched;   /* at the last SRTP / SIRTP */
	struct vtd_desc descs[VTD_MODEL_MAX_DESCS];  /* processed descriptors, waits too */
	unsigned ndescs;
	uint64_t ccmd_log[VTD_MODEL_MAX_REGINV];     /* CCMD values written with ICC */
	unsigned nccmd;
	uint64_t iotlb_log[VTD_MODEL_MAX_REGINV][2]; /* {IOTLB_REG with IVT, IVA} */
	unsigned niotlb;
	unsigned fault_irqs;             /* fault events raised */
	unsigned next_fr;                /* next fault record the unit fills */
};

/* CAP/ECAP as QEMU 10 builds them: aw_bits 39 (SAGAW 39) or 48 (39 and 48),
 * ND=6, MAMV 18, PSI, 2M+1G SLLPS, FRO 0x220 with one record, CM optional;
 * ECAP QI, IRO 0x200, IR+EIM, DT, PT, scalable (SMTS/SRS/SLTS) optional. */
uint64_t vtd_model_qemu_cap(unsigned aw_bits, bool caching_mode);
uint64_t vtd_model_qemu_ecap(bool intremap, bool device_iotlb, bool pt, bool scalable);

void vtd_model_init(struct vtd_model *m, uint64_t base, uint64_t cap, uint64_t ecap);
void vtd_model_install(struct vtd_model *m);   /* up to 8 at once */
void vtd_model_uninstall_all(void);

uint32_t vtd_model_reg32(const struct vtd_model *m, unsigned off);
uint64_t vtd_model_reg64(const struct vtd_model *m, unsigned off);

/* Record a primary fault; returns the record index, or -1 on overflow (PFO).
 * For an interrupt-remapping reason (0x20-0x27) addr is the interrupt index. */
int vtd_model_inject_fault(struct vtd_model *m, uint16_t sid, uint64_t addr,
			   uint8_t reason, bool write);

/* Translate a DMA from sid at iova as the unit would (legacy mode): 0 and
 * *hpa, or the fault reason the unit would record (7.1.3). */
int vtd_model_translate(const struct vtd_model *m, uint16_t sid, uint64_t iova,
			bool write, uint64_t *hpa);

#endif /* VFS_VTD_MODEL_H */
