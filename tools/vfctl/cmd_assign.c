/*
 * cmd_assign.c — `vfctl assign VF --guest NAME`: check, bind the VF to
 * vfio-pci, boot a guest with it on the KVM core (vmm_glue/vmm.h), and when
 * the guest ends give the VF back to the driver it had.  With --vnic the
 * guest gets the emulated virtio-net NIC (docs/vnic.md) instead of or beside
 * the VF; when the VF is not free it falls back to the vNIC unless
 * --no-fallback.  docs/assign.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/linux/assign_registry.h"
#include "sriov/linux/pci_bind.h"
#include "tools/vfctl/vfctl.h"
#include "vfio/vfio.h"
#include "vmm_glue/kvm/kvm_core.h"
#include "vmm_glue/vmm.h"

/* The testbed's guest (tests/testbed): used when --kernel/--initrd are not given. */
#define DEFAULT_KERNEL "/vfstack/guest/vmlinuz"
#define DEFAULT_INITRD "/vfstack/guest/guest.cpio.gz"

static const char usage[] =
	"usage: vfctl assign VF|PF --guest NAME [--vnic] [--tap NAME] [--no-fallback] [--force-rmrr]\n"
	"                       [--kernel BZIMAGE] [--initrd FILE] [--mem SIZE] [--cpus N]\n"
	"                       [--cmdline TEXT] [--console FILE]\n"
	"       vfctl assign --vnic --guest NAME [--tap NAME] [...]\n"
	"\n"
	"Give VF (a BDF or interface name; a PF stands for its first free VF) to a new\n"
	"guest NAME: check that it is free and its IOMMU group viable, bind it to\n"
	"vfio-pci, boot the guest (Linux bzImage + initrd on KVM; guest RAM DMA-mapped,\n"
	"BARs mapped, MSI-X routed to the guest), and when the guest powers off give the\n"
	"VF back to its host driver.  Runs in the foreground; the guest's console goes to\n"
	"stdout (or --console FILE).  SIGTERM or Ctrl-C stops the guest and releases the\n"
	"VF.  `vfctl list` shows the assignment.  When no VF is free the guest gets the\n"
	"emulated vNIC instead (--no-fallback refuses).\n"
	"\n"
	"  --vnic             also give the guest the emulated virtio-net NIC on a host tap\n"
	"                     (without VF: only the vNIC)\n"
	"  --tap NAME         the vNIC's tap, with --vnic or on fallback (created, or\n"
	"                     attached to; default vfs-NAME)\n"
	"  --no-fallback      when the VF (or every VF of the PF) is held by another guest\n"
	"                     or VFIO user, fail instead of giving the guest the vNIC\n"
	"  --force-rmrr       assign a device the ACPI DMAR names in an RMRR (memory the\n"
	"                     firmware still does DMA to through it); refused otherwise\n"
	"  --kernel/--initrd  default " DEFAULT_KERNEL " and " DEFAULT_INITRD "\n"
	"  --mem SIZE         guest RAM, e.g. 256M (default), 1G\n"
	"  --cpus N           vCPUs (default 1)\n"
	"  --cmdline TEXT     added to \"" VMM_DEFAULT_CMDLINE "\"\n"
	"\n"
	"Exit status: 0 the guest ran and powered off, 1 failed, 2 usage.\n";

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || s[0] == '-')
		return 0;
	switch (*end) {
	case 'G': case 'g': v <<= 30; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case '\0': v <<= 20; break; /* a bare number is MiB */
	default: return 0;
	}
	return *end ? 0 : v;
}

static void on_signal(int sig)
{
	(void)sig;
	vmm_request_stop(); /* the guest stops, the VF is given back */
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The VF this run claimed (assign_registry_claim); run() drops the claim
 * on every way out, after the VF is back on its host driver. */
static char claimed[PCI_BDF_LEN];

/* Claim `bdf` for `guest`: the registry's check-and-claim is atomic, so of
 * two assigns of one VF exactly one gets it.  0 claimed; 1 held — by a live
 * guest in the registry or by another VFIO user (bound to vfio-pci) — with
 * `why` saying which; or a negative errno (the registry is not writable). */
static int vf_claim(const char *bdf, const char *guest, char *why, size_t len)
{
	char holder[ASSIGN_GUEST_LEN], drv[64];
	pid_t pid;
	int err = assign_registry_claim(bdf, guest, holder, sizeof(holder), &pid);
	if (err == -EBUSY) {
		if (holder[0])
			snprintf(why, len, "is in use: already assigned to guest '%s' (pid %ld)", holder,
				 (long)pid);
		else
			snprintf(why, len, "is in use: another vfctl is assigning it right now");
		return 1;
	}
	if (err)
		return err;
	if (pci_current_driver(bdf, drv, sizeof(drv)) == 0 && !strcmp(drv, "vfio-pci")) {
		assign_registry_remove(bdf);
		snprintf(why, len, "is already bound to vfio-pci (another VFIO user may hold it)");
		return 1;
	}
	snprintf(claimed, sizeof(claimed), "%s", bdf);
	return 0;
}

static int claim_error(const char *bdf, int err)
{
	return vfctl_error("cannot record the assignment of %s under %s (%s); nothing was changed: "
			   "run as root or set VFSTACK_ASSIGN_DIR to a writable directory.", bdf,
			   assign_registry_dir(), vfctl_strerror(err));
}

/* A PF was named: claim its first VF that is not held, in `vf`.  When none
 * is, `vf` is empty and `held` says why, VF by VF ("0000:00:12.0 is in use:
 * already assigned to guest 'g1' (pid 7), 0000:00:12.2 is ...") or that the
 * PF has no VFs. */
static int pick_free_vf(const char *pf, const char *guest, char vf[PCI_BDF_LEN], char *held,
			size_t len)
{
	struct sriov_vf_info *vfs = NULL;
	size_t n = 0;
	int err = sriov_vf_list(pf, &vfs, &n);
	if (err)
		return vfctl_error("cannot list the VFs of %s: %s.", pf, vfctl_strerror(err));
	vf[0] = held[0] = '\0';
	size_t used = 0;
	int rc = VFCTL_OK;
	for (size_t i = 0; i < n && !vf[0]; i++) {
		char why[160];
		int got = vf_claim(vfs[i].bdf, guest, why, sizeof(why));
		if (got == 0)
			snprintf(vf, PCI_BDF_LEN, "%s", vfs[i].bdf);
		else if (got < 0) {
			rc = claim_error(vfs[i].bdf, got);
			break;
		} else if (used < len)
			used += (size_t)snprintf(held + used, len - used, "%s%s %s", used ? ", " : "",
						 vfs[i].bdf, why);
	}
	if (!n)
		snprintf(held, len, "%s has no VFs", pf);
	free(vfs);
	return rc;
}

static int assign_main(int argc, char **argv);

static int run(int argc, char **argv)
{
	int rc = assign_main(argc, argv);
	if (claimed[0])
		assign_registry_remove(claimed);
	claimed[0] = '\0';
	return rc;
}

static int assign_main(int argc, char **argv)
{
	const struct vfctl_cmd *self = &vfctl_cmd_assign;
	const char *dev = NULL, *guest = NULL, *kernel = NULL, *initrd = NULL;
	const char *extra = NULL, *console = NULL, *tap = NULL;
	bool vnic = false, no_fallback = false, force_rmrr = false;
	uint64_t mem = 256ull << 20;
	long cpus = 1;
	enum { O_VNIC = 256, O_NO_FALLBACK, O_FORCE_RMRR, O_GUEST, O_KERNEL, O_INITRD, O_CMDLINE,
	       O_CONSOLE, O_TAP, O_MEM, O_CPUS };
	static const struct option opts[] = {
		{ "vnic", no_argument, NULL, O_VNIC },
		{ "no-fallback", no_argument, NULL, O_NO_FALLBACK },
		{ "force-rmrr", no_argument, NULL, O_FORCE_RMRR },
		{ "guest", required_argument, NULL, O_GUEST },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "console", required_argument, NULL, O_CONSOLE },
		{ "tap", required_argument, NULL, O_TAP },
		{ "mem", required_argument, NULL, O_MEM },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_VNIC: vnic = true; break;
		case O_NO_FALLBACK: no_fallback = true; break;
		case O_FORCE_RMRR: force_rmrr = true; break;
		case O_GUEST: guest = optarg; break;
		case O_KERNEL: kernel = optarg; break;
		case O_INITRD: initrd = optarg; break;
		case O_CMDLINE: extra = optarg; break;
		case O_CONSOLE: console = optarg; break;
		case O_TAP: tap = optarg; break;
		case O_MEM:
			mem = parse_size(optarg);
			if (!mem)
				return vfctl_usage_error(self, "--mem %s is not a size (try 256M or 1G)", optarg);
			break;
		case O_CPUS:
			cpus = vfctl_parse_uint(optarg, 16);
			if (cpus < 1)
				return vfctl_usage_error(self, "--cpus %s is not a number from 1 to 16", optarg);
			break;
		default:
			return vfctl_opt_error(self, c, argv);
		}
	}
	if (optind < argc)
		dev = argv[optind];
	if (optind + 1 < argc)
		return vfctl_usage_error(self, "give one VF, not '%s' too", argv[optind + 1]);
	if (!dev && !vnic)
		return vfctl_usage_error(self, "which VF? give its BDF or interface name (or --vnic "
					 "for the emulated NIC alone)");
	if (!guest || !guest[0] || strlen(guest) >= ASSIGN_GUEST_LEN || strchr(guest, '\n') || strchr(guest, '='))
		return vfctl_usage_error(self, "--guest NAME is required (up to %d characters, no '=')",
					 ASSIGN_GUEST_LEN - 1);
	if (!kernel)
		kernel = DEFAULT_KERNEL;
	if (!initrd && readable(DEFAULT_INITRD) && !strcmp(kernel, DEFAULT_KERNEL))
		initrd = DEFAULT_INITRD;

	char bdf[PCI_BDF_LEN] = "";
	char tap_name[16];
	snprintf(tap_name, sizeof(tap_name), "vfs-%.11s", guest);
	if (tap) {
		if (!tap[0] || strlen(tap) >= sizeof(tap_name) || strchr(tap, '/') || strchr(tap, ' '))
			return vfctl_usage_error(self, "--tap %s is not an interface name (1 to 15 "
						 "characters)", tap);
		snprintf(tap_name, sizeof(tap_name), "%s", tap);
	}
	int rc = dev ? vfctl_resolve_dev(dev, bdf) : 0;
	if (rc)
		return rc;

	/* --- checks: nothing changes until they all pass --- */
	/* A PF stands for its first free VF. */
	char pf[PCI_BDF_LEN] = "";
	char busy[640] = "";
	/* The claim is the check that the VF is free: atomic, dropped by run(). */
	if (bdf[0] && sriov_is_pf(bdf)) {
		snprintf(pf, sizeof(pf), "%s", bdf);
		if ((rc = pick_free_vf(pf, guest, bdf, busy, sizeof(busy))) != 0)
			return rc;
		if (bdf[0])
			fprintf(stderr, "vfctl: %s is a PF: giving guest '%s' its first free VF, %s\n", pf,
				guest, bdf);
	} else if (bdf[0]) {
		int got = vf_claim(bdf, guest, busy, sizeof(busy));
		if (got < 0)
			return claim_error(bdf, got);
		if (got) {
			char why[sizeof(busy)];
			snprintf(why, sizeof(why), "%s %s", bdf, busy);
			snprintf(busy, sizeof(busy), "%s", why);
			bdf[0] = '\0';
		}
	}
	/* No VF free: the emulated vNIC instead, unless --no-fallback. */
	if (busy[0] && !bdf[0]) {
		char what_busy[sizeof(busy) + 64];
		if (pf[0])
			snprintf(what_busy, sizeof(what_busy), "no VF of %s is free: %s", pf, busy);
		else
			snprintf(what_busy, sizeof(what_busy), "%s", busy);
		if (no_fallback && pf[0])
			return vfctl_busy("%s; stop a guest that holds one, 'vfctl release' one, or create "
					   "more VFs ('vfctl sriov enable %s N') first (--no-fallback refused "
					   "the emulated NIC).", what_busy, pf);
		if (no_fallback)
			return vfctl_busy("%s; stop that guest or 'vfctl release %s' first (--no-fallback "
					   "refused the emulated NIC).", what_busy, dev);
		fprintf(stderr, "vfctl: %s; giving guest '%s' the emulated vNIC (tap %s) instead "
			"(--no-fallback refuses).\n", what_busy, guest, tap_name);
		vnic = true;
	}
	int err = 0;
	if (bdf[0]) { /* a device the firmware still does DMA for (an RMRR) */
		char why[400] = "";
		err = vfctl_rmrr_check(bdf, why, sizeof(why));
		if (err && !force_rmrr)
			return vfctl_error("%s; giving it to a guest would break that DMA or let the guest reach "
					   "that memory, so it is refused (as Linux does); --force-rmrr assigns "
					   "it anyway.", why);
		if (err)
			fprintf(stderr, "vfctl: %s; assigning it anyway (--force-rmrr).\n", why);
		err = 0;
	}
	if (bdf[0]) { /* the VF: its group, locked memory, vfio-pci */
		struct pci_group_check gc;
		err = pci_group_check(bdf, bdf, &gc);
		if (err == -EXDEV)
			return vfctl_error("%s cannot be assigned: its IOMMU group %d is not viable because "
					   "%s is bound to %s; unbind that device or bind it to vfio-pci "
					   "first.", bdf, gc.group, gc.blocker, gc.blocker_driver);
		if (err == -ENOENT)
			return vfctl_error("%s has no IOMMU group: the IOMMU is off (boot with "
					   "intel_iommu=on) or the device is not behind one.", bdf);
		if (err)
			return vfctl_error("cannot check the IOMMU group of %s: %s.", bdf, vfctl_strerror(err));
		uint64_t short_by = vfio_memlock_needed(mem);
		if (short_by)
			return vfctl_error("assigning %s needs %llu MiB of locked memory for the guest's RAM "
					   "but RLIMIT_MEMLOCK allows %llu MiB; raise it (ulimit -l %llu) or "
					   "run with CAP_IPC_LOCK.", bdf, (unsigned long long)(mem >> 20),
					   (unsigned long long)((mem - short_by) >> 20),
					   (unsigned long long)(mem >> 10));
		if (!pci_driver_loaded("vfio-pci"))
			return vfctl_error("vfio-pci is not loaded; 'modprobe vfio-pci' and assign %s again.", bdf);
	}
	const bool have_vf = bdf[0] != '\0';
	const char *what = have_vf ? bdf : "the emulated vNIC";
	if (vnic && access("/dev/net/tun", R_OK | W_OK) != 0)
		return vfctl_error("cannot give guest '%s' the emulated vNIC: /dev/net/tun is not usable "
				   "(%s); 'modprobe tun'.", guest, strerror(errno));
	if (access(kvm_dev_path(), R_OK | W_OK) != 0)
		return vfctl_error("cannot assign %s: %s is not usable (%s); load kvm-intel "
				   "or kvm-amd.", what, kvm_dev_path(), strerror(errno));
	if (!readable(kernel))
		return vfctl_error("cannot assign %s: the guest kernel %s is not readable; give "
				   "--kernel.", what, kernel);
	if (initrd && !readable(initrd))
		return vfctl_error("cannot assign %s: the initrd %s is not readable.", what, initrd);

	int console_fd = 1;
	if (console) {
		console_fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (console_fd < 0)
			return vfctl_error("cannot write the console log %s: %s.", console, strerror(errno));
	}

	/* --- bind, record, run: from here a signal stops the guest and we clean up --- */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	char prev[64] = "";
	err = have_vf ? pci_bind_driver(bdf, "vfio-pci", prev, sizeof(prev)) : 0;
	if (err) {
		if (console)
			close(console_fd);
		return vfctl_error("cannot bind %s to vfio-pci: %s; it stays on %s.", bdf,
				   vfctl_strerror(err), prev[0] ? prev : "no driver");
	}
	if (have_vf)
		fprintf(stderr, "vfctl: %s (was on %s) bound to vfio-pci; starting guest '%s'%s\n", bdf,
			prev[0] ? prev : "no driver", guest, vnic ? " with the emulated vNIC too" : "");
	else
		fprintf(stderr, "vfctl: starting guest '%s' with the emulated vNIC on tap %s\n", guest,
			tap_name);

	char cmdline[1024];
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", VMM_DEFAULT_CMDLINE, extra ? " " : "",
		 extra ? extra : "");
	struct vmm_config cfg = {
		.kernel = kernel, .initrd = initrd, .cmdline = cmdline,
		.mem_bytes = mem, .ncpus = (unsigned)cpus, .vf_bdf = have_vf ? bdf : NULL,
		.vnic_tap = vnic ? tap_name : NULL,
		.console_fd = console_fd, .console_in_fd = -1,
	};
	char why[256];
	struct vmm_stats st;
	err = vmm_run(&cfg, &st, why, sizeof(why));
	if (console)
		close(console_fd);

	/* --- give it back --- */
	int rel = 0;
	char now[64] = "";
	if (have_vf) { /* the claim is dropped after this, by run() */
		rel = pci_release_driver(bdf, prev[0] ? prev : NULL);
		pci_current_driver(bdf, now, sizeof(now));
	}
	if (err && err != -EINTR)
		vfctl_error("guest '%s' with %s failed: %s.", guest, what, why[0] ? why : vfctl_strerror(err));
	if (rel)
		return vfctl_error("guest '%s' ended but %s could not be given back to %s (%s); it is "
				   "on %s now: 'vfctl release %s' retries.", guest, bdf,
				   prev[0] ? prev : "the host", vfctl_strerror(rel), now[0] ? now : "no driver", bdf);
	if (err && err != -EINTR)
		return VFCTL_FAILED;
	char vnic_note[160] = "";
	if (st.vnic)
		snprintf(vnic_note, sizeof(vnic_note), "; vNIC on tap %s: %.1f MiB, %llu frames out, "
			 "%llu in", tap_name, (double)st.vnic_bytes / (1 << 20),
			 (unsigned long long)st.vnic_tx_frames, (unsigned long long)st.vnic_rx_frames);
	if (have_vf)
		fprintf(stderr, "vfctl: guest '%s' %s after %.1f s (set up in %.2f s, of it %.2f s mapping "
			"guest RAM for DMA; %llu VM exits, %u DMA mapping(s), %llu MiB%s); %s is back on %s\n",
			guest, err ? "stopped" : "powered off", st.boot_to_exit_s, st.setup_s, st.dma_map_s,
			(unsigned long long)st.exits, st.dma_maps_peak,
			(unsigned long long)(st.dma_bytes_peak >> 20), vnic_note, bdf,
			now[0] ? now : "no driver");
	else
		fprintf(stderr, "vfctl: guest '%s' %s after %.1f s (%llu VM exits%s)\n", guest,
			err ? "stopped" : "powered off", st.boot_to_exit_s, (unsigned long long)st.exits,
			vnic_note);
	return err ? VFCTL_FAILED : VFCTL_OK;
}

const struct vfctl_cmd vfctl_cmd_assign = {
	"assign", "give a VF or the emulated vNIC to a new guest (KVM) until it powers off", usage, run,
};
