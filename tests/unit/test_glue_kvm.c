/* vmm_glue/kvm_core on this machine's KVM device (VFSTACK_KVM_DEV, default
 * /dev/kvm; the tests that need it are skipped when it does not open):
 * a few 32-bit instructions that use the console, a trapped MMIO range and the
 * i8042 reset; a stop request; MSI routes with irqfds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm_glue/kvm/kvm_core.h"
#include "vmm_glue/dev/serial.h"

static const uint8_t guest_code[] = {
	0xbc, 0x00, 0x00, 0x09, 0x00,       /* mov $0x90000, %esp */
	0x66, 0xba, 0xf8, 0x03,             /* mov $0x3f8, %dx */
	0xb0, 'h', 0xee,                    /* mov $'h', %al; out %al, (%dx) */
	0xb0, '\n', 0xee,                   /* mov $'\n', %al; out %al, (%dx) */
	0xa1, 0x00, 0x00, 0x00, 0xd0,       /* mov 0xd0000000, %eax   (trapped read) */
	0xa3, 0x04, 0x00, 0x00, 0xd0,       /* mov %eax, 0xd0000004   (trapped write) */
	0xb0, 0xfe, 0xe6, 0x64,             /* mov $0xfe, %al; out %al, $0x64: reset */
	0xf4,                               /* hlt */
};
static const uint8_t spin_code[] = { 0xeb, 0xfe };  /* jmp . */

static uint32_t written;
static int mmio(void *ctx, uint64_t addr, uint8_t *data, unsigned size, bool wr)
{
	(void)ctx;
	if (wr && addr == 0xd0000004)
		written = (uint32_t)glue_get_le(data, size);
	else if (!wr)
		glue_put_le(data, size, addr == 0xd0000000 ? 0x12345678 : 0);
	return 0;
}

static int have_kvm(void)
{
	int fd = open(kvm_dev_path(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		print_message("# no KVM here: %s does not open (%s)\n", kvm_dev_path(), strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

static void runs_a_guest_to_its_reset(void **state)
{
	(void)state;
	if (!have_kvm())
		skip();
	struct kvm_vm *vm;
	char why[160] = "";
	int err = kvm_vm_create(64u << 20, 1, &vm, why, sizeof(why));
	assert_int_equal(err, 0);
	uint64_t size;
	uint8_t *ram = kvm_vm_ram(vm, &size);
	assert_int_equal(size, 64u << 20);
	memcpy(ram + 0x100000, guest_code, sizeof(guest_code));
	struct glue *g = kvm_vm_glue(vm);
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct serial *com1;
	assert_int_equal(serial_create(g, 0x3f8, 4, p[1], -1, &com1), 0);
	int id;
	assert_int_equal(glue_trap(g, GLUE_MMIO, 0xd0000000, 16, mmio, NULL, &id), 0);
	assert_int_equal(glue_trap(g, GLUE_MMIO, 0xd0000008, 4, mmio, NULL, &id), -EEXIST);
	assert_int_equal(kvm_vm_set_entry32(vm, 0x100000, 0, 0), 0);
	enum kvm_vm_stop how = kvm_vm_run(vm, why, sizeof(why));
	if (how == KVM_VM_FAILED)
		print_message("# KVM here: %s\n", why);
	assert_int_equal(how, KVM_VM_POWEROFF);
	char out[8] = "";
	assert_int_equal(read(p[0], out, sizeof(out)), 2);
	assert_memory_equal(out, "h\n", 2);
	assert_int_equal(written, 0x12345678);
	assert_true(kvm_vm_exits(vm) >= 4);
	serial_destroy(com1);
	kvm_vm_destroy(vm);
	close(p[0]);
	close(p[1]);
}

static void *stopper(void *arg)
{
	usleep(200 * 1000);
	kvm_vm_request_stop(arg);
	return NULL;
}

static void a_stop_request_ends_a_spinning_guest(void **state)
{
	(void)state;
	if (!have_kvm())
		skip();
	struct kvm_vm *vm;
	char why[160];
	assert_int_equal(kvm_vm_create(32u << 20, 2, &vm, why, sizeof(why)), 0);
	memcpy(kvm_vm_ram(vm, NULL) + 0x100000, spin_code, sizeof(spin_code));
	assert_int_equal(kvm_vm_set_entry32(vm, 0x100000, 0, 0), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stopper, vm), 0);
	assert_int_equal(kvm_vm_run(vm, why, sizeof(why)), KVM_VM_STOPPED);
	pthread_join(t, NULL);
	kvm_vm_destroy(vm);
}

static void msi_routes_follow_mask_and_message(void **state)
{
	(void)state;
	if (!have_kvm())
		skip();
	struct kvm_vm *vm;
	char why[160];
	assert_int_equal(kvm_vm_create(32u << 20, 1, &vm, why, sizeof(why)), 0);
	struct glue *g = kvm_vm_glue(vm);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct glue_msi_route *r;
	assert_int_equal(glue_msi_route_add(g, efd, 0xfee00000, 0x41, true, &r), 0);
	/* Masked: the eventfd keeps what fires (the PBA bit). */
	uint64_t one = 1;
	assert_int_equal(write(efd, &one, 8), 8);
	assert_true(glue_eventfd_pending(efd));
	assert_true(glue_msi_route_pending(g, r));   /* the contract's view of the same bit */
	/* Unmasked with a new message: the pending event is delivered, the bit clears. */
	assert_int_equal(glue_msi_route_update(g, r, 0xfee01000, 0x42, false), 0);
	assert_false(glue_eventfd_pending(efd));
	assert_false(glue_msi_route_pending(g, r));
	assert_int_equal(glue_msi_route_update(g, r, 0xfee01000, 0x42, true), 0);
	glue_msi_route_del(g, r);
	assert_int_equal(glue_deliver_msi(g, 0xfee00000, 0x30), 0);
	close(efd);
	kvm_vm_destroy(vm);
}

static void refuses_bad_sizes(void **state)
{
	(void)state;
	struct kvm_vm *vm;
	char why[160] = "";
	assert_int_equal(kvm_vm_create(4u << 30, 1, &vm, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "3 GiB"));
	assert_int_equal(kvm_vm_create(64u << 20, 0, &vm, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "vCPUs"));
}

/* kvm_core opens the device VFSTACK_KVM_DEV names and says which one failed. */
static void opens_the_device_the_environment_names(void **state)
{
	(void)state;
	const char *old = getenv("VFSTACK_KVM_DEV");
	char *saved = old ? strdup(old) : NULL;
	struct kvm_vm *vm = NULL;
	char why[160] = "";
	setenv("VFSTACK_KVM_DEV", "/nonexistent/kvm", 1);
	const char *named = kvm_dev_path();
	int named_ok = named && strcmp(named, "/nonexistent/kvm") == 0;
	int err = kvm_vm_create(64u << 20, 1, &vm, why, sizeof(why));
	setenv("VFSTACK_KVM_DEV", "", 1);
	int empty_is_default = strcmp(kvm_dev_path(), "/dev/kvm") == 0;
	if (saved)
		setenv("VFSTACK_KVM_DEV", saved, 1);
	else
		unsetenv("VFSTACK_KVM_DEV");
	free(saved);
	assert_true(named_ok);
	assert_int_equal(err, -ENOENT);
	assert_non_null(strstr(why, "cannot open /nonexistent/kvm"));
	assert_true(empty_is_default);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_a_guest_to_its_reset),
		cmocka_unit_test(a_stop_request_ends_a_spinning_guest),
		cmocka_unit_test(msi_routes_follow_mask_and_message),
		cmocka_unit_test(refuses_bad_sizes),
		cmocka_unit_test(opens_the_device_the_environment_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
