/*
 * smoke.c — the platform works: boot info, ACPI tables, PCI enumeration,
 * a self-IPI through the LAPIC, edu DMA with no IOMMU translation enabled,
 * and an edu MSI delivered to our vector.
 *
 * QEMU: -device intel-iommu,intremap=on -device edu [-device edu]
 */
#include "baremetal/acpi.h"
#include "baremetal/boot.h"
#include "baremetal/clock.h"
#include "baremetal/edu.h"
#include "baremetal/idt.h"
#include "baremetal/lapic.h"
#include "baremetal/libc.h"
#include "baremetal/mem.h"
#include "baremetal/pci.h"
#include "baremetal/tap.h"
#include "port.h"

#define VEC_IPI 0x40
#define VEC_EDU 0x41
#define MS (1000ull * 1000)

static void fill(uint8_t *p, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_boot_and_tables(void)
{
	const struct boot_info *bi = boot_info();
	uint64_t ram = 0;
	for (unsigned i = 0; i < bi->nr_memmap; i++)
		if (bi->memmap[i].type == BOOT_MEM_RAM)
			ram += bi->memmap[i].size;
	tap_ok(bi->nr_memmap > 0 && ram > (64ull << 20), "PVH memory map: %u ranges, %llu MiB RAM", bi->nr_memmap,
	       (unsigned long long)(ram >> 20));
	tap_ok(bi->rsdp_pa != 0, "PVH start info names the RSDP (0x%llx)", (unsigned long long)bi->rsdp_pa);

	uint64_t t0 = clock_ns();
	clock_delay_us(10000);
	uint64_t dt = clock_ns() - t0;
	tap_ok(clock_tsc_hz() > 100000000ull && dt >= 10 * MS && dt < 1000 * MS, "clock: TSC %llu Hz, a 10 ms delay measured %llu us",
	       (unsigned long long)clock_tsc_hz(), (unsigned long long)(dt / 1000));

	const struct acpi_header *dmar = acpi_find("DMAR", 0);
	tap_ok(dmar && dmar->length > 48, "ACPI DMAR found (%u bytes, checksum verified)", dmar ? dmar->length : 0);
	uint64_t ecam = 0;
	uint8_t lo = 0, hi = 0;
	int r = acpi_mcfg(0, &ecam, &lo, &hi);
	tap_ok(r == 0 && ecam != 0, "ACPI MCFG: ECAM at 0x%llx, buses %u-%u",
	       (unsigned long long)ecam, lo, hi);
}

static void test_pci(void)
{
	const struct pci_dev *host = pci_find(0x8086, 0x29c0, 0); /* q35 host bridge */
	tap_ok(host && host->bus == 0 && host->dev == 0, "PCI over ECAM: %u functions, q35 host bridge 8086:29c0 at 00:00.0",
	       pci_count());
	for (unsigned i = 0; i < pci_count(); i++) {
		const struct pci_dev *d = pci_get(i);
		tap_diag("pci %02x:%02x.%u %04x:%04x class %06x", d->bus, d->dev, d->fn, d->vendor, d->device,
			 d->class_rev >> 8);
	}
}

static void test_self_ipi(void)
{
	idt_reset_count(VEC_IPI);
	lapic_self_ipi(VEC_IPI);
	int r = idt_wait_count(VEC_IPI, 1, 100 * MS);
	tap_ok(r == 0 && idt_count(VEC_IPI) == 1, "LAPIC (APIC ID %u, %s): self-IPI on vector 0x%x delivered once",
	       lapic_id(), lapic_x2apic() ? "x2APIC" : "xAPIC", VEC_IPI);
}

static void test_edu_dma(struct edu *e)
{
	uint8_t *src = mem_page_alloc();
	uint8_t *dst = mem_page_alloc();
	if (!src || !dst)
		tap_bail("page pool empty");
	fill(src, 4096, 0x5a);
	for (int i = 0; i < 4096; i++)
		dst[i] = 0xee;
	int r1 = edu_dma_read_sync(e, port_virt_to_phys(src), 0, 4096);
	int r2 = edu_dma_write_sync(e, port_virt_to_phys(dst), 0, 4096);
	tap_ok(r1 == 0 && r2 == 0 && memcmp(src, dst, 4096) == 0,
	       "edu DMA with translation off: RAM 0x%llx -> device -> RAM 0x%llx copies 4096 bytes",
	       (unsigned long long)port_virt_to_phys(src), (unsigned long long)port_virt_to_phys(dst));
	mem_page_free(src);
	mem_page_free(dst);
}

static void test_edu_msi(struct edu *e)
{
	idt_reset_count(VEC_EDU);
	int r = edu_msi_enable(e, edu_msi_compat_addr((uint8_t)lapic_id()), edu_msi_compat_data(VEC_EDU));
	edu_irq_raise(e, 0x1);
	int w = r ? r : idt_wait_count(VEC_EDU, 1, 500 * MS);
	uint32_t st = edu_irq_status(e);
	edu_irq_ack(e, 0x1);
	tap_ok(w == 0 && idt_count(VEC_EDU) == 1 && (st & 1), "edu MSI (IR off) arrives on vector 0x%x (status 0x%x)",
	       VEC_EDU, st);

	/* A DMA completion interrupt too. */
	uint8_t *buf = mem_page_alloc();
	idt_reset_count(VEC_EDU);
	int d = edu_dma_write(e, port_virt_to_phys(buf), 0, 64, true);
	w = d ? d : idt_wait_count(VEC_EDU, 1, EDU_DMA_TIMEOUT_NS);
	st = edu_irq_status(e);
	edu_irq_ack(e, EDU_IRQ_DMA);
	tap_ok(w == 0 && (st & EDU_IRQ_DMA), "edu DMA-completion MSI arrives (status 0x%x)", st);
	edu_msi_disable(e);
	mem_page_free(buf);
}

void test_main(void)
{
	tap_plan(13);
	test_boot_and_tables();
	test_pci();
	test_self_ipi();
	struct edu e;
	int r = edu_find(&e, 0);
	if (!tap_ok(r == 0, "edu found and bound (BAR0 0x%llx, %02x:%02x.%u)", r ? 0ull : (unsigned long long)e.mmio,
		    r ? 0 : e.pci->bus, r ? 0 : e.pci->dev, r ? 0 : e.pci->fn))
		tap_bail("no edu device: run with -device edu");
	test_edu_dma(&e);
	test_edu_msi(&e);
	int x = lapic_init(true);
	idt_reset_count(VEC_IPI);
	lapic_self_ipi(VEC_IPI);
	int w = idt_wait_count(VEC_IPI, 1, 100 * MS);
	tap_ok(x == 0 && lapic_x2apic() && w == 0 && idt_count(VEC_IPI) == 1,
	       "x2APIC mode (APIC ID %u): self-IPI through the SELF IPI MSR delivered once", lapic_id());
	tap_ok(mem_pages_in_use() == 0, "page pool: every page freed (%llu in use)",
	       (unsigned long long)mem_pages_in_use());
	tap_done();
}
