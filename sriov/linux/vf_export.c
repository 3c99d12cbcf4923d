/*
 * vf_export.c — libvirt XML and device-plugin JSON for VFs (vf_export.h).
 *
 * XML is written by hand, not through libxml2: the documents are a handful
 * of fixed elements whose only outside values are a guest name (escaped
 * here, control characters refused) and numbers we format ourselves, and
 * vfctl then needs no XML library at run time.  The tests validate every
 * form with libvirt's own schemas (virt-xml-validate).
 */
#include "sriov/linux/vf_export.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/linux/sriov_netlink.h"

static int bdf_split(const char *bdf, unsigned *dom, unsigned *bus, unsigned *slot, unsigned *fn);
static void put_address(FILE *f, const char *pad, const char *bdf, bool typed);
static int pool_cmp(const void *a, const void *b);

int vf_export_libvirt_dev(const struct vf_export_dev *d, enum vf_export_form form,
			  int indent, char **out)
{
	unsigned dom, bus, slot, fn;
	if (!d || !out || bdf_split(d->bdf, &dom, &bus, &slot, &fn))
		return -EINVAL;
	if (indent < 0 || indent > 16)
		indent = 0;
	char pad[20];
	memset(pad, ' ', (size_t)indent);
	pad[indent] = '\0';
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	if (!f)
		return -ENOMEM;
	if (form == VF_EXPORT_INTERFACE) {
		/* libvirt: "Assignment from a pool of SR-IOV VFs / <interface
		 * type='hostdev'>": the MAC and VLAN are set on the VF through
		 * its PF before the guest starts. */
		fprintf(f, "%s<interface type='hostdev' managed='yes'>\n", pad);
		if (d->has_mac) {
			char mac[18];
			sriov_mac_format(d->mac, mac);
			fprintf(f, "%s  <mac address='%s'/>\n", pad, mac);
		}
		fprintf(f, "%s  <source>\n", pad);
		put_address(f, pad, d->bdf, true);
		fprintf(f, "%s  </source>\n", pad);
		if (d->vlan)
			fprintf(f, "%s  <vlan>\n%s    <tag id='%u'/>\n%s  </vlan>\n", pad, pad,
				(unsigned)d->vlan, pad);
		fprintf(f, "%s</interface>\n", pad);
	} else {
		fprintf(f, "%s<hostdev mode='subsystem' type='pci' managed='yes'>\n", pad);
		fprintf(f, "%s  <source>\n", pad);
		put_address(f, pad, d->bdf, false);
		fprintf(f, "%s  </source>\n", pad);
		fprintf(f, "%s</hostdev>\n", pad);
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int vf_export_libvirt_domain(const char *guest, unsigned mem_mib, unsigned vcpus,
			     const struct vf_export_dev *d, enum vf_export_form form,
			     char **out)
{
	char name[VF_EXPORT_GUEST_MAX * 6 + 1];
	if (!guest || !*guest || strlen(guest) > VF_EXPORT_GUEST_MAX || strchr(guest, '/') ||
	    strchr(guest, '\n') || strchr(guest, '\t'))
		return -EINVAL;
	int rc = vf_export_xml_escape(guest, name, sizeof(name));
	if (rc)
		return rc;
	if (mem_mib == 0 || vcpus == 0)
		return -EINVAL;
	char *dev = NULL;
	rc = vf_export_libvirt_dev(d, form, 4, &dev);
	if (rc)
		return rc;
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	if (!f) {
		free(dev);
		return -ENOMEM;
	}
	fprintf(f, "<domain type='kvm'>\n"
		   "  <name>%s</name>\n"
		   "  <memory unit='MiB'>%u</memory>\n"
		   "  <vcpu>%u</vcpu>\n"
		   "  <os>\n"
		   "    <type arch='x86_64' machine='q35'>hvm</type>\n"
		   "  </os>\n"
		   "  <features>\n"
		   "    <acpi/>\n"
		   "  </features>\n"
		   "  <devices>\n"
		   "%s"
		   "  </devices>\n"
		   "</domain>\n",
		name, mem_mib, vcpus, dev);
	free(dev);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int vf_export_xml_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	if (!in || !out || len == 0)
		return -EINVAL;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		const char *rep = NULL;
		char one[2] = { (char)*p, '\0' };
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			/* XML 1.0 §2.2: of the C0 controls only tab, LF and CR
			 * are characters at all; DEL is legal but never wanted. */
			if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
				return -EINVAL;
			rep = one;
		}
		size_t rl = strlen(rep);
		if (o + rl + 1 > len)
			return -ENOSPC;
		memcpy(out + o, rep, rl);
		o += rl;
	}
	out[o] = '\0';
	return 0;
}

void vf_export_k8s_name(const struct vf_export_pool *p, char *buf, size_t len)
{
	sriov_fmt(buf, len, "sriov_%s_%s", p->pf_netdev[0] ? p->pf_netdev : p->pf_bdf, p->driver);
	for (char *c = buf; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			*c = '_';
}

int vf_export_k8s(const struct vf_export_pool *pools, size_t n, char **out)
{
	if (!out || (n && !pools))
		return -EINVAL;
	json_t *root = json_object(), *list = json_array();
	int err = (!root || !list) ? -ENOMEM : 0;
	if (!err && json_object_set_new(root, "resourceList", list) != 0)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		const struct vf_export_pool *p = &pools[i];
		char name[96], vendor[5], device[5];
		vf_export_k8s_name(p, name, sizeof(name));
		/* The plugin matches IDs as sysfs prints them, without "0x". */
		sriov_fmt(vendor, sizeof(vendor), "%04x", p->vendor);
		sriov_fmt(device, sizeof(device), "%04x", p->device);
		bool by_name = p->pf_netdev[0] != '\0';
		json_t *res = json_pack("{s:s, s:s, s:{s:[s], s:[s], s:[s], s:[s]}}",
					"resourceName", name, "deviceType", "netDevice", "selectors",
					"vendors", vendor, "devices", device, "drivers", p->driver,
					by_name ? "pfNames" : "rootDevices",
					by_name ? p->pf_netdev : p->pf_bdf);
		if (!res) {
			err = -ENOMEM;
			break;
		}
		if (json_array_append_new(list, res) != 0)
			err = -ENOMEM;
	}
	if (!err) {
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (!text) {
			err = -ENOMEM;
		} else {
			size_t l = strlen(text);
			*out = malloc(l + 2);
			if (*out) {
				memcpy(*out, text, l);
				(*out)[l] = '\n';
				(*out)[l + 1] = '\0';
			} else {
				err = -ENOMEM;
			}
			free(text);
		}
	}
	if (root)
		json_decref(root);
	else if (list)
		json_decref(list);
	return err;
}

int vf_export_k8s_pools(const char *const *pf_bdfs, size_t n_pf,
			struct vf_export_pool **pools, size_t *n, int *unbound)
{
	struct sriov_pf_info *all = NULL;
	size_t nall = 0;
	*pools = NULL;
	*n = 0;
	*unbound = 0;
	if (n_pf == 0) {
		int rc = sriov_pf_list(&all, &nall);
		if (rc < 0)
			return rc;
	} else {
		all = calloc(n_pf, sizeof(*all));
		if (!all)
			return -ENOMEM;
		for (size_t i = 0; i < n_pf; i++) {
			int rc = sriov_pf_get(pf_bdfs[i], &all[i]);
			if (rc < 0) {
				free(all);
				return rc;
			}
		}
		nall = n_pf;
	}
	int err = 0;
	size_t cap = 0;
	for (size_t i = 0; !err && i < nall; i++) {
		struct sriov_vf_info *vfs = NULL;
		size_t nv = 0;
		if (sriov_vf_list(all[i].bdf, &vfs, &nv) < 0)
			continue;
		for (size_t v = 0; !err && v < nv; v++) {
			if (!vfs[v].driver[0]) {
				(*unbound)++;
				continue;
			}
			uint16_t ven = 0, dev = 0;
			if (pci_dev_ids(vfs[v].bdf, &ven, &dev, NULL) < 0)
				continue;
			size_t k;
			for (k = 0; k < *n; k++) {
				struct vf_export_pool *p = &(*pools)[k];
				if (!strcmp(p->pf_bdf, all[i].bdf) && !strcmp(p->driver, vfs[v].driver) &&
				    p->vendor == ven && p->device == dev)
					break;
			}
			if (k == *n) {
				if (*n == cap) {
					size_t nc = cap ? cap * 2 : 4;
					struct vf_export_pool *np = realloc(*pools, nc * sizeof(*np));
					if (!np) {
						err = -ENOMEM;
						break;
					}
					*pools = np;
					cap = nc;
				}
				struct vf_export_pool *p = &(*pools)[(*n)++];
				memset(p, 0, sizeof(*p));
				sriov_fmt(p->pf_bdf, sizeof(p->pf_bdf), "%s", all[i].bdf);
				sriov_fmt(p->pf_netdev, sizeof(p->pf_netdev), "%s", all[i].netdev);
				sriov_fmt(p->driver, sizeof(p->driver), "%s", vfs[v].driver);
				p->vendor = ven;
				p->device = dev;
			}
			(*pools)[k].vfs++;
		}
		free(vfs);
	}
	free(all);
	if (err) {
		free(*pools);
		*pools = NULL;
		*n = 0;
		return err;
	}
	if (*n > 1)
		qsort(*pools, *n, sizeof(**pools), pool_cmp);
	return 0;
}

/* --- helpers ---------------------------------------------------------------- */

static int bdf_split(const char *bdf, unsigned *dom, unsigned *bus, unsigned *slot, unsigned *fn)
{
	char canon[PCI_BDF_LEN];
	if (pci_bdf_parse(bdf, canon) != 0)
		return -EINVAL;
	if (sscanf(canon, "%4x:%2x:%2x.%1x", dom, bus, slot, fn) != 4)
		return -EINVAL;
	return 0;
}

/* An <interface>'s source names the address type; a <hostdev>'s may not
 * (libvirt's schema: domaincommon.rng, hostdevsubsyspci / interface). */
static void put_address(FILE *f, const char *pad, const char *bdf, bool typed)
{
	unsigned dom = 0, bus = 0, slot = 0, fn = 0;
	bdf_split(bdf, &dom, &bus, &slot, &fn);
	fprintf(f, "%s    <address %sdomain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n",
		pad, typed ? "type='pci' " : "", dom, bus, slot, fn);
}

static int pool_cmp(const void *a, const void *b)
{
	const struct vf_export_pool *x = a, *y = b;
	int c = strcmp(x->pf_bdf, y->pf_bdf);
	return c ? c : strcmp(x->driver, y->driver);
}
