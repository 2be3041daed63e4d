// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof as people run it: every bad input is refused with exit status 2
 * and exactly one line on stderr naming what is wrong.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "probe/host.h"

static char tool[PATH_MAX];

/* build/tests/probe/test_cli -> build/vfmigprof */
static int setup(void **state)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)state;
	if (n <= 0)
		return -1;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(tool, sizeof(tool), "%s/../../vfmigprof", self);
	return access(tool, X_OK);
}

struct out {
	char text[65536], err[4096];
	int status;
};

static void drain(int fd, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n;

	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += n;
	buf[have] = 0;
}

/* Runs vfmigprof with argv (NULL-terminated, without the program name). */
static void run_tool(char *const *args, struct out *o)
{
	char *argv[32] = {tool};
	int po[2], pe[2], status, i;
	pid_t pid;

	for (i = 0; i < 30 && args[i]; i++)
		argv[i + 1] = args[i];
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(tool, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain(pe[0], o->err, sizeof(o->err)); /* refusals are short: stderr never fills */
	drain(po[0], o->text, sizeof(o->text));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	close(po[0]);
	close(pe[0]);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_bad_inputs_one_line(void **state)
{
	static char cg_file[PATH_MAX], cg_v1[] = "/proc";
	static const struct {
		const char *args[6], *says;
	} bad[] = {
		{{"stat", "--bogus"}, "vfmigprof: unknown option '--bogus'"},
		{{"stat", "-x"}, "vfmigprof: unknown option '-x'"},
		{{"stat", "--cgroup"}, "vfmigprof: option '--cgroup' needs an argument"},
		{{"stat", "-p", "abc"}, "vfmigprof: -p 'abc' is not a process id"},
		{{"stat", "-p", "2147483646"}, "vfmigprof: -p 2147483646: no such process"},
		{{"stat", "-d", "x:y"}, "vfmigprof: -d 'x:y': use a device id or PID:FD"},
		{{"stat", "--cgroup", "/nonexistent/vfmig"},
		 "vfmigprof: cgroup /nonexistent/vfmig: no such directory"},
		{{"stat", "--cgroup", cg_v1},
		 "vfmigprof: cgroup /proc is not a cgroup v2 directory"},
		{{"stat", "--cgroup", cg_file}, "is a file, not a directory"},
		{{"frob"}, "vfmigprof: unknown command 'frob'"},
		{{"stat"}, "vfmigprof: stat needs -- PROGRAM, -p PID, --cgroup PATH or --duration"},
		{{"stat", "--duration", "0"},
		 "vfmigprof: --duration '0' is not a number of seconds"},
	};
	static struct out o;
	char mnt[PATH_MAX - 32];
	size_t i;

	(void)state;
	if (host_cgroup2_mount(mnt, sizeof(mnt)))
		snprintf(cg_file, sizeof(cg_file), "/proc/self/status");
	else
		snprintf(cg_file, sizeof(cg_file), "%s/cgroup.procs", mnt);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_tool((char *const *)bad[i].args, &o);
		if (o.status != 2 || lines(o.err) != 1 || !strstr(o.err, bad[i].says))
			fail_msg("%s %s: status %d, stderr \"%s\"", bad[i].args[0],
				 bad[i].args[1] ? bad[i].args[1] : "", o.status, o.err);
		assert_string_equal(o.text, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_inputs_one_line),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
