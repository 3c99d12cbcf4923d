/* pci/pci_cap: the one capability walker — standard and extended lists,
 * loops, pointers into the header, all-ones headers, the end of the space;
 * every read it makes stays inside the size it was given. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pci/pci_cap.h"
#include "port.h"

static uint8_t space[PCIE_CFG_SIZE];
static unsigned reads, bad_reads;

static uint32_t rd(void *ctx, unsigned off, unsigned size)
{
	const struct pci_cfg_acc *self = ctx;
	reads++;
	if (off + size > self->size || (off & (size - 1)) || (size != 1 && size != 2 && size != 4)) {
		bad_reads++;
		return 0xffffffffu;
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)space[off + i] << (8 * i);
	return v;
}

static struct pci_cfg_acc acc;

static int setup(void **state)
{
	(void)state;
	memset(space, 0, sizeof(space));
	acc = (struct pci_cfg_acc){ rd, &acc, PCI_CFG_SIZE };
	reads = bad_reads = 0;
	space[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(bad_reads, 0);
	return 0;
}

static void cap(unsigned at, unsigned id, unsigned next)
{
	space[at] = (uint8_t)id;
	space[at + 1] = (uint8_t)next;
}

static void ext(unsigned at, unsigned id, unsigned ver, unsigned next)
{
	uint32_t h = id | ver << 16 | next << 20;
	memcpy(space + at, &h, 4);
}

/* Count a walk; each entry's offset into offs. */
static unsigned walk(bool is_ext, unsigned *offs, unsigned max, int *err)
{
	struct pci_cap_iter it;
	struct pci_cap c;
	unsigned n = 0;
	for (pci_cap_iter_init(&it, &acc, is_ext); pci_cap_next(&it, &c); n++) {
		if (n < max)
			offs[n] = c.off;
		assert_true(c.off + 4 <= (is_ext ? acc.size : PCI_CFG_SIZE));
		assert_int_equal(c.room, (is_ext ? acc.size : PCI_CFG_SIZE) - c.off);
	}
	*err = it.err;
	return n;
}

static void standard_list_in_order_with_low_bits_ignored(void **state)
{
	(void)state;
	unsigned offs[8];
	int err;
	space[PCI_CAP_PTR] = 0x43;                /* bits 1:0 reserved (§6.7) */
	cap(0x40, PCI_CAP_ID_PM, 0x52);
	cap(0x50, PCI_CAP_ID_MSI, 0xfc);
	cap(0xfc, PCI_CAP_ID_MSIX, 0);
	assert_int_equal(walk(false, offs, 8, &err), 3);
	assert_int_equal(err, 0);
	assert_int_equal(offs[0], 0x40);
	assert_int_equal(offs[1], 0x50);
	assert_int_equal(offs[2], 0xfc);
	struct pci_cap c;
	assert_int_equal(pci_cap_find(&acc, PCI_CAP_ID_MSIX, &c), 0);
	assert_int_equal(c.off, 0xfc);
	assert_int_equal(c.room, 4);
	assert_int_equal(pci_cap_find(&acc, PCI_CAP_ID_PCIE, &c), -PORT_ENOENT);
	/* Without Status.Capabilities List the pointer means nothing. */
	space[PCI_STATUS] = 0;
	assert_int_equal(pci_cap_find(&acc, PCI_CAP_ID_PM, &c), -PORT_ENOENT);
}

static void standard_loops_and_bad_pointers_stop_the_walk(void **state)
{
	(void)state;
	unsigned offs[64];
	int err;
	space[PCI_CAP_PTR] = 0x40;
	cap(0x40, PCI_CAP_ID_PM, 0x50);
	cap(0x50, PCI_CAP_ID_MSI, 0x40);          /* back to the first */
	assert_int_equal(walk(false, offs, 64, &err), 2);
	assert_int_equal(err, -PORT_EIO);
	struct pci_cap c;
	assert_int_equal(pci_cap_find(&acc, PCI_CAP_ID_MSIX, &c), -PORT_EIO);
	assert_int_equal(pci_cap_find(&acc, PCI_CAP_ID_MSI, &c), 0); /* found before the loop */
	cap(0x50, PCI_CAP_ID_MSI, 0x50);          /* onto itself */
	assert_int_equal(walk(false, offs, 64, &err), 2);
	assert_int_equal(err, -PORT_EIO);
	cap(0x50, PCI_CAP_ID_MSI, 0x20);          /* into the header */
	assert_int_equal(walk(false, offs, 64, &err), 2);
	assert_int_equal(err, -PORT_EIO);
	space[PCI_CAP_PTR] = 0x10;
	assert_int_equal(walk(false, offs, 64, &err), 0);
	assert_int_equal(err, -PORT_EIO);
	/* The longest list there can be: every dword from 0x40 to 0xfc, then
	 * a loop — 48 entries, no more. */
	space[PCI_CAP_PTR] = 0x40;
	for (unsigned at = 0x40; at <= 0xfc; at += 4)
		cap(at, 0x09, at == 0xfc ? 0x40 : at + 4);
	assert_int_equal(walk(false, offs, 64, &err), PCI_CAP_MAX_ENTRIES);
	assert_int_equal(err, -PORT_EIO);
	/* A space below 256 bytes is not walked; no accessor, no walk. */
	acc.size = 64;
	assert_int_equal(pci_cap_find(&acc, 0x09, &c), -PORT_EINVAL);
	assert_int_equal(pci_cap_find(NULL, 0x09, &c), -PORT_EINVAL);
}

static void extended_list_found_and_bounded(void **state)
{
	(void)state;
	unsigned offs[1024];
	int err;
	struct pci_cap c;
	ext(0x100, PCI_EXT_CAP_ID_AER, 2, 0x148);
	ext(0x148, PCI_EXT_CAP_ID_ARI, 1, 0x160);
	ext(0x160, PCI_EXT_CAP_ID_SRIOV, 1, 0);
	/* In a 256-byte space there is no extended list. */
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_SRIOV, &c), -PORT_ENOENT);
	acc.size = PCIE_CFG_SIZE;
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_SRIOV, &c), 0);
	assert_int_equal(c.off, 0x160);
	assert_int_equal(c.version, 1);
	assert_int_equal(c.room, PCIE_CFG_SIZE - 0x160);
	assert_int_equal(walk(true, offs, 1024, &err), 3);
	assert_int_equal(err, 0);
	/* A loop; a pointer below 0x100; an all-ones header (no function). */
	ext(0x160, PCI_EXT_CAP_ID_SRIOV, 1, 0x100);
	assert_int_equal(walk(true, offs, 1024, &err), 3);
	assert_int_equal(err, -PORT_EIO);
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_ACS, &c), -PORT_EIO);
	ext(0x160, PCI_EXT_CAP_ID_SRIOV, 1, 0x0fc >> 0);
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_ACS, &c), -PORT_EIO);
	memset(space + 0x100, 0xff, 4);
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_AER, &c), -PORT_EIO);
	/* A header of zero: none. */
	memset(space + 0x100, 0, 4);
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_AER, &c), -PORT_ENOENT);
	/* The last dword of the space is a header like any other. */
	ext(0x100, PCI_EXT_CAP_ID_AER, 1, 0xffc);
	ext(0xffc, PCI_EXT_CAP_ID_ACS, 1, 0);
	assert_int_equal(pci_ext_cap_find(&acc, PCI_EXT_CAP_ID_ACS, &c), 0);
	assert_int_equal(c.room, 4);
	/* Every dword a header, chained, then a loop: 960 entries, no more. */
	for (unsigned at = 0x100; at <= 0xffc; at += 4)
		ext(at, 0x0b, 0, at == 0xffc ? 0x100 : at + 4);
	assert_int_equal(walk(true, offs, 1024, &err), PCI_EXT_CAP_MAX_ENTRIES);
	assert_int_equal(err, -PORT_EIO);
}

static void msi_length_from_message_control(void **state)
{
	(void)state;
	assert_int_equal(pci_msi_cap_len(0), 10);
	assert_int_equal(pci_msi_cap_len(PCI_MSI_CTRL_64), 14);
	assert_int_equal(pci_msi_cap_len(PCI_MSI_CTRL_PVM), 20);
	assert_int_equal(pci_msi_cap_len(PCI_MSI_CTRL_64 | PCI_MSI_CTRL_PVM), PCI_MSI_CAP_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(standard_list_in_order_with_low_bits_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(standard_loops_and_bad_pointers_stop_the_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(extended_list_found_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(msi_length_from_message_control, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
