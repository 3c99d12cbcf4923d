/*
 * edu.c — the edu device's registers (QEMU hw/misc/edu.c):
 *   0x00 identification 0x010000ed   0x24 interrupt status
 *   0x60 interrupt raise              0x64 interrupt acknowledge
 *   0x80 DMA source   0x88 DMA destination   0x90 DMA count
 *   0x98 DMA command: bit 0 start/busy, bit 1 direction (1: to RAM),
 *        bit 2 raise EDU_IRQ_DMA when done.
 */
#include "baremetal/edu.h"
#include "baremetal/clock.h"
#include "baremetal/cpu.h"
#include "port.h"

#define EDU_ID 0x00
#define EDU_ID_VALUE 0x010000edu
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define CMD_RUN (1u << 0)
#define CMD_TO_RAM (1u << 1)
#define CMD_IRQ (1u << 2)

/* MSI capability (PCI Local Bus 3.0 6.8.1.1-6.8.1.5). */
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA_32 8
#define MSI_DATA_64 12
#define MSI_CTRL_ENABLE (1u << 0)
#define MSI_CTRL_MME_MASK (7u << 4)
#define MSI_CTRL_64BIT (1u << 7)

int edu_init(struct edu *e, const struct pci_dev *d)
{
	uint64_t size;
	if (!d || d->vendor != EDU_VENDOR || d->device != EDU_DEVICE)
		return -PORT_ENODEV;
	e->pci = d;
	int r = pci_bar(d, 0, &e->mmio, &size);
	if (r)
		return r;
	pci_command(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, true);
	if (port_mmio_read32(e->mmio + EDU_ID) != EDU_ID_VALUE)
		return -PORT_ENODEV;
	e->msi_cap = pci_find_cap(d, PCI_CAP_ID_MSI, 0);
	return 0;
}

int edu_find(struct edu *e, unsigned index)
{
	const struct pci_dev *d = pci_find(EDU_VENDOR, EDU_DEVICE, index);
	return d ? edu_init(e, d) : -PORT_ENODEV;
}

static int start(struct edu *e, uint64_t src, uint64_t dst, uint32_t len, uint32_t cmd)
{
	if (len == 0 || len > EDU_BUF_SIZE)
		return -PORT_EINVAL;
	if (port_mmio_read64(e->mmio + EDU_DMA_CMD) & CMD_RUN)
		return -PORT_EBUSY;
	port_mmio_write64(e->mmio + EDU_DMA_SRC, src);
	port_mmio_write64(e->mmio + EDU_DMA_DST, dst);
	port_mmio_write64(e->mmio + EDU_DMA_CNT, len);
	port_mmio_write64(e->mmio + EDU_DMA_CMD, cmd | CMD_RUN);
	return 0;
}

int edu_dma_read(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len, bool irq)
{
	if (buf_off + len > EDU_BUF_SIZE)
		return -PORT_EINVAL;
	return start(e, bus, EDU_BUF + buf_off, len, irq ? CMD_IRQ : 0);
}

int edu_dma_write(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len, bool irq)
{
	if (buf_off + len > EDU_BUF_SIZE)
		return -PORT_EINVAL;
	return start(e, EDU_BUF + buf_off, bus, len, CMD_TO_RAM | (irq ? CMD_IRQ : 0));
}

int edu_dma_wait(struct edu *e, uint64_t timeout_ns)
{
	uint64_t end = clock_ns() + timeout_ns;
	while (port_mmio_read64(e->mmio + EDU_DMA_CMD) & CMD_RUN) {
		if (clock_ns() > end)
			return -PORT_ETIMEDOUT;
		cpu_pause();
	}
	return 0;
}

int edu_dma_read_sync(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len)
{
	int r = edu_dma_read(e, bus, buf_off, len, false);
	return r ? r : edu_dma_wait(e, EDU_DMA_TIMEOUT_NS);
}

int edu_dma_write_sync(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len)
{
	int r = edu_dma_write(e, bus, buf_off, len, false);
	return r ? r : edu_dma_wait(e, EDU_DMA_TIMEOUT_NS);
}

uint32_t edu_irq_status(struct edu *e) { return port_mmio_read32(e->mmio + EDU_IRQ_STATUS); }
void edu_irq_raise(struct edu *e, uint32_t bits) { port_mmio_write32(e->mmio + EDU_IRQ_RAISE, bits); }
void edu_irq_ack(struct edu *e, uint32_t bits) { port_mmio_write32(e->mmio + EDU_IRQ_ACK, bits); }

int edu_msi_enable(struct edu *e, uint64_t addr, uint16_t data)
{
	if (!e->msi_cap)
		return -PORT_ENODEV;
	const struct pci_dev *d = e->pci;
	uint8_t c = e->msi_cap;
	uint16_t ctrl = pci_read16(d, c + MSI_CTRL);
	pci_write16(d, c + MSI_CTRL, (uint16_t)(ctrl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME_MASK)));
	pci_write32(d, c + MSI_ADDR_LO, (uint32_t)addr);
	if (ctrl & MSI_CTRL_64BIT) {
		pci_write32(d, c + MSI_ADDR_HI, (uint32_t)(addr >> 32));
		pci_write16(d, c + MSI_DATA_64, data);
	} else {
		if (addr >> 32)
			return -PORT_ERANGE;
		pci_write16(d, c + MSI_DATA_32, data);
	}
	pci_command(d, PCI_COMMAND_INTX_DISABLE, true);
	pci_write16(d, c + MSI_CTRL, (uint16_t)((ctrl & ~MSI_CTRL_MME_MASK) | MSI_CTRL_ENABLE));
	return 0;
}

void edu_msi_disable(struct edu *e)
{
	if (e->msi_cap)
		pci_write16(e->pci, e->msi_cap + MSI_CTRL,
			    (uint16_t)(pci_read16(e->pci, e->msi_cap + MSI_CTRL) & ~MSI_CTRL_ENABLE));
}

/* Address 0xfee00000 | dest << 12 (RH=0, DM=0 physical); data: vector,
 * delivery mode fixed (000), edge. */
uint64_t edu_msi_compat_addr(uint8_t dest) { return 0xfee00000ull | ((uint64_t)dest << 12); }
uint16_t edu_msi_compat_data(uint8_t vector) { return vector; }
