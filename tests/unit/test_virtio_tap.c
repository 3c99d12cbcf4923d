/*
 * vmm_glue/dev/tap.c: the vNIC's backend, in a network namespace of the test's
 * own (unshare(CLONE_NEWNET)), so the host's interfaces are never touched.
 * Needs CAP_SYS_ADMIN and /dev/net/tun; without them each test is skipped
 * (and says so), never passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "vmm_glue/dev/tap.h"

static bool own_netns;

static int in_own_netns(void **state)
{
	(void)state;
	own_netns = access("/dev/net/tun", R_OK | W_OK) == 0 && unshare(CLONE_NEWNET) == 0;
	if (!own_netns)
		print_message("# no private network namespace or /dev/net/tun here: skipping\n");
	return 0;
}

static bool can_run(void)
{
	return own_netns;
}

static void test_tap_open_gives_a_vnet_hdr_tap(void **state)
{
	(void)state;
	if (!can_run())
		skip();
	char name[TAP_NAME_MAX], why[200];
	int fd = tap_open("vfstest0", name, why, sizeof(why));
	assert_true(fd >= 0);
	assert_string_equal(name, "vfstest0");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
	assert_int_equal(ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
			 IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	int hdr = 0;
	assert_int_equal(ioctl(fd, TUNGETVNETHDRSZ, &hdr), 0);
	assert_int_equal(hdr, 12);                /* struct virtio_net_hdr_v1 */
	/* Up, so frames flow. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	close(s);
	/* A frame written with its header is taken whole (the device's TX). */
	uint8_t frame[12 + 60] = { 0 };
	memset(frame + 12, 0xff, 6);             /* broadcast */
	frame[12 + 12] = 0x88; frame[12 + 13] = 0xb5; /* local experimental ethertype */
	assert_int_equal(write(fd, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	/* Non-blocking: nothing to read is EAGAIN, not a hang. */
	uint8_t buf[2048];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		; /* the kernel may have sent its own frames (IPv6 solicitations) */
	assert_int_equal(r, -1);
	assert_int_equal(errno, EAGAIN);
	close(fd);
}

static void test_tap_open_names_what_went_wrong(void **state)
{
	(void)state;
	if (!can_run())
		skip();
	char name[TAP_NAME_MAX], why[200] = "";
	/* An existing interface that is not a tap: the kernel refuses. */
	int fd = tap_open("lo", name, why, sizeof(why));
	assert_true(fd < 0);
	assert_non_null(strstr(why, "cannot create tap lo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_open_gives_a_vnet_hdr_tap),
		cmocka_unit_test(test_tap_open_names_what_went_wrong),
	};
	return cmocka_run_group_tests_name("virtio_tap", tests, in_own_netns, NULL);
}
