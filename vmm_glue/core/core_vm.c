/* core_vm.c — the neutral core: map, MMIO traps, guest reads, MMIO
 * emulation; the contract is in core_vm.h. */
#include "vmm_glue/core/core_vm.h"

#include "port.h"

int core_vm_init(struct core_vm *vm, const struct core_backend *be, enum ept_format fmt, uint64_t caps,
		 const struct core_vm_ops *ops, void *ctx)
{
	*vm = (struct core_vm){ .be = be, .ops = ops, .ctx = ctx };
	return ept_init_fmt(&vm->ept, caps, fmt);
}

void core_vm_destroy(struct core_vm *vm)
{
	ept_destroy(&vm->ept);
	vm->nr_mmio = 0;
}

int core_vm_map(struct core_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, unsigned memtype)
{
	return ept_map(&vm->ept, gpa, hpa, size, perms, memtype);
}

int core_vm_unmap(struct core_vm *vm, uint64_t gpa, uint64_t size)
{
	return ept_unmap(&vm->ept, gpa, size);
}

bool core_vm_mmio_overlaps(const struct core_vm *vm, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < CORE_MAX_MMIO; i++)
		if (vm->mmio[i].size && gpa < vm->mmio[i].gpa + vm->mmio[i].size && vm->mmio[i].gpa < gpa + size)
			return true;
	return false;
}

int core_vm_trap_mmio(struct core_vm *vm, uint64_t gpa, uint64_t size, const struct core_mmio_ops *ops)
{
	if (!size || gpa + size < gpa || !ops)
		return -PORT_EINVAL;
	if (core_vm_mmio_overlaps(vm, gpa, size))
		return -PORT_EEXIST;
	int slot = -1;
	for (unsigned i = 0; i < CORE_MAX_MMIO && slot < 0; i++)
		if (!vm->mmio[i].size)
			slot = (int)i;
	if (slot < 0)
		return -PORT_ENOSPC;
	int rc = ept_unmap(&vm->ept, gpa, size);
	if (rc)
		return rc;
	vm->mmio[slot].gpa = gpa;
	vm->mmio[slot].size = size;
	vm->mmio[slot].ops = *ops;
	vm->nr_mmio++;
	return 0;
}

int core_vm_untrap_mmio(struct core_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < CORE_MAX_MMIO; i++)
		if (vm->mmio[i].size && vm->mmio[i].gpa == gpa) {
			vm->mmio[i].size = 0;
			vm->nr_mmio--;
			return 0;
		}
	return -PORT_ENOENT;
}

int core_vm_trap_pio(struct core_vm *vm, uint16_t port, unsigned count, const struct core_pio_ops *ops)
{
	if (!count || port + count > 0x10000u || !ops || !vm->be || !vm->be->trap_io)
		return -PORT_EINVAL;
	int slot = -1;
	for (unsigned i = 0; i < CORE_MAX_PIO; i++) {
		if (!vm->pio[i].count) {
			if (slot < 0)
				slot = (int)i;
		} else if (port < vm->pio[i].port + vm->pio[i].count && vm->pio[i].port < port + count) {
			return -PORT_EEXIST;
		}
	}
	if (slot < 0)
		return -PORT_ENOSPC;
	int rc = vm->be->trap_io(vm, port, count, true);
	if (rc)
		return rc;
	vm->pio[slot].port = port;
	vm->pio[slot].count = (uint16_t)count;
	vm->pio[slot].ops = *ops;
	return 0;
}

int core_vm_untrap_pio(struct core_vm *vm, uint16_t port)
{
	for (unsigned i = 0; i < CORE_MAX_PIO; i++)
		if (vm->pio[i].count && vm->pio[i].port == port) {
			int rc = vm->be->trap_io(vm, port, vm->pio[i].count, false);
			vm->pio[i].count = 0;
			return rc;
		}
	return -PORT_ENOENT;
}

unsigned core_vm_mmio_free(const struct core_vm *vm)
{
	return CORE_MAX_MMIO - vm->nr_mmio;
}

const struct core_mmio_ops *core_vm_mmio_find(const struct core_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < CORE_MAX_MMIO; i++)
		if (vm->mmio[i].size && gpa - vm->mmio[i].gpa < vm->mmio[i].size)
			return &vm->mmio[i].ops;
	return NULL;
}

/* One access to a trapped range's device model: a read without a model
 * reads all-ones, a write without one is dropped. */
static int mmio_call(const struct core_mmio_ops *dev, uint64_t gpa, bool write, unsigned size, uint64_t *val)
{
	if (write)
		return dev->write ? dev->write(dev->ctx, gpa, size, *val) : 0;
	*val = 0;
	return dev->read ? dev->read(dev->ctx, gpa, size, val) : (*val = ~0ull, 0);
}

int core_vm_mmio_access(struct core_vm *vm, uint64_t gpa, bool write, unsigned size, uint64_t *val)
{
	const struct core_mmio_ops *dev = core_vm_mmio_find(vm, gpa);
	return dev ? mmio_call(dev, gpa, write, size, val) : -PORT_ENOENT;
}

const struct ept *core_vm_table(const struct core_vm *vm)
{
	return &vm->ept;
}

int core_vm_lookup(const struct core_vm *vm, uint64_t gpa, uint64_t *hpa, uint64_t *entry)
{
	return ept_lookup(&vm->ept, gpa, hpa, entry, NULL);
}

void core_vm_flush(struct core_vm *vm)
{
	if (vm->be && vm->be->flush)
		vm->be->flush(vm);
	ept_reclaim(&vm->ept);
}

void core_vcpu_init(struct core_vcpu *v, struct core_vm *vm)
{
	*v = (struct core_vcpu){ .vm = vm, .pending_irq = -1 };
}

void core_vcpu_inject_irq(struct core_vcpu *v, uint8_t vector)
{
	const struct core_backend *be = v->vm ? v->vm->be : NULL;
	if (be && be->inject_irq && be->inject_irq(v, vector) != 1)
		return;
	v->pending_irq = vector;
}

int core_vcpu_irq_to_inject(struct core_vcpu *v, bool can_take, bool *want_window)
{
	int vec = -1;
	if (v->pending_irq >= 0 && can_take) {
		vec = v->pending_irq;
		v->pending_irq = -1;
	}
	*want_window = v->pending_irq >= 0;
	return vec;
}

/* --- the guest's memory ------------------------------------------------------ */

/* GPA -> HPA for the core's own reads: RAM leaves only. */
static int ram_hpa(const struct core_vm *vm, uint64_t gpa, uint64_t *hpa)
{
	uint64_t entry;
	if (ept_lookup(&vm->ept, gpa, hpa, &entry, NULL))
		return -PORT_EFAULT;
	return (entry & EPT_RAM) && (entry & EPT_R) ? 0 : -PORT_EFAULT;
}

/* Guest-linear to guest-physical through 4-level paging (SDM Vol. 3A
 * §4.5; APM Vol. 2 §5.3), reading the guest's tables through the map. */
static int guest_translate(const struct core_vm *vm, const struct core_paging *pg, uint64_t gla, uint64_t *gpa)
{
	if (!pg->paging) {
		*gpa = gla;
		return 0;
	}
	if (!pg->long_mode)
		return -PORT_ENOTSUP;   /* 32-bit and PAE paging: not needed yet */
	uint64_t table = pg->cr3 & EPT_ADDR_MASK;
	for (unsigned l = 4; l >= 1; l--) {
		uint64_t hpa;
		if (ram_hpa(vm, table + 8ull * EPT_INDEX(gla, l), &hpa))
			return -PORT_EFAULT;
		uint64_t e = *(const volatile uint64_t *)port_phys_to_virt(hpa);
		if (!(e & 1))
			return -PORT_EFAULT;
		if (l == 1 || ((l == 2 || l == 3) && (e & (1ull << 7)))) {
			uint64_t size = EPT_LEVEL_SIZE(l);
			*gpa = (e & EPT_ADDR_MASK & ~(size - 1)) | (gla & (size - 1));
			return 0;
		}
		table = e & EPT_ADDR_MASK;
	}
	return -PORT_EFAULT;
}

int core_guest_read(const struct core_vm *vm, const struct core_paging *pg, uint64_t gla, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint64_t gpa, hpa;
		size_t chunk = PORT_PAGE_SIZE - (gla & (PORT_PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		if (guest_translate(vm, pg, gla, &gpa) || ram_hpa(vm, gpa, &hpa))
			return -PORT_EFAULT;
		__builtin_memcpy(out, port_phys_to_virt(hpa), chunk);
		out += chunk;
		gla += chunk;
		len -= chunk;
	}
	return 0;
}

/* --- MMIO emulation ------------------------------------------------------------ */

static uint64_t size_mask(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

int core_mmio_emulate(struct core_vm *vm, uint64_t gpr[16], const struct core_mmio_site *site, uint64_t gpa,
		      unsigned *insn_len)
{
	const struct core_mmio_ops *dev = core_vm_mmio_find(vm, gpa);
	uint8_t bytes[15];
	size_t n = 0;
	struct core_mmio_insn insn;
	uint64_t val;
	int rc;

	if (!dev)
		return -PORT_ENOENT;
	if (!site->long_mode_cs && !site->cs_32) {
		port_log("core: MMIO access from 16-bit code at 0x%llx is not emulated",
			 (unsigned long long)site->rip_linear);
		return -PORT_ENOTSUP;
	}
	while (n < sizeof(bytes) && core_guest_read(vm, &site->pg, site->rip_linear + n, &bytes[n], 1) == 0)
		n++;
	rc = core_decode_mmio(bytes, n, site->long_mode_cs, &insn);
	if (rc) {
		port_log("core: cannot decode the MMIO instruction at 0x%llx (%zu bytes read: %02x %02x %02x)",
			 (unsigned long long)site->rip_linear, n, n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0,
			 n > 2 ? bytes[2] : 0);
		return rc;
	}
	if (insn.write) {
		val = insn.has_imm ? insn.imm : insn.reg_high8 ? (gpr[insn.reg] >> 8) : gpr[insn.reg];
		val &= size_mask(insn.size);
		rc = mmio_call(dev, gpa, true, insn.size, &val);
	} else {
		rc = mmio_call(dev, gpa, false, insn.size, &val);
		val &= size_mask(insn.size);
		uint64_t *r = &gpr[insn.reg];
		if (insn.reg_high8)
			*r = (*r & ~0xff00ull) | (val << 8);
		else if (insn.reg_size >= 4)
			*r = val;           /* 32-bit destinations zero-extend */
		else
			*r = (*r & ~size_mask(insn.reg_size)) | val;
	}
	if (rc < 0)
		return rc;
	*insn_len = insn.len;
	return 0;
}

/* --- exit dispatch by the core's reason ------------------------------------------ */

const char *core_exit_reason_name(unsigned reason)
{
	static const char *const names[CORE_EXIT_COUNT] = {
		"external interrupt", "interrupt window", "CPUID", "HLT", "I/O", "MSR", "MMIO", "hypercall", "backend",
	};
	return reason < CORE_EXIT_COUNT ? names[reason] : "?";
}

static int exit_cpuid(struct core_vcpu *v, struct core_exit *e)
{
	const struct core_vm_ops *ops = v->vm->ops;
	uint32_t leaf = (uint32_t)v->gpr[GPR_RAX], sub = (uint32_t)v->gpr[GPR_RCX], r[4] = { 0, 0, 0, 0 };
	int rc = ops && ops->cpuid ? ops->cpuid(v, leaf, sub, r) : 1;
	if (rc < 0)
		return rc;
	if (rc)
		v->vm->be->cpuid_default(leaf, sub, r);
	v->gpr[GPR_RAX] = r[0];
	v->gpr[GPR_RBX] = r[1];
	v->gpr[GPR_RCX] = r[2];
	v->gpr[GPR_RDX] = r[3];
	e->complete = true;
	return CORE_CONTINUE;
}

/* A port trap's device model for this access, -PORT_ENOENT when none. */
static int pio_call(struct core_vm *vm, const struct core_io *io, uint32_t *val)
{
	for (unsigned i = 0; i < CORE_MAX_PIO; i++) {
		const struct core_pio_ops *d = &vm->pio[i].ops;
		if (!vm->pio[i].count || (unsigned)(io->port - vm->pio[i].port) >= vm->pio[i].count)
			continue;
		if (io->in)
			return d->in ? d->in(d->ctx, io->port, io->size, val) : -PORT_ENOENT;
		return d->out ? d->out(d->ctx, io->port, io->size, *val) : 0;
	}
	return -PORT_ENOENT;
}

static int exit_io(struct core_vcpu *v, struct core_exit *e)
{
	const struct core_vm_ops *ops = v->vm->ops;
	uint64_t mask = e->io.size == 4 ? 0xffffffffull : e->io.size == 2 ? 0xffffull : 0xffull;
	uint32_t val = e->io.in ? 0xffffffffu : (uint32_t)(v->gpr[GPR_RAX] & mask);
	int rc = pio_call(v->vm, &e->io, &val);
	if (rc == -PORT_ENOENT && ops && ops->io)
		rc = ops->io(v, &e->io, &val);
	if (rc < 0 && rc != -PORT_ENOENT)
		return rc;
	if (e->io.in) {
		if (rc == -PORT_ENOENT)
			val = 0xffffffffu;
		if (e->io.size == 4)
			v->gpr[GPR_RAX] = val;   /* a 32-bit write zero-extends */
		else
			v->gpr[GPR_RAX] = (v->gpr[GPR_RAX] & ~mask) | (val & mask);
	}
	e->complete = true;
	return rc > 0 ? rc : CORE_CONTINUE;
}

static int exit_msr(struct core_vcpu *v, struct core_exit *e)
{
	const struct core_vm_ops *ops = v->vm->ops;
	uint32_t msr = (uint32_t)v->gpr[GPR_RCX];
	uint64_t val = (v->gpr[GPR_RDX] << 32) | (uint32_t)v->gpr[GPR_RAX];
	int rc = -PORT_ENOENT;
	if (ops && e->msr_write && ops->wrmsr)
		rc = ops->wrmsr(v, msr, val);
	else if (ops && !e->msr_write && ops->rdmsr)
		rc = ops->rdmsr(v, msr, &val);
	if (rc == -PORT_ENOENT) {
		e->exception = 13;   /* #GP(0): the instruction does not complete */
		return CORE_CONTINUE;
	}
	if (rc < 0)
		return rc;
	if (!e->msr_write) {
		v->gpr[GPR_RAX] = (uint32_t)val;
		v->gpr[GPR_RDX] = val >> 32;
	}
	e->complete = true;
	return rc;
}

int core_handle_exit(struct core_vcpu *v, struct core_exit *e)
{
	const struct core_vm_ops *ops = v->vm->ops;
	e->complete = false;
	e->len = 0;
	e->exception = -1;
	if (e->reason >= CORE_EXIT_COUNT)
		return -PORT_EINVAL;
	v->exits[e->reason]++;
	switch (e->reason) {
	case CORE_EXIT_EXTINT:
		if (ops && ops->external_intr)
			return ops->external_intr(v, e->vector);
		return CORE_CONTINUE;
	case CORE_EXIT_INTR_WINDOW:
		return CORE_CONTINUE;   /* the next entry injects (core_vcpu_irq_to_inject) */
	case CORE_EXIT_CPUID:
		return exit_cpuid(v, e);
	case CORE_EXIT_HLT:
		e->complete = true;
		return ops && ops->hlt ? ops->hlt(v) : CORE_CONTINUE;
	case CORE_EXIT_IO:
		return exit_io(v, e);
	case CORE_EXIT_MSR:
		return exit_msr(v, e);
	case CORE_EXIT_MMIO: {
		unsigned len = 0;
		int rc = core_mmio_emulate(v->vm, v->gpr, &e->site, e->gpa, &len);
		if (rc < 0)
			return rc;
		e->complete = true;
		e->len = len;
		return CORE_CONTINUE;
	}
	case CORE_EXIT_HYPERCALL:
		if (!ops || !ops->hypercall) {
			e->exception = 6;   /* #UD */
			return CORE_CONTINUE;
		}
		e->complete = true;
		return ops->hypercall(v);
	default:
		return -PORT_EINVAL;    /* CORE_EXIT_BACKEND: the backend's own */
	}
}
