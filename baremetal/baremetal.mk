# baremetal.mk — the bare-metal platform and the images built on it.
#
#   tests/baremetal/NAME/*.c  ->  build/baremetal/NAME.elf
#
# An image is its test objects + every platform object (baremetal/*.c,
# baremetal/*.S) + build/fs/libvfs_fs.a, linked by baremetal/linker.ld into
# a 64-bit ELF with a PVH note, for QEMU -kernel.  Run one with
# tests/baremetal/run-image (see docs/baremetal.md).

BM_BUILD := $(BUILD)/baremetal
BM_LD ?= ld
# The PVH platform, listed (other boot entries in baremetal/, such as
# boot_multiboot2.*, are linked only by the images that use them).
BM_SRCS := baremetal/boot.S baremetal/isr.S baremetal/main.c baremetal/pvh.c baremetal/console.c \
	baremetal/idt.c baremetal/lapic.c baremetal/clock.c baremetal/mem.c baremetal/acpi.c \
	baremetal/pci.c baremetal/edu.c baremetal/tap.c baremetal/port.c baremetal/libc.c
BM_OBJS := $(patsubst %,$(BM_BUILD)/%.o,$(basename $(BM_SRCS)))
BM_IMAGES := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard tests/baremetal/*/*.c)))))
BM_ELFS := $(BM_IMAGES:%=$(BM_BUILD)/%.elf)
BM_LDFLAGS := -m elf_x86_64 -nostdlib -static -z max-page-size=4096 --no-warn-rwx-segments \
	-T baremetal/linker.ld

.PHONY: baremetal
baremetal: $(BM_ELFS)

$(BM_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BM_BUILD)/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

# (A function, so the % of patsubst is not taken for the rule's stem.)
bm_test_objs = $(patsubst %.c,$(BM_BUILD)/%.o,$(wildcard tests/baremetal/$(1)/*.c))
$(BM_BUILD)/%.elf: $$(call bm_test_objs,$$*) $(BM_OBJS) \
		$(LIB_FS) baremetal/linker.ld
	@mkdir -p $(@D)
	$(BM_LD) $(BM_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_FS)

# The platform smoke test.
SUITES += baremetal
.PHONY: test-baremetal
test-baremetal: $(BM_BUILD)/smoke.elf
	@tests/lib/run-suite baremetal 120 -- tests/baremetal/run-image $< --timeout 60 -- \
		-device intel-iommu,intremap=on -device edu -device edu

# VT-d DMA-remapping conformance (issue 3): every intel-iommu variant.
SUITES += vtd
.PHONY: test-vtd
test-vtd: $(BM_BUILD)/vtd.elf
	@tests/lib/run-suite vtd 600 -- tests/baremetal/vtd/run-variants $< --timeout 60

# Fragments of other images (tests/baremetal/NAME/NAME.mk): the top-level
# Makefile includes only two levels deep.
-include $(sort $(wildcard tests/baremetal/*/*.mk))
