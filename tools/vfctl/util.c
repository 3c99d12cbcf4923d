/*
 * util.c — messages, device resolution and argument parsing for vfctl.
 */
#include "tools/vfctl/vfctl.h"
#include "sriov/linux/sysfs_parse.h"
#include "sriov/linux/vf_holder.h"
#include "sriov/linux/pci_bind.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vfctl_error(const char *fmt, ...)
{
	va_list ap;
	fputs("vfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return VFCTL_FAILED;
}

static int say(int rc, const char *fmt, va_list ap)
{
	fputs("vfctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return rc;
}

int vfctl_busy(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = say(VFCTL_BUSY, fmt, ap);
	va_end(ap);
	return rc;
}

int vfctl_bad_input(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = say(VFCTL_USAGE, fmt, ap);
	va_end(ap);
	return rc;
}

int vfctl_nodev(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = say(VFCTL_NODEV, fmt, ap);
	va_end(ap);
	return rc;
}

int vfctl_usage_error(const struct vfctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vfctl %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vfctl %s --help'.\n", cmd->name);
	return VFCTL_USAGE;
}

/* A network interface's PCI device, from /sys/class/net/NAME/device. */
static int netdev_to_bdf(const char *ifname, char bdf[PCI_BDF_LEN])
{
	char p[PATH_MAX], target[PATH_MAX];
	if (strchr(ifname, '/') || strlen(ifname) >= SRIOV_IFNAME_LEN)
		return -EINVAL;
	sriov_fmt(p, sizeof(p), "%s/class/net/%s/device", sriov_sysfs_root(), ifname);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return -ENOENT;
	target[n] = '\0';
	const char *slash = strrchr(target, '/');
	return pci_bdf_parse(slash ? slash + 1 : target, bdf);
}

int vfctl_resolve_dev(const char *text, char bdf[PCI_BDF_LEN])
{
	if (pci_bdf_parse(text, bdf) == 0) {
		if (!pci_dev_exists(bdf))
			return vfctl_nodev("there is no PCI device %s; 'vfctl list' shows the SR-IOV devices "
					   "and 'lspci -D' every device.", bdf);
		return VFCTL_OK;
	}
	if (netdev_to_bdf(text, bdf) == 0 && pci_dev_exists(bdf))
		return VFCTL_OK;
	fprintf(stderr, "vfctl: '%s' is neither a PCI address (like 0000:00:02.0) nor a network "
			"interface of a PCI device; 'vfctl list' shows the devices.\n", text);
	return VFCTL_USAGE;
}

int vfctl_resolve_pf(const char *text, char bdf[PCI_BDF_LEN])
{
	int rc = vfctl_resolve_dev(text, bdf);
	if (rc)
		return rc;
	if (!sriov_is_pf(bdf)) {
		char pf[PCI_BDF_LEN];
		if (sriov_vf_parent(bdf, pf, NULL) == 0)
			return vfctl_nodev("%s is a virtual function, not a physical function; its PF is %s.",
					   bdf, pf);
		uint16_t v = 0, d = 0;
		char name[SRIOV_NAME_LEN] = "";
		if (pci_dev_ids(bdf, &v, &d, NULL) == 0)
			pci_dev_name(v, d, name, sizeof(name));
		return vfctl_nodev("%s (%s) has no SR-IOV capability, so it cannot have virtual functions; "
				   "pick a PF from 'vfctl list'.", bdf, name);
	}
	return VFCTL_OK;
}

int vfctl_resolve_vf(const char *text, char vf[PCI_BDF_LEN], char pf[PCI_BDF_LEN], int *index)
{
	int rc = vfctl_resolve_dev(text, vf);
	if (rc)
		return rc;
	int err = sriov_vf_parent(vf, pf, index);
	if (err)
		return vfctl_nodev("%s is not an SR-IOV virtual function; 'vfctl list' shows the VFs.", vf);
	return VFCTL_OK;
}

int vfctl_vfio_holder_check(const char *dev, const char *doing)
{
	char drv[SRIOV_DRV_LEN] = "";
	pci_current_driver(dev, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci"))
		return VFCTL_OK; /* a host driver's device is reached through the driver */
	char nodes[2][VF_HOLDER_NODE_LEN];
	int nn = vf_vfio_nodes(dev, nodes);
	struct vf_holder h[1];
	size_t n = 0;
	bool partial = false;
	if (nn <= 0 || vf_holders_find(nodes, nn, h, 1, &n, &partial) || n == 0)
		return VFCTL_OK;
	return vfctl_busy("%s is held open by process %ld (%s) through %s; stop it before %s (even "
			  "--force does not take a device in use).", dev, (long)h[0].pid,
			  h[0].comm[0] ? h[0].comm : "?", h[0].node, doing);
}

const char *vfctl_driver_name_problem(const char *name)
{
	int err = sysfs_driver_name_check(name);
	if (err == -ENAMETOOLONG)
		return "a driver name is at most 63 characters";
	if (err)
		return "a driver name is printable characters with no blank or '/', and not '.' or '..'";
	return NULL;
}

int vfctl_pf_problem(const struct sriov_pf_info *pf)
{
	return vfctl_error("%s reports inconsistent SR-IOV counts: %s; vfstack uses %d of %d VFs "
			   "(NumVFs/TotalVFs) and will not walk more.  Run 'vfctl sriov disable %s' "
			   "(or reload its driver) and enable the VFs again; if it persists, the PF "
			   "driver or firmware is at fault.", pf->bdf, pf->problem, pf->num_vfs,
			   pf->total_vfs, pf->bdf);
}

long vfctl_parse_uint(const char *text, long max)
{
	if (!text || !*text)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end || v < 0 || v > max || text[0] == '-' || text[0] == '+')
		return -1;
	return v;
}

int vfctl_parse_bool(const char *text)
{
	if (!text)
		return -1;
	if (!strcmp(text, "on") || !strcmp(text, "1") || !strcmp(text, "true") || !strcmp(text, "yes"))
		return 1;
	if (!strcmp(text, "off") || !strcmp(text, "0") || !strcmp(text, "false") || !strcmp(text, "no"))
		return 0;
	return -1;
}

const char *vfctl_strerror(int err)
{
	if (err < 0)
		err = -err;
	return strerror(err);
}
