// SPDX-License-Identifier: GPL-2.0
/* vfmigtop's full screen in tmux: a private tmux server, a pane running a script, its text. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "vfmigtop/fixture_screen.h"

char top_bin[PATH_MAX], emu_bin[PATH_MAX];
static char sock[64], script[PATH_MAX];

/* tmux is installed by the test when missing (root), else the test fails naming the command. */
bool screen_setup(void)
{
	char deps[PATH_MAX + 64];

	if (!tool_path("vfmigtop", top_bin, sizeof(top_bin)) ||
	    !tool_path("vfmig-emu", emu_bin, sizeof(emu_bin)))
		return false;
	if (system("command -v tmux >/dev/null 2>&1")) {
		snprintf(deps, sizeof(deps), "cd %.*s/.. && scripts/deps.sh build/.deps-tmux tmux",
			 (int)(strlen(top_bin) - strlen("/vfmigtop")), top_bin);
		if (system(deps) || system("command -v tmux >/dev/null 2>&1")) {
			fprintf(stderr, "test_screen: tmux missing: apt-get install tmux\n");
			return false;
		}
	}
	snprintf(script, sizeof(script), "/tmp/vfmigtop-test-%d.sh", getpid());
	return true;
}

static int tmux(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "tmux -L %s %s >/dev/null 2>&1", sock, args);
	return system(cmd);
}

void screen_start(int cols, int rows, const char *body)
{
	FILE *f = fopen(script, "w");
	char args[PATH_MAX + 128];
	static int started;

	/* a server of its own each time: the last one may still be going away */
	snprintf(sock, sizeof(sock), "vfmigtop-test-%d-%d", getpid(), started++);

	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\ntrap : INT\n%s\necho EXITED $?\n"
		"stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '\n"
		"echo END\nsleep 120\n",
		body);
	fclose(f);
	snprintf(args, sizeof(args), "new-session -d -s t -x %d -y %d 'sh %s'", cols, rows, script);
	assert_int_equal(tmux(args), 0);
}

void screen_stop(void)
{
	tmux("kill-server");
	unlink(script);
}

void screen_keys(const char *keys)
{
	char args[256];

	snprintf(args, sizeof(args), "send-keys -t t %s", keys);
	assert_int_equal(tmux(args), 0);
	usleep(300000);
}

void screen_resize(int cols, int rows)
{
	char args[128];

	snprintf(args, sizeof(args), "resize-window -t t -x %d -y %d", cols, rows);
	assert_int_equal(tmux(args), 0);
}

char *screen_text(void)
{
	char cmd[128], *out = NULL;
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};

	snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p -t t", sock);
	run_capture(argv, &out);
	return out;
}

char *screen_wait(const char *text, double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char *s = screen_text();

		if (s && strstr(s, text))
			return s;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 > seconds) {
			fprintf(stderr, "screen never showed '%s'; it shows:\n%s\n", text, s);
			free(s);
			return NULL;
		}
		free(s);
		usleep(200000);
	}
}

int screen_line_of(const char *s, const char *text)
{
	const char *p = strstr(s, text), *c;
	int n = 0;

	if (!p)
		return -1;
	for (c = s; c < p; c++)
		n += *c == '\n';
	return n;
}
