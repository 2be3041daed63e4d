# make fuzz: libFuzzer (clang -fsanitize=fuzzer, with ASan and UBSan) on the recording reader and
# the report built on it, for FUZZ_TIME seconds, from the corpus kept in fuzz/corpus/recording.
# make fuzz-smoke (a prerequisite of make test): every corpus file once, then 2000 mutations.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_BIN := $(BUILD)/fuzz/fuzz_recording
FUZZ_SRCS := $(wildcard user/record/*.c user/report/*.c)
FUZZ_CORPUS := fuzz/corpus/recording

.PHONY: fuzz fuzz-smoke
$(BUILD)/.deps-fuzz: scripts/deps.sh
	$(Q)scripts/deps.sh $@ libclang-rt-14-dev

# The record and report layers built instrumented; the rest of the library as it is.
$(FUZZ_BIN): fuzz/fuzz_recording.c $(FUZZ_SRCS) $(LIB) | $(BUILD)/.deps-fuzz
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(filter %.c,$^) $(LIB) $(LDLIBS) -o $@

fuzz: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus
	$(Q)$(FUZZ_BIN) -artifact_prefix=$(BUILD)/fuzz/ -max_total_time=$(FUZZ_TIME) -max_len=65536 $(BUILD)/fuzz/corpus \
		$(FUZZ_CORPUS)

fuzz-smoke: $(FUZZ_BIN)
	$(Q)$(FUZZ_BIN) -artifact_prefix=$(BUILD)/fuzz/ -runs=0 $(FUZZ_CORPUS) 2>$(BUILD)/fuzz/smoke.log || \
		{ tail -20 $(BUILD)/fuzz/smoke.log; exit 1; }
	@rm -rf $(BUILD)/fuzz/smoke && mkdir -p $(BUILD)/fuzz/smoke
	$(Q)$(FUZZ_BIN) -artifact_prefix=$(BUILD)/fuzz/ -runs=2000 -seed=1 -max_len=65536 \
		$(BUILD)/fuzz/smoke $(FUZZ_CORPUS) \
		2>>$(BUILD)/fuzz/smoke.log || { tail -20 $(BUILD)/fuzz/smoke.log; exit 1; }
	@echo "fuzz-smoke: the recording reader survived its corpus and 2000 mutations"

test: fuzz-smoke
