/*
 * pt_model.h — the hosted passthrough device (vmm_glue/dev/passthrough.c) on
 * the host with stand-ins: a VFIO device whose config space and BAR regions
 * are arrays, and a core (glue.h) that records traps and lets a test play
 * the guest's config (0xCF8/0xCFC through vmm_glue/pci_bus) and MMIO
 * accesses.  It defines the vfio_dev_* functions passthrough.c calls, so a
 * program links it instead of vfio/vfio.c.
 *
 * Every device access is checked against what a host would have probed:
 * config accesses inside cfg_size bytes, region accesses inside the region
 * size, and no COMMAND write setting a bit outside cmd_allowed that was
 * clear.  A breach is counted in `violations` and described in `violation`
 * (the unit test asserts none; the fuzz target aborts).
 */
#ifndef VFS_TEST_PT_MODEL_H
#define VFS_TEST_PT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "vfio/vfio.h"
#include "vmm_glue/glue.h"
#include "vmm_glue/dev/passthrough.h"
#include "vmm_glue/dev/pci_bus.h"

#define PT_MODEL_BAR_MAX 0x4000u
#define PT_MODEL_TRAPS 16
#define PT_MODEL_MMIO_BASE 0xc0000000ull
#define PT_MODEL_MMIO_SIZE 0x10000000ull

struct vfio_dev {
	struct pt_model *m;
};

struct pt_model {
	struct glue glue;
	struct vfio_dev vdev;
	struct pci_bus *bus;
	struct pt_dev *pt;
	uint8_t cfg[4096];            /* the device's config space */
	unsigned cfg_size;            /* what VFIO exposes: 256 */
	uint64_t region_size[6];      /* 0: no region (VFIO reports size 0) */
	uint8_t bar[6][PT_MODEL_BAR_MAX];
	uint16_t cmd_allowed;         /* COMMAND bits the guest may set on the device */
	unsigned cfg_writes, region_writes, routes;
	unsigned violations;
	char violation[200];          /* the first */
	struct {
		bool used;
		enum glue_space space;
		uint64_t base, len;
		glue_trap_fn fn;
		void *ctx;
	} traps[PT_MODEL_TRAPS];
};

/* An empty model: an 8086:10ca function, 256-byte config, no BARs. */
void pt_model_init(struct pt_model *m);
/* pci_bus_create + pt_dev_create; returns pt_dev_create's result. */
int pt_model_plug(struct pt_model *m, char *why, size_t why_len);
/* pt_dev_destroy + pci_bus_destroy (what plug made). */
void pt_model_unplug(struct pt_model *m);
/* The guest's config access to the passed-through function (size 1, 2, 4
 * at an aligned offset below 256) through 0xCF8/0xCFC. */
uint32_t pt_model_cfg_read(struct pt_model *m, unsigned off, unsigned size);
void pt_model_cfg_write(struct pt_model *m, unsigned off, unsigned size, uint32_t val);
/* A guest MMIO access; false when nothing is trapped there. */
bool pt_model_mmio(struct pt_model *m, uint64_t gpa, unsigned size, bool wr, uint64_t *val);
/* The device's COMMAND register. */
uint16_t pt_model_command(const struct pt_model *m);

#endif
