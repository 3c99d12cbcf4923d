/* libFuzzer target for the ACPI DMAR parser (iommu/dmar.c).  Any input must
 * give 0 or a negative errno and never touch memory outside the input
 * (ASan/UBSan watch); a table that parses must be self-consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/dmar.h"
#include "port.h"
#include "port/host/port_host.h"

static int probe(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	(void)ctx;
	(void)fn;
	if (seg)
		return -1;
	if (dev == 0x1c)
		return bus + 1;   /* every 1c.x is a bridge to the next bus */
	return (dev & 1) ? -1 : 0;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dmar_info info;
	port_host_set_log_quiet(1);
	/* An exact-size copy, so a read past the end is an ASan report. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	int strict = dmar_parse(copy, size, 0, &info);
	int rc = dmar_parse(copy, size, DMAR_PARSE_NO_CHECKSUM, &info);
	check(rc == 0 || rc == -PORT_EINVAL || rc == -PORT_E2BIG);
	check(strict == 0 || strict == -PORT_EINVAL || strict == -PORT_E2BIG);
	if (strict == 0)
		check(rc == 0);
	if (rc == 0) {
		check(info.ndrhd <= DMAR_MAX_DRHD && info.nrmrr <= DMAR_MAX_RMRR &&
		      info.nscopes <= DMAR_MAX_SCOPES && info.natsr <= DMAR_MAX_ATSR &&
		      info.nrhsa <= DMAR_MAX_RHSA && info.nandd <= DMAR_MAX_ANDD &&
		      info.nsatc <= DMAR_MAX_SATC);
		for (unsigned i = 0; i < info.ndrhd; i++) {
			const struct dmar_drhd *d = &info.drhd[i];
			check(d->reg_base && !(d->reg_base & 0xfff));
			check(d->scope_first + d->nscopes <= info.nscopes);
			for (unsigned j = 0; j < i; j++)
				check(info.drhd[j].reg_base != d->reg_base);
		}
		for (unsigned i = 0; i < info.nrmrr; i++)
			check(info.rmrr[i].limit >= info.rmrr[i].base &&
			      info.rmrr[i].scope_first + info.rmrr[i].nscopes <= info.nscopes);
		for (unsigned i = 0; i < info.nscopes; i++) {
			const struct dmar_scope *s = &info.scopes[i];
			check(s->path_len >= 1 && s->path_len <= DMAR_MAX_PATH);
			uint16_t sid;
			int r = dmar_scope_resolve(s, 0, probe, NULL, &sid);
			check(r == 0 || r == -PORT_ENODEV);
		}
		for (unsigned i = 0; i < info.nandd; i++)
			check(strlen(info.andd[i].name) < DMAR_ANDD_NAME_MAX);
		int u = dmar_drhd_for_device(&info, 0, 0x0010, probe, NULL);
		check(u == -PORT_ENOENT || (u >= 0 && (unsigned)u < info.ndrhd));
	}
	free(copy);
	return 0;
}
