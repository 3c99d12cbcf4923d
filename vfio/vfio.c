/*
 * vfio.c — the VFIO container/group API (VFIO_TYPE1v2_IOMMU) and the
 * iommufd path, DMA maps, and the device: regions, config space, IRQs, reset.
 * Facts: include/uapi/linux/vfio.h, include/uapi/linux/iommufd.h,
 * Documentation/driver-api/vfio.rst.
 */
#include "vfio/vfio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

/* --- iommufd UAPI (Linux >= 6.6); the installed headers may predate it ---- */
/* include/uapi/linux/iommufd.h: IOMMUFD_TYPE ';', commands from 0x80. */
#define VFS_IOMMUFD_TYPE ';'
#define VFS_IOMMU_DESTROY _IO(VFS_IOMMUFD_TYPE, 0x80)
#define VFS_IOMMU_IOAS_ALLOC _IO(VFS_IOMMUFD_TYPE, 0x81)
#define VFS_IOMMU_IOAS_IOVA_RANGES _IO(VFS_IOMMUFD_TYPE, 0x84)
#define VFS_IOMMU_IOAS_MAP _IO(VFS_IOMMUFD_TYPE, 0x85)
#define VFS_IOMMU_IOAS_UNMAP _IO(VFS_IOMMUFD_TYPE, 0x86)
struct vfs_iommu_destroy { uint32_t size, id; };
struct vfs_iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct vfs_iommu_ioas_iova_ranges {
	uint32_t size, ioas_id, num_iovas, __reserved;
	uint64_t allowed_iovas, out_iova_alignment;
};
struct vfs_iommu_iova_range { uint64_t start, last; };
/* IOMMU_IOAS_MAP flags: FIXED_IOVA bit 0, WRITEABLE bit 1, READABLE bit 2. */
struct vfs_iommu_ioas_map {
	uint32_t size, flags, ioas_id, __reserved;
	uint64_t user_va, length, iova;
};
struct vfs_iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
/* vfio.h (>= 6.6): VFIO_DEVICE_BIND_IOMMUFD = VFIO_BASE + 18, ATTACH + 19. */
#define VFS_VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#define VFS_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
struct vfs_vfio_device_bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
struct vfs_vfio_device_attach_iommufd_pt { uint32_t argsz, flags, pt_id; };

/* --- the IOMMU context ------------------------------------------------------ */

struct dma_map {
	uint64_t iova, size;
};

#define MAX_GROUPS 8

struct vfio_iommu {
	enum vfio_backend backend;
	int fd;            /* /dev/vfio/vfio or /dev/iommu */
	uint32_t ioas_id;  /* iommufd */
	bool iommu_set;    /* container: VFIO_SET_IOMMU done */
	struct vfio_iommu_caps caps;
	struct dma_map *maps;
	unsigned n_maps, cap_maps;
	int groups[MAX_GROUPS];     /* group numbers joined */
	int group_fds[MAX_GROUPS];
	unsigned group_refs[MAX_GROUPS];
};

struct vfio_dev {
	struct vfio_iommu *iommu;
	char bdf[32];
	int fd;
	int group_slot;    /* index in iommu->groups, -1 with iommufd */
	struct vfio_device_info info;
	uint32_t irqs_enabled;
};

/* Walk a VFIO capability chain (struct vfio_info_cap_header: id, version,
 * next offset from the start of the info buffer; 0 ends it). */
typedef int (*cap_fn)(const struct vfio_info_cap_header *hdr, size_t room, void *ctx);

static int walk_caps(const void *buf, size_t len, uint32_t first, cap_fn fn, void *ctx)
{
	const unsigned char *b = buf;
	uint32_t off = first;
	unsigned hops = 0;
	while (off) {
		if (off < sizeof(uint32_t) || off + sizeof(struct vfio_info_cap_header) > len ||
		    (off & 3) || ++hops > 64)
			return -EINVAL;
		struct vfio_info_cap_header hdr;
		memcpy(&hdr, b + off, sizeof(hdr));
		int err = fn((const struct vfio_info_cap_header *)(b + off), len - off, ctx);
		if (err)
			return err;
		off = hdr.next;
	}
	return 0;
}

static int iommu_cap(const struct vfio_info_cap_header *h, size_t room, void *ctx)
{
	struct vfio_iommu_caps *caps = ctx;
	struct vfio_info_cap_header hdr;
	memcpy(&hdr, h, sizeof(hdr));
	if (hdr.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
		struct vfio_iommu_type1_info_cap_iova_range r;
		if (room < sizeof(r))
			return -EINVAL;
		memcpy(&r, h, sizeof(r));
		if (room < sizeof(r) + (size_t)r.nr_iovas * sizeof(struct vfio_iova_range) ||
		    r.nr_iovas > VFIO_MAX_IOVA_RANGES)
			return -EINVAL;
		const unsigned char *p = (const unsigned char *)h + sizeof(r);
		for (uint32_t i = 0; i < r.nr_iovas; i++) {
			struct vfio_iova_range one;
			memcpy(&one, p + i * sizeof(one), sizeof(one));
			if (one.end < one.start)
				return -EINVAL;
			caps->ranges[i].start = one.start;
			caps->ranges[i].last = one.end;
		}
		caps->n_ranges = r.nr_iovas;
	} else if (hdr.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
		struct vfio_iommu_type1_info_dma_avail a;
		if (room < sizeof(a))
			return -EINVAL;
		memcpy(&a, h, sizeof(a));
		caps->have_dma_avail = true;
		caps->dma_avail = a.avail;
	}
	return 0;
}

int vfio_parse_iommu_info(const void *buf, size_t len, struct vfio_iommu_caps *caps)
{
	struct vfio_iommu_type1_info info;
	memset(caps, 0, sizeof(*caps));
	if (len < offsetof(struct vfio_iommu_type1_info, cap_offset))
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	memcpy(&info, buf, len < sizeof(info) ? len : sizeof(info));
	if (info.argsz > len)
		return -EINVAL;
	if (info.flags & VFIO_IOMMU_INFO_PGSIZES)
		caps->pgsize_bitmap = info.iova_pgsizes;
	if (!(info.flags & VFIO_IOMMU_INFO_CAPS) || len < sizeof(info))
		return 0;
	return walk_caps(buf, info.argsz, info.cap_offset, iommu_cap, caps);
}

static bool iommufd_present(const char *bdf)
{
	char path[PATH_MAX];
	/* Both the iommufd and VFIO's device cdevs (CONFIG_VFIO_DEVICE_CDEV). */
	if (access("/dev/iommu", R_OK | W_OK) != 0 || access("/dev/vfio/devices", F_OK) != 0)
		return false;
	if (!bdf)
		return true;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", vfio_sysfs_root, bdf);
	return access(path, F_OK) == 0;
}

int vfio_iommu_open(enum vfio_backend want, struct vfio_iommu **out)
{
	struct vfio_iommu *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->fd = -1;
	for (unsigned i = 0; i < MAX_GROUPS; i++)
		io->group_fds[i] = -1;
	if (want == VFIO_BACKEND_AUTO)
		want = iommufd_present(NULL) ? VFIO_BACKEND_IOMMUFD : VFIO_BACKEND_CONTAINER;
	io->backend = want;
	int err = 0;
	if (want == VFIO_BACKEND_IOMMUFD) {
		io->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (io->fd < 0) {
			err = -errno;
			goto fail;
		}
		struct vfs_iommu_ioas_alloc a = { sizeof(a), 0, 0 };
		if (ioctl(io->fd, VFS_IOMMU_IOAS_ALLOC, &a) != 0) {
			err = -errno;
			goto fail;
		}
		io->ioas_id = a.out_ioas_id;
		struct vfs_iommu_iova_range r[VFIO_MAX_IOVA_RANGES];
		struct vfs_iommu_ioas_iova_ranges q = { sizeof(q), io->ioas_id,
			VFIO_MAX_IOVA_RANGES, 0, (uint64_t)(uintptr_t)r, 0 };
		if (ioctl(io->fd, VFS_IOMMU_IOAS_IOVA_RANGES, &q) == 0) {
			io->caps.n_ranges = q.num_iovas;
			for (unsigned i = 0; i < q.num_iovas; i++) {
				io->caps.ranges[i].start = r[i].start;
				io->caps.ranges[i].last = r[i].last;
			}
		}
	} else {
		io->fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (io->fd < 0) {
			err = -errno;
			goto fail;
		}
		if (ioctl(io->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
		    ioctl(io->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
			err = -ENOTSUP;
			goto fail;
		}
	}
	*out = io;
	return 0;
fail:
	if (io->fd >= 0)
		close(io->fd);
	free(io);
	return err;
}

enum vfio_backend vfio_iommu_backend(const struct vfio_iommu *iommu)
{
	return iommu->backend;
}

const struct vfio_iommu_caps *vfio_iommu_caps(const struct vfio_iommu *iommu)
{
	return &iommu->caps;
}

static int container_read_caps(struct vfio_iommu *io)
{
	size_t len = sizeof(struct vfio_iommu_type1_info);
	for (int tries = 0; tries < 4; tries++) {
		struct vfio_iommu_type1_info *info = calloc(1, len);
		if (!info)
			return -ENOMEM;
		info->argsz = (uint32_t)len;
		if (ioctl(io->fd, VFIO_IOMMU_GET_INFO, info) != 0) {
			int err = -errno;
			free(info);
			return err;
		}
		if (info->argsz > len) {
			len = info->argsz;
			free(info);
			continue;
		}
		int err = vfio_parse_iommu_info(info, len, &io->caps);
		free(info);
		return err;
	}
	return -EIO;
}

static bool in_iova_ranges(const struct vfio_iommu_caps *caps, uint64_t iova, uint64_t size)
{
	if (!caps->n_ranges)
		return true;
	uint64_t last = iova + size - 1;
	for (unsigned i = 0; i < caps->n_ranges; i++)
		if (iova >= caps->ranges[i].start && last <= caps->ranges[i].last)
			return true;
	return false;
}

int vfio_dma_map(struct vfio_iommu *io, void *vaddr, uint64_t iova, uint64_t size,
		 uint64_t *memlock_needed)
{
	if (memlock_needed)
		*memlock_needed = 0;
	if (!size || iova + size < iova || ((iova | size | (uintptr_t)vaddr) & 0xfff))
		return -EINVAL;
	if (!in_iova_ranges(&io->caps, iova, size))
		return -ERANGE;
	if (io->backend == VFIO_BACKEND_CONTAINER && !io->iommu_set)
		return -ENODEV; /* no group yet: the IOMMU type is not set */
	if (io->caps.have_dma_avail && io->caps.dma_avail == 0)
		return -ENOSPC;
	uint64_t locked = 0;
	vfio_dma_count(io, &locked);
	uint64_t short_by = vfio_memlock_needed(locked + size);
	if (short_by) {
		if (memlock_needed)
			*memlock_needed = locked + size;
		return -ENOMEM;
	}
	if (io->n_maps == io->cap_maps) {
		unsigned n = io->cap_maps ? io->cap_maps * 2 : 8;
		struct dma_map *m = realloc(io->maps, n * sizeof(*m));
		if (!m)
			return -ENOMEM;
		io->maps = m;
		io->cap_maps = n;
	}
	int rc;
	if (io->backend == VFIO_BACKEND_IOMMUFD) {
		struct vfs_iommu_ioas_map m = { sizeof(m), 1 | 2 | 4, io->ioas_id, 0,
			(uint64_t)(uintptr_t)vaddr, size, iova };
		rc = ioctl(io->fd, VFS_IOMMU_IOAS_MAP, &m);
	} else {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uint64_t)(uintptr_t)vaddr, .iova = iova, .size = size,
		};
		rc = ioctl(io->fd, VFIO_IOMMU_MAP_DMA, &m);
	}
	if (rc != 0) {
		int err = -errno;
		if (err == -ENOMEM && memlock_needed)
			*memlock_needed = locked + size;
		return err;
	}
	io->maps[io->n_maps++] = (struct dma_map){ iova, size };
	if (io->caps.have_dma_avail)
		io->caps.dma_avail--;
	return 0;
}

int vfio_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	unsigned i;
	for (i = 0; i < io->n_maps; i++)
		if (io->maps[i].iova == iova && io->maps[i].size == size)
			break;
	if (i == io->n_maps)
		return -ENOENT;
	int rc;
	if (io->backend == VFIO_BACKEND_IOMMUFD) {
		struct vfs_iommu_ioas_unmap u = { sizeof(u), io->ioas_id, iova, size };
		rc = ioctl(io->fd, VFS_IOMMU_IOAS_UNMAP, &u);
	} else {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };
		rc = ioctl(io->fd, VFIO_IOMMU_UNMAP_DMA, &u);
		if (rc == 0 && u.size != size)
			return -EIO;
	}
	if (rc != 0)
		return -errno;
	io->maps[i] = io->maps[--io->n_maps];
	if (io->caps.have_dma_avail)
		io->caps.dma_avail++;
	return 0;
}

unsigned vfio_dma_count(const struct vfio_iommu *io, uint64_t *bytes)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < io->n_maps; i++)
		total += io->maps[i].size;
	if (bytes)
		*bytes = total;
	return io->n_maps;
}

static void group_put(struct vfio_iommu *io, int slot)
{
	if (slot < 0 || --io->group_refs[slot])
		return;
	ioctl(io->group_fds[slot], VFIO_GROUP_UNSET_CONTAINER);
	close(io->group_fds[slot]);
	io->group_fds[slot] = -1;
	bool any = false;
	for (unsigned i = 0; i < MAX_GROUPS; i++)
		any |= io->group_fds[i] >= 0;
	if (!any)
		io->iommu_set = false; /* the last group left: the kernel dropped the IOMMU */
}

void vfio_iommu_close(struct vfio_iommu *io)
{
	if (!io)
		return;
	while (io->n_maps)
		if (vfio_dma_unmap(io, io->maps[0].iova, io->maps[0].size) != 0)
			io->maps[0] = io->maps[--io->n_maps]; /* gone with the fd anyway */
	for (unsigned i = 0; i < MAX_GROUPS; i++)
		if (io->group_fds[i] >= 0) {
			io->group_refs[i] = 1;
			group_put(io, (int)i);
		}
	if (io->ioas_id) {
		struct vfs_iommu_destroy d = { sizeof(d), io->ioas_id };
		ioctl(io->fd, VFS_IOMMU_DESTROY, &d);
	}
	close(io->fd);
	free(io->maps);
	free(io);
}

/* Join the device's group to the container (opening it once). */
static int group_get(struct vfio_iommu *io, const char *bdf, int *slot_out,
		     char *why, size_t why_len)
{
	int group, err = vfio_group_of(bdf, &group);
	if (err) {
		if (why_len)
			snprintf(why, why_len, err == -ENOENT ? "no PCI device %s" :
				 "device %s has no IOMMU group (is the IOMMU on?)", bdf);
		return err;
	}
	for (unsigned i = 0; i < MAX_GROUPS; i++)
		if (io->group_fds[i] >= 0 && io->groups[i] == group) {
			io->group_refs[i]++;
			*slot_out = (int)i;
			return 0;
		}
	err = vfio_group_viable(group, why, why_len);
	if (err)
		return err;
	int slot = -1;
	for (unsigned i = 0; i < MAX_GROUPS && slot < 0; i++)
		if (io->group_fds[i] < 0)
			slot = (int)i;
	if (slot < 0)
		return -ENOSPC;
	char path[64];
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	int gfd = open(path, O_RDWR | O_CLOEXEC);
	if (gfd < 0) {
		err = -errno;
		if (why_len && err == -EBUSY)
			snprintf(why, why_len, "IOMMU group %d of %s is already in use by another "
				 "process (is the VF assigned already?)", group, bdf);
		else if (why_len)
			snprintf(why, why_len, "cannot open %s for %s: %s", path, bdf, strerror(-err));
		return err;
	}
	struct vfio_group_status st = { .argsz = sizeof(st) };
	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &st) != 0 || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		err = -EBUSY;
		if (why_len)
			snprintf(why, why_len, "IOMMU group %d of %s is not viable: bind every "
				 "device in it to vfio-pci", group, bdf);
		goto fail;
	}
	if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &io->fd) != 0) {
		err = -errno;
		goto fail;
	}
	if (!io->iommu_set) {
		if (ioctl(io->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) != 0) {
			err = -errno;
			ioctl(gfd, VFIO_GROUP_UNSET_CONTAINER);
			goto fail;
		}
		io->iommu_set = true;
		err = container_read_caps(io);
		if (err) {
			ioctl(gfd, VFIO_GROUP_UNSET_CONTAINER);
			io->iommu_set = false;
			goto fail;
		}
	}
	io->groups[slot] = group;
	io->group_fds[slot] = gfd;
	io->group_refs[slot] = 1;
	*slot_out = slot;
	return 0;
fail:
	close(gfd);
	return err;
}

/* /sys/bus/pci/devices/BDF/vfio-dev/vfioN -> /dev/vfio/devices/vfioN */
static int open_cdev(const char *bdf)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", vfio_sysfs_root, bdf);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	struct dirent *e;
	int fd = -ENOENT;
	while ((e = readdir(d)) != NULL)
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				fd = -errno;
			break;
		}
	closedir(d);
	return fd;
}

int vfio_dev_open(struct vfio_iommu *io, const char *bdf, struct vfio_dev **out,
		  char *why, size_t why_len)
{
	if (why_len)
		why[0] = '\0';
	if (strlen(bdf) >= sizeof(((struct vfio_dev *)0)->bdf))
		return -EINVAL;
	struct vfio_dev *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->iommu = io;
	dev->group_slot = -1;
	dev->fd = -1;
	strcpy(dev->bdf, bdf);
	int err;
	if (io->backend == VFIO_BACKEND_IOMMUFD) {
		dev->fd = open_cdev(bdf);
		if (dev->fd < 0) {
			err = dev->fd;
			if (why_len)
				snprintf(why, why_len, "no VFIO device node for %s: bind it to vfio-pci", bdf);
			goto fail;
		}
		struct vfs_vfio_device_bind_iommufd b = { sizeof(b), 0, io->fd, 0 };
		struct vfs_vfio_device_attach_iommufd_pt a = { sizeof(a), 0, io->ioas_id };
		if (ioctl(dev->fd, VFS_VFIO_DEVICE_BIND_IOMMUFD, &b) != 0 ||
		    ioctl(dev->fd, VFS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a) != 0) {
			err = -errno;
			goto fail;
		}
	} else {
		err = group_get(io, bdf, &dev->group_slot, why, why_len);
		if (err)
			goto fail;
		dev->fd = ioctl(io->group_fds[dev->group_slot], VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (dev->fd < 0) {
			err = -errno;
			if (why_len)
				snprintf(why, why_len, "VFIO refused device %s: %s", bdf, strerror(-err));
			goto fail;
		}
	}
	dev->info.argsz = sizeof(dev->info);
	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &dev->info) != 0) {
		err = -errno;
		goto fail;
	}
	if (!(dev->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    dev->info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		err = -ENODEV;
		goto fail;
	}
	*out = dev;
	return 0;
fail:
	if (dev->fd >= 0)
		close(dev->fd);
	group_put(io, dev->group_slot);
	free(dev);
	return err;
}

void vfio_dev_close(struct vfio_dev *dev)
{
	if (!dev)
		return;
	for (unsigned i = 0; i < 32 && i < dev->info.num_irqs; i++)
		if (dev->irqs_enabled & (1u << i))
			vfio_dev_irq_disable(dev, i);
	vfio_dev_reset(dev);
	close(dev->fd);
	group_put(dev->iommu, dev->group_slot);
	free(dev);
}

const char *vfio_dev_bdf(const struct vfio_dev *dev) { return dev->bdf; }
int vfio_dev_fd(const struct vfio_dev *dev) { return dev->fd; }
unsigned vfio_dev_num_regions(const struct vfio_dev *dev) { return dev->info.num_regions; }
unsigned vfio_dev_num_irqs(const struct vfio_dev *dev) { return dev->info.num_irqs; }
bool vfio_dev_can_reset(const struct vfio_dev *dev)
{
	return dev->info.flags & VFIO_DEVICE_FLAGS_RESET;
}
uint32_t vfio_dev_irqs_enabled(const struct vfio_dev *dev) { return dev->irqs_enabled; }

/* --- regions ------------------------------------------------------------------ */

static int region_cap(const struct vfio_info_cap_header *h, size_t room, void *ctx)
{
	struct vfio_region *reg = ctx;
	struct vfio_info_cap_header hdr;
	memcpy(&hdr, h, sizeof(hdr));
	if (hdr.id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
		reg->msix_mappable = true;
	} else if (hdr.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
		struct vfio_region_info_cap_sparse_mmap s;
		if (room < sizeof(s))
			return -EINVAL;
		memcpy(&s, h, sizeof(s));
		if (s.nr_areas > VFIO_MAX_SPARSE ||
		    room < sizeof(s) + (size_t)s.nr_areas * sizeof(struct vfio_region_sparse_mmap_area))
			return -EINVAL;
		const unsigned char *p = (const unsigned char *)h + sizeof(s);
		for (uint32_t i = 0; i < s.nr_areas; i++) {
			struct vfio_region_sparse_mmap_area a;
			memcpy(&a, p + i * sizeof(a), sizeof(a));
			if (a.offset + a.size < a.offset || a.offset + a.size > reg->size)
				return -EINVAL;
			reg->sparse[i].offset = a.offset;
			reg->sparse[i].size = a.size;
		}
		reg->n_sparse = s.nr_areas;
	}
	return 0;
}

int vfio_parse_region_info(const void *buf, size_t len, struct vfio_region *reg)
{
	struct vfio_region_info ri;
	if (len < sizeof(ri))
		return -EINVAL;
	memcpy(&ri, buf, sizeof(ri));
	if (ri.argsz > len)
		return -EINVAL;
	memset(reg, 0, sizeof(*reg));
	reg->index = ri.index;
	reg->flags = ri.flags;
	reg->size = ri.size;
	reg->offset = ri.offset;
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	return walk_caps(buf, ri.argsz, ri.cap_offset, region_cap, reg);
}

int vfio_dev_region(struct vfio_dev *dev, unsigned index, struct vfio_region *out)
{
	if (index >= dev->info.num_regions)
		return -EINVAL;
	size_t len = sizeof(struct vfio_region_info);
	for (int tries = 0; tries < 4; tries++) {
		struct vfio_region_info *ri = calloc(1, len);
		if (!ri)
			return -ENOMEM;
		ri->argsz = (uint32_t)len;
		ri->index = index;
		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri) != 0) {
			int err = -errno;
			free(ri);
			return err;
		}
		if (ri->argsz > len) {
			len = ri->argsz;
			free(ri);
			continue;
		}
		int err = vfio_parse_region_info(ri, len, out);
		free(ri);
		return err;
	}
	return -EIO;
}

int vfio_dev_region_mmap(struct vfio_dev *dev, unsigned index, uint64_t off,
			 uint64_t len, void **addr)
{
	struct vfio_region reg;
	int err = vfio_dev_region(dev, index, &reg);
	if (err)
		return err;
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_MMAP) || !len || ((off | len) & 0xfff) ||
	    off + len > reg.size)
		return -EINVAL;
	int prot = 0;
	if (reg.flags & VFIO_REGION_INFO_FLAG_READ)
		prot |= PROT_READ;
	if (reg.flags & VFIO_REGION_INFO_FLAG_WRITE)
		prot |= PROT_WRITE;
	void *p = mmap(NULL, len, prot, MAP_SHARED, dev->fd, (off_t)(reg.offset + off));
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

/* Region offsets in the device fd: VFIO_PCI_INDEX_TO_OFFSET is index << 40 for
 * vfio-pci, but the region info says so authoritatively. */
static int region_io(struct vfio_dev *dev, unsigned index, uint64_t off, void *buf,
		     size_t len, bool write)
{
	struct vfio_region reg;
	int err = vfio_dev_region(dev, index, &reg);
	if (err)
		return err;
	if (off + len > reg.size || off + len < off)
		return -EINVAL;
	ssize_t n = write ? pwrite(dev->fd, buf, len, (off_t)(reg.offset + off))
			  : pread(dev->fd, buf, len, (off_t)(reg.offset + off));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_dev_region_read(struct vfio_dev *dev, unsigned index, uint64_t off, void *buf, size_t len)
{
	return region_io(dev, index, off, buf, len, false);
}

int vfio_dev_region_write(struct vfio_dev *dev, unsigned index, uint64_t off,
			  const void *buf, size_t len)
{
	return region_io(dev, index, off, (void *)buf, len, true);
}

/* Config space offsets are fixed per device: cache nothing, just compute the
 * offset once through region info (cheap) — config accesses are rare. */
int vfio_dev_cfg_read(struct vfio_dev *dev, unsigned off, void *buf, size_t len)
{
	return region_io(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, buf, len, false);
}

int vfio_dev_cfg_write(struct vfio_dev *dev, unsigned off, const void *buf, size_t len)
{
	return region_io(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, (void *)buf, len, true);
}

/* --- interrupts ------------------------------------------------------------------ */

int vfio_dev_irq_info(struct vfio_dev *dev, unsigned index, uint32_t *count, uint32_t *flags)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };
	if (index >= dev->info.num_irqs)
		return -EINVAL;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) != 0)
		return -errno;
	if (count)
		*count = ii.count;
	if (flags)
		*flags = ii.flags;
	return 0;
}

int vfio_dev_irq_set_eventfds(struct vfio_dev *dev, unsigned index, unsigned start,
			      unsigned count, const int *fds)
{
	uint32_t max = 0;
	int err = vfio_dev_irq_info(dev, index, &max, NULL);
	if (err)
		return err;
	if (!count || start + count > max || start + count < start)
		return -EINVAL;
	size_t len = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, len);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)len;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = start;
	set->count = count;
	for (unsigned i = 0; i < count; i++) {
		int32_t fd = fds[i];
		memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
	}
	err = ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set) == 0 ? 0 : -errno;
	free(set);
	if (!err && index < 32)
		dev->irqs_enabled |= 1u << index;
	return err;
}

int vfio_dev_irq_disable(struct vfio_dev *dev, unsigned index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index, .start = 0, .count = 0,
	};
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set) != 0)
		return -errno;
	if (index < 32)
		dev->irqs_enabled &= ~(1u << index);
	return 0;
}

static int intx_action(struct vfio_dev *dev, uint32_t action)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set), .flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1,
	};
	return ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set) == 0 ? 0 : -errno;
}

int vfio_dev_intx_unmask(struct vfio_dev *dev) { return intx_action(dev, VFIO_IRQ_SET_ACTION_UNMASK); }
int vfio_dev_intx_mask(struct vfio_dev *dev) { return intx_action(dev, VFIO_IRQ_SET_ACTION_MASK); }

/* --- reset ------------------------------------------------------------------------ */

int vfio_dev_reset(struct vfio_dev *dev)
{
	if (!vfio_dev_can_reset(dev))
		return -ENOTTY;
	return ioctl(dev->fd, VFIO_DEVICE_RESET) == 0 ? 0 : -errno;
}

int vfio_dev_hot_reset(struct vfio_dev *dev, char *why, size_t why_len)
{
	size_t len = sizeof(struct vfio_pci_hot_reset_info) + 16 * sizeof(struct vfio_pci_dependent_device);
	struct vfio_pci_hot_reset_info *info = calloc(1, len);
	if (!info)
		return -ENOMEM;
	info->argsz = (uint32_t)len;
	int err = 0;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info) != 0) {
		err = -errno;
		if (why_len)
			snprintf(why, why_len, "%s cannot be hot reset: %s", dev->bdf, strerror(-err));
		goto out;
	}
	if (info->count > 16) {
		err = -ENOSPC;
		goto out;
	}
	struct vfio_iommu *io = dev->iommu;
	int32_t fds[16];
	for (uint32_t i = 0; i < info->count; i++) {
		int fd = -1;
		for (unsigned g = 0; g < MAX_GROUPS; g++)
			if (io->group_fds[g] >= 0 && (uint32_t)io->groups[g] == info->devices[i].group_id)
				fd = io->group_fds[g];
		if (fd < 0) {
			err = -EPERM;
			if (why_len)
				snprintf(why, why_len, "hot reset of %s also resets %04x:%02x:%02x.%x in "
					 "IOMMU group %u, which this process does not own",
					 dev->bdf, info->devices[i].segment, info->devices[i].bus,
					 info->devices[i].devfn >> 3, info->devices[i].devfn & 7,
					 info->devices[i].group_id);
			goto out;
		}
		fds[i] = fd;
	}
	size_t rlen = sizeof(struct vfio_pci_hot_reset) + info->count * sizeof(int32_t);
	struct vfio_pci_hot_reset *r = calloc(1, rlen);
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	r->argsz = (uint32_t)rlen;
	r->count = info->count;
	memcpy(r->group_fds, fds, info->count * sizeof(int32_t));
	err = ioctl(dev->fd, VFIO_DEVICE_PCI_HOT_RESET, r) == 0 ? 0 : -errno;
	free(r);
out:
	free(info);
	return err;
}
