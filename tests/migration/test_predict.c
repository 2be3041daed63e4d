// SPDX-License-Identifier: GPL-2.0
/*
 * vfmig-emu predict against vfmig-emu migrate run for real with the same
 * options: the verdict right and the bytes within 20% (accuracy proper is
 * make score's); predict answers without forking and prints migrate's keys.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char emu[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return tool_path("vfmig-emu", emu, sizeof(emu)) ? 0 : -1;
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_double(v);
}

static bool yes(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_boolean(v);
}

/* Runs verb with the scenario's options; the JSON document it printed. */
static struct json_object *run(const char *verb, const char *const *opts)
{
	char *argv[40] = {emu, (char *)verb}, *out;
	struct json_object *doc;
	int n = 2;

	while (*opts && n < 37)
		argv[n++] = (char *)*opts++;
	argv[n++] = "--json";
	argv[n] = NULL;
	assert_int_equal(run_capture(argv, &out), 0);
	doc = json_line_with(out, "converged");
	assert_non_null(doc);
	free(out);
	return doc;
}

/*
 * Whether the tuner's recommendations hold for real (B converges, 0.8 B does not) is make
 * score's to measure: how fast the vCPU writers really write depends on what else the
 * machine runs, and a timed unit test would pass or fail with it.
 */

/* Every key of a round of migrate --json is in a predicted round too (dirty pages by source). */
static void same_round_keys(struct json_object *p, struct json_object *m)
{
	struct json_object *pr, *mr, *pd, *md;

	assert_true(json_object_object_get_ex(p, "rounds", &pr));
	assert_true(json_object_object_get_ex(m, "rounds", &mr));
	pr = json_object_array_get_idx(pr, 1);
	mr = json_object_array_get_idx(mr, 1);
	if (!pr || !mr)
		return;
	json_object_object_foreach(mr, key, val)
	{
		(void)val;
		assert_true(json_object_object_get_ex(pr, key, NULL));
	}
	json_object_object_get_ex(pr, "dirty_pages", &pd);
	json_object_object_get_ex(mr, "dirty_pages", &md);
	json_object_object_foreach(pd, src, n)
	{
		(void)n;
		assert_true(json_object_object_get_ex(md, src, NULL));
	}
}

static void check(const char *const *opts, bool converges)
{
	struct json_object *p = run("predict", opts), *m = run("migrate", opts);
	double pb = num(p, "bytes"), mb = num(m, "bytes");

	printf("predicted %s, %.1f MB; measured %s, %.1f MB\n", yes(p, "converged") ? "yes" : "no",
	       pb / 1e6, yes(m, "converged") ? "yes" : "no", mb / 1e6);
	assert_int_equal(yes(p, "converged"), converges);
	assert_int_equal(yes(m, "converged"), converges);
	assert_true(fabs(pb - mb) <= 0.2 * mb);
	same_round_keys(p, m);
	json_object_put(p);
	json_object_put(m);
}

static void test_converging_two_rounds(void **state)
{
	const char *opts[] = {"--mem",	     "64m",  "--wss",	   "16m",
			      "--rate",	     "4000", "--device",   "nic:dirty=type1-pin,rate=2000",
			      "--bandwidth", "100",  "--downtime", "20",
			      NULL};

	(void)state;
	check(opts, true);
}

static void test_device_memory_converging(void **state)
{
	const char *opts[] = {"--mem",	     "64m",  "--wss",	   "8m",
			      "--rate",	     "1000", "--device",   "bigmem:mem=16m,rate=200",
			      "--bandwidth", "150",  "--downtime", "40",
			      NULL};

	(void)state;
	check(opts, true);
}

/* An IOMMU type1 cannot see: all of RAM dirty every round, over bandwidth x limit. */
static void test_iommu_blind_never_converges(void **state)
{
	const char *opts[] = {"--mem",	     "64m", "--wss",	  "8m",
			      "--rate",	     "500", "--device",	  "nic:dirty=type1-iommu,rate=500",
			      "--bandwidth", "200", "--downtime", "50",
			      "--rounds",    "3",   NULL};

	(void)state;
	check(opts, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converging_two_rounds),
		cmocka_unit_test(test_device_memory_converging),
		cmocka_unit_test(test_iommu_blind_never_converges),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
