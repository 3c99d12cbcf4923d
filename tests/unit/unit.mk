# tests/unit/ — unit tests of code outside the shared libraries: the
# top-level rule links only the libraries, so these also get the sanitised
# objects of what they test.
VFCTL_JSON_SAN_OBJ := $(BUILD)/san/tools/vfctl/apply_config.o
PKG_LIBS_AGAIN := $(HOST_LIBS)
$(BUILD)/unit/test_vfctl_json: $(VFCTL_JSON_SAN_OBJ)
# (the libraries again after it: it calls sriov/linux helpers)
$(BUILD)/unit/test_vfctl_json: HOST_LIBS += $(VFCTL_JSON_SAN_OBJ) $(LIB_HOST_SAN) $(LIB_FS_SAN) $(PKG_LIBS_AGAIN)
