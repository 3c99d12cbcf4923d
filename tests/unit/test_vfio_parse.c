/* vfio/: capability chains, memlock arithmetic, groups and binding on a fake
 * sysfs tree — what can run without /dev/vfio. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfio/vfio.h"

/* --- VFIO_IOMMU_GET_INFO with IOVA ranges and dma_avail --------------------- */

static size_t build_iommu_info(uint8_t *buf, size_t room, uint32_t loop_next)
{
	memset(buf, 0, room);
	struct vfio_iommu_type1_info info = { 0 };
	size_t off = sizeof(info);
	struct vfio_iommu_type1_info_cap_iova_range r = { 0 };
	r.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	r.header.version = 1;
	r.nr_iovas = 2;
	size_t r_off = off, r_len = sizeof(r) + 2 * sizeof(struct vfio_iova_range);
	size_t a_off = (r_off + r_len + 7) & ~7ul;
	r.header.next = (uint32_t)a_off;
	memcpy(buf + r_off, &r, sizeof(r));
	struct vfio_iova_range ranges[2] = { { 0, 0xfedfffff }, { 0xfef00000, (1ull << 39) - 1 } };
	memcpy(buf + r_off + sizeof(r), ranges, sizeof(ranges));
	struct vfio_iommu_type1_info_dma_avail a = { 0 };
	a.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	a.header.version = 1;
	a.header.next = loop_next;
	a.avail = 65535;
	memcpy(buf + a_off, &a, sizeof(a));
	info.argsz = (uint32_t)(a_off + sizeof(a));
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = 0x40201000;
	info.cap_offset = (uint32_t)r_off;
	memcpy(buf, &info, sizeof(info));
	assert_true(info.argsz <= room);
	return info.argsz;
}

static void iommu_info_ranges_and_dma_avail(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_iommu_info(buf, sizeof(buf), 0);
	struct vfio_iommu_caps caps;
	assert_int_equal(vfio_parse_iommu_info(buf, len, &caps), 0);
	assert_int_equal(caps.pgsize_bitmap, 0x40201000);
	assert_int_equal(caps.n_ranges, 2);
	assert_int_equal(caps.ranges[0].start, 0);
	assert_int_equal(caps.ranges[0].last, 0xfedfffff);
	assert_int_equal(caps.ranges[1].start, 0xfef00000);
	assert_true(caps.have_dma_avail);
	assert_int_equal(caps.dma_avail, 65535);
}

static void iommu_info_malformed_chains_are_refused(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct vfio_iommu_caps caps;
	/* A chain that points back at itself. */
	struct vfio_iommu_type1_info info;
	size_t len = build_iommu_info(buf, sizeof(buf), 0);
	memcpy(&info, buf, sizeof(info));
	size_t a_off = len - sizeof(struct vfio_iommu_type1_info_dma_avail);
	len = build_iommu_info(buf, sizeof(buf), (uint32_t)a_off);
	assert_int_equal(vfio_parse_iommu_info(buf, len, &caps), -EINVAL);
	/* A capability beyond the buffer. */
	len = build_iommu_info(buf, sizeof(buf), 0);
	info.cap_offset = 4000;
	memcpy(buf, &info, sizeof(info));
	assert_int_equal(vfio_parse_iommu_info(buf, len, &caps), -EINVAL);
	/* argsz larger than what we hold. */
	len = build_iommu_info(buf, sizeof(buf), 0);
	assert_int_equal(vfio_parse_iommu_info(buf, len - 8, &caps), -EINVAL);
	/* No capabilities at all: fine, the whole space. */
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	memcpy(buf, &info, sizeof(info));
	assert_int_equal(vfio_parse_iommu_info(buf, sizeof(info), &caps), 0);
	assert_int_equal(caps.n_ranges, 0);
	assert_false(caps.have_dma_avail);
}

/* --- VFIO_DEVICE_GET_REGION_INFO: sparse mmap + MSIX_MAPPABLE ---------------- */

static size_t build_region(uint8_t *buf, uint64_t area1_size)
{
	memset(buf, 0, 256);
	struct vfio_region_info ri = { 0 };
	struct vfio_region_info_cap_sparse_mmap s = { 0 };
	struct vfio_info_cap_header m = { 0 };
	size_t s_off = sizeof(ri), s_len = sizeof(s) + 2 * sizeof(struct vfio_region_sparse_mmap_area);
	size_t m_off = (s_off + s_len + 7) & ~7ul;
	s.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	s.header.version = 1;
	s.header.next = (uint32_t)m_off;
	s.nr_areas = 2;
	memcpy(buf + s_off, &s, sizeof(s));
	struct vfio_region_sparse_mmap_area areas[2] = { { 0x1000, 0x1000 }, { 0x3000, area1_size } };
	memcpy(buf + s_off + sizeof(s), areas, sizeof(areas));
	m.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
	m.version = 1;
	memcpy(buf + m_off, &m, sizeof(m));
	ri.argsz = (uint32_t)(m_off + sizeof(m));
	ri.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		   VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	ri.index = 3;
	ri.cap_offset = (uint32_t)s_off;
	ri.size = 0x4000;
	ri.offset = 3ull << 40;
	memcpy(buf, &ri, sizeof(ri));
	return ri.argsz;
}

static void region_info_sparse_areas_and_msix_mappable(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = build_region(buf, 0x1000);
	struct vfio_region reg;
	assert_int_equal(vfio_parse_region_info(buf, len, &reg), 0);
	assert_int_equal(reg.index, 3);
	assert_int_equal(reg.size, 0x4000);
	assert_int_equal(reg.offset, 3ull << 40);
	assert_true(reg.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(reg.msix_mappable);
	assert_int_equal(reg.n_sparse, 2);
	assert_int_equal(reg.sparse[1].offset, 0x3000);
	assert_int_equal(reg.sparse[1].size, 0x1000);
	/* An area past the end of the region is refused. */
	len = build_region(buf, 0x2000);
	assert_int_equal(vfio_parse_region_info(buf, len, &reg), -EINVAL);
}

/* --- memlock ------------------------------------------------------------------- */

static void memlock_shortfall_says_how_much(void **state)
{
	(void)state;
	assert_int_equal(vfio_memlock_shortfall(256ull << 20, 1ull << 20, false), 255ull << 20);
	assert_int_equal(vfio_memlock_shortfall(256ull << 20, 1ull << 20, true), 0);
	assert_int_equal(vfio_memlock_shortfall(256ull << 20, 256ull << 20, false), 0);
	assert_int_equal(vfio_memlock_shortfall(1ull << 40, (uint64_t)RLIM_INFINITY, false), 0);
}

/* --- a fake sysfs: groups, viability, binding with rollback -------------------- */

static char root[256];

static void mkpath(const char *fmt, const char *a)
{
	char p[PATH_MAX], cmd[PATH_MAX + 16];
	snprintf(p, sizeof(p), fmt, root, a);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
}

static void link_to(const char *target, const char *fmt, const char *a)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), fmt, root, a);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void touch(const char *fmt, const char *a)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), fmt, root, a);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static int fake_sysfs(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vfs-sysfs-XXXXXX");
	assert_non_null(mkdtemp(root));
	const char *vf = "0000:00:12.0", *other = "0000:00:12.1";
	mkpath("%s/bus/pci/devices/%s", vf);
	mkpath("%s/bus/pci/devices/%s", other);
	mkpath("%s/bus/pci/drivers/%s", "igbvf");
	mkpath("%s/bus/pci/drivers/%s", "vfio-pci");
	mkpath("%s/kernel/iommu_groups/%s/devices", "4");
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "%s/kernel/iommu_groups/4", root);
	link_to(t, "%s/bus/pci/devices/%s/iommu_group", vf);
	snprintf(t, sizeof(t), "%s/bus/pci/devices/%s", root, vf);
	link_to(t, "%s/kernel/iommu_groups/4/devices/%s", vf);
	snprintf(t, sizeof(t), "%s/bus/pci/devices/%s", root, other);
	link_to(t, "%s/kernel/iommu_groups/4/devices/%s", other);
	snprintf(t, sizeof(t), "%s/bus/pci/drivers/igbvf", root);
	link_to(t, "%s/bus/pci/devices/%s/driver", vf);
	link_to(t, "%s/bus/pci/devices/%s/driver", other);
	touch("%s/bus/pci/devices/%s/driver_override", vf);
	touch("%s/bus/pci/drivers/igbvf/%s", "unbind");
	touch("%s/bus/pci/drivers/igbvf/%s", "bind");
	touch("%s/bus/pci/%s", "drivers_probe");
	vfio_sysfs_root = root;
	return 0;
}

static int fake_sysfs_rm(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	vfio_sysfs_root = "/sys";
	return 0;
}

static void group_viability_names_the_blocker(void **state)
{
	(void)state;
	int group = -1;
	assert_int_equal(vfio_group_of("0000:00:12.0", &group), 0);
	assert_int_equal(group, 4);
	assert_int_equal(vfio_group_of("0000:00:99.0", &group), -ENOENT);
	char why[256];
	assert_int_equal(vfio_group_viable(4, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "in IOMMU group 4 is bound to igbvf"));
	/* Once both devices are on vfio-pci (or none), the group is viable. */
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "%s/bus/pci/drivers/vfio-pci", root);
	link_to(t, "%s/bus/pci/devices/%s/driver", "0000:00:12.0");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:12.1/driver", root);
	unlink(p);
	assert_int_equal(vfio_group_viable(4, why, sizeof(why)), 0);
	char drv[32];
	assert_int_equal(vfio_current_driver("0000:00:12.1", drv, sizeof(drv)), 0);
	assert_string_equal(drv, "");
	assert_int_equal(vfio_current_driver("0000:00:12.0", drv, sizeof(drv)), 0);
	assert_string_equal(drv, "vfio-pci");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iommu_info_ranges_and_dma_avail),
		cmocka_unit_test(iommu_info_malformed_chains_are_refused),
		cmocka_unit_test(region_info_sparse_areas_and_msix_mappable),
		cmocka_unit_test(memlock_shortfall_says_how_much),
		cmocka_unit_test_setup_teardown(group_viability_names_the_blocker, fake_sysfs, fake_sysfs_rm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
