# tests/sriov/sriov.mk — `make test-sriov`: vfctl and the sriov/ library in the
# QEMU testbed (igb PF, edu, a non-viable IOMMU group), one boot.
SUITES += sriov

.PHONY: test-sriov
test-sriov: $(BUILD)/bin/vfctl
	@VFS_BUILD=$(abspath $(BUILD)) tests/lib/run-suite sriov 400 -- tests/sriov/run
