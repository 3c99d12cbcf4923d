/*
 * console.h — the serial console (COM1, I/O port 0x3f8, 16550 UART) and a
 * small printf.
 *
 * Formats: %d %i %u %x %X %s %c %p %%, flags '0' and '-', a width (or '*'),
 * length modifiers l, ll, z.  This covers port_log's documented subset.
 */
#ifndef VFS_BM_CONSOLE_H
#define VFS_BM_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

void console_init(void);
void console_putc(char c);
void console_write(const char *s, size_t n);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_vprintf(const char *fmt, va_list ap);

/* snprintf into buf (always NUL-terminated when n > 0); returns the length
 * the whole output would have had. */
int console_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int console_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

#endif
