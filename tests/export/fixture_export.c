// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/run_util.h"
#include "export/fixture_export.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

pid_t spawn(char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (!pid) {
		int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int stop(pid_t pid, double timeout_s)
{
	double end = now_s() + timeout_s;
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		poll(NULL, 0, 20);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *read_all(int fd)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *more = realloc(buf, cap *= 2);

			if (!more) {
				free(buf);
				return NULL;
			}
			buf = more;
		}
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

int http_request(int port, const char *method, const char *path, char **body)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	char req[4096], *resp, *start;

	*body = NULL;
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
		 method, path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	resp = read_all(fd);
	close(fd);
	if (!resp || sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
		free(resp);
		return -1;
	}
	start = strstr(resp, "\r\n\r\n");
	*body = strdup(start ? start + 4 : "");
	free(resp);
	return status;
}

bool wait_http(int port, const char *path, double timeout_s)
{
	double end = now_s() + timeout_s;
	char *body;

	while (now_s() < end) {
		int status = http_request(port, "GET", path, &body);

		free(body);
		if (status == 200)
			return true;
		poll(NULL, 0, 100);
	}
	return false;
}

static void url_encode(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 4 < len; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-_.~", *s))
			out[n++] = *s;
		else
			n += snprintf(out + n, len - n, "%%%02X", (unsigned char)*s);
	}
	out[n] = 0;
}

bool prom_query(int port, const char *q, double *value)
{
	char path[2048] = "/api/v1/query?query=", *body;
	struct json_object *o, *data, *result, *v;
	bool ok = false;

	url_encode(q, path + strlen(path), sizeof(path) - strlen(path));
	if (http_request(port, "GET", path, &body) != 200) {
		free(body);
		return false;
	}
	o = json_tokener_parse(body);
	free(body);
	if (o && json_object_object_get_ex(o, "data", &data) &&
	    json_object_object_get_ex(data, "result", &result) &&
	    json_object_array_length(result) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(result, 0), "value", &v)) {
		*value = strtod(json_object_get_string(json_object_array_get_idx(v, 1)), NULL);
		ok = true;
	}
	json_object_put(o);
	return ok;
}

double sample_value(const char *text, const char *name_labels)
{
	size_t n = strlen(name_labels);
	const char *at = text;

	while ((at = strstr(at, name_labels))) {
		if ((at == text || at[-1] == '\n') && at[n] == ' ')
			return strtod(at + n + 1, NULL);
		at += n;
	}
	return -1;
}

bool repo_root(char *out, size_t len)
{
	char emu[PATH_MAX], *slash;

	if (!tool_path("vfmig-emu", emu, sizeof(emu)) || !realpath(emu, out) || len < PATH_MAX)
		return false;
	slash = strrchr(out, '/'); /* ROOT/build/vfmig-emu */
	if (!slash)
		return false;
	*slash = 0;
	slash = strrchr(out, '/');
	if (!slash)
		return false;
	*slash = 0;
	return true;
}
