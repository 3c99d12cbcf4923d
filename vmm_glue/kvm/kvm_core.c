/*
 * kvm_core.c — the KVM virtual machine behind the glue.h contract.
 * Facts: include/uapi/linux/kvm.h and Documentation/virt/kvm/api.rst
 * (KVM_CREATE_IRQCHIP, KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_RUN exits).
 */
#include "vmm_glue/kvm/kvm_core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MAX_TRAPS 64
#define MAX_SLOTS 32
#define MAX_ROUTES 64
#define FIRST_MSI_GSI 24     /* GSIs 0..23 are the IOAPIC pins */
#define SIG_KICK SIGUSR1

struct trap {
	bool used;
	enum glue_space space;
	uint64_t base, len;
	glue_trap_fn fn;
	void *ctx;
};

/* Shadow context of a passed-through vector on KVM: a GSI route to the
 * guest's MSI plus an irqfd on the host eventfd. */
struct glue_msi_route {
	bool used;
	unsigned gsi;
	int host_eventfd;
	uint64_t virt_addr;
	uint32_t virt_data;
	bool masked;
	bool irqfd_on;
};

struct vcpu {
	struct kvm_vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct kvm_vm {
	struct glue glue;          /* first: kvm_vm_glue() hands it out */
	int kvm_fd, vm_fd;
	size_t run_size;
	uint8_t *ram;
	uint64_t ram_size;
	struct glue_ram_region ram_region;
	unsigned ncpus;
	struct vcpu vcpus[KVM_MAX_VCPUS];
	pthread_mutex_t lock;      /* device models run under it */
	struct trap traps[MAX_TRAPS];
	bool slot_used[MAX_SLOTS];
	struct glue_msi_route routes[MAX_ROUTES];
	atomic_bool stop;
	enum kvm_vm_stop stop_reason;
	int stop_fd;               /* eventfd: kvm_vm_run sleeps on it until a stop */
	char fail[160];
	atomic_ulong exits;
	atomic_ulong mmio_exits;   /* of which KVM_EXIT_MMIO */
	uint8_t cmos_index;
};

static struct kvm_vm *vm_of(struct glue *g) { return (struct kvm_vm *)g; }

/* --- the glue.h operations ---------------------------------------------- */

static int op_ram_regions(struct glue *g, const struct glue_ram_region **r, size_t *n)
{
	*r = &vm_of(g)->ram_region;
	*n = 1;
	return 0;
}

static int set_slot(struct kvm_vm *vm, int slot, uint64_t gpa, void *hva, uint64_t size, bool ro)
{
	struct kvm_userspace_memory_region m = {
		.slot = (uint32_t)slot,
		.flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) == 0 ? 0 : -errno;
}

static int op_map_host_range(struct glue *g, uint64_t gpa, void *hva, uint64_t size,
			     bool ro, int *slot)
{
	struct kvm_vm *vm = vm_of(g);
	if (!size || ((gpa | size | (uintptr_t)hva) & 0xfff))
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	int s = -1;
	for (int i = 1; i < MAX_SLOTS && s < 0; i++) /* slot 0 is RAM */
		if (!vm->slot_used[i])
			s = i;
	int err = s < 0 ? -ENOSPC : set_slot(vm, s, gpa, hva, size, ro);
	if (!err) {
		vm->slot_used[s] = true;
		*slot = s;
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int op_unmap_host_range(struct glue *g, int slot)
{
	struct kvm_vm *vm = vm_of(g);
	if (slot <= 0 || slot >= MAX_SLOTS || !vm->slot_used[slot])
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	/* A memslot is deleted by setting its size to 0. */
	int err = set_slot(vm, slot, 0, NULL, 0, false);
	if (!err)
		vm->slot_used[slot] = false;
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int op_trap(struct glue *g, enum glue_space space, uint64_t base, uint64_t len,
		   glue_trap_fn fn, void *ctx, int *id)
{
	struct kvm_vm *vm = vm_of(g);
	if (!len || base + len < base)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	int err = -ENOSPC;
	for (int i = 0; i < MAX_TRAPS; i++) {
		struct trap *t = &vm->traps[i];
		if (t->used && t->space == space && base < t->base + t->len && t->base < base + len) {
			err = -EEXIST;
			break;
		}
	}
	for (int i = 0; i < MAX_TRAPS && err == -ENOSPC; i++)
		if (!vm->traps[i].used) {
			vm->traps[i] = (struct trap){ true, space, base, len, fn, ctx };
			*id = i;
			err = 0;
		}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int op_untrap(struct glue *g, int id)
{
	struct kvm_vm *vm = vm_of(g);
	if (id < 0 || id >= MAX_TRAPS)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	vm->traps[id].used = false;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int op_deliver_msi(struct glue *g, uint64_t virt_addr, uint32_t virt_data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)virt_addr,
		.address_hi = (uint32_t)(virt_addr >> 32),
		.data = virt_data,
	};
	int r = ioctl(vm_of(g)->vm_fd, KVM_SIGNAL_MSI, &msi);
	return r < 0 ? -errno : 0;
}

static int op_set_irq_line(struct glue *g, unsigned gsi, bool level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };
	return ioctl(vm_of(g)->vm_fd, KVM_IRQ_LINE, &l) == 0 ? 0 : -errno;
}

/* KVM_SET_GSI_ROUTING replaces the whole table, so it carries the default
 * irqchip routes too: GSI 0..15 to the PIC (master 0-7, slave 8-15) and
 * GSI 0..23 to IOAPIC pins 0..23, as KVM sets them up by default. */
static int push_routes(struct kvm_vm *vm)
{
	size_t max = 16 + 24 + MAX_ROUTES;
	struct kvm_irq_routing *tab = calloc(1, sizeof(*tab) + max * sizeof(struct kvm_irq_routing_entry));
	if (!tab)
		return -ENOMEM;
	unsigned n = 0;
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi < 16 && gsi != 2) {
			struct kvm_irq_routing_entry *e = &tab->entries[n++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
		struct kvm_irq_routing_entry *e = &tab->entries[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi;
	}
	for (unsigned i = 0; i < MAX_ROUTES; i++) {
		struct glue_msi_route *r = &vm->routes[i];
		if (!r->used)
			continue;
		struct kvm_irq_routing_entry *e = &tab->entries[n++];
		e->gsi = r->gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)r->virt_addr;
		e->u.msi.address_hi = (uint32_t)(r->virt_addr >> 32);
		e->u.msi.data = r->virt_data;
	}
	tab->nr = n;
	int err = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, tab) == 0 ? 0 : -errno;
	free(tab);
	return err;
}

static int op_deliver_msi(struct glue *g, uint64_t virt_addr, uint32_t virt_data);

/* Attach or detach the irqfd.  On attach, what fired while the vector was
 * masked (the eventfd's count: the PBA bit) is consumed here and delivered
 * once, so the bit clears and nothing is injected twice. */
static int irqfd(struct kvm_vm *vm, struct glue_msi_route *r, bool on)
{
	if (r->irqfd_on == on)
		return 0;
	uint64_t count = 0;
	bool pending = on && glue_eventfd_pending(r->host_eventfd) &&
		       read(r->host_eventfd, &count, sizeof(count)) == sizeof(count);
	struct kvm_irqfd f = { .fd = (uint32_t)r->host_eventfd, .gsi = r->gsi,
			       .flags = on ? 0 : KVM_IRQFD_FLAG_DEASSIGN };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) != 0) {
		int err = -errno;
		if (pending) { /* give the event back to the eventfd */
			ssize_t w = write(r->host_eventfd, &count, sizeof(count));
			(void)w;
		}
		return err;
	}
	r->irqfd_on = on;
	if (pending)
		op_deliver_msi(&vm->glue, r->virt_addr, r->virt_data);
	return 0;
}

/* On KVM the route's host source is an eventfd (VFIO's, or an emulated
 * device's). */
static int op_msi_route_add(struct glue *g, int host_eventfd, uint64_t virt_addr,
			    uint32_t virt_data, bool masked, struct glue_msi_route **out)
{
	struct kvm_vm *vm = vm_of(g);
	pthread_mutex_lock(&vm->lock);
	int err = -ENOSPC;
	for (unsigned i = 0; i < MAX_ROUTES; i++) {
		struct glue_msi_route *r = &vm->routes[i];
		if (r->used)
			continue;
		*r = (struct glue_msi_route){ true, FIRST_MSI_GSI + i, host_eventfd,
					      virt_addr, virt_data, masked, false };
		err = push_routes(vm);
		if (!err && !masked)
			err = irqfd(vm, r, true);
		if (err) {
			r->used = false;
			push_routes(vm);
		} else {
			*out = r;
		}
		break;
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int op_msi_route_update(struct glue *g, struct glue_msi_route *r,
			       uint64_t virt_addr, uint32_t virt_data, bool masked)
{
	struct kvm_vm *vm = vm_of(g);
	pthread_mutex_lock(&vm->lock);
	int err = 0;
	if (r->virt_addr != virt_addr || r->virt_data != virt_data) {
		r->virt_addr = virt_addr;
		r->virt_data = virt_data;
		err = push_routes(vm);
	}
	if (!err)
		err = irqfd(vm, r, !masked); /* on unmask KVM injects what is pending */
	if (!err)
		r->masked = masked;
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static void op_msi_route_del(struct glue *g, struct glue_msi_route *r)
{
	struct kvm_vm *vm = vm_of(g);
	if (!r)
		return;
	pthread_mutex_lock(&vm->lock);
	irqfd(vm, r, false);
	r->used = false;
	push_routes(vm);
	pthread_mutex_unlock(&vm->lock);
}

/* KVM_IOEVENTFD: a guest write of `len` bytes at `gpa` signals `fd` inside
 * KVM, no exit to user space (no datamatch: any value). */
static int op_ioeventfd(struct glue *g, uint64_t gpa, unsigned len, int fd, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = gpa, .len = len, .fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	return ioctl(vm_of(g)->vm_fd, KVM_IOEVENTFD, &io) == 0 ? 0 : -errno;
}

bool glue_eventfd_pending(int host_eventfd)
{
	struct pollfd p = { .fd = host_eventfd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A masked route's source is the eventfd VFIO signals: it holds what fired. */
static bool op_msi_route_pending(struct glue *g, struct glue_msi_route *r)
{
	(void)g;
	return glue_eventfd_pending(r->host_eventfd);
}

static const struct glue_ops kvm_glue_ops = {
	.ram_regions = op_ram_regions,
	.map_host_range = op_map_host_range,
	.unmap_host_range = op_unmap_host_range,
	.trap = op_trap,
	.untrap = op_untrap,
	.deliver_msi = op_deliver_msi,
	.msi_route_add = op_msi_route_add,
	.msi_route_update = op_msi_route_update,
	.msi_route_del = op_msi_route_del,
	.msi_route_pending = op_msi_route_pending,
	.set_irq_line = op_set_irq_line,
	.ioeventfd = op_ioeventfd,
};

/* --- creating the VM ----------------------------------------------------- */

static void kick_handler(int sig) { (void)sig; }

/* CPUID as KVM supports it, with this vCPU's APIC ID (CPUID.1:EBX[31:24],
 * CPUID.0BH:EDX) and the hypervisor bit (CPUID.1:ECX[31]). */
static int setup_cpuid(struct kvm_vm *vm, struct vcpu *c)
{
	unsigned n = 128;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(struct kvm_cpuid_entry2));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = n;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) != 0) {
		int err = -errno;
		free(cpuid);
		return err;
	}
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffu) | (c->id << 24);
			e->ecx |= 1u << 31;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = c->id;
		}
	}
	int err = ioctl(c->fd, KVM_SET_CPUID2, cpuid) == 0 ? 0 : -errno;
	free(cpuid);
	return err;
}

/* Guest RAM on 2 MiB boundaries, advised for transparent huge pages: KVM can then
 * map it with 2 MiB nested-page entries, and VFIO pins it in 2 MiB runs, so the
 * IOMMU map of a VF's DMA takes one entry per 2 MiB instead of 512 (on the testbed's
 * emulated VT-d, with caching mode, each map is also an invalidation). */
static uint8_t *alloc_guest_ram(uint64_t bytes)
{
	const uint64_t huge = 2ull << 20;
	uint8_t *m = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uint8_t *ram = (uint8_t *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
	if (ram > m)
		munmap(m, (size_t)(ram - m));
	if (ram + bytes < m + bytes + huge)
		munmap(ram + bytes, (size_t)(m + bytes + huge - (ram + bytes)));
	madvise(ram, bytes, MADV_HUGEPAGE); /* advice: without THP, 4 KiB pages still work */
	return ram;
}

const char *kvm_dev_path(void)
{
	const char *p = getenv("VFSTACK_KVM_DEV");
	return p && *p ? p : "/dev/kvm";
}

int kvm_vm_create(uint64_t mem_bytes, unsigned ncpus, struct kvm_vm **out, char *why, size_t why_len)
{
#define FAIL(e, ...) do { err = (e); if (why_len) snprintf(why, why_len, __VA_ARGS__); goto fail; } while (0)
	int err;
	if (mem_bytes < (32ull << 20) || mem_bytes > KVM_RAM_MAX || (mem_bytes & 0xfffff)) {
		if (why_len)
			snprintf(why, why_len, "guest memory must be a whole number of MiB between 32 MiB and 3 GiB");
		return -EINVAL;
	}
	if (!ncpus || ncpus > KVM_MAX_VCPUS) {
		if (why_len)
			snprintf(why, why_len, "the guest may have 1 to %d vCPUs", KVM_MAX_VCPUS);
		return -EINVAL;
	}
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->glue.ops = &kvm_glue_ops;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->ncpus = ncpus;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->stop_fd < 0) {
		free(vm);
		return -errno;
	}
	for (unsigned i = 0; i < KVM_MAX_VCPUS; i++)
		vm->vcpus[i].fd = -1;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vm->lock, &ma);
	pthread_mutexattr_destroy(&ma);

	const char *dev = kvm_dev_path();
	vm->kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		FAIL(-errno, "cannot open %s: %s (load kvm-intel or kvm-amd)", dev, strerror(errno));
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		FAIL(-ENOTSUP, "%s speaks an unknown API version", dev);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		FAIL(-ENOTSUP, "this KVM lacks irqfd, IRQ routing or immediate exit");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		FAIL(-errno, "KVM_CREATE_VM failed: %s", strerror(errno));
	/* Intel needs a TSS and identity-map page below 4 GiB; AMD ignores them. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	uint64_t idmap = 0xfffbc000ull;
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) != 0)
		FAIL(-errno, "KVM_CREATE_IRQCHIP failed: %s", strerror(errno));
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) != 0)
		FAIL(-errno, "KVM_CREATE_PIT2 failed: %s", strerror(errno));

	if (!(vm->ram = alloc_guest_ram(mem_bytes)))
		FAIL(-ENOMEM, "cannot allocate %llu MiB of guest memory",
		     (unsigned long long)(mem_bytes >> 20));
	vm->ram_size = mem_bytes;
	vm->ram_region = (struct glue_ram_region){ 0, mem_bytes, vm->ram };
	if ((err = set_slot(vm, 0, 0, vm->ram, mem_bytes, false)) != 0)
		FAIL(err, "KVM refused the guest memory: %s", strerror(-err));
	vm->slot_used[0] = true;
	if ((err = push_routes(vm)) != 0)
		FAIL(err, "KVM_SET_GSI_ROUTING failed: %s", strerror(-err));

	int rs = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (rs <= 0)
		FAIL(-EIO, "KVM_GET_VCPU_MMAP_SIZE failed");
	vm->run_size = (size_t)rs;
	for (unsigned i = 0; i < ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		c->vm = vm;
		c->id = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (c->fd < 0)
			FAIL(-errno, "KVM_CREATE_VCPU %u failed: %s", i, strerror(errno));
		c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			FAIL(-errno, "cannot map the vCPU %u run area", i);
		}
		if ((err = setup_cpuid(vm, c)) != 0)
			FAIL(err, "KVM_SET_CPUID2 failed: %s", strerror(-err));
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIG_KICK, &sa, NULL);
	*out = vm;
	return 0;
fail:
	kvm_vm_destroy(vm);
	return err;
#undef FAIL
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < MAX_ROUTES; i++)
		if (vm->routes[i].used)
			op_msi_route_del(&vm->glue, &vm->routes[i]);
	for (unsigned i = 0; i < KVM_MAX_VCPUS; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (c->run)
			munmap(c->run, vm->run_size);
		if (c->fd >= 0)
			close(c->fd);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	close(vm->stop_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

struct glue *kvm_vm_glue(struct kvm_vm *vm) { return &vm->glue; }
unsigned kvm_vm_ncpus(const struct kvm_vm *vm) { return vm->ncpus; }
uint64_t kvm_vm_exits(const struct kvm_vm *vm) { return vm->exits; }
uint64_t kvm_vm_mmio_exits(const struct kvm_vm *vm) { return vm->mmio_exits; }

uint8_t *kvm_vm_ram(struct kvm_vm *vm, uint64_t *size)
{
	if (size)
		*size = vm->ram_size;
	return vm->ram;
}

/* Flat 4 GiB segment, as the 32-bit boot protocol requires: __BOOT_CS 0x10
 * (execute/read) and __BOOT_DS 0x18 (read/write) (Documentation/arch/x86/boot.rst). */
static void flat_seg(struct kvm_segment *s, uint16_t sel, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = code ? 0xb : 0x3;  /* accessed execute/read, or read/write */
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->l = 0;
	s->g = 1;
}

int kvm_vm_set_entry32(struct kvm_vm *vm, uint32_t eip, uint32_t esi, uint32_t gdt_gpa)
{
	struct vcpu *c = &vm->vcpus[0];
	struct kvm_sregs sregs;
	if (ioctl(c->fd, KVM_GET_SREGS, &sregs) != 0)
		return -errno;
	flat_seg(&sregs.cs, 0x10, true);
	flat_seg(&sregs.ds, 0x18, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = gdt_gpa;
	sregs.gdt.limit = 0x1f;
	sregs.cr0 = 0x11;  /* PE | ET: protected mode, paging off */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(c->fd, KVM_SET_SREGS, &sregs) != 0)
		return -errno;
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;  /* reserved bit 1; interrupts off */
	regs.rip = eip;
	regs.rsi = esi;
	return ioctl(c->fd, KVM_SET_REGS, &regs) == 0 ? 0 : -errno;
}

/* --- running --------------------------------------------------------------- */

/* Wake kvm_vm_run's thread; async-signal-safe (a signal handler stops the VM). */
static void wake_runner(struct kvm_vm *vm)
{
	uint64_t one = 1;
	ssize_t r = write(vm->stop_fd, &one, sizeof(one));
	(void)r; /* the counter cannot overflow at one write per stop */
}

static void stop_all(struct kvm_vm *vm, enum kvm_vm_stop why)
{
	bool was = atomic_exchange(&vm->stop, true);
	if (!was) {
		vm->stop_reason = why;
		wake_runner(vm);
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (c->run)
			c->run->immediate_exit = 1;
		if (c->started)
			pthread_kill(c->thread, SIG_KICK);
	}
}

void kvm_vm_request_stop(struct kvm_vm *vm)
{
	if (!atomic_exchange(&vm->stop, true)) {
		vm->stop_reason = KVM_VM_STOPPED;
		wake_runner(vm);
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].run)
			vm->vcpus[i].run->immediate_exit = 1;
	/* kvm_vm_run's own thread kicks the vCPUs when it sees the flag. */
}

void kvm_vm_poweroff(struct kvm_vm *vm)
{
	stop_all(vm, KVM_VM_POWEROFF);
}

/* Minimal MC146818 CMOS/RTC at ports 0x70/0x71: a fixed, valid BCD time,
 * update-in-progress clear (register A bit 7), 24-hour BCD (register B). */
static uint8_t cmos_read(uint8_t index)
{
	switch (index & 0x7f) {
	case 0x00: case 0x02: case 0x04: return 0x00; /* sec, min, hour */
	case 0x06: return 0x05;                       /* weekday */
	case 0x07: case 0x08: return 0x01;            /* day, month */
	case 0x09: return 0x26;                       /* year */
	case 0x0a: return 0x26;                       /* UIP = 0 */
	case 0x0b: return 0x02;                       /* 24 h, BCD */
	case 0x0d: return 0x80;                       /* valid RAM and time */
	case 0x32: return 0x20;                       /* century */
	default: return 0;
	}
}

/* Ports the core answers itself: the i8042 reset line (0x64 <- 0xFE, the
 * keyboard-controller reboot Linux uses with reboot=k) and the CMOS. */
static bool core_pio(struct kvm_vm *vm, uint16_t port, uint8_t *data, unsigned size, bool wr)
{
	switch (port) {
	case 0x64:
		if (wr && data[0] == 0xfe)
			stop_all(vm, KVM_VM_POWEROFF);
		else if (!wr)
			memset(data, 0, size); /* status: buffers empty */
		return true;
	case 0x70:
		if (wr)
			vm->cmos_index = data[0];
		else
			data[0] = vm->cmos_index;
		return true;
	case 0x71:
		if (!wr)
			data[0] = cmos_read(vm->cmos_index);
		return true;
	default:
		return false;
	}
}

static void dispatch(struct kvm_vm *vm, enum glue_space space, uint64_t addr, uint8_t *data,
		     unsigned size, bool wr)
{
	pthread_mutex_lock(&vm->lock);
	if (space == GLUE_PIO && core_pio(vm, (uint16_t)addr, data, size, wr)) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	for (unsigned i = 0; i < MAX_TRAPS; i++) {
		struct trap *t = &vm->traps[i];
		if (t->used && t->space == space && addr >= t->base && addr + size <= t->base + t->len) {
			(void)t->fn(t->ctx, addr, data, size, wr);   /* KVM cannot refuse an access */
			pthread_mutex_unlock(&vm->lock);
			return;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	if (!wr)
		memset(data, 0xff, size); /* nothing there: the bus floats */
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct kvm_vm *vm = c->vm;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!vm->stop) {
		int r = ioctl(c->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(vm->fail, sizeof(vm->fail), "KVM_RUN on vCPU %u failed: %s",
				 c->id, strerror(errno));
			stop_all(vm, KVM_VM_FAILED);
			break;
		}
		vm->exits++;
		struct kvm_run *run = c->run;
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *p = (uint8_t *)run + run->io.data_offset;
			for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size)
				dispatch(vm, GLUE_PIO, run->io.port, p, run->io.size,
					 run->io.direction == KVM_EXIT_IO_OUT);
			break;
		}
		case KVM_EXIT_MMIO:
			vm->mmio_exits++;
			dispatch(vm, GLUE_MMIO, run->mmio.phys_addr, run->mmio.data,
				 run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:       /* triple fault: the guest reset itself */
		case KVM_EXIT_SYSTEM_EVENT:   /* PSCI-style shutdown/reset */
			stop_all(vm, KVM_VM_POWEROFF);
			break;
		case KVM_EXIT_HLT:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(vm->fail, sizeof(vm->fail), "vCPU %u failed to enter the guest "
				 "(hardware reason %#llx)", c->id,
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			stop_all(vm, KVM_VM_FAILED);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(vm->fail, sizeof(vm->fail), "KVM internal error on vCPU %u "
				 "(suberror %u)", c->id, run->internal.suberror);
			stop_all(vm, KVM_VM_FAILED);
			break;
		default:
			snprintf(vm->fail, sizeof(vm->fail), "unexpected KVM exit %u on vCPU %u",
				 run->exit_reason, c->id);
			stop_all(vm, KVM_VM_FAILED);
			break;
		}
	}
	return NULL;
}

enum kvm_vm_stop kvm_vm_run(struct kvm_vm *vm, char *why, size_t why_len)
{
	/* vCPU threads get the kick signal; everyone else keeps it blocked. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (pthread_create(&c->thread, NULL, vcpu_thread, c) != 0) {
			snprintf(vm->fail, sizeof(vm->fail), "cannot start vCPU %u", i);
			stop_all(vm, KVM_VM_FAILED);
			break;
		}
		c->started = true;
	}
	/* Sleep until a stop: no periodic wake-up, which on a busy one-CPU host
	 * would preempt the vCPU (an exit) 50 times a second. */
	while (!vm->stop) {
		uint64_t n;
		if (read(vm->stop_fd, &n, sizeof(n)) < 0 && errno != EINTR)
			usleep(20 * 1000); /* cannot happen on an eventfd; poll then */
	}
	stop_all(vm, vm->stop_reason);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (c->started) {
			/* Kick until it leaves KVM_RUN (a kick can race its entry). */
			while (pthread_tryjoin_np(c->thread, NULL) == EBUSY) {
				pthread_kill(c->thread, SIG_KICK);
				usleep(1000);
			}
			c->started = false;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (vm->stop_reason == KVM_VM_FAILED && why_len)
		snprintf(why, why_len, "%s", vm->fail);
	return vm->stop_reason;
}
