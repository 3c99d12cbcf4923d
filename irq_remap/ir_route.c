/* ir_route.c — virtual MSI -> IRTE -> host vector / posted descriptor. */
#include "irq_remap/ir_route.h"

#include "iommu/vtd_unit.h"
#include "port.h"

#define NO_VCPU (-1)
#define FIRST_LEGAL_VECTOR 16    /* vectors 0-15 are illegal for the APIC */
#define FIRST_HOST_VECTOR 32     /* below are exceptions */
#define DEST_BROADCAST 0xffu

static int check_message(const struct ir_guest *g, const struct msi_msg *virt_msi,
			 struct msi_compat *m);
static int resolve_vcpu(const struct ir_guest *g, const struct msi_compat *m, unsigned *vcpu);
static int build_irte(const struct ir_route *rt, struct ir_msg *msg, struct irte *irte);
static int write_block(struct ir_route *rt, const struct irte *irtes);
static void block_route(struct ir_route *rt);
static bool vcpu_is_destination(const struct ir_guest *g, const struct ir_vcpu *v,
				const struct msi_compat *m);
static const char *delivery_name(uint8_t dlm);
static const char *guest_name(const struct ir_guest *g);
static bool is_pow2(unsigned v);
static bool can_post(const struct ir_route *rt, const struct ir_vcpu *v);

int ir_route_open(struct ir_route *rt, const struct ir_route_cfg *cfg)
{
	*rt = (struct ir_route){ 0 };
	if (!cfg->table || !cfg->guest || !cfg->guest->n_vcpus || !cfg->host_vectors ||
	    !is_pow2(cfg->n_msgs) || cfg->n_msgs > IR_ROUTE_MAX_MSGS)
		return -PORT_EINVAL;
	if (cfg->source.svt == IRTE_SVT_NONE || cfg->source.svt > IRTE_SVT_BUS ||
	    cfg->source.sq > IRTE_SQ_IGN_210) {
		port_log("ir: guest %s: a passed-through source needs requester-id verification (SVT)",
			 cfg->guest->name ? cfg->guest->name : "?");
		return -PORT_EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_msgs; i++)
		if (cfg->host_vectors[i] < FIRST_HOST_VECTOR)
			return -PORT_EINVAL;
	int rc = ir_alloc(cfg->table, cfg->n_msgs, &rt->base);
	if (rc)
		return rc;
	rt->table = cfg->table;
	rt->guest = cfg->guest;
	rt->source = cfg->source;
	rt->n_msgs = cfg->n_msgs;
	for (unsigned i = 0; i < cfg->n_msgs; i++) {
		rt->host_vectors[i] = cfg->host_vectors[i];
		rt->msgs[i] = (struct ir_msg){ .vcpu = NO_VCPU, .irte_index = (uint16_t)(rt->base + i) };
	}
	rt->virt_masked = true;
	rt->shadow_masked = true;
	/* 5.1.5.2: a block gets SHV with subhandle 0; the device ORs the
	 * message number into data[4:0], so index = base + message. */
	struct msi_remap shadow = { .handle = rt->base, .shv = cfg->n_msgs > 1, .subhandle = 0 };
	msi_remap_compose(&shadow, &rt->shadow_msi);
	return 0;
}

int ir_route_update(struct ir_route *rt, const struct msi_msg *virt_msi, bool virt_masked)
{
	if (!rt->table)
		return -PORT_EINVAL;   /* not open */
	rt->virt_msi = *virt_msi;
	rt->virt_masked = virt_masked;
	if (virt_masked) {
		rt->shadow_masked = true;
		return 0;
	}
	struct msi_compat m;
	unsigned vcpu = 0;
	int rc = check_message(rt->guest, virt_msi, &m);
	if (!rc)
		rc = resolve_vcpu(rt->guest, &m, &vcpu);
	struct ir_msg next[IR_ROUTE_MAX_MSGS];
	struct irte irtes[IR_ROUTE_MAX_MSGS];
	const struct ir_vcpu *v = &rt->guest->vcpus[vcpu];
	for (unsigned i = 0; i < rt->n_msgs && !rc; i++) {
		/* The device replaces the low log2(n) bits of the vector. */
		next[i] = (struct ir_msg){
			.virt_vector = (uint8_t)((m.vector & ~(rt->n_msgs - 1)) | i),
			.vcpu = (int)vcpu,
			.irte_index = (uint16_t)(rt->base + i),
			.posted = can_post(rt, v),
			.host_vector = rt->host_vectors[i],
		};
		rc = build_irte(rt, &next[i], &irtes[i]);
	}
	if (!rc)
		rc = write_block(rt, irtes);
	if (rc) {
		block_route(rt);
		return rc;
	}
	for (unsigned i = 0; i < rt->n_msgs; i++)
		rt->msgs[i] = next[i];
	rt->routed = true;
	rt->shadow_masked = false;
	return 0;
}

int ir_route_vcpu_moved(struct ir_route *rt, unsigned vcpu)
{
	if (!rt->table || !rt->routed || vcpu >= rt->guest->n_vcpus)
		return 0;
	struct irte irtes[IR_ROUTE_MAX_MSGS];
	bool changed = false;
	for (unsigned i = 0; i < rt->n_msgs; i++) {
		irtes[i] = *ir_table_entry(rt->table, (uint16_t)(rt->base + i));
		if (rt->msgs[i].vcpu != (int)vcpu || rt->msgs[i].posted)
			continue;
		int rc = build_irte(rt, &rt->msgs[i], &irtes[i]);
		if (rc) {
			block_route(rt);
			return rc;
		}
		changed = true;
	}
	if (!changed)
		return 0;
	int rc = write_block(rt, irtes);
	if (rc)
		block_route(rt);
	return rc;
}

int ir_route_lookup_host_vector(const struct ir_route *rt, uint8_t host_vector,
				unsigned *vcpu, uint8_t *virt_vector)
{
	for (unsigned i = 0; rt->routed && i < rt->n_msgs; i++) {
		const struct ir_msg *msg = &rt->msgs[i];
		if (msg->posted || msg->host_vector != host_vector)
			continue;
		*vcpu = (unsigned)msg->vcpu;
		*virt_vector = msg->virt_vector;
		return 0;
	}
	return -PORT_ENOENT;
}

int ir_guest_msi_target(const struct ir_guest *g, const struct msi_msg *virt_msi, unsigned *vcpu,
			uint8_t *virt_vector)
{
	struct msi_compat m;
	if (!g || !g->n_vcpus)
		return -PORT_EINVAL;
	int rc = check_message(g, virt_msi, &m);
	if (!rc)
		rc = resolve_vcpu(g, &m, vcpu);
	if (!rc)
		*virt_vector = m.vector;
	return rc;
}

void ir_route_close(struct ir_route *rt)
{
	if (rt->table)
		ir_free(rt->table, rt->base, rt->n_msgs);
	*rt = (struct ir_route){ 0 };
}

/* --- virtual context: is the guest's message acceptable, and for whom? --- */

static int check_message(const struct ir_guest *g, const struct msi_msg *virt_msi,
			 struct msi_compat *m)
{
	if (msi_compat_decode(virt_msi, m)) {
		port_log("ir: guest %s: MSI refused: %08x:%08x/%08x is not a compatibility-format "
			 "interrupt message", guest_name(g), virt_msi->addr_hi, virt_msi->addr_lo,
			 virt_msi->data);
		return -PORT_EINVAL;
	}
	if (m->delivery == MSI_DLM_RESERVED3 || m->delivery == MSI_DLM_RESERVED6) {
		port_log("ir: guest %s: MSI refused: delivery mode %s", guest_name(g),
			 delivery_name(m->delivery));
		return -PORT_EINVAL;
	}
	if (m->delivery != MSI_DLM_FIXED && m->delivery != MSI_DLM_LOWPRI) {
		port_log("ir: guest %s: MSI refused: %s delivery is not passed through to a guest",
			 guest_name(g), delivery_name(m->delivery));
		return -PORT_ENOTSUP;
	}
	if (m->level) {
		port_log("ir: guest %s: MSI refused: level-triggered message", guest_name(g));
		return -PORT_ENOTSUP;
	}
	if (m->vector < FIRST_LEGAL_VECTOR) {
		port_log("ir: guest %s: MSI refused: illegal vector %u", guest_name(g), m->vector);
		return -PORT_EINVAL;
	}
	return 0;
}

static const char *delivery_name(uint8_t dlm)
{
	static const char *const names[8] = { "fixed", "lowest-priority", "SMI", "reserved (011b)",
					      "NMI", "INIT", "reserved (110b)", "ExtINT" };
	return names[dlm & 7];
}

/* Pick the one vCPU the message goes to, or refuse it. */
static int resolve_vcpu(const struct ir_guest *g, const struct msi_compat *m, unsigned *vcpu)
{
	unsigned matches = 0, first = 0;
	for (unsigned i = 0; i < g->n_vcpus; i++) {
		if (!vcpu_is_destination(g, &g->vcpus[i], m))
			continue;
		if (!matches++)
			first = i;
	}
	if (!matches) {
		port_log("ir: guest %s: MSI refused: %s destination 0x%x is owned by no vCPU of the guest",
			 guest_name(g), m->dest_logical ? "logical" : "physical", m->dest_id);
		return -PORT_EINVAL;
	}
	if (matches > 1 && m->delivery == MSI_DLM_FIXED) {
		port_log("ir: guest %s: MSI refused: fixed delivery to %u vCPUs (destination 0x%x) "
			 "cannot be remapped to one CPU", guest_name(g), matches, m->dest_id);
		return -PORT_ENOTSUP;
	}
	if (matches > 1)
		port_log("ir: guest %s: lowest-priority MSI to %u vCPUs delivered to vCPU %u",
			 guest_name(g), matches, first);
	*vcpu = first;
	return 0;
}

static bool vcpu_is_destination(const struct ir_guest *g, const struct ir_vcpu *v,
				const struct msi_compat *m)
{
	if (m->dest_id == DEST_BROADCAST)
		return true;
	if (!m->dest_logical)
		return v->virt_apic_id == m->dest_id;
	if (g->virt_x2apic) {
		/* x2APIC logical ID: cluster = ID[31:4] in LDR[31:16], one bit
		 * 1 << ID[3:0] in LDR[15:0]; an 8-bit MSI destination can only
		 * name cluster 0. */
		uint32_t ldr = ((v->virt_apic_id >> 4) << 16) | (1u << (v->virt_apic_id & 0xf));
		return (ldr >> 16) == 0 && (ldr & m->dest_id);
	}
	if (g->virt_logical_cluster)
		return (m->dest_id >> 4) == (v->virt_logical_id >> 4) &&
		       (m->dest_id & v->virt_logical_id & 0xf);
	return m->dest_id & v->virt_logical_id;
}

/* --- shadow and physical context: one IRTE per message ------------------ */

static int build_irte(const struct ir_route *rt, struct ir_msg *msg, struct irte *irte)
{
	const struct ir_vcpu *v = &rt->guest->vcpus[msg->vcpu];
	if (msg->posted) {
		struct irte_posted p = {
			.vector = msg->virt_vector,
			.pda = port_virt_to_phys(v->pi_desc),
			.source = rt->source,
		};
		msg->pi_desc = v->pi_desc;
		return irte_compose_posted(&p, irte);
	}
	struct irte_remapped r = {
		.delivery = IRTE_DLM_FIXED,
		.vector = msg->host_vector,
		.dest = v->host_apic_id,
		.source = rt->source,
	};
	msg->host_apic_id = v->host_apic_id;
	int rc = irte_compose_remapped(&r, rt->table->eim, irte);
	if (rc == -PORT_ERANGE)
		port_log("ir: guest %s: host APIC ID 0x%x does not fit an xAPIC IRTE (table not in x2APIC mode)",
			 guest_name(rt->guest), v->host_apic_id);
	return rc;
}

static int write_block(struct ir_route *rt, const struct irte *irtes)
{
	int rc = 0;
	for (unsigned i = 0; i < rt->n_msgs && !rc; i++)
		rc = ir_table_write(rt->table, (uint16_t)(rt->base + i), &irtes[i]);
	int inv = ir_table_invalidate(rt->table, rt->base, rt->n_msgs);
	return rc ? rc : inv;
}

static void block_route(struct ir_route *rt)
{
	static const struct irte not_present[IR_ROUTE_MAX_MSGS];
	write_block(rt, not_present);
	for (unsigned i = 0; i < rt->n_msgs; i++) {
		rt->msgs[i].vcpu = NO_VCPU;
		rt->msgs[i].posted = false;
		rt->msgs[i].pi_desc = NULL;
	}
	rt->routed = false;
	rt->shadow_masked = true;
}

/* --- small helpers -------------------------------------------------------- */

/* 9.11 / 11.4.2: IM=1 is a reserved bit (fault 0x24) on a unit without
 * CAP.PI, so a guest that asks for posting gets remapped delivery there. */
static bool can_post(const struct ir_route *rt, const struct ir_vcpu *v)
{
	if (!rt->guest->posted || !v->pi_desc)
		return false;
	const struct vtd_unit *u = rt->table->unit;
	if (u && u->caps.pi)
		return true;
	port_log("ir: guest %s: posted delivery needs a unit with CAP.PI; using remapped delivery",
		 guest_name(rt->guest));
	return false;
}

static const char *guest_name(const struct ir_guest *g)
{
	return g->name ? g->name : "?";
}

static bool is_pow2(unsigned v) { return v && !(v & (v - 1)); }
