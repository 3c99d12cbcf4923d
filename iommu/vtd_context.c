/* vtd_context.c — root/context tables, attach and detach (VT-d 3.4, 9.1-9.6). */
#include "vtd_context.h"

#include "port.h"
#include "vtd_regs.h"

static int legacy_attach(struct vtd_unit *u, uint8_t bus, uint8_t devfn,
			 const struct vtd_domain *d, unsigned tt);
static int sm_attach(struct vtd_unit *u, uint8_t bus, uint8_t devfn,
		     const struct vtd_domain *d, unsigned tt);
static uint64_t *ctx_entry(const struct vtd_unit *u, uint8_t bus, uint8_t devfn,
			   bool create, int *err);
static int invalidate_after(struct vtd_unit *u, uint16_t sid, unsigned ctx_did,
			    unsigned did, bool devtlb);
static void flush(const struct vtd_unit *u, const void *va, size_t len);
static unsigned largest_aw(const struct vtd_unit *u);
static void free_sm_context_table(uint64_t *ctx);
static void free_pasid_dir(uint64_t *dir);
static struct vtd_desc pasid_cache_domain(unsigned did);

int vtd_ctx_attach(struct vtd_unit *u, uint8_t bus, uint8_t devfn,
		   const struct vtd_domain *d, unsigned tt)
{
	if (!u || !u->root || !d || !d->top || d->unit != u || tt > VTD_TT_PASSTHROUGH)
		return -PORT_EINVAL;
	if ((tt == VTD_TT_DEVTLB && !u->caps.dt) || (tt == VTD_TT_PASSTHROUGH && !u->caps.pt)) {
		port_log("VT-d unit 0x%llx: translation type %u needs ECAP.%s",
			 (unsigned long long)u->reg_base, tt, tt == VTD_TT_DEVTLB ? "DT" : "PT");
		return -PORT_ENOTSUP;
	}
	return u->scalable ? sm_attach(u, bus, devfn, d, tt) : legacy_attach(u, bus, devfn, d, tt);
}

int vtd_ctx_detach(struct vtd_unit *u, uint8_t bus, uint8_t devfn)
{
	if (!u || !u->root)
		return -PORT_EINVAL;
	int err = 0;
	uint64_t *ce = ctx_entry(u, bus, devfn, false, &err);
	if (!ce || !(ce[0] & VTD_CTX_LO_P))
		return -PORT_ENOENT;
	unsigned did;
	bool devtlb;
	uint64_t *dir = NULL;
	if (u->scalable) {
		/* 9.4: the DID lives in the RID_PASID PASID-table entry. */
		dir = port_phys_to_virt(ce[0] & VTD_SMCTX_LO_PASIDDIRPTR_MASK);
		uint64_t *pt = port_phys_to_virt(dir[0] & VTD_PASIDDIR_PTP_MASK);
		did = (unsigned)vtd_field(pt[1], 15, 0);
		devtlb = ce[0] & VTD_SMCTX_LO_DTE;
		ce[0] = 0;
		flush(u, ce, 8);
		ce[1] = ce[2] = ce[3] = 0;
		flush(u, ce, 32);
	} else {
		did = (unsigned)VTD_CTX_HI_DID_GET(ce[1]);
		devtlb = VTD_CTX_LO_TT_GET(ce[0]) == VTD_TT_DEVTLB;
		ce[0] = 0;   /* clear P first: the entry is never half-valid */
		flush(u, ce, 8);
		ce[1] = 0;
		flush(u, ce, 16);
	}
	/* 6.5.3.3: context cache (device-selective), then IOTLB (domain-selective). */
	int rc = invalidate_after(u, VTD_SID(bus, devfn >> 3, devfn & 7), did, did, devtlb);
	/* The PASID directory and table may be cached until the invalidation
	 * completed: free them only then; if it failed, never reuse them. */
	if (dir && rc)
		port_log("VT-d unit 0x%llx: %02x:%02x.%u: PASID tables left allocated: "
			 "invalidation failed (%d)", (unsigned long long)u->reg_base, bus,
			 devfn >> 3, devfn & 7, rc);
	else if (dir)
		free_pasid_dir(dir);
	return rc;
}

int vtd_ctx_read(const struct vtd_unit *u, uint8_t bus, uint8_t devfn, uint64_t *lo,
		 uint64_t *hi)
{
	if (!u || !u->root || !lo || !hi)
		return -PORT_EINVAL;
	int err = 0;
	const uint64_t *ce = ctx_entry(u, bus, devfn, false, &err);
	*lo = ce ? ce[0] : 0;
	*hi = ce ? ce[1] : 0;
	return 0;
}

void vtd_ctx_free_tables(struct vtd_unit *u)
{
	if (!u || !u->root)
		return;
	for (unsigned bus = 0; bus < 256; bus++) {
		uint64_t lo = u->root[2 * bus], hi = u->root[2 * bus + 1];
		if (u->scalable) {
			if (lo & VTD_SMROOT_LO_LP)
				free_sm_context_table(port_phys_to_virt(lo & VTD_ROOT_LO_CTP_MASK));
			if (hi & VTD_SMROOT_HI_UP)
				free_sm_context_table(port_phys_to_virt(hi & VTD_ROOT_LO_CTP_MASK));
		} else if (lo & VTD_ROOT_LO_P) {
			port_page_free(port_phys_to_virt(lo & VTD_ROOT_LO_CTP_MASK));
		}
		u->root[2 * bus] = u->root[2 * bus + 1] = 0;
	}
}

/* --- helpers --------------------------------------------------------------- */

/* 9.3: legacy context entry: lo P, TT, SLPTPTR; hi AW, DID. */
static int legacy_attach(struct vtd_unit *u, uint8_t bus, uint8_t devfn,
			 const struct vtd_domain *d, unsigned tt)
{
	int err = 0;
	uint64_t *ce = ctx_entry(u, bus, devfn, true, &err);
	if (!ce)
		return err;
	uint64_t lo = (port_virt_to_phys(d->top) & VTD_CTX_LO_SLPTPTR_MASK) | VTD_CTX_LO_TT(tt) |
		      VTD_CTX_LO_P;
	/* 9.3: with TT=10b the hardware ignores SLPTPTR and AW must name the
	 * largest AGAW that CAP.SAGAW offers, whatever the domain's width. */
	unsigned aw = tt == VTD_TT_PASSTHROUGH ? largest_aw(u) : d->aw;
	uint64_t hi = VTD_CTX_HI_AW(aw) | VTD_CTX_HI_DID(d->did);
	if (ce[0] & VTD_CTX_LO_P) {
		if (ce[0] == lo && ce[1] == hi)
			return 0;
		port_log("VT-d unit 0x%llx: %02x:%02x.%u already attached to domain %u",
			 (unsigned long long)u->reg_base, bus, devfn >> 3, devfn & 7,
			 (unsigned)VTD_CTX_HI_DID_GET(ce[1]));
		return -PORT_EBUSY;
	}
	ce[1] = hi;
	flush(u, &ce[1], 8);
	ce[0] = lo;   /* P last */
	flush(u, ce, 16);
	/* 6.1: with CM=1 a not-present entry may be cached under DID 0. */
	if (u->caps.cm)
		return invalidate_after(u, VTD_SID(bus, devfn >> 3, devfn & 7), 0, d->did, false);
	return vtd_unit_flush_write_buffer(u);
}

/* 9.4-9.6: scalable-mode context entry -> PASID directory -> PASID table whose
 * RID_PASID (0) entry does second-level translation (PGTT=2), first-stage
 * translation (PGTT=1, for a first-stage domain) or pass-through. */
static int sm_attach(struct vtd_unit *u, uint8_t bus, uint8_t devfn,
		     const struct vtd_domain *d, unsigned tt)
{
	if (!u->qi_on)
		return -PORT_ENOTSUP;   /* PASID-cache invalidation is queued only */
	if (!u->caps.slts && !d->first_stage && tt != VTD_TT_PASSTHROUGH) {
		port_log("VT-d unit 0x%llx: scalable mode without ECAP.SLTS: no second-level "
			 "translation for PGTT=2", (unsigned long long)u->reg_base);
		return -PORT_ENOTSUP;
	}
	bool fs = d->first_stage && tt != VTD_TT_PASSTHROUGH;
	int err = 0;
	uint64_t *ce = ctx_entry(u, bus, devfn, true, &err);
	if (!ce)
		return err;
	/* PASID-table entry 0 (9.6): qword 1 DID, qword 0 PGTT/AW/SLPTPTR/P;
	 * first-stage: PGTT=1 and qword 2 FSPTPTR with FSPM 0 (4 levels). */
	unsigned pgtt = tt == VTD_TT_PASSTHROUGH ? VTD_PGTT_PT : fs ? VTD_PGTT_FL : VTD_PGTT_SL;
	uint64_t q0 = (fs ? 0 : port_virt_to_phys(d->top) & VTD_PASID_Q0_SLPTPTR_MASK) |
		      VTD_PASID_Q0_AW(tt == VTD_TT_PASSTHROUGH ? largest_aw(u) : d->aw) |
		      VTD_PASID_Q0_PGTT(pgtt) | VTD_PASID_Q0_P;
	uint64_t q1 = VTD_PASID_Q1_DID(d->did);
	uint64_t q2 = fs ? (port_virt_to_phys(d->top) & VTD_PASID_Q2_FSPTPTR_MASK) |
				   VTD_PASID_Q2_FSPM(0)
			 : 0;
	uint64_t dte = tt == VTD_TT_DEVTLB ? VTD_SMCTX_LO_DTE : 0;
	if (ce[0] & VTD_SMCTX_LO_P) {
		const uint64_t *odir = port_phys_to_virt(ce[0] & VTD_SMCTX_LO_PASIDDIRPTR_MASK);
		const uint64_t *opt = port_phys_to_virt(odir[0] & VTD_PASIDDIR_PTP_MASK);
		if (opt[0] == q0 && opt[1] == q1 && opt[2] == q2 &&
		    (ce[0] & VTD_SMCTX_LO_DTE) == dte)
			return 0;   /* the same attachment again */
		port_log("VT-d unit 0x%llx: %02x:%02x.%u already attached to domain %u",
			 (unsigned long long)u->reg_base, bus, devfn >> 3, devfn & 7,
			 (unsigned)vtd_field(opt[1], 15, 0));
		return -PORT_EBUSY;
	}
	uint64_t *dir = port_page_alloc(), *pt = port_page_alloc();
	if (!dir || !pt) {
		port_page_free(dir);
		port_page_free(pt);
		return -PORT_ENOMEM;
	}
	pt[2] = q2;
	pt[1] = q1;
	pt[0] = q0;   /* P last */
	flush(u, pt, 64);
	dir[0] = (port_virt_to_phys(pt) & VTD_PASIDDIR_PTP_MASK) | VTD_PASIDDIR_P;   /* 9.5 */
	flush(u, dir, 8);
	ce[1] = VTD_SMCTX_HI_RID_PASID(0);
	ce[0] = (port_virt_to_phys(dir) & VTD_SMCTX_LO_PASIDDIRPTR_MASK) | VTD_SMCTX_LO_PDTS(0) |
		dte | VTD_SMCTX_LO_P;
	flush(u, ce, 32);
	if (!u->caps.cm)
		return vtd_unit_flush_write_buffer(u);
	uint16_t sid = VTD_SID(bus, devfn >> 3, devfn & 7);
	/* 6.5.3.3 (scalable): context cache, PASID cache, then IOTLB. */
	struct vtd_desc q[3] = {
		vtd_desc_context(VTD_CC_DEVICE, 0, sid, 0),
		pasid_cache_domain(d->did),
		vtd_desc_iotlb(VTD_TLB_DOMAIN, d->did, 0, 0, false, u->caps.drd, u->caps.dwd),
	};
	return vtd_unit_submit(u, q, 3);
}

/* The context entry for bus:devfn (legacy 16 bytes, scalable 32 bytes),
 * allocating the context table when `create`. */
static uint64_t *ctx_entry(const struct vtd_unit *u, uint8_t bus, uint8_t devfn, bool create,
			   int *err)
{
	uint64_t *re = &u->root[2 * bus];
	unsigned half = 0, idx = devfn;
	uint64_t present = VTD_ROOT_LO_P;
	if (u->scalable) {   /* 9.2: lower half devfn 0-127, upper 128-255, 32-byte entries */
		half = devfn >> 7;
		idx = devfn & 127;
		present = half ? VTD_SMROOT_HI_UP : VTD_SMROOT_LO_LP;
	}
	uint64_t *slot = &re[half];
	if (!(*slot & present)) {
		if (!create)
			return NULL;
		uint64_t *t = port_page_alloc();
		if (!t) {
			*err = -PORT_ENOMEM;
			return NULL;
		}
		flush(u, t, PORT_PAGE_SIZE);
		*slot = (port_virt_to_phys(t) & VTD_ROOT_LO_CTP_MASK) | present;
		flush(u, slot, 8);
	}
	uint64_t *ctx = port_phys_to_virt(*slot & VTD_ROOT_LO_CTP_MASK);
	return u->scalable ? &ctx[4 * idx] : &ctx[2 * idx];
}

static int invalidate_after(struct vtd_unit *u, uint16_t sid, unsigned ctx_did, unsigned did,
			    bool devtlb)
{
	int rc = vtd_unit_flush_write_buffer(u);
	if (!rc)
		rc = vtd_unit_inv_context(u, VTD_CC_DEVICE, ctx_did, sid, 0);
	if (!rc && u->scalable) {
		struct vtd_desc pc = pasid_cache_domain(did);
		rc = vtd_unit_submit(u, &pc, 1);
	}
	if (!rc)
		rc = vtd_unit_inv_iotlb(u, VTD_TLB_DOMAIN, did, 0, 0, false);
	if (!rc && devtlb && u->qi_on)
		rc = vtd_unit_inv_devtlb(u, sid, 0, 0, 0, 0);
	return rc;
}

/* 11.4.2 SAGAW bit n (1..3) = AW code n: 39, 48, 57 bits. */
static unsigned largest_aw(const struct vtd_unit *u)
{
	unsigned aw = 3;
	while (aw > 1 && !(u->caps.sagaw & (1u << aw)))
		aw--;
	return aw;
}

static void flush(const struct vtd_unit *u, const void *va, size_t len)
{
	if (!u->caps.c)
		port_cache_flush(va, len);
}

static void free_sm_context_table(uint64_t *ctx)
{
	for (unsigned i = 0; i < 128; i++)
		if (ctx[4 * i] & VTD_SMCTX_LO_P)
			free_pasid_dir(port_phys_to_virt(ctx[4 * i] & VTD_SMCTX_LO_PASIDDIRPTR_MASK));
	port_page_free(ctx);
}

/* A PASID directory of PDTS=0 (9.4: 2^7 entries) and the tables it points at. */
static void free_pasid_dir(uint64_t *dir)
{
	for (unsigned j = 0; j < 128; j++)
		if (dir[j] & VTD_PASIDDIR_P)
			port_page_free(port_phys_to_virt(dir[j] & VTD_PASIDDIR_PTP_MASK));
	port_page_free(dir);
}

/* 6.5.2.1: domain-selective PASID-cache invalidation. */
static struct vtd_desc pasid_cache_domain(unsigned did)
{
	return (struct vtd_desc){ VTD_DESC_PC | VTD_DESC_PC_G(VTD_PC_DOMAIN) | VTD_DESC_PC_DID(did), 0 };
}
