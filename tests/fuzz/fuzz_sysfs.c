/* libFuzzer target for the sysfs readers of sriov/linux: the pure parsers
 * (numbers, link targets, driver names, BDFs, MACs, the assign registry's
 * key=value records, the SR-IOV count rules) fed raw bytes, and the real
 * readers (sriov_pf_get, sriov_vf_list) over a fake sysfs tree in /dev/shm
 * whose files hold the input.  Each result is checked against an invariant
 * or an independent reference, with an explicit abort() when it breaks.
 *
 * Input: byte 0 picks the parser (mod 8), the rest is its input. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sriov_netlink.h"
#include "sriov/linux/sriov_sysfs.h"
#include "sriov/linux/sysfs_parse.h"
#include "sriov/sriov_cap.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* An exact-size heap copy (ASan catches a read past the end), and a
 * NUL-terminated one for the string parsers. */
static char *copy_of(const uint8_t *d, size_t n, bool nul)
{
	char *c = malloc(n + (nul ? 1 : 0) + (n == 0 && !nul));
	if (!c)
		abort();
	memcpy(c, d, n);
	if (nul)
		c[n] = '\0';
	return c;
}

static uint64_t le64(const uint8_t *d, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 8 && i < n; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

/* The reference for sysfs_parse_uint, written independently (128-bit). */
static int ref_uint(const char *b, size_t n, unsigned base, uint64_t max, uint64_t *out)
{
	if (n && b[n - 1] == '\n')
		n--;
	size_t i = base == 16 && n > 2 && b[0] == '0' && (b[1] | 0x20) == 'x' ? 2 : 0;
	if (i == n)
		return -EINVAL;
	unsigned __int128 v = 0;
	bool big = false;
	for (; i < n; i++) {
		int c = (unsigned char)b[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		v = v * base + (unsigned)d;
		if (v > UINT64_MAX)
			big = true, v = UINT64_MAX; /* saturate, keep scanning for junk */
	}
	if (big || v > max)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static void fuzz_uint(const uint8_t *d, size_t n)
{
	if (n < 9)
		return;
	unsigned base = d[0] & 1 ? 16 : 10;
	uint64_t max = d[0] & 2 ? UINT64_MAX : le64(d + 1, 8);
	char *b = copy_of(d + 9, n - 9, false);
	uint64_t got = 0xdead, want = 0xdead;
	int rc = sysfs_parse_uint(b, n - 9, base, max, &got);
	int ref = ref_uint(b, n - 9, base, max, &want);
	check(rc == ref);
	check(rc != 0 || (got == want && got <= max));
	check(rc == 0 || got == 0xdead); /* nothing written on failure */
	free(b);
}

static void fuzz_link(const uint8_t *d, size_t n)
{
	if (n < 1)
		return;
	size_t out_len = d[0] % 72;
	char out[72];
	char *t = copy_of(d + 1, n - 1, false);
	size_t len = n - 1;
	int rc = sysfs_parse_link_base(t, len, out, out_len);
	if (rc == 0) {
		size_t k = strlen(out);
		check(k > 0 && k < out_len && !strchr(out, '/'));
		check(strcmp(out, ".") && strcmp(out, ".."));
		/* It is the whole last component of the input. */
		check(k <= len && !memcmp(t + len - k, out, k));
		check(k == len || t[len - k - 1] == '/');
	} else {
		check(rc == -EINVAL || rc == -ENAMETOOLONG);
		check(out_len == 0 || out[0] == '\0');
	}
	free(t);
}

static void fuzz_driver_name(const uint8_t *d, size_t n)
{
	char *s = copy_of(d, n, true);
	size_t k = strlen(s);
	bool ok = k >= 1 && k <= SYSFS_DRIVER_NAME_MAX && strcmp(s, ".") && strcmp(s, "..");
	for (size_t i = 0; i < k; i++)
		ok = ok && s[i] > ' ' && s[i] < 0x7f && s[i] != '/';
	int rc = sysfs_driver_name_check(s);
	check((rc == 0) == ok);
	check(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
	/* A refused name is never looked up as a path. */
	if (rc)
		check(!pci_driver_loaded(s));
	free(s);
}

static void fuzz_bdf(const uint8_t *d, size_t n)
{
	char *s = copy_of(d, n, true);
	char bdf[PCI_BDF_LEN], again[PCI_BDF_LEN];
	if (pci_bdf_parse(s, bdf) == 0) {
		check(strlen(bdf) == 12 && bdf[4] == ':' && bdf[7] == ':' && bdf[10] == '.');
		check(pci_bdf_parse(bdf, again) == 0 && !strcmp(bdf, again));
	}
	free(s);
}

static void fuzz_mac(const uint8_t *d, size_t n)
{
	char *s = copy_of(d, n, true);
	uint8_t mac[6], mac2[6];
	char text[18];
	if (sriov_mac_parse(s, mac) == 0) {
		sriov_mac_format(mac, text);
		check(strlen(s) == 17);
		for (int i = 0; i < 17; i++)
			check(text[i] == (s[i] >= 'A' && s[i] <= 'F' ? s[i] | 0x20 : s[i]));
		check(sriov_mac_parse(text, mac2) == 0 && !memcmp(mac, mac2, 6));
	}
	free(s);
}

static void fuzz_record(const uint8_t *d, size_t n)
{
	char *b = copy_of(d, n, false);
	char guest[ASSIGN_GUEST_LEN];
	pid_t pid = -7;
	int rc = assign_registry_parse(b, n, guest, &pid);
	if (rc == 0) {
		size_t k = strnlen(guest, sizeof(guest));
		check(k > 0 && k < ASSIGN_GUEST_LEN && !strchr(guest, '\n'));
		check(pid > 0);
		check(memmem(b, n, guest, k) != NULL);
	} else {
		check(rc == -EINVAL && pid == -7);
	}
	free(b);
}

static void fuzz_counts(const uint8_t *d, size_t n)
{
	if (n < 24)
		return;
	struct sysfs_sriov_counts in = {
		.total_vfs = le64(d, 8) >> (d[16] % 64),
		.num_vfs = le64(d + 8, 8) >> (d[17] % 64),
		.cap_total_vfs = d[18] & 1 ? -1 : (int)(d[19] | d[20] << 8),
		.pf_rid = (uint16_t)(d[21] << 8 | d[22]),
		.vf_offset = (uint16_t)(d[23] << 8 | (n > 24 ? d[24] : 0)),
		.vf_stride = (uint16_t)(n > 25 ? d[25] : 0),
	};
	int total = -1, num = -1;
	char problem[SRIOV_PROBLEM_LEN];
	int rc = sysfs_sriov_counts_clamp(&in, &total, &num, problem, sizeof(problem));
	check(0 <= num && num <= total && (unsigned)total <= SRIOV_VFS_MAX);
	check((uint64_t)total <= in.total_vfs && (uint64_t)num <= in.num_vfs);
	check(in.cap_total_vfs < 0 || total <= in.cap_total_vfs);
	if (in.vf_offset && total > 0)
		check((uint32_t)in.pf_rid + in.vf_offset + (uint32_t)(total - 1) * in.vf_stride <= 0xFFFFu);
	bool clamped = (uint64_t)total != in.total_vfs || (uint64_t)num != in.num_vfs;
	check((rc == -ERANGE) == clamped && (rc == 0) == !clamped);
	check(clamped == (problem[0] != '\0'));
}

/* --- the real readers over a fake sysfs --------------------------------- */

static char root[64];
static const char *const pf_files[] = { "sriov_totalvfs", "sriov_numvfs", "sriov_offset",
					"sriov_stride", "sriov_vf_device", "vendor",
					"sriov_drivers_autoprobe" };
#define NFILES (sizeof(pf_files) / sizeof(pf_files[0]))

static void sh(const char *fmt, const char *arg)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg);
	if (system(cmd) != 0)
		abort();
}

static void remove_tree(void)
{
	sh("rm -rf '%s'", root);
}

static void make_tree(void)
{
	snprintf(root, sizeof(root), "/dev/shm/fuzz-sysfs-XXXXXX");
	if (!mkdtemp(root)) {
		snprintf(root, sizeof(root), "/tmp/fuzz-sysfs-XXXXXX");
		if (!mkdtemp(root))
			abort();
	}
	sriov_sysfs_set_root(root);
	atexit(remove_tree);
	/* PF 00:02.0 on igb with virtfn0..3 (one pointing at a non-device). */
	sh("d=%s/bus/pci/devices; mkdir -p $d/0000:00:02.0 $d/0000:00:12.0 $d/0000:00:12.2 "
	   "%s/bus/pci/drivers/igb %s/kernel/iommu_groups/4 %s/etc", root);
	sh("d=%s/bus/pci/devices; ln -s ../drivers/igb $d/0000:00:02.0/driver; "
	   "ln -s ../0000:00:12.0 $d/0000:00:02.0/virtfn0; ln -s ../0000:00:12.2 $d/0000:00:02.0/virtfn1; "
	   "ln -s ../../../etc $d/0000:00:02.0/virtfn2; ln -s ../0000:00:12.0 $d/0000:00:02.0/virtfn3; "
	   "ln -s ../../../kernel/iommu_groups/4 $d/0000:00:12.0/iommu_group; "
	   "echo 0x1234 > $d/0000:00:02.0/device; echo 0x020000 > $d/0000:00:02.0/class", root);
}

static void put_file(const char *name, const uint8_t *d, size_t n)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/%s", root, name);
	FILE *f = fopen(p, "w");
	if (!f)
		abort();
	if (n && fwrite(d, 1, n, f) != n)
		abort();
	fclose(f);
}

static void fuzz_tree(const uint8_t *d, size_t n)
{
	if (!root[0])
		make_tree();
	/* Files separated by 0xFF bytes, in pf_files order; then, optionally,
	 * config space bytes (an SR-IOV capability at 0x100 if long enough). */
	size_t at = 0;
	for (size_t i = 0; i < NFILES; i++) {
		const uint8_t *sep = at < n ? memchr(d + at, 0xFF, n - at) : NULL;
		size_t len = sep ? (size_t)(sep - (d + at)) : (at < n ? n - at : 0);
		put_file(pf_files[i], d + at, len);
		at += len + (sep ? 1 : 0);
	}
	uint8_t cfg[4096];
	memset(cfg, 0, sizeof(cfg));
	bool with_cfg = at < n;
	if (with_cfg) {
		size_t len = n - at > 0x40 ? 0x40 : n - at;
		memcpy(cfg + 0x100, d + at, len);
		put_file("config", cfg, sizeof(cfg));
	} else {
		char p[256];
		snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/config", root);
		unlink(p);
	}
	struct sriov_pf_info pf;
	int rc = sriov_pf_get("0000:00:02.0", &pf);
	check(rc == 0 || rc == -EIO || rc == -EINVAL || rc == -ERANGE || rc == -EFBIG);
	if (rc == 0 || rc == -EIO) {
		check(0 <= pf.num_vfs && pf.num_vfs <= pf.total_vfs && pf.total_vfs <= 65535);
		check((rc == -EIO) == (pf.problem[0] != '\0'));
		check(strnlen(pf.problem, sizeof(pf.problem)) < sizeof(pf.problem));
		check(pf.drivers_autoprobe >= -1 && pf.drivers_autoprobe <= 1);
		check(!strcmp(pf.driver, "igb"));
		if (pf.vf_offset && pf.total_vfs)
			check(0x10u + pf.vf_offset + (uint32_t)(pf.total_vfs - 1) * pf.vf_stride <= 0xFFFFu);
		struct sriov_cap cap;
		struct pci_cfg_file cf;
		if (with_cfg && pci_cfg_open("0000:00:02.0", &cf) == 0) {
			if (cf.readable == 4096 && sriov_cap_read(&cf.ops, &cap) == 0)
				check(pf.total_vfs <= cap.total_vfs);
			pci_cfg_close(&cf);
		}
		struct sriov_vf_info *vfs = NULL;
		size_t nvf = 0;
		check(sriov_vf_list("0000:00:02.0", &vfs, &nvf) == 0);
		check(nvf <= (size_t)pf.num_vfs && nvf <= 3);
		for (size_t i = 0; i < nvf; i++) {
			char canon[PCI_BDF_LEN];
			check(pci_bdf_parse(vfs[i].bdf, canon) == 0 && !strcmp(canon, vfs[i].bdf));
			check(vfs[i].index >= 0 && vfs[i].index < pf.num_vfs);
		}
		free(vfs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	switch (data[0] % 8) {
	case 0: fuzz_uint(d, n); break;
	case 1: fuzz_link(d, n); break;
	case 2: fuzz_driver_name(d, n); break;
	case 3: fuzz_bdf(d, n); break;
	case 4: fuzz_mac(d, n); break;
	case 5: fuzz_record(d, n); break;
	case 6: fuzz_counts(d, n); break;
	default: fuzz_tree(d, n); break;
	}
	return 0;
}
