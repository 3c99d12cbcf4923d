/*
 * pci.c — ECAM: the config space of bus b, device d, function f lives at
 * base + (b << 20 | d << 15 | f << 12) (PCIe Base 6.0 7.2.2, table 7-1).
 * Accesses are 32-bit MMIO; narrower ones are read-modify-write of the
 * containing dword (sub-dword writes to RW1C status bits are not used).
 */
#include "baremetal/pci.h"
#include "baremetal/acpi.h"
#include "pci/pci_cap.h"
#include "port.h"

/* Where unassigned BARs go: above q35's ECAM window (0xb0000000, 256 MiB)
 * and below the IOAPIC (0xfec00000). */
#define MMIO_ALLOC_START 0xc0000000ull
#define MMIO_ALLOC_END 0xfec00000ull

static uint64_t ecam;
static uint8_t bus_lo, bus_hi;
static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned nr_devs;
static uint64_t mmio_next = MMIO_ALLOC_START;

static uint64_t cfg_pa(uint8_t bus, uint8_t dev, uint8_t fn)
{
	return ecam + ((uint64_t)(bus - bus_lo) << 20) + ((uint64_t)dev << 15) + ((uint64_t)fn << 12);
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off) { return port_mmio_read32(d->cfg + (off & 0xffc)); }
uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	return (uint16_t)(pci_read32(d, off) >> (8 * (off & 2)));
}
uint8_t pci_read8(const struct pci_dev *d, uint16_t off) { return (uint8_t)(pci_read32(d, off) >> (8 * (off & 3))); }
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v) { port_mmio_write32(d->cfg + (off & 0xffc), v); }
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	unsigned sh = 8 * (off & 2);
	pci_write32(d, off, (pci_read32(d, off) & ~(0xffffu << sh)) | ((uint32_t)v << sh));
}
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{
	unsigned sh = 8 * (off & 3);
	pci_write32(d, off, (pci_read32(d, off) & ~(0xffu << sh)) | ((uint32_t)v << sh));
}

uint32_t pci_cfg_read(void *d, unsigned off, unsigned size)
{
	uint16_t o = (uint16_t)off;
	return size == 1 ? pci_read8(d, o) : size == 2 ? pci_read16(d, o) : pci_read32(d, o);
}

void pci_cfg_write(void *d, unsigned off, unsigned size, uint32_t v)
{
	uint16_t o = (uint16_t)off;
	if (size == 1)
		pci_write8(d, o, (uint8_t)v);
	else if (size == 2)
		pci_write16(d, o, (uint16_t)v);
	else
		pci_write32(d, o, v);
}

static void scan_bus(uint8_t bus, unsigned depth);

static void probe(uint8_t bus, uint8_t dev, uint8_t fn, unsigned depth)
{
	struct pci_dev d = {.bus = bus, .dev = dev, .fn = fn, .cfg = cfg_pa(bus, dev, fn)};
	uint32_t id = pci_read32(&d, PCI_VENDOR_ID);
	if ((id & 0xffff) == 0xffff || nr_devs == PCI_MAX_DEVS)
		return;
	d.vendor = (uint16_t)id;
	d.device = (uint16_t)(id >> 16);
	d.class_rev = pci_read32(&d, PCI_CLASS_REV); /* class 31:8, revision 7:0 */
	d.header_type = pci_read8(&d, PCI_HEADER_TYPE) & 0x7f;
	devs[nr_devs++] = d;
	if (d.header_type == 1 && depth < 8) {
		uint8_t sec = pci_read8(&d, PCI_SECONDARY_BUS);
		if (sec > bus && sec >= bus_lo && sec <= bus_hi)
			scan_bus(sec, depth + 1);
	}
}

static void scan_bus(uint8_t bus, unsigned depth)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		struct pci_dev f0 = {.cfg = cfg_pa(bus, dev, 0)};
		if ((pci_read32(&f0, PCI_VENDOR_ID) & 0xffff) == 0xffff)
			continue;
		bool multi = pci_read8(&f0, PCI_HEADER_TYPE) & 0x80;
		for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++)
			probe(bus, dev, fn, depth);
	}
}

int pci_init(void)
{
	int r = acpi_mcfg(0, &ecam, &bus_lo, &bus_hi);
	if (r)
		return r;
	nr_devs = 0;
	scan_bus(bus_lo, 0);
	return 0;
}

unsigned pci_count(void) { return nr_devs; }
const struct pci_dev *pci_get(unsigned i) { return i < nr_devs ? &devs[i] : NULL; }

const struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned index)
{
	for (unsigned i = 0; i < nr_devs; i++)
		if (devs[i].vendor == vendor && devs[i].device == device && index-- == 0)
			return &devs[i];
	return NULL;
}

uint16_t pci_rid(const struct pci_dev *d) { return (uint16_t)(d->bus << 8 | d->dev << 3 | d->fn); }

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from)
{
	const struct pci_cfg_acc acc = { pci_cfg_read, (void *)d, PCIE_CFG_SIZE };
	struct pci_cap_iter it;
	struct pci_cap c;
	bool past = !from;
	for (pci_cap_iter_init(&it, &acc, false); pci_cap_next(&it, &c);) {
		if (past && c.id == id)
			return (uint8_t)c.off;
		past |= c.off == from;
	}
	return 0;
}

void pci_command(const struct pci_dev *d, uint16_t bits, bool set)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, set ? (uint16_t)(cmd | bits) : (uint16_t)(cmd & ~bits));
}

int pci_bar(const struct pci_dev *d, unsigned bar, uint64_t *base, uint64_t *size)
{
	if (bar > 5 || d->header_type != 0)
		return -PORT_ENOENT;
	uint16_t off = (uint16_t)(PCI_BAR0 + 4 * bar);
	uint32_t lo = pci_read32(d, off);
	if (lo & PCI_BAR_IO)
		return -PORT_ENOENT;
	bool is64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	uint32_t hi = is64 ? pci_read32(d, off + 4) : 0;

	/* Size with decoding off so the probe value is never decoded. */
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & (uint16_t)~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	pci_write32(d, off, 0xffffffffu);
	uint64_t mask = pci_read32(d, off) & PCI_BAR_MEM_MASK;
	if (is64) {
		pci_write32(d, off + 4, 0xffffffffu);
		mask |= (uint64_t)pci_read32(d, off + 4) << 32;
	} else {
		mask |= 0xffffffff00000000ull;
	}
	pci_write32(d, off, lo);
	if (is64)
		pci_write32(d, off + 4, hi);
	uint64_t sz = mask ? (~mask + 1) : 0;
	uint64_t addr = ((uint64_t)hi << 32) | (lo & PCI_BAR_MEM_MASK);
	if (sz == 0) {
		pci_write16(d, PCI_COMMAND, cmd);
		return -PORT_ENOENT;
	}
	if (addr == 0) { /* unassigned: give it naturally aligned space */
		uint64_t at = (mmio_next + sz - 1) & ~(sz - 1);
		if (at + sz > MMIO_ALLOC_END) {
			pci_write16(d, PCI_COMMAND, cmd);
			return -PORT_ENOSPC;
		}
		mmio_next = at + sz;
		addr = at;
		pci_write32(d, off, (uint32_t)at | (lo & ~PCI_BAR_MEM_MASK));
		if (is64)
			pci_write32(d, off + 4, (uint32_t)(at >> 32));
	}
	pci_write16(d, PCI_COMMAND, cmd);
	*base = addr;
	*size = sz;
	return 0;
}
