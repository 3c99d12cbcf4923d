/* What vfctl export/stats/status generate, validated by the consumers'
 * rules rather than compared as strings: libvirt XML by libvirt's own
 * schemas (virt-xml-validate), the device plugin's config.json by the
 * schema its README documents, Prometheus text by the exposition format's
 * grammar, JSON by parsing it (jansson).  Sources are a hand-built sysfs
 * (VFSTACK_SYSFS) and /proc (VFSTACK_PROC). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "sriov/linux/sriov_sysfs.h"
#include "sriov/linux/vf_export.h"
#include "sriov/linux/vf_holder.h"
#include "sriov/linux/vf_stats.h"

static char root[256], proc[256], tmpd[256];

static void sh(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *base, const char *rel, const char *val)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	sh("mkdir -p '%s'", p);
	*slash = '/';
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(val, f);
	fclose(f);
}

static void device(const char *bdf, const char *devid, const char *driver, int group)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", bdf);
	put(root, rel, "0x8086\n");
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", bdf);
	put(root, rel, devid);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", bdf);
	put(root, rel, "0x020000\n");
	if (driver)
		sh("mkdir -p '%s/bus/pci/drivers/%s' && ln -s '%s/bus/pci/drivers/%s' '%s/bus/pci/devices/%s/driver'",
		   root, driver, root, driver, root, bdf);
	if (group >= 0)
		sh("mkdir -p '%s/kernel/iommu_groups/%d/devices' && ln -s '%s/kernel/iommu_groups/%d' "
		   "'%s/bus/pci/devices/%s/iommu_group'", root, group, root, group, root, bdf);
}

/* An igb PF (eth0) with vf 0 on igbvf (eth1, counters in sysfs) and vf 1
 * on vfio-pci in group 5, held by pid 100 ("vfs-vmm"). */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vfs-exp-sysfs-XXXXXX");
	snprintf(proc, sizeof(proc), "/tmp/vfs-exp-proc-XXXXXX");
	snprintf(tmpd, sizeof(tmpd), "/tmp/vfs-exp-out-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_non_null(mkdtemp(proc));
	assert_non_null(mkdtemp(tmpd));
	sriov_sysfs_set_root(root);
	vf_holder_set_proc_root(proc);
	device("0000:00:02.0", "0x10c9\n", "igb", 1);
	put(root, "bus/pci/devices/0000:00:02.0/sriov_totalvfs", "7\n");
	put(root, "bus/pci/devices/0000:00:02.0/sriov_numvfs", "3\n");
	sh("mkdir -p '%s/bus/pci/devices/0000:00:02.0/net/eth0'", root);
	device("0000:00:12.0", "0x10ca\n", "igbvf", 4);
	device("0000:00:12.2", "0x10ca\n", "vfio-pci", 5);
	device("0000:00:12.4", "0x10ca\n", NULL, 6);
	static const char *const ctr[][2] = {
		{ "rx_packets", "1200\n" }, { "tx_packets", "340\n" }, { "rx_bytes", "1500000\n" },
		{ "tx_bytes", "40960\n" }, { "rx_dropped", "3\n" }, { "tx_dropped", "0\n" },
	};
	for (size_t i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "bus/pci/devices/0000:00:12.0/net/eth1/statistics/%s", ctr[i][0]);
		put(root, rel, ctr[i][1]);
	}
	const char *vfs[] = { "0000:00:12.0", "0000:00:12.2", "0000:00:12.4" };
	for (int i = 0; i < 3; i++) {
		sh("ln -s '%s/bus/pci/devices/%s' '%s/bus/pci/devices/0000:00:02.0/virtfn%d'", root, vfs[i], root, i);
		sh("ln -s '%s/bus/pci/devices/0000:00:02.0' '%s/bus/pci/devices/%s/physfn'", root, root, vfs[i]);
	}
	/* /proc: 100 holds group 5; 200 holds group 50 (a prefix trap) and
	 * /dev/null; 300 holds the iommufd cdev of vf 1; "self" is no pid. */
	sh("mkdir -p %s/100/fd %s/200/fd %s/300/fd %s/self/fd", proc, proc, proc, proc);
	sh("ln -s /dev/null %s/100/fd/0 && ln -s /dev/vfio/vfio %s/100/fd/3 && ln -s /dev/vfio/5 %s/100/fd/4",
	   proc, proc, proc);
	sh("ln -s /dev/vfio/50 %s/200/fd/7 && ln -s /dev/null %s/200/fd/1", proc, proc);
	sh("ln -s /dev/vfio/devices/vfio0 %s/300/fd/9 && ln -s /dev/vfio/5 %s/self/fd/3", proc, proc);
	put(proc, "100/comm", "vfs-vmm\n");
	put(proc, "300/comm", "qemu\033[31m\n");
	sh("mkdir -p '%s/bus/pci/devices/0000:00:12.2/vfio-dev/vfio0'", root);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s' '%s' '%s'", root, proc, tmpd);
	sriov_sysfs_set_root(NULL);
	vf_holder_set_proc_root(NULL);
	return 0;
}

/* --- validators ---------------------------------------------------------------- */

static char *write_tmp(const char *name, const char *text)
{
	static char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmpd, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* libvirt's domain schema on a whole domain: exit status of
 * virt-xml-validate (libvirt-clients, installed by `make deps`). */
static int libvirt_validate(const char *xml)
{
	if (system("command -v virt-xml-validate >/dev/null 2>&1") != 0)
		fail_msg("virt-xml-validate is not installed (package libvirt-clients): run 'make deps'");
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "virt-xml-validate '%s' domain >/dev/null 2>&1", write_tmp("d.xml", xml));
	return system(cmd);
}

/* A device element inside the smallest domain libvirt accepts. */
static int libvirt_validate_dev(const char *dev)
{
	char *doc = NULL;
	assert_true(asprintf(&doc, "<domain type='kvm'><name>t</name><memory>131072</memory>"
				   "<os><type>hvm</type></os><devices>%s</devices></domain>", dev) > 0);
	int rc = libvirt_validate(doc);
	free(doc);
	return rc;
}

/* The device plugin's config.json (README "Config parameters"): an object
 * with "resourceList", a list of objects with a unique "resourceName" of
 * [A-Za-z0-9_] only, optional resourcePrefix/deviceType/isRdma, and
 * "selectors": a map of string lists among the documented selectors;
 * vendor and device IDs are 4 hex digits as sysfs shows them. */
static const char *k8s_schema_error(const char *text, size_t *nres)
{
	static char why[256];
	json_error_t e;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (!root) {
		snprintf(why, sizeof(why), "not JSON: %s (line %d)", e.text, e.line);
		return why;
	}
	const char *err = NULL;
	json_t *list = json_object_get(root, "resourceList");
	if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_array(list))
		err = "the top level is not {\"resourceList\": [...]}";
	static const char *const sel_keys[] = { "vendors", "devices", "drivers", "pfNames", "rootDevices",
						"linkTypes", "ddpProfiles", "pciAddresses" };
	static const char *const res_keys[] = { "resourceName", "resourcePrefix", "deviceType",
						"selectors", "isRdma", "excludeTopology" };
	regex_t name_re, hex_re;
	assert_int_equal(regcomp(&name_re, "^[A-Za-z0-9_]+$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&hex_re, "^[0-9a-f]{4}$", REG_EXTENDED | REG_NOSUB), 0);
	size_t i;
	json_t *res;
	json_array_foreach(err ? NULL : list, i, res) {
		const char *k;
		json_t *v;
		json_t *name = json_object_get(res, "resourceName");
		if (!json_is_string(name) || regexec(&name_re, json_string_value(name), 0, NULL, 0)) {
			err = "a resourceName is missing or has characters outside [A-Za-z0-9_]";
			break;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(list, j), "resourceName")),
				    json_string_value(name)))
				err = "two resources share a resourceName";
		json_object_foreach(res, k, v) {
			bool known = false;
			for (size_t m = 0; m < sizeof(res_keys) / sizeof(res_keys[0]); m++)
				known |= !strcmp(k, res_keys[m]);
			if (!known)
				err = "a resource has a key the plugin does not document";
		}
		json_t *dt = json_object_get(res, "deviceType");
		if (dt && (!json_is_string(dt) || strcmp(json_string_value(dt), "netDevice")))
			err = "deviceType is not \"netDevice\"";
		json_t *sel = json_object_get(res, "selectors");
		if (!json_is_object(sel) || json_object_size(sel) == 0) {
			err = "selectors is not a non-empty map";
			break;
		}
		json_object_foreach(sel, k, v) {
			bool known = false;
			for (size_t m = 0; m < sizeof(sel_keys) / sizeof(sel_keys[0]); m++)
				known |= !strcmp(k, sel_keys[m]);
			if (!known || !json_is_array(v) || json_array_size(v) == 0)
				err = "a selector is unknown or not a non-empty list";
			size_t x;
			json_t *s;
			json_array_foreach(v, x, s) {
				if (!json_is_string(s))
					err = "a selector list holds a non-string";
				else if ((!strcmp(k, "vendors") || !strcmp(k, "devices")) &&
					 regexec(&hex_re, json_string_value(s), 0, NULL, 0))
					err = "a vendor/device ID is not 4 lower-case hex digits";
			}
		}
		if (err)
			break;
	}
	regfree(&name_re);
	regfree(&hex_re);
	*nres = err ? 0 : json_array_size(list);
	json_decref(root);
	return err;
}

/* The Prometheus text format 0.0.4, line by line: HELP/TYPE comments
 * (TYPE once per family, before its samples, here always "counter"),
 * samples "name{label="value",...} value" with valid names, escapes only
 * \\ \" \n in values, a family's samples together, and newline-terminated.
 * Returns NULL or what is wrong; *samples counts the samples. */
static const char *prom_error(const char *text, int *samples)
{
	static char why[300];
	regex_t help, type, sample;
	assert_int_equal(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) counter$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&sample,
		"^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
		"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*)?\\} [0-9]+$", REG_EXTENDED), 0);
	const char *err = NULL;
	char family[128] = "", seen[16][128];
	int nseen = 0;
	*samples = 0;
	if (*text && text[strlen(text) - 1] != '\n')
		err = "the text does not end in a newline";
	char *copy = strdup(text), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[2];
		if (!regexec(&help, line, 0, NULL, 0))
			continue;
		if (!regexec(&type, line, 2, m, 0)) {
			snprintf(family, sizeof(family), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
			for (int i = 0; i < nseen; i++)
				if (!strcmp(seen[i], family))
					err = "a family's TYPE appears twice";
			if (nseen < 16)
				snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
			continue;
		}
		if (regexec(&sample, line, 2, m, 0)) {
			snprintf(why, sizeof(why), "not a comment or sample: '%s'", line);
			err = why;
			break;
		}
		if ((int)strlen(family) != m[1].rm_eo || strncmp(line, family, (size_t)m[1].rm_eo)) {
			snprintf(why, sizeof(why), "sample outside its family's TYPE block: '%s'", line);
			err = why;
		}
		(*samples)++;
	}
	free(copy);
	regfree(&help);
	regfree(&type);
	regfree(&sample);
	return err;
}

/* --- tests --------------------------------------------------------------------- */

static const struct vf_export_dev nic_vf = {
	.bdf = "0000:00:12.2", .has_mac = true, .mac = { 0x52, 0x54, 0, 0xaa, 0xbb, 0x01 }, .vlan = 100,
};

static void libvirt_forms_validate(void **state)
{
	(void)state;
	char *x = NULL;
	assert_int_equal(vf_export_libvirt_dev(&nic_vf, VF_EXPORT_HOSTDEV, 0, &x), 0);
	assert_int_equal(libvirt_validate_dev(x), 0);
	assert_non_null(strstr(x, "<address domain='0x0000' bus='0x00' slot='0x12' function='0x2'/>"));
	free(x);
	assert_int_equal(vf_export_libvirt_dev(&nic_vf, VF_EXPORT_INTERFACE, 2, &x), 0);
	assert_int_equal(libvirt_validate_dev(x), 0);
	assert_non_null(strstr(x, "<mac address='52:54:00:aa:bb:01'/>"));
	assert_non_null(strstr(x, "<tag id='100'/>"));
	free(x);
	struct vf_export_dev plain = { .bdf = "0001:3a:1f.7" };
	assert_int_equal(vf_export_libvirt_dev(&plain, VF_EXPORT_INTERFACE, 0, &x), 0);
	assert_int_equal(libvirt_validate_dev(x), 0);
	assert_null(strstr(x, "<mac"));
	assert_non_null(strstr(x, "<address type='pci' domain='0x0001'"));
	assert_null(strstr(x, "<vlan"));
	assert_non_null(strstr(x, "domain='0x0001' bus='0x3a' slot='0x1f' function='0x7'"));
	free(x);
	/* The validator is not a rubber stamp: a broken address fails it. */
	assert_int_not_equal(libvirt_validate_dev("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
						  "<address domain='0x0000' bus='0x00' slot='0x99' function='0x9'/>"
						  "</source></hostdev>"), 0);
	struct vf_export_dev bad = { .bdf = "not-a-bdf" };
	assert_int_equal(vf_export_libvirt_dev(&bad, VF_EXPORT_HOSTDEV, 0, &x), -EINVAL);
}

static void libvirt_domain_escapes_the_name(void **state)
{
	(void)state;
	char *x = NULL;
	assert_int_equal(vf_export_libvirt_domain("web1", 512, 2, &nic_vf, VF_EXPORT_INTERFACE, &x), 0);
	assert_int_equal(libvirt_validate(x), 0);
	assert_non_null(strstr(x, "<name>web1</name>"));
	assert_non_null(strstr(x, "<memory unit='MiB'>512</memory>"));
	free(x);
	/* Markup in a name stays text, and the document stays valid. */
	assert_int_equal(vf_export_libvirt_domain("a&b<c>'d\"", 1024, 1, &nic_vf, VF_EXPORT_HOSTDEV, &x), 0);
	assert_int_equal(libvirt_validate(x), 0);
	assert_non_null(strstr(x, "<name>a&amp;b&lt;c&gt;&apos;d&quot;</name>"));
	free(x);
	x = NULL;
	assert_int_equal(vf_export_libvirt_domain("", 1024, 1, &nic_vf, VF_EXPORT_HOSTDEV, &x), -EINVAL);
	assert_int_equal(vf_export_libvirt_domain("a/b", 1024, 1, &nic_vf, VF_EXPORT_HOSTDEV, &x), -EINVAL);
	assert_int_equal(vf_export_libvirt_domain("bell\a", 1024, 1, &nic_vf, VF_EXPORT_HOSTDEV, &x), -EINVAL);
	assert_int_equal(vf_export_libvirt_domain("nl\nx", 1024, 1, &nic_vf, VF_EXPORT_HOSTDEV, &x), -EINVAL);
	assert_null(x);
	char small[8];
	assert_int_equal(vf_export_xml_escape("&&", small, sizeof(small)), -ENOSPC);
	assert_int_equal(vf_export_xml_escape("ok", small, sizeof(small)), 0);
	assert_string_equal(small, "ok");
}

static void k8s_config_from_sysfs_follows_the_schema(void **state)
{
	(void)state;
	struct vf_export_pool *pools = NULL;
	size_t n = 0;
	int unbound = -1;
	assert_int_equal(vf_export_k8s_pools(NULL, 0, &pools, &n, &unbound), 0);
	assert_int_equal(n, 2); /* igbvf and vfio-pci; vf 2 has no driver */
	assert_int_equal(unbound, 1);
	char *text = NULL;
	assert_int_equal(vf_export_k8s(pools, n, &text), 0);
	size_t nres = 0;
	const char *err = k8s_schema_error(text, &nres);
	if (err)
		fail_msg("%s in:\n%s", err, text);
	assert_int_equal(nres, 2);
	json_t *root = json_loads(text, 0, NULL);
	json_t *r0 = json_array_get(json_object_get(root, "resourceList"), 0);
	json_t *r1 = json_array_get(json_object_get(root, "resourceList"), 1);
	assert_string_equal(json_string_value(json_object_get(r0, "resourceName")), "sriov_eth0_igbvf");
	assert_string_equal(json_string_value(json_object_get(r1, "resourceName")), "sriov_eth0_vfio_pci");
	json_t *sel = json_object_get(r1, "selectors");
	assert_string_equal(json_string_value(json_array_get(json_object_get(sel, "vendors"), 0)), "8086");
	assert_string_equal(json_string_value(json_array_get(json_object_get(sel, "devices"), 0)), "10ca");
	assert_string_equal(json_string_value(json_array_get(json_object_get(sel, "drivers"), 0)), "vfio-pci");
	assert_string_equal(json_string_value(json_array_get(json_object_get(sel, "pfNames"), 0)), "eth0");
	json_decref(root);
	free(text);
	free(pools);

	/* A PF without an interface is selected by its address, and a name
	 * with odd characters is made acceptable to the plugin. */
	struct vf_export_pool p = { .pf_bdf = "0000:3b:00.1", .vendor = 0x15b3, .device = 0x101e,
				    .driver = "mlx5_core", .vfs = 4 };
	assert_int_equal(vf_export_k8s(&p, 1, &text), 0);
	err = k8s_schema_error(text, &nres);
	if (err)
		fail_msg("%s in:\n%s", err, text);
	assert_non_null(strstr(text, "\"sriov_0000_3b_00_1_mlx5_core\""));
	assert_non_null(strstr(text, "\"rootDevices\""));
	free(text);
	/* And the checker itself rejects what the plugin would. */
	assert_non_null(k8s_schema_error("{\"resourceList\": [{\"resourceName\": \"a-b\", \"selectors\": {\"vendors\": [\"8086\"]}}]}", &nres));
	assert_non_null(k8s_schema_error("{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {\"vendor\": [\"8086\"]}}]}", &nres));
	assert_non_null(k8s_schema_error("{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {\"devices\": [\"0x10ca\"]}}]}", &nres));
}

static void k8s_pools_of_named_pfs(void **state)
{
	(void)state;
	struct vf_export_pool *pools = NULL;
	size_t n = 0;
	int unbound = 0;
	const char *pf[] = { "0000:00:02.0" };
	assert_int_equal(vf_export_k8s_pools(pf, 1, &pools, &n, &unbound), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pools[0].vfs + pools[1].vfs, 2);
	free(pools);
	const char *missing[] = { "0000:00:1e.0" };
	assert_true(vf_export_k8s_pools(missing, 1, &pools, &n, &unbound) < 0);
}

static void stats_read_json_and_prometheus(void **state)
{
	(void)state;
	struct vf_stats_row rows[3];
	assert_int_equal(vf_stats_read("0000:00:02.0", "", 0, &rows[0]), 0);
	assert_int_equal(vf_stats_read("0000:00:02.0", "", 1, &rows[1]), 0);
	assert_int_equal(vf_stats_read("0000:00:02.0", "", 2, &rows[2]), 0);
	assert_int_equal(rows[0].c.source, VF_STATS_NETDEV);
	assert_string_equal(rows[0].netdev, "eth1");
	assert_true(rows[0].c.rx_packets == 1200 && rows[0].c.tx_packets == 340);
	assert_true(rows[0].c.rx_bytes == 1500000 && rows[0].c.tx_bytes == 40960);
	assert_true(rows[0].c.has_drops && rows[0].c.rx_dropped == 3 && rows[0].c.tx_dropped == 0);
	assert_int_equal(rows[1].c.source, VF_STATS_NONE); /* on vfio-pci, no PF interface given */
	assert_int_equal(vf_stats_read("0000:00:02.0", "", 7, &rows[2]), -ENOENT);
	assert_int_equal(vf_stats_read("0000:00:02.0", "", 2, &rows[2]), 0);
	/* A label value that needs every escape. */
	snprintf(rows[2].netdev, sizeof(rows[2].netdev), "a\"b\\c\nd");
	rows[2].c = (struct vf_counters){ .source = VF_STATS_PF, .rx_packets = 5, .tx_bytes = 9 };

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(vf_stats_prometheus(f, rows, 3), 0);
	fclose(f);
	int samples = 0;
	const char *err = prom_error(buf, &samples);
	if (err)
		fail_msg("%s in:\n%s", err, buf);
	/* 4 families x 2 rows with a source + 2 drop families x 1 row. */
	assert_int_equal(samples, 10);
	assert_non_null(strstr(buf, "vfstack_vf_rx_packets_total{pf=\"0000:00:02.0\",vf=\"0000:00:12.0\","
				    "index=\"0\",netdev=\"eth1\",source=\"netdev\"} 1200\n"));
	assert_non_null(strstr(buf, "netdev=\"a\\\"b\\\\c\\nd\""));
	assert_null(strstr(buf, "vf=\"0000:00:12.2\"")); /* no source, no samples */
	/* The grammar check catches what a scraper would reject. */
	assert_non_null(prom_error("# TYPE x counter\nx{a=\"1\"} 1", &samples));
	assert_non_null(prom_error("# TYPE x counter\nx{a=\"\"\"} 1\n", &samples));
	assert_non_null(prom_error("# TYPE x counter\ny 1\n", &samples));

	/* Written atomically: the file has exactly that text, mode 0644, and
	 * no temporary file is left beside it. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/vfstack.prom", tmpd);
	assert_int_equal(vf_stats_write_prometheus(path, rows, 3), 0);
	FILE *r = fopen(path, "r");
	assert_non_null(r);
	char got[8192];
	size_t gl = fread(got, 1, sizeof(got) - 1, r);
	got[gl] = '\0';
	fclose(r);
	assert_string_equal(got, buf);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	int entries = 0;
	DIR *d = opendir(tmpd);
	for (struct dirent *e; (e = readdir(d));)
		entries += !strcmp(e->d_name, "vfstack.prom") || !strncmp(e->d_name, ".vfstack.prom.", 14);
	closedir(d);
	assert_int_equal(entries, 1);
	/* A failed write leaves nothing behind and says why. */
	snprintf(path, sizeof(path), "%s/no/such/dir/x.prom", tmpd);
	assert_int_equal(vf_stats_write_prometheus(path, rows, 3), -ENOENT);
	snprintf(path, sizeof(path), "%s/adir", tmpd);
	sh("mkdir -p '%s/adir/inside'", tmpd);
	assert_true(vf_stats_write_prometheus(path, rows, 3) < 0);
	sh("test $(ls -A '%s' | grep -c '^\\.adir') = 0", tmpd);
	free(buf);

	/* JSON: parses, counters as numbers, unknown ones null, rates from
	 * the previous sample. */
	struct vf_stats_row later[3];
	memcpy(later, rows, sizeof(later));
	later[0].c.rx_packets += 500;
	later[0].c.tx_bytes += 1000;
	char *text = NULL;
	assert_int_equal(vf_stats_json(later, rows, 3, 2.0, true, &text), 0);
	assert_null(strchr(text, '\n') == text + strlen(text) - 1 ? NULL : "more than one line");
	json_error_t je;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		fail_msg("stats JSON does not parse: %s: %s", je.text, text);
	assert_true(json_real_value(json_object_get(o, "interval")) == 2.0);
	json_t *v0 = json_array_get(json_object_get(o, "vfs"), 0);
	json_t *v1 = json_array_get(json_object_get(o, "vfs"), 1);
	assert_int_equal(json_integer_value(json_object_get(v0, "rx_packets")), 1700);
	assert_int_equal(json_integer_value(json_object_get(v0, "rx_dropped")), 3);
	assert_true(json_real_value(json_object_get(json_object_get(v0, "rates"), "rx_packets")) == 250.0);
	assert_true(json_real_value(json_object_get(json_object_get(v0, "rates"), "tx_bytes")) == 500.0);
	assert_true(json_is_null(json_object_get(v1, "rx_packets")));
	assert_true(json_is_null(json_object_get(v1, "rates")));
	assert_string_equal(json_string_value(json_object_get(v1, "source")), "none");
	json_decref(o);
	free(text);
	assert_int_equal(vf_stats_json(rows, NULL, 3, 0, false, &text), 0);
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_null(json_object_get(o, "interval")));
	json_decref(o);
	free(text);
	assert_true(vf_stats_rate(100, 50, 1.0) == 0);  /* counter reset */
	assert_true(vf_stats_rate(0, 50, 0) == 0);
}

/* One IFLA_VF_INFO as rtnl_fill_vfinfo writes it: the MAC struct carrying
 * the index, then the nested stats (drops only from Linux 5.2). */
static void put_vf(struct nl_msg *m, uint32_t index, uint64_t base, bool drops)
{
	struct nlattr *info = nla_nest_start(m, IFLA_VF_INFO);
	struct ifla_vf_mac mac = { .vf = index, .mac = { 0x52, 0x54, 0, 0, 0, (uint8_t)index } };
	assert_int_equal(nla_put(m, IFLA_VF_MAC, sizeof(mac), &mac), 0);
	struct nlattr *st = nla_nest_start(m, IFLA_VF_STATS);
	nla_put_u64(m, IFLA_VF_STATS_RX_PACKETS, base + 1);
	nla_put_u64(m, IFLA_VF_STATS_TX_PACKETS, base + 2);
	nla_put_u64(m, IFLA_VF_STATS_RX_BYTES, base + 3);
	nla_put_u64(m, IFLA_VF_STATS_TX_BYTES, base + 4);
	nla_put_u64(m, IFLA_VF_STATS_BROADCAST, base + 5);
	nla_put_u64(m, IFLA_VF_STATS_MULTICAST, base + 6);
	if (drops) {
		nla_put_u64(m, IFLA_VF_STATS_RX_DROPPED, base + 7);
		nla_put_u64(m, IFLA_VF_STATS_TX_DROPPED, base + 8);
	}
	nla_nest_end(m, st);
	nla_nest_end(m, info);
}

static void pf_view_from_a_link_message(void **state)
{
	(void)state;
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 2 };
	assert_int_equal(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	nla_put_string(m, IFLA_IFNAME, "eth0");
	struct nlattr *list = nla_nest_start(m, IFLA_VFINFO_LIST);
	put_vf(m, 0, 100, true);
	put_vf(m, 1, 200, false);
	nla_nest_end(m, list);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct vf_counters c;
	assert_int_equal(vf_stats_parse_link(h, h->nlmsg_len, 1, &c), 0);
	assert_int_equal(c.source, VF_STATS_PF);
	assert_true(c.rx_packets == 201 && c.tx_packets == 202 && c.rx_bytes == 203 && c.tx_bytes == 204);
	assert_false(c.has_drops); /* an older kernel: no drop counters */
	assert_int_equal(vf_stats_parse_link(h, h->nlmsg_len, 0, &c), 0);
	assert_true(c.rx_packets == 101 && c.tx_bytes == 104);
	assert_true(c.has_drops && c.rx_dropped == 107 && c.tx_dropped == 108);
	assert_int_equal(vf_stats_parse_link(h, h->nlmsg_len, 2, &c), -ENOENT);
	assert_int_equal(c.source, VF_STATS_NONE);
	/* A message cut short is refused, not read past its end. */
	assert_int_equal(vf_stats_parse_link(h, h->nlmsg_len - 8, 0, &c), -EINVAL);
	assert_int_equal(vf_stats_parse_link(h, 8, 0, &c), -EINVAL);
	nlmsg_free(m);
	/* A link without VFs. */
	m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	assert_int_equal(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	h = nlmsg_hdr(m);
	assert_int_equal(vf_stats_parse_link(h, h->nlmsg_len, 0, &c), -ENOENT);
	nlmsg_free(m);
	assert_int_equal(vf_stats_read_pf("no-such-if0", 0, &c), -ENODEV);
}

static void holders_of_a_vfio_vf(void **state)
{
	(void)state;
	char nodes[2][VF_HOLDER_NODE_LEN];
	assert_int_equal(vf_vfio_nodes("0000:00:12.2", nodes), 2);
	assert_string_equal(nodes[0], "/dev/vfio/5");
	assert_string_equal(nodes[1], "/dev/vfio/devices/vfio0");
	struct vf_holder h[8];
	size_t n = 0;
	bool partial = true;
	assert_int_equal(vf_holders_find(nodes, 2, h, 8, &n, &partial), 0);
	assert_false(partial);
	assert_int_equal(n, 2); /* 100 (group) and 300 (cdev); not 200's /dev/vfio/50 */
	assert_int_equal(h[0].pid, 100);
	assert_string_equal(h[0].comm, "vfs-vmm");
	assert_string_equal(h[0].node, "/dev/vfio/5");
	assert_int_equal(h[1].pid, 300);
	assert_string_equal(h[1].comm, "qemu?[31m"); /* the escape byte is not passed on */
	assert_string_equal(h[1].node, "/dev/vfio/devices/vfio0");
	/* vf 0 (group 4, no cdev) is held by nobody. */
	assert_int_equal(vf_vfio_nodes("0000:00:12.0", nodes), 1);
	assert_int_equal(vf_holders_find(nodes, 1, h, 8, &n, &partial), 0);
	assert_int_equal(n, 0);
	/* Unreadable fd directories (another user's process) are reported. */
	if (geteuid() != 0) {
		sh("chmod 000 %s/200/fd", proc);
		assert_int_equal(vf_holders_find(nodes, 1, h, 8, &n, &partial), 0);
		assert_true(partial);
		sh("chmod 755 %s/200/fd", proc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(libvirt_forms_validate),
		cmocka_unit_test(libvirt_domain_escapes_the_name),
		cmocka_unit_test(k8s_config_from_sysfs_follows_the_schema),
		cmocka_unit_test(k8s_pools_of_named_pfs),
		cmocka_unit_test(stats_read_json_and_prometheus),
		cmocka_unit_test(pf_view_from_a_link_message),
		cmocka_unit_test(holders_of_a_vfio_vf),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
