/*
 * vf_export.h — describe VFs to the tools that consume them: a libvirt
 * <hostdev>/<interface type='hostdev'> or whole <domain> (XML), and a
 * config.json for the Kubernetes SR-IOV network device plugin (JSON).
 *
 * The generators take plain structs, so they are tested without a host;
 * vf_export_k8s_pools() builds the plugin's pools from sysfs.  Every string
 * from outside (a guest name, an interface or driver name) is escaped for
 * the format it lands in: XML through vf_export_xml_escape (the five
 * predefined entities; control characters, which XML 1.0 cannot carry, are
 * refused), JSON through jansson.
 */
#ifndef VFS_VF_EXPORT_H
#define VFS_VF_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sriov/linux/sriov_sysfs.h"

/* One VF as libvirt should see it. */
struct vf_export_dev {
	char bdf[PCI_BDF_LEN];
	bool has_mac;    /* the PF enforces a MAC on it (not 00:00:00:00:00:00) */
	uint8_t mac[6];
	uint32_t vlan;   /* 0: no VLAN */
};

enum vf_export_form {
	VF_EXPORT_HOSTDEV,   /* <hostdev mode='subsystem' type='pci' managed='yes'> */
	VF_EXPORT_INTERFACE, /* <interface type='hostdev' managed='yes'> with <mac> (NICs) */
};

/* The device element alone, indented by `indent` spaces, into a malloc'd
 * string (*out).  -EINVAL: a BDF that does not parse. */
int vf_export_libvirt_dev(const struct vf_export_dev *d, enum vf_export_form form,
			  int indent, char **out);

/* A whole <domain type='kvm'> named `guest` holding the device: q35, hvm,
 * `mem_mib` MiB, `vcpus` vCPUs.  -EINVAL: an empty guest name, one with '/'
 * or a control character, or longer than VF_EXPORT_GUEST_MAX. */
#define VF_EXPORT_GUEST_MAX 64
int vf_export_libvirt_domain(const char *guest, unsigned mem_mib, unsigned vcpus,
			     const struct vf_export_dev *d, enum vf_export_form form,
			     char **out);

/* Escape `in` for XML text and attribute values into out (NUL-terminated).
 * -EINVAL: a control character other than tab/newline, -ENOSPC: too long. */
int vf_export_xml_escape(const char *in, char *out, size_t len);

/* One resource pool for the device plugin: the VFs of one PF bound to one
 * driver. */
struct vf_export_pool {
	char pf_bdf[PCI_BDF_LEN];
	char pf_netdev[SRIOV_IFNAME_LEN]; /* "" when the PF has none: select by rootDevices */
	uint16_t vendor, device;          /* the VFs' IDs */
	char driver[SRIOV_DRV_LEN];
	int vfs;                          /* how many VFs the pool holds now */
};

/* The plugin's config.json ({"resourceList": [...]}, pretty-printed, with a
 * final newline) into a malloc'd string.  Resource names are
 * "sriov_<PF interface or BDF>_<driver>" with every character outside
 * [A-Za-z0-9_] turned into '_' (the plugin accepts only those). */
int vf_export_k8s(const struct vf_export_pool *pools, size_t n, char **out);

/* The pools of the given PFs (all SR-IOV PFs when n_pf is 0), from sysfs:
 * one per (PF, VF driver); VFs without a driver are counted in *unbound and
 * left out (the plugin cannot use them).  *pools malloc'd. */
int vf_export_k8s_pools(const char *const *pf_bdfs, size_t n_pf,
			struct vf_export_pool **pools, size_t *n, int *unbound);

/* The resource name vf_export_k8s gives a pool, into buf. */
void vf_export_k8s_name(const struct vf_export_pool *p, char *buf, size_t len);

#endif /* VFS_VF_EXPORT_H */
