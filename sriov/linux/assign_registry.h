/*
 * assign_registry.h — which guest holds which VF.
 *
 * While a guest holds a VF, the file DIR/<VF-BDF> (DIR is
 * /run/vfstack/assign, or $VFSTACK_ASSIGN_DIR) holds the lines
 *   guest=NAME
 *   pid=PID
 * and the holding process keeps an flock(2) on DIR/.<VF-BDF>.lock.  The
 * lock is the claim: taking it is the atomic check-and-claim, and it dies
 * with its process, so a crashed holder never blocks the VF.  The
 * passthrough side (`vfctl assign`) claims and releases; `vfctl list`,
 * bind, release and sriov read.  A record is live while its lock is held;
 * a record with no lock file (written by hand, or by an older vfctl) is
 * live while its pid is; anything else is stale and reads as absent.
 */
#ifndef VFS_ASSIGN_REGISTRY_H
#define VFS_ASSIGN_REGISTRY_H

#include <stddef.h>
#include <sys/types.h>

#define ASSIGN_REGISTRY_DIR "/run/vfstack/assign"
#define ASSIGN_GUEST_LEN 64

/* The directory in use. */
const char *assign_registry_dir(void);

/* Claim vf_bdf for `guest` on behalf of this process, atomically: take the
 * VF's lock (flock, non-blocking, retried for up to 100 ms so a reader's
 * momentary probe does not look like a holder), then write the record
 * (temporary file + rename, so a reader never sees half of one).
 * -EBUSY when another process holds it (or a live lock-less record names
 * another pid); `holder`/`holder_pid` (may be NULL) then name it, "" and 0
 * when its record is not written yet.  Claiming again from the holding
 * process for the same guest is a no-op; for another guest it is -EBUSY.
 * The claim lasts until assign_registry_remove(vf_bdf) or process exit. */
int assign_registry_claim(const char *vf_bdf, const char *guest, char *holder, size_t holder_len,
			  pid_t *holder_pid);

/* Drop the record and, when this process holds it, the claim (0 also when
 * there was none). */
int assign_registry_remove(const char *vf_bdf);

/* The live holder of vf_bdf: 0 and guest/pid filled, or -ENOENT when there
 * is no record or it is stale. */
int assign_registry_lookup(const char *vf_bdf, char *guest, size_t guest_len, pid_t *pid);

/* Parse a record's text (len bytes, no NUL needed): 0 with a non-empty guest
 * name (< ASSIGN_GUEST_LEN, no newline) and 0 < pid <= INT_MAX, or -EINVAL.
 * Pure; the fuzz target drives it with raw bytes. */
int assign_registry_parse(const char *buf, size_t len, char guest[ASSIGN_GUEST_LEN], pid_t *pid);

#endif /* VFS_ASSIGN_REGISTRY_H */
