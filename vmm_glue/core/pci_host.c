/* pci_host.c — configuration mechanism #1 and a host bridge; see pci_host.h. */
#include "vmm_glue/core/pci_host.h"

#include "port.h"

#define CFG_ENABLE (1u << 31)   /* CONFIG_ADDRESS bit 31 */

void pci_host_init(struct pci_host *h, uint16_t vendor, uint16_t device)
{
	*h = (struct pci_host){ .vendor = vendor, .device = device };
}

int pci_host_attach(struct pci_host *h, uint8_t devfn, const struct pci_host_fn *fn)
{
	if (!devfn || !fn || !fn->read || !fn->write)
		return -PORT_EINVAL;
	h->fn = *fn;
	h->fn_devfn = devfn;
	return 0;
}

/* The host bridge's dword at `off` (PCI 3.0 §6.1, Type 0 header). */
static uint32_t bridge_dword(const struct pci_host *h, unsigned off)
{
	switch (off) {
	case 0x00: return (uint32_t)h->device << 16 | h->vendor;
	case 0x04: return 0x00000006u;   /* command: memory + bus master; status 0 */
	case 0x08: return 0x06000000u;   /* class 06 (bridge) 00 (host) 00, revision 0 */
	case 0x0c: return 0x00000000u;   /* header type 0, single function */
	default: return 0;
	}
}

static int cfg_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	struct pci_host *h = ctx;
	if (port == PCI_HOST_PORT && size == 4) {
		*val = h->addr;
		return 0;
	}
	*val = 0xffffffffu;
	if (port < PCI_HOST_PORT + 4 || !(h->addr & CFG_ENABLE))
		return 0;
	h->reads++;
	unsigned bus = (h->addr >> 16) & 0xff, devfn = (h->addr >> 8) & 0xff, reg = h->addr & 0xfc;
	unsigned byte = (port - 0xcfc) & 3u;
	if (bus == 0 && devfn && devfn == h->fn_devfn && h->fn.read) {
		if (size && (reg + byte) % size == 0) {   /* naturally aligned, else all-ones */
			h->fn_reads++;
			*val = h->fn.read(h->fn.ctx, reg + byte, size);
		}
		return 0;
	}
	if (bus != 0 || devfn != 0)
		return 0;
	uint32_t d = bridge_dword(h, reg) >> (8 * byte);
	*val = size == 4 ? d : size == 2 ? (d & 0xffff) : (d & 0xff);
	return 0;
}

static int cfg_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct pci_host *h = ctx;
	if (port == PCI_HOST_PORT && size == 4)
		h->addr = val & 0x80fffffcu;
	else if (port >= PCI_HOST_PORT + 4 && (h->addr & CFG_ENABLE)) {
		h->writes++;   /* the host bridge is read-only; no other function but the slot */
		unsigned bus = (h->addr >> 16) & 0xff, devfn = (h->addr >> 8) & 0xff;
		unsigned off = (h->addr & 0xfc) + ((port - 0xcfc) & 3u);
		if (bus == 0 && devfn && devfn == h->fn_devfn && h->fn.write && size && off % size == 0) {
			h->fn_writes++;
			h->fn.write(h->fn.ctx, off, size, val);
		}
	}
	return 0;
}

const struct core_pio_ops pci_host_pio_ops = { cfg_in, cfg_out, NULL };
