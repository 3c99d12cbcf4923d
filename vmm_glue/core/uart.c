/* uart.c — a polled 16550A; see uart.h. */
#include "vmm_glue/core/uart.h"

#include "port.h"

/* Register offsets (16550D data sheet, Table 2). */
#define THR 0   /* RBR on read; DLL with LCR.DLAB */
#define IER 1   /* DLM with LCR.DLAB */
#define IIR 2   /* FCR on write */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_THRE_TEMT 0x60   /* transmitter holding register and shift register empty */
#define IIR_NONE 0x01
#define IIR_FIFO 0xc0        /* FIFOs enabled (16550A) */

void uart_init(struct uart *u, void (*on_line)(void *ctx, const char *line), void *ctx)
{
	*u = (struct uart){ .on_line = on_line, .ctx = ctx };
}

static void put(struct uart *u, uint8_t c)
{
	u->bytes++;
	if (c == '\r')
		return;
	if (c != '\n' && u->len < UART_LINE_MAX) {
		u->line[u->len++] = (char)c;
		return;
	}
	u->line[u->len] = 0;
	if (u->on_line)
		u->on_line(u->ctx, u->line);
	u->len = 0;
	if (c != '\n')
		u->line[u->len++] = (char)c;
}

static int uart_in(void *ctx, uint16_t port, unsigned size, uint32_t *val)
{
	struct uart *u = ctx;
	unsigned r = port & 7u;
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v = 0xff;
	(void)size;
	switch (r) {
	case THR: v = dlab ? u->dll : 0; break;
	case IER: v = dlab ? u->dlm : u->ier; break;
	case IIR: v = IIR_NONE | ((u->fcr & 1) ? IIR_FIFO : 0); break;
	case LCR: v = u->lcr; break;
	case MCR: v = u->mcr; break;
	case LSR: v = LSR_THRE_TEMT; break;
	case MSR:
		/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD; else
		 * CTS, DSR and DCD asserted. */
		v = (u->mcr & MCR_LOOP) ? (uint8_t)(((u->mcr & 1) << 5) | ((u->mcr & 2) << 3) | ((u->mcr & 4) << 4) |
						     ((u->mcr & 8) << 4))
					: 0xb0;
		break;
	case SCR: v = u->scr; break;
	}
	*val = v;
	return 0;
}

static int uart_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct uart *u = ctx;
	unsigned r = port & 7u;
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v = (uint8_t)val;
	(void)size;
	switch (r) {
	case THR:
		if (dlab)
			u->dll = v;
		else if (!(u->mcr & MCR_LOOP))
			put(u, v);
		break;
	case IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case IIR: u->fcr = v; break;
	case LCR: u->lcr = v; break;
	case MCR: u->mcr = v & 0x1f; break;
	case SCR: u->scr = v; break;
	default: break;   /* LSR, MSR: read-only */
	}
	return 0;
}

const struct core_pio_ops uart_pio_ops = { uart_in, uart_out, NULL };
