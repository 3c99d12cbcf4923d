/*
 * The emulated vNIC (vmm_glue/dev/virtio_net.c on virtio_pci.c and
 * virtqueue.c) driven the way a guest drives it: config cycles through
 * ports 0xCF8/0xCFC of the PCI bus, MMIO to the BARs, rings and buffers in
 * guest RAM, interrupts seen as the MSI routes the core would inject.  The
 * backend is a SOCK_SEQPACKET socketpair standing in for the tap.
 *
 * Guest RAM is two regions with a hole between them, each fenced by
 * PROT_NONE pages: if a hostile ring ever made the device touch memory
 * outside guest RAM the test would die on a fault (and ASan watches the
 * rest).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pci/pci_cap.h"
#include "vmm_glue/glue.h"
#include "vmm_glue/dev/pci_bus.h"
#include "vmm_glue/dev/virtio_net.h"
#include "vmm_glue/dev/virtio_pci.h"

/* --- a fake VMX core ------------------------------------------------------ */

#define RAM0_GPA  0x000000ull
#define RAM0_SIZE 0x080000ull   /* 512 KiB */
#define RAM1_GPA  0x100000ull   /* hole 512 KiB .. 1 MiB */
#define RAM1_SIZE 0x080000ull
#define MMIO_BASE 0xc0000000ull
#define PAGE 4096ull

struct fake_trap { bool used; enum glue_space space; uint64_t base, len; glue_trap_fn fn; void *ctx; };
struct glue_msi_route { bool used; int efd; uint64_t addr; uint32_t data; bool masked; };

/* An ioeventfd the device registered (a KVM core's KVM_IOEVENTFD). */
struct fake_iofd { bool used; uint64_t gpa; unsigned len; int fd; };

struct fake {
	struct glue glue;
	struct glue_ram_region ram[2];
	uint8_t *maps[2];
	struct fake_trap traps[16];
	struct glue_msi_route routes[8];
	int direct_msis;
	struct fake_iofd iofds[8];
};

static struct fake *fk(struct glue *g) { return (struct fake *)g; }

static int f_ram(struct glue *g, const struct glue_ram_region **r, size_t *n)
{
	*r = fk(g)->ram;
	*n = 2;
	return 0;
}
static int f_map(struct glue *g, uint64_t gpa, void *hva, uint64_t size, bool ro, int *slot)
{
	(void)g; (void)gpa; (void)hva; (void)size; (void)ro; (void)slot;
	return -ENOTSUP;
}
static int f_unmap(struct glue *g, int slot) { (void)g; (void)slot; return -EINVAL; }
static int f_trap(struct glue *g, enum glue_space s, uint64_t base, uint64_t len, glue_trap_fn fn,
		  void *ctx, int *id)
{
	for (int i = 0; i < 16; i++)
		if (!fk(g)->traps[i].used) {
			fk(g)->traps[i] = (struct fake_trap){ true, s, base, len, fn, ctx };
			*id = i;
			return 0;
		}
	return -ENOSPC;
}
static int f_untrap(struct glue *g, int id) { fk(g)->traps[id].used = false; return 0; }
static int f_msi(struct glue *g, uint64_t a, uint32_t d) { (void)a; (void)d; fk(g)->direct_msis++; return 0; }
static int f_route_add(struct glue *g, int efd, uint64_t a, uint32_t d, bool m, struct glue_msi_route **r)
{
	for (int i = 0; i < 8; i++)
		if (!fk(g)->routes[i].used) {
			fk(g)->routes[i] = (struct glue_msi_route){ true, efd, a, d, m };
			*r = &fk(g)->routes[i];
			return 0;
		}
	return -ENOSPC;
}
static int f_route_update(struct glue *g, struct glue_msi_route *r, uint64_t a, uint32_t d, bool m)
{
	(void)g;
	r->addr = a; r->data = d; r->masked = m;
	return 0;
}
static void f_route_del(struct glue *g, struct glue_msi_route *r) { (void)g; r->used = false; }
/* As the KVM core: the route's host source is the device's eventfd. */
static bool f_route_pending(struct glue *g, struct glue_msi_route *r)
{
	(void)g;
	struct pollfd p = { .fd = r->efd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
static int f_irq(struct glue *g, unsigned gsi, bool level) { (void)g; (void)gsi; (void)level; return 0; }

static const struct glue_ops fake_ops = {
	.ram_regions = f_ram, .map_host_range = f_map, .unmap_host_range = f_unmap,
	.trap = f_trap, .untrap = f_untrap, .deliver_msi = f_msi,
	.msi_route_add = f_route_add, .msi_route_update = f_route_update,
	.msi_route_del = f_route_del, .msi_route_pending = f_route_pending, .set_irq_line = f_irq,
	/* no .ioeventfd: the device falls back to a trapped notify write */
};

/* A core with ioeventfd: a guest write that matches a registered doorbell
 * signals its eventfd and never reaches a trap handler, as with KVM. */
static int f_ioeventfd(struct glue *g, uint64_t gpa, unsigned len, int fd, bool assign)
{
	struct fake_iofd *e = fk(g)->iofds;
	for (int i = 0; i < 8; i++)
		if (e[i].used && e[i].gpa == gpa && e[i].len == len && e[i].fd == fd) {
			if (assign)
				return -EEXIST;
			e[i].used = false;
			return 0;
		}
	if (!assign)
		return -ENOENT;
	for (int i = 0; i < 8; i++)
		if (!e[i].used) {
			e[i] = (struct fake_iofd){ true, gpa, len, fd };
			return 0;
		}
	return -ENOSPC;
}

static const struct glue_ops fake_ops_iofd = {
	.ram_regions = f_ram, .map_host_range = f_map, .unmap_host_range = f_unmap,
	.trap = f_trap, .untrap = f_untrap, .deliver_msi = f_msi,
	.msi_route_add = f_route_add, .msi_route_update = f_route_update,
	.msi_route_del = f_route_del, .msi_route_pending = f_route_pending, .set_irq_line = f_irq, .ioeventfd = f_ioeventfd,
};

static int iofds_used(const struct fake *f)
{
	int n = 0;
	for (int i = 0; i < 8; i++)
		n += f->iofds[i].used;
	return n;
}

/* A region with a PROT_NONE page on each side. */
static uint8_t *fenced(uint64_t size, uint8_t **map)
{
	*map = mmap(NULL, size + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(*map != MAP_FAILED);
	assert_int_equal(mprotect(*map + PAGE, size, PROT_READ | PROT_WRITE), 0);
	return *map + PAGE;
}

static void guest_access(struct fake *f, enum glue_space s, uint64_t addr, unsigned size, uint64_t *val, bool wr)
{
	uint8_t d[8] = { 0 };
	if (wr)
		glue_put_le(d, size, *val);
	for (int i = 0; wr && s == GLUE_MMIO && i < 8; i++) {
		struct fake_iofd *e = &f->iofds[i];
		if (e->used && e->gpa == addr && e->len == size) {
			uint64_t one = 1;
			assert_int_equal(write(e->fd, &one, sizeof(one)), sizeof(one));
			return;
		}
	}
	for (int i = 0; i < 16; i++) {
		struct fake_trap *t = &f->traps[i];
		if (t->used && t->space == s && addr >= t->base && addr + size <= t->base + t->len) {
			t->fn(t->ctx, addr, d, size, wr);
			if (!wr)
				*val = glue_get_le(d, size);
			return;
		}
	}
	if (!wr)
		*val = ~0ull >> (64 - 8 * size);
}

/* --- the guest's driver ------------------------------------------------------ */

#define QSIZE 8
struct ring { uint64_t desc, avail, used; uint16_t avail_idx, used_seen; };

struct t {
	struct fake f;
	struct pci_bus *bus;
	struct virtio_net *vn;
	int peer;                   /* the host side of the backend */
	int backend;
	unsigned devfn;
	uint64_t bar0, bar1;
	uint64_t common, isr, devcfg, notify;
	unsigned notify_mult, msix_cap, pcicfg_cap;
	struct ring q[2];
};

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static uint8_t *gmem(struct t *t, uint64_t gpa)
{
	for (int i = 0; i < 2; i++)
		if (gpa >= t->f.ram[i].gpa && gpa < t->f.ram[i].gpa + t->f.ram[i].size)
			return (uint8_t *)t->f.ram[i].hva + (gpa - t->f.ram[i].gpa);
	fail_msg("test bug: GPA %#llx is not RAM", (unsigned long long)gpa);
	return NULL;
}

static uint32_t cfg_rd(struct t *t, unsigned off, unsigned size)
{
	uint64_t a = 0x80000000u | t->devfn << 8 | (off & 0xfc), v = 0;
	guest_access(&t->f, GLUE_PIO, 0xcf8, 4, &a, true);
	guest_access(&t->f, GLUE_PIO, 0xcfc + (off & 3), size, &v, false);
	return (uint32_t)v;
}
static void cfg_wr(struct t *t, unsigned off, unsigned size, uint32_t val)
{
	uint64_t a = 0x80000000u | t->devfn << 8 | (off & 0xfc), v = val;
	guest_access(&t->f, GLUE_PIO, 0xcf8, 4, &a, true);
	guest_access(&t->f, GLUE_PIO, 0xcfc + (off & 3), size, &v, true);
}
static uint64_t mmio_rd(struct t *t, uint64_t a, unsigned size)
{
	uint64_t v = 0;
	guest_access(&t->f, GLUE_MMIO, a, size, &v, false);
	return v;
}
static void mmio_wr(struct t *t, uint64_t a, unsigned size, uint64_t v)
{
	guest_access(&t->f, GLUE_MMIO, a, size, &v, true);
}

/* §4.1.4.3 offsets, as a driver knows them. */
enum { DFSEL = 0, DF = 4, GFSEL = 8, GF = 12, CMSIX = 16, NUMQ = 18, STATUS = 20, GEN = 21,
       QSEL = 22, QSIZE_R = 24, QMSIX = 26, QEN = 28, QNOFF = 30, QDESC = 32, QDRV = 40, QDEV = 48 };

static uint8_t status(struct t *t) { return (uint8_t)mmio_rd(t, t->common + STATUS, 1); }
static void set_status(struct t *t, uint8_t s) { mmio_wr(t, t->common + STATUS, 1, s); }

static uint64_t device_features(struct t *t)
{
	mmio_wr(t, t->common + DFSEL, 4, 0);
	uint64_t lo = mmio_rd(t, t->common + DF, 4);
	mmio_wr(t, t->common + DFSEL, 4, 1);
	return lo | mmio_rd(t, t->common + DF, 4) << 32;
}
static void driver_features(struct t *t, uint64_t f)
{
	mmio_wr(t, t->common + GFSEL, 4, 0);
	mmio_wr(t, t->common + GF, 4, (uint32_t)f);
	mmio_wr(t, t->common + GFSEL, 4, 1);
	mmio_wr(t, t->common + GF, 4, f >> 32);
}

static uint32_t cfg_acc_read(void *ctx, unsigned off, unsigned size) { return cfg_rd(ctx, off, size); }

/* Walk the capability list (pci/pci_cap) as Linux's virtio_pci_modern
 * does; the list must end cleanly. */
static void find_caps(struct t *t)
{
	const struct pci_cfg_acc acc = { cfg_acc_read, t, PCI_CFG_SIZE };
	struct pci_cap_iter it;
	struct pci_cap c;
	for (pci_cap_iter_init(&it, &acc, false); pci_cap_next(&it, &c);) {
		unsigned at = c.off, id = c.id;
		if (id == PCI_CAP_ID_MSIX) {
			t->msix_cap = at;
			continue;
		}
		assert_int_equal(id, PCI_CAP_ID_VNDR);
		unsigned type = cfg_rd(t, at + 3, 1), bar = cfg_rd(t, at + 4, 1);
		uint32_t off = cfg_rd(t, at + 8, 4);
		uint64_t base = bar == 0 ? t->bar0 : ~0ull;
		switch (type) {
		case 1: t->common = base + off; break;
		case 2: t->notify = base + off; t->notify_mult = cfg_rd(t, at + 16, 4); break;
		case 3: t->isr = base + off; break;
		case 4: t->devcfg = base + off; break;
		case 5: t->pcicfg_cap = at; break;
		default: fail_msg("unknown virtio capability type %u", type);
		}
	}
	assert_int_equal(it.err, 0);
}

static void ring_layout(struct t *t)
{
	for (unsigned q = 0; q < 2; q++)
		t->q[q] = (struct ring){ 0x1000 + q * 0x3000, 0x2000 + q * 0x3000, 0x3000 + q * 0x3000, 0, 0 };
}

/* §3.1.1 driver initialization up to (not including) DRIVER_OK. */
static void drv_negotiate(struct t *t, uint64_t want)
{
	set_status(t, 0);
	assert_int_equal(status(t), 0);
	set_status(t, 1);
	set_status(t, 1 | 2);
	driver_features(t, device_features(t) & want);
	set_status(t, 1 | 2 | 8);
	assert_int_equal(status(t), 1 | 2 | 8);
}

static void drv_setup_queue(struct t *t, unsigned q, uint16_t vector)
{
	struct ring *r = &t->q[q];
	mmio_wr(t, t->common + QSEL, 2, q);
	mmio_wr(t, t->common + QSIZE_R, 2, QSIZE);
	mmio_wr(t, t->common + QMSIX, 2, vector);
	assert_int_equal(mmio_rd(t, t->common + QMSIX, 2), vector);
	/* 64-bit fields as two dwords, the way Linux writes them. */
	mmio_wr(t, t->common + QDESC, 4, (uint32_t)r->desc);
	mmio_wr(t, t->common + QDESC + 4, 4, r->desc >> 32);
	mmio_wr(t, t->common + QDRV, 4, (uint32_t)r->avail);
	mmio_wr(t, t->common + QDRV + 4, 4, 0);
	mmio_wr(t, t->common + QDEV, 4, (uint32_t)r->used);
	mmio_wr(t, t->common + QDEV + 4, 4, 0);
	memset(gmem(t, r->desc), 0, 16 * QSIZE);
	memset(gmem(t, r->avail), 0, 6 + 2 * QSIZE);
	memset(gmem(t, r->used), 0, 6 + 8 * QSIZE);
	r->avail_idx = r->used_seen = 0;
	mmio_wr(t, t->common + QEN, 2, 1);
}

/* MSI-X on: vector v -> address 0xfee00000, data 0x40 + v, unmasked. */
static void drv_msix(struct t *t)
{
	uint16_t ctl = (uint16_t)cfg_rd(t, t->msix_cap + 2, 2);
	cfg_wr(t, t->msix_cap + 2, 2, ctl | 0x8000 | 0x4000);
	for (unsigned v = 0; v < 3; v++) {
		uint64_t e = t->bar1 + 16 * v;
		mmio_wr(t, e, 4, 0xfee00000);
		mmio_wr(t, e + 4, 4, 0);
		mmio_wr(t, e + 8, 4, 0x40 + v);
		mmio_wr(t, e + 12, 4, 0);
	}
	cfg_wr(t, t->msix_cap + 2, 2, (ctl | 0x8000) & ~0x4000);
}

static void drv_init(struct t *t)
{
	drv_negotiate(t, (1ull << 32) | (1ull << 5) | (1ull << 16) | (1ull << 28));
	drv_msix(t);
	mmio_wr(t, t->common + CMSIX, 2, 0);
	drv_setup_queue(t, 0, 1);
	drv_setup_queue(t, 1, 2);
	set_status(t, 1 | 2 | 8 | 4);
	assert_int_equal(status(t), 1 | 2 | 8 | 4);
}

struct dseg { uint64_t gpa; uint32_t len; uint16_t flags; };
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

static void put_desc(uint8_t *at, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	memcpy(at, &addr, 8);
	memcpy(at + 8, &len, 4);
	memcpy(at + 12, &flags, 2);
	memcpy(at + 14, &next, 2);
}

/* Put a chain at descriptors first.., make it available, notify. */
static void drv_post(struct t *t, unsigned q, unsigned first, const struct dseg *s, unsigned n)
{
	struct ring *r = &t->q[q];
	for (unsigned i = 0; i < n; i++) {
		uint16_t fl = s[i].flags | (i + 1 < n ? F_NEXT : 0);
		put_desc(gmem(t, r->desc) + 16 * ((first + i) % QSIZE), s[i].gpa, s[i].len, fl,
			 (uint16_t)((first + i + 1) % QSIZE));
	}
	uint16_t head = (uint16_t)first;
	memcpy(gmem(t, r->avail) + 4 + 2 * (r->avail_idx % QSIZE), &head, 2);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(void *)(gmem(t, r->avail) + 2), r->avail_idx, __ATOMIC_RELEASE);
	mmio_wr(t, t->notify + t->notify_mult * q, 2, q);
}

static uint16_t used_idx(struct t *t, unsigned q)
{
	return __atomic_load_n((uint16_t *)(void *)(gmem(t, t->q[q].used) + 2), __ATOMIC_ACQUIRE);
}

/* Wait (2 s at most) for the device to return a chain; its {id, len}. */
static bool drv_wait_used(struct t *t, unsigned q, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 2000; i++) {
		if (used_idx(t, q) != t->q[q].used_seen) {
			uint8_t *e = gmem(t, t->q[q].used) + 4 + 8 * (t->q[q].used_seen % QSIZE);
			memcpy(id, e, 4);
			memcpy(len, e + 4, 4);
			t->q[q].used_seen++;
			return true;
		}
		usleep(1000);
	}
	return false;
}

/* The interrupt the core would inject on vector v: its route is unmasked,
 * carries what the guest programmed, and its eventfd fired. */
static bool irq_fired(struct t *t, unsigned v, int timeout_ms)
{
	for (int i = 0; i < 8; i++) {
		struct glue_msi_route *r = &t->f.routes[i];
		if (!r->used || r->data != 0x40 + v)
			continue;
		struct pollfd p = { r->efd, POLLIN, 0 };
		if (poll(&p, 1, timeout_ms) != 1)
			return false;
		uint64_t n;
		assert_int_equal(read(r->efd, &n, 8), 8);
		return !r->masked && r->addr == 0xfee00000;
	}
	return false;
}

/* What the backend (the tap) got, or -1 when nothing within timeout. */
static ssize_t peer_recv(struct t *t, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { t->peer, POLLIN, 0 };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recv(t->peer, buf, len, MSG_DONTWAIT);
}

static bool with_offloads;
static bool with_ioeventfd, with_no_ioeventfd;

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->f.glue.ops = with_ioeventfd ? &fake_ops_iofd : &fake_ops;
	t->f.ram[0] = (struct glue_ram_region){ RAM0_GPA, RAM0_SIZE, fenced(RAM0_SIZE, &t->f.maps[0]) };
	t->f.ram[1] = (struct glue_ram_region){ RAM1_GPA, RAM1_SIZE, fenced(RAM1_SIZE, &t->f.maps[1]) };
	assert_int_equal(pci_bus_create(&t->f.glue, MMIO_BASE, 0x100000, &t->bus), 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	t->backend = sv[0];
	t->peer = sv[1];
	struct virtio_net_params p = { .backend_fd = t->backend, .queue_size = 64,
				       .offloads = with_offloads, .no_ioeventfd = with_no_ioeventfd };
	memcpy(p.mac, MAC, 6);
	assert_int_equal(virtio_net_create(&t->f.glue, t->bus, &p, &t->vn), 0);
	t->devfn = virtio_pci_devfn(virtio_net_pci(t->vn));
	/* Firmware-style: take the addresses the bus gave the BARs, decode on. */
	t->bar0 = cfg_rd(t, 0x10, 4) & ~0xfull;
	t->bar1 = cfg_rd(t, 0x14, 4) & ~0xfull;
	cfg_wr(t, 0x04, 2, 0x0006);
	find_caps(t);
	ring_layout(t);
	*state = t;
	return 0;
}

static int setup_offloads(void **state)
{
	with_offloads = true;
	int r = setup(state);
	with_offloads = false;
	return r;
}

static int setup_ioeventfd(void **state)
{
	with_ioeventfd = true;
	int r = setup(state);
	with_ioeventfd = false;
	return r;
}

static int setup_ioeventfd_off(void **state)
{
	with_ioeventfd = with_no_ioeventfd = true;
	int r = setup(state);
	with_ioeventfd = with_no_ioeventfd = false;
	return r;
}

static int teardown(void **state)
{
	struct t *t = *state;
	virtio_net_destroy(t->vn);
	pci_bus_destroy(t->bus);
	close(t->backend);
	close(t->peer);
	for (int i = 0; i < 2; i++)
		munmap(t->f.maps[i], t->f.ram[i].size + 2 * PAGE);
	free(t);
	return 0;
}

/* --- discovery ---------------------------------------------------------------- */

static void test_pci_identity_and_caps(void **state)
{
	struct t *t = *state;
	assert_int_equal(cfg_rd(t, 0x00, 2), 0x1af4);          /* §4.1.2 */
	assert_int_equal(cfg_rd(t, 0x02, 2), 0x1041);          /* 0x1040 + network */
	assert_true(cfg_rd(t, 0x08, 1) >= 1);                  /* non-transitional */
	assert_int_equal(cfg_rd(t, 0x08, 4) >> 8, 0x020000);   /* Ethernet controller */
	assert_true(cfg_rd(t, 0x2e, 2) >= 0x40);
	assert_true(cfg_rd(t, 0x06, 2) & 0x10);                /* capability list */
	assert_int_equal(t->bar0 % 0x4000, 0);
	assert_true(t->bar0 >= MMIO_BASE && t->bar1 >= MMIO_BASE);
	assert_true(t->common && t->notify && t->isr && t->devcfg && t->pcicfg_cap && t->msix_cap);
	assert_int_equal(t->notify_mult, 4);
	/* MSI-X: 3 vectors (config + RX + TX), table and PBA in BAR 1. */
	assert_int_equal(cfg_rd(t, t->msix_cap + 2, 2) & 0x7ff, 2);
	assert_int_equal(cfg_rd(t, t->msix_cap + 4, 4) & 7, 1);
	assert_int_equal(mmio_rd(t, t->common + NUMQ, 2), 2);
	/* BAR sizing with decode off: 16 KiB and 4 KiB, 32-bit memory. */
	cfg_wr(t, 0x04, 2, 0);
	cfg_wr(t, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 0x10, 4), 0xffffc000);
	cfg_wr(t, 0x14, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 0x14, 4), 0xfffff000);
	/* With decode off nothing answers at the old address. */
	assert_int_equal(mmio_rd(t, t->common + NUMQ, 2), 0xffff);
	cfg_wr(t, 0x10, 4, (uint32_t)t->bar0);
	cfg_wr(t, 0x14, 4, (uint32_t)t->bar1);
	cfg_wr(t, 0x04, 2, 0x0006);
	assert_int_equal(mmio_rd(t, t->common + NUMQ, 2), 2);
}

static void test_features_and_config(void **state)
{
	struct t *t = *state;
	uint64_t f = device_features(t);
	assert_true(f & (1ull << 32));  /* VERSION_1 */
	assert_true(f & (1ull << 5));   /* MAC */
	assert_true(f & (1ull << 16));  /* STATUS */
	assert_false(f & (1ull << 0));  /* no CSUM offered */
	/* MAC and link status in the device config (§5.1.4). */
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(mmio_rd(t, t->devcfg + i, 1), MAC[i]);
	assert_int_equal(mmio_rd(t, t->devcfg + 6, 2), 1);      /* VIRTIO_NET_S_LINK_UP */
	/* A legacy driver (no VERSION_1) is refused FEATURES_OK. */
	set_status(t, 0);
	set_status(t, 3);
	driver_features(t, 1ull << 5);
	set_status(t, 3 | 8);
	assert_int_equal(status(t) & 8, 0);
	/* So is a feature the device did not offer. */
	set_status(t, 0);
	set_status(t, 3);
	driver_features(t, (1ull << 32) | 1);
	set_status(t, 3 | 8);
	assert_int_equal(status(t) & 8, 0);
	/* DRIVER_OK without FEATURES_OK does not stick. */
	set_status(t, 3 | 4);
	assert_int_equal(status(t) & 4, 0);
	/* The PCI config access capability reaches the same registers. */
	cfg_wr(t, t->pcicfg_cap + 4, 1, 0);
	cfg_wr(t, t->pcicfg_cap + 8, 4, NUMQ);
	cfg_wr(t, t->pcicfg_cap + 12, 4, 2);
	assert_int_equal(cfg_rd(t, t->pcicfg_cap + 16, 2), 2);
	/* Vectors beyond the table read back as NO_VECTOR (§4.1.5.1.2). */
	mmio_wr(t, t->common + CMSIX, 2, 7);
	assert_int_equal(mmio_rd(t, t->common + CMSIX, 2), 0xffff);
}

/* --- the data path ----------------------------------------------------------------- */

static const uint8_t FRAME[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x08, 0x06,
	'a', 'r', 'p', '-', 'l', 'i', 'k', 'e', ' ', 'p', 'a', 'y', 'l', 'o', 'a', 'd',
};

static void test_tx_frame_reaches_backend(void **state)
{
	struct t *t = *state;
	drv_init(t);
	/* Header and frame in separate descriptors, the frame split across
	 * the two RAM regions' buffers. */
	uint8_t *hdr = gmem(t, 0x20000), *a = gmem(t, 0x21000), *b = gmem(t, RAM1_GPA + 0x100);
	memset(hdr, 0, 12);
	hdr[0] = 1; /* NEEDS_CSUM: not negotiated, must not reach the host */
	memcpy(a, FRAME, 20);
	memcpy(b, FRAME + 20, 40);
	struct dseg s[] = { { 0x20000, 12, 0 }, { 0x21000, 20, 0 }, { RAM1_GPA + 0x100, 40, 0 } };
	drv_post(t, 1, 0, s, 3);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 12 + 60);
	assert_memory_equal(got + 12, FRAME, 60);
	assert_int_equal(got[0], 0);
	uint32_t id, len;
	assert_true(drv_wait_used(t, 1, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	assert_true(irq_fired(t, 2, 2000));
	struct virtio_net_stats st;
	virtio_net_get_stats(t->vn, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_bytes, 60);
	assert_int_equal(st.notify_traps, 1); /* no ioeventfd here: the doorbell trapped */
}

/* With a core that has ioeventfd, each queue's doorbell (BAR 0 + notify
 * offset + 4q, a 16-bit write, §4.1.4.4) is handed to it while BAR 0
 * decodes: a TX notification then never reaches a trap, and the frame still
 * goes out.  Memory decoding off takes the doorbells back. */
static void test_doorbells_go_to_ioeventfd(void **state)
{
	struct t *t = *state;
	assert_int_equal(iofds_used(&t->f), 2);
	for (unsigned q = 0; q < 2; q++) {
		bool found = false;
		for (int i = 0; i < 8; i++)
			found |= t->f.iofds[i].used && t->f.iofds[i].len == 2 &&
				 t->f.iofds[i].gpa == t->notify + t->notify_mult * q;
		assert_true(found);
	}
	drv_init(t);
	uint8_t *hdr = gmem(t, 0x20000);
	memset(hdr, 0, 12);
	memcpy(hdr + 12, FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
	assert_memory_equal(got + 12, FRAME, 60);
	struct virtio_net_stats st;
	virtio_net_get_stats(t->vn, &st);
	assert_int_equal(st.notify_traps, 0);
	assert_int_equal(st.tx_frames, 1);
	cfg_wr(t, 0x04, 2, 0x0000);
	assert_int_equal(iofds_used(&t->f), 0);
	cfg_wr(t, 0x04, 2, 0x0006);
	assert_int_equal(iofds_used(&t->f), 2);
}

/* no_ioeventfd (vfs-vmm --no-ioeventfd): the doorbells trap even where the
 * core has ioeventfd, and the trapped notifications are counted. */
static void test_no_ioeventfd_traps_the_doorbells(void **state)
{
	struct t *t = *state;
	assert_int_equal(iofds_used(&t->f), 0);
	drv_init(t);
	uint8_t *hdr = gmem(t, 0x20000);
	memset(hdr, 0, 12);
	memcpy(hdr + 12, FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
	struct virtio_net_stats st;
	virtio_net_get_stats(t->vn, &st);
	assert_int_equal(st.notify_traps, 1);
}

static void test_tx_indirect(void **state)
{
	struct t *t = *state;
	drv_init(t);
	uint8_t *tab = gmem(t, 0x30000);
	memset(gmem(t, 0x31000), 0, 12);
	memcpy(gmem(t, 0x32000), FRAME, 30);
	memcpy(gmem(t, 0x33000), FRAME + 30, 30);
	put_desc(tab, 0x31000, 12, F_NEXT, 1);
	put_desc(tab + 16, 0x32000, 30, F_NEXT, 2);
	put_desc(tab + 32, 0x33000, 30, 0, 0);
	struct dseg s[] = { { 0x30000, 48, F_INDIRECT } };
	drv_post(t, 1, 3, s, 1);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
	assert_memory_equal(got + 12, FRAME, 60);
	uint32_t id, len;
	assert_true(drv_wait_used(t, 1, &id, &len));
	assert_int_equal(id, 3);
}

static void test_rx_frame_reaches_guest(void **state)
{
	struct t *t = *state;
	drv_init(t);
	/* Two receive buffers: header+frame room each. */
	struct dseg s0[] = { { 0x40000, 1526, F_WRITE } };
	struct dseg s1[] = { { 0x41000, 12, F_WRITE }, { RAM1_GPA + 0x8000, 1514, F_WRITE } };
	drv_post(t, 0, 0, s0, 1);
	drv_post(t, 0, 1, s1, 2);
	uint8_t pkt[12 + 60] = { 0 };
	pkt[0] = 0xaa; /* what the tap says in its header must not leak through */
	memcpy(pkt + 12, FRAME, 60);
	assert_int_equal(send(t->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	uint32_t id, len;
	assert_true(drv_wait_used(t, 0, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 72);
	uint8_t *g = gmem(t, 0x40000);
	assert_int_equal(g[0], 0);                    /* flags: nothing negotiated */
	assert_int_equal(g[10] | g[11] << 8, 1);      /* num_buffers */
	assert_memory_equal(g + 12, FRAME, 60);
	assert_true(irq_fired(t, 1, 2000));
	/* The second frame lands in the split buffer. */
	pkt[12] = 0x33;
	assert_int_equal(send(t->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	assert_true(drv_wait_used(t, 0, &id, &len));
	assert_int_equal(id, 1);
	assert_int_equal(len, 72);
	assert_int_equal(gmem(t, RAM1_GPA + 0x8000)[0], 0x33);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct t *t = *state;
	drv_init(t);
	uint8_t pkt[12 + 60] = { 0 };
	memcpy(pkt + 12, FRAME, 60);
	assert_int_equal(send(t->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	usleep(50 * 1000);
	assert_int_equal(used_idx(t, 0), 0);          /* nowhere to put it yet */
	struct dseg s[] = { { 0x40000, 1526, F_WRITE } };
	drv_post(t, 0, 0, s, 1);
	uint32_t id, len;
	assert_true(drv_wait_used(t, 0, &id, &len));
	assert_int_equal(len, 72);
	assert_memory_equal(gmem(t, 0x40000) + 12, FRAME, 60);
}

static void test_msix_mask_keeps_pending(void **state)
{
	struct t *t = *state;
	drv_init(t);
	mmio_wr(t, t->bar1 + 16 * 2 + 12, 4, 1);      /* mask the TX vector */
	memset(gmem(t, 0x20000), 0, 12);
	memcpy(gmem(t, 0x20000 + 12), FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
	uint32_t id, len;
	assert_true(drv_wait_used(t, 1, &id, &len));
	/* Pending in the PBA (bit 2), nothing injected while masked. */
	for (int i = 0; i < 200 && !(mmio_rd(t, t->bar1 + 0x800, 8) & 4); i++)
		usleep(1000);
	assert_int_equal(mmio_rd(t, t->bar1 + 0x800, 8), 4);
	struct glue_msi_route *r = NULL;
	for (int i = 0; i < 8; i++)
		if (t->f.routes[i].used && t->f.routes[i].data == 0x42)
			r = &t->f.routes[i];
	assert_non_null(r);
	assert_true(r->masked);
	/* Unmask: the core now injects what the eventfd holds. */
	mmio_wr(t, t->bar1 + 16 * 2 + 12, 4, 0);
	assert_true(irq_fired(t, 2, 100));
}

static void test_reset_stops_the_device(void **state)
{
	struct t *t = *state;
	drv_init(t);
	set_status(t, 0);
	assert_int_equal(status(t), 0);
	mmio_wr(t, t->common + QSEL, 2, 1);
	assert_int_equal(mmio_rd(t, t->common + QEN, 2), 0);
	assert_int_equal(mmio_rd(t, t->common + QMSIX, 2), 0xffff);
	/* A notification after reset moves nothing. */
	memcpy(gmem(t, 0x20000 + 12), FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 100), -1);
	/* And the device comes back after a fresh initialization. */
	drv_init(t);
	drv_post(t, 1, 0, s, 1);
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
}

/* --- offloads (§5.1.6.2, §5.1.6.4) ---------------------------------------------------- */

#define F_CSUM (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_GUEST_TSO4 (1ull << 7)
#define F_HOST_TSO4 (1ull << 11)
#define F_HOST_TSO6 (1ull << 12)

static void drv_init_features(struct t *t, uint64_t want)
{
	drv_negotiate(t, want);
	drv_msix(t);
	mmio_wr(t, t->common + CMSIX, 2, 0);
	drv_setup_queue(t, 0, 1);
	drv_setup_queue(t, 1, 2);
	set_status(t, 1 | 2 | 8 | 4);
	assert_int_equal(status(t), 1 | 2 | 8 | 4);
}

/* A TSO header: NEEDS_CSUM, TCPv4 (or v6), hdr_len 54, gso_size 1448,
 * csum_start 34, csum_offset 16 (little-endian). */
static void tso_header(uint8_t *h, uint8_t gso_type)
{
	static const uint8_t v[12] = { 1, 0, 54, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0 };
	memcpy(h, v, 12);
	h[1] = gso_type;
}

static void test_offloads_offered_only_when_asked(void **state)
{
	struct t *t = *state;
	assert_int_equal(device_features(t) & (F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 | F_GUEST_TSO4), 0);
}

static void test_offloads_pass_what_was_negotiated(void **state)
{
	struct t *t = *state;
	uint64_t f = device_features(t);
	assert_true(f & F_CSUM);
	assert_true(f & F_HOST_TSO4);
	assert_true(f & F_GUEST_TSO4);
	/* The driver takes CSUM and HOST_TSO4 (not TSO6) and GUEST_CSUM. */
	drv_init_features(t, (1ull << 32) | (1ull << 5) | F_CSUM | F_HOST_TSO4 | F_GUEST_CSUM);
	uint8_t *g = gmem(t, 0x20000);
	tso_header(g, 1);
	g[10] = 7; /* num_buffers is not the host's business */
	memcpy(g + 12, FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128], want[12];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
	tso_header(want, 1);
	assert_memory_equal(got, want, 12);
	/* TSO for IPv6 was not negotiated: that frame does not reach the host. */
	tso_header(g, 4);
	drv_post(t, 1, 1, s, 1);
	uint32_t id, len;
	assert_true(drv_wait_used(t, 1, &id, &len));
	assert_true(drv_wait_used(t, 1, &id, &len));
	assert_int_equal(id, 1);
	assert_int_equal(peer_recv(t, got, sizeof(got), 100), -1);
	struct virtio_net_stats st;
	virtio_net_get_stats(t->vn, &st);
	assert_int_equal(st.tx_dropped, 1);
	/* Receive: with GUEST_CSUM the tap's DATA_VALID stands; num_buffers 1. */
	struct dseg r[] = { { 0x40000, 1526, F_WRITE } };
	drv_post(t, 0, 0, r, 1);
	uint8_t pkt[72] = { 2 /* DATA_VALID */ };
	memcpy(pkt + 12, FRAME, 60);
	assert_int_equal(send(t->peer, pkt, sizeof(pkt), 0), 72);
	assert_true(drv_wait_used(t, 0, &id, &len));
	assert_int_equal(gmem(t, 0x40000)[0], 2);
	assert_int_equal(gmem(t, 0x40000)[10], 1);
}

static void test_offloads_declined_headers_zeroed(void **state)
{
	struct t *t = *state;
	drv_init(t); /* VERSION_1, MAC, STATUS, INDIRECT: no offloads */
	uint8_t *g = gmem(t, 0x20000);
	tso_header(g, 0);  /* NEEDS_CSUM without CSUM negotiated */
	memcpy(g + 12, FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128], zero[12] = { 0 };
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
	assert_memory_equal(got, zero, 12);
	struct dseg r[] = { { 0x40000, 1526, F_WRITE } };
	drv_post(t, 0, 0, r, 1);
	uint8_t pkt[72] = { 2 };
	memcpy(pkt + 12, FRAME, 60);
	assert_int_equal(send(t->peer, pkt, sizeof(pkt), 0), 72);
	uint32_t id, len;
	assert_true(drv_wait_used(t, 0, &id, &len));
	assert_int_equal(gmem(t, 0x40000)[0], 0);      /* no GUEST_CSUM: flags 0 */
}

/* --- a hostile guest ------------------------------------------------------------------ */

struct bad_case {
	const char *what;
	unsigned q;
	int err;                 /* what the device records */
	void (*build)(struct t *t);
};

static void post_raw(struct t *t, unsigned q, uint16_t head, uint16_t new_idx)
{
	struct ring *r = &t->q[q];
	memcpy(gmem(t, r->avail) + 4 + 2 * (r->avail_idx % QSIZE), &head, 2);
	r->avail_idx = new_idx;
	__atomic_store_n((uint16_t *)(void *)(gmem(t, r->avail) + 2), new_idx, __ATOMIC_RELEASE);
	mmio_wr(t, t->notify + t->notify_mult * q, 2, q);
}

static void one_desc(struct t *t, unsigned q, uint64_t gpa, uint32_t len, uint16_t flags)
{
	put_desc(gmem(t, t->q[q].desc), gpa, len, flags, 0);
	post_raw(t, q, 0, 1);
}

static void b_past_ram_end(struct t *t) { one_desc(t, 1, RAM1_GPA + RAM1_SIZE - 8, 72, 0); }
static void b_in_hole(struct t *t) { one_desc(t, 1, RAM0_GPA + RAM0_SIZE - 16, 72, 0); }
static void b_wraps(struct t *t) { one_desc(t, 1, 0xfffffffffffff000ull, 0x2000, 0); }
static void b_huge_len(struct t *t) { one_desc(t, 1, 0x20000, 0xffffffffu, 0); }
static void b_next_out_of_table(struct t *t)
{
	put_desc(gmem(t, t->q[1].desc), 0x20000, 12, F_NEXT, QSIZE);
	post_raw(t, 1, 0, 1);
}
static void b_loop(struct t *t)
{
	put_desc(gmem(t, t->q[1].desc), 0x20000, 12, F_NEXT, 1);
	put_desc(gmem(t, t->q[1].desc) + 16, 0x20000, 12, F_NEXT, 0);
	post_raw(t, 1, 0, 1);
}
static void b_avail_runs_ahead(struct t *t)
{
	put_desc(gmem(t, t->q[1].desc), 0x20000, 72, 0, 0);
	post_raw(t, 1, 0, QSIZE + 1);
}
static void b_head_out_of_table(struct t *t) { post_raw(t, 1, QSIZE + 3, 1); }
static void b_nested_indirect(struct t *t)
{
	put_desc(gmem(t, 0x30000), 0x30100, 32, F_INDIRECT, 0);
	one_desc(t, 1, 0x30000, 16, F_INDIRECT);
}
static void b_indirect_odd_len(struct t *t) { one_desc(t, 1, 0x30000, 24, F_INDIRECT); }
static void b_indirect_outside(struct t *t) { one_desc(t, 1, RAM0_GPA + RAM0_SIZE, 32, F_INDIRECT); }
static void b_indirect_next(struct t *t)
{
	put_desc(gmem(t, 0x30000), 0x20000, 72, 0, 0);
	put_desc(gmem(t, t->q[1].desc), 0x30000, 16, F_INDIRECT | F_NEXT, 1);
	put_desc(gmem(t, t->q[1].desc) + 16, 0x20000, 12, 0, 0);
	post_raw(t, 1, 0, 1);
}
static void b_indirect_loop(struct t *t)
{
	put_desc(gmem(t, 0x30000), 0x20000, 12, F_NEXT, 1);
	put_desc(gmem(t, 0x30000) + 16, 0x20000, 12, F_NEXT, 0);
	one_desc(t, 1, 0x30000, 32, F_INDIRECT);
}
static void b_readable_after_writable(struct t *t)
{
	put_desc(gmem(t, t->q[1].desc), 0x20000, 12, F_WRITE | F_NEXT, 1);
	put_desc(gmem(t, t->q[1].desc) + 16, 0x21000, 60, 0, 0);
	post_raw(t, 1, 0, 1);
}
static void b_tx_shorter_than_header(struct t *t) { one_desc(t, 1, 0x20000, 6, 0); }
static void b_rx_readonly_buffer(struct t *t) { one_desc(t, 0, 0x40000, 1526, 0); }
static void b_rx_outside(struct t *t) { one_desc(t, 0, RAM1_GPA + RAM1_SIZE, 1526, F_WRITE); }

static const struct bad_case bad_cases[] = {
	{ "buffer runs past the end of guest RAM", 1, -EFAULT, b_past_ram_end },
	{ "buffer straddles the hole between RAM regions", 1, -EFAULT, b_in_hole },
	{ "buffer address + length wraps around 2^64", 1, -EFAULT, b_wraps },
	{ "buffer length 4 GiB - 1", 1, -EFAULT, b_huge_len },
	{ "next index beyond the descriptor table", 1, -EINVAL, b_next_out_of_table },
	{ "descriptor chain loops", 1, -ELOOP, b_loop },
	{ "available idx runs more than a queue ahead", 1, -EINVAL, b_avail_runs_ahead },
	{ "available ring names a head beyond the table", 1, -EINVAL, b_head_out_of_table },
	{ "indirect table inside an indirect table", 1, -EINVAL, b_nested_indirect },
	{ "indirect table length not a multiple of 16", 1, -EINVAL, b_indirect_odd_len },
	{ "indirect table outside guest RAM", 1, -EFAULT, b_indirect_outside },
	{ "indirect descriptor with NEXT", 1, -EINVAL, b_indirect_next },
	{ "indirect chain loops", 1, -ELOOP, b_indirect_loop },
	{ "readable descriptor after a writable one", 1, -EINVAL, b_readable_after_writable },
	{ "transmit chain shorter than the net header", 1, -EINVAL, b_tx_shorter_than_header },
	{ "receive buffer the device may not write", 0, -EINVAL, b_rx_readonly_buffer },
	{ "receive buffer outside guest RAM", 0, -EFAULT, b_rx_outside },
};

static void test_hostile_rings_are_refused(void **state)
{
	struct t *t = *state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		drv_init(t);
		print_message("# hostile: %s\n", c->what);
		c->build(t);
		/* The device gives up on the driver: NEEDS_RESET and a config
		 * interrupt (§2.1.2); nothing reaches the host, no chain is used. */
		for (int w = 0; w < 2000 && !(status(t) & 64); w++)
			usleep(1000);
		assert_true(status(t) & 64);
		assert_int_equal(virtio_pci_last_error(virtio_net_pci(t->vn)), c->err);
		assert_true(irq_fired(t, 0, 1000));
		uint8_t got[128];
		assert_int_equal(peer_recv(t, got, sizeof(got), 0), -1);
		assert_int_equal(used_idx(t, c->q), 0);
	}
}

static void test_hostile_ring_addresses_refused_at_enable(void **state)
{
	struct t *t = *state;
	static const struct { uint64_t desc, avail, used; int err; } cases[] = {
		{ RAM1_GPA + RAM1_SIZE - 64, 0x2000, 0x3000, -EFAULT },   /* table past RAM */
		{ 0x1000, RAM0_GPA + RAM0_SIZE - 4, 0x3000, -EFAULT },    /* avail in the hole */
		{ 0x1000, 0x2000, 0xfffffffffffffff0ull, -EFAULT },       /* used wraps */
		{ 0x1008, 0x2000, 0x3000, -EINVAL },                      /* table misaligned */
		{ 0x1000, 0x2001, 0x3000, -EINVAL },                      /* avail misaligned */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		drv_negotiate(t, (1ull << 32) | (1ull << 5));
		drv_msix(t);
		mmio_wr(t, t->common + CMSIX, 2, 0);
		mmio_wr(t, t->common + QSEL, 2, 0);
		mmio_wr(t, t->common + QDESC, 8, cases[i].desc);
		mmio_wr(t, t->common + QDRV, 8, cases[i].avail);
		mmio_wr(t, t->common + QDEV, 8, cases[i].used);
		mmio_wr(t, t->common + QEN, 2, 1);
		assert_true(status(t) & 64);
		assert_int_equal(mmio_rd(t, t->common + QEN, 2), 0);
		assert_int_equal(virtio_pci_last_error(virtio_net_pci(t->vn)), cases[i].err);
		assert_true(irq_fired(t, 0, 1000));
	}
	/* Queue sizes that are not powers of two are not taken. */
	set_status(t, 0);
	mmio_wr(t, t->common + QSEL, 2, 0);
	mmio_wr(t, t->common + QSIZE_R, 2, 6);
	assert_int_equal(mmio_rd(t, t->common + QSIZE_R, 2), 64);
	mmio_wr(t, t->common + QSIZE_R, 2, 128);
	assert_int_equal(mmio_rd(t, t->common + QSIZE_R, 2), 64);
}

static void test_odd_register_accesses_are_harmless(void **state)
{
	struct t *t = *state;
	/* Every offset and width across both BARs, read and written with junk,
	 * must neither crash nor touch anything outside the device. */
	for (uint64_t off = 0; off < 0x4000; off += 1)
		for (unsigned size = 1; size <= 8; size *= 2) {
			if (off + size > 0x4000 || (off & (size - 1)))
				continue;
			(void)mmio_rd(t, t->bar0 + off, size);
			if (off != 0x14) /* leave the device status alone */
				mmio_wr(t, t->bar0 + off, size, 0xa5a5a5a5a5a5a5a5ull);
		}
	for (uint64_t off = 0; off < 0x1000; off += 4)
		mmio_wr(t, t->bar1 + off, 4, 0xffffffff);
	for (unsigned off = 0x40; off < 0x100; off++)
		cfg_wr(t, off, 1, 0xff);
	/* Still a working device afterwards. */
	cfg_wr(t, 0x10, 4, (uint32_t)t->bar0);
	cfg_wr(t, 0x14, 4, (uint32_t)t->bar1);
	cfg_wr(t, 0x04, 2, 0x0006);
	cfg_wr(t, t->msix_cap + 2, 2, 0);
	drv_init(t);
	memset(gmem(t, 0x20000), 0, 12);
	memcpy(gmem(t, 0x20000 + 12), FRAME, 60);
	struct dseg s[] = { { 0x20000, 72, 0 } };
	drv_post(t, 1, 0, s, 1);
	uint8_t got[128];
	assert_int_equal(peer_recv(t, got, sizeof(got), 2000), 72);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_identity_and_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_frame_reaches_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doorbells_go_to_ioeventfd, setup_ioeventfd, teardown),
		cmocka_unit_test_setup_teardown(test_no_ioeventfd_traps_the_doorbells, setup_ioeventfd_off, teardown),
		cmocka_unit_test_setup_teardown(test_rx_frame_reaches_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_mask_keeps_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_stops_the_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offloads_offered_only_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offloads_pass_what_was_negotiated, setup_offloads, teardown),
		cmocka_unit_test_setup_teardown(test_offloads_declined_headers_zeroed, setup_offloads, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rings_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_ring_addresses_refused_at_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_register_accesses_are_harmless, setup, teardown),
	};
	return cmocka_run_group_tests_name("virtio_net", tests, NULL, NULL);
}
