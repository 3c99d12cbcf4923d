/*
 * vf_holder.h — which processes hold a VF open through VFIO.
 *
 * A process reaches a VF bound to vfio-pci through its IOMMU group's
 * character device, /dev/vfio/GROUP, or (iommufd, Linux 6.2+) the VF's own
 * /dev/vfio/devices/vfioN.  The holders are the processes with one of those
 * open: every /proc/PID/fd/N whose link names the node.  Other users'
 * processes are visible only to root; *partial says some were not.
 *
 * /proc is $VFSTACK_PROC when set (tests), else /proc.
 */
#ifndef VFS_VF_HOLDER_H
#define VFS_VF_HOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VF_HOLDER_NODE_LEN 64
#define VF_HOLDER_COMM_LEN 32

/* The /proc in use; NULL restores the default. */
void vf_holder_set_proc_root(const char *root);
const char *vf_holder_proc_root(void);

/* The VFIO device nodes of a VF: /dev/vfio/GROUP (when it has a group) and
 * /dev/vfio/devices/vfioN (when sysfs lists vfio-dev/vfioN under it).
 * Returns how many (0-2) were filled into nodes. */
int vf_vfio_nodes(const char *bdf, char nodes[2][VF_HOLDER_NODE_LEN]);

struct vf_holder {
	pid_t pid;
	char comm[VF_HOLDER_COMM_LEN]; /* /proc/PID/comm, "" when unreadable */
	char node[VF_HOLDER_NODE_LEN]; /* which of the nodes it holds */
};

/* Every process holding one of `nodes` open, in PID order, each once;
 * at most `max` into out, *n how many.  *partial: some /proc/PID/fd could
 * not be read (EACCES: another user's process and we are not root). */
int vf_holders_find(char nodes[][VF_HOLDER_NODE_LEN], int nnodes, struct vf_holder *out,
		    size_t max, size_t *n, bool *partial);

#endif /* VFS_VF_HOLDER_H */
