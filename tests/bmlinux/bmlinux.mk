# bmlinux.mk — the bare-metal core boots a Linux guest (issue 16 item 1,
# without the VF): one PVH image, build/bm-linux/bm-linux.elf (tests/bmlinux/*.c
# + the neutral core + the SVM backend + the baremetal/ platform), run under
# QEMU TCG -cpu max with intel-iommu; the guest (the testbed's Debian 6.12
# bzImage + a tiny busybox initramfs) comes as -initrd, build/bm-linux/guest.blob.
#
#   make test-bm-linux     boot to /init, checks, poweroff; the guest's
#                          console is kept in build/bm-linux/console.log

BML_BUILD := $(BUILD)/bm-linux
BML_SRCS := $(sort $(wildcard vmm_glue/core/*.c vmm_glue/svm/*.c vmm_glue/svm/*.S tests/bmlinux/*.c)) \
	$(DEV_BM_SRCS) baremetal/igb.c baremetal/igb_pf.c tests/bmvf/vf_host.c
BML_OBJS = $(patsubst %,$(BML_BUILD)/obj/%.o,$(BML_SRCS))

.PHONY: test-bm-linux bm-linux-elf
bm-linux-elf: $(BML_BUILD)/bm-linux.elf $(BML_BUILD)/guest.blob

$(BML_BUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BML_BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BML_BUILD)/bm-linux.elf: $(BML_OBJS) $$(BM_OBJS) $(LIB_FS) baremetal/linker.ld
	@mkdir -p $(@D)
	ld $(BM_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_FS)

# The testbed's kernel and guest initramfs, both made (and cached) by one
# run of tests/testbed/build-images: on a clean clone this suite may be the
# first to need them.
$(BUILD)/testbed/image/vmlinuz $(BUILD)/testbed/image/guest.cpio.gz &:
	@$(TB_ENV) tests/testbed/build-images

$(BML_BUILD)/guest.blob: $(BUILD)/testbed/image/vmlinuz $(BUILD)/testbed/image/guest.cpio.gz tests/bmlinux/build-blob tests/bmlinux/init.sh
	@mkdir -p $(@D)
	tests/bmlinux/build-blob $< $@

SUITES += bm-linux
test-bm-linux: $(BML_BUILD)/bm-linux.elf $(BML_BUILD)/guest.blob
	@tests/lib/run-suite bm-linux 330 -- tests/bmlinux/run $(BML_BUILD)

# The guest platform's unit test (tests/unit/test_core_guest.c) links its
# modules beside the neutral core (CORE_SAN_OBJS, tests/vmx/vmx.mk).
BML_PLAT_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,vmm_glue/core/linux_boot.c vmm_glue/core/bzimage.c vmm_glue/core/acpi_build.c \
	vmm_glue/core/vlapic.c vmm_glue/core/uart.c vmm_glue/dev/uart16550.c vmm_glue/core/pci_host.c vmm_glue/core/vbar.c)
$(BUILD)/unit/test_core_guest: $(BML_PLAT_SAN_OBJS)
$(BUILD)/unit/test_core_guest: HOST_LIBS += $(BML_PLAT_SAN_OBJS)
