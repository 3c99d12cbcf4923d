/*
 * tap.c — Test Anything Protocol 13 on the console.
 */
#include <stdarg.h>

#include "baremetal/boot.h"
#include "baremetal/console.h"
#include "baremetal/tap.h"

static unsigned planned, run, failed;
static char prefix[64];

void tap_set_prefix(const char *p)
{
	unsigned i = 0;
	for (; p && p[i] && i + 1 < sizeof(prefix); i++)
		prefix[i] = p[i];
	prefix[i] = 0;
}

void tap_plan(unsigned n)
{
	planned = n;
	console_printf("1..%u\n", n);
}

static void line(const char *status, const char *fmt, va_list ap)
{
	run++;
	console_printf("%s %u - ", status, run);
	if (prefix[0])
		console_printf("[%s] ", prefix);
	console_vprintf(fmt, ap);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line(cond ? "ok" : "not ok", fmt, ap);
	va_end(ap);
	console_putc('\n');
	if (!cond)
		failed++;
	return cond;
}

void tap_skip(const char *what, const char *why_fmt, ...)
{
	va_list ap;
	run++;
	console_printf("ok %u - ", run);
	if (prefix[0])
		console_printf("[%s] ", prefix);
	console_printf("%s # SKIP ", what);
	va_start(ap, why_fmt);
	console_vprintf(why_fmt, ap);
	va_end(ap);
	console_putc('\n');
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_write("# ", 2);
	console_vprintf(fmt, ap);
	console_putc('\n');
	va_end(ap);
}

unsigned tap_failures(void) { return failed; }

void tap_done(void)
{
	if (planned && run != planned)
		console_printf("# planned %u tests, ran %u\n", planned, run);
	boot_exit(failed || (planned && run != planned) || run == 0 ? BOOT_EXIT_FAIL : BOOT_EXIT_PASS);
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_write("Bail out! ", 10);
	if (prefix[0])
		console_printf("[%s] ", prefix);
	console_vprintf(fmt, ap);
	console_putc('\n');
	va_end(ap);
	boot_exit(BOOT_EXIT_FAIL);
}
