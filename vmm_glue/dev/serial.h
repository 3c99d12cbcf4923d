/*
 * serial.h — an 8250/16550A UART (the guest's ttyS0): transmit to a file
 * descriptor (stdout or a log file), receive from one (optional), the THRE
 * and receive interrupts on a legacy IRQ line.  Register facts: the 16550D
 * data sheet (National Semiconductor), as Linux's 8250 driver uses them.
 */
#ifndef VFS_SERIAL_H
#define VFS_SERIAL_H

#include <stdint.h>

#include "vmm_glue/glue.h"

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_GSI  4

struct serial;

/* out_fd receives every byte the guest transmits; in_fd (or -1) is read
 * without blocking when the guest polls for input. */
int serial_create(struct glue *g, uint16_t base, unsigned gsi, int out_fd, int in_fd,
		  struct serial **out);
void serial_destroy(struct serial *s);

/* Call `fn` with every complete line the guest transmits (without the
 * newline; long lines are cut at 255 bytes) — how the VMM notices the
 * guest's "reboot: System halted" / "reboot: Power down". */
void serial_set_line_hook(struct serial *s, void (*fn)(void *ctx, const char *line), void *ctx);

#endif
