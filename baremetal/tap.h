/*
 * tap.h — TAP output on the serial console, and the end of a run.
 *
 *   tap_plan(n);                       "1..n"
 *   tap_ok(cond, "what %d", x);        "ok N - [prefix] what 3" / "not ok N - ..."
 *   tap_skip("what", "why");           "ok N - [prefix] what # SKIP why"
 *   tap_diag("...");                   "# ..."
 *   tap_done();                        exit: pass iff no failure and N == plan
 *   tap_bail("why");                   "Bail out! why", exit failing
 *
 * A prefix (tap_set_prefix) names the configuration a line ran on, e.g. the
 * QEMU variant "aw48,cm=on"; it is printed in brackets before each description.
 */
#ifndef VFS_BM_TAP_H
#define VFS_BM_TAP_H

#include <stdbool.h>

void tap_set_prefix(const char *prefix);
void tap_plan(unsigned n);
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *what, const char *why_fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned tap_failures(void);
void tap_done(void) __attribute__((noreturn));
void tap_bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
