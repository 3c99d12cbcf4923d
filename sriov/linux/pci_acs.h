/*
 * pci_acs.h — is a device isolated from its peers on the way up to the root
 * complex?  Access Control Services (PCIe 5.0 §6.12, capability §7.7.8),
 * judged as Linux does when it forms IOMMU groups (drivers/pci/pci.c,
 * pci_acs_enabled): without it, devices below a port can reach each other
 * without passing the IOMMU, and share one IOMMU group.
 *
 * Which functions must enforce Source Validation, Request Redirect,
 * Completion Redirect and Upstream Forwarding (a bit the ACS Capability
 * register does not offer counts as hard-wired on):
 *   - root ports and switch downstream ports (§6.12.1.1), always;
 *   - switch upstream ports and endpoints only when they are part of a
 *     multi-function device (§6.12.1.2); a single-function one is skipped;
 *   - a PCI Express-to-PCI bridge or a conventional PCI bridge cannot: the
 *     devices behind it are not told apart (they always share a group).
 */
#ifndef VFS_PCI_ACS_H
#define VFS_PCI_ACS_H

#include "sriov/linux/sriov_sysfs.h"

/* §7.7.8.2-3: ACS Capability / Control bits this check needs. */
#define PCI_ACS_SV 0x01u /* Source Validation */
#define PCI_ACS_RR 0x04u /* P2P Request Redirect */
#define PCI_ACS_CR 0x08u /* P2P Completion Redirect */
#define PCI_ACS_UF 0x10u /* Upstream Forwarding */
#define PCI_ACS_NEEDED (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

struct pci_acs_path {
	int checked;                /* functions on the path that must enforce ACS */
	char blocker[PCI_BDF_LEN];  /* the first of them (nearest the device) that does not */
	int blocker_ctrl;           /* its ACS Control register, -1 when it has no ACS */
};

/* Walk from `bdf` (the device itself when it is multi-function, then every
 * bridge above it) to the root complex.  0: every function that must enforce
 * ACS does; -EXDEV: out->blocker does not; -EACCES: a config space is not
 * readable past its first 64 bytes (run as root); -ENODEV: no such device. */
int pci_acs_path_check(const char *bdf, struct pci_acs_path *out);

#endif /* VFS_PCI_ACS_H */
