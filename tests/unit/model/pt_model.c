/*
 * pt_model.c — stand-ins for VFIO and the core under vmm_glue/dev/passthrough.c.
 * See pt_model.h.
 */
#include "tests/unit/model/pt_model.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci_regs.h"

static void violated(struct pt_model *m, const char *fmt, ...)
{
	if (!m->violations++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->violation, sizeof(m->violation), fmt, ap);
		va_end(ap);
	}
}

/* --- VFIO ------------------------------------------------------------------ */

const char *vfio_dev_bdf(const struct vfio_dev *dev)
{
	(void)dev;
	return "0000:00:12.0";
}

int vfio_dev_cfg_read(struct vfio_dev *dev, unsigned off, void *buf, size_t len)
{
	struct pt_model *m = dev->m;
	if (off + len > m->cfg_size) {
		violated(m, "config read of %zu bytes at 0x%x, past the %u-byte config space", len, off, m->cfg_size);
		return -EINVAL;
	}
	memcpy(buf, m->cfg + off, len);
	return 0;
}

int vfio_dev_cfg_write(struct vfio_dev *dev, unsigned off, const void *buf, size_t len)
{
	struct pt_model *m = dev->m;
	if (off + len > m->cfg_size) {
		violated(m, "config write of %zu bytes at 0x%x, past the %u-byte config space", len, off, m->cfg_size);
		return -EINVAL;
	}
	uint16_t before = pt_model_command(m);
	memcpy(m->cfg + off, buf, len);
	uint16_t after = pt_model_command(m);
	if (after & ~before & ~m->cmd_allowed)
		violated(m, "COMMAND 0x%04x -> 0x%04x: bits 0x%04x the filter forbids reached the device", before,
			 after, after & ~before & ~m->cmd_allowed);
	m->cfg_writes++;
	return 0;
}

int vfio_dev_region(struct vfio_dev *dev, unsigned index, struct vfio_region *out)
{
	if (index >= 6)
		return -EINVAL;
	*out = (struct vfio_region){ .index = index, .size = dev->m->region_size[index] };
	return 0;
}

int vfio_dev_region_mmap(struct vfio_dev *dev, unsigned index, uint64_t off, uint64_t len, void **addr)
{
	(void)dev, (void)index, (void)off, (void)len, (void)addr;
	return -EINVAL; /* every BAR page traps: each access is seen */
}

static int region_access(struct vfio_dev *dev, unsigned index, uint64_t off, void *buf, size_t len, bool wr)
{
	struct pt_model *m = dev->m;
	if (index >= 6 || off + len > m->region_size[index] || off + len > PT_MODEL_BAR_MAX) {
		violated(m, "BAR%u %s of %zu bytes at 0x%llx, past the %llu-byte region", index, wr ? "write" : "read",
			 len, (unsigned long long)off, (unsigned long long)(index < 6 ? m->region_size[index] : 0));
		return -EINVAL;
	}
	if (wr) {
		memcpy(m->bar[index] + off, buf, len);
		m->region_writes++;
	} else {
		memcpy(buf, m->bar[index] + off, len);
	}
	return 0;
}

int vfio_dev_region_read(struct vfio_dev *dev, unsigned index, uint64_t off, void *buf, size_t len)
{
	return region_access(dev, index, off, buf, len, false);
}

int vfio_dev_region_write(struct vfio_dev *dev, unsigned index, uint64_t off, const void *buf, size_t len)
{
	return region_access(dev, index, off, (void *)buf, len, true);
}

int vfio_dev_irq_set_eventfds(struct vfio_dev *dev, unsigned index, unsigned start, unsigned count, const int *fds)
{
	(void)dev, (void)index, (void)start, (void)count, (void)fds;
	return 0;
}

int vfio_dev_irq_disable(struct vfio_dev *dev, unsigned index)
{
	(void)dev, (void)index;
	return 0;
}

int vfio_dev_reset(struct vfio_dev *dev)
{
	(void)dev;
	return 0;
}

int vfio_dma_map(struct vfio_iommu *iommu, void *vaddr, uint64_t iova, uint64_t size, uint64_t *memlock_needed)
{
	(void)iommu, (void)vaddr, (void)iova, (void)size, (void)memlock_needed;
	return 0;
}

int vfio_dma_unmap(struct vfio_iommu *iommu, uint64_t iova, uint64_t size)
{
	(void)iommu, (void)iova, (void)size;
	return 0;
}

/* --- the core --------------------------------------------------------------- */

#define MODEL(g) ((struct pt_model *)((char *)(g) - offsetof(struct pt_model, glue)))

static int ram_regions(struct glue *g, const struct glue_ram_region **r, size_t *n)
{
	(void)g;
	*r = NULL;
	*n = 0;
	return 0;
}

static int map_host_range(struct glue *g, uint64_t gpa, void *hva, uint64_t size, bool ro, int *slot)
{
	(void)g, (void)gpa, (void)hva, (void)size, (void)ro, (void)slot;
	return -ENOTSUP; /* never asked: no region is mmapped */
}

static int unmap_host_range(struct glue *g, int slot)
{
	(void)g, (void)slot;
	return 0;
}

static int trap(struct glue *g, enum glue_space space, uint64_t base, uint64_t len, glue_trap_fn fn, void *ctx,
		int *id)
{
	struct pt_model *m = MODEL(g);
	for (int i = 0; i < PT_MODEL_TRAPS; i++)
		if (!m->traps[i].used) {
			m->traps[i].used = true;
			m->traps[i].space = space;
			m->traps[i].base = base;
			m->traps[i].len = len;
			m->traps[i].fn = fn;
			m->traps[i].ctx = ctx;
			*id = i;
			return 0;
		}
	return -ENOSPC;
}

static int untrap(struct glue *g, int id)
{
	struct pt_model *m = MODEL(g);
	if (id < 0 || id >= PT_MODEL_TRAPS)
		return -EINVAL;
	m->traps[id].used = false;
	return 0;
}

static int deliver_msi(struct glue *g, uint64_t a, uint32_t d)
{
	(void)g, (void)a, (void)d;
	return 0;
}

struct glue_msi_route {
	int efd;
};

static int route_add(struct glue *g, int efd, uint64_t a, uint32_t d, bool masked, struct glue_msi_route **r)
{
	(void)a, (void)d, (void)masked;
	*r = calloc(1, sizeof(**r));
	if (!*r)
		return -ENOMEM;
	(*r)->efd = efd;
	MODEL(g)->routes++;
	return 0;
}

static int route_update(struct glue *g, struct glue_msi_route *r, uint64_t a, uint32_t d, bool masked)
{
	(void)g, (void)r, (void)a, (void)d, (void)masked;
	return 0;
}

static void route_del(struct glue *g, struct glue_msi_route *r)
{
	MODEL(g)->routes--;
	free(r);
}

/* As the KVM core: the route's host source is the eventfd VFIO signals. */
static bool route_pending(struct glue *g, struct glue_msi_route *r)
{
	(void)g;
	struct pollfd p = { .fd = r->efd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int set_irq_line(struct glue *g, unsigned gsi, bool level)
{
	(void)g, (void)gsi, (void)level;
	return 0;
}

static const struct glue_ops model_ops = {
	.ram_regions = ram_regions, .map_host_range = map_host_range, .unmap_host_range = unmap_host_range,
	.trap = trap, .untrap = untrap, .deliver_msi = deliver_msi, .msi_route_add = route_add,
	.msi_route_update = route_update, .msi_route_del = route_del, .msi_route_pending = route_pending,
	.set_irq_line = set_irq_line,
};

void pt_model_init(struct pt_model *m)
{
	memset(m, 0, sizeof(*m));
	m->glue.ops = &model_ops;
	m->vdev.m = m;
	m->cfg_size = PCI_CFG_SIZE;
	m->cfg[0] = 0x86, m->cfg[1] = 0x80, m->cfg[2] = 0xca, m->cfg[3] = 0x10;
	m->cmd_allowed = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
}

int pt_model_plug(struct pt_model *m, char *why, size_t why_len)
{
	int err = pci_bus_create(&m->glue, PT_MODEL_MMIO_BASE, PT_MODEL_MMIO_SIZE, &m->bus);
	if (err)
		return err;
	err = pt_dev_create(&m->glue, m->bus, &m->vdev, &m->pt, why, why_len);
	if (err) {
		pci_bus_destroy(m->bus);
		m->bus = NULL;
		m->pt = NULL;
	}
	return err;
}

void pt_model_unplug(struct pt_model *m)
{
	if (m->pt)
		pt_dev_destroy(m->pt);
	if (m->bus)
		pci_bus_destroy(m->bus);
	m->pt = NULL;
	m->bus = NULL;
}

static bool model_access(struct pt_model *m, enum glue_space space, uint64_t addr, unsigned size, bool wr, uint8_t *data)
{
	for (int i = 0; i < PT_MODEL_TRAPS; i++)
		if (m->traps[i].used && m->traps[i].space == space && addr >= m->traps[i].base &&
		    addr + size <= m->traps[i].base + m->traps[i].len) {
			m->traps[i].fn(m->traps[i].ctx, addr, data, size, wr);
			return true;
		}
	return false;
}

static void select_reg(struct pt_model *m, unsigned off)
{
	uint8_t a[4];
	glue_put_le(a, 4, 0x80000000u | pt_dev_devfn(m->pt) << 8 | (off & 0xfc));
	model_access(m, GLUE_PIO, 0xcf8, 4, true, a);
}

uint32_t pt_model_cfg_read(struct pt_model *m, unsigned off, unsigned size)
{
	uint8_t d[4] = { 0 };
	select_reg(m, off);
	model_access(m, GLUE_PIO, 0xcfc + (off & 3), size, false, d);
	return (uint32_t)glue_get_le(d, size);
}

void pt_model_cfg_write(struct pt_model *m, unsigned off, unsigned size, uint32_t val)
{
	uint8_t d[4];
	glue_put_le(d, size, val);
	select_reg(m, off);
	model_access(m, GLUE_PIO, 0xcfc + (off & 3), size, true, d);
}

bool pt_model_mmio(struct pt_model *m, uint64_t gpa, unsigned size, bool wr, uint64_t *val)
{
	uint8_t d[8] = { 0 };
	if (wr)
		glue_put_le(d, size, *val);
	if (!model_access(m, GLUE_MMIO, gpa, size, wr, d))
		return false;
	if (!wr)
		*val = glue_get_le(d, size);
	return true;
}

uint16_t pt_model_command(const struct pt_model *m)
{
	return (uint16_t)(m->cfg[PCI_COMMAND] | m->cfg[PCI_COMMAND + 1] << 8);
}
