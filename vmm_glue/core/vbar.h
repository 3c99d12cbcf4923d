/*
 * vbar.h — virtual BARs of an assigned function: the guest sees BAR
 * addresses inside its own PCI window (not the host's), sizes them (all
 * ones, read back) and moves them as Linux does; every change of a BAR's
 * guest address is reported to the VMM (which remaps its second-level
 * pages and moves its traps).  A BAR placed outside the window — sizing's
 * all-ones, or a hostile value — is reported as "not mapped" (GPA 0).
 * Memory BARs only (32- or 64-bit, PCI 3.0 §6.2.5.1); I/O BARs and the
 * expansion ROM read 0.
 */
#ifndef VFS_CORE_VBAR_H
#define VFS_CORE_VBAR_H

#include <stdbool.h>
#include <stdint.h>

#define VBAR_NUM 6
#define VBAR_REG0 0x10   /* BAR0's config offset */
#define VBAR_ROM 0x30    /* expansion ROM base */

struct vbar {
	uint64_t size;    /* power of two >= 16; 0: no BAR here */
	uint64_t gpa;     /* as the guest programmed it (size-aligned) */
	uint64_t mapped;  /* where it is mapped now; 0: nowhere */
	uint32_t flags;   /* low bits of the register: type, prefetchable */
	bool is64;        /* takes this and the next register */
};

struct vbars {
	struct vbar bar[VBAR_NUM];
	uint64_t win_base, win_size;   /* the guest's PCI window */
	/* BAR n moved from `from` to `to` (either 0: not mapped). */
	void (*moved)(void *ctx, unsigned n, uint64_t from, uint64_t to);
	void *ctx;
	uint32_t writes, moves, refused;   /* refused: moves outside the window */
};

/* Declare BAR n: size (a power of two >= 16), 64-bit or not, prefetchable
 * or not, at `gpa` in the window (the "firmware" placement; reported as a
 * move from 0).  0 or -PORT_EINVAL. */
int vbar_add(struct vbars *b, unsigned n, uint64_t size, bool is64, bool pref, uint64_t gpa);
/* Config access at `off` (size 1, 2, 4): true when it is a BAR / ROM
 * register this module answers (*val set, or the write taken). */
bool vbar_read(struct vbars *b, unsigned off, unsigned size, uint32_t *val);
bool vbar_write(struct vbars *b, unsigned off, unsigned size, uint32_t val);

#endif
