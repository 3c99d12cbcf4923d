/* vtd_model.c — a register-level VT-d unit for host unit tests (see vtd_model.h). */
#include "vtd_model.h"

#include <string.h>

#include "iommu/vtd_regs.h"
#include "port.h"
#include "port/host/port_host.h"

#define MAX_MODELS 8
#define ONE_SHOT (VTD_GCMD_SRTP | VTD_GCMD_SFL | VTD_GCMD_WBF | VTD_GCMD_SIRTP)
#define PERSIST (VTD_GCMD_TE | VTD_GCMD_EAFL | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

/* Reserved-bit masks QEMU 10 applies to 128-bit descriptors (6.5.2). */
#define RSVD_CC_LO 0xfffc00000000ffc0ull
#define RSVD_IOTLB_LO 0xffffffff0000f100ull
#define RSVD_IOTLB_HI 0xf80ull
#define RSVD_DEVTLB_LO 0xffff0000ffe0f1f0ull
#define RSVD_DEVTLB_HI 0xffeull
#define RSVD_IEC_LO 0xffff000007fff1e0ull
#define RSVD_WAIT_LO 0xfffff180ull
#define RSVD_WAIT_HI 0x3ull

static struct vtd_model *models[MAX_MODELS];
static unsigned nmodels;

static uint64_t bus_read(void *ctx, uint64_t pa, unsigned size);
static void bus_write(void *ctx, uint64_t pa, uint64_t val, unsigned size);
static const struct port_host_mmio_ops bus_ops = { bus_read, bus_write, NULL };

static uint64_t get(const struct vtd_model *m, unsigned off, unsigned size)
{
	uint64_t v = 0;
	if (off + size <= sizeof(m->regs))
		memcpy(&v, m->regs + off, size);
	return v;
}
static void put(struct vtd_model *m, unsigned off, uint64_t v, unsigned size)
{
	if (off + size <= sizeof(m->regs))
		memcpy(m->regs + off, &v, size);
}
static unsigned iro(const struct vtd_model *m)
{
	return (unsigned)VTD_ECAP_IRO(get(m, VTD_REG_ECAP, 8)) * 16;
}
static unsigned fro(const struct vtd_model *m)
{
	return (unsigned)VTD_CAP_FRO(get(m, VTD_REG_CAP, 8)) * 16;
}
static unsigned nfr(const struct vtd_model *m)
{
	return (unsigned)VTD_CAP_NFR(get(m, VTD_REG_CAP, 8)) + 1;
}

uint64_t vtd_model_qemu_cap(unsigned aw_bits, bool caching_mode)
{
	uint64_t cap = vtd_make(0x220 / 16, 33, 24) |     /* FRO */
		       vtd_make(0, 47, 40) |              /* NFR: 1 record */
		       vtd_make(6, 2, 0) |                /* ND: 65536 domains */
		       vtd_make(18, 53, 48) |             /* MAMV */
		       VTD_CAP_PSI | vtd_make(3, 37, 34) | /* 2M + 1G */
		       vtd_make(aw_bits - 1, 21, 16) |    /* MGAW */
		       vtd_make(aw_bits >= 48 ? 6 : 2, 12, 8);   /* SAGAW */
	if (caching_mode)
		cap |= VTD_CAP_CM;
	return cap;
}

uint64_t vtd_model_qemu_ecap(bool intremap, bool device_iotlb, bool pt, bool scalable)
{
	uint64_t ecap = VTD_ECAP_QI | vtd_make(0x200 / 16, 17, 8);
	if (intremap)
		ecap |= VTD_ECAP_IR | VTD_ECAP_EIM | vtd_make(0xf, 23, 20);
	if (device_iotlb)
		ecap |= VTD_ECAP_DT;
	if (pt)
		ecap |= VTD_ECAP_PT;
	if (scalable)
		ecap |= VTD_ECAP_SMTS | VTD_ECAP_SRS | VTD_ECAP_SLTS;
	return ecap;
}

void vtd_model_init(struct vtd_model *m, uint64_t base, uint64_t cap, uint64_t ecap)
{
	memset(m, 0, sizeof(*m));
	m->base = base;
	put(m, VTD_REG_VER, (ecap & VTD_ECAP_SMTS) ? 0x30 : 0x10, 4);
	put(m, VTD_REG_CAP, cap, 8);
	put(m, VTD_REG_ECAP, ecap, 8);
	put(m, VTD_REG_FECTL, VTD_FECTL_IM, 4);
	put(m, VTD_REG_IECTL, VTD_IECTL_IM, 4);
}

void vtd_model_install(struct vtd_model *m)
{
	if (nmodels < MAX_MODELS)
		models[nmodels++] = m;
	port_host_set_mmio(&bus_ops);
}

void vtd_model_uninstall_all(void)
{
	nmodels = 0;
	port_host_set_mmio(NULL);
}

uint32_t vtd_model_reg32(const struct vtd_model *m, unsigned off)
{
	return (uint32_t)get(m, off, 4);
}
uint64_t vtd_model_reg64(const struct vtd_model *m, unsigned off)
{
	return get(m, off, 8);
}

static void raise_fault_event(struct vtd_model *m)
{
	uint32_t fectl = (uint32_t)get(m, VTD_REG_FECTL, 4);
	if (fectl & VTD_FECTL_IM)
		put(m, VTD_REG_FECTL, fectl | VTD_FECTL_IP, 4);
	else
		m->fault_irqs++;
}

int vtd_model_inject_fault(struct vtd_model *m, uint16_t sid, uint64_t addr, uint8_t reason,
			   bool write)
{
	unsigned i = m->next_fr % nfr(m), off = fro(m) + i * 16;
	uint32_t fsts = (uint32_t)get(m, VTD_REG_FSTS, 4);
	if (get(m, off + 8, 8) & VTD_FRCD_HI_F) {
		put(m, VTD_REG_FSTS, fsts | VTD_FSTS_PFO, 4);   /* 7.2.1: overflow */
		return -1;
	}
	uint64_t lo = reason >= 0x20 && reason <= 0x27 ? vtd_make(addr, 63, 48)
						      : (addr & VTD_FRCD_LO_FI_MASK);
	uint64_t hi = sid | vtd_make(reason, 39, 32) | (write ? 0 : VTD_FRCD_HI_T1) |
		      VTD_FRCD_HI_F;
	put(m, off, lo, 8);
	put(m, off + 8, hi, 8);
	m->next_fr = i + 1;
	if (!(fsts & VTD_FSTS_PPF)) {
		fsts = (fsts & ~(uint32_t)VTD_GENMASK(15, 8)) | VTD_FSTS_PPF |
		       (uint32_t)vtd_make(i, 15, 8);
		put(m, VTD_REG_FSTS, fsts, 4);
		raise_fault_event(m);
	}
	return (int)i;
}

/* --- the MMIO bus ---------------------------------------------------------- */

static struct vtd_model *find(uint64_t pa, unsigned *off)
{
	for (unsigned i = 0; i < nmodels; i++)
		if (pa >= models[i]->base && pa < models[i]->base + 0x1000) {
			*off = (unsigned)(pa - models[i]->base);
			return models[i];
		}
	return NULL;
}

static uint64_t bus_read(void *ctx, uint64_t pa, unsigned size)
{
	(void)ctx;
	unsigned off;
	struct vtd_model *m = find(pa, &off);
	if (!m)
		return size == 8 ? ~0ull : 0xffffffffull;
	return get(m, off, size);
}

static void gcmd_write(struct vtd_model *m, uint32_t val);
static void process_queue(struct vtd_model *m);
static void frcd_write(struct vtd_model *m, unsigned off, uint64_t val, unsigned size);
static void update_ppf(struct vtd_model *m);

static void bus_write(void *ctx, uint64_t pa, uint64_t val, unsigned size)
{
	(void)ctx;
	unsigned off;
	struct vtd_model *m = find(pa, &off);
	if (!m)
		return;
	unsigned io = iro(m), fo = fro(m);
	if (off >= fo && off < fo + 16 * nfr(m)) {
		frcd_write(m, off, val, size);
		return;
	}
	if (off == io + VTD_REG_IOTLB_OFF && size == 8) {
		if (val & VTD_IOTLB_IVT) {
			if (m->niotlb < VTD_MODEL_MAX_REGINV) {
				m->iotlb_log[m->niotlb][0] = val;
				m->iotlb_log[m->niotlb][1] = get(m, io + VTD_REG_IVA_OFF, 8);
				m->niotlb++;
			}
			if (!m->iotlb_stuck) {
				uint64_t g = vtd_field(val, 61, 60);
				val = (val & ~VTD_IOTLB_IVT & ~VTD_GENMASK(58, 57)) | vtd_make(g, 58, 57);
			}
		}
		put(m, off, val, 8);
		return;
	}
	if (off == io + VTD_REG_IVA_OFF) {
		put(m, off, val, size);
		return;
	}
	switch (off) {
	case VTD_REG_GCMD:
		gcmd_write(m, (uint32_t)val);
		return;
	case VTD_REG_CCMD:
		if (size == 8 && (val & VTD_CCMD_ICC)) {
			if (m->nccmd < VTD_MODEL_MAX_REGINV)
				m->ccmd_log[m->nccmd++] = val;
			if (!m->ccmd_stuck) {
				uint64_t g = vtd_field(val, 62, 61);
				val = (val & ~VTD_CCMD_ICC & ~VTD_GENMASK(60, 59)) | vtd_make(g, 60, 59);
			}
		}
		put(m, off, val, size);
		return;
	case VTD_REG_FSTS: {
		uint32_t fsts = (uint32_t)get(m, off, 4);
		bool iqe_was = fsts & VTD_FSTS_IQE;
		fsts &= ~((uint32_t)val & VTD_FSTS_RW1C);
		put(m, off, fsts, 4);
		if (iqe_was && !(fsts & VTD_FSTS_IQE))
			process_queue(m);
		return;
	}
	case VTD_REG_FECTL: {
		uint32_t old = (uint32_t)get(m, off, 4);
		uint32_t now = ((uint32_t)val & VTD_FECTL_IM) | (old & VTD_FECTL_IP);
		if (!(now & VTD_FECTL_IM) && (now & VTD_FECTL_IP)) {
			now &= ~VTD_FECTL_IP;   /* 7.3: pending event delivered on unmask */
			m->fault_irqs++;
		}
		put(m, off, now, 4);
		return;
	}
	case VTD_REG_ICS:
		put(m, off, get(m, off, 4) & ~(val & VTD_ICS_IWC), 4);
		return;
	case VTD_REG_IQT:
		put(m, off, val & VTD_GENMASK(18, 4), 8);
		process_queue(m);
		return;
	case VTD_REG_VER: case VTD_REG_CAP: case VTD_REG_CAP + 4: case VTD_REG_ECAP:
	case VTD_REG_ECAP + 4: case VTD_REG_GSTS: case VTD_REG_IQH: case VTD_REG_IQERCD:
		return;   /* read-only */
	default:
		put(m, off, val, size);
		return;
	}
}

static void gcmd_write(struct vtd_model *m, uint32_t val)
{
	uint32_t gsts = (uint32_t)get(m, VTD_REG_GSTS, 4);
	m->gcmd_writes++;
	m->gcmd_last = val;
	uint32_t want = (gsts & ~PERSIST) | (val & PERSIST);
	if (val & VTD_GCMD_SRTP) {
		m->rtaddr_latched = get(m, VTD_REG_RTADDR, 8);
		want |= VTD_GSTS_RTPS;
	}
	if (val & VTD_GCMD_SIRTP) {
		m->irta_latched = get(m, VTD_REG_IRTA, 8);
		want |= VTD_GSTS_IRTPS;
	}
	if (val & VTD_GCMD_SFL)
		want |= VTD_GSTS_FLS;
	if (val & VTD_GCMD_WBF)
		want |= (m->stuck_gsts & VTD_GSTS_WBFS);   /* stuck: WBFS stays set */
	bool qie_off = (gsts & VTD_GSTS_QIES) && !(val & VTD_GCMD_QIE);
	/* A stuck bit keeps its old value, except a stuck WBFS which sticks set. */
	uint32_t stuck = m->stuck_gsts & ~VTD_GSTS_WBFS;
	gsts = (want & ~stuck) | (gsts & stuck);
	put(m, VTD_REG_GSTS, gsts, 4);
	if (qie_off && !(stuck & VTD_GSTS_QIES))
		put(m, VTD_REG_IQH, 0, 8);   /* QEMU: the head resets when QI is disabled */
}

static bool desc_ok(const struct vtd_model *m, struct vtd_desc d)
{
	if (m->iqe_always)
		return false;
	if (vtd_field(d.lo, 11, 9))
		return false;   /* 128-bit descriptors only (IQA.DW=0) */
	switch (d.lo & 0xf) {
	case VTD_DESC_CC:
		return !(d.lo & RSVD_CC_LO) && !d.hi;
	case VTD_DESC_IOTLB:
		return !(d.lo & RSVD_IOTLB_LO) && !(d.hi & RSVD_IOTLB_HI);
	case VTD_DESC_DEVTLB:
		return (get(m, VTD_REG_ECAP, 8) & VTD_ECAP_DT) && !(d.lo & RSVD_DEVTLB_LO) &&
		       !(d.hi & RSVD_DEVTLB_HI);
	case VTD_DESC_IEC:
		return (get(m, VTD_REG_ECAP, 8) & VTD_ECAP_IR) && !(d.lo & RSVD_IEC_LO) && !d.hi;
	case VTD_DESC_WAIT:
		return !(d.lo & RSVD_WAIT_LO) && !(d.hi & RSVD_WAIT_HI);
	case VTD_DESC_PIOTLB:
	case VTD_DESC_PC:
		return (get(m, VTD_REG_ECAP, 8) & VTD_ECAP_SMTS) != 0;
	default:
		return false;
	}
}

static void process_queue(struct vtd_model *m)
{
	if (m->qi_stuck || !(get(m, VTD_REG_GSTS, 4) & VTD_GSTS_QIES))
		return;
	uint64_t iqa = get(m, VTD_REG_IQA, 8);
	/* 11.4.11.3: DW=1 (256-bit descriptors) only when ECAP.SMTS, as in QEMU */
	bool dw = (iqa & VTD_IQA_DW) && (get(m, VTD_REG_ECAP, 8) & VTD_ECAP_SMTS);
	unsigned slot = dw ? 32 : 16;
	unsigned size = (PORT_PAGE_SIZE / slot) << vtd_field(iqa, 2, 0);
	const uint8_t *q = port_phys_to_virt(iqa & VTD_IQA_ADDR_MASK);
	unsigned head = (unsigned)(get(m, VTD_REG_IQH, 8) & VTD_GENMASK(18, 4)) / slot;
	unsigned tail = (unsigned)(get(m, VTD_REG_IQT, 8) & VTD_GENMASK(18, 4)) / slot;
	if (tail >= size || (get(m, VTD_REG_IQT, 8) & VTD_GENMASK(18, 4)) % slot) {
		put(m, VTD_REG_FSTS, get(m, VTD_REG_FSTS, 4) | VTD_FSTS_IQE, 4);
		put(m, VTD_REG_IQERCD, tail >= size ? 1 : 6, 8);   /* IQEI 1 / 6 */
		return;
	}
	while (head != tail && !(get(m, VTD_REG_FSTS, 4) & (VTD_FSTS_IQE | VTD_FSTS_ITE))) {
		const uint64_t *qw = (const uint64_t *)(q + (size_t)head * slot);
		struct vtd_desc d = { qw[0], qw[1] };
		if (dw && (qw[2] | qw[3]) && (d.lo & 0xf) != VTD_DESC_PIOTLB)
			d.lo |= 1ull << 63;   /* stray upper bits: make it fail the checks */
		if (!desc_ok(m, d)) {
			put(m, VTD_REG_FSTS, get(m, VTD_REG_FSTS, 4) | VTD_FSTS_IQE, 4);
			unsigned t = (unsigned)(d.lo & 0xf);
			put(m, VTD_REG_IQERCD, (t >= 1 && t <= 7) ? 4 : 3, 8);
			break;   /* IQH stays at the bad descriptor */
		}
		if (m->ndescs < VTD_MODEL_MAX_DESCS)
			m->descs[m->ndescs++] = d;
		head = (head + 1) % size;
		if ((d.lo & 0xf) == VTD_DESC_DEVTLB && m->ite_on_devtlb) {
			put(m, VTD_REG_FSTS, get(m, VTD_REG_FSTS, 4) | VTD_FSTS_ITE, 4);
			put(m, VTD_REG_IQERCD, vtd_make(vtd_field(d.lo, 47, 32), 47, 32), 8);
			head = tail;   /* 6.5.2.10: pending wait descriptors are aborted */
			break;
		}
		if ((d.lo & 0xf) == VTD_DESC_WAIT) {
			if (d.lo & VTD_DESC_WAIT_SW) {
				uint32_t *status = port_phys_to_virt(d.hi & VTD_DESC_WAIT_SADDR_MASK);
				*status = (uint32_t)(d.lo >> 32);
			}
			if (d.lo & VTD_DESC_WAIT_IF)
				put(m, VTD_REG_ICS, VTD_ICS_IWC, 4);
		}
	}
	put(m, VTD_REG_IQH, (uint64_t)head * slot, 8);
}

static void frcd_write(struct vtd_model *m, unsigned off, uint64_t val, unsigned size)
{
	unsigned rec = fro(m) + (off - fro(m)) / 16 * 16;
	uint64_t hi = get(m, rec + 8, 8);
	/* F is bit 127: bit 63 of the high qword, bit 31 of the last dword (RW1C). */
	if ((off == rec + 8 && size == 8 && (val & VTD_FRCD_HI_F)) ||
	    (off == rec + 12 && size == 4 && (val & 0x80000000u)))
		put(m, rec + 8, hi & ~VTD_FRCD_HI_F, 8);
	update_ppf(m);
}

static void update_ppf(struct vtd_model *m)
{
	uint32_t fsts = (uint32_t)get(m, VTD_REG_FSTS, 4);
	for (unsigned i = 0; i < nfr(m); i++)
		if (get(m, fro(m) + i * 16 + 8, 8) & VTD_FRCD_HI_F)
			return;
	put(m, VTD_REG_FSTS, fsts & ~VTD_FSTS_PPF, 4);
}

/* --- the hardware's table walk (legacy mode: 3.4.2, 3.7, 9.1, 9.3, 9.8) ---- */

int vtd_model_translate(const struct vtd_model *m, uint16_t sid, uint64_t iova, bool write,
			uint64_t *hpa)
{
	if (!(get(m, VTD_REG_GSTS, 4) & VTD_GSTS_TES))
		return *hpa = iova, 0;
	/* Host address width: 52 bits here, as host-test "physical" addresses
	 * are heap pointers (QEMU checks against its aw-bits instead). */
	uint64_t haw = VTD_GENMASK(51, 12);
	const uint64_t *root = port_phys_to_virt(m->rtaddr_latched & VTD_RTADDR_ADDR_MASK);
	uint64_t re = root[2 * (sid >> 8)];
	if (!(re & VTD_ROOT_LO_P))
		return 0x1;
	if ((re & 0xffe) || (re & ~haw & ~0xfffull) || root[2 * (sid >> 8) + 1])
		return 0xa;   /* root entry reserved field */
	const uint64_t *ctx = port_phys_to_virt(re & VTD_ROOT_LO_CTP_MASK);
	uint64_t lo = ctx[2 * (sid & 0xff)], hi = ctx[2 * (sid & 0xff) + 1];
	if (!(lo & VTD_CTX_LO_P))
		return 0x2;
	if ((lo & 0xff0) || (lo & ~haw & ~0xfffull) || (hi & 0xffffffffff000080ull))
		return 0xb;   /* context entry reserved field */
	unsigned tt = (unsigned)VTD_CTX_LO_TT_GET(lo), aw = (unsigned)VTD_CTX_HI_AW_GET(hi);
	uint64_t ecap = get(m, VTD_REG_ECAP, 8);
	if (tt == VTD_TT_PASSTHROUGH) {
		if (!(ecap & VTD_ECAP_PT))
			return 0x3;
		return *hpa = iova, 0;
	}
	if (tt == 3 || (tt == VTD_TT_DEVTLB && !(ecap & VTD_ECAP_DT)) || aw < 1 || aw > 3 ||
	    !(VTD_CAP_SAGAW(get(m, VTD_REG_CAP, 8)) & (1u << aw)))
		return 0x3;   /* invalid context programming */
	unsigned levels = aw + 2, width = 30 + 9 * aw;
	if (iova >> width)
		return 0x4;   /* beyond the AGAW */
	const uint64_t *table = port_phys_to_virt(lo & VTD_CTX_LO_SLPTPTR_MASK);
	for (unsigned lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = 12 + 9 * (lvl - 1);
		uint64_t pte = table[(iova >> shift) & 511];
		if (!(pte & (VTD_SLPTE_R | VTD_SLPTE_W)))
			return write ? 0x5 : 0x6;
		bool leaf = lvl == 1 || (pte & VTD_SLPTE_PS);
		/* QEMU's reserved masks: SNP (bit 11) and bits above the HAW; a
		 * superpage's address bits below its size; PS at level >= 4. */
		uint64_t rsvd = VTD_SLPTE_SNP | (~haw & VTD_GENMASK(51, 12));
		if (leaf && lvl > 1)
			rsvd |= VTD_GENMASK(shift - 1, 12);
		if ((pte & rsvd) || ((pte & VTD_SLPTE_PS) && lvl >= 4))
			return 0xc;
		if (write && !(pte & VTD_SLPTE_W))
			return 0x5;
		if (!write && !(pte & VTD_SLPTE_R))
			return 0x6;
		if (leaf) {
			*hpa = (pte & VTD_SLPTE_ADDR_MASK & ~((1ull << shift) - 1)) |
			       (iova & ((1ull << shift) - 1));
			return 0;
		}
		table = port_phys_to_virt(pte & VTD_SLPTE_ADDR_MASK);
	}
	return 0x7;
}
