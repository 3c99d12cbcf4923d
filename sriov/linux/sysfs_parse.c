/*
 * sysfs_parse.c — pure parsers for sysfs values.  See sysfs_parse.h.
 */
#include "sriov/linux/sysfs_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int digit_value(char c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sysfs_parse_uint(const char *buf, size_t len, unsigned base, uint64_t max, uint64_t *out)
{
	if (!buf || !out || (base != 10 && base != 16))
		return -EINVAL;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	size_t i = 0;
	if (base == 16 && len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
		i = 2;
	if (i == len)
		return -EINVAL; /* empty, or a bare "0x" */
	uint64_t v = 0;
	bool too_big = false;
	for (; i < len; i++) {
		int d = digit_value(buf[i], base);
		if (d < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			too_big = true; /* keep checking the form: junk is -EINVAL */
		else
			v = v * base + (uint64_t)d;
	}
	if (too_big || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int sysfs_parse_link_base(const char *target, size_t len, char *out, size_t out_len)
{
	if (!target || !out || out_len == 0)
		return -EINVAL;
	out[0] = '\0';
	if (memchr(target, '\0', len))
		return -EINVAL;
	size_t start = len;
	while (start > 0 && target[start - 1] != '/')
		start--;
	size_t n = len - start;
	if (n == 0 || (n == 1 && target[start] == '.') ||
	    (n == 2 && target[start] == '.' && target[start + 1] == '.'))
		return -EINVAL;
	if (n >= out_len)
		return -ENAMETOOLONG;
	memcpy(out, target + start, n);
	out[n] = '\0';
	return 0;
}

int sysfs_driver_name_check(const char *name)
{
	if (!name || !name[0])
		return -EINVAL;
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++) {
		if (n >= SYSFS_DRIVER_NAME_MAX)
			return -ENAMETOOLONG;
		/* Printable ASCII without the blank: 0x21..0x7e. */
		if (*p <= 0x20 || *p >= 0x7f || *p == '/')
			return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

/* How many VFs can have a routing ID at or below 0xFFFF (bus 255). */
static uint64_t routable_vfs(const struct sysfs_sriov_counts *in)
{
	uint32_t first = (uint32_t)in->pf_rid + in->vf_offset;
	if (first > 0xFFFFu)
		return 0;
	if (in->vf_stride == 0)
		return 1; /* §9.3.3.10: stride 0 allows a single VF */
	return (0xFFFFu - first) / in->vf_stride + 1u;
}

int sysfs_sriov_counts_clamp(const struct sysfs_sriov_counts *in, int *total, int *num,
			     char *problem, size_t problem_len)
{
	char dummy[1];
	if (!problem || problem_len == 0) {
		problem = dummy;
		problem_len = sizeof(dummy);
	}
	problem[0] = '\0';
	if (!in || !total || !num)
		return -EINVAL;
	bool clamped = false;
	uint64_t t = in->total_vfs;
	if (in->cap_total_vfs >= 0 && t > (uint64_t)in->cap_total_vfs) {
		clamped = true;
		snprintf(problem, problem_len, "sriov_totalvfs is %llu but the SR-IOV capability's "
			 "TotalVFs is %d", (unsigned long long)t, in->cap_total_vfs);
		t = (uint64_t)in->cap_total_vfs;
	}
	if (t > SRIOV_VFS_MAX) {
		if (!clamped)
			snprintf(problem, problem_len, "sriov_totalvfs is %llu, past the PCIe limit of %u "
				 "(TotalVFs is a 16-bit field)", (unsigned long long)t, SRIOV_VFS_MAX);
		t = SRIOV_VFS_MAX;
		clamped = true;
	}
	if (in->vf_offset != 0 && t > routable_vfs(in)) {
		uint64_t r = routable_vfs(in);
		if (!clamped)
			snprintf(problem, problem_len, "TotalVFs %llu with First VF Offset %u and VF Stride "
				 "%u would give VFs past bus 255 (only %llu fit)", (unsigned long long)t,
				 in->vf_offset, in->vf_stride, (unsigned long long)r);
		t = r;
		clamped = true;
	}
	uint64_t n = in->num_vfs;
	if (n > t) {
		if (!clamped)
			snprintf(problem, problem_len, "sriov_numvfs is %llu but at most %llu VFs can exist",
				 (unsigned long long)n, (unsigned long long)t);
		n = t;
		clamped = true;
	}
	*total = (int)t;
	*num = (int)n;
	return clamped ? -ERANGE : 0;
}
