/*
 * ir_fault.h — interrupt-remapping fault reasons (VT-d spec rev 4.x,
 * 5.1.4.1 "Interrupt Remapping Fault Conditions"; the reasons appear in a
 * fault-recording register's FR field, 11.4.9.6, with the interrupt index
 * in FI[63:48]).
 */
#ifndef VFS_IRQ_REMAP_IR_FAULT_H
#define VFS_IRQ_REMAP_IR_FAULT_H

#include <stdbool.h>
#include <stdint.h>

enum ir_fault_reason {
	IR_FAULT_REQ_RSVD = 0x20,     /* reserved field set in a remappable request */
	IR_FAULT_INDEX_OVER = 0x21,   /* interrupt_index beyond the table size */
	IR_FAULT_NOT_PRESENT = 0x22,  /* IRTE P = 0 */
	IR_FAULT_TABLE_ACCESS = 0x23, /* reading the table through IRTA failed */
	IR_FAULT_IRTE_RSVD = 0x24,    /* reserved field set in a present IRTE */
	IR_FAULT_COMPAT_BLOCKED = 0x25, /* compatibility-format request blocked (EIME or CFI = 0) */
	IR_FAULT_SID = 0x26,          /* source-id verification failed (SID/SQ/SVT) */
	IR_FAULT_PID_ACCESS = 0x27,   /* reading the posted-interrupt descriptor failed */
};

/* One IR fault taken from a fault-recording register (11.4.9.6). */
struct ir_fault {
	uint8_t reason;      /* FR */
	uint16_t source_id;  /* SID of the requester */
	uint16_t index;      /* interrupt_index (FI[63:48]) */
};

static inline bool ir_fault_is_ir(uint8_t reason)
{
	return reason >= IR_FAULT_REQ_RSVD && reason <= IR_FAULT_PID_ACCESS;
}

/* The spec's description of an IR fault reason, or NULL if not one. */
const char *ir_fault_reason_name(uint8_t reason);

/* Decode a fault record's two quadwords; -PORT_EINVAL if F is clear or
 * the reason is not an interrupt-remapping one. */
int ir_fault_decode(uint64_t frcd_lo, uint64_t frcd_hi, struct ir_fault *out);

/* Log one line naming the fault: "ir fault 0x22 (interrupt remapping table
 * entry not present) sid 00:03.0 index 7". */
void ir_fault_log(const struct ir_fault *f);

#endif /* VFS_IRQ_REMAP_IR_FAULT_H */
