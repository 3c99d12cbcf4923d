/* vtd_fault.c — primary fault recording and the fault event (VT-d 7.2, 11.4.9). */
#include "vtd_fault.h"

#include "port.h"
#include "vtd_regs.h"

static void decode(struct vtd_fault *f, unsigned index, uint64_t lo, uint64_t hi);
static void log_fault(const struct vtd_unit *u, const struct vtd_fault *f);

/* 7.1.3 (DMA remapping, legacy) and 7.1.4 (interrupt remapping) reason codes. */
const char *vtd_fault_reason_name(unsigned reason)
{
	switch (reason) {
	case 0x01: return "root entry not present";
	case 0x02: return "context entry not present";
	case 0x03: return "invalid context entry programming (TT/AW)";
	case 0x04: return "input address above the guest address width";
	case 0x05: return "write access to a page without write permission";
	case 0x06: return "read access to a page without read permission";
	case 0x07: return "error accessing a second-level paging entry";
	case 0x08: return "error accessing a root entry";
	case 0x09: return "error accessing a context entry";
	case 0x0a: return "reserved field set in a present root entry";
	case 0x0b: return "reserved field set in a present context entry";
	case 0x0c: return "reserved field set in a present second-level paging entry";
	case 0x0d: return "request blocked by the context entry's translation type";
	case 0x20: return "reserved field set in the interrupt request";
	case 0x21: return "interrupt index exceeds the interrupt remapping table size";
	case 0x22: return "interrupt remapping table entry not present";
	case 0x23: return "error accessing the interrupt remapping table";
	case 0x24: return "reserved field set in a present interrupt remapping table entry";
	case 0x25: return "compatibility-format interrupt blocked";
	case 0x26: return "remappable interrupt blocked by source-id verification";
	case 0x27: return "error accessing a posted-interrupt descriptor";
	default:
		if (reason >= 0x30)
			return "scalable-mode translation fault";
		return "reserved fault reason";
	}
}

int vtd_fault_collect(struct vtd_unit *u, struct vtd_fault *out, unsigned max, bool *overflow)
{
	if (!u || (max && !out))
		return -PORT_EINVAL;
	uint32_t fsts = port_mmio_read32(u->reg_base + VTD_REG_FSTS);
	if (overflow)
		*overflow = fsts & VTD_FSTS_PFO;
	unsigned n = 0;
	if ((fsts & VTD_FSTS_PPF) && u->caps.nfr) {
		/* 7.2.1: start at FSTS.FRI and go round the records once. */
		unsigned first = (unsigned)VTD_FSTS_FRI(fsts) % u->caps.nfr;
		for (unsigned k = 0; k < u->caps.nfr && n < max; k++) {
			unsigned i = (first + k) % u->caps.nfr;
			uint64_t rec = u->reg_base + u->caps.fro + (uint64_t)i * VTD_FRCD_SIZE;
			uint64_t hi = port_mmio_read64(rec + 8);
			if (!(hi & VTD_FRCD_HI_F))
				continue;
			decode(&out[n++], i, port_mmio_read64(rec), hi);
			port_mmio_write32(rec + 12, 0x80000000u);   /* F is RW1C, bit 127 */
		}
	}
	if (fsts & VTD_FSTS_PFO)
		port_mmio_write32(u->reg_base + VTD_REG_FSTS, VTD_FSTS_PFO);
	return (int)n;
}

int vtd_fault_service(struct vtd_unit *u)
{
	if (!u)
		return -PORT_EINVAL;
	struct vtd_fault f[8];
	int total = 0;
	bool overflow = false;
	/* Bounded: at most every record twice over, whatever the hardware does. */
	for (unsigned round = 0; round < 2 * (u->caps.nfr / 8 + 1); round++) {
		bool ov = false;
		int n = vtd_fault_collect(u, f, 8, &ov);
		overflow |= ov;
		if (n <= 0)
			break;
		uint64_t now = port_time_ns();
		if (now - u->fault_window_ns > VTD_FAULT_WINDOW_NS) {
			u->fault_window_ns = now;
			u->fault_window_count = 0;
		}
		for (int i = 0; i < n; i++) {
			u->faults_seen++;
			if (u->fault_window_count < u->fault_limit) {
				u->fault_window_count++;
				log_fault(u, &f[i]);
			} else {
				u->faults_suppressed++;
			}
		}
		total += n;
	}
	if (overflow)
		port_log("VT-d unit 0x%llx: FSTS.PFO: fault records overflowed, faults were lost",
			 (unsigned long long)u->reg_base);
	return total;
}

void vtd_fault_irq_setup(struct vtd_unit *u, uint64_t msi_addr, uint32_t msi_data)
{
	if (!u)
		return;
	port_mmio_write32(u->reg_base + VTD_REG_FEDATA, msi_data);
	port_mmio_write32(u->reg_base + VTD_REG_FEADDR, (uint32_t)msi_addr & ~3u);
	port_mmio_write32(u->reg_base + VTD_REG_FEUADDR, (uint32_t)(msi_addr >> 32));
	vtd_fault_irq_mask(u, false);
}

void vtd_fault_irq_mask(struct vtd_unit *u, bool masked)
{
	if (u)
		port_mmio_write32(u->reg_base + VTD_REG_FECTL, masked ? VTD_FECTL_IM : 0);
}

/* --- helpers --------------------------------------------------------------- */

/* 11.4.9.6: the fault recording register. */
static void decode(struct vtd_fault *f, unsigned index, uint64_t lo, uint64_t hi)
{
	*f = (struct vtd_fault){
		.index = index,
		.sid = (uint16_t)VTD_FRCD_HI_SID(hi),
		.reason = (uint8_t)VTD_FRCD_HI_FR(hi),
		.write = !(hi & VTD_FRCD_HI_T1),
		.at = (unsigned)VTD_FRCD_HI_AT(hi),
		.pasid_present = (hi & VTD_FRCD_HI_PP) != 0,
		.pasid = (uint32_t)VTD_FRCD_HI_PV(hi),
	};
	f->irq = f->reason >= 0x20 && f->reason <= 0x27;
	if (f->irq)
		f->ir_index = (unsigned)VTD_FRCD_LO_IRIDX(lo);
	else
		f->addr = lo & VTD_FRCD_LO_FI_MASK;
}

static void log_fault(const struct vtd_unit *u, const struct vtd_fault *f)
{
	unsigned bus = f->sid >> 8, dev = (f->sid >> 3) & 31, fn = f->sid & 7;
	if (f->irq)
		port_log("VT-d unit 0x%llx: interrupt fault from %02x:%02x.%u index %u: reason 0x%02x (%s)",
			 (unsigned long long)u->reg_base, bus, dev, fn, f->ir_index, f->reason,
			 vtd_fault_reason_name(f->reason));
	else
		port_log("VT-d unit 0x%llx: DMA %s fault from %02x:%02x.%u at 0x%llx: reason 0x%02x (%s)",
			 (unsigned long long)u->reg_base, f->write ? "write" : "read", bus, dev, fn,
			 (unsigned long long)f->addr, f->reason, vtd_fault_reason_name(f->reason));
}
