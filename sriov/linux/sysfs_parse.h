/*
 * sysfs_parse.h — pure parsers for what sysfs holds (numbers, link targets,
 * driver names) and the SR-IOV count rules, separate from the file I/O so a
 * fuzz target (tests/fuzz/fuzz_sysfs.c) can drive them with raw bytes.
 *
 * Every function takes a buffer and its length (no NUL needed, nothing read
 * past `len`), never aborts, and returns 0 or a negative errno:
 *   -EINVAL   not in the expected form (junk, sign, blank, empty, NUL byte)
 *   -ERANGE   a number above the caller's bound, or too large to represent
 *   -ENAMETOOLONG  a name that does not fit the caller's buffer
 */
#ifndef VFS_SYSFS_PARSE_H
#define VFS_SYSFS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* An unsigned number as the kernel prints it: decimal ("%u") for base 10;
 * hex with or without "0x" ("%x", "0x%04x") for base 16.  One trailing
 * newline is allowed; nothing else (no blanks, signs or other prefixes). */
int sysfs_parse_uint(const char *buf, size_t len, unsigned base, uint64_t max, uint64_t *out);

/* The last component of a symlink target ("../../../bus/pci/drivers/igb" ->
 * "igb").  -EINVAL for an empty, "." or ".." component or one with a NUL;
 * -ENAMETOOLONG when it does not fit out_len (with its NUL). */
int sysfs_parse_link_base(const char *target, size_t len, char *out, size_t out_len);

/* The longest driver name accepted: 63 bytes.  Names are read back from the
 * device's `driver` link into SRIOV_DRV_LEN (64) bytes to check a bind took
 * effect, so a longer name could never be compared with what the kernel
 * reports; Linux module names are shorter still (MODULE_NAME_LEN 56). */
#define SYSFS_DRIVER_NAME_MAX 63

/* THE driver-name validator (every entry point that takes a driver name —
 * vfctl bind/release/apply/assign and pci_bind — goes through it before
 * anything is touched): 1..SYSFS_DRIVER_NAME_MAX printable ASCII characters,
 * no blank and no '/', not "." or "..": the name becomes a path component
 * (/sys/bus/pci/drivers/NAME) and is written to driver_override.
 * 0, -EINVAL, or -ENAMETOOLONG. */
int sysfs_driver_name_check(const char *name);

/* --- SR-IOV counts -----------------------------------------------------------
 * What sysfs says about a PF's VF counts, checked against the hardware: the
 * capability's TotalVFs where it could be read, the 16-bit TotalVFs field
 * (PCIe 5.0 §9.3.3.6), and the routing IDs the VFs would get (§9.3.3.9-10:
 * PF RID + First VF Offset + i * VF Stride must stay within bus 255). */
#define SRIOV_VFS_MAX 65535u /* §9.3.3.6: TotalVFs is a 16-bit field */

struct sysfs_sriov_counts {
	uint64_t total_vfs;   /* sriov_totalvfs as parsed */
	uint64_t num_vfs;     /* sriov_numvfs as parsed */
	int cap_total_vfs;    /* TotalVFs from the SR-IOV capability; -1 unknown */
	uint16_t pf_rid;      /* bus << 8 | dev << 3 | fn */
	uint16_t vf_offset;   /* First VF Offset; 0 unknown (no check) */
	uint16_t vf_stride;   /* VF Stride */
};

/* Clamp: *total = min(total_vfs, cap TotalVFs, 65535, how many VFs routing
 * IDs allow), *num = min(num_vfs, *total).  0 when nothing had to be
 * clamped; -ERANGE when something was, with `problem` saying what in one
 * phrase ("sriov_numvfs is 2000000000 but at most 64 VFs can exist ..."). */
int sysfs_sriov_counts_clamp(const struct sysfs_sriov_counts *in, int *total, int *num,
			     char *problem, size_t problem_len);

#endif /* VFS_SYSFS_PARSE_H */
