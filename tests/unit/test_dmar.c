/* ACPI DMAR parsing: every structure at the spec's offsets (chapter 8), a
 * realistic table with two DRHDs, RMRRs and scopes, and truncated, corrupt
 * and lying tables (an error, never a read out of bounds: ASan watches). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/dmar.h"
#include "port.h"
#include "port/host/port_host.h"

/* --- a little table builder, writing fields at the spec's offsets --------- */

struct tb {
	uint8_t b[4096];
	size_t len;
	size_t bounds[64];   /* offsets where a structure ends (valid truncations) */
	unsigned nbounds;
};

static void put(struct tb *t, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		t->b[off + i] = (uint8_t)(v >> (8 * i));
}

static void header(struct tb *t, unsigned haw_minus_1, unsigned flags)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "DMAR", 4);
	t->b[8] = 1;                          /* revision */
	memcpy(t->b + 10, "VFSTCK", 6);       /* OEM ID */
	t->b[36] = (uint8_t)haw_minus_1;      /* 8.1 host address width - 1 */
	t->b[37] = (uint8_t)flags;            /* INTR_REMAP, X2APIC_OPT_OUT */
	t->len = 48;
	t->bounds[t->nbounds++] = 48;
}

static size_t sub(struct tb *t, unsigned type, size_t fixed)
{
	size_t off = t->len;
	put(t, off, type, 2);
	t->len += fixed;
	return off;
}

static void scope(struct tb *t, unsigned type, unsigned enum_id, unsigned bus,
		  const uint8_t *path, unsigned hops)
{
	size_t off = t->len;
	t->b[off] = (uint8_t)type;
	t->b[off + 1] = (uint8_t)(6 + 2 * hops);
	t->b[off + 4] = (uint8_t)enum_id;
	t->b[off + 5] = (uint8_t)bus;
	memcpy(t->b + off + 6, path, 2 * hops);
	t->len += 6 + 2 * hops;
}

static void end_sub(struct tb *t, size_t off)
{
	put(t, off + 2, t->len - off, 2);
	t->bounds[t->nbounds++] = t->len;
}

static void finish(struct tb *t)
{
	put(t, 4, t->len, 4);
	t->b[9] = 0;
	uint8_t sum = 0;
	for (size_t i = 0; i < t->len; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)(0x100 - sum);
}

static const uint8_t gpu[] = { 0x02, 0x0 };
static const uint8_t nic_behind_port[] = { 0x1c, 0x0, 0x00, 0x0 };
static const uint8_t ioapic[] = { 0x1e, 0x1 };
static const uint8_t root_port[] = { 0x1c, 0x0 };

/* Two DRHDs (one with scopes, one INCLUDE_PCI_ALL), two RMRRs, ATSR, RHSA,
 * ANDD, SATC and a structure type the parser does not know. */
static void build_full(struct tb *t)
{
	header(t, 45, 0x3);
	size_t o = sub(t, 0, 16);             /* 8.3 DRHD */
	t->b[o + 4] = 0;
	t->b[o + 5] = 1;                      /* size: 2 pages */
	put(t, o + 6, 0, 2);
	put(t, o + 8, 0xfed90000, 8);
	scope(t, 1, 0, 0, gpu, 1);
	scope(t, 2, 0, 0, root_port, 1);
	end_sub(t, o);
	o = sub(t, 0, 16);
	t->b[o + 4] = 1;                      /* INCLUDE_PCI_ALL */
	put(t, o + 8, 0xfed91000, 8);
	scope(t, 3, 2, 0xf0, ioapic, 1);
	end_sub(t, o);
	o = sub(t, 1, 24);                    /* 8.4 RMRR */
	put(t, o + 8, 0x7c000000, 8);
	put(t, o + 16, 0x7c7fffff, 8);
	scope(t, 1, 0, 0, gpu, 1);
	end_sub(t, o);
	o = sub(t, 1, 24);
	put(t, o + 6, 0x0102, 2);             /* segment 0x0102 */
	put(t, o + 8, 0xe0000, 8);
	put(t, o + 16, 0xfffff, 8);
	scope(t, 1, 0, 0, nic_behind_port, 2);
	end_sub(t, o);
	o = sub(t, 2, 8);                     /* 8.5 ATSR */
	t->b[o + 4] = 1;
	put(t, o + 6, 0x0003, 2);             /* segment 3 */
	scope(t, 2, 0, 0, root_port, 1);
	end_sub(t, o);
	o = sub(t, 3, 20);                    /* 8.6 RHSA */
	put(t, o + 8, 0xfed91000, 8);
	put(t, o + 16, 1, 4);
	end_sub(t, o);
	o = sub(t, 4, 8);                     /* 8.7 ANDD */
	t->b[o + 7] = 5;
	memcpy(t->b + t->len, "\\_SB.PCI0.UAR0", 15);
	t->len += 15;
	end_sub(t, o);
	o = sub(t, 5, 8);                     /* 8.8 SATC */
	t->b[o + 4] = 1;
	put(t, o + 6, 0x0004, 2);             /* segment 4 */
	scope(t, 1, 0, 0, gpu, 1);
	end_sub(t, o);
	o = sub(t, 0x42, 12);                 /* unknown type: skipped */
	end_sub(t, o);
	finish(t);
}

static struct dmar_info info;

static int setup(void **state)
{
	(void)state;
	port_host_set_log_quiet(1);
	return 0;
}

static void full_table_every_field(void **state)
{
	(void)state;
	struct tb t;
	build_full(&t);
	assert_int_equal(dmar_parse(t.b, t.len, 0, &info), 0);
	assert_int_equal(info.haw, 46);
	assert_true(info.intr_remap);
	assert_true(info.x2apic_opt_out);
	assert_false(info.dma_ctrl_opt_in);
	assert_int_equal(info.revision, 1);
	assert_int_equal(info.ndrhd, 2);
	assert_int_equal(info.drhd[0].reg_base, 0xfed90000);
	assert_false(info.drhd[0].include_pci_all);
	assert_int_equal(info.drhd[0].size_pages, 2);
	assert_int_equal(info.drhd[0].nscopes, 2);
	const struct dmar_scope *s = &info.scopes[info.drhd[0].scope_first];
	assert_int_equal(s[0].type, DMAR_SCOPE_ENDPOINT);
	assert_int_equal(s[0].start_bus, 0);
	assert_int_equal(s[0].path_len, 1);
	assert_int_equal(s[0].path[0].dev, 2);
	assert_int_equal(s[0].path[0].fn, 0);
	assert_int_equal(s[1].type, DMAR_SCOPE_BRIDGE);
	assert_int_equal(s[1].path[0].dev, 0x1c);
	assert_int_equal(info.drhd[1].reg_base, 0xfed91000);
	assert_true(info.drhd[1].include_pci_all);
	assert_int_equal(info.drhd[1].size_pages, 1);
	assert_int_equal(info.drhd[1].nscopes, 1);
	s = &info.scopes[info.drhd[1].scope_first];
	assert_int_equal(s->type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(s->enum_id, 2);
	assert_int_equal(s->start_bus, 0xf0);
	assert_int_equal(s->path[0].dev, 0x1e);
	assert_int_equal(s->path[0].fn, 1);
	assert_int_equal(info.nrmrr, 2);
	assert_int_equal(info.rmrr[0].base, 0x7c000000);
	assert_int_equal(info.rmrr[0].limit, 0x7c7fffff);
	assert_int_equal(info.rmrr[0].nscopes, 1);
	assert_int_equal(info.rmrr[0].segment, 0);
	assert_int_equal(info.rmrr[1].segment, 0x0102);
	assert_int_equal(info.rmrr[1].base, 0xe0000);
	assert_int_equal(info.rmrr[1].limit, 0xfffff);
	s = &info.scopes[info.rmrr[1].scope_first];
	assert_int_equal(s->path_len, 2);
	assert_int_equal(s->path[0].dev, 0x1c);
	assert_int_equal(s->path[1].dev, 0);
	assert_int_equal(info.natsr, 1);
	assert_true(info.atsr[0].all_ports);
	assert_int_equal(info.atsr[0].segment, 3);
	assert_int_equal(info.atsr[0].nscopes, 1);
	assert_int_equal(info.nrhsa, 1);
	assert_int_equal(info.rhsa[0].reg_base, 0xfed91000);
	assert_int_equal(info.rhsa[0].proximity_domain, 1);
	assert_int_equal(info.nandd, 1);
	assert_int_equal(info.andd[0].device_number, 5);
	assert_string_equal(info.andd[0].name, "\\_SB.PCI0.UAR0");
	assert_int_equal(info.nsatc, 1);
	assert_true(info.satc[0].atc_required);
	assert_int_equal(info.satc[0].segment, 4);
	assert_int_equal(info.nunknown, 1);
	assert_int_equal(info.nscopes, 7);
}

static void every_truncation_is_an_error_or_a_prefix(void **state)
{
	(void)state;
	struct tb t;
	build_full(&t);
	/* Hand the parser only L bytes of a table that claims to be longer. */
	for (size_t l = 0; l < t.len; l++) {
		uint8_t *copy = malloc(l ? l : 1);   /* exact size: ASan catches overreads */
		memcpy(copy, t.b, l);
		assert_int_equal(dmar_parse(copy, l, 0, &info), -PORT_EINVAL);
		free(copy);
	}
	/* A table whose header says L: valid exactly at structure boundaries. */
	for (size_t l = 48; l <= t.len; l++) {
		uint8_t *copy = malloc(l);
		memcpy(copy, t.b, l);
		for (unsigned i = 0; i < 4; i++)
			copy[4 + i] = (uint8_t)(l >> (8 * i));
		bool boundary = false;
		for (unsigned i = 0; i < t.nbounds; i++)
			boundary |= t.bounds[i] == l;
		int rc = dmar_parse(copy, l, DMAR_PARSE_NO_CHECKSUM, &info);
		if (boundary)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -PORT_EINVAL);
		free(copy);
	}
}

static int parse_patched(struct tb *t, size_t off, uint64_t v, unsigned n)
{
	put(t, off, v, n);
	finish(t);
	return dmar_parse(t->b, t->len, 0, &info);
}

static void corrupt_tables(void **state)
{
	(void)state;
	struct tb t;
	build_full(&t);
	const size_t drhd0 = 48, drhd0_scope = 48 + 16;
	t.b[0] = 'X';
	assert_int_equal(dmar_parse(t.b, t.len, 0, &info), -PORT_EINVAL);
	assert_non_null(strstr(port_host_last_log(), "signature"));
	build_full(&t);
	t.b[20] ^= 1;   /* checksum */
	assert_int_equal(dmar_parse(t.b, t.len, 0, &info), -PORT_EINVAL);
	assert_non_null(strstr(port_host_last_log(), "checksum"));
	assert_int_equal(dmar_parse(t.b, t.len, DMAR_PARSE_NO_CHECKSUM, &info), 0);
	/* a structure of length 0 (would loop forever), 3, or past the end */
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0 + 2, 0, 2), -PORT_EINVAL);
	assert_non_null(strstr(port_host_last_log(), "DRHD at offset 0x30"));
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0 + 2, 3, 2), -PORT_EINVAL);
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0 + 2, 0xffff, 2), -PORT_EINVAL);
	/* a DRHD too short for its fixed fields */
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0 + 2, 8, 2), -PORT_EINVAL);
	/* header length shorter than the header, longer than the buffer */
	build_full(&t);
	put(&t, 4, 40, 4);
	assert_int_equal(dmar_parse(t.b, t.len, DMAR_PARSE_NO_CHECKSUM, &info), -PORT_EINVAL);
	build_full(&t);
	put(&t, 4, t.len + 1, 4);
	assert_int_equal(dmar_parse(t.b, t.len, DMAR_PARSE_NO_CHECKSUM, &info), -PORT_EINVAL);
	/* scope lengths: 0, odd, 5, past the structure */
	unsigned bad_scope_len[] = { 0, 5, 7, 0x40 };
	for (unsigned i = 0; i < 4; i++) {
		build_full(&t);
		assert_int_equal(parse_patched(&t, drhd0_scope + 1, bad_scope_len[i], 1), -PORT_EINVAL);
		assert_non_null(strstr(port_host_last_log(), "device scope"));
	}
	/* scope type 0 / 6, device 32, function 8 */
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0_scope, 0, 1), -PORT_EINVAL);
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0_scope, 6, 1), -PORT_EINVAL);
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0_scope + 6, 32, 1), -PORT_EINVAL);
	build_full(&t);
	assert_int_equal(parse_patched(&t, drhd0_scope + 7, 8, 1), -PORT_EINVAL);
	/* RMRR limit below base / unaligned */
	build_full(&t);
	size_t rmrr0 = t.bounds[2];
	assert_int_equal(parse_patched(&t, rmrr0 + 16, 0x7bffffff, 8), -PORT_EINVAL);
	assert_non_null(strstr(port_host_last_log(), "RMRR"));
	build_full(&t);
	assert_int_equal(parse_patched(&t, rmrr0 + 8, 0x7c000800, 8), -PORT_EINVAL);
	/* garbage after the last structure */
	build_full(&t);
	t.len += 3;
	finish(&t);
	assert_int_equal(dmar_parse(t.b, t.len, 0, &info), -PORT_EINVAL);
}

static void tables_that_lie(void **state)
{
	(void)state;
	struct tb t;
	build_full(&t);
	assert_int_equal(parse_patched(&t, 48 + 8, 0, 8), -PORT_EINVAL);   /* base 0 */
	assert_non_null(strstr(port_host_last_log(), "zero"));
	build_full(&t);
	assert_int_equal(parse_patched(&t, 48 + 8, 0xfed90008, 8), -PORT_EINVAL);
	assert_non_null(strstr(port_host_last_log(), "aligned"));
	build_full(&t);
	size_t drhd1 = t.bounds[1];
	assert_int_equal(parse_patched(&t, drhd1 + 8, 0xfed90000, 8), -PORT_EINVAL);
	assert_non_null(strstr(port_host_last_log(), "second unit at register base 0xfed90000"));
	build_full(&t);
	assert_int_equal(parse_patched(&t, 48 + 4, 1, 1), -PORT_EINVAL);   /* two PCI_ALL */
	assert_non_null(strstr(port_host_last_log(), "INCLUDE_PCI_ALL"));
}

static void too_many_is_e2big(void **state)
{
	(void)state;
	struct tb t;
	header(&t, 38, 0);
	for (unsigned i = 0; i <= DMAR_MAX_DRHD; i++) {
		size_t o = sub(&t, 0, 16);
		put(&t, o + 8, 0xfed00000ull + 0x1000ull * i, 8);
		end_sub(&t, o);
	}
	finish(&t);
	assert_int_equal(dmar_parse(t.b, t.len, 0, &info), -PORT_E2BIG);
}

/* A fake PCI topology: 00:02.0 endpoint, 00:1c.0 root port to bus 3,
 * 03:00.0 endpoint, 00:1f.0 endpoint. */
static int probe(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	(void)ctx;
	if (seg != 0 || fn != 0)
		return -1;
	if (bus == 0 && dev == 0x1c)
		return 3;
	if ((bus == 0 && (dev == 2 || dev == 0x1f)) || (bus == 3 && dev == 0))
		return 0;
	return -1;
}

static void scopes_resolve_and_pick_units(void **state)
{
	(void)state;
	struct tb t;
	build_full(&t);
	assert_int_equal(dmar_parse(t.b, t.len, 0, &info), 0);
	uint16_t sid;
	const struct dmar_scope *nic = &info.scopes[info.rmrr[1].scope_first];
	assert_int_equal(dmar_scope_resolve(nic, 0, probe, NULL, &sid), 0);
	assert_int_equal(sid, 0x0300);
	const struct dmar_scope *g = &info.scopes[info.drhd[0].scope_first];
	assert_int_equal(dmar_scope_resolve(g, 0, probe, NULL, &sid), 0);
	assert_int_equal(sid, 0x0010);
	/* a scope naming a missing device */
	struct dmar_scope ghost = { .type = 1, .start_bus = 0, .path_len = 1, .path = { { 9, 0 } } };
	assert_int_equal(dmar_scope_resolve(&ghost, 0, probe, NULL, &sid), -PORT_ENODEV);
	assert_non_null(strstr(port_host_last_log(), "0000:00:09.0"));
	assert_non_null(strstr(port_host_last_log(), "missing"));
	/* a path through a device that is not a bridge */
	struct dmar_scope bad = { .type = 1, .path_len = 2, .path = { { 2, 0 }, { 0, 0 } } };
	assert_int_equal(dmar_scope_resolve(&bad, 0, probe, NULL, &sid), -PORT_ENODEV);
	assert_non_null(strstr(port_host_last_log(), "not a bridge"));
	/* which unit: the endpoint scope, the bridge's bus, else INCLUDE_PCI_ALL */
	assert_int_equal(dmar_drhd_for_device(&info, 0, 0x0010, probe, NULL), 0);
	assert_int_equal(dmar_drhd_for_device(&info, 0, 0x0300, probe, NULL), 0);
	assert_int_equal(dmar_drhd_for_device(&info, 0, 0x00f8, probe, NULL), 1);
	assert_int_equal(dmar_drhd_for_device(&info, 1, 0x0010, probe, NULL), -PORT_ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(full_table_every_field, setup),
		cmocka_unit_test_setup(every_truncation_is_an_error_or_a_prefix, setup),
		cmocka_unit_test_setup(corrupt_tables, setup),
		cmocka_unit_test_setup(tables_that_lie, setup),
		cmocka_unit_test_setup(too_many_is_e2big, setup),
		cmocka_unit_test_setup(scopes_resolve_and_pick_units, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
