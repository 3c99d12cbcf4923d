/*
 * msi.h — the two MSI formats an x86 interrupt request can take.
 *
 * VT-d spec rev 4.x:
 *   5.1.2.1  compatibility format: what a guest writes (destination APIC ID,
 *            mode, redirection hint, vector, delivery and trigger mode);
 *            the same layout as the Intel SDM's "Message Address/Data
 *            Register Format" (Vol. 3, 11.11.1/11.11.2).
 *   5.1.2.2  remappable format: a 16-bit handle (+ optional subhandle) that
 *            indexes the interrupt-remapping table.
 *   5.1.5.2  programming MSI/MSI-X sources with remappable handles.
 *
 * A struct msi_msg is the raw triple in a device's MSI capability or MSI-X
 * table entry.  Which context it belongs to is in the variable's name:
 * virt_msi (the guest's write, compatibility format) or shadow_msi (what the
 * device really holds, remappable format).
 */
#ifndef VFS_IRQ_REMAP_MSI_H
#define VFS_IRQ_REMAP_MSI_H

#include <stdbool.h>
#include <stdint.h>

struct msi_msg {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
};

/* --- Address, both formats (5.1.2.1, 5.1.2.2) --------------------------- */
#define MSI_ADDR_BASE 0xfee00000u          /* [31:20] = 0xFEE */
#define MSI_ADDR_BASE_MASK 0xfff00000u
#define MSI_ADDR_IF (1u << 4)              /* interrupt format: 1 remappable */
/* Compatibility format (5.1.2.1) */
#define MSI_ADDR_DEST_SHIFT 12             /* [19:12] destination ID */
#define MSI_ADDR_DEST_MASK (0xffu << 12)
#define MSI_ADDR_RH (1u << 3)              /* redirection hint */
#define MSI_ADDR_DM (1u << 2)              /* destination mode: 1 logical */
/* Remappable format (5.1.2.2) */
#define MSI_ADDR_HANDLE_SHIFT 5            /* [19:5] handle[14:0] */
#define MSI_ADDR_HANDLE_MASK (0x7fffu << 5)
#define MSI_ADDR_SHV (1u << 3)             /* subhandle valid */
#define MSI_ADDR_HANDLE15 (1u << 2)        /* [2] handle[15] */

/* --- Data, compatibility format (5.1.2.1) -------------------------------- */
#define MSI_DATA_VECTOR_MASK 0xffu         /* [7:0] */
#define MSI_DATA_DLM_SHIFT 8               /* [10:8] delivery mode */
#define MSI_DATA_DLM_MASK (0x7u << 8)
#define MSI_DATA_LEVEL_ASSERT (1u << 14)   /* level: 1 assert */
#define MSI_DATA_TM_LEVEL (1u << 15)       /* trigger mode: 1 level */
/* --- Data, remappable format (5.1.2.2) ----------------------------------- */
#define MSI_DATA_SUBHANDLE_MASK 0xffffu    /* [15:0], used when SHV = 1 */

/* Delivery modes (5.1.2.1; the same encoding as the IRTE's DLM). */
enum msi_delivery {
	MSI_DLM_FIXED = 0,
	MSI_DLM_LOWPRI = 1,
	MSI_DLM_SMI = 2,
	MSI_DLM_RESERVED3 = 3,
	MSI_DLM_NMI = 4,
	MSI_DLM_INIT = 5,
	MSI_DLM_RESERVED6 = 6,
	MSI_DLM_EXTINT = 7,
};

/* A compatibility-format MSI, field by field (5.1.2.1). */
struct msi_compat {
	uint8_t dest_id;       /* APIC ID (physical) or logical destination */
	bool dest_logical;     /* DM */
	bool redir_hint;       /* RH */
	uint8_t vector;
	uint8_t delivery;      /* enum msi_delivery */
	bool level;            /* trigger mode */
	bool assert;           /* level (meaningful when level-triggered) */
};

/* A remappable-format MSI (5.1.2.2). */
struct msi_remap {
	uint16_t handle;
	bool shv;              /* subhandle valid */
	uint16_t subhandle;    /* data[15:0] when shv */
};

/* Decode a compatibility-format message.  -PORT_EINVAL if it is not one:
 * the address is outside 0xFEExxxxx, addr_hi is not zero, or the interrupt
 * format bit is set.  Address bits [11:5] (no extended destination ID is
 * offered to guests) and the data's reserved bits are ignored. */
int msi_compat_decode(const struct msi_msg *msg, struct msi_compat *out);
void msi_compat_compose(const struct msi_compat *f, struct msi_msg *out);

/* Compose/decode a remappable-format message (5.1.5.2: address carries the
 * handle, data carries the subhandle; for a multi-message MSI block the
 * device ORs the message number into the data's low bits). */
void msi_remap_compose(const struct msi_remap *f, struct msi_msg *out);
int msi_remap_decode(const struct msi_msg *msg, struct msi_remap *out);

/* The interrupt_index the hardware computes (5.1.2.2):
 * handle + subhandle when SHV, else handle. */
uint32_t msi_remap_index(const struct msi_remap *f);

static inline bool msi_is_remappable(const struct msi_msg *msg)
{
	return msg->addr_lo & MSI_ADDR_IF;
}

#endif /* VFS_IRQ_REMAP_MSI_H */
