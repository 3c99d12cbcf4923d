/*
 * serial.c — 16550A UART emulation (16550D data sheet register map).
 */
#include "vmm_glue/dev/serial.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

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

struct serial {
	struct glue *glue;
	unsigned gsi;
	int out_fd, in_fd;
	int trap_id;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;   /* THR empty reported until IIR is read or THR written */
	bool rx_full;
	uint8_t rx;
	bool line;
	void (*line_fn)(void *ctx, const char *line);
	void *line_ctx;
	char buf[256];
	unsigned buf_len;
};

static void watch_line(struct serial *s, uint8_t byte)
{
	if (!s->line_fn)
		return;
	if (byte == '\n' || s->buf_len == sizeof(s->buf) - 1) {
		s->buf[s->buf_len] = '\0';
		s->buf_len = 0;
		s->line_fn(s->line_ctx, s->buf);
	} else if (byte != '\r') {
		s->buf[s->buf_len++] = (char)byte;
	}
}

static void poll_input(struct serial *s)
{
	if (s->rx_full || s->in_fd < 0)
		return;
	struct pollfd p = { .fd = s->in_fd, .events = POLLIN };
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) && read(s->in_fd, &s->rx, 1) == 1)
		s->rx_full = true;
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_FIFO) ? IIR_FIFO : 0;
	if ((s->ier & IER_RDI) && s->rx_full)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* The line follows IIR, gated by OUT2 as on PC hardware. */
static void update_irq(struct serial *s)
{
	bool level = !(iir(s) & IIR_NONE) && (s->mcr & MCR_OUT2);
	if (level != s->line) {
		s->line = level;
		glue_set_irq_line(s->glue, s->gsi, level);
	}
}

static void transmit(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		s->rx = byte;
		s->rx_full = true;
	} else if (s->out_fd >= 0) {
		ssize_t w;
		do
			w = write(s->out_fd, &byte, 1);
		while (w < 0 && errno == EINTR);
	}
	if (!(s->mcr & MCR_LOOP))
		watch_line(s, byte);
	s->thri_pending = true; /* transmitted at once: THR is empty again */
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
	switch (reg) {
	case R_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		poll_input(s);
		s->rx_full = false;
		return s->rx;
	case R_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case R_IIR_FCR: {
		poll_input(s);
		uint8_t v = iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = false; /* reading IIR clears the THRE interrupt */
		return v;
	}
	case R_LCR:
		return s->lcr;
	case R_MCR:
		return s->mcr;
	case R_LSR:
		poll_input(s);
		return LSR_THRE | LSR_TEMT | (s->rx_full ? LSR_DR : 0);
	case R_MSR:
		if (s->mcr & MCR_LOOP) /* loopback: modem outputs feed the inputs */
			return (uint8_t)(((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
					 ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0));
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return s->scr;
	}
}

static void reg_write(struct serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case R_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case R_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises it at once. */
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thri_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case R_IIR_FCR:
		s->fcr = v & 0xc9;
		break;
	case R_LCR:
		s->lcr = v;
		break;
	case R_MCR:
		s->mcr = v & 0x1f;
		break;
	case R_SCR:
		s->scr = v;
		break;
	default:
		break;
	}
}

static void serial_trap(void *ctx, uint64_t port, uint8_t *data, unsigned size, bool wr)
{
	struct serial *s = ctx;
	unsigned reg = (unsigned)(port & 7);
	for (unsigned i = 0; i < size; i++, reg = (reg + 1) & 7) {
		if (wr)
			reg_write(s, reg, data[i]);
		else
			data[i] = reg_read(s, reg);
	}
	update_irq(s);
}

int serial_create(struct glue *g, uint16_t base, unsigned gsi, int out_fd, int in_fd,
		  struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->glue = g;
	s->gsi = gsi;
	s->out_fd = out_fd;
	s->in_fd = in_fd;
	s->dll = 12;  /* 9600 baud */
	int err = glue_trap(g, GLUE_PIO, base, 8, serial_trap, s, &s->trap_id);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	glue_untrap(s->glue, s->trap_id);
	free(s);
}

void serial_set_line_hook(struct serial *s, void (*fn)(void *ctx, const char *line), void *ctx)
{
	s->line_fn = fn;
	s->line_ctx = ctx;
}
