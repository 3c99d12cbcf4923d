/*
 * tap.c — open a tap interface for the vNIC (see tap.h).
 */
#include "vmm_glue/dev/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

#define VNET_HDR_LEN 12  /* struct virtio_net_hdr_v1 (virtio 1.2 §5.1.6) */

static int set_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int err = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		err = -errno;
	close(s);
	return err;
}

int tap_open(const char *name, char name_out[TAP_NAME_MAX], char *why, size_t why_len)
{
#define FAIL(e, ...) do { err = (e); if (why_len) snprintf(why, why_len, __VA_ARGS__); goto fail; } while (0)
	int err;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (why_len)
			snprintf(why, why_len, "cannot open /dev/net/tun: %s (load the tun module; "
				 "creating a tap needs CAP_NET_ADMIN)", strerror(errno));
		return err;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name && name[0] ? name : "vfstap%d");
	if (ioctl(fd, TUNSETIFF, &ifr) != 0)
		FAIL(-errno, "cannot create tap %s: %s", ifr.ifr_name, strerror(errno));
	int hdr = VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0)
		FAIL(-errno, "tap %s refuses a %d-byte virtio-net header: %s", ifr.ifr_name, hdr,
		     strerror(errno));
	/* Offloads stay off (TUNSETOFFLOAD 0, the default) until the driver
	 * accepts some: virtio_net.c tells the tap then. */
	if ((err = set_up(ifr.ifr_name)) != 0)
		FAIL(err, "cannot bring tap %s up: %s", ifr.ifr_name, strerror(-err));
	snprintf(name_out, TAP_NAME_MAX, "%s", ifr.ifr_name);
	return fd;
fail:
	close(fd);
	return err;
#undef FAIL
}
