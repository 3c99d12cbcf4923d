/* SR-IOV capability arithmetic against the registers QEMU's igb exposes and
 * against hand-made capability images (ARI, bus crossing, 64-bit VF BARs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sriov/sriov_cap.h"

/* A config space model: bytes plus, for BARs, which bits are writable. */
struct cfg_model {
	uint8_t space[4096];
	uint32_t bar_wmask[4096 / 4]; /* per dword: writable bits; 0 = read-only */
	int writes;
	int out_of_range; /* accesses at or past 4 KiB (a real accessor faults) */
};

static uint32_t model_read32(void *ctx, uint16_t off)
{
	struct cfg_model *m = ctx;
	uint32_t v;
	m->out_of_range += off >= sizeof(m->space);
	memcpy(&v, &m->space[off & 0xFFC], 4);
	return v;
}

static void model_write32(void *ctx, uint16_t off, uint32_t val)
{
	struct cfg_model *m = ctx;
	uint32_t old = model_read32(ctx, off);
	uint32_t wm = m->bar_wmask[(off & 0xFFC) / 4];
	m->out_of_range += off >= sizeof(m->space);
	uint32_t v = (old & ~wm) | (val & wm);
	memcpy(&m->space[off & 0xFFC], &v, 4);
	m->writes++;
}

static void put16(struct cfg_model *m, uint16_t off, uint16_t v) { memcpy(&m->space[off], &v, 2); }
static void put32(struct cfg_model *m, uint16_t off, uint32_t v) { memcpy(&m->space[off], &v, 4); }
static uint32_t get32(struct cfg_model *m, uint16_t off) { return model_read32(m, off); }

/* A VF BAR of `size` bytes at `base` (64-bit: two dwords). */
static void put_vf_bar(struct cfg_model *m, uint16_t cap, unsigned n, uint64_t base,
		       uint64_t size, int is64, int pref)
{
	uint16_t off = (uint16_t)(cap + SRIOV_REG_VF_BAR0 + 4 * n);
	uint32_t flags = (is64 ? 0x4u : 0u) | (pref ? 0x8u : 0u);
	uint64_t mask = ~(size - 1);
	put32(m, off, (uint32_t)(base & 0xFFFFFFF0u) | flags);
	m->bar_wmask[off / 4] = (uint32_t)mask & 0xFFFFFFF0u;
	if (is64) {
		put32(m, (uint16_t)(off + 4), (uint32_t)(base >> 32));
		m->bar_wmask[off / 4 + 1] = (uint32_t)(mask >> 32);
	}
}

/* QEMU's igb PF (hw/net/igb.c as the testbed measured it): AER at 0x100,
 * ARI at 0x148, SR-IOV at 0x160; TotalVFs 8, offset 0x80, stride 2, VF
 * device 0x10ca, VF BAR0 and VF BAR3 16 KiB each, 64-bit prefetchable. */
static struct cfg_model igb;
static const uint16_t IGB_SRIOV = 0x160;
static const uint16_t IGB_PF_RID = 0x0010; /* 00:02.0 */

static void build_igb(struct cfg_model *m, uint16_t num_vfs)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x00, 0x8086);
	put16(m, 0x02, 0x10c9);
	put32(m, 0x100, 0x0001u | (2u << 16) | (0x148u << 20));   /* AER -> ARI */
	put32(m, 0x148, 0x000Eu | (1u << 16) | (0x160u << 20));   /* ARI -> SR-IOV */
	put32(m, IGB_SRIOV, SRIOV_EXT_CAP_ID | (1u << 16));       /* last */
	put16(m, IGB_SRIOV + SRIOV_REG_CTRL, num_vfs ? 0x0009 : 0);
	put16(m, IGB_SRIOV + SRIOV_REG_INITIAL_VFS, 8);
	put16(m, IGB_SRIOV + SRIOV_REG_TOTAL_VFS, 8);
	put16(m, IGB_SRIOV + SRIOV_REG_NUM_VFS, num_vfs);
	put16(m, IGB_SRIOV + SRIOV_REG_VF_OFFSET, 0x80);
	put16(m, IGB_SRIOV + SRIOV_REG_VF_STRIDE, 2);
	put16(m, IGB_SRIOV + SRIOV_REG_VF_DEVICE, 0x10ca);
	put32(m, IGB_SRIOV + SRIOV_REG_SUPP_PGSZ, 0x553);
	put32(m, IGB_SRIOV + SRIOV_REG_SYS_PGSZ, 0x1);
	put_vf_bar(m, IGB_SRIOV, 0, 0xfe800000u, 0x4000, 1, 1);
	put_vf_bar(m, IGB_SRIOV, 3, 0xfe820000u, 0x4000, 1, 1);
}

static struct sriov_cfg_ops ops_for(struct cfg_model *m)
{
	struct sriov_cfg_ops o = { model_read32, model_write32, m };
	return o;
}

static void igb_capability_decodes(void **state)
{
	(void)state;
	build_igb(&igb, 7);
	struct sriov_cfg_ops o = ops_for(&igb);
	struct sriov_cap cap;
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(cap.pos, IGB_SRIOV);
	assert_int_equal(cap.total_vfs, 8);
	assert_int_equal(cap.initial_vfs, 8);
	assert_int_equal(cap.num_vfs, 7);
	assert_int_equal(cap.vf_offset, 0x80);
	assert_int_equal(cap.vf_stride, 2);
	assert_int_equal(cap.vf_device_id, 0x10ca);
	assert_true(cap.vf_enable);
	assert_false(cap.ari_hierarchy);
	assert_int_equal(sriov_cap_page_size(&cap), 4096);
}

static void igb_vf_rids_match_linux(void **state)
{
	(void)state;
	build_igb(&igb, 7);
	struct sriov_cfg_ops o = ops_for(&igb);
	struct sriov_cap cap;
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	/* Linux names them 0000:00:12.0, 00:12.2, 00:12.4, 00:12.6, 00:13.0 ... */
	static const uint16_t want[7] = { 0x90, 0x92, 0x94, 0x96, 0x98, 0x9a, 0x9c };
	for (uint16_t i = 0; i < 7; i++) {
		uint16_t rid = 0;
		assert_int_equal(sriov_vf_rid(&cap, IGB_PF_RID, i, &rid), 0);
		assert_int_equal(rid, want[i]);
	}
	assert_int_equal(0x98 >> 3, 0x13); /* VF 4 is device 0x13, function 0 */
	uint16_t rid;
	assert_int_equal(sriov_vf_rid(&cap, IGB_PF_RID, 7, &rid), -PORT_ERANGE);
	assert_int_equal(sriov_vf_last_bus(&cap, IGB_PF_RID, 7), 0);
}

static void igb_vf_bars_are_16k_and_sizing_restores(void **state)
{
	(void)state;
	build_igb(&igb, 7);
	struct sriov_cfg_ops o = ops_for(&igb);
	struct sriov_cap cap;
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	uint32_t before0 = get32(&igb, IGB_SRIOV + SRIOV_REG_VF_BAR0);
	struct sriov_vf_bar bars[SRIOV_NUM_BARS];
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), 0);
	assert_true(igb.writes > 0);
	assert_int_equal(get32(&igb, IGB_SRIOV + SRIOV_REG_VF_BAR0), before0);
	assert_int_equal(bars[0].size, 0x4000);
	assert_true(bars[0].is_64bit);
	assert_true(bars[0].prefetchable);
	assert_int_equal(bars[1].size, 0); /* upper half of BAR0 */
	assert_int_equal(bars[2].size, 0);
	assert_int_equal(bars[3].size, 0x4000);
	uint64_t a;
	assert_int_equal(sriov_vf_bar_addr(&bars[0], 0, &a), 0);
	assert_int_equal(a, 0xfe800000u);
	assert_int_equal(sriov_vf_bar_addr(&bars[0], 6, &a), 0);
	assert_int_equal(a, 0xfe800000u + 6 * 0x4000);
	assert_int_equal(sriov_vf_bar_addr(&bars[3], 1, &a), 0);
	assert_int_equal(a, 0xfe824000u);
	assert_int_equal(sriov_vf_bar_addr(&bars[2], 0, &a), -PORT_EINVAL);
}

static void igb_vf_view_looks_like_a_normal_function(void **state)
{
	(void)state;
	build_igb(&igb, 7);
	struct sriov_cfg_ops o = ops_for(&igb);
	struct sriov_cap cap;
	struct sriov_vf_bar bars[SRIOV_NUM_BARS];
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), 0);
	struct sriov_vf_view v;
	assert_int_equal(sriov_vf_view_init(&v, 0x8086, &cap, bars, 2), 0);
	/* The VF itself reads all-ones for its IDs and 0 for BARs and pin. */
	assert_int_equal(sriov_vf_view_read(&v, 0x00, 4, 0xFFFFFFFFu), 0x10ca8086u);
	assert_int_equal(sriov_vf_view_read(&v, 0x00, 2, 0xFFFF), 0x8086);
	assert_int_equal(sriov_vf_view_read(&v, 0x02, 2, 0xFFFF), 0x10ca);
	assert_int_equal(sriov_vf_view_read(&v, 0x10, 4, 0), 0xfe808000u | 0xC);
	assert_int_equal(sriov_vf_view_read(&v, 0x14, 4, 0), 0);
	assert_int_equal(sriov_vf_view_read(&v, 0x1C, 4, 0), 0xfe828000u | 0xC);
	assert_int_equal(sriov_vf_view_read(&v, 0x18, 4, 0), 0);
	assert_int_equal(sriov_vf_view_read(&v, 0x3D, 1, 0x01), 0);
	assert_int_equal(sriov_vf_view_read(&v, 0x3C, 4, 0x0001010Bu), 0x0001000Bu);
	/* Untouched registers pass through. */
	assert_int_equal(sriov_vf_view_read(&v, 0x08, 4, 0x02000001u), 0x02000001u);
	/* Sizing protocol: all-ones reads back the 16 KiB mask with flags. */
	assert_true(sriov_vf_view_write(&v, 0x10, 4, 0xFFFFFFFFu));
	assert_int_equal(sriov_vf_view_read(&v, 0x10, 4, 0), 0xFFFFC00Cu);
	assert_true(sriov_vf_view_write(&v, 0x14, 4, 0xFFFFFFFFu));
	assert_int_equal(sriov_vf_view_read(&v, 0x14, 4, 0), 0xFFFFFFFFu);
	/* The guest moves BAR0 to 0x1_2340_0000. */
	assert_true(sriov_vf_view_write(&v, 0x10, 4, 0x23400000u));
	assert_true(sriov_vf_view_write(&v, 0x14, 4, 0x1u));
	assert_int_equal(sriov_vf_view_bar_addr(&v, 0), 0x123400000ull);
	/* An unimplemented BAR stays 0; a command write goes to the VF. */
	assert_true(sriov_vf_view_write(&v, 0x18, 4, 0xFFFFFFFFu));
	assert_int_equal(sriov_vf_view_read(&v, 0x18, 4, 0), 0);
	assert_false(sriov_vf_view_write(&v, 0x04, 2, 0x6));
	assert_int_equal(sriov_vf_view_init(&v, 0x8086, &cap, bars, 7), -PORT_ERANGE);
}

/* Hand-made: an ARI device whose 64 VFs cross from bus 3 into bus 4, with a
 * 32-bit non-prefetchable BAR2 and a 64-bit BAR4 above 4 GiB. */
static void ari_vfs_cross_a_bus_and_64bit_bar_above_4g(void **state)
{
	(void)state;
	static struct cfg_model m;
	memset(&m, 0, sizeof(m));
	const uint16_t pos = 0x200;
	put32(&m, 0x100, 0x000Eu | (1u << 16) | (0x200u << 20)); /* ARI -> SR-IOV */
	put32(&m, pos, SRIOV_EXT_CAP_ID | (1u << 16));
	put32(&m, pos + SRIOV_REG_CAP, SRIOV_CAP_ARI_PRESERVED);
	put16(&m, pos + SRIOV_REG_CTRL, SRIOV_CTRL_ARI_HIERARCHY);
	put16(&m, pos + SRIOV_REG_TOTAL_VFS, 64);
	put16(&m, pos + SRIOV_REG_NUM_VFS, 64);
	put16(&m, pos + SRIOV_REG_VF_OFFSET, 0xC0);
	put16(&m, pos + SRIOV_REG_VF_STRIDE, 1);
	put16(&m, pos + SRIOV_REG_VF_DEVICE, 0x1234);
	put32(&m, pos + SRIOV_REG_SUPP_PGSZ, 0x3);
	put32(&m, pos + SRIOV_REG_SYS_PGSZ, 0x2); /* 8 KiB */
	put_vf_bar(&m, pos, 2, 0xc0000000u, 0x2000, 0, 0);
	put_vf_bar(&m, pos, 4, 0x4000000000ull, 0x100000, 1, 1);
	struct sriov_cfg_ops o = ops_for(&m);
	struct sriov_cap cap;
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_true(cap.ari_hierarchy);
	assert_true(cap.ari_preserved);
	assert_int_equal(sriov_cap_page_size(&cap), 8192);
	const uint16_t pf = 0x0300; /* 03:00.0 */
	uint16_t rid;
	assert_int_equal(sriov_vf_rid(&cap, pf, 0, &rid), 0);
	assert_int_equal(rid, 0x03C0);
	assert_int_equal(sriov_vf_rid(&cap, pf, 63, &rid), 0);
	assert_int_equal(rid, 0x03C0 + 63); /* 0x3FF: bus 3 */
	/* 64 VFs end at 0x3FF; one more would be bus 4: use NumVFs 65 image. */
	put16(&m, pos + SRIOV_REG_TOTAL_VFS, 80);
	put16(&m, pos + SRIOV_REG_NUM_VFS, 80);
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_rid(&cap, pf, 64, &rid), 0);
	assert_int_equal(rid, 0x0400);
	assert_int_equal(sriov_vf_last_bus(&cap, pf, 80), 4);
	/* A PF near the top of the RID space overflows past bus 255. */
	assert_int_equal(sriov_vf_rid(&cap, 0xFF80, 0, &rid), -PORT_ERANGE);

	struct sriov_vf_bar bars[SRIOV_NUM_BARS];
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), 0);
	assert_int_equal(bars[0].size, 0);
	assert_int_equal(bars[2].size, 0x2000);
	assert_false(bars[2].is_64bit);
	assert_false(bars[2].prefetchable);
	assert_int_equal(bars[4].size, 0x100000);
	assert_true(bars[4].is_64bit);
	assert_int_equal(bars[4].base, 0x4000000000ull);
	uint64_t a;
	assert_int_equal(sriov_vf_bar_addr(&bars[4], 79, &a), 0);
	assert_int_equal(a, 0x4000000000ull + 79ull * 0x100000);
	struct sriov_vf_view v;
	assert_int_equal(sriov_vf_view_init(&v, 0x1af4, &cap, bars, 3), 0);
	assert_int_equal(sriov_vf_view_read(&v, 0x18, 4, 0), 0xc0006000u);
	assert_int_equal(sriov_vf_view_read(&v, 0x20, 4, 0), 0x0030000Cu);
	assert_int_equal(sriov_vf_view_read(&v, 0x24, 4, 0), 0x40u);
	assert_int_equal(sriov_vf_view_bar_addr(&v, 4), 0x4000300000ull);
}

static void malformed_and_missing_capabilities(void **state)
{
	(void)state;
	static struct cfg_model m;
	struct sriov_cfg_ops o = ops_for(&m);
	uint16_t pos;
	struct sriov_cap cap;
	/* No extended capabilities at all. */
	memset(&m, 0, sizeof(m));
	assert_int_equal(sriov_cap_find(&o, &pos), -PORT_ENOENT);
	/* Another capability only (what QEMU's edu has: none, or AER-like). */
	put32(&m, 0x100, 0x0001u | (1u << 16));
	assert_int_equal(sriov_cap_read(&o, &cap), -PORT_ENOENT);
	/* A loop: 0x100 -> 0x140 -> 0x100. */
	put32(&m, 0x100, 0x0001u | (0x140u << 20));
	put32(&m, 0x140, 0x0002u | (0x100u << 20));
	assert_int_equal(sriov_cap_find(&o, &pos), -PORT_EIO);
	/* A next pointer into the legacy space. */
	put32(&m, 0x140, 0x0002u | (0x040u << 20));
	assert_int_equal(sriov_cap_find(&o, &pos), -PORT_EIO);
	/* An absent function reads all-ones. */
	memset(m.space, 0xFF, sizeof(m.space));
	assert_int_equal(sriov_cap_find(&o, &pos), -PORT_EIO);
	assert_int_equal(sriov_cap_find(NULL, &pos), -PORT_EINVAL);
	/* Stride 0 allows only one VF; an I/O VF BAR is rejected. */
	memset(&cap, 0, sizeof(cap));
	cap.total_vfs = 2;
	cap.vf_offset = 1;
	uint16_t rid;
	assert_int_equal(sriov_vf_rid(&cap, 0, 0, &rid), 0);
	assert_int_equal(sriov_vf_rid(&cap, 0, 1, &rid), -PORT_EINVAL);
	struct sriov_vf_bar b;
	assert_int_equal(sriov_vf_bar_decode(0, 0, 0xFFFFFF01u, 0, &b), -PORT_EIO);
	assert_int_equal(sriov_vf_bar_decode(0, 0, 0xFFF0F000u, 0, &b), -PORT_EIO);
	/* A read-only accessor cannot size BARs. */
	struct sriov_cfg_ops ro = { model_read32, NULL, &m };
	struct sriov_vf_bar bars[SRIOV_NUM_BARS];
	assert_int_equal(sriov_vf_bars_probe(&ro, &cap, bars), -PORT_ENOTSUP);
	/* A system page size the PF does not support is reported as 0. */
	cap.supported_pgsz = 0x1;
	cap.system_pgsz = 0x2;
	assert_int_equal(sriov_cap_page_size(&cap), 0);
}

/* A capability whose registers would run past 4 KiB is malformed: decoding it
 * must not ask the accessor for bytes beyond the config space. */
static void capability_past_the_end_of_config_space(void **state)
{
	(void)state;
	static struct cfg_model m;
	memset(&m, 0, sizeof(m));
	struct sriov_cfg_ops o = ops_for(&m);
	put32(&m, 0x100, 0x0001u | (1u << 16) | (0xFE0u << 20)); /* AER -> SR-IOV at 0xFE0 */
	put32(&m, 0xFE0, SRIOV_EXT_CAP_ID | (1u << 16));
	put16(&m, 0xFE0 + SRIOV_REG_TOTAL_VFS, 4);
	uint16_t pos = 0;
	struct sriov_cap cap;
	assert_int_equal(sriov_cap_find(&o, &pos), -PORT_EIO);
	assert_int_equal(sriov_cap_read(&o, &cap), -PORT_EIO);
	assert_int_equal(m.out_of_range, 0);
	/* The last place it fits: 0x1000 - 0x40; probing its BARs stays inside. */
	memset(&m.space[0xFC0], 0, 0x40);
	put32(&m, 0x100, 0x0001u | (1u << 16) | (0xFC0u << 20));
	put32(&m, 0xFC0, SRIOV_EXT_CAP_ID | (1u << 16));
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(cap.pos, 0xFC0);
	struct sriov_vf_bar bars[SRIOV_NUM_BARS];
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), 0);
	assert_int_equal(m.out_of_range, 0);
	/* The generic walk finds other capabilities too (igb's ARI at 0x148). */
	build_igb(&igb, 0);
	struct sriov_cfg_ops io = ops_for(&igb);
	assert_int_equal(sriov_ext_cap_find(&io, 0x000E, &pos), 0);
	assert_int_equal(pos, 0x148);
	assert_int_equal(sriov_ext_cap_find(&io, 0x000D, &pos), -PORT_ENOENT);
}

/* A hostile capability: VF BARs whose TotalVFs copies do not fit the address
 * space, NumVFs above TotalVFs, BAR sizes that are not a power of two, a
 * 64-bit BAR in the last slot.  Each is refused, nothing wraps. */
static void vf_arithmetic_refuses_what_does_not_fit(void **state)
{
	(void)state;
	static struct cfg_model m;
	memset(&m, 0, sizeof(m));
	const uint16_t pos = 0x100;
	put32(&m, pos, SRIOV_EXT_CAP_ID | (1u << 16));
	put16(&m, pos + SRIOV_REG_TOTAL_VFS, 4);
	put16(&m, pos + SRIOV_REG_VF_OFFSET, 0x80);
	put16(&m, pos + SRIOV_REG_VF_STRIDE, 2);
	/* 4 copies of a 2^62-byte 64-bit BAR: 2^64, one past the address space. */
	put_vf_bar(&m, pos, 0, 0, 1ull << 62, 1, 1);
	struct sriov_cfg_ops o = ops_for(&m);
	struct sriov_cap cap;
	struct sriov_vf_bar bars[SRIOV_NUM_BARS];
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), -PORT_ERANGE);
	assert_int_equal(bars[0].size, 0); /* nothing half-filled */
	/* Three copies fit (3 * 2^62 < 2^64): VF 2 has an address, VF 3 none. */
	put16(&m, pos + SRIOV_REG_TOTAL_VFS, 3);
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), 0);
	assert_int_equal(bars[0].size, 1ull << 62);
	uint64_t a = 0, span = 0;
	assert_int_equal(sriov_vf_bar_addr(&bars[0], 2, &a), 0);
	assert_true(a == 2ull << 62);
	assert_int_equal(sriov_vf_bar_addr(&bars[0], 3, &a), -PORT_ERANGE);
	assert_int_equal(sriov_vf_bar_addr(&bars[0], 65535, &a), -PORT_ERANGE);
	assert_int_equal(sriov_vf_bar_span(&bars[0], 3, &span), 0);
	assert_int_equal(sriov_vf_bar_span(&bars[0], 4, &span), -PORT_ERANGE);
	/* A BAR near the top: base + 2 copies wraps past 2^64. */
	struct sriov_vf_bar top = { 0xFFFFFFFFFFFF0000ull, 0x8000, true, true };
	assert_int_equal(sriov_vf_bar_addr(&top, 1, &a), 0);
	assert_true(a == 0xFFFFFFFFFFFF8000ull);
	assert_int_equal(sriov_vf_bar_addr(&top, 2, &a), -PORT_ERANGE);
	/* A 32-bit BAR: 8 x 256 MiB from 3 GiB passes 4 GiB. */
	memset(&m.space[pos + SRIOV_REG_VF_BAR0], 0, 24);
	memset(&m.bar_wmask[(pos + SRIOV_REG_VF_BAR0) / 4], 0, 6 * 4);
	put16(&m, pos + SRIOV_REG_TOTAL_VFS, 8);
	put_vf_bar(&m, pos, 1, 0xC0000000u, 0x10000000u, 0, 0);
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), -PORT_ERANGE);
	put16(&m, pos + SRIOV_REG_TOTAL_VFS, 4); /* 4 x 256 MiB ends at 4 GiB: fits */
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), 0);
	assert_int_equal(bars[1].size, 0x10000000u);
	/* NumVFs above TotalVFs: no VF arithmetic trusts it. */
	put16(&m, pos + SRIOV_REG_NUM_VFS, 6);
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	uint16_t rid;
	assert_int_equal(sriov_vf_rid(&cap, 0x0100, 5, &rid), -PORT_EIO);
	assert_int_equal(sriov_vf_rid(&cap, 0x0100, 0, &rid), -PORT_EIO);
	assert_int_equal(sriov_vf_last_bus(&cap, 0x0100, 5), -PORT_ERANGE);
	struct sriov_vf_view v;
	assert_int_equal(sriov_vf_view_init(&v, 0x8086, &cap, bars, 5), -PORT_EIO);
	put16(&m, pos + SRIOV_REG_NUM_VFS, 4);
	assert_int_equal(sriov_cap_read(&o, &cap), 0);
	assert_int_equal(sriov_vf_last_bus(&cap, 0x0100, 4), 1);
	assert_int_equal(sriov_vf_last_bus(&cap, 0x0100, 5), -PORT_ERANGE);
	/* Routing IDs past bus 255: from PF ff:00.0, VF 63 is the last that fits. */
	assert_int_equal(sriov_vf_rid(&cap, 0xFF00, 3, &rid), 0);
	assert_int_equal(rid, 0xFF86);
	cap.total_vfs = cap.num_vfs = 200;
	assert_int_equal(sriov_vf_rid(&cap, 0xFF00, 63, &rid), 0);
	assert_int_equal(rid, 0xFFFE);
	assert_int_equal(sriov_vf_rid(&cap, 0xFF00, 64, &rid), -PORT_ERANGE);
	assert_int_equal(sriov_vf_last_bus(&cap, 0xFF00, 65), -PORT_ERANGE);
	/* A size that is not a power of two (a hand-built BAR, e.g. from a
	 * kernel resource divided by TotalVFs) has no VF addresses. */
	struct sriov_vf_bar odd = { 0, 0x3000, false, false };
	assert_int_equal(sriov_vf_bar_addr(&odd, 0, &a), -PORT_EINVAL);
	assert_int_equal(sriov_vf_bar_span(&odd, 1, &span), -PORT_EINVAL);
	cap.total_vfs = cap.num_vfs = 4;
	struct sriov_vf_bar hand[SRIOV_NUM_BARS] = { [0] = odd };
	assert_int_equal(sriov_vf_view_init(&v, 0x8086, &cap, hand, 0), -PORT_EINVAL);
	/* A 64-bit BAR in the last slot has no upper half: refused, and the
	 * view is left empty rather than half built. */
	struct sriov_vf_bar last[SRIOV_NUM_BARS] = {
		[0] = { 0xfe800000u, 0x4000, false, false },
		[5] = { 0xfe900000u, 0x4000, true, true },
	};
	assert_int_equal(sriov_vf_view_init(&v, 0x8086, &cap, last, 0), -PORT_EINVAL);
	assert_int_equal(v.vendor_id, 0);
	assert_int_equal(v.bar_size[0], 0);
	memset(&m.space[pos + SRIOV_REG_VF_BAR0], 0, 24);
	memset(&m.bar_wmask[(pos + SRIOV_REG_VF_BAR0) / 4], 0, 6 * 4);
	put_vf_bar(&m, pos, 5, 0xfe900000u, 0x4000, 1, 1);
	assert_int_equal(sriov_vf_bars_probe(&o, &cap, bars), -PORT_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(igb_capability_decodes),
		cmocka_unit_test(igb_vf_rids_match_linux),
		cmocka_unit_test(igb_vf_bars_are_16k_and_sizing_restores),
		cmocka_unit_test(igb_vf_view_looks_like_a_normal_function),
		cmocka_unit_test(ari_vfs_cross_a_bus_and_64bit_bar_above_4g),
		cmocka_unit_test(malformed_and_missing_capabilities),
		cmocka_unit_test(capability_past_the_end_of_config_space),
		cmocka_unit_test(vf_arithmetic_refuses_what_does_not_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
