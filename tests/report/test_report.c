// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof record around a real emulated migration, then vfmigprof report:
 * the rounds, the dirty pages each round opened with, the downtime and
 * every device's arcs on both ends, rebuilt from the probes' events, are
 * those vfmig-emu migrate --json of the same run lists. A damaged copy of
 * the file gives exit 3 with the offset, a damaged header 1.
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

static char file[] = "/tmp/vfmig-report-XXXXXX";

static void record_migration(struct json_object **truth)
{
	char *argv[] = {fx_prof,    "record",  "-o",	  file,	    "--",      fx_emu,
			"migrate",  "--mem",   "32m",	  "--wss",  "16m",     "--rate",
			"8000",     "--bandwidth", "60", "--downtime", "60",  "--device", "nic:dirty=type1-pin,rate=1000",
			"--device", "bigmem:mem=8m,rate=100", "--json", NULL};
	char *out;

	assert_int_equal(run_capture(argv, &out), 0);
	*truth = json_line_with(out, "rounds");
	free(out);
	assert_non_null(*truth);
}

static void test_round_trip(void **state)
{
	struct json_object *truth, *rep, *m, *tr, *rr;
	double dt, dr;
	size_t i;
	int fd;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	record_migration(&truth);
	assert_int_equal(fx_report(file, &rep), 0);
	assert_int_equal(json_object_get_int(fx_get(rep, "version")), 1);
	assert_true(json_object_get_boolean(fx_get(fx_get(rep, "file"), "closed")));
	m = fx_migration(rep, truth);
	tr = fx_get(truth, "rounds");
	rr = fx_get(m, "rounds");
	assert_true(json_object_array_length(tr) >= 2);
	assert_int_equal(json_object_array_length(rr), json_object_array_length(tr));
	for (i = 1; i < json_object_array_length(tr); i++) /* what each round's harvest found */
		assert_int_equal(json_object_get_int64(fx_get(
					 fx_get(json_object_array_get_idx(tr, i), "dirty_pages"),
					 "vcpu")),
				 (int64_t)json_object_get_double(
					 fx_get(json_object_array_get_idx(rr, i), "dirty_pages")));
	assert_int_equal(json_object_get_int64(fx_get(m, "final_device_bytes")),
			 json_object_get_int64(fx_get(truth, "final_device_bytes")));
	/* the pause itself (vCPUs stopping) is before the first stop request: not seen */
	dt = json_object_get_double(fx_get(truth, "downtime_ms"));
	dr = json_object_get_double(fx_get(m, "downtime_ms"));
	if (fabs(dt - dr) > 0.1 * dt + 3)
		fail_msg("downtime %.3f ms in the report, %.3f ms measured by migrate", dr, dt);
	fx_same_arcs(fx_get(truth, "devices"), fx_get(m, "devices"));
	fx_same_arcs(fx_get(fx_get(truth, "destination"), "devices"),
		     fx_get(fx_get(m, "destination"), "devices"));
	assert_true(json_object_get_boolean(fx_get(fx_get(m, "prediction"), "made")));
	json_object_put(truth);
	json_object_put(rep);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged_copies),
	};

	return cmocka_run_group_tests(tests, fx_setup, NULL);
}
