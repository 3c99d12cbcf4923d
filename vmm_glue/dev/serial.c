/*
 * serial.c — the hosted front end of the 16550A model (vmm_glue/dev/
 * uart16550.c): its port trap, in_fd and out_fd, the IRQ line.
 */
#include "vmm_glue/dev/serial.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm_glue/dev/uart16550.h"

struct serial {
	struct glue *glue;
	unsigned gsi;
	int out_fd, in_fd;
	int trap_id;
	struct uart16550 regs;
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

/* The register model's receiver: a byte from in_fd, without blocking. */
static bool rx_poll(void *ctx, uint8_t *byte)
{
	struct serial *s = ctx;
	if (s->in_fd < 0)
		return false;
	struct pollfd p = { .fd = s->in_fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) && read(s->in_fd, byte, 1) == 1;
}

/* The register model's transmitter: the byte to out_fd and the line hook. */
static void tx(void *ctx, uint8_t byte)
{
	struct serial *s = ctx;
	if (s->out_fd >= 0) {
		ssize_t w;
		do
			w = write(s->out_fd, &byte, 1);
		while (w < 0 && errno == EINTR);
	}
	watch_line(s, byte);
}

/* The line follows the model's interrupt (IIR, gated by OUT2). */
static void update_irq(struct serial *s)
{
	bool level = uart16550_irq(&s->regs);
	if (level != s->line) {
		s->line = level;
		glue_set_irq_line(s->glue, s->gsi, level);
	}
}

static int serial_trap(void *ctx, uint64_t port, uint8_t *data, unsigned size, bool wr)
{
	struct serial *s = ctx;
	unsigned reg = (unsigned)(port & 7);
	for (unsigned i = 0; i < size; i++, reg = (reg + 1) & 7) {
		if (wr)
			uart16550_write(&s->regs, reg, data[i]);
		else
			data[i] = uart16550_read(&s->regs, reg);
	}
	update_irq(s);
	return 0;
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
	uart16550_init(&s->regs, false, tx, rx_poll, s);
	s->regs.dll = 12;  /* 9600 baud */
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
