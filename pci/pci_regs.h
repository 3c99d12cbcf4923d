/*
 * pci_regs.h — PCI configuration space registers, one set for the whole tree
 * (freestanding: no includes).  Citations: PCI Local Bus 3.0 ("PCI 3.0")
 * and PCI Express Base 5.0 ("PCIe 5.0").
 *
 * The names follow Linux's <linux/pci_regs.h> where one exists; do not
 * include this header and that one (or libpci's <pci/header.h>) in the same
 * file.  The capability walker over these is pci/pci_cap.h.
 */
#ifndef VFS_PCI_REGS_H
#define VFS_PCI_REGS_H

/* Configuration space sizes (PCI 3.0 §6.1: 256 bytes; PCIe 5.0 §7.2.2: 4 KiB). */
#define PCI_CFG_SIZE 0x100u
#define PCIE_CFG_SIZE 0x1000u

/* Type 0/1 header (PCI 3.0 §6.1, §6.2; PCIe 5.0 §7.5.1). */
#define PCI_VENDOR_ID 0x00        /* §6.2.1, 16 bit */
#define PCI_DEVICE_ID 0x02        /* §6.2.1, 16 bit */
#define PCI_COMMAND 0x04          /* §6.2.2, 16 bit */
#define PCI_STATUS 0x06           /* §6.2.3, 16 bit */
#define PCI_CLASS_REV 0x08        /* §6.2.1: revision 7:0, class code 31:8 */
#define PCI_REVISION_ID 0x08      /* §6.2.1 */
#define PCI_CLASS_PROG 0x09       /* §6.2.1: prog-if, subclass, class (3 bytes) */
#define PCI_CACHE_LINE_SIZE 0x0c  /* §6.2.4 */
#define PCI_LATENCY_TIMER 0x0d    /* §6.2.4 */
#define PCI_HEADER_TYPE 0x0e      /* §6.2.1: layout 6:0, multi-function 7 */
#define PCI_BAR0 0x10             /* §6.2.5.1: six dwords, type 0 */
#define PCI_SECONDARY_BUS 0x19    /* PCI-to-PCI Bridge 1.2 §3.2.5.4, type 1 */
#define PCI_SUBORDINATE_BUS 0x1a  /* PCI-to-PCI Bridge 1.2 §3.2.5.5, type 1 */
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c /* §6.2.4, type 0 */
#define PCI_SUBSYSTEM_ID 0x2e     /* §6.2.4, type 0 */
#define PCI_ROM_ADDRESS 0x30      /* §6.2.5.2, type 0 */
#define PCI_CAP_PTR 0x34          /* §6.7: first capability, bits 1:0 reserved */
#define PCI_INTERRUPT_LINE 0x3c   /* §6.2.4 */
#define PCI_INTERRUPT_PIN 0x3d    /* §6.2.4 */
#define PCI_HEADER_SIZE 0x40u     /* §6.1: capabilities live above the header */

/* Command register bits (PCI 3.0 §6.2.2). */
#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_PARITY (1u << 6)
#define PCI_COMMAND_SERR (1u << 8)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)

/* Status register bits (PCI 3.0 §6.2.3). */
#define PCI_STATUS_CAP_LIST (1u << 4)

/* Header type (PCI 3.0 §6.2.1). */
#define PCI_HEADER_TYPE_MASK 0x7fu
#define PCI_HEADER_MULTIFUNCTION 0x80u

/* Base Address Registers (PCI 3.0 §6.2.5.1). */
#define PCI_BAR_IO (1u << 0)           /* I/O space BAR */
#define PCI_BAR_TYPE_MASK (3u << 1)    /* memory: 00 32-bit, 10 64-bit */
#define PCI_BAR_TYPE_64 (2u << 1)
#define PCI_BAR_PREFETCH (1u << 3)
#define PCI_BAR_MEM_FLAGS 0xfu
#define PCI_BAR_MEM_MASK 0xfffffff0u   /* memory BAR address bits 31:4 */
#define PCI_NUM_BARS 6

/* Capability list (PCI 3.0 §6.7): ID at +0, next pointer at +1; the list
 * lies in 0x40..0xff, so at most 48 dword-aligned entries fit. */
#define PCI_CAP_ID 0
#define PCI_CAP_NEXT 1
#define PCI_CAP_MAX_ENTRIES ((PCI_CFG_SIZE - PCI_HEADER_SIZE) / 4u)

/* Capability IDs (PCI Code and ID Assignment 1.11 §2). */
#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_PCIE 0x10
#define PCI_CAP_ID_MSIX 0x11

/* MSI capability (PCI 3.0 §6.8.1): control, address, [upper address],
 * data, [mask, pending]. */
#define PCI_MSI_CTRL 2                 /* §6.8.1.3, 16 bit */
#define PCI_MSI_CTRL_EN 0x0001u        /* MSI enable */
#define PCI_MSI_CTRL_MMC 0x000eu       /* multiple message capable, 3:1 */
#define PCI_MSI_CTRL_MME 0x0070u       /* multiple message enable, 6:4 */
#define PCI_MSI_CTRL_64 0x0080u        /* 64-bit address capable */
#define PCI_MSI_CTRL_PVM 0x0100u       /* per-vector masking capable */
#define PCI_MSI_ADDR_LO 4              /* §6.8.1.4 */
#define PCI_MSI_ADDR_HI 8              /* §6.8.1.5, 64-bit only */
#define PCI_MSI_DATA_32 8              /* §6.8.1.6 */
#define PCI_MSI_DATA_64 12
#define PCI_MSI_MASK_32 12             /* §6.8.1.7, with PVM */
#define PCI_MSI_MASK_64 16
#define PCI_MSI_CAP_MAX 24             /* 64-bit with mask and pending bits */

/* MSI-X capability (PCI 3.0 §6.8.2.3-6.8.2.5; PCIe 5.0 §7.7.2). */
#define PCI_MSIX_CTRL 2                /* message control, 16 bit */
#define PCI_MSIX_CTRL_SIZE 0x07ffu     /* table size - 1, 10:0 (RO) */
#define PCI_MSIX_CTRL_FMASK 0x4000u    /* function mask */
#define PCI_MSIX_CTRL_EN 0x8000u       /* MSI-X enable */
#define PCI_MSIX_TABLE 4               /* table offset 31:3 | BIR 2:0 */
#define PCI_MSIX_PBA 8                 /* PBA offset 31:3 | BIR 2:0 */
#define PCI_MSIX_BIR 0x7u
#define PCI_MSIX_CAP_LEN 12
/* MSI-X table entry (§6.8.2.6-6.8.2.9) and PBA (§6.8.2.10). */
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_VCTRL 12
#define PCI_MSIX_ENTRY_VCTRL_MASK 0x1u
#define PCI_MSIX_PBA_BYTES(n) ((((n) + 63u) / 64u) * 8u) /* QWORDs of pending bits */

/* PCI Express capability (PCIe 5.0 §7.5.3). */
#define PCI_EXP_FLAGS 2                /* §7.5.3.2: Device/Port Type 7:4 */
#define PCI_EXP_TYPE(flags) (((flags) >> 4) & 0xfu)
#define PCI_EXP_TYPE_ROOT_PORT 0x4
#define PCI_EXP_TYPE_UPSTREAM 0x5
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_CAP_LEN 0x3cu          /* through Slot Status 2 (version 2) */

/* Extended capabilities (PCIe 5.0 §7.6): from 0x100, a 32-bit header:
 * ID 15:0, version 19:16, next 31:20 (dword aligned). */
#define PCI_EXT_CAP_START 0x100u
#define PCI_EXT_CAP_ID(h) ((h) & 0xffffu)
#define PCI_EXT_CAP_VER(h) (((h) >> 16) & 0xfu)
#define PCI_EXT_CAP_NEXT(h) (((h) >> 20) & 0xffcu)
#define PCI_EXT_CAP_MAX_ENTRIES ((PCIE_CFG_SIZE - PCI_EXT_CAP_START) / 4u)
/* Extended capability IDs (PCI Code and ID Assignment 1.11 §3). */
#define PCI_EXT_CAP_ID_AER 0x0001u
#define PCI_EXT_CAP_ID_ACS 0x000du
#define PCI_EXT_CAP_ID_ARI 0x000eu
#define PCI_EXT_CAP_ID_SRIOV 0x0010u

#endif
