/*
 * vjson.c — vfctl's JSON output through jansson (vjson.h).
 */
#include "tools/vfctl/vjson.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vjson_print(FILE *f, json_t *root)
{
	if (!root)
		return -ENOMEM;
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	int rc = fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) ? -EIO : 0;
	free(text);
	return rc;
}

json_t *vjson_str_or_null(const char *s)
{
	if (!s || !*s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	/* Not UTF-8 (sysfs and interface names are bytes): '?' for each byte
	 * outside ASCII, rather than a member silently missing. */
	char *copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *vjson_tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

json_t *vjson_int_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}
