# vfmig: BPF-instrumented dirty-tracking and live-migration profiler for VFIO devices.
#
#   make            build the library and the tools
#   make test       install what is missing, build, run every test (what CI runs)
#   make demo       a save on one emulated device and a resume on another, verified
#   make bench      benchmarks, each against a baseline measured in the same run
#   make score      the predictor's accuracy against real migrations (SEED=N draws more)
#   make install    the tools into $(DESTDIR)$(PREFIX)/bin (PREFIX=/usr/local)
#   make lint       clang-format check, cppcheck, -Wall -Wextra -Werror build, layer order
#   make vmtest     the probes and the uAPI on a real VFIO kernel (Debian 6.12 under QEMU, mtty)

BUILD ?= build
CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-format-truncation
CPPFLAGS += -Iinclude -Iuser -D_GNU_SOURCE
LDLIBS := -lbpf -lelf -lz -lxxhash -ljson-c -lmicrohttpd -lncursesw -lpthread -lm
CLANG ?= clang
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Ivmlinux/x86 -Iinclude \
	-I/usr/include/$(shell uname -m)-linux-gnu
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

DEPS_STAMP := $(BUILD)/.deps
# The folders of user/ with a main.c are tools (user/T/ builds T); the others make the library.
# What each folder may use is in scripts/check-layers.sh.
TOOL_DIRS := $(patsubst %/main.c,%,$(wildcard user/*/main.c))
LAYERS := $(filter-out $(TOOL_DIRS),$(patsubst %/,%,$(sort $(dir $(wildcard user/*/*.c)))))
LIB := $(BUILD)/libvfmig.a
LIB_SRCS := $(wildcard $(addsuffix /*.c,$(LAYERS)))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
TOOLS := $(notdir $(TOOL_DIRS))
TOOL_BINS := $(addprefix $(BUILD)/,$(TOOLS))
TOOL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(addsuffix /*.c,$(TOOL_DIRS))))
TEST_SRCS := $(shell find tests -name 'test_*.c' -not -path 'tests/vmtest/*' | sort)
TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
TEST_HELPERS := $(wildcard tests/common/*.c)
TEST_HELPER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TEST_HELPERS))
VMTEST_SRCS := $(wildcard tests/vmtest/guest_*.c)
VMTEST_BINS := $(patsubst %.c,$(BUILD)/%,$(VMTEST_SRCS))
BENCH_SRCS := $(shell find bench -name 'bench_*.c' | sort)
BENCH_BINS := $(patsubst %.c,$(BUILD)/%,$(BENCH_SRCS))
SOURCES := $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^vmlinux/')

.PHONY: all deps test demo bench lint format clean check-abi unit vmtest score install uninstall
all: $(LIB) $(TOOL_BINS)

include tests/abi/abi.mk

# Every build step needs the Debian packages first: installed as root, named otherwise.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	$(Q)scripts/deps.sh $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

# BPF: one object per probe family, each embedded in user space as a skeleton.
.SECONDARY: $(BPF_OBJS)
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/vfmig/abi.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(Q)bpftool gen skeleton $< name vfmig_$* > $@

$(patsubst %.c,$(BUILD)/%.o,$(wildcard user/probe/*.c)): $(BPF_SKELS)
$(patsubst %.c,$(BUILD)/%.o,$(wildcard user/probe/*.c)): CPPFLAGS += -I$(BUILD)/bpf

$(LIB): $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^ # no member of a source gone since

$(BUILD)/%: user/%.c $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP $< $(LIB) $(LDLIBS) -o $@

# A tool of many files: its folder's objects, then the library.
$(foreach t,$(TOOL_DIRS),$(eval $(BUILD)/$(notdir $t): \
	$(patsubst %.c,$(BUILD)/%.o,$(wildcard $t/*.c)) $(LIB) ; \
	$$(Q)$$(CC) $$(CFLAGS) $$(filter %.o,$$^) $$(LIB) $$(LDLIBS) -o $$@))

# Each test source is its own object (and .d file). A test program test_X or test_X_* also links
# fixture_X.c of its folder: the helpers a test program shares with the files it was split into.
$(BUILD)/tests/%.o: CPPFLAGS += -Itests
fixture_objs = $(foreach x,$(wildcard $(dir $1)fixture_*.c),$(if $(filter \
	$(subst /fixture_,/test_,$(x:.c=)) $(subst /fixture_,/test_,$(x:.c=))_%,$1),$(BUILD)/$(x:.c=.o)))
.SECONDEXPANSION:
$(TEST_BINS): $(BUILD)/%: $(BUILD)/%.o $$(call fixture_objs,$$*) $(TEST_HELPER_OBJS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(LIB) $(LDLIBS) -lcmocka -o $@

# Guest programs of the vmtest bed: they drive a real VFIO device.
$(VMTEST_BINS): $(BUILD)/tests/vmtest/%: tests/vmtest/%.c tests/vmtest/vfio_real.c \
		tests/vmtest/vfio_real.h $(TEST_HELPERS) $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests -Itests/vmtest $(CFLAGS) $(WARN) -MMD -MP $< \
		tests/vmtest/vfio_real.c $(TEST_HELPERS) $(LIB) $(LDLIBS) -lcmocka -o $@

# A benchmark bench/D/bench_N also links the helpers bench/D/N_*.c it was split into.
bench_helpers = $(patsubst %.c,$(BUILD)/%.o,\
	$(wildcard $(dir $1)$(patsubst bench_%,%,$(notdir $1))_*.c))
$(BUILD)/bench/%.o: CPPFLAGS += -Ibench
.SECONDARY: $(foreach b,$(BENCH_SRCS),$(call bench_helpers,$b))
$(BUILD)/bench/%: bench/%.c $$(call bench_helpers,bench/$$*) $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(WARN) -MMD -MP $< $(filter %.o,$^) $(LIB) $(LDLIBS) -o $@

# The recording bench sets zstd beside the writer's zlib (the format's choice, measured).
$(BUILD)/bench/record/bench_record: LDLIBS += -lzstd

# Stand-ins for a QEMU built with the dtrace trace backend (9.1's signatures, and 8.0's):
# test_qemu attaches to their USDT probes.
FAKE_QEMU := $(BUILD)/tests/probe/fake_qemu $(BUILD)/tests/probe/fake_qemu_80
$(BUILD)/tests/probe/fake_qemu: tests/probe/fake_qemu.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $< -o $@
$(BUILD)/tests/probe/fake_qemu_80: tests/probe/fake_qemu.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -DFAKE_QEMU_8_0 $< -o $@

# The real-QEMU bed's guest program runs alone in a busybox initramfs: static.
QEMU_GUEST := $(BUILD)/tests/qemu/guest_dirtier
$(QEMU_GUEST): tests/qemu/guest_dirtier.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -static $< -o $@

# One real QEMU migration on that bed, as JSON (make score, or by hand).
QEMU_BED := $(BUILD)/tests/qemu/qemu_bed
$(QEMU_BED): tests/qemu/qemu_bed.c $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $< $(LIB) $(LDLIBS) -o $@

unit: $(TEST_BINS) $(TOOL_BINS) $(FAKE_QEMU) $(QEMU_GUEST) $(QEMU_BED)
	$(Q)BUILD=$(BUILD) tests/run.sh $(TEST_BINS)

# The real-kernel bed runs where it can; where it cannot, it says why and make test goes on.
test: | $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory check-abi unit $(VMTEST_BINS)
	$(Q)VMTEST_OPTIONAL=1 scripts/vmtest.sh $(BUILD) $(VMTEST_BINS) $(BUILD)/vfmigprof $(BUILD)/vfmigtop

# Debian's linux-image-6.12 under QEMU, with VFIO and the kernel's mtty sample.
vmtest: $(VMTEST_BINS) $(TOOL_BINS)
	$(Q)scripts/vmtest.sh $(BUILD) $(VMTEST_BINS) $(BUILD)/vfmigprof $(BUILD)/vfmigtop

# make install [PREFIX=/usr/local] [DESTDIR=...]: the tools, nothing else (their BPF is built in).
PREFIX ?= /usr/local
install: $(TOOL_BINS)
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin
	$(Q)install -m 0755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/
	@echo "installed $(TOOLS) in $(DESTDIR)$(PREFIX)/bin"

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(TOOLS))

demo: $(TOOL_BINS)
	$(Q)scripts/demo.sh $(BUILD)

# Accuracy against real migrations: each scenario predicted, then migrated (make score SEED=N
# also draws fresh ones; RUNS=N migrations a scenario).
SCORE_SRCS := $(wildcard score/*.c)
$(BUILD)/score/score: $(SCORE_SRCS) $(wildcard score/*.h) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -I. $(CFLAGS) $(WARN) $(SCORE_SRCS) -ljson-c -lm -o $@

score: $(BUILD)/score/score $(TOOL_BINS)
	$(Q)$(BUILD)/score/score --emu $(BUILD)/vfmig-emu --prof $(BUILD)/vfmigprof \
		$(if $(SEED),--seed $(SEED)) \
		$(if $(RUNS),-n $(RUNS)) score/scenarios.emu

# The probe benchmark compares with bpftrace doing the same counting.
$(BUILD)/.bench-deps: scripts/deps.sh
	$(Q)scripts/deps.sh $@ bpftrace

bench: $(BENCH_BINS) $(TOOL_BINS) | $(BUILD)/.bench-deps
	$(Q)for b in $(BENCH_BINS); do $$b || exit 1; done

lint: | $(DEPS_STAMP)
	$(Q)clang-format --dry-run --Werror $(SOURCES)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Iinclude -Iuser -D__x86_64__ \
		user tests bench score
	$(Q)$(MAKE) --no-print-directory -B all $(TEST_BINS) $(FAKE_QEMU) $(QEMU_GUEST) $(QEMU_BED) \
		$(VMTEST_BINS) $(BENCH_BINS) $(BUILD)/score/score \
		CFLAGS="-O2 -g"
	$(Q)scripts/check-layers.sh $(BUILD)
	@echo "lint: clang-format, cppcheck and -Wall -Wextra -Werror are clean"

format:
	clang-format -i $(SOURCES)

clean:
	rm -rf $(BUILD)

# A part of the product with build steps of its own (make fuzz, ...) keeps them in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
