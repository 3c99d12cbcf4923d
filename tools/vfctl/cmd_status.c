/*
 * cmd_status.c — `vfctl status [VF…] [--json]`: who holds each VF.
 */
#include "tools/vfctl/status.h"
#include "tools/vfctl/vfctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/linux/pci_bind.h"

static const char usage[] =
	"usage: vfctl status [VF...] [--json]\n"
	"\n"
	"Who holds each VF (every VF when none is named): its driver, IOMMU group\n"
	"and interface; the guest vfctl assign gave it to (/run/vfstack/assign);\n"
	"every process that has its VFIO device open (/dev/vfio/GROUP or\n"
	"/dev/vfio/devices/vfioN, found through /proc/*/fd: run as root to see\n"
	"other users' processes); and whether it is in use: held by a process or\n"
	"a guest, or its interface up with an address.\n"
	"\n"
	"  --json   machine-readable\n";

static int gather(const struct vf_sel *sel, struct vf_status *st);
static void print_table(const struct vf_status *st, size_t n);

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return vfctl_opt_error(&vfctl_cmd_status, c, argv);
	}
	struct vf_sel *sel = NULL;
	size_t n = 0;
	int rc = vf_select(argc - optind, argv + optind, &sel, &n);
	if (rc)
		return rc;
	if (n == 0 && !json) {
		free(sel);
		printf("no VFs on this host ('vfctl sriov enable PF N' creates them)\n");
		return VFCTL_OK;
	}
	struct vf_status *st = calloc(n ? n : 1, sizeof(*st));
	if (!st) {
		free(sel);
		return vfctl_error("out of memory.");
	}
	bool partial = false;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = gather(&sel[i], &st[i]);
		partial |= st[i].partial;
	}
	if (!rc) {
		if (json)
			vf_status_print_json(stdout, st, n);
		else
			print_table(st, n);
		if (partial && !json)
			printf("(not root: processes of other users are not shown)\n");
	}
	free(st);
	free(sel);
	return rc;
}

const struct vfctl_cmd vfctl_cmd_status = {
	"status", "who holds each VF: driver, IOMMU group, the process or guest using it", usage, run,
};

static int gather(const struct vf_sel *sel, struct vf_status *st)
{
	memset(st, 0, sizeof(*st));
	st->sel = sel;
	int err = sriov_vf_get(sel->pf, sel->index, &st->info);
	if (err < 0)
		return vfctl_error("VF %d of %s (%s) is gone: %s; the VFs changed while reading, try again.",
				   sel->index, sel->pf, sel->vf, vfctl_strerror(err));
	if (assign_registry_lookup(sel->vf, st->guest, sizeof(st->guest), &st->guest_pid) != 0) {
		st->guest[0] = '\0';
		st->guest_pid = 0;
	}
	char nodes[2][VF_HOLDER_NODE_LEN];
	int nn = vf_vfio_nodes(sel->vf, nodes);
	/* A VF on a host driver is reached through its driver, not VFIO: a
	 * group node would name the other devices' users. */
	if (strcmp(st->info.driver, "vfio-pci") == 0 && nn > 0)
		vf_holders_find(nodes, nn, st->holders, VF_STATUS_MAX_HOLDERS, &st->nholders, &st->partial);
	if (st->info.netdev[0])
		st->netdev_busy = netdev_in_use(st->info.netdev, st->why, sizeof(st->why));
	return VFCTL_OK;
}

bool vf_status_in_use(const struct vf_status *st)
{
	return st->nholders > 0 || st->guest_pid > 0 || st->netdev_busy;
}

static void print_table(const struct vf_status *st, size_t n)
{
	printf("%-12s  %-12s  %-3s %-9s %-5s %-15s %-6s %s\n", "VF", "PF", "IDX", "DRIVER", "GROUP",
	       "NETDEV", "IN-USE", "HELD BY");
	for (size_t i = 0; i < n; i++) {
		const struct vf_status *s = &st[i];
		char group[16];
		if (s->info.iommu_group >= 0)
			snprintf(group, sizeof(group), "%d", s->info.iommu_group);
		else
			snprintf(group, sizeof(group), "-");
		printf("%-12s  %-12s  %-3d %-9s %-5s %-15s %-6s ", s->sel->vf, s->sel->pf, s->sel->index,
		       s->info.driver[0] ? s->info.driver : "-", group,
		       s->info.netdev[0] ? s->info.netdev : "-", vf_status_in_use(s) ? "yes" : "no");
		bool any = false;
		if (s->guest_pid > 0) {
			printf("guest '%s' (pid %d)", s->guest, (int)s->guest_pid);
			any = true;
		}
		for (size_t h = 0; h < s->nholders; h++) {
			if (s->holders[h].pid == s->guest_pid)
				continue;
			printf("%spid %d (%s) on %s", any ? ", " : "", (int)s->holders[h].pid,
			       s->holders[h].comm[0] ? s->holders[h].comm : "?", s->holders[h].node);
			any = true;
		}
		if (s->netdev_busy) {
			printf("%sinterface %s: %s", any ? ", " : "", s->info.netdev, s->why);
			any = true;
		}
		if (!any)
			putchar('-');
		putchar('\n');
	}
}
