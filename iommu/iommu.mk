# iommu/ — VT-d DMA remapping: the map/unmap benchmark.  (The DMAR fuzzer,
# tests/fuzz/fuzz_dmar.c, is built and run by tests/fuzz/fuzz.mk: make fuzz-dmar.)
#
#   make bench-vtd         map/unmap 1 GiB in 4 KiB and 2 MiB pages vs memset

IOMMU_SRCS := $(sort $(wildcard iommu/*.c))
IOMMU_HDRS := $(sort $(wildcard iommu/*.h)) port/port.h port/host/port_host.h
BENCH_VTD := $(BUILD)/bench/vtd_bench

.PHONY: bench-vtd

$(BENCH_VTD): tests/bench/vtd_bench.c $(IOMMU_SRCS) $(IOMMU_HDRS) port/host/port_host.c \
		tests/unit/support/vtd_model.c tests/unit/support/vtd_model.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(INCLUDES) -Itests/unit/support -D_GNU_SOURCE -O2 -g -o $@ \
		tests/bench/vtd_bench.c $(IOMMU_SRCS) port/host/port_host.c tests/unit/support/vtd_model.c

bench-vtd: $(BENCH_VTD)
	@$(BENCH_VTD)
