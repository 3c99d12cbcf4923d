/*
 * dmar.h — the ACPI DMA Remapping Reporting table (VT-d spec chapter 8):
 * header (host address width, INTR_REMAP, X2APIC_OPT_OUT), DRHD, RMRR, ATSR,
 * RHSA, ANDD and SATC structures and their device scopes.
 *
 * dmar_parse() copies everything into a caller-provided struct dmar_info (no
 * allocation).  Every length and offset is checked against the table and
 * against the structure that contains it: a malformed table is -PORT_EINVAL
 * with one log line naming the structure and its offset, never a read
 * outside [table, table + len).
 */
#ifndef VFS_DMAR_H
#define VFS_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMAR_MAX_DRHD 16
#define DMAR_MAX_RMRR 32
#define DMAR_MAX_ATSR 8
#define DMAR_MAX_RHSA 16
#define DMAR_MAX_ANDD 8
#define DMAR_MAX_SATC 8
#define DMAR_MAX_SCOPES 128    /* device scopes over all structures */
#define DMAR_MAX_PATH 8        /* (device, function) hops per scope */
#define DMAR_ANDD_NAME_MAX 64

/* dmar_parse flags */
#define DMAR_PARSE_NO_CHECKSUM (1u << 0)   /* accept a bad checksum (fuzzing, tests) */

/* 8.1 structure types */
enum dmar_type {
	DMAR_TYPE_DRHD = 0, DMAR_TYPE_RMRR = 1, DMAR_TYPE_ATSR = 2,
	DMAR_TYPE_RHSA = 3, DMAR_TYPE_ANDD = 4, DMAR_TYPE_SATC = 5,
};
/* 8.3.1 device scope types */
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1, DMAR_SCOPE_BRIDGE = 2, DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4, DMAR_SCOPE_ACPI = 5,
};

struct dmar_scope {               /* 8.3.1 */
	uint8_t type, flags, enum_id, start_bus;
	uint8_t path_len;
	struct { uint8_t dev, fn; } path[DMAR_MAX_PATH];
};
struct dmar_drhd {                /* 8.3 */
	uint64_t reg_base;
	uint16_t segment;
	bool include_pci_all;
	unsigned size_pages;          /* register set: 2^Size 4 KiB pages */
	unsigned scope_first, nscopes;  /* into dmar_info.scopes */
};
struct dmar_rmrr {                /* 8.4 */
	uint16_t segment;
	uint64_t base, limit;         /* inclusive limit */
	unsigned scope_first, nscopes;
};
struct dmar_atsr {                /* 8.5 */
	uint16_t segment;
	bool all_ports;
	unsigned scope_first, nscopes;
};
struct dmar_rhsa {                /* 8.6 */
	uint64_t reg_base;
	uint32_t proximity_domain;
};
struct dmar_andd {                /* 8.7 */
	uint8_t device_number;
	char name[DMAR_ANDD_NAME_MAX];   /* NUL-terminated, truncated if longer */
};
struct dmar_satc {                /* 8.8 */
	uint16_t segment;
	bool atc_required;
	unsigned scope_first, nscopes;
};

struct dmar_info {
	unsigned haw;                 /* host address width in bits (field + 1) */
	bool intr_remap, x2apic_opt_out, dma_ctrl_opt_in;   /* 8.1 flags */
	uint8_t revision;
	struct dmar_drhd drhd[DMAR_MAX_DRHD];
	struct dmar_rmrr rmrr[DMAR_MAX_RMRR];
	struct dmar_atsr atsr[DMAR_MAX_ATSR];
	struct dmar_rhsa rhsa[DMAR_MAX_RHSA];
	struct dmar_andd andd[DMAR_MAX_ANDD];
	struct dmar_satc satc[DMAR_MAX_SATC];
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
	unsigned ndrhd, nrmrr, natsr, nrhsa, nandd, nsatc, nscopes;
	unsigned nunknown;            /* structures of types this parser skips */
};

/* Parse a DMAR table of len bytes.  0, or -PORT_EINVAL (malformed: bad
 * signature/length/checksum, a structure or scope overrunning its parent, a
 * DRHD with base 0 or unaligned, two DRHDs at one base, two INCLUDE_PCI_ALL
 * units in one segment, an RMRR with limit < base...), or -PORT_E2BIG when a
 * valid table has more entries than the DMAR_MAX_* above. */
int dmar_parse(const void *table, size_t len, unsigned flags, struct dmar_info *out);

/* The platform's PCI config-space view for resolving scope paths: for
 * (segment, bus, dev, fn) return the device's secondary bus number if it is
 * a bridge, 0 if it exists and is not a bridge, or a negative value if no
 * device is there. */
typedef int (*dmar_pci_probe_fn)(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev,
				 uint8_t fn);

/* Walk a scope's path from its start bus through the bridges (8.3.1) to the
 * requester id of its last hop.  -PORT_ENODEV (logged, naming the scope)
 * when a hop names a missing device or a non-bridge in mid-path. */
int dmar_scope_resolve(const struct dmar_scope *s, uint16_t segment, dmar_pci_probe_fn probe,
		       void *ctx, uint16_t *sid);

/* Which DRHD remaps requester sid in segment: the unit whose endpoint scope
 * resolves to sid (or whose bridge scope's secondary bus is sid's bus), else
 * the segment's INCLUDE_PCI_ALL unit.  Index into info->drhd, or
 * -PORT_ENOENT. */
int dmar_drhd_for_device(const struct dmar_info *info, uint16_t segment, uint16_t sid,
			 dmar_pci_probe_fn probe, void *ctx);

/* The first RMRR (8.4) at index >= from whose device scope names requester
 * sid in segment (as dmar_drhd_for_device matches scopes): its index into
 * info->rmrr, or -PORT_ENOENT.  Such a device does DMA to the RMRR's range
 * on its own (firmware use): it needs the range identity-mapped, and giving
 * it to a guest is refused unless forced (vtd_domain_map_rmrrs, vfctl). */
int dmar_rmrr_for_device(const struct dmar_info *info, unsigned from, uint16_t segment,
			 uint16_t sid, dmar_pci_probe_fn probe, void *ctx);

#endif /* VFS_DMAR_H */
