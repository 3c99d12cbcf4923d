/*
 * virtio_net.h — the emulated vNIC: a virtio network device (virtio 1.2
 * §5.1) on the modern PCI transport (virtio_pci.h), one receive and one
 * transmit queue, VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (link up),
 * indirect descriptors, and optionally checksum/TSO offloads (no mergeable
 * receive buffers: a driver taking GUEST_TSO posts 64 KiB buffers).
 *
 * Backend: a file descriptor on which one read or write is one Ethernet
 * frame behind a 12-byte struct virtio_net_hdr_v1 (§5.1.6) — a tap opened
 * by tap.h, or in tests one end of a SOCK_SEQPACKET socketpair.  The device
 * makes it non-blocking.  A thread of its own moves frames: woken by the
 * driver's notifications (an eventfd per queue, which the transport hands
 * to the core as an ioeventfd where it has one) and by the backend becoming readable;
 * it interrupts the guest through eventfds the core routes as MSIs.
 */
#ifndef VFS_VIRTIO_NET_H
#define VFS_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm_glue/glue.h"
#include "vmm_glue/dev/pci_bus.h"
#include "vmm_glue/dev/virtio_pci.h"

/* §5.1.2 virtqueues. */
#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u
#define VIRTIO_NET_HDR_LEN 12u  /* struct virtio_net_hdr_v1 (§5.1.6) */

struct virtio_net;

struct virtio_net_params {
	uint8_t mac[6];
	int backend_fd;          /* stays the caller's; must outlive the device */
	uint16_t queue_size;     /* 0: 256 */
	/* Offer checksum and TCP segmentation offloads (VIRTIO_NET_F_CSUM,
	 * GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6): the backend passes the
	 * header's offload fields on, as a tap does (it is told with
	 * TUNSETOFFLOAD what the driver accepted). */
	bool offloads;
	/* Take every notification through a trap even where the core has
	 * ioeventfd (virtio_pci_params.no_ioeventfd): a measurement knob. */
	bool no_ioeventfd;
};

struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes, tx_dropped;
	uint64_t rx_frames, rx_bytes;
	uint64_t notifies, interrupts;
	uint64_t notify_traps;   /* notifications that exited to the VMM (no ioeventfd) */
};

/* Plug the device into `bus` and start its thread. */
int virtio_net_create(struct glue *g, struct pci_bus *bus, const struct virtio_net_params *p,
		      struct virtio_net **out);
/* Stop the thread, unplug.  The backend fd is left open. */
void virtio_net_destroy(struct virtio_net *vn);

struct virtio_pci *virtio_net_pci(struct virtio_net *vn);
void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st);

#endif
