// SPDX-License-Identifier: GPL-2.0
/* The stream tests' fixture: see fixture_stream.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/fixture_stream.h"

void sbuf_put(struct sbuf *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2 + 4096;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static uint64_t rng_state = 0x1234567;

uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
}

struct emu_dev *mk(const char *variant, const char *params)
{
	struct emu_dev_cfg cfg = {.variant = variant, .params = params};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev)
		fail_msg("emu_dev_create(%s, %s): %s", variant, params, emu_last_error());
	return dev;
}

enum vfio_device_mig_state state_of(struct emu_dev *dev)
{
	enum vfio_device_mig_state s = VFIO_DEVICE_STATE_ERROR;

	assert_int_equal(emu_get_state(dev, &s), 0);
	return s;
}

int set_ok(struct emu_dev *dev, enum vfio_device_mig_state s)
{
	int fd = -2;

	if (emu_set_state(dev, s, &fd))
		fail_msg("SET %s: %s (%s)", vfio_state_name(s), strerror(errno),
			 emu_dev_strerror(dev));
	assert_int_equal(state_of(dev), s);
	return fd;
}

uint64_t data_size(struct emu_dev *dev)
{
	uint64_t n = 0;

	assert_int_equal(emu_get_data_size(dev, &n), 0);
	return n;
}

void reset(struct emu_dev *dev)
{
	assert_int_equal(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RUNNING);
}

/* Reads until EOF (STOP_COPY) or ENOMSG (PRE_COPY) in chunks; returns the bytes read. */
size_t drain(int fd, struct sbuf *out, size_t chunk, bool expect_eof)
{
	uint8_t buf[8192];
	size_t total = 0;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	for (;;) {
		ssize_t n = emu_fd_read(fd, buf, chunk);

		if (n < 0) {
			assert_false(expect_eof);
			assert_int_equal(errno, ENOMSG);
			break;
		}
		if (n == 0) {
			assert_true(expect_eof);
			break;
		}
		if (out)
			sbuf_put(out, buf, n);
		total += n;
	}
	return total;
}

/* STOP_COPY save of dev from RUNNING (through STOP): the stream, and the digest at STOP_COPY. */
struct sbuf save_stop_copy(struct emu_dev *dev, uint64_t *digest)
{
	struct sbuf s = {0};
	int fd;

	fd = set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	assert_true(fd >= EMU_FD_BASE);
	drain(fd, &s, 100, true);
	*digest = emu_dev_digest(dev);
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	return s;
}

/*
 * A bigmem save with pre-copy rounds; the device works between reads (odd
 * read sizes, so blocks are mid-record when rewritten and are sent again).
 */
struct sbuf save_precopy(struct emu_dev *dev, unsigned int rounds, uint64_t work, uint64_t *digest)
{
	struct sbuf s = {0};
	uint8_t buf[3000];
	unsigned int r;
	int fd, fd2;

	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_true(fd >= EMU_FD_BASE);
	for (r = 0; r < rounds; r++) {
		for (;;) {
			ssize_t n = emu_fd_read(fd, buf, 1 + rnd() % sizeof(buf));

			if (n < 0) {
				assert_int_equal(errno, ENOMSG);
				break;
			}
			assert_true(n > 0);
			sbuf_put(&s, buf, n);
			/* about one rewrite per 4 reads: slower than the reads, so rounds end */
			if (work && rnd() % 4 == 0)
				assert_int_equal(emu_dev_run(dev, 1), 0);
			assert_true(s.len < (8u << 20));
		}
		if (work)
			assert_int_equal(emu_dev_run(dev, work), 0);
	}
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd2), 0);
	assert_int_equal(fd2, -1);
	drain(fd, &s, 777, true);
	*digest = emu_dev_digest(dev);
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	return s;
}

/* Resumes dev from the stream written in segments of seg bytes (0: random sizes). */
void resume_ok(struct emu_dev *dev, const struct sbuf *s, size_t seg, uint64_t want)
{
	size_t off = 0;
	int fd;

	fd = set_ok(dev, VFIO_DEVICE_STATE_RESUMING);
	assert_true(fd >= EMU_FD_BASE);
	while (off < s->len) {
		size_t n = seg ? seg : 1 + rnd() % 20000;
		ssize_t w;

		if (n > s->len - off)
			n = s->len - off;
		w = emu_fd_write(fd, s->p + off, n);
		if (w < 0)
			fail_msg("write at %zu: %s (%s)", off, strerror(errno),
				 emu_dev_strerror(dev));
		assert_int_equal(w, n);
		off += n;
	}
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_dev_digest(dev), want);
	assert_int_equal(emu_fd_close(fd), 0);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
}
