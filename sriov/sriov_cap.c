/*
 * sriov_cap.c — SR-IOV capability arithmetic (freestanding).  See sriov_cap.h.
 */
#include "sriov/sriov_cap.h"

#include "pci/pci_cap.h"

/* PCIe 5.0 §7.6: extended capabilities start at 0x100 in a 4 KiB space. */
#define EXT_CAP_START 0x100u
#define CFG_SPACE_SIZE 0x1000u
/* §7.6.3 extended capability header: version [19:16] (the walk: pci/pci_cap). */
#define EXT_HDR_VER(h) ((uint8_t)(((h) >> 16) & 0xFu))

/* §7.5.1.2.1 Base Address Register bits for memory BARs. */
#define BAR_IO_SPACE (1u << 0)
#define BAR_TYPE_MASK (3u << 1)
#define BAR_TYPE_64 (2u << 1)
#define BAR_PREFETCH (1u << 3)
#define BAR_MEM_FLAGS 0xFu

/* §7.5.1.1 / §7.5.1.2 type 0 header offsets a VF view overrides. */
#define CFG_VENDOR_ID 0x00u
#define CFG_DEVICE_ID 0x02u
#define CFG_BAR0 0x10u
#define CFG_INT_PIN 0x3Du

static uint32_t cfg_read16(const struct sriov_cfg_ops *cfg, uint16_t off)
{
	uint32_t dw = cfg->read32(cfg->ctx, (uint16_t)(off & ~3u));
	return (dw >> ((off & 2u) * 8u)) & 0xFFFFu;
}

static uint32_t cfg_read8(const struct sriov_cfg_ops *cfg, uint16_t off)
{
	uint32_t dw = cfg->read32(cfg->ctx, (uint16_t)(off & ~3u));
	return (dw >> ((off & 3u) * 8u)) & 0xFFu;
}

static uint32_t acc_read(void *ctx, unsigned off, unsigned size)
{
	const struct sriov_cfg_ops *cfg = ctx;
	if (size == 4)
		return cfg->read32(cfg->ctx, (uint16_t)off);
	return size == 2 ? cfg_read16(cfg, (uint16_t)off) : cfg_read8(cfg, (uint16_t)off);
}

/* The walk is pci/pci_cap's (bounded, loop-safe); its errors are ours. */
int sriov_ext_cap_find(const struct sriov_cfg_ops *cfg, uint16_t id, uint16_t *pos)
{
	if (!cfg || !cfg->read32 || !pos)
		return -PORT_EINVAL;
	const struct pci_cfg_acc acc = { acc_read, (void *)cfg, PCIE_CFG_SIZE };
	struct pci_cap c;
	int err = pci_ext_cap_find(&acc, id, &c);
	if (!err)
		*pos = (uint16_t)c.off;
	return err;
}

int sriov_cap_find(const struct sriov_cfg_ops *cfg, uint16_t *pos)
{
	uint16_t at = 0;
	int err = sriov_ext_cap_find(cfg, SRIOV_EXT_CAP_ID, &at);
	if (err)
		return err;
	/* Every register sriov_cap_read and the VF BAR sizing touch must lie
	 * inside the config space, or the accessor is asked for bytes past it. */
	if (at + SRIOV_CAP_SIZE > CFG_SPACE_SIZE)
		return -PORT_EIO;
	*pos = at;
	return 0;
}

int sriov_cap_read(const struct sriov_cfg_ops *cfg, struct sriov_cap *cap)
{
	if (!cap)
		return -PORT_EINVAL;
	uint16_t pos;
	int err = sriov_cap_find(cfg, &pos);
	if (err)
		return err;
	*cap = (struct sriov_cap){ 0 };
	cap->pos = pos;
	cap->version = EXT_HDR_VER(cfg->read32(cfg->ctx, pos));
	cap->caps = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_CAP));
	cap->ctrl = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_CTRL));
	cap->initial_vfs = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_INITIAL_VFS));
	cap->total_vfs = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_TOTAL_VFS));
	cap->num_vfs = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_NUM_VFS));
	cap->fdl = (uint8_t)cfg_read8(cfg, (uint16_t)(pos + SRIOV_REG_FDL));
	cap->vf_offset = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_VF_OFFSET));
	cap->vf_stride = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_VF_STRIDE));
	cap->vf_device_id = (uint16_t)cfg_read16(cfg, (uint16_t)(pos + SRIOV_REG_VF_DEVICE));
	cap->supported_pgsz = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_SUPP_PGSZ));
	cap->system_pgsz = cfg->read32(cfg->ctx, (uint16_t)(pos + SRIOV_REG_SYS_PGSZ));
	cap->vf_enable = (cap->ctrl & SRIOV_CTRL_VF_ENABLE) != 0;
	cap->ari_hierarchy = (cap->ctrl & SRIOV_CTRL_ARI_HIERARCHY) != 0;
	cap->ari_preserved = (cap->caps & SRIOV_CAP_ARI_PRESERVED) != 0;
	return 0;
}

uint64_t sriov_cap_page_size(const struct sriov_cap *cap)
{
	uint32_t p = cap->system_pgsz;
	/* §9.3.3.13: exactly one bit, and one the PF supports (§9.3.3.12). */
	if (p == 0 || (p & (p - 1u)) != 0 || (p & cap->supported_pgsz) == 0)
		return 0;
	unsigned n = 0;
	while (!(p & 1u)) {
		p >>= 1;
		n++;
	}
	return (uint64_t)1 << (n + 12u);
}

/* The number of VFs the arithmetic may address: NumVFs when set, otherwise
 * TotalVFs (what enabling all of them would give).  -PORT_EIO when NumVFs
 * exceeds TotalVFs (§9.3.3.7: the device's behaviour is then undefined). */
static int vf_count(const struct sriov_cap *cap, uint16_t *n)
{
	if (cap->num_vfs > cap->total_vfs)
		return -PORT_EIO;
	*n = cap->num_vfs ? cap->num_vfs : cap->total_vfs;
	return 0;
}

/* Copies of a VF BAR the PF's VF BARn spans: TotalVFs (§9.3.3.14: the
 * region is sized for TotalVFs), or NumVFs if a device claims more. */
static uint16_t bar_copies(const struct sriov_cap *cap)
{
	return cap->num_vfs > cap->total_vfs ? cap->num_vfs : cap->total_vfs;
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1u)) == 0;
}

int sriov_vf_rid(const struct sriov_cap *cap, uint16_t pf_rid, uint16_t vf_index,
		 uint16_t *vf_rid)
{
	if (!cap || !vf_rid)
		return -PORT_EINVAL;
	uint16_t count;
	int err = vf_count(cap, &count);
	if (err)
		return err;
	if (vf_index >= count)
		return -PORT_ERANGE;
	/* §9.3.3.10: VF Stride may be 0 only when at most one VF exists. */
	if (cap->vf_stride == 0 && vf_index > 0)
		return -PORT_EINVAL;
	if (cap->vf_offset == 0)
		return -PORT_EINVAL; /* §9.3.3.9: a VF is never the PF itself */
	uint32_t rid = (uint32_t)pf_rid + cap->vf_offset + (uint32_t)vf_index * cap->vf_stride;
	if (rid > 0xFFFFu)
		return -PORT_ERANGE;
	*vf_rid = (uint16_t)rid;
	return 0;
}

int sriov_vf_last_bus(const struct sriov_cap *cap, uint16_t pf_rid, uint16_t num_vfs)
{
	if (!cap || num_vfs == 0)
		return -PORT_EINVAL;
	if (num_vfs > cap->total_vfs)
		return -PORT_ERANGE;
	struct sriov_cap c = *cap;
	c.num_vfs = num_vfs;
	uint16_t rid;
	int err = sriov_vf_rid(&c, pf_rid, (uint16_t)(num_vfs - 1u), &rid);
	return err ? err : (int)(rid >> 8);
}

int sriov_vf_bar_decode(uint32_t val_lo, uint32_t val_hi, uint32_t mask_lo,
			uint32_t mask_hi, struct sriov_vf_bar *bar)
{
	if (!bar)
		return -PORT_EINVAL;
	*bar = (struct sriov_vf_bar){ 0 };
	if (mask_lo == 0)
		return 0; /* not implemented */
	/* §9.3.3.14: VF BARs are memory BARs; I/O space is not allowed. */
	if (mask_lo & BAR_IO_SPACE)
		return -PORT_EIO;
	uint32_t type = mask_lo & BAR_TYPE_MASK;
	if (type != 0 && type != BAR_TYPE_64)
		return -PORT_EIO;
	bar->is_64bit = type == BAR_TYPE_64;
	bar->prefetchable = (mask_lo & BAR_PREFETCH) != 0;
	uint64_t mask = mask_lo & ~(uint64_t)BAR_MEM_FLAGS;
	uint64_t base = val_lo & ~(uint64_t)BAR_MEM_FLAGS;
	if (bar->is_64bit) {
		mask |= (uint64_t)mask_hi << 32;
		base |= (uint64_t)val_hi << 32;
	} else {
		mask |= 0xFFFFFFFF00000000ull; /* upper bits read as if hard-wired */
	}
	if (mask == 0)
		return -PORT_EIO;
	bar->size = ~mask + 1u;
	/* The writable bits must be contiguous from the top (size a power of 2). */
	if (bar->size & (bar->size - 1u))
		return -PORT_EIO;
	bar->base = base;
	return 0;
}

int sriov_vf_bars_probe(const struct sriov_cfg_ops *cfg, const struct sriov_cap *cap,
			struct sriov_vf_bar bars[SRIOV_NUM_BARS])
{
	if (!cfg || !cfg->read32 || !cap || !bars)
		return -PORT_EINVAL;
	if (!cfg->write32)
		return -PORT_ENOTSUP;
	for (unsigned n = 0; n < SRIOV_NUM_BARS; n++)
		bars[n] = (struct sriov_vf_bar){ 0 };
	for (unsigned n = 0; n < SRIOV_NUM_BARS; n++) {
		uint16_t lo_off = (uint16_t)(cap->pos + SRIOV_REG_VF_BAR0 + 4u * n);
		uint32_t lo = cfg->read32(cfg->ctx, lo_off);
		cfg->write32(cfg->ctx, lo_off, 0xFFFFFFFFu);
		uint32_t mlo = cfg->read32(cfg->ctx, lo_off);
		cfg->write32(cfg->ctx, lo_off, lo);
		uint32_t hi = 0, mhi = 0;
		bool wide = (mlo & BAR_TYPE_MASK) == BAR_TYPE_64 && !(mlo & BAR_IO_SPACE);
		if (wide) {
			if (n + 1 >= SRIOV_NUM_BARS)
				return -PORT_EIO; /* a 64-bit BAR5 has no upper half */
			uint16_t hi_off = (uint16_t)(lo_off + 4u);
			hi = cfg->read32(cfg->ctx, hi_off);
			cfg->write32(cfg->ctx, hi_off, 0xFFFFFFFFu);
			mhi = cfg->read32(cfg->ctx, hi_off);
			cfg->write32(cfg->ctx, hi_off, hi);
		}
		int err = sriov_vf_bar_decode(lo, hi, mlo, mhi, &bars[n]);
		/* Every VF's copy must be addressable: TotalVFs copies of the
		 * BAR from its base, in 64 bits (32 for a 32-bit BAR). */
		uint64_t span;
		if (!err && bars[n].size)
			err = sriov_vf_bar_span(&bars[n], bar_copies(cap), &span);
		if (err) {
			for (unsigned k = 0; k < SRIOV_NUM_BARS; k++)
				bars[k] = (struct sriov_vf_bar){ 0 };
			return err;
		}
		if (wide)
			n++; /* bars[n] (the upper half) stays zero */
	}
	return 0;
}

/* sriov_vf_bar_span for up to 65536 copies (so VF 65535's end is checked). */
static int bar_span(const struct sriov_vf_bar *bar, uint32_t count, uint64_t *bytes)
{
	if (!bar || !bytes || !is_pow2(bar->size) || (bar->base & (bar->size - 1u)))
		return -PORT_EINVAL;
	if (count && bar->size > UINT64_MAX / count)
		return -PORT_ERANGE; /* size x count past 2^64 */
	uint64_t span = bar->size * count;
	/* The last byte, base + span - 1, must not wrap (nor pass 4 GiB for a
	 * 32-bit BAR, §7.5.1.2.1). */
	uint64_t limit = bar->is_64bit ? UINT64_MAX : 0xFFFFFFFFull;
	if (span && (bar->base > limit || span - 1u > limit - bar->base))
		return -PORT_ERANGE;
	*bytes = span;
	return 0;
}

int sriov_vf_bar_span(const struct sriov_vf_bar *bar, uint16_t count, uint64_t *bytes)
{
	return bar_span(bar, count, bytes);
}

int sriov_vf_bar_addr(const struct sriov_vf_bar *bar, uint16_t vf_index, uint64_t *addr)
{
	uint64_t span;
	if (!bar || !addr)
		return -PORT_EINVAL;
	/* VF vf_index's copy is the last of the first vf_index + 1 copies. */
	int err = bar_span(bar, (uint32_t)vf_index + 1u, &span);
	if (err)
		return err;
	*addr = bar->base + (uint64_t)vf_index * bar->size;
	return 0;
}

/* --- VF config view ------------------------------------------------------ */

int sriov_vf_view_init(struct sriov_vf_view *view, uint16_t pf_vendor_id,
		       const struct sriov_cap *cap,
		       const struct sriov_vf_bar bars[SRIOV_NUM_BARS], uint16_t vf_index)
{
	if (!view || !cap || !bars)
		return -PORT_EINVAL;
	*view = (struct sriov_vf_view){ 0 };
	uint16_t count;
	int err = vf_count(cap, &count);
	if (err)
		return err;
	if (vf_index >= count)
		return -PORT_ERANGE;
	for (unsigned n = 0; n < SRIOV_NUM_BARS; n++)
		if (bars[n].size && bars[n].is_64bit && n + 1 >= SRIOV_NUM_BARS)
			return -PORT_EINVAL; /* a 64-bit BAR5 has no upper half */
	view->vendor_id = pf_vendor_id;
	view->device_id = cap->vf_device_id;
	for (unsigned n = 0; n < SRIOV_NUM_BARS; n++) {
		const struct sriov_vf_bar *b = &bars[n];
		if (b->size == 0)
			continue;
		uint64_t addr;
		err = sriov_vf_bar_addr(b, vf_index, &addr);
		if (err) {
			*view = (struct sriov_vf_view){ 0 };
			return err;
		}
		uint32_t flags = (b->is_64bit ? BAR_TYPE_64 : 0u) | (b->prefetchable ? BAR_PREFETCH : 0u);
		view->bar_flags[n] = flags;
		view->bar_size[n] = b->size;
		view->virt_bar[n] = (uint32_t)(addr & 0xFFFFFFF0u) | flags;
		if (b->is_64bit) {
			view->bar_is_hi[n + 1] = true;
			view->bar_size[n + 1] = b->size;
			view->virt_bar[n + 1] = (uint32_t)(addr >> 32);
			n++;
		}
	}
	return 0;
}

/* The dword the guest sees at an aligned offset. */
static uint32_t view_dword(const struct sriov_vf_view *view, uint16_t dw_off, uint32_t raw)
{
	if (dw_off == CFG_VENDOR_ID)
		return (uint32_t)view->vendor_id | ((uint32_t)view->device_id << 16);
	if (dw_off >= CFG_BAR0 && dw_off < CFG_BAR0 + 4u * SRIOV_NUM_BARS)
		return view->virt_bar[(dw_off - CFG_BAR0) / 4u];
	if (dw_off == (CFG_INT_PIN & ~3u))
		return raw & ~(0xFFu << 8); /* interrupt pin 0: VFs have no INTx */
	return raw;
}

uint32_t sriov_vf_view_read(const struct sriov_vf_view *view, uint16_t off,
			    unsigned size, uint32_t raw)
{
	if (!view || (size != 1 && size != 2 && size != 4) || (off & (size - 1u)))
		return 0xFFFFFFFFu;
	unsigned shift = (off & 3u) * 8u;
	/* `raw` is the sub-dword value; place it in the dword before merging. */
	uint32_t dw = view_dword(view, (uint16_t)(off & ~3u), raw << shift);
	uint32_t mask = size == 4 ? 0xFFFFFFFFu : ((1u << (size * 8u)) - 1u);
	return (dw >> shift) & mask;
}

bool sriov_vf_view_write(struct sriov_vf_view *view, uint16_t off, unsigned size,
			 uint32_t val)
{
	if (!view || off < CFG_BAR0 || off >= CFG_BAR0 + 4u * SRIOV_NUM_BARS)
		return false;
	unsigned n = (off - CFG_BAR0) / 4u;
	if (size != 4 || (off & 3u))
		return true;
	if (view->bar_size[n] == 0) {
		view->virt_bar[n] = 0; /* unimplemented BARs are read-only zero */
		return true;
	}
	uint64_t mask = ~(view->bar_size[n] - 1u);
	if (view->bar_is_hi[n])
		view->virt_bar[n] = val & (uint32_t)(mask >> 32);
	else
		view->virt_bar[n] = (val & (uint32_t)mask & 0xFFFFFFF0u) | view->bar_flags[n];
	return true;
}

uint64_t sriov_vf_view_bar_addr(const struct sriov_vf_view *view, unsigned bar)
{
	if (!view || bar >= SRIOV_NUM_BARS || view->bar_size[bar] == 0 || view->bar_is_hi[bar])
		return 0;
	uint64_t addr = view->virt_bar[bar] & 0xFFFFFFF0u;
	if ((view->bar_flags[bar] & BAR_TYPE_MASK) == BAR_TYPE_64 && bar + 1 < SRIOV_NUM_BARS)
		addr |= (uint64_t)view->virt_bar[bar + 1] << 32;
	return addr;
}
