// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a recording: the header must be whole (else it is not one we can
 * read); a block that is not (a bad length at either end, a checksum or a
 * zlib stream that fails) is skipped up to the next whole block, and where
 * that happened is kept for the caller to report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#include <zlib.h>

#include "record/format.h"
#include "record/record.h"

#define HEAD_SZ sizeof(struct rec_block_head)
#define TAIL_SZ sizeof(struct rec_block_tail)

struct rec_reader {
	uint8_t *buf, *raw;
	size_t len, off, raw_cap, skip_start;
	char *header;
	uint32_t version;
	uint64_t next_seq;
	bool in_skip;
	struct rec_damage dmg;
};

static bool head_ok(const struct rec_reader *r, size_t off, struct rec_block_head *h)
{
	struct rec_block_tail t;

	if (r->len - off < HEAD_SZ + TAIL_SZ)
		return false;
	memcpy(h, r->buf + off, HEAD_SZ);
	if (memcmp(h->magic, REC_BLOCK_MAGIC, 4) || h->len < HEAD_SZ + TAIL_SZ ||
	    h->len > r->len - off || h->raw_len > REC_MAX_RAW)
		return false;
	memcpy(&t, r->buf + off + h->len - TAIL_SZ, TAIL_SZ);
	return t.len == h->len && !memcmp(t.magic, REC_BLOCK_TAIL, 4) &&
	       t.xxh == XXH64(r->buf + off, h->len - TAIL_SZ, 0);
}

static bool inflate_ok(struct rec_reader *r, size_t off, const struct rec_block_head *h)
{
	uLongf out = h->raw_len;
	uint8_t *p;

	if (r->raw_cap < (size_t)h->raw_len + 1) {
		p = realloc(r->raw, (size_t)h->raw_len + 1);
		if (!p)
			return false;
		r->raw = p;
		r->raw_cap = (size_t)h->raw_len + 1;
	}
	if (uncompress(r->raw, &out, r->buf + off + HEAD_SZ, h->len - HEAD_SZ - TAIL_SZ) != Z_OK)
		return false;
	r->raw[out] = 0; /* JSON blocks read as strings */
	return out == h->raw_len;
}

static void note_skip(struct rec_reader *r)
{
	if (r->in_skip)
		return;
	r->in_skip = true;
	r->skip_start = r->off;
	if (!r->dmg.skipped++)
		r->dmg.first_skip = r->off;
}

int rec_next(struct rec_reader *r, struct rec_block *b)
{
	struct rec_block_head h;

	while (r->off < r->len) {
		if (!head_ok(r, r->off, &h) || !inflate_ok(r, r->off, &h)) {
			note_skip(r);
			r->off++;
			continue;
		}
		r->in_skip = false;
		if (h.seq > r->next_seq)
			r->dmg.missing += h.seq - r->next_seq;
		r->next_seq = h.seq + 1;
		b->kind = (enum rec_kind)h.kind;
		b->seq = h.seq;
		b->offset = r->off;
		b->count = h.count;
		b->data = r->raw;
		b->len = h.raw_len;
		r->off += h.len;
		if (b->kind == REC_END)
			r->dmg.closed = true;
		return 1;
	}
	if (r->in_skip) { /* nothing whole after it: the file was cut (or its end damaged) */
		r->in_skip = false;
		r->dmg.cut = true;
		r->dmg.cut_offset = r->skip_start;
		if (!--r->dmg.skipped)
			r->dmg.first_skip = 0;
	} else if (!r->dmg.closed && !r->dmg.cut) {
		r->dmg.cut = true;
		r->dmg.cut_offset = r->len;
	}
	return 0;
}

static struct rec_reader *parse_header(struct rec_reader *r, char *err, size_t errlen)
{
	struct rec_file_head fh;
	uint64_t xxh;

	if (r->len < sizeof(fh) || memcmp(r->buf, REC_FILE_MAGIC, 8)) {
		snprintf(err, errlen, "not a vfmig recording (no VFMIGREC magic)");
		goto fail;
	}
	memcpy(&fh, r->buf, sizeof(fh));
	if (fh.version != REC_VERSION) {
		snprintf(err, errlen, "recording version %u is not supported (this reads %u)",
			 fh.version, (unsigned int)REC_VERSION);
		goto fail;
	}
	if (fh.header_len > r->len - sizeof(fh) - sizeof(xxh) || r->len < sizeof(fh) + 8) {
		snprintf(err, errlen, "damaged header: cut short");
		goto fail;
	}
	memcpy(&xxh, r->buf + sizeof(fh) + fh.header_len, sizeof(xxh));
	if (xxh != XXH64(r->buf, sizeof(fh) + fh.header_len, 0)) {
		snprintf(err, errlen, "damaged header: checksum mismatch");
		goto fail;
	}
	r->header = strndup((const char *)r->buf + sizeof(fh), fh.header_len);
	if (!r->header) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->version = fh.version;
	r->off = sizeof(fh) + fh.header_len + sizeof(xxh);
	return r;
fail:
	rec_reader_close(r);
	return NULL;
}

struct rec_reader *rec_open_mem(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct rec_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->buf = malloc(len ? len : 1);
	if (!r || !r->buf) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(r->buf, buf, len);
	r->len = len;
	return parse_header(r, err, errlen);
}

struct rec_reader *rec_open(const char *path, char *err, size_t errlen)
{
	struct rec_reader *r;
	uint8_t *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "rb");
	long size;

	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "cannot read '%s': not a regular file", path);
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)size + 1);
	if (buf)
		len = fread(buf, 1, (size_t)size, f);
	fclose(f);
	if (!buf || len != (size_t)size) {
		snprintf(err, errlen, "cannot read '%s'", path);
		free(buf);
		return NULL;
	}
	r = rec_open_mem(buf, len, err, errlen);
	free(buf);
	return r;
}

void rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->raw);
	free(r->header);
	free(r);
}

const char *rec_header(const struct rec_reader *r)
{
	return r->header;
}

uint32_t rec_version(const struct rec_reader *r)
{
	return r->version;
}

const struct rec_damage *rec_damage(const struct rec_reader *r)
{
	return &r->dmg;
}
