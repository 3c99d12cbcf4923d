/*
 * uart.h — a polled 16550A at an I/O port range for the bare-metal core's
 * guest (registers as in the 16550D data sheet, National Semiconductor, and
 * Linux's 8250 driver): the transmitter always empty, every byte the guest
 * writes to THR handed to a line callback; no receiver, no interrupt line
 * (IIR always "none pending"); the scratch, line/modem control and divisor
 * registers hold what is written, loopback mode reflects MCR in MSR so
 * Linux's probe finds a 16550A.  The registers are vmm_glue/dev/uart16550.c,
 * which the hosted front end (vmm_glue/dev/serial.c) shares.
 */
#ifndef VFS_UART_H
#define VFS_UART_H

#include <stdint.h>

#include "vmm_glue/core/core_vm.h"
#include "vmm_glue/dev/uart16550.h"

#define UART_LINE_MAX 255

struct uart {
	struct uart16550 regs;
	char line[UART_LINE_MAX + 1];
	unsigned len;
	uint64_t bytes;
	void (*on_line)(void *ctx, const char *line);   /* each line, without its newline */
	void *ctx;
};

void uart_init(struct uart *u, void (*on_line)(void *ctx, const char *line), void *ctx);
/* The port trap's ops (ctx = the uart; 8 ports from the base). */
extern const struct core_pio_ops uart_pio_ops;

#endif
