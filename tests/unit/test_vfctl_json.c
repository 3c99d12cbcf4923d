/* tools/vfctl/apply_config.c, the strict reader `vfctl apply` checks its file
 * with (jansson, duplicate keys refused, then the schema): every refusal names
 * FILE:LINE:COLUMN and the key; RFC 8259 numbers only (no 012, 0x1f, inf,
 * nan, "1."); no \u0000; no unknown key, no value of the wrong type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/vfctl/apply_config.h"

/* `text` is refused with a message starting with `pos` and containing `why`. */
static void refuses(const char *text, const char *pos, const char *why)
{
	struct apply_config cfg;
	char err[1024] = "";
	int rc = apply_config_parse(text, strlen(text), "c.json", &cfg, err, sizeof(err));
	if (rc == 0) {
		apply_config_free(&cfg);
		fail_msg("apply_config_parse accepted %s", text);
	}
	assert_int_equal(rc, -EINVAL);
	size_t pl = strlen(pos);
	if (strncmp(err, pos, pl) || (pos[pl - 1] != ':' && err[pl] != ':'))
		fail_msg("refused %s with \"%s\", expected it at %s", text, err, pos);
	if (!strstr(err, why))
		fail_msg("refused %s with \"%s\", expected \"%s\"", text, err, why);
}

static struct apply_config accepts(const char *text)
{
	struct apply_config cfg;
	char err[1024] = "";
	if (apply_config_parse(text, strlen(text), "c.json", &cfg, err, sizeof(err)))
		fail_msg("apply_config_parse refused %s: %s", text, err);
	return cfg;
}

/* The VLAN of VF entry 0 of PF entry 0 when "vlan" is written as `num`. */
static long vlan_as(const char *num)
{
	char text[200];
	snprintf(text, sizeof(text), "{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"vfs\": [{\"index\": 0, \"vlan\": %s}]}]}",
		 num);
	struct apply_config cfg = accepts(text);
	assert_int_equal(cfg.npf, 1);
	assert_int_equal(cfg.pfs[0].nvf, 1);
	assert_true(cfg.pfs[0].vfs[0].has_vlan);
	long v = (long)cfg.pfs[0].vfs[0].st.vlan;
	apply_config_free(&cfg);
	return v;
}

static const char *vlan_doc(const char *num, char *buf, size_t len)
{
	snprintf(buf, len, "{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"vfs\": [{\"index\": 0, \"vlan\": %s}]}]}", num);
	return buf;
}

static void takes_whole_numbers(void **state)
{
	(void)state;
	assert_int_equal(vlan_as("0"), 0);
	assert_int_equal(vlan_as("-0"), 0);
	assert_int_equal(vlan_as("7"), 7);
	assert_int_equal(vlan_as("4094"), 4094);
	assert_int_equal(vlan_as(" 100 "), 100);
}

static void refuses_malformed_numbers(void **state)
{
	(void)state;
	char b[200];
	/* a syntax error is where jansson stopped; a schema error at the key */
	refuses(vlan_doc("012", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\"): invalid token");
	refuses(vlan_doc("0x1f", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\")");
	refuses(vlan_doc("-inf", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\")");
	refuses(vlan_doc("nan", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\")");
	refuses(vlan_doc("1.", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\")");
	refuses(vlan_doc("1e", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\")");
	refuses(vlan_doc("1.5.2", b, sizeof(b)), "c.json:1:", "not valid JSON (after key \"vlan\")");
	refuses(vlan_doc("99999999999999999999", b, sizeof(b)), "c.json:1:", "too big integer");
	/* well-formed, but not what "vlan" takes */
	refuses(vlan_doc("2.0", b, sizeof(b)), "c.json:1:55", "pfs[0].vfs[0] has a \"vlan\" that is a number with "
		"a fraction or exponent, not a whole number");
	refuses(vlan_doc("1e2", b, sizeof(b)), "c.json:1:55", "not a whole number");
	refuses(vlan_doc("-1", b, sizeof(b)), "c.json:1:55", "has a \"vlan\" outside 0-4094");
	refuses(vlan_doc("4095", b, sizeof(b)), "c.json:1:55", "has a \"vlan\" outside 0-4094 (4095 is reserved)");
	refuses(vlan_doc("\"100\"", b, sizeof(b)), "c.json:1:55", "has a \"vlan\" that is a string, not a whole number");
}

static void refuses_unknown_and_duplicate_keys(void **state)
{
	(void)state;
	refuses("{\"pfs\": [\n  {\"bdf\": \"0000:01:00.0\",\n   \"vfs\": [{\"index\": 1, \"vlna\": 3}]}]}", "c.json:3:25",
		"pfs[0].vfs[0] has an unknown key \"vlna\"");
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"num_vf\": 2}]}", "c.json:1:34",
		"pfs[0] has an unknown key \"num_vf\"");
	refuses("{\"pfs\": [], \"pf\": []}", "c.json:1:13", "the top level has an unknown key \"pf\"");
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"num_vfs\": 2, \"num_vfs\": 3}]}", "c.json:1",
		"duplicate object key near '\"num_vfs\"'");
	/* the same key written with an escape is the same key */
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"\\u0062df\": \"x\"}]}", "c.json:1", "duplicate object key");
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"vfs\": [{\"index\": 1}, {\"index\": 1}]}]}", "c.json:1:57",
		"pfs[0].vfs[1] names VF 1 again (pfs[0].vfs[0] did already)");
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"drivers_autoprobe\": 1}]}", "c.json:1:34",
		"pfs[0] has a \"drivers_autoprobe\" that is a whole number, not true or false");
	refuses("{\"pfs\": [{\"num_vfs\": 1}]}", "c.json:1:10", "pfs[0] needs \"bdf\" (or \"netdev\") naming the PF");
	refuses("[]", "c.json:1:1", "the top level needs a \"pfs\" list");
}

static void refuses_nul_and_bad_strings(void **state)
{
	(void)state;
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"vfs\": [{\"index\": 0, \"driver\": \"vfio-pci\\u0000/../../x\"}]}]}",
		"c.json:1", "a \\u0000 (NUL) inside a string");
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"vfs\": [{\"index\": 0, \"driver\": \"../x\"}]}]}",
		"c.json:1:55", "has a \"driver\" that is not a driver name");
	refuses("{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"vfs\": [{\"index\": 0, \"mac\": \"01:00:5e:00:00:01\"}]}]}",
		"c.json:1:55", "has a multicast \"mac\"");
	/* a NUL byte in the file (jansson alone would stop reading there) */
	struct apply_config cfg;
	char err[256];
	assert_int_equal(apply_config_parse("{\"pfs\": []}\0{", 13, "c.json", &cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.json:1:12: not valid JSON: a NUL byte");
	/* invalid UTF-8 */
	refuses("{\"pfs\": [{\"bdf\": \"\xff\"}]}", "c.json:1", "not valid JSON");
	/* control characters of the file do not reach the message */
	assert_int_equal(apply_config_parse("{\"pfs\" [\n\x1b[31m", 15, "c.json", &cfg, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, '\x1b'));
	assert_null(strchr(err, '\n'));
}

static void takes_list_json(void **state)
{
	(void)state;
	/* what 'vfctl list --json' prints: the descriptive keys are accepted */
	struct apply_config cfg = accepts(
		"{\"pfs\": [{\"bdf\": \"0000:01:00.0\", \"name\": \"82576\", \"driver\": \"igb\", \"netdev\": \"enp1s0\",\n"
		" \"total_vfs\": 7, \"num_vfs\": 2, \"drivers_autoprobe\": false, \"problem\": null,\n"
		" \"vfs\": [{\"index\": 0, \"bdf\": \"0000:01:10.0\", \"driver\": \"vfio-pci\", \"iommu_group\": 12,\n"
		"   \"netdev\": null, \"mac\": \"52:54:00:12:34:01\", \"vlan\": 100, \"qos\": 3, \"vlan_proto\": \"802.1ad\",\n"
		"   \"spoofchk\": true, \"trust\": false, \"state\": \"enable\", \"min_tx_rate\": 0, \"max_tx_rate\": 1000,\n"
		"   \"guest\": \"web1\", \"guest_pid\": 4242, \"stats\": {\"rx_packets\": 1}},\n"
		"  {\"index\": 1, \"mac\": null, \"state\": \"auto\"}]}]}");
	assert_int_equal(cfg.npf, 1);
	const struct apply_pf *pf = &cfg.pfs[0];
	assert_string_equal(pf->name, "0000:01:00.0");
	assert_true(pf->has_num);
	assert_int_equal(pf->num_vfs, 2);
	assert_int_equal(pf->autoprobe, 0);
	assert_string_equal(pf->num_pos, "c.json:2:18");
	assert_int_equal(pf->nvf, 2);
	const struct apply_vf *w = &pf->vfs[0];
	assert_int_equal(w->index, 0);
	assert_int_equal(w->what, SRIOV_SET_MAC | SRIOV_SET_VLAN | SRIOV_SET_SPOOFCHK | SRIOV_SET_TRUST |
				  SRIOV_SET_LINK_STATE | SRIOV_SET_RATE);
	assert_int_equal(w->st.vlan, 100);
	assert_int_equal(w->st.vlan_proto, SRIOV_VLAN_PROTO_8021AD);
	assert_true(w->has_driver);
	assert_string_equal(w->driver, "vfio-pci");
	assert_string_equal(w->pos, "c.json:3:11");
	assert_int_equal(pf->vfs[1].what, SRIOV_SET_LINK_STATE);
	assert_false(pf->vfs[1].has_driver);
	apply_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(takes_whole_numbers),
		cmocka_unit_test(refuses_malformed_numbers),
		cmocka_unit_test(refuses_unknown_and_duplicate_keys),
		cmocka_unit_test(refuses_nul_and_bad_strings),
		cmocka_unit_test(takes_list_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
