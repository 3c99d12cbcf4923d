/*
 * env.c — the VT-d image's environment: variant, DRHD, edus, DMA and fault
 * helpers.  The DRHD is read from the ACPI DMAR (VT-d 8.1 DMAR header of
 * 48 bytes, then remapping structures: u16 type, u16 length; 8.3 DRHD type
 * 0 with the register base address at offset 8).
 */
#include "vtd_env.h"

#include "baremetal/acpi.h"
#include "baremetal/boot.h"
#include "baremetal/console.h"
#include "baremetal/libc.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "port.h"

static struct dmar_info dmar;

/* dmar_pci_probe_fn over the enumerated functions: a bridge's secondary
 * bus (PCI-to-PCI Bridge 1.2, 3.2.5.4), 0 for an endpoint, -1 for none. */
static int probe(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn)
{
	(void)ctx;
	for (unsigned i = 0; i < pci_count(); i++) {
		const struct pci_dev *d = pci_get(i);
		if (d->segment == segment && d->bus == bus && d->dev == dev && d->fn == fn)
			return d->header_type == 1 ? pci_read8(d, PCI_SECONDARY_BUS) : 0;
	}
	return -1;
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void env_init(struct env *v)
{
	char aw[8] = "", cm[8] = "", sm[8] = "off", fs[8] = "off";
	if (boot_cmdline_get("aw", aw, sizeof(aw)) || boot_cmdline_get("cm", cm, sizeof(cm)))
		tap_bail("no variant on the command line: run with --append \"aw=39|48 cm=on|off [sm=on] [fs=on]\"");
	boot_cmdline_get("sm", sm, sizeof(sm));
	boot_cmdline_get("fs", fs, sizeof(fs));
	v->aw = streq(aw, "39") ? 39 : streq(aw, "48") ? 48 : streq(aw, "57") ? 57 : 0;
	v->cm = streq(cm, "on");
	v->fs = streq(fs, "on");
	v->sm = streq(sm, "on") || v->fs;   /* first-stage tables exist in scalable mode only */
	v->fr_np_write = v->fs ? FR_FS_NOT_PRESENT : FR_WRITE;
	v->fr_np_read = v->fs ? FR_FS_NOT_PRESENT : FR_READ;
	v->fr_ro_write = v->fs ? FR_SM_WRITE : FR_WRITE;
	console_snprintf(v->name, sizeof(v->name), "aw%s cm=%s%s", aw, cm,
			 v->fs ? " sm fs" : v->sm ? " sm" : "");
	tap_set_prefix(v->name);
	if (!v->aw)
		tap_bail("variant aw=%s is not 39, 48 or 57", aw);

	if (edu_find(&v->e0, 0) || edu_find(&v->e1, 1))
		tap_bail("two edu devices needed: run with -device edu -device edu");
	v->sid0 = pci_rid(v->e0.pci);
	v->sid1 = pci_rid(v->e1.pci);

	const struct acpi_header *t = acpi_find("DMAR", 0);
	if (!t)
		tap_bail("no ACPI DMAR: run with -device intel-iommu");
	int r = dmar_parse(t, t->length, 0, &dmar);
	if (r)
		tap_bail("dmar_parse of the %u-byte DMAR failed (%d)", t->length, r);
	v->dmar = &dmar;
	v->drhd0 = dmar_drhd_for_device(&dmar, 0, v->sid0, probe, NULL);
	v->drhd1 = dmar_drhd_for_device(&dmar, 0, v->sid1, probe, NULL);
	if (v->drhd0 < 0)
		tap_bail("no DRHD remaps edu0 (%d)", v->drhd0);
	v->drhd_base = dmar.drhd[v->drhd0].reg_base;
}

int env_unit_up(struct env *v, unsigned flags)
{
	int r = vtd_unit_init(&v->u, v->drhd_base, flags);
	return r ? r : vtd_unit_enable(&v->u);
}

void env_unit_down(struct env *v) { vtd_unit_fini(&v->u); }

uint32_t reg32(const struct env *v, uint32_t off) { return port_mmio_read32(v->drhd_base + off); }
uint64_t reg64(const struct env *v, uint32_t off) { return port_mmio_read64(v->drhd_base + off); }

uint64_t pa(const void *p) { return port_virt_to_phys(p); }

void pattern_fill(void *p, uint64_t len, uint32_t seed)
{
	uint32_t *w = p;
	for (uint64_t i = 0; i < len / 4; i++)
		w[i] = seed ^ (uint32_t)(i * 0x9e3779b9u);
}

bool pattern_check(const void *p, uint64_t len, uint32_t seed)
{
	const uint32_t *w = p;
	for (uint64_t i = 0; i < len / 4; i++)
		if (w[i] != (seed ^ (uint32_t)(i * 0x9e3779b9u)))
			return false;
	return true;
}

void *page_fill(uint32_t seed)
{
	void *p = mem_page_alloc();
	if (!p)
		tap_bail("page pool exhausted");
	pattern_fill(p, PAGE_SZ, seed);
	return p;
}

int dev_read(struct edu *e, uint64_t src) { return edu_dma_read_sync(e, src, 0, EDU_BUF_SIZE); }
int dev_write(struct edu *e, uint64_t dst) { return edu_dma_write_sync(e, dst, 0, EDU_BUF_SIZE); }

int dev_copy(struct edu *e, uint64_t src, uint64_t sink)
{
	int r = dev_read(e, src);
	return r ? r : dev_write(e, sink);
}

int faults_take(struct vtd_unit *u, struct vtd_fault *first)
{
	struct vtd_fault f[8];
	bool overflow = false;
	int n = vtd_fault_collect(u, f, 8, &overflow);
	for (int i = 0; i < n; i++)
		tap_diag("fault record %u: sid %02x:%02x.%u %s addr 0x%llx reason 0x%x (%s)", f[i].index, f[i].sid >> 8,
			 (f[i].sid >> 3) & 31, f[i].sid & 7, f[i].write ? "write" : "read", (unsigned long long)f[i].addr,
			 f[i].reason, vtd_fault_reason_name(f[i].reason));
	if (overflow)
		tap_diag("fault: primary fault overflow (FSTS.PFO) was set");
	if (n > 0 && first)
		*first = f[0];
	return n;
}

bool fault_is(struct vtd_unit *u, uint16_t sid, uint64_t iova, bool write, uint8_t reason, char *why,
	      unsigned why_len)
{
	struct vtd_fault f = {0};
	int n = faults_take(u, &f);
	uint32_t fsts = port_mmio_read32(u->reg_base + VTD_REG_FSTS);
	console_snprintf(why, why_len, "%d fault(s); sid %02x:%02x.%u addr 0x%llx %s reason 0x%x; FSTS after 0x%x", n,
			 f.sid >> 8, (f.sid >> 3) & 31, f.sid & 7, (unsigned long long)f.addr, f.write ? "write" : "read",
			 f.reason, fsts);
	return n == 1 && f.sid == sid && f.addr == (iova & ~(PAGE_SZ - 1)) && f.write == write && f.reason == reason &&
	       !f.irq && !(fsts & VTD_FSTS_PPF);
}

uint64_t *slpt_leaf(const struct vtd_domain *d, uint64_t iova, unsigned *level)
{
	uint64_t *t = d->top;
	for (unsigned l = d->levels; l >= 1; l--) {
		uint64_t *e = &t[(iova >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & (VTD_SLPTE_R | VTD_SLPTE_W)))
			return NULL;
		if (l == 1 || (*e & VTD_SLPTE_PS)) {
			*level = l;
			return e;
		}
		t = port_phys_to_virt(*e & VTD_SLPTE_ADDR_MASK);
	}
	return NULL;
}
