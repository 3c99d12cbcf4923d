/*
 * vfio-check BDF — the vfio/ API against a real VF bound to vfio-pci (inside the
 * testbed).  Prints TAP lines ("ok - ..." / "not ok - ..."), exit 1 on a failure.
 * Facts of the testbed's igb VF (docs/testbed.md): BAR0 16 KiB, BAR3 16 KiB with
 * MSIX_MAPPABLE and no sparse areas, 3 MSI-X vectors, no INTx, 8086:10ca.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfio/vfio.h"

static int failed;

static void check(int cond, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(int cond, const char *what, const char *fmt, ...)
{
	printf("%s - vfio: %s\n", cond ? "ok" : "not ok", what);
	if (!cond) {
		failed = 1;
		va_list ap;
		va_start(ap, fmt);
		printf("#   ");
		vprintf(fmt, ap);
		printf("\n");
		va_end(ap);
	}
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = -1;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* . and .. counted by -1 start + opendir's own fd */
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 100) == 1;
}

static int trigger(struct vfio_dev *dev, unsigned vec)
{
	/* VFIO_IRQ_SET_DATA_NONE + ACTION_TRIGGER: VFIO signals the vector's eventfd. */
	struct vfio_irq_set set = { .argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX, .start = vec, .count = 1 };
	return ioctl(vfio_dev_fd(dev), VFIO_DEVICE_SET_IRQS, &set) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: vfio-check BDF (bound to vfio-pci)\n");
		return 2;
	}
	const char *bdf = argv[1];
	int fds0 = open_fds();
	char why[256] = "";

	struct vfio_iommu *io;
	int err = vfio_iommu_open(VFIO_BACKEND_AUTO, &io);
	bool has_iommufd = access("/dev/iommu", F_OK) == 0;
	check(!err && vfio_iommu_backend(io) == (has_iommufd ? VFIO_BACKEND_IOMMUFD : VFIO_BACKEND_CONTAINER),
	      has_iommufd ? "with /dev/iommu the iommufd backend is chosen"
			  : "without /dev/iommu (no iommufd in this kernel) the container backend is chosen",
	      "err %d backend %d", err, err ? -1 : (int)vfio_iommu_backend(io));
	if (err)
		return 1;
	int group = -1;
	check(vfio_group_of(bdf, &group) == 0 && vfio_group_viable(group, why, sizeof(why)) == 0,
	      "the VF's IOMMU group is viable", "group %d: %s", group, why);

	struct vfio_dev *dev;
	err = vfio_dev_open(io, bdf, &dev, why, sizeof(why));
	check(!err, "the device opens through its group (VFIO_TYPE1v2_IOMMU set)", "%d: %s", err, why);
	if (err)
		return 1;
	check(vfio_dev_num_regions(dev) > VFIO_PCI_CONFIG_REGION_INDEX && vfio_dev_num_irqs(dev) > VFIO_PCI_MSIX_IRQ_INDEX &&
	      vfio_dev_can_reset(dev), "device info: PCI regions, IRQ indexes, reset supported",
	      "regions %u irqs %u reset %d", vfio_dev_num_regions(dev), vfio_dev_num_irqs(dev), vfio_dev_can_reset(dev));

	const struct vfio_iommu_caps *caps = vfio_iommu_caps(io);
	check(caps->n_ranges >= 1 && caps->have_dma_avail && (caps->pgsize_bitmap & 4096),
	      "IOMMU info: IOVA ranges, dma_avail and 4 KiB pages", "ranges %u dma_avail %d/%u pgsizes %#llx",
	      caps->n_ranges, caps->have_dma_avail, caps->dma_avail, (unsigned long long)caps->pgsize_bitmap);
	for (unsigned i = 0; i < caps->n_ranges; i++)
		printf("#   IOVA range %u: %#llx-%#llx\n", i, (unsigned long long)caps->ranges[i].start,
		       (unsigned long long)caps->ranges[i].last);

	/* Regions. */
	struct vfio_region r0, r3;
	err = vfio_dev_region(dev, 0, &r0) | vfio_dev_region(dev, 3, &r3);
	check(!err && r0.size == 0x4000 && (r0.flags & VFIO_REGION_INFO_FLAG_MMAP),
	      "BAR0 is 16 KiB and mmappable", "size %#llx flags %#x", (unsigned long long)r0.size, r0.flags);
	check(!err && r3.size == 0x4000 && r3.msix_mappable && r3.n_sparse == 0,
	      "BAR3 (MSI-X) is 16 KiB with MSIX_MAPPABLE and no sparse areas",
	      "size %#llx msix_mappable %d sparse %u", (unsigned long long)r3.size, r3.msix_mappable, r3.n_sparse);
	void *bar0 = NULL;
	err = vfio_dev_region_mmap(dev, 0, 0, r0.size, &bar0);
	uint32_t status = err ? 0 : ((volatile uint32_t *)bar0)[2]; /* igbvf STATUS at 0x8 */
	check(!err, "BAR0 mmaps", "%d", err);
	printf("#   BAR0 STATUS register %#x\n", status);
	if (!err)
		munmap(bar0, r0.size);
	void *bad;
	check(vfio_dev_region_mmap(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, 4096, &bad) == -EINVAL,
	      "config space refuses mmap (-EINVAL)", "it did not");

	/* Config space. */
	uint16_t ids[2] = { 0, 0 }, cmd = 0;
	err = vfio_dev_cfg_read(dev, 0, ids, 4);
	check(!err && ids[0] == 0x8086 && ids[1] == 0x10ca, "config read: 8086:10ca", "%d %04x:%04x", err, ids[0], ids[1]);
	uint16_t want = 0x0006;
	err = vfio_dev_cfg_write(dev, 4, &want, 2) | vfio_dev_cfg_read(dev, 4, &cmd, 2);
	check(!err && (cmd & 6) == 6, "config write: memory + bus master enabled read back", "%d cmd %#x", err, cmd);

	/* IRQs. */
	uint32_t n = 0, flags = 0, nintx = 99;
	err = vfio_dev_irq_info(dev, VFIO_PCI_MSIX_IRQ_INDEX, &n, &flags);
	vfio_dev_irq_info(dev, VFIO_PCI_INTX_IRQ_INDEX, &nintx, NULL);
	check(!err && n == 3 && (flags & VFIO_IRQ_INFO_EVENTFD) && nintx == 0,
	      "IRQ info: 3 MSI-X vectors with eventfds, no INTx (a VF)", "%d msix %u flags %#x intx %u", err, n, flags, nintx);
	int efd[3];
	for (int i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = vfio_dev_irq_set_eventfds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3, efd);
	check(!err && (vfio_dev_irqs_enabled(dev) & (1u << VFIO_PCI_MSIX_IRQ_INDEX)),
	      "MSI-X on with an eventfd per vector", "%d", err);
	err = trigger(dev, 2);
	check(!err && readable(efd[2]) && !readable(efd[0]) && !readable(efd[1]),
	      "a trigger of vector 2 signals vector 2's eventfd only", "%d", err);
	int efd1b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), one = efd1b;
	err = vfio_dev_irq_set_eventfds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1, &one);
	int trig = err ? err : trigger(dev, 1);
	check(!err && !trig && readable(efd1b) && !readable(efd[1]),
	      "a per-vector update moves vector 1 to a new eventfd", "set %d trigger %d", err, trig);
	int none = -1;
	err = vfio_dev_irq_set_eventfds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &none);
	check(!err, "a per-vector update detaches vector 0 (fd -1)", "%d", err);
	err = vfio_dev_irq_disable(dev, VFIO_PCI_MSIX_IRQ_INDEX);
	check(!err && !(vfio_dev_irqs_enabled(dev) & (1u << VFIO_PCI_MSIX_IRQ_INDEX)), "MSI-X off", "%d", err);
	for (int i = 0; i < 3; i++)
		close(efd[i]);
	close(efd1b);
	check(vfio_dev_intx_unmask(dev) != 0, "INTx unmask on a device without INTx is refused", "it succeeded");

	/* DMA. */
	size_t len = 2u << 20;
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t need = 0, bytes = 0;
	uint32_t avail0 = caps->dma_avail;
	err = vfio_dma_map(io, buf, 0x100000, len, &need);
	check(!err && vfio_dma_count(io, &bytes) == 1 && bytes == len && caps->dma_avail == avail0 - 1,
	      "DMA map of 2 MiB at IOVA 1 MiB (dma_avail goes down by one)", "%d count %u avail %u->%u",
	      err, vfio_dma_count(io, NULL), avail0, caps->dma_avail);
	err = vfio_dma_map(io, buf, 0xfee00000, 4096, &need);
	check(err == -ERANGE || caps->n_ranges == 0 || caps->ranges[0].last >= 0xfee00fff,
	      "a map inside the MSI window (outside the IOVA ranges) is refused with -ERANGE", "%d", err);
	err = vfio_dma_map(io, buf, 0x100000, len, &need);
	check(err == -EEXIST || err == -EBUSY, "mapping the same IOVA twice is refused by the kernel", "%d", err);
	check(vfio_dma_unmap(io, 0x100000, len) == 0 && vfio_dma_count(io, NULL) == 0 &&
	      vfio_dma_unmap(io, 0x100000, len) == -ENOENT, "DMA unmap; unmapping again is -ENOENT", "count %u",
	      vfio_dma_count(io, NULL));

	/* Reset. */
	check(vfio_dev_reset(dev) == 0, "VFIO_DEVICE_RESET", "failed");
	why[0] = '\0';
	err = vfio_dev_hot_reset(dev, why, sizeof(why));
	check(err == 0 || strstr(why, bdf) != NULL, "hot reset succeeds or says which device stops it",
	      "%d: '%s'", err, why);
	printf("#   hot reset: %s\n", err ? why : "done");

	/* The group is exclusive: a second container cannot take it. */
	struct vfio_iommu *io2;
	struct vfio_dev *dev2;
	err = vfio_iommu_open(VFIO_BACKEND_CONTAINER, &io2);
	if (!err) {
		why[0] = '\0';
		int e2 = vfio_dev_open(io2, bdf, &dev2, why, sizeof(why));
		check(e2 == -EBUSY && strstr(why, "already in use"), "a second user of the group gets -EBUSY, named",
		      "%d '%s'", e2, why);
		printf("#   %s\n", why);
		if (!e2)
			vfio_dev_close(dev2);
		vfio_iommu_close(io2);
	}

	/* Too little memlock: drop CAP_IPC_LOCK, 1 MiB limit, map 2 MiB. */
	vfio_dma_map(io, buf, 0x100000, len, &need);
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	syscall(SYS_capget, &hdr, data);
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	syscall(SYS_capset, &hdr, data);
	struct rlimit rl = { 1u << 20, 1u << 20 };
	setrlimit(RLIMIT_MEMLOCK, &rl);
	need = 0;
	err = vfio_dma_map(io, (uint8_t *)buf, 0x400000, len, &need);
	check(err == -ENOMEM && need == 2 * len, "with RLIMIT_MEMLOCK 1 MiB and no CAP_IPC_LOCK a 2 MiB map fails, "
	      "saying 4 MiB are needed (2 mapped + 2)", "%d need %llu", err, (unsigned long long)need);

	vfio_dev_close(dev);
	vfio_iommu_close(io);
	munmap(buf, len);
	int fds1 = open_fds();
	check(fds1 == fds0, "closing the device and the container leaves no fd open", "%d fds, were %d", fds1, fds0);
	return failed;
}
