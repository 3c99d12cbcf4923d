/*
 * vtd_main.c — VT-d DMA-remapping conformance (issue 3), on QEMU's
 * intel-iommu with two edu devices as DMA masters.
 *
 * Every check is on what the hardware did: bytes that landed (or did not)
 * at the host-physical page our tables name, fault records the unit wrote,
 * interrupts that arrived.  IOVAs are the physical addresses of sentinel
 * pages, so an access that were not translated would hit the sentinel and
 * be caught.  Each line carries the QEMU variant it ran on.
 *
 * QEMU: -device intel-iommu,intremap=on,aw-bits=A,caching-mode=C
 *       [,x-scalable-mode=on[,x-flts=on]] -device edu -device edu;
 *       --append "aw=A cm=C [sm=on] [fs=on]"
 */
#include "vtd_env.h"

#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/idt.h"
#include "baremetal/lapic.h"
#include "baremetal/libc.h"
#include "baremetal/mem.h"
#include "baremetal/tap.h"
#include "port.h"

#define PLAN 24
#define VEC_FAULT 0x50
#define MS (1000ull * 1000)
#define RW (VTD_MAP_READ | VTD_MAP_WRITE)

static struct env env;

static void test_variant(struct env *v);
static void domain_for(struct env *v, struct vtd_domain *d, struct edu *e);
static void domain_drop(struct env *v, struct vtd_domain *d, struct edu *e);
static void test_translate(struct env *v, struct vtd_domain *da);
static void test_blocked(struct env *v, struct vtd_domain *da);
static void test_read_only(struct env *v, struct vtd_domain *da);
static void test_superpages(struct env *v, struct vtd_domain *da);
static void test_range(struct env *v, struct vtd_domain *da);
static void test_move(struct env *v, struct vtd_domain *da, const char *path);
static void test_isolation(struct env *v, struct vtd_domain *da, struct vtd_domain *db);
static void test_fault_irq(struct env *v);
static void test_queued_path(struct env *v);
static void test_register_path(struct env *v);

void test_main(void)
{
	struct env *v = &env;
	struct vtd_domain da, db;

	env_init(v);
	char bench[8] = "";
	if (!boot_cmdline_get("bench", bench, sizeof(bench)) && bench[0] == 'o' && bench[1] == 'n' &&
	    !bench[2]) {
		tap_plan(1);
		bench_qemu(v);
		tap_done();
	}
	tap_plan(PLAN);
	test_variant(v);
	int r = env_unit_up(v, v->sm ? VTD_UNIT_SCALABLE : 0);
	if (r)
		tap_bail("VT-d unit at 0x%llx did not come up (%d)", (unsigned long long)v->drhd_base, r);
	domain_for(v, &da, &v->e0);
	test_translate(v, &da);
	test_blocked(v, &da);
	test_read_only(v, &da);
	test_superpages(v, &da);
	test_range(v, &da);
	test_move(v, &da, "queued");
	domain_for(v, &db, &v->e1);
	test_isolation(v, &da, &db);
	test_fault_irq(v);
	test_queued_path(v);
	domain_drop(v, &db, &v->e1);
	domain_drop(v, &da, &v->e0);
	env_unit_down(v);
	test_register_path(v);
	tap_done();
}

/* The unit is the variant QEMU was asked for (CAP.MGAW 11.4.2, CAP.CM);
 * the DMAR (VT-d 8.1, 8.3) says the same width and that one unit remaps
 * both edus. */
static void test_variant(struct env *v)
{
	const struct dmar_drhd *h = &v->dmar->drhd[v->drhd0];
	tap_ok(v->dmar->haw == v->aw && v->dmar->ndrhd >= 1 && v->drhd1 == v->drhd0 && v->dmar->intr_remap,
	       "DMAR: host address width %u, INTR_REMAP; edu0 and edu1 resolve to the DRHD at 0x%llx "
	       "(%u device scopes, INCLUDE_PCI_ALL %u)",
	       v->dmar->haw, (unsigned long long)h->reg_base, h->nscopes, h->include_pci_all);

	struct vtd_unit probe;
	int r = vtd_unit_init(&probe, v->drhd_base, 0);
	const struct vtd_caps *c = &probe.caps;
	tap_diag("DRHD 0x%llx VER %u.%u CAP 0x%llx ECAP 0x%llx SAGAW 0x%x SLLPS 0x%x NFR %u; edu0 %02x:%02x.%u edu1 "
		 "%02x:%02x.%u",
		 (unsigned long long)v->drhd_base, c->ver_major, c->ver_minor, (unsigned long long)c->cap,
		 (unsigned long long)c->ecap, c->sagaw, c->sllps, c->nfr, v->e0.pci->bus, v->e0.pci->dev,
		 v->e0.pci->fn, v->e1.pci->bus, v->e1.pci->dev, v->e1.pci->fn);
	tap_ok(r == 0 && c->mgaw == v->aw && c->cm == v->cm && (!v->sm || c->smts) &&
		       (!v->fs || (c->flts && !c->slts)),
	       "unit reports the variant: CAP.MGAW %u, CAP.CM %u%s%s", c->mgaw, c->cm,
	       v->sm ? (c->smts ? ", ECAP.SMTS 1" : ", ECAP.SMTS 0") : "",
	       v->fs ? (c->flts && !c->slts ? ", ECAP.FLTS 1 SLTS 0" : ", not first-stage only") : "");
}

/* A domain as wide as the unit allows (3 levels at aw=39, 4 at 48) with
 * edu `e` attached. */
static void domain_for(struct env *v, struct vtd_domain *d, struct edu *e)
{
	int r = vtd_domain_init(d, &v->u, v->u.caps.mgaw);
	if (r)
		tap_bail("vtd_domain_init(%u bits) failed (%d)", v->u.caps.mgaw, r);
	r = vtd_ctx_attach(&v->u, e->pci->bus, (uint8_t)(e->pci->dev << 3 | e->pci->fn), d, VTD_TT_UNTRANSLATED);
	if (r)
		tap_bail("vtd_ctx_attach %02x:%02x.%u failed (%d)", e->pci->bus, e->pci->dev, e->pci->fn, r);
}

static void domain_drop(struct env *v, struct vtd_domain *d, struct edu *e)
{
	vtd_ctx_detach(&v->u, e->pci->bus, (uint8_t)(e->pci->dev << 3 | e->pci->fn));
	vtd_domain_destroy(d);
}

static int map(struct vtd_domain *d, const void *iova_page, const void *hpa_page, unsigned flags)
{
	int r = vtd_domain_map(d, pa(iova_page), pa(hpa_page), PAGE_SZ, flags);
	if (r)
		tap_diag("vtd_domain_map(iova 0x%llx -> 0x%llx) = %d", (unsigned long long)pa(iova_page),
			 (unsigned long long)pa(hpa_page), r);
	return r;
}

/* 1: reads and writes through a mapping reach the HPAs the table names
 * (second-stage tables, or first-stage ones with PGTT=1 in the fs variant). */
static void test_translate(struct env *v, struct vtd_domain *da)
{
	void *src_hpa = page_fill(0xa1), *src_iova = page_fill(0x51);
	void *dst_hpa = page_fill(0), *dst_iova = page_fill(0x52);
	memset(dst_hpa, 0, PAGE_SZ);
	int r = map(da, src_iova, src_hpa, RW) | map(da, dst_iova, dst_hpa, RW);
	int d = r ? r : dev_copy(&v->e0, pa(src_iova), pa(dst_iova));
	int nf = faults_take(&v->u, NULL);
	unsigned want_levels = v->aw == 39 ? 3 : v->aw == 48 ? 4 : 5;
	tap_ok(d == 0 && nf == 0 && da->levels == want_levels && da->first_stage == v->fs &&
		       pattern_check(dst_hpa, PAGE_SZ, 0xa1) && pattern_check(src_iova, PAGE_SZ, 0x51),
	       "read: edu0 reading IOVA 0x%llx fetched HPA 0x%llx through a %u-level %s table (not the identity page)",
	       (unsigned long long)pa(src_iova), (unsigned long long)pa(src_hpa), da->levels,
	       da->first_stage ? "first-stage" : "second-stage");
	tap_ok(d == 0 && nf == 0 && pattern_check(dst_hpa, PAGE_SZ, 0xa1) && pattern_check(dst_iova, PAGE_SZ, 0x52),
	       "write: edu0 writing IOVA 0x%llx landed at HPA 0x%llx; identity page untouched, no fault",
	       (unsigned long long)pa(dst_iova), (unsigned long long)pa(dst_hpa));
	vtd_domain_unmap(da, pa(src_iova), PAGE_SZ, NULL);
	vtd_domain_unmap(da, pa(dst_iova), PAGE_SZ, NULL);
}

/* 2: DMA to an unmapped IOVA is blocked and recorded, then cleared. */
static void test_blocked(struct env *v, struct vtd_domain *da)
{
	char why[200];
	void *hole = page_fill(0x53); /* never mapped */
	void *sink_iova = page_fill(0x54), *sink_hpa = page_fill(0);
	memset(sink_hpa, 0, PAGE_SZ);

	faults_take(&v->u, NULL);
	int d = dev_write(&v->e0, pa(hole)); /* the buffer holds test 1's 0xa1 bytes */
	bool ok = fault_is(&v->u, v->sid0, pa(hole), true, v->fr_np_write, why, sizeof(why));
	tap_ok(d == 0 && ok && pattern_check(hole, PAGE_SZ, 0x53),
	       "write to unmapped IOVA 0x%llx blocked and recorded (sid, address, write, reason 0x%x), then cleared: %s",
	       (unsigned long long)pa(hole), v->fr_np_write, why);

	int r = map(da, sink_iova, sink_hpa, RW);
	d = dev_read(&v->e0, pa(hole));
	ok = fault_is(&v->u, v->sid0, pa(hole), false, v->fr_np_read, why, sizeof(why));
	int d2 = r ? r : dev_write(&v->e0, pa(sink_iova)); /* what did the device get? */
	int nf = faults_take(&v->u, NULL);
	tap_ok(d == 0 && d2 == 0 && ok && nf == 0 && !pattern_check(sink_hpa, PAGE_SZ, 0x53),
	       "read of unmapped IOVA 0x%llx blocked (no data reached the device) and recorded (read, reason 0x%x), then "
	       "cleared: %s",
	       (unsigned long long)pa(hole), v->fr_np_read, why);
	vtd_domain_unmap(da, pa(sink_iova), PAGE_SZ, NULL);
}

/* 3: a write to a read-only mapping faults; a read of it does not.  The
 * write goes first, on a translation not yet cached: QEMU 10's model blocks
 * a write that hits a cached read-only IOTLB entry without recording a
 * fault (the spec wants one), which this test is not about. */
static void test_read_only(struct env *v, struct vtd_domain *da)
{
	char why[200];
	void *ro_hpa = page_fill(0x61), *ro_iova = page_fill(0x62);
	void *rw_hpa = page_fill(0x63), *rw_iova = page_fill(0x64);
	void *sink_hpa = page_fill(0), *sink_iova = page_fill(0x65);
	memset(sink_hpa, 0, PAGE_SZ);
	int r = map(da, ro_iova, ro_hpa, VTD_MAP_READ) | map(da, rw_iova, rw_hpa, RW) |
		map(da, sink_iova, sink_hpa, RW);
	faults_take(&v->u, NULL);

	/* Load other bytes into the device, then try to write them over the RO page. */
	int d = r ? r : dev_read(&v->e0, pa(rw_iova));
	d = d ? d : dev_write(&v->e0, pa(ro_iova));
	bool ok = fault_is(&v->u, v->sid0, pa(ro_iova), true, v->fr_ro_write, why, sizeof(why));
	tap_ok(d == 0 && ok && pattern_check(ro_hpa, PAGE_SZ, 0x61) && pattern_check(ro_iova, PAGE_SZ, 0x62),
	       "write to a read-only mapping (IOVA 0x%llx -> HPA 0x%llx) is blocked (HPA unchanged) and faults (write, "
	       "reason 0x%x): %s",
	       (unsigned long long)pa(ro_iova), (unsigned long long)pa(ro_hpa), v->fr_ro_write, why);

	d = r ? r : dev_copy(&v->e0, pa(ro_iova), pa(sink_iova));
	int nf = faults_take(&v->u, NULL);
	tap_ok(d == 0 && nf == 0 && pattern_check(sink_hpa, PAGE_SZ, 0x61),
	       "read through the read-only mapping works and records no fault");
	vtd_domain_unmap(da, pa(ro_iova), PAGE_SZ, NULL);
	vtd_domain_unmap(da, pa(rw_iova), PAGE_SZ, NULL);
	vtd_domain_unmap(da, pa(sink_iova), PAGE_SZ, NULL);
}

/* 4: 2 MiB and 1 GiB leaves (CAP.SLLPS bit 0 / bit 1, 11.4.2) translate. */
static void test_superpages(struct env *v, struct vtd_domain *da)
{
	const uint64_t in = 0x100000, out = 0x1ff000; /* offsets inside the superpage */
	unsigned level = 0;

	if (!(da->sllps & 1)) {
		tap_skip("2 MiB mapping translates", "the domain's page sizes (0x%x) have no 2 MiB pages", da->sllps);
	} else {
		uint8_t *iova = mem_alloc_contig(SZ_2M, SZ_2M), *hpa = mem_alloc_contig(SZ_2M, SZ_2M);
		if (!iova || !hpa)
			tap_bail("no 2 MiB-aligned pool memory");
		pattern_fill(iova + in, PAGE_SZ, 0x71);
		pattern_fill(iova + out, PAGE_SZ, 0x72);
		pattern_fill(hpa + in, PAGE_SZ, 0x73);
		memset(hpa + out, 0, PAGE_SZ);
		int r = vtd_domain_map(da, pa(iova), pa(hpa), SZ_2M, RW);
		uint64_t *leaf = r ? NULL : slpt_leaf(da, pa(iova), &level);
		int d = r ? r : dev_copy(&v->e0, pa(iova) + in, pa(iova) + out);
		int nf = faults_take(&v->u, NULL);
		tap_ok(leaf && level == 2 && d == 0 && nf == 0 && pattern_check(hpa + out, PAGE_SZ, 0x73) &&
			       pattern_check(iova + in, PAGE_SZ, 0x71) && pattern_check(iova + out, PAGE_SZ, 0x72),
		       "2 MiB mapping (one level-2 leaf) IOVA 0x%llx -> HPA 0x%llx: read at +0x%llx, write at +0x%llx land "
		       "in the superpage",
		       (unsigned long long)pa(iova), (unsigned long long)pa(hpa), (unsigned long long)in,
		       (unsigned long long)out);
		vtd_domain_unmap(da, pa(iova), SZ_2M, NULL);
	}

	if (!(da->sllps & 2)) {
		tap_skip("1 GiB mapping translates", "the domain's page sizes (0x%x) have no 1 GiB pages%s", da->sllps,
			 da->first_stage ? " (first-stage: CAP.FS1GP is 0)" : "");
		return;
	}
	/* IOVA [0, 1 GiB) -> HPA [1 GiB, 2 GiB), in its own domain on edu1. */
	int c = mem_claim(SZ_1G, MEM_POOL_LIMIT);
	if (c) {
		tap_ok(false, "1 GiB mapping: RAM at [1 GiB, 1 GiB + 256 MiB) not available (%d); run with -m 2G", c);
		return;
	}
	struct vtd_domain ds;
	domain_for(v, &ds, &v->e1);
	void *src_iova = page_fill(0x81), *dst_iova = page_fill(0x82);
	uint8_t *src_hpa = port_phys_to_virt(SZ_1G + pa(src_iova)), *dst_hpa = port_phys_to_virt(SZ_1G + pa(dst_iova));
	pattern_fill(src_hpa, PAGE_SZ, 0x83);
	memset(dst_hpa, 0, PAGE_SZ);
	int r = vtd_domain_map(&ds, 0, SZ_1G, SZ_1G, RW);
	uint64_t *leaf = r ? NULL : slpt_leaf(&ds, 0, &level);
	int d = r ? r : dev_copy(&v->e1, pa(src_iova), pa(dst_iova));
	int nf = faults_take(&v->u, NULL);
	tap_ok(leaf && level == 3 && d == 0 && nf == 0 && pattern_check(dst_hpa, PAGE_SZ, 0x83) &&
		       pattern_check(src_iova, PAGE_SZ, 0x81) && pattern_check(dst_iova, PAGE_SZ, 0x82),
	       "1 GiB mapping (one level-3 leaf) IOVA 0 -> HPA 0x40000000: edu1 read IOVA 0x%llx from HPA 0x%llx, wrote "
	       "IOVA 0x%llx to HPA 0x%llx",
	       (unsigned long long)pa(src_iova), (unsigned long long)pa(src_hpa), (unsigned long long)pa(dst_iova),
	       (unsigned long long)pa(dst_hpa));
	vtd_domain_unmap(&ds, 0, SZ_1G, NULL);
	domain_drop(v, &ds, &v->e1);
}

/* 4b: one call maps 8 MiB in 4 KiB leaves (four level-1 tables), one call
 * unmaps it.  The walker drops the tables whole and releases them only after
 * the one IOTLB invalidation of that call (6.5.2.3): DMA that went through
 * (and primed the IOTLB) before the unmap faults after it. */
static void test_range(struct env *v, struct vtd_domain *da)
{
	char why_r[200], why_w[200];
	const uint64_t len = 4 * SZ_2M;
	uint8_t *iova = mem_alloc_contig(len, SZ_2M), *hpa = mem_alloc_contig(len, SZ_2M);
	if (!iova || !hpa)
		tap_bail("no 8 MiB of pool memory for the range test");
	uint8_t *first = iova, *last = iova + len - PAGE_SZ, *last_hpa = hpa + len - PAGE_SZ;
	pattern_fill(first, PAGE_SZ, 0xd1);
	pattern_fill(last, PAGE_SZ, 0xd2);
	pattern_fill(hpa, PAGE_SZ, 0xd3);
	memset(last_hpa, 0, PAGE_SZ);
	unsigned long pages = da->table_pages;
	int r = vtd_domain_map(da, pa(iova), pa(hpa), len, RW | VTD_MAP_NO_SUPER);
	unsigned long made = da->table_pages - pages;
	unsigned level = 0;
	uint64_t *leaf = r ? NULL : slpt_leaf(da, pa(last), &level);
	int d = r ? r : dev_copy(&v->e0, pa(first), pa(last));
	int nf = faults_take(&v->u, NULL);
	tap_ok(leaf && level == 1 && made >= 4 && d == 0 && nf == 0 && pattern_check(last_hpa, PAGE_SZ, 0xd3) &&
		       pattern_check(first, PAGE_SZ, 0xd1) && pattern_check(last, PAGE_SZ, 0xd2),
	       "range: one vtd_domain_map of 8 MiB in 4 KiB leaves (%lu new tables): edu0 read IOVA 0x%llx and wrote "
	       "IOVA 0x%llx at their HPAs",
	       made, (unsigned long long)pa(first), (unsigned long long)pa(last));

	unsigned tail = v->u.iq_tail, qn = v->u.iq_dw ? 128 : 256;
	struct vtd_unmap_result res;
	int u = vtd_domain_unmap(da, pa(iova), len, &res);
	unsigned slots = (v->u.iq_tail + qn - tail) % qn;
	d = dev_read(&v->e0, pa(first));
	bool rd = fault_is(&v->u, v->sid0, pa(first), false, v->fr_np_read, why_r, sizeof(why_r));
	int d2 = dev_write(&v->e0, pa(last));
	bool wr = fault_is(&v->u, v->sid0, pa(last), true, v->fr_np_write, why_w, sizeof(why_w));
	tap_ok(u == 0 && res.bytes == len && res.tables_freed >= 4 && da->table_pages == pages &&
		       (!v->u.qi_on || slots == 2) && d == 0 && d2 == 0 && rd && wr &&
		       pattern_check(last_hpa, PAGE_SZ, 0xd3) && pattern_check(last, PAGE_SZ, 0xd2),
	       "range: one vtd_domain_unmap of the 8 MiB (%lu tables dropped, %u queue slots: one IOTLB "
	       "invalidation + its wait): the cached IOVAs fault now: %s; %s",
	       res.tables_freed, slots, why_r, why_w);
}

/* 5 (and 7): an IOVA moved to another HPA.  The leaf is rewritten in place
 * (VT-d 6.5: the hardware may keep using a cached translation until the
 * IOTLB is invalidated), then a page-selective IOTLB invalidation
 * (6.5.2.3 / 11.4.8.1, granularity 3) makes the move take effect.  Then
 * moved back with the library's own unmap + map. */
static void test_move(struct env *v, struct vtd_domain *da, const char *path)
{
	void *old_hpa = page_fill(0x91), *new_hpa = page_fill(0x92), *iova = page_fill(0x93);
	void *sink_hpa = page_fill(0), *sink_iova = page_fill(0x94);
	int r = map(da, iova, old_hpa, RW) | map(da, sink_iova, sink_hpa, RW);
	int d = r ? r : dev_copy(&v->e0, pa(iova), pa(sink_iova)); /* the IOTLB now holds iova -> old */
	bool primed = d == 0 && pattern_check(sink_hpa, PAGE_SZ, 0x91);

	unsigned level = 0;
	uint64_t *leaf = slpt_leaf(da, pa(iova), &level);
	if (leaf && level == 1) {
		*leaf = (*leaf & ~VTD_SLPTE_ADDR_MASK) | pa(new_hpa);
		port_cache_flush(leaf, sizeof(*leaf));
	}
	memset(sink_hpa, 0, PAGE_SZ);
	d = dev_copy(&v->e0, pa(iova), pa(sink_iova));
	bool stale = d == 0 && pattern_check(sink_hpa, PAGE_SZ, 0x91);
	tap_ok(primed && leaf && stale,
	       "%s: leaf of IOVA 0x%llx rewritten to HPA 0x%llx without invalidation: the cached translation still "
	       "reaches the old HPA",
	       path, (unsigned long long)pa(iova), (unsigned long long)pa(new_hpa));

	int inv = vtd_unit_inv_iotlb(&v->u, VTD_TLB_PAGE, da->did, pa(iova), 0, false);
	memset(sink_hpa, 0, PAGE_SZ);
	d = dev_copy(&v->e0, pa(iova), pa(sink_iova));
	int nf = faults_take(&v->u, NULL);
	tap_ok(inv == 0 && d == 0 && nf == 0 && pattern_check(sink_hpa, PAGE_SZ, 0x92),
	       "%s: after a page-selective IOTLB invalidation (DID %u, IOVA 0x%llx) the DMA reaches the new HPA 0x%llx",
	       path, da->did, (unsigned long long)pa(iova), (unsigned long long)pa(new_hpa));

	int u1 = vtd_domain_unmap(da, pa(iova), PAGE_SZ, NULL);
	int m1 = map(da, iova, old_hpa, RW);
	memset(sink_hpa, 0, PAGE_SZ);
	d = dev_copy(&v->e0, pa(iova), pa(sink_iova));
	nf = faults_take(&v->u, NULL);
	tap_ok(u1 == 0 && m1 == 0 && d == 0 && nf == 0 && pattern_check(sink_hpa, PAGE_SZ, 0x91),
	       "%s: moved back with vtd_domain_unmap + vtd_domain_map: the DMA reaches HPA 0x%llx again", path,
	       (unsigned long long)pa(old_hpa));
	vtd_domain_unmap(da, pa(iova), PAGE_SZ, NULL);
	vtd_domain_unmap(da, pa(sink_iova), PAGE_SZ, NULL);
}

/* 6: edu0 in domain A and edu1 in domain B cannot reach each other's memory. */
static void test_isolation(struct env *v, struct vtd_domain *da, struct vtd_domain *db)
{
	char why[200];
	void *shared_iova = page_fill(0xb0), *a_page = page_fill(0xb1), *b_page = page_fill(0xb2);
	void *b_src_iova = page_fill(0xb5), *b_src = page_fill(0xb3);
	void *a_only_iova = page_fill(0xb6), *a_only = page_fill(0xb4);
	int r = map(da, shared_iova, a_page, RW) | map(db, shared_iova, b_page, RW) | map(db, b_src_iova, b_src, RW) |
		map(da, a_only_iova, a_only, RW);
	faults_take(&v->u, NULL);

	int d = r ? r : dev_copy(&v->e1, pa(b_src_iova), pa(shared_iova));
	int nf = faults_take(&v->u, NULL);
	tap_ok(d == 0 && nf == 0 && pattern_check(b_page, PAGE_SZ, 0xb3) && pattern_check(a_page, PAGE_SZ, 0xb1),
	       "edu1 (domain %u) writing IOVA 0x%llx reaches its own HPA 0x%llx; domain %u's page at that IOVA untouched",
	       db->did, (unsigned long long)pa(shared_iova), (unsigned long long)pa(b_page), da->did);

	d = dev_read(&v->e1, pa(a_only_iova));
	bool ok = fault_is(&v->u, v->sid1, pa(a_only_iova), false, v->fr_np_read, why, sizeof(why));
	tap_ok(d == 0 && ok, "edu1 reading IOVA 0x%llx that only domain %u maps is blocked, fault names edu1: %s",
	       (unsigned long long)pa(a_only_iova), da->did, why);

	d = dev_read(&v->e0, pa(a_only_iova)); /* edu0 holds 0xb4 bytes now */
	d = d ? d : dev_write(&v->e0, pa(b_src_iova));
	ok = fault_is(&v->u, v->sid0, pa(b_src_iova), true, v->fr_np_write, why, sizeof(why));
	tap_ok(d == 0 && ok && pattern_check(b_src, PAGE_SZ, 0xb3),
	       "edu0 writing IOVA 0x%llx that only domain %u maps is blocked (HPA unchanged), fault names edu0: %s",
	       (unsigned long long)pa(b_src_iova), db->did, why);
	vtd_domain_unmap(da, pa(shared_iova), PAGE_SZ, NULL);
	vtd_domain_unmap(db, pa(shared_iova), PAGE_SZ, NULL);
	vtd_domain_unmap(db, pa(b_src_iova), PAGE_SZ, NULL);
	vtd_domain_unmap(da, pa(a_only_iova), PAGE_SZ, NULL);
}

/* 8: a recorded fault raises the fault-event interrupt (11.4.9.2-5) on the
 * vector programmed in FEDATA, to this CPU's APIC ID in FEADDR. */
static void test_fault_irq(struct env *v)
{
	char why[200];
	void *hole = page_fill(0xc1);
	faults_take(&v->u, NULL);
	vtd_fault_irq_setup(&v->u, edu_msi_compat_addr((uint8_t)lapic_id()), VEC_FAULT);
	idt_wait_count(VEC_FAULT, 1, 1 * MS); /* let an event still pending from masked faults through */
	idt_reset_count(VEC_FAULT);
	int d = dev_write(&v->e0, pa(hole));
	int w = idt_wait_count(VEC_FAULT, 1, 500 * MS);
	uint64_t n = idt_count(VEC_FAULT);
	bool ok = fault_is(&v->u, v->sid0, pa(hole), true, v->fr_np_write, why, sizeof(why));
	vtd_fault_irq_mask(&v->u, true);
	tap_ok(d == 0 && w == 0 && n == 1 && ok,
	       "a fault raises the fault-event interrupt once on vector 0x%x (APIC ID %u): %s", VEC_FAULT, lapic_id(),
	       why);
}

/* 7, queued half: everything above went through the invalidation queue
 * (11.4.11: GSTS.QIES set, the head caught up with the tail). */
static void test_queued_path(struct env *v)
{
	uint32_t gsts = reg32(v, VTD_REG_GSTS);
	uint64_t iqh = reg64(v, VTD_REG_IQH), iqt = reg64(v, VTD_REG_IQT);
	if (!v->u.caps.qi) {
		tap_skip("queued invalidation path", "ECAP.QI is 0 on this unit");
		return;
	}
	tap_ok(v->u.qi_on && (gsts & VTD_GSTS_QIES) && iqh == iqt && iqt != 0,
	       "queued invalidation in use: GSTS.QIES set, IQH == IQT == 0x%llx (every descriptor consumed)",
	       (unsigned long long)iqt);
}

/* 7, register half: with VTD_UNIT_NO_QI every invalidation goes through
 * CCMD / IOTLB_REG (11.4.7, 11.4.8); the move test must still hold.
 * Scalable mode has no register-based invalidation (VT-d 6.5: software must
 * use the queue), so the sm variant runs this half on legacy tables. */
static void test_register_path(struct env *v)
{
	struct vtd_domain da;
	int r = env_unit_up(v, VTD_UNIT_NO_QI);
	uint32_t gsts = reg32(v, VTD_REG_GSTS);
	const char *path = v->sm ? "register (legacy tables)" : "register";
	if (!tap_ok(r == 0 && !v->u.qi_on && !(gsts & VTD_GSTS_QIES) && (gsts & VTD_GSTS_TES),
		    "%s: invalidation forced off the queue (VTD_UNIT_NO_QI): translation on, GSTS.QIES clear (GSTS 0x%x)",
		    path, gsts))
		tap_bail("the unit did not come up without queued invalidation (%d)", r);
	domain_for(v, &da, &v->e0);
	test_move(v, &da, path);
	domain_drop(v, &da, &v->e0);
	env_unit_down(v);
}
