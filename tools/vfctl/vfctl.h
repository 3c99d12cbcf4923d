/*
 * vfctl.h — what every vfctl subcommand shares.
 *
 * A subcommand is one file, tools/vfctl/cmd_NAME.c, exporting
 *     const struct vfctl_cmd vfctl_cmd_NAME = { "NAME", "summary", usage, run };
 * and one line `&vfctl_cmd_NAME,` in the table in vfctl.c.  `run` gets argv
 * starting at the subcommand's name and returns VFCTL_OK, VFCTL_FAILED or
 * VFCTL_USAGE.  `--help` anywhere in argv prints the usage and exits 0 before
 * run is called.
 *
 * Messages: an error is one sentence naming the device and what to do,
 * printed with vfctl_error() ("vfctl: " prefix, stderr).
 */
#ifndef VFS_VFCTL_H
#define VFS_VFCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sriov/linux/sriov_sysfs.h"

/* Exit status: the one table every subcommand uses (docs/vfctl.1, EXIT
 * STATUS; `vfctl --help`).  A subcommand's run returns one of these. */
enum {
	VFCTL_OK = 0,     /* done (or nothing to change) */
	VFCTL_FAILED = 1, /* the operation failed: the kernel, a driver or the
			   * host refused; or doctor found a failing check */
	VFCTL_USAGE = 2,  /* bad usage or input: options, arguments, a config
			   * file; nothing was looked at or changed */
	VFCTL_BUSY = 3,   /* the device is busy or in use: held by a guest or a
			   * process, its interface up, bound to vfio-pci */
	VFCTL_NODEV = 4,  /* no such device, or not the kind asked for (not a
			   * PF with SR-IOV, not a VF) */
};

struct vfctl_cmd {
	const char *name;
	const char *summary; /* one line, for `vfctl --help` */
	const char *usage;   /* full text for `vfctl NAME --help` */
	int (*run)(int argc, char **argv);
};

extern const struct vfctl_cmd vfctl_cmd_list;
extern const struct vfctl_cmd vfctl_cmd_sriov;
extern const struct vfctl_cmd vfctl_cmd_vf;
extern const struct vfctl_cmd vfctl_cmd_bind;
extern const struct vfctl_cmd vfctl_cmd_release;
extern const struct vfctl_cmd vfctl_cmd_apply;
extern const struct vfctl_cmd vfctl_cmd_doctor;
/* Provided by other modules' files when they exist (cmd_assign.c, …). */
extern const struct vfctl_cmd vfctl_cmd_assign;
extern const struct vfctl_cmd vfctl_cmd_vnic;
extern const struct vfctl_cmd vfctl_cmd_bench;
extern const struct vfctl_cmd vfctl_cmd_export;
extern const struct vfctl_cmd vfctl_cmd_stats;
extern const struct vfctl_cmd vfctl_cmd_status;

/* --- messages ------------------------------------------------------------ */

/* "vfctl: <sentence>\n" on stderr; returns VFCTL_FAILED. */
int vfctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, returning VFCTL_BUSY, VFCTL_NODEV, or VFCTL_USAGE (a value the
 * user gave that the device cannot take: no "Try --help" line). */
int vfctl_busy(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vfctl_bad_input(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vfctl_nodev(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "vfctl NAME: <sentence>\n" + "Try 'vfctl NAME --help'." on stderr;
 * returns VFCTL_USAGE. */
int vfctl_usage_error(const struct vfctl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- devices ------------------------------------------------------------- */

/* Resolve what the user typed for a device — a BDF ("0000:00:02.0" or
 * "00:02.0") or a network interface name — to a canonical BDF that exists.
 * On failure prints the sentence and returns VFCTL_USAGE (not a BDF and not
 * an interface) or VFCTL_FAILED (no such device). */
int vfctl_resolve_dev(const char *text, char bdf[PCI_BDF_LEN]);

/* Resolve a PF: as above, and it must have SR-IOV. */
int vfctl_resolve_pf(const char *text, char bdf[PCI_BDF_LEN]);

/* Resolve a VF given as a BDF (or PF + index in callers). */
int vfctl_resolve_vf(const char *text, char vf[PCI_BDF_LEN], char pf[PCI_BDF_LEN], int *index);

/* Bind a resolved device to a driver with every check `vfctl bind` makes
 * (driver loaded, IOMMU group viable, netdev not in use unless force, no
 * guest holds it); prints the result or the error sentence. */
int vfctl_bind_dev(const char *dev, const char *driver, bool force);
/* Set a resolved PF's VF count with every check `vfctl sriov enable` makes;
 * prints the result or the error sentence. */
int vfctl_set_numvfs(const char *pf, long n, bool force);
/* Give a resolved device back to its host driver (or `want`), as
 * `vfctl release` does. */
int vfctl_release_dev(const char *dev, const char *want);

/* A device some process holds open through VFIO (/dev/vfio/GROUP or its
 * /dev/vfio/devices node): the error sentence naming the process and
 * VFCTL_BUSY; VFCTL_OK when none does (or none is visible). */
int vfctl_vfio_holder_check(const char *dev, const char *doing);

/* Whether a driver name from the command line or a config file may be used
 * (sysfs_driver_name_check, the one validator): NULL when it may, else the
 * phrase saying what a driver name is, for the caller's sentence. */
const char *vfctl_driver_name_problem(const char *name);

/* A PF whose sysfs counts sriov_pf_get found inconsistent (-EIO): the error
 * sentence naming the PF, what was wrong and the fix; returns VFCTL_FAILED. */
int vfctl_pf_problem(const struct sriov_pf_info *pf);

/* The highest VLAN ID a VF may be given: 4095 (0xFFF) is reserved by
 * IEEE 802.1Q, and the kernel passes it on to drivers that accept it. */
#define VFCTL_VLAN_MAX 4094

/* Parse a non-negative decimal integer <= max; -1 when it is not one. */
long vfctl_parse_uint(const char *text, long max);

/* Parse on|off|1|0|true|false; -1 when it is none of them. */
int vfctl_parse_bool(const char *text);

/* The sentence tail for an errno from sriov_set_numvfs and friends. */
const char *vfctl_strerror(int err);

/* rmrr.c: 1 and `why` when the firmware's DMAR names device `bdf` in an
 * RMRR, 0 when not (or there is no DMAR), a negative errno and `why` when
 * the DMAR cannot be read or parsed. */
int vfctl_rmrr_check(const char *bdf, char *why, size_t len);

/* --- getopt_long (opts.c) --------------------------------------------------
 * For a subcommand parsing with getopt_long(argc, argv, ":...", ...) (the
 * leading ':' reports a missing value as ':'): the usage error for what
 * getopt_long returned ('?' or ':'), naming the option as the user typed it. */
int vfctl_opt_error(const struct vfctl_cmd *cmd, int c, char **argv);

/* The on/off options of a subcommand that takes no option values: each a
 * long name, a short letter, and the flag it sets. */
struct vfctl_flag {
	const char *name;
	char letter;
	bool *set;
};
/* Parse argv (argv[0] the subcommand) with getopt_long: "--json", "-j",
 * bundled "-fj", "--" ends the options, options anywhere among the
 * arguments.  On success *args and *nargs are the remaining arguments, in order.
 * A bad option is the usage error (VFCTL_USAGE).  `flags` ends with a
 * {NULL} entry; at most 8. */
int vfctl_parse_flags(const struct vfctl_cmd *cmd, int argc, char **argv, const struct vfctl_flag *flags,
		      char ***args, int *nargs);

#endif /* VFS_VFCTL_H */
