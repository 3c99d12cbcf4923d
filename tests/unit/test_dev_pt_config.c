/* The config virtualizer (vmm_glue/dev/pt_config) in the two configurations
 * the passthrough models give it — hosted (a virtual header, PCIe registers
 * live) and bare metal (every byte live) — over one modelled device: the
 * COMMAND filter reaches the device the same way in both, the MSI and
 * MSI-X registers are the state machine's in both, what a write touched is
 * answered the same, and live bytes are the device's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "port.h"
#include "vmm_glue/dev/pt_config.h"

static uint8_t dev_cfg[PCI_CFG_SIZE];   /* the device's config space */
static unsigned dev_writes;

static uint32_t phys_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)dev_cfg[off + i] << (8 * i);
	return v;
}

static void phys_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	dev_writes++;
	for (unsigned i = 0; i < size; i++)
		dev_cfg[off + i] = (uint8_t)(val >> (8 * i));
}

static int r_add(void *c, unsigned k, const struct msi_msg *m, bool masked) { (void)c, (void)k, (void)m, (void)masked; return 0; }
static void r_del(void *c, unsigned k) { (void)c, (void)k; }
static int r_enable(void *c, unsigned n, bool on) { (void)c, (void)n, (void)on; return 0; }
static const struct msi_route_ops route = { r_add, r_add, r_del, r_enable, NULL };

#define MSI_CAP 0x50
#define MSIX_CAP 0x70
#define PCIE_CAP 0x80

static struct pt_config c;
static struct msi_state msi;
static struct msix_state msix;

/* A device with COMMAND 0x0100 (SERR), a BAR0, MSI at 0x50 (64-bit) and
 * MSI-X at 0x70 (4 entries); hosted: header virtual with COMMAND's guest
 * bits and BAR0 writable, the PCIe capability live. */
static void bring_up(bool hosted)
{
	memset(dev_cfg, 0, sizeof(dev_cfg));
	dev_cfg[PCI_COMMAND + 1] = 0x01;
	dev_cfg[PCI_BAR0] = 0x0c;
	dev_cfg[MSI_CAP] = PCI_CAP_ID_MSI, dev_cfg[MSI_CAP + 2] = PCI_MSI_CTRL_64;
	dev_cfg[MSIX_CAP] = PCI_CAP_ID_MSIX, dev_cfg[MSIX_CAP + 2] = 3;
	dev_cfg[PCIE_CAP + 8] = 0x5a;
	const struct pt_config_phys phys = { phys_read, phys_write, NULL };
	pt_config_init(&c, &phys, hosted ? 0 : PT_CFG_LIVE_RD);
	if (hosted) {
		memcpy(c.virt, dev_cfg, sizeof(dev_cfg));
		c.wmask[PCI_COMMAND] = (uint8_t)PT_CFG_COMMAND_GUEST;
		c.wmask[PCI_COMMAND + 1] = (uint8_t)(PT_CFG_COMMAND_GUEST >> 8);
		memset(c.wmask + PCI_BAR0 + 1, 0xff, 3);
		memset(c.live + PCIE_CAP + 2, PT_CFG_LIVE_RD | PT_CFG_LIVE_WR, 0x10);
	}
	assert_int_equal(msi_state_init(&msi, PCI_MSI_CTRL_64, 1, &route, NULL), 0);
	assert_int_equal(msix_state_init(&msix, 4, &route, NULL), 0);
	pt_config_set_msi(&c, MSI_CAP, &msi);
	pt_config_set_msix(&c, MSIX_CAP, &msix);
	dev_writes = 0;
}

static void same_in_both(bool hosted)
{
	bring_up(hosted);
	/* COMMAND: only memory, master, INTx disable reach the device; its
	 * other bits stay. */
	assert_int_equal(pt_config_write(&c, PCI_COMMAND, 2, 0xffff), PT_CFG_W_COMMAND | PT_CFG_W_MEMORY_ON);
	assert_int_equal(phys_read(NULL, PCI_COMMAND, 2), 0x0100 | PT_CFG_COMMAND_GUEST);
	assert_int_equal(pt_config_read(&c, PCI_COMMAND, 2) & PT_CFG_COMMAND_GUEST, PT_CFG_COMMAND_GUEST);
	/* memory already on: not "turned on" again */
	assert_int_equal(pt_config_write(&c, PCI_COMMAND, 1, 0x07), PT_CFG_W_COMMAND);
	/* one byte of COMMAND's high half: INTx disable cleared, the low half's
	 * guest bits and the device's SERR stay */
	assert_int_equal(pt_config_write(&c, PCI_COMMAND + 1, 1, 0x00), PT_CFG_W_COMMAND);
	assert_int_equal(phys_read(NULL, PCI_COMMAND, 2), 0x0100 | (PT_CFG_COMMAND_GUEST & 0xff));
	/* a BAR write is answered; MSI and MSI-X registers are the state
	 * machine's, never the device's */
	assert_int_equal(pt_config_write(&c, PCI_BAR0 + 4, 4, 0), PT_CFG_W_BAR(1));
	unsigned w = dev_writes;
	assert_int_equal(pt_config_write(&c, MSI_CAP, 4, 0xffffffffu), PT_CFG_W_MSI);
	assert_int_equal(pt_config_read(&c, MSI_CAP + 2, 2), PCI_MSI_CTRL_64 | PCI_MSI_CTRL_EN);
	assert_true(msi.on);
	assert_int_equal(pt_config_write(&c, MSIX_CAP + 2, 2, PCI_MSIX_CTRL_EN | 0x7ff), PT_CFG_W_MSIX);
	assert_int_equal(pt_config_read(&c, MSIX_CAP + 2, 2), PCI_MSIX_CTRL_EN | 3);
	assert_true(msix.on);
	assert_int_equal(dev_writes, w);
	assert_int_equal(dev_cfg[MSI_CAP + 2], PCI_MSI_CTRL_64);   /* the device's MSI untouched */
	/* outside the config space: nothing */
	assert_int_equal(pt_config_write(&c, PCI_CFG_SIZE - 2, 4, 0), 0);
	assert_int_equal(dev_writes, w);
}

static void hosted_configuration(void **state)
{
	(void)state;
	same_in_both(true);
	/* the header is virtual: BAR0 reads the guest's value, the device's
	 * stays; the PCIe registers are live, read and written */
	pt_config_write(&c, PCI_BAR0, 4, 0xfebc0000u);
	assert_int_equal(pt_config_read(&c, PCI_BAR0, 4), 0xfebc000cu);
	assert_int_equal(dev_cfg[PCI_BAR0 + 3], 0);
	assert_int_equal(pt_config_read(&c, PCIE_CAP + 8, 1), 0x5a);
	assert_int_equal(pt_config_write(&c, PCIE_CAP + 8, 2, 0x1234), 0);
	assert_int_equal(phys_read(NULL, PCIE_CAP + 8, 2), 0x1234);
}

static void bare_metal_configuration(void **state)
{
	(void)state;
	same_in_both(false);
	/* every byte but MSI/MSI-X is the device's, and no write but COMMAND's
	 * reaches it */
	dev_cfg[0x40] = 0x77;
	assert_int_equal(pt_config_read(&c, 0x40, 1), 0x77);
	unsigned w = dev_writes;
	assert_int_equal(pt_config_write(&c, PCI_BAR0, 4, 0xffffffffu), PT_CFG_W_BAR(0));
	assert_int_equal(pt_config_write(&c, 0x40, 4, 0), 0);
	assert_int_equal(dev_writes, w);
	assert_int_equal(pt_config_read(&c, PCI_BAR0, 4), 0x0c);
	assert_int_equal(pt_config_read(&c, 0x40, 1), 0x77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hosted_configuration),
		cmocka_unit_test(bare_metal_configuration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
