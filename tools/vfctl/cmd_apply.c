/*
 * cmd_apply.c — `vfctl apply FILE`: make the host match a declarative config
 * (the format `vfctl list --json` prints), changing only what differs.
 */
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sriov_netlink.h"

static const char usage[] =
	"usage: vfctl apply FILE [--dry-run] [--force]\n"
	"\n"
	"Make the host match FILE (JSON; '-' reads stdin), changing only what\n"
	"differs, so applying the same file twice changes nothing the second time.\n"
	"The format is what 'vfctl list --json' prints; keys that describe rather\n"
	"than configure (name, total_vfs, netdev, iommu_group, guest, stats, a VF's\n"
	"bdf) are ignored.  Per PF (named by \"bdf\", or by \"netdev\"):\n"
	"  \"num_vfs\": N                  VF count (goes through 0 when it changes)\n"
	"  \"drivers_autoprobe\": BOOL     host driver for new VFs\n"
	"  \"vfs\": [ { \"index\": I, ... } ] per VF, any of:\n"
	"      \"mac\", \"vlan\", \"qos\", \"vlan_proto\" (\"802.1Q\"|\"802.1ad\"), \"spoofchk\",\n"
	"      \"trust\", \"state\" (\"auto\"|\"enable\"|\"disable\"), \"min_tx_rate\",\n"
	"      \"max_tx_rate\", \"driver\" (e.g. \"vfio-pci\", or the host driver)\n"
	"A null value means \"leave as it is\".\n"
	"\n"
	"The whole file is checked before anything changes; a bad file exits 2.\n"
	"  --dry-run  print what would change, change nothing\n"
	"  --force    as for 'vfctl sriov' and 'vfctl bind': change the VF count even\n"
	"             when a VF is bound to vfio-pci, take a VF whose interface is up\n";

struct ctx {
	const char *file;
	bool dry_run, force;
	bool recreating; /* dry run: this PF's VFs would be recreated */
	int changes;
	FILE *out;       /* where change lines go (/dev/null in the check pass) */
};

/* --- reading the file ---------------------------------------------------- */

static char *read_all(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n + 1 < cap)
			break;
		if (cap > (64u << 20)) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
			break;
		}
		char *b = realloc(buf, cap *= 2);
		if (!b)
			free(buf);
		buf = b;
	}
	if (buf)
		buf[n] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
}

static int bad(const struct ctx *c, const char *where, const char *what)
{
	fprintf(stderr, "vfctl: %s: %s %s; fix the file and run 'vfctl apply' again (nothing was "
			"changed).\n", c->file, where, what);
	return VFCTL_USAGE;
}

/* An optional integer member in [0, max]: 1 present, 0 absent/null, <0 bad. */
static int get_uint(const struct json_val *o, const char *key, long max, long *out)
{
	const struct json_val *v = json_get(o, key);
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_NUM || v->num < 0 || v->num > (double)max || floor(v->num) != v->num)
		return -1;
	*out = (long)v->num;
	return 1;
}

static int get_bool(const struct json_val *o, const char *key, int *out)
{
	const struct json_val *v = json_get(o, key);
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_BOOL)
		return -1;
	*out = v->b;
	return 1;
}

static int get_str(const struct json_val *o, const char *key, const char **out)
{
	const struct json_val *v = json_get(o, key);
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_STR)
		return -1;
	*out = v->str;
	return 1;
}

/* One VF's wanted settings, parsed and range-checked. */
struct vf_want {
	long index;
	unsigned what; /* SRIOV_SET_* that the file specifies */
	struct sriov_vf_state st;
	bool has_vlan, has_qos, has_proto, has_min, has_max;
	const char *driver;
};

static int parse_vf(const struct ctx *c, const char *where, const struct json_val *o,
		    struct vf_want *w)
{
	memset(w, 0, sizeof(*w));
	if (o->type != JSON_OBJ)
		return bad(c, where, "is not an object");
	if (get_uint(o, "index", 65535, &w->index) != 1)
		return bad(c, where, "needs \"index\": the VF's number under its PF");
	const char *s;
	long v;
	int b, r;
	if ((r = get_str(o, "mac", &s)) < 0 || (r == 1 && sriov_mac_parse(s, w->st.mac)))
		return bad(c, where, "has a \"mac\" that is not a MAC address like 52:54:00:12:34:01");
	if (r == 1 && (w->st.mac[0] & 1))
		return bad(c, where, "has a multicast \"mac\"; a VF needs a unicast one");
	if (r == 1)
		w->what |= SRIOV_SET_MAC;
	if ((r = get_uint(o, "vlan", VFCTL_VLAN_MAX, &v)) < 0)
		return bad(c, where, "has a \"vlan\" outside 0-4094 (4095 is reserved)");
	if (r == 1)
		w->st.vlan = (uint32_t)v, w->has_vlan = true;
	if ((r = get_uint(o, "qos", 7, &v)) < 0)
		return bad(c, where, "has a \"qos\" outside 0-7");
	if (r == 1)
		w->st.qos = (uint32_t)v, w->has_qos = true;
	if ((r = get_str(o, "vlan_proto", &s)) < 0 ||
	    (r == 1 && strcasecmp(s, "802.1Q") && strcasecmp(s, "802.1ad")))
		return bad(c, where, "has a \"vlan_proto\" other than \"802.1Q\" or \"802.1ad\"");
	if (r == 1) {
		w->st.vlan_proto = strcasecmp(s, "802.1ad") ? SRIOV_VLAN_PROTO_8021Q : SRIOV_VLAN_PROTO_8021AD;
		w->has_proto = true;
	}
	if (w->has_vlan || w->has_qos || w->has_proto)
		w->what |= SRIOV_SET_VLAN;
	if ((r = get_bool(o, "spoofchk", &b)) < 0)
		return bad(c, where, "has a \"spoofchk\" that is not true/false");
	if (r == 1)
		w->st.spoofchk = b, w->what |= SRIOV_SET_SPOOFCHK;
	if ((r = get_bool(o, "trust", &b)) < 0)
		return bad(c, where, "has a \"trust\" that is not true/false");
	if (r == 1)
		w->st.trust = b, w->what |= SRIOV_SET_TRUST;
	if ((r = get_str(o, "state", &s)) < 0 || (r == 1 && sriov_link_state_parse(s) < 0))
		return bad(c, where, "has a \"state\" other than \"auto\", \"enable\" or \"disable\"");
	if (r == 1)
		w->st.link_state = sriov_link_state_parse(s), w->what |= SRIOV_SET_LINK_STATE;
	if ((r = get_uint(o, "min_tx_rate", 4000000, &v)) < 0)
		return bad(c, where, "has a bad \"min_tx_rate\" (Mbit/s)");
	if (r == 1)
		w->st.min_tx_rate = (uint32_t)v, w->has_min = true;
	if ((r = get_uint(o, "max_tx_rate", 4000000, &v)) < 0)
		return bad(c, where, "has a bad \"max_tx_rate\" (Mbit/s)");
	if (r == 1)
		w->st.max_tx_rate = (uint32_t)v, w->has_max = true;
	if (w->has_min || w->has_max)
		w->what |= SRIOV_SET_RATE;
	if (w->has_min && w->has_max && w->st.max_tx_rate && w->st.min_tx_rate > w->st.max_tx_rate)
		return bad(c, where, "has a \"min_tx_rate\" above its \"max_tx_rate\"");
	if ((r = get_str(o, "driver", &w->driver)) < 0 || (r == 1 && vfctl_driver_name_problem(w->driver)))
		return bad(c, where, "has a \"driver\" that is not a driver name (1 to 63 printable "
			   "characters, no blank or '/', not '.' or '..')");
	return VFCTL_OK;
}

/* --- applying ------------------------------------------------------------- */

/* Count a change and print its line ("setting ..." or "would set ..."). */
static void change(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void change(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	c->changes++;
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fflush(c->out);
}

/* Fill the unspecified parts of a setting from the current state, and keep
 * only the settings that differ. */
static unsigned diff(struct vf_want *w, const struct sriov_vf_state *cur)
{
	unsigned d = 0;
	if ((w->what & SRIOV_SET_MAC) && memcmp(w->st.mac, cur->mac, 6))
		d |= SRIOV_SET_MAC;
	if (w->what & SRIOV_SET_VLAN) {
		if (!w->has_vlan)
			w->st.vlan = cur->vlan;
		if (!w->has_qos)
			w->st.qos = w->has_vlan && w->st.vlan != cur->vlan ? 0 : cur->qos;
		if (!w->has_proto)
			w->st.vlan_proto = cur->vlan_proto;
		if (w->st.vlan != cur->vlan || w->st.qos != cur->qos ||
		    (w->st.vlan && w->st.vlan_proto != cur->vlan_proto))
			d |= SRIOV_SET_VLAN;
	}
	if ((w->what & SRIOV_SET_SPOOFCHK) && w->st.spoofchk != cur->spoofchk)
		d |= SRIOV_SET_SPOOFCHK;
	if ((w->what & SRIOV_SET_TRUST) && w->st.trust != cur->trust)
		d |= SRIOV_SET_TRUST;
	if ((w->what & SRIOV_SET_LINK_STATE) && w->st.link_state != cur->link_state)
		d |= SRIOV_SET_LINK_STATE;
	if (w->what & SRIOV_SET_RATE) {
		if (!w->has_min)
			w->st.min_tx_rate = cur->min_tx_rate;
		if (!w->has_max)
			w->st.max_tx_rate = cur->max_tx_rate;
		if (w->st.min_tx_rate != cur->min_tx_rate || w->st.max_tx_rate != cur->max_tx_rate)
			d |= SRIOV_SET_RATE;
	}
	return d;
}

static int apply_vf(struct ctx *c, const char *pf, const struct sriov_pf_info *info,
		    struct vf_want *w)
{
	char label[64];
	sriov_fmt(label, sizeof(label), "%s vf %ld", pf, w->index);
	struct sriov_vf_info vf;
	bool exists = !c->recreating && sriov_vf_get(pf, (int)w->index, &vf) == 0;
	if (!c->dry_run && !exists)
		return vfctl_error("%s has no VF %ld after setting its VF count; check \"num_vfs\" in %s.",
				   pf, w->index, c->file);
	if (w->what) {
		struct sriov_vf_state cur;
		memset(&cur, 0, sizeof(cur));
		if (!info->netdev[0])
			return vfctl_error("%s has no network interface, so VF settings cannot be applied; bind "
					   "its network driver first.", pf);
		if (exists) {
			int err = sriov_nl_get_vf(info->netdev, (uint32_t)w->index, &cur);
			if (err)
				return vfctl_error("cannot read the settings of %s (%s).", label, vfctl_strerror(err));
		} else {
			cur.spoofchk = cur.trust = cur.link_state = -1; /* VF does not exist yet */
		}
		unsigned d = diff(w, &cur);
		for (unsigned bit = 1; bit <= SRIOV_SET_RATE; bit <<= 1)
			if (d & bit)
				change(c, "%s %s: %s\n", c->dry_run ? "would set" : "setting", label,
				       sriov_set_name(bit));
		if (d && !c->dry_run) {
			unsigned failed = 0;
			int err = sriov_nl_set_vf(info->netdev, (uint32_t)w->index, d, &w->st, &failed);
			if (err)
				return vfctl_error("the %s driver of %s refused %s for VF %ld (%s); that VF's "
						   "settings were left as they were.", info->driver, pf,
						   sriov_set_name(failed), w->index, vfctl_strerror(err));
		}
	}
	if (w->driver) {
		char cur_drv[SRIOV_DRV_LEN] = "";
		if (exists)
			pci_current_driver(vf.bdf, cur_drv, sizeof(cur_drv));
		if (strcmp(cur_drv, w->driver)) {
			change(c, "%s %s: driver %s\n", c->dry_run ? "would bind" : "binding", label, w->driver);
			if (!c->dry_run) {
				bool user_now = !strcmp(cur_drv, "vfio-pci") || !strcmp(cur_drv, "pci-stub");
				bool user_want = !strcmp(w->driver, "vfio-pci") || !strcmp(w->driver, "pci-stub");
				int rc = user_now && !user_want ? vfctl_release_dev(vf.bdf, w->driver)
								: vfctl_bind_dev(vf.bdf, w->driver, c->force);
				if (rc)
					return rc;
			}
		}
	}
	return VFCTL_OK;
}

static int apply_pf(struct ctx *c, const struct json_val *p, size_t pi)
{
	char where[64], pf[PCI_BDF_LEN];
	sriov_fmt(where, sizeof(where), "pfs[%zu]", pi);
	if (p->type != JSON_OBJ)
		return bad(c, where, "is not an object");
	const char *name = NULL;
	if (get_str(p, "bdf", &name) != 1 && get_str(p, "netdev", &name) != 1)
		return bad(c, where, "needs \"bdf\" (or \"netdev\") naming the PF");
	int rc = vfctl_resolve_pf(name, pf);
	if (rc)
		return rc;
	struct sriov_pf_info info;
	int err = sriov_pf_get(pf, &info);
	if (err == -EIO && info.problem[0])
		return vfctl_pf_problem(&info);
	if (err)
		return vfctl_error("cannot read the SR-IOV state of %s (%s).", pf, vfctl_strerror(err));
	long num = info.num_vfs;
	int r = get_uint(p, "num_vfs", 65535, &num);
	if (r < 0)
		return bad(c, where, "has a \"num_vfs\" that is not a count");
	if (num > info.total_vfs) {
		char w2[96];
		sriov_fmt(w2, sizeof(w2), "asks for %ld VFs on %s, which supports at most", num, pf);
		fprintf(stderr, "vfctl: %s: %s %s %d (TotalVFs); nothing was changed.\n", c->file, where, w2,
			info.total_vfs);
		return VFCTL_USAGE;
	}
	int ap;
	if ((r = get_bool(p, "drivers_autoprobe", &ap)) < 0)
		return bad(c, where, "has a \"drivers_autoprobe\" that is not true/false");
	const struct json_val *vfs = json_get(p, "vfs");
	if (vfs && vfs->type != JSON_ARR && vfs->type != JSON_NULL)
		return bad(c, where, "has \"vfs\" that is not a list");
	size_t nvf = vfs && vfs->type == JSON_ARR ? vfs->n : 0;
	struct vf_want *wants = calloc(nvf ? nvf : 1, sizeof(*wants));
	if (!wants)
		return vfctl_error("out of memory reading %s.", c->file);
	for (size_t i = 0; i < nvf; i++) {
		char w2[96];
		sriov_fmt(w2, sizeof(w2), "%s.vfs[%zu]", where, i);
		rc = parse_vf(c, w2, &vfs->items[i], &wants[i]);
		if (!rc && wants[i].index >= num)
			rc = bad(c, w2, "names a VF index at or past \"num_vfs\"");
		if (rc) {
			free(wants);
			return rc;
		}
	}
	/* Everything in this PF's entry checked: now change things. */
	if (r == 1 && ap != info.drivers_autoprobe && info.drivers_autoprobe >= 0) {
		change(c, "%s %s: drivers_autoprobe %s\n", c->dry_run ? "would set" : "setting", pf, ap ? "on" : "off");
		if (!c->dry_run && (err = sriov_set_autoprobe(pf, ap)))
			rc = vfctl_error("cannot set sriov_drivers_autoprobe of %s (%s).", pf, vfctl_strerror(err));
	}
	c->recreating = false;
	if (!rc && num != info.num_vfs) {
		change(c, "%s %s: num_vfs %d -> %ld\n", c->dry_run ? "would change" : "changing", pf,
		       info.num_vfs, num);
		c->recreating = c->dry_run;
		if (!c->dry_run) {
			rc = vfctl_set_numvfs(pf, num, c->force);
			sriov_pf_get(pf, &info);
		}
	}
	for (size_t i = 0; !rc && i < nvf; i++)
		rc = apply_vf(c, pf, &info, &wants[i]);
	free(wants);
	return rc;
}

static int run(int argc, char **argv)
{
	const struct vfctl_cmd *me = &vfctl_cmd_apply;
	struct ctx c = { NULL, false, false, false, 0, stdout };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			c.dry_run = true;
		else if (!strcmp(argv[i], "--force"))
			c.force = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return vfctl_usage_error(me, "unknown option '%s'.", argv[i]);
		else if (!c.file)
			c.file = argv[i];
		else
			return vfctl_usage_error(me, "apply takes one file.");
	}
	if (!c.file)
		return vfctl_usage_error(me, "name the config file (or - for stdin).");
	char *text = read_all(c.file);
	if (!text)
		return vfctl_error("cannot read %s (%s).", c.file, strerror(errno));
	int line = 0;
	const char *why = NULL;
	struct json_val *root = json_parse(text, &line, &why);
	free(text);
	if (!root) {
		fprintf(stderr, "vfctl: %s line %d is not valid JSON (%s); fix it and run 'vfctl apply' again "
				"(nothing was changed).\n", c.file, line, why);
		return VFCTL_USAGE;
	}
	const struct json_val *pfs = json_get(root, "pfs");
	int rc = VFCTL_OK;
	if (!pfs || pfs->type != JSON_ARR)
		rc = bad(&c, "the top level", "needs a \"pfs\" list, as 'vfctl list --json' prints");
	/* First pass: a dry run checks every PF entry before anything changes. */
	bool was_dry = c.dry_run;
	c.dry_run = true;
	c.out = fopen("/dev/null", "we");
	if (!c.out)
		rc = vfctl_error("cannot open /dev/null (%s).", strerror(errno));
	for (size_t i = 0; !rc && i < pfs->n; i++)
		rc = apply_pf(&c, &pfs->items[i], i);
	if (c.out)
		fclose(c.out);
	c.out = stdout;
	int planned = c.changes;
	c.dry_run = was_dry;
	c.changes = 0;
	for (size_t i = 0; !rc && i < pfs->n && (planned || was_dry); i++)
		rc = apply_pf(&c, &pfs->items[i], i);
	json_free(root);
	if (!rc && c.changes == 0)
		printf("nothing to change: the host already matches %s.\n", c.file);
	else if (!rc && !was_dry)
		printf("%d change%s applied from %s.\n", c.changes, c.changes == 1 ? "" : "s", c.file);
	return rc;
}

const struct vfctl_cmd vfctl_cmd_apply = { "apply", "make VF counts and settings match a JSON config (idempotent)",
					   usage, run };
