/*
 * apply_config.c — the strict reader of `vfctl apply`'s file (apply_config.h).
 */
#include "tools/vfctl/apply_config.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sriov/linux/sysfs_parse.h"

enum kind { K_UINT, K_BOOL, K_STR, K_ARR, K_OBJ };

struct key {
	const char *name;
	enum kind kind;
	long max;          /* K_UINT */
	const char *range; /* K_UINT: the phrase for a number out of range */
};

/* Every key 'vfctl list --json' prints; those that describe rather than
 * configure are checked for their type and then ignored. */
static const struct key pf_keys[] = {
	{ "bdf", K_STR, 0, NULL },
	{ "name", K_STR, 0, NULL },
	{ "driver", K_STR, 0, NULL },
	{ "netdev", K_STR, 0, NULL },
	{ "total_vfs", K_UINT, 65535, "outside 0-65535" },
	{ "num_vfs", K_UINT, 65535, "that is not a VF count (0-65535)" },
	{ "drivers_autoprobe", K_BOOL, 0, NULL },
	{ "problem", K_STR, 0, NULL },
	{ "vfs_missing", K_UINT, 65535, "outside 0-65535" },
	{ "vfs", K_ARR, 0, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct key vf_keys[] = {
	{ "index", K_UINT, 65535, "outside 0-65535" },
	{ "bdf", K_STR, 0, NULL },
	{ "driver", K_STR, 0, NULL },
	{ "iommu_group", K_UINT, INT_MAX, "that is not an IOMMU group number" },
	{ "netdev", K_STR, 0, NULL },
	{ "mac", K_STR, 0, NULL },
	{ "vlan", K_UINT, 4094, "outside 0-4094 (4095 is reserved)" },
	{ "qos", K_UINT, 7, "outside 0-7" },
	{ "vlan_proto", K_STR, 0, NULL },
	{ "spoofchk", K_BOOL, 0, NULL },
	{ "trust", K_BOOL, 0, NULL },
	{ "state", K_STR, 0, NULL },
	{ "min_tx_rate", K_UINT, 4000000, "outside 0-4000000 (Mbit/s)" },
	{ "max_tx_rate", K_UINT, 4000000, "outside 0-4000000 (Mbit/s)" },
	{ "guest", K_STR, 0, NULL },
	{ "guest_pid", K_UINT, INT_MAX, "that is not a process ID" },
	{ "stats", K_OBJ, 0, NULL },
	{ NULL, 0, 0, NULL },
};

/* A path into the document: object keys and array indices. */
struct seg {
	const char *key; /* NULL: an array index */
	size_t idx;
};

struct reader {
	const char *text;
	size_t len;
	const char *file;
	char *err;
	size_t errlen;
	struct seg path[6];
	size_t depth;
};

static size_t skip_ws(const struct reader *r, size_t i);
static size_t skip_value(const struct reader *r, size_t i);
static size_t locate(const struct reader *r);
static void pos_of(const struct reader *r, size_t off, char *out, size_t len);
static void last_key(const char *text, size_t upto, size_t len, char *out, size_t outlen);
static void printable(const char *s, char *out, size_t len);
static int bad(struct reader *r, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int parse_pf(struct reader *r, json_t *p, struct apply_pf *pf);
static int parse_vf(struct reader *r, json_t *o, const char *pf_where, struct apply_vf *w);
static int check_keys(struct reader *r, json_t *o, const struct key *keys, const char *where);

int apply_config_parse(const char *text, size_t len, const char *file, struct apply_config *cfg,
		       char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	struct reader r = { text, len, file, err, errlen, { { NULL, 0 } }, 0 };
	/* jansson's reader stops at a NUL byte as at the end of the text. */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		char pos[APPLY_POS_LEN];
		pos_of(&r, (size_t)(nul - text), pos, sizeof(pos));
		snprintf(err, errlen, "%s: not valid JSON: a NUL byte", pos);
		return -EINVAL;
	}
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		char key[48];
		last_key(text, je.position < 0 ? 0 : (size_t)je.position, len, key, sizeof(key));
		/* jansson quotes the text "near" the error: no control character
		 * of the file reaches the terminal. */
		for (char *c = je.text; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		const char *what = strncmp(je.text, "\\u0000 is not allowed", 21) ? je.text
			: "a \\u0000 (NUL) inside a string";
		if (je.line < 1)
			snprintf(err, errlen, "%s: not valid JSON%s: %s", file, key, what);
		else
			snprintf(err, errlen, "%s:%d:%d: not valid JSON%s: %s", file, je.line, je.column, key, what);
		return -EINVAL;
	}
	int rc = 0;
	const char *k;
	json_t *v;
	if (json_is_object(root))
		json_object_foreach(root, k, v) {
			if (strcmp(k, "pfs")) {
				r.path[0].key = k;
				r.depth = 1;
				char shown[40];
				printable(k, shown, sizeof(shown));
				rc = bad(&r, "the top level", "has an unknown key \"%s\" (only \"pfs\" is known)", shown);
				break;
			}
		}
	json_t *pfs = json_is_object(root) ? json_object_get(root, "pfs") : NULL;
	if (!rc && !json_is_array(pfs)) {
		r.depth = 0;
		rc = bad(&r, "the top level", "needs a \"pfs\" list, as 'vfctl list --json' prints");
	}
	size_t n = rc ? 0 : json_array_size(pfs);
	if (n) {
		cfg->pfs = calloc(n, sizeof(*cfg->pfs));
		if (!cfg->pfs)
			rc = -ENOMEM;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		r.path[0] = (struct seg){ "pfs", 0 };
		r.path[1] = (struct seg){ NULL, i };
		r.depth = 2;
		rc = parse_pf(&r, json_array_get(pfs, i), &cfg->pfs[i]);
		cfg->npf = i + 1;
	}
	json_decref(root);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", file);
		apply_config_free(cfg);
	}
	return rc;
}

void apply_config_free(struct apply_config *cfg)
{
	for (size_t i = 0; i < cfg->npf; i++)
		free(cfg->pfs[i].vfs);
	free(cfg->pfs);
	memset(cfg, 0, sizeof(*cfg));
}

/* --- one PF entry, one VF entry ------------------------------------------- */

static const char *str_or_null(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An integer member already checked by check_keys: 1 and *out, 0 absent/null. */
static int uint_member(json_t *o, const char *key, long *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return 0;
	*out = (long)json_integer_value(v);
	return 1;
}

static int bool_member(json_t *o, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_boolean(v))
		return 0;
	*out = json_is_true(v);
	return 1;
}

static int parse_pf(struct reader *r, json_t *p, struct apply_pf *pf)
{
	snprintf(pf->where, sizeof(pf->where), "pfs[%zu]", r->path[1].idx);
	pos_of(r, locate(r), pf->pos, sizeof(pf->pos));
	pf->autoprobe = -1;
	if (!json_is_object(p))
		return bad(r, pf->where, "is not an object");
	int rc = check_keys(r, p, pf_keys, pf->where);
	if (rc)
		return rc;
	const char *name = str_or_null(p, "bdf");
	if (!name)
		name = str_or_null(p, "netdev");
	if (!name || !*name)
		return bad(r, pf->where, "needs \"bdf\" (or \"netdev\") naming the PF");
	if (strlen(name) >= sizeof(pf->name)) {
		r->path[2].key = json_object_get(p, "bdf") ? "bdf" : "netdev";
		r->depth = 3;
		return bad(r, pf->where, "names a PF with more than %zu characters", sizeof(pf->name) - 1);
	}
	strcpy(pf->name, name);
	pf->has_num = uint_member(p, "num_vfs", &pf->num_vfs) == 1;
	r->path[2].key = "num_vfs";
	r->depth = 3;
	pos_of(r, locate(r), pf->num_pos, sizeof(pf->num_pos));
	bool_member(p, "drivers_autoprobe", &pf->autoprobe);
	json_t *vfs = json_object_get(p, "vfs");
	size_t n = json_array_size(vfs);
	if (n) {
		pf->vfs = calloc(n, sizeof(*pf->vfs));
		if (!pf->vfs)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		r->path[2] = (struct seg){ "vfs", 0 };
		r->path[3] = (struct seg){ NULL, i };
		r->depth = 4;
		rc = parse_vf(r, json_array_get(vfs, i), pf->where, &pf->vfs[i]);
		if (rc)
			return rc;
		pf->nvf = i + 1;
		for (size_t k = 0; k < i; k++)
			if (pf->vfs[k].index == pf->vfs[i].index) {
				r->path[4] = (struct seg){ "index", 0 };
				r->depth = 5;
				return bad(r, pf->vfs[i].where, "names VF %ld again (%s did already)",
					   pf->vfs[i].index, pf->vfs[k].where);
			}
	}
	return 0;
}

static int parse_vf(struct reader *r, json_t *o, const char *pf_where, struct apply_vf *w)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->where, sizeof(w->where), "%s.vfs[%zu]", pf_where, r->path[3].idx);
	if (!json_is_object(o))
		return bad(r, w->where, "is not an object");
	int rc = check_keys(r, o, vf_keys, w->where);
	if (rc)
		return rc;
	if (uint_member(o, "index", &w->index) != 1)
		return bad(r, w->where, "needs \"index\": the VF's number under its PF");
	struct reader at = *r;
	at.path[4] = (struct seg){ "index", 0 };
	at.depth = 5;
	pos_of(&at, locate(&at), w->pos, sizeof(w->pos));

	/* Each check below names the key: the position is the key's. */
	r->depth = 5;
	const char *s;
	long v;
	int b;
	if ((s = str_or_null(o, "mac"))) {
		r->path[4].key = "mac";
		if (sriov_mac_parse(s, w->st.mac))
			return bad(r, w->where, "has a \"mac\" that is not a MAC address like 52:54:00:12:34:01");
		if (w->st.mac[0] & 1)
			return bad(r, w->where, "has a multicast \"mac\"; a VF needs a unicast one");
		w->what |= SRIOV_SET_MAC;
	}
	if (uint_member(o, "vlan", &v))
		w->st.vlan = (uint32_t)v, w->has_vlan = true;
	if (uint_member(o, "qos", &v))
		w->st.qos = (uint32_t)v, w->has_qos = true;
	if ((s = str_or_null(o, "vlan_proto"))) {
		r->path[4].key = "vlan_proto";
		if (strcasecmp(s, "802.1Q") && strcasecmp(s, "802.1ad"))
			return bad(r, w->where, "has a \"vlan_proto\" other than \"802.1Q\" or \"802.1ad\"");
		w->st.vlan_proto = strcasecmp(s, "802.1ad") ? SRIOV_VLAN_PROTO_8021Q : SRIOV_VLAN_PROTO_8021AD;
		w->has_proto = true;
	}
	if (w->has_vlan || w->has_qos || w->has_proto)
		w->what |= SRIOV_SET_VLAN;
	if (bool_member(o, "spoofchk", &b))
		w->st.spoofchk = b, w->what |= SRIOV_SET_SPOOFCHK;
	if (bool_member(o, "trust", &b))
		w->st.trust = b, w->what |= SRIOV_SET_TRUST;
	if ((s = str_or_null(o, "state"))) {
		r->path[4].key = "state";
		if (sriov_link_state_parse(s) < 0)
			return bad(r, w->where, "has a \"state\" other than \"auto\", \"enable\" or \"disable\"");
		w->st.link_state = sriov_link_state_parse(s), w->what |= SRIOV_SET_LINK_STATE;
	}
	if (uint_member(o, "min_tx_rate", &v))
		w->st.min_tx_rate = (uint32_t)v, w->has_min = true;
	if (uint_member(o, "max_tx_rate", &v))
		w->st.max_tx_rate = (uint32_t)v, w->has_max = true;
	if (w->has_min || w->has_max)
		w->what |= SRIOV_SET_RATE;
	if (w->has_min && w->has_max && w->st.max_tx_rate && w->st.min_tx_rate > w->st.max_tx_rate) {
		r->path[4].key = "min_tx_rate";
		return bad(r, w->where, "has a \"min_tx_rate\" above its \"max_tx_rate\"");
	}
	if ((s = str_or_null(o, "driver"))) {
		r->path[4].key = "driver";
		if (sysfs_driver_name_check(s) || strlen(s) >= sizeof(w->driver))
			return bad(r, w->where, "has a \"driver\" that is not a driver name (1 to 63 printable "
				   "characters, no blank or '/', not '.' or '..')");
		strcpy(w->driver, s);
		w->has_driver = true;
	}
	return 0;
}

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_UINT: return "a whole number";
	case K_BOOL: return "true or false";
	case K_STR: return "a string";
	case K_ARR: return "a list";
	case K_OBJ: return "an object";
	}
	return "?";
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a whole number";
	case JSON_REAL: return "a number with a fraction or exponent";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* Every member of object `o` a known key with a value of its kind (or null,
 * "leave as it is"), numbers within their range. */
static int check_keys(struct reader *r, json_t *o, const struct key *keys, const char *where)
{
	const char *k;
	json_t *v;
	size_t d = r->depth;
	json_object_foreach(o, k, v) {
		r->path[d] = (struct seg){ k, 0 };
		r->depth = d + 1;
		const struct key *kk = keys;
		while (kk->name && strcmp(kk->name, k))
			kk++;
		if (!kk->name) {
			char known[400] = "";
			size_t used = 0;
			for (const struct key *q = keys; q->name && used < sizeof(known); q++)
				used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
							 q == keys ? "" : ", ", q->name);
			char shown[40];
			printable(k, shown, sizeof(shown));
			return bad(r, where, "has an unknown key \"%s\" (the keys are %s)", shown, known);
		}
		if (json_is_null(v))
			continue;
		bool ok;
		switch (kk->kind) {
		case K_UINT: ok = json_is_integer(v); break;
		case K_BOOL: ok = json_is_boolean(v); break;
		case K_STR: ok = json_is_string(v); break;
		case K_ARR: ok = json_is_array(v); break;
		default: ok = json_is_object(v); break;
		}
		if (!ok)
			return bad(r, where, "has a \"%s\" that is %s, not %s", k, type_name(v), kind_name(kk->kind));
		if (kk->kind == K_UINT && (json_integer_value(v) < 0 || json_integer_value(v) > kk->max))
			return bad(r, where, "has a \"%s\" %s", k, kk->range);
	}
	r->depth = d;
	return 0;
}

/* --- positions --------------------------------------------------------------
 * jansson keeps no positions in the tree, so a message about a member finds
 * it again in the text, which jansson has already accepted: a scan that only
 * skips well-formed values. */

static int bad(struct reader *r, const char *where, const char *fmt, ...)
{
	char pos[APPLY_POS_LEN], what[400];
	pos_of(r, locate(r), pos, sizeof(pos));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s: %s %s", pos, where, what);
	return -EINVAL;
}

static size_t skip_ws(const struct reader *r, size_t i)
{
	while (i < r->len && strchr(" \t\r\n", r->text[i]) && r->text[i])
		i++;
	return i;
}

static size_t skip_string(const struct reader *r, size_t i)
{
	for (i++; i < r->len && r->text[i] != '"'; i++)
		if (r->text[i] == '\\')
			i++;
	return i < r->len ? i + 1 : r->len;
}

static size_t skip_value(const struct reader *r, size_t i)
{
	if (i >= r->len)
		return r->len;
	char c = r->text[i];
	if (c == '"')
		return skip_string(r, i);
	if (c == '{' || c == '[') {
		int depth = 0;
		while (i < r->len) {
			c = r->text[i];
			if (c == '"') {
				i = skip_string(r, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return r->len;
	}
	while (i < r->len && !strchr(",]} \t\r\n", r->text[i]) && r->text[i])
		i++;
	return i;
}

/* The offset of r->path[0..depth) in the text: a member's key, an item's
 * value; as far as it gets when the path is not there. */
static size_t locate(const struct reader *r)
{
	size_t i = skip_ws(r, 0);
	for (size_t s = 0; s < r->depth; s++) {
		const struct seg *g = &r->path[s];
		if (i >= r->len || r->text[i] != (g->key ? '{' : '['))
			return i;
		size_t start = i;
		i = skip_ws(r, i + 1);
		bool found = false;
		for (size_t n = 0; i < r->len && r->text[i] != '}' && r->text[i] != ']'; n++) {
			size_t item = i;
			if (g->key) {
				size_t end = skip_string(r, i);
				json_t *k = json_loadb(r->text + i, end - i, JSON_DECODE_ANY, NULL);
				bool match = k && !strcmp(json_string_value(k) ? json_string_value(k) : "", g->key);
				json_decref(k);
				i = skip_ws(r, end);
				i = skip_ws(r, i + 1); /* ':' */
				if (match) {
					if (s + 1 == r->depth)
						return item;
					found = true;
					break;
				}
			} else if (n == g->idx) {
				found = true;
				break;
			}
			i = skip_ws(r, skip_value(r, i));
			if (i < r->len && r->text[i] == ',')
				i = skip_ws(r, i + 1);
		}
		if (!found)
			return start;
	}
	return i;
}

/* "FILE:LINE:COLUMN" of byte `off`, the column counted in characters as
 * jansson counts it. */
static void pos_of(const struct reader *r, size_t off, char *out, size_t len)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < off && i < r->len; i++) {
		unsigned char c = (unsigned char)r->text[i];
		if (c == '\n')
			line++, col = 1;
		else if ((c & 0xC0) != 0x80)
			col++;
	}
	snprintf(out, len, "%s:%d:%d", r->file, line, col);
}

/* For a syntax error at byte `upto`: " (after key \"KEY\")", the last object
 * key before it, or "".  The text is not known to be well formed here: a
 * plain scan for a string followed by ':'. */
static void last_key(const char *text, size_t upto, size_t len, char *out, size_t outlen)
{
	size_t kstart = 0, klen = 0;
	bool have = false;
	if (upto > len)
		upto = len;
	for (size_t i = 0; i < upto; i++) {
		if (text[i] != '"')
			continue;
		size_t s = ++i;
		while (i < upto && text[i] != '"')
			i += text[i] == '\\' ? 2 : 1;
		if (i >= upto)
			break;
		size_t j = i + 1;
		while (j < upto && strchr(" \t\r\n", text[j]) && text[j])
			j++;
		if (j < upto && text[j] == ':')
			kstart = s, klen = i - s, have = true;
	}
	if (!have) {
		out[0] = '\0';
		return;
	}
	char k[32];
	size_t n = 0;
	for (size_t i = 0; i < klen && n + 4 < sizeof(k); i++) {
		unsigned char c = (unsigned char)text[kstart + i];
		k[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n < klen)
		k[n++] = '.', k[n++] = '.', k[n++] = '.';
	k[n] = '\0';
	snprintf(out, outlen, " (after key \"%s\")", k);
}

/* A key from the file, fit for a one-line message: ASCII printable, '?' for
 * anything else, cut with "..." past `len`. */
static void printable(const char *s, char *out, size_t len)
{
	size_t n = 0, l = strlen(s);
	for (size_t i = 0; i < l && n + 4 < len; i++)
		out[n++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
	if (n < l && n + 3 < len)
		out[n++] = '.', out[n++] = '.', out[n++] = '.';
	out[n] = '\0';
}
