// SPDX-License-Identifier: GPL-2.0
/*
 * vfmig-emu migrate --json lists each device's arcs from its own step log, on
 * both ends; the truth is the path the VFIO uAPI makes a driver take: a
 * source device without PRE_COPY goes RUNNING -> RUNNING_P2P -> STOP ->
 * STOP_COPY -> STOP, one with it through PRE_COPY first; a destination
 * device RUNNING -> ... -> RESUMING -> STOP -> ... -> RUNNING. Every JSON
 * document vfmig-emu prints carries "version".
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "vfmig/version.h"

static char emu[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return tool_path("vfmig-emu", emu, sizeof(emu)) ? 0 : -1;
}

/* "FROM>TO,FROM>TO" of a device's arcs, and their starts in order with every result 0. */
static void arcs_path(struct json_object *dev, char *out, size_t len)
{
	struct json_object *arcs, *a, *v;
	long long last = 0, start;
	size_t i, n, at = 0;

	out[0] = 0;
	assert_true(json_object_object_get_ex(dev, "arcs", &arcs));
	n = json_object_array_length(arcs);
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(arcs, i);
		assert_int_equal(json_path_int(a, "result", NULL), 0);
		start = json_path_int(a, "start_ns", NULL);
		assert_true(start >= last);
		last = start;
		json_object_object_get_ex(a, "from", &v);
		at += snprintf(out + at, len - at, "%s%s>", i ? "," : "",
			       json_object_get_string(v));
		json_object_object_get_ex(a, "to", &v);
		at += snprintf(out + at, len - at, "%s", json_object_get_string(v));
	}
}

static struct json_object *device(struct json_object *doc, const char *end, int i)
{
	struct json_object *v = doc;

	if (end)
		assert_true(json_object_object_get_ex(doc, end, &v));
	assert_true(json_object_object_get_ex(v, "devices", &v));
	return json_object_array_get_idx(v, i);
}

static void test_both_ends_arcs(void **state)
{
	char *argv[] = {emu,	       "migrate",
			"--mem",       "32m",
			"--wss",       "8m",
			"--rate",      "1000",
			"--device",    "nic:dirty=type1-pin,rate=1000",
			"--device",    "bigmem:mem=4m,rate=50",
			"--bandwidth", "400",
			"--json",      NULL};
	char path[1024], *out;
	struct json_object *doc;
	struct json_object *v;

	(void)state;
	assert_int_equal(run_capture(argv, &out), 0);
	doc = json_line_with(out, "rounds");
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "version", &v));
	assert_string_equal(json_object_get_string(v), VFMIG_VERSION);
	arcs_path(device(doc, NULL, 0), path, sizeof(path));
	assert_string_equal(path,
			    "RUNNING>RUNNING_P2P,RUNNING_P2P>STOP,STOP>STOP_COPY,STOP_COPY>STOP");
	arcs_path(device(doc, NULL, 1), path, sizeof(path));
	assert_string_equal(path, "RUNNING>PRE_COPY,PRE_COPY>PRE_COPY_P2P,PRE_COPY_P2P>STOP_COPY,"
				  "STOP_COPY>STOP");
	for (int i = 0; i < 2; i++) {
		arcs_path(device(doc, "destination", i), path, sizeof(path));
		assert_string_equal(path, "RUNNING>RUNNING_P2P,RUNNING_P2P>STOP,STOP>RESUMING,"
					  "RESUMING>STOP,STOP>RUNNING_P2P,RUNNING_P2P>RUNNING");
	}
	json_object_put(doc);
	free(out);
}

/* fsm, save and resume too; incoming's is in the migration above (same writer as migrate). */
static void test_version_everywhere(void **state)
{
	char file[] = "/tmp/vfmig-arcs-XXXXXX";
	char *fsm[] = {emu, "fsm", "RUNNING", "STOP", "--json", NULL};
	char *save[] = {emu, "save", "-m", "nic", "-o", file, "--json", NULL};
	char *resume[] = {emu, "resume", "-m", "nic", "-i", file, "--json", NULL};
	char *const *cmds[] = {fsm, save, resume};
	struct json_object *doc;
	char *out;
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(run_capture(cmds[i], &out), 0);
		doc = json_line_with(out, "version");
		assert_non_null(doc);
		json_object_put(doc);
		free(out);
	}
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ends_arcs),
		cmocka_unit_test(test_version_everywhere),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
