/*
 * passthrough.h — a VFIO device given to the guest as a PCI device on the
 * glue.h contract: virtual config space (header with guest BAR addresses,
 * command register, the MSI, MSI-X and PCI Express capabilities only), BARs
 * mapped into guest physical space except what must be trapped (MSI-X table
 * and PBA), MSI-X table emulation with per-vector masking and a PBA, guest
 * vectors routed to the host eventfds VFIO signals.
 */
#ifndef VFS_PASSTHROUGH_H
#define VFS_PASSTHROUGH_H

#include <stddef.h>
#include <stdint.h>

#include "vfio/vfio.h"
#include "vmm_glue/glue.h"
#include "vmm_glue/dev/pci_bus.h"

struct pt_dev;

/* DMA-map every guest RAM region at IOVA = GPA (before the guest runs).
 * On failure nothing stays mapped; -ENOMEM with *memlock_needed set when
 * RLIMIT_MEMLOCK is too low. */
int pt_map_guest_ram(struct glue *g, struct vfio_iommu *iommu, uint64_t *memlock_needed);
void pt_unmap_guest_ram(struct glue *g, struct vfio_iommu *iommu);

/* Plug `vdev` into `bus`.  The device stays owned by the caller. */
int pt_dev_create(struct glue *g, struct pci_bus *bus, struct vfio_dev *vdev,
		  struct pt_dev **out, char *why, size_t why_len);
/* Unplug: routes and IRQs off, BARs unmapped, the device reset. */
void pt_dev_destroy(struct pt_dev *pt);

/* For tests and logs: the guest's view. */
unsigned pt_dev_devfn(const struct pt_dev *pt);
uint64_t pt_dev_bar_gpa(const struct pt_dev *pt, unsigned bar);
unsigned pt_dev_msix_vectors(const struct pt_dev *pt);

#endif
