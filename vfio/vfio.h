/*
 * vfio.h — the Linux VFIO UAPI, the whole public API of vfio/.
 *
 * Facts come from Linux's include/uapi/linux/vfio.h (container/group API,
 * VFIO_TYPE1v2_IOMMU, regions, IRQs, reset) and include/uapi/linux/iommufd.h
 * (the cdev + IOAS path, chosen at run time when /dev/iommu exists).
 *
 * Two objects:
 *   struct vfio_iommu  one DMA address space: a VFIO container with the
 *                      type1v2 IOMMU, or an iommufd IOAS; it remembers every
 *                      mapping it made so closing it leaks none;
 *   struct vfio_dev    one device opened through it (group fd + device fd,
 *                      or the device cdev bound to the iommufd).
 * Every function returns 0 or a negative errno; on failure nothing is left
 * half-done.  Messages that name the blocking device go in `why` buffers.
 */
#ifndef VFS_VFIO_H
#define VFS_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where sysfs lives; tests point it at a fake tree.  Default "/sys". */
extern const char *vfio_sysfs_root;

/* --- groups and binding (sysfs) ------------------------------------------ */

/* The IOMMU group number of a PCI device ("0000:00:12.0"); -ENOENT when the
 * device does not exist, -ENODEV when it has no IOMMU group (no IOMMU). */
int vfio_group_of(const char *bdf, int *group);

/* 0 when every device in the group is bound to vfio-pci, pci-stub or no
 * driver (a bridge bound to pcieport is ignored) — what the kernel requires
 * before the group can join a container.  -EBUSY otherwise, with `why`
 * naming the first blocking device and its driver. */
int vfio_group_viable(int group, char *why, size_t why_len);

/* The driver a device is bound to now ("" when none). */
int vfio_current_driver(const char *bdf, char *drv, size_t len);

/* Binding a device to a driver (vfio-pci and back) is not here: the one
 * sysfs driver-binding module is sriov/linux/pci_bind.h (pci_bind_driver,
 * pci_release_driver), which checks every driver name with
 * sysfs_driver_name_check and rolls a failed bind back.  vfio/ only reads
 * the group and the current driver. */

/* --- memlock --------------------------------------------------------------- */

/* Bytes of RLIMIT_MEMLOCK missing to pin `want` bytes: 0 when enough (or
 * when `cap_ipc_lock`, which the type1 IOMMU does not charge). */
uint64_t vfio_memlock_shortfall(uint64_t want, uint64_t limit, bool cap_ipc_lock);

/* The same for this process (getrlimit + CAP_IPC_LOCK in the effective set). */
uint64_t vfio_memlock_needed(uint64_t want);

/* --- the IOMMU context (container or iommufd) ------------------------------ */

enum vfio_backend {
	VFIO_BACKEND_AUTO = 0,  /* iommufd when /dev/iommu and the device cdev exist */
	VFIO_BACKEND_CONTAINER, /* /dev/vfio/vfio + groups, VFIO_TYPE1v2_IOMMU */
	VFIO_BACKEND_IOMMUFD,   /* /dev/iommu + /dev/vfio/devices/vfioN */
};

#define VFIO_MAX_IOVA_RANGES 16

/* What the type1 IOMMU info capability chain says (container only; with
 * iommufd the ranges come from IOMMU_IOAS_IOVA_RANGES). */
struct vfio_iommu_caps {
	uint64_t pgsize_bitmap;
	unsigned n_ranges;        /* 0 = the whole 64-bit space */
	struct { uint64_t start, last; } ranges[VFIO_MAX_IOVA_RANGES];
	bool have_dma_avail;
	uint32_t dma_avail;       /* mappings the container still accepts */
};

/* Parse a VFIO_IOMMU_GET_INFO reply (struct vfio_iommu_type1_info followed
 * by its capability chain) of `len` bytes.  -EINVAL on a malformed chain. */
int vfio_parse_iommu_info(const void *buf, size_t len, struct vfio_iommu_caps *caps);

struct vfio_iommu;

int vfio_iommu_open(enum vfio_backend want, struct vfio_iommu **out);
/* Unmaps everything still mapped, closes the container/iommufd. */
void vfio_iommu_close(struct vfio_iommu *iommu);
enum vfio_backend vfio_iommu_backend(const struct vfio_iommu *iommu);
/* Valid once a device has been opened (the IOMMU is set then). */
const struct vfio_iommu_caps *vfio_iommu_caps(const struct vfio_iommu *iommu);

/* Map [vaddr, vaddr+size) at `iova`, read+write.  -ERANGE outside the
 * IOVA ranges, -ENOSPC when dma_avail is exhausted, -ENOMEM with
 * `*memlock_needed` set when RLIMIT_MEMLOCK is too low. */
int vfio_dma_map(struct vfio_iommu *iommu, void *vaddr, uint64_t iova,
		 uint64_t size, uint64_t *memlock_needed);
int vfio_dma_unmap(struct vfio_iommu *iommu, uint64_t iova, uint64_t size);
/* Mappings currently held, and their total size. */
unsigned vfio_dma_count(const struct vfio_iommu *iommu, uint64_t *bytes);

/* --- the device -------------------------------------------------------------- */

#define VFIO_MAX_SPARSE 8

struct vfio_region {
	unsigned index;
	uint32_t flags;           /* VFIO_REGION_INFO_FLAG_* */
	uint64_t size;
	uint64_t offset;          /* of the region in the device fd */
	bool msix_mappable;       /* VFIO_REGION_INFO_CAP_MSIX_MAPPABLE */
	unsigned n_sparse;        /* VFIO_REGION_INFO_CAP_SPARSE_MMAP areas */
	struct { uint64_t offset, size; } sparse[VFIO_MAX_SPARSE];
};

/* Parse a VFIO_DEVICE_GET_REGION_INFO reply with its capability chain. */
int vfio_parse_region_info(const void *buf, size_t len, struct vfio_region *reg);

struct vfio_dev;

/* Open `bdf` in `iommu`: the group must be viable (else -EBUSY, `why`
 * names the blocker); the first device sets the IOMMU type. */
int vfio_dev_open(struct vfio_iommu *iommu, const char *bdf,
		  struct vfio_dev **out, char *why, size_t why_len);
/* Disables every IRQ, resets the device, closes its fds. */
void vfio_dev_close(struct vfio_dev *dev);
const char *vfio_dev_bdf(const struct vfio_dev *dev);
int vfio_dev_fd(const struct vfio_dev *dev);
unsigned vfio_dev_num_regions(const struct vfio_dev *dev);
unsigned vfio_dev_num_irqs(const struct vfio_dev *dev);
bool vfio_dev_can_reset(const struct vfio_dev *dev);

int vfio_dev_region(struct vfio_dev *dev, unsigned index, struct vfio_region *out);
/* mmap `len` bytes at `off` in a region (page aligned), or -EINVAL when the
 * region does not allow it. */
int vfio_dev_region_mmap(struct vfio_dev *dev, unsigned index, uint64_t off,
			 uint64_t len, void **addr);
/* Read/write through the device fd (config space is region
 * VFIO_PCI_CONFIG_REGION_INDEX).  -EIO on a short transfer. */
int vfio_dev_region_read(struct vfio_dev *dev, unsigned index, uint64_t off,
			 void *buf, size_t len);
int vfio_dev_region_write(struct vfio_dev *dev, unsigned index, uint64_t off,
			  const void *buf, size_t len);
int vfio_dev_cfg_read(struct vfio_dev *dev, unsigned off, void *buf, size_t len);
int vfio_dev_cfg_write(struct vfio_dev *dev, unsigned off, const void *buf, size_t len);

/* IRQ index info: vector count and VFIO_IRQ_INFO_* flags. */
int vfio_dev_irq_info(struct vfio_dev *dev, unsigned index, uint32_t *count,
		      uint32_t *flags);
/* Attach eventfds to vectors [start, start+count) of an IRQ index (MSI,
 * MSI-X, INTx); an fd of -1 detaches that vector. */
int vfio_dev_irq_set_eventfds(struct vfio_dev *dev, unsigned index,
			      unsigned start, unsigned count, const int *fds);
/* Turn an IRQ index off entirely. */
int vfio_dev_irq_disable(struct vfio_dev *dev, unsigned index);
/* INTx: unmask after the handler ran; mask. */
int vfio_dev_intx_unmask(struct vfio_dev *dev);
int vfio_dev_intx_mask(struct vfio_dev *dev);
/* Which IRQ indexes are enabled now (bit per index), to check teardown. */
uint32_t vfio_dev_irqs_enabled(const struct vfio_dev *dev);

/* VFIO_DEVICE_RESET (function-level). */
int vfio_dev_reset(struct vfio_dev *dev);
/* VFIO_DEVICE_PCI_HOT_RESET of the bus, allowed only when every affected
 * group is one this process owns (-EPERM otherwise, `why` names it). */
int vfio_dev_hot_reset(struct vfio_dev *dev, char *why, size_t why_len);

#endif
