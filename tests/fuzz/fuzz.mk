# tests/fuzz/ — libFuzzer targets (ASan + UBSan), one per parser of outside input.
#
#   make fuzz          run every target for FUZZ_SECS seconds (default 60) on its
#                      working corpus build/fuzz/corpus/NAME (seeded from
#                      tests/fuzz/corpus/NAME); prints executions and crashes
#   make fuzz-NAME     the same for one target (e.g. make fuzz-dmar)
#   make fuzz-build    build every target -> build/fuzz/fuzz_NAME
#   make test-fuzz     the suite `fuzz` of make test: each target FUZZ_TEST_SECS
#                      seconds (default 4) on the committed corpus
#
# A target is tests/fuzz/fuzz_NAME.c (LLVMFuzzerTestOneInput) plus
# tests/fuzz/fuzz_NAME.srcs, the project sources it links, one per line ('#'
# comments allowed), plus seeds in tests/fuzz/corpus/NAME/.  Any such pair
# is picked up here; nothing else to add.  The .srcs names what the target
# drives; the freestanding modules and sriov/linux (with the host port) are
# also linked from an archive built with the fuzz flags, so a module that
# starts calling another needs no .srcs edit (a target's own stand-ins win:
# an archive member is pulled only for a symbol nothing else defines).

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECS ?= 60
FUZZ_TEST_SECS ?= 4
comma := ,
FUZZ_CFLAGS := $(WARN) $(INCLUDES) -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_LIB_SRCS := $(FS_SRCS) $(sort $(wildcard sriov/linux/*.c)) port/host/port_host.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzz/lib/%.o)
FUZZ_LIB := $(BUILD)/fuzz/lib/libfuzz_support.a
$(BUILD)/fuzz/lib/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
# The sources a target's .srcs file lists (blank lines and comments dropped).
fuzz_srcs = $(shell sed -e 's/\#.*//' -e '/^[[:space:]]*$$/d' tests/fuzz/fuzz_$(1).srcs 2>/dev/null)

SUITES += fuzz
.PHONY: fuzz fuzz-build test-fuzz

# The default build keeps the fuzzers compiling.
all: fuzz-build
fuzz-build: $(FUZZ_BINS)

# .SECONDEXPANSION is on (top Makefile): $$* is the target's NAME.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_%.srcs $$(call fuzz_srcs,$$*) $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(call fuzz_srcs,$*) $(FUZZ_LIB) $(HOST_LIBS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run --secs $(FUZZ_SECS) --corpus $(BUILD)/fuzz/corpus $(FUZZ_BINS)

fuzz-%: $(BUILD)/fuzz/fuzz_%
	@tests/fuzz/run --secs $(FUZZ_SECS) --corpus $(BUILD)/fuzz/corpus $<

test-fuzz: $(FUZZ_BINS)
	@tests/lib/run-suite fuzz $$(( 60 + $(words $(FUZZ_BINS)) * ($(FUZZ_TEST_SECS) + 60) )) -- \
		tests/fuzz/run --secs $(FUZZ_TEST_SECS) $(FUZZ_BINS)
