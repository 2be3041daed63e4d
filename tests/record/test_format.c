// SPDX-License-Identifier: GPL-2.0
/*
 * The recording format on its own: events come back exactly as written,
 * whatever their values; a file cut at any byte or with any byte flipped is
 * never read as clean, never crashes the reader, and keeps every event of
 * the blocks before the damage. The truth is the events the test wrote.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "record/record.h"

#define NEV 300

static void make_events(struct vfmig_event *ev, size_t n, unsigned int seed)
{
	size_t i;

	srand(seed);
	for (i = 0; i < n; i++) {
		struct vfmig_event *e = &ev[i];

		memset(e, 0, sizeof(*e));
		/* times mostly rising, sometimes back (CPUs' rings interleave) */
		e->ts_ns = 1000000000ull + i * 3000 - (uint64_t)(rand() % 4000);
		e->dev = i % 7 == 0 ? (1ull << 63) | (uint64_t)rand() << 3
				    : vfmig_dev_emu(1234, vfmig_obj(0, (uint32_t)(i % 3)));
		e->a = i % 5 == 0 ? ~0ull : (uint64_t)rand() << 12;
		e->b = (uint64_t)rand();
		e->c = i % 11 == 0 ? 0x8000000000000000ull : (uint64_t)(i & 0xff);
		e->d = (uint64_t)rand() * (uint64_t)rand();
		e->pid = 1234 + (uint32_t)(i % 2);
		e->tid = e->pid + (uint32_t)(i % 4);
		e->type = i % 13 == 0 ? 200 : (uint16_t)(1 + i % 18);
		e->source = i % 17 == 0 ? 9 : (uint16_t)(1 + i % 5);
		e->from = (uint8_t)(i % 8);
		e->to = (uint8_t)rand();
		e->result = i % 3 ? -(int32_t)(i % 40) : (int32_t)rand();
	}
}

static void assert_same(const struct vfmig_event *a, const struct vfmig_event *b)
{
	assert_int_equal(a->ts_ns, b->ts_ns);
	assert_int_equal(a->dev, b->dev);
	assert_int_equal(a->a, b->a);
	assert_int_equal(a->b, b->b);
	assert_int_equal(a->c, b->c);
	assert_int_equal(a->d, b->d);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->source, b->source);
	assert_int_equal(a->from, b->from);
	assert_int_equal(a->to, b->to);
	assert_int_equal(a->result, b->result);
}

static void test_codec_round_trip(void **state)
{
	struct vfmig_event ev[NEV], back[NEV + 1];
	uint8_t *buf = malloc(NEV * REC_EVENT_MAX);
	size_t len;

	(void)state;
	make_events(ev, NEV, 1);
	/* more devices than a block's table holds */
	for (size_t i = 0; i < NEV; i++)
		if (i % 2)
			ev[i].dev = 0x1000 + i;
	len = rec_encode_events(ev, NEV, buf);
	assert_int_equal(rec_decode_events(buf, len, NEV, back), 0);
	for (size_t i = 0; i < NEV; i++)
		assert_same(&ev[i], &back[i]);
	assert_int_equal(rec_decode_events(buf, len - 1, NEV, back), -1);
	assert_int_equal(rec_decode_events(buf, len, NEV + 1, back), -1);
	free(buf);
}

/* A small recording of NEV events in blocks of 100, windows and a snapshot; its bytes. */
static uint8_t *small_recording(size_t *len, struct vfmig_event *ev, size_t *block_end)
{
	char path[] = "/tmp/vfmig-rec-XXXXXX", err[128];
	int fd = mkstemp(path);
	struct vfmig_dirty_window w = {.start = 0x7f0000000000ull, .len = 1 << 20, .pid = 1234};
	struct rec_writer *wr;
	uint8_t *buf;
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	make_events(ev, NEV, 2);
	wr = rec_create(path, "{\"host\":\"test\"}", err, sizeof(err));
	assert_non_null(wr);
	for (size_t i = 0; i < NEV; i++) {
		assert_int_equal(rec_event(wr, &ev[i]), 0);
		if (i % 100 == 99) {
			assert_int_equal(rec_flush(wr), 0);
			block_end[i / 100] = rec_bytes_written(wr);
			w.window = i / 100;
			assert_int_equal(rec_window(wr, &w), 0);
			assert_int_equal(rec_flush(wr), 0);
		}
	}
	assert_int_equal(rec_snapshot(wr, "{\"t_ns\":1}"), 0);
	assert_int_equal(rec_close(wr, "{\"events\":300}"), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	unlink(path);
	return buf;
}

/* Reads buf: -1 not opened, else the events read into out (and whether it read clean). */
static int read_events(const uint8_t *buf, size_t len, struct vfmig_event *out, bool *clean)
{
	char err[128];
	struct rec_reader *r = rec_open_mem(buf, len, err, sizeof(err));
	struct rec_block b;
	int n = 0;

	if (!r)
		return -1;
	while (rec_next(r, &b) > 0) {
		if (b.kind != REC_EVENTS)
			continue;
		assert_true(n + b.count <= NEV);
		assert_int_equal(rec_decode_events(b.data, b.len, b.count, out + n), 0);
		n += (int)b.count;
	}
	*clean = rec_damage(r)->closed && !rec_damage(r)->cut && !rec_damage(r)->skipped &&
		 !rec_damage(r)->missing;
	rec_reader_close(r);
	return n;
}

static void test_clean_file(void **state)
{
	struct vfmig_event ev[NEV], back[NEV];
	size_t len, ends[3];
	uint8_t *buf = small_recording(&len, ev, ends);
	bool clean = false;

	(void)state;
	assert_int_equal(read_events(buf, len, back, &clean), NEV);
	assert_true(clean);
	for (size_t i = 0; i < NEV; i++)
		assert_same(&ev[i], &back[i]);
	free(buf);
}

/* Cut at every byte: never clean; every block wholly before the cut is read. */
static void test_every_truncation(void **state)
{
	struct vfmig_event ev[NEV], back[NEV];
	size_t len, ends[3];
	uint8_t *buf = small_recording(&len, ev, ends);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		bool clean = true;
		int n = read_events(buf, cut, back, &clean), want = 0;

		for (int k = 0; k < 3; k++)
			if (ends[k] <= cut)
				want = (k + 1) * 100;
		if (n < 0) { /* the header itself was cut */
			assert_true(cut < ends[0]);
			continue;
		}
		assert_false(clean);
		assert_int_equal(n, want);
		for (int i = 0; i < n; i++)
			assert_same(&ev[i], &back[i]);
	}
	free(buf);
}

/* Any byte flipped: refused (the header) or read as damaged, the other blocks' events kept. */
static void test_every_byte_flip(void **state)
{
	struct vfmig_event ev[NEV], back[NEV];
	size_t len, ends[3];
	uint8_t *buf = small_recording(&len, ev, ends);

	(void)state;
	for (size_t at = 0; at < len; at++) {
		bool clean = true;
		int n;

		buf[at] ^= 0x5a;
		n = read_events(buf, len, back, &clean);
		buf[at] ^= 0x5a;
		if (n < 0) /* refused: the header */
			continue;
		if (clean)
			fail_msg("flipped byte %zu of %zu read as clean", at, len);
		assert_true(n == NEV || n == NEV - 100); /* one block of events lost at most */
	}
	free(buf);
}

static void test_not_a_recording(void **state)
{
	const char *junk = "hello, this is not a recording at all";
	uint8_t hdr[24] = "VFMIGREC";
	char err[128];

	(void)state;
	assert_null(rec_open_mem((const uint8_t *)junk, strlen(junk), err, sizeof(err)));
	assert_non_null(strstr(err, "not a vfmig recording"));
	hdr[8] = 99; /* version 99 */
	assert_null(rec_open_mem(hdr, sizeof(hdr), err, sizeof(err)));
	assert_non_null(strstr(err, "version 99"));
	assert_null(rec_open("/nonexistent/file", err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_round_trip), cmocka_unit_test(test_clean_file),
		cmocka_unit_test(test_every_truncation), cmocka_unit_test(test_every_byte_flip),
		cmocka_unit_test(test_not_a_recording),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
