/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A QMP client: one unix-socket connection to a QEMU monitor, commands with
 * their parsed answers, asynchronous events kept aside with their timestamps.
 * Every failure leaves one line in qmp->err naming the socket and what was wrong.
 */
#ifndef VFMIG_QEMU_QMP_H
#define VFMIG_QEMU_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#define QMP_EVENTS_MAX 64
#define QMP_TIMEOUT_MS 5000

struct qmp_event {
	char name[48];
	double ts;	   /* QEMU's own timestamp, seconds since the epoch */
	json_object *data; /* owned by the client; NULL when the event had none */
};

struct qmp {
	int fd;
	int timeout_ms;
	pid_t pid; /* the QEMU at the other end, from the socket's peer credentials */
	int version[3];
	unsigned long next_id;
	char path[108];
	char err[320];
	char *buf; /* bytes read and not yet parsed */
	size_t len, cap;
	struct qmp_event events[QMP_EVENTS_MAX];
	unsigned nevents; /* kept; the oldest go when more arrive */
	unsigned long events_seen;
};

/* Connect, read the greeting, negotiate capabilities. 0, or -1 with qmp->err. */
int qmp_open(struct qmp *q, const char *path, int timeout_ms);
void qmp_close(struct qmp *q);

/*
 * Run cmd with args (a JSON object or NULL; consumed either way). Returns a new
 * reference to the answer's "return" (free with json_object_put), or NULL with
 * qmp->err: QEMU's error.class and desc, a timeout, a closed socket, bad JSON.
 */
json_object *qmp_execute(struct qmp *q, const char *cmd, json_object *args);

/* Like qmp_execute, with the answer dropped: 0 or -1. */
int qmp_run(struct qmp *q, const char *cmd, json_object *args);

/*
 * Wait up to timeout_ms for an event named name (kept ones first); it is
 * removed from the kept list and copied to *ev (the caller owns ev->data).
 * 0, or -1 with qmp->err.
 */
int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms, struct qmp_event *ev);

/* The kept events named name (all when NULL), oldest first, into out[max]; their count. */
unsigned qmp_events(const struct qmp *q, const char *name, const struct qmp_event **out,
		    unsigned max);

/* Field readers for answers: a missing or mistyped field gives def. */
long long qmp_get_int(json_object *obj, const char *key, long long def);
const char *qmp_get_str(json_object *obj, const char *key, const char *def);
bool qmp_get_bool(json_object *obj, const char *key, bool def);
double qmp_get_double(json_object *obj, const char *key, double def); /* ints too */

#endif
