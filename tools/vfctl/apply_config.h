/*
 * apply_config.h — the strict reader of `vfctl apply`'s file.
 *
 * The text is parsed by jansson (RFC 8259: no leading zeros, no NaN, no
 * comments, UTF-8 only, no \u0000, duplicate keys refused) and then held to
 * the schema `vfctl list --json` prints: every key known, every value of its
 * type and range.  Nothing here looks at the host; what needs the host (the
 * PF exists, num_vfs <= TotalVFs) is cmd_apply.c's, with the positions kept
 * here for its messages.
 */
#ifndef VFS_VFCTL_APPLY_CONFIG_H
#define VFS_VFCTL_APPLY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sriov/linux/sriov_netlink.h"
#include "sriov/linux/sriov_sysfs.h"

/* Where something is in the file: "FILE:LINE:COLUMN" (column in characters). */
#define APPLY_POS_LEN 320

struct apply_vf {
	long index;
	unsigned what; /* SRIOV_SET_* that the file specifies */
	struct sriov_vf_state st;
	bool has_vlan, has_qos, has_proto, has_min, has_max;
	bool has_driver;
	char driver[SRIOV_DRV_LEN];
	char where[64];            /* "pfs[0].vfs[1]" */
	char pos[APPLY_POS_LEN];   /* of the entry's "index" */
};

struct apply_pf {
	char name[64];             /* "bdf", else "netdev", as written */
	bool has_num;
	long num_vfs;
	int autoprobe;             /* -1: not given */
	struct apply_vf *vfs;
	size_t nvf;
	char where[32];            /* "pfs[0]" */
	char pos[APPLY_POS_LEN];   /* of the entry */
	char num_pos[APPLY_POS_LEN]; /* of its "num_vfs" */
};

struct apply_config {
	struct apply_pf *pfs;
	size_t npf;
};

/* Parse and check `len` bytes of `text` read from `file`.  0 and *cfg
 * filled (apply_config_free it), or -EINVAL and `err` holding
 * "FILE:LINE:COLUMN: what is wrong" (naming the entry and key), or -ENOMEM. */
int apply_config_parse(const char *text, size_t len, const char *file, struct apply_config *cfg,
		       char *err, size_t errlen);
void apply_config_free(struct apply_config *cfg);

#endif /* VFS_VFCTL_APPLY_CONFIG_H */
