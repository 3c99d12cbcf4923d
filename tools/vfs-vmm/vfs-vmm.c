/*
 * vfs-vmm — boot a Linux guest on the KVM core, optionally with one VFIO
 * device passed through (already bound to vfio-pci).  `vfctl assign` does
 * the checks, the binding and the bookkeeping around the same vmm_run().
 *
 *   vfs-vmm --kernel BZIMAGE [--initrd FILE] [--mem SIZE] [--cpus N]
 *           [--cmdline TEXT] [--vf BDF] [--vnic TAP [--mac MAC] [--no-ioeventfd]]
 *           [--console FILE] [--cycles N]
 *
 * --cycles N boots the guest N times in this one process and checks after
 * each run that it holds no more file descriptors (eventfds among them) or
 * threads than after the first: the leak check of the assign soak.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm_glue/vmm.h"

static const char usage_text[] =
	"usage: vfs-vmm --kernel BZIMAGE [--initrd FILE] [--mem SIZE] [--cpus N]\n"
	"               [--cmdline TEXT] [--vf BDF] [--vnic TAP [--mac MAC] [--no-ioeventfd]]\n"
	"               [--console FILE] [--cycles N]\n"
	"--vnic TAP gives the guest an emulated virtio-net NIC on host tap TAP\n"
	"(created, or attached to if it exists; \"\" lets the kernel name it).\n"
	"--no-ioeventfd traps its doorbells in user space instead of KVM_IOEVENTFD\n"
	"(to measure the VM exits ioeventfd saves; the summary line counts them).\n"
	"Boots the guest (console on stdout, or FILE) and exits when it powers off:\n"
	"0 powered off, 1 failed, 2 usage, 130 stopped by a signal.\n";

/* "256M", "1G", "268435456" -> bytes; 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s)
		return 0;
	switch (*end) {
	case 'G': case 'g': v <<= 30; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': if (v < (1ull << 20)) v <<= 20; break; /* bare number: MiB */
	default: return 0;
	}
	return *end ? 0 : v;
}

/* Entries of /proc/self/DIR (fd or task); with `like`, only fds whose link
 * target contains it ("eventfd", "vfio"). */
static int count_entries(const char *dir, const char *like)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/%s", dir);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (like) {
			char p[320], t[128];
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			ssize_t len = readlink(p, t, sizeof(t) - 1);
			if (len <= 0)
				continue;
			t[len] = '\0';
			if (!strstr(t, like))
				continue;
		}
		n++;
	}
	closedir(d);
	return n - (strcmp(dir, "fd") == 0 && !like ? 1 : 0); /* opendir holds one fd */
}

/* VmLck of this process in KiB: VFIO's type1 IOMMU charges pinned guest RAM
 * there, so it returns to its old value only when every DMA mapping is gone. */
static long vm_locked_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* One line a script can read: the vNIC's traffic and what it cost in VM
 * exits to user space (docs/vnic.md, "ioeventfd and irqfd"). */
static void print_vnic(const struct vmm_stats *st, bool ioeventfd)
{
	double mib = (double)st->vnic_bytes / (1 << 20);
	fprintf(stderr, "vfs-vmm: vNIC (ioeventfd %s): %.2f MiB moved, %llu frames out, %llu in, "
		"%llu dropped, %llu interrupts; %llu doorbell exits, %llu MMIO exits, %llu VM exits "
		"to user space in all\n", ioeventfd ? "on" : "off", mib,
		(unsigned long long)st->vnic_tx_frames, (unsigned long long)st->vnic_rx_frames,
		(unsigned long long)st->vnic_dropped, (unsigned long long)st->vnic_interrupts,
		(unsigned long long)st->vnic_notify_traps, (unsigned long long)st->mmio_exits,
		(unsigned long long)st->exits);
}

int main(int argc, char **argv)
{
	struct vmm_config cfg = { .mem_bytes = 256ull << 20, .ncpus = 1, .console_fd = 1,
				  .console_in_fd = -1, .cmdline = VMM_DEFAULT_CMDLINE };
	const char *console = NULL;
	long cycles = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--no-ioeventfd")) {
			cfg.vnic_no_ioeventfd = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "vfs-vmm: %s needs a value\n%s", a, usage_text);
			return 2;
		}
		i++;
		if (!strcmp(a, "--kernel")) cfg.kernel = v;
		else if (!strcmp(a, "--initrd")) cfg.initrd = v;
		else if (!strcmp(a, "--cmdline")) cfg.cmdline = v;
		else if (!strcmp(a, "--vf")) cfg.vf_bdf = v;
		else if (!strcmp(a, "--vnic")) cfg.vnic_tap = v;
		else if (!strcmp(a, "--mac")) {
			unsigned m[6];
			char tail;
			if (sscanf(v, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
				   &tail) != 6 || (m[0] & 1)) {
				fprintf(stderr, "vfs-vmm: --mac %s is not a unicast MAC (try 52:54:00:12:34:56)\n", v);
				return 2;
			}
			for (int k = 0; k < 6; k++)
				cfg.vnic_mac[k] = (uint8_t)m[k];
		}
		else if (!strcmp(a, "--console")) console = v;
		else if (!strcmp(a, "--mem")) {
			if (!(cfg.mem_bytes = parse_size(v))) {
				fprintf(stderr, "vfs-vmm: --mem %s is not a size (try 256M)\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--cycles")) {
			cycles = strtol(v, NULL, 10);
			if (cycles < 1) {
				fprintf(stderr, "vfs-vmm: --cycles %s is not a positive number\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--cpus")) {
			cfg.ncpus = (unsigned)strtoul(v, NULL, 10);
		} else {
			fprintf(stderr, "vfs-vmm: unknown option %s\n%s", a, usage_text);
			return 2;
		}
	}
	if (!cfg.kernel) {
		fprintf(stderr, "vfs-vmm: --kernel is required\n%s", usage_text);
		return 2;
	}
	if (console) {
		cfg.console_fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (cfg.console_fd < 0) {
			fprintf(stderr, "vfs-vmm: cannot write the console log %s: %s\n", console, strerror(errno));
			return 1;
		}
	}
	char why[256];
	struct vmm_stats st;
	int err = 0, fds0 = 0, efds0 = 0, threads0 = 0;
	for (long c = 1; c <= cycles && !err; c++) {
		err = vmm_run(&cfg, &st, why, sizeof(why));
		int fds = count_entries("fd", NULL), efds = count_entries("fd", "eventfd");
		int vfio = count_entries("fd", "vfio"), threads = count_entries("task", NULL);
		long locked = vm_locked_kib();
		if (cycles > 1)
			fprintf(stderr, "vfs-vmm: cycle %ld/%ld: %s, %.2f s, open fds %d (eventfds %d, "
				"vfio %d), threads %d, locked %ld KiB\n", c, cycles, err ? "failed" : "powered off",
				st.boot_to_exit_s, fds, efds, vfio, threads, locked);
		if (c == 1) {
			fds0 = fds, efds0 = efds, threads0 = threads;
		} else if (!err && (fds > fds0 || efds > efds0 || threads > threads0)) {
			snprintf(why, sizeof(why), "cycle %ld leaked: %d fds (%d eventfds), %d threads "
				 "after it, %d (%d), %d after cycle 1", c, fds, efds, threads, fds0, efds0,
				 threads0);
			err = -EMFILE;
		}
		if (!err && locked > 0) {
			snprintf(why, sizeof(why), "cycle %ld left %ld KiB of guest RAM pinned for DMA", c, locked);
			err = -EMFILE;
		}
		if (!err && vfio) {
			snprintf(why, sizeof(why), "cycle %ld left %d VFIO fds open", c, vfio);
			err = -EMFILE;
		}
	}
	if (console)
		close(cfg.console_fd);
	if (err == -EINTR) {
		fprintf(stderr, "vfs-vmm: stopped by a signal after %.1f s\n", st.boot_to_exit_s);
		return 130;
	}
	if (err) {
		fprintf(stderr, "vfs-vmm: %s\n", why[0] ? why : strerror(-err));
		return 1;
	}
	fprintf(stderr, "vfs-vmm: guest powered off after %.1f s (%llu exits)\n", st.boot_to_exit_s,
		(unsigned long long)st.exits);
	if (st.vnic)
		print_vnic(&st, !cfg.vnic_no_ioeventfd);
	return 0;
}
