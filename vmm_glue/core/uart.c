/* uart.c — the bare-metal core's polled 16550A: the port trap in front of
 * the register model (vmm_glue/dev/uart16550.c); see uart.h. */
#include "vmm_glue/core/uart.h"

#include "port.h"

static void put(void *ctx, uint8_t c);

void uart_init(struct uart *u, void (*on_line)(void *ctx, const char *line), void *ctx)
{
	*u = (struct uart){ .on_line = on_line, .ctx = ctx };
	uart16550_init(&u->regs, true, put, NULL, u);
}

/* Each byte the guest sends: into the line, a line to on_line. */
static void put(void *ctx, uint8_t c)
{
	struct uart *u = ctx;
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
	(void)size;
	*val = uart16550_read(&u->regs, port & 7u);
	return 0;
}

static int uart_out(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
	struct uart *u = ctx;
	(void)size;
	uart16550_write(&u->regs, port & 7u, (uint8_t)val);
	return 0;
}

const struct core_pio_ops uart_pio_ops = { uart_in, uart_out, NULL };
