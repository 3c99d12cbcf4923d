# bmvf.mk — bare-metal VF assignment (issue 15): QEMU's igb PF managed by
# baremetal/igb_pf, VF 0 assigned to the igbvf guest on the SVM core through
# bm_passthrough (our VT-d domain and IRTEs), VF 1 echoing in a domain of
# its own.  One PVH image, build/bmvf/bmvf.elf.
#
#   make test-bm-vf    QEMU TCG -cpu max, intel-iommu (IR, caching mode,
#                      aw-bits 48), igb on a one-port hub (no outside network)

BMVF_BUILD := $(BUILD)/bmvf
BMVF_SRCS := $(sort $(wildcard vmm_glue/core/*.c vmm_glue/svm/*.c vmm_glue/svm/*.S tests/bmvf/*.c)) \
	$(DEV_BM_SRCS) tests/vmx/guest_edu.c tests/svm/svm_guest.c baremetal/igb.c baremetal/igb_pf.c
BMVF_OBJS = $(patsubst %,$(BMVF_BUILD)/obj/%.o,$(BMVF_SRCS))

.PHONY: test-bm-vf bmvf-elf
bmvf-elf: $(BMVF_BUILD)/bmvf.elf

$(BMVF_BUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BMVF_BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BMVF_BUILD)/bmvf.elf: $(BMVF_OBJS) $$(BM_OBJS) $(LIB_FS) baremetal/linker.ld
	@mkdir -p $(@D)
	ld $(VMX_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_FS)


SUITES += bm-vf
test-bm-vf: $(BMVF_BUILD)/bmvf.elf
	@tests/lib/run-suite bm-vf 600 -- tests/bmvf/run $<

# The PF driver's unit test includes baremetal/igb_pf.c (a bare-metal
# object the unit libraries do not carry): rebuild it when that changes.
$(BUILD)/unit/test_igb_pf: baremetal/igb_pf.c baremetal/igb_pf.h
