/* vtd_unit.c — one VT-d remapping unit: decode, handshakes, invalidation. */
#include "vtd_unit.h"

#include "port.h"
#include "vtd_context.h"
#include "vtd_fault.h"
#include "vtd_regs.h"

/* QS=0: one page of 256 128-bit or 128 256-bit descriptors (11.4.11.3). */
#define IQ_SLOT(u) ((u)->iq_dw ? 32u : 16u)
#define IQ_ENTRIES(u) (PORT_PAGE_SIZE / IQ_SLOT(u))
#define ONE_SHOT_BITS (VTD_GCMD_SRTP | VTD_GCMD_SFL | VTD_GCMD_WBF | VTD_GCMD_SIRTP)
#define KNOWN_BITS (VTD_GCMD_TE | VTD_GCMD_EAFL | VTD_GCMD_QIE | VTD_GCMD_IRE | \
		    VTD_GCMD_CFI | ONE_SHOT_BITS)

static void decode_caps(struct vtd_caps *c, uint32_t ver, uint64_t cap, uint64_t ecap);
static int wait_reg(struct vtd_unit *u, unsigned reg, bool wide, uint64_t mask, uint64_t want,
		    const char *what);
static int submit_chunk(struct vtd_unit *u, const struct vtd_desc *d, unsigned n);
static int qi_error(struct vtd_unit *u, uint32_t fsts, struct vtd_desc wait);
static int inv_reg(struct vtd_unit *u, unsigned reg, uint64_t cmd, uint64_t busy,
		   uint64_t actual_gran, const char *what);
static uint32_t rd32(const struct vtd_unit *u, unsigned reg);
static uint64_t rd64(const struct vtd_unit *u, unsigned reg);
static void wr32(const struct vtd_unit *u, unsigned reg, uint32_t v);
static void wr64(const struct vtd_unit *u, unsigned reg, uint64_t v);
static unsigned ms(uint64_t ns) { return (unsigned)(ns / 1000000u); }
/* Write a 128-bit descriptor into queue slot i (upper 128 bits zero when DW=1). */
static void put_desc(struct vtd_unit *u, unsigned i, struct vtd_desc d)
{
	uint64_t *slot = &u->iq[i * IQ_SLOT(u) / 8];
	slot[0] = d.lo;
	slot[1] = d.hi;
	if (u->iq_dw)
		slot[2] = slot[3] = 0;
}

int vtd_unit_init(struct vtd_unit *u, uint64_t reg_base, unsigned flags)
{
	if (!u)
		return -PORT_EINVAL;
	*u = (struct vtd_unit){
		.reg_base = reg_base,
		.flags = flags,
		.timeout_ns = VTD_UNIT_DEFAULT_TIMEOUT_NS,
		.fault_limit = VTD_FAULT_DEFAULT_LIMIT,
	};
	if (reg_base == 0 || (reg_base & (PORT_PAGE_SIZE - 1))) {
		port_log("VT-d unit 0x%llx: register base is %s", (unsigned long long)reg_base,
			 reg_base ? "not 4 KiB aligned" : "zero");
		return -PORT_EINVAL;
	}
	uint32_t ver = rd32(u, VTD_REG_VER);
	uint64_t cap = rd64(u, VTD_REG_CAP), ecap = rd64(u, VTD_REG_ECAP);
	if (ver == 0xffffffffu || cap == ~0ull || ecap == ~0ull || cap == 0) {
		port_log("VT-d unit 0x%llx: VER/CAP/ECAP read 0x%x/0x%llx/0x%llx: no remapping "
			 "unit at this address", (unsigned long long)reg_base, ver,
			 (unsigned long long)cap, (unsigned long long)ecap);
		return -PORT_ENODEV;
	}
	decode_caps(&u->caps, ver, cap, ecap);
	if (!u->caps.ndoms) {   /* 11.4.2: ND 111b is reserved */
		port_log("VT-d unit 0x%llx: CAP.ND %u is reserved", (unsigned long long)reg_base,
			 u->caps.nd);
		return -PORT_ENODEV;
	}
	/* The IOTLB and fault-recording registers lie past the fixed ones. */
	if (u->caps.iro <= VTD_REG_ECAP || u->caps.fro <= VTD_REG_ECAP ||
	    u->caps.iro + 16 > 0x10000 || u->caps.fro + 16 * u->caps.nfr > 0x10000) {
		port_log("VT-d unit 0x%llx: ECAP.IRO 0x%x or CAP.FRO 0x%x (NFR %u) out of range",
			 (unsigned long long)reg_base, u->caps.iro, u->caps.fro, u->caps.nfr);
		return -PORT_ENODEV;
	}
	if ((flags & VTD_UNIT_SCALABLE) && !u->caps.smts) {
		port_log("VT-d unit 0x%llx: scalable mode requested but ECAP.SMTS=0",
			 (unsigned long long)reg_base);
		return -PORT_ENOTSUP;
	}
	u->ndids = u->caps.ndoms < VTD_UNIT_MAX_DIDS ? u->caps.ndoms : VTD_UNIT_MAX_DIDS;
	return 0;
}

int vtd_unit_gcmd(struct vtd_unit *u, uint32_t gcmd_bit, bool set)
{
	if (!u || !gcmd_bit || (gcmd_bit & (gcmd_bit - 1)) || !(gcmd_bit & KNOWN_BITS))
		return -PORT_EINVAL;
	if ((gcmd_bit & ONE_SHOT_BITS) && !set)
		return -PORT_EINVAL;
	uint32_t cmd = rd32(u, VTD_REG_GSTS) & VTD_GSTS_PERSISTENT;
	cmd = set ? (cmd | gcmd_bit) : (cmd & ~gcmd_bit);
	wr32(u, VTD_REG_GCMD, cmd);
	if (gcmd_bit == VTD_GCMD_WBF)
		return wait_reg(u, VTD_REG_GSTS, false, VTD_GSTS_WBFS, 0,
				"GSTS.WBFS (clear after GCMD.WBF)");
	/* GSTS bits sit where their GCMD bits do (11.4.5). */
	return wait_reg(u, VTD_REG_GSTS, false, gcmd_bit, set ? gcmd_bit : 0,
			vtd_gcmd_bit_name(gcmd_bit));
}

int vtd_unit_submit(struct vtd_unit *u, const struct vtd_desc *descs, unsigned n)
{
	if (!u || (n && !descs))
		return -PORT_EINVAL;
	if (!u->qi_on)
		return -PORT_ENOTSUP;
	unsigned done = 0;
	do {
		unsigned chunk = n - done;
		if (chunk > IQ_ENTRIES(u) - 2)
			chunk = IQ_ENTRIES(u) - 2;
		int rc = submit_chunk(u, descs + done, chunk);
		if (rc)
			return rc;
		done += chunk;
	} while (done < n);
	return 0;
}

int vtd_unit_qi_enable(struct vtd_unit *u)
{
	if (!u)
		return -PORT_EINVAL;
	if (u->qi_on)
		return 0;
	if (!u->caps.qi || (u->flags & VTD_UNIT_NO_QI))
		return -PORT_ENOTSUP;
	u->iq = port_page_alloc();
	u->wait_status = port_page_alloc();
	if (!u->iq || !u->wait_status) {
		port_page_free(u->iq);
		port_page_free((void *)u->wait_status);
		u->iq = NULL;
		u->wait_status = NULL;
		return -PORT_ENOMEM;
	}
	/* 11.4.11.3: QS=0, one page; 256-bit descriptors (DW=1) in scalable
	 * mode (6.5.2), 128-bit otherwise. */
	u->iq_dw = (u->flags & VTD_UNIT_SCALABLE) != 0;
	wr64(u, VTD_REG_IQT, 0);
	wr64(u, VTD_REG_IQA, port_virt_to_phys(u->iq) | VTD_IQA_QS(0) |
	     (u->iq_dw ? VTD_IQA_DW : 0));
	int rc = vtd_unit_gcmd(u, VTD_GCMD_QIE, true);
	if (rc) {
		port_page_free(u->iq);
		port_page_free((void *)u->wait_status);
		u->iq = NULL;
		u->wait_status = NULL;
		return rc;
	}
	u->iq_tail = (unsigned)(vtd_field(rd64(u, VTD_REG_IQH), 18, 4) * 16 / IQ_SLOT(u)) %
		     IQ_ENTRIES(u);
	wr64(u, VTD_REG_IQT, (uint64_t)u->iq_tail * IQ_SLOT(u));
	u->qi_on = true;
	return 0;
}

int vtd_unit_qi_disable(struct vtd_unit *u)
{
	if (!u || !u->qi_on)
		return 0;
	/* 11.4.4: QIE may be cleared only when the queue is quiescent. */
	int rc = wait_reg(u, VTD_REG_IQH, true, VTD_GENMASK(18, 4), (uint64_t)u->iq_tail * IQ_SLOT(u),
			  "IQH (queue drain to IQT before clearing QIE)");
	if (!rc)
		rc = vtd_unit_gcmd(u, VTD_GCMD_QIE, false);
	u->qi_on = false;
	if (rc)     /* the hardware may still read the queue: leak it, never reuse */
		return rc;
	port_page_free(u->iq);
	port_page_free((void *)u->wait_status);
	u->iq = NULL;
	u->wait_status = NULL;
	return 0;
}

int vtd_unit_enable(struct vtd_unit *u)
{
	if (!u)
		return -PORT_EINVAL;
	if (u->root)
		return -PORT_EBUSY;
	int rc = 0;
	if (u->caps.qi && !(u->flags & VTD_UNIT_NO_QI))
		rc = vtd_unit_qi_enable(u);
	if (rc)
		return rc;
	u->scalable = (u->flags & VTD_UNIT_SCALABLE) != 0;
	u->root = port_page_alloc();
	if (!u->root) {
		vtd_unit_fini(u);
		return -PORT_ENOMEM;
	}
	if (!u->caps.c)
		port_cache_flush(u->root, PORT_PAGE_SIZE);
	/* 11.4.6: root table address and translation table mode. */
	wr64(u, VTD_REG_RTADDR, port_virt_to_phys(u->root) |
	     (u->scalable ? VTD_RTADDR_TTM_SCALABLE : VTD_RTADDR_TTM_LEGACY));
	rc = vtd_unit_gcmd(u, VTD_GCMD_SRTP, true);
	if (!rc)
		rc = vtd_unit_inv_context(u, VTD_CC_GLOBAL, 0, 0, 0);
	if (!rc)
		rc = vtd_unit_inv_iotlb(u, VTD_TLB_GLOBAL, 0, 0, 0, false);
	if (!rc)
		rc = vtd_unit_flush_write_buffer(u);
	if (!rc)
		rc = vtd_unit_gcmd(u, VTD_GCMD_TE, true);
	if (rc)
		vtd_unit_fini(u);
	return rc;
}

void vtd_unit_fini(struct vtd_unit *u)
{
	if (!u)
		return;
	if (u->reg_base && (rd32(u, VTD_REG_GSTS) & VTD_GSTS_TES) && u->root)
		(void)vtd_unit_gcmd(u, VTD_GCMD_TE, false);
	(void)vtd_unit_qi_disable(u);
	if (u->root) {
		vtd_ctx_free_tables(u);
		port_page_free(u->root);
		u->root = NULL;
	}
	port_page_free(u->did_map);
	u->did_map = NULL;
}

int vtd_unit_did_alloc(struct vtd_unit *u)
{
	if (!u)
		return -PORT_EINVAL;
	if (!u->did_map) {
		u->did_map = port_page_alloc();
		if (!u->did_map)
			return -PORT_ENOMEM;
		u->did_map[0] = 1;   /* DID 0: reserved (CM=1) and never used */
	}
	for (unsigned did = 1; did < u->ndids; did++) {
		uint64_t bit = 1ull << (did % 64);
		if (!(u->did_map[did / 64] & bit)) {
			u->did_map[did / 64] |= bit;
			return (int)did;
		}
	}
	port_log("VT-d unit 0x%llx: all %u domain ids (CAP.ND %u) in use",
		 (unsigned long long)u->reg_base, u->ndids, u->caps.nd);
	return -PORT_ENOSPC;
}

void vtd_unit_did_free(struct vtd_unit *u, unsigned did)
{
	if (u && u->did_map && did > 0 && did < u->ndids)
		u->did_map[did / 64] &= ~(1ull << (did % 64));
}

int vtd_unit_inv_context(struct vtd_unit *u, unsigned gran, unsigned did, uint16_t sid,
			 unsigned fm)
{
	if (!u || gran < VTD_CC_GLOBAL || gran > VTD_CC_DEVICE || did > 0xffff || fm > 3)
		return -PORT_EINVAL;
	if (u->qi_on) {
		struct vtd_desc d = vtd_desc_context(gran, did, sid, fm);
		return vtd_unit_submit(u, &d, 1);
	}
	return inv_reg(u, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG(gran) | VTD_CCMD_FM(fm) |
		       VTD_CCMD_SID(sid) | VTD_CCMD_DID(did), VTD_CCMD_ICC, VTD_CCMD_CAIG_MASK,
		       "CCMD.ICC (context invalidation)");
}

int vtd_unit_inv_iotlb(struct vtd_unit *u, unsigned gran, unsigned did, uint64_t iova,
		       unsigned am, bool ih)
{
	if (!u || gran < VTD_TLB_GLOBAL || gran > VTD_TLB_PAGE || did > 0xffff)
		return -PORT_EINVAL;
	if (gran == VTD_TLB_PAGE &&
	    (!u->caps.psi || am > u->caps.mamv || (iova & ((1ull << (12 + am)) - 1))))
		return -PORT_EINVAL;
	if (u->qi_on) {
		struct vtd_desc d = vtd_desc_iotlb(gran, did, iova, am, ih, u->caps.drd,
						   u->caps.dwd);
		return vtd_unit_submit(u, &d, 1);
	}
	uint64_t cmd = VTD_IOTLB_IVT | VTD_IOTLB_IIRG(gran) | VTD_IOTLB_DID(did) |
		       (u->caps.drd ? VTD_IOTLB_DR : 0) | (u->caps.dwd ? VTD_IOTLB_DW : 0);
	/* 11.4.8.2: IVA_REG is read for page-selective requests only, and must
	 * be written for every one of them (IOVA 0 included). */
	if (gran == VTD_TLB_PAGE)
		wr64(u, u->caps.iro + VTD_REG_IVA_OFF,
		     (iova & VTD_IVA_ADDR_MASK) | (ih ? VTD_IVA_IH : 0) | VTD_IVA_AM(am));
	return inv_reg(u, u->caps.iro + VTD_REG_IOTLB_OFF, cmd, VTD_IOTLB_IVT, VTD_IOTLB_IAIG_MASK,
		       "IOTLB_REG.IVT (IOTLB invalidation)");
}

int vtd_unit_inv_range(struct vtd_unit *u, unsigned did, uint64_t iova, uint64_t len)
{
	if (!u || !len)
		return -PORT_EINVAL;
	uint64_t first = iova >> 12, last = (iova + len - 1) >> 12;
	unsigned am = 0;
	while (am < 52 && (first >> am) != (last >> am))
		am++;
	if (!u->caps.psi || am > u->caps.mamv)
		return vtd_unit_inv_iotlb(u, VTD_TLB_DOMAIN, did, 0, 0, false);
	return vtd_unit_inv_iotlb(u, VTD_TLB_PAGE, did, (first >> am) << (am + 12), am, false);
}

int vtd_unit_inv_range_pasid(struct vtd_unit *u, unsigned did, unsigned pasid, uint64_t iova,
			     uint64_t len)
{
	if (!u || !len || did > 0xffff || pasid >= (1u << 20))
		return -PORT_EINVAL;
	if (!u->qi_on)
		return -PORT_ENOTSUP;   /* 6.5.2.4: PASID-based invalidation is queued only */
	uint64_t first = iova >> 12, last = (iova + len - 1) >> 12;
	unsigned am = 0;
	while (am < 52 && (first >> am) != (last >> am))
		am++;
	struct vtd_desc d = am > u->caps.mamv
		? vtd_desc_piotlb(VTD_PIOTLB_PASID, did, pasid, 0, 0, false)
		: vtd_desc_piotlb(VTD_PIOTLB_PAGE, did, pasid, (first >> am) << (am + 12), am, false);
	return vtd_unit_submit(u, &d, 1);
}

int vtd_unit_inv_devtlb(struct vtd_unit *u, uint16_t sid, uint16_t pfsid, unsigned qdep,
			uint64_t addr, uint64_t size_pages)
{
	if (!u || (size_pages & (size_pages - 1)) || qdep > 31)
		return -PORT_EINVAL;
	if (!u->caps.dt)
		return -PORT_ENOTSUP;
	if (!u->qi_on)
		return -PORT_ENOTSUP;   /* 6.5.2.5: device-TLB invalidation is queued only */
	bool s = size_pages != 1;
	uint64_t a;
	if (size_pages == 0) {
		a = VTD_GENMASK(62, 12);   /* 6.5.2.5: S=1, all ones below bit 63: everything */
	} else {
		uint64_t bytes = size_pages << 12;
		a = (addr & ~(bytes - 1)) | (s ? ((bytes >> 1) - 1) & ~0xfffull : 0);
	}
	struct vtd_desc d = vtd_desc_devtlb(sid, pfsid, qdep, a, s);
	return vtd_unit_submit(u, &d, 1);
}

int vtd_unit_inv_iec(struct vtd_unit *u, bool global, unsigned index, unsigned im)
{
	if (!u || index > 0xffff || im > 31)
		return -PORT_EINVAL;
	if (!u->qi_on)
		return -PORT_ENOTSUP;
	struct vtd_desc d = vtd_desc_iec(global, index, im);
	return vtd_unit_submit(u, &d, 1);
}

int vtd_unit_flush_write_buffer(struct vtd_unit *u)
{
	if (!u)
		return -PORT_EINVAL;
	if (!u->caps.rwbf)
		return 0;
	return vtd_unit_gcmd(u, VTD_GCMD_WBF, true);
}

/* --- descriptor builders (6.5.2) ----------------------------------------- */

struct vtd_desc vtd_desc_context(unsigned gran, unsigned did, uint16_t sid, unsigned fm)
{
	struct vtd_desc d = { VTD_DESC_CC | VTD_DESC_CC_G(gran), 0 };
	if (gran >= VTD_CC_DOMAIN)
		d.lo |= VTD_DESC_CC_DID(did);
	if (gran == VTD_CC_DEVICE)
		d.lo |= VTD_DESC_CC_SID(sid) | VTD_DESC_CC_FM(fm);
	return d;
}

struct vtd_desc vtd_desc_piotlb(unsigned gran, unsigned did, unsigned pasid, uint64_t addr,
				unsigned am, bool ih)
{
	struct vtd_desc d = { VTD_DESC_PIOTLB | VTD_DESC_PIOTLB_G(gran) | VTD_DESC_PIOTLB_DID(did) |
				      VTD_DESC_PIOTLB_PASID(pasid), 0 };
	if (gran == VTD_PIOTLB_PAGE)
		d.hi = (addr & VTD_IVA_ADDR_MASK) | VTD_DESC_IOTLB_AM(am) |
		       (ih ? VTD_DESC_IOTLB_IH : 0);
	return d;
}

struct vtd_desc vtd_desc_iotlb(unsigned gran, unsigned did, uint64_t addr, unsigned am,
			       bool ih, bool dr, bool dw)
{
	struct vtd_desc d = { VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(gran), 0 };
	if (dr)
		d.lo |= VTD_DESC_IOTLB_DR;
	if (dw)
		d.lo |= VTD_DESC_IOTLB_DW;
	if (gran >= VTD_TLB_DOMAIN)
		d.lo |= VTD_DESC_IOTLB_DID(did);
	if (gran == VTD_TLB_PAGE)
		d.hi = (addr & VTD_IVA_ADDR_MASK) | VTD_DESC_IOTLB_AM(am) |
		       (ih ? VTD_DESC_IOTLB_IH : 0);
	return d;
}

struct vtd_desc vtd_desc_devtlb(uint16_t sid, uint16_t pfsid, unsigned mip, uint64_t addr,
				bool size_bit)
{
	struct vtd_desc d = {
		VTD_DESC_DEVTLB | VTD_DESC_DEVTLB_SID(sid) | VTD_DESC_DEVTLB_MIP(mip) |
			VTD_DESC_DEVTLB_PFSID((uint64_t)pfsid),
		(addr & VTD_GENMASK(63, 12)) | (size_bit ? VTD_DESC_DEVTLB_S : 0),
	};
	return d;
}

struct vtd_desc vtd_desc_iec(bool global, unsigned index, unsigned im)
{
	struct vtd_desc d = { VTD_DESC_IEC, 0 };
	if (!global)
		d.lo |= VTD_DESC_IEC_INDEXED | VTD_DESC_IEC_IM(im) | VTD_DESC_IEC_IIDX(index);
	return d;
}

struct vtd_desc vtd_desc_wait(uint64_t status_pa, uint32_t data, bool intr, bool fence)
{
	struct vtd_desc d = {
		VTD_DESC_WAIT | VTD_DESC_WAIT_SW | VTD_DESC_WAIT_SDATA(data) |
			(intr ? VTD_DESC_WAIT_IF : 0) | (fence ? VTD_DESC_WAIT_FN : 0),
		status_pa & VTD_DESC_WAIT_SADDR_MASK,
	};
	return d;
}

const char *vtd_gcmd_bit_name(uint32_t gcmd_bit)
{
	switch (gcmd_bit) {
	case VTD_GCMD_TE: return "GSTS.TES (after GCMD.TE)";
	case VTD_GCMD_SRTP: return "GSTS.RTPS (after GCMD.SRTP)";
	case VTD_GCMD_SFL: return "GSTS.FLS (after GCMD.SFL)";
	case VTD_GCMD_EAFL: return "GSTS.AFLS (after GCMD.EAFL)";
	case VTD_GCMD_WBF: return "GSTS.WBFS (after GCMD.WBF)";
	case VTD_GCMD_QIE: return "GSTS.QIES (after GCMD.QIE)";
	case VTD_GCMD_IRE: return "GSTS.IRES (after GCMD.IRE)";
	case VTD_GCMD_SIRTP: return "GSTS.IRTPS (after GCMD.SIRTP)";
	case VTD_GCMD_CFI: return "GSTS.CFIS (after GCMD.CFI)";
	default: return "?";
	}
}

/* --- helpers ------------------------------------------------------------- */

static void decode_caps(struct vtd_caps *c, uint32_t ver, uint64_t cap, uint64_t ecap)
{
	c->ver = ver;
	c->cap = cap;
	c->ecap = ecap;
	c->ver_major = (unsigned)VTD_VER_MAJOR(ver);
	c->ver_minor = (unsigned)VTD_VER_MINOR(ver);
	c->c = ecap & VTD_ECAP_C;
	c->qi = ecap & VTD_ECAP_QI;
	c->dt = ecap & VTD_ECAP_DT;
	c->ir = ecap & VTD_ECAP_IR;
	c->eim = ecap & VTD_ECAP_EIM;
	c->pt = ecap & VTD_ECAP_PT;
	c->sc = ecap & VTD_ECAP_SC;
	c->iro = (unsigned)VTD_ECAP_IRO(ecap) * 16;
	c->mhmv = (unsigned)VTD_ECAP_MHMV(ecap);
	c->nest = ecap & VTD_ECAP_NEST;
	c->prs = ecap & VTD_ECAP_PRS;
	c->srs = ecap & VTD_ECAP_SRS;
	c->pss = (unsigned)VTD_ECAP_PSS(ecap);
	c->pasid = ecap & VTD_ECAP_PASID;
	c->smts = ecap & VTD_ECAP_SMTS;
	c->slts = ecap & VTD_ECAP_SLTS;
	c->flts = ecap & VTD_ECAP_FLTS;
	c->nd = (unsigned)VTD_CAP_ND(cap);
	c->ndoms = c->nd <= 6 ? 1u << (4 + 2 * c->nd) : 0;
	c->afl = cap & VTD_CAP_AFL;
	c->rwbf = cap & VTD_CAP_RWBF;
	c->plmr = cap & VTD_CAP_PLMR;
	c->phmr = cap & VTD_CAP_PHMR;
	c->cm = cap & VTD_CAP_CM;
	c->sagaw = (unsigned)VTD_CAP_SAGAW(cap);
	c->mgaw = (unsigned)VTD_CAP_MGAW(cap) + 1;
	c->zlr = cap & VTD_CAP_ZLR;
	c->fro = (unsigned)VTD_CAP_FRO(cap) * 16;
	c->sllps = (unsigned)VTD_CAP_SLLPS(cap);
	c->psi = cap & VTD_CAP_PSI;
	c->nfr = (unsigned)VTD_CAP_NFR(cap) + 1;
	c->mamv = (unsigned)VTD_CAP_MAMV(cap);
	c->dwd = cap & VTD_CAP_DWD;
	c->drd = cap & VTD_CAP_DRD;
	c->pi = cap & VTD_CAP_PI;
	c->fs1gp = cap & VTD_CAP_FS1GP;
}

/* Poll a 32- or 64-bit register until (value & mask) == want, at most
 * u->timeout_ns; on timeout one log line names the unit and the register. */
static int wait_reg(struct vtd_unit *u, unsigned reg, bool wide, uint64_t mask, uint64_t want,
		    const char *what)
{
	uint64_t start = port_time_ns();
	for (;;) {
		uint64_t v = wide ? rd64(u, reg) : rd32(u, reg);
		if ((v & mask) == want)
			return 0;
		if (port_time_ns() - start > u->timeout_ns) {
			port_log("VT-d unit 0x%llx: %s did not complete within %u ms (reg 0x%x = 0x%llx)",
				 (unsigned long long)u->reg_base, what, ms(u->timeout_ns), reg,
				 (unsigned long long)v);
			return -PORT_ETIMEDOUT;
		}
	}
}

static int submit_chunk(struct vtd_unit *u, const struct vtd_desc *d, unsigned n)
{
	/* Every submission waits for its own completion, so the queue is empty
	 * here unless an earlier one timed out: never write over descriptors
	 * the unit has not fetched, nor move IQT round past IQH. */
	int rc = wait_reg(u, VTD_REG_IQH, true, VTD_GENMASK(18, 4), (uint64_t)u->iq_tail * IQ_SLOT(u),
			  "IQH (queue still busy with an earlier submission)");
	if (rc)
		return rc;
	unsigned t = u->iq_tail, first = t, size = IQ_ENTRIES(u);
	for (unsigned i = 0; i < n; i++) {
		put_desc(u, t, d[i]);
		t = (t + 1) % size;
	}
	if (++u->wait_seq == 0)
		u->wait_seq = 1;
	uint32_t seq = u->wait_seq;
	*u->wait_status = 0;
	struct vtd_desc wait = vtd_desc_wait(port_virt_to_phys((const void *)u->wait_status),
					     seq, false, true);
	put_desc(u, t, wait);
	t = (t + 1) % size;
	if (!u->caps.c) {   /* hardware may not snoop the queue either */
		uint8_t *q = (uint8_t *)u->iq;
		if (t > first) {
			port_cache_flush(q + first * IQ_SLOT(u), (t - first) * IQ_SLOT(u));
		} else {
			port_cache_flush(q + first * IQ_SLOT(u), (size - first) * IQ_SLOT(u));
			port_cache_flush(q, t * IQ_SLOT(u));
		}
	}
	u->iq_tail = t;
	wr64(u, VTD_REG_IQT, (uint64_t)t * IQ_SLOT(u));

	int err = 0;
	uint64_t start = port_time_ns();
	for (;;) {
		if (*u->wait_status == seq)
			return err;
		uint32_t fsts = rd32(u, VTD_REG_FSTS);
		if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
			err = qi_error(u, fsts, wait);
			if (fsts & (VTD_FSTS_ITE | VTD_FSTS_ICE))
				return err;   /* 6.5.2.10: pending waits are aborted */
		}
		/* Bounded even when IQE comes back on every descriptor. */
		if (port_time_ns() - start > u->timeout_ns) {
			port_log("VT-d unit 0x%llx: invalidation wait did not complete within %u ms "
				 "(IQH 0x%llx, IQT 0x%llx)", (unsigned long long)u->reg_base,
				 ms(u->timeout_ns), (unsigned long long)rd64(u, VTD_REG_IQH),
				 (unsigned long long)rd64(u, VTD_REG_IQT));
			return err ? err : -PORT_ETIMEDOUT;
		}
	}
}

/* 6.5.2.10 / 11.4.9.1: decode and clear an invalidation queue error. */
static int qi_error(struct vtd_unit *u, uint32_t fsts, struct vtd_desc wait)
{
	static const char *const iqei[] = {
		"no information", "IQT beyond queue", "descriptor fetch error",
		"invalid descriptor type", "reserved field set", "invalid descriptor width",
		"queue tail misaligned", "invalid ITAG",
	};
	uint64_t ercd = rd64(u, VTD_REG_IQERCD);
	unsigned head = (unsigned)(vtd_field(rd64(u, VTD_REG_IQH), 18, 4) * 16 / IQ_SLOT(u)) %
			IQ_ENTRIES(u);
	unsigned long long base = (unsigned long long)u->reg_base;
	if (fsts & VTD_FSTS_IQE) {
		unsigned code = (unsigned)VTD_IQERCD_IQEI(ercd);
		const uint64_t *slot = &u->iq[head * IQ_SLOT(u) / 8];
		struct vtd_desc bad = { slot[0], slot[1] };
		port_log("VT-d unit 0x%llx: FSTS.IQE: descriptor %u (0x%016llx:%016llx, type %u) "
			 "rejected: IQERCD.IQEI %u (%s)", base, head, (unsigned long long)bad.hi,
			 (unsigned long long)bad.lo, (unsigned)VTD_DESC_TYPE(bad.lo), code,
			 code < 8 ? iqei[code] : "reserved");
		/* Replace the bad descriptor with our wait so the queue moves on. */
		put_desc(u, head, wait);
		if (!u->caps.c)
			port_cache_flush(&u->iq[head * IQ_SLOT(u) / 8], IQ_SLOT(u));
		wr32(u, VTD_REG_FSTS, VTD_FSTS_IQE);
	}
	if (fsts & VTD_FSTS_ITE) {
		port_log("VT-d unit 0x%llx: FSTS.ITE: device-TLB invalidation timed out "
			 "(IQERCD.ITESID %04llx)", base, (unsigned long long)VTD_IQERCD_ITESID(ercd));
		wr32(u, VTD_REG_FSTS, VTD_FSTS_ITE);
	}
	if (fsts & VTD_FSTS_ICE) {
		port_log("VT-d unit 0x%llx: FSTS.ICE: invalid device-TLB completion "
			 "(IQERCD.ICESID %04llx)", base, (unsigned long long)VTD_IQERCD_ICESID(ercd));
		wr32(u, VTD_REG_FSTS, VTD_FSTS_ICE);
	}
	return -PORT_EIO;
}

/* 11.4.7 / 11.4.8: write the command, wait (bounded) for the busy bit (ICC,
 * IVT) to clear, then check the actual-granularity field (CAIG, IAIG): 0
 * means the hardware did not perform the request. */
static int inv_reg(struct vtd_unit *u, unsigned reg, uint64_t cmd, uint64_t busy,
		   uint64_t actual_gran, const char *what)
{
	wr64(u, reg, cmd);
	int rc = wait_reg(u, reg, true, busy, 0, what);
	if (!rc && !(rd64(u, reg) & actual_gran)) {
		port_log("VT-d unit 0x%llx: %s: actual granularity 0, invalidation not performed",
			 (unsigned long long)u->reg_base, what);
		rc = -PORT_EIO;
	}
	return rc;
}

static uint32_t rd32(const struct vtd_unit *u, unsigned reg)
{
	return port_mmio_read32(u->reg_base + reg);
}
static uint64_t rd64(const struct vtd_unit *u, unsigned reg)
{
	return port_mmio_read64(u->reg_base + reg);
}
static void wr32(const struct vtd_unit *u, unsigned reg, uint32_t v)
{
	port_mmio_write32(u->reg_base + reg, v);
}
static void wr64(const struct vtd_unit *u, unsigned reg, uint64_t v)
{
	port_mmio_write64(u->reg_base + reg, v);
}
