// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_util.h"

bool tool_path(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return false;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(out, len, "%s/../../%s", self, name);
	return !access(out, X_OK);
}

int run_capture(char *const *argv, char **out)
{
	size_t len = 0, cap = 1 << 16;
	int pipefd[2], status;
	pid_t pid;
	ssize_t n;

	*out = malloc(cap);
	if (!*out || pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], *out + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *more = realloc(*out, cap *= 2);

			if (!more)
				break;
			*out = more;
		}
	}
	(*out)[len] = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct json_object *json_line_with(const char *text, const char *key)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, n);
		struct json_object *o = line ? json_tokener_parse(line) : NULL;

		free(line);
		if (o && json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, key, NULL))
			return o;
		json_object_put(o);
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

long long json_path_int(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k1, &v))
		return -1;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return -1;
	return json_object_get_int64(v);
}

double json_migrate_dev_bytes(struct json_object *migrate)
{
	struct json_object *rounds = NULL, *v = NULL;
	double sum = 0;
	size_t i;

	if (json_object_object_get_ex(migrate, "final_device_bytes", &v))
		sum = json_object_get_double(v);
	json_object_object_get_ex(migrate, "rounds", &rounds);
	for (i = 0; i < json_object_array_length(rounds); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(rounds, i), "dev_bytes",
					      &v))
			sum += json_object_get_double(v);
	return sum;
}

int run_stderr_line(char *const *argv, char *line, size_t len)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char cmd[4096] = "", buf[1024];
	bool found = false;
	FILE *f;
	int i, status;

	for (i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s' ", argv[i]);
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "2>&1 >/dev/null");
	f = popen(cmd, "r");
	if (!f)
		return -1;
	line[0] = 0;
	while (fgets(buf, sizeof(buf), f)) { /* its own line, not a child's */
		bool own = !strncmp(buf, name, strlen(name)) && buf[strlen(name)] == ':';

		if (!found && (own || !line[0]))
			snprintf(line, len, "%s", buf);
		found |= own;
	}
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
