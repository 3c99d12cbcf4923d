/* uart16550.c — 16550A registers (16550D data sheet); see uart16550.h. */
#include "vmm_glue/dev/uart16550.h"

/* Register offsets from the base port (16550D Table 2). */
#define R_RBR_THR 0   /* DLL when LCR.DLAB */
#define R_IER     1   /* DLM when LCR.DLAB */
#define R_IIR_FCR 2
#define R_LCR     3
#define R_MCR     4
#define R_LSR     5
#define R_MSR     6
#define R_SCR     7

#define IER_RDI   0x01   /* received data available */
#define IER_THRI  0x02   /* transmitter holding register empty */
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0   /* FIFOs enabled (16550A) */
#define FCR_FIFO  0x01
#define LCR_DLAB  0x80
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

static uint8_t iir(const struct uart16550 *u);
static void poll_input(struct uart16550 *u);
static void transmit(struct uart16550 *u, uint8_t byte);

void uart16550_init(struct uart16550 *u, bool polled, void (*tx)(void *ctx, uint8_t byte),
		    bool (*rx_poll)(void *ctx, uint8_t *byte), void *ctx)
{
	*u = (struct uart16550){ .polled = polled, .tx = tx, .rx_poll = rx_poll, .ctx = ctx };
}

uint8_t uart16550_read(struct uart16550 *u, unsigned reg)
{
	switch (reg & 7) {
	case R_RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		poll_input(u);
		u->rx_full = false;
		return u->rx;
	case R_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case R_IIR_FCR: {
		poll_input(u);
		uint8_t v = iir(u);
		if ((v & 0x0f) == IIR_THRI)
			u->thri_pending = false; /* reading IIR clears the THRE interrupt */
		return v;
	}
	case R_LCR:
		return u->lcr;
	case R_MCR:
		return u->mcr;
	case R_LSR:
		poll_input(u);
		return LSR_THRE | LSR_TEMT | (u->rx_full ? LSR_DR : 0);
	case R_MSR:
		if (u->mcr & MCR_LOOP) /* loopback: modem outputs feed the inputs */
			return (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
					 ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return u->scr;
	}
}

void uart16550_write(struct uart16550 *u, unsigned reg, uint8_t v)
{
	switch (reg & 7) {
	case R_RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case R_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises it at once. */
			if ((v & IER_THRI) && !(u->ier & IER_THRI))
				u->thri_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case R_IIR_FCR:
		u->fcr = v & 0xc9;
		break;
	case R_LCR:
		u->lcr = v;
		break;
	case R_MCR:
		u->mcr = v & 0x1f;
		break;
	case R_SCR:
		u->scr = v;
		break;
	default:
		break;   /* LSR, MSR: read-only */
	}
}

bool uart16550_irq(const struct uart16550 *u)
{
	return !(iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2);
}

static uint8_t iir(const struct uart16550 *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO) ? IIR_FIFO : 0;
	if (u->polled)
		return IIR_NONE | fifo;
	if ((u->ier & IER_RDI) && u->rx_full)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void poll_input(struct uart16550 *u)
{
	if (!u->rx_full && u->rx_poll && u->rx_poll(u->ctx, &u->rx))
		u->rx_full = true;
}

static void transmit(struct uart16550 *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP) {
		if (!u->polled) {
			u->rx = byte;
			u->rx_full = true;
		}
	} else if (u->tx) {
		u->tx(u->ctx, byte);
	}
	u->thri_pending = true; /* transmitted at once: THR is empty again */
}
