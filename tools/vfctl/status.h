/*
 * status.h — what `vfctl status` learns about one VF, and its JSON form
 * (status_json.c, kept apart from vfctl.h because it uses jansson).
 */
#ifndef VFS_VFCTL_STATUS_H
#define VFS_VFCTL_STATUS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/vf_holder.h"
#include "tools/vfctl/vf_select.h"

#define VF_STATUS_MAX_HOLDERS 16

struct vf_status {
	const struct vf_sel *sel;
	struct sriov_vf_info info;
	char guest[ASSIGN_GUEST_LEN];
	pid_t guest_pid; /* 0: no live registry record */
	struct vf_holder holders[VF_STATUS_MAX_HOLDERS];
	size_t nholders;
	bool partial;
	bool netdev_busy;
	char why[128];
};

/* Held by a process or a guest, or its interface up with an address. */
bool vf_status_in_use(const struct vf_status *st);

/* {"vfs": [...]} pretty-printed, with a final newline. */
void vf_status_print_json(FILE *f, const struct vf_status *st, size_t n);

#endif
