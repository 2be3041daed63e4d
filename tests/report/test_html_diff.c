// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof report --diff of two real recorded migrations (before and after
 * a tuning change): each figure's before and after are each file's --json
 * (rounds, as many as vfmig-emu migrate ran, total, downtime and its parts,
 * bytes, the mean dirty rate, every device's arc latencies on both ends),
 * the change their difference. A missing file or a damaged header: one line,
 * exit 1; a file cut short: the diff, one line naming the offset, exit 3.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_html.h"

static struct json_object *row(struct json_object *rows, const char *figure)
{
	size_t i;

	for (i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		if (!strcmp(json_object_get_string(fxh_get(r, "figure")), figure))
			return r;
	}
	fail_msg("no row \"%s\" in the diff", figure);
	return NULL;
}

static void same(struct json_object *rows, const char *figure, double before, double after)
{
	struct json_object *r = row(rows, figure);

	fxh_near(fxh_num(r, "before"), before, figure);
	fxh_near(fxh_num(r, "after"), after, figure);
	fxh_near(fxh_num(r, "change"), after - before, figure);
}

static double mean(struct json_object *rep, const char *list, const char *key)
{
	struct json_object *l = fxh_get(rep, list);
	size_t i, n = json_object_array_length(l);
	double s = 0;

	for (i = 0; i < n; i++)
		s += fxh_num(json_object_array_get_idx(l, i), key);
	return n ? s / (double)n : 0;
}

/* Each arc each device ran first: its ns in the two files. */
static void same_arcs(struct json_object *rows, const char *end, struct json_object *da,
		      struct json_object *db)
{
	size_t i, j;
	char fig[160];

	assert_true(json_object_array_length(da) > 0);
	for (i = 0; i < json_object_array_length(da); i++) {
		struct json_object *d = json_object_array_get_idx(da, i);
		struct json_object *aa = fxh_get(d, "arcs");
		struct json_object *ab = fxh_get(json_object_array_get_idx(db, i), "arcs");

		assert_int_equal(json_object_array_length(aa), json_object_array_length(ab));
		for (j = 0; j < json_object_array_length(aa); j++) {
			struct json_object *a = json_object_array_get_idx(aa, j);

			snprintf(fig, sizeof(fig), "%s %s%zu %s->%s ns", end,
				 json_object_get_string(fxh_get(d, "variant")), i,
				 json_object_get_string(fxh_get(a, "from")),
				 json_object_get_string(fxh_get(a, "to")));
			same(rows, fig, fxh_num(a, "ns"),
			     fxh_num(json_object_array_get_idx(ab, j), "ns"));
		}
	}
}

static void test_diff(void **state)
{
	struct json_object *a = fxh_run[0].mig, *b = fxh_run[1].mig, *d, *rows, *pa;
	char cmd[PATH_MAX * 3], fig[96], *out;
	static const char *const plain[] = {"total_ms",	    "downtime_ms", "precopy_ms",
					    "stop_copy_ms", "final_pages", "final_device_bytes"};
	size_t i;

	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' report --json --diff '%s' '%s'", fxh_prof, fxh_run[1].file,
		 fxh_run[0].file);
	assert_int_equal(fxh_sh(cmd, &out), 0);
	d = json_tokener_parse(out);
	free(out);
	assert_non_null(d);
	rows = json_object_array_get_idx(fxh_get(d, "migrations"), 0);
	assert_non_null(rows);
	/* the rounds each ran, as migrate counted them */
	same(rows, "rounds", (double)json_object_array_length(fxh_get(fxh_run[0].truth, "rounds")),
	     (double)json_object_array_length(fxh_get(fxh_run[1].truth, "rounds")));
	for (i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		same(rows, plain[i], fxh_num(a, plain[i]), fxh_num(b, plain[i]));
	pa = fxh_get(a, "downtime_parts_ms");
	json_object_object_foreach(pa, key, val)
	{
		snprintf(fig, sizeof(fig), "downtime_parts_ms.%s", key);
		same(rows, fig, json_object_get_double(val),
		     fxh_num(fxh_get(b, "downtime_parts_ms"), key));
	}
	same_arcs(rows, "source", fxh_get(a, "devices"), fxh_get(b, "devices"));
	same_arcs(rows, "destination", fxh_get(fxh_get(a, "destination"), "devices"),
		  fxh_get(fxh_get(b, "destination"), "devices"));
	rows = fxh_get(d, "recording");
	same(rows, "dirty_rate.vcpu_faults_per_s (mean)",
	     mean(fxh_run[0].rep, "dirty_rate", "vcpu_faults_per_s"),
	     mean(fxh_run[1].rep, "dirty_rate", "vcpu_faults_per_s"));
	same(rows, "harvest_windows_rate.pages_per_s (mean)",
	     mean(fxh_run[0].rep, "harvest_windows_rate", "pages_per_s"),
	     mean(fxh_run[1].rep, "harvest_windows_rate", "pages_per_s"));
	json_object_put(d);
	/* the text form: a row per figure with both values */
	snprintf(cmd, sizeof(cmd), "'%s' report --diff '%s' '%s'", fxh_prof, fxh_run[1].file,
		 fxh_run[0].file);
	assert_int_equal(fxh_sh(cmd, &out), 0);
	assert_non_null(strstr(out, "downtime_parts_ms.stop_copy"));
	assert_non_null(strstr(out, "source nic0 RUNNING->RUNNING_P2P ns"));
	free(out);
}

static void copy_cut(const char *from, const char *to, long keep, long flip)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	long n = 0;
	int c;

	assert_non_null(in);
	assert_non_null(out);
	while ((c = fgetc(in)) != EOF && n < keep) {
		fputc(n == flip ? c ^ 0xff : c, out);
		n++;
	}
	fclose(in);
	fclose(out);
}

static void test_bad_input(void **state)
{
	char cmd[PATH_MAX * 3], to[96], *out;
	FILE *f = fopen(fxh_run[1].file, "rb");
	long size;

	(void)state;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' report --diff /nonexistent.rec '%s' 2>&1", fxh_prof,
		 fxh_run[0].file);
	assert_int_equal(fxh_sh(cmd, &out), 1);
	assert_int_equal(fxh_lines(out), 1);
	assert_non_null(strstr(out, "/nonexistent.rec"));
	free(out);
	snprintf(to, sizeof(to), "%s.bad", fxh_run[1].file);
	copy_cut(fxh_run[1].file, to, size, 20); /* a flipped byte in the header */
	snprintf(cmd, sizeof(cmd), "'%s' report --diff '%s' '%s' 2>&1 >/dev/null", fxh_prof, to,
		 fxh_run[0].file);
	assert_int_equal(fxh_sh(cmd, &out), 1);
	assert_int_equal(fxh_lines(out), 1);
	assert_non_null(strstr(out, "damaged header"));
	free(out);
	copy_cut(fxh_run[1].file, to, size - 10, -1); /* in the last block (the header is ~14k) */
	snprintf(cmd, sizeof(cmd), "'%s' report --diff '%s' '%s' 2>&1 >/dev/null", fxh_prof,
		 fxh_run[0].file, to);
	assert_int_equal(fxh_sh(cmd, &out), 3);
	assert_int_equal(fxh_lines(out), 1);
	assert_non_null(strstr(out, "cut short at offset"));
	free(out);
	unlink(to);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, fxh_setup, fxh_teardown);
}
