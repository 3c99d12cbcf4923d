/*
 * virtio_pci.h — the virtio 1.x modern PCI transport (virtio 1.2 §4.1) as a
 * device on pci_bus.h, on the glue.h contract only: a non-transitional
 * function 1af4:(1040 + device type), vendor capabilities for the common,
 * notify, ISR, device-specific and PCI-config-access structures in BAR 0,
 * MSI-X (PCI 3.0 §6.8.2) in BAR 1 with one vector for configuration changes
 * and one per queue, split virtqueues (virtqueue.h).
 *
 * Interrupts: each MSI-X vector is an eventfd the core routes to the MSI
 * the guest programmed (glue msi_route_*, an irqfd on KVM), so raising one
 * is a write to an eventfd and a masked vector stays pending in it (PBA).
 *
 * Locking: the transport has one mutex.  Config-space and BAR handlers take
 * it; the device's callbacks run under it, except `notify`, which runs
 * without it on the vCPU that wrote the notification (keep it to a wakeup).
 * A device's own thread takes it with virtio_pci_lock() around queue work.
 */
#ifndef VFS_VIRTIO_PCI_H
#define VFS_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm_glue/glue.h"
#include "vmm_glue/dev/pci_bus.h"
#include "vmm_glue/dev/virtqueue.h"

/* §2.1 device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER      2u
#define VIRTIO_STATUS_DRIVER_OK   4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED      128u
/* §6 reserved feature bits the transport handles. */
#define VIRTIO_FEATURE_INDIRECT_DESC (1ull << 28)
#define VIRTIO_FEATURE_VERSION_1     (1ull << 32)

#define VIRTIO_PCI_MAX_QUEUES 8u
/* BAR 0 layout (offsets of the structures the capabilities point at). */
#define VIRTIO_PCI_COMMON_OFF 0x0000u
#define VIRTIO_PCI_ISR_OFF    0x1000u
#define VIRTIO_PCI_DEVCFG_OFF 0x2000u
#define VIRTIO_PCI_NOTIFY_OFF 0x3000u
#define VIRTIO_PCI_NOTIFY_MULT 4u   /* queue q notifies at NOTIFY_OFF + 4*q */

struct virtio_pci;

struct virtio_pci_dev_ops {
	/* The driver notified queue q (no lock held; from a vCPU). */
	void (*notify)(void *ctx, unsigned q);
	/* Optional: an eventfd standing for queue q's notification.  Where the
	 * core has ioeventfd (glue.h, optional) it is registered at
	 * the queue's doorbell, so a notification never leaves the kernel and
	 * `notify` is not called for it; the device polls the eventfd. */
	int (*notify_fd)(void *ctx, unsigned q);
	/* Device status changed (lock held): a reset (status 0) or DRIVER_OK. */
	void (*status)(void *ctx, uint8_t status);
	/* Device-specific configuration (§4.1.4.6), `off` + `size` within
	 * cfg_len; reads fill `data` (lock held). */
	void (*cfg_read)(void *ctx, unsigned off, uint8_t *data, unsigned size);
	void (*cfg_write)(void *ctx, unsigned off, const uint8_t *data, unsigned size);
};

struct virtio_pci_params {
	uint16_t device_type;   /* §5: 1 network card */
	uint32_t class_code;    /* PCI class/subclass/prog-if, e.g. 0x020000 */
	uint64_t features;      /* offered; VERSION_1 is always added */
	unsigned num_queues;    /* ≤ VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max;     /* power of two ≤ 32768 */
	unsigned cfg_len;       /* device-specific config bytes (≤ 256) */
	const struct virtio_pci_dev_ops *ops;
	void *ctx;
	/* Trap every notification even where the core has ioeventfd (to
	 * measure what ioeventfd saves: virtio_pci_notify_traps). */
	bool no_ioeventfd;
};

/* Plug a new device into `bus` (BARs placed in the bus's MMIO window). */
int virtio_pci_create(struct glue *g, struct pci_bus *bus, const struct virtio_pci_params *p,
		      struct virtio_pci **out);
/* Unplug: traps, routes and eventfds gone.  The device's own thread must
 * have stopped. */
void virtio_pci_destroy(struct virtio_pci *vp);

void virtio_pci_lock(struct virtio_pci *vp);
void virtio_pci_unlock(struct virtio_pci *vp);

/* --- with the lock held --------------------------------------------------- */

/* Queue q when the driver enabled it, the device is DRIVER_OK and not
 * NEEDS_RESET; NULL otherwise. */
struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q);
/* Features both sides agreed on (valid once FEATURES_OK). */
uint64_t virtio_pci_features(const struct virtio_pci *vp);
/* Raise queue q's interrupt (§4.1.4.5 ISR bit 0 and its MSI-X vector),
 * unless the driver suppressed it (§2.7.10). */
void virtio_pci_interrupt(struct virtio_pci *vp, unsigned q);
/* The driver broke the rules (`err` says how, for virtio_pci_last_error):
 * NEEDS_RESET and a configuration interrupt (§2.1.2); the queues stop until
 * the driver resets the device. */
void virtio_pci_fail(struct virtio_pci *vp, int err);
/* Device-specific config changed: bump config_generation, interrupt. */
void virtio_pci_config_changed(struct virtio_pci *vp);

/* --- for the VMM and tests (no lock needed) ------------------------------- */

unsigned virtio_pci_devfn(const struct virtio_pci *vp);
/* Where the guest placed BAR `bar` (0: not placed). */
uint64_t virtio_pci_bar_gpa(struct virtio_pci *vp, unsigned bar);
/* Notifications that reached the device through a trap, i.e. each one a
 * VM exit to the VMM's user space; a doorbell the core took as an
 * ioeventfd never counts. */
uint64_t virtio_pci_notify_traps(struct virtio_pci *vp);
/* The last driver error virtio_pci_fail recorded (0: none). */
int virtio_pci_last_error(struct virtio_pci *vp);

#endif
