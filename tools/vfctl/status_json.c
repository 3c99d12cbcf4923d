/*
 * status_json.c — `vfctl status --json` (status.h).
 */
#include "tools/vfctl/status.h"

#include <jansson.h>
#include <stdlib.h>

void vf_status_print_json(FILE *f, const struct vf_status *st, size_t n)
{
	json_t *root = json_object(), *arr = json_array();
	json_object_set_new(root, "vfs", arr);
	for (size_t i = 0; i < n; i++) {
		const struct vf_status *s = &st[i];
		json_t *procs = json_array();
		for (size_t h = 0; h < s->nholders; h++)
			json_array_append_new(procs, json_pack("{s:i, s:s, s:s}", "pid", (int)s->holders[h].pid,
							       "comm", s->holders[h].comm, "node", s->holders[h].node));
		json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:b, s:o, s:o, s:b}",
			"vf", s->sel->vf, "pf", s->sel->pf, "index", s->sel->index,
			"driver", s->info.driver[0] ? json_string(s->info.driver) : json_null(),
			"iommu_group", s->info.iommu_group >= 0 ? json_integer(s->info.iommu_group) : json_null(),
			"netdev", s->info.netdev[0] ? json_string(s->info.netdev) : json_null(),
			"in_use", vf_status_in_use(s),
			"guest", s->guest_pid > 0 ? json_pack("{s:s, s:i}", "name", s->guest, "pid", (int)s->guest_pid)
						  : json_null(),
			"processes", procs,
			"processes_complete", !s->partial);
		if (o)
			json_array_append_new(arr, o);
	}
	char *text = json_dumps(root, JSON_INDENT(2));
	if (text) {
		fputs(text, f);
		fputc('\n', f);
		free(text);
	}
	json_decref(root);
}
