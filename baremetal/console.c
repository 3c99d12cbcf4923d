/*
 * console.c — COM1 16550 UART (register map per the PC16550D data sheet:
 * THR/DLL +0, IER/DLM +1, FCR +2, LCR +3, MCR +4, LSR +5) and printf.
 */
#include <stdbool.h>
#include <stdint.h>

#include "baremetal/console.h"
#include "baremetal/cpu.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_THRE 0x20

void console_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1); /* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xc7); /* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void console_putc(char c)
{
	for (unsigned spins = 0; !(inb(COM1 + UART_LSR) & LSR_THRE) && spins < 100000; spins++)
		cpu_pause();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		console_putc(s[i]);
}

/* --- the formatter: one engine, two sinks (UART, buffer) --------------- */

struct sink {
	char *buf; /* NULL: the UART */
	size_t cap;
	size_t len;
};

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		console_putc(c);
	else if (s->len + 1 < s->cap)
		s->buf[s->len] = c;
	s->len++;
}

static void emit_padded(struct sink *s, const char *str, size_t n, unsigned width, bool left, char pad)
{
	size_t fill = width > n ? width - n : 0;
	if (!left)
		for (size_t i = 0; i < fill; i++)
			emit(s, pad);
	for (size_t i = 0; i < n; i++)
		emit(s, str[i]);
	if (left)
		for (size_t i = 0; i < fill; i++)
			emit(s, ' ');
}

static void emit_number(struct sink *s, uint64_t v, bool neg, unsigned base, bool upper, unsigned width, bool left,
			char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg) {
		if (pad == '0') { /* sign before the zeros */
			emit(s, '-');
			width = width ? width - 1 : 0;
		} else {
			tmp[n++] = '-';
		}
	}
	char out[24];
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	emit_padded(s, out, n, width, left, pad);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(s, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		unsigned width = 0;
		if (*fmt == '*') {
			width = (unsigned)va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		unsigned lng = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			lng = *fmt == 'z' ? 2 : lng + 1;
			fmt++;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, long long) : va_arg(ap, int);
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			emit_number(s, mag, v < 0, 10, false, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			emit_number(s, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, left, pad);
			break;
		}
		case 'p':
			emit(s, '0');
			emit(s, 'x');
			emit_number(s, (uintptr_t)va_arg(ap, void *), false, 16, false, width, left, pad);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t n = 0;
			while (str[n])
				n++;
			emit_padded(s, str, n, width, left, ' ');
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			emit_padded(s, &c, 1, width, left, ' ');
			break;
		}
		case '%':
			emit(s, '%');
			break;
		case 0:
			return;
		default: /* unknown: print it as written */
			emit(s, '%');
			emit(s, *fmt);
			break;
		}
	}
}

void console_vprintf(const char *fmt, va_list ap)
{
	struct sink s = {0};
	format(&s, fmt, ap);
}

void console_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

int console_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct sink s = {.buf = buf, .cap = n};
	format(&s, fmt, ap);
	if (n)
		buf[s.len < n ? s.len : n - 1] = 0;
	return (int)s.len;
}

int console_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = console_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
