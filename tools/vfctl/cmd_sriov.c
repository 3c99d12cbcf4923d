/*
 * cmd_sriov.c — `vfctl sriov enable|disable|show|autoprobe`: NumVFs and the
 * SR-IOV capability of a PF.
 */
#include "tools/vfctl/vjson.h"
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sysfs_parse.h"
#include "sriov/sriov_cap.h"

static const char usage[] =
	"usage: vfctl sriov enable PF N [--force]\n"
	"       vfctl sriov disable PF [--force]\n"
	"       vfctl sriov show PF [--json]\n"
	"       vfctl sriov autoprobe PF on|off\n"
	"\n"
	"PF is a PCI address (0000:00:02.0 or 00:02.0) or the PF's interface name.\n"
	"\n"
	"  enable PF N     create N virtual functions (1..TotalVFs).  A PF that\n"
	"                  already has VFs goes through 0 first, as the kernel\n"
	"                  requires; if the driver refuses N, the old count is put\n"
	"                  back.  Refused while one of its VFs is held by a guest,\n"
	"                  and while one is bound to vfio-pci unless --force.\n"
	"  disable PF      remove every VF (NumVFs = 0); same refusal and --force.\n"
	"  show PF         the SR-IOV capability as the device reports it (PCIe\n"
	"                  §9.3.3) and each VF's routing ID and BAR addresses as\n"
	"                  vfstack computes them, checked against the kernel's.\n"
	"  autoprobe PF on|off\n"
	"                  whether new VFs get their host driver (igbvf, …) when\n"
	"                  created (sriov_drivers_autoprobe); off leaves them\n"
	"                  unbound for vfio-pci.\n";

/* A VF that must not vanish under a guest (always refused) or a VFIO user
 * (refused unless --force). */
static int check_vfs_free(const char *pf, bool force)
{
	struct sriov_vf_info *vfs = NULL;
	size_t n = 0;
	int rc = VFCTL_OK;
	sriov_vf_list(pf, &vfs, &n);
	for (size_t i = 0; i < n && rc == VFCTL_OK; i++) {
		char guest[ASSIGN_GUEST_LEN];
		pid_t pid;
		/* A running guest is never pulled from under, --force or not. */
		if (assign_registry_lookup(vfs[i].bdf, guest, sizeof(guest), &pid) == 0)
			rc = vfctl_busy("VF %s of %s is held by guest '%s' (pid %ld); stop the guest "
					 "before changing the VF count.", vfs[i].bdf, pf, guest, (long)pid);
		else if (!force && strcmp(vfs[i].driver, "vfio-pci") == 0)
			rc = vfctl_busy("VF %s of %s is bound to vfio-pci; 'vfctl release %s' first, or "
					 "add --force to remove it anyway.", vfs[i].bdf, pf, vfs[i].bdf);
	}
	free(vfs);
	return rc;
}

static int set_count(const char *pf_text, long n, bool force)
{
	char pf[PCI_BDF_LEN];
	int rc = vfctl_resolve_pf(pf_text, pf);
	if (rc)
		return rc;
	return vfctl_set_numvfs(pf, n, force);
}

int vfctl_set_numvfs(const char *pf, long n, bool force)
{
	int rc;
	struct sriov_pf_info info;
	int err = sriov_pf_get(pf, &info);
	/* Inconsistent counts: disabling is the fix, so it goes ahead (through 0). */
	if (err == -EIO && info.problem[0] && n != 0)
		return vfctl_pf_problem(&info);
	if (err && err != -EIO)
		return vfctl_error("cannot read the SR-IOV state of %s (%s).", pf, vfctl_strerror(err));
	if (err)
		fprintf(stderr, "vfctl: warning: %s reports inconsistent SR-IOV counts (%s); disabling "
			"its VFs.\n", pf, info.problem);
	if (n > info.total_vfs)
		return vfctl_bad_input("%s supports at most %d VFs (TotalVFs); ask for %d or fewer.", pf,
				   info.total_vfs, info.total_vfs);
	if (info.num_vfs == n && !err) {
		printf("%s already has %ld VFs; nothing changed.\n", pf, n);
		return VFCTL_OK;
	}
	if (n > 0 && !info.driver[0])
		return vfctl_error("%s has no driver bound, and only its driver can create VFs; load it "
				   "(e.g. modprobe igb) and try again.", pf);
	rc = check_vfs_free(pf, force);
	if (rc)
		return rc;
	err = sriov_set_numvfs(pf, (int)n);
	if (err == -ERANGE)
		return vfctl_bad_input("%s supports at most %d VFs (TotalVFs); ask for %d or fewer.", pf,
				   info.total_vfs, info.total_vfs);
	if (err == -ENOENT)
		return vfctl_error("%s has no driver bound, and only its driver can create VFs; load it "
				   "and try again.", pf);
	if (err == -EBUSY)
		return vfctl_busy("%s is busy: VFs are in use (%s); release them and try again.", pf,
				   vfctl_strerror(err));
	if (err == -EACCES || (err == -EPERM && geteuid() != 0))
		return vfctl_error("not allowed to change sriov_numvfs of %s; run vfctl as root.", pf);
	if (err)
		return vfctl_error("the %s driver of %s refused %ld VFs (%s); it may support fewer than "
				   "TotalVFs (%d) — try fewer, the kernel log says why; the VF count is "
				   "still %d.", info.driver, pf, n, vfctl_strerror(err), info.total_vfs,
				   info.num_vfs);
	if (n == 0)
		printf("%s: VFs disabled (was %d).\n", pf, info.num_vfs);
	else
		printf("%s: %ld VFs enabled (was %d).\n", pf, n, info.num_vfs);
	return VFCTL_OK;
}

/* --- show ------------------------------------------------------------------ */

/* Line n of the device's sysfs `resource` file: start and end. */
static int resource_line(const char *bdf, int n, uint64_t *start, uint64_t *end)
{
	char p[PATH_MAX], line[128];
	sriov_fmt(p, sizeof(p), "%s/bus/pci/devices/%s/resource", sriov_sysfs_root(), bdf);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	int err = -ENOENT;
	for (int i = 0; fgets(line, sizeof(line), f); i++) {
		if (i != n)
			continue;
		/* "0x%016llx 0x%016llx 0x%016llx" (pci-sysfs.c resource_show):
		 * strictly, so a sign or junk is not an address. */
		char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		uint64_t s, e;
		if (sp2 && sysfs_parse_uint(line, (size_t)(sp1 - line), 16, UINT64_MAX, &s) == 0 &&
		    sysfs_parse_uint(sp1 + 1, (size_t)(sp2 - sp1 - 1), 16, UINT64_MAX, &e) == 0) {
			*start = s;
			*end = e;
			err = 0;
		}
		break;
	}
	fclose(f);
	return err;
}

static uint16_t bdf_rid(const char *bdf)
{
	unsigned d, b, dev, fn;
	if (sscanf(bdf, "%x:%x:%x.%x", &d, &b, &dev, &fn) != 4)
		return 0;
	return (uint16_t)(b << 8 | dev << 3 | fn);
}

/* Linux's PF resource index of VF BAR n: after the 6 BARs and the ROM. */
#define PCI_IOV_RESOURCE0 7

static int show(const char *pf_text, bool json)
{
	char pf[PCI_BDF_LEN];
	int rc = vfctl_resolve_pf(pf_text, pf);
	if (rc)
		return rc;
	struct pci_cfg_file cf;
	int err = pci_cfg_open(pf, &cf);
	if (err)
		return vfctl_error("cannot open the config space of %s (%s); run as root.", pf,
				   vfctl_strerror(err));
	struct sriov_cap cap;
	err = sriov_cap_read(&cf.ops, &cap);
	uint32_t vendor = cf.ops.read32(cf.ops.ctx, 0) & 0xFFFF;
	uint32_t bar_regs[SRIOV_NUM_BARS] = { 0 };
	for (unsigned n = 0; !err && n < SRIOV_NUM_BARS; n++)
		bar_regs[n] = cf.ops.read32(cf.ops.ctx, (uint16_t)(cap.pos + SRIOV_REG_VF_BAR0 + 4 * n));
	pci_cfg_close(&cf);
	if (err == -ENOENT || err == -EIO)
		return vfctl_error("%s shows no SR-IOV capability in the part of its config space this user "
				   "can read; run vfctl as root.", pf);
	if (err)
		return vfctl_error("cannot decode the SR-IOV capability of %s (%s).", pf, vfctl_strerror(err));

	/* VF BARs: base from the VF BAR registers, per-VF size from the
	 * kernel's IOV resource (TotalVFs copies). */
	struct sriov_vf_bar bars[SRIOV_NUM_BARS] = { 0 };
	for (unsigned n = 0; n < SRIOV_NUM_BARS; n++) {
		uint64_t s, e;
		if (resource_line(pf, PCI_IOV_RESOURCE0 + (int)n, &s, &e) || e <= s || !cap.total_vfs)
			continue;
		bool wide = (bar_regs[n] & 0x6u) == 0x4u;
		bars[n].is_64bit = wide;
		bars[n].prefetchable = (bar_regs[n] & 0x8u) != 0;
		bars[n].base = (bar_regs[n] & ~0xFull) |
			       (wide && n + 1 < SRIOV_NUM_BARS ? (uint64_t)bar_regs[n + 1] << 32 : 0);
		bars[n].size = (e - s + 1) / cap.total_vfs;
	}
	/* A hostile or broken capability: refuse it rather than compute
	 * addresses that wrap (sriov_vf_bar_span, §9.3.3.14). */
	if (cap.num_vfs > cap.total_vfs)
		return vfctl_error("%s's SR-IOV capability is malformed: NumVFs %u exceeds TotalVFs %u; "
				   "run 'vfctl sriov disable %s' and do not use its VFs until its firmware "
				   "is fixed.", pf, cap.num_vfs, cap.total_vfs, pf);
	for (unsigned n = 0; n < SRIOV_NUM_BARS; n++) {
		uint64_t span;
		if (bars[n].size && sriov_vf_bar_span(&bars[n], cap.total_vfs, &span))
			return vfctl_error("%s's VF BAR%u cannot hold its %u VFs: %" PRIu64 " bytes per VF "
					   "from 0x%" PRIx64 " is not a power of two or runs past the %s "
					   "address space; its SR-IOV capability is malformed — do not enable "
					   "its VFs until its firmware is fixed.", pf, n, cap.total_vfs,
					   bars[n].size, bars[n].base, bars[n].is_64bit ? "64-bit" : "32-bit");
	}
	json_t *root = NULL, *jvfs = NULL;
	if (json) {
		json_t *jbars = json_array();
		root = json_object();
		json_object_set_new(root, "bdf", json_string(pf));
		json_object_set_new(root, "cap_offset", json_integer(cap.pos));
		json_object_set_new(root, "total_vfs", json_integer(cap.total_vfs));
		json_object_set_new(root, "initial_vfs", json_integer(cap.initial_vfs));
		json_object_set_new(root, "num_vfs", json_integer(cap.num_vfs));
		json_object_set_new(root, "vf_offset", json_integer(cap.vf_offset));
		json_object_set_new(root, "vf_stride", json_integer(cap.vf_stride));
		json_object_set_new(root, "vf_device_id", json_integer(cap.vf_device_id));
		json_object_set_new(root, "supported_page_sizes", json_integer(cap.supported_pgsz));
		json_object_set_new(root, "system_page_size", json_integer((json_int_t)sriov_cap_page_size(&cap)));
		json_object_set_new(root, "vf_enable", json_boolean(cap.vf_enable));
		json_object_set_new(root, "ari_hierarchy", json_boolean(cap.ari_hierarchy));
		for (unsigned n = 0; n < SRIOV_NUM_BARS; n++)
			if (bars[n].size)
				json_array_append_new(jbars, json_pack("{s:i, s:I, s:I, s:b, s:b}", "bar", (int)n,
					"base", (json_int_t)bars[n].base, "size", (json_int_t)bars[n].size,
					"64bit", bars[n].is_64bit, "prefetchable", bars[n].prefetchable));
		json_object_set_new(root, "vf_bars", jbars);
		jvfs = json_array();
		json_object_set_new(root, "vfs", jvfs);
	} else {
		printf("%s  SR-IOV capability at 0x%03x (version %u)\n", pf, cap.pos, cap.version);
		printf("  TotalVFs %u, InitialVFs %u, NumVFs %u, VF Enable %s, ARI hierarchy %s\n",
		       cap.total_vfs, cap.initial_vfs, cap.num_vfs, cap.vf_enable ? "on" : "off",
		       cap.ari_hierarchy ? "on" : "off");
		printf("  First VF Offset 0x%x, VF Stride %u, VF Device ID %04x:%04x\n", cap.vf_offset,
		       cap.vf_stride, vendor, cap.vf_device_id);
		printf("  page sizes supported 0x%x, system page size %" PRIu64 " bytes\n",
		       cap.supported_pgsz, sriov_cap_page_size(&cap));
		for (unsigned n = 0; n < SRIOV_NUM_BARS; n++)
			if (bars[n].size)
				printf("  VF BAR%u: base 0x%" PRIx64 ", %" PRIu64 " KiB per VF, %s%s\n", n,
				       bars[n].base, bars[n].size / 1024, bars[n].is_64bit ? "64-bit" : "32-bit",
				       bars[n].prefetchable ? ", prefetchable" : "");
		if (cap.num_vfs)
			printf("  %-4s %-14s %-14s %s\n", "VF", "computed RID", "kernel's BDF", "BAR addresses (computed = kernel's)");
	}
	int mismatches = 0;
	for (uint16_t i = 0; i < cap.num_vfs; i++) {
		uint16_t rid = 0;
		struct sriov_vf_info vf;
		sriov_fmt(vf.bdf, sizeof(vf.bdf), "-");
		bool have = sriov_vf_get(pf, i, &vf) == 0;
		sriov_vf_rid(&cap, bdf_rid(pf), i, &rid);
		bool rid_ok = have && bdf_rid(vf.bdf) == rid;
		mismatches += !rid_ok;
		char barsum[256] = "";
		size_t used = 0;
		bool bars_ok = true;
		for (unsigned n = 0; n < SRIOV_NUM_BARS; n++) {
			uint64_t addr, s = 0, e = 0;
			if (!bars[n].size || sriov_vf_bar_addr(&bars[n], i, &addr))
				continue;
			bool ok = have && resource_line(vf.bdf, (int)n, &s, &e) == 0 && s == addr;
			bars_ok = bars_ok && ok;
			used += (size_t)sriov_fmt(barsum + used, sizeof(barsum) - used, "%sBAR%u 0x%" PRIx64 "%s",
						 used ? ", " : "", n, addr, ok ? "" : " (kernel differs)");
			if (used >= sizeof(barsum))
				used = sizeof(barsum) - 1;
		}
		mismatches += !bars_ok;
		if (json) {
			char r[16];
			sriov_fmt(r, sizeof(r), "%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1F, rid & 7);
			json_array_append_new(jvfs, json_pack("{s:i, s:s, s:o, s:b}", "index", (int)i, "rid", r,
				"kernel_bdf", have ? json_string(vf.bdf) : json_null(),
				"matches_kernel", rid_ok && bars_ok));
		} else {
			printf("  %-4u %02x:%02x.%x        %-14s %s\n", i, rid >> 8, (rid >> 3) & 0x1F, rid & 7,
			       vf.bdf, barsum);
		}
	}
	if (json) {
		json_object_set_new(root, "mismatches", json_integer(mismatches));
		vjson_print(stdout, root);
	} else if (cap.num_vfs) {
		printf("  %s\n", mismatches ? "MISMATCH: the kernel placed some VFs differently than computed."
					    : "Every VF's routing ID and BARs match the kernel's.");
	}
	return mismatches ? VFCTL_FAILED : VFCTL_OK;
}

static int autoprobe(const char *pf_text, const char *val)
{
	char pf[PCI_BDF_LEN];
	int on = vfctl_parse_bool(val);
	if (on < 0)
		return vfctl_usage_error(&vfctl_cmd_sriov, "autoprobe takes on or off, not '%s'.", val);
	int rc = vfctl_resolve_pf(pf_text, pf);
	if (rc)
		return rc;
	int err = sriov_set_autoprobe(pf, on);
	if (err)
		return vfctl_error("cannot set sriov_drivers_autoprobe of %s (%s); run as root.", pf,
				   vfctl_strerror(err));
	printf("%s: new VFs %s get a host driver when created.\n", pf, on ? "will" : "will not");
	return VFCTL_OK;
}

static int run(int argc, char **argv)
{
	const struct vfctl_cmd *me = &vfctl_cmd_sriov;
	bool force = false, json = false;
	const struct vfctl_flag flags[] = { { "force", 'f', &force }, { "json", 'j', &json }, { NULL, 0, NULL } };
	char **pos;
	int npos;
	int rc = vfctl_parse_flags(me, argc, argv, flags, &pos, &npos);
	if (rc)
		return rc;
	if (npos == 0)
		return vfctl_usage_error(me, "say what to do: enable, disable, show or autoprobe.");
	const char *verb = pos[0];
	if (!strcmp(verb, "enable")) {
		if (npos != 3)
			return vfctl_usage_error(me, "enable takes a PF and a VF count.");
		long n = vfctl_parse_uint(pos[2], 65535);
		if (n < 0)
			return vfctl_usage_error(me, "'%s' is not a VF count (a number from 0 to TotalVFs).", pos[2]);
		return set_count(pos[1], n, force);
	}
	if (!strcmp(verb, "disable")) {
		if (npos != 2)
			return vfctl_usage_error(me, "disable takes a PF.");
		return set_count(pos[1], 0, force);
	}
	if (!strcmp(verb, "show")) {
		if (npos != 2)
			return vfctl_usage_error(me, "show takes a PF.");
		return show(pos[1], json);
	}
	if (!strcmp(verb, "autoprobe")) {
		if (npos != 3)
			return vfctl_usage_error(me, "autoprobe takes a PF and on|off.");
		return autoprobe(pos[1], pos[2]);
	}
	return vfctl_usage_error(me, "unknown action '%s'; use enable, disable, show or autoprobe.", verb);
}

const struct vfctl_cmd vfctl_cmd_sriov = { "sriov", "enable or disable VFs on a PF; show its SR-IOV capability",
					   usage, run };
