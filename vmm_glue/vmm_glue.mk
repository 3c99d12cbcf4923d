# vmm_glue/vmm_glue.mk — the VMM as its own program.  The top-level pattern
# rule for build/bin/% does not list a tool's objects (the % in its
# prerequisite is taken as the stem), so list them here.
VFS_VMM_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(wildcard tools/vfs-vmm/*.c))
$(BUILD)/bin/vfs-vmm: $(VFS_VMM_OBJS)
