# tests/unit/ — unit tests of code outside the shared libraries: the
# top-level rule links only the libraries, so these also get the sanitised
# objects of what they test.
VFCTL_JSON_SAN_OBJ := $(BUILD)/san/tools/vfctl/json.o
$(BUILD)/unit/test_vfctl_json: $(VFCTL_JSON_SAN_OBJ)
$(BUILD)/unit/test_vfctl_json: HOST_LIBS += $(VFCTL_JSON_SAN_OBJ)
