/*
 * vmm.h — the small VMM as one call: boot a Linux bzImage + initrd on the
 * KVM core with an 8250 console, a PCI bus and (optionally) one VFIO device
 * passed through; return when the guest powers off.  `vfctl assign` and
 * `vfs-vmm` are thin front ends to it.
 */
#ifndef VFS_VMM_H
#define VFS_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the guest gets unless told otherwise (appended to by the caller). */
#define VMM_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1"

struct vmm_config {
	const char *kernel;       /* bzImage */
	const char *initrd;       /* may be NULL */
	const char *cmdline;
	uint64_t mem_bytes;
	unsigned ncpus;
	const char *vf_bdf;       /* bound to vfio-pci already; NULL: none */
	/* The emulated vNIC (virtio-net, docs/vnic.md): a tap to create or
	 * attach to ("" lets the kernel name it, and the name is logged on
	 * stderr); NULL: no vNIC. */
	const char *vnic_tap;
	uint8_t vnic_mac[6];      /* all zero: 52:54:00 + three bytes of the pid */
	/* Trap the vNIC's doorbells instead of handing them to KVM as
	 * ioeventfds: only to measure the exits ioeventfd saves. */
	bool vnic_no_ioeventfd;
	int console_fd;           /* the guest's ttyS0 output */
	int console_in_fd;        /* its input, or -1 */
	/* Called once the device is in the guest's address space and guest RAM
	 * is mapped for DMA, just before the vCPUs start; non-zero aborts. */
	int (*on_ready)(void *ctx);
	void *ctx;
};

struct vmm_stats {
	double setup_s;           /* from vmm_run's start to the vCPUs' start */
	double dma_map_s;         /* of it: guest RAM mapped (and pinned) for the VF's DMA */
	double boot_to_exit_s;
	uint64_t exits;           /* VM exits to user space */
	uint64_t mmio_exits;      /* of which MMIO (emulated device registers) */
	unsigned dma_maps_peak;
	uint64_t dma_bytes_peak;
	/* The vNIC's traffic (all zero without one): frames and payload bytes
	 * both ways, frames dropped, interrupts raised, and notifications that
	 * exited to user space (0 while ioeventfd takes the doorbells). */
	bool vnic;
	uint64_t vnic_tx_frames, vnic_rx_frames, vnic_bytes, vnic_dropped;
	uint64_t vnic_interrupts, vnic_notify_traps;
};

/* 0: the guest powered off (or reset itself).  -EINTR: stopped by
 * vmm_request_stop (SIGTERM/SIGINT).  Other negative errno: it could not
 * start or KVM failed; `why` holds one sentence.  Everything it set up is
 * torn down before it returns (no DMA mapping, fd or thread left). */
int vmm_run(const struct vmm_config *cfg, struct vmm_stats *stats, char *why, size_t why_len);

/* Async-signal-safe.  A stop requested before vmm_run starts the vCPUs
 * (e.g. SIGTERM while a caller is still binding the device) makes it tear
 * down at once and return -EINTR; a completed run consumes the request. */
void vmm_request_stop(void);

#endif
