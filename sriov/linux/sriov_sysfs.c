/*
 * sriov_sysfs.c — Linux PF/VF discovery and SR-IOV control.  See sriov_sysfs.h.
 */
#include "sriov/linux/sriov_sysfs.h"
#include "sriov/linux/sysfs_parse.h"

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pci/pci.h>

static char sysfs_root[PATH_MAX] = "";

int sriov_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

void sriov_sysfs_set_root(const char *root)
{
	sriov_fmt(sysfs_root, sizeof(sysfs_root), "%s", root ? root : "");
}

const char *sriov_sysfs_root(void)
{
	if (sysfs_root[0])
		return sysfs_root;
	const char *env = getenv("VFSTACK_SYSFS");
	return env && env[0] ? env : "/sys";
}

int pci_bdf_parse(const char *text, char bdf[PCI_BDF_LEN])
{
	unsigned dom = 0, bus, dev, fn;
	int used = 0;
	if (!text)
		return -EINVAL;
	if (sscanf(text, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &used) == 4 && text[used] == '\0') {
		/* fall through */
	} else if (dom = 0, used = 0,
		   sscanf(text, "%x:%x.%x%n", &bus, &dev, &fn, &used) == 3 && text[used] == '\0') {
		/* fall through */
	} else {
		return -EINVAL;
	}
	for (const char *p = text; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -EINVAL;
	if (dom > 0xFFFF || bus > 0xFF || dev > 0x1F || fn > 7)
		return -EINVAL;
	sriov_fmt(bdf, PCI_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static void dev_path(char *buf, size_t len, const char *bdf, const char *attr)
{
	sriov_fmt(buf, len, "%s/bus/pci/devices/%s%s%s", sriov_sysfs_root(), bdf,
		 attr ? "/" : "", attr ? attr : "");
}

bool pci_dev_exists(const char *bdf)
{
	char p[PATH_MAX];
	dev_path(p, sizeof(p), bdf, NULL);
	return access(p, F_OK) == 0;
}

/* Read a whole attribute: up to len - 1 bytes; -EFBIG when the file holds
 * more (a sysfs value is never that long: the file is not what it claims). */
static int read_raw(const char *path, char *buf, size_t len, size_t *got)
{
	if (len < 2)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	int err = 0;
	while (n < len) {
		ssize_t r = read(fd, buf + n, len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!err && n >= len)
		err = -EFBIG;
	buf[err ? 0 : n] = '\0';
	*got = err ? 0 : n;
	return err;
}

int sysfs_read(const char *path, char *buf, size_t len)
{
	size_t n;
	int err = read_raw(path, buf, len, &n);
	if (err)
		return err;
	if (memchr(buf, '\0', n)) {
		buf[0] = '\0';
		return -EIO; /* text attributes hold no NUL */
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as a shell redirect does */
	if (fd < 0)
		return -errno;
	size_t len = strlen(val);
	ssize_t n = write(fd, val, len);
	int err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int pci_dev_attr_read(const char *bdf, const char *attr, char *buf, size_t len)
{
	char p[PATH_MAX];
	dev_path(p, sizeof(p), bdf, attr);
	return sysfs_read(p, buf, len);
}

int pci_dev_attr_write(const char *bdf, const char *attr, const char *val)
{
	char p[PATH_MAX];
	dev_path(p, sizeof(p), bdf, attr);
	return sysfs_write(p, val);
}

/* One number attribute of a device, in the base the kernel prints it in and
 * at most `max`: -EINVAL for junk, -ERANGE above max. */
static int attr_uint(const char *bdf, const char *attr, unsigned base, uint64_t max, uint64_t *out)
{
	char p[PATH_MAX], buf[64];
	size_t n;
	dev_path(p, sizeof(p), bdf, attr);
	int err = read_raw(p, buf, sizeof(buf), &n);
	return err ? err : sysfs_parse_uint(buf, n, base, max, out);
}

int pci_dev_ids(const char *bdf, uint16_t *vendor, uint16_t *device, uint32_t *class_code)
{
	uint64_t v = 0, d = 0, c = 0;
	/* "0x%04x" / "0x%06x" (drivers/pci/pci-sysfs.c): 16-bit IDs, 24-bit class. */
	int err = attr_uint(bdf, "vendor", 16, 0xFFFF, &v);
	if (!err)
		err = attr_uint(bdf, "device", 16, 0xFFFF, &d);
	if (!err)
		err = attr_uint(bdf, "class", 16, 0xFFFFFF, &c);
	if (err)
		return pci_dev_exists(bdf) ? err : -ENODEV;
	if (vendor)
		*vendor = (uint16_t)v;
	if (device)
		*device = (uint16_t)d;
	if (class_code)
		*class_code = (uint32_t)c;
	return 0;
}

/* libpci calls these through pointers pci_init() would set; we only look
 * names up, so give it quiet ones. */
static void pci_quiet(char *msg, ...)
{
	(void)msg;
}

void pci_dev_name(uint16_t vendor, uint16_t device, char *buf, size_t len)
{
	sriov_fmt(buf, len, "[%04x:%04x]", vendor, device);
	struct pci_access *pa = pci_alloc();
	if (!pa)
		return;
	pa->warning = pci_quiet;
	pa->debug = pci_quiet;
	char vbuf[SRIOV_NAME_LEN], dbuf[SRIOV_NAME_LEN];
	const char *vn = pci_lookup_name(pa, vbuf, sizeof(vbuf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, vendor);
	const char *dn = pci_lookup_name(pa, dbuf, sizeof(dbuf), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor, device);
	if (vn && dn)
		sriov_fmt(buf, len, "%s %s", vn, dn);
	else if (vn)
		sriov_fmt(buf, len, "%s [%04x]", vn, device);
	pci_cleanup(pa);
}

/* The first entry of a directory that is not "." or "..". */
static int first_entry(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int err = -ENOENT;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= len)
			continue; /* not a name this caller can hold (IFNAMSIZ) */
		sriov_fmt(out, len, "%s", e->d_name);
		err = 0;
		break;
	}
	closedir(d);
	return err;
}

int pci_dev_netdev(const char *bdf, char *ifname, size_t len)
{
	char p[PATH_MAX];
	ifname[0] = '\0';
	dev_path(p, sizeof(p), bdf, "net");
	int err = first_entry(p, ifname, len);
	return err == -ENOENT ? 0 : err;
}

int pci_dev_link_base(const char *bdf, const char *link, char *out, size_t len)
{
	char p[PATH_MAX], target[PATH_MAX];
	if (len)
		out[0] = '\0';
	dev_path(p, sizeof(p), bdf, link);
	ssize_t n = readlink(p, target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	return sysfs_parse_link_base(target, (size_t)n, out, len);
}

/* A link in the device directory that must name a PCI device (virtfnN,
 * physfn): its base in canonical BDF form, or -EINVAL. */
static int link_bdf(const char *bdf, const char *link, char out[PCI_BDF_LEN])
{
	char base[64];
	out[0] = '\0';
	int err = pci_dev_link_base(bdf, link, base, sizeof(base));
	if (err)
		return err;
	char canon[PCI_BDF_LEN];
	if (pci_bdf_parse(base, canon) || strcmp(canon, base))
		return -EINVAL;
	memcpy(out, canon, PCI_BDF_LEN);
	return 0;
}

static uint32_t cfg_file_read32(void *ctx, uint16_t off)
{
	const struct pci_cfg_file *c = ctx;
	uint32_t v;
	return pread(c->fd, &v, sizeof(v), off) == (ssize_t)sizeof(v) ? v : 0xFFFFFFFFu;
}

int pci_cfg_open(const char *bdf, struct pci_cfg_file *cfg)
{
	char p[PATH_MAX];
	dev_path(p, sizeof(p), bdf, "config");
	cfg->fd = open(p, O_RDONLY | O_CLOEXEC);
	if (cfg->fd < 0)
		return pci_dev_exists(bdf) ? -errno : -ENODEV;
	cfg->ops = (struct sriov_cfg_ops){ cfg_file_read32, NULL, cfg };
	/* sysfs cuts reads short: at 64 bytes without CAP_SYS_ADMIN, at 256
	 * for a function without extended config space. */
	uint32_t v;
	cfg->readable = pread(cfg->fd, &v, 4, 0xFFC) == 4 ? 4096 : pread(cfg->fd, &v, 4, 0xFC) == 4 ? 256 : 64;
	return 0;
}

void pci_cfg_close(struct pci_cfg_file *cfg)
{
	if (cfg->fd >= 0)
		close(cfg->fd);
	cfg->fd = -1;
}

bool sriov_is_pf(const char *bdf)
{
	char p[PATH_MAX];
	dev_path(p, sizeof(p), bdf, "sriov_totalvfs");
	return access(p, F_OK) == 0;
}

/* Routing ID of a canonical BDF (bus << 8 | device << 3 | function). */
static uint16_t bdf_rid(const char *bdf)
{
	unsigned dom, bus, dev, fn;
	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return 0;
	return (uint16_t)((bus & 0xFFu) << 8 | (dev & 0x1Fu) << 3 | (fn & 7u));
}

/* A count attribute: absent -> -ENOENT; junk, negative or huge -> the
 * phrase in `problem` (if it has none yet) and 0. */
static uint64_t count_attr(const char *bdf, const char *attr, uint64_t max, int *err,
			   char *problem, size_t len)
{
	uint64_t v = 0;
	char p[PATH_MAX], buf[64];
	size_t n;
	dev_path(p, sizeof(p), bdf, attr);
	*err = read_raw(p, buf, sizeof(buf), &n);
	if (*err == -ENOENT)
		return 0;
	if (!*err)
		*err = sysfs_parse_uint(buf, n, 10, max, &v);
	if (*err && !problem[0])
		sriov_fmt(problem, len, "%s does not hold a number from 0 to %llu", attr,
			  (unsigned long long)max);
	return *err ? 0 : v;
}

/* The PF's VF counts from sysfs, clamped (sysfs_sriov_counts_clamp) to what
 * the hardware allows: its SR-IOV capability's TotalVFs where this user can
 * read it, the 16-bit field, and routing IDs within bus 255.  0, -ENOTSUP
 * (not a PF), or -EIO with `problem` saying what was inconsistent. */
static int pf_counts(const char *bdf, struct sriov_pf_info *pf, char *problem, size_t len)
{
	int err;
	problem[0] = '\0';
	uint64_t total = count_attr(bdf, "sriov_totalvfs", UINT64_MAX, &err, problem, len);
	if (err == -ENOENT)
		return -ENOTSUP;
	uint64_t num = count_attr(bdf, "sriov_numvfs", UINT64_MAX, &err, problem, len);
	uint64_t off = count_attr(bdf, "sriov_offset", 0xFFFF, &err, problem, len);
	uint64_t stride = err ? 0 : count_attr(bdf, "sriov_stride", 0xFFFF, &err, problem, len);
	struct sysfs_sriov_counts in = {
		.total_vfs = total, .num_vfs = num, .cap_total_vfs = -1, .pf_rid = bdf_rid(bdf),
		.vf_offset = err ? 0 : (uint16_t)off, .vf_stride = (uint16_t)stride,
	};
	/* The capability (root can read the extended config space). */
	struct pci_cfg_file cf;
	if (pci_cfg_open(bdf, &cf) == 0) {
		struct sriov_cap cap;
		if (cf.readable == 4096 && sriov_cap_read(&cf.ops, &cap) == 0) {
			in.cap_total_vfs = cap.total_vfs;
			if (!in.vf_offset) {
				in.vf_offset = cap.vf_offset;
				in.vf_stride = cap.vf_stride;
			}
		}
		pci_cfg_close(&cf);
	}
	char why[SRIOV_PROBLEM_LEN];
	int bad = sysfs_sriov_counts_clamp(&in, &pf->total_vfs, &pf->num_vfs, why, sizeof(why));
	if (bad && !problem[0])
		sriov_fmt(problem, len, "%s", why);
	pf->vf_offset = in.vf_offset;
	pf->vf_stride = in.vf_stride;
	return problem[0] ? -EIO : 0;
}

int sriov_pf_get(const char *bdf, struct sriov_pf_info *pf)
{
	memset(pf, 0, sizeof(*pf));
	if (!pci_dev_exists(bdf))
		return -ENODEV;
	if (!sriov_is_pf(bdf))
		return -ENOTSUP;
	sriov_fmt(pf->bdf, sizeof(pf->bdf), "%s", bdf);
	int err = pci_dev_ids(bdf, &pf->vendor, &pf->device, NULL);
	if (err)
		return err;
	pci_dev_name(pf->vendor, pf->device, pf->name, sizeof(pf->name));
	if (pci_dev_link_base(bdf, "driver", pf->driver, sizeof(pf->driver)) ||
	    sysfs_driver_name_check(pf->driver))
		pf->driver[0] = '\0';
	pci_dev_netdev(bdf, pf->netdev, sizeof(pf->netdev));
	int counts = pf_counts(bdf, pf, pf->problem, sizeof(pf->problem));
	if (counts == -ENOTSUP)
		return counts;
	uint64_t v;
	pf->drivers_autoprobe = attr_uint(bdf, "sriov_drivers_autoprobe", 10, 1, &v) ? -1 : (int)v;
	/* "%x\n" (drivers/pci/iov.c sriov_vf_device_show): hex without 0x. */
	pf->vf_device = attr_uint(bdf, "sriov_vf_device", 16, 0xFFFF, &v) ? 0 : (uint16_t)v;
	return counts;
}

static int cmp_pf(const void *a, const void *b)
{
	return strcmp(((const struct sriov_pf_info *)a)->bdf, ((const struct sriov_pf_info *)b)->bdf);
}

int sriov_pf_list(struct sriov_pf_info **pfs, size_t *n)
{
	char p[PATH_MAX];
	*pfs = NULL;
	*n = 0;
	sriov_fmt(p, sizeof(p), "%s/bus/pci/devices", sriov_sysfs_root());
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	size_t cap = 0;
	int err = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !sriov_is_pf(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			struct sriov_pf_info *grown = realloc(*pfs, cap * sizeof(**pfs));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			*pfs = grown;
		}
		int got = sriov_pf_get(e->d_name, &(*pfs)[*n]);
		if (got == 0 || got == -EIO) /* -EIO: listed with its problem */
			(*n)++;
	}
	closedir(d);
	if (err) {
		free(*pfs);
		*pfs = NULL;
		*n = 0;
		return err;
	}
	if (*n)
		qsort(*pfs, *n, sizeof(**pfs), cmp_pf);
	return 0;
}

int sriov_vf_get(const char *pf_bdf, int index, struct sriov_vf_info *vf)
{
	char link[32];
	memset(vf, 0, sizeof(*vf));
	vf->iommu_group = -1;
	sriov_fmt(link, sizeof(link), "virtfn%d", index);
	int err = link_bdf(pf_bdf, link, vf->bdf);
	if (err)
		return err;
	vf->index = index;
	if (pci_dev_link_base(vf->bdf, "driver", vf->driver, sizeof(vf->driver)) ||
	    sysfs_driver_name_check(vf->driver))
		vf->driver[0] = '\0';
	pci_dev_netdev(vf->bdf, vf->netdev, sizeof(vf->netdev));
	char grp[32];
	uint64_t g;
	if (pci_dev_link_base(vf->bdf, "iommu_group", grp, sizeof(grp)) == 0 &&
	    sysfs_parse_uint(grp, strlen(grp), 10, INT_MAX, &g) == 0)
		vf->iommu_group = (int)g;
	return 0;
}

/* How many virtfnN links to walk: NumVFs clamped as sriov_pf_get does. */
static int walk_count(const char *pf_bdf, int *num)
{
	struct sriov_pf_info pf;
	char problem[SRIOV_PROBLEM_LEN];
	memset(&pf, 0, sizeof(pf));
	int err = pf_counts(pf_bdf, &pf, problem, sizeof(problem));
	*num = pf.num_vfs;
	return err == -ENOTSUP ? err : 0;
}

int sriov_vf_list(const char *pf_bdf, struct sriov_vf_info **vfs, size_t *n)
{
	*vfs = NULL;
	*n = 0;
	int num = 0;
	if (!pci_dev_exists(pf_bdf))
		return -ENODEV;
	if (walk_count(pf_bdf, &num))
		return -ENOTSUP;
	if (num <= 0)
		return 0;
	*vfs = calloc((size_t)num, sizeof(**vfs));
	if (!*vfs)
		return -ENOMEM;
	for (int i = 0; i < num; i++)
		if (sriov_vf_get(pf_bdf, i, &(*vfs)[*n]) == 0)
			(*n)++;
	return 0;
}

int sriov_vf_parent(const char *vf_bdf, char pf_bdf[PCI_BDF_LEN], int *index)
{
	if (!pci_dev_exists(vf_bdf))
		return -ENODEV;
	if (link_bdf(vf_bdf, "physfn", pf_bdf))
		return -ENOTSUP;
	int num = 0;
	walk_count(pf_bdf, &num);
	for (int i = 0; i < num; i++) {
		char link[32], b[PCI_BDF_LEN];
		sriov_fmt(link, sizeof(link), "virtfn%d", i);
		if (link_bdf(pf_bdf, link, b) == 0 && strcmp(b, vf_bdf) == 0) {
			if (index)
				*index = i;
			return 0;
		}
	}
	return -ENOENT;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The kernel creates the VF devices before sriov_numvfs returns; give udev
 * and the VF drivers up to 10 s to finish probing so what follows sees them. */
static void wait_for_vfs(const char *pf_bdf, int num_vfs)
{
	for (int t = 0; t < 100; t++) {
		char link[32], b[PCI_BDF_LEN];
		sriov_fmt(link, sizeof(link), "virtfn%d", num_vfs - 1);
		if (num_vfs == 0 || pci_dev_link_base(pf_bdf, link, b, sizeof(b)) == 0)
			return;
		sleep_ms(100);
	}
}

static int write_numvfs(const char *pf_bdf, int num_vfs)
{
	char val[16];
	sriov_fmt(val, sizeof(val), "%d", num_vfs);
	int err = pci_dev_attr_write(pf_bdf, "sriov_numvfs", val);
	if (!err)
		wait_for_vfs(pf_bdf, num_vfs);
	return err;
}

int sriov_set_numvfs(const char *pf_bdf, int num_vfs)
{
	struct sriov_pf_info pf;
	int err = sriov_pf_get(pf_bdf, &pf);
	/* Inconsistent counts (-EIO): pf holds the clamped ones, which bound
	 * the request; the current count is unknown, so go through 0. */
	bool unsure = err == -EIO;
	if (err && !unsure)
		return err;
	if (num_vfs < 0 || num_vfs > pf.total_vfs)
		return -ERANGE;
	if (!pf.driver[0] && num_vfs > 0)
		return -ENOENT;
	if (pf.num_vfs == num_vfs && !unsure)
		return 0;
	if (pf.num_vfs != 0 || unsure) {
		err = write_numvfs(pf_bdf, 0);
		if (err || num_vfs == 0)
			return err;
	}
	err = write_numvfs(pf_bdf, num_vfs);
	if (err && pf.num_vfs != 0)
		write_numvfs(pf_bdf, pf.num_vfs); /* put back what was there */
	return err;
}

int sriov_get_autoprobe(const char *pf_bdf)
{
	uint64_t v;
	if (!pci_dev_exists(pf_bdf))
		return -ENODEV;
	int err = attr_uint(pf_bdf, "sriov_drivers_autoprobe", 10, 1, &v);
	return err ? -ENOTSUP : (int)(v != 0);
}

int sriov_set_autoprobe(const char *pf_bdf, bool on)
{
	if (!pci_dev_exists(pf_bdf))
		return -ENODEV;
	if (!sriov_is_pf(pf_bdf))
		return -ENOTSUP;
	return pci_dev_attr_write(pf_bdf, "sriov_drivers_autoprobe", on ? "1" : "0");
}
