/*
 * pci_bus.c — bus 0 behind configuration mechanism #1 and the host bridge.
 */
#include "vmm_glue/dev/pci_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* CONFIG_ADDRESS (PCI 3.0 §3.2.2.3.2): bit 31 enable, 23:16 bus, 15:11
 * device, 10:8 function, 7:2 register. */
#define CFG_ADDR_PORT 0xcf8
#define CFG_DATA_PORT 0xcfc
#define CFG_ENABLE (1u << 31)
#define CFG_BUS(a) (((a) >> 16) & 0xff)
#define CFG_DEVFN(a) (((a) >> 8) & 0xff)
#define CFG_REG(a) ((a) & 0xfc)

#define MAX_SLOTS 32

struct pci_bus {
	struct glue *glue;
	uint32_t cfg_addr;
	uint64_t mmio_next, mmio_end;
	struct pci_dev *slots[MAX_SLOTS];
	struct pci_dev host_bridge;
	uint8_t hb_cfg[256];
	int trap_addr, trap_data;
};

/* The host bridge: header type 0, class 06/00/00 (PCI 3.0 Appendix D). */
static uint32_t hb_read(struct pci_dev *dev, unsigned off, unsigned size)
{
	struct pci_bus *bus = dev->ctx;
	uint32_t v = 0;
	memcpy(&v, bus->hb_cfg + off, size);
	return v;
}

static void hb_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	(void)dev; (void)off; (void)size; (void)val; /* read-only */
}

static const struct pci_dev_ops hb_ops = { hb_read, hb_write };

static struct pci_dev *target(struct pci_bus *bus, unsigned *reg)
{
	uint32_t a = bus->cfg_addr;
	if (!(a & CFG_ENABLE) || CFG_BUS(a) != 0 || (CFG_DEVFN(a) & 7) != 0)
		return NULL;
	*reg = CFG_REG(a);
	return bus->slots[CFG_DEVFN(a) >> 3];
}

static int cfg_addr_trap(void *ctx, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct pci_bus *bus = ctx;
	if (port != CFG_ADDR_PORT || size != 4) {
		/* 0xCF9 (reset control) and byte accesses are not CONFIG_ADDRESS. */
		if (!is_write)
			memset(data, 0, size);
		return 0;
	}
	if (is_write)
		bus->cfg_addr = (uint32_t)glue_get_le(data, 4);
	else
		glue_put_le(data, 4, bus->cfg_addr);
	return 0;
}

static int cfg_data_trap(void *ctx, uint64_t port, uint8_t *data, unsigned size, bool is_write)
{
	struct pci_bus *bus = ctx;
	unsigned reg;
	unsigned off = (unsigned)(port - CFG_DATA_PORT);
	struct pci_dev *dev = target(bus, &reg);
	if (off + size > 4 || (off & (size - 1)))
		dev = NULL;
	if (!dev) {
		if (!is_write)
			memset(data, 0xff, size); /* no device: all ones (master abort) */
		return 0;
	}
	if (is_write)
		dev->ops->cfg_write(dev, reg + off, size, (uint32_t)glue_get_le(data, size));
	else
		glue_put_le(data, size, dev->ops->cfg_read(dev, reg + off, size));
	return 0;
}

int pci_bus_create(struct glue *g, uint64_t mmio_base, uint64_t mmio_size, struct pci_bus **out)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	bus->glue = g;
	bus->mmio_next = mmio_base;
	bus->mmio_end = mmio_base + mmio_size;
	/* 8086:29c0 is a common host bridge ID; Linux's pci_sanity_check wants
	 * a host bridge or an Intel/Compaq device on bus 0. */
	uint8_t *c = bus->hb_cfg;
	c[0x00] = 0x86; c[0x01] = 0x80;      /* vendor 8086 */
	c[0x02] = 0xc0; c[0x03] = 0x29;      /* device 29c0 */
	c[0x0b] = 0x06;                      /* class: bridge / host */
	bus->host_bridge = (struct pci_dev){ &hb_ops, bus };
	bus->slots[0] = &bus->host_bridge;
	int err = glue_trap(g, GLUE_PIO, CFG_ADDR_PORT, 4, cfg_addr_trap, bus, &bus->trap_addr);
	if (err)
		goto fail;
	err = glue_trap(g, GLUE_PIO, CFG_DATA_PORT, 4, cfg_data_trap, bus, &bus->trap_data);
	if (err) {
		glue_untrap(g, bus->trap_addr);
		goto fail;
	}
	*out = bus;
	return 0;
fail:
	free(bus);
	return err;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	glue_untrap(bus->glue, bus->trap_data);
	glue_untrap(bus->glue, bus->trap_addr);
	free(bus);
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev, unsigned *devfn)
{
	for (unsigned s = 1; s < MAX_SLOTS; s++)
		if (!bus->slots[s]) {
			bus->slots[s] = dev;
			*devfn = s << 3;
			return 0;
		}
	return -ENOSPC;
}

void pci_bus_remove(struct pci_bus *bus, unsigned devfn)
{
	if ((devfn >> 3) > 0 && (devfn >> 3) < MAX_SLOTS)
		bus->slots[devfn >> 3] = NULL;
}

int pci_bus_alloc_mmio(struct pci_bus *bus, uint64_t size, uint64_t *gpa)
{
	if (!size || (size & (size - 1)))
		return -EINVAL;
	if (size < 4096)
		size = 4096; /* a page, so it can be mapped or trapped alone */
	uint64_t at = (bus->mmio_next + size - 1) & ~(size - 1);
	if (at + size > bus->mmio_end || at + size < at)
		return -ENOSPC;
	bus->mmio_next = at + size;
	*gpa = at;
	return 0;
}
