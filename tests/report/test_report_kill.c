// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof record killed by SIGKILL after a migration it watched: the file
 * was never closed, so report exits 3 naming the offset, and every event
 * older than the last whole block is there: the migration ended over a
 * second before the kill (a block goes out at least every second), so each
 * device's arcs on both ends, as vfmig-emu migrate --json of the same run
 * lists them, are all in the report.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_report.h"

static char file[] = "/tmp/vfmig-kill-XXXXXX", out[64];

/* record -b EMU -o FILE -- sh -c 'EMU migrate ... > OUT; sleep 30', in its own group. */
static pid_t start_recording(void)
{
	static char script[4096];
	pid_t pid;

	snprintf(script, sizeof(script),
		 "'%s' migrate --mem 32m --wss 8m --rate 5000 --json > '%s.tmp' && "
		 "mv '%s.tmp' '%s'; exec sleep 30",
		 fx_emu, out, out, out);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		setpgid(0, 0);
		execl(fx_prof, fx_prof, "record", "-b", fx_emu, "-o", file, "--", "/bin/sh", "-c",
		      script, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

static char *wait_for(const char *path, int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			char *buf = calloc(1, 1 << 20);

			if (fread(buf, 1, (1 << 20) - 1, f)) {
				fclose(f);
				return buf;
			}
			free(buf);
			fclose(f);
		}
		usleep(100000);
	}
	return NULL;
}

static void test_sigkill_keeps_whole_blocks(void **state)
{
	struct json_object *truth, *rep, *m;
	char *text, *err;
	pid_t pid;
	int fd, status;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	snprintf(out, sizeof(out), "%s.json", file);
	pid = start_recording();
	text = wait_for(out, 60);
	if (!text) {
		kill(-pid, SIGKILL);
		fail_msg("the migration under record did not finish");
	}
	sleep(2); /* past the writer's second: the migration's events are in a whole block */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	kill(-pid, SIGKILL); /* sh and sleep */
	truth = json_tokener_parse(text);
	free(text);
	assert_non_null(truth);

	assert_int_equal(fx_report_stderr(file, &err), 3);
	assert_non_null(strstr(err, "offset"));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
	free(err);
	assert_int_equal(fx_report(file, &rep), 3);
	assert_false(json_object_get_boolean(fx_get(fx_get(rep, "file"), "closed")));
	m = fx_migration(rep, truth);
	assert_int_equal(json_object_array_length(fx_get(m, "rounds")),
			 json_object_array_length(fx_get(truth, "rounds")));
	fx_same_arcs(fx_get(truth, "devices"), fx_get(m, "devices"));
	fx_same_arcs(fx_get(fx_get(truth, "destination"), "devices"),
		     fx_get(fx_get(m, "destination"), "devices"));
	json_object_put(truth);
	json_object_put(rep);
	unlink(file);
	unlink(out);
}

/* SIGTERM (as Ctrl-C) ends the recording cleanly, even while the probes still load. */
static void test_sigterm_closes(void **state)
{
	char path[] = "/tmp/vfmig-term-XXXXXX", *err;
	int fd = mkstemp(path), status;
	pid_t pid;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("loading BPF programs needs root");
	assert_true(fd >= 0);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		execl(fx_prof, fx_prof, "record", "-o", path, "--duration", "60", (char *)NULL);
		_exit(127);
	}
	usleep(300000);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(fx_report_stderr(path, &err), 0);
	assert_string_equal(err, "");
	free(err);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_keeps_whole_blocks),
		cmocka_unit_test(test_sigterm_closes),
	};

	return cmocka_run_group_tests(tests, fx_setup, NULL);
}
