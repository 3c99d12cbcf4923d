# vfstack — top-level build.
#
#   make            build everything (libraries, tools, unit tests)
#   make deps       install every Debian package the project needs (root)
#   make test       deps + build + every test suite; ends with "N passed, N failed, N skipped"
#   make demo       the main job: testbed up, VFs created, one assigned, measured
#
# Source layout conventions (so each module's fragment stays small):
#   freestanding:  iommu/*.c irq_remap/*.c pci/*.c sriov/*.c  (-ffreestanding, port/ only)
#   hosted libs:   sriov/linux/*.c vfio/*.c vmm_glue/*.c vmm_glue/kvm/*.c
#                  vmm_glue/dev/*.c but bm_*.c and the shared models (libc, libpci, libnl)
#   device models shared by both cores (DEV_SHARED_SRCS) and
#   vmm_glue/core/bzimage.c (CORE_SHARED_SRCS) are freestanding
#   tools:         tools/NAME/*.c        -> build/bin/NAME
#   unit tests:    tests/unit/test_*.c   -> build/unit/test_*  (cmocka, ASan+UBSan)
#                  tests/unit/support/*.c are linked into every unit test
# Each folder may add a fragment NAME.mk (included below) for anything else:
# a suite it adds appends its name to SUITES and defines test-NAME.

BUILD ?= build
CC ?= gcc
CLANG ?= clang

WARN := -std=c11 -Wall -Wextra -Werror
INCLUDES := -I. -Iport

# Freestanding flavour: what the bare-metal images link.  No red zone and no
# SSE (interrupt handlers), no stack protector, no PIC.
FS_CFLAGS := $(WARN) $(INCLUDES) -O2 -g -ffreestanding -fno-builtin -nostdlib \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-common
PKG_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 libpci jansson 2>/dev/null)
# Sanitised host flavour: the same sources, for unit tests.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := $(WARN) $(INCLUDES) -D_GNU_SOURCE -O1 -g $(SAN_FLAGS) $(PKG_CFLAGS)
# Hosted flavour: tools and hosted libraries.
HOST_CFLAGS := $(WARN) $(INCLUDES) -D_GNU_SOURCE -O2 -g $(PKG_CFLAGS)
HOST_LIBS := $(shell pkg-config --libs libnl-route-3.0 libpci jansson 2>/dev/null)

# Device models both cores use (vmm_glue/dev/): freestanding, in both libraries.
DEV_SHARED_SRCS := $(sort $(wildcard vmm_glue/dev/msi_state.c vmm_glue/dev/pt_config.c vmm_glue/dev/uart16550.c))
# The bzImage setup header / zero page both cores' Linux loaders write
# (vmm_glue/boot_linux.c, vmm_glue/core/linux_boot.c): freestanding, in both libraries.
CORE_SHARED_SRCS := vmm_glue/core/bzimage.c
# The bare-metal core's device models (vmm_glue/dev/bm_*.c): in the images only.
DEV_BM_SRCS := $(sort $(wildcard vmm_glue/dev/bm_*.c))
FS_SRCS := $(sort $(wildcard iommu/*.c irq_remap/*.c pci/*.c sriov/*.c) $(DEV_SHARED_SRCS) $(CORE_SHARED_SRCS))
HOSTED_SRCS := $(sort $(wildcard sriov/linux/*.c vfio/*.c vmm_glue/*.c vmm_glue/kvm/*.c) \
	$(filter-out $(DEV_SHARED_SRCS) $(DEV_BM_SRCS),$(wildcard vmm_glue/dev/*.c)))
TOOLS := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard tools/*/*.c)))))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_SUPPORT := $(sort $(wildcard tests/unit/support/*.c)) port/host/port_host.c

FS_OBJS := $(FS_SRCS:%.c=$(BUILD)/fs/%.o)
# The bare-metal core (vmm_glue/core/, vmm_glue/vmx/, vmm_glue/svm/, and its
# device models vmm_glue/dev/bm_*.c) is
# freestanding too: the images link it (tests/vmx/vmx.mk, tests/svm/svm.mk);
# here it is compiled the same way and held to the same contract.
BMCORE_SRCS := $(sort $(filter-out $(CORE_SHARED_SRCS),$(wildcard vmm_glue/core/*.c vmm_glue/vmx/*.c vmm_glue/svm/*.c)) \
	$(DEV_BM_SRCS))
BMCORE_ASM := $(sort $(wildcard vmm_glue/vmx/*.S vmm_glue/svm/*.S))
BMCORE_OBJS := $(BMCORE_SRCS:%.c=$(BUILD)/fs/%.o) $(BMCORE_ASM:%.S=$(BUILD)/fs/%.o)
FS_SAN_OBJS := $(FS_SRCS:%.c=$(BUILD)/san/%.o)
# The hosted library carries the freestanding modules too (built as ordinary
# PIE objects) and the host port, so a tool links one archive.
HOSTED_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(FS_SRCS) $(HOSTED_SRCS) port/host/port_host.c)
HOSTED_SAN_OBJS := $(HOSTED_SRCS:%.c=$(BUILD)/san/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
TOOL_BINS := $(TOOLS:%=$(BUILD)/bin/%)

LIB_FS := $(BUILD)/fs/libvfs_fs.a
LIB_FS_SAN := $(BUILD)/san/libvfs_fs.a
LIB_HOST := $(BUILD)/host/libvfs_host.a
LIB_HOST_SAN := $(BUILD)/san/libvfs_host.a

# Suites `make test` runs; fragments append theirs.  Cheap, host-only suites
# go first, then bare-metal images, then the QEMU testbed.
SUITES := unit
SUITE_ORDER := unit fuzz baremetal vtd ir vmx bmpt svm bm-vf bm-linux testbed sriov assign bench-smoke

.PHONY: all deps test test-unit check-freestanding clean distclean help
.DEFAULT_GOAL := all
# Keep intermediate objects: a rebuild recompiles only what changed.
.SECONDARY:

all: $(LIB_FS) $(LIB_HOST) $(TOOL_BINS) $(UNIT_BINS) check-freestanding

deps:
	@bash scripts/deps.sh

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'

# --- compile rules ----------------------------------------------------------

$(BUILD)/fs/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fs/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_FS): $(FS_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIB_FS_SAN): $(FS_SAN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIB_HOST): $(HOSTED_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIB_HOST_SAN): $(HOSTED_SAN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
# (No % inside the prerequisite functions: make substitutes the stem there.)
$(BUILD)/bin/%: $$(subst .c,.o,$$(addprefix $(BUILD)/host/,$$(wildcard tools/$$*/*.c))) $(LIB_HOST)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(LIB_HOST) $(HOST_LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) $(LIB_FS_SAN) $(LIB_HOST_SAN)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -Itests/unit/support -o $@ $< $(UNIT_SUPPORT:%.c=$(BUILD)/san/%.o) \
		$(LIB_FS_SAN) $(LIB_HOST_SAN) $(LIB_FS_SAN) -lcmocka $(HOST_LIBS)

# --- the freestanding contract ------------------------------------------------
# Linked together (ld -r, so references between the modules resolve), the
# freestanding objects may leave unresolved only port_* and the four functions
# the C standard requires of a freestanding environment.
FS_ALLOWED := ^(port_[a-z0-9_]+|memcpy|memmove|memset|memcmp)$$

check-freestanding: $(BUILD)/fs/freestanding.o
	@bad=0; for s in $$(nm -u $< | awk '{print $$2}'); do \
	  echo "$$s" | grep -Eq '$(FS_ALLOWED)' || { \
	    echo "error: freestanding code references $$s, which is outside port/port.h (used by: $$(for o in $(FS_OBJS) $(BMCORE_OBJS); do nm -u $$o | grep -qw "$$s" && printf '%s ' $$o; done))"; bad=1; }; \
	done; [ $$bad = 0 ] && echo "check-freestanding: $(words $(FS_OBJS) $(BMCORE_OBJS)) objects (the bare-metal core's $(words $(BMCORE_OBJS)) included) reference only the port"

$(BUILD)/fs/freestanding.o: $(FS_OBJS) $(BMCORE_OBJS)
	$(LD) -r -o $@ $^

# --- tests --------------------------------------------------------------------

test-unit: $(UNIT_BINS)
	@tests/lib/run-suite unit 600 -- tests/unit/run $(UNIT_BINS) tests/lib/selftest

# Everything: packages, build, then every suite (continuing past failures),
# then one summary line over all of them.
test: deps
	@rm -rf $(BUILD)/results && mkdir -p $(BUILD)/results
	@if $(MAKE) --no-print-directory -k all; then echo "ok - build: make all" > $(BUILD)/results/build.tap; \
	 else echo "not ok - build: make all failed (the compiler's message is above)" > $(BUILD)/results/build.tap; fi
	@$(MAKE) --no-print-directory -k $(addprefix test-,$(ORDERED_SUITES)) || true
	@echo "== summary over suites: $(ORDERED_SUITES)"
	@tests/lib/tap-count $(BUILD)/results/build.tap $(patsubst %,$(BUILD)/results/%.tap,$(ORDERED_SUITES))

# clean keeps only the cached testbed images (build/testbed: minutes to rebuild).
clean:
	@[ -d $(BUILD) ] && find $(BUILD) -mindepth 1 -maxdepth 1 ! -name testbed -exec rm -rf {} + || true

# distclean also drops the cached testbed images.
distclean:
	rm -rf $(BUILD)

-include $(sort $(wildcard */*.mk tests/*/*.mk))
ORDERED_SUITES = $(filter $(SUITES),$(SUITE_ORDER)) $(filter-out $(SUITE_ORDER),$(SUITES))
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
