// SPDX-License-Identifier: GPL-2.0
/*
 * A VM whose only device has no PRE_COPY: the device leaves RUNNING only at
 * stop-copy, yet RAM's pre-copy ran since dirty tracking began. The report
 * starts the migration there, so its rounds and each round's dirty pages are
 * those vfmig-emu migrate --json of the same run lists, and its total time
 * falls within migrate's own (which also counts the connection and the end).
 */
#include <stdlib.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "report/fixture_report.h"

static void test_rounds_without_precopy_device(void **state)
{
	static const char *const args[] = {
		"--mem",      "32m",  "--wss",	     "16m",
		"--rate",     "8000", "--bandwidth", "60",
		"--downtime", "60",   "--device",    "nic:dirty=type1-pin,rate=1000",
		NULL};
	char file[] = "/tmp/vfmig-report-nic-XXXXXX";
	struct json_object *truth, *rep, *m;
	double total_t, total_r;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	truth = fx_record_migrate(file, args);
	assert_int_equal(fx_report(file, &rep), 0);
	m = fx_migration(rep, truth);
	fx_same_rounds(truth, m);
	total_t = json_object_get_double(fx_get(truth, "total_ms"));
	total_r = json_object_get_double(fx_get(m, "total_ms"));
	if (total_r > total_t || total_r < 0.5 * total_t)
		fail_msg("total %.3f ms in the report, %.3f ms measured by migrate", total_r,
			 total_t);
	fx_same_arcs(fx_get(truth, "devices"), fx_get(m, "devices"));
	json_object_put(rep);
	json_object_put(truth);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounds_without_precopy_device),
	};

	return cmocka_run_group_tests(tests, fx_setup, NULL);
}
