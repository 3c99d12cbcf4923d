# svm.mk — the SVM backend (vmm_glue/svm/) on the neutral core
# (vmm_glue/core/) under QEMU TCG, with intel-iommu and a real edu: one PVH
# image, build/svm/svm.elf, run on four intel-iommu variants.
#
#   make test-svm      aw-bits 39 and 48 x caching-mode on and off
#
# The image: tests/svm/*.c + the edu guest shared with the VMX image
# (tests/vmx/guest_edu.c) + the core + the SVM backend + bm_passthrough +
# every baremetal/ PVH platform object, linked by baremetal/linker.ld.

SVM_BUILD := $(BUILD)/svm
SVM_SRCS := $(sort $(wildcard vmm_glue/core/*.c vmm_glue/svm/*.c vmm_glue/svm/*.S tests/svm/*.c)) \
	$(DEV_BM_SRCS) tests/vmx/guest_edu.c
SVM_OBJS = $(patsubst %,$(SVM_BUILD)/obj/%.o,$(SVM_SRCS))

.PHONY: test-svm svm-elf
svm-elf: $(SVM_BUILD)/svm.elf

$(SVM_BUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(SVM_BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(SVM_BUILD)/svm.elf: $(SVM_OBJS) $$(BM_OBJS) $(LIB_FS) baremetal/linker.ld
	@mkdir -p $(@D)
	ld $(VMX_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_FS)


SUITES += svm
test-svm: $(SVM_BUILD)/svm.elf
	@tests/lib/run-suite svm 900 -- tests/svm/run-variants $<
