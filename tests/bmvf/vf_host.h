/*
 * vf_host.h — the host side of an igb VF on the bare-metal core, shared by
 * the bare-metal VF images (tests/bmvf: the igbvf test guest; tests/bmlinux:
 * the Linux guest): the VT-d unit with interrupt remapping, QEMU's igb PF
 * under baremetal/igb_pf with SR-IOV on, each VF's config space (the ECAM
 * page with the SR-IOV view on top), the bm_passthrough configuration of
 * VF 0, and VF 1 driven by the host itself: its rings in a domain of its
 * own, the PF's reset handshake, sending and receiving frames.
 */
#ifndef VFS_TESTS_BMVF_VF_HOST_H
#define VFS_TESTS_BMVF_VF_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "baremetal/igb.h"
#include "baremetal/igb_pf.h"
#include "baremetal/pci.h"
#include "iommu/dmar.h"
#include "iommu/vtd_unit.h"
#include "irq_remap/ir_table.h"
#include "sriov/sriov_cap.h"
#include "vmm_glue/dev/bm_passthrough.h"
#include "vmm_glue/svm/svm.h"

#define VFH_NUM_VFS 2u
#define VFH_VF_BAR0_BASE 0xe8000000ull   /* physical: where the PF's VF BAR0 goes */
#define VFH_VF_BAR3_BASE 0xe8100000ull   /* physical: VF BAR3 (MSI-X) */
#define VFH_HOST_VEC0 0x60u              /* physical: VF 0's MSI-X entry k -> 0x60 + k */
#define VFH_BUF 2048u                    /* a ring buffer of the host's VF */

/* A VF's config space: the ECAM page with the SR-IOV view on top. */
struct vf_cfg {
	struct pci_dev dev;           /* only .cfg is used */
	struct sriov_vf_view view;
};

struct vf_host {
	struct dmar_info dmar;
	struct vtd_unit unit;
	struct ir_table table;
	struct igb pfdev;
	uint64_t pf_bar0;
	struct igb_pf pf;
	struct sriov_cap scap;
	struct sriov_vf_bar vbars[SRIOV_NUM_BARS];
	uint16_t pf_rid, vf_rid[VFH_NUM_VFS];
	struct vf_cfg vcfg[VFH_NUM_VFS];
};
extern struct vf_host vfh;

/* The host's own VF (VF 1): ndesc TX and RX descriptors, VFH_BUF each. */
struct vfh_ring {
	struct svm_vm vm;              /* only its NPT: the domain's tables */
	struct bmpt_dma dma;
	uint8_t *ring;                 /* TX ring +0, RX ring +0x800 */
	uint8_t *txbuf, *rxbuf;
	unsigned ndesc, rh, rt, th;
};

enum vfh_find { VFH_FOUND, VFH_NO_DMAR, VFH_NO_PF };

/* The ACPI DMAR and the igb PF (its BAR0 and RID). */
enum vfh_find vfh_find(void);
/* The VT-d unit on, interrupt remapping on (256 IRTEs).  0 or -PORT_E*. */
int vfh_iommu_up(void);
/* SR-IOV on (VFH_NUM_VFS VFs, their BARs at VFH_VF_BAR*_BASE), the VFs'
 * RIDs and config views, the PF driver with the VFs' MACs.  Link and switch
 * are the caller's (igb_pf_link_up, igb_pf_switch_init).  0 or -PORT_E*. */
int vfh_pf_init(const uint8_t macs[VFH_NUM_VFS][6]);

uint64_t vfh_vf_bar(unsigned bar, unsigned vf);
uint32_t vfh_vf_rd(unsigned vf, uint32_t off);
void vfh_vf_wr(unsigned vf, uint32_t off, uint32_t v);
/* sriov_vf_view over the ECAM page: the bmpt_cfg_ops of a struct vf_cfg. */
uint32_t vfh_cfg_read(void *ctx, unsigned off, unsigned size);
void vfh_cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val);

/* bm_passthrough's configuration for VF 0: its RID and config, the IR
 * table, host vector 0x5f and VFH_HOST_VEC0..+2 for its MSI-X entries. */
void vfh_dev_cfg(struct bmpt_dev_cfg *dc, uint64_t virt_cfg_gpa, struct bmpt_dma *dma, struct ir_guest *guest);

/* VF 1's rings: allocated, mapped identity in a domain of their own (an
 * NPT-only VM on `cpu`, its ctx `ctx`), the PF's reset handshake served in
 * line, TX and RX queues on.  0 or -PORT_E*. */
int vfh_ring_init(struct vfh_ring *q, unsigned ndesc, struct svm_cpu *cpu, void *ctx);
/* One frame out (padded to the 60-byte minimum; FCS by the MAC). */
void vfh_ring_send(struct vfh_ring *q, const uint8_t *f, uint32_t len);
/* Up to `max` received frames handed to `frame` (which may send), their
 * descriptors given back.  The count. */
unsigned vfh_ring_poll(struct vfh_ring *q, unsigned max, void (*frame)(void *ctx, uint8_t *f, uint32_t len),
		       void *ctx);

#endif
