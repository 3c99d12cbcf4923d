/*
 * pci_cap.c — the capability walker.  See pci_cap.h.
 */
#include "pci/pci_cap.h"

#include "port.h"

static bool usable(const struct pci_cfg_acc *cfg)
{
	return cfg && cfg->read && cfg->size >= PCI_CFG_SIZE;
}

void pci_cap_iter_init(struct pci_cap_iter *it, const struct pci_cfg_acc *cfg, bool ext)
{
	*it = (struct pci_cap_iter){ .cfg = cfg, .ext = ext };
	if (!usable(cfg))
		return;
	if (ext) {
		if (cfg->size >= PCIE_CFG_SIZE)
			it->next = PCI_EXT_CAP_START;
		return;
	}
	/* The pointer is valid only with Status.Capabilities List (§6.2.3). */
	if (cfg->read(cfg->ctx, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)
		it->next = cfg->read(cfg->ctx, PCI_CAP_PTR, 1) & 0xfcu;
	if (it->next && it->next < PCI_HEADER_SIZE) {
		it->err = -PORT_EIO;
		it->next = 0;
	}
}

/* Mark the dword at `off` visited; false when it was already (a loop). */
static bool first_visit(struct pci_cap_iter *it, unsigned off)
{
	unsigned dw = off / 4;
	uint64_t bit = 1ull << (dw % 64);
	if (it->seen[dw / 64] & bit)
		return false;
	it->seen[dw / 64] |= bit;
	return true;
}

static bool stop(struct pci_cap_iter *it, int err)
{
	it->err = err;
	it->next = 0;
	return false;
}

bool pci_cap_next(struct pci_cap_iter *it, struct pci_cap *cap)
{
	unsigned at = it->next;
	if (!at || !usable(it->cfg))
		return false;
	const struct pci_cfg_acc *cfg = it->cfg;
	if (!first_visit(it, at))
		return stop(it, -PORT_EIO);
	if (!it->ext) {
		/* at is dword aligned in [0x40, 0xfc]: ID and next are inside. */
		uint32_t hdr = cfg->read(cfg->ctx, at, 2);
		*cap = (struct pci_cap){ .id = hdr & 0xffu, .off = at, .room = PCI_CFG_SIZE - at };
		unsigned next = (hdr >> 8) & 0xfcu;
		if (next && next < PCI_HEADER_SIZE)
			it->err = -PORT_EIO; /* this entry stands; the list ends here */
		it->next = next >= PCI_HEADER_SIZE ? next : 0;
		return true;
	}
	/* at is dword aligned in [0x100, 0xffc] and the space is 4 KiB. */
	uint32_t hdr = cfg->read(cfg->ctx, at, 4);
	/* All ones: no function there; zero: no (more) extended capabilities
	 * (conventional PCI, or config space without the ECAM window). */
	if (hdr == 0xffffffffu)
		return stop(it, -PORT_EIO);
	if (hdr == 0)
		return stop(it, 0);
	*cap = (struct pci_cap){ .id = PCI_EXT_CAP_ID(hdr), .off = at, .version = PCI_EXT_CAP_VER(hdr),
				 .room = cfg->size - at };
	unsigned next = PCI_EXT_CAP_NEXT(hdr);
	if (next && next < PCI_EXT_CAP_START)
		it->err = -PORT_EIO;
	it->next = next >= PCI_EXT_CAP_START ? next : 0;
	return true;
}

static int find(const struct pci_cfg_acc *cfg, bool ext, unsigned id, struct pci_cap *cap)
{
	if (!usable(cfg) || !cap)
		return -PORT_EINVAL;
	struct pci_cap_iter it;
	struct pci_cap c;
	for (pci_cap_iter_init(&it, cfg, ext); pci_cap_next(&it, &c);)
		if (c.id == id) {
			*cap = c;
			return 0;
		}
	return it.err ? it.err : -PORT_ENOENT;
}

int pci_cap_find(const struct pci_cfg_acc *cfg, unsigned id, struct pci_cap *cap)
{
	return find(cfg, false, id, cap);
}

int pci_ext_cap_find(const struct pci_cfg_acc *cfg, unsigned id, struct pci_cap *cap)
{
	return find(cfg, true, id, cap);
}

unsigned pci_msi_cap_len(uint16_t ctrl)
{
	return 10u + ((ctrl & PCI_MSI_CTRL_64) ? 4u : 0u) + ((ctrl & PCI_MSI_CTRL_PVM) ? 10u : 0u);
}
