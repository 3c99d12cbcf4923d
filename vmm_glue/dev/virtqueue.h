/*
 * virtqueue.h — the device side of a virtio split virtqueue (virtio 1.2
 * §2.7): descriptor table, available ring, used ring, descriptor chains and
 * indirect descriptors (§2.7.5.3).  Guest memory is reached only through
 * the glue's RAM regions, and every guest-supplied address and length is
 * checked against them: a chain that points outside guest RAM, loops, mixes
 * the order of readable and writable parts or overruns the ring is refused
 * (the caller then marks the device NEEDS_RESET, §2.1.1) and nothing outside
 * guest RAM is read or written.
 *
 * Contexts: the ring and buffer addresses are virtual (GPAs the driver
 * wrote); the pointers a chain carries are host views of guest RAM.
 */
#ifndef VFS_VIRTQUEUE_H
#define VFS_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_glue/glue.h"

/* §2.7: split virtqueue sizes are powers of two up to 32768. */
#define VQ_MAX_SIZE 32768u
/* The most buffer segments one chain may carry (direct or indirect). */
#define VQ_MAX_SEGS 64u

/* Guest RAM as the glue describes it. */
struct vq_guest_mem {
	const struct glue_ram_region *regions;
	size_t n;
};

/* Host view of [gpa, gpa + len) when it lies wholly inside one RAM region
 * (len may be 0); NULL otherwise.  Never wraps. */
void *vq_gpa_to_hva(const struct vq_guest_mem *mem, uint64_t gpa, uint64_t len);

/* One buffer segment: host view of guest RAM. */
struct vq_seg {
	uint8_t *hva;
	uint32_t len;
};

/* A descriptor chain as popped: device-readable segments first (n_out),
 * then device-writable ones (n_in) (§2.7.4.2). */
struct vq_chain {
	uint16_t head;
	unsigned n_out, n_in;
	uint64_t out_len, in_len;
	struct vq_seg seg[VQ_MAX_SEGS];
};

struct virtqueue {
	struct vq_guest_mem mem;
	uint16_t size;
	bool indirect;          /* VIRTIO_F_INDIRECT_DESC negotiated (§6) */
	uint8_t *desc;          /* host views of the three areas, checked once */
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail;    /* next available-ring entry to read */
	uint16_t used_idx;      /* shadow of used->idx */
};

/* Check and attach the three areas (§2.7: descriptor table 16-byte aligned,
 * 16*size bytes; driver area 2-aligned, 6+2*size; device area 4-aligned,
 * 6+8*size).  -EINVAL for a bad size or alignment, -EFAULT for an area
 * outside guest RAM. */
int vq_init(struct virtqueue *vq, const struct vq_guest_mem *mem, unsigned size,
	    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, bool indirect);

/* Take the next available chain: 1 popped, 0 none, negative errno when the
 * driver broke the rules (-EINVAL ring/chain format, -EFAULT address outside
 * guest RAM, -ELOOP chain longer than the queue, -E2BIG more than
 * VQ_MAX_SEGS segments).  Nothing is consumed on failure. */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);
/* Whether a chain is available, without taking it. */
bool vq_has_avail(const struct virtqueue *vq);
/* Return a chain: `written` bytes went into its writable part (§2.7.8). */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t written);
/* §2.7.10: false while the driver set VIRTQ_AVAIL_F_NO_INTERRUPT. */
bool vq_wants_interrupt(const struct virtqueue *vq);

/* Copy between a chain's writable part and a buffer, from byte `off`;
 * returns the bytes copied (short at the chain's end). */
size_t vq_chain_write(const struct vq_chain *chain, size_t off, const void *buf, size_t len);
/* The same for the readable part, into `buf`. */
size_t vq_chain_read(const struct vq_chain *chain, size_t off, void *buf, size_t len);

#endif
