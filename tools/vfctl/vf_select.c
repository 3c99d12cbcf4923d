/*
 * vf_select.c — the VFs named on a command line, or all of them.
 */
#include "tools/vfctl/vf_select.h"
#include "tools/vfctl/vfctl.h"

#include <stdlib.h>
#include <string.h>

static int push(struct vf_sel **out, size_t *n, size_t *cap, const char *vf, const char *pf, int index);

int vf_select(int argc, char **argv, struct vf_sel **out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			char vf[PCI_BDF_LEN], pf[PCI_BDF_LEN];
			int index, rc = vfctl_resolve_vf(argv[i], vf, pf, &index);
			if (!rc)
				rc = push(out, n, &cap, vf, pf, index);
			if (rc) {
				free(*out);
				*out = NULL;
				*n = 0;
				return rc;
			}
		}
		return VFCTL_OK;
	}
	struct sriov_pf_info *pfs = NULL;
	size_t npf = 0;
	int err = sriov_pf_list(&pfs, &npf);
	if (err < 0)
		return vfctl_error("could not list the SR-IOV devices in sysfs: %s.", vfctl_strerror(err));
	int rc = VFCTL_OK;
	for (size_t p = 0; !rc && p < npf; p++) {
		struct sriov_vf_info *vfs = NULL;
		size_t nv = 0;
		if (sriov_vf_list(pfs[p].bdf, &vfs, &nv) < 0)
			continue;
		for (size_t v = 0; !rc && v < nv; v++)
			rc = push(out, n, &cap, vfs[v].bdf, pfs[p].bdf, vfs[v].index);
		free(vfs);
	}
	free(pfs);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int push(struct vf_sel **out, size_t *n, size_t *cap, const char *vf, const char *pf, int index)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct vf_sel *p = realloc(*out, nc * sizeof(*p));
		if (!p)
			return vfctl_error("out of memory.");
		*out = p;
		*cap = nc;
	}
	struct vf_sel *s = &(*out)[(*n)++];
	memset(s, 0, sizeof(*s));
	sriov_fmt(s->vf, sizeof(s->vf), "%s", vf);
	sriov_fmt(s->pf, sizeof(s->pf), "%s", pf);
	s->index = index;
	pci_dev_netdev(pf, s->pf_netdev, sizeof(s->pf_netdev));
	return VFCTL_OK;
}
