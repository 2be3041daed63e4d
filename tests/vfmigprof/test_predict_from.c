// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof predict --from FILE: a recording of a real emulated migration
 * predicts that migration (its verdict, its bytes within 20%: the figures of
 * vfmig-emu migrate --json of the same run); what is not a recording gets one
 * line and exit 1.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char emu[PATH_MAX], prof[PATH_MAX], file[] = "/tmp/vfmig-test-from-XXXXXX";

static int setup(void **state)
{
	int fd;

	(void)state;
	fd = mkstemp(file);
	if (fd < 0)
		return -1;
	close(fd);
	return tool_path("vfmig-emu", emu, sizeof(emu)) &&
			       tool_path("vfmigprof", prof, sizeof(prof))
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	return 0;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void check(const char *const *vm, bool converges)
{
	char *argv[40] = {prof, "record", "-o", file, "--", emu, "migrate", "--json"}, *out;
	char *pred[] = {prof, "predict", "--json", "--from", file, NULL};
	struct json_object *m, *p;
	int n = 8;
	double pb, mb;

	while (*vm)
		argv[n++] = (char *)*vm++;
	argv[n] = NULL;
	assert_int_equal(run_capture(argv, &out), 0);
	m = json_line_with(out, "converged");
	assert_non_null(m);
	free(out);
	assert_int_equal(run_capture(pred, &out), 0);
	p = json_line_with(out, "converged");
	assert_non_null(p);
	free(out);
	pb = json_object_get_double(member(p, "bytes"));
	mb = json_object_get_double(member(m, "bytes"));
	printf("%s: predicted %s %.1f MB, migrated %s %.1f MB\n",
	       json_object_get_string(member(p, "source")),
	       json_object_get_boolean(member(p, "converged")) ? "yes" : "no", pb / 1e6,
	       json_object_get_boolean(member(m, "converged")) ? "yes" : "no", mb / 1e6);
	assert_int_equal(json_object_get_boolean(member(m, "converged")), converges);
	assert_int_equal(json_object_get_boolean(member(p, "converged")), converges);
	assert_true(fabs(pb - mb) <= 0.2 * mb);
	assert_non_null(strstr(json_object_get_string(member(p, "source")),
			       "recording /tmp/vfmig-test-from-"));
	json_object_put(m);
	json_object_put(p);
}

static void test_recorded_migration_converging(void **state)
{
	const char *vm[] = {"--mem",	   "64m",  "--wss",	 "16m",
			    "--rate",	   "3000", "--device",	 "nic:dirty=type1-pin,rate=2000",
			    "--bandwidth", "100",  "--downtime", "30",
			    NULL};

	(void)state;
	check(vm, true);
}

static void test_recorded_migration_blind_iommu(void **state)
{
	const char *vm[] = {"--mem",	   "64m", "--wss",	"8m",
			    "--rate",	   "500", "--device",	"nic:dirty=type1-iommu,rate=500",
			    "--bandwidth", "200", "--downtime", "50",
			    "--rounds",	   "3",	  NULL};

	(void)state;
	check(vm, false);
}

static void test_not_a_recording(void **state)
{
	char *missing[] = {prof, "predict", "--from", "/nonexistent/rec.vfmig", NULL};
	char *text[] = {prof, "predict", "--from", "/etc/hostname", NULL};
	char *two[] = {prof, "predict", "--from", file, "-p", "1", NULL};
	char line[512];

	(void)state;
	assert_int_equal(run_stderr_line(missing, line, sizeof(line)), 1);
	printf("%s", line);
	assert_non_null(strstr(line, "/nonexistent/rec.vfmig"));
	assert_int_equal(run_stderr_line(text, line, sizeof(line)), 1);
	printf("%s", line);
	assert_non_null(strstr(line, "vfmigprof: "));
	assert_int_equal(run_stderr_line(two, line, sizeof(line)), 2);
	assert_non_null(strstr(line, "one source"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_migration_converging),
		cmocka_unit_test(test_recorded_migration_blind_iommu),
		cmocka_unit_test(test_not_a_recording),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
