/*
 * libFuzzer target for `vfctl apply`'s input: the JSON parser
 * (tools/vfctl/json.c) and the checks apply makes on the parsed document
 * before it touches anything (tools/vfctl/cmd_apply.c: each PF entry's
 * members, parse_vf on each VF entry).
 *
 * The parser is held to RFC 8259 by an independent recognizer below: it
 * must accept exactly the texts the grammar allows (nesting up to 64, no
 * NUL character in a string, which a C string cannot carry).  A parsed
 * document must be well formed, and every VF entry parse_vf accepts must be
 * within the ranges the kernel takes (index, VLAN, QoS, rates, unicast
 * MAC, a driver name without '/').  The parser is replaced by jansson later:
 * the validation half of this target keeps working on its json_val tree.
 */
#include "tools/vfctl/cmd_apply.c"   /* parse_vf, get_* and struct vf_want */

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static FILE *report;

static void check(bool ok, const char *what, const char *text)
{
	if (!ok) {
		fprintf(report, "fuzz_vfctl_json: invariant broken: %s\ninput: %.200s\n", what, text);
		fflush(report);
		abort();
	}
}

/* --- RFC 8259 recognizer ------------------------------------------------------ */

struct rec {
	const char *p;
	int depth;
};

static void r_ws(struct rec *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}
static bool r_digits(struct rec *r)
{
	if (*r->p < '0' || *r->p > '9')
		return false;
	while (*r->p >= '0' && *r->p <= '9')
		r->p++;
	return true;
}
static bool r_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* §7: '"' *char '"'; no control characters, escapes from the list. */
static bool r_string(struct rec *r)
{
	if (*r->p++ != '"')
		return false;
	for (;;) {
		unsigned char c = (unsigned char)*r->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		c = (unsigned char)*r->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++)
				if (!r_hex(r->p[i]))
					return false;
			if (!strncmp(r->p, "0000", 4))
				return false; /* our profile: no NUL in a string */
			r->p += 4;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
}
static bool r_value(struct rec *r);
static bool r_container(struct rec *r, char close)
{
	r->p++;
	if (++r->depth > 64)
		return false;
	r_ws(r);
	if (*r->p == close) {
		r->p++;
		r->depth--;
		return true;
	}
	for (;;) {
		r_ws(r);
		if (close == '}') {
			if (!r_string(r))
				return false;
			r_ws(r);
			if (*r->p++ != ':')
				return false;
		}
		if (!r_value(r))
			return false;
		r_ws(r);
		char c = *r->p++;
		if (c == close) {
			r->depth--;
			return true;
		}
		if (c != ',')
			return false;
	}
}
/* §3 value; §6 number = [ minus ] int [ frac ] [ exp ]. */
static bool r_value(struct rec *r)
{
	r_ws(r);
	switch (*r->p) {
	case '{': return r_container(r, '}');
	case '[': return r_container(r, ']');
	case '"': return r_string(r);
	case 't': return !strncmp(r->p, "true", 4) && (r->p += 4);
	case 'f': return !strncmp(r->p, "false", 5) && (r->p += 5);
	case 'n': return !strncmp(r->p, "null", 4) && (r->p += 4);
	default: break;
	}
	if (*r->p == '-')
		r->p++;
	if (*r->p == '0')
		r->p++;
	else if (!r_digits(r))
		return false;
	if (*r->p == '.') {
		r->p++;
		if (!r_digits(r))
			return false;
	}
	if (*r->p == 'e' || *r->p == 'E') {
		r->p++;
		if (*r->p == '+' || *r->p == '-')
			r->p++;
		if (!r_digits(r))
			return false;
	}
	return true;
}
static bool rfc8259(const char *text)
{
	struct rec r = { text, 0 };
	if (!r_value(&r))
		return false;
	r_ws(&r);
	return *r.p == '\0';
}

/* --- the parsed document ------------------------------------------------------ */

static void check_tree(const struct json_val *v, int depth, const char *text)
{
	check(depth <= 65, "nesting within the parser's limit", text);
	switch (v->type) {
	case JSON_NULL: case JSON_BOOL: case JSON_NUM:
		check(!v->n && !v->str, "a scalar has no members", text);
		break;
	case JSON_STR:
		check(v->str != NULL, "a string has its text", text);
		break;
	case JSON_ARR: case JSON_OBJ:
		check(!v->n || v->items, "a container has its items", text);
		for (size_t i = 0; i < v->n; i++) {
			if (v->type == JSON_OBJ)
				check(v->keys && v->keys[i], "an object member has a key", text);
			check_tree(&v->items[i], depth + 1, text);
		}
		break;
	default:
		check(false, "a value has a known type", text);
	}
}

/* What apply checks in one PF entry before it looks at the host, and the
 * ranges an accepted VF entry must be in. */
static void check_pf(const struct ctx *c, const struct json_val *p, const char *text)
{
	const char *name;
	long num;
	int ap;
	(void)get_str(p, "bdf", &name);
	(void)get_str(p, "netdev", &name);
	if (get_uint(p, "num_vfs", 65535, &num) == 1)
		check(num >= 0 && num <= 65535, "num_vfs within 0-65535", text);
	(void)get_bool(p, "drivers_autoprobe", &ap);
	const struct json_val *vfs = json_get(p, "vfs");
	if (!vfs || vfs->type != JSON_ARR)
		return;
	for (size_t i = 0; i < vfs->n; i++) {
		struct vf_want w;
		if (parse_vf(c, "vfs[i]", &vfs->items[i], &w) != VFCTL_OK)
			continue;
		check(w.index >= 0 && w.index <= 65535, "a VF index within 0-65535", text);
		check(w.st.vlan <= VFCTL_VLAN_MAX && w.st.qos <= 7, "VLAN 0-4094 and QoS 0-7", text);
		check(w.st.min_tx_rate <= 4000000 && w.st.max_tx_rate <= 4000000, "rates within 4000000", text);
		check(!(w.has_min && w.has_max && w.st.max_tx_rate && w.st.min_tx_rate > w.st.max_tx_rate),
		      "min_tx_rate not above max_tx_rate", text);
		check(!(w.what & SRIOV_SET_MAC) || !(w.st.mac[0] & 1), "a unicast MAC", text);
		check(!w.driver || (w.driver[0] && !strchr(w.driver, '/')), "a driver name without '/'", text);
		check(!!(w.what & SRIOV_SET_VLAN) == (w.has_vlan || w.has_qos || w.has_proto),
		      "VLAN settings asked for exactly when given", text);
		check(!!(w.what & SRIOV_SET_RATE) == (w.has_min || w.has_max),
		      "rate settings asked for exactly when given", text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!report) {
		/* apply's one-line complaints go nowhere; sanitizer reports
		 * write to fd 2 directly and still reach the log. */
		report = fdopen(dup(2), "w");
		stderr = fopen("/dev/null", "w");
		if (!report || !stderr)
			abort();
	}
	/* An exact-size, NUL-terminated copy: a read past the end is an ASan report. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int line = -1;
	const char *why = NULL;
	struct json_val *root = json_parse(text, &line, &why);
	bool valid = rfc8259(text);
	check(!root == !valid, root ? "the parser accepted text RFC 8259 does not allow"
				     : "the parser refused valid JSON", text);
	if (!root) {
		check(why && line >= 1, "a refusal names its reason and line", text);
	} else {
		check_tree(root, 0, text);
		struct ctx c = { "fuzz.json", true, false, false, 0, NULL };
		const struct json_val *pfs = json_get(root, "pfs");
		for (size_t i = 0; pfs && pfs->type == JSON_ARR && i < pfs->n; i++)
			if (pfs->items[i].type == JSON_OBJ)
				check_pf(&c, &pfs->items[i], text);
		json_free(root);
	}
	free(text);
	return 0;
}
