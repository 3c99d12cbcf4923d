/*
 * tap.h — the host side of the emulated vNIC: a Linux tap interface
 * (/dev/net/tun, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) whose every read and
 * write is one Ethernet frame behind a 12-byte virtio_net_hdr_v1
 * (TUNSETVNETHDRSZ; virtio 1.2 §5.1.6), exactly what virtio_net.h expects
 * of its backend.  Facts: Documentation/networking/tuntap.rst and
 * include/uapi/linux/if_tun.h.
 */
#ifndef VFS_TAP_H
#define VFS_TAP_H

#include <stddef.h>

#define TAP_NAME_MAX 16  /* IFNAMSIZ */

/* Open (or attach to) tap `name` ("" or NULL: the kernel picks vfstapN),
 * non-blocking, with the 12-byte vnet header; bring it up.  The name used
 * goes to `name_out`.  Returns the fd, or a negative errno with one
 * sentence in `why`. */
int tap_open(const char *name, char name_out[TAP_NAME_MAX], char *why, size_t why_len);

#endif
