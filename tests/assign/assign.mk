# tests/assign/assign.mk — the `assign` suite (docs/assign.md): `vfctl assign`
# of an igb VF to a Linux guest on the KVM core, inside the QEMU testbed, with
# nested KVM; its error cases; and assign/release cycles with a tiny guest
# (tests/assign/mini-guest.S) checked for leaks.  `make soak-assign` runs
# 1,000 cycles (not part of `make test`).
SUITES += assign

ASSIGN_DIR := $(BUILD)/assign
ASSIGN_FILES := $(ASSIGN_DIR)/mini-bzImage $(ASSIGN_DIR)/vfs-nocap $(ASSIGN_DIR)/vfio-check \
	tests/assign/guest-run
ASSIGN_CYCLES ?= 20
SOAK_CYCLES ?= 1000
# A conventional PCI bridge with an edu device and a second igb behind it: one
# IOMMU group whose igb (bound to igb) makes the edu's group not viable.
ASSIGN_QEMU := --qemu-arg -device --qemu-arg pcie-pci-bridge,id=vbr,addr=18.0 \
	--qemu-arg -device --qemu-arg edu,bus=vbr,addr=1.0 \
	--qemu-arg -netdev --qemu-arg user,id=nvbr,restrict=on \
	--qemu-arg -device --qemu-arg igb,bus=vbr,addr=2.0,netdev=nvbr
# One vCPU in the testbed: with two, QEMU 10.0.2's multi-threaded TCG has once
# aborted (iotlb_to_section assertion) and once stopped delivering timer
# interrupts to the second CPU (RCU stalls) during VF bind/reset cycles; with
# one, 2,000 cycles ran clean.
ASSIGN_RUN = tests/testbed/run-in-vm --mem 2G --smp 1 \
	$(foreach f,$(ASSIGN_FILES),--file $(f)) $(ASSIGN_QEMU)

.PHONY: test-assign soak-assign assign-files

$(ASSIGN_DIR)/mini-guest.bin: tests/assign/mini-guest.S
	@mkdir -p $(@D)
	as --32 -o $(ASSIGN_DIR)/mini-guest.o $<
	ld -m elf_i386 -Ttext=0x100000 -e _start --oformat binary -o $@ $(ASSIGN_DIR)/mini-guest.o

$(ASSIGN_DIR)/mini-bzImage: $(ASSIGN_DIR)/mini-guest.bin tests/assign/mkbzimage.sh
	sh tests/assign/mkbzimage.sh $< $@

$(ASSIGN_DIR)/vfs-nocap: tests/assign/nocap.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -static -o $@ $<

# The vfio/ API against the real VF; static, linked with vfio/ alone.
$(ASSIGN_DIR)/vfio-check: tests/assign/vfio-check.c $(BUILD)/host/vfio/vfio.o $(BUILD)/host/vfio/sysfs.o
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -static -o $@ $^

assign-files: $(BUILD)/bin/vfctl $(BUILD)/bin/vfs-vmm $(ASSIGN_FILES)

test-assign: assign-files testbed-images
	@VFS_BUILD=$(abspath $(BUILD)) tests/lib/run-suite assign 1500 -- $(ASSIGN_RUN) --timeout 1400 -- tests/assign/t-assign.sh $(ASSIGN_CYCLES)

soak-assign: assign-files testbed-images
	@VFS_BUILD=$(abspath $(BUILD)) tests/lib/run-suite soak-assign 14400 -- $(ASSIGN_RUN) --timeout 14300 -- tests/assign/t-assign.sh $(SOAK_CYCLES)
