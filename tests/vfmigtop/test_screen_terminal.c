// SPDX-License-Identifier: GPL-2.0
/*
 * A terminal the full screen cannot use: TERM=dumb (no cursor addressing),
 * or stdin not a terminal. One line naming it, exit status 1, nothing loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "vfmigtop/fixture_screen.h"

static int setup(void **state)
{
	(void)state;
	return screen_setup() ? 0 : -1;
}

static void expect_refused(const char *how, const char *names)
{
	char body[1024], err[64], line[512] = "";
	FILE *f;
	char *s;

	snprintf(err, sizeof(err), "/tmp/vfmigtop-test-err-%d", getpid());
	snprintf(body, sizeof(body), "%s 2>%s", how, err);
	screen_start(120, 30, body);
	s = screen_wait("END", 20);
	assert_non_null(s);
	assert_non_null(strstr(s, "EXITED 1"));
	free(s);
	screen_stop();
	f = fopen(err, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, names));
	assert_null(fgets(line, sizeof(line), f)); /* one line */
	fclose(f);
	unlink(err);
}

static void test_dumb_terminal(void **state)
{
	char how[512];

	(void)state;
	snprintf(how, sizeof(how), "TERM=dumb %s", top_bin);
	expect_refused(how, "vfmigtop: terminal 'dumb' cannot address the cursor: use -b");
}

static void test_no_tty(void **state)
{
	char how[512];

	(void)state;
	snprintf(how, sizeof(how), "%s </dev/null", top_bin);
	expect_refused(how, "vfmigtop: the full screen needs a terminal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dumb_terminal),
		cmocka_unit_test(test_no_tty),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
