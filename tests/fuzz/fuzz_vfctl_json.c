/*
 * libFuzzer target for `vfctl apply`'s input: tools/vfctl/apply_config.c,
 * the strict reader (jansson's parser with duplicate keys refused, then the
 * schema checks of every PF and VF entry), on any bytes.
 *
 * Invariants:
 * - the syntax stage accepts exactly what an independent recognizer below
 *   accepts: RFC 8259 text in UTF-8 plus the strictness apply adds (no
 *   duplicate key in an object, no \u0000 or lone surrogate in a string,
 *   an integer that fits 64 bits, a real that does not overflow, nesting
 *   within jansson's 2048 levels) — a refusal for any other reason is a
 *   schema error, never "not valid JSON";
 * - a refusal is one message starting with "FILE:LINE:COLUMN: " (or "FILE: ");
 * - an accepted config has every value within the kernel's ranges (index,
 *   VLAN, QoS, rates, unicast MAC, a valid driver name), no VF twice in a PF,
 *   and settings asked for exactly when given.
 */
#include "tools/vfctl/apply_config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/linux/sysfs_parse.h"

static void check(bool ok, const char *what, const uint8_t *data, size_t size)
{
	if (!ok) {
		fprintf(stderr, "fuzz_vfctl_json: invariant broken: %s\ninput: %.*s\n", what,
			(int)(size < 200 ? size : 200), (const char *)data);
		abort();
	}
}

/* --- the recognizer ------------------------------------------------------------ */

struct rec {
	const unsigned char *p, *end;
	int depth;
};

static int peek(const struct rec *r)
{
	return r->p < r->end ? *r->p : -1;
}

static void r_ws(struct rec *r)
{
	while (peek(r) == ' ' || peek(r) == '\t' || peek(r) == '\n' || peek(r) == '\r')
		r->p++;
}

static bool r_digits(struct rec *r)
{
	if (peek(r) < '0' || peek(r) > '9')
		return false;
	while (peek(r) >= '0' && peek(r) <= '9')
		r->p++;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static bool r_u4(struct rec *r, unsigned *cp)
{
	if (r->end - r->p < 4)
		return false;
	*cp = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->p[i]);
		if (h < 0)
			return false;
		*cp = *cp << 4 | (unsigned)h;
	}
	r->p += 4;
	return true;
}

/* One UTF-8 character (RFC 3629: no overlong form, no surrogate, <= 10FFFF). */
static bool r_utf8(struct rec *r, unsigned *cp)
{
	unsigned c = *r->p++;
	int n;
	if (c < 0x80) {
		*cp = c;
		return true;
	}
	if (c >= 0xC2 && c <= 0xDF) n = 1, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF) n = 2, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4) n = 3, c &= 0x07;
	else return false;
	for (int i = 0; i < n; i++) {
		if (peek(r) < 0 || (*r->p & 0xC0) != 0x80)
			return false;
		c = c << 6 | (*r->p++ & 0x3Fu);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return false;
	*cp = c;
	return true;
}

/* §7 string; its code points go to `out` (for comparing keys) when given. */
static bool r_string(struct rec *r, unsigned *out, size_t *n, size_t cap)
{
	if (peek(r) != '"')
		return false;
	r->p++;
	*n = 0;
	for (;;) {
		int c = peek(r);
		unsigned cp;
		if (c < 0 || c < 0x20)
			return false;
		if (c == '"') {
			r->p++;
			return true;
		}
		if (c != '\\') {
			if (!r_utf8(r, &cp))
				return false;
		} else {
			r->p++;
			c = peek(r);
			if (c < 0)
				return false;
			r->p++;
			switch (c) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (!r_u4(r, &cp) || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					unsigned lo;
					if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
						return false;
					r->p += 2;
					if (!r_u4(r, &lo) || lo < 0xDC00 || lo > 0xDFFF)
						return false;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				break;
			default:
				return false;
			}
		}
		if (out && *n < cap)
			out[*n] = cp;
		(*n)++;
	}
}

struct key {
	unsigned *cp;
	size_t n;
};

static bool r_value(struct rec *r);

static bool r_object(struct rec *r)
{
	r->p++;
	r_ws(r);
	if (peek(r) == '}') {
		r->p++;
		return true;
	}
	struct key *keys = NULL;
	size_t nkeys = 0;
	bool ok = false;
	for (;;) {
		r_ws(r);
		struct rec probe = *r;
		size_t n;
		if (!r_string(&probe, NULL, &n, 0))
			break;
		unsigned *cp = malloc((n ? n : 1) * sizeof(*cp));
		struct key *k = realloc(keys, (nkeys + 1) * sizeof(*keys));
		if (!cp || !k) {
			free(cp);
			if (k)
				keys = k;
			abort();
		}
		keys = k;
		r_string(r, cp, &n, n);
		bool dup = false;
		for (size_t i = 0; i < nkeys && !dup; i++)
			dup = keys[i].n == n && !memcmp(keys[i].cp, cp, n * sizeof(*cp));
		keys[nkeys++] = (struct key){ cp, n };
		if (dup)
			break;
		r_ws(r);
		if (peek(r) != ':')
			break;
		r->p++;
		if (!r_value(r))
			break;
		r_ws(r);
		int c = peek(r);
		if (c == '}') {
			r->p++;
			ok = true;
			break;
		}
		if (c != ',')
			break;
		r->p++;
	}
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i].cp);
	free(keys);
	return ok;
}

static bool r_array(struct rec *r)
{
	r->p++;
	r_ws(r);
	if (peek(r) == ']') {
		r->p++;
		return true;
	}
	for (;;) {
		if (!r_value(r))
			return false;
		r_ws(r);
		int c = peek(r);
		if (c < 0)
			return false;
		r->p++;
		if (c == ']')
			return true;
		if (c != ',')
			return false;
	}
}

static bool word(struct rec *r, const char *w)
{
	size_t l = strlen(w);
	if ((size_t)(r->end - r->p) < l || memcmp(r->p, w, l))
		return false;
	r->p += l;
	return true;
}

/* §6 number, and what jansson can hold: an integer within int64, a real
 * that does not overflow a double. */
static bool r_number(struct rec *r)
{
	const unsigned char *start = r->p;
	bool real = false;
	if (peek(r) == '-')
		r->p++;
	if (peek(r) == '0')
		r->p++;
	else if (!r_digits(r))
		return false;
	if (peek(r) == '.') {
		r->p++, real = true;
		if (!r_digits(r))
			return false;
	}
	if (peek(r) == 'e' || peek(r) == 'E') {
		r->p++, real = true;
		if (peek(r) == '+' || peek(r) == '-')
			r->p++;
		if (!r_digits(r))
			return false;
	}
	size_t l = (size_t)(r->p - start);
	char *s = malloc(l + 1);
	if (!s)
		abort();
	memcpy(s, start, l);
	s[l] = '\0';
	errno = 0;
	bool fits;
	if (real) {
		double d = strtod(s, NULL);
		fits = !(errno == ERANGE && isinf(d));
	} else {
		(void)strtoll(s, NULL, 10);
		fits = errno != ERANGE;
	}
	free(s);
	return fits;
}

/* jansson counts every value it enters, scalars too, up to 2048. */
static bool r_value(struct rec *r)
{
	if (++r->depth > 2048)
		return false;
	r_ws(r);
	bool ok;
	size_t n;
	switch (peek(r)) {
	case '{': ok = r_object(r); break;
	case '[': ok = r_array(r); break;
	case '"': ok = r_string(r, NULL, &n, 0); break;
	case 't': ok = word(r, "true"); break;
	case 'f': ok = word(r, "false"); break;
	case 'n': ok = word(r, "null"); break;
	default: ok = r_number(r); break;
	}
	r->depth--;
	return ok;
}

static bool strict_json(const uint8_t *data, size_t size)
{
	struct rec r = { data, data + size, 0 };
	if (!r_value(&r))
		return false;
	r_ws(&r);
	return r.p == r.end;
}

/* --- the accepted config ---------------------------------------------------------- */

static void check_config(const struct apply_config *cfg, const uint8_t *data, size_t size)
{
	for (size_t p = 0; p < cfg->npf; p++) {
		const struct apply_pf *pf = &cfg->pfs[p];
		check(pf->name[0] != '\0', "a PF entry names its PF", data, size);
		check(!pf->has_num || (pf->num_vfs >= 0 && pf->num_vfs <= 65535), "num_vfs within 0-65535", data, size);
		check(pf->autoprobe >= -1 && pf->autoprobe <= 1, "drivers_autoprobe a boolean", data, size);
		for (size_t i = 0; i < pf->nvf; i++) {
			const struct apply_vf *w = &pf->vfs[i];
			check(w->index >= 0 && w->index <= 65535, "a VF index within 0-65535", data, size);
			for (size_t k = 0; k < i; k++)
				check(pf->vfs[k].index != w->index, "no VF twice in one PF entry", data, size);
			check(w->st.vlan <= 4094 && w->st.qos <= 7, "VLAN 0-4094 and QoS 0-7", data, size);
			check(w->st.min_tx_rate <= 4000000 && w->st.max_tx_rate <= 4000000, "rates within 4000000",
			      data, size);
			check(!(w->has_min && w->has_max && w->st.max_tx_rate && w->st.min_tx_rate > w->st.max_tx_rate),
			      "min_tx_rate not above max_tx_rate", data, size);
			check(!(w->what & SRIOV_SET_MAC) || !(w->st.mac[0] & 1), "a unicast MAC", data, size);
			check(!w->has_driver || sysfs_driver_name_check(w->driver) == 0, "a valid driver name", data, size);
			check(!!(w->what & SRIOV_SET_VLAN) == (w->has_vlan || w->has_qos || w->has_proto),
			      "VLAN settings asked for exactly when given", data, size);
			check(!!(w->what & SRIOV_SET_RATE) == (w->has_min || w->has_max),
			      "rate settings asked for exactly when given", data, size);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read past the end is an ASan report. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct apply_config cfg;
	char err[1024] = "";
	int rc = apply_config_parse(text, size, "fuzz.json", &cfg, err, sizeof(err));
	bool valid = strict_json(data, size);
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "a known error code", data, size);
	if (rc == -EINVAL) {
		/* "fuzz.json[:LINE:COLUMN]: not valid JSON…", and nothing from the
		 * input before it: a quoted key may hold that phrase too. */
		const char *q = err + strlen("fuzz.json");
		if (*q == ':' && q[1] >= '0' && q[1] <= '9') {
			q = strchr(q + 1, ':');
			q = q ? q + 1 + strspn(q + 1, "0123456789") : err;
		}
		bool syntax = !strncmp(q, ": not valid JSON", 16);
		check(syntax == !valid, valid ? "the parser refused strict JSON" : "the parser accepted text "
		      "that is not strict JSON", data, size);
		check(!strncmp(err, "fuzz.json:", 10) && !strchr(err, '\n'), "one message naming the file",
		      data, size);
	} else if (rc == 0) {
		check(valid, "a config accepted from text that is not strict JSON", data, size);
		check_config(&cfg, data, size);
		apply_config_free(&cfg);
	}
	free(text);
	return 0;
}
