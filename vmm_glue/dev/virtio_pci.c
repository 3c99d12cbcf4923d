/*
 * virtio_pci.c — virtio over PCI, modern (non-transitional) transport.
 * Facts: virtio 1.2 §4.1 (PCI transport: §4.1.2 discovery, §4.1.4 the
 * capabilities and structures, §4.1.5.1.2 MSI-X vector configuration),
 * §2.1 device status, §3.1 initialization; PCI Local Bus 3.0 §6.1 (type 0
 * header), §6.2.5 (BARs), §6.7 (capability list), §6.8.2 (MSI-X).
 *
 * Contexts: the config shadow, BAR addresses and the MSI-X table are what
 * the guest programmed (virtual); `route` is the shadow the core installs;
 * `efd` is the physical eventfd behind each vector.
 */
#include "vmm_glue/dev/virtio_pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci/pci_regs.h"

/* §4.1.2: vendor 1af4, device 1040 + type for non-transitional devices,
 * revision ≥ 1, subsystem device ≥ 0x40. */
#define VIRTIO_VENDOR   0x1af4
#define VIRTIO_DEV_BASE 0x1040
#define VIRTIO_SUBSYS   0x0040

/* §4.1.4 struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type,
 * bar, id, padding[2], le32 offset, le32 length (16 bytes); the notify
 * capability adds le32 notify_off_multiplier (§4.1.4.4), the PCI config
 * access capability u8 pci_cfg_data[4] (§4.1.4.9). */
#define VCAP_TYPE       3
#define VCAP_BAR        4
#define VCAP_OFFSET     8
#define VCAP_LENGTH     12
#define VCAP_EXTRA      16
#define CFG_TYPE_COMMON 1       /* §4.1.4 cfg_type values */
#define CFG_TYPE_NOTIFY 2
#define CFG_TYPE_ISR    3
#define CFG_TYPE_DEVICE 4
#define CFG_TYPE_PCI    5
/* Where the capabilities sit in our config space. */
#define CAP_COMMON_AT   0x40
#define CAP_NOTIFY_AT   0x50
#define CAP_ISR_AT      0x64
#define CAP_DEVICE_AT   0x74
#define CAP_PCICFG_AT   0x84
#define CAP_MSIX_AT     0x98

/* §4.1.4.3 struct virtio_pci_common_cfg field offsets. */
#define CC_DFSELECT     0x00    /* le32 device_feature_select */
#define CC_DF           0x04    /* le32 device_feature (ro) */
#define CC_GFSELECT     0x08    /* le32 driver_feature_select */
#define CC_GF           0x0c    /* le32 driver_feature */
#define CC_MSIX         0x10    /* le16 config_msix_vector */
#define CC_NUMQ         0x12    /* le16 num_queues (ro) */
#define CC_STATUS       0x14    /* u8 device_status */
#define CC_GENERATION   0x15    /* u8 config_generation (ro) */
#define CC_Q_SELECT     0x16    /* le16 queue_select */
#define CC_Q_SIZE       0x18    /* le16 queue_size */
#define CC_Q_MSIX       0x1a    /* le16 queue_msix_vector */
#define CC_Q_ENABLE     0x1c    /* le16 queue_enable */
#define CC_Q_NOFF       0x1e    /* le16 queue_notify_off (ro) */
#define CC_Q_DESC       0x20    /* le64 queue_desc */
#define CC_Q_DRIVER     0x28    /* le64 queue_driver (available ring) */
#define CC_Q_DEVICE     0x30    /* le64 queue_device (used ring) */
#define CC_LEN          0x40    /* 1.2 adds two le16 at 0x38, 0x3a: read 0 */
#define NO_VECTOR       0xffff  /* §4.1.5.1.2 VIRTIO_MSI_NO_VECTOR */
/* §4.1.4.5 ISR status bits. */
#define ISR_QUEUE       0x1
#define ISR_CONFIG      0x2

#define BAR0_SIZE       0x4000u
#define BAR1_SIZE       0x1000u
/* MSI-X (PCI 3.0 §6.8.2): control bit 15 enable, 14 function mask,
 * 10:0 table size - 1; table/PBA dwords = offset | BIR; 16-byte entries
 * (addr lo, addr hi, data, vector control bit 0 = mask). */
#define MSIX_CTL_EN     0x8000
#define MSIX_CTL_FMASK  0x4000
#define MSIX_ENTRY      16
#define MSIX_TABLE_OFF  0x000
#define MSIX_PBA_OFF    0x800
#define MSIX_VEC_MASK   0x1
#define MAX_VEC         (VIRTIO_PCI_MAX_QUEUES + 1)

struct vp_queue {
	uint16_t size;
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;   /* virtual: GPAs the driver wrote */
	struct virtqueue vq;
};

struct vp_vec {
	uint64_t virt_addr;               /* virtual: the guest's MSI-X entry */
	uint32_t virt_data;
	uint32_t virt_ctrl;
	int efd;                          /* physical */
	struct glue_msi_route *route;     /* shadow */
};

struct vp_bar {
	struct virtio_pci *vp;
	unsigned idx;
	uint32_t size;
	uint64_t virt_gpa;                /* 0: not placed */
	int trap_id;
};

struct virtio_pci {
	struct glue *glue;
	bool doorbell_on[VIRTIO_PCI_MAX_QUEUES];  /* ioeventfd registered */
	struct pci_bus *bus;
	struct virtio_pci_params p;
	struct pci_dev pci;
	unsigned devfn;
	pthread_mutex_t lock;
	uint8_t cfg[256];
	uint8_t wmask[256];
	struct vp_bar bars[2];
	unsigned nvec;
	struct vp_vec vec[MAX_VEC];
	/* common configuration (§4.1.4.3) */
	uint64_t offered;
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint16_t msix_config;
	uint8_t status;
	uint8_t generation;
	uint16_t queue_select;
	uint8_t isr;
	struct vp_queue q[VIRTIO_PCI_MAX_QUEUES];
	int last_error;
	atomic_ulong notify_traps;   /* notifications that came through a trap */
};

/* --- config space helpers ---------------------------------------------- */

static uint32_t cfg_get(const struct virtio_pci *vp, unsigned off, unsigned size)
{
	return (uint32_t)glue_get_le(vp->cfg + off, size);
}

static void cfg_set(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t v)
{
	glue_put_le(vp->cfg + off, size, v);
}

static void mask_set(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t m)
{
	glue_put_le(vp->wmask + off, size, m);
}

static bool overlaps(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
	return a < b + blen && b < a + alen;
}

/* [off, off+size) lies inside [base, base+len). */
static bool within(unsigned off, unsigned size, unsigned base, unsigned len)
{
	return off >= base && off - base <= len && size <= len - (off - base);
}

/* --- MSI-X vectors ------------------------------------------------------ */

static bool msix_enabled(const struct virtio_pci *vp)
{
	return cfg_get(vp, CAP_MSIX_AT + 2, 2) & MSIX_CTL_EN;
}

static bool vec_active(const struct virtio_pci *vp, unsigned v)
{
	uint16_t ctl = (uint16_t)cfg_get(vp, CAP_MSIX_AT + 2, 2);
	return (ctl & MSIX_CTL_EN) && !(ctl & MSIX_CTL_FMASK) &&
	       !(vp->vec[v].virt_ctrl & MSIX_VEC_MASK);
}

/* Make each route (shadow) follow the guest's entry and masks (virtual). */
static void vec_sync(struct virtio_pci *vp, unsigned v)
{
	struct vp_vec *e = &vp->vec[v];
	glue_msi_route_update(vp->glue, e->route, e->virt_addr, e->virt_data, !vec_active(vp, v));
}

static void vec_sync_all(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->nvec; v++)
		vec_sync(vp, v);
}

/* Raise a vector: the eventfd carries it to the guest, or keeps it
 * pending while masked.  Without MSI-X enabled there is no interrupt
 * (INTx is not offered); the ISR bit still records it. */
static void vec_raise(struct virtio_pci *vp, uint16_t v)
{
	if (v >= vp->nvec || !msix_enabled(vp))
		return;
	uint64_t one = 1;
	if (write(vp->vec[v].efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, an interrupt is pending anyway */
	}
}

static bool vec_pending(const struct virtio_pci *vp, unsigned v)
{
	return msix_enabled(vp) && !vec_active(vp, v) && vp->vec[v].route &&
	       glue_msi_route_pending(vp->glue, vp->vec[v].route);
}

static void msix_table_access(struct virtio_pci *vp, unsigned off, uint8_t *data, unsigned size,
			      bool wr)
{
	unsigned v = off / MSIX_ENTRY, field = off % MSIX_ENTRY;
	if (v >= vp->nvec || (size != 4 && size != 8) || (field & 3)) {
		if (!wr)
			memset(data, 0, size);
		return;
	}
	for (unsigned done = 0; done < size; done += 4, field += 4) {
		struct vp_vec *e = &vp->vec[v];
		uint32_t *reg = NULL, lo = (uint32_t)e->virt_addr, hi = (uint32_t)(e->virt_addr >> 32);
		switch (field) {
		case 0: reg = &lo; break;
		case 4: reg = &hi; break;
		case 8: reg = &e->virt_data; break;
		case 12: reg = &e->virt_ctrl; break;
		default: break;
		}
		if (!reg)
			break;
		if (!wr) {
			glue_put_le(data + done, 4, *reg);
			continue;
		}
		uint32_t val = (uint32_t)glue_get_le(data + done, 4);
		*reg = field == 12 ? (val & MSIX_VEC_MASK) : val;
		e->virt_addr = (uint64_t)hi << 32 | lo;
		vec_sync(vp, v);
	}
}

static void msix_pba_read(struct virtio_pci *vp, unsigned off, uint8_t *data, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		uint8_t byte = 0;
		for (unsigned bit = 0; bit < 8; bit++) {
			unsigned v = (off + i) * 8 + bit;
			if (v < vp->nvec && vec_pending(vp, v))
				byte |= (uint8_t)(1u << bit);
		}
		data[i] = byte;
	}
}

/* --- device status and reset (§2.1, §4.1.4.3.1) ------------------------------ */

static void device_reset(struct virtio_pci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->msix_config = NO_VECTOR;
	vp->status = 0;
	vp->queue_select = 0;
	vp->isr = 0;
	vp->last_error = 0;
	for (unsigned i = 0; i < vp->p.num_queues; i++)
		vp->q[i] = (struct vp_queue){ .size = vp->p.queue_max, .msix_vector = NO_VECTOR };
	/* Whatever a vector had pending is dropped with the old rings. */
	for (unsigned v = 0; v < vp->nvec; v++) {
		uint64_t junk;
		if (read(vp->vec[v].efd, &junk, sizeof(junk)) < 0) {
			/* EAGAIN: nothing pending */
		}
	}
	if (vp->p.ops->status)
		vp->p.ops->status(vp->p.ctx, 0);
}

static void config_interrupt(struct virtio_pci *vp)
{
	vp->isr |= ISR_CONFIG;
	vec_raise(vp, vp->msix_config);
}

static void status_write(struct virtio_pci *vp, uint8_t val)
{
	if (val == 0) {
		device_reset(vp);
		return;
	}
	uint8_t old = vp->status;
	/* NEEDS_RESET is the device's to set (§2.1.2); the driver keeps it. */
	uint8_t next = (uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	/* §3.1.1 step 5: FEATURES_OK only for a subset of what we offered,
	 * with VERSION_1 (§6.1: we are a non-transitional device). */
	if ((next & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = vp->driver_features;
		if ((f & ~vp->offered) || !(f & VIRTIO_FEATURE_VERSION_1))
			next &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	/* DRIVER_OK needs FEATURES_OK first (§3.1.1 step 8). */
	if ((next & VIRTIO_STATUS_DRIVER_OK) && !(next & VIRTIO_STATUS_FEATURES_OK))
		next &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	vp->status = next;
	if ((next & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && vp->p.ops->status)
		vp->p.ops->status(vp->p.ctx, next);
}

/* --- common configuration (§4.1.4.3) ----------------------------------------- */

static struct vp_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->p.num_queues ? &vp->q[vp->queue_select] : NULL;
}

static void queue_enable(struct virtio_pci *vp, unsigned qi)
{
	struct vp_queue *q = &vp->q[qi];
	const struct glue_ram_region *r;
	size_t n;
	int err = glue_ram_regions(vp->glue, &r, &n);
	struct vq_guest_mem mem = { r, n };
	if (!err)
		err = vq_init(&q->vq, &mem, q->size, q->desc, q->driver, q->device,
			      vp->driver_features & VIRTIO_FEATURE_INDIRECT_DESC);
	if (err) {
		virtio_pci_fail(vp, err);
		return;
	}
	q->enabled = true;
}

/* A 64-bit field accessed whole or as two dwords (§4.1.3.1). */
static bool field64(unsigned off, unsigned size, unsigned base, unsigned *shift)
{
	if (size == 8 && off == base) {
		*shift = 0;
		return true;
	}
	if (size == 4 && (off == base || off == base + 4)) {
		*shift = (off - base) * 8;
		return true;
	}
	return false;
}

static uint64_t common_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
	struct vp_queue *q = selected(vp);
	unsigned sh;
	if (size == 4) {
		switch (off) {
		case CC_DFSELECT: return vp->dfselect;
		case CC_DF: return vp->dfselect < 2 ? (uint32_t)(vp->offered >> (32 * vp->dfselect)) : 0;
		case CC_GFSELECT: return vp->gfselect;
		case CC_GF: return vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0;
		default: break;
		}
	} else if (size == 2) {
		switch (off) {
		case CC_MSIX: return vp->msix_config;
		case CC_NUMQ: return vp->p.num_queues;
		case CC_Q_SELECT: return vp->queue_select;
		case CC_Q_SIZE: return q ? q->size : 0;
		case CC_Q_MSIX: return q ? q->msix_vector : NO_VECTOR;
		case CC_Q_ENABLE: return q ? q->enabled : 0;
		case CC_Q_NOFF: return q ? vp->queue_select : 0;
		default: break;
		}
	} else if (size == 1) {
		if (off == CC_STATUS)
			return vp->status;
		if (off == CC_GENERATION)
			return vp->generation;
	}
	if (q && field64(off, size, CC_Q_DESC, &sh))
		return q->desc >> sh;
	if (q && field64(off, size, CC_Q_DRIVER, &sh))
		return q->driver >> sh;
	if (q && field64(off, size, CC_Q_DEVICE, &sh))
		return q->device >> sh;
	return 0;
}

static void set64(uint64_t *field, unsigned size, unsigned shift, uint64_t val)
{
	uint64_t m = size == 8 ? ~0ull : 0xffffffffull << shift;
	*field = (*field & ~m) | ((val << shift) & m);
}

static uint16_t vector_or_none(const struct virtio_pci *vp, uint64_t val)
{
	return val < vp->nvec ? (uint16_t)val : NO_VECTOR;
}

static void common_write(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t val)
{
	struct vp_queue *q = selected(vp);
	/* §4.1.4.3.2: queue fields are the driver's only while the queue is
	 * disabled; features only before FEATURES_OK. */
	bool q_writable = q && !q->enabled;
	bool f_writable = !(vp->status & VIRTIO_STATUS_FEATURES_OK);
	unsigned sh;
	if (size == 4) {
		switch (off) {
		case CC_DFSELECT: vp->dfselect = (uint32_t)val; return;
		case CC_GFSELECT: vp->gfselect = (uint32_t)val; return;
		case CC_GF:
			if (f_writable && vp->gfselect < 2)
				set64(&vp->driver_features, 4, 32 * vp->gfselect, val);
			return;
		default: break;
		}
	} else if (size == 2) {
		switch (off) {
		case CC_MSIX: vp->msix_config = vector_or_none(vp, val); return;
		case CC_Q_SELECT: vp->queue_select = (uint16_t)val; return;
		case CC_Q_SIZE:
			/* A power of two no larger than the maximum (§2.7). */
			if (q_writable && val && val <= vp->p.queue_max && !(val & (val - 1)))
				q->size = (uint16_t)val;
			return;
		case CC_Q_MSIX:
			if (q)
				q->msix_vector = vector_or_none(vp, val);
			return;
		case CC_Q_ENABLE:
			if (q_writable && val == 1)
				queue_enable(vp, vp->queue_select);
			return;
		default: break;
		}
	} else if (size == 1 && off == CC_STATUS) {
		status_write(vp, (uint8_t)val);
		return;
	}
	if (q_writable && field64(off, size, CC_Q_DESC, &sh))
		set64(&q->desc, size, sh, val);
	else if (q_writable && field64(off, size, CC_Q_DRIVER, &sh))
		set64(&q->driver, size, sh, val);
	else if (q_writable && field64(off, size, CC_Q_DEVICE, &sh))
		set64(&q->device, size, sh, val);
	/* Anything else (read-only fields, odd widths) is ignored. */
}

/* --- BAR 0: the virtio structures ------------------------------------------------- */

static void notify(struct virtio_pci *vp, unsigned off)
{
	unsigned q = off / VIRTIO_PCI_NOTIFY_MULT;
	atomic_fetch_add(&vp->notify_traps, 1);
	if (q < vp->p.num_queues && vp->p.ops->notify)
		vp->p.ops->notify(vp->p.ctx, q);
}

/* Everything in BAR 0 but the notify area, lock held. */
static void bar0_access_locked(struct virtio_pci *vp, unsigned off, uint8_t *data, unsigned size,
			       bool wr)
{
	if (within(off, size, VIRTIO_PCI_COMMON_OFF, CC_LEN)) {
		unsigned o = off - VIRTIO_PCI_COMMON_OFF;
		if (wr)
			common_write(vp, o, size, glue_get_le(data, size));
		else
			glue_put_le(data, size, common_read(vp, o, size));
	} else if (off == VIRTIO_PCI_ISR_OFF && size == 1) {
		if (!wr) {
			data[0] = vp->isr; /* §4.1.4.5.1: reading clears it */
			vp->isr = 0;
		}
	} else if (within(off, size, VIRTIO_PCI_DEVCFG_OFF, vp->p.cfg_len)) {
		unsigned o = off - VIRTIO_PCI_DEVCFG_OFF;
		if (wr && vp->p.ops->cfg_write)
			vp->p.ops->cfg_write(vp->p.ctx, o, data, size);
		else if (!wr && vp->p.ops->cfg_read)
			vp->p.ops->cfg_read(vp->p.ctx, o, data, size);
		else if (!wr)
			memset(data, 0, size);
	} else if (within(off, size, VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_MULT * vp->p.num_queues)) {
		if (wr)
			notify(vp, off - VIRTIO_PCI_NOTIFY_OFF);
		else
			memset(data, 0, size);
	} else if (!wr) {
		memset(data, 0, size);
	}
}

static int bar_trap(void *ctx, uint64_t addr, uint8_t *data, unsigned size, bool wr)
{
	struct vp_bar *b = ctx;
	struct virtio_pci *vp = b->vp;
	uint64_t off64 = addr - b->virt_gpa;
	if (off64 >= b->size || size > b->size - off64) {
		if (!wr)
			memset(data, 0xff, size);
		return 0;
	}
	unsigned off = (unsigned)off64;
	/* The data path: a notification is a wakeup, taken without the lock. */
	if (b->idx == 0 && wr &&
	    within(off, size, VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_MULT * vp->p.num_queues)) {
		notify(vp, off - VIRTIO_PCI_NOTIFY_OFF);
		return 0;
	}
	pthread_mutex_lock(&vp->lock);
	if (b->idx == 0) {
		bar0_access_locked(vp, off, data, size, wr);
	} else if (within(off, size, MSIX_TABLE_OFF, vp->nvec * MSIX_ENTRY)) {
		msix_table_access(vp, off - MSIX_TABLE_OFF, data, size, wr);
	} else if (within(off, size, MSIX_PBA_OFF, 8)) {
		if (!wr)
			msix_pba_read(vp, off - MSIX_PBA_OFF, data, size);
	} else if (!wr) {
		memset(data, 0, size);
	}
	pthread_mutex_unlock(&vp->lock);
	return 0;
}

/* --- BAR placement (PCI 3.0 §6.2.5) ------------------------------------------------ */

/* Hand each queue's doorbell (BAR 0 + NOTIFY_OFF + 4q, the 16-bit write a
 * driver makes, §4.1.4.4) to the core as an ioeventfd, or take it back. */
static void doorbells(struct virtio_pci *vp, uint64_t bar0_gpa, bool on)
{
	for (unsigned q = 0; q < vp->p.num_queues && !vp->p.no_ioeventfd; q++) {
		int fd = vp->p.ops->notify_fd ? vp->p.ops->notify_fd(vp->p.ctx, q) : -1;
		uint64_t gpa = bar0_gpa + VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q;
		if (fd < 0 || vp->doorbell_on[q] == on)
			continue;
		if (glue_ioeventfd(vp->glue, gpa, 2, fd, on) == 0 || !on)
			vp->doorbell_on[q] = on;
	}
}

static void bar_unplace(struct virtio_pci *vp, struct vp_bar *b)
{
	if (b->idx == 0 && b->virt_gpa)
		doorbells(vp, b->virt_gpa, false);
	if (b->trap_id >= 0)
		glue_untrap(vp->glue, b->trap_id);
	b->trap_id = -1;
	b->virt_gpa = 0;
}

/* The BAR decodes where the guest put it while memory space is on. */
static void bar_update(struct virtio_pci *vp, struct vp_bar *b)
{
	uint64_t gpa = cfg_get(vp, PCI_BAR0 + 4 * b->idx, 4) & ~0xfull;
	bool on = cfg_get(vp, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	if (!on || !gpa || gpa + b->size > (1ull << 32))
		gpa = 0;
	if (gpa == b->virt_gpa)
		return;
	bar_unplace(vp, b);
	if (gpa && glue_trap(vp->glue, GLUE_MMIO, gpa, b->size, bar_trap, b, &b->trap_id) == 0) {
		b->virt_gpa = gpa;
		if (b->idx == 0)
			doorbells(vp, gpa, true);
	}
}

/* --- config space ---------------------------------------------------------------------- */

/* §4.1.4.9: the PCI config access capability reads/writes BAR 0 through
 * pci_cfg_data, at the bar/offset/length the driver put in the capability. */
static bool pcicfg_window(struct virtio_pci *vp, unsigned *off, unsigned *len)
{
	unsigned bar = vp->cfg[CAP_PCICFG_AT + VCAP_BAR];
	*off = cfg_get(vp, CAP_PCICFG_AT + VCAP_OFFSET, 4);
	*len = cfg_get(vp, CAP_PCICFG_AT + VCAP_LENGTH, 4);
	return bar == 0 && (*len == 1 || *len == 2 || *len == 4) && !(*off & (*len - 1)) &&
	       *off < BAR0_SIZE && *off + *len <= BAR0_SIZE;
}

static uint32_t vp_cfg_read(struct pci_dev *dev, unsigned off, unsigned size)
{
	struct virtio_pci *vp = dev->ctx;
	pthread_mutex_lock(&vp->lock);
	uint32_t v = cfg_get(vp, off, size);
	unsigned data_at = CAP_PCICFG_AT + VCAP_EXTRA, woff, wlen;
	if (overlaps(off, size, data_at, 4) && pcicfg_window(vp, &woff, &wlen)) {
		uint8_t buf[4] = { 0 };
		bar0_access_locked(vp, woff, buf, wlen, false);
		uint8_t all[4];
		memcpy(all, vp->cfg + data_at, 4);
		memcpy(all, buf, wlen);
		v = 0;
		for (unsigned i = 0; i < size; i++) {
			unsigned o = off + i;
			uint8_t byte = o >= data_at && o < data_at + 4 ? all[o - data_at] : vp->cfg[o];
			v |= (uint32_t)byte << (8 * i);
		}
	}
	pthread_mutex_unlock(&vp->lock);
	return v;
}

static void vp_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	struct virtio_pci *vp = dev->ctx;
	pthread_mutex_lock(&vp->lock);
	unsigned data_at = CAP_PCICFG_AT + VCAP_EXTRA, woff, wlen;
	if (off == data_at && pcicfg_window(vp, &woff, &wlen) && size >= wlen) {
		uint8_t buf[4];
		glue_put_le(buf, 4, val);
		if (woff >= VIRTIO_PCI_NOTIFY_OFF)
			notify(vp, woff - VIRTIO_PCI_NOTIFY_OFF);
		else
			bar0_access_locked(vp, woff, buf, wlen, true);
		pthread_mutex_unlock(&vp->lock);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t m = vp->wmask[o];
		vp->cfg[o] = (uint8_t)((vp->cfg[o] & ~m) | ((uint8_t)(val >> (8 * i)) & m));
	}
	if (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BAR0, 8)) {
		bar_update(vp, &vp->bars[0]);
		bar_update(vp, &vp->bars[1]);
	}
	if (overlaps(off, size, CAP_MSIX_AT + 2, 2))
		vec_sync_all(vp);
	pthread_mutex_unlock(&vp->lock);
}

static const struct pci_dev_ops vp_pci_ops = { vp_cfg_read, vp_cfg_write };

static void put_vcap(struct virtio_pci *vp, unsigned at, unsigned next, unsigned len,
		     unsigned type, unsigned bar, uint32_t offset, uint32_t length)
{
	vp->cfg[at] = PCI_CAP_ID_VNDR;
	vp->cfg[at + 1] = (uint8_t)next;
	vp->cfg[at + 2] = (uint8_t)len;
	vp->cfg[at + VCAP_TYPE] = (uint8_t)type;
	vp->cfg[at + VCAP_BAR] = (uint8_t)bar;
	cfg_set(vp, at + VCAP_OFFSET, 4, offset);
	cfg_set(vp, at + VCAP_LENGTH, 4, length);
}

static void build_config(struct virtio_pci *vp)
{
	const struct virtio_pci_params *p = &vp->p;
	cfg_set(vp, PCI_VENDOR_ID, 2, VIRTIO_VENDOR);
	cfg_set(vp, PCI_DEVICE_ID, 2, VIRTIO_DEV_BASE + p->device_type);
	vp->cfg[PCI_REVISION_ID] = 1;
	cfg_set(vp, PCI_CLASS_PROG, 3, p->class_code);
	cfg_set(vp, PCI_SUBSYSTEM_VENDOR_ID, 2, VIRTIO_VENDOR);
	cfg_set(vp, PCI_SUBSYSTEM_ID, 2, VIRTIO_SUBSYS);
	cfg_set(vp, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	vp->cfg[PCI_CAP_PTR] = CAP_COMMON_AT;
	mask_set(vp, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	mask_set(vp, PCI_BAR0, 4, ~(BAR0_SIZE - 1) & ~0xfu);    /* 32-bit memory BARs */
	mask_set(vp, PCI_BAR0 + 4, 4, ~(BAR1_SIZE - 1) & ~0xfu);
	mask_set(vp, PCI_INTERRUPT_LINE, 1, 0xff);                    /* interrupt pin 0: no INTx */

	put_vcap(vp, CAP_COMMON_AT, CAP_NOTIFY_AT, 16, CFG_TYPE_COMMON, 0, VIRTIO_PCI_COMMON_OFF, CC_LEN);
	put_vcap(vp, CAP_NOTIFY_AT, CAP_ISR_AT, 20, CFG_TYPE_NOTIFY, 0, VIRTIO_PCI_NOTIFY_OFF,
		 VIRTIO_PCI_NOTIFY_MULT * p->num_queues);
	cfg_set(vp, CAP_NOTIFY_AT + VCAP_EXTRA, 4, VIRTIO_PCI_NOTIFY_MULT); /* notify_off_multiplier */
	put_vcap(vp, CAP_ISR_AT, CAP_DEVICE_AT, 16, CFG_TYPE_ISR, 0, VIRTIO_PCI_ISR_OFF, 1);
	put_vcap(vp, CAP_DEVICE_AT, CAP_PCICFG_AT, 16, CFG_TYPE_DEVICE, 0, VIRTIO_PCI_DEVCFG_OFF,
		 p->cfg_len);
	put_vcap(vp, CAP_PCICFG_AT, CAP_MSIX_AT, 20, CFG_TYPE_PCI, 0, 0, 0);
	mask_set(vp, CAP_PCICFG_AT + VCAP_BAR, 1, 0xff);
	mask_set(vp, CAP_PCICFG_AT + VCAP_OFFSET, 4, 0xffffffff);
	mask_set(vp, CAP_PCICFG_AT + VCAP_LENGTH, 4, 0xffffffff);
	mask_set(vp, CAP_PCICFG_AT + VCAP_EXTRA, 4, 0xffffffff);

	vp->cfg[CAP_MSIX_AT] = PCI_CAP_ID_MSIX;
	vp->cfg[CAP_MSIX_AT + 1] = 0;
	cfg_set(vp, CAP_MSIX_AT + 2, 2, vp->nvec - 1);          /* table size - 1, off, unmasked */
	cfg_set(vp, CAP_MSIX_AT + 4, 4, MSIX_TABLE_OFF | 1);    /* BIR 1 */
	cfg_set(vp, CAP_MSIX_AT + 8, 4, MSIX_PBA_OFF | 1);
	mask_set(vp, CAP_MSIX_AT + 2, 2, MSIX_CTL_EN | MSIX_CTL_FMASK);
}

/* --- lifetime ---------------------------------------------------------------------------- */

int virtio_pci_create(struct glue *g, struct pci_bus *bus, const struct virtio_pci_params *p,
		      struct virtio_pci **out)
{
	if (!p->ops || !p->num_queues || p->num_queues > VIRTIO_PCI_MAX_QUEUES ||
	    !p->queue_max || p->queue_max > VQ_MAX_SIZE || (p->queue_max & (p->queue_max - 1)) ||
	    p->cfg_len > 256)
		return -EINVAL;
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->glue = g;
	vp->bus = bus;
	vp->p = *p;
	vp->pci = (struct pci_dev){ &vp_pci_ops, vp };
	vp->offered = p->features | VIRTIO_FEATURE_VERSION_1;
	vp->nvec = p->num_queues + 1;
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned i = 0; i < 2; i++)
		vp->bars[i] = (struct vp_bar){ vp, i, i ? BAR1_SIZE : BAR0_SIZE, 0, -1 };
	for (unsigned v = 0; v < MAX_VEC; v++)
		vp->vec[v] = (struct vp_vec){ .virt_ctrl = MSIX_VEC_MASK, .efd = -1 }; /* §6.8.2.9 */
	build_config(vp);

	int err = 0;
	for (unsigned v = 0; v < vp->nvec && !err; v++) {
		vp->vec[v].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->vec[v].efd < 0)
			err = -errno;
		else
			err = glue_msi_route_add(g, vp->vec[v].efd, 0, 0, true, &vp->vec[v].route);
	}
	for (unsigned i = 0; i < 2 && !err; i++) {
		uint64_t gpa;
		err = pci_bus_alloc_mmio(bus, vp->bars[i].size, &gpa);
		if (!err)
			cfg_set(vp, PCI_BAR0 + 4 * i, 4, (uint32_t)gpa);
	}
	if (!err)
		err = pci_bus_add(bus, &vp->pci, &vp->devfn);
	if (err) {
		virtio_pci_destroy(vp);
		return err;
	}
	device_reset(vp);
	*out = vp;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->devfn)
		pci_bus_remove(vp->bus, vp->devfn);
	for (unsigned i = 0; i < 2; i++)
		bar_unplace(vp, &vp->bars[i]);
	for (unsigned v = 0; v < MAX_VEC; v++) {
		if (vp->vec[v].route)
			glue_msi_route_del(vp->glue, vp->vec[v].route);
		if (vp->vec[v].efd >= 0)
			close(vp->vec[v].efd);
	}
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

void virtio_pci_lock(struct virtio_pci *vp) { pthread_mutex_lock(&vp->lock); }
void virtio_pci_unlock(struct virtio_pci *vp) { pthread_mutex_unlock(&vp->lock); }

/* --- for the device model (lock held) -------------------------------------------------------- */

struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
	if (q >= vp->p.num_queues || !vp->q[q].enabled)
		return NULL;
	if ((vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) != VIRTIO_STATUS_DRIVER_OK)
		return NULL;
	return &vp->q[q].vq;
}

uint64_t virtio_pci_features(const struct virtio_pci *vp)
{
	return vp->driver_features;
}

void virtio_pci_interrupt(struct virtio_pci *vp, unsigned q)
{
	if (q >= vp->p.num_queues || !vp->q[q].enabled || !vq_wants_interrupt(&vp->q[q].vq))
		return;
	vp->isr |= ISR_QUEUE;
	vec_raise(vp, vp->q[q].msix_vector);
}

void virtio_pci_fail(struct virtio_pci *vp, int err)
{
	vp->last_error = err ? err : -EINVAL;
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	config_interrupt(vp);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->generation++;
	config_interrupt(vp);
}

unsigned virtio_pci_devfn(const struct virtio_pci *vp) { return vp->devfn; }

uint64_t virtio_pci_bar_gpa(struct virtio_pci *vp, unsigned bar)
{
	pthread_mutex_lock(&vp->lock);
	uint64_t gpa = bar < 2 ? vp->bars[bar].virt_gpa : 0;
	pthread_mutex_unlock(&vp->lock);
	return gpa;
}

uint64_t virtio_pci_notify_traps(struct virtio_pci *vp)
{
	return atomic_load(&vp->notify_traps);
}

int virtio_pci_last_error(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	int err = vp->last_error;
	pthread_mutex_unlock(&vp->lock);
	return err;
}
