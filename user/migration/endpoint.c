// SPDX-License-Identifier: GPL-2.0
/* Where a migration goes: unix:PATH, tcp:HOST:PORT, file:PATH. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "migration/endpoint.h"

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "unix socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* "HOST:PORT" or "PORT" (then HOST is 127.0.0.1). */
static int tcp_addr(const char *spec, struct addrinfo **ai, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	char host[256] = "127.0.0.1";
	const char *port = strrchr(spec, ':');
	int ret;

	if (port) {
		snprintf(host, sizeof(host), "%.*s", (int)(port - spec), spec);
		port++;
	} else {
		port = spec;
	}
	ret = getaddrinfo(host, port, &hints, ai);
	if (ret) {
		snprintf(err, errlen, "tcp address '%s': %s", spec, gai_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

int endpoint_kind(const char *spec, enum endpoint_kind *kind, const char **rest)
{
	static const struct {
		const char *prefix;
		enum endpoint_kind kind;
	} kinds[] = {{"unix:", EP_UNIX}, {"tcp:", EP_TCP}, {"file:", EP_FILE}};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (!strncmp(spec, kinds[i].prefix, n) && spec[n]) {
			*kind = kinds[i].kind;
			*rest = spec + n;
			return 0;
		}
	}
	return -EINVAL;
}

static int sock_fail(int fd, const char *what, const char *spec, char *err, size_t errlen)
{
	int ret = -errno;

	snprintf(err, errlen, "%s %s: %s", what, spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

int endpoint_connect(const char *spec, char *err, size_t errlen)
{
	enum endpoint_kind kind;
	struct sockaddr_un sun;
	struct addrinfo *ai;
	const char *rest;
	int fd, ret;

	if (endpoint_kind(spec, &kind, &rest)) {
		snprintf(err, errlen, "'%s': use unix:PATH, tcp:HOST:PORT or file:PATH", spec);
		return -EINVAL;
	}
	if (kind == EP_FILE) {
		fd = open(rest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		return fd < 0 ? sock_fail(-1, "cannot create", rest, err, errlen) : fd;
	}
	if (kind == EP_UNIX) {
		ret = unix_addr(rest, &sun, err, errlen);
		if (ret)
			return ret;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
			return sock_fail(fd, "cannot connect to", spec, err, errlen);
		return fd;
	}
	ret = tcp_addr(rest, &ai, err, errlen);
	if (ret)
		return ret;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		freeaddrinfo(ai);
		return sock_fail(fd, "cannot connect to", spec, err, errlen);
	}
	freeaddrinfo(ai);
	return fd;
}

static int accept_one(int lfd, const char *spec, char *err, size_t errlen)
{
	int fd;

	if (listen(lfd, 1))
		return sock_fail(lfd, "cannot listen on", spec, err, errlen);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return sock_fail(lfd, "accept on", spec, err, errlen);
	close(lfd);
	return fd;
}

int endpoint_accept(const char *spec, char *err, size_t errlen)
{
	enum endpoint_kind kind;
	struct sockaddr_un sun;
	struct addrinfo *ai;
	const char *rest;
	int fd, ret, one = 1;

	if (endpoint_kind(spec, &kind, &rest)) {
		snprintf(err, errlen, "'%s': use unix:PATH, tcp:[HOST:]PORT or file:PATH", spec);
		return -EINVAL;
	}
	if (kind == EP_FILE) {
		fd = open(rest, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? sock_fail(-1, "cannot open", rest, err, errlen) : fd;
	}
	if (kind == EP_UNIX) {
		ret = unix_addr(rest, &sun, err, errlen);
		if (ret)
			return ret;
		unlink(rest);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
			return sock_fail(fd, "cannot bind", spec, err, errlen);
		return accept_one(fd, spec, err, errlen);
	}
	ret = tcp_addr(rest, &ai, err, errlen);
	if (ret)
		return ret;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen)) {
		freeaddrinfo(ai);
		return sock_fail(fd, "cannot bind", spec, err, errlen);
	}
	freeaddrinfo(ai);
	return accept_one(fd, spec, err, errlen);
}
