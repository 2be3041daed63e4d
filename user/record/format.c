// SPDX-License-Identifier: GPL-2.0
/*
 * The recording's blocks on disk. Each block is written with one write(2)
 * and never touched again, so after a SIGKILL every block before the last
 * write is whole; nothing is patched at exit: the END block says the file
 * was closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
#include <zlib.h>

#include "record/format.h"
#include "record/record.h"
#include "common/sys.h"

struct rec_writer {
	int fd;
	uint64_t seq, lost, events, bytes, last_flush_ns;
	size_t nev, nwin;
	struct vfmig_event *ev;
	struct vfmig_dirty_window *win;
	uint8_t *raw, *out;
	size_t raw_cap, out_cap;
};

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;

	if (need <= *cap)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = need;
	return 0;
}

/* One block of raw bytes: compressed, framed and written; a failed write is a lost block. */
static int write_block(struct rec_writer *w, enum rec_kind kind, const void *raw, size_t raw_len,
		       uint32_t count)
{
	uLongf clen = compressBound(raw_len);
	struct rec_block_head h = {.magic = REC_BLOCK_MAGIC};
	struct rec_block_tail t = {.magic = REC_BLOCK_TAIL};
	size_t total;
	int ret;

	ret = grow(&w->out, &w->out_cap, sizeof(h) + clen + sizeof(t));
	if (ret)
		return ret;
	if (compress2(w->out + sizeof(h), &clen, raw, raw_len, 1) != Z_OK)
		return -EIO;
	total = sizeof(h) + clen + sizeof(t);
	h.len = (uint32_t)total;
	h.seq = w->seq++;
	h.kind = (uint8_t)kind;
	h.raw_len = (uint32_t)raw_len;
	h.count = count;
	memcpy(w->out, &h, sizeof(h));
	t.len = h.len;
	t.xxh = XXH64(w->out, sizeof(h) + clen, 0);
	memcpy(w->out + sizeof(h) + clen, &t, sizeof(t));
	ret = write_all(w->fd, w->out, total);
	if (ret) {
		w->lost++;
		return ret;
	}
	w->bytes += total;
	return 0;
}

struct rec_writer *rec_create(const char *path, const char *header_json, char *err, size_t errlen)
{
	struct rec_file_head fh = {.magic = REC_FILE_MAGIC, .version = REC_VERSION};
	struct rec_writer *w = calloc(1, sizeof(*w));
	size_t hlen = strlen(header_json);
	uint8_t *buf = NULL;
	uint64_t xxh;

	if (!w)
		goto oom;
	w->ev = calloc(REC_MAX_EVENTS, sizeof(*w->ev));
	w->win = calloc(REC_MAX_WINDOWS, sizeof(*w->win));
	buf = malloc(sizeof(fh) + hlen + sizeof(xxh));
	if (!w->ev || !w->win || !buf)
		goto oom;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		goto fail;
	}
	fh.header_len = (uint32_t)hlen;
	memcpy(buf, &fh, sizeof(fh));
	memcpy(buf + sizeof(fh), header_json, hlen);
	xxh = XXH64(buf, sizeof(fh) + hlen, 0);
	memcpy(buf + sizeof(fh) + hlen, &xxh, sizeof(xxh));
	if (write_all(w->fd, buf, sizeof(fh) + hlen + sizeof(xxh))) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		close(w->fd);
		goto fail;
	}
	w->bytes = sizeof(fh) + hlen + sizeof(xxh);
	w->last_flush_ns = clock_ns(CLOCK_MONOTONIC);
	free(buf);
	return w;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(buf);
	if (w) {
		free(w->ev);
		free(w->win);
	}
	free(w);
	return NULL;
}

int rec_flush(struct rec_writer *w)
{
	int ret = 0, r;

	w->last_flush_ns = clock_ns(CLOCK_MONOTONIC);
	if (w->nev) {
		ret = grow(&w->raw, &w->raw_cap, w->nev * REC_EVENT_MAX);
		if (!ret)
			ret = write_block(w, REC_EVENTS, w->raw,
					  rec_encode_events(w->ev, w->nev, w->raw),
					  (uint32_t)w->nev);
		w->events += w->nev;
		w->nev = 0;
	}
	if (w->nwin) {
		r = write_block(w, REC_WINDOWS, w->win, w->nwin * sizeof(*w->win),
				(uint32_t)w->nwin);
		ret = ret ? ret : r;
		w->nwin = 0;
	}
	return ret;
}

int rec_event(struct rec_writer *w, const struct vfmig_event *e)
{
	w->ev[w->nev++] = *e;
	return w->nev >= REC_MAX_EVENTS ? rec_flush(w) : 0;
}

int rec_window(struct rec_writer *w, const struct vfmig_dirty_window *dw)
{
	w->win[w->nwin++] = *dw;
	return w->nwin >= REC_MAX_WINDOWS ? rec_flush(w) : 0;
}

int rec_tick(struct rec_writer *w, uint64_t now_ns)
{
	if (now_ns - w->last_flush_ns < REC_FLUSH_NS)
		return 0;
	return rec_flush(w);
}

int rec_snapshot(struct rec_writer *w, const char *json)
{
	return write_block(w, REC_SNAPSHOT, json, strlen(json), 0);
}

int rec_close(struct rec_writer *w, const char *end_json)
{
	int ret = rec_flush(w), r;

	r = write_block(w, REC_END, end_json, strlen(end_json), 0);
	ret = ret ? ret : r;
	if (fsync(w->fd) && errno != EINVAL && !ret)
		ret = -errno;
	if (close(w->fd) && !ret)
		ret = -errno;
	free(w->ev);
	free(w->win);
	free(w->raw);
	free(w->out);
	free(w);
	return ret;
}

uint64_t rec_lost_blocks(const struct rec_writer *w)
{
	return w->lost;
}

uint64_t rec_events_written(const struct rec_writer *w)
{
	return w->events + w->nev;
}

uint64_t rec_bytes_written(const struct rec_writer *w)
{
	return w->bytes;
}
