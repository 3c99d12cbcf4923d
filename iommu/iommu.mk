# iommu/ — VT-d DMA remapping: the map/unmap benchmark.  (The DMAR fuzzer,
# tests/fuzz/fuzz_dmar.c, is built and run by tests/fuzz/fuzz.mk: make fuzz-dmar.)
#
#   make bench-vtd         map/unmap 1 GiB in 4 KiB PTEs (range and per page) against
#                          the zero+fill floor and a memset -> build/bench/vtd/bench.json;
#                          then 64 MiB in the VT-d image on QEMU -> bench-qemu.json

IOMMU_SRCS := $(sort $(wildcard iommu/*.c))
IOMMU_HDRS := $(sort $(wildcard iommu/*.h)) port/port.h port/host/port_host.h
BENCH_VTD := $(BUILD)/bench/vtd_bench

.PHONY: bench-vtd

$(BENCH_VTD): tests/bench/vtd_bench.c $(IOMMU_SRCS) $(IOMMU_HDRS) port/host/port_host.c \
		tests/unit/support/vtd_model.c tests/unit/support/vtd_model.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(INCLUDES) -Itests/unit/support -D_GNU_SOURCE -O2 -g -o $@ \
		tests/bench/vtd_bench.c $(IOMMU_SRCS) port/host/port_host.c tests/unit/support/vtd_model.c

# Then the same walker in the VT-d image on QEMU's intel-iommu (bench=on;
# skipped, and said so, without qemu-system-x86_64): bench-qemu.json.
bench-vtd: $(BENCH_VTD) $(BUILD)/baremetal/vtd.elf
	@mkdir -p $(BUILD)/bench/vtd
	@$(BENCH_VTD) $(BUILD)/bench/vtd/bench.json
	@if command -v $${QEMU:-qemu-system-x86_64} >/dev/null; then \
		tests/baremetal/run-image $(BUILD)/baremetal/vtd.elf --timeout 300 \
			--append "aw=48 cm=on sm=off bench=on" -- \
			-device intel-iommu,intremap=on,aw-bits=48,caching-mode=on -device edu -device edu \
			> $(BUILD)/bench/vtd/bench-qemu.tap || { cat $(BUILD)/bench/vtd/bench-qemu.tap; exit 1; }; \
		awk 'BEGIN { print "{"; print "  \"sizes\": {\"range_bytes\": 67108864, \"ptes\": 16384, \"table_pages\": 33, \"repetitions\": 5, \"levels\": 3, \"platform\": \"QEMU TCG intel-iommu caching-mode=on\"}"; } \
			$$2 == "bench-vtd-qemu" { printf ",\n  \"%s\": {\"min\": %s, \"median\": %s, \"max\": %s}", $$3, $$4, $$5, $$6 } \
			END { print "\n}" }' $(BUILD)/bench/vtd/bench-qemu.tap > $(BUILD)/bench/vtd/bench-qemu.json; \
		grep '^# bench-vtd-qemu' $(BUILD)/bench/vtd/bench-qemu.tap | sed 's/^# bench-vtd-qemu /bench-vtd: qemu  /'; \
		echo "bench-vtd: wrote $(BUILD)/bench/vtd/bench-qemu.json"; \
	else echo "bench-vtd: no qemu-system-x86_64: the QEMU half is not run"; fi
