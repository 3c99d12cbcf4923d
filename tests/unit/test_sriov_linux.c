/* The Linux half of sriov/ against a hand-built sysfs tree (VFSTACK_SYSFS):
 * discovery, the NumVFs rules, IOMMU-group viability, the assignment
 * registry, ACS on the path to a PF, and the small parsers vfctl relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/pci_acs.h"
#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sriov_netlink.h"
#include "sriov/linux/sriov_sysfs.h"

static char root[256];

static void mkdirs(const char *fmt, ...)
{
	char p[PATH_MAX], cmd[PATH_MAX + 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	sriov_fmt(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *rel, const char *val)
{
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(val, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target_rel)
{
	char p[PATH_MAX], t[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/%s", root, rel);
	sriov_fmt(t, sizeof(t), "%s/%s", root, target_rel);
	unlink(p);
	assert_int_equal(symlink(t, p), 0);
}

static void device(const char *bdf, const char *vendor, const char *devid, const char *cls,
		   const char *driver, int group)
{
	char rel[256], t[256];
	mkdirs("%s/bus/pci/devices/%s", root, bdf);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", bdf);
	put(rel, vendor);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", bdf);
	put(rel, devid);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", bdf);
	put(rel, cls);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", bdf);
	put(rel, "(null)\n");
	if (driver) {
		mkdirs("%s/bus/pci/drivers/%s", root, driver);
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", bdf);
		sriov_fmt(t, sizeof(t), "bus/pci/drivers/%s", driver);
		link_to(rel, t);
	}
	if (group >= 0) {
		mkdirs("%s/kernel/iommu_groups/%d/devices", root, group);
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", bdf);
		sriov_fmt(t, sizeof(t), "kernel/iommu_groups/%d", group);
		link_to(rel, t);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s", group, bdf);
		sriov_fmt(t, sizeof(t), "bus/pci/devices/%s", bdf);
		link_to(rel, t);
	}
}

/* An igb-like PF at 00:02.0 with 2 VFs, an edu, and a group of three. */
static int build_tree(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vfs-sysfs-XXXXXX");
	assert_non_null(mkdtemp(root));
	sriov_sysfs_set_root(root);
	device("0000:00:02.0", "0x8086\n", "0x10c9\n", "0x020000\n", "igb", 1);
	put("bus/pci/devices/0000:00:02.0/sriov_totalvfs", "7\n");
	put("bus/pci/devices/0000:00:02.0/sriov_numvfs", "2\n");
	put("bus/pci/devices/0000:00:02.0/sriov_drivers_autoprobe", "1\n");
	put("bus/pci/devices/0000:00:02.0/sriov_offset", "128\n");
	put("bus/pci/devices/0000:00:02.0/sriov_stride", "2\n");
	put("bus/pci/devices/0000:00:02.0/sriov_vf_device", "10ca\n");
	mkdirs("%s/bus/pci/devices/0000:00:02.0/net/eth0", root);
	device("0000:00:12.0", "0x8086\n", "0x10ca\n", "0x020000\n", "igbvf", 4);
	device("0000:00:12.2", "0x8086\n", "0x10ca\n", "0x020000\n", "vfio-pci", 5);
	mkdirs("%s/bus/pci/devices/0000:00:12.0/net/eth1", root);
	link_to("bus/pci/devices/0000:00:02.0/virtfn0", "bus/pci/devices/0000:00:12.0");
	link_to("bus/pci/devices/0000:00:02.0/virtfn1", "bus/pci/devices/0000:00:12.2");
	link_to("bus/pci/devices/0000:00:02.0/virtfn6", "bus/pci/devices/0000:00:12.2");
	link_to("bus/pci/devices/0000:00:12.0/physfn", "bus/pci/devices/0000:00:02.0");
	link_to("bus/pci/devices/0000:00:12.2/physfn", "bus/pci/devices/0000:00:02.0");
	device("0000:00:0c.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", NULL, 2);
	/* Group 3: a PCI bridge, an unbound edu, and a device on a host driver. */
	device("0000:00:0a.0", "0x1b36\n", "0x000e\n", "0x060400\n", NULL, 3);
	device("0000:01:01.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", NULL, 3);
	device("0000:01:02.0", "0x1af4\n", "0x1005\n", "0x00ff00\n", "virtio-pci", 3);
	return 0;
}

static int remove_tree(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	sriov_fmt(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	sriov_sysfs_set_root(NULL);
	return 0;
}

static void bdf_forms(void **state)
{
	(void)state;
	char b[PCI_BDF_LEN];
	assert_int_equal(pci_bdf_parse("00:12.2", b), 0);
	assert_string_equal(b, "0000:00:12.2");
	assert_int_equal(pci_bdf_parse("0001:AB:1f.7", b), 0);
	assert_string_equal(b, "0001:ab:1f.7");
	assert_int_equal(pci_bdf_parse("00:20.0", b), -EINVAL);   /* device > 31 */
	assert_int_equal(pci_bdf_parse("00:02.8", b), -EINVAL);   /* function > 7 */
	assert_int_equal(pci_bdf_parse("eth0", b), -EINVAL);
	assert_int_equal(pci_bdf_parse("00:02.0 ", b), -EINVAL);
	assert_int_equal(pci_bdf_parse(" 00:02.0", b), -EINVAL);
	assert_int_equal(pci_bdf_parse(NULL, b), -EINVAL);
}

static void discovers_the_pf_and_its_vfs(void **state)
{
	(void)state;
	struct sriov_pf_info *pfs;
	size_t n;
	assert_int_equal(sriov_pf_list(&pfs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(pfs[0].bdf, "0000:00:02.0");
	assert_string_equal(pfs[0].driver, "igb");
	assert_string_equal(pfs[0].netdev, "eth0");
	assert_int_equal(pfs[0].total_vfs, 7);
	assert_int_equal(pfs[0].num_vfs, 2);
	assert_int_equal(pfs[0].drivers_autoprobe, 1);
	assert_int_equal(pfs[0].vf_offset, 128);
	assert_int_equal(pfs[0].vf_stride, 2);
	free(pfs);

	struct sriov_vf_info *vfs;
	assert_int_equal(sriov_vf_list("0000:00:02.0", &vfs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(vfs[0].bdf, "0000:00:12.0");
	assert_string_equal(vfs[0].driver, "igbvf");
	assert_string_equal(vfs[0].netdev, "eth1");
	assert_int_equal(vfs[0].iommu_group, 4);
	assert_string_equal(vfs[1].driver, "vfio-pci");
	assert_string_equal(vfs[1].netdev, "");
	free(vfs);

	char pf[PCI_BDF_LEN];
	int idx = -1;
	assert_int_equal(sriov_vf_parent("0000:00:12.2", pf, &idx), 0);
	assert_string_equal(pf, "0000:00:02.0");
	assert_int_equal(idx, 1);
	assert_int_equal(sriov_vf_parent("0000:00:0c.0", pf, &idx), -ENOTSUP);
	assert_int_equal(sriov_vf_parent("0000:00:1e.0", pf, &idx), -ENODEV);
	struct sriov_pf_info info;
	assert_int_equal(sriov_pf_get("0000:00:0c.0", &info), -ENOTSUP);
	assert_int_equal(sriov_pf_get("0000:00:1e.0", &info), -ENODEV);
}

static void numvfs_rules(void **state)
{
	(void)state;
	char v[16];
	/* More than TotalVFs: refused before sysfs is touched. */
	assert_int_equal(sriov_set_numvfs("0000:00:02.0", 8), -ERANGE);
	assert_int_equal(pci_dev_attr_read("0000:00:02.0", "sriov_numvfs", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	/* Same count: nothing written. */
	assert_int_equal(sriov_set_numvfs("0000:00:02.0", 2), 0);
	/* A new count lands in sriov_numvfs (the fake has virtfn6 already). */
	assert_int_equal(sriov_set_numvfs("0000:00:02.0", 7), 0);
	assert_int_equal(pci_dev_attr_read("0000:00:02.0", "sriov_numvfs", v, sizeof(v)), 0);
	assert_string_equal(v, "7");
	put("bus/pci/devices/0000:00:02.0/sriov_numvfs", "2\n");
	assert_int_equal(sriov_set_numvfs("0000:00:0c.0", 1), -ENOTSUP);
	assert_int_equal(sriov_set_numvfs("0000:00:1e.0", 1), -ENODEV);
	assert_int_equal(sriov_set_numvfs("0000:00:02.0", -1), -ERANGE);
	assert_int_equal(sriov_get_autoprobe("0000:00:02.0"), 1);
	assert_int_equal(sriov_set_autoprobe("0000:00:02.0", false), 0);
	assert_int_equal(sriov_get_autoprobe("0000:00:02.0"), 0);
	assert_int_equal(sriov_set_autoprobe("0000:00:0c.0", true), -ENOTSUP);
}

static void iommu_group_viability(void **state)
{
	(void)state;
	struct pci_group_check g;
	/* A VF alone in its group is viable (it is the device being bound). */
	assert_int_equal(pci_group_check("0000:00:12.0", "0000:00:12.0", &g), 0);
	assert_int_equal(g.group, 4);
	assert_int_equal(g.devices, 1);
	/* ...but not while it itself is on igbvf and is not excluded. */
	assert_int_equal(pci_group_check("0000:00:12.0", NULL, &g), -EXDEV);
	assert_string_equal(g.blocker, "0000:00:12.0");
	assert_string_equal(g.blocker_driver, "igbvf");
	/* Group 3: the bridge and the unbound edu are fine, virtio-pci blocks. */
	assert_int_equal(pci_group_check("0000:01:01.0", "0000:01:01.0", &g), -EXDEV);
	assert_int_equal(g.group, 3);
	assert_int_equal(g.devices, 3);
	assert_string_equal(g.blocker, "0000:01:02.0");
	assert_string_equal(g.blocker_driver, "virtio-pci");
	/* With the blocker on vfio-pci the group becomes viable. */
	device("0000:01:02.0", "0x1af4\n", "0x1005\n", "0x00ff00\n", "vfio-pci", 3);
	assert_int_equal(pci_group_check("0000:01:01.0", "0000:01:01.0", &g), 0);
	device("0000:01:02.0", "0x1af4\n", "0x1005\n", "0x00ff00\n", "virtio-pci", 3);
	/* No IOMMU group at all. */
	device("0000:00:1d.0", "0x8086\n", "0x1234\n", "0x020000\n", NULL, -1);
	assert_int_equal(pci_group_check("0000:00:1d.0", NULL, &g), -ENOENT);
	assert_int_equal(pci_iommu_group("0000:00:1e.0"), -ENODEV);

	char drv[SRIOV_DRV_LEN];
	assert_int_equal(pci_current_driver("0000:00:12.2", drv, sizeof(drv)), 0);
	assert_string_equal(drv, "vfio-pci");
	assert_int_equal(pci_current_driver("0000:00:0c.0", drv, sizeof(drv)), 0);
	assert_string_equal(drv, "");
	assert_true(pci_driver_loaded("igbvf"));
	assert_false(pci_driver_loaded("pci-stub"));
	/* Binding to a driver that is not loaded changes nothing. */
	char prev[SRIOV_DRV_LEN];
	assert_int_equal(pci_bind_driver("0000:00:12.0", "pci-stub", prev, sizeof(prev)), -ENOENT);
	assert_string_equal(prev, "igbvf");
	char ov[64];
	assert_int_equal(pci_dev_attr_read("0000:00:12.0", "driver_override", ov, sizeof(ov)), 0);
	assert_string_equal(ov, "(null)");
	/* Already there: nothing to do. */
	assert_int_equal(pci_bind_driver("0000:00:12.2", "vfio-pci", prev, sizeof(prev)), 0);
	assert_string_equal(prev, "vfio-pci");
	/* A bind the driver does not take is rolled back (moved here from
	 * vfio/'s own binding code, removed: pci_bind is the one module).  The
	 * fake kernel never moves the device: -EIO, igbvf asked to let go and
	 * then to take it back, and no override left behind. */
	put("bus/pci/drivers/igbvf/unbind", "");
	put("bus/pci/drivers_probe", "");
	assert_int_equal(pci_bind_driver("0000:00:12.0", "vfio-pci", prev, sizeof(prev)), -EIO);
	assert_string_equal(prev, "igbvf");
	char buf[64];
	assert_int_equal(pci_dev_attr_read("0000:00:12.0", "driver_override", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	char unbind[PATH_MAX];
	sriov_fmt(unbind, sizeof(unbind), "%s/bus/pci/drivers/igbvf/unbind", root);
	FILE *f = fopen(unbind, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "0000:00:12.0");
	assert_int_equal(pci_current_driver("0000:00:12.0", drv, sizeof(drv)), 0);
	assert_string_equal(drv, "igbvf");
	put("bus/pci/devices/0000:00:12.0/driver_override", "(null)\n");
}

/* A PCI Express function under devices/PATH (its sysfs directory, which
 * bus/pci/devices/BDF links to) with a 4 KiB config space: PCIe Device/Port
 * Type `type` (-1: no PCI Express capability), multi-function or not, and an
 * ACS capability offering `acs_cap` and enabling `acs_ctrl` (-1: none). */
static void pcie_function(const char *path, int type, int multifunction, int acs_cap, int acs_ctrl)
{
	uint8_t cfg[4096];
	memset(cfg, 0, sizeof(cfg));
	const char *bdf = strrchr(path, '/') + 1;
	cfg[0x0E] = multifunction ? 0x80 : 0x00;
	if (type >= 0) {
		cfg[0x06] = 0x10;               /* Status: capabilities list */
		cfg[0x34] = 0x40;               /* -> MSI at 0x40 -> PCIe at 0x60 */
		cfg[0x40] = 0x05, cfg[0x41] = 0x60;
		cfg[0x60] = 0x10, cfg[0x61] = 0x00;
		cfg[0x62] = (uint8_t)(type << 4) | 2;
	}
	uint32_t hdr = 0x0001u | (1u << 16) | (0x140u << 20); /* AER -> ACS */
	memcpy(&cfg[0x100], &hdr, 4);
	if (acs_cap >= 0) {
		uint32_t acs = 0x000Du | (1u << 16);
		uint16_t c = (uint16_t)acs_cap, t = (uint16_t)acs_ctrl;
		memcpy(&cfg[0x140], &acs, 4);
		memcpy(&cfg[0x144], &c, 2);
		memcpy(&cfg[0x146], &t, 2);
	}
	char rel[512], full[PATH_MAX];
	mkdirs("%s/devices/%s", root, path);
	sriov_fmt(rel, sizeof(rel), "devices/%s/config", path);
	sriov_fmt(full, sizeof(full), "%s/%s", root, rel);
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
	sriov_fmt(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	sriov_fmt(full, sizeof(full), "devices/%s", path);
	link_to(rel, full);
}

static void acs_on_the_path_to_a_pf(void **state)
{
	(void)state;
	enum { ROOT = 4, UP = 5, DOWN = 6, EP = 0, PCIE_PCI = 7 };
	const int all = PCI_ACS_NEEDED, no_uf = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR;
	struct pci_acs_path a;
	/* Root port (ACS on) -> switch upstream port (no ACS: not required of a
	 * single-function upstream port) -> downstream port whose ACS does not
	 * offer Upstream Forwarding (hard-wired, so fine) -> the PF. */
	pcie_function("pci0000:a0/0000:a0:1c.0", ROOT, 0, all, all);
	pcie_function("pci0000:a0/0000:a0:1c.0/0000:a1:00.0", UP, 0, -1, -1);
	pcie_function("pci0000:a0/0000:a0:1c.0/0000:a1:00.0/0000:a2:01.0", DOWN, 0, no_uf, no_uf);
	pcie_function("pci0000:a0/0000:a0:1c.0/0000:a1:00.0/0000:a2:01.0/0000:a3:00.0", EP, 0, -1, -1);
	assert_int_equal(pci_acs_path_check("0000:a3:00.0", &a), 0);
	assert_int_equal(a.checked, 2);
	/* A second downstream port with ACS offered but not enabled blocks. */
	pcie_function("pci0000:a0/0000:a0:1c.0/0000:a1:00.0/0000:a2:02.0", DOWN, 0, all, PCI_ACS_SV);
	pcie_function("pci0000:a0/0000:a0:1c.0/0000:a1:00.0/0000:a2:02.0/0000:a4:00.0", EP, 0, -1, -1);
	assert_int_equal(pci_acs_path_check("0000:a4:00.0", &a), -EXDEV);
	assert_string_equal(a.blocker, "0000:a2:02.0");
	assert_int_equal(a.blocker_ctrl, PCI_ACS_SV);
	/* A multi-function PF must itself enforce ACS; a root port with none blocks. */
	pcie_function("pci0000:a0/0000:a0:1d.0", ROOT, 0, -1, -1);
	pcie_function("pci0000:a0/0000:a0:1d.0/0000:a5:00.0", EP, 1, all, all);
	assert_int_equal(pci_acs_path_check("0000:a5:00.0", &a), -EXDEV);
	assert_string_equal(a.blocker, "0000:a0:1d.0");
	assert_int_equal(a.blocker_ctrl, -1);
	assert_int_equal(a.checked, 2);
	/* Behind a PCI Express-to-PCI bridge nothing is isolated. */
	pcie_function("pci0000:a0/0000:a0:1e.0", PCIE_PCI, 0, -1, -1);
	pcie_function("pci0000:a0/0000:a0:1e.0/0000:a6:00.0", EP, 0, -1, -1);
	assert_int_equal(pci_acs_path_check("0000:a6:00.0", &a), -EXDEV);
	assert_string_equal(a.blocker, "0000:a0:1e.0");
	/* On the root bus nothing needs checking. */
	pcie_function("pci0000:a0/0000:a0:02.0", EP, 0, -1, -1);
	assert_int_equal(pci_acs_path_check("0000:a0:02.0", &a), 0);
	assert_int_equal(a.checked, 0);
	assert_int_equal(pci_acs_path_check("0000:a0:1f.7", &a), -ENODEV);
	/* The walk finds ACS through the freestanding extended-capability code. */
	struct pci_cfg_file c;
	uint16_t pos = 0;
	assert_int_equal(pci_cfg_open("0000:a0:1c.0", &c), 0);
	assert_int_equal(c.readable, 4096);
	assert_int_equal(sriov_ext_cap_find(&c.ops, 0x000D, &pos), 0);
	assert_int_equal(pos, 0x140);
	pci_cfg_close(&c);
}

static void assignment_registry(void **state)
{
	(void)state;
	char dir[PATH_MAX], guest[ASSIGN_GUEST_LEN];
	sriov_fmt(dir, sizeof(dir), "%s/run/vfstack/assign", root);
	setenv("VFSTACK_ASSIGN_DIR", dir, 1);
	pid_t pid = 0;
	assert_int_equal(assign_registry_lookup("0000:00:12.0", guest, sizeof(guest), &pid), -ENOENT);
	assert_int_equal(assign_registry_claim("0000:00:12.0", "web1", NULL, 0, NULL), 0);
	assert_int_equal(assign_registry_lookup("0000:00:12.0", guest, sizeof(guest), &pid), 0);
	assert_string_equal(guest, "web1");
	assert_int_equal(pid, getpid());
	/* Another live process cannot take it over... */
	assert_int_equal(assign_registry_claim("0000:00:12.0", "web2", NULL, 0, NULL), -EBUSY);
	assert_int_equal(assign_registry_claim("0000:00:12.0", "bad\nname", NULL, 0, NULL), -EINVAL);
	/* ...a stale record (its pid gone) reads as absent and can be replaced. */
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/0000:00:12.2", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "guest=old\npid=%d\n", INT_MAX - 1);
	fclose(f);
	assert_int_equal(assign_registry_lookup("0000:00:12.2", guest, sizeof(guest), &pid), -ENOENT);
	assert_int_equal(assign_registry_claim("0000:00:12.2", "new", NULL, 0, NULL), 0);
	assert_int_equal(assign_registry_remove("0000:00:12.0"), 0);
	assert_int_equal(assign_registry_remove("0000:00:12.0"), 0);
	assert_int_equal(assign_registry_lookup("0000:00:12.0", guest, sizeof(guest), &pid), -ENOENT);
	unsetenv("VFSTACK_ASSIGN_DIR");
}

static void parsers(void **state)
{
	(void)state;
	uint8_t mac[6];
	char text[18];
	assert_int_equal(sriov_mac_parse("52:54:00:AA:bb:01", mac), 0);
	sriov_mac_format(mac, text);
	assert_string_equal(text, "52:54:00:aa:bb:01");
	assert_int_equal(sriov_mac_parse("52:54:00:aa:bb", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse("52:54:00:aa:bb:01:02", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse("5:54:00:aa:bb:01", mac), -EINVAL);
	/* Signs, blanks and prefixes are not hex digits (sscanf would take them). */
	assert_int_equal(sriov_mac_parse("-1:54:00:aa:bb:01", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse(" 2:54:00:aa:bb:01", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse("+2:54:00:aa:bb:01", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse("52:54:00:aa:bb:0x", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse("52-54-00-aa-bb-01", mac), -EINVAL);
	assert_int_equal(sriov_mac_parse("", mac), -EINVAL);
	assert_int_equal(sriov_link_state_parse("disable"), SRIOV_LINK_DISABLE);
	assert_int_equal(sriov_link_state_parse("off"), -EINVAL);
	assert_string_equal(sriov_link_state_name(SRIOV_LINK_AUTO), "auto");
	assert_string_equal(sriov_set_name(SRIOV_SET_TRUST), "trust");
	/* Reading VFs of an interface that does not exist. */
	struct sriov_vf_state *vfs = NULL;
	size_t n = 0;
	int err = sriov_nl_get_vfs("vfsnoexist0", &vfs, &n);
	assert_true(err == -ENODEV || err == -EPERM || err == -EACCES || err == -EIO);
	assert_null(vfs);
}

static void netdev_use(void **state)
{
	(void)state;
	char why[128];
	assert_false(netdev_in_use("vfsnoexist0", why, sizeof(why)));
	assert_false(netdev_in_use("", why, sizeof(why)));
	/* Loopback, when up, holds 127.0.0.1: "in use" with that address. */
	if (netdev_in_use("lo", why, sizeof(why)))
		assert_non_null(strstr(why, "127.0.0.1"));
}

static void attr(const char *bdf, const char *name, const char *val)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/%s", bdf, name);
	put(rel, val);
}

/* A PF whose SR-IOV capability (at 0x100 of a 4 KiB config file) says
 * TotalVFs `total`. */
static void config_with_sriov(const char *bdf, uint16_t total)
{
	uint8_t cfg[4096];
	memset(cfg, 0, sizeof(cfg));
	uint32_t hdr = 0x0010u | (1u << 16);
	memcpy(&cfg[0x100], &hdr, 4);
	memcpy(&cfg[0x100 + 0x0E], &total, 2);
	uint16_t off = 0x80, stride = 2;
	memcpy(&cfg[0x100 + 0x14], &off, 2);
	memcpy(&cfg[0x100 + 0x16], &stride, 2);
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/bus/pci/devices/%s/config", root, bdf);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
	fclose(f);
}

/* sriov_pf_get on 00:03.0 after setting its counts: the error, the clamped
 * counts, and a problem phrase containing `want` ("" = consistent). */
static void expect_counts(int err, int total, int num, const char *want)
{
	struct sriov_pf_info pf;
	assert_int_equal(sriov_pf_get("0000:00:03.0", &pf), err);
	assert_int_equal(pf.total_vfs, total);
	assert_int_equal(pf.num_vfs, num);
	if (want[0])
		assert_non_null(strstr(pf.problem, want));
	else
		assert_string_equal(pf.problem, "");
}

/* Item 4 of issue 13: sysfs counts are parsed strictly and clamped to what
 * the hardware allows, and the inconsistency is reported, naming what. */
static void sysfs_counts_are_clamped_to_the_hardware(void **state)
{
	(void)state;
	const char *pf = "0000:00:03.0";
	device(pf, "0x8086\n", "0x10c9\n", "0x020000\n", "igb", 6);
	attr(pf, "sriov_totalvfs", "64\n");
	attr(pf, "sriov_offset", "128\n");
	attr(pf, "sriov_stride", "2\n");
	link_to("bus/pci/devices/0000:00:03.0/virtfn0", "bus/pci/devices/0000:00:12.0");
	/* The reported case: sriov_numvfs 2000000000 of 64. */
	attr(pf, "sriov_numvfs", "2000000000\n");
	expect_counts(-EIO, 64, 64, "sriov_numvfs is 2000000000 but at most 64 VFs can exist");
	struct sriov_vf_info *vfs = NULL;
	size_t n = 0;
	time_t t0 = time(NULL);
	assert_int_equal(sriov_vf_list(pf, &vfs, &n), 0);
	assert_true(time(NULL) - t0 < 5); /* walked 64 links, not 2e9 */
	assert_int_equal(n, 1);
	assert_string_equal(vfs[0].bdf, "0000:00:12.0");
	free(vfs);
	/* It is listed, with its problem, beside the good PF. */
	struct sriov_pf_info *pfs;
	assert_int_equal(sriov_pf_list(&pfs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pfs[1].bdf, pf);
	assert_int_equal(pfs[1].num_vfs, 64);
	assert_true(pfs[1].problem[0] != '\0');
	assert_string_equal(pfs[0].problem, "");
	free(pfs);
	/* Numbers with junk, signs, empty files, huge and over-long values. */
	static const char *const junk[] = { "7junk\n", "-1\n", "", "\n", " 2\n", "+2\n", "0x2\n",
					    "2 \n", "99999999999999999999999\n",
					    "18446744073709551616\n" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		attr(pf, "sriov_numvfs", junk[i]);
		expect_counts(-EIO, 64, 0, "sriov_numvfs does not hold a number");
	}
	char longnum[80];
	memset(longnum, '0', sizeof(longnum));
	sriov_fmt(longnum + 70, 10, "7\n");
	attr(pf, "sriov_numvfs", "0\n");
	attr(pf, "sriov_totalvfs", longnum); /* 72 bytes: more than any sysfs number */
	expect_counts(-EIO, 0, 0, "sriov_totalvfs does not hold a number");
	/* Past the 16-bit TotalVFs field. */
	attr(pf, "sriov_totalvfs", "70000\n");
	attr(pf, "sriov_offset", "1\n");
	attr(pf, "sriov_stride", "1\n");
	expect_counts(-EIO, 65535 - 0x18, 0, "past the PCIe limit of 65535");
	/* With offset 128 and stride 2 from RID 0x18, only 32692 VFs get an ID. */
	attr(pf, "sriov_offset", "128\n");
	attr(pf, "sriov_stride", "2\n");
	expect_counts(-EIO, 32692, 0, "past the PCIe limit of 65535");
	/* More VFs than routing IDs up to bus 255: RID 0x18 + 0xFF00 + i * 2. */
	attr(pf, "sriov_totalvfs", "200\n");
	attr(pf, "sriov_offset", "65280\n");
	expect_counts(-EIO, 116, 0, "past bus 255 (only 116 fit)");
	attr(pf, "sriov_offset", "0x80\n"); /* the kernel prints it in decimal */
	expect_counts(-EIO, 200, 0, "sriov_offset does not hold a number");
	/* The capability's TotalVFs bounds sysfs's (root reads the config). */
	attr(pf, "sriov_offset", "128\n");
	attr(pf, "sriov_totalvfs", "64\n");
	attr(pf, "sriov_numvfs", "16\n");
	config_with_sriov(pf, 8);
	expect_counts(-EIO, 8, 8, "sriov_totalvfs is 64 but the SR-IOV capability's TotalVFs is 8");
	attr(pf, "sriov_totalvfs", "8\n");
	attr(pf, "sriov_numvfs", "2\n");
	expect_counts(0, 8, 2, "");
	/* Setting a count on an inconsistent PF goes through 0 and is bounded
	 * by the clamped TotalVFs. */
	attr(pf, "sriov_numvfs", "2000000000\n");
	assert_int_equal(sriov_set_numvfs(pf, 9), -ERANGE);
	assert_int_equal(sriov_set_numvfs(pf, 1), 0);
	char v[32];
	assert_int_equal(pci_dev_attr_read(pf, "sriov_numvfs", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	/* Other values: the VF device ID is hex without 0x ("%x"), the IOMMU
	 * group a decimal link name, virtfn links must name PCI devices. */
	struct sriov_pf_info info;
	assert_int_equal(sriov_pf_get("0000:00:02.0", &info), 0);
	assert_int_equal(info.vf_device, 0x10ca);
	attr(pf, "sriov_numvfs", "2\n");
	mkdirs("%s/etc", root);
	link_to("bus/pci/devices/0000:00:03.0/virtfn1", "etc");
	assert_int_equal(sriov_vf_list(pf, &vfs, &n), 0);
	assert_int_equal(n, 1); /* virtfn1 -> "etc" is not a VF */
	free(vfs);
	mkdirs("%s/kernel/iommu_groups/7x", root);
	link_to("bus/pci/devices/0000:00:12.0/iommu_group", "kernel/iommu_groups/7x");
	struct sriov_vf_info vf;
	assert_int_equal(sriov_vf_get(pf, 0, &vf), 0);
	assert_int_equal(vf.iommu_group, -1);
	assert_int_equal(pci_iommu_group("0000:00:12.0"), -EIO);
	link_to("bus/pci/devices/0000:00:12.0/iommu_group", "kernel/iommu_groups/4");
	assert_int_equal(sriov_vf_get(pf, 0, &vf), 0);
	assert_int_equal(vf.iommu_group, 4);
	/* Leave the tree as the other tests expect it: one PF. */
	char cmd[PATH_MAX + 64];
	sriov_fmt(cmd, sizeof(cmd), "rm -rf '%s/bus/pci/devices/%s' '%s/etc'", root, pf, root);
	assert_int_equal(system(cmd), 0);
}

static void override_is(const char *bdf, const char *want)
{
	char ov[64];
	assert_int_equal(pci_dev_attr_read(bdf, "driver_override", ov, sizeof(ov)), 0);
	assert_string_equal(ov, want);
}

/* Item 6 of issue 13: a driver name is a path component and a
 * driver_override value; a bad one is refused before anything is touched. */
static void driver_names_are_checked_before_anything_is_touched(void **state)
{
	(void)state;
	const char *vf = "0000:00:12.0";
	static const char *const bad[] = { "..", ".", "", "../igbvf", "igb/../igbvf", "a/b", "igb vf",
					   "igb\n", "igb\001", "igb\x7f", "igb\xc3\xa9" };
	char prev[SRIOV_DRV_LEN], drv[SRIOV_DRV_LEN];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(pci_driver_loaded(bad[i]));
		assert_int_equal(pci_bind_driver(vf, bad[i], prev, sizeof(prev)), -EINVAL);
		assert_int_equal(pci_release_driver(vf, bad[i][0] ? bad[i] : "."), -EINVAL);
		override_is(vf, "(null)");
		assert_int_equal(pci_current_driver(vf, drv, sizeof(drv)), 0);
		assert_string_equal(drv, "igbvf");
	}
	/* The bound: 63 characters pass the check (then: not loaded), 64 do not. */
	char name[80];
	memset(name, 'a', sizeof(name));
	name[63] = '\0';
	assert_int_equal(pci_bind_driver(vf, name, prev, sizeof(prev)), -ENOENT);
	name[63] = 'a';
	name[64] = '\0';
	assert_int_equal(pci_bind_driver(vf, name, prev, sizeof(prev)), -ENAMETOOLONG);
	override_is(vf, "(null)");
	/* Valid names still work as before. */
	assert_true(pci_driver_loaded("igbvf"));
	assert_true(pci_driver_loaded("vfio-pci"));
	/* A `driver` link whose name is not a driver name is not taken. */
	device("0000:00:0d.0", "0x8086\n", "0x10ca\n", "0x020000\n", NULL, -1);
	mkdirs("%s/bus/pci/drivers/bad name", root);
	link_to("bus/pci/devices/0000:00:0d.0/driver", "bus/pci/drivers/bad name");
	assert_int_equal(pci_current_driver("0000:00:0d.0", drv, sizeof(drv)), -EIO);
	assert_string_equal(drv, "");
	char cmd[PATH_MAX + 64];
	sriov_fmt(cmd, sizeof(cmd), "rm -rf '%s/bus/pci/devices/0000:00:0d.0' '%s/bus/pci/drivers/bad name'",
		  root, root);
	assert_int_equal(system(cmd), 0);
}

/* Read one line from fd within `ms`; "" on timeout. */
static void read_line(int fd, char *buf, size_t len, int ms)
{
	size_t n = 0;
	buf[0] = '\0';
	struct pollfd p = { fd, POLLIN, 0 };
	while (n + 1 < len && poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
}

/* Claimer processes this test started; the teardown ends any left by PID. */
static pid_t kids[2];

static void end_process(pid_t pid)
{
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static int end_kids(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	return 0;
}

/* A claimer process: waits for `go` to close, claims vf as `guest`, writes
 * "RC HOLDER PID\n" to `out`, then holds whatever it got until killed (or
 * until this process dies: PR_SET_PDEATHSIG).  `close_in_child` are the
 * pipe ends the child must not keep open. */
static pid_t claimer(const char *vf, const char *guest, int go, int out, const int close_in_child[2])
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(close_in_child[0]);
	close(close_in_child[1]);
	char c, holder[ASSIGN_GUEST_LEN], line[160];
	pid_t who = 0;
	if (read(go, &c, 1) < 0)
		_exit(2);
	int rc = assign_registry_claim(vf, guest, holder, sizeof(holder), &who);
	int n = snprintf(line, sizeof(line), "%d %s %ld\n", rc, holder[0] ? holder : "-", (long)who);
	if (write(out, line, (size_t)n) != n)
		_exit(2);
	for (;;)
		pause();
}

/* Item 8 of issue 13: two assigns of one VF at the same moment — exactly
 * one wins, the other is told who holds it; a crashed holder (killed, its
 * flock gone) does not block the VF. */
static void concurrent_claims_one_wins(void **state)
{
	(void)state;
	char dir[PATH_MAX];
	sriov_fmt(dir, sizeof(dir), "%s/run/race", root);
	setenv("VFSTACK_ASSIGN_DIR", dir, 1);
	const char *vf = "0000:00:12.0";
	for (int round = 0; round < 20; round++) {
		int go[2], out[2];
		assert_int_equal(pipe(go), 0);
		assert_int_equal(pipe(out), 0);
		const int parent_ends[2] = { go[1], out[0] };
		pid_t a = kids[0] = claimer(vf, "guest-a", go[0], out[1], parent_ends);
		pid_t b = kids[1] = claimer(vf, "guest-b", go[0], out[1], parent_ends);
		close(go[0]);
		close(out[1]);
		close(go[1]); /* both start now */
		char la[160], lb[160];
		read_line(out[0], la, sizeof(la), 5000);
		read_line(out[0], lb, sizeof(lb), 5000);
		close(out[0]);
		int ra = 99, rb = 99;
		long pa = 0, pb = 0;
		char ha[ASSIGN_GUEST_LEN] = "", hb[ASSIGN_GUEST_LEN] = "";
		assert_int_equal(sscanf(la, "%d %63s %ld", &ra, ha, &pa), 3);
		assert_int_equal(sscanf(lb, "%d %63s %ld", &rb, hb, &pb), 3);
		/* Exactly one 0 and one -EBUSY (lines arrive in either order). */
		assert_true((ra == 0 && rb == -EBUSY) || (ra == -EBUSY && rb == 0));
		const char *loser_says = ra ? ha : hb;
		long loser_pid = ra ? pa : pb;
		/* The loser names the winner: its guest and its PID. */
		char guest[ASSIGN_GUEST_LEN];
		pid_t holder = 0;
		assert_int_equal(assign_registry_lookup(vf, guest, sizeof(guest), &holder), 0);
		assert_true(holder == a || holder == b);
		assert_string_equal(guest, holder == a ? "guest-a" : "guest-b");
		assert_string_equal(loser_says, guest);
		assert_int_equal(loser_pid, holder);
		/* Here, too, it is busy. */
		char h2[ASSIGN_GUEST_LEN];
		pid_t p2 = 0;
		assert_int_equal(assign_registry_claim(vf, "guest-c", h2, sizeof(h2), &p2), -EBUSY);
		assert_string_equal(h2, guest);
		assert_int_equal(p2, holder);
		/* The holder crashes: nothing released by hand, yet the VF is free. */
		end_process(a);
		end_process(b);
		kids[0] = kids[1] = 0;
		assert_int_equal(assign_registry_lookup(vf, guest, sizeof(guest), &holder), -ENOENT);
	}
	/* A stale record whose pid was reused by a live process (here: our
	 * parent) does not block either: its lock file exists and is free. */
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/%s", dir, vf);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "guest=gone\npid=%ld\n", (long)getppid());
	fclose(f);
	char guest[ASSIGN_GUEST_LEN];
	pid_t holder;
	assert_int_equal(assign_registry_lookup(vf, guest, sizeof(guest), &holder), -ENOENT);
	assert_int_equal(assign_registry_claim(vf, "mine", NULL, 0, NULL), 0);
	assert_int_equal(assign_registry_lookup(vf, guest, sizeof(guest), &holder), 0);
	assert_string_equal(guest, "mine");
	assert_int_equal(holder, getpid());
	assert_int_equal(assign_registry_remove(vf), 0);
	assert_int_equal(assign_registry_lookup(vf, guest, sizeof(guest), &holder), -ENOENT);
	/* A record with no lock file and a live pid (written by hand, as
	 * tests/sriov does) still holds the VF against a claim. */
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "guest=byhand\npid=%ld\n", (long)getppid());
	fclose(f);
	char h[ASSIGN_GUEST_LEN];
	pid_t hp = 0;
	assert_int_equal(assign_registry_claim(vf, "mine", h, sizeof(h), &hp), -EBUSY);
	assert_string_equal(h, "byhand");
	assert_int_equal(hp, getppid());
	assert_int_equal(assign_registry_remove(vf), 0);
	/* Names that are not a canonical BDF never become file names. */
	assert_int_equal(assign_registry_claim("../../etc/x", "g", NULL, 0, NULL), -EINVAL);
	assert_int_equal(assign_registry_claim("00:12.0", "g", NULL, 0, NULL), -EINVAL);
	unsetenv("VFSTACK_ASSIGN_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bdf_forms),
		cmocka_unit_test(discovers_the_pf_and_its_vfs),
		cmocka_unit_test(numvfs_rules),
		cmocka_unit_test(iommu_group_viability),
		cmocka_unit_test(acs_on_the_path_to_a_pf),
		cmocka_unit_test(assignment_registry),
		cmocka_unit_test(parsers),
		cmocka_unit_test(netdev_use),
		cmocka_unit_test(sysfs_counts_are_clamped_to_the_hardware),
		cmocka_unit_test(driver_names_are_checked_before_anything_is_touched),
		cmocka_unit_test_teardown(concurrent_claims_one_wins, end_kids),
	};
	return cmocka_run_group_tests(tests, build_tree, remove_tree);
}
