/* vbar.c — virtual BARs of an assigned function; see vbar.h. */
#include "vmm_glue/core/vbar.h"

#include "port.h"

#define MEM_TYPE64 0x4u   /* PCI 3.0 §6.2.5.1: bits 2:1 = 10b, 64-bit */
#define MEM_PREF 0x8u     /* bit 3: prefetchable */

static void place(struct vbars *b, unsigned n);

int vbar_add(struct vbars *b, unsigned n, uint64_t size, bool is64, bool pref, uint64_t gpa)
{
	if (n >= VBAR_NUM || (is64 && n + 1 >= VBAR_NUM) || size < 16 || (size & (size - 1)) ||
	    (!is64 && size > (1ull << 31)) || (gpa & (size - 1)))
		return -PORT_EINVAL;
	b->bar[n] = (struct vbar){ .size = size, .gpa = gpa, .is64 = is64,
				   .flags = (is64 ? MEM_TYPE64 : 0) | (pref ? MEM_PREF : 0) };
	if (is64)
		b->bar[n + 1] = (struct vbar){ 0 };
	place(b, n);
	return 0;
}

/* Register `r` (0..5) as the guest reads it: BAR n's low dword, or the
 * high dword of a 64-bit BAR n = r - 1. */
static uint32_t reg_value(const struct vbars *b, unsigned r)
{
	if (r > 0 && b->bar[r - 1].is64 && b->bar[r - 1].size)
		return (uint32_t)(b->bar[r - 1].gpa >> 32);
	const struct vbar *v = &b->bar[r];
	return v->size ? ((uint32_t)v->gpa & ~0xfu) | v->flags : 0;
}

bool vbar_read(struct vbars *b, unsigned off, unsigned size, uint32_t *val)
{
	if (off >= VBAR_ROM && off < VBAR_ROM + 4) {
		*val = 0;
		return true;
	}
	if (off < VBAR_REG0 || off >= VBAR_REG0 + 4 * VBAR_NUM)
		return false;
	unsigned r = (off - VBAR_REG0) / 4, sh = 8 * (off & 3u);
	uint32_t d = reg_value(b, r) >> sh;
	*val = size == 4 ? d : size == 2 ? (d & 0xffff) : (d & 0xff);
	return true;
}

bool vbar_write(struct vbars *b, unsigned off, unsigned size, uint32_t val)
{
	if (off >= VBAR_ROM && off < VBAR_ROM + 4)
		return true;   /* no ROM: dropped */
	if (off < VBAR_REG0 || off >= VBAR_REG0 + 4 * VBAR_NUM)
		return false;
	b->writes++;
	unsigned r = (off - VBAR_REG0) / 4, sh = 8 * (off & 3u);
	uint32_t mask = size == 4 ? 0xffffffffu : size == 2 ? 0xffffu : 0xffu;
	uint32_t cur = reg_value(b, r);
	uint32_t d = (cur & ~(mask << sh)) | ((val & mask) << sh);
	unsigned n = r;
	struct vbar *v;
	if (r > 0 && b->bar[r - 1].is64 && b->bar[r - 1].size) {
		n = r - 1;
		v = &b->bar[n];
		v->gpa = ((uint64_t)d << 32 | (uint32_t)v->gpa) & ~(v->size - 1);
	} else {
		v = &b->bar[n];
		if (!v->size)
			return true;   /* no BAR: reads 0, writes dropped */
		/* The size's low bits are hard-wired to 0 (§6.2.5.1): sizing reads ~(size - 1). */
		v->gpa = ((v->gpa >> 32) << 32 | (d & ~0xfu)) & ~(v->size - 1);
		if (!v->is64)
			v->gpa &= 0xffffffffull;
	}
	place(b, n);
	return true;
}

/* Map BAR n where the guest put it, if that lies inside the window (a
 * guest's BAR value is hostile input: bounded against the window), else
 * nowhere; report a change. */
static void place(struct vbars *b, unsigned n)
{
	struct vbar *v = &b->bar[n];
	uint64_t to = v->gpa;
	if (to < b->win_base || to - b->win_base >= b->win_size || v->size > b->win_size - (to - b->win_base)) {
		if (to)
			b->refused++;
		to = 0;
	}
	if (to == v->mapped)
		return;
	uint64_t from = v->mapped;
	v->mapped = to;
	b->moves++;
	if (b->moved)
		b->moved(b->ctx, n, from, to);
}
