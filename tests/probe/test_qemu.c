// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's dtrace probes (provider "qemu"), attached for real to fake_qemu:
 * a binary whose probes have QEMU's trace-event names, argument types and
 * semaphores, built with QEMU 9.1's signatures and with 8.0's. It plays a
 * scripted migration once the probes are attached and prints what it
 * fired; every figure the probes report is checked against that, and
 * against the script itself (so that a fake whose probes never fired
 * cannot pass): requests per arc and their results, latency bounds,
 * pre-copy sizes, stop-copy size queries, data bytes, dirty pages, the
 * vCPU pause and resume (vm_state_notify), device keys and names, and why a
 * probe a QEMU lacks stays off.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/devname.h"
#include "probe/probe_test.h"
#include "probe/stat_out.h"
#include "probe/usdt_notes.h"

#define MIB (1024 * 1024)
#define ST_STOP 1
#define ST_RUNNING 2
#define ST_STOP_COPY 3
#define ST_RESUMING 4
#define ST_PRE_COPY 6
#define UNKNOWN VFMIG_STATE_UNKNOWN

static const char *const dev_a = "0000:65:00.0", *const dev_b = "0000:66:00.1";

/* What the fake fired, as it printed it: one "key value" line each. */
/* clang-format off */
#define TRUTH(X)                                                                           \
	X(sets) X(set_errors) X(precopy_infos) X(data_sizes) X(queries) X(probes_off)      \
	X(unreadable) X(read_bytes) X(write_bytes) X(dirty_pages) X(last_init)             \
	X(last_dirty) X(max_set_ns) X(vfmig_resets) X(pauses) X(resumes) X(pause_before)  \
	X(pause_after) X(resume_before) X(resume_after)
/* clang-format on */
#define TRUTH_FIELD(n) uint64_t n;

struct truth {
	TRUTH(TRUTH_FIELD)
};

/* What the ring buffer delivered. */
struct seen {
	uint64_t sets_a, sets_b, failed_left_in, bitmaps, bitmap_dirty, reads, writes;
	uint64_t vcpu_n[2];	    /* VFMIG_EV_VCPU_PAUSE, _RESUME */
	struct vfmig_event vcpu[2]; /* the last of each */
};

static struct {
	char path[PATH_MAX];
	pid_t pid;
	struct truth t;
	struct seen ev;
} run;

static uint64_t field(const char *out, const char *key)
{
	char want[64];
	const char *at;

	snprintf(want, sizeof(want), "\n%s ", key);
	at = strstr(out, want);
	if (!at)
		fail_msg("fake_qemu printed no %s: \"%s\"", key, out);
	return strtoull(at + strlen(want), NULL, 10);
}

#define TRUTH_PARSE(n) t->n = field(out, #n);

static void parse(const char *out)
{
	struct truth *t = &run.t;

	TRUTH(TRUTH_PARSE)
}

/* The key vfmig gives a device QEMU names, computed apart: FNV-1a of the name, the pid. */
static uint64_t qemu_key(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++) {
		h ^= (uint8_t)*name;
		h *= 16777619u;
	}
	return vfmig_dev_qemu(run.pid, h);
}

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct seen *s = ctx;

	if (e->type == VFMIG_EV_STATE_SET) {
		s->sets_a += e->dev == qemu_key(dev_a);
		s->sets_b += e->dev == qemu_key(dev_b);
		if (e->result)
			s->failed_left_in = e->b;
	}
	if (e->type == VFMIG_EV_BITMAP && e->from == VFMIG_IFACE_QEMU) {
		s->bitmaps++;
		s->bitmap_dirty += e->d;
	}
	if (e->type == VFMIG_EV_VCPU_PAUSE || e->type == VFMIG_EV_VCPU_RESUME) {
		s->vcpu_n[e->type == VFMIG_EV_VCPU_RESUME]++;
		s->vcpu[e->type == VFMIG_EV_VCPU_RESUME] = *e;
	}
	s->reads += e->type == VFMIG_EV_DATA_READ && e->dev == qemu_key(dev_a);
	s->writes += e->type == VFMIG_EV_DATA_WRITE && e->dev == qemu_key(dev_b);
	return 0;
}

/* The fake beside this test, started: it waits on stdin until the probes are attached. */
static int spawn(const char *name, int *go, int *out)
{
	int in_p[2], out_p[2];
	char *slash;

	if (!realpath("/proc/self/exe", run.path) || !(slash = strrchr(run.path, '/')))
		return -1;
	snprintf(slash + 1, sizeof(run.path) - (slash + 1 - run.path), "%s", name);
	if (pipe(in_p) || pipe(out_p))
		return -1;
	run.pid = fork();
	if (run.pid < 0)
		return -1;
	if (!run.pid) {
		dup2(in_p[0], 0);
		dup2(out_p[1], 1);
		execl(run.path, name, (char *)NULL);
		_exit(127);
	}
	close(in_p[0]);
	close(out_p[1]);
	*go = in_p[1];
	*out = out_p[0];
	return 0;
}

/* Attach to the fake, let it play, read what it fired and what the ring buffer carried. */
static int play(const char *name, const char *only)
{
	static char out[4096];
	struct probe_opts o = {.binary = run.path};
	int go, rd, status;
	size_t n = 1;
	ssize_t r;

	memset(&run.t, 0, sizeof(run.t));
	memset(&run.ev, 0, sizeof(run.ev));
	if (spawn(name, &go, &rd))
		return -1;
	o.pid = run.pid;
	o.dev = only ? qemu_key(only) : 0;
	if (probes_setup(&o) || !probes) {
		kill(run.pid, SIGKILL);
		waitpid(run.pid, NULL, 0);
		return -1;
	}
	out[0] = '\n'; /* every key follows a newline */
	if (write(go, "g", 1) != 1)
		return -1;
	while (n < sizeof(out) - 1 && (r = read(rd, out + n, sizeof(out) - 1 - n)) > 0)
		n += r;
	out[n] = 0;
	close(go);
	close(rd);
	if (waitpid(run.pid, &status, 0) != run.pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	parse(out);
	while (probes_poll(probes, 0, on_event, &run.ev) > 0)
		;
	return 0;
}

/*
 * The probes attached to that fake (to the requests of device only, when
 * not NULL), which has played: once, for the tests that follow with the
 * same (as non-root: the test says why it skips).
 */
static void use_filtered(const char *fake, const char *only)
{
	static char playing[128];
	char want[128];

	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	snprintf(want, sizeof(want), "%s %s", fake, only ? only : "");
	if (probes && !strcmp(playing, want))
		return;
	probes_close(probes);
	probes = NULL;
	snprintf(playing, sizeof(playing), "%s", want);
	assert_int_equal(play(fake, only), 0);
	assert_non_null(probes);
}

static void use(const char *fake)
{
	use_filtered(fake, NULL);
}

/* Requests of one arc on one device with one result, by their histogram. */
static uint64_t arc(uint64_t dev, unsigned int from, unsigned int to, int result,
		    struct vfmig_hist *sum)
{
	static struct agg_hist h[512];
	int i, n = agg_hists(probes, h, 512);
	uint64_t count = 0;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < n; i++) {
		if (h[i].key.kind != VFMIG_H_STATE_SET || h[i].key.dev != dev ||
		    h[i].key.from != from || h[i].key.to != to || h[i].key.result != result)
			continue;
		count += h[i].h.count;
		sum->sum_ns += h[i].h.sum_ns;
		if (h[i].h.max_ns > sum->max_ns)
			sum->max_ns = h[i].h.max_ns;
	}
	return count;
}

static uint8_t state_of(const char *name)
{
	struct vfmig_dev_state st;

	assert_int_equal(agg_dev_state(probes, qemu_key(name), &st), 0);
	return st.state;
}

/* Each qemu program attached to the fake; the emulated device's say its notes are not there. */
static void test_table_qemu_rows(void **state)
{
	const struct probe_row *rows;
	int i, n, qemu = 0, usdt = 0;
	char want[PATH_MAX + 64];

	(void)state;
	use("fake_qemu");
	n = probes_table(probes, &rows);
	for (i = 0; i < n; i++) {
		if (!strcmp(rows[i].source, "qemu")) {
			assert_true(rows[i].attached);
			assert_string_equal(rows[i].reason, run.path);
			qemu++;
		}
		if (!strcmp(rows[i].source, "usdt")) {
			snprintf(want, sizeof(want), "no vfmig:%s note in %s", rows[i].program + 6,
				 run.path);
			assert_false(rows[i].attached);
			assert_string_equal(rows[i].reason, want);
			usdt++;
		}
	}
	assert_int_equal(qemu, 8);
	assert_true(usdt >= 15);
	assert_int_equal(run.t.probes_off, 0); /* every probe the fake has fired */
}

/* What the fake fired is what its script says, and what the probes counted. */
static void counted(uint64_t fired, uint64_t script, int idx)
{
	assert_int_equal(fired, script);
	assert_int_equal(counter(idx), fired);
}

struct arc_want {
	const char *dev;
	unsigned int from, to;
	int result;
	uint64_t min_ns; /* the device's time in it, at least */
};

/*
 * Exactly one request on each arc wanted (no other on its device), its
 * latency within [min_ns, the fake's clock around both probes]: 0 when
 * QEMU traces no start.
 */
static void arcs_match(const struct arc_want *w, size_t n, bool timed)
{
	struct vfmig_hist h;
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(arc(qemu_key(w[i].dev), w[i].from, w[i].to, w[i].result, &h), 1);
		assert_true(h.max_ns >= w[i].min_ns);
		assert_true(timed ? h.max_ns <= run.t.max_set_ns : h.sum_ns == 0);
	}
}

/*
 * 9.1 and later: each request from its start to the state QEMU recorded.
 * A refused one (QEMU reset the device: RUNNING) is counted with -EIO; a
 * request for the state the device is in made no ioctl and is not counted.
 */
static void test_requests_per_arc(void **state)
{
	static const struct arc_want want[] = {
		{"0000:65:00.0", ST_RUNNING, ST_PRE_COPY, 0, 2000000},
		{"0000:65:00.0", ST_PRE_COPY, ST_STOP_COPY, 0, 500000},
		{"0000:65:00.0", ST_STOP_COPY, ST_STOP, -EIO, 100000},
		{"0000:66:00.1", UNKNOWN, ST_RESUMING, 0, 0},
		{"0000:66:00.1", ST_RESUMING, ST_RUNNING, 0, 300000},
	};
	struct vfmig_hist h;

	(void)state;
	use("fake_qemu");
	counted(run.t.sets, 5, VFMIG_C_STATE_SETS);
	counted(run.t.set_errors, 1, VFMIG_C_STATE_SET_ERRORS);
	assert_int_equal(counter(VFMIG_C_HANG_RISK), 0);
	assert_int_equal(counter(VFMIG_C_FSM_STEPS), 0);
	arcs_match(want, sizeof(want) / sizeof(want[0]), true);
	assert_int_equal(arc(qemu_key(dev_a), ST_PRE_COPY, ST_PRE_COPY, 0, &h), 0);
	assert_int_equal(state_of(dev_a), ST_RUNNING);
	assert_int_equal(state_of(dev_b), ST_RUNNING);
	assert_int_equal(run.ev.sets_a, 3);
	assert_int_equal(run.ev.sets_b, 2);
	assert_int_equal(run.ev.failed_left_in, ST_RUNNING);
	assert_int_equal(counter(VFMIG_C_DROPS), 0);
}

/* A name on a page not in memory: each such hit counted as unreadable, and nothing else. */
static void test_unreadable_counted(void **state)
{
	(void)state;
	use("fake_qemu");
	counted(run.t.unreadable, 2, VFMIG_C_QEMU_UNREADABLE);
	assert_string_equal(agg_counter_name(VFMIG_C_QEMU_UNREADABLE), "qemu_probes_unreadable");
}

/* Pre-copy answers only in PRE_COPY; a stop-copy size query each time; data bytes both ways. */
static void test_precopy_sizes_and_data(void **state)
{
	struct vfmig_dev_state st;

	(void)state;
	use("fake_qemu");
	counted(run.t.precopy_infos, 3, VFMIG_C_PRECOPY_INFOS);
	counted(run.t.data_sizes, 4, VFMIG_C_DATA_SIZES);
	assert_int_equal(agg_dev_state(probes, qemu_key(dev_a), &st), 0);
	assert_int_equal(st.precopy_initial, run.t.last_init);
	assert_int_equal(st.precopy_dirty, run.t.last_dirty);
	assert_int_equal(st.precopy_dirty, 8192);
	counted(run.t.read_bytes, 6 * MIB + 12345 + 777, VFMIG_C_DATA_READ_BYTES);
	counted(run.t.write_bytes, 3 * MIB, VFMIG_C_DATA_WRITE_BYTES);
	assert_int_equal(run.ev.reads, 8);
	assert_int_equal(run.ev.writes, 4); /* the failed write too, not its bytes */
}

/* QEMU's own dirty page counts, from both names the event has had. */
static void test_dirty_pages_qemu_counted(void **state)
{
	(void)state;
	use("fake_qemu");
	counted(run.t.queries, 6, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_QEMU);
	counted(run.t.dirty_pages, 100 + 200 + 300 + 7 + 50 + 60,
		VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_QEMU);
	assert_int_equal(run.ev.bitmaps, run.t.queries);
	assert_int_equal(run.ev.bitmap_dirty, run.t.dirty_pages);
	assert_string_equal(agg_counter_name(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_QEMU),
			    "qemu_dirty_pages");
}

/* Each device is its QEMU name, in the devices table with the process that named it. */
static void test_devices_named(void **state)
{
	struct vfmig_dev_name seen;
	struct dev_owner o;
	struct stat_out *r;
	char *text = NULL, id[32];
	size_t len = 0;
	FILE *f;

	(void)state;
	use("fake_qemu");
	assert_int_equal(agg_dev_seen(probes, qemu_key(dev_a), &seen), 0);
	assert_string_equal(seen.name, dev_a);
	assert_string_equal(seen.comm, "fake_qemu");
	devname_resolve(&devname_host, qemu_key(dev_b), NULL, &o);
	assert_int_equal(o.pid, run.pid);
	assert_string_equal(o.from, "");
	assert_int_equal(agg_dev_seen(probes, qemu_key(dev_b), &seen), 0);
	devname_resolve(&devname_host, qemu_key(dev_b), &seen, &o);
	assert_string_equal(o.name, dev_b);
	assert_string_equal(o.from, "qemu");
	assert_false(o.alive);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	r = stat_out_new(probes, false, f);
	assert_non_null(r);
	stat_out_total(r, 1.0);
	stat_out_free(r);
	fclose(f);
	snprintf(id, sizeof(id), "%d:qemu", run.pid);
	assert_non_null(strstr(text, id));
	assert_non_null(strstr(text, dev_a));
	assert_non_null(strstr(text, dev_b));
	assert_non_null(strstr(text, "qemu_dirty_pages"));
	free(text);
}

/*
 * vm_state_notify: one pause and one resume, as the fake fired them, each
 * at the fake's clock around it; the RunState number and name QEMU gives;
 * no duration and no vCPU count (QEMU traces neither).
 */
static void vcpu_events_match(void)
{
	static const char *const names[2] = {"finish-m", "running"};
	const uint64_t before[2] = {run.t.pause_before, run.t.resume_before};
	const uint64_t after[2] = {run.t.pause_after, run.t.resume_after};
	const int reasons[2] = {7, 9}; /* RUN_STATE_FINISH_MIGRATE, RUN_STATE_RUNNING */
	char name[9] = "";
	int k;

	assert_int_equal(run.t.pauses, 1);
	assert_int_equal(run.t.resumes, 1);
	for (k = 0; k < 2; k++) {
		const struct vfmig_event *e = &run.ev.vcpu[k];

		assert_int_equal(run.ev.vcpu_n[k], 1);
		assert_int_equal(e->pid, run.pid);
		assert_true(e->ts_ns >= before[k] && e->ts_ns <= after[k]);
		assert_int_equal(e->c, reasons[k]);
		memcpy(name, &e->d, 8);
		assert_string_equal(name, names[k]);
		assert_int_equal(e->a, 0);
		assert_int_equal(e->b, 0);
	}
	assert_true(run.ev.vcpu[0].ts_ns < run.ev.vcpu[1].ts_ns);
}

static void test_vm_state_notify(void **state)
{
	(void)state;
	use("fake_qemu");
	assert_true(probe_row(probes, "qemu", "qemu__vm_state_notify")->attached);
	vcpu_events_match();
	use("fake_qemu_80"); /* the same signature there */
	assert_true(probe_row(probes, "qemu", "qemu__vm_state_notify")->attached);
	vcpu_events_match();
}

/*
 * 8.0: no set_device_state event (not in that version), a bitmap without a
 * count refused; the emulated device's one probe in the same binary attached.
 */
static void test_80_table_says_why(void **state)
{
	const struct probe_row *bm, *dev;

	(void)state;
	use("fake_qemu_80");
	bm = probe_row(probes, "qemu", "qemu__vfio_get_dirty_bitmap");
	dev = probe_row(probes, "qemu", "qemu__vfio_migration_set_device_state");
	assert_non_null(bm);
	assert_non_null(dev);
	assert_false(bm->attached);
	assert_non_null(strstr(bm->reason, "has no dirty page count (QEMU 8.0 and older)"));
	assert_false(dev->attached);
	assert_non_null(strstr(dev->reason, "no qemu:vfio_migration_set_device_state note in "));
	assert_non_null(strstr(dev->reason, "(not in this QEMU version)"));
	assert_true(probe_row(probes, "qemu", "qemu__vfio_migration_set_state")->attached);
	/* both providers' notes: both attach, each fed its own handlers */
	assert_true(probe_row(probes, "state", "usdt__reset")->attached);
	assert_false(probe_row(probes, "state", "usdt__state_set_end")->attached);
	counted(run.t.vfmig_resets, 1, VFMIG_C_RESETS);
	assert_int_equal(run.t.probes_off, 1); /* the refused probe: its semaphore never raised */
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_QEMU), 0);
}

/* 8.0: a request traced once done (no start: latency 0), stop-copy sizes, data bytes. */
static void test_80_requests_and_data(void **state)
{
	static const struct arc_want want[] = {
		{"0000:65:00.0", UNKNOWN, ST_STOP, 0, 0},
		{"0000:65:00.0", ST_STOP, ST_STOP_COPY, 0, 0},
		{"0000:65:00.0", ST_STOP_COPY, ST_STOP, 0, 0},
		{"0000:66:00.1", UNKNOWN, ST_RESUMING, 0, 0},
		{"0000:66:00.1", ST_RESUMING, ST_RUNNING, 0, 0},
	};

	(void)state;
	use("fake_qemu_80");
	counted(run.t.sets, 5, VFMIG_C_STATE_SETS);
	counted(run.t.set_errors, 0, VFMIG_C_STATE_SET_ERRORS);
	counted(run.t.unreadable, 0, VFMIG_C_QEMU_UNREADABLE);
	arcs_match(want, sizeof(want) / sizeof(want[0]), false);
	assert_int_equal(state_of(dev_a), ST_STOP);
	assert_int_equal(state_of(dev_b), ST_RUNNING);
	counted(run.t.data_sizes, 2, VFMIG_C_DATA_SIZES);
	counted(run.t.precopy_infos, 0, VFMIG_C_PRECOPY_INFOS);
	counted(run.t.read_bytes, 2 * MIB + 4321, VFMIG_C_DATA_READ_BYTES);
	counted(run.t.write_bytes, MIB + 2000, VFMIG_C_DATA_WRITE_BYTES);
}

/* -d: only the requests and size queries of that QEMU device (the destination's), by its key. */
static void test_device_filter(void **state)
{
	static const struct arc_want want[] = {
		{"0000:66:00.1", UNKNOWN, ST_RESUMING, 0, 0},
		{"0000:66:00.1", ST_RESUMING, ST_RUNNING, 0, 300000},
	};
	struct vfmig_hist h;

	(void)state;
	use_filtered("fake_qemu", "0000:66:00.1");
	assert_int_equal(run.t.sets, 5);
	assert_int_equal(counter(VFMIG_C_STATE_SETS), 2);
	assert_int_equal(counter(VFMIG_C_STATE_SET_ERRORS), 0);
	/* the size queries were the other device's: fired, not counted */
	assert_true(run.t.data_sizes > 0);
	assert_int_equal(counter(VFMIG_C_DATA_SIZES), 0);
	arcs_match(want, sizeof(want) / sizeof(want[0]), true);
	assert_int_equal(arc(qemu_key(dev_a), ST_RUNNING, ST_PRE_COPY, 0, &h), 0);
	assert_int_equal(run.ev.sets_a, 0);
	assert_int_equal(run.ev.sets_b, 2);
}

/* The notes as readelf -n shows them: provider, name, argument sizes; every call site. */
static void test_notes_read(void **state)
{
	int size[USDT_MAX_ARGS];
	struct usdt_notes notes;
	const struct usdt_note *n;
	char *slash;

	(void)state;
	assert_int_equal(usdt_args_parse("8@%rdi -4@-20(%rbp) 1@$0 2@x", size, USDT_MAX_ARGS), 4);
	assert_int_equal(size[0], 8);
	assert_int_equal(size[1], 4);
	assert_int_equal(size[2], 1);
	assert_int_equal(size[3], 2);
	assert_int_equal(usdt_notes_read("/nonexistent/qemu", &notes), -ENOENT);
	assert_non_null(realpath("/proc/self/exe", run.path));
	slash = strrchr(run.path, '/');
	snprintf(slash + 1, sizeof(run.path) - (slash + 1 - run.path), "fake_qemu_80");
	assert_int_equal(usdt_notes_read(run.path, &notes), 0);
	/* (int fd, iova, size, bitmap_size, start): 8.0's */
	n = usdt_notes_find(&notes, "qemu", "vfio_get_dirty_bitmap");
	assert_non_null(n);
	assert_int_equal(n->nargs, 5);
	assert_int_equal(n->size[0], 4);
	assert_int_equal(n->size[4], 8);
	n = usdt_notes_find(&notes, "qemu", "vfio_migration_set_state");
	assert_non_null(n);
	assert_int_equal(n->nargs, 2);
	assert_true(usdt_notes_have(&notes, "vfmig"));
	assert_null(usdt_notes_find(&notes, "qemu", "vfio_migration_set_device_state"));
	assert_true(notes.n >= 6); /* six probes, a note per call site (inlining may add) */
	usdt_notes_free(&notes);
	assert_int_equal(usdt_notes_read("/bin/true", &notes), 0);
	assert_int_equal(notes.n, 0);
	usdt_notes_free(&notes);
}

/* A binary with no notes: each USDT row says whose note is missing, and QEMU's why. */
static void test_no_notes_says_why(void **state)
{
	struct probe_opts o = {.binary = "/bin/true"};
	const struct probe_row *r;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	probes_close(probes);
	probes = NULL;
	assert_int_equal(probes_setup(&o), 0);
	r = probe_row(probes, "qemu", "qemu__vfio_save_block");
	assert_non_null(r);
	assert_false(r->attached);
	assert_string_equal(r->reason, "no qemu:vfio_save_block note in /bin/true (QEMU built "
				       "without the dtrace backend?)");
	r = probe_row(probes, "state", "usdt__state_set_end");
	assert_non_null(r);
	assert_false(r->attached);
	assert_string_equal(r->reason, "no vfmig:state_set_end note in /bin/true");
	probes_close(probes);
	probes = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_qemu_rows),
		cmocka_unit_test(test_requests_per_arc),
		cmocka_unit_test(test_unreadable_counted),
		cmocka_unit_test(test_precopy_sizes_and_data),
		cmocka_unit_test(test_dirty_pages_qemu_counted),
		cmocka_unit_test(test_devices_named),
		cmocka_unit_test(test_vm_state_notify),
		cmocka_unit_test(test_80_table_says_why),
		cmocka_unit_test(test_80_requests_and_data),
		cmocka_unit_test(test_device_filter),
		cmocka_unit_test(test_notes_read),
		cmocka_unit_test(test_no_notes_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
