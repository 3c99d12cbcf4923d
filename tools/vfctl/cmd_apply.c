/*
 * cmd_apply.c — `vfctl apply FILE`: make the host match a declarative config
 * (the format `vfctl list --json` prints), changing only what differs.
 * The file is read and checked by apply_config.c; what is here needs the host.
 */
#include "tools/vfctl/vjson.h"
#include "tools/vfctl/apply_config.h"
#include "tools/vfctl/vfctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/linux/pci_bind.h"
#include "sriov/linux/sriov_netlink.h"

static const char usage[] =
	"usage: vfctl apply [--dry-run] [--json] [--force] FILE\n"
	"\n"
	"Make the host match FILE (JSON; '-' reads stdin), changing only what\n"
	"differs, so applying the same file twice changes nothing the second time.\n"
	"The format is what 'vfctl list --json' prints; keys that describe rather\n"
	"than configure (name, driver and total_vfs of a PF, problem, a VF's bdf,\n"
	"netdev, iommu_group, guest, guest_pid, stats) are type-checked and ignored.\n"
	"Per PF (named by \"bdf\", or by \"netdev\"):\n"
	"  \"num_vfs\": N                  VF count (goes through 0 when it changes)\n"
	"  \"drivers_autoprobe\": BOOL     host driver for new VFs\n"
	"  \"vfs\": [ { \"index\": I, ... } ] per VF, any of:\n"
	"      \"mac\", \"vlan\", \"qos\", \"vlan_proto\" (\"802.1Q\"|\"802.1ad\"), \"spoofchk\",\n"
	"      \"trust\", \"state\" (\"auto\"|\"enable\"|\"disable\"), \"min_tx_rate\",\n"
	"      \"max_tx_rate\", \"driver\" (e.g. \"vfio-pci\", or the host driver)\n"
	"A null value means \"leave as it is\".  The file is strict JSON (RFC 8259):\n"
	"an unknown or repeated key, a value of the wrong type or out of range, or a\n"
	"number like 012 is an error naming FILE:LINE:COLUMN and the key.\n"
	"\n"
	"The whole file is checked before anything changes; a bad file exits 2.\n"
	"  -n, --dry-run  print what would change (old -> new), change nothing\n"
	"  -j, --json     print the changes (or, with --dry-run, the plan) as JSON\n"
	"  -f, --force    as for 'vfctl sriov' and 'vfctl bind': change the VF count\n"
	"                 even when a VF is bound to vfio-pci, take a VF whose\n"
	"                 interface is up\n";

struct ctx {
	const char *file;
	bool dry_run, force, json;
	bool recreating; /* dry run: this PF's VFs would be recreated */
	int changes;
	bool quiet;      /* the check pass: count, print nothing */
	json_t *plan;    /* --json: the changes */
};

/* --- reading the file ---------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
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
	*len = n;
	if (f != stdin)
		fclose(f);
	return buf;
}

static int bad_file(const char *what)
{
	fprintf(stderr, "vfctl: %s; fix the file and run 'vfctl apply' again (nothing was changed).\n", what);
	return VFCTL_USAGE;
}

/* --- applying ------------------------------------------------------------- */

/* Count a change and print it: "would set PF vf 1: mac OLD -> NEW" (dry run)
 * or "setting …", or add it to the JSON plan.  vf < 0: the PF itself. */
static void change(struct ctx *c, const char *verb, const char *pf, long vf, const char *setting,
		   const char *old, const char *new)
{
	c->changes++;
	if (c->quiet)
		return;
	if (c->json) {
		json_array_append_new(c->plan, json_pack("{s:s, s:o, s:s, s:o, s:o}", "pf", pf,
			"vf", vf < 0 ? json_null() : json_integer(vf), "setting", setting,
			"old", vjson_str_or_null(old), "new", vjson_str_or_null(new)));
		return;
	}
	char label[64];
	if (vf < 0)
		snprintf(label, sizeof(label), "%s", pf);
	else
		snprintf(label, sizeof(label), "%s vf %ld", pf, vf);
	printf("%s %s: %s %s -> %s\n", verb, label, setting, old && *old ? old : "none",
	       new && *new ? new : "none");
	fflush(stdout);
}

static const char *onoff(int v)
{
	return v < 0 ? "unknown" : v ? "on" : "off";
}

/* One setting of a VF state as text, for old -> new. */
static void setting_text(unsigned bit, const struct sriov_vf_state *st, char *out, size_t len)
{
	switch (bit) {
	case SRIOV_SET_MAC: {
		char mac[18];
		sriov_mac_format(st->mac, mac);
		snprintf(out, len, "%s", mac);
		break;
	}
	case SRIOV_SET_VLAN:
		snprintf(out, len, "%u qos %u proto %s", st->vlan, st->qos,
			 st->vlan_proto == SRIOV_VLAN_PROTO_8021AD ? "802.1ad" : "802.1Q");
		break;
	case SRIOV_SET_SPOOFCHK: snprintf(out, len, "%s", onoff(st->spoofchk)); break;
	case SRIOV_SET_TRUST: snprintf(out, len, "%s", onoff(st->trust)); break;
	case SRIOV_SET_LINK_STATE:
		snprintf(out, len, "%s", st->link_state < 0 ? "unknown" : sriov_link_state_name(st->link_state));
		break;
	case SRIOV_SET_RATE:
		snprintf(out, len, "min %u max %u Mbit/s", st->min_tx_rate, st->max_tx_rate);
		break;
	default:
		snprintf(out, len, "?");
	}
}

/* Fill the unspecified parts of a setting from the current state, and keep
 * only the settings that differ. */
static unsigned diff(struct apply_vf *w, const struct sriov_vf_state *cur)
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
		    struct apply_vf *w)
{
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
				return vfctl_error("cannot read the settings of %s vf %ld (%s).", pf, w->index,
						   vfctl_strerror(err));
		} else {
			cur.spoofchk = cur.trust = cur.link_state = -1; /* VF does not exist yet */
		}
		unsigned d = diff(w, &cur);
		for (unsigned bit = 1; bit <= SRIOV_SET_RATE; bit <<= 1) {
			if (!(d & bit))
				continue;
			char old[64], new[64];
			setting_text(bit, &cur, old, sizeof(old));
			setting_text(bit, &w->st, new, sizeof(new));
			if (!exists)
				snprintf(old, sizeof(old), "(new VF)");
			change(c, c->dry_run ? "would set" : "setting", pf, w->index, sriov_set_name(bit), old, new);
		}
		if (d && !c->dry_run) {
			unsigned failed = 0;
			int err = sriov_nl_set_vf(info->netdev, (uint32_t)w->index, d, &w->st, &failed);
			if (err)
				return vfctl_error("the %s driver of %s refused %s for VF %ld (%s); that VF's "
						   "settings were left as they were.", info->driver, pf,
						   sriov_set_name(failed), w->index, vfctl_strerror(err));
		}
	}
	if (w->has_driver) {
		char cur_drv[SRIOV_DRV_LEN] = "";
		if (exists)
			pci_current_driver(vf.bdf, cur_drv, sizeof(cur_drv));
		if (strcmp(cur_drv, w->driver)) {
			change(c, c->dry_run ? "would bind" : "binding", pf, w->index, "driver", cur_drv, w->driver);
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

static int apply_pf(struct ctx *c, struct apply_pf *p)
{
	char pf[PCI_BDF_LEN];
	int rc = vfctl_resolve_pf(p->name, pf);
	if (rc)
		return rc;
	struct sriov_pf_info info;
	int err = sriov_pf_get(pf, &info);
	if (err == -EIO && info.problem[0])
		return vfctl_pf_problem(&info);
	if (err)
		return vfctl_error("cannot read the SR-IOV state of %s (%s).", pf, vfctl_strerror(err));
	long num = p->has_num ? p->num_vfs : info.num_vfs;
	if (num > info.total_vfs) {
		fprintf(stderr, "vfctl: %s: %s asks for %ld VFs on %s, which supports at most %d (TotalVFs); "
				"nothing was changed.\n", p->num_pos, p->where, num, pf, info.total_vfs);
		return VFCTL_USAGE;
	}
	for (size_t i = 0; i < p->nvf; i++)
		if (p->vfs[i].index >= num) {
			fprintf(stderr, "vfctl: %s: %s names VF %ld, at or past \"num_vfs\" (%ld) of %s; fix the "
					"file and run 'vfctl apply' again (nothing was changed).\n",
				p->vfs[i].pos, p->vfs[i].where, p->vfs[i].index, num, pf);
			return VFCTL_USAGE;
		}
	/* Everything in this PF's entry checked: now change things. */
	if (p->autoprobe >= 0 && p->autoprobe != info.drivers_autoprobe && info.drivers_autoprobe >= 0) {
		change(c, c->dry_run ? "would set" : "setting", pf, -1, "drivers_autoprobe",
		       onoff(info.drivers_autoprobe), onoff(p->autoprobe));
		if (!c->dry_run && (err = sriov_set_autoprobe(pf, p->autoprobe)))
			rc = vfctl_error("cannot set sriov_drivers_autoprobe of %s (%s).", pf, vfctl_strerror(err));
	}
	c->recreating = false;
	if (!rc && num != info.num_vfs) {
		char old[24], new[24];
		snprintf(old, sizeof(old), "%d", info.num_vfs);
		snprintf(new, sizeof(new), "%ld", num);
		change(c, c->dry_run ? "would change" : "changing", pf, -1, "num_vfs", old, new);
		c->recreating = c->dry_run;
		if (!c->dry_run) {
			rc = vfctl_set_numvfs(pf, num, c->force);
			sriov_pf_get(pf, &info);
		}
	}
	for (size_t i = 0; !rc && i < p->nvf; i++)
		rc = apply_vf(c, pf, &info, &p->vfs[i]);
	return rc;
}

static int run(int argc, char **argv)
{
	const struct vfctl_cmd *me = &vfctl_cmd_apply;
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { 0 };
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, ":njf", opts, NULL)) != -1) {
		switch (o) {
		case 'n': c.dry_run = true; break;
		case 'j': c.json = true; break;
		case 'f': c.force = true; break;
		default: return vfctl_opt_error(me, o, argv);
		}
	}
	if (optind >= argc)
		return vfctl_usage_error(me, "name the config file (or - for stdin).");
	if (argc - optind > 1)
		return vfctl_usage_error(me, "apply takes one file, not '%s' too.", argv[optind + 1]);
	c.file = argv[optind];
	size_t len = 0;
	char *text = read_all(c.file, &len);
	if (!text)
		return vfctl_error("cannot read %s (%s).", c.file, strerror(errno));
	struct apply_config cfg;
	char why[1024];
	int err = apply_config_parse(text, len, c.file, &cfg, why, sizeof(why));
	free(text);
	if (err == -ENOMEM)
		return vfctl_error("out of memory reading %s.", c.file);
	if (err)
		return bad_file(why);
	/* First pass: a dry run checks every PF entry against the host before
	 * anything changes. */
	int rc = VFCTL_OK;
	bool was_dry = c.dry_run;
	c.dry_run = c.quiet = true;
	for (size_t i = 0; !rc && i < cfg.npf; i++)
		rc = apply_pf(&c, &cfg.pfs[i]);
	int planned = c.changes;
	c.dry_run = was_dry;
	c.quiet = false;
	c.changes = 0;
	c.plan = c.json ? json_array() : NULL;
	for (size_t i = 0; !rc && i < cfg.npf && (planned || was_dry); i++)
		rc = apply_pf(&c, &cfg.pfs[i]);
	apply_config_free(&cfg);
	if (c.json) {
		if (!rc || c.changes)
			vjson_print(stdout, json_pack("{s:s, s:b, s:o}", "file", c.file, "dry_run", was_dry,
						      "changes", c.plan));
		else
			json_decref(c.plan);
	} else if (!rc && c.changes == 0) {
		printf("nothing to change: the host already matches %s.\n", c.file);
	} else if (!rc && !was_dry) {
		printf("%d change%s applied from %s.\n", c.changes, c.changes == 1 ? "" : "s", c.file);
	}
	return rc;
}

const struct vfctl_cmd vfctl_cmd_apply = { "apply", "make VF counts and settings match a JSON config (idempotent)",
					   usage, run };
