/*
 * vmm.c — put the KVM core, the boot loader, the console, the PCI bus and the
 * passthrough device together, run, and take it all down again.
 */
#include "vmm_glue/vmm.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfio/vfio.h"
#include "vmm_glue/boot_linux.h"
#include "vmm_glue/kvm/kvm_core.h"
#include "vmm_glue/dev/passthrough.h"
#include "vmm_glue/dev/pci_bus.h"
#include "vmm_glue/dev/serial.h"
#include "vmm_glue/dev/tap.h"
#include "vmm_glue/dev/virtio_net.h"

static struct kvm_vm *_Atomic running_vm;
static atomic_bool stop_requested;

void vmm_request_stop(void)
{
	atomic_store(&stop_requested, true);
	struct kvm_vm *vm = atomic_load(&running_vm);
	if (vm)
		kvm_vm_request_stop(vm);
}

static void on_signal(int sig)
{
	(void)sig;
	vmm_request_stop();
}

/* With no ACPI power-off method Linux halts on poweroff ("reboot: System
 * halted") with interrupts off, which never exits to user space: the
 * console line is the signal. */
static void console_line(void *ctx, const char *line)
{
	struct kvm_vm *vm = ctx;
	if (strstr(line, "reboot: ") && (strstr(line, "System halted") || strstr(line, "Power down")))
		kvm_vm_poweroff(vm);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int vmm_run(const struct vmm_config *cfg, struct vmm_stats *stats, char *why, size_t why_len)
{
#define FAIL(e, ...) do { err = (e); if (why_len) snprintf(why, why_len, __VA_ARGS__); goto out; } while (0)
	int err = 0;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t kernel_len = 0, initrd_len = 0;
	struct kvm_vm *vm = NULL;
	struct serial *com1 = NULL;
	struct pci_bus *bus = NULL;
	struct vfio_iommu *iommu = NULL;
	struct vfio_dev *vdev = NULL;
	struct pt_dev *pt = NULL;
	struct virtio_net *vnic = NULL;
	int tap_fd = -1;
	bool ram_mapped = false;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	const double t_setup = now_s();
	if (why_len)
		why[0] = '\0';

	if ((err = boot_linux_read_file(cfg->kernel, &kernel, &kernel_len)) != 0)
		FAIL(err, "cannot read the guest kernel %s: %s", cfg->kernel, strerror(-err));
	if (cfg->initrd && (err = boot_linux_read_file(cfg->initrd, &initrd, &initrd_len)) != 0)
		FAIL(err, "cannot read the guest initrd %s: %s", cfg->initrd, strerror(-err));
	if ((err = kvm_vm_create(cfg->mem_bytes, cfg->ncpus, &vm, why, why_len)) != 0)
		goto out;
	struct glue *g = kvm_vm_glue(vm);
	if ((err = serial_create(g, SERIAL_COM1_BASE, SERIAL_COM1_GSI, cfg->console_fd,
				 cfg->console_in_fd, &com1)) != 0)
		FAIL(err, "cannot create the guest console: %s", strerror(-err));
	serial_set_line_hook(com1, console_line, vm);
	if ((err = pci_bus_create(g, KVM_PCI_MMIO_BASE, KVM_PCI_MMIO_SIZE, &bus)) != 0)
		FAIL(err, "cannot create the guest PCI bus: %s", strerror(-err));

	if (cfg->vf_bdf) {
		if ((err = vfio_iommu_open(VFIO_BACKEND_AUTO, &iommu)) != 0)
			FAIL(err, "cannot open VFIO for %s: %s (is vfio-pci loaded?)", cfg->vf_bdf,
			     strerror(-err));
		if ((err = vfio_dev_open(iommu, cfg->vf_bdf, &vdev, why, why_len)) != 0) {
			if (why_len && !why[0])
				snprintf(why, why_len, "VFIO cannot open %s: %s", cfg->vf_bdf, strerror(-err));
			goto out;
		}
		uint64_t need = 0;
		const double t_map = now_s();
		err = pt_map_guest_ram(g, iommu, &need);
		if (stats)
			stats->dma_map_s = now_s() - t_map;
		if (err) {
			if (err == -ENOMEM && need)
				FAIL(err, "mapping guest memory for DMA by %s needs %llu MiB of locked memory; "
				     "raise the limit (ulimit -l %llu) or run with CAP_IPC_LOCK", cfg->vf_bdf,
				     (unsigned long long)(need >> 20), (unsigned long long)(need >> 10));
			FAIL(err, "cannot map guest memory for DMA by %s: %s", cfg->vf_bdf, strerror(-err));
		}
		ram_mapped = true;
		if (stats)
			stats->dma_maps_peak = vfio_dma_count(iommu, &stats->dma_bytes_peak);
		if ((err = pt_dev_create(g, bus, vdev, &pt, why, why_len)) != 0)
			goto out;
	}

	if (cfg->vnic_tap) {
		char name[TAP_NAME_MAX];
		tap_fd = tap_open(cfg->vnic_tap, name, why, why_len);
		if (tap_fd < 0) {
			err = tap_fd;
			goto out;
		}
		if (!cfg->vnic_tap[0])
			fprintf(stderr, "vfs-vmm: the vNIC's tap is %s\n", name);
		struct virtio_net_params np = { .backend_fd = tap_fd, .offloads = true,
						.no_ioeventfd = cfg->vnic_no_ioeventfd };
		static const uint8_t zero[6];
		if (memcmp(cfg->vnic_mac, zero, 6)) {
			memcpy(np.mac, cfg->vnic_mac, 6);
		} else {
			pid_t pid = getpid();
			uint8_t m[6] = { 0x52, 0x54, 0x00, (uint8_t)(pid >> 16), (uint8_t)(pid >> 8), (uint8_t)pid };
			memcpy(np.mac, m, 6);
		}
		if ((err = virtio_net_create(g, bus, &np, &vnic)) != 0)
			FAIL(err, "cannot create the emulated vNIC on tap %s: %s", name, strerror(-err));
	}

	uint64_t ram_size;
	uint8_t *ram = kvm_vm_ram(vm, &ram_size);
	struct boot_linux_image img = {
		.kernel = kernel, .kernel_len = kernel_len,
		.initrd = initrd, .initrd_len = initrd_len,
		.cmdline = cfg->cmdline ? cfg->cmdline : VMM_DEFAULT_CMDLINE,
		.ncpus = cfg->ncpus,
		.ioapic_gpa = (uint32_t)KVM_IOAPIC_BASE, .lapic_gpa = (uint32_t)KVM_LAPIC_BASE,
	};
	struct boot_linux_entry entry;
	if ((err = boot_linux_load(ram, ram_size, &img, &entry, why, why_len)) != 0)
		goto out;
	free(kernel);
	free(initrd);
	kernel = initrd = NULL;
	if ((err = kvm_vm_set_entry32(vm, entry.eip, entry.esi, BOOT_GDT_GPA)) != 0)
		FAIL(err, "cannot set the boot CPU's registers: %s", strerror(-err));
	if (cfg->on_ready && (err = cfg->on_ready(cfg->ctx)) != 0)
		FAIL(err, "%s", why_len && why[0] ? why : "start aborted");

	struct sigaction sa, old_term, old_int;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	atomic_store(&running_vm, vm);
	if (atomic_load(&stop_requested))
		kvm_vm_request_stop(vm);
	double t0 = now_s();
	if (stats)
		stats->setup_s = t0 - t_setup;
	enum kvm_vm_stop how = kvm_vm_run(vm, why, why_len);
	atomic_store(&running_vm, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	if (stats) {
		stats->boot_to_exit_s = now_s() - t0;
		stats->exits = kvm_vm_exits(vm);
		stats->mmio_exits = kvm_vm_mmio_exits(vm);
	}
	err = how == KVM_VM_POWEROFF ? 0 : how == KVM_VM_STOPPED ? -EINTR : -EIO;
	atomic_store(&stop_requested, false); /* consumed */
out:
	if (vnic && stats) {
		struct virtio_net_stats ns;
		virtio_net_get_stats(vnic, &ns);
		stats->vnic = true;
		stats->vnic_tx_frames = ns.tx_frames;
		stats->vnic_rx_frames = ns.rx_frames;
		stats->vnic_bytes = ns.tx_bytes + ns.rx_bytes;
		stats->vnic_dropped = ns.tx_dropped;
		stats->vnic_interrupts = ns.interrupts;
		stats->vnic_notify_traps = ns.notify_traps;
	}
	virtio_net_destroy(vnic);
	if (tap_fd >= 0)
		close(tap_fd);
	pt_dev_destroy(pt);
	if (ram_mapped)
		pt_unmap_guest_ram(kvm_vm_glue(vm), iommu);
	vfio_dev_close(vdev);
	vfio_iommu_close(iommu);
	pci_bus_destroy(bus);
	serial_destroy(com1);
	kvm_vm_destroy(vm);
	free(kernel);
	free(initrd);
	return err;
#undef FAIL
}
