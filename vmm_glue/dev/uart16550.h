/*
 * uart16550.h — the register model of a 16550A UART (16550D data sheet,
 * National Semiconductor, as Linux's 8250 driver uses it), shared by both
 * cores' front ends: vmm_glue/dev/serial.c (hosted KVM core: an fd, THRE and
 * receive interrupts on a legacy IRQ line) and vmm_glue/core/uart.c
 * (bare-metal core: polled, no receiver).  The transmitter is always empty;
 * scratch, line/modem control and divisor registers hold what is written;
 * loopback mode reflects MCR in MSR so Linux's probe finds a 16550A.
 * Freestanding.
 */
#ifndef VFS_UART16550_H
#define VFS_UART16550_H

#include <stdbool.h>
#include <stdint.h>

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;   /* THR empty reported until IIR is read or THR written */
	bool rx_full;
	uint8_t rx;
	bool polled;         /* no interrupts (IIR: none pending), loopback data dropped */
	void (*tx)(void *ctx, uint8_t byte);            /* each byte sent, but in loopback */
	bool (*rx_poll)(void *ctx, uint8_t *byte);      /* a byte received? NULL: none ever */
	void *ctx;
};

void uart16550_init(struct uart16550 *u, bool polled, void (*tx)(void *ctx, uint8_t byte),
		    bool (*rx_poll)(void *ctx, uint8_t *byte), void *ctx);
/* One register (0-7 from the base). */
uint8_t uart16550_read(struct uart16550 *u, unsigned reg);
void uart16550_write(struct uart16550 *u, unsigned reg, uint8_t v);
/* The interrupt line: an interrupt pending (IIR) and MCR.OUT2, as on PC
 * hardware; always false when polled. */
bool uart16550_irq(const struct uart16550 *u);

#endif
