// SPDX-License-Identifier: GPL-2.0
/* Running a tool and taking its JSON answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "score/run.h"

#define MAX_ARGS 64
#define MAX_OUT (16u << 20)

static int split(char *line, char **argv, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (n == max - 1)
			return -1;
		argv[n++] = t;
	}
	argv[n] = NULL;
	return n;
}

static char *read_all(int fd)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap && cap < MAX_OUT) {
			char *more = realloc(buf, cap *= 2);

			if (!more)
				free(buf);
			buf = more;
		}
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

/* Runs "TOOL VERB FLAGS EXTRA --json" with stderr to /dev/null and parses stdout. */
struct json_object *run_json(const char *tool, const char *verb, const char *flags,
			     const char *extra, int *status)
{
	char line[2048];
	char *argv[MAX_ARGS];
	struct json_object *obj;
	int pipefd[2], n;
	pid_t pid;
	char *out;

	snprintf(line, sizeof(line), "%s %s %s %s --json", tool, verb, flags, extra ? extra : "");
	n = split(line, argv, MAX_ARGS);
	if (n < 0 || pipe(pipefd))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (!pid) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		if (!freopen("/dev/null", "w", stderr))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	out = read_all(pipefd[0]);
	close(pipefd[0]);
	waitpid(pid, status, 0);
	obj = out ? json_tokener_parse(out) : NULL;
	free(out);
	return obj;
}

double get_num(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NAN;
	return json_object_get_double(v);
}

bool get_bool(struct json_object *o, const char *key, bool dflt)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return dflt;
	return json_object_get_boolean(v);
}

int get_len(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return -1;
	return (int)json_object_array_length(v);
}

struct json_object *get_obj(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}
