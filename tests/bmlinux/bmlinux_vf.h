/*
 * bmlinux_vf.h — the Linux guest's assigned igb VF on the bare-metal core
 * (issue 16 items 2-3): QEMU's igb PF under baremetal/igb_pf (SR-IOV, link,
 * switch, the PF side of the mailbox), VF 0 behind the guest's host bridge
 * at 00:01.0 (its config through virtual BARs, vmm_glue/core/vbar, then
 * bm_passthrough's config model; BAR0 mapped where the guest puts it in its
 * PCI window, the MSI-X table trapped there), VF 1 owned by the hypervisor
 * as a responder answering ARP and ICMP echo for 10.0.0.1.
 */
#ifndef VFS_TESTS_BMLINUX_VF_H
#define VFS_TESTS_BMLINUX_VF_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/vtd_fault.h"
#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/core/pci_host.h"
#include "vmm_glue/core/vbar.h"
#include "vmm_glue/core/vlapic.h"
#include "vmm_glue/svm/svm.h"
#include "vmm_glue/dev/bm_passthrough.h"

#define BMLVF_DEVFN 0x08u               /* 00:01.0 in the guest */
#define BMLVF_WIN 0xc0000000ull         /* the guest's PCI window */
#define BMLVF_WIN_SIZE 0x10000000ull
#define BMLVF_BAR0_GPA 0xc0000000ull    /* "firmware" placement: BAR0, BAR3 */
#define BMLVF_BAR3_GPA 0xc0004000ull

struct bmlvf_stats {
	/* the responder (VF 1) */
	uint32_t rx_frames, arp_req, arp_rep, icmp_req, icmp_rep, other, tx_frames;
	/* the PF */
	uint32_t mbx_msgs, vf0_resets;
	uint8_t vf0_mac[6];
	/* VF 0's interrupts: host vectors taken, guest vectors raised */
	uint64_t host_irqs, raised, foreign;
	/* VT-d faults collected (for VF 0's SID, other SIDs) */
	unsigned faults_vf0, faults_other;
	struct vtd_fault first_fault;
	bool link_pf, responder_up;
	/* BAR0 moves the NPT followed: mappings made, the last one away from
	 * its first placement */
	uint32_t bar0_maps;
	uint64_t bar0_elsewhere;
	uint16_t vf_rid[2];
};

/* VT-d, interrupt remapping, the PF (SR-IOV, link, switch), the responder.
 * Once per image.  0 or -PORT_E*. */
int bmlvf_host_init(struct svm_cpu *cpu, char *why, unsigned why_len);
/* Assign VF 0 to `vm` (before the VM's other MMIO traps: its window is
 * [BMLVF_WIN, +BMLVF_WIN_SIZE)) and put it behind `h`.  badmap: the domain
 * mirrors the NPT without the guest's RAM (its DMA must fault). */
int bmlvf_assign(struct core_vm *vm, struct pci_host *h, bool badmap);
/* On the VM's exits: serve the PF's mailbox (mbx) and the responder; raise
 * in `lapic` the guest vectors VF 0's interrupts stand for. */
void bmlvf_poll(struct vlapic *lapic, bool mbx);
/* Faults recorded since the last call, counted into the stats. */
void bmlvf_collect_faults(void);
/* Undo bmlvf_assign (the VF reset through the PF, its context entry gone). */
void bmlvf_release(struct core_vm *vm);

extern struct bmlvf_stats bmlvf;
extern struct bmpt_dev bmlvf_dev;
extern struct vbars bmlvf_bars;
extern struct bmpt_dma bmlvf_dma;

#endif
