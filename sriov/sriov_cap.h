/*
 * sriov_cap.h — SR-IOV capability arithmetic (freestanding).
 *
 * Finds the SR-IOV Extended Capability of a physical function through a
 * config-space accessor the caller provides, decodes its registers, and
 * computes what a hypervisor needs to know about each virtual function:
 * its routing ID (bus/device/function), the address and size of each of its
 * BARs, and the config-space values a VMM must synthesize because a VF does
 * not implement them (vendor/device ID, BARs, interrupt pin).
 *
 * Reference: PCI Express Base Specification 5.0, §9.3.3 (SR-IOV Extended
 * Capability) and §9.3.4 (VF configuration space), §7.5.1 (type 0 header),
 * §7.6 (extended capabilities).
 *
 * Every function returns 0 or a negative errno (PORT_E*); nothing aborts.
 */
#ifndef VFS_SRIOV_CAP_H
#define VFS_SRIOV_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

/* PCIe 5.0 §7.6.3: extended capability ID of SR-IOV. */
#define SRIOV_EXT_CAP_ID 0x0010u

/* PCIe 5.0 §9.3.3: register offsets inside the SR-IOV capability. */
#define SRIOV_REG_CAP 0x04u          /* §9.3.3.2 SR-IOV Capabilities (32) */
#define SRIOV_REG_CTRL 0x08u         /* §9.3.3.3 SR-IOV Control (16) */
#define SRIOV_REG_STATUS 0x0Au       /* §9.3.3.4 SR-IOV Status (16) */
#define SRIOV_REG_INITIAL_VFS 0x0Cu  /* §9.3.3.5 InitialVFs (16) */
#define SRIOV_REG_TOTAL_VFS 0x0Eu    /* §9.3.3.6 TotalVFs (16) */
#define SRIOV_REG_NUM_VFS 0x10u      /* §9.3.3.7 NumVFs (16) */
#define SRIOV_REG_FDL 0x12u          /* §9.3.3.8 Function Dependency Link (8) */
#define SRIOV_REG_VF_OFFSET 0x14u    /* §9.3.3.9 First VF Offset (16) */
#define SRIOV_REG_VF_STRIDE 0x16u    /* §9.3.3.10 VF Stride (16) */
#define SRIOV_REG_VF_DEVICE 0x1Au    /* §9.3.3.11 VF Device ID (16) */
#define SRIOV_REG_SUPP_PGSZ 0x1Cu    /* §9.3.3.12 Supported Page Sizes (32) */
#define SRIOV_REG_SYS_PGSZ 0x20u     /* §9.3.3.13 System Page Size (32) */
#define SRIOV_REG_VF_BAR0 0x24u      /* §9.3.3.14 VF BAR0..5 (32 each) */
#define SRIOV_REG_VF_MIGR 0x3Cu      /* §9.3.3.15 VF Migration State Array Offset */

/* §9.3.3.2 SR-IOV Capabilities bits. */
#define SRIOV_CAP_VF_MIGRATION (1u << 0)
#define SRIOV_CAP_ARI_PRESERVED (1u << 1)
/* §9.3.3.3 SR-IOV Control bits. */
#define SRIOV_CTRL_VF_ENABLE (1u << 0)
#define SRIOV_CTRL_VF_MIGRATION_ENABLE (1u << 1)
#define SRIOV_CTRL_VF_MSE (1u << 3)
#define SRIOV_CTRL_ARI_HIERARCHY (1u << 4)

#define SRIOV_NUM_BARS 6

/* A config-space accessor: dword-aligned reads and writes of the PF's (or a
 * VF's) 4 KiB configuration space.  `write32` may be NULL for a read-only
 * view; BAR sizing then fails with -PORT_ENOTSUP. */
struct sriov_cfg_ops {
	uint32_t (*read32)(void *ctx, uint16_t off);
	void (*write32)(void *ctx, uint16_t off, uint32_t val);
	void *ctx;
};

/* The decoded SR-IOV capability of one PF. */
struct sriov_cap {
	uint16_t pos;             /* config offset of the capability header */
	uint8_t version;          /* §7.6.3 Capability Version */
	uint32_t caps;            /* §9.3.3.2 */
	uint16_t ctrl;            /* §9.3.3.3 */
	uint16_t initial_vfs;     /* §9.3.3.5 */
	uint16_t total_vfs;       /* §9.3.3.6 */
	uint16_t num_vfs;         /* §9.3.3.7 */
	uint8_t fdl;              /* §9.3.3.8 */
	uint16_t vf_offset;       /* §9.3.3.9, valid for the current NumVFs/ARI */
	uint16_t vf_stride;       /* §9.3.3.10 */
	uint16_t vf_device_id;    /* §9.3.3.11 */
	uint32_t supported_pgsz;  /* §9.3.3.12: bit n set = 2^(n+12) supported */
	uint32_t system_pgsz;     /* §9.3.3.13: exactly one bit set when valid */
	bool vf_enable;           /* Control.VF Enable */
	bool ari_hierarchy;       /* Control.ARI Capable Hierarchy */
	bool ari_preserved;       /* Capabilities.ARI Capable Hierarchy Preserved */
};

/* One VF BAR as the PF's VF BARn register describes it (§9.3.3.14): the
 * base of VF 0's copy; VF i's copy is at base + i * size. */
struct sriov_vf_bar {
	uint64_t base;      /* address programmed in VF BARn (0 = unassigned) */
	uint64_t size;      /* per-VF size; 0 = BAR not implemented */
	bool is_64bit;      /* occupies BARn and BARn+1 */
	bool prefetchable;
};

/* Size of the SR-IOV capability (§9.3.3: header through the VF Migration
 * State Array Offset register). */
#define SRIOV_CAP_SIZE 0x40u

/* Find extended capability `id` in the list that starts at 0x100 (§7.6.3).
 * Returns 0 and sets *pos, -PORT_ENOENT when the function has none, or
 * -PORT_EIO when the list is malformed (loops, points below 0x100, or reads
 * all-ones as a missing function does). */
int sriov_ext_cap_find(const struct sriov_cfg_ops *cfg, uint16_t id, uint16_t *pos);

/* Find the SR-IOV capability: sriov_ext_cap_find, and -PORT_EIO when the
 * capability would run past the end of the 4 KiB config space. */
int sriov_cap_find(const struct sriov_cfg_ops *cfg, uint16_t *pos);

/* Find and decode the capability (find + read every register). */
int sriov_cap_read(const struct sriov_cfg_ops *cfg, struct sriov_cap *cap);

/* The system page size in bytes (§9.3.3.13), or 0 when the register does not
 * hold exactly one supported bit. */
uint64_t sriov_cap_page_size(const struct sriov_cap *cap);

/* Routing ID (bus << 8 | device << 3 | function) of VF `vf_index` (0-based)
 * under a PF at `pf_rid`, per §9.3.3.9-10: PF RID + First VF Offset +
 * index * VF Stride.  The VF's bus may be larger than the PF's.  Returns
 * -PORT_ERANGE when vf_index >= NumVFs (or TotalVFs if NumVFs is 0) or the
 * result passes bus 255, -PORT_EINVAL when stride is 0 with more than one VF,
 * -PORT_EIO when NumVFs exceeds TotalVFs (a malformed capability). */
int sriov_vf_rid(const struct sriov_cap *cap, uint16_t pf_rid, uint16_t vf_index,
		 uint16_t *vf_rid);

/* The highest bus number the VFs occupy for `num_vfs` VFs (for bridge
 * subordinate-bus checks), or a negative errno as sriov_vf_rid;
 * -PORT_ERANGE when num_vfs exceeds TotalVFs. */
int sriov_vf_last_bus(const struct sriov_cap *cap, uint16_t pf_rid, uint16_t num_vfs);

/* Size every VF BAR the standard way (§7.5.1.2.1 applied to §9.3.3.14):
 * write all-ones, read back, restore.  Call with VF Enable / VF MSE clear
 * or while the VFs' memory is not in use.  bars[] is indexed by BAR number;
 * the upper half of a 64-bit BAR gets size 0.  A capability whose BARs
 * cannot hold every VF's copy (sriov_vf_bar_span over TotalVFs: size x
 * TotalVFs past 64 bits, a 32-bit BAR past 4 GiB) is rejected with
 * -PORT_ERANGE, a 64-bit BAR5 or a malformed BAR with -PORT_EIO; bars[] is
 * then all zero. */
int sriov_vf_bars_probe(const struct sriov_cfg_ops *cfg, const struct sriov_cap *cap,
			struct sriov_vf_bar bars[SRIOV_NUM_BARS]);

/* Decode VF BARn from its programmed value and the value read back after
 * writing all-ones (lo and hi halves; hi ignored for a 32-bit BAR). */
int sriov_vf_bar_decode(uint32_t val_lo, uint32_t val_hi, uint32_t mask_lo,
			uint32_t mask_hi, struct sriov_vf_bar *bar);

/* Bytes `count` copies of a VF BAR span from its base (§9.3.3.14: VF i's
 * copy is at base + i * size).  -PORT_EINVAL when the size is not a power of
 * two or the base is not aligned to it; -PORT_ERANGE when size x count does
 * not fit in 64 bits or the last copy would end past 2^64 (past 4 GiB for a
 * 32-bit BAR). */
int sriov_vf_bar_span(const struct sriov_vf_bar *bar, uint16_t count, uint64_t *bytes);

/* Address of VF `vf_index`'s copy of a VF BAR; the errors of
 * sriov_vf_bar_span for vf_index + 1 copies. */
int sriov_vf_bar_addr(const struct sriov_vf_bar *bar, uint16_t vf_index, uint64_t *addr);

/* --- virtualizing a VF's config space (§9.3.4) ----------------------------
 * A VF reads 0xFFFF for Vendor and Device ID, 0 in its BARs and 0 for the
 * interrupt pin; a VMM shows the guest a normal function instead.  The view
 * keeps the guest-programmed (virtual) BAR values and answers the sizing
 * protocol from the PF's VF BAR sizes. */
struct sriov_vf_view {
	uint16_t vendor_id;                   /* the PF's Vendor ID */
	uint16_t device_id;                   /* the PF's VF Device ID */
	uint32_t bar_flags[SRIOV_NUM_BARS];   /* low flag bits of each BAR dword */
	uint64_t bar_size[SRIOV_NUM_BARS];    /* 0 = not implemented */
	bool bar_is_hi[SRIOV_NUM_BARS];       /* upper dword of a 64-bit BAR */
	uint32_t virt_bar[SRIOV_NUM_BARS];    /* what the guest programmed */
};

/* Build the view of VF `vf_index`: the BARs start at the VF's physical
 * addresses (the guest may move them). */
int sriov_vf_view_init(struct sriov_vf_view *view, uint16_t pf_vendor_id,
		       const struct sriov_cap *cap,
		       const struct sriov_vf_bar bars[SRIOV_NUM_BARS], uint16_t vf_index);

/* What the guest reads at `off` (size 1, 2 or 4, naturally aligned) given
 * what the VF itself returned (`raw`). */
uint32_t sriov_vf_view_read(const struct sriov_vf_view *view, uint16_t off,
			    unsigned size, uint32_t raw);

/* A guest write; returns true when the view consumed it (a BAR write), false
 * when the VMM should pass it to the VF.  Unaligned or sub-dword BAR writes
 * are consumed and ignored. */
bool sriov_vf_view_write(struct sriov_vf_view *view, uint16_t off, unsigned size,
			 uint32_t val);

/* Guest-programmed address of BAR n (both halves for a 64-bit BAR). */
uint64_t sriov_vf_view_bar_addr(const struct sriov_vf_view *view, unsigned bar);

#endif /* VFS_SRIOV_CAP_H */
