# tests/unit/ — unit tests of code outside the shared libraries: the
# top-level rule links only the libraries, so these also get the sanitised
# objects of what they test.
VFCTL_JSON_SAN_OBJ := $(BUILD)/san/tools/vfctl/apply_config.o
PKG_LIBS_AGAIN := $(HOST_LIBS)
$(BUILD)/unit/test_vfctl_json: $(VFCTL_JSON_SAN_OBJ)
# (the libraries again after it: it calls sriov/linux helpers)
$(BUILD)/unit/test_vfctl_json: HOST_LIBS += $(VFCTL_JSON_SAN_OBJ) $(LIB_HOST_SAN) $(LIB_FS_SAN) $(PKG_LIBS_AGAIN)

# test_glue_bm drives glue.h on the bare-metal core (vmm_glue/core/core_glue.c
# over core_vm.c): those objects go before the freestanding library, which
# has the MSI decoder they call (irq_remap/msi.c).
GLUE_BM_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,vmm_glue/core/core_glue.c vmm_glue/core/core_vm.c \
	vmm_glue/core/ept.c vmm_glue/core/mmio_insn.c)
$(BUILD)/unit/test_glue_bm: tests/unit/test_glue_bm.c $(GLUE_BM_SAN_OBJS) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -Itests/unit/support -o $@ $< $(GLUE_BM_SAN_OBJS) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN) -lcmocka $(HOST_LIBS)
