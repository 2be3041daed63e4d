/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording of the probes (vfmigprof record): a header, then blocks that
 * each stand alone, so that the file is whole after every block written and
 * a reader can skip a damaged one. The layout is in user/record/README.md.
 */
#ifndef VFMIG_RECORD_RECORD_H
#define VFMIG_RECORD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "vfmig/abi.h"
#include "vfmig/dirty_window.h"

#define REC_VERSION 1
#define REC_MAX_EVENTS 65536	   /* events in one block at most: one is written at this many */
#define REC_FLUSH_NS 1000000000ull /* and at least this often while events wait */

enum rec_kind {
	REC_EVENTS = 1, /* struct vfmig_event, encoded (codec.c) */
	REC_WINDOWS,	/* struct vfmig_dirty_window, as they are */
	REC_SNAPSHOT,	/* JSON: the probes' figures at one time (snapshot.c) */
	REC_END,	/* JSON: the totals; the file was closed cleanly */
};

struct rec_writer;

/* Creates path with the header (JSON text): NULL with a one-line reason in err. */
struct rec_writer *rec_create(const char *path, const char *header_json, char *err, size_t errlen);
/* Buffer one event or window; a block is written at REC_MAX_EVENTS: 0 or -errno. */
int rec_event(struct rec_writer *w, const struct vfmig_event *e);
int rec_window(struct rec_writer *w, const struct vfmig_dirty_window *dw);
/* Writes what waits when REC_FLUSH_NS passed since the last block (now: CLOCK_MONOTONIC ns). */
int rec_tick(struct rec_writer *w, uint64_t now_ns);
int rec_flush(struct rec_writer *w);
int rec_snapshot(struct rec_writer *w, const char *json);
/* Flushes, writes the END block (json) and closes: 0 or -errno. w is freed either way. */
int rec_close(struct rec_writer *w, const char *end_json);
/* Blocks that could not be written (a full disk): counted in the next snapshot and END. */
uint64_t rec_lost_blocks(const struct rec_writer *w);
uint64_t rec_events_written(const struct rec_writer *w);
uint64_t rec_bytes_written(const struct rec_writer *w);

/* Encodes n events into out (at least n * REC_EVENT_MAX bytes): the bytes used. */
#define REC_EVENT_MAX 96
size_t rec_encode_events(const struct vfmig_event *ev, size_t n, uint8_t *out);
/* Decodes n events: 0, or -1 when the bytes do not hold them (a damaged block). */
int rec_decode_events(const uint8_t *in, size_t len, size_t n, struct vfmig_event *out);

/* Reading. */
struct rec_reader;

struct rec_block {
	enum rec_kind kind;
	uint64_t seq, offset; /* offset: where it starts in the file */
	uint32_t count;	      /* events or windows in it */
	const uint8_t *data;  /* decompressed, valid until the next rec_next */
	size_t len;
};

/* What went wrong with the blocks after the header. */
struct rec_damage {
	bool closed;	      /* an END block was read */
	bool cut;	      /* the file ends inside a block, or without its END block */
	uint64_t cut_offset;  /* where */
	unsigned int skipped; /* damaged stretches skipped */
	uint64_t first_skip;  /* the offset of the first */
	uint64_t missing;     /* sequence numbers never read (skipped or lost blocks) */
};

/*
 * Opens a recording: NULL with a one-line reason in err when it is not one,
 * of another version, or its header is damaged.
 */
struct rec_reader *rec_open(const char *path, char *err, size_t errlen);
/* The same on bytes in memory (copied): the fuzzer and the tests. */
struct rec_reader *rec_open_mem(const uint8_t *buf, size_t len, char *err, size_t errlen);
void rec_reader_close(struct rec_reader *r);
const char *rec_header(const struct rec_reader *r);
uint32_t rec_version(const struct rec_reader *r);
/* The next whole block: 1, or 0 at the end; damaged blocks are skipped and counted. */
int rec_next(struct rec_reader *r, struct rec_block *b);
const struct rec_damage *rec_damage(const struct rec_reader *r);

#endif
