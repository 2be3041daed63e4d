// SPDX-License-Identifier: GPL-2.0
/*
 * report --perfetto checked by rules of the Trace Event Format written here
 * apart from the writer: the fields each phase needs, counters numeric,
 * complete slices nested per thread; and against the truth of the run: each
 * source device's round slices are migrate --json's rounds, each device's
 * state-change instants its arcs on that end.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_report.h"

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
		while (depth && (stack[depth - 1]->pid != s[i].pid ||
				 stack[depth - 1]->tid != s[i].tid ||
				 s[i].ts >= stack[depth - 1]->ts + stack[depth - 1]->dur - 1e-3))
			depth--;
		if (depth && s[i].ts + s[i].dur > stack[depth - 1]->ts + stack[depth - 1]->dur + 1e-3)
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

static void test_perfetto(void **state)
{
	char file[] = "/tmp/vfmig-perfetto-XXXXXX", trace[64];
	char *rec[] = {fx_prof,	 "record",    "-o",   file,	"--",	  fx_emu, "migrate",
		       "--mem",	 "32m",	      "--wss", "16m",	"--rate", "8000", "--bandwidth",
		       "60",	 "--downtime", "60",   "--json", NULL};
	char *rep[] = {fx_prof, "report", "--perfetto", trace, file, NULL};
	struct json_object *truth, *doc, *evs, *devs;
	struct slice *s;
	size_t i, ns = 0;
	char *out;
	int fd;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	snprintf(trace, sizeof(trace), "%s.json", file);
	assert_int_equal(run_capture(rec, &out), 0);
	truth = json_line_with(out, "rounds");
	free(out);
	assert_non_null(truth);
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
	}
	free(s);
	json_object_put(doc);
	json_object_put(truth);
	unlink(trace);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perfetto),
	};

	return cmocka_run_group_tests(tests, fx_setup, NULL);
}
