/* VT-d unit: capability decode, GCMD/GSTS handshakes, bring-up and
 * invalidation against vtd_model (a register-level unit like QEMU's). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd_regs.h"
#include "iommu/vtd_unit.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vtd_model.h"

#define BASE 0xfed90000ull

static struct vtd_model model;

static int setup(void **state)
{
	(void)state;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(48, true),
		       vtd_model_qemu_ecap(true, true, true, false));
	vtd_model_install(&model);
	port_host_set_log_quiet(1);
	port_host_set_clock_step(1000000);   /* 1 ms per clock read: timeouts are fast */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtd_model_uninstall_all();
	port_host_set_clock_step(0);
	assert_int_equal(port_host_pages_in_use(), 0);
	return 0;
}

static void init_decodes_qemu_caps(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(u.reg_base, BASE);
	assert_int_equal(u.caps.ver_major, 1);
	assert_int_equal(u.caps.nd, 6);
	assert_int_equal(u.caps.ndoms, 65536);
	assert_int_equal(u.caps.sagaw, 6);
	assert_int_equal(u.caps.mgaw, 48);
	assert_int_equal(u.caps.sllps, 3);
	assert_int_equal(u.caps.fro, 0x220);
	assert_int_equal(u.caps.nfr, 1);
	assert_int_equal(u.caps.iro, 0x200);
	assert_int_equal(u.caps.mamv, 18);
	assert_true(u.caps.cm);
	assert_true(u.caps.psi);
	assert_false(u.caps.rwbf);
	assert_true(u.caps.qi);
	assert_true(u.caps.ir);
	assert_true(u.caps.eim);
	assert_true(u.caps.dt);
	assert_true(u.caps.pt);
	assert_false(u.caps.c);
	assert_false(u.caps.smts);
	/* init has no side effects: no register was written */
	assert_int_equal(model.gcmd_writes, 0);
	assert_int_equal(port_host_pages_in_use(), 0);
}

/* 11.4.2 / 11.4.3 field by field, from literal register values (not from
 * the model's builders): every field a distinct, non-QEMU value. */
static void caps_decode_bit_for_bit(void **state)
{
	(void)state;
	/* CAP: ND 2 [2:0], AFL [3], RWBF [4], CM [7], SAGAW 100b [12:8],
	 * MGAW 47 [21:16], ZLR [22], FRO 0x22 [33:24], SLLPS 01b [37:34],
	 * PSI [39], NFR 7 [47:40], MAMV 9 [53:48], DWD [54], DRD [55], PI [59] */
	const uint64_t cap = 0x08c90784226f049aull;
	/* ECAP: C [0], QI [1], DT [2], IR [3], EIM [4], PT [6], SC [7],
	 * IRO 0x50 [17:8], MHMV 0xf [23:20], NEST [26], PRS [29], SRS [31],
	 * PSS 19 [39:35], PASID [40], SMTS [43], SLTS [46], FLTS [47] */
	const uint64_t ecap = 0x0000c998a4f050dfull;
	vtd_model_init(&model, BASE, cap, ecap);
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	const struct vtd_caps *c = &u.caps;
	assert_int_equal(c->nd, 2);
	assert_int_equal(c->ndoms, 256);
	assert_int_equal(u.ndids, 256);
	assert_true(c->afl && c->rwbf && c->cm && c->zlr && c->psi && c->dwd && c->drd && c->pi);
	assert_false(c->plmr || c->phmr);
	assert_int_equal(c->sagaw, 4);
	assert_int_equal(c->mgaw, 48);
	assert_int_equal(c->fro, 0x220);
	assert_int_equal(c->sllps, 1);
	assert_int_equal(c->nfr, 8);
	assert_int_equal(c->mamv, 9);
	assert_true(c->c && c->qi && c->dt && c->ir && c->eim && c->pt && c->sc);
	assert_int_equal(c->iro, 0x500);
	assert_int_equal(c->mhmv, 15);
	assert_true(c->nest && c->prs && c->srs && c->pasid && c->smts && c->slts && c->flts);
	assert_int_equal(c->pss, 19);
	/* and nothing where the spec has nothing: ECAP without those bits */
	vtd_model_init(&model, BASE, cap, ecap & ~0x0000c998a40000dfull);
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_false(c->c || c->qi || c->dt || c->ir || c->eim || c->pt || c->sc || c->nest ||
		     c->prs || c->srs || c->pasid || c->smts || c->slts || c->flts);
	assert_int_equal(c->pss, 0);
	assert_int_equal(c->iro, 0x500);
}

static void init_rejects_bad_bases(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, 0, 0), -PORT_EINVAL);
	assert_int_equal(vtd_unit_init(&u, BASE + 8, 0), -PORT_EINVAL);
	assert_int_equal(vtd_unit_init(&u, 0xfee00000, 0), -PORT_ENODEV);   /* nothing there */
	assert_non_null(strstr(port_host_last_log(), "0xfee00000"));
	/* CAP.ND = 111b is reserved: no domain could ever be allocated */
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(48, true) | 7,
		       vtd_model_qemu_ecap(true, true, true, false));
	assert_int_equal(vtd_unit_init(&u, BASE, 0), -PORT_ENODEV);
	assert_non_null(strstr(port_host_last_log(), "CAP.ND"));
}

static void bring_up_and_down(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_enable(&u), 0);
	uint32_t gsts = vtd_model_reg32(&model, VTD_REG_GSTS);
	assert_true(gsts & VTD_GSTS_TES);
	assert_true(gsts & VTD_GSTS_QIES);
	assert_true(gsts & VTD_GSTS_RTPS);
	assert_int_equal(model.rtaddr_latched, port_virt_to_phys(u.root));
	/* global context then global IOTLB invalidation, each with its wait */
	assert_int_equal(model.ndescs, 4);
	assert_int_equal(model.descs[0].lo, VTD_DESC_CC | VTD_DESC_CC_G(VTD_CC_GLOBAL));
	assert_int_equal(model.descs[0].hi, 0);
	assert_int_equal(VTD_DESC_TYPE(model.descs[1].lo), VTD_DESC_WAIT);
	assert_int_equal(model.descs[2].lo, VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(VTD_TLB_GLOBAL));
	assert_int_equal(VTD_DESC_TYPE(model.descs[3].lo), VTD_DESC_WAIT);
	vtd_unit_fini(&u);
	gsts = vtd_model_reg32(&model, VTD_REG_GSTS);
	assert_false(gsts & (VTD_GSTS_TES | VTD_GSTS_QIES));
}


static void gcmd_keeps_persistent_bits(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_gcmd(&u, VTD_GCMD_IRE, true), 0);
	assert_int_equal(vtd_unit_gcmd(&u, VTD_GCMD_CFI, true), 0);
	/* a one-shot command carries IRE and CFI along, and adds nothing else */
	assert_int_equal(vtd_unit_gcmd(&u, VTD_GCMD_SRTP, true), 0);
	assert_int_equal(model.gcmd_last, VTD_GCMD_IRE | VTD_GCMD_CFI | VTD_GCMD_SRTP);
	uint32_t gsts = vtd_model_reg32(&model, VTD_REG_GSTS);
	assert_int_equal(gsts, VTD_GSTS_IRES | VTD_GSTS_CFIS | VTD_GSTS_RTPS);
	assert_int_equal(vtd_unit_gcmd(&u, VTD_GCMD_IRE, false), 0);
	assert_int_equal(model.gcmd_last, VTD_GCMD_CFI);
	/* nonsense requests are refused without touching the unit */
	unsigned writes = model.gcmd_writes;
	assert_int_equal(vtd_unit_gcmd(&u, VTD_GCMD_SRTP, false), -PORT_EINVAL);
	assert_int_equal(vtd_unit_gcmd(&u, VTD_GCMD_TE | VTD_GCMD_IRE, true), -PORT_EINVAL);
	assert_int_equal(vtd_unit_gcmd(&u, 1u << 3, true), -PORT_EINVAL);
	assert_int_equal(model.gcmd_writes, writes);
}

static void stuck_gsts_times_out_naming_unit_and_bit(void **state)
{
	(void)state;
	struct vtd_unit u;
	model.stuck_gsts = VTD_GSTS_TES;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_enable(&u), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "0xfed90000"));
	assert_non_null(strstr(port_host_last_log(), "GSTS.TES"));
	/* bring-up was undone: QI off, nothing allocated (teardown checks pages) */
	assert_false(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_QIES);
	assert_null(u.root);
}

static void stuck_srtp_fails_enable(void **state)
{
	(void)state;
	struct vtd_unit u;
	model.stuck_gsts = VTD_GSTS_RTPS;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_enable(&u), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "GSTS.RTPS"));
	assert_false(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_TES);
}

static void write_buffer_flush_when_rwbf(void **state)
{
	(void)state;
	struct vtd_unit u;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(39, false) | VTD_CAP_RWBF,
		       vtd_model_qemu_ecap(false, false, false, false));
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_true(u.caps.rwbf);
	assert_int_equal(vtd_unit_flush_write_buffer(&u), 0);
	assert_int_equal(model.gcmd_last, VTD_GCMD_WBF);
	model.stuck_gsts = VTD_GSTS_WBFS;
	assert_int_equal(vtd_unit_flush_write_buffer(&u), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "WBFS"));
}

static void descriptor_builders_are_bit_exact(void **state)
{
	(void)state;
	struct vtd_desc d = vtd_desc_context(VTD_CC_DEVICE, 0x1234, 0x0310, 2);
	/* 6.5.2.2: type 1, G=3 at 5:4, DID 31:16, SID 47:32, FM 49:48 */
	assert_int_equal(d.lo, 0x1ull | (3ull << 4) | (0x1234ull << 16) | (0x0310ull << 32) |
			       (2ull << 48));
	assert_int_equal(d.hi, 0);
	d = vtd_desc_context(VTD_CC_GLOBAL, 0x1234, 0x0310, 2);
	assert_int_equal(d.lo, 0x11);
	/* 6.5.2.3: type 2, G 5:4, DW 6, DR 7, DID 31:16; hi ADDR|IH 6|AM 5:0 */
	d = vtd_desc_iotlb(VTD_TLB_PAGE, 7, 0x12345000, 3, true, true, true);
	assert_int_equal(d.lo, 0x2ull | (3ull << 4) | (1ull << 6) | (1ull << 7) | (7ull << 16));
	assert_int_equal(d.hi, 0x12345000ull | (1ull << 6) | 3);
	d = vtd_desc_iotlb(VTD_TLB_DOMAIN, 7, 0x12345000, 3, true, false, false);
	assert_int_equal(d.lo, 0x2ull | (2ull << 4) | (7ull << 16));
	assert_int_equal(d.hi, 0);
	/* 6.5.2.5: type 3, PFSID 15:12 + 63:52, MIP 20:16, SID 47:32; hi ADDR|S */
	d = vtd_desc_devtlb(0x0318, 0xabc5, 4, 0xfee01000, true);
	assert_int_equal(d.lo, 0x3ull | (0x5ull << 12) | (4ull << 16) | (0x0318ull << 32) |
			       (0xabcull << 52));
	assert_int_equal(d.hi, 0xfee01000ull | 1);
	/* 6.5.2.7: type 4, G 4, IM 31:27, IIDX 47:32 */
	d = vtd_desc_iec(false, 0x40, 2);
	assert_int_equal(d.lo, 0x4ull | (1ull << 4) | (2ull << 27) | (0x40ull << 32));
	assert_int_equal(vtd_desc_iec(true, 0x40, 2).lo, 0x4);
	/* 6.5.2.8: type 5, IF 4, SW 5, FN 6, SDATA 63:32; hi SADDR 63:2 */
	d = vtd_desc_wait(0x1000ff4, 0xcafe, true, true);
	assert_int_equal(d.lo, 0x5ull | (1ull << 4) | (1ull << 5) | (1ull << 6) | (0xcafeull << 32));
	assert_int_equal(d.hi, 0x1000ff4);
	assert_int_equal(VTD_DESC_TYPE(d.lo), VTD_DESC_WAIT);
}

static void submit_appends_wait_and_wraps(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_qi_enable(&u), 0);
	uint64_t iqa = vtd_model_reg64(&model, VTD_REG_IQA);
	assert_int_equal(iqa, port_virt_to_phys(u.iq));   /* DW=0, QS=0 */
	/* 600 descriptors: more than a queue holds, and the tail wraps */
	static struct vtd_desc many[600];
	for (unsigned i = 0; i < 600; i++)
		many[i] = vtd_desc_iec(false, i, 0);
	assert_int_equal(vtd_unit_submit(&u, many, 600), 0);
	unsigned iec = 0, waits = 0;
	for (unsigned i = 0; i < model.ndescs; i++) {
		struct vtd_desc d = model.descs[i];
		if (VTD_DESC_TYPE(d.lo) == VTD_DESC_IEC) {
			assert_int_equal(vtd_field(d.lo, 47, 32), iec);
			iec++;
		} else {
			assert_int_equal(VTD_DESC_TYPE(d.lo), VTD_DESC_WAIT);
			assert_true(d.lo & VTD_DESC_WAIT_SW);
			assert_int_equal(d.hi, port_virt_to_phys((const void *)u.wait_status));
			waits++;
		}
	}
	assert_int_equal(iec, 600);
	assert_int_equal(waits, 3);   /* 254 + 254 + 92 */
	assert_int_equal(vtd_model_reg64(&model, VTD_REG_IQH), vtd_model_reg64(&model, VTD_REG_IQT));
	assert_int_equal(*u.wait_status, u.wait_seq);
	vtd_unit_fini(&u);
}

static void iqe_is_decoded_cleared_and_queue_recovers(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_qi_enable(&u), 0);
	struct vtd_desc bad[2] = {
		vtd_desc_context(VTD_CC_GLOBAL, 0, 0, 0),
		{ VTD_DESC_IOTLB | (1ull << 8), 0 },    /* reserved bit 8 */
	};
	assert_int_equal(vtd_unit_submit(&u, bad, 2), -PORT_EIO);
	assert_non_null(strstr(port_host_last_log(), "IQE"));
	assert_non_null(strstr(port_host_last_log(), "0xfed90000"));
	assert_false(vtd_model_reg32(&model, VTD_REG_FSTS) & VTD_FSTS_IQE);
	/* the queue still works */
	assert_int_equal(vtd_unit_inv_iotlb(&u, VTD_TLB_GLOBAL, 0, 0, 0, false), 0);
	struct vtd_desc last = model.descs[model.ndescs - 2];
	assert_int_equal(last.lo, VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(VTD_TLB_GLOBAL));
	/* unknown type 0xf */
	struct vtd_desc junk = { 0xf, 0 };
	assert_int_equal(vtd_unit_submit(&u, &junk, 1), -PORT_EIO);
	assert_int_equal(vtd_unit_inv_context(&u, VTD_CC_GLOBAL, 0, 0, 0), 0);
	vtd_unit_fini(&u);
}

static void invalidation_that_never_completes_times_out(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_qi_enable(&u), 0);
	model.qi_stuck = true;
	assert_int_equal(vtd_unit_inv_context(&u, VTD_CC_GLOBAL, 0, 0, 0), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "0xfed90000"));
	assert_non_null(strstr(port_host_last_log(), "IQH"));
	/* the next submission does not write over descriptors the unit has not
	 * fetched: refused, IQT unchanged */
	uint64_t iqt = vtd_model_reg64(&model, VTD_REG_IQT);
	assert_int_equal(vtd_unit_inv_iotlb(&u, VTD_TLB_GLOBAL, 0, 0, 0, false), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "earlier submission"));
	assert_int_equal(vtd_model_reg64(&model, VTD_REG_IQT), iqt);
	/* QI cannot be turned off while the queue is not drained: also bounded */
	assert_int_equal(vtd_unit_qi_disable(&u), -PORT_ETIMEDOUT);
	model.qi_stuck = false;
	/* The queue pages were deliberately leaked to the hardware: free them here. */
	port_page_free(u.iq);
	port_page_free((void *)u.wait_status);
}

static void queue_that_rejects_everything_is_bounded(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_qi_enable(&u), 0);
	/* IQE comes back after every recovery (our wait descriptor is refused
	 * too): the submit still ends, with the error, inside its timeout. */
	model.iqe_always = true;
	uint64_t t0 = port_time_ns();
	assert_int_equal(vtd_unit_inv_context(&u, VTD_CC_GLOBAL, 0, 0, 0), -PORT_EIO);
	assert_true(port_time_ns() - t0 <= u.timeout_ns + 100 * 1000000ull);
	assert_non_null(strstr(port_host_last_log(), "0xfed90000"));
	/* the unit recovers once it accepts descriptors again */
	model.iqe_always = false;
	port_mmio_write32(BASE + VTD_REG_FSTS, VTD_FSTS_IQE);
	assert_int_equal(vtd_unit_inv_context(&u, VTD_CC_GLOBAL, 0, 0, 0), 0);
	vtd_unit_fini(&u);
}

static void device_tlb_timeout_is_ite(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_qi_enable(&u), 0);
	model.ite_on_devtlb = true;
	assert_int_equal(vtd_unit_inv_devtlb(&u, 0x0318, 0, 0, 0x10000, 1), -PORT_EIO);
	assert_non_null(strstr(port_host_last_log(), "ITE"));
	assert_non_null(strstr(port_host_last_log(), "0318"));
	model.ite_on_devtlb = false;
	assert_int_equal(vtd_unit_inv_devtlb(&u, 0x0318, 0, 0, 0x10000, 4), 0);
	struct vtd_desc d = model.descs[model.ndescs - 2];
	assert_int_equal(VTD_DESC_TYPE(d.lo), VTD_DESC_DEVTLB);
	/* 6.5.2.5: 4 pages at 0x10000: S=1, address bits 12 set, 13 clear */
	assert_int_equal(d.hi, 0x10000ull | 0x1000 | 1);
	vtd_unit_fini(&u);
}

static void register_invalidation_when_qi_forced_off(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, VTD_UNIT_NO_QI), 0);
	assert_int_equal(vtd_unit_enable(&u), 0);
	assert_false(vtd_model_reg32(&model, VTD_REG_GSTS) & VTD_GSTS_QIES);
	assert_int_equal(model.ndescs, 0);
	assert_int_equal(model.nccmd, 1);
	assert_int_equal(model.ccmd_log[0], VTD_CCMD_ICC | VTD_CCMD_CIRG(VTD_CC_GLOBAL));
	assert_int_equal(model.niotlb, 1);
	assert_int_equal(model.iotlb_log[0][0], VTD_IOTLB_IVT | VTD_IOTLB_IIRG(VTD_TLB_GLOBAL));
	/* device-selective context, page-selective IOTLB via IVA at IRO */
	assert_int_equal(vtd_unit_inv_context(&u, VTD_CC_DEVICE, 5, 0x0308, 0), 0);
	assert_int_equal(model.ccmd_log[1], VTD_CCMD_ICC | VTD_CCMD_CIRG(3) | VTD_CCMD_SID(0x308) |
						    VTD_CCMD_DID(5));
	assert_int_equal(vtd_unit_inv_range(&u, 5, 0x200000, 0x4000), 0);
	assert_int_equal(model.iotlb_log[1][0], VTD_IOTLB_IVT | VTD_IOTLB_IIRG(3) | VTD_IOTLB_DID(5));
	assert_int_equal(model.iotlb_log[1][1], 0x200000ull | VTD_IVA_AM(2));
	assert_int_equal(vtd_model_reg64(&model, 0x200), 0x200000ull | 2);   /* IVA_REG */
	/* page-selective at IOVA 0: IVA_REG is rewritten, not left at 0x200000 */
	assert_int_equal(vtd_unit_inv_iotlb(&u, VTD_TLB_PAGE, 5, 0, 0, false), 0);
	assert_int_equal(model.niotlb, 3);
	assert_int_equal(model.iotlb_log[2][1], 0);
	/* QI-only invalidations say so */
	assert_int_equal(vtd_unit_inv_iec(&u, true, 0, 0), -PORT_ENOTSUP);
	struct vtd_desc d = vtd_desc_iec(true, 0, 0);
	assert_int_equal(vtd_unit_submit(&u, &d, 1), -PORT_ENOTSUP);
	/* ICC / IVT that never clear */
	model.ccmd_stuck = true;
	assert_int_equal(vtd_unit_inv_context(&u, VTD_CC_GLOBAL, 0, 0, 0), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "CCMD.ICC"));
	assert_non_null(strstr(port_host_last_log(), "0xfed90000"));
	model.iotlb_stuck = true;
	assert_int_equal(vtd_unit_inv_iotlb(&u, VTD_TLB_DOMAIN, 5, 0, 0, false), -PORT_ETIMEDOUT);
	assert_non_null(strstr(port_host_last_log(), "IOTLB_REG.IVT"));
	vtd_unit_fini(&u);
}

static void page_selective_range_rules(void **state)
{
	(void)state;
	struct vtd_unit u;
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(vtd_unit_qi_enable(&u), 0);
	struct { uint64_t iova, len, addr; unsigned am; } cases[] = {
		{ 0x5000, 0x1000, 0x5000, 0 },
		{ 0x5000, 0x2000, 0x4000, 2 },      /* straddles an 8K boundary */
		{ 0x200000, 0x200000, 0x200000, 9 },
		{ 0x1ff000, 0x2000, 0, 10 },        /* crosses 2M: 4M block at 0 */
	};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(vtd_unit_inv_range(&u, 9, cases[i].iova, cases[i].len), 0);
		struct vtd_desc d = model.descs[model.ndescs - 2];
		assert_int_equal(d.lo, VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(3) | VTD_DESC_IOTLB_DID(9));
		assert_int_equal(d.hi, cases[i].addr | cases[i].am);
	}
	/* beyond MAMV (18): domain-selective */
	assert_int_equal(vtd_unit_inv_range(&u, 9, 0, 1ull << 32), 0);
	struct vtd_desc d = model.descs[model.ndescs - 2];
	assert_int_equal(d.lo, VTD_DESC_IOTLB | VTD_DESC_IOTLB_G(2) | VTD_DESC_IOTLB_DID(9));
	/* misaligned page-selective request refused */
	assert_int_equal(vtd_unit_inv_iotlb(&u, VTD_TLB_PAGE, 9, 0x1000, 1, false), -PORT_EINVAL);
	vtd_unit_fini(&u);
}

static void did_allocation_within_nd(void **state)
{
	(void)state;
	struct vtd_unit u;
	vtd_model_init(&model, BASE, vtd_model_qemu_cap(39, false) & ~VTD_GENMASK(2, 0),
		       vtd_model_qemu_ecap(false, false, false, false));   /* ND=0: 16 DIDs */
	assert_int_equal(vtd_unit_init(&u, BASE, 0), 0);
	assert_int_equal(u.ndids, 16);
	for (int want = 1; want < 16; want++)
		assert_int_equal(vtd_unit_did_alloc(&u), want);
	assert_int_equal(vtd_unit_did_alloc(&u), -PORT_ENOSPC);
	vtd_unit_did_free(&u, 7);
	assert_int_equal(vtd_unit_did_alloc(&u), 7);
	vtd_unit_fini(&u);
}

static void two_units_at_once(void **state)
{
	(void)state;
	static struct vtd_model second;
	vtd_model_init(&second, BASE + 0x1000, vtd_model_qemu_cap(39, false),
		       vtd_model_qemu_ecap(false, false, false, false));
	vtd_model_install(&second);
	struct vtd_unit a, b;
	assert_int_equal(vtd_unit_init(&a, BASE, 0), 0);
	assert_int_equal(vtd_unit_init(&b, BASE + 0x1000, VTD_UNIT_NO_QI), 0);
	assert_int_equal(vtd_unit_enable(&a), 0);
	assert_int_equal(vtd_unit_enable(&b), 0);
	assert_int_equal(second.rtaddr_latched, port_virt_to_phys(b.root));
	assert_int_equal(model.rtaddr_latched, port_virt_to_phys(a.root));
	assert_int_equal(second.nccmd, 1);
	assert_int_equal(model.nccmd, 0);
	vtd_unit_fini(&a);
	vtd_unit_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_decodes_qemu_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(caps_decode_bit_for_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(init_rejects_bad_bases, setup, teardown),
		cmocka_unit_test_setup_teardown(bring_up_and_down, setup, teardown),
		cmocka_unit_test_setup_teardown(gcmd_keeps_persistent_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(stuck_gsts_times_out_naming_unit_and_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(stuck_srtp_fails_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(write_buffer_flush_when_rwbf, setup, teardown),
		cmocka_unit_test_setup_teardown(descriptor_builders_are_bit_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(submit_appends_wait_and_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(iqe_is_decoded_cleared_and_queue_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(invalidation_that_never_completes_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_that_rejects_everything_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(device_tlb_timeout_is_ite, setup, teardown),
		cmocka_unit_test_setup_teardown(register_invalidation_when_qi_forced_off, setup, teardown),
		cmocka_unit_test_setup_teardown(page_selective_range_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(did_allocation_within_nd, setup, teardown),
		cmocka_unit_test_setup_teardown(two_units_at_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
