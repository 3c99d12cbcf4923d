/* ir_fault.c — IR fault reasons 0x20-0x27 (VT-d 5.1.4.1). */
#include "irq_remap/ir_fault.h"

#include "iommu/vtd_fault.h"
#include "iommu/vtd_regs.h"
#include "port.h"

/* One table of the spec's names for both modules: iommu/vtd_fault.c. */
const char *ir_fault_reason_name(uint8_t reason)
{
	return ir_fault_is_ir(reason) ? vtd_fault_reason_name(reason) : NULL;
}

int ir_fault_decode(uint64_t frcd_lo, uint64_t frcd_hi, struct ir_fault *out)
{
	uint8_t reason = (uint8_t)VTD_FRCD_HI_FR(frcd_hi);
	if (!(frcd_hi & VTD_FRCD_HI_F) || !ir_fault_is_ir(reason))
		return -PORT_EINVAL;
	out->reason = reason;
	out->source_id = (uint16_t)VTD_FRCD_HI_SID(frcd_hi);
	out->index = (uint16_t)VTD_FRCD_LO_IRIDX(frcd_lo);
	return 0;
}

void ir_fault_log(const struct ir_fault *f)
{
	port_log("ir fault 0x%x (%s) sid %02x:%02x.%u index %u", f->reason,
		 ir_fault_reason_name(f->reason), f->source_id >> 8, (f->source_id >> 3) & 0x1f,
		 f->source_id & 7u, f->index);
}
