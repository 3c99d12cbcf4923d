/*
 * vjson.h — vfctl's JSON output through jansson: every `--json` document is
 * built as a json_t and printed here, indented, keys in the order they were
 * set (JSON_PRESERVE_ORDER), with a final newline.
 *
 * Include this before tools/vfctl/vfctl.h (see the note at the end there).
 */
#ifndef VFS_VFCTL_VJSON_H
#define VFS_VFCTL_VJSON_H

#include <jansson.h>
#include <stdio.h>

/* Print `root` to `f` and release it; 0, or -ENOMEM/-EIO. */
int vjson_print(FILE *f, json_t *root);

/* A string, or null for NULL or "" (an absent driver, interface…). */
json_t *vjson_str_or_null(const char *s);
/* true/false, or null for a negative value (not reported). */
json_t *vjson_tristate(int v);
/* An integer, or null for a negative value. */
json_t *vjson_int_or_null(long long v);

#endif /* VFS_VFCTL_VJSON_H */
