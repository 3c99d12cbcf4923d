/*
 * edu.h — QEMU's educational PCI device (`-device edu`, 1234:11e8) as a DMA
 * master and an MSI source (register map: QEMU hw/misc/edu.c and
 * docs/specs/edu.rst).
 *
 * Its DMA engine copies between RAM (a bus address: an IOVA when an IOMMU
 * translates) and a 4 KiB buffer inside the device at device address
 * EDU_BUF (0x40000).  The RAM address is masked with the device's dma_mask
 * (28 bits unless `-device edu,dma_mask=...`).  A transfer starts 100 ms
 * (QEMU virtual time) after the command is written.  The internal buffer
 * is not readable over MMIO: to see what a read-DMA fetched, DMA it back out.
 */
#ifndef VFS_BM_EDU_H
#define VFS_BM_EDU_H

#include <stdbool.h>
#include <stdint.h>

#include "baremetal/pci.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BUF 0x40000u
#define EDU_BUF_SIZE 4096u
#define EDU_IRQ_DMA 0x100u /* interrupt status bit a DMA completion raises */
/* Generous: the 100 ms start delay plus TCG scheduling. */
#define EDU_DMA_TIMEOUT_NS (5ull * 1000 * 1000 * 1000)

struct edu {
	const struct pci_dev *pci;
	uint64_t mmio; /* BAR0 physical address */
	uint8_t msi_cap;
};

/* Bind to a PCI function: BAR0, memory decode and bus mastering on, the
 * identification register checked.  0, -PORT_ENODEV, or a pci_bar error. */
int edu_init(struct edu *e, const struct pci_dev *d);

/* The index'th edu on the bus, bound.  0 or -PORT_ENODEV. */
int edu_find(struct edu *e, unsigned index);

/* RAM -> device buffer: read `len` bytes at bus address `bus` into the
 * buffer at offset `buf_off`.  Starts the transfer; returns at once. */
int edu_dma_read(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len, bool irq);
/* Device buffer -> RAM: write `len` bytes from buffer offset `buf_off` to
 * bus address `bus`. */
int edu_dma_write(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len, bool irq);
/* Wait until the engine is idle: 0 or -PORT_ETIMEDOUT.  The engine reports
 * idle after a faulted transfer too: check the data or the IOMMU. */
int edu_dma_wait(struct edu *e, uint64_t timeout_ns);
/* Start a transfer and wait for it. */
int edu_dma_read_sync(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len);
int edu_dma_write_sync(struct edu *e, uint64_t bus, uint32_t buf_off, uint32_t len);

/* Interrupt status (0x24), raise (0x60: OR bits in and signal), ack (0x64). */
uint32_t edu_irq_status(struct edu *e);
void edu_irq_raise(struct edu *e, uint32_t bits);
void edu_irq_ack(struct edu *e, uint32_t bits);

/* Program and enable its MSI (PCI Local Bus 3.0 6.8.1): address, data;
 * INTx disabled.  0 or -PORT_ENODEV (no MSI capability). */
int edu_msi_enable(struct edu *e, uint64_t addr, uint16_t data);
void edu_msi_disable(struct edu *e);

/* The compatibility-format MSI address/data for a fixed, edge interrupt on
 * `vector` to the APIC `dest` (Intel SDM vol. 3A 11.11.1, 11.11.2). */
uint64_t edu_msi_compat_addr(uint8_t dest);
uint16_t edu_msi_compat_data(uint8_t vector);

#endif
