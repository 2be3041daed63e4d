// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the QMP client's reply parsing. A peer on a unix socket
 * sends the bytes (a greeting, answers, events, or garbage) and hangs up; the
 * client opens the connection, negotiates, runs two commands and reads what
 * their answers hold. Each step succeeds or fails with one line: never a crash.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct peer {
	int listen_fd;
	const uint8_t *data;
	size_t size;
};

static void *serve(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->listen_fd, NULL, NULL);

	if (fd >= 0) {
		if (write(fd, p->data, p->size) < 0)
			perror("fuzz_qmp: write");
		shutdown(fd, SHUT_WR);
		usleep(1000); /* the client's commands arrive; then the peer hangs up */
		close(fd);
	}
	return NULL;
}

static void client(const char *path)
{
	struct qmp q;
	json_object *r;

	if (qmp_open(&q, path, 200))
		return;
	r = qmp_execute(&q, "query-status", NULL);
	if (r) {
		qmp_get_str(r, "status", "");
		qmp_get_bool(r, "running", false);
		json_object_put(r);
	}
	r = qmp_execute(&q, "query-migrate", NULL);
	if (r) {
		qmp_get_int(r, "total-time", -1);
		qmp_get_double(r, "expected-downtime", -1);
		json_object_put(r);
	}
	qmp_close(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[108];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct peer p = {.data = data, .size = size};
	pthread_t t;

	signal(SIGPIPE, SIG_IGN);
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/vfmig-fuzz-qmp-%d.sock", getpid());
	unlink(path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	p.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (p.listen_fd < 0 || bind(p.listen_fd, (void *)&a, sizeof(a)) || listen(p.listen_fd, 1)) {
		close(p.listen_fd);
		return 0;
	}
	pthread_create(&t, NULL, serve, &p);
	client(path);
	pthread_join(t, NULL);
	close(p.listen_fd);
	unlink(path);
	return 0;
}
