/*
 * json.c — a small JSON reader for `vfctl apply` (RFC 8259 subset: no
 * surrogate pairs in \u escapes beyond the BMP; numbers as doubles).
 */
#include "tools/vfctl/vfctl.h"

#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p;
	int line;
	const char *err;
	int depth;
};

static void skip_ws(struct parser *ps)
{
	for (;;) {
		char c = *ps->p;
		if (c == '\n')
			ps->line++;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			ps->p++;
		else
			return;
	}
}

static bool fail(struct parser *ps, const char *why)
{
	if (!ps->err)
		ps->err = why;
	return false;
}

static bool parse_value(struct parser *ps, struct json_val *v);

static void put_utf8(char **o, unsigned cp)
{
	if (cp < 0x80) {
		*(*o)++ = (char)cp;
	} else if (cp < 0x800) {
		*(*o)++ = (char)(0xC0 | (cp >> 6));
		*(*o)++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*(*o)++ = (char)(0xE0 | (cp >> 12));
		*(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*(*o)++ = (char)(0x80 | (cp & 0x3F));
	}
}

static bool parse_string(struct parser *ps, char **out)
{
	if (*ps->p != '"')
		return fail(ps, "expected a string");
	ps->p++;
	const char *start = ps->p;
	size_t cap = 1;
	for (const char *q = start; *q && *q != '"'; q++, cap++)
		if (*q == '\\' && q[1])
			q++, cap++;
	char *s = malloc(cap + 4), *o = s;
	if (!s)
		return fail(ps, "out of memory");
	while (*ps->p && *ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p++;
		if (c < 0x20) {
			free(s);
			return fail(ps, "a control character inside a string");
		}
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		char e = *ps->p++;
		switch (e) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp = 0;
			for (int i = 0; i < 4; i++) {
				char h = *ps->p++;
				cp <<= 4;
				if (h >= '0' && h <= '9') cp |= (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f') cp |= (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F') cp |= (unsigned)(h - 'A' + 10);
				else {
					free(s);
					return fail(ps, "a bad \\u escape");
				}
			}
			if (!cp) {
				free(s);
				return fail(ps, "a NUL character (\\u0000) inside a string");
			}
			put_utf8(&o, cp);
			break;
		}
		default:
			free(s);
			return fail(ps, "a bad escape in a string");
		}
	}
	if (*ps->p != '"') {
		free(s);
		return fail(ps, "an unterminated string");
	}
	ps->p++;
	*o = '\0';
	*out = s;
	return true;
}

static bool grow(struct json_val *v, size_t *cap, bool with_keys)
{
	if (v->n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 4;
	struct json_val *it = realloc(v->items, nc * sizeof(*it));
	if (!it)
		return false;
	v->items = it;
	if (with_keys) {
		char **k = realloc(v->keys, nc * sizeof(*k));
		if (!k)
			return false;
		v->keys = k;
	}
	*cap = nc;
	return true;
}

static bool parse_container(struct parser *ps, struct json_val *v, bool object)
{
	char close = object ? '}' : ']';
	v->type = object ? JSON_OBJ : JSON_ARR;
	ps->p++;
	if (++ps->depth > 64)
		return fail(ps, "nesting too deep");
	size_t cap = 0;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		ps->depth--;
		return true;
	}
	for (;;) {
		skip_ws(ps);
		if (!grow(v, &cap, object))
			return fail(ps, "out of memory");
		char *key = NULL;
		if (object) {
			if (!parse_string(ps, &key))
				return false;
			skip_ws(ps);
			if (*ps->p != ':') {
				free(key);
				return fail(ps, "expected ':' after a key");
			}
			ps->p++;
			v->keys[v->n] = key;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++;
		if (!parse_value(ps, &v->items[v->n - 1]))
			return false;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			ps->depth--;
			return true;
		}
		return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

/* RFC 8259 §6: number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ]
 * [ ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT ].  Where it ends, or NULL when p does
 * not start one (strtod alone would also take 0x1f, 012, inf, nan, "1."). */
static const char *number_end(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'x' || *p == 'X')
		return NULL; /* 012, 0.5.1, 0x1f: not one number */
	return p;
}

static bool parse_value(struct parser *ps, struct json_val *v)
{
	skip_ws(ps);
	char c = *ps->p;
	if (c == '{' || c == '[')
		return parse_container(ps, v, c == '{');
	if (c == '"') {
		v->type = JSON_STR;
		return parse_string(ps, &v->str);
	}
	if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
		v->type = JSON_BOOL;
		v->b = c == 't';
		ps->p += v->b ? 4 : 5;
		return true;
	}
	if (!strncmp(ps->p, "null", 4)) {
		v->type = JSON_NULL;
		ps->p += 4;
		return true;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		const char *end = number_end(ps->p);
		if (!end)
			return fail(ps, "a bad number");
		v->type = JSON_NUM;
		v->num = strtod(ps->p, NULL); /* the span is a plain decimal: strtod reads exactly it */
		ps->p = end;
		return true;
	}
	return fail(ps, c ? "an unexpected character" : "unexpected end of input");
}

static void free_members(struct json_val *v)
{
	free(v->str);
	for (size_t i = 0; i < v->n; i++) {
		free_members(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
}

void json_free(struct json_val *v)
{
	if (!v)
		return;
	free_members(v);
	free(v);
}

struct json_val *json_parse(const char *text, int *err_line, const char **err)
{
	struct parser ps = { text, 1, NULL, 0 };
	struct json_val *v = calloc(1, sizeof(*v));
	if (!v) {
		*err = "out of memory";
		*err_line = 0;
		return NULL;
	}
	bool ok = parse_value(&ps, v);
	if (ok) {
		skip_ws(&ps);
		if (*ps.p)
			ok = fail(&ps, "text after the end of the document");
	}
	if (!ok) {
		*err = ps.err;
		*err_line = ps.line;
		json_free(v);
		return NULL;
	}
	return v;
}

const struct json_val *json_get(const struct json_val *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}
