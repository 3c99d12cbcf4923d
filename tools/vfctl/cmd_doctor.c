/*
 * cmd_doctor.c — `vfctl doctor`: is this host ready for VF passthrough?
 * Each check prints ok / warn / FAIL and, when not ok, its fix.
 */
#include "tools/vfctl/vjson.h"
#include "tools/vfctl/vfctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sriov/linux/pci_acs.h"
#include "sriov/linux/pci_bind.h"
#include "vmm_glue/kvm/kvm_core.h"

static const char usage[] =
	"usage: vfctl doctor [--json]\n"
	"\n"
	"Check what VF passthrough needs on this host, each with its fix:\n"
	"  iommu      DMA remapping is on (an IOMMU in /sys/class/iommu)\n"
	"  intremap   interrupt remapping is on (IR- interrupt domains)\n"
	"  vfio       vfio, vfio_iommu_type1 and vfio-pci are loaded\n"
	"  kvm        /dev/kvm exists and opens\n"
	"  hugepages  huge pages reserved and hugetlbfs mounted (warning only)\n"
	"  memlock    RLIMIT_MEMLOCK lets a VMM pin guest RAM (warning only)\n"
	"  acs        ACS on the root and switch downstream ports between each PF\n"
	"             and the root complex (warning only)\n"
	"Exit status 1 when any check FAILs; warnings do not fail.\n";

enum level { OK, WARN, FAIL };

struct report {
	bool json;
	json_t *checks;
	int fails, warns;
};

static void result(struct report *r, const char *name, enum level lv, const char *detail,
		   const char *fix)
{
	static const char *const word[] = { "ok", "warn", "FAIL" };
	r->fails += lv == FAIL;
	r->warns += lv == WARN;
	if (r->json) {
		json_array_append_new(r->checks, json_pack("{s:s, s:s, s:o, s:o}", "check", name,
			"status", lv == OK ? "ok" : lv == WARN ? "warn" : "fail", "detail", vjson_str_or_null(detail),
			"fix", vjson_str_or_null(lv == OK ? NULL : fix)));
		return;
	}
	printf("%-4s %-9s %s\n", word[lv], name, detail);
	if (lv != OK && fix)
		printf("               fix: %s\n", fix);
}

static bool dir_has_entries(const char *path, char *first, size_t len)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *e;
	bool any = false;
	while (!any && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			any = true;
			if (first)
				sriov_fmt(first, len, "%s", e->d_name);
		}
	closedir(d);
	return any;
}

static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void check_iommu(struct report *r)
{
	char p[PATH_MAX], first[64] = "", detail[160];
	sriov_fmt(p, sizeof(p), "%s/class/iommu", sriov_sysfs_root());
	if (dir_has_entries(p, first, sizeof(first))) {
		sriov_fmt(detail, sizeof(detail), "DMA remapping is on (%s)", first);
		result(r, "iommu", OK, detail, NULL);
	} else {
		result(r, "iommu", FAIL, "no IOMMU is active, so no device can be isolated for a guest",
		       "enable VT-d (or AMD-Vi) in the firmware and boot with intel_iommu=on (or amd_iommu=on)");
	}
}

static void check_intremap(struct report *r)
{
	/* Remapped MSI/IO-APIC domains are named IR-… in /proc/interrupts. */
	if (file_contains("/proc/interrupts", "IR-"))
		result(r, "intremap", OK, "interrupt remapping is on (IR- interrupt domains)", NULL);
	else
		result(r, "intremap", FAIL,
		       "interrupt remapping is off, so a VF's MSIs are not confined to its guest",
		       "do not boot with intremap=off; on QEMU use -device intel-iommu,intremap=on with "
		       "-machine kernel-irqchip=split");
}

static void check_vfio(struct report *r)
{
	static const char *const mods[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
	char p[PATH_MAX], missing[128] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		sriov_fmt(p, sizeof(p), "%s/module/%s", sriov_sysfs_root(), mods[i]);
		if (access(p, F_OK) != 0)
			used += (size_t)sriov_fmt(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "",
						 mods[i]);
		if (used >= sizeof(missing))
			used = sizeof(missing) - 1;
	}
	if (!missing[0] && pci_driver_loaded("vfio-pci"))
		result(r, "vfio", OK, "vfio, vfio_iommu_type1 and vfio-pci are loaded", NULL);
	else {
		char d[256], fix[160];
		sriov_fmt(d, sizeof(d), "not loaded: %s, so no VF can be handed to a guest or a DPDK "
			  "application", missing[0] ? missing : "the vfio-pci driver");
		/* modprobe loads only its first argument unless -a. */
		sriov_fmt(fix, sizeof(fix), "modprobe -a vfio vfio_iommu_type1 vfio_pci");
		result(r, "vfio", FAIL, d, fix);
	}
}

static void check_kvm(struct report *r)
{
	const char *dev = kvm_dev_path();
	char d[160];
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		sriov_fmt(d, sizeof(d), "%s opens read-write", dev);
		result(r, "kvm", OK, d, NULL);
	} else if (errno == ENOENT) {
		sriov_fmt(d, sizeof(d), "%s does not exist, so 'vfctl assign' cannot run a guest", dev);
		result(r, "kvm", FAIL, d,
		       "enable VT-x/AMD-V in the firmware and run 'modprobe -a kvm kvm_intel' (or kvm_amd)");
	} else {
		sriov_fmt(d, sizeof(d), "%s exists but does not open (%s), so 'vfctl assign' cannot run a "
			  "guest", dev, strerror(errno));
		result(r, "kvm", FAIL, d, "run as root or add the user to the kvm group");
	}
}

static void check_hugepages(struct report *r)
{
	FILE *f = fopen("/proc/meminfo", "re");
	long total = 0, size_kb = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Total: %ld", &total);
		sscanf(line, "Hugepagesize: %ld", &size_kb);
	}
	if (f)
		fclose(f);
	bool mounted = file_contains("/proc/mounts", "hugetlbfs");
	char d[160];
	sriov_fmt(d, sizeof(d), "%ld huge pages of %ld KiB reserved, hugetlbfs %s", total, size_kb,
		  mounted ? "mounted" : "not mounted");
	result(r, "hugepages", total > 0 && mounted ? OK : WARN, d,
	       "echo 512 > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs none /dev/hugepages "
	       "(needed by DPDK; guests can use normal pages)");
}

static void check_memlock(struct report *r)
{
	struct rlimit rl;
	char d[160];
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		result(r, "memlock", WARN, "cannot read RLIMIT_MEMLOCK", "ulimit -l unlimited");
		return;
	}
	bool unlimited = rl.rlim_cur == RLIM_INFINITY;
	if (unlimited)
		sriov_fmt(d, sizeof(d), "RLIMIT_MEMLOCK is unlimited");
	else
		sriov_fmt(d, sizeof(d), "RLIMIT_MEMLOCK is %llu KiB%s", (unsigned long long)rl.rlim_cur / 1024,
			  geteuid() == 0 ? " (root: CAP_IPC_LOCK lifts it)" : "");
	bool ok = unlimited || geteuid() == 0 || rl.rlim_cur >= (1ull << 30);
	result(r, "memlock", ok ? OK : WARN, d,
	       "a VMM pins all guest RAM for DMA: ulimit -l unlimited, or LimitMEMLOCK=infinity in its "
	       "systemd unit, or run it as root");
}

static void check_acs(struct report *r)
{
	struct sriov_pf_info *pfs = NULL;
	size_t n = 0;
	sriov_pf_list(&pfs, &n);
	if (n == 0)
		result(r, "acs", OK, "no SR-IOV PFs to check", NULL);
	for (size_t i = 0; i < n; i++) {
		char d[320];
		const char *pf = pfs[i].bdf;
		struct pci_acs_path a;
		int err = pci_acs_path_check(pf, &a);
		if (err == -EXDEV) {
			sriov_fmt(d, sizeof(d), "%s: %s on its path to the root complex %s (SV, RR, CR, UF), so "
				  "its VFs may share an IOMMU group with other devices", pf, a.blocker,
				  a.blocker_ctrl < 0 ? "has no ACS capability" : "does not enable ACS");
			result(r, "acs", WARN, d,
			       "use a slot whose root port and switch downstream ports have ACS, or check the "
			       "IOMMU groups with 'vfctl list' (a VF alone in its group is fine)");
		} else if (err) {
			sriov_fmt(d, sizeof(d), "cannot read the ACS capabilities on the path to %s (%s)", pf,
				  strerror(-err));
			result(r, "acs", WARN, d, "run vfctl doctor as root (extended config space needs it)");
		} else if (a.checked == 0) {
			sriov_fmt(d, sizeof(d), "%s sits on the root bus (no port above it needs ACS); its VFs' "
				  "isolation is the IOMMU groups 'vfctl list' shows", pf);
			result(r, "acs", OK, d, NULL);
		} else {
			sriov_fmt(d, sizeof(d), "%s: %s %d port%s on its path to the root complex enforce%s ACS",
				  pf, a.checked == 1 ? "the" : "all", a.checked, a.checked == 1 ? "" : "s",
				  a.checked == 1 ? "s" : "");
			result(r, "acs", OK, d, NULL);
		}
	}
	free(pfs);
}

static int run(int argc, char **argv)
{
	struct report r;
	memset(&r, 0, sizeof(r));
	const struct vfctl_flag flags[] = { { "json", 'j', &r.json }, { NULL, 0, NULL } };
	char **args;
	int nargs;
	int prc = vfctl_parse_flags(&vfctl_cmd_doctor, argc, argv, flags, &args, &nargs);
	if (prc)
		return prc;
	if (nargs)
		return vfctl_usage_error(&vfctl_cmd_doctor, "unexpected argument '%s'.", args[0]);
	if (r.json)
		r.checks = json_array();
	check_iommu(&r);
	check_intremap(&r);
	check_vfio(&r);
	check_kvm(&r);
	check_hugepages(&r);
	check_memlock(&r);
	check_acs(&r);
	if (r.json) {
		vjson_print(stdout, json_pack("{s:o, s:i, s:i}", "checks", r.checks, "failed", r.fails,
					      "warnings", r.warns));
	} else {
		printf("%s: %d failed, %d warning%s.\n", r.fails ? "not ready" : "ready", r.fails, r.warns,
		       r.warns == 1 ? "" : "s");
	}
	return r.fails ? VFCTL_FAILED : VFCTL_OK;
}

const struct vfctl_cmd vfctl_cmd_doctor = { "doctor", "check IOMMU, interrupt remapping, VFIO, KVM, hugepages, memlock, ACS",
					    usage, run };
