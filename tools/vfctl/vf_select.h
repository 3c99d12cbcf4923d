/*
 * vf_select.h — the VFs a subcommand works on: those named on its command
 * line (as VF addresses or their interfaces), or every VF of every PF.
 * Shared by `vfctl stats` and `vfctl status`.  (No vfctl.h here: files
 * that build JSON with jansson include this one.)
 */
#ifndef VFS_VFCTL_VF_SELECT_H
#define VFS_VFCTL_VF_SELECT_H

#include <stddef.h>

#include "sriov/linux/sriov_sysfs.h"

struct vf_sel {
	char vf[PCI_BDF_LEN];
	char pf[PCI_BDF_LEN];
	int index;
	char pf_netdev[SRIOV_IFNAME_LEN];
};

/* Resolve argv[0..argc) (every VF when argc is 0) into *out (malloc'd).
 * Returns VFCTL_OK, or the status the failed resolution printed. */
int vf_select(int argc, char **argv, struct vf_sel **out, size_t *n);

#endif
