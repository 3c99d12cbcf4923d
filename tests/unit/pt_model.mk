# pt_model.mk — test_pt_config links the passthrough device's stand-ins
# (tests/unit/model/pt_model.c: VFIO and the core) before the libraries, so
# passthrough.o takes their vfio_dev_* instead of vfio/vfio.c's (and the
# freestanding library again after the hosted one: passthrough.o needs pci/).
PT_MODEL_SAN_OBJ := $(BUILD)/san/tests/unit/model/pt_model.o
$(BUILD)/unit/test_pt_config: tests/unit/test_pt_config.c $(PT_MODEL_SAN_OBJ) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -Itests/unit/support -o $@ $< $(PT_MODEL_SAN_OBJ) $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN) $(LIB_FS_SAN) -lcmocka $(HOST_LIBS)
