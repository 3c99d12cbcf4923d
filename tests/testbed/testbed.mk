# tests/testbed/testbed.mk — the QEMU testbed (docs/testbed.md): cached images, the
# testbed's own helper programs, the `testbed` suite and `make demo`.
SUITES += testbed

TB_DIR := $(BUILD)/testbed
TB_BIN := $(TB_DIR)/bin
# Static helper programs copied into every host VM at /usr/local/bin.
TB_PROGS := $(TB_BIN)/kvm-smoke
# The testbed scripts find build/ through VFS_BUILD.
TB_ENV := VFS_BUILD=$(abspath $(BUILD))

.PHONY: testbed-images testbed-progs test-testbed demo

$(TB_BIN)/kvm-smoke: tests/testbed/kvm-smoke.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -static -o $@ $<

testbed-progs: $(TB_PROGS)

# Kernel + host/guest initramfs, cached under $(TB_DIR)/image (a no-op when up to date).
testbed-images:
	@$(TB_ENV) tests/testbed/build-images

# One host-VM boot runs every host check (t/testbed-smoke.sh), then the guest
# initramfs boots on its own (t/guest-image-check); tests/testbed/suite prints the TAP.
test-testbed: testbed-progs testbed-images $(TOOL_BINS)
	@$(TB_ENV) tests/lib/run-suite testbed 300 -- tests/testbed/suite

# The main job, end to end (scripts/demo.sh lists its steps).  It builds what it
# runs (the tools and the testbed's programs), not every target of `all`.
demo: deps
	@$(MAKE) --no-print-directory testbed-progs $(TOOL_BINS)
	@$(TB_ENV) scripts/demo.sh
