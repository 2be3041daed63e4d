// SPDX-License-Identifier: GPL-2.0
/* Two recorded migrations, before and after a tuning change (a smaller working set, a wider link). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_html.h"

char fxh_prof[PATH_MAX], fxh_emu[PATH_MAX];
struct fxh_run fxh_run[2];

struct json_object *fxh_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %.300s", key, json_object_to_json_string(o));
	return v;
}

double fxh_num(struct json_object *o, const char *key)
{
	return json_object_get_double(fxh_get(o, key));
}

int fxh_sh(const char *cmd, char **out)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

	return run_capture(argv, out);
}

int fxh_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

void fxh_near(double got, double want, const char *what)
{
	if (fabs(got - want) > 1e-9 * fabs(want) + 1e-9)
		fail_msg("%s: %.17g, want %.17g", what, got, want);
}

static int record(struct fxh_run *run, const char *wss, const char *rate, const char *bw)
{
	char *argv[] = {fxh_prof,
			"record",
			"-o",
			run->file,
			"--",
			fxh_emu,
			"migrate",
			"--mem",
			"32m",
			"--wss",
			(char *)wss,
			"--rate",
			(char *)rate,
			"--bandwidth",
			(char *)bw,
			"--downtime",
			"60",
			"--device",
			"nic:dirty=type1-pin,rate=1000",
			"--device",
			"bigmem:mem=8m,rate=100",
			"--json",
			NULL};
	char *rep_argv[] = {fxh_prof, "report", "--json", run->file, NULL}, *out;
	struct json_object *migs;
	long long pid;
	size_t i;
	int fd = mkstemp(run->file);

	if (fd < 0)
		return -1;
	close(fd);
	if (run_capture(argv, &out))
		return -1;
	run->truth = json_line_with(out, "rounds");
	free(out);
	if (!run->truth || run_capture(rep_argv, &out))
		return -1;
	run->rep = json_tokener_parse(out);
	free(out);
	if (!run->rep || !json_object_object_get_ex(run->rep, "migrations", &migs))
		return -1;
	pid = atoll(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(json_object_object_get(run->truth, "devices"), 0),
		"id")));
	for (i = 0; i < json_object_array_length(migs); i++)
		if (json_object_get_int64(json_object_object_get(json_object_array_get_idx(migs, i),
								 "pid")) == pid)
			run->mig = json_object_array_get_idx(migs, i);
	return run->mig ? 0 : -1;
}

int fxh_setup(void **state)
{
	(void)state;
	if (geteuid()) {
		fprintf(stderr, "recording a migration needs root (BPF)\n");
		return -1;
	}
	if (!tool_path("vfmigprof", fxh_prof, sizeof(fxh_prof)) ||
	    !tool_path("vfmig-emu", fxh_emu, sizeof(fxh_emu)))
		return -1;
	snprintf(fxh_run[0].file, sizeof(fxh_run[0].file), "/tmp/vfmig-html-a-XXXXXX");
	snprintf(fxh_run[1].file, sizeof(fxh_run[1].file), "/tmp/vfmig-html-b-XXXXXX");
	if (record(&fxh_run[0], "16m", "8000", "60") || record(&fxh_run[1], "8m", "4000", "120")) {
		fprintf(stderr, "recording the two migrations failed\n");
		return -1;
	}
	return 0;
}

int fxh_teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		unlink(fxh_run[i].file);
		json_object_put(fxh_run[i].truth);
		json_object_put(fxh_run[i].rep);
	}
	return 0;
}
