/*
 * assign_registry.h — which guest holds which VF.
 *
 * While a guest holds a VF, the file DIR/<VF-BDF> (DIR is
 * /run/vfstack/assign, or $VFSTACK_ASSIGN_DIR) holds the lines
 *   guest=NAME
 *   pid=PID
 * The passthrough side (`vfctl assign`) writes and removes it; `vfctl list`
 * reads it.  A file whose pid is not alive is stale and reads as absent.
 */
#ifndef VFS_ASSIGN_REGISTRY_H
#define VFS_ASSIGN_REGISTRY_H

#include <stddef.h>
#include <sys/types.h>

#define ASSIGN_REGISTRY_DIR "/run/vfstack/assign"
#define ASSIGN_GUEST_LEN 64

/* The directory in use. */
const char *assign_registry_dir(void);

/* Record that `guest` (process `pid`) holds vf_bdf: written to a temporary
 * file and renamed, so a reader never sees half a record.  -EBUSY when a
 * live record for another pid exists. */
int assign_registry_write(const char *vf_bdf, const char *guest, pid_t pid);

/* Drop the record (0 also when there was none). */
int assign_registry_remove(const char *vf_bdf);

/* The live holder of vf_bdf: 0 and guest/pid filled, or -ENOENT when there
 * is no record or it is stale (its pid is gone). */
int assign_registry_lookup(const char *vf_bdf, char *guest, size_t guest_len, pid_t *pid);

#endif /* VFS_ASSIGN_REGISTRY_H */
