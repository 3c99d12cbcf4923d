# tests/bench/bench.mk — `vfctl bench` (docs/bench.md).
#   make bench             the five paths in the testbed, $(BENCH_SECS) s per workload;
#                          results in build/bench/net/ (bench.json, bench.txt, bench.svg/png)
#   make test-bench-smoke  (part of make test) the renderer on a saved run, then every
#                          path for 1 s in the testbed: each must produce numbers
# Benchmarks are not tests: no timing threshold anywhere.
SUITES += bench-smoke

BENCH_SECS ?= 10
BENCH_PATHS ?= a,b,c,d,e

.PHONY: bench test-bench-smoke

bench: $(BUILD)/bin/vfctl $(BUILD)/bin/vfs-vmm
	@VFS_BUILD=$(abspath $(BUILD)) tests/testbed/build-images >&2
	@VFS_BUILD=$(abspath $(BUILD)) tests/bench/net/run-bench --secs $(BENCH_SECS) \
		--paths $(BENCH_PATHS) --out $(abspath $(BUILD))/bench/net

test-bench-smoke: $(BUILD)/bin/vfctl $(BUILD)/bin/vfs-vmm
	@VFS_BUILD=$(abspath $(BUILD)) tests/testbed/build-images >&2
	@VFS_BUILD=$(abspath $(BUILD)) tests/lib/run-suite bench-smoke 1500 -- tests/bench/net/smoke
