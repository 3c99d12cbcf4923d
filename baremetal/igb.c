/*
 * igb.c — the 82576 PF's extended interrupt registers (BAR0):
 *   0x01514 GPIE   bit 4 Multiple_MSIX, bit 0 NSICR
 *   0x01520 EICS   cause set            0x01524 EIMS  mask set (enable)
 *   0x01528 EIMC   mask clear           0x0152c EIAC  auto clear
 *   0x01580 EICR   cause (write 1 to clear)
 *   0x01680 + 4k  EITR(k) throttling interval (0: none)
 *   0x00008 STATUS
 */
#include "baremetal/igb.h"
#include "port.h"

#define IGB_STATUS 0x00008
#define IGB_GPIE 0x01514
#define IGB_GPIE_NSICR (1u << 0)
#define IGB_GPIE_MSIX_MODE (1u << 4)
#define IGB_EICS 0x01520
#define IGB_EIMS 0x01524
#define IGB_EIMC 0x01528
#define IGB_EIAC 0x0152c
#define IGB_EICR 0x01580
#define IGB_EITR(k) (0x01680u + 4u * (k))

int igb_init(struct igb *g, const struct pci_dev *d)
{
	if (!d || d->vendor != IGB_VENDOR || d->device != IGB_DEVICE)
		return -PORT_ENODEV;
	*g = (struct igb){ .pci = d };
	int r = pci_bar(d, 0, &g->mmio, &g->mmio_size);
	if (!r)
		r = pci_bar(d, IGB_MSIX_BAR, &g->msix_bar, &g->msix_bar_size);
	if (r)
		return r;
	pci_command(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, true);
	if (port_mmio_read32(g->mmio + IGB_STATUS) == 0xffffffffu)
		return -PORT_ENODEV;
	g->msix_cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	return 0;
}

int igb_find(struct igb *g, unsigned index)
{
	const struct pci_dev *d = pci_find(IGB_VENDOR, IGB_DEVICE, index);
	return d ? igb_init(g, d) : -PORT_ENODEV;
}

void igb_msix_causes_on(struct igb *g, unsigned n)
{
	uint32_t causes = n >= 32 ? 0xffffffffu : (1u << n) - 1;
	port_mmio_write32(g->mmio + IGB_GPIE, IGB_GPIE_MSIX_MODE | IGB_GPIE_NSICR);
	for (unsigned k = 0; k < n; k++)
		port_mmio_write32(g->mmio + IGB_EITR(k), 0);
	port_mmio_write32(g->mmio + IGB_EICR, causes);
	port_mmio_write32(g->mmio + IGB_EIAC, causes);
	port_mmio_write32(g->mmio + IGB_EIMS, causes);
}

void igb_msix_causes_off(struct igb *g)
{
	port_mmio_write32(g->mmio + IGB_EIMC, 0xffffffffu);
	port_mmio_write32(g->mmio + IGB_EICR, 0xffffffffu);
	port_mmio_write32(g->mmio + IGB_GPIE, 0);
}

void igb_msix_fire(struct igb *g, unsigned k)
{
	port_mmio_write32(g->mmio + IGB_EICR, 1u << k);   /* a cause still set would not raise again */
	port_mmio_write32(g->mmio + IGB_EICS, 1u << k);
}
