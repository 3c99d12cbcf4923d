/*
 * passthrough.c — the passthrough PCI device on the hosted core: an adapter
 * over the shared config virtualizer (pt_config: a virtual header, the kept
 * capabilities, the PCIe registers live) and MSI/MSI-X state machine
 * (msi_state), whose routes here are eventfds VFIO signals + glue routes.
 * Register facts: PCI Local Bus 3.0 §6.1 (type 0 header), §6.2.5 (BARs),
 * §6.7 (capability list), §6.8.1 (MSI), §6.8.2 (MSI-X: capability, table,
 * PBA); PCI Express Base 4.0 §7.5.3 (PCI Express capability).
 *
 * Contexts: `cfgv.virt`, `virt_gpa`, msi_state / msix_state are what the
 * guest programmed or sees; `route` (glue_msi_route) is the shadow the core
 * installs; `host_efd` and the region mmaps are physical.
 */
#include "vmm_glue/dev/passthrough.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "pci/pci_cap.h"
#include "vmm_glue/dev/msi_state.h"
#include "vmm_glue/dev/pt_config.h"

#define MAX_VEC MSIX_STATE_MAX

struct pt_dev;

struct pt_bar {
	struct pt_dev *pt;       /* back to the device, for the trap handler */
	unsigned idx;
	uint64_t size;           /* 0: no BAR here */
	uint32_t low_bits;       /* type bits the guest reads back */
	bool is_64, is_upper;
	uint64_t virt_gpa;       /* where the guest put it (0: not placed) */
	void *hva;               /* physical: mmap of the VFIO region */
	uint64_t mmap_len;
	struct vfio_region region;
	int slots[4];
	unsigned n_slots;
	int trap_id;             /* -1: not trapped */
};

struct pt_vec {
	uint64_t virt_addr;      /* virtual: what the guest wrote */
	uint32_t virt_data;
	uint32_t virt_ctrl;
	int host_efd;            /* physical: eventfd VFIO signals */
	struct glue_msi_route *route;   /* shadow */
};

/* One interrupt source (MSI or MSI-X) as the route interface sees it. */
struct pt_src {
	struct pt_dev *pt;
	struct pt_vec *vecs;
	unsigned index;          /* VFIO_PCI_MSI_IRQ_INDEX or VFIO_PCI_MSIX_IRQ_INDEX */
	const char *what;
};

struct pt_dev {
	struct glue *glue;
	struct pci_bus *bus;
	struct vfio_dev *vdev;
	struct pci_dev pci;
	unsigned devfn;
	/* the config virtualizer: virt (the guest's header and kept
	 * capabilities), wmask, live (the PCI Express registers) */
	struct pt_config cfgv;
	struct pt_bar bars[6];
	/* MSI-X */
	unsigned msix_cap, msix_n, msix_table_bar, msix_pba_bar;
	uint32_t msix_table_off, msix_pba_off;
	struct msix_state msix_state;   /* virtual table + policy (msi_state.h) */
	struct pt_vec msix[MAX_VEC];    /* shadow + physical: host_efd and route only */
	/* MSI */
	unsigned msi_cap, msi_n;
	struct msi_state msi_state;     /* virtual capability + policy (msi_state.h) */
	struct pt_vec msi[MSI_STATE_MAX]; /* shadow + physical */
	struct pt_src msix_src, msi_src;
};

static uint32_t cfg_get(const struct pt_dev *pt, unsigned off, unsigned size)
{
	return (uint32_t)glue_get_le(pt->cfgv.virt + off, size);
}

static void cfg_set(struct pt_dev *pt, unsigned off, unsigned size, uint32_t v)
{
	glue_put_le(pt->cfgv.virt + off, size, v);
}

static void mask_set(struct pt_dev *pt, unsigned off, unsigned size, uint32_t m)
{
	glue_put_le(pt->cfgv.wmask + off, size, m);
}

/* --- guest RAM for DMA ---------------------------------------------------- */

int pt_map_guest_ram(struct glue *g, struct vfio_iommu *iommu, uint64_t *memlock_needed)
{
	const struct glue_ram_region *r;
	size_t n;
	int err = glue_ram_regions(g, &r, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = vfio_dma_map(iommu, r[i].hva, r[i].gpa, r[i].size, memlock_needed);
		if (err) {
			while (i--)
				vfio_dma_unmap(iommu, r[i].gpa, r[i].size);
			return err;
		}
	}
	return 0;
}

void pt_unmap_guest_ram(struct glue *g, struct vfio_iommu *iommu)
{
	const struct glue_ram_region *r;
	size_t n;
	if (glue_ram_regions(g, &r, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		vfio_dma_unmap(iommu, r[i].gpa, r[i].size);
}

/* --- vectors: virtual MSI -> shadow route -> host eventfd ------------------- */

static void vec_release(struct pt_dev *pt, struct pt_vec *v)
{
	if (v->route)
		glue_msi_route_del(pt->glue, v->route);
	v->route = NULL;
	if (v->host_efd >= 0)
		close(v->host_efd);
	v->host_efd = -1;
}

/* The route interface (msi_state.h) on the glue contract, for MSI and
 * MSI-X alike: vector k's route is an eventfd VFIO signals plus the core's
 * GSI route (an irqfd while unmasked). */
static int route_add(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	struct pt_src *src = ctx;
	struct pt_vec *v = &src->vecs[k];
	v->host_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->host_efd < 0)
		return -errno;
	int err = glue_msi_route_add(src->pt->glue, v->host_efd,
				     (uint64_t)virt_msi->addr_hi << 32 | virt_msi->addr_lo, virt_msi->data, masked,
				     &v->route);
	if (err)
		vec_release(src->pt, v);
	return err;
}

static int route_update(void *ctx, unsigned k, const struct msi_msg *virt_msi, bool masked)
{
	struct pt_src *src = ctx;
	int err = glue_msi_route_update(src->pt->glue, src->vecs[k].route,
					(uint64_t)virt_msi->addr_hi << 32 | virt_msi->addr_lo, virt_msi->data, masked);
	if (err)
		fprintf(stderr, "vfs-vmm: %s: cannot update the route of %s vector %u\n", vfio_dev_bdf(src->pt->vdev),
			src->what, k);
	return err;
}

static void route_del(void *ctx, unsigned k)
{
	struct pt_src *src = ctx;
	vec_release(src->pt, &src->vecs[k]);
}

/* VFIO's IRQ index: every vector's eventfd at once (on), or none (off). */
static int route_enable(void *ctx, unsigned n, bool on)
{
	struct pt_src *src = ctx;
	int fds[MAX_VEC];
	if (!on) {
		vfio_dev_irq_disable(src->pt->vdev, src->index);
		return 0;
	}
	for (unsigned k = 0; k < n; k++)
		fds[k] = src->vecs[k].host_efd;
	return vfio_dev_irq_set_eventfds(src->pt->vdev, src->index, 0, n, fds);
}

static bool route_pending(void *ctx, unsigned k)
{
	struct pt_src *src = ctx;
	return src->vecs[k].route && glue_msi_route_pending(src->pt->glue, src->vecs[k].route);
}

static const struct msi_route_ops glue_route_ops = {
	.add = route_add,
	.update = route_update,
	.del = route_del,
	.enable = route_enable,
	.pending = route_pending,
};

/* --- BARs ------------------------------------------------------------------------ */

static bool range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static uint64_t page_down(uint64_t x) { return x & ~0xfffull; }
static uint64_t page_up(uint64_t x) { return (x + 0xfff) & ~0xfffull; }

/* Pages of a BAR that must trap: the MSI-X table and PBA (PCI 3.0 §6.8.2). */
static bool page_trapped(const struct pt_dev *pt, unsigned bar, uint64_t off)
{
	if (!pt->msix_cap)
		return false;
	if (bar == pt->msix_table_bar &&
	    range_overlaps(off, 4096, page_down(pt->msix_table_off),
			   page_up((uint64_t)pt->msix_table_off + pt->msix_n * PCI_MSIX_ENTRY_SIZE) - page_down(pt->msix_table_off)))
		return true;
	if (bar == pt->msix_pba_bar &&
	    range_overlaps(off, 4096, page_down(pt->msix_pba_off),
			   page_up((uint64_t)pt->msix_pba_off + PCI_MSIX_PBA_BYTES(pt->msix_n)) - page_down(pt->msix_pba_off)))
		return true;
	return false;
}

static bool page_mappable(const struct pt_dev *pt, const struct pt_bar *b, unsigned bar, uint64_t off)
{
	if (!b->hva || page_trapped(pt, bar, off))
		return false;
	if (!b->region.n_sparse)
		return true;
	for (unsigned i = 0; i < b->region.n_sparse; i++)
		if (off >= b->region.sparse[i].offset &&
		    off + 4096 <= b->region.sparse[i].offset + b->region.sparse[i].size)
			return true;
	return false;
}

static void bar_unplace(struct pt_dev *pt, struct pt_bar *b)
{
	for (unsigned i = 0; i < b->n_slots; i++)
		glue_unmap_host_range(pt->glue, b->slots[i]);
	b->n_slots = 0;
	if (b->trap_id >= 0)
		glue_untrap(pt->glue, b->trap_id);
	b->trap_id = -1;
	b->virt_gpa = 0;
}

static int bar_trap(void *ctx, uint64_t addr, uint8_t *data, unsigned size, bool wr);

/* Map what may be mapped, trap the whole BAR (mapped pages never exit). */
static int bar_place(struct pt_dev *pt, unsigned idx, uint64_t gpa)
{
	struct pt_bar *b = &pt->bars[idx];
	bar_unplace(pt, b);
	/* All ones (the sizing pattern, PCI 3.0 §6.2.5.1), zero, or beyond 4 GiB:
	 * leave it unplaced until the guest writes a real address. */
	if (!gpa || gpa + b->size > (1ull << 32) || (gpa & (b->size - 1)) ||
	    gpa == (0xffffffffull & ~(b->size - 1)))
		return 0;
	int err = glue_trap(pt->glue, GLUE_MMIO, gpa, b->size, bar_trap, &pt->bars[idx], &b->trap_id);
	if (err)
		return err;
	b->virt_gpa = gpa;
	uint64_t size = page_up(b->size);
	for (uint64_t off = 0; off < size;) {
		if (!page_mappable(pt, b, idx, off)) {
			off += 4096;
			continue;
		}
		uint64_t end = off;
		while (end < size && page_mappable(pt, b, idx, end))
			end += 4096;
		if (b->n_slots < 4 &&
		    glue_map_host_range(pt->glue, gpa + off, (uint8_t *)b->hva + off, end - off,
					false, &b->slots[b->n_slots]) == 0)
			b->n_slots++;
		off = end;
	}
	return 0;
}

/* The guest's table through the trap: any size, DWORD pieces merged (the
 * state machine takes DWORDs), consecutive DWORDs of one entry (a QWORD)
 * handed over as one write. */
static void msix_table_access(struct pt_dev *pt, uint64_t off, uint8_t *data, unsigned size, bool wr)
{
	struct msix_state *st = &pt->msix_state;
	uint32_t dwords[2];
	unsigned nd = 0, first_k = 0, first_dw = 0;
	for (unsigned done = 0; done < size; done += 4) {
		uint64_t o = off + done;
		unsigned n = size - done < 4 ? size - done : 4;
		unsigned k = (unsigned)(o / PCI_MSIX_ENTRY_SIZE), dw = (unsigned)(o % PCI_MSIX_ENTRY_SIZE) / 4;
		uint32_t cur = msix_state_read(st, k, dw);
		if (!wr) {
			glue_put_le(data + done, n, cur >> (8 * (o & 3)));
			continue;
		}
		uint32_t val = (uint32_t)glue_get_le(data + done, n);
		if (n < 4) { /* sub-dword write: merge */
			uint32_t m = (n == 1 ? 0xffu : 0xffffu) << (8 * (o & 3));
			val = (cur & ~m) | ((val << (8 * (o & 3))) & m);
		}
		if (nd == 1 && k == first_k && dw == first_dw + 1) {
			dwords[nd++] = val;
			continue;
		}
		if (nd)
			msix_state_write(st, first_k, first_dw, dwords, nd);
		first_k = k, first_dw = dw, dwords[0] = val, nd = 1;
	}
	if (nd)
		msix_state_write(st, first_k, first_dw, dwords, nd);
}

static void msix_pba_read(struct pt_dev *pt, uint64_t off, uint8_t *data, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		uint8_t byte = 0;
		for (unsigned bit = 0; bit < 8; bit++)
			if (msix_state_pending(&pt->msix_state, (unsigned)(off + i) * 8 + bit))
				byte |= (uint8_t)(1u << bit);
		data[i] = byte;
	}
}
static int bar_trap(void *ctx, uint64_t addr, uint8_t *data, unsigned size, bool wr)
{
	struct pt_bar *b = ctx;
	struct pt_dev *pt = b->pt;
	unsigned idx = b->idx;
	uint64_t off = addr - b->virt_gpa;
	if (pt->msix_cap && idx == pt->msix_table_bar && off >= pt->msix_table_off &&
	    off + size <= (uint64_t)pt->msix_table_off + pt->msix_n * PCI_MSIX_ENTRY_SIZE) {
		msix_table_access(pt, off - pt->msix_table_off, data, size, wr);
		return 0;
	}
	if (pt->msix_cap && idx == pt->msix_pba_bar && off >= pt->msix_pba_off &&
	    off + size <= (uint64_t)pt->msix_pba_off + PCI_MSIX_PBA_BYTES(pt->msix_n)) {
		if (!wr)
			msix_pba_read(pt, off - pt->msix_pba_off, data, size);
		return 0;
	}
	/* Anything else in a trapped page goes to the device (slow path),
	 * inside the region VFIO reported; the rest of a page reads as ones. */
	int err = off + size > b->region.size ? -EINVAL
		: wr ? vfio_dev_region_write(pt->vdev, idx, off, data, size)
		     : vfio_dev_region_read(pt->vdev, idx, off, data, size);
	if (err && !wr)
		memset(data, 0xff, size);
	return 0;
}

/* --- config space ----------------------------------------------------------------- */

static void bar_written(struct pt_dev *pt, unsigned idx)
{
	struct pt_bar *b = &pt->bars[idx];
	if (b->is_upper)
		b = &pt->bars[--idx];
	if (!b->size)
		return;
	uint64_t gpa = cfg_get(pt, PCI_BAR0 + 4 * idx, 4) & ~0xfull;
	if (b->is_64)
		gpa |= (uint64_t)cfg_get(pt, PCI_BAR0 + 4 * (idx + 1), 4) << 32;
	if (gpa != b->virt_gpa)
		bar_place(pt, idx, gpa);
}

static uint32_t pt_cfg_read(struct pci_dev *dev, unsigned off, unsigned size)
{
	struct pt_dev *pt = dev->ctx;
	return pt_config_read(&pt->cfgv, off, size);
}

/* The virtualizer takes the write; a BAR the guest moved is re-placed. */
static void pt_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	struct pt_dev *pt = dev->ctx;
	pt->cfgv.last_error = 0;
	unsigned touched = pt_config_write(&pt->cfgv, off, size, val);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (touched & PT_CFG_W_BAR(i))
			bar_written(pt, i);
	if (pt->cfgv.last_error)
		fprintf(stderr, "vfs-vmm: %s: cannot enable %s: %s\n", vfio_dev_bdf(pt->vdev),
			touched & PT_CFG_W_MSIX ? "MSI-X" : "MSI", strerror(-pt->cfgv.last_error));
}

/* The device's config space through VFIO; a failed read reads as ones. */
static uint32_t vfio_cfg_read(void *ctx, unsigned off, unsigned size)
{
	uint8_t buf[4] = { 0xff, 0xff, 0xff, 0xff };
	if (vfio_dev_cfg_read(ctx, off, buf, size) != 0)
		memset(buf, 0xff, sizeof(buf));
	return (uint32_t)glue_get_le(buf, size);
}

static void vfio_cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	uint8_t buf[4];
	glue_put_le(buf, size, val);
	vfio_dev_cfg_write(ctx, off, buf, size);
}

static const struct pci_dev_ops pt_pci_ops = { pt_cfg_read, pt_cfg_write };

static uint32_t phys_copy_read(void *ctx, unsigned off, unsigned size)
{
	return (uint32_t)glue_get_le((const uint8_t *)ctx + off, size);
}

/* Bytes from `at` to the next capability header above it, or to the end of
 * the 256 bytes: no capability's body may cover another's header. */
static unsigned cap_room(const struct pci_cap *caps, unsigned n, unsigned at)
{
	unsigned end = PCI_CFG_SIZE;
	for (unsigned i = 0; i < n; i++)
		if (caps[i].off > at && caps[i].off < end)
			end = caps[i].off;
	return end - at;
}

static int refuse(struct pt_dev *pt, char *why, size_t why_len, const char *what, unsigned at, unsigned len)
{
	if (why_len)
		snprintf(why, why_len, "%s: its %s capability at 0x%02x (%u bytes) runs past the 256-byte config "
			 "space or into the next capability; the device's config space is inconsistent, it cannot "
			 "be passed through",
			 vfio_dev_bdf(pt->vdev), what, at, len);
	return -EINVAL;
}

/* Keep MSI, MSI-X and PCI Express (the first of each); relink the list
 * around the others.  The walk (pci/pci_cap) is bounded and loop-safe; a
 * kept MSI or MSI-X body must fit in the 256 bytes read and end before the
 * next capability (PCI 3.0 §6.7), or the device is refused: a body past the
 * end would be read from outside `phys` and written outside the shadow, one
 * over another capability would hand the guest that one's bytes. */
static int build_caps(struct pt_dev *pt, const uint8_t *phys, char *why, size_t why_len)
{
	const struct pci_cfg_acc acc = { phys_copy_read, (void *)phys, PCI_CFG_SIZE };
	struct pci_cap_iter it;
	struct pci_cap caps[PCI_CAP_MAX_ENTRIES];
	unsigned n = 0, kept_prev = PCI_CAP_PTR;
	bool pcie_seen = false;
	for (pci_cap_iter_init(&it, &acc, false); n < PCI_CAP_MAX_ENTRIES && pci_cap_next(&it, &caps[n]);)
		n++;
	pt->cfgv.virt[PCI_CAP_PTR] = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct pci_cap c = caps[i];
		unsigned at = c.off, len, room = cap_room(caps, n, at);
		/* at <= 0xfc: the header and Message Control are inside. */
		uint16_t ctl = (uint16_t)glue_get_le(phys + at + 2, 2);
		if (c.id == PCI_CAP_ID_MSIX && !pt->msix_cap) {
			len = PCI_MSIX_CAP_LEN;
			if (len > room)
				return refuse(pt, why, why_len, "MSI-X", at, len);
			uint32_t t = (uint32_t)glue_get_le(phys + at + PCI_MSIX_TABLE, 4);
			uint32_t p = (uint32_t)glue_get_le(phys + at + PCI_MSIX_PBA, 4);
			pt->msix_cap = at;
			pt->msix_n = (ctl & PCI_MSIX_CTRL_SIZE) + 1u;
			if (pt->msix_n > MAX_VEC) {
				if (why_len)
					snprintf(why, why_len, "%s has %u MSI-X vectors, more than the %u supported",
						 vfio_dev_bdf(pt->vdev), pt->msix_n, MAX_VEC);
				return -ENOTSUP;
			}
			/* Every entry masked at reset (§6.8.2.9). */
			msix_state_init(&pt->msix_state, pt->msix_n, &glue_route_ops, &pt->msix_src);
			pt_config_set_msix(&pt->cfgv, at, &pt->msix_state);
			pt->msix_table_bar = t & PCI_MSIX_BIR;
			pt->msix_table_off = t & ~PCI_MSIX_BIR;
			pt->msix_pba_bar = p & PCI_MSIX_BIR;
			pt->msix_pba_off = p & ~PCI_MSIX_BIR;
			memcpy(pt->cfgv.virt + at, phys + at, len);
			/* Message Control is msix_state's: MSI-X off, Function
			 * Mask clear (§6.8.2.3). */
		} else if (c.id == PCI_CAP_ID_MSI && !pt->msi_cap) {
			len = pci_msi_cap_len(ctl);
			if (len > room)
				return refuse(pt, why, why_len, "MSI", at, len);
			pt->msi_cap = at;
			pt->msi_n = 1u << ((ctl >> 1) & 7);
			if (pt->msi_n > MSI_STATE_MAX)
				pt->msi_n = MSI_STATE_MAX;
			memcpy(pt->cfgv.virt + at, phys + at, 2);   /* the rest is msi_state's */
			msi_state_init(&pt->msi_state, ctl, pt->msi_n, &glue_route_ops, &pt->msi_src);
			pt_config_set_msi(&pt->cfgv, at, &pt->msi_state);
		} else if (c.id == PCI_CAP_ID_PCIE && !pcie_seen) {
			/* Version 1 ends at 0x24, version 2 at 0x3c (PCIe 5.0
			 * §7.5.3): live up to the next capability at most. */
			len = room < PCI_EXP_CAP_LEN ? room : PCI_EXP_CAP_LEN;
			pcie_seen = true;
			memcpy(pt->cfgv.virt + at, phys + at, len);
			memset(pt->cfgv.live + at + 2, PT_CFG_LIVE_RD | PT_CFG_LIVE_WR, len - 2); /* live registers */
		} else {
			continue;
		}
		pt->cfgv.virt[kept_prev == PCI_CAP_PTR ? PCI_CAP_PTR : kept_prev + 1] = (uint8_t)at;
		pt->cfgv.virt[at + 1] = 0;
		kept_prev = at;
	}
	if (pt->cfgv.virt[PCI_CAP_PTR])
		pt->cfgv.virt[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return 0;
}

/* The MSI-X table and PBA (PCI 3.0 §6.8.2.4-5) must lie inside memory BARs
 * of the sizes VFIO reports: the offsets are the device's word, the sizes
 * are what the host probed. */
static int msix_check_bars(struct pt_dev *pt, const uint8_t *phys, char *why, size_t why_len)
{
	const struct {
		const char *what;
		unsigned bir;
		uint64_t off, len;
	} s[2] = {
		{ "table", pt->msix_table_bar, pt->msix_table_off, (uint64_t)pt->msix_n * PCI_MSIX_ENTRY_SIZE },
		{ "PBA", pt->msix_pba_bar, pt->msix_pba_off, PCI_MSIX_PBA_BYTES((uint64_t)pt->msix_n) },
	};
	for (unsigned i = 0; pt->msix_cap && i < 2; i++) {
		struct vfio_region r = { 0 };
		uint32_t reg = s[i].bir < PCI_NUM_BARS ? (uint32_t)glue_get_le(phys + PCI_BAR0 + 4 * s[i].bir, 4) : 0;
		if (s[i].bir < PCI_NUM_BARS && !(reg & PCI_BAR_IO) && vfio_dev_region(pt->vdev, s[i].bir, &r) == 0 &&
		    s[i].off + s[i].len <= r.size)
			continue;
		if (why_len)
			snprintf(why, why_len, "%s: its MSI-X %s (BAR%u + 0x%llx, %llu bytes) lies outside the "
				 "%llu-byte memory BAR VFIO reports; the device cannot be passed through",
				 vfio_dev_bdf(pt->vdev), s[i].what, s[i].bir, (unsigned long long)s[i].off,
				 (unsigned long long)s[i].len, (unsigned long long)r.size);
		return -EINVAL;
	}
	return 0;
}

static int setup_bars(struct pt_dev *pt, const uint8_t *phys, char *why, size_t why_len)
{
	for (unsigned i = 0; i < 6; i++) {
		struct pt_bar *b = &pt->bars[i];
		b->trap_id = -1;
		if (b->is_upper)
			continue;
		uint32_t reg;
		memcpy(&reg, phys + PCI_BAR0 + 4 * i, 4);
		if (vfio_dev_region(pt->vdev, i, &b->region) != 0 || !b->region.size)
			continue;
		if (reg & PCI_BAR_IO) {
			/* I/O BARs are not given to the guest (VFs have none). */
			fprintf(stderr, "vfs-vmm: %s: I/O BAR %u hidden from the guest\n",
				vfio_dev_bdf(pt->vdev), i);
			continue;
		}
		b->size = b->region.size < 4096 ? 4096 : b->region.size;
		if (b->size & (b->size - 1))
			continue;
		b->is_64 = (reg & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
		b->low_bits = reg & (PCI_BAR_TYPE_64 | PCI_BAR_PREFETCH);
		if (b->is_64 && i < 5)
			pt->bars[i + 1].is_upper = true;
		if (b->region.flags & VFIO_REGION_INFO_FLAG_MMAP) {
			void *hva;
			if (vfio_dev_region_mmap(pt->vdev, i, 0, page_up(b->region.size), &hva) == 0) {
				b->hva = hva;
				b->mmap_len = page_up(b->region.size);
			}
		}
		uint64_t gpa;
		int err = pci_bus_alloc_mmio(pt->bus, b->size, &gpa);
		if (err) {
			if (why_len)
				snprintf(why, why_len, "no guest address space left for BAR %u of %s", i,
					 vfio_dev_bdf(pt->vdev));
			return err;
		}
		cfg_set(pt, PCI_BAR0 + 4 * i, 4, (uint32_t)gpa | b->low_bits);
		mask_set(pt, PCI_BAR0 + 4 * i, 4, (uint32_t)~(b->size - 1) & ~0xfu);
		if (b->is_64) {
			cfg_set(pt, PCI_BAR0 + 4 * (i + 1), 4, (uint32_t)(gpa >> 32));
			mask_set(pt, PCI_BAR0 + 4 * (i + 1), 4, 0xffffffff);
		}
		err = bar_place(pt, i, gpa);
		if (err) {
			if (why_len)
				snprintf(why, why_len, "cannot map BAR %u of %s into the guest: %s", i,
					 vfio_dev_bdf(pt->vdev), strerror(-err));
			return err;
		}
	}
	return 0;
}

int pt_dev_create(struct glue *g, struct pci_bus *bus, struct vfio_dev *vdev,
		  struct pt_dev **out, char *why, size_t why_len)
{
	struct pt_dev *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->glue = g;
	pt->bus = bus;
	pt->vdev = vdev;
	pt->pci = (struct pci_dev){ &pt_pci_ops, pt };
	const struct pt_config_phys cfg_phys = { vfio_cfg_read, vfio_cfg_write, vdev };
	pt_config_init(&pt->cfgv, &cfg_phys, 0);
	for (unsigned i = 0; i < MAX_VEC; i++)
		pt->msix[i].host_efd = -1;
	for (unsigned i = 0; i < MSI_STATE_MAX; i++)
		pt->msi[i].host_efd = -1;
	pt->msix_src = (struct pt_src){ pt, pt->msix, VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X" };
	pt->msi_src = (struct pt_src){ pt, pt->msi, VFIO_PCI_MSI_IRQ_INDEX, "MSI" };
	for (unsigned i = 0; i < 6; i++) {
		pt->bars[i].trap_id = -1;
		pt->bars[i].pt = pt;
		pt->bars[i].idx = i;
	}

	uint8_t phys[256];
	int err = vfio_dev_cfg_read(vdev, 0, phys, sizeof(phys));
	if (err) {
		if (why_len)
			snprintf(why, why_len, "cannot read the config space of %s", vfio_dev_bdf(vdev));
		free(pt);
		return err;
	}
	/* Header: identity from the device (VFIO fills in a VF's IDs). */
	memcpy(pt->cfgv.virt, phys, 0x40);
	cfg_set(pt, PCI_COMMAND, 2, 0);
	cfg_set(pt, PCI_STATUS, 2, 0);
	pt->cfgv.virt[PCI_HEADER_TYPE] = 0;      /* type 0, single function */
	memset(pt->cfgv.virt + PCI_BAR0, 0, 24);
	cfg_set(pt, PCI_ROM_ADDRESS, 4, 0);          /* no expansion ROM */
	pt->cfgv.virt[PCI_INTERRUPT_LINE] = 0;
	mask_set(pt, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE |
		 PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
	mask_set(pt, PCI_CACHE_LINE_SIZE, 2, 0xffff);    /* cache line size, latency timer */
	mask_set(pt, PCI_INTERRUPT_LINE, 1, 0xff);
	err = build_caps(pt, phys, why, why_len);
	if (!err)
		err = msix_check_bars(pt, phys, why, why_len);
	if (err)
		goto fail;
	err = setup_bars(pt, phys, why, why_len);
	if (err)
		goto fail;
	err = pci_bus_add(bus, &pt->pci, &pt->devfn);
	if (err) {
		if (why_len)
			snprintf(why, why_len, "no free PCI slot in the guest");
		goto fail;
	}
	*out = pt;
	return 0;
fail:
	pt_dev_destroy(pt);
	return err;
}

void pt_dev_destroy(struct pt_dev *pt)
{
	if (!pt)
		return;
	if (pt->devfn)
		pci_bus_remove(pt->bus, pt->devfn);
	if (pt->msix_cap)
		msix_state_off(&pt->msix_state);
	if (pt->msi_cap)
		msi_state_off(&pt->msi_state);
	for (unsigned i = 0; i < 6; i++) {
		struct pt_bar *b = &pt->bars[i];
		bar_unplace(pt, b);
		if (b->hva)
			munmap(b->hva, b->mmap_len);
	}
	/* Leave the device quiet: no bus mastering, reset. */
	uint16_t cmd = 0;
	vfio_dev_cfg_write(pt->vdev, PCI_COMMAND, &cmd, 2);
	vfio_dev_reset(pt->vdev);
	free(pt);
}

unsigned pt_dev_devfn(const struct pt_dev *pt) { return pt->devfn; }
uint64_t pt_dev_bar_gpa(const struct pt_dev *pt, unsigned bar) { return bar < 6 ? pt->bars[bar].virt_gpa : 0; }
unsigned pt_dev_msix_vectors(const struct pt_dev *pt) { return pt->msix_n; }
