/*
 * vf_holder.c — processes holding a VF's VFIO nodes (vf_holder.h).
 */
#include "sriov/linux/vf_holder.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sriov_sysfs.h"

static const char *proc_root_override;

static bool all_digits(const char *s);
static void read_comm(pid_t pid, char *comm, size_t len);
static int holder_cmp(const void *a, const void *b);

void vf_holder_set_proc_root(const char *root)
{
	proc_root_override = root;
}

const char *vf_holder_proc_root(void)
{
	if (proc_root_override)
		return proc_root_override;
	const char *env = getenv("VFSTACK_PROC");
	return env && *env ? env : "/proc";
}

int vf_vfio_nodes(const char *bdf, char nodes[2][VF_HOLDER_NODE_LEN])
{
	int k = 0;
	int group = pci_iommu_group(bdf);
	if (group >= 0)
		sriov_fmt(nodes[k++], VF_HOLDER_NODE_LEN, "/dev/vfio/%d", group);
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/bus/pci/devices/%s/vfio-dev", sriov_sysfs_root(), bdf);
	DIR *d = opendir(p);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, "vfio", 4) == 0 && all_digits(e->d_name + 4)) {
				sriov_fmt(nodes[k++], VF_HOLDER_NODE_LEN, "/dev/vfio/devices/%s", e->d_name);
				break;
			}
		}
		closedir(d);
	}
	return k;
}

int vf_holders_find(char nodes[][VF_HOLDER_NODE_LEN], int nnodes, struct vf_holder *out,
		    size_t max, size_t *n, bool *partial)
{
	*n = 0;
	*partial = false;
	if (nnodes <= 0)
		return 0;
	const char *proc = vf_holder_proc_root();
	DIR *pd = opendir(proc);
	if (!pd)
		return -errno;
	struct dirent *pe;
	while ((pe = readdir(pd)) && *n < max) {
		if (!all_digits(pe->d_name) || strlen(pe->d_name) > 10)
			continue;
		char fdp[PATH_MAX];
		sriov_fmt(fdp, sizeof(fdp), "%s/%s/fd", proc, pe->d_name);
		DIR *fd = opendir(fdp);
		if (!fd) {
			if (errno == EACCES || errno == EPERM)
				*partial = true;
			continue; /* gone meanwhile, or not ours to see */
		}
		struct dirent *fe;
		int hit = -1;
		while (hit < 0 && (fe = readdir(fd))) {
			if (!all_digits(fe->d_name))
				continue;
			char lp[PATH_MAX], target[PATH_MAX];
			sriov_fmt(lp, sizeof(lp), "%s/%s", fdp, fe->d_name);
			ssize_t l = readlink(lp, target, sizeof(target) - 1);
			if (l <= 0)
				continue;
			target[l] = '\0';
			for (int k = 0; k < nnodes; k++)
				if (strcmp(target, nodes[k]) == 0)
					hit = k;
		}
		closedir(fd);
		if (hit >= 0) {
			struct vf_holder *h = &out[(*n)++];
			h->pid = (pid_t)strtol(pe->d_name, NULL, 10);
			read_comm(h->pid, h->comm, sizeof(h->comm));
			sriov_fmt(h->node, sizeof(h->node), "%s", nodes[hit]);
		}
	}
	closedir(pd);
	if (*n > 1)
		qsort(out, *n, sizeof(*out), holder_cmp);
	return 0;
}

/* --- helpers ---------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The command name, with anything unprintable replaced (it is the
 * process's own choice, prctl(PR_SET_NAME)). */
static void read_comm(pid_t pid, char *comm, size_t len)
{
	char p[PATH_MAX];
	comm[0] = '\0';
	sriov_fmt(p, sizeof(p), "%s/%d/comm", vf_holder_proc_root(), (int)pid);
	if (sysfs_read(p, comm, len) != 0) {
		comm[0] = '\0';
		return;
	}
	for (char *c = comm; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

static int holder_cmp(const void *a, const void *b)
{
	const struct vf_holder *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}
