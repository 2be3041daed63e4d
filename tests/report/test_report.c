// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof record around a real emulated migration, then vfmigprof report:
 * the rounds, the dirty pages each round opened with, the downtime and
 * every device's arcs on both ends, rebuilt from the probes' events, are
 * those vfmig-emu migrate --json of the same run lists (the downtime from the
 * vCPU pause to the destination's vCPU resume, as migrate's); so are the rounds
 * and arcs of its --perfetto trace. A damaged copy of the file gives exit 3
 * with the offset, a damaged header 1.
 */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_report.h"
#include "report/report.h"

static char file[] = "/tmp/vfmig-report-XXXXXX";
static struct json_object *truth; /* migrate --json of the recorded run */

static void record_migration(void)
{
	static const char *const args[] = {
		"--mem",       "32m",  "--device",   "nic:dirty=type1-pin,rate=1000",
		"--wss",       "16m",  "--device",   "bigmem:mem=8m,rate=100",
		"--rate",      "8000", "--vcpus",    "2",
		"--bandwidth", "60",   "--downtime", "60",
		NULL};

	truth = fx_record_migrate(file, args);
}

struct slice {
	long long pid, tid;
	double ts, dur;
};

static int by_thread_then_start(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	if (x->pid != y->pid || x->tid != y->tid)
		return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) : (x->tid < y->tid ? -1 : 1);
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->dur > y->dur ? -1 : x->dur < y->dur; /* the enclosing one first */
}

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int);
}

/* One event's fields for its phase; a complete slice is kept for the nesting check. */
static void check_event(struct json_object *e, struct slice *s, size_t *ns)
{
	const char *ph = json_object_get_string(fx_get(e, "ph"));
	struct json_object *v;

	assert_true(json_object_is_type(fx_get(e, "name"), json_type_string));
	assert_true(json_object_is_type(fx_get(e, "pid"), json_type_int));
	assert_true(json_object_is_type(fx_get(e, "tid"), json_type_int));
	if (strcmp(ph, "M")) {
		assert_true(is_number(fx_get(e, "ts")));
		assert_true(json_object_get_double(fx_get(e, "ts")) >= 0);
	}
	if (!strcmp(ph, "X")) {
		assert_true(is_number(fx_get(e, "dur")));
		s[*ns] = (struct slice){json_object_get_int64(fx_get(e, "pid")),
					json_object_get_int64(fx_get(e, "tid")),
					json_object_get_double(fx_get(e, "ts")),
					json_object_get_double(fx_get(e, "dur"))};
		assert_true(s[(*ns)++].dur >= 0);
	} else if (!strcmp(ph, "i")) {
		const char *scope = json_object_get_string(fx_get(e, "s"));

		assert_true(!strcmp(scope, "g") || !strcmp(scope, "p") || !strcmp(scope, "t"));
	} else if (!strcmp(ph, "C")) {
		json_object_object_foreach(fx_get(e, "args"), key, val)
		{
			(void)key;
			assert_true(is_number(val));
		}
	} else if (!strcmp(ph, "M")) {
		v = fx_get(fx_get(e, "args"), "name");
		assert_true(json_object_is_type(v, json_type_string));
	} else {
		fail_msg("phase '%s' not written by report", ph);
	}
}

/* Per thread, each slice ends within the one it starts in. */
static void check_nesting(struct slice *s, size_t n)
{
	struct slice *stack[64];
	size_t i, depth = 0;

	qsort(s, n, sizeof(*s), by_thread_then_start);
	for (i = 0; i < n; i++) {
		while (depth &&
		       (stack[depth - 1]->pid != s[i].pid || stack[depth - 1]->tid != s[i].tid ||
			s[i].ts >= stack[depth - 1]->ts + stack[depth - 1]->dur - 1e-3))
			depth--;
		if (depth &&
		    s[i].ts + s[i].dur > stack[depth - 1]->ts + stack[depth - 1]->dur + 1e-3)
			fail_msg("slice at %.3f us (pid %lld tid %lld) overlaps its parent's end",
				 s[i].ts, s[i].pid, s[i].tid);
		assert_true(depth < 64);
		stack[depth++] = &s[i];
	}
}

/* In the trace: the pid of the process named after device id; its events named name, of ph. */
static long long count_of(struct json_object *evs, const char *id, const char *ph,
			  const char *prefix)
{
	long long pid = -1, n = 0;
	size_t i;

	for (i = 0; i < json_object_array_length(evs); i++) {
		struct json_object *e = json_object_array_get_idx(evs, i);

		if (!strcmp(json_object_get_string(fx_get(e, "ph")), "M") &&
		    !strncmp(json_object_get_string(fx_get(fx_get(e, "args"), "name")), id,
			     strlen(id)) &&
		    json_object_get_string(fx_get(fx_get(e, "args"), "name"))[strlen(id)] == ' ')
			pid = json_object_get_int64(fx_get(e, "pid"));
	}
	assert_true(pid > 0);
	for (i = 0; i < json_object_array_length(evs); i++) {
		struct json_object *e = json_object_array_get_idx(evs, i);

		n += json_object_get_int64(fx_get(e, "pid")) == pid &&
		     !strcmp(json_object_get_string(fx_get(e, "ph")), ph) &&
		     !strncmp(json_object_get_string(fx_get(e, "name")), prefix, strlen(prefix));
	}
	return n;
}

static void test_round_trip(void **state)
{
	struct json_object *rep, *m;
	double dt, dr;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	record_migration();
	assert_int_equal(fx_report(file, &rep), 0);
	assert_int_equal(json_object_get_int(fx_get(rep, "version")), 1);
	assert_true(json_object_get_boolean(fx_get(fx_get(rep, "file"), "closed")));
	m = fx_migration(rep, truth);
	fx_same_rounds(truth, m);
	assert_int_equal(json_object_get_int64(fx_get(m, "final_device_bytes")),
			 json_object_get_int64(fx_get(truth, "final_device_bytes")));
	/*
	 * From the vCPU pause the probes saw to the destination's vCPU resume, as migrate
	 * measures it: the two clocks' readings are microseconds apart (a probe hit each).
	 */
	dt = json_object_get_double(fx_get(truth, "downtime_ms"));
	dr = json_object_get_double(fx_get(m, "downtime_ms"));
	assert_string_equal(json_object_get_string(fx_get(m, "downtime_from")), "vcpu_pause");
	assert_string_equal(json_object_get_string(fx_get(m, "downtime_to")), "vcpu_resume");
	if (dr > 1.1 * dt + 2 || dr < 0.9 * dt - 2)
		fail_msg("downtime %.3f ms in the report, %.3f ms measured by migrate", dr, dt);
	assert_int_equal(json_object_get_int(fx_get(m, "vcpus")), 2); /* --vcpus 2 */
	/* the vCPU pause, then the first stop request: migrate's stop_devices holds both */
	assert_true(
		json_object_get_double(fx_get(fx_get(m, "downtime_parts_ms"), "vcpu_pause")) <=
		json_object_get_double(fx_get(fx_get(truth, "downtime_parts_ms"), "stop_devices")));
	fx_same_arcs(fx_get(truth, "devices"), fx_get(m, "devices"));
	fx_same_arcs(fx_get(fx_get(truth, "destination"), "devices"),
		     fx_get(fx_get(m, "destination"), "devices"));
	assert_true(json_object_get_boolean(fx_get(fx_get(m, "prediction"), "made")));
	json_object_put(rep);
}

/* predict --from FILE's inputs: the guest RAM migrate was given, the VM's devices. */
static void test_inputs_from_file(void **state)
{
	struct model_inputs in;
	char err[256] = "";

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	if (report_inputs_from_file(file, 0, NULL, &in, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal((long long)in.ram_bytes, 32ll << 20);
	assert_int_equal(in.ndevs, 2);
	assert_int_equal((long long)in.cap_bps, 60000000ll);
	assert_int_equal((long long)(in.downtime_limit_s * 1000 + 0.5), 60);
}

/*
 * report --perfetto checked by rules of the Trace Event Format written here
 * apart from the writer: the fields each phase needs, counters numeric,
 * complete slices nested per thread; and against the truth of the run: each
 * source device's round slices are migrate --json's rounds, each device's
 * state-change instants its arcs on that end.
 */
static void test_perfetto(void **state)
{
	char trace[64];
	char *rep[] = {fx_prof, "report", "--perfetto", trace, file, NULL};
	struct json_object *doc, *evs, *devs;
	struct slice *s;
	size_t i, ns = 0;
	char *out;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	assert_non_null(truth); /* test_round_trip's run */
	snprintf(trace, sizeof(trace), "%s.json", file);
	assert_int_equal(run_capture(rep, &out), 0);
	free(out);
	doc = json_object_from_file(trace);
	assert_non_null(doc);
	evs = fx_get(doc, "traceEvents");
	s = calloc(json_object_array_length(evs) + 1, sizeof(*s));
	for (i = 0; i < json_object_array_length(evs); i++)
		check_event(json_object_array_get_idx(evs, i), s, &ns);
	assert_true(ns > 0);
	check_nesting(s, ns);
	devs = fx_get(truth, "devices");
	for (i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);
		const char *id = json_object_get_string(fx_get(d, "id"));

		assert_int_equal(count_of(evs, id, "X", "round "),
				 json_object_array_length(fx_get(truth, "rounds")));
		assert_int_equal(count_of(evs, id, "i", ""),
				 json_object_array_length(fx_get(d, "arcs")));
		assert_int_equal(count_of(evs, id, "X", "vCPU pause"), 1); /* migrate paused once */
	}
	free(s);
	json_object_put(doc);
	unlink(trace);
}

static void copy_damaged(const char *to, size_t cut, long flip_at)
{
	FILE *in = fopen(file, "rb"), *out = fopen(to, "wb");
	size_t n = 0;
	int c;

	assert_non_null(in);
	assert_non_null(out);
	while ((c = fgetc(in)) != EOF && n < cut) {
		fputc((long)n == flip_at ? c ^ 0xff : c, out);
		n++;
	}
	fclose(in);
	fclose(out);
}

static void test_damaged_copies(void **state)
{
	char to[64], *err;
	struct stat st;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	assert_int_equal(stat(file, &st), 0); /* test_round_trip's recording */
	snprintf(to, sizeof(to), "%s.cut", file);
	copy_damaged(to, (size_t)st.st_size * 3 / 4, -1);
	assert_int_equal(fx_report_stderr(to, &err), 3);
	assert_non_null(strstr(err, "cut short at offset"));
	free(err);
	copy_damaged(to, (size_t)st.st_size, st.st_size * 3 / 4);
	assert_int_equal(fx_report_stderr(to, &err), 3);
	assert_non_null(strstr(err, "offset"));
	free(err);
	copy_damaged(to, (size_t)st.st_size, 20);
	assert_int_equal(fx_report_stderr(to, &err), 1);
	assert_non_null(strstr(err, "damaged header"));
	free(err);
	copy_damaged(to, 0, -1);
	assert_int_equal(fx_report_stderr(to, &err), 1);
	assert_non_null(strstr(err, "not a vfmig recording"));
	free(err);
	unlink(to);
	unlink(file);
	json_object_put(truth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_inputs_from_file),
		cmocka_unit_test(test_perfetto),
		cmocka_unit_test(test_damaged_copies),
	};

	return cmocka_run_group_tests(tests, fx_setup, NULL);
}
