# sriov/ — the sanitised (unit-test) build of the netlink module needs
# libnl's include path, which the top-level SAN_CFLAGS does not carry.
$(BUILD)/san/sriov/linux/%.o: SAN_CFLAGS += $(shell pkg-config --cflags libnl-route-3.0 libpci 2>/dev/null)

# Work around the top-level tool rule: inside a pattern rule '%' in
# $(patsubst %.c,...) is replaced by the stem, so no tool object gets listed.
# Name vfctl's objects explicitly (the pattern rule's recipe still links).
VFCTL_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(wildcard tools/vfctl/*.c))
$(BUILD)/bin/vfctl: $(VFCTL_OBJS)
