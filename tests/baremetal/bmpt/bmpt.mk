# bmpt.mk — the bare-metal passthrough glue (vmm_glue/vmx/bm_passthrough)
# against QEMU's intel-iommu (issue 8, passthrough half).  TCG has no VMX:
# the image builds a guest's EPT and plays the guest's DMA and MSI writes
# itself (docs/vmx.md, "Passthrough").
#
#   make test-bmpt      three boots: aw=48 shared, aw=39 shared, aw=48 mirrored;
#                       each passes through an edu (MSI) and an igb PF (MSI-X)
#
# The image links the VMX core's objects (built by tests/vmx/vmx.mk) besides
# the usual platform objects and libvfs_fs.a, so it has its own link rule;
# and the igb driver (baremetal/igb.c, an MSI-X source), which no other
# image needs and so is not in BM_SRCS.

BMPT_VMX_OBJS := $(patsubst %,$(BUILD)/vmx/obj/%.o,$(sort $(wildcard vmm_glue/vmx/*.c vmm_glue/vmx/*.S)))
BMPT_BM_OBJS := $(BM_BUILD)/baremetal/igb.o

$(BM_BUILD)/bmpt.elf: $(call bm_test_objs,bmpt) $(BMPT_VMX_OBJS) $(BMPT_BM_OBJS) $(BM_OBJS) $(LIB_FS) baremetal/linker.ld
	@mkdir -p $(@D)
	$(BM_LD) $(BM_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_FS)

SUITES += bmpt
.PHONY: test-bmpt
test-bmpt: $(BM_BUILD)/bmpt.elf
	@tests/lib/run-suite bmpt 300 -- tests/baremetal/bmpt/run-variants $<
