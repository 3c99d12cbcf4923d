/*
 * virtqueue.c — split virtqueues, device side (virtio 1.2 §2.7).
 *
 * The driver shares these areas with us and may change them at any moment,
 * so every descriptor is copied once before it is checked or used (no
 * double fetch), ring indices are loaded once with acquire ordering, and
 * each address/length pair is translated through the RAM regions with an
 * overflow-safe check.  x86 is little-endian, as the virtio 1.x layout is.
 */
#include "vmm_glue/dev/virtqueue.h"

#include <errno.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtqueue.c reads the little-endian virtio layout directly"
#endif

/* §2.7.5 struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next. */
#define DESC_SIZE        16u
#define DESC_F_NEXT      1u      /* §2.7.5: chain continues at `next` */
#define DESC_F_WRITE     2u      /* device-writable */
#define DESC_F_INDIRECT  4u      /* §2.7.5.3: buffer is a descriptor table */
/* §2.7.6 struct virtq_avail: le16 flags, le16 idx, le16 ring[size]. */
#define AVAIL_FLAGS      0u
#define AVAIL_IDX        2u
#define AVAIL_RING       4u
#define AVAIL_F_NO_INTERRUPT 1u  /* §2.7.6 */
/* §2.7.8 struct virtq_used: le16 flags, le16 idx, {le32 id, le32 len}[size]. */
#define USED_FLAGS       0u
#define USED_IDX         2u
#define USED_RING        4u
#define USED_ELEM_SIZE   8u

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

void *vq_gpa_to_hva(const struct vq_guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (size_t i = 0; i < mem->n; i++) {
		const struct glue_ram_region *r = &mem->regions[i];
		if (gpa < r->gpa || len > r->size)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->size - len)
			continue;
		return (uint8_t *)r->hva + off;
	}
	return NULL;
}

/* --- shared-memory accessors -------------------------------------------- */

static uint16_t load16(const uint8_t *p, int order)
{
	return __atomic_load_n((const uint16_t *)(const void *)p, order);
}

static void store16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)(void *)p, v, order);
}

static void store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

/* One descriptor, copied out of guest memory before anything looks at it. */
static struct desc read_desc(const uint8_t *table, unsigned i)
{
	const uint8_t *p = table + (size_t)i * DESC_SIZE;
	struct desc d;
	d.addr = __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
	d.len = __atomic_load_n((const uint32_t *)(const void *)(p + 8), __ATOMIC_RELAXED);
	d.flags = load16(p + 12, __ATOMIC_RELAXED);
	d.next = load16(p + 14, __ATOMIC_RELAXED);
	return d;
}

/* --- setup -------------------------------------------------------------- */

int vq_init(struct virtqueue *vq, const struct vq_guest_mem *mem, unsigned size,
	    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, bool indirect)
{
	memset(vq, 0, sizeof(*vq));
	if (!size || size > VQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	/* §2.7 table "Virtqueue Part / Alignment / Size". */
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;
	vq->desc = vq_gpa_to_hva(mem, desc_gpa, (uint64_t)DESC_SIZE * size);
	vq->avail = vq_gpa_to_hva(mem, avail_gpa, 6 + 2ull * size);
	vq->used = vq_gpa_to_hva(mem, used_gpa, 6 + 8ull * size);
	if (!vq->desc || !vq->avail || !vq->used) {
		memset(vq, 0, sizeof(*vq));
		return -EFAULT;
	}
	vq->mem = *mem;
	vq->size = (uint16_t)size;
	vq->indirect = indirect;
	/* The device starts where a freshly reset ring is (§2.7.8: used idx
	 * starts at 0; the driver's avail idx too). */
	vq->last_avail = 0;
	vq->used_idx = 0;
	store16(vq->used + USED_FLAGS, 0, __ATOMIC_RELAXED);
	store16(vq->used + USED_IDX, 0, __ATOMIC_RELEASE);
	return 0;
}

/* --- taking chains -------------------------------------------------------- */

static int add_seg(const struct virtqueue *vq, struct vq_chain *c, const struct desc *d)
{
	if (!d->len)
		return 0; /* an empty buffer carries nothing */
	uint8_t *hva = vq_gpa_to_hva(&vq->mem, d->addr, d->len);
	if (!hva)
		return -EFAULT;
	bool writable = d->flags & DESC_F_WRITE;
	if (!writable && c->n_in)
		return -EINVAL; /* §2.7.4.2: readable after writable */
	if (c->n_out + c->n_in >= VQ_MAX_SEGS)
		return -E2BIG;
	c->seg[c->n_out + c->n_in] = (struct vq_seg){ hva, d->len };
	if (writable) {
		c->n_in++;
		c->in_len += d->len;
	} else {
		c->n_out++;
		c->out_len += d->len;
	}
	return 0;
}

/* §2.7.5.3: an indirect table is a chain of its own, entries 0..n-1,
 * starting at 0; it may not nest and may not be followed (NEXT). */
static int walk_indirect(const struct virtqueue *vq, struct vq_chain *c, const struct desc *ind)
{
	if (!vq->indirect || (ind->flags & DESC_F_NEXT))
		return -EINVAL;
	if (!ind->len || ind->len % DESC_SIZE)
		return -EINVAL;
	unsigned n = ind->len / DESC_SIZE;
	if (n > VQ_MAX_SIZE)
		return -EINVAL;
	const uint8_t *table = vq_gpa_to_hva(&vq->mem, ind->addr, ind->len);
	if (!table)
		return -EFAULT;
	unsigned i = 0;
	for (unsigned steps = 0;; steps++) {
		if (steps >= n)
			return -ELOOP;
		struct desc d = read_desc(table, i);
		if (d.flags & DESC_F_INDIRECT)
			return -EINVAL;
		int err = add_seg(vq, c, &d);
		if (err)
			return err;
		if (!(d.flags & DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -EINVAL;
		i = d.next;
	}
}

static int walk_chain(const struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	memset(c, 0, offsetof(struct vq_chain, seg));
	c->head = head;
	unsigned i = head;
	for (unsigned steps = 0;; steps++) {
		if (steps >= vq->size)
			return -ELOOP; /* §2.7.5.3.1: no chain longer than the queue */
		struct desc d = read_desc(vq->desc, i);
		int err;
		if (d.flags & DESC_F_INDIRECT) {
			if (c->n_out + c->n_in)
				return -EINVAL; /* an indirect table is the whole chain */
			return walk_indirect(vq, c, &d);
		}
		err = add_seg(vq, c, &d);
		if (err)
			return err;
		if (!(d.flags & DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
}

/* Entries the driver has made available and we have not taken, or -EINVAL
 * when its idx ran more than a queue ahead (§2.7.6). */
static int pending(const struct virtqueue *vq)
{
	uint16_t idx = load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - vq->last_avail);
	return n > vq->size ? -EINVAL : (int)n;
}

bool vq_has_avail(const struct virtqueue *vq)
{
	return vq->size && pending(vq) > 0;
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	if (!vq->size)
		return 0;
	int n = pending(vq);
	if (n <= 0)
		return n;
	/* The ring entry is read after idx (acquire above). */
	uint16_t head = load16(vq->avail + AVAIL_RING + 2u * (vq->last_avail & (vq->size - 1)),
			       __ATOMIC_RELAXED);
	if (head >= vq->size)
		return -EINVAL;
	int err = walk_chain(vq, head, chain);
	if (err)
		return err;
	vq->last_avail++;
	return 1;
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	uint8_t *e = vq->used + USED_RING + (size_t)USED_ELEM_SIZE * (vq->used_idx & (vq->size - 1));
	store32(e, head);
	store32(e + 4, written);
	vq->used_idx++;
	/* §2.7.8.2: the element is visible before idx moves. */
	store16(vq->used + USED_IDX, vq->used_idx, __ATOMIC_RELEASE);
}

bool vq_wants_interrupt(const struct virtqueue *vq)
{
	/* Full barrier: our used idx store before the driver's flags load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(load16(vq->avail + AVAIL_FLAGS, __ATOMIC_RELAXED) & AVAIL_F_NO_INTERRUPT);
}

/* --- copying through a chain ---------------------------------------------- */

static size_t copy_segs(const struct vq_seg *segs, unsigned n, size_t off, uint8_t *buf,
			size_t len, bool to_guest)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= segs[i].len) {
			off -= segs[i].len;
			continue;
		}
		size_t k = segs[i].len - off;
		if (k > len - done)
			k = len - done;
		if (to_guest)
			memcpy(segs[i].hva + off, buf + done, k);
		else
			memcpy(buf + done, segs[i].hva + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t vq_chain_write(const struct vq_chain *chain, size_t off, const void *buf, size_t len)
{
	return copy_segs(chain->seg + chain->n_out, chain->n_in, off, (uint8_t *)(uintptr_t)buf,
			 len, true);
}

size_t vq_chain_read(const struct vq_chain *chain, size_t off, void *buf, size_t len)
{
	return copy_segs(chain->seg, chain->n_out, off, buf, len, false);
}
