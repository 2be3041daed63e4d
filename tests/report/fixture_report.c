// SPDX-License-Identifier: GPL-2.0
/* What the report tests share: the tools, a recorded migration, comparing arcs with the truth. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_report.h"

char fx_prof[PATH_MAX], fx_emu[PATH_MAX];

int fx_setup(void **state)
{
	(void)state;
	return tool_path("vfmigprof", fx_prof, sizeof(fx_prof)) &&
			       tool_path("vfmig-emu", fx_emu, sizeof(fx_emu))
		       ? 0
		       : -1;
}

struct json_object *fx_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

/* Each device's arcs, in order, as vfmig-emu migrate --json lists them: from, to, result, ns. */
void fx_same_arcs(struct json_object *truth_devs, struct json_object *rep_devs)
{
	size_t i, j, n = json_object_array_length(truth_devs);

	assert_true(n > 0);
	assert_int_equal(json_object_array_length(rep_devs), n);
	for (i = 0; i < n; i++) {
		struct json_object *t = fx_get(json_object_array_get_idx(truth_devs, i), "arcs");
		struct json_object *r = fx_get(json_object_array_get_idx(rep_devs, i), "arcs");

		assert_int_equal(json_object_array_length(r), json_object_array_length(t));
		for (j = 0; j < json_object_array_length(t); j++) {
			struct json_object *a = json_object_array_get_idx(t, j);
			struct json_object *b = json_object_array_get_idx(r, j);

			assert_string_equal(json_object_get_string(fx_get(a, "from")),
					    json_object_get_string(fx_get(b, "from")));
			assert_string_equal(json_object_get_string(fx_get(a, "to")),
					    json_object_get_string(fx_get(b, "to")));
			assert_int_equal(json_object_get_int(fx_get(a, "result")),
					 json_object_get_int(fx_get(b, "result")));
			assert_int_equal(json_object_get_int64(fx_get(a, "ns")),
					 json_object_get_int64(fx_get(b, "ns")));
		}
	}
}

/* The report's migration whose source is truth's (its devices' pid). */
struct json_object *fx_migration(struct json_object *rep, struct json_object *truth)
{
	struct json_object *migs = fx_get(rep, "migrations");
	const char *id = json_object_get_string(
		fx_get(json_object_array_get_idx(fx_get(truth, "devices"), 0), "id"));
	long long pid = atoll(id);
	size_t i;

	for (i = 0; i < json_object_array_length(migs); i++) {
		struct json_object *m = json_object_array_get_idx(migs, i);

		if (json_object_get_int64(fx_get(m, "pid")) == pid)
			return m;
	}
	fail_msg("no migration of pid %lld in the report", pid);
	return NULL;
}

struct json_object *fx_record_migrate(char *file, const char *const *args)
{
	char *argv[64] = {fx_prof, "record", "-o", file, "--", fx_emu, "migrate"}, *out;
	struct json_object *truth;
	int n = 7, fd = mkstemp(file);

	assert_true(fd >= 0);
	close(fd);
	while (*args && n < 62)
		argv[n++] = (char *)*args++;
	argv[n++] = "--json";
	assert_int_equal(run_capture(argv, &out), 0);
	truth = json_line_with(out, "rounds");
	free(out);
	assert_non_null(truth);
	return truth;
}

void fx_same_rounds(struct json_object *truth, struct json_object *m)
{
	struct json_object *tr = fx_get(truth, "rounds"), *rr = fx_get(m, "rounds");
	size_t i;

	assert_true(json_object_array_length(tr) >= 2);
	assert_int_equal(json_object_array_length(rr), json_object_array_length(tr));
	for (i = 1; i < json_object_array_length(tr); i++) /* what each round's harvest found */
		assert_int_equal(
			json_object_get_int64(fx_get(
				fx_get(json_object_array_get_idx(tr, i), "dirty_pages"), "vcpu")),
			(int64_t)json_object_get_double(
				fx_get(json_object_array_get_idx(rr, i), "dirty_pages")));
}

int fx_report(const char *file, struct json_object **rep)
{
	char *argv[] = {fx_prof, "report", "--json", (char *)file, NULL}, *out;
	int status = run_capture(argv, &out);

	*rep = json_tokener_parse(out);
	free(out);
	assert_non_null(*rep);
	return status;
}

/* report FILE's stderr line and exit status. */
int fx_report_stderr(const char *file, char **err)
{
	char cmd[PATH_MAX * 3];
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};

	snprintf(cmd, sizeof(cmd), "'%s' report '%s' 2>&1 >/dev/null", fx_prof, file);
	return run_capture(argv, err);
}
