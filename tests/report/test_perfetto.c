// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof report --perfetto of a real recorded migration, read by a
 * checker of the Trace Event Format written apart from the writer (json-c
 * only): every event has the fields its phase needs; per thread, B/E pairs
 * balance and every slice lies within the one it starts in (no partial
 * overlap); counters carry numbers only; every process has its name
 * (process_name metadata). Then its content against vfmig-emu migrate
 * --json of the same run: each source device's process holds migration >
 * pre-copy > as many rounds as migrate ran, stop-copy in the migration;
 * processes named for the devices migrate lists; counter tracks for the
 * dirty rate, pinned pages and pending bytes; instants for state changes.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

#define EPS_US 0.002 /* the writer rounds each time to the us on its own: 2 ns of slack */
#define MAX_SLICES 4096
#define MAX_PIDS 64

struct slice {
	double ts, end;
	const char *name;
};

static char prof[PATH_MAX], emu[PATH_MAX], file[] = "/tmp/vfmig-perfetto-XXXXXX";

static json_object *member(json_object *o, const char *k, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, type) ||
	      (type == json_type_double && json_object_is_type(v, json_type_int))))
		fail_msg("event without a %s \"%s\": %s", json_type_to_name(type), k,
			 json_object_to_json_string(o));
	return v;
}

static double num(json_object *o, const char *k)
{
	return json_object_get_double(member(o, k, json_type_double));
}

/* The fields the event's phase needs. */
static void check_fields(json_object *e)
{
	const char *ph = json_object_get_string(member(e, "ph", json_type_string));
	json_object *args;

	member(e, "pid", json_type_int);
	member(e, "tid", json_type_int);
	if (strcmp(ph, "E"))
		member(e, "name", json_type_string);
	if (!strcmp(ph, "M")) {
		const char *n = json_object_get_string(member(e, "name", json_type_string));

		assert_true(!strcmp(n, "process_name") || !strcmp(n, "thread_name") ||
			    !strcmp(n, "process_sort_index") || !strcmp(n, "thread_sort_index") ||
			    !strcmp(n, "process_labels"));
		args = member(e, "args", json_type_object);
		if (strstr(n, "_name"))
			assert_true(
				*json_object_get_string(member(args, "name", json_type_string)));
		return;
	}
	assert_true(num(e, "ts") >= 0);
	if (!strcmp(ph, "X")) {
		assert_true(num(e, "dur") >= 0);
	} else if (!strcmp(ph, "C")) {
		args = member(e, "args", json_type_object);
		assert_true(json_object_object_length(args) > 0);
		json_object_object_foreach(args, k, v)
		{
			if (!json_object_is_type(v, json_type_double) &&
			    !json_object_is_type(v, json_type_int))
				fail_msg(
					"counter %s's %s is not a number",
					json_object_get_string(member(e, "name", json_type_string)),
					k);
		}
	} else if (!strcmp(ph, "i") || !strcmp(ph, "I")) {
		json_object *s;

		if (json_object_object_get_ex(e, "s", &s))
			assert_true(strchr("gpt", *json_object_get_string(s)) &&
				    strlen(json_object_get_string(s)) == 1);
	} else if (strcmp(ph, "B") && strcmp(ph, "E")) {
		fail_msg("phase %s not expected in this trace", ph);
	}
}

static int by_start(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end; /* the longer one is the parent */
}

/* Slices of one thread: each lies within the innermost open one, or after it. */
static void check_nesting(struct slice *s, size_t n)
{
	struct slice *stack[MAX_SLICES];
	size_t depth = 0, i;

	qsort(s, n, sizeof(*s), by_start);
	for (i = 0; i < n; i++) {
		while (depth && stack[depth - 1]->end <= s[i].ts + EPS_US)
			depth--;
		if (depth && s[i].end > stack[depth - 1]->end + EPS_US)
			fail_msg("slice %s [%f, %f] overlaps %s [%f, %f] without nesting",
				 s[i].name, s[i].ts, s[i].end, stack[depth - 1]->name,
				 stack[depth - 1]->ts, stack[depth - 1]->end);
		stack[depth++] = &s[i];
	}
}

/* The slices of (pid, tid): X as they are, B/E paired (balanced, E closing the last B). */
static size_t thread_slices(json_object *evs, int pid, int tid, struct slice *out)
{
	struct slice open[MAX_SLICES];
	size_t i, n = 0, nopen = 0;

	for (i = 0; i < json_object_array_length(evs); i++) {
		json_object *e = json_object_array_get_idx(evs, i);
		const char *ph = json_object_get_string(json_object_object_get(e, "ph"));

		if (json_object_get_int(json_object_object_get(e, "pid")) != pid ||
		    json_object_get_int(json_object_object_get(e, "tid")) != tid)
			continue;
		assert_true(n < MAX_SLICES && nopen < MAX_SLICES);
		if (!strcmp(ph, "X"))
			out[n++] = (struct slice){
				num(e, "ts"), num(e, "ts") + num(e, "dur"),
				json_object_get_string(json_object_object_get(e, "name"))};
		else if (!strcmp(ph, "B"))
			open[nopen++] = (struct slice){
				num(e, "ts"), 0,
				json_object_get_string(json_object_object_get(e, "name"))};
		else if (!strcmp(ph, "E")) {
			assert_true(nopen > 0); /* an E without its B */
			out[n] = open[--nopen];
			out[n].end = num(e, "ts");
			assert_true(out[n].end >= out[n].ts);
			n++;
		}
	}
	assert_int_equal(nopen, 0); /* a B never ended */
	return n;
}

static bool has_slice(const struct slice *s, size_t n, const char *name, double in_ts,
		      double in_end)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s[i].name, name) && s[i].ts >= in_ts - EPS_US &&
		    s[i].end <= in_end + EPS_US)
			return true;
	return false;
}

static const struct slice *find(const struct slice *s, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s[i].name, name))
			return &s[i];
	return NULL;
}

/* A source device's thread with the migration's phases: migration > pre-copy > rounds. */
static bool check_phases(const struct slice *s, size_t n, size_t rounds)
{
	const struct slice *mig = find(s, n, "migration"), *pre = find(s, n, "pre-copy");
	char name[32];
	size_t k;

	if (!mig || !pre)
		return false;
	assert_true(has_slice(s, n, "pre-copy", mig->ts, mig->end));
	assert_true(has_slice(s, n, "stop-copy", mig->ts, mig->end));
	for (k = 0; k < rounds; k++) {
		snprintf(name, sizeof(name), "round %zu", k);
		if (!has_slice(s, n, name, pre->ts, pre->end))
			fail_msg("no %s inside pre-copy", name);
	}
	snprintf(name, sizeof(name), "round %zu", rounds);
	assert_null(find(s, n, name)); /* no round more than migrate ran */
	return true;
}

static json_object *record(void)
{
	char *argv[] = {prof,
			"record",
			"-o",
			file,
			"--",
			emu,
			"migrate",
			"--mem",
			"32m",
			"--wss",
			"16m",
			"--rate",
			"8000",
			"--bandwidth",
			"60",
			"--downtime",
			"60",
			"--device",
			"nic:dirty=type1-pin,rate=1000",
			"--device",
			"bigmem:mem=8m,rate=100",
			"--json",
			NULL};
	json_object *truth;
	char *out;
	int fd = mkstemp(file);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run_capture(argv, &out), 0);
	truth = json_line_with(out, "rounds");
	free(out);
	assert_non_null(truth);
	return truth;
}

static void test_perfetto(void **state)
{
	static struct slice s[MAX_SLICES];
	char trace[64], *out, names[2048] = "";
	char *argv[] = {prof, "report", "--perfetto", trace, file, NULL};
	json_object *truth, *top, *evs, *devs;
	int pids[MAX_PIDS], tids[MAX_PIDS * 4][2], np = 0, nt = 0, i, j, sources = 0;
	bool named[MAX_PIDS] = {false}, dirty = false, pinned = false, pending = false;
	size_t k, n, instants = 0;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	truth = record();
	snprintf(trace, sizeof(trace), "%s.json", file);
	assert_int_equal(run_capture(argv, &out), 0);
	free(out);
	top = json_object_from_file(trace);
	assert_non_null(top);
	evs = json_object_is_type(top, json_type_array)
		      ? top
		      : member(top, "traceEvents", json_type_array);
	assert_true(json_object_array_length(evs) > 0);
	for (k = 0; k < json_object_array_length(evs); k++) {
		json_object *e = json_object_array_get_idx(evs, k);
		const char *ph, *name;
		int pid, tid;

		check_fields(e);
		ph = json_object_get_string(json_object_object_get(e, "ph"));
		name = json_object_get_string(json_object_object_get(e, "name"));
		pid = json_object_get_int(json_object_object_get(e, "pid"));
		tid = json_object_get_int(json_object_object_get(e, "tid"));
		for (i = 0; i < np && pids[i] != pid; i++)
			;
		if (i == np) {
			assert_true(np < MAX_PIDS);
			pids[np++] = pid;
		}
		if (!strcmp(ph, "M") && !strcmp(name, "process_name")) {
			named[i] = true;
			strncat(names,
				json_object_get_string(json_object_object_get(
					json_object_object_get(e, "args"), "name")),
				sizeof(names) - strlen(names) - 2);
			strcat(names, "\n");
		}
		if (!strcmp(ph, "C")) {
			dirty |= strstr(name, "dirty") != NULL;
			pinned |= strstr(name, "pinned") != NULL;
			pending |= strstr(name, "pending") != NULL;
		}
		instants += !strcmp(ph, "i") || !strcmp(ph, "I");
		if (!strcmp(ph, "X") || !strcmp(ph, "B") || !strcmp(ph, "E")) {
			for (j = 0; j < nt && (tids[j][0] != pid || tids[j][1] != tid); j++)
				;
			if (j == nt && nt < MAX_PIDS * 4) {
				tids[nt][0] = pid;
				tids[nt++][1] = tid;
			}
		}
	}
	for (i = 0; i < np; i++)
		if (!named[i])
			fail_msg("process %d has no process_name", pids[i]);
	for (j = 0; j < nt; j++) {
		n = thread_slices(evs, tids[j][0], tids[j][1], s);
		check_nesting(s, n);
		sources += check_phases(
			s, n, json_object_array_length(json_object_object_get(truth, "rounds")));
	}
	devs = json_object_object_get(truth, "devices");
	assert_int_equal(sources, (int)json_object_array_length(devs)); /* each source device's */
	for (k = 0; k < json_object_array_length(devs); k++) {
		const char *id = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(devs, k), "id"));

		if (!strstr(names, id))
			fail_msg("no process named for device %s in:\n%s", id, names);
	}
	assert_true(dirty && pinned && pending);
	assert_true(instants > 0);
	json_object_put(top);
	json_object_put(truth);
	unlink(trace);
	unlink(file);
}

static int setup(void **state)
{
	(void)state;
	return tool_path("vfmigprof", prof, sizeof(prof)) &&
			       tool_path("vfmig-emu", emu, sizeof(emu))
		       ? 0
		       : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perfetto),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
