/*
 * pt_config.c — the config-space virtualizer (see pt_config.h).
 * Register facts: PCI Local Bus 3.0 §6.1 (type 0 header), §6.2.2
 * (COMMAND), §6.2.5 (BARs), §6.8.1 (MSI), §6.8.2.3 (MSI-X Message Control).
 */
#include "vmm_glue/dev/pt_config.h"

static bool in_msi(const struct pt_config *c, unsigned b);
static bool in_msix_ctrl(const struct pt_config *c, unsigned b);
static bool overlaps(unsigned off, unsigned size, unsigned at, unsigned len);

void pt_config_init(struct pt_config *c, const struct pt_config_phys *phys, uint8_t live)
{
	*c = (struct pt_config){ .phys = *phys };
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
		c->live[i] = live;
}

void pt_config_set_msi(struct pt_config *c, unsigned cap, struct msi_state *st)
{
	c->msi_cap = cap;
	c->msi = st;
}

void pt_config_set_msix(struct pt_config *c, unsigned cap, struct msix_state *st)
{
	c->msix_cap = cap;
	c->msix = st;
}

uint32_t pt_config_read(const struct pt_config *c, unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++) {
		unsigned b = off + i;
		uint32_t byte;
		if (in_msi(c, b))
			byte = msi_state_read(c->msi, b - c->msi_cap, 1);
		else if (in_msix_ctrl(c, b))
			byte = (uint32_t)msix_state_ctrl(c->msix) >> (8 * (b - c->msix_cap - PCI_MSIX_CTRL));
		else if (c->live[b] & PT_CFG_LIVE_RD)
			byte = c->phys.read(c->phys.ctx, b, 1);
		else
			byte = c->virt[b];
		v |= (byte & 0xffu) << (8 * i);
	}
	return v;
}

unsigned pt_config_write(struct pt_config *c, unsigned off, unsigned size, uint32_t val)
{
	unsigned touched = 0;
	if (off >= PCI_CFG_SIZE || size == 0 || size > 4 || off + size > PCI_CFG_SIZE)
		return 0;
	/* Above the header, an access wholly on live bytes goes to the device
	 * (the header, COMMAND above all, never does). */
	bool through = off >= PCI_HEADER_SIZE;
	for (unsigned i = 0; i < size; i++)
		through &= (c->live[off + i] & PT_CFG_LIVE_WR) && !in_msi(c, off + i) && !in_msix_ctrl(c, off + i);
	if (through) {
		c->phys.write(c->phys.ctx, off, size, val);
		return 0;
	}
	unsigned msi_lo = PCI_CFG_SIZE, msi_hi = 0;
	uint16_t msix_ctrl = c->msix ? msix_state_ctrl(c->msix) : 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned b = off + i;
		uint8_t byte = (uint8_t)(val >> (8 * i)), m = c->wmask[b];
		if (in_msi(c, b)) {
			msi_lo = b < msi_lo ? b : msi_lo;
			msi_hi = b + 1;
			continue;
		}
		if (in_msix_ctrl(c, b)) {
			unsigned sh = 8 * (b - c->msix_cap - PCI_MSIX_CTRL);
			msix_ctrl = (uint16_t)((msix_ctrl & ~(0xffu << sh)) | (uint32_t)byte << sh);
			touched |= PT_CFG_W_MSIX;
			continue;
		}
		c->virt[b] = (uint8_t)((c->virt[b] & ~m) | (byte & m));
	}
	if (msi_hi) {
		int rc = msi_state_write(c->msi, msi_lo - c->msi_cap, msi_hi - msi_lo, val >> (8 * (msi_lo - off)));
		c->last_error = rc ? rc : c->last_error;
		touched |= PT_CFG_W_MSI;
	}
	if (touched & PT_CFG_W_MSIX) {
		int rc = msix_state_ctrl_write(c->msix, msix_ctrl);
		c->last_error = rc ? rc : c->last_error;
	}
	if (overlaps(off, size, PCI_COMMAND, 2)) {
		/* The guest's bits of the bytes it wrote, into the device's COMMAND. */
		uint32_t bytes = 0, wr = 0;
		for (unsigned i = 0; i < size; i++)
			if (off + i == PCI_COMMAND || off + i == PCI_COMMAND + 1) {
				unsigned sh = 8 * (off + i - PCI_COMMAND);
				bytes |= 0xffu << sh;
				wr |= ((val >> (8 * i)) & 0xffu) << sh;
			}
		uint32_t own = PT_CFG_COMMAND_GUEST & bytes;
		uint32_t cur = c->phys.read(c->phys.ctx, PCI_COMMAND, 2), next = (cur & ~own) | (wr & own);
		touched |= PT_CFG_W_COMMAND;
		if (cur == 0xffffu)
			return touched;   /* all ones: the read failed or nothing answers (§6.1) */
		c->phys.write(c->phys.ctx, PCI_COMMAND, 2, next);
		if (!(cur & PCI_COMMAND_MEMORY) && (next & PCI_COMMAND_MEMORY))
			touched |= PT_CFG_W_MEMORY_ON;
	}
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (overlaps(off, size, PCI_BAR0 + 4 * i, 4))
			touched |= PT_CFG_W_BAR(i);
	return touched;
}

/* The MSI registers the state machine owns: Message Control to the end. */
static bool in_msi(const struct pt_config *c, unsigned b)
{
	return c->msi && b >= c->msi_cap + PCI_MSI_CTRL && b < c->msi_cap + c->msi->len;
}

static bool in_msix_ctrl(const struct pt_config *c, unsigned b)
{
	return c->msix && b >= c->msix_cap + PCI_MSIX_CTRL && b < c->msix_cap + PCI_MSIX_CTRL + 2;
}

static bool overlaps(unsigned off, unsigned size, unsigned at, unsigned len)
{
	return off < at + len && at < off + size;
}
