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
#include <sys/stat.h>
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
	};
	return cmocka_run_group_tests(tests, build_tree, remove_tree);
}
