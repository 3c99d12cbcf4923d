/*
 * guest_edu.c — a freestanding 64-bit guest that drives a passed-through
 * edu (QEMU's educational PCI device) the way a driver in a VM would:
 *
 *   1. through its config page (an ECAM page the host traps with
 *      bm_passthrough): the vendor/device ID, a walk of the capability list
 *      to MSI, BAR0's address, Command memory space + bus master, and its
 *      MSI programmed to the guest's vector (APIC p->apic_id, fixed, edge)
 *      and enabled;
 *   2. through BAR0: the edu's identification register, then two DMA
 *      transfers with guest-physical addresses — A -> the edu's buffer, then
 *      the buffer -> B, the second raising the DMA-completion interrupt;
 *   3. it waits with STI;HLT for that interrupt; its handler reads the edu's
 *      interrupt status and acknowledges it; then it compares B with A.
 *
 * It reports everything to the host through VMCALL (guest_edu.h) and ends
 * with VMCALL CMD_DONE.  It knows only guest-physical addresses (the
 * parameter block in RDI and what its config page says); whatever is behind
 * them — a host-side model of the edu under Bochs, or the real edu behind a
 * VT-d domain (tests/vmx/vmx_edu.c) — it cannot tell apart.
 *
 * Interrupts reach it by injection through the VM-entry interruption-
 * information field (the vCPU has no APIC virtualization): it has no local
 * APIC to EOI, and must not touch 0xfee00000 (on real hardware that page is
 * the host's LAPIC, identity-mapped).  The edu's own acknowledge (0x64) is
 * the only end-of-interrupt it does.
 *
 * Its address space is the image's (the host gives it the boot page tables
 * as CR3): plain C, with MMIO through explicit MOVs (the core decodes the
 * instruction at an EPT violation: see vmm_glue/core/mmio_insn.h).
 */
#include <stdint.h>

#include "pci/pci_cap.h"
#include "tests/vmx/guest_edu.h"
#include "tests/vmx/guest_io.h"

uint8_t guest_edu_stack[8192] __attribute__((aligned(16)));
uint64_t guest_edu_gdt[6] __attribute__((aligned(8))) = {
	0,
	0x00af9a000000ffffull, /* 0x08: 64-bit code, DPL 0 */
	0x00cf92000000ffffull, /* 0x10: data */
	0, 0,                  /* 0x18: TSS (its state is in the VMCS) */
	0,
};
uint8_t guest_edu_tss[104] __attribute__((aligned(16)));
static uint64_t idt[512] __attribute__((aligned(16)));

/* The handler's state (the stubs below and guest_edu_irq). */
volatile uint64_t guest_edu_irq_count, guest_edu_stray;
static volatile uint64_t irq_status_seen;
static uint64_t bar;   /* BAR0's GPA */

static void report(enum edu_key k, uint64_t v) { vmcall(CMD_REPORT, k, v); }

/* --- interrupts ------------------------------------------------------------ */

/* Called from the MSI vector's stub: what an edu driver's handler does. */
void guest_edu_irq(void);
void guest_edu_irq(void)
{
	uint32_t st = rd32(bar + EDU_REG_IRQ_STATUS);
	irq_status_seen = st;
	wr32(bar + EDU_REG_IRQ_ACK, st);
	guest_edu_irq_count++;
}

/* The MSI vector's stub saves the caller-saved registers around the C
 * handler (9 pushes on the 40-byte frame keep the ABI's alignment); every
 * other vector from 32 up only counts.  No EOI: see the top of the file. */
__asm__(
	"	.text\n"
	"guest_edu_isr:\n"
	"	pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi\n"
	"	pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"
	"	call guest_edu_irq\n"
	"	popq %r11; popq %r10; popq %r9; popq %r8\n"
	"	popq %rdi; popq %rsi; popq %rdx; popq %rcx; popq %rax\n"
	"	iretq\n"
	"guest_edu_stray_isr:\n"
	"	incq guest_edu_stray(%rip)\n"
	"	iretq\n");
void guest_edu_isr(void);
void guest_edu_stray_isr(void);

/* --- the driver ------------------------------------------------------------ */

/* Bounds: the model finishes a transfer at the command's write; the real
 * edu 100 ms (QEMU virtual time) after it, and each poll is an MMIO read. */
#define BUSY_POLLS (1u << 26)
#define HLT_ROUNDS 1000u

/* Its config page through the shared walker (pci/pci_cap), each read one
 * MMIO instruction. */
static unsigned find_msi(uint64_t cfg)
{
	const struct pci_cfg_acc acc = { guest_cfg_read, (void *)(uintptr_t)cfg, PCI_CFG_SIZE };
	struct pci_cap c;
	return pci_cap_find(&acc, PCI_CAP_ID_MSI, &c) == 0 ? c.off : 0;
}

static uint64_t bar0(uint64_t cfg)
{
	uint64_t lo = rd32(cfg + PCI_BAR0);
	uint64_t a = lo & ~0xfull;
	if (((lo >> 1) & 3u) == 2)   /* 64-bit memory BAR */
		a |= (uint64_t)rd32(cfg + PCI_BAR0 + 4) << 32;
	return a;
}

static void msi_program(uint64_t cfg, unsigned msi, uint8_t apic_id, uint8_t vector)
{
	uint64_t cap = cfg + msi;
	uint32_t ctrl = rd16(cap + PCI_MSI_CTRL);
	wr16(cap + PCI_MSI_CTRL, ctrl & ~(PCI_MSI_CTRL_EN | PCI_MSI_CTRL_MME));
	/* Compatibility format (SDM Vol. 3A §11.11): 0xfee00000 | dest << 12,
	 * physical destination, no redirection hint; data: the vector, fixed
	 * delivery, edge. */
	wr32(cap + PCI_MSI_ADDR_LO, 0xfee00000u | (uint32_t)apic_id << 12);
	if (ctrl & PCI_MSI_CTRL_64) {
		wr32(cap + PCI_MSI_ADDR_HI, 0);
		wr16(cap + PCI_MSI_DATA_64, vector);
	} else {
		wr16(cap + PCI_MSI_DATA_32, vector);
	}
	wr16(cap + PCI_MSI_CTRL, (ctrl & ~PCI_MSI_CTRL_MME) | PCI_MSI_CTRL_EN);
}

/* Start a transfer; 1 when the busy bit cleared within the bound. */
static int dma(uint64_t src, uint64_t dst, uint32_t len, uint32_t cmd)
{
	wr64(bar + EDU_REG_DMA_SRC, src);
	wr64(bar + EDU_REG_DMA_DST, dst);
	wr64(bar + EDU_REG_DMA_CNT, len);
	wr64(bar + EDU_REG_DMA_CMD, cmd | EDU_CMD_RUN);
	for (uint32_t i = 0; i < BUSY_POLLS; i++)
		if (!(rd64(bar + EDU_REG_DMA_CMD) & EDU_CMD_RUN))
			return 1;
	return 0;
}

static void guest_edu_main(const struct guest_edu_params *p)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
		sizeof(idt) - 1, (uint64_t)(uintptr_t)idt
	};
	for (unsigned v = 32; v < 256; v++)
		guest_idt_gate(idt, v, v == p->vector ? guest_edu_isr : guest_edu_stray_isr, GUEST_EDU_CS);
	__asm__ volatile("cli; lidt %0" : : "m"(idtr) : "memory");

	/* The function, through its config page. */
	uint64_t cfg = p->cfg_gpa;
	report(E_CFG_ID, rd32(cfg));
	unsigned msi = find_msi(cfg);
	report(E_MSI_CAP, msi);
	bar = bar0(cfg);
	report(E_BAR0, bar);
	wr16(cfg + PCI_COMMAND, rd16(cfg + PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		PCI_COMMAND_INTX_DISABLE);
	report(E_COMMAND, rd16(cfg + PCI_COMMAND));
	if (msi)
		msi_program(cfg, msi, p->apic_id, p->vector);
	report(E_MMIO_ID, rd32(bar + EDU_REG_ID));

	/* A holds the pattern, B nothing: then A -> edu -> B by DMA, with the
	 * guest-physical addresses. */
	volatile uint64_t *a = (volatile uint64_t *)(uintptr_t)p->src_gpa;
	volatile uint64_t *b = (volatile uint64_t *)(uintptr_t)p->dst_gpa;
	for (unsigned i = 0; i < p->len / 8; i++) {
		a[i] = guest_edu_pattern(p->seed, i);
		b[i] = 0;
	}
	report(E_DMA1_IDLE, (uint64_t)dma(p->src_gpa, EDU_DEV_BUF, p->len, 0));
	report(E_DMA2_IDLE, (uint64_t)dma(EDU_DEV_BUF, p->dst_gpa, p->len, EDU_CMD_TO_RAM | EDU_CMD_IRQ));

	/* The completion interrupt: taken with IF = 1, waited for in HLT. */
	unsigned halts = 0;
	while (!guest_edu_irq_count && halts < HLT_ROUNDS) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		halts++;
	}
	report(E_HALTS, halts);
	report(E_IRQ_COUNT, guest_edu_irq_count);
	report(E_IRQ_STRAY, guest_edu_stray);
	report(E_IRQ_STATUS, irq_status_seen);
	report(E_STATUS_AFTER, rd32(bar + EDU_REG_IRQ_STATUS));

	uint64_t match = 0;
	for (unsigned i = 0; i < p->len / 8; i++)
		match += b[i] == guest_edu_pattern(p->seed, i) ? 8 : 0;
	report(E_MATCH, match);
	report(E_DONE, 1);
	vmcall(CMD_DONE, 0, 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_edu_entry(const struct guest_edu_params *p)
{
	/* Every run starts from nothing: the image may run this guest more
	 * than once (tests/svm runs it twice), and its state is in the
	 * image's memory. */
	guest_edu_irq_count = 0;
	guest_edu_stray = 0;
	irq_status_seen = 0;
	bar = 0;
	guest_edu_main(p);
}
