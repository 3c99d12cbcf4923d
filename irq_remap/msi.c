/* msi.c — compatibility and remappable MSI formats (VT-d 5.1.2). */
#include "irq_remap/msi.h"

#include "port.h"

static bool addr_is_interrupt(const struct msi_msg *msg);

int msi_compat_decode(const struct msi_msg *msg, struct msi_compat *out)
{
	if (!addr_is_interrupt(msg) || msi_is_remappable(msg))
		return -PORT_EINVAL;
	out->dest_id = (uint8_t)((msg->addr_lo & MSI_ADDR_DEST_MASK) >> MSI_ADDR_DEST_SHIFT);
	out->dest_logical = msg->addr_lo & MSI_ADDR_DM;
	out->redir_hint = msg->addr_lo & MSI_ADDR_RH;
	out->vector = (uint8_t)(msg->data & MSI_DATA_VECTOR_MASK);
	out->delivery = (uint8_t)((msg->data & MSI_DATA_DLM_MASK) >> MSI_DATA_DLM_SHIFT);
	out->level = msg->data & MSI_DATA_TM_LEVEL;
	out->assert = msg->data & MSI_DATA_LEVEL_ASSERT;
	return 0;
}

void msi_compat_compose(const struct msi_compat *f, struct msi_msg *out)
{
	uint32_t addr = MSI_ADDR_BASE | ((uint32_t)f->dest_id << MSI_ADDR_DEST_SHIFT);
	if (f->dest_logical)
		addr |= MSI_ADDR_DM;
	if (f->redir_hint)
		addr |= MSI_ADDR_RH;
	uint32_t data = f->vector | (((uint32_t)f->delivery << MSI_DATA_DLM_SHIFT) & MSI_DATA_DLM_MASK);
	if (f->level)
		data |= MSI_DATA_TM_LEVEL;
	if (f->assert)
		data |= MSI_DATA_LEVEL_ASSERT;
	out->addr_lo = addr;
	out->addr_hi = 0;
	out->data = data;
}

void msi_remap_compose(const struct msi_remap *f, struct msi_msg *out)
{
	uint32_t addr = MSI_ADDR_BASE | MSI_ADDR_IF |
			(((uint32_t)f->handle << MSI_ADDR_HANDLE_SHIFT) & MSI_ADDR_HANDLE_MASK);
	if (f->handle & 0x8000u)
		addr |= MSI_ADDR_HANDLE15;
	if (f->shv)
		addr |= MSI_ADDR_SHV;
	out->addr_lo = addr;
	out->addr_hi = 0;
	out->data = f->shv ? f->subhandle : 0;
}

int msi_remap_decode(const struct msi_msg *msg, struct msi_remap *out)
{
	if (!addr_is_interrupt(msg) || !msi_is_remappable(msg))
		return -PORT_EINVAL;
	uint16_t handle = (uint16_t)((msg->addr_lo & MSI_ADDR_HANDLE_MASK) >> MSI_ADDR_HANDLE_SHIFT);
	if (msg->addr_lo & MSI_ADDR_HANDLE15)
		handle |= 0x8000u;
	out->handle = handle;
	out->shv = msg->addr_lo & MSI_ADDR_SHV;
	out->subhandle = out->shv ? (uint16_t)(msg->data & MSI_DATA_SUBHANDLE_MASK) : 0;
	return 0;
}

uint32_t msi_remap_index(const struct msi_remap *f)
{
	return (uint32_t)f->handle + (f->shv ? f->subhandle : 0u);
}

/* --- helpers -------------------------------------------------------------- */

static bool addr_is_interrupt(const struct msi_msg *msg)
{
	return msg->addr_hi == 0 && (msg->addr_lo & MSI_ADDR_BASE_MASK) == MSI_ADDR_BASE;
}
