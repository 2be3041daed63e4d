// SPDX-License-Identifier: GPL-2.0
/*
 * The loader when the kernel refuses part of a family: the program the
 * verifier refuses and the one whose CO-RE relocation does not resolve are
 * switched off alone, each with the kernel's or libbpf's words (checked
 * against the verifier log of the same program loaded here, and against
 * this kernel's BTF), and every other program still attaches and counts
 * what this test does; a family that cannot load at all is one row and the
 * rest go on. libbpf's messages stay off stderr unless VFMIG_DEBUG asks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common/probe_util.h"
#include "common/vfmig_test.h"

#include "device/device.h"
#include "memory/iommu.h"
#include "probe/aggregate.h"
#include "probe/loadlog.h"
#include "vfmig/uapi.h"

static char binary[PATH_MAX], bpf_dir[PATH_MAX];

static int setup(void **state)
{
	char *slash;

	(void)state;
	if (!realpath("/proc/self/exe", binary))
		return -1;
	/* build/tests/probe/test_loader -> build/bpf */
	snprintf(bpf_dir, sizeof(bpf_dir), "%s", binary);
	slash = strrchr(bpf_dir, '/');
	*slash = 0;
	strncat(bpf_dir, "/../../bpf", sizeof(bpf_dir) - strlen(bpf_dir) - 1);
	return 0;
}

#define NEED_ROOT()                                                                           \
	do {                                                                                  \
		if (geteuid())                                                                \
			VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs"); \
	} while (0)

/* Opens probes with knobs; what reached stderr meanwhile lands in err_out. */
static struct vfmig_probes *open_probes(unsigned int knobs, char *err_out, size_t len)
{
	struct probe_opts o = {.pid = getpid(), .binary = binary, .test_refuse = knobs};
	struct vfmig_probes *p = NULL;
	char err[256], path[] = "/tmp/vfmig-loader-XXXXXX";
	int saved = dup(2), tmp = mkstemp(path), ret;
	ssize_t n;

	assert_true(saved >= 0 && tmp >= 0);
	unlink(path);
	fflush(stderr);
	dup2(tmp, 2);
	ret = probes_open(&p, &o, err, sizeof(err));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(tmp, err_out, len - 1, 0);
	err_out[n > 0 ? n : 0] = 0;
	close(tmp);
	if (ret)
		fail_msg("probes_open: %s", err);
	return p;
}

/* The offset of .rodata's filter in obj, from its BTF. */
static size_t filter_offset(struct bpf_object *obj)
{
	struct btf *btf = bpf_object__btf(obj);
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	const struct btf_type *sec = btf__type_by_id(btf, id);
	const struct btf_var_secinfo *v = btf_var_secinfos(sec);
	int i;

	for (i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (!strcmp(btf__name_by_offset(btf, var->name_off), "filter"))
			return v->offset;
	}
	fail_msg("no filter in .rodata");
	return 0;
}

/*
 * The ground truth: the ioctl family's object loaded here with only prog on
 * and the knob set, its verifier log in a buffer of ours. Returns the load's
 * error; log holds what the kernel said (after libbpf's CO-RE fix-up).
 */
static int load_alone(const char *prog_name, unsigned int knob, char *log, size_t len)
{
	char path[PATH_MAX + 32];
	struct bpf_object_open_opts opts = {.sz = sizeof(opts),
					    .kernel_log_buf = log,
					    .kernel_log_size = len,
					    .kernel_log_level = 0};
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *m;
	struct vfmig_filter *f;
	size_t sz;
	int ret;

	snprintf(path, sizeof(path), "%s/ioctl.bpf.o", bpf_dir);
	obj = bpf_object__open_file(path, &opts);
	assert_non_null(obj);
	for (prog = bpf_object__next_program(obj, NULL); prog;
	     prog = bpf_object__next_program(obj, prog))
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), prog_name));
	m = bpf_object__find_map_by_name(obj, ".rodata");
	assert_non_null(m);
	f = (void *)((char *)bpf_map__initial_value(m, &sz) + filter_offset(obj));
	f->test_refuse = knob;
	log[0] = 0;
	ret = bpf_object__load(obj);
	bpf_object__close(obj);
	return ret;
}

/* The kernel log's last line that is an error, not a statistic. */
static void last_error_line(const char *log, char *out, size_t len)
{
	const char *s = log, *nl;

	out[0] = 0;
	for (; *s; s = nl + 1) {
		nl = strchrnul(s, '\n');
		if (nl > s && strncmp(s, "processed ", 10))
			snprintf(out, len, "%.*s", (int)(nl - s), s);
		if (!*nl)
			break;
	}
}

struct facts {
	uint64_t sets, steps, pins, pinned, ioctl_sets;
};

/* What the state, pins and ioctl families count of a workload made here, as deltas. */
static void workload(struct vfmig_probes *p, struct facts *f)
{
	struct emu_dev_cfg cfg = {.variant = "nic", .params = ""};
	struct emu_dev *dev = emu_dev_create(&cfg);
	static char mem[1 << 20] __attribute__((aligned(4096)));
	struct emu_iommu *io = emu_iommu_create(EMU_IOMMU_TYPE1, mem, sizeof(mem));
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map),
					       .flags = 3,
					       .vaddr = (uintptr_t)mem,
					       .iova = 0,
					       .size = sizeof(mem)};
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_mig_state mig;
	} set = {{sizeof(set), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
		 {VFIO_DEVICE_STATE_STOP, -1}};
	uint64_t s0 = probe_counter(p, VFMIG_C_STATE_SETS),
		 st0 = probe_counter(p, VFMIG_C_FSM_STEPS);
	uint64_t c0 = probe_counter(p, VFMIG_C_PIN_CALLS),
		 pg0 = probe_counter(p, VFMIG_C_PAGES_PINNED);
	uint64_t steps0;
	int fd = open("/dev/null", O_RDONLY);

	assert_non_null(dev);
	assert_non_null(io);
	steps0 = emu_dev_steps_total(dev);
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL), 0);
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL), 0);
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_MAP_DMA, &map), 0);
	assert_int_equal(emu_pin_pages(io, emu_dev_id(dev), 0x1000, 5, EMU_PROT_WRITE_PIN), 5);
	emu_unpin_pages(io, emu_dev_id(dev), 0x1000, 5);
	/* a real syscall: ENOTTY here, decoded all the same (emulated sets are not syscalls) */
	assert_int_equal(ioctl(fd, VFIO_DEVICE_FEATURE, &set), -1);
	close(fd);
	f->sets = probe_counter(p, VFMIG_C_STATE_SETS) - s0;
	f->steps = probe_counter(p, VFMIG_C_FSM_STEPS) - st0;
	f->pins = probe_counter(p, VFMIG_C_PIN_CALLS) - c0;
	f->pinned = probe_counter(p, VFMIG_C_PAGES_PINNED) - pg0;
	assert_int_equal(f->steps, emu_dev_steps_total(dev) - steps0);
	emu_iommu_destroy(io);
	emu_dev_destroy(dev);
}

/* Every row of b that is not one of the skipped programs is in a, and the same. */
static int same_rows_but(struct vfmig_probes *a, struct vfmig_probes *b, const char *skip1,
			 const char *skip2)
{
	const struct probe_row *rows, *r;
	int i, n = probes_table(b, &rows), same = 0;

	for (i = 0; i < n; i++) {
		if (!strcmp(rows[i].program, skip1) || !strcmp(rows[i].program, skip2))
			continue;
		r = probe_row(a, rows[i].family, rows[i].program);
		assert_non_null(r);
		assert_int_equal(r->attached, rows[i].attached);
		assert_string_equal(r->source, rows[i].source);
		assert_false(r->refused);
		same++;
	}
	return same;
}

static void test_refused_programs_alone_are_off(void **state)
{
	static char klog[1 << 20];
	char err_text[4096], quiet[4096], want[256], line[LOADLOG_LINE];
	struct vfmig_probes *bad, *good;
	const struct probe_row *v, *c, *r;
	const struct btf_type *t;
	const struct btf_member *m;
	struct btf *vmlinux;
	struct facts f = {0}, g = {0};
	int i, id, same;

	(void)state;
	NEED_ROOT();
	good = open_probes(0, quiet, sizeof(quiet));
	bad = open_probes(VFMIG_TEST_REFUSE_VERIFIER | VFMIG_TEST_REFUSE_CORE, err_text,
			  sizeof(err_text));
	/* libbpf said plenty about the two refusals, and none of it reached stderr */
	assert_string_equal(err_text, "");
	assert_string_equal(quiet, "");

	/* the verifier's own words: its log for the program loaded alone here */
	v = probe_row(bad, "ioctl", "test__refused_by_verifier");
	assert_non_null(v);
	assert_true(v->refused);
	assert_false(v->attached);
	assert_int_equal(load_alone(v->program, VFMIG_TEST_REFUSE_VERIFIER, klog, sizeof(klog)),
			 -EACCES);
	last_error_line(klog, line, sizeof(line));
	assert_non_null(strstr(line, "invalid mem access"));
	assert_int_equal(strncmp(v->reason, "verifier: ", 10), 0);
	assert_non_null(strstr(v->reason, line));

	/* CO-RE: the field is not in this kernel's struct, and the reason says which */
	c = probe_row(bad, "ioctl", "test__core_unresolved");
	assert_non_null(c);
	assert_true(c->refused);
	vmlinux = btf__load_vmlinux_btf();
	assert_non_null(vmlinux);
	id = btf__find_by_name_kind(vmlinux, "trace_event_raw_sys_exit", BTF_KIND_STRUCT);
	assert_true(id > 0);
	t = btf__type_by_id(vmlinux, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++)
		assert_string_not_equal(btf__name_by_offset(vmlinux, m->name_off), "no_such_field");
	btf__free(vmlinux);
	assert_int_not_equal(load_alone(c->program, VFMIG_TEST_REFUSE_CORE, klog, sizeof(klog)), 0);
	assert_non_null(strstr(klog, "failed to resolve CO-RE relocation"));
	snprintf(want, sizeof(want),
		 "CO-RE: struct trace_event_raw_sys_exit.no_such_field not in this kernel's BTF");
	assert_string_equal(c->reason, want);

	/* without the knob both load; every other row is as it is without the knobs */
	r = probe_row(good, "ioctl", "test__refused_by_verifier");
	assert_false(r->refused);
	assert_false(probe_row(good, "ioctl", "test__core_unresolved")->refused);
	same = same_rows_but(bad, good, v->program, c->program);
	assert_true(same > 20);
	assert_int_equal(probes_attached(bad), probes_attached(good));

	/* and counts: both instances see the same workload, as it happened */
	workload(bad, &f);
	workload(good, &g);
	assert_int_equal(f.sets, 3); /* two emulated requests (USDT), one real syscall (ioctl) */
	assert_int_equal(f.pins, 1);
	assert_int_equal(f.pinned, 5);
	assert_true(f.steps >= 2);
	assert_int_equal(g.pins, 1);
	assert_int_equal(g.pinned, 5);
	probes_close(good);
	probes_close(bad);
	printf("refused: %s: %s\nrefused: %s: %s\n", v->program, v->reason, c->program, c->reason);
}

static void test_family_that_cannot_load_is_one_row(void **state)
{
	char err_text[4096], want[128];
	struct vfmig_probes *p;
	const struct probe_row *rows;
	struct facts f = {0};
	int i, n, fd, iommu = 0;

	(void)state;
	NEED_ROOT();
	/* what the kernel says of a hash map of 0 entries */
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4, 8, 0, NULL);
	assert_true(fd < 0);
	snprintf(want, sizeof(want), "failed to create: %s", strerror(errno));
	p = open_probes(VFMIG_TEST_REFUSE_MAP, err_text, sizeof(err_text));
	assert_string_equal(err_text, "");
	n = probes_table(p, &rows);
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].family, "iommu"))
			continue;
		iommu++;
		assert_string_equal(rows[i].program, "*");
		assert_false(rows[i].attached);
		assert_non_null(
			strstr(rows[i].reason, "family not loaded: map 'vfio_map_inflight'"));
		assert_non_null(strstr(rows[i].reason, want));
	}
	assert_int_equal(iommu, 1);
	assert_non_null(probe_row(p, "state", "usdt__state_set_end"));
	assert_true(probe_row(p, "state", "usdt__state_set_end")->attached);
	assert_true(probe_row(p, "ioctl", "tp__sys_enter_ioctl")->attached);
	workload(p, &f);
	assert_int_equal(f.sets, 3);
	assert_int_equal(f.pinned, 5);
	assert_int_equal(probe_counter(p, VFMIG_C_MAP_BYTES), 0); /* the family that is not there */
	probes_close(p);
}

/* VFMIG_DEBUG=1: libbpf's own lines, the verifier's log among them, on stderr. */
static void test_debug_env_shows_libbpf(void **state)
{
	char err_text[1 << 15];
	struct vfmig_probes *p;

	(void)state;
	NEED_ROOT();
	setenv("VFMIG_DEBUG", "1", 1);
	p = open_probes(VFMIG_TEST_REFUSE_VERIFIER, err_text, sizeof(err_text));
	unsetenv("VFMIG_DEBUG");
	assert_non_null(strstr(err_text, "libbpf: prog 'test__refused_by_verifier': -- BEGIN PROG "
					 "LOAD LOG --"));
	assert_non_null(strstr(err_text, "invalid mem access"));
	probes_close(p);
}

/*
 * What a 5.15 or 5.16 kernel gets, on this one: helpers it lacks hidden.
 * Without bpf_loop the table says how far bitmaps are counted and every
 * program still loads (bounded loops instead); a program that calls a
 * missing helper is off before load, saying which, and the rest are as
 * they were and count the same workload. A name that is no helper is
 * refused in one line.
 */
static void test_hidden_helpers(void **state)
{
	struct probe_opts o = {.pid = getpid(), .binary = binary, .hide_helpers = "loopy"};
	struct vfmig_probes *hidden, *plain;
	const struct probe_row *host, *ex;
	char err[256], quiet[4096];
	struct facts f = {0};

	(void)state;
	NEED_ROOT();
	assert_int_equal(probes_open(&hidden, &o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "VFMIG_HIDE_HELPERS: 'loopy' is not a BPF helper");
	o.hide_helpers = "loop,bpf_get_current_comm";
	if (probes_open(&hidden, &o, err, sizeof(err)))
		fail_msg("probes_open: %s", err);
	plain = open_probes(0, quiet, sizeof(quiet));
	assert_null(probe_row(plain, "host", "bpf_loop"));
	host = probe_row(hidden, "host", "bpf_loop");
	assert_non_null(host);
	assert_false(host->attached);
	assert_string_equal(host->reason, "not in this kernel (hidden: VFMIG_HIDE_HELPERS): dirty "
					  "bitmaps counted up to 4096 words (1024 MiB at 4 KiB "
					  "pages) per query, the rest as cut short");
	ex = probe_row(hidden, "ioctl", "tp__sys_exit_ioctl");
	assert_false(ex->attached);
	assert_false(ex->refused); /* off before load: the kernel was not asked */
	assert_string_equal(ex->reason, "needs bpf_get_current_comm, which this kernel lacks "
					"(hidden: VFMIG_HIDE_HELPERS)");
	assert_true(probe_row(plain, "ioctl", "tp__sys_exit_ioctl")->attached);
	assert_true(same_rows_but(hidden, plain, "tp__sys_exit_ioctl", "test__decode") > 30);
	probes_close(plain);
	workload(hidden, &f);
	assert_int_equal(f.sets, 2); /* the device's two: the SET syscall counts at its exit */
	assert_int_equal(f.pinned, 5);
	probes_close(hidden);
}

/* The parser on a log as libbpf 1.1 prints a refused fexit and a missing BTF id. */
static void test_log_parser(void **state)
{
	struct loadlog l;
	char out[LOADLOG_LINE];

	(void)state;
	memset(&l, 0, sizeof(l));
	loadlog_feed(&l, "libbpf: prog 'fexit__f': BPF program load failed: Permission denied\n");
	loadlog_feed(&l, "libbpf: prog 'fexit__f': -- BEGIN PROG LOAD LOG --\n"
			 "0: R1=ctx() R10=fp0\n; int BPF_PROG(f) @ x.c:1\n"
			 "0: (79) r2 = *(u64 *)(r1 +24)\n"
			 "func 'f' arg3 type ENUM is not a struct\n"
			 "invalid bpf_context access off=24 size=8\n"
			 "processed 1 insns (limit 1000000) max_states_per_insn 0\n"
			 "-- END PROG LOAD LOG --\n");
	loadlog_feed(&l, "libbpf: prog 'fexit__f': failed to load: -13\n");
	loadlog_feed(&l, "libbpf: failed to load object 'vfmig_state_bpf'\n");
	assert_string_equal(loadlog_failed(&l), "fexit__f");
	assert_string_equal(loadlog_reason(&l, "fexit__f", out, sizeof(out)),
			    "verifier: func 'f' arg3 type ENUM is not a struct; invalid "
			    "bpf_context access off=24 size=8");
	memset(&l, 0, sizeof(l));
	loadlog_feed(&l, "libbpf: prog 'fentry__g': failed to find kernel BTF type ID of 'g': "
			 "-3\nlibbpf: prog 'fentry__g': failed to prepare load attributes: -3\n");
	loadlog_feed(&l, "libbpf: prog 'fentry__g': fail");
	loadlog_feed(&l, "ed to load: -3\n");
	assert_string_equal(loadlog_failed(&l), "fentry__g");
	assert_string_equal(loadlog_reason(&l, "fentry__g", out, sizeof(out)),
			    "libbpf: failed to find kernel BTF type ID of 'g': -3");
	memset(&l, 0, sizeof(l));
	loadlog_feed(&l, "libbpf: prog 'tp__x': -- BEGIN PROG LOAD LOG --\n"
			 "3: <invalid CO-RE relocation>\nfailed to resolve CO-RE relocation "
			 "<byte_off> [12] struct trace_event_raw_x86_exceptions___v2.address "
			 "(0:1 @ offset 8)\nprocessed 4 insns\n-- END PROG LOAD LOG --\n"
			 "libbpf: prog 'tp__x': failed to load: -22\n");
	assert_string_equal(loadlog_reason(&l, "tp__x", out, sizeof(out)),
			    "CO-RE: struct trace_event_raw_x86_exceptions.address not in this "
			    "kernel's BTF");
	assert_null(loadlog_failed(memset(&l, 0, sizeof(l))));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_parser),
		cmocka_unit_test(test_refused_programs_alone_are_off),
		cmocka_unit_test(test_family_that_cannot_load_is_one_row),
		cmocka_unit_test(test_debug_env_shows_libbpf),
		cmocka_unit_test(test_hidden_helpers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
