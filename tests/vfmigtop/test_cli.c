// SPDX-License-Identifier: GPL-2.0
/* vfmigtop's bad input: one line on stderr naming what is wrong, exit status 2. */
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char top[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return tool_path("vfmigtop", top, sizeof(top)) ? 0 : -1;
}

/* Runs vfmigtop with args (as user nobody if asked); its exit status, and its stderr into err. */
static int run_as(bool nobody, const char *bin, char *const *args, char *err, size_t len)
{
	char *argv[16] = {(char *)bin};
	int fds[2], status, i;
	ssize_t n, got = 0;
	pid_t pid;

	for (i = 0; i < 14 && args[i]; i++)
		argv[i + 1] = args[i];
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(fds[1], 2);
		close(fds[0]);
		if (nobody && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(126);
		execv(bin, argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], err + got, len - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_err(char *const *args, char *err, size_t len)
{
	return run_as(false, top, args, err, len);
}

static void expect_usage(char *const *args, const char *names)
{
	char err[1024];

	assert_int_equal(run_err(args, err, sizeof(err)), 2);
	assert_non_null(strstr(err, names));
	assert_non_null(strstr(err, "vfmigtop: "));
	assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
}

static void test_bad_options(void **state)
{
	(void)state;
	expect_usage((char *[]){"--frobnicate", NULL}, "unknown option '--frobnicate'");
	expect_usage((char *[]){"-x", NULL}, "unknown option '-x'");
	expect_usage((char *[]){"-b", "-i", NULL}, "option '-i' needs an argument");
	expect_usage((char *[]){"-b", "-i", "0", NULL}, "-i '0' is not an interval");
	expect_usage((char *[]){"-b", "-i", "1s", NULL}, "-i '1s' is not an interval");
	expect_usage((char *[]){"-b", "-n", "-3", NULL}, "-n '-3' is not a number");
	expect_usage((char *[]){"-b", "-d", "eth0", NULL}, "-d 'eth0'");
	expect_usage((char *[]){"-b", "-f", "(", NULL}, "-f '(' is not a regular expression");
	expect_usage((char *[]){"-b", "--emulate=99", NULL}, "--emulate '99'");
	expect_usage((char *[]){"-b", "--cgroup", "/nonexistent", NULL}, "--cgroup /nonexistent");
}

static void test_pid_that_is_gone(void **state)
{
	char pid[16];
	pid_t child = fork();

	(void)state;
	if (!child)
		_exit(0);
	waitpid(child, NULL, 0); /* reaped: that pid is no process now */
	snprintf(pid, sizeof(pid), "%d", child);
	expect_usage((char *[]){"-b", "-p", pid, NULL}, "no such process");
}

/*
 * Without CAP_BPF and CAP_PERFMON: one line naming them, exit 1. The binary
 * is copied where user nobody may run it (the checkout may be private).
 */
static void test_no_privileges(void **state)
{
	char dir[] = "/tmp/vfmigtop-nobody-XXXXXX", bin[PATH_MAX], cmd[PATH_MAX * 2 + 16],
	     err[1024];

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root to drop to user nobody");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(bin, sizeof(bin), "%s/vfmigtop", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", top, bin);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(bin, 0755), 0);
	assert_int_equal(run_as(true, bin, (char *[]){"-b", "-n", "1", NULL}, err, sizeof(err)), 1);
	assert_string_equal(err, "vfmigtop: needs CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN for "
				 "tracefs): run as root\n");
	unlink(bin);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_pid_that_is_gone),
		cmocka_unit_test(test_no_privileges),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
