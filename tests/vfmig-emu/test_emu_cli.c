// SPDX-License-Identifier: GPL-2.0
/*
 * vfmig-emu's bad input: one line naming what is wrong, exit 2, and nothing
 * run; predict and tune refuse exactly what migrate would (one parser, one
 * check of the VM's configuration), and answer a good configuration.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char emu[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return tool_path("vfmig-emu", emu, sizeof(emu)) ? 0 : -1;
}

/* The whole of stderr and the exit status of "vfmig-emu ARGS". */
static int run_err(const char *args, char *out, size_t len)
{
	char cmd[1024];
	size_t n;
	FILE *f;
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1 >/dev/null", emu, args);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = 0;
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_bad_input_one_line(void **state)
{
	static const struct {
		const char *args, *says;
	} cases[] = {
		{"predict --mem 0", "--mem '0'"},
		{"predict --rate -1", "--rate '-1'"},
		{"predict --bandwidth x", "--bandwidth 'x'"},
		{"predict --downtime 0", "--downtime '0'"},
		{"predict --rounds 0", "--rounds '0'"},
		{"predict --device foo", "unknown variant 'foo'"},
		{"predict --device nic:dirty=sometimes", "dirty=sometimes: use none"},
		{"predict --device bigmem:dirty=dma-log", "does no DMA"},
		{"predict --mem 64m --wss 1g", "exceeds the guest RAM"},
		{"tune --pattern zig", "--pattern 'zig'"},
		{"tune --hot-share 2", "--hot-share '2'"},
		{"predict --bogus", "unknown option '--bogus'"},
		{"predict -x", "unknown option '-x'"},
		{"predict --mem", "option '--mem' needs an argument"},
		{"frob", "unknown command 'frob'"},
		{"", "no command given"},
	};
	char out[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = run_err(cases[i].args, out, sizeof(out));

		printf("%s -> %d %s", cases[i].args, status, out);
		assert_int_equal(status, 2);
		assert_non_null(strstr(out, cases[i].says));
		assert_true(!strncmp(out, "vfmig-emu: ", 11));
		assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
	}
}

/* What migrate refuses, predict refuses the same way: one parser. */
static void test_predict_refuses_what_migrate_refuses(void **state)
{
	char a[512], b[512];

	(void)state;
	assert_int_equal(run_err("predict --mem 64m --wss 1g", a, sizeof(a)), 2);
	assert_int_equal(run_err("migrate --mem 64m --wss 1g", b, sizeof(b)), 2);
	assert_string_equal(a, b);
	assert_int_equal(run_err("tune --device foo", a, sizeof(a)), 2);
	assert_int_equal(run_err("migrate --device foo", b, sizeof(b)), 2);
	assert_string_equal(a, b);
}

static void test_good_configuration_answers(void **state)
{
	char *argv[] = {emu, "predict", "--json", "--mem", "64m", "--wss", "16m", NULL}, *out;
	struct json_object *j;

	(void)state;
	assert_int_equal(run_capture(argv, &out), 0);
	j = json_line_with(out, "converged");
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "version", NULL));
	json_object_put(j);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_one_line),
		cmocka_unit_test(test_predict_refuses_what_migrate_refuses),
		cmocka_unit_test(test_good_configuration_answers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
