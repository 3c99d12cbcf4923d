/* dmar.c — ACPI DMAR table parser (VT-d spec chapter 8), bounds-checked. */
#include "dmar.h"

#include "port.h"

#define HDR_LEN 48u         /* 8.1: ACPI header (36) + HAW, flags, 10 reserved */
#define SUB_HDR_LEN 4u      /* 8.2: type (2), length (2) */
#define SCOPE_HDR_LEN 6u    /* 8.3.1: type, length, flags, rsvd, enum id, start bus */

/* A window of the table every read goes through. */
struct span {
	const uint8_t *p;
	size_t len;
	size_t base;        /* offset of p within the table, for log lines */
};

static uint64_t rd(const struct span *s, size_t off, unsigned bytes);
static int parse_structure(struct dmar_info *out, const struct span *st, unsigned type);
static int parse_scopes(struct dmar_info *out, const struct span *st, size_t first,
			unsigned *scope_first, unsigned *nscopes, const char *what);
static int check_drhd(const struct dmar_info *out, size_t off);
static const char *type_name(unsigned type);
static bool scopes_name(const struct dmar_info *info, unsigned first, unsigned n,
			uint16_t segment, uint16_t sid, dmar_pci_probe_fn probe, void *ctx);

int dmar_parse(const void *table, size_t len, unsigned flags, struct dmar_info *out)
{
	if (!table || !out)
		return -PORT_EINVAL;
	*out = (struct dmar_info){ 0 };
	struct span t = { table, len, 0 };
	if (len < HDR_LEN) {
		port_log("DMAR: table of %u bytes is shorter than its %u-byte header",
			 (unsigned)len, HDR_LEN);
		return -PORT_EINVAL;
	}
	if (rd(&t, 0, 4) != 0x52414d44u) {   /* "DMAR" little endian */
		port_log("DMAR: bad signature 0x%x", (unsigned)rd(&t, 0, 4));
		return -PORT_EINVAL;
	}
	uint64_t tlen = rd(&t, 4, 4);
	if (tlen < HDR_LEN || tlen > len) {
		port_log("DMAR: header length %u outside [%u, %u bytes given]", (unsigned)tlen,
			 HDR_LEN, (unsigned)len);
		return -PORT_EINVAL;
	}
	t.len = (size_t)tlen;
	if (!(flags & DMAR_PARSE_NO_CHECKSUM)) {
		uint8_t sum = 0;
		for (size_t i = 0; i < t.len; i++)
			sum = (uint8_t)(sum + t.p[i]);
		if (sum) {
			port_log("DMAR: checksum does not add up to 0 (sum 0x%x)", sum);
			return -PORT_EINVAL;
		}
	}
	out->revision = (uint8_t)rd(&t, 8, 1);
	out->haw = (unsigned)rd(&t, 36, 1) + 1;       /* 8.1: HAW = N + 1 */
	uint8_t f = (uint8_t)rd(&t, 37, 1);
	out->intr_remap = f & 1;
	out->x2apic_opt_out = (f >> 1) & 1;
	out->dma_ctrl_opt_in = (f >> 2) & 1;

	size_t off = HDR_LEN;
	while (off < t.len) {
		if (t.len - off < SUB_HDR_LEN) {
			port_log("DMAR: %u trailing bytes at offset 0x%x are not a structure",
				 (unsigned)(t.len - off), (unsigned)off);
			return -PORT_EINVAL;
		}
		unsigned type = (unsigned)rd(&t, off, 2);
		size_t slen = (size_t)rd(&t, off + 2, 2);
		if (slen < SUB_HDR_LEN || slen > t.len - off) {
			port_log("DMAR: %s at offset 0x%x: length %u outside [4, %u]", type_name(type),
				 (unsigned)off, (unsigned)slen, (unsigned)(t.len - off));
			return -PORT_EINVAL;
		}
		struct span st = { t.p + off, slen, off };
		int rc = parse_structure(out, &st, type);
		if (rc)
			return rc;
		off += slen;
	}
	return 0;
}

int dmar_scope_resolve(const struct dmar_scope *s, uint16_t segment, dmar_pci_probe_fn probe,
		       void *ctx, uint16_t *sid)
{
	if (!s || !probe || !sid || s->path_len == 0 || s->path_len > DMAR_MAX_PATH)
		return -PORT_EINVAL;
	unsigned bus = s->start_bus;
	for (unsigned i = 0; i < s->path_len; i++) {
		int r = probe(ctx, segment, (uint8_t)bus, s->path[i].dev, s->path[i].fn);
		bool last = i + 1 == s->path_len;
		if (r < 0 || (!last && r == 0)) {
			port_log("DMAR: scope %04x:%02x:%02x.%u (hop %u of %u) names %s",
				 segment, bus, s->path[i].dev, s->path[i].fn, i + 1, s->path_len,
				 r < 0 ? "a missing device" : "a device that is not a bridge");
			return -PORT_ENODEV;
		}
		if (last) {
			*sid = (uint16_t)((bus << 8) | (s->path[i].dev << 3) | s->path[i].fn);
			return 0;
		}
		bus = (unsigned)r & 0xff;
	}
	return -PORT_EINVAL;
}

int dmar_drhd_for_device(const struct dmar_info *info, uint16_t segment, uint16_t sid,
			 dmar_pci_probe_fn probe, void *ctx)
{
	if (!info)
		return -PORT_EINVAL;
	int all = -PORT_ENOENT;
	for (unsigned u = 0; u < info->ndrhd && u < DMAR_MAX_DRHD; u++) {
		const struct dmar_drhd *d = &info->drhd[u];
		if (d->segment != segment)
			continue;
		if (d->include_pci_all)
			all = (int)u;
		if (scopes_name(info, d->scope_first, d->nscopes, segment, sid, probe, ctx))
			return (int)u;
	}
	return all;
}

int dmar_rmrr_for_device(const struct dmar_info *info, unsigned from, uint16_t segment,
			 uint16_t sid, dmar_pci_probe_fn probe, void *ctx)
{
	if (!info)
		return -PORT_EINVAL;
	for (unsigned r = from; r < info->nrmrr && r < DMAR_MAX_RMRR; r++) {
		const struct dmar_rmrr *m = &info->rmrr[r];
		if (m->segment == segment &&
		    scopes_name(info, m->scope_first, m->nscopes, segment, sid, probe, ctx))
			return (int)r;
	}
	return -PORT_ENOENT;
}

/* --- helpers --------------------------------------------------------------- */

/* Does one of the scopes [first, first+n) name sid: an endpoint scope that
 * resolves to it, or a bridge scope whose secondary bus is sid's bus (8.3.1)? */
static bool scopes_name(const struct dmar_info *info, unsigned first, unsigned n,
			uint16_t segment, uint16_t sid, dmar_pci_probe_fn probe, void *ctx)
{
	for (unsigned k = 0; k < n && probe; k++) {
		unsigned si = first + k;
		if (si >= DMAR_MAX_SCOPES)
			break;
		const struct dmar_scope *s = &info->scopes[si];
		if (s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE)
			continue;
		uint16_t found;
		if (dmar_scope_resolve(s, segment, probe, ctx, &found))
			continue;
		if (s->type == DMAR_SCOPE_ENDPOINT && found == sid)
			return true;
		if (s->type == DMAR_SCOPE_BRIDGE) {
			int sec = probe(ctx, segment, (uint8_t)(found >> 8), (found >> 3) & 31, found & 7);
			if (sec > 0 && (unsigned)sec == (unsigned)(sid >> 8))
				return true;
		}
	}
	return false;
}

/* Little-endian read of `bytes` at off; the caller has checked the bounds
 * (and every caller does: an out-of-bounds read returns 0, never memory). */
static uint64_t rd(const struct span *s, size_t off, unsigned bytes)
{
	uint64_t v = 0;
	if (off > s->len || bytes > s->len - off)
		return 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)s->p[off + i] << (8 * i);
	return v;
}

static int too_short(const struct span *st, unsigned type, size_t need)
{
	if (st->len >= need)
		return 0;
	port_log("DMAR: %s at offset 0x%x: length %u, needs at least %u", type_name(type),
		 (unsigned)st->base, (unsigned)st->len, (unsigned)need);
	return -PORT_EINVAL;
}

static int full(const char *what, unsigned max)
{
	port_log("DMAR: more than %u %s structures; raise DMAR_MAX_*", max, what);
	return -PORT_E2BIG;
}

static int parse_structure(struct dmar_info *out, const struct span *st, unsigned type)
{
	int rc;
	switch (type) {
	case DMAR_TYPE_DRHD: {       /* 8.3: flags@4 size@5 segment@6 base@8 scopes@16 */
		if ((rc = too_short(st, type, 16)))
			return rc;
		if (out->ndrhd >= DMAR_MAX_DRHD)
			return full("DRHD", DMAR_MAX_DRHD);
		struct dmar_drhd *d = &out->drhd[out->ndrhd];
		d->include_pci_all = rd(st, 4, 1) & 1;
		d->size_pages = 1u << (rd(st, 5, 1) & 0xf);
		d->segment = (uint16_t)rd(st, 6, 2);
		d->reg_base = rd(st, 8, 8);
		if ((rc = check_drhd(out, st->base)))
			return rc;
		rc = parse_scopes(out, st, 16, &d->scope_first, &d->nscopes, "DRHD");
		if (rc)
			return rc;
		out->ndrhd++;
		return 0;
	}
	case DMAR_TYPE_RMRR: {       /* 8.4: segment@6 base@8 limit@16 scopes@24 */
		if ((rc = too_short(st, type, 24)))
			return rc;
		if (out->nrmrr >= DMAR_MAX_RMRR)
			return full("RMRR", DMAR_MAX_RMRR);
		struct dmar_rmrr *r = &out->rmrr[out->nrmrr];
		r->segment = (uint16_t)rd(st, 6, 2);
		r->base = rd(st, 8, 8);
		r->limit = rd(st, 16, 8);
		if ((r->base & 0xfff) || ((r->limit + 1) & 0xfff) || r->limit < r->base) {
			port_log("DMAR: RMRR at offset 0x%x: region 0x%llx-0x%llx is not a 4 KiB "
				 "aligned range", (unsigned)st->base, (unsigned long long)r->base,
				 (unsigned long long)r->limit);
			return -PORT_EINVAL;
		}
		rc = parse_scopes(out, st, 24, &r->scope_first, &r->nscopes, "RMRR");
		if (rc)
			return rc;
		out->nrmrr++;
		return 0;
	}
	case DMAR_TYPE_ATSR: {       /* 8.5: flags@4 segment@6 scopes@8 */
		if ((rc = too_short(st, type, 8)))
			return rc;
		if (out->natsr >= DMAR_MAX_ATSR)
			return full("ATSR", DMAR_MAX_ATSR);
		struct dmar_atsr *a = &out->atsr[out->natsr];
		a->all_ports = rd(st, 4, 1) & 1;
		a->segment = (uint16_t)rd(st, 6, 2);
		rc = parse_scopes(out, st, 8, &a->scope_first, &a->nscopes, "ATSR");
		if (rc)
			return rc;
		out->natsr++;
		return 0;
	}
	case DMAR_TYPE_RHSA: {       /* 8.6: base@8 proximity@16, length 20 */
		if ((rc = too_short(st, type, 20)))
			return rc;
		if (out->nrhsa >= DMAR_MAX_RHSA)
			return full("RHSA", DMAR_MAX_RHSA);
		out->rhsa[out->nrhsa].reg_base = rd(st, 8, 8);
		out->rhsa[out->nrhsa].proximity_domain = (uint32_t)rd(st, 16, 4);
		out->nrhsa++;
		return 0;
	}
	case DMAR_TYPE_ANDD: {       /* 8.7: device number@7, name@8 .. end */
		if ((rc = too_short(st, type, 9)))
			return rc;
		if (out->nandd >= DMAR_MAX_ANDD)
			return full("ANDD", DMAR_MAX_ANDD);
		struct dmar_andd *a = &out->andd[out->nandd];
		a->device_number = (uint8_t)rd(st, 7, 1);
		size_t n = 0;
		for (size_t i = 8; i < st->len && n + 1 < DMAR_ANDD_NAME_MAX; i++) {
			char c = (char)st->p[i];
			if (!c)
				break;
			a->name[n++] = c;
		}
		a->name[n] = 0;
		out->nandd++;
		return 0;
	}
	case DMAR_TYPE_SATC: {       /* 8.8: flags@4 segment@6 scopes@8 */
		if ((rc = too_short(st, type, 8)))
			return rc;
		if (out->nsatc >= DMAR_MAX_SATC)
			return full("SATC", DMAR_MAX_SATC);
		struct dmar_satc *s = &out->satc[out->nsatc];
		s->atc_required = rd(st, 4, 1) & 1;
		s->segment = (uint16_t)rd(st, 6, 2);
		rc = parse_scopes(out, st, 8, &s->scope_first, &s->nscopes, "SATC");
		if (rc)
			return rc;
		out->nsatc++;
		return 0;
	}
	default:
		out->nunknown++;   /* 8.2: skip types we do not know, by their length */
		return 0;
	}
}

/* 8.3.1: device scopes from `first` to the end of the structure. */
static int parse_scopes(struct dmar_info *out, const struct span *st, size_t first,
			unsigned *scope_first, unsigned *nscopes, const char *what)
{
	*scope_first = out->nscopes;
	*nscopes = 0;
	size_t off = first;
	while (off < st->len) {
		size_t room = st->len - off;
		size_t slen = room >= 2 ? (size_t)rd(st, off + 1, 1) : 0;
		if (room < SCOPE_HDR_LEN || slen < SCOPE_HDR_LEN || slen > room ||
		    (slen - SCOPE_HDR_LEN) % 2) {
			port_log("DMAR: %s at offset 0x%x: device scope at +0x%x has length %u "
				 "(%u bytes left; 6 + 2 per hop)", what, (unsigned)st->base,
				 (unsigned)off, (unsigned)slen, (unsigned)room);
			return -PORT_EINVAL;
		}
		unsigned hops = (unsigned)(slen - SCOPE_HDR_LEN) / 2;
		uint8_t type = (uint8_t)rd(st, off, 1);
		if (type < DMAR_SCOPE_ENDPOINT || type > DMAR_SCOPE_ACPI || hops == 0) {
			port_log("DMAR: %s at offset 0x%x: device scope at +0x%x: type %u with %u hops",
				 what, (unsigned)st->base, (unsigned)off, type, hops);
			return -PORT_EINVAL;
		}
		if (hops > DMAR_MAX_PATH) {
			port_log("DMAR: %s at offset 0x%x: scope path of %u hops (max %u)", what,
				 (unsigned)st->base, hops, DMAR_MAX_PATH);
			return -PORT_E2BIG;
		}
		if (out->nscopes >= DMAR_MAX_SCOPES)
			return full("device scope", DMAR_MAX_SCOPES);
		struct dmar_scope *s = &out->scopes[out->nscopes];
		*s = (struct dmar_scope){
			.type = type,
			.flags = (uint8_t)rd(st, off + 2, 1),
			.enum_id = (uint8_t)rd(st, off + 4, 1),
			.start_bus = (uint8_t)rd(st, off + 5, 1),
			.path_len = (uint8_t)hops,
		};
		for (unsigned h = 0; h < hops; h++) {
			s->path[h].dev = (uint8_t)rd(st, off + 6 + 2 * h, 1);
			s->path[h].fn = (uint8_t)rd(st, off + 7 + 2 * h, 1);
			if (s->path[h].dev > 31 || s->path[h].fn > 7) {
				port_log("DMAR: %s at offset 0x%x: scope hop %02x.%x is not a PCI "
					 "device/function", what, (unsigned)st->base, s->path[h].dev,
					 s->path[h].fn);
				return -PORT_EINVAL;
			}
		}
		out->nscopes++;
		(*nscopes)++;
		off += slen;
	}
	return 0;
}

/* A DRHD that lies: base 0, unaligned, a unit already seen at that base, or a
 * second INCLUDE_PCI_ALL unit in one segment. */
static int check_drhd(const struct dmar_info *out, size_t off)
{
	const struct dmar_drhd *d = &out->drhd[out->ndrhd];
	if (d->reg_base == 0 || (d->reg_base & 0xfff)) {
		port_log("DMAR: DRHD at offset 0x%x: register base 0x%llx is %s", (unsigned)off,
			 (unsigned long long)d->reg_base, d->reg_base ? "not 4 KiB aligned" : "zero");
		return -PORT_EINVAL;
	}
	for (unsigned i = 0; i < out->ndrhd; i++) {
		if (out->drhd[i].reg_base == d->reg_base) {
			port_log("DMAR: DRHD at offset 0x%x: a second unit at register base 0x%llx",
				 (unsigned)off, (unsigned long long)d->reg_base);
			return -PORT_EINVAL;
		}
		if (d->include_pci_all && out->drhd[i].include_pci_all &&
		    out->drhd[i].segment == d->segment) {
			port_log("DMAR: DRHD at offset 0x%x: a second INCLUDE_PCI_ALL unit in "
				 "segment %u", (unsigned)off, d->segment);
			return -PORT_EINVAL;
		}
	}
	return 0;
}

static const char *type_name(unsigned type)
{
	switch (type) {
	case DMAR_TYPE_DRHD: return "DRHD";
	case DMAR_TYPE_RMRR: return "RMRR";
	case DMAR_TYPE_ATSR: return "ATSR";
	case DMAR_TYPE_RHSA: return "RHSA";
	case DMAR_TYPE_ANDD: return "ANDD";
	case DMAR_TYPE_SATC: return "SATC";
	default: return "structure";
	}
}
