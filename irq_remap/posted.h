/*
 * posted.h — the posted-interrupt descriptor (VT-d spec rev 4.x, 9.12;
 * 9.11 in rev 2.x), shared by the remapping hardware and the VMX core.
 *
 * 64 bytes, 64-byte aligned:
 *   bits 255:0    PIR   one bit per vector: posted, not yet delivered
 *   bit  256      ON    outstanding notification
 *   bit  257      SN    suppress notification (vCPU not running)
 *   bits 279:272  NV    notification vector (a host vector)
 *   bits 319:288  NDST  notification destination: the host APIC ID of the
 *                       CPU running the vCPU (xAPIC: in NDST[15:8])
 * The hardware sets PIR bits and ON with locked read-modify-writes (5.2.3);
 * every operation here is atomic too.  PIR is the guest's vectors (virtual
 * context); NV/NDST name a host CPU (physical context).
 */
#ifndef VFS_IRQ_REMAP_POSTED_H
#define VFS_IRQ_REMAP_POSTED_H

#include <stdbool.h>
#include <stdint.h>

struct pi_desc {
	uint64_t pir[4];     /* bits 255:0 */
	uint64_t control;    /* bits 319:256: ON, SN, NV, NDST */
	uint64_t rsvd[3];    /* bits 511:320, reserved (zero) */
} __attribute__((aligned(64)));

/* Control quadword (9.12), bit positions relative to bit 256. */
#define PI_CTL_ON (1ull << 0)
#define PI_CTL_SN (1ull << 1)
#define PI_CTL_NV_SHIFT 16              /* bits 279:272 */
#define PI_CTL_NV_MASK (0xffull << 16)
#define PI_CTL_NDST_SHIFT 32            /* bits 319:288 */
#define PI_CTL_NDST_MASK (0xffffffffull << 32)
#define PI_NDST_XAPIC_SHIFT 8           /* xAPIC: APIC ID in NDST[15:8] */

/* Zero the descriptor and set NV/NDST (x2apic: the host is in x2APIC mode,
 * the 32-bit APIC ID is used whole).  -PORT_ERANGE for an xAPIC ID > 0xff. */
int pi_desc_init(struct pi_desc *pd, uint8_t notify_vector, uint32_t host_apic_id,
		 bool x2apic);

/* The vCPU moved to another host CPU, or the notification vector changes
 * (atomic on the control word; PIR, ON and SN are kept). */
int pi_set_ndst(struct pi_desc *pd, uint32_t host_apic_id, bool x2apic);
void pi_set_nv(struct pi_desc *pd, uint8_t notify_vector);
uint32_t pi_ndst(const struct pi_desc *pd, bool x2apic);
uint8_t pi_nv(const struct pi_desc *pd);

/* Post a guest vector as the hardware does (5.2.3): set its PIR bit, then
 * set ON unless SN is set or ON already is.  Returns true when the caller
 * must send the notification (NV to NDST): ON went from 0 to 1. */
bool pi_post(struct pi_desc *pd, uint8_t virt_vector);

bool pi_is_pending(const struct pi_desc *pd, uint8_t virt_vector);
bool pi_on(const struct pi_desc *pd);
bool pi_sn(const struct pi_desc *pd);

/* The VMX core's side: clear ON (returning its old value), then take every
 * posted vector out of PIR into pending[4] (bit v = vector v, OR-ed in).
 * Returns the number of vectors taken. */
bool pi_test_and_clear_on(struct pi_desc *pd);
unsigned pi_harvest(struct pi_desc *pd, uint64_t pending[4]);

/* Suppress notifications while the vCPU is not running (SN = 1), and allow
 * them again (SN = 0).  pi_unsuppress returns true when vectors arrived
 * while suppressed (PIR not empty), so the caller can self-notify. */
void pi_suppress(struct pi_desc *pd);
bool pi_unsuppress(struct pi_desc *pd);

#endif /* VFS_IRQ_REMAP_POSTED_H */
