/*
 * libFuzzer target for the emulated vNIC's queue handling: a hostile driver
 * sets up the two virtio-net queues (vmm_glue/dev/virtio_pci.c common config,
 * vmm_glue/dev/virtqueue.c) at addresses, sizes and features from the input,
 * fills guest RAM (descriptors, rings, buffers) with the input's bytes, and
 * the device's transmit and receive passes (virtio_net.c do_tx / do_rx, run
 * here without the device thread so each input is deterministic) take what
 * is there, with frames waiting on the backend.
 *
 * Guest RAM is two small regions with a hole between them, each fenced by
 * PROT_NONE pages: a read or write outside guest RAM faults.  After each
 * pass the chains the device popped must lie inside guest RAM, and what the
 * backend got and the guest was given must agree with the device's counts
 * and the limits of virtio 1.2 §5.1.6.
 */
#include "vmm_glue/dev/virtio_net.c"   /* do_tx, do_rx and struct virtio_net */

#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "vmm_glue/dev/pci_bus.h"

#define RAM0_GPA  0x0000ull
#define RAM1_GPA  0x2000ull    /* hole 0x1000 .. 0x2000 */
#define RAM_SIZE  0x1000ull
#define MMIO_BASE 0xc0000000ull
#define PAGE      4096ull
#define NTRAPS    16

/* §4.1.4.3 common configuration offsets. */
enum { DFSEL = 0, DF = 4, GFSEL = 8, GF = 12, STATUS = 20, QSEL = 22, QSIZE = 24, QEN = 28,
       QDESC = 32, QDRV = 40, QDEV = 48 };

struct trap { bool used; enum glue_space space; uint64_t base, len; glue_trap_fn fn; void *ctx; };
struct glue_msi_route { bool used; int efd; };

static struct {
	struct glue glue;
	struct glue_ram_region ram[2];
	struct trap traps[NTRAPS];
	struct glue_msi_route routes[4];
	struct pci_bus *bus;
	struct virtio_net *vn;
	int peer;
	unsigned devfn;
	uint64_t common;
} F;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_virtio_net: invariant broken: %s\n", what);
		abort();
	}
}

/* --- a fake VMX core ---------------------------------------------------------- */

static int f_ram(struct glue *g, const struct glue_ram_region **r, size_t *n)
{
	(void)g;
	*r = F.ram;
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
	(void)g;
	for (int i = 0; i < NTRAPS; i++)
		if (!F.traps[i].used) {
			F.traps[i] = (struct trap){ true, s, base, len, fn, ctx };
			*id = i;
			return 0;
		}
	return -ENOSPC;
}
static int f_untrap(struct glue *g, int id) { (void)g; F.traps[id].used = false; return 0; }
static int f_msi(struct glue *g, uint64_t a, uint32_t d) { (void)g; (void)a; (void)d; return 0; }
static int f_route_add(struct glue *g, int efd, uint64_t a, uint32_t d, bool m, struct glue_msi_route **r)
{
	(void)g; (void)a; (void)d; (void)m;
	for (int i = 0; i < 4; i++)
		if (!F.routes[i].used) {
			F.routes[i] = (struct glue_msi_route){ true, efd };
			*r = &F.routes[i];
			return 0;
		}
	return -ENOSPC;
}
static int f_route_update(struct glue *g, struct glue_msi_route *r, uint64_t a, uint32_t d, bool m)
{
	(void)g; (void)r; (void)a; (void)d; (void)m;
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
};

static uint64_t guest_access(enum glue_space s, uint64_t addr, unsigned size, uint64_t val, bool wr)
{
	uint8_t d[8] = { 0 };
	if (wr)
		glue_put_le(d, size, val);
	for (int i = 0; i < NTRAPS; i++) {
		struct trap *t = &F.traps[i];
		if (t->used && t->space == s && addr >= t->base && addr + size <= t->base + t->len) {
			t->fn(t->ctx, addr, d, size, wr);
			return wr ? 0 : glue_get_le(d, size);
		}
	}
	return ~0ull >> (64 - 8 * size);
}
static uint32_t cfg_rd(unsigned off, unsigned size)
{
	guest_access(GLUE_PIO, 0xcf8, 4, 0x80000000u | F.devfn << 8 | (off & 0xfc), true);
	return (uint32_t)guest_access(GLUE_PIO, 0xcfc + (off & 3), size, 0, false);
}
static void cfg_wr(unsigned off, unsigned size, uint32_t val)
{
	guest_access(GLUE_PIO, 0xcf8, 4, 0x80000000u | F.devfn << 8 | (off & 0xfc), true);
	guest_access(GLUE_PIO, 0xcfc + (off & 3), size, val, true);
}
static void mmio_wr(uint64_t off, unsigned size, uint64_t v) { guest_access(GLUE_MMIO, F.common + off, size, v, true); }

static void *fenced(void)
{
	uint8_t *m = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE))
		abort();
	return m + PAGE;
}

static void setup_once(void)
{
	F.glue.ops = &fake_ops;
	F.ram[0] = (struct glue_ram_region){ RAM0_GPA, RAM_SIZE, fenced() };
	F.ram[1] = (struct glue_ram_region){ RAM1_GPA, RAM_SIZE, fenced() };
	int sv[2];
	if (pci_bus_create(&F.glue, MMIO_BASE, 0x100000, &F.bus) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
		abort();
	F.peer = sv[1];
	struct virtio_net_params p = { .backend_fd = sv[0], .queue_size = 64, .offloads = true,
				       .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
	if (virtio_net_create(&F.glue, F.bus, &p, &F.vn))
		abort();
	/* The passes run here, one input at a time: stop the device's thread. */
	kick(F.vn->stop_efd);
	pthread_join(F.vn->thread, NULL);
	F.vn->thread_on = false;
	F.devfn = virtio_pci_devfn(F.vn->vp);
	F.common = (cfg_rd(0x10, 4) & ~0xfull) + VIRTIO_PCI_COMMON_OFF;
	cfg_wr(0x04, 2, 0x0006); /* memory decode, bus master */
}

/* --- the input ---------------------------------------------------------------- */

struct input {
	const uint8_t *d;
	size_t n, at;
};
static unsigned take(struct input *in, unsigned bytes)
{
	unsigned v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (unsigned)(in->at < in->n ? in->d[in->at++] : 0) << (8 * i);
	return v;
}
/* A ring address: mostly near guest RAM and its hole, sometimes at the top
 * of the address space (the sums must not wrap). */
static uint64_t gpa_of(unsigned sel)
{
	return (sel & 0x8000) ? 0xfffffffffffff000ull | (sel & 0xfff) : sel & 0x3fff;
}

static bool inside_ram(const uint8_t *p, uint64_t len)
{
	for (int i = 0; i < 2; i++) {
		const uint8_t *b = F.ram[i].hva;
		if (p >= b && p <= b + F.ram[i].size && len <= (uint64_t)(b + F.ram[i].size - p))
			return true;
	}
	return false;
}
static void check_chain(const struct vq_chain *c)
{
	uint64_t out = 0, in = 0;
	check(c->n_out + c->n_in <= VQ_MAX_SEGS, "a chain carries at most VQ_MAX_SEGS segments");
	for (unsigned i = 0; i < c->n_out + c->n_in; i++) {
		check(inside_ram(c->seg[i].hva, c->seg[i].len), "every segment lies in guest RAM");
		*(i < c->n_out ? &out : &in) += c->seg[i].len;
	}
	check(out == c->out_len && in == c->in_len, "a chain's lengths are its segments' sums");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.vn)
		setup_once();
	struct input in = { data, size, 0 };
	unsigned feat = take(&in, 1);
	unsigned qsize[2] = { take(&in, 1), take(&in, 1) };
	uint64_t ring[2][3];
	for (int q = 0; q < 2; q++)
		for (int k = 0; k < 3; k++)
			ring[q][k] = gpa_of(take(&in, 2));
	unsigned ctl = take(&in, 1);
	unsigned nframes = ctl & 3, rounds = 1 + ((ctl >> 2) & 3);
	unsigned flen[3];
	for (unsigned i = 0; i < 3; i++)
		flen[i] = take(&in, 2) % 2048;

	/* Guest RAM: the rest of the input, then zeros. */
	for (int r = 0; r < 2; r++) {
		size_t k = in.at < in.n ? in.n - in.at : 0;
		if (k > RAM_SIZE)
			k = RAM_SIZE;
		memset(F.ram[r].hva, 0, RAM_SIZE);
		memcpy(F.ram[r].hva, data + in.at, k);
		in.at += k;
	}

	/* §3.1.1 driver initialization with the input's choices. */
	uint64_t want = VIRTIO_FEATURE_VERSION_1 | NET_F_MAC | NET_F_STATUS;
	const uint64_t optional[] = { VIRTIO_FEATURE_INDIRECT_DESC, NET_F_CSUM, NET_F_GUEST_CSUM,
				      NET_F_HOST_TSO4, NET_F_HOST_TSO6, NET_F_GUEST_TSO4, NET_F_GUEST_TSO6 };
	for (unsigned i = 0; i < 7; i++)
		if (feat & (1u << i))
			want |= optional[i];
	mmio_wr(STATUS, 1, 0);
	mmio_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(GFSEL, 4, 0);
	mmio_wr(GF, 4, (uint32_t)want);
	mmio_wr(GFSEL, 4, 1);
	mmio_wr(GF, 4, (uint32_t)(want >> 32));
	mmio_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		unsigned c = qsize[q];
		mmio_wr(QSEL, 2, q);
		mmio_wr(QSIZE, 2, (c & 0x80) ? (c & 0x7f) : 1u << (c % 6));
		mmio_wr(QDESC, 4, (uint32_t)ring[q][0]);
		mmio_wr(QDESC + 4, 4, (uint32_t)(ring[q][0] >> 32));
		mmio_wr(QDRV, 4, (uint32_t)ring[q][1]);
		mmio_wr(QDRV + 4, 4, (uint32_t)(ring[q][1] >> 32));
		mmio_wr(QDEV, 4, (uint32_t)ring[q][2]);
		mmio_wr(QDEV + 4, 4, (uint32_t)(ring[q][2] >> 32));
		mmio_wr(QEN, 2, 1);
	}
	mmio_wr(STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		VIRTIO_STATUS_DRIVER_OK);

	/* Frames waiting on the backend for the receive pass. */
	static uint8_t frame[2048];
	unsigned sent = 0;
	for (unsigned i = 0; i < nframes; i++) {
		memset(frame, 0x5a ^ (int)i, sizeof(frame));
		if (send(F.peer, frame, flen[i], 0) == (ssize_t)flen[i])
			sent++;
	}

	struct virtio_net_stats before = F.vn->st;
	virtio_pci_lock(F.vn->vp);
	for (unsigned r = 0; r < rounds; r++) {
		memset(&F.vn->tx_chain, 0, sizeof(F.vn->tx_chain));
		do_tx(F.vn);
		check_chain(&F.vn->tx_chain);
		do_rx(F.vn);
		check_chain(&F.vn->rx_chain);
	}
	virtio_pci_unlock(F.vn->vp);
	struct virtio_net_stats after = F.vn->st;

	/* What the backend got: whole frames behind a header, within §5.1.6.2's
	 * limits, as many as the device counted. */
	uint64_t got = 0;
	static uint8_t buf[VIRTIO_NET_HDR_LEN + MAX_FRAME + 1];
	for (;;) {
		ssize_t k = recv(F.peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (k < 0)
			break;
		check(k >= (ssize_t)(VIRTIO_NET_HDR_LEN + 14) && k <= (ssize_t)(VIRTIO_NET_HDR_LEN + MAX_FRAME),
		      "a transmitted frame is a header and 14..MAX_FRAME bytes");
		got++;
	}
	check(got == after.tx_frames - before.tx_frames, "the backend got as many frames as were counted");
	check(after.rx_frames - before.rx_frames <= sent, "no more frames received than the backend sent");

	/* The next input starts clean: frames the guest did not take go, and so
	 * does a chain the device held over (the reset at the next input's start
	 * drops it, as a driver's reset does). */
	while (recv(F.vn->p.backend_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	F.vn->backend_dead = false;
	return 0;
}
