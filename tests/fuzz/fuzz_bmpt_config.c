/* libFuzzer target for the bare-metal passthrough glue's config-space and
 * MSI-X table traps (vmm_glue/dev/bm_passthrough.c), on the host as
 * tests/unit/test_vmx_bmpt.c runs it: the VMX core's calls stood in for
 * (under the real core_glue, which bm_passthrough's device side calls),
 * the device's config space and BARs modelled here, the IR table real.
 * The input is a device and a guest:
 *
 *   [0, 256)     the device's config space (capability layouts of any
 *                shape, MSI-X table/PBA BIR and offsets anywhere)
 *   [256, 262)   each BAR's size: 0 (not implemented) or 2^(4 + b % 15)
 *   262          flags: bit 0 the host passes the sizes it probed (else
 *                bm_passthrough sizes the BARs itself), bit 1 interrupt
 *                remapping (IRTEs and the device's MSI-X table written)
 *   then         guest accesses, 8 bytes each: kind, offset (16 bit),
 *                size, value (32 bit)
 *
 * Invariants, each an abort: config accesses are 1, 2 or 4 bytes, aligned,
 * inside 4 KiB, writes inside the 256-byte standard space; MMIO reaches only inside one of the device's BARs; the
 * guest never sets a COMMAND bit the filter forbids; after init and every
 * access the BARs hold what the host put there. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irq_remap/ir_table.h"
#include "pci/pci_regs.h"
#include "port.h"
#include "port/host/port_host.h"
#include "vmm_glue/core/core_glue.h"
#include "vmm_glue/dev/bm_passthrough.h"

#define CFG_GPA 0xb0018000ull
#define CMD_ALLOWED (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)
#define BAR_MAX 0x40000u

static uint8_t cfg[PCIE_CFG_SIZE], bar0_regs[24];
static uint64_t bar_size[PCI_NUM_BARS];
static uint16_t cmd0;
static struct {
	uint64_t gpa, size;
	struct core_mmio_ops ops;
} traps[CORE_MAX_MMIO];
static unsigned n_traps;

static void fail(const char *what, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "fuzz_bmpt_config: %s (0x%llx, 0x%llx)\n", what, a, b);
	abort();
}

/* --- the core's calls ---------------------------------------------------- */

int core_vm_map(struct core_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
	(void)vm, (void)gpa, (void)hpa, (void)size, (void)perms, (void)memtype;
	return 0;
}

int core_vm_trap_mmio(struct core_vm *vm, uint64_t gpa, uint64_t size, const struct core_mmio_ops *ops)
{
	if (vm->nr_mmio == CORE_MAX_MMIO)
		return -PORT_ENOSPC;
	traps[n_traps].gpa = gpa;
	traps[n_traps].size = size;
	traps[n_traps].ops = *ops;
	n_traps++;
	vm->nr_mmio++;
	return 0;
}

int core_vm_untrap_mmio(struct core_vm *vm, uint64_t gpa)
{
	for (unsigned i = n_traps; i-- > 0;)
		if (traps[i].size && traps[i].gpa == gpa) {
			traps[i].size = 0;
			vm->nr_mmio--;
			return 0;
		}
	return -PORT_ENOENT;
}

/* Whether a trap made above covers part of [gpa, gpa+size). */
bool core_vm_mmio_overlaps(const struct core_vm *vm, uint64_t gpa, uint64_t size)
{
	(void)vm;
	for (unsigned i = 0; i < n_traps; i++)
		if (traps[i].size && gpa < traps[i].gpa + traps[i].size && traps[i].gpa < gpa + size)
			return true;
	return false;
}

/* The rest of what core_glue calls (bm_passthrough's device side never
 * maps, unmaps or traps ports). */
int core_vm_unmap(struct core_vm *vm, uint64_t gpa, uint64_t size) { (void)vm, (void)gpa, (void)size; return 0; }
int core_vm_lookup(const struct core_vm *vm, uint64_t gpa, uint64_t *hpa, uint64_t *entry)
{
	(void)vm, (void)gpa, (void)hpa, (void)entry;
	return -PORT_ENOENT;
}
int core_vm_trap_pio(struct core_vm *vm, uint16_t port, unsigned count, const struct core_pio_ops *ops)
{
	(void)vm, (void)port, (void)count, (void)ops;
	return -PORT_ENOTSUP;
}
int core_vm_untrap_pio(struct core_vm *vm, uint16_t port) { (void)vm, (void)port; return -PORT_ENOENT; }
const struct ept *core_vm_table(const struct core_vm *vm) { return &vm->ept; }
void core_vm_flush(struct core_vm *vm) { ept_reclaim(&vm->ept); }

void core_vcpu_inject_irq(struct core_vcpu *v, uint8_t vector) { v->pending_irq = vector; }

/* --- the device ------------------------------------------------------------ */

static bool bar_is64(unsigned i) { return (bar0_regs[4 * i] & (PCI_BAR_IO | PCI_BAR_TYPE_MASK)) == PCI_BAR_TYPE_64; }
static bool bar_is_upper(unsigned i) { return i > 0 && bar_is64(i - 1) && !(i >= 2 && bar_is_upper(i - 1)); }

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Where memory BAR i sits (0: nowhere). */
static uint64_t bar_base(unsigned i)
{
	uint32_t lo = le32(cfg + PCI_BAR0 + 4 * i);
	if (!bar_size[i] || bar_is_upper(i) || (lo & PCI_BAR_IO))
		return 0;
	return (lo & PCI_BAR_MEM_MASK) | (bar_is64(i) && i < 5 ? (uint64_t)le32(cfg + PCI_BAR0 + 4 * i + 4) << 32 : 0);
}

static uint32_t cfg_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	if ((size != 1 && size != 2 && size != 4) || (off & (size - 1)) || off + size > PCIE_CFG_SIZE)
		fail("config read outside 4 KiB or misaligned", off, size);
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

/* BAR registers answer the sizing protocol (PCI 3.0 §6.2.5.1): address bits
 * below the size and the type bits are read-only. */
static void cfg_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	if ((size != 1 && size != 2 && size != 4) || (off & (size - 1)) || off + size > PCIE_CFG_SIZE)
		fail("config write outside 4 KiB or misaligned", off, size);
	/* bm_passthrough writes only the header (Command, BAR sizing) and the
	 * MSI / MSI-X capabilities, all in the 256-byte standard space. */
	if (off + size > PCI_CFG_SIZE)
		fail("config write past the capabilities' 256 bytes", off, size);
	uint16_t before = (uint16_t)(cfg[PCI_COMMAND] | cfg[PCI_COMMAND + 1] << 8);
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
		if (size != 4)
			return;
		unsigned i = (off - PCI_BAR0) / 4;
		if (bar_is_upper(i)) {
			uint64_t sz = bar_size[i - 1];
			val &= (uint32_t)(~(sz - 1) >> 32);
		} else if (!bar_size[i]) {
			val = 0;
		} else {
			uint32_t ro = bar0_regs[4 * i] & PCI_BAR_MEM_FLAGS;
			val = (val & (uint32_t)~(bar_size[i] - 1) & PCI_BAR_MEM_MASK) | ro;
		}
	}
	for (unsigned i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(val >> (8 * i));
	uint16_t after = (uint16_t)(cfg[PCI_COMMAND] | cfg[PCI_COMMAND + 1] << 8);
	if (after & ~before & ~cmd0 & ~CMD_ALLOWED)
		fail("a forbidden COMMAND bit reached the device", before, after);
}

static uint8_t bars[PCI_NUM_BARS][BAR_MAX];

static uint8_t *mmio_at(uint64_t pa, unsigned size)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t b = bar_base(i);
		if (b && pa >= b && pa - b + size <= bar_size[i] && pa - b + size <= BAR_MAX)
			return bars[i] + (pa - b);
	}
	fail("MMIO outside every BAR of the device", pa, size);
	return NULL;
}

static uint64_t mmio_read(void *ctx, uint64_t pa, unsigned size)
{
	(void)ctx;
	uint64_t v = 0;
	memcpy(&v, mmio_at(pa, size), size);
	return v;
}

static void mmio_write(void *ctx, uint64_t pa, uint64_t val, unsigned size)
{
	(void)ctx;
	memcpy(mmio_at(pa, size), &val, size);
}

static const struct port_host_mmio_ops mmio_ops = { mmio_read, mmio_write, NULL };

/* --- the guest ------------------------------------------------------------ */

static void guest_op(const uint8_t *op)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	unsigned kind = op[0] % 4, size = sizes[op[3] % 4], off = (unsigned)(op[1] | op[2] << 8);
	uint64_t val = le32(op + 4) | (uint64_t)le32(op + 4) << 32;
	if (kind < 2 || n_traps < 2) {   /* the config page */
		uint64_t gpa = CFG_GPA + ((off % PCIE_CFG_SIZE) & ~(size - 1));
		if (kind & 1)
			traps[0].ops.write(traps[0].ops.ctx, gpa, size, val);
		else
			traps[0].ops.read(traps[0].ops.ctx, gpa, size, &val);
		return;
	}
	/* The MSI-X table pages: any offset, any size; misaligned too. */
	uint64_t gpa = traps[1].gpa + off % traps[1].size;
	if (gpa + size > traps[1].gpa + traps[1].size)
		return;   /* the core's exit handler never crosses a trap */
	if (kind == 3)
		traps[1].ops.write(traps[1].ops.ctx, gpa, size, val);
	else
		traps[1].ops.read(traps[1].ops.ctx, gpa, size, &val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bmpt_dev dev;
	static struct ir_table table;
	static struct ir_vcpu irv[1];
	static struct ir_guest guest;
	static struct core_vcpu vcpu;
	static struct core_vcpu *vcpus[1] = { &vcpu };
	static struct core_glue cg;
	static uint8_t host_vectors[BMPT_MSIX_MAX];
	if (size < PCI_CFG_SIZE + 7)
		return 0;
	port_host_set_log_quiet(1);
	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg, data, PCI_CFG_SIZE);
	memcpy(bar0_regs, cfg + PCI_BAR0, sizeof(bar0_regs));
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		bar_size[i] = data[PCI_CFG_SIZE + i] & 0x80 ? 1ull << (4 + data[PCI_CFG_SIZE + i] % 15) : 0;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) /* what a BAR register can hold */
		if (bar_size[i] && !bar_is_upper(i) && !(bar0_regs[4 * i] & PCI_BAR_IO)) {
			uint32_t lo = le32(cfg + PCI_BAR0 + 4 * i) & ((uint32_t)~(bar_size[i] - 1) | PCI_BAR_MEM_FLAGS);
			memcpy(cfg + PCI_BAR0 + 4 * i, &lo, 4);
		}
	memcpy(bar0_regs, cfg + PCI_BAR0, sizeof(bar0_regs));
	cmd0 = (uint16_t)(cfg[PCI_COMMAND] | cfg[PCI_COMMAND + 1] << 8);
	unsigned flags = data[PCI_CFG_SIZE + 6];
	memset(traps, 0, sizeof(traps));
	n_traps = 0;
	port_host_set_mmio(&mmio_ops);

	struct core_vm vm = { 0 };
	struct bmpt_dev_cfg c = { .rid = 0x0018, .cfg = { cfg_read, cfg_write, NULL }, .virt_cfg_gpa = CFG_GPA };
	if (flags & 1)
		for (unsigned i = 0; i < PCI_NUM_BARS; i++)
			c.bar_size[i] = bar_size[i];
	bool ir = flags & 2;
	/* The core bm_passthrough reaches through glue.h: the real core_glue. */
	irv[0] = (struct ir_vcpu){ .virt_apic_id = 0, .host_apic_id = 2 };
	guest = (struct ir_guest){ .name = "fuzz", .vcpus = irv, .n_vcpus = 1 };
	vcpu = (struct core_vcpu){ .vm = &vm, .pending_irq = -1 };
	if (core_glue_init(&cg, &vm, &guest, vcpus))
		abort();
	if (ir) {
		if (ir_table_init(&table, 256, 0))
			abort();
		for (unsigned k = 0; k < BMPT_MSIX_MAX; k++)
			host_vectors[k] = (uint8_t)(0x40 + k);
		c.table = &table;
		c.guest = &guest;
		c.host_vector = 0x30;
		c.msix_host_vectors = host_vectors;
		c.n_msix_host_vectors = BMPT_MSIX_MAX;
	}
	if (bmpt_dev_init(&dev, &cg.glue, &c) == 0) {
		if (memcmp(cfg + PCI_BAR0, bar0_regs, sizeof(bar0_regs)))
			fail("init left the BARs changed", 0, 0);
		for (size_t at = PCI_CFG_SIZE + 7; at + 8 <= size; at += 8) {
			guest_op(data + at);
			if (memcmp(cfg + PCI_BAR0, bar0_regs, sizeof(bar0_regs)))
				fail("a guest access changed a BAR", at, 0);
			if (ir && (data[at] & 0x10))
				(void)bmpt_dev_host_irq(&dev, data[at + 4]);
		}
		bmpt_dev_fini(&dev);
	}
	if (ir) {
		if (table.n_used)
			fail("IRTEs outlived the device", table.n_used, 0);
		ir_table_fini(&table);
	}
	port_host_set_mmio(NULL);
	if (port_host_pages_in_use())
		fail("pages leaked", port_host_pages_in_use(), 0);
	return 0;
}
