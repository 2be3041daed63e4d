// SPDX-License-Identifier: GPL-2.0
/*
 * QMP over a unix socket. QEMU ends every message with CRLF and never puts a
 * newline inside one, so messages are cut at newlines and each is parsed by
 * json-c; events met while waiting for an answer are kept for whoever asks.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qemu/qmp.h"

#define QMP_LINE_MAX (1 << 20)

static void fail(struct qmp *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct qmp *q, const char *fmt, ...)
{
	int n = snprintf(q->err, sizeof(q->err), "qmp %s: ", q->path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err + n, sizeof(q->err) - n, fmt, ap);
	va_end(ap);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

long long qmp_get_int(json_object *obj, const char *key, long long def)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

const char *qmp_get_str(json_object *obj, const char *key, const char *def)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

double qmp_get_double(json_object *obj, const char *key, double def)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return def;
	return json_object_get_double(v);
}

bool qmp_get_bool(json_object *obj, const char *key, bool def)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

/* One line taken from the buffer, parsed: 1 with *msg, 0 when no whole line is there, -1. */
static int take_line(struct qmp *q, const char *waiting_for, json_object **msg)
{
	for (;;) {
		enum json_tokener_error jerr = json_tokener_success;
		char *nl = memchr(q->buf, '\n', q->len);
		size_t used;
		bool blank;

		if (!nl)
			return 0;
		*nl = '\0';
		used = nl - q->buf + 1;
		if (nl > q->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		blank = !q->buf[0];
		*msg = blank ? NULL : json_tokener_parse_verbose(q->buf, &jerr);
		memmove(q->buf, q->buf + used, q->len - used);
		q->len -= used;
		if (blank)
			continue;
		if (!*msg) {
			fail(q, "malformed JSON %s: %s", waiting_for,
			     json_tokener_error_desc(jerr));
			return -1;
		}
		if (!json_object_is_type(*msg, json_type_object)) {
			fail(q, "a JSON message that is not an object %s", waiting_for);
			json_object_put(*msg);
			return -1;
		}
		return 1;
	}
}

/* The next whole message, waiting until deadline (monotonic ms). */
static json_object *read_message(struct qmp *q, long long deadline, const char *waiting_for)
{
	json_object *msg;

	for (;;) {
		int rc = take_line(q, waiting_for, &msg);
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		long long left = deadline - now_ms();
		ssize_t n;

		if (rc)
			return rc > 0 ? msg : NULL;
		if (q->len >= QMP_LINE_MAX) {
			fail(q, "a message over %d bytes %s: not QMP", QMP_LINE_MAX, waiting_for);
			return NULL;
		}
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			fail(q, "timed out %s", waiting_for);
			return NULL;
		}
		if (q->cap - q->len < 4096) {
			char *b = realloc(q->buf, q->cap * 2);

			if (!b) {
				fail(q, "out of memory");
				return NULL;
			}
			q->buf = b;
			q->cap *= 2;
		}
		n = read(q->fd, q->buf + q->len, q->cap - q->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(q, "read: %s %s", strerror(errno), waiting_for);
			return NULL;
		}
		if (n == 0) {
			fail(q, "QEMU closed the connection %s%s", waiting_for,
			     q->len ? " (mid-message)" : "");
			return NULL;
		}
		q->len += n;
		q->buf[q->len] = '\0';
	}
}

static void keep_event(struct qmp *q, json_object *msg)
{
	struct qmp_event *ev;
	json_object *data, *ts;

	if (q->nevents == QMP_EVENTS_MAX) {
		json_object_put(q->events[0].data);
		memmove(q->events, q->events + 1, sizeof(q->events[0]) * (QMP_EVENTS_MAX - 1));
		q->nevents--;
	}
	ev = &q->events[q->nevents++];
	snprintf(ev->name, sizeof(ev->name), "%s", qmp_get_str(msg, "event", "?"));
	ev->ts = 0;
	if (json_object_object_get_ex(msg, "timestamp", &ts))
		ev->ts = qmp_get_int(ts, "seconds", 0) + qmp_get_int(ts, "microseconds", 0) / 1e6;
	ev->data = json_object_object_get_ex(msg, "data", &data) ? json_object_get(data) : NULL;
	q->events_seen++;
}

static int send_all(struct qmp *q, const char *s, const char *cmd)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = send(q->fd, s + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(q, "sending %s: %s", cmd,
			     errno == EPIPE || errno == ECONNRESET ? "QEMU closed the connection"
								   : strerror(errno));
			return -1;
		}
		off += n;
	}
	return 0;
}

/* The answer to the command sent with id, events kept on the way. */
static json_object *await_answer(struct qmp *q, const char *cmd, unsigned long id)
{
	long long deadline = now_ms() + q->timeout_ms;
	char what[96];

	snprintf(what, sizeof(what), "(waiting %d ms for the answer to %s)", q->timeout_ms, cmd);
	for (;;) {
		json_object *msg = read_message(q, deadline, what), *v, *ret;

		if (!msg)
			return NULL;
		if (json_object_object_get_ex(msg, "event", NULL)) {
			keep_event(q, msg);
		} else if (json_object_object_get_ex(msg, "id", &v) &&
			   (unsigned long)json_object_get_int64(v) != id) {
			/* the late answer to a command that timed out earlier */
		} else if (json_object_object_get_ex(msg, "return", &ret)) {
			json_object_get(ret);
			json_object_put(msg);
			return ret;
		} else if (json_object_object_get_ex(msg, "error", &v)) {
			fail(q, "%s: %s: %s", cmd, qmp_get_str(v, "class", "?"),
			     qmp_get_str(v, "desc", "(no description)"));
			json_object_put(msg);
			return NULL;
		} else {
			fail(q, "an answer to %s with neither return nor error: not QMP", cmd);
			json_object_put(msg);
			return NULL;
		}
		json_object_put(msg);
	}
}

json_object *qmp_execute(struct qmp *q, const char *cmd, json_object *args)
{
	json_object *req = json_object_new_object();
	unsigned long id = ++q->next_id;
	const char *text;
	char *line;
	int rc;

	if (q->fd < 0) {
		json_object_put(args);
		json_object_put(req);
		fail(q, "%s: not connected", cmd);
		return NULL;
	}
	json_object_object_add(req, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "arguments", args);
	json_object_object_add(req, "id", json_object_new_int64(id));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	/* one write: a peer that reads one line and closes sees all of it */
	line = malloc(strlen(text) + 2);
	rc = line ? 0 : -1;
	if (line) {
		sprintf(line, "%s\n", text);
		rc = send_all(q, line, cmd);
	} else {
		fail(q, "out of memory");
	}
	free(line);
	json_object_put(req);
	return rc ? NULL : await_answer(q, cmd, id);
}

int qmp_run(struct qmp *q, const char *cmd, json_object *args)
{
	json_object *ret = qmp_execute(q, cmd, args);

	json_object_put(ret);
	return ret ? 0 : -1;
}

static int connect_unix(struct qmp *q, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fail(q, "path too long for a unix socket");
		return -1;
	}
	strcpy(sa.sun_path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		fail(q, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		fail(q, "%s",
		     e == ENOENT	 ? "no such socket (is QEMU running with -qmp?)"
		     : e == ECONNREFUSED ? "connection refused (no QEMU listening)"
		     : e == ENOTSOCK	 ? "not a socket"
					 : strerror(e));
		return -1;
	}
	if (!getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		q->pid = cred.pid;
	return 0;
}

/* The greeting: {"QMP": {"version": {"qemu": {major, minor, micro}}, "capabilities": [...]}}. */
static int read_greeting(struct qmp *q)
{
	json_object *msg = read_message(q, now_ms() + q->timeout_ms, "(waiting for the greeting)");
	json_object *qmp, *ver, *qemu;

	if (!msg) {
		char why[sizeof(q->err)];

		snprintf(why, sizeof(why), "%s",
			 strchr(q->err, ':') ? strchr(q->err, ':') + 2 : "");
		fail(q, "not a QMP socket: %s", why);
		return -1;
	}
	if (!json_object_object_get_ex(msg, "QMP", &qmp) ||
	    !json_object_object_get_ex(qmp, "version", &ver) ||
	    !json_object_object_get_ex(ver, "qemu", &qemu)) {
		fail(q, "not a QMP socket: its first message is not a QMP greeting");
		json_object_put(msg);
		return -1;
	}
	q->version[0] = qmp_get_int(qemu, "major", 0);
	q->version[1] = qmp_get_int(qemu, "minor", 0);
	q->version[2] = qmp_get_int(qemu, "micro", 0);
	json_object_put(msg);
	return 0;
}

int qmp_open(struct qmp *q, const char *path, int timeout_ms)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : QMP_TIMEOUT_MS;
	snprintf(q->path, sizeof(q->path), "%s", path);
	q->cap = 8192;
	q->buf = malloc(q->cap);
	if (!q->buf) {
		fail(q, "out of memory");
		return -1;
	}
	if (connect_unix(q, path) || read_greeting(q) || qmp_run(q, "qmp_capabilities", NULL)) {
		char err[sizeof(q->err)];

		memcpy(err, q->err, sizeof(err));
		qmp_close(q);
		memcpy(q->err, err, sizeof(err));
		return -1;
	}
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	for (unsigned i = 0; i < q->nevents; i++)
		json_object_put(q->events[i].data);
	q->nevents = 0;
	free(q->buf);
	q->buf = NULL;
	q->len = q->cap = 0;
}

static int take_kept(struct qmp *q, const char *name, struct qmp_event *ev)
{
	for (unsigned i = 0; i < q->nevents; i++) {
		if (strcmp(q->events[i].name, name))
			continue;
		*ev = q->events[i];
		memmove(q->events + i, q->events + i + 1, sizeof(*ev) * (q->nevents - i - 1));
		q->nevents--;
		return 1;
	}
	return 0;
}

int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms, struct qmp_event *ev)
{
	long long deadline = now_ms() + timeout_ms;
	char what[96];

	snprintf(what, sizeof(what), "(waiting %d ms for event %s)", timeout_ms, name);
	while (!take_kept(q, name, ev)) {
		json_object *msg;

		if (q->fd < 0) {
			fail(q, "not connected %s", what);
			return -1;
		}
		msg = read_message(q, deadline, what);
		if (!msg)
			return -1;
		if (json_object_object_get_ex(msg, "event", NULL))
			keep_event(q, msg);
		json_object_put(msg);
	}
	return 0;
}

unsigned qmp_events(const struct qmp *q, const char *name, const struct qmp_event **out,
		    unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < q->nevents && n < max; i++)
		if (!name || !strcmp(q->events[i].name, name))
			out[n++] = &q->events[i];
	return n;
}
