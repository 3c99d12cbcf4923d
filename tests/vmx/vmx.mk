# vmx.mk — the bare-metal VMX core (vmm_glue/vmx/) and its passthrough
# glue, one image (build/vmx/vmx.elf) run on two platforms (tests/vmx/main.c
# runs the halves each can):
#
#   make test-vmx       the core under Bochs: the image on a GRUB ISO (multiboot2)
#   make test-bmpt      the passthrough glue under QEMU's intel-iommu with an
#                       edu (MSI) and an igb PF (MSI-X): the same ELF booted
#                       with -kernel (PVH), three VT-d variants
#   make vmx-iso        just build build/vmx/vmx.iso
#
# The core is freestanding (FS_CFLAGS) and built only here: the top-level
# Makefile compiles vmm_glue/*.c, kvm/ and dev/ (but bm_*.c) as hosted code.  The image
# is the test (tests/vmx/*.c, *.S) + the core + the multiboot2 entry
# (baremetal/boot_multiboot2.*) + every baremetal/ PVH platform
# object, linked by baremetal/linker.ld (the multiboot2 header first, and
# the PVH note: the same ELF boots under QEMU -kernel), then put on a GRUB
# ISO (grub-mkrescue, grub-pc-bin) that carries only the modules it needs:
# a full one takes Bochs ~5 s more to boot.

VMX_BUILD := $(BUILD)/vmx
VMX_CORE_SRCS := $(sort $(wildcard vmm_glue/core/*.c vmm_glue/vmx/*.c vmm_glue/vmx/*.S) $(DEV_BM_SRCS))
# (baremetal/igb.c, an MSI-X source, is not in BM_SRCS: only this image uses it.)
VMX_TEST_SRCS := $(sort $(wildcard tests/vmx/*.c tests/vmx/*.S)) baremetal/boot_multiboot2.S baremetal/boot_multiboot2.c \
	baremetal/igb.c
VMX_OBJS = $(patsubst %,$(VMX_BUILD)/obj/%.o,$(VMX_CORE_SRCS) $(VMX_TEST_SRCS))
VMX_LDFLAGS := -m elf_x86_64 -nostdlib -static -z max-page-size=4096 --no-warn-rwx-segments \
	-T baremetal/linker.ld

.PHONY: test-vmx vmx-iso vmx-elf
vmx-iso: $(VMX_BUILD)/vmx.iso
# The image alone (QEMU -kernel boots it as PVH; docs/vmx.md).
vmx-elf: $(VMX_BUILD)/vmx.elf

$(VMX_BUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(VMX_BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(VMX_BUILD)/vmx.elf: $(VMX_OBJS) $$(BM_OBJS) $(LIB_FS) baremetal/linker.ld
	@mkdir -p $(@D)
	ld $(VMX_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_FS)

$(VMX_BUILD)/vmx.iso: $(VMX_BUILD)/vmx.elf tests/vmx/grub.cfg
	@rm -rf $(VMX_BUILD)/iso && mkdir -p $(VMX_BUILD)/iso/boot/grub
	cp $(VMX_BUILD)/vmx.elf $(VMX_BUILD)/iso/boot/vmx.elf
	cp tests/vmx/grub.cfg $(VMX_BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(VMX_BUILD)/iso --compress=no --locales= --fonts= --themes= \
		--install-modules="normal multiboot2 iso9660 biosdisk configfile boot" \
		--modules="multiboot2 iso9660 biosdisk normal configfile" \
		2>$(VMX_BUILD)/grub-mkrescue.log || \
		{ cat $(VMX_BUILD)/grub-mkrescue.log; exit 1; }

SUITES += vmx
test-vmx: $(VMX_BUILD)/vmx.iso
	@tests/lib/run-suite vmx 120 -- tests/vmx/run-bochs $< --timeout 60 --dir $(VMX_BUILD)/run

# TCG has no VMX: the image plays the guest's DMA and MSI/MSI-X writes itself
# (docs/vmx.md, "The passthrough test under QEMU").
SUITES += bmpt
.PHONY: test-bmpt
test-bmpt: $(VMX_BUILD)/vmx.elf
	@tests/lib/run-suite bmpt 300 -- tests/vmx/run-qemu $<

# Host unit tests of the core's pure modules (tests/unit/test_vmx_*.c): the
# top-level unit rule links only the shared libraries, so these binaries
# also get the sanitised objects of the modules they test.
VMX_PURE_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,vmm_glue/vmx/vmx_caps.c vmm_glue/core/ept.c \
	vmm_glue/vmx/vmx_exit.c vmm_glue/core/mmio_insn.c)
VMX_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_vmx_*.c))
$(VMX_UNIT_BINS): $(VMX_PURE_SAN_OBJS)
$(VMX_UNIT_BINS): HOST_LIBS += $(VMX_PURE_SAN_OBJS)

# Unit tests of the neutral core (tests/unit/test_core_*.c) link it whole.
CORE_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,vmm_glue/core/core_vm.c vmm_glue/core/ept.c \
	vmm_glue/core/mmio_insn.c)
CORE_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_core_*.c))
$(CORE_UNIT_BINS): $(CORE_SAN_OBJS)
$(CORE_UNIT_BINS): HOST_LIBS += $(CORE_SAN_OBJS)

# test_vmx_bmpt also links bm_passthrough, which needs the freestanding
# libraries: its object goes before them on the command line (the pattern
# rule would put it after, in HOST_LIBS, where the archives are already
# scanned).  The core's EPT-side calls are stood in for by the test itself;
# its glue (core_glue, what bm_passthrough's device side calls) is the real one.
BMPT_SAN_OBJ := $(BUILD)/san/vmm_glue/dev/bm_passthrough.o $(BUILD)/san/vmm_glue/core/core_glue.o
$(BUILD)/unit/test_vmx_bmpt: tests/unit/test_vmx_bmpt.c $(BMPT_SAN_OBJ) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -Itests/unit/support -o $@ $< $(BMPT_SAN_OBJ) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN) -lcmocka $(HOST_LIBS)

# test_vmx_apicv links vmx_apicv, which calls irq_remap/posted.c's
# descriptor operations (in the freestanding library): same ordering as
# above, its object before the archives.
APICV_SAN_OBJ := $(BUILD)/san/vmm_glue/vmx/vmx_apicv.o
$(BUILD)/unit/test_vmx_apicv: tests/unit/test_vmx_apicv.c $(APICV_SAN_OBJ) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -Itests/unit/support -o $@ $< $(APICV_SAN_OBJ) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN) -lcmocka $(HOST_LIBS)
