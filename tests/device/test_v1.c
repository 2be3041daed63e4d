// SPDX-License-Identifier: GPL-2.0
/*
 * The v1 migration region protocol on the v2 core: device_state bits, the
 * saving and resuming loops through the data section, and byte-identical
 * streams between the two protocols.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "device/device.h"

#define BM_PARAMS "mem=256k,block=4k,seed=11"
#define NIC_PARAMS "seed=5"

#define OFF_STATE offsetof(struct vfio_device_migration_info, device_state)
#define OFF_PENDING offsetof(struct vfio_device_migration_info, pending_bytes)
#define OFF_DOFF offsetof(struct vfio_device_migration_info, data_offset)
#define OFF_DSIZE offsetof(struct vfio_device_migration_info, data_size)

#define S_STOP 0u
#define S_RUN VFIO_DEVICE_STATE_V1_RUNNING
#define S_SAVE VFIO_DEVICE_STATE_V1_SAVING
#define S_RES VFIO_DEVICE_STATE_V1_RESUMING

struct sbuf {
	uint8_t *p;
	size_t len, cap;
};

static void sbuf_put(struct sbuf *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2 + 4096;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static struct emu_dev *mk(const char *variant, const char *params)
{
	struct emu_dev_cfg cfg = {.variant = variant, .params = params};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev)
		fail_msg("emu_dev_create(%s, %s): %s", variant, params, emu_last_error());
	return dev;
}

static enum vfio_device_mig_state state_of(struct emu_dev *dev)
{
	enum vfio_device_mig_state s = VFIO_DEVICE_STATE_ERROR;

	assert_int_equal(emu_get_state(dev, &s), 0);
	return s;
}

static uint32_t v1_state(struct emu_dev *dev)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(emu_v1_region_read(dev, &v, sizeof(v), OFF_STATE), sizeof(v));
	return v;
}

static int v1_set(struct emu_dev *dev, uint32_t bits)
{
	ssize_t n = emu_v1_region_write(dev, &bits, sizeof(bits), OFF_STATE);

	if (n < 0)
		return -errno;
	assert_int_equal(n, sizeof(bits));
	return 0;
}

static void v1_set_ok(struct emu_dev *dev, uint32_t bits)
{
	if (v1_set(dev, bits))
		fail_msg("v1 device_state %#x: %s (%s)", bits, strerror(errno),
			 emu_dev_strerror(dev));
	assert_int_equal(v1_state(dev), bits);
}

static uint64_t v1_u64(struct emu_dev *dev, uint64_t off)
{
	uint64_t v = 0;

	if (emu_v1_region_read(dev, &v, sizeof(v), off) != sizeof(v))
		fail_msg("v1 read at %llu: %s (%s)", (unsigned long long)off, strerror(errno),
			 emu_dev_strerror(dev));
	return v;
}

static void reset(struct emu_dev *dev)
{
	assert_int_equal(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RUNNING);
}

/* One v1 save iteration: pending_bytes, data_offset, data_size, the data. */
static uint64_t v1_take_chunk(struct emu_dev *dev, struct sbuf *out, uint64_t *pending)
{
	static uint8_t buf[EMU_V1_DATA_SIZE];
	uint64_t off, size, done = 0;

	*pending = v1_u64(dev, OFF_PENDING);
	if (!*pending)
		return 0;
	off = v1_u64(dev, OFF_DOFF);
	assert_int_equal(off, EMU_V1_DATA_OFFSET);
	size = v1_u64(dev, OFF_DSIZE);
	assert_true(size <= EMU_V1_DATA_SIZE);
	/* read the section in odd pieces */
	while (done < size) {
		size_t n = size - done < 5000 ? size - done : 5000;

		assert_int_equal(emu_v1_region_read(dev, buf + done, n, off + done), n);
		done += n;
	}
	sbuf_put(out, buf, size);
	return size;
}

/*
 * The save schedule both protocols follow: pre-copy (if the device has it)
 * drained to its temporary end, work, drained again (rounds times), then
 * stop-copy to the end. Returns the stream and the digest at stop-copy.
 */
static struct sbuf save_v1(struct emu_dev *dev, unsigned int rounds, uint64_t work,
			   uint64_t *digest)
{
	struct sbuf s = {0};
	uint64_t pending;
	unsigned int r;

	if (rounds) {
		v1_set_ok(dev, S_RUN | S_SAVE);
		assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_PRE_COPY);
		for (r = 0; r < rounds; r++) {
			while (v1_take_chunk(dev, &s, &pending))
				;
			assert_int_equal(pending, 0);
			assert_int_equal(emu_dev_run(dev, work), 0);
		}
	}
	v1_set_ok(dev, S_SAVE);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_STOP_COPY);
	for (;;) {
		uint64_t got = v1_take_chunk(dev, &s, &pending);

		if (!pending)
			break;
		assert_true(got > 0); /* pending in stop-copy must come out */
	}
	*digest = emu_dev_digest(dev);
	v1_set_ok(dev, S_STOP);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_STOP);
	return s;
}

static void v2_drain(int fd, struct sbuf *s, bool eof)
{
	uint8_t buf[3333];

	for (;;) {
		ssize_t n = emu_fd_read(fd, buf, sizeof(buf));

		if (n < 0) {
			assert_false(eof);
			assert_int_equal(errno, ENOMSG);
			return;
		}
		if (!n) {
			assert_true(eof);
			return;
		}
		sbuf_put(s, buf, n);
	}
}

static struct sbuf save_v2(struct emu_dev *dev, unsigned int rounds, uint64_t work,
			   uint64_t *digest)
{
	struct sbuf s = {0};
	int fd = -1, fd2;
	unsigned int r;

	if (rounds) {
		assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_PRE_COPY, &fd), 0);
		for (r = 0; r < rounds; r++) {
			v2_drain(fd, &s, false);
			assert_int_equal(emu_dev_run(dev, work), 0);
		}
	}
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd2), 0);
	if (fd2 >= 0)
		fd = fd2;
	assert_true(fd >= EMU_FD_BASE);
	v2_drain(fd, &s, true);
	*digest = emu_dev_digest(dev);
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL), 0);
	assert_int_equal(emu_fd_close(fd), 0);
	return s;
}

/* v1 resume: chunks into the data section, each handed over by writing data_size. */
static int resume_v1(struct emu_dev *dev, const struct sbuf *s, size_t chunk)
{
	size_t off = 0;

	v1_set_ok(dev, S_RES);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RESUMING);
	while (off < s->len) {
		uint64_t n = s->len - off < chunk ? s->len - off : chunk;

		assert_int_equal(emu_v1_region_write(dev, s->p + off, n, EMU_V1_DATA_OFFSET), n);
		if (emu_v1_region_write(dev, &n, sizeof(n), OFF_DSIZE) < 0) {
			assert_int_equal(errno, EINVAL);
			return -EINVAL;
		}
		off += n;
	}
	return v1_set(dev, S_STOP);
}

static void resume_v2(struct emu_dev *dev, const struct sbuf *s)
{
	int fd = -1;

	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd), 0);
	assert_int_equal(emu_fd_write(fd, s->p, s->len), s->len);
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL), 0);
	assert_int_equal(emu_fd_close(fd), 0);
}

/* ---- device_state --------------------------------------------------------- */

static void test_state_reads_running(void **state)
{
	struct emu_dev *dev = mk("nic", NIC_PARAMS);

	(void)state;
	assert_int_equal(v1_state(dev), S_RUN);
	/* RUNNING_P2P reads as _RUNNING too */
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING_P2P, NULL), 0);
	assert_int_equal(v1_state(dev), S_RUN);
	emu_dev_destroy(dev);
}

static void test_state_writes(void **state)
{
	static const struct {
		uint32_t bits;
		enum vfio_device_mig_state v2;
	} map[] = {
		{S_STOP, VFIO_DEVICE_STATE_STOP},      {S_RUN, VFIO_DEVICE_STATE_RUNNING},
		{S_SAVE, VFIO_DEVICE_STATE_STOP_COPY}, {S_RUN | S_SAVE, VFIO_DEVICE_STATE_PRE_COPY},
		{S_RES, VFIO_DEVICE_STATE_RESUMING},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct emu_dev *dev = mk("bigmem", BM_PARAMS);

		v1_set_ok(dev, map[i].bits);
		assert_int_equal(state_of(dev), map[i].v2);
		/* writing the state it is in changes nothing */
		v1_set_ok(dev, map[i].bits);
		assert_int_equal(state_of(dev), map[i].v2);
		emu_dev_destroy(dev);
	}
	/* and a walk through them on one device */
	{
		static const uint32_t walk[] = {S_RUN | S_SAVE, S_SAVE, S_STOP, S_RES,	S_STOP,
						S_RUN,		S_STOP, S_SAVE, S_STOP, S_RUN};
		struct emu_dev *dev = mk("bigmem", BM_PARAMS);

		for (i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
			if (walk[i] == S_STOP && v1_state(dev) == S_RES) {
				/* an empty stream cannot complete RESUMING */
				assert_int_equal(v1_set(dev, S_STOP), -EINVAL);
				reset(dev);
				assert_int_equal(v1_state(dev), S_RUN);
				v1_set_ok(dev, S_STOP);
				continue;
			}
			v1_set_ok(dev, walk[i]);
		}
		emu_dev_destroy(dev);
	}
}

static void test_invalid_state_writes(void **state)
{
	static const uint32_t bad[] = {S_RES | S_RUN, S_RES | S_SAVE, S_RES | S_SAVE | S_RUN};
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(v1_set(dev, bad[i]), -EINVAL);
		assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RUNNING);
		assert_int_equal(v1_state(dev), S_RUN);
	}
	v1_set_ok(dev, S_STOP);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(v1_set(dev, bad[i]), -EINVAL);
		assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_STOP);
	}
	emu_dev_destroy(dev);
}

static void test_error_reads_110(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);

	(void)state;
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, NULL), 0);
	/* STOP_COPY -> STOP ends the stream, then STOP -> RUNNING_P2P fails: ERROR */
	emu_dev_inject_arc_failure(dev, 2, EIO, 1);
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL), -1);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_ERROR);
	assert_int_equal(v1_state(dev), S_SAVE | S_RES);
	/* no state write leaves ERROR; the reset does */
	assert_int_equal(v1_set(dev, S_RUN), -EINVAL);
	assert_int_equal(v1_set(dev, S_SAVE | S_RES), -EINVAL);
	assert_int_equal(v1_state(dev), S_SAVE | S_RES);
	reset(dev);
	assert_int_equal(v1_state(dev), S_RUN);
	emu_dev_destroy(dev);
}

static void test_partial_and_misaligned(void **state)
{
	static const struct {
		uint64_t off;
		size_t len;
	} rd[] = {
		{0, 1},	  {0, 2},  {1, 4},   {2, 4},	{0, 8},	 {4, 4},  {4, 8},
		{8, 4},	  {12, 4}, {9, 8},   {16, 4},	{20, 4}, {24, 4}, {28, 4},
		{24, 16}, {32, 8}, {100, 4}, {4092, 8}, {0, 32}, {8, 2},  {16, 1},
	};
	static const struct {
		uint64_t off;
		size_t len;
	} wr[] = {
		{0, 1},	 {0, 2},  {2, 4},  {0, 8},  {8, 8}, {16, 8},
		{24, 4}, {28, 4}, {20, 8}, {32, 8}, {4, 4},
	};
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint8_t buf[64] = {0};
	size_t i;

	(void)state;
	/* in pre-copy, where every field is readable */
	v1_set_ok(dev, S_RUN | S_SAVE);
	for (i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		errno = 0;
		if (emu_v1_region_read(dev, buf, rd[i].len, rd[i].off) != -1 || errno != EINVAL)
			fail_msg("read %zu at %llu: not EINVAL", rd[i].len,
				 (unsigned long long)rd[i].off);
	}
	for (i = 0; i < sizeof(wr) / sizeof(wr[0]); i++) {
		errno = 0;
		if (emu_v1_region_write(dev, buf, wr[i].len, wr[i].off) != -1 || errno != EINVAL)
			fail_msg("write %zu at %llu: not EINVAL", wr[i].len,
				 (unsigned long long)wr[i].off);
	}
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_PRE_COPY);
	/* the data section ends where the region does */
	assert_int_equal(emu_v1_region_read(dev, buf, 16, EMU_V1_REGION_SIZE - 8), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(emu_v1_region_write(dev, buf, 1, EMU_V1_REGION_SIZE), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(emu_v1_region_read(dev, buf, 8, EMU_V1_REGION_SIZE - 8), 8);
	assert_int_equal(emu_v1_region_read(dev, buf, 8, UINT64_MAX - 3), -1);
	assert_int_equal(errno, EINVAL);
	emu_dev_destroy(dev);
}

static void test_precopy_without_pre_copy(void **state)
{
	struct emu_dev *dev = mk("nic", NIC_PARAMS);

	(void)state;
	assert_int_equal(v1_set(dev, S_RUN | S_SAVE), -EINVAL);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(v1_state(dev), S_RUN);
	v1_set_ok(dev, S_STOP);
	assert_int_equal(v1_set(dev, S_RUN | S_SAVE), -EINVAL);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_STOP);
	emu_dev_destroy(dev);
}

/* ---- streams -------------------------------------------------------------- */

static const struct {
	const char *variant, *params;
	unsigned int rounds;
	uint64_t work;
} cases[] = {
	{"nic", NIC_PARAMS, 0, 0},
	{"bigmem", BM_PARAMS, 0, 0},
	{"bigmem", BM_PARAMS, 1, 0},
	{"bigmem", BM_PARAMS, 1, 30},
	{"bigmem", BM_PARAMS, 4, 25},
	{"bigmem", "mem=2m,block=8k", 3, 100},
	{"bigmem", "mem=4m,block=64k", 2, 10},
};

/* Twin devices, the same work: the v1 and the v2 save give the same bytes. */
static void test_v1_v2_streams_identical(void **state)
{
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct emu_dev *a = mk(cases[c].variant, cases[c].params);
		struct emu_dev *b = mk(cases[c].variant, cases[c].params);
		uint64_t da, db;
		struct sbuf sa, sb;

		assert_int_equal(emu_dev_run(a, 300), 0);
		assert_int_equal(emu_dev_run(b, 300), 0);
		sa = save_v1(a, cases[c].rounds, cases[c].work, &da);
		sb = save_v2(b, cases[c].rounds, cases[c].work, &db);
		assert_int_equal(da, db);
		assert_int_equal(sa.len, sb.len);
		assert_memory_equal(sa.p, sb.p, sa.len);
		free(sa.p);
		free(sb.p);
		emu_dev_destroy(a);
		emu_dev_destroy(b);
	}
}

static void test_cross_resume(void **state)
{
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct emu_dev *a = mk(cases[c].variant, cases[c].params);
		struct emu_dev *b = mk(cases[c].variant, cases[c].params);
		struct emu_dev *ra = mk(cases[c].variant, cases[c].params);
		struct emu_dev *rb = mk(cases[c].variant, cases[c].params);
		uint64_t da, db, before = emu_dev_digest(ra);
		struct sbuf sa, sb;

		assert_int_equal(emu_dev_run(a, 500), 0);
		assert_int_equal(emu_dev_run(b, 77), 0);
		sa = save_v1(a, cases[c].rounds, cases[c].work, &da);
		sb = save_v2(b, cases[c].rounds, cases[c].work, &db);
		assert_int_not_equal(da, before);
		/* v1 stream through v2 */
		resume_v2(ra, &sa);
		assert_int_equal(emu_dev_digest(ra), da);
		/* v2 stream through v1, in chunks of several sizes */
		assert_int_equal(resume_v1(rb, &sb, EMU_V1_DATA_SIZE), 0);
		assert_int_equal(state_of(rb), VFIO_DEVICE_STATE_STOP);
		assert_int_equal(emu_dev_digest(rb), db);
		v1_set_ok(rb, S_RUN);
		reset(rb);
		assert_int_equal(resume_v1(rb, &sb, 1000 + c), 0);
		assert_int_equal(emu_dev_digest(rb), db);
		v1_set_ok(rb, S_RUN);
		free(sa.p);
		free(sb.p);
		emu_dev_destroy(a);
		emu_dev_destroy(b);
		emu_dev_destroy(ra);
		emu_dev_destroy(rb);
	}
}

/* A device saved through v1 can be saved through v1 again (the region is reusable). */
static void test_v1_save_twice(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint64_t d1, d2;
	struct sbuf s1, s2;

	(void)state;
	s1 = save_v1(dev, 2, 20, &d1);
	v1_set_ok(dev, S_RUN);
	/* no save running: pending_bytes and data_offset are refused, data_size reads 0 */
	assert_int_equal(emu_v1_region_read(dev, &d2, 8, OFF_PENDING), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(v1_u64(dev, OFF_DSIZE), 0);
	s2 = save_v1(dev, 0, 0, &d2);
	assert_int_equal(d1, d2);
	{
		struct emu_dev *r = mk("bigmem", BM_PARAMS);

		assert_int_equal(resume_v1(r, &s2, 65536), 0);
		assert_int_equal(emu_dev_digest(r), d2);
		emu_dev_destroy(r);
	}
	free(s1.p);
	free(s2.p);
	emu_dev_destroy(dev);
}

static void test_corrupt_chunk_refused(void **state)
{
	struct emu_dev *src = mk("bigmem", BM_PARAMS);
	uint64_t d;
	struct sbuf s = save_v1(src, 1, 10, &d);
	static const size_t where[] = {3, 40, 100, 70000, 0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		struct emu_dev *dst = mk("bigmem", BM_PARAMS);
		uint64_t before = emu_dev_digest(dst);
		size_t at = where[i] ? where[i] : s.len - 1;
		struct sbuf t = {0};

		sbuf_put(&t, s.p, s.len);
		t.p[at] ^= 0x20;
		assert_int_equal(resume_v1(dst, &t, 50000), -EINVAL);
		assert_int_equal(state_of(dst), VFIO_DEVICE_STATE_RESUMING);
		assert_int_equal(v1_state(dst), S_RES);
		assert_int_equal(emu_dev_digest(dst), before);
		/* a later good chunk does not rescue it */
		assert_int_equal(v1_set(dst, S_STOP), -EINVAL);
		assert_int_equal(emu_dev_digest(dst), before);
		reset(dst);
		assert_int_equal(emu_dev_digest(dst) == d, false);
		free(t.p);
		emu_dev_destroy(dst);
	}
	/* a cut stream: every data_size write is taken, the state write is refused */
	{
		struct emu_dev *dst = mk("bigmem", BM_PARAMS);
		uint64_t before = emu_dev_digest(dst);
		struct sbuf t = {0};

		sbuf_put(&t, s.p, s.len - 9);
		assert_int_equal(resume_v1(dst, &t, 50000), -EINVAL);
		assert_int_equal(state_of(dst), VFIO_DEVICE_STATE_RESUMING);
		assert_int_equal(emu_dev_digest(dst), before);
		free(t.p);
		emu_dev_destroy(dst);
	}
	/* data_size beyond the section */
	{
		struct emu_dev *dst = mk("bigmem", BM_PARAMS);
		uint64_t n = EMU_V1_DATA_SIZE + 1;

		v1_set_ok(dst, S_RES);
		assert_int_equal(emu_v1_region_write(dst, &n, sizeof(n), OFF_DSIZE), -1);
		assert_int_equal(errno, EINVAL);
		emu_dev_destroy(dst);
	}
	free(s.p);
	emu_dev_destroy(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_reads_running),
		cmocka_unit_test(test_state_writes),
		cmocka_unit_test(test_invalid_state_writes),
		cmocka_unit_test(test_error_reads_110),
		cmocka_unit_test(test_partial_and_misaligned),
		cmocka_unit_test(test_precopy_without_pre_copy),
		cmocka_unit_test(test_v1_v2_streams_identical),
		cmocka_unit_test(test_cross_resume),
		cmocka_unit_test(test_v1_save_twice),
		cmocka_unit_test(test_corrupt_chunk_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
