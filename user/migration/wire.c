// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "migration/wire.h"

void wire_init(struct wire *w, int fd, uint64_t bandwidth)
{
	int sz = 4 << 20;

	*w = (struct wire){.fd = fd, .bandwidth = bandwidth};
	/* Deep socket buffers: fewer wake-ups per MiB (ignored for files) */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	wire_reset_clock(w);
}

void wire_reset_clock(struct wire *w)
{
	w->t0_ns = emu_now_ns();
	w->cap_sent = 0;
}

/* Holds the average send rate at or below the cap since the last reset. */
static void throttle(struct wire *w, size_t n)
{
	uint64_t due_ns, now;

	w->cap_sent += n;
	if (!w->bandwidth)
		return;
	due_ns = w->t0_ns + (uint64_t)((double)w->cap_sent * 1e9 / w->bandwidth);
	now = emu_now_ns();
	if (due_ns > now) {
		uint64_t d = due_ns - now;

		nanosleep(&(struct timespec){d / 1000000000, d % 1000000000}, NULL);
	}
}

/* Moves past n bytes done of an iovec array; returns how many entries are left. */
static int iov_advance(struct iovec **iov, int cnt, size_t n)
{
	while (cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		cnt--;
	}
	if (cnt) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
	return cnt;
}

static int write_iov(int fd, struct iovec *iov, int cnt)
{
	while (cnt) {
		ssize_t n = writev(fd, iov, cnt > 1024 ? 1024 : cnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		cnt = iov_advance(&iov, cnt, n);
	}
	return 0;
}

int wire_sendv(struct wire *w, uint32_t type, struct iovec *iov, int cnt)
{
	struct wire_hdr hdr = {WIRE_MAGIC, type, 0};
	int i, ret;

	for (i = 1; i < cnt; i++)
		hdr.len += iov[i].iov_len;
	iov[0] = (struct iovec){&hdr, sizeof(hdr)};
	ret = write_iov(w->fd, iov, cnt);
	if (ret)
		return ret;
	w->sent += sizeof(hdr) + hdr.len;
	throttle(w, sizeof(hdr) + hdr.len);
	return 0;
}

int wire_send(struct wire *w, uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[3] = {{0}, {(void *)a, alen}, {(void *)b, blen}};

	return wire_sendv(w, type, iov, 3);
}

int wire_recv(struct wire *w, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPIPE;
		p += n;
		len -= n;
		w->recvd += n;
	}
	return 0;
}

int wire_recvv(struct wire *w, struct iovec *iov, int cnt)
{
	while (cnt) {
		ssize_t n = readv(w->fd, iov, cnt > 1024 ? 1024 : cnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPIPE;
		w->recvd += n;
		cnt = iov_advance(&iov, cnt, n);
	}
	return 0;
}

int wire_recv_hdr(struct wire *w, struct wire_hdr *hdr)
{
	int ret = wire_recv(w, hdr, sizeof(*hdr));

	if (ret)
		return ret;
	if (hdr->magic != WIRE_MAGIC || hdr->len > WIRE_MAX_PAYLOAD + 65536)
		return -EPROTO;
	return 0;
}
