/* libFuzzer target for the hosted passthrough device's config space and
 * BAR traps (vmm_glue/dev/passthrough.c over tests/unit/model/pt_model: VFIO
 * and the core stood in for).  The input is a device and a guest:
 *
 *   [0, 256)     the device's config space (capability layouts of any
 *                shape: at 0xf0-0xff, loops, MSI-X table/PBA anywhere)
 *   [256, 262)   the size of each BAR's VFIO region: 0 or 2^(7 + b % 8)
 *   then         guest accesses, 8 bytes each: kind, offset (16 bit),
 *                size, value (32 bit)
 *
 * Invariants, each an abort: no device access outside the 256 config bytes
 * or a region's size, the guest never sets a COMMAND bit the filter
 * forbids, the guest's capability list is finite and inside the header's
 * 256 bytes, and every route is gone after unplug. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci_regs.h"
#include "tests/unit/model/pt_model.h"

static void check(int ok, const char *what, const struct pt_model *m)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_pt_config: %s (%s)\n", what, m->violations ? m->violation : "-");
	abort();
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void guest_caps_finite(struct pt_model *m)
{
	unsigned n = 0;
	for (unsigned at = pt_model_cfg_read(m, PCI_CAP_PTR, 1); at; at = pt_model_cfg_read(m, at + 1, 1)) {
		check(at >= PCI_HEADER_SIZE && at <= 0xfc && !(at & 3), "guest capability pointer out of place", m);
		check(++n <= PCI_CAP_MAX_ENTRIES, "guest capability list loops", m);
	}
}

static void guest_op(struct pt_model *m, const uint8_t *op)
{
	static const unsigned sizes[] = { 1, 2, 4, 4 };
	unsigned kind = op[0] % 4, size = sizes[op[3] % 4], off = le16(op + 1);
	uint32_t val = (uint32_t)op[4] | (uint32_t)op[5] << 8 | (uint32_t)op[6] << 16 | (uint32_t)op[7] << 24;
	if (kind < 2) {   /* config space, naturally aligned as 0xCFC allows */
		off = (off % PCI_CFG_SIZE) & ~(size - 1);
		if (kind)
			pt_model_cfg_write(m, off, size, val);
		else
			(void)pt_model_cfg_read(m, off, size);
		return;
	}
	/* A BAR: anywhere in it or in the page after it. */
	unsigned bar = op[3] / 4 % 6;
	uint64_t gpa = pt_dev_bar_gpa(m->pt, bar), v = val;
	if (!gpa)
		return;
	uint64_t span = (m->region_size[bar] < 4096 ? 4096 : m->region_size[bar]) + 4096;
	(void)pt_model_mmio(m, gpa + (off % span) / size * size, size, kind == 3, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pt_model m;
	static char why[256];
	if (size < PCI_CFG_SIZE + 6)
		return 0;
	pt_model_init(&m);
	memcpy(m.cfg, data, PCI_CFG_SIZE);
	for (unsigned i = 0; i < 6; i++)
		m.region_size[i] = data[PCI_CFG_SIZE + i] & 0x80 ? 1ull << (7 + data[PCI_CFG_SIZE + i] % 8) : 0;
	uint16_t cmd0 = pt_model_command(&m);
	if (pt_model_plug(&m, why, sizeof(why)) == 0) {
		guest_caps_finite(&m);
		for (size_t at = PCI_CFG_SIZE + 6; at + 8 <= size; at += 8) {
			guest_op(&m, data + at);
			check(!m.violations, "device access outside what was probed", &m);
			uint16_t cmd = pt_model_command(&m);
			check(!(cmd & ~cmd0 & ~m.cmd_allowed), "a forbidden COMMAND bit reached the device", &m);
		}
		guest_caps_finite(&m);
	} else {
		check(why[0] != 0, "refused without a reason", &m);
	}
	check(!m.violations, "device access outside what was probed", &m);
	pt_model_unplug(&m);
	check(m.routes == 0, "an interrupt route outlived the device", &m);
	return 0;
}
