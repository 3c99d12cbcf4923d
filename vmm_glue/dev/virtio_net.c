/*
 * virtio_net.c — the virtio network device (virtio 1.2 §5.1) and its
 * frame-moving thread.  See virtio_net.h.
 */
#include "vmm_glue/dev/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

/* §5.1.3 feature bits. */
#define NET_F_CSUM       (1ull << 0)   /* device takes partially checksummed frames */
#define NET_F_GUEST_CSUM (1ull << 1)   /* driver takes them */
#define NET_F_MAC        (1ull << 5)
#define NET_F_GUEST_TSO4 (1ull << 7)   /* driver takes TSO frames */
#define NET_F_GUEST_TSO6 (1ull << 8)
#define NET_F_HOST_TSO4  (1ull << 11)  /* device takes TSO frames */
#define NET_F_HOST_TSO6  (1ull << 12)
#define NET_F_STATUS     (1ull << 16)
#define NET_OFFLOADS     (NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6 | \
			  NET_F_HOST_TSO4 | NET_F_HOST_TSO6)
/* §5.1.4 struct virtio_net_config: u8 mac[6], le16 status,
 * le16 max_virtqueue_pairs (only with MQ; reads 1 here). */
#define NCFG_MAC         0
#define NCFG_STATUS      6
#define NCFG_MAX_PAIRS   8
#define NCFG_LEN         10
#define NET_S_LINK_UP    1u
/* §5.1.6 struct virtio_net_hdr_v1: u8 flags, u8 gso_type, le16 hdr_len,
 * le16 gso_size, le16 csum_start, le16 csum_offset, le16 num_buffers. */
#define HDR_FLAGS        0
#define HDR_GSO_TYPE     1
#define HDR_CSUM_START   6
#define HDR_NUM_BUFFERS  10
#define HDR_F_NEEDS_CSUM 1
#define GSO_NONE         0
#define GSO_TCPV4        1
#define GSO_TCPV6        4
/* The largest frame we carry: no GSO was offered, so an MTU-sized frame;
 * allow a jumbo driver too (§5.1.6.2: what the driver may send). */
#define MAX_FRAME        65550u
/* Chains handled per pass before the lock is let go. */
#define BUDGET           256

struct virtio_net {
	struct virtio_pci *vp;
	struct virtio_net_params p;
	uint8_t config[NCFG_LEN];
	int kick[2];             /* eventfds: driver notified RX / TX */
	int stop_efd;
	pthread_t thread;
	bool thread_on;
	/* Under the transport lock: */
	bool rx_held;            /* a receive chain popped, waiting for a frame */
	struct vq_chain rx_chain;
	struct vq_chain tx_chain;
	bool backend_dead;
	struct virtio_net_stats st;
};

/* --- transport callbacks ------------------------------------------------ */

static void kick(int efd)
{
	uint64_t one = 1;
	if (write(efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: already signalled */
	}
}

static void net_notify(void *ctx, unsigned q)
{
	struct virtio_net *vn = ctx;
	if (q < 2)
		kick(vn->kick[q]);
}

static int net_notify_fd(void *ctx, unsigned q)
{
	struct virtio_net *vn = ctx;
	return q < 2 ? vn->kick[q] : -1;
}

/* What the tap may hand us, from what the driver accepted
 * (include/uapi/linux/if_tun.h TUNSETOFFLOAD).  A backend that is not a tap
 * (a test's socketpair) refuses the ioctl, which changes nothing. */
static void tap_offloads(struct virtio_net *vn, uint64_t f)
{
	unsigned long flags = 0;
	if (f & NET_F_GUEST_CSUM) {
		flags |= TUN_F_CSUM;
		if (f & NET_F_GUEST_TSO4)
			flags |= TUN_F_TSO4;
		if (f & NET_F_GUEST_TSO6)
			flags |= TUN_F_TSO6;
	}
	if (ioctl(vn->p.backend_fd, TUNSETOFFLOAD, flags) != 0) {
		/* not a tap: it sends plain frames anyway */
	}
}

static void net_status(void *ctx, uint8_t status)
{
	struct virtio_net *vn = ctx;
	if (status == 0) {
		vn->rx_held = false; /* reset: the old rings are gone */
		if (vn->vp)
			tap_offloads(vn, 0);
		return;
	}
	tap_offloads(vn, virtio_pci_features(vn->vp));
	kick(vn->kick[VIRTIO_NET_RXQ]); /* DRIVER_OK: look at the queues */
}

static void net_cfg_read(void *ctx, unsigned off, uint8_t *data, unsigned size)
{
	struct virtio_net *vn = ctx;
	memcpy(data, vn->config + off, size); /* the transport bounds off+size */
}

static const struct virtio_pci_dev_ops net_ops = {
	.notify = net_notify,
	.notify_fd = net_notify_fd,
	.status = net_status,
	.cfg_read = net_cfg_read,
	.cfg_write = NULL, /* §5.1.4: the config is read-only without CTRL_MAC_ADDR */
};

/* --- transmit (§5.1.6.2) ---------------------------------------------------- */

/* The header the host gets: the driver's, keeping only what was negotiated
 * (§5.1.6.2.1: no NEEDS_CSUM without CSUM, no GSO type without the matching
 * HOST_TSO); the tap checks the rest as it does for any user.  False: the
 * driver asked for a GSO type it did not negotiate — drop the frame. */
static bool tx_header(const struct virtio_net *vn, uint8_t hdr[VIRTIO_NET_HDR_LEN])
{
	uint64_t f = virtio_pci_features(vn->vp);
	hdr[HDR_NUM_BUFFERS] = hdr[HDR_NUM_BUFFERS + 1] = 0;
	if (!(f & NET_F_CSUM) || !(hdr[HDR_FLAGS] & HDR_F_NEEDS_CSUM)) {
		hdr[HDR_FLAGS] = 0;
		memset(hdr + HDR_CSUM_START, 0, 4); /* csum_start, csum_offset */
	}
	hdr[HDR_FLAGS] &= HDR_F_NEEDS_CSUM;
	uint8_t gso = hdr[HDR_GSO_TYPE];
	if (gso == GSO_NONE) {
		memset(hdr + 2, 0, 4); /* hdr_len, gso_size */
		return true;
	}
	return (gso == GSO_TCPV4 && (f & NET_F_HOST_TSO4)) || (gso == GSO_TCPV6 && (f & NET_F_HOST_TSO6));
}

/* One frame out: the checked header, then the rest of the chain's readable
 * part, in one writev. */
static void tx_one(struct virtio_net *vn, const struct vq_chain *c)
{
	uint8_t hdr[VIRTIO_NET_HDR_LEN];
	vq_chain_read(c, 0, hdr, sizeof(hdr));
	if (!tx_header(vn, hdr)) {
		vn->st.tx_dropped++;
		return;
	}
	struct iovec iov[VQ_MAX_SEGS + 1];
	unsigned n = 0;
	uint64_t frame = c->out_len - VIRTIO_NET_HDR_LEN;
	if (frame > MAX_FRAME || frame < 14) {
		vn->st.tx_dropped++;
		return;
	}
	iov[n++] = (struct iovec){ hdr, sizeof(hdr) };
	size_t skip = VIRTIO_NET_HDR_LEN;
	for (unsigned i = 0; i < c->n_out; i++) {
		size_t len = c->seg[i].len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		iov[n++] = (struct iovec){ c->seg[i].hva + skip, len - skip };
		skip = 0;
	}
	ssize_t w = writev(vn->p.backend_fd, iov, (int)n);
	if (w < 0) {
		vn->st.tx_dropped++; /* a full backend drops, as a full wire would */
		return;
	}
	vn->st.tx_frames++;
	vn->st.tx_bytes += frame;
}

static void do_tx(struct virtio_net *vn)
{
	struct virtqueue *vq = virtio_pci_queue(vn->vp, VIRTIO_NET_TXQ);
	unsigned done = 0;
	while (vq && done < BUDGET) {
		int r = vq_pop(vq, &vn->tx_chain);
		if (r == 0)
			break;
		if (r < 0 || vn->tx_chain.out_len < VIRTIO_NET_HDR_LEN) {
			virtio_pci_fail(vn->vp, r < 0 ? r : -EINVAL);
			return;
		}
		tx_one(vn, &vn->tx_chain);
		vq_push(vq, vn->tx_chain.head, 0);
		done++;
	}
	if (done) {
		virtio_pci_interrupt(vn->vp, VIRTIO_NET_TXQ);
		vn->st.interrupts++;
	}
	if (done == BUDGET)
		kick(vn->kick[VIRTIO_NET_TXQ]); /* more to do: come back after the others */
}

/* --- receive (§5.1.6.3) --------------------------------------------------------- */

/* Returns whether the thread should wait for the backend (a receive buffer
 * is ready and the backend had nothing). */
static bool do_rx(struct virtio_net *vn)
{
	struct virtqueue *vq = virtio_pci_queue(vn->vp, VIRTIO_NET_RXQ);
	unsigned done = 0;
	bool wait_backend = false;
	while (vq && !vn->backend_dead && done < BUDGET) {
		if (!vn->rx_held) {
			int r = vq_pop(vq, &vn->rx_chain);
			if (r == 0)
				break; /* no buffers: wait for the driver's notification */
			/* §5.1.6.3.1: receive buffers are device-writable and hold
			 * at least the header. */
			if (r < 0 || vn->rx_chain.n_out || vn->rx_chain.in_len < VIRTIO_NET_HDR_LEN) {
				virtio_pci_fail(vn->vp, r < 0 ? r : -EINVAL);
				return false;
			}
			vn->rx_held = true;
		}
		struct vq_chain *c = &vn->rx_chain;
		struct iovec iov[VQ_MAX_SEGS];
		for (unsigned i = 0; i < c->n_in; i++)
			iov[i] = (struct iovec){ c->seg[i].hva, c->seg[i].len };
		ssize_t got = readv(vn->p.backend_fd, iov, (int)c->n_in);
		if (got < 0) {
			wait_backend = errno == EAGAIN || errno == EINTR;
			if (!wait_backend)
				vn->backend_dead = true;
			break;
		}
		if (got == 0) {
			vn->backend_dead = true; /* peer gone */
			break;
		}
		if ((size_t)got < VIRTIO_NET_HDR_LEN)
			continue; /* not a frame: keep the buffer for the next one */
		/* §5.1.6.4.1: one buffer per packet without MRG_RXBUF.  The tap's
		 * header stands when the driver took offloads (the tap only sends
		 * what TUNSETOFFLOAD allowed, which follows the negotiated
		 * features); otherwise flags and gso_type are 0. */
		uint8_t hdr[VIRTIO_NET_HDR_LEN] = { 0 };
		if (virtio_pci_features(vn->vp) & NET_F_GUEST_CSUM) {
			uint8_t one[2] = { 1, 0 };
			vq_chain_write(c, HDR_NUM_BUFFERS, one, sizeof(one));
		} else {
			hdr[HDR_NUM_BUFFERS] = 1;
			vq_chain_write(c, 0, hdr, sizeof(hdr));
		}
		vq_push(vq, c->head, (uint32_t)got);
		vn->rx_held = false;
		vn->st.rx_frames++;
		vn->st.rx_bytes += (uint64_t)got - VIRTIO_NET_HDR_LEN;
		done++;
	}
	if (done) {
		virtio_pci_interrupt(vn->vp, VIRTIO_NET_RXQ);
		vn->st.interrupts++;
	}
	if (done == BUDGET)
		kick(vn->kick[VIRTIO_NET_RXQ]);
	return wait_backend;
}

/* --- the thread ------------------------------------------------------------------ */

static void drain(int efd)
{
	uint64_t v;
	if (read(efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing */
	}
}

static void *net_thread(void *arg)
{
	struct virtio_net *vn = arg;
	bool wait_backend = false;
	for (;;) {
		struct pollfd pf[4] = {
			{ vn->stop_efd, POLLIN, 0 },
			{ vn->kick[VIRTIO_NET_RXQ], POLLIN, 0 },
			{ vn->kick[VIRTIO_NET_TXQ], POLLIN, 0 },
			{ vn->p.backend_fd, POLLIN, 0 },
		};
		int r = poll(pf, wait_backend ? 4 : 3, -1);
		if (r < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		if (pf[1].revents)
			drain(vn->kick[VIRTIO_NET_RXQ]);
		if (pf[2].revents) {
			drain(vn->kick[VIRTIO_NET_TXQ]);
			vn->st.notifies++;
		}
		virtio_pci_lock(vn->vp);
		if (wait_backend && (pf[3].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
		    !(pf[3].revents & POLLIN))
			vn->backend_dead = true;
		do_tx(vn);
		wait_backend = do_rx(vn);
		virtio_pci_unlock(vn->vp);
	}
	return NULL;
}

/* --- lifetime --------------------------------------------------------------------- */

int virtio_net_create(struct glue *g, struct pci_bus *bus, const struct virtio_net_params *p,
		      struct virtio_net **out)
{
	if (p->backend_fd < 0)
		return -EBADF;
	struct virtio_net *vn = calloc(1, sizeof(*vn));
	if (!vn)
		return -ENOMEM;
	vn->p = *p;
	if (!vn->p.queue_size)
		vn->p.queue_size = 256;
	vn->kick[0] = vn->kick[1] = vn->stop_efd = -1;
	memcpy(vn->config + NCFG_MAC, p->mac, 6);
	vn->config[NCFG_STATUS] = NET_S_LINK_UP;
	vn->config[NCFG_MAX_PAIRS] = 1;
	int err = 0;
	int fl = fcntl(p->backend_fd, F_GETFL);
	if (fl < 0 || fcntl(p->backend_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		err = -errno;
	for (unsigned i = 0; i < 2 && !err; i++)
		if ((vn->kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			err = -errno;
	if (!err && (vn->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		err = -errno;
	if (!err) {
		struct virtio_pci_params vpp = {
			.device_type = 1,             /* §5: network card */
			.class_code = 0x020000,       /* PCI: network, Ethernet */
			.features = NET_F_MAC | NET_F_STATUS | VIRTIO_FEATURE_INDIRECT_DESC |
				    (p->offloads ? NET_OFFLOADS : 0),
			.num_queues = 2,
			.queue_max = vn->p.queue_size,
			.cfg_len = NCFG_LEN,
			.ops = &net_ops,
			.ctx = vn,
			.no_ioeventfd = p->no_ioeventfd,
		};
		err = virtio_pci_create(g, bus, &vpp, &vn->vp);
	}
	if (!err) {
		err = -pthread_create(&vn->thread, NULL, net_thread, vn);
		vn->thread_on = !err;
	}
	if (err) {
		virtio_net_destroy(vn);
		return err;
	}
	*out = vn;
	return 0;
}

void virtio_net_destroy(struct virtio_net *vn)
{
	if (!vn)
		return;
	if (vn->thread_on) {
		kick(vn->stop_efd);
		pthread_join(vn->thread, NULL);
	}
	virtio_pci_destroy(vn->vp);
	for (unsigned i = 0; i < 2; i++)
		if (vn->kick[i] >= 0)
			close(vn->kick[i]);
	if (vn->stop_efd >= 0)
		close(vn->stop_efd);
	free(vn);
}

struct virtio_pci *virtio_net_pci(struct virtio_net *vn) { return vn->vp; }

void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st)
{
	virtio_pci_lock(vn->vp);
	*st = vn->st;
	virtio_pci_unlock(vn->vp);
	st->notify_traps = virtio_pci_notify_traps(vn->vp);
}
