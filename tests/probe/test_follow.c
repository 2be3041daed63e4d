// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof stat -- PROGRAM follows the processes PROGRAM forks, as perf stat
 * does: a migration forks its destination, and both ends' FSM steps are
 * counted; with --no-inherit only the source's. The truth is each device's
 * own step log, which vfmig-emu migrate --json lists for both ends.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char prof[PATH_MAX], emu[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return tool_path("vfmigprof", prof, sizeof(prof)) &&
			       tool_path("vfmig-emu", emu, sizeof(emu))
		       ? 0
		       : -1;
}

static long long arcs_of(struct json_object *doc, const char *end)
{
	struct json_object *v = doc, *devs;
	long long n = 0;

	if (end)
		assert_true(json_object_object_get_ex(doc, end, &v));
	assert_true(json_object_object_get_ex(v, "devices", &devs));
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *arcs;

		assert_true(json_object_object_get_ex(json_object_array_get_idx(devs, i), "arcs",
						      &arcs));
		n += json_object_array_length(arcs);
	}
	return n;
}

/* Runs stat around one migration; the FSM steps it counted and the arcs both ends logged. */
static void stat_migration(bool inherit, long long *steps, long long *src, long long *dst)
{
	char *argv[] = {prof,
			"stat",
			"--json",
			inherit ? "--json" : "--no-inherit",
			"--",
			emu,
			"migrate",
			"--mem",
			"32m",
			"--wss",
			"8m",
			"--rate",
			"1000",
			"--device",
			"nic:dirty=type1-pin,rate=1000",
			"--bandwidth",
			"400",
			"--json",
			NULL};
	struct json_object *mig, *stat;
	char *out;

	assert_int_equal(run_capture(argv, &out), 0);
	mig = json_line_with(out, "rounds");
	stat = json_line_with(out, "counters");
	assert_non_null(mig);
	assert_non_null(stat);
	*steps = json_path_int(stat, "counters", "fsm_steps");
	*src = arcs_of(mig, NULL);
	*dst = arcs_of(mig, "destination");
	json_object_put(mig);
	json_object_put(stat);
	free(out);
}

static void test_children_followed(void **state)
{
	long long steps, src, dst;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	stat_migration(true, &steps, &src, &dst);
	assert_true(src > 0 && dst > 0);
	assert_int_equal(steps, src + dst);
}

static void test_no_inherit(void **state)
{
	long long steps, src, dst;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	stat_migration(false, &steps, &src, &dst);
	assert_true(dst > 0);
	assert_int_equal(steps, src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_children_followed),
		cmocka_unit_test(test_no_inherit),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
