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

# The same for the emulated device's stream loader and the QMP client's reply parsing.
FUZZ_MORE := stream:user/device qmp:user/qemu
fuzz_bin = $(BUILD)/fuzz/fuzz_$(1)
define fuzz_target
$(call fuzz_bin,$(1)): fuzz/fuzz_$(1).c $(wildcard $(2)/*.c) $(LIB) | $(BUILD)/.deps-fuzz
	@mkdir -p $$(@D)
	$$(Q)$$(FUZZ_CC) $$(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $$(filter %.c,$$^) $$(LIB) $$(LDLIBS) -o $$@
endef
$(foreach t,$(FUZZ_MORE),$(eval $(call fuzz_target,$(word 1,$(subst :, ,$(t))),$(word 2,$(subst :, ,$(t))))))
FUZZ_MORE_BINS := $(foreach t,$(FUZZ_MORE),$(call fuzz_bin,$(word 1,$(subst :, ,$(t)))))

fuzz-more: $(FUZZ_MORE_BINS)
	$(Q)for t in stream qmp; do \
		mkdir -p $(BUILD)/fuzz/corpus-$$t && \
		$(BUILD)/fuzz/fuzz_$$t -artifact_prefix=$(BUILD)/fuzz/ -max_total_time=$(FUZZ_TIME) \
			-max_len=65536 $(BUILD)/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; \
	done

fuzz-more-smoke: $(FUZZ_MORE_BINS)
	$(Q)for t in stream qmp; do \
		rm -rf $(BUILD)/fuzz/smoke-$$t && mkdir -p $(BUILD)/fuzz/smoke-$$t && \
		$(BUILD)/fuzz/fuzz_$$t -artifact_prefix=$(BUILD)/fuzz/ -runs=500 -seed=1 \
			-max_len=65536 $(BUILD)/fuzz/smoke-$$t fuzz/corpus/$$t \
			2>$(BUILD)/fuzz/smoke-$$t.log || { tail -20 $(BUILD)/fuzz/smoke-$$t.log; exit 1; }; \
	done
	@echo "fuzz-smoke: the device stream loader and the QMP client survived their corpora and 500 mutations each"

fuzz: fuzz-more
test: fuzz-smoke fuzz-more-smoke
