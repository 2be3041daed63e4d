// SPDX-License-Identifier: GPL-2.0
/*
 * The migration data stream (uAPI v2): data_fd handles, PRE_COPY / STOP_COPY
 * read semantics, PRECOPY_INFO, MIG_DATA_SIZE, resume in any segmentation,
 * and the all-or-nothing refusal of damaged or foreign streams.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/vfmig_test.h"
#include "device/device_priv.h"

#define NIC_PARAMS ""
#define BM_PARAMS "mem=256k,block=4k,seed=3"
#define BM_BLOCK 4096u
#define BM_NBLOCKS 64u
#define BM_BLOCK_REC (BM_BLOCK + EMU_REC_FRAME)
#define HEAD_REC (EMU_REC_FRAME + sizeof(struct emu_stream_head))
#define END_REC (EMU_REC_FRAME + sizeof(struct emu_stream_end))
#define HASH_SEED 0x76666d6967ull
#define NIC_REGS_REC (EMU_REC_FRAME + 72u) /* struct nic_regs in variant_nic.c */
#define BM_REGS_REC (EMU_REC_FRAME + 32u)  /* struct bigmem_regs in variant_bigmem.c */

/* A growing byte buffer for saved streams. */
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

static uint64_t rng_state = 0x1234567;

static uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
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

static int set_ok(struct emu_dev *dev, enum vfio_device_mig_state s)
{
	int fd = -2;

	if (emu_set_state(dev, s, &fd))
		fail_msg("SET %s: %s (%s)", vfio_state_name(s), strerror(errno),
			 emu_dev_strerror(dev));
	assert_int_equal(state_of(dev), s);
	return fd;
}

static uint64_t data_size(struct emu_dev *dev)
{
	uint64_t n = 0;

	assert_int_equal(emu_get_data_size(dev, &n), 0);
	return n;
}

static void reset(struct emu_dev *dev)
{
	assert_int_equal(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RUNNING);
}

/* Reads until EOF (STOP_COPY) or ENOMSG (PRE_COPY) in chunks; returns the bytes read. */
static size_t drain(int fd, struct sbuf *out, size_t chunk, bool expect_eof)
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
static struct sbuf save_stop_copy(struct emu_dev *dev, uint64_t *digest)
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
static struct sbuf save_precopy(struct emu_dev *dev, unsigned int rounds, uint64_t work,
				uint64_t *digest)
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
static void resume_ok(struct emu_dev *dev, const struct sbuf *s, size_t seg, uint64_t want)
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

/*
 * Feeds a stream that must be refused: a write fails with EINVAL or RESUMING
 * -> STOP does. Afterwards the device is still RESUMING with nothing loaded,
 * and a reset brings it back to RUNNING. Returns the reason given (the first
 * one: the write's if a write failed), and in *at_stop the reason given by
 * the refused RESUMING -> STOP.
 */
static void refuse(struct emu_dev *dev, const uint8_t *p, size_t len, size_t seg, char *why,
		   char *at_stop)
{
	uint64_t before = emu_dev_digest(dev);
	bool write_failed = false;
	size_t off = 0;
	int fd;

	why[0] = at_stop[0] = 0;
	fd = set_ok(dev, VFIO_DEVICE_STATE_RESUMING);
	while (off < len) {
		size_t n = seg && seg < len - off ? seg : len - off;
		ssize_t w = emu_fd_write(fd, p + off, n);

		if (w < 0) {
			assert_int_equal(errno, EINVAL);
			snprintf(why, 256, "%s", emu_dev_strerror(dev));
			write_failed = true;
			break;
		}
		assert_int_equal(w, n);
		off += n;
	}
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL), -1);
	assert_int_equal(errno, EINVAL);
	snprintf(at_stop, 256, "%s", emu_dev_strerror(dev));
	if (!write_failed)
		snprintf(why, 256, "%s", at_stop);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RESUMING);
	assert_int_equal(emu_dev_digest(dev), before);
	assert_null(strchr(why, '\n'));
	assert_null(strchr(at_stop, '\n'));
	assert_int_equal(emu_fd_close(fd), 0);
	reset(dev);
}

/* ---- handles ------------------------------------------------------------ */

static void test_saving_group_shares_one_handle(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	int fd, fd2, fd3, again;
	uint8_t b[64];

	(void)state;
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_true(fd >= EMU_FD_BASE);
	assert_int_equal(emu_fd_read(fd, b, sizeof(b)), sizeof(b));
	fd2 = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P);
	assert_int_equal(fd2, -1);
	fd3 = set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(fd3, -1);
	/* the same handle goes on where it was */
	assert_true(drain(fd, NULL, 4096, true) > 0);
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	/* a new entry, the old handle still open: another handle */
	again = set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	assert_true(again >= EMU_FD_BASE);
	assert_int_not_equal(again, fd);
	assert_int_equal(emu_fd_read(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(emu_fd_read(again, b, sizeof(b)), sizeof(b));
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	fd2 = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P);
	assert_true(fd2 >= EMU_FD_BASE);
	assert_int_not_equal(fd2, fd);
	assert_int_not_equal(fd2, again);
	assert_int_equal(set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY), -1);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(emu_fd_close(again), 0);
	assert_int_equal(emu_fd_close(fd2), 0);
	emu_dev_destroy(dev);
}

static void test_precopy_reads_enomsg_and_info(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint64_t full = HEAD_REC + BM_NBLOCKS * BM_BLOCK_REC, initial, dirty, read = 0;
	uint8_t buf[5000];
	int fd;

	(void)state;
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial, full);
	assert_int_equal(dirty, 0);
	assert_true(emu_fd_poll(fd) & POLLIN);
	for (;;) {
		ssize_t n = emu_fd_read(fd, buf, 1 + rnd() % sizeof(buf));

		if (n < 0) {
			assert_int_equal(errno, ENOMSG);
			break;
		}
		read += n;
		assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
		assert_int_equal(initial, full - read);
		assert_int_equal(dirty, 0);
	}
	assert_int_equal(read, full);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial, 0);
	assert_int_equal(dirty, 0);
	assert_false(emu_fd_poll(fd) & POLLIN);
	/* the temporary end stays until the device works */
	assert_int_equal(emu_fd_read(fd, buf, 1), -1);
	assert_int_equal(errno, ENOMSG);
	assert_int_equal(emu_dev_run(dev, 5), 0);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial, 0);
	assert_true(dirty >= BM_BLOCK_REC);
	assert_int_equal(dirty % BM_BLOCK_REC, 0);
	assert_true(emu_fd_poll(fd) & POLLIN);
	assert_int_equal(drain(fd, NULL, 1000, false), dirty);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial + dirty, 0);
	/* PRE_COPY_P2P reads the same way */
	set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P);
	assert_int_equal(emu_fd_read(fd, buf, 10), -1);
	assert_int_equal(errno, ENOMSG);
	assert_int_equal(emu_dev_run(dev, 1), 0);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(dirty, BM_BLOCK_REC);
	assert_int_equal(drain(fd, NULL, 999, false), BM_BLOCK_REC);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

/*
 * Once the initial data is out, a dirty block being read is dirty data: a
 * partial read of it must not turn it into initial_bytes (initial_bytes
 * "decreases as migration data is read" and is the signal to go to STOP_COPY).
 */
static void test_precopy_partial_dirty_read_stays_dirty(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint64_t initial, dirty, dirty0;
	uint8_t buf[100];
	int fd;

	(void)state;
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	drain(fd, NULL, 4096, false);
	assert_int_equal(emu_dev_run(dev, 3), 0);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty0), 0);
	assert_int_equal(initial, 0);
	assert_true(dirty0 >= BM_BLOCK_REC);
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial + dirty, dirty0 - sizeof(buf));
	assert_int_equal(initial, 0);
	assert_int_equal(dirty, dirty0 - sizeof(buf));
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

static void test_stop_copy_ends_with_eof(void **state)
{
	struct emu_dev *nic = mk("nic", NIC_PARAMS), *bm = mk("bigmem", BM_PARAMS);
	struct vfio_precopy_info info = {.argsz = sizeof(info)};
	uint8_t buf[64];
	int fd, i;

	(void)state;
	fd = set_ok(nic, VFIO_DEVICE_STATE_STOP_COPY);
	assert_true(emu_fd_poll(fd) & POLLIN);
	assert_int_equal(drain(fd, NULL, 7, true), HEAD_REC + NIC_REGS_REC + END_REC);
	for (i = 0; i < 5; i++) {
		assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), 0);
		assert_true(emu_fd_poll(fd) & POLLIN);
	}
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	set_ok(nic, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);

	/* STOP_COPY after a drained PRE_COPY: the rest, then EOF, never ENOMSG */
	fd = set_ok(bm, VFIO_DEVICE_STATE_PRE_COPY);
	drain(fd, NULL, 4096, false);
	set_ok(bm, VFIO_DEVICE_STATE_STOP_COPY);
	assert_true(emu_fd_poll(fd) & POLLIN);
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(drain(fd, NULL, 11, true), BM_REGS_REC + END_REC);
	for (i = 0; i < 5; i++)
		assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), 0);
	set_ok(bm, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	emu_dev_destroy(nic);
	emu_dev_destroy(bm);
}

static void test_poll(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	int fd, rfd;

	(void)state;
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(emu_fd_poll(fd), POLLIN);
	drain(fd, NULL, 4096, false);
	assert_int_equal(emu_fd_poll(fd) & (POLLIN | POLLOUT), 0);
	emu_dev_run(dev, 1);
	assert_int_equal(emu_fd_poll(fd), POLLIN);
	set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(emu_fd_poll(fd), POLLIN);
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_poll(fd) & (POLLIN | POLLOUT), 0);
	rfd = set_ok(dev, VFIO_DEVICE_STATE_RESUMING);
	assert_int_equal(emu_fd_poll(rfd), POLLOUT);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(emu_fd_poll(fd), POLLNVAL);
	reset(dev);
	assert_int_equal(emu_fd_poll(rfd) & (POLLIN | POLLOUT), 0);
	assert_int_equal(emu_fd_close(rfd), 0);
	assert_int_equal(emu_fd_poll(12345), POLLNVAL);
	emu_dev_destroy(dev);
}

static void test_handle_misuse(void **state)
{
	struct emu_dev *bm = mk("bigmem", BM_PARAMS), *nic = mk("nic", NIC_PARAMS);
	struct vfio_precopy_info info = {.argsz = sizeof(info)};
	const int bogus[] = {
		0, 1, 2, -1, 12345, EMU_FD_BASE - 1, EMU_FD_BASE + 4095, EMU_FD_BASE + 100000};
	uint8_t buf[16] = {0};
	int fd, rfd;
	size_t i;

	(void)state;
	fd = set_ok(bm, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(emu_fd_write(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(emu_fd_ioctl(fd, VFIO_DEVICE_RESET, &info), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO + 1, &info), -1);
	assert_int_equal(errno, ENOTTY);
	info.argsz = sizeof(info) - 1;
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	info.argsz = 0;
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	info.argsz = sizeof(info) + 8;
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), 0);
	set_ok(bm, VFIO_DEVICE_STATE_STOP_COPY);
	info.argsz = sizeof(info);
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	set_ok(bm, VFIO_DEVICE_STATE_STOP);

	rfd = set_ok(nic, VFIO_DEVICE_STATE_RESUMING);
	assert_true(rfd >= EMU_FD_BASE);
	assert_int_equal(emu_fd_read(rfd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(emu_fd_ioctl(rfd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(emu_fd_ioctl(rfd, 0x1234, &info), -1);
	assert_int_equal(errno, ENOTTY);

	for (i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		errno = 0;
		assert_int_equal(emu_fd_read(bogus[i], buf, sizeof(buf)), -1);
		assert_int_equal(errno, EBADF);
		errno = 0;
		assert_int_equal(emu_fd_write(bogus[i], buf, sizeof(buf)), -1);
		assert_int_equal(errno, EBADF);
		errno = 0;
		assert_int_equal(emu_fd_ioctl(bogus[i], VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
		assert_int_equal(errno, EBADF);
		errno = 0;
		assert_int_equal(emu_fd_close(bogus[i]), -1);
		assert_int_equal(errno, EBADF);
	}

	/* closed handles are gone, even while the stream is live */
	assert_int_equal(emu_fd_close(rfd), 0);
	assert_int_equal(emu_fd_write(rfd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(emu_fd_close(rfd), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(emu_fd_close(fd), -1);
	assert_int_equal(errno, EBADF);
	emu_dev_destroy(bm);
	emu_dev_destroy(nic);
}

static void expect_enodev_read(int fd)
{
	struct vfio_precopy_info info = {.argsz = sizeof(info)};
	uint8_t buf[16];

	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info), -1);
	assert_true(errno == EINVAL || errno == ENODEV);
}

static void test_ended_streams(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint8_t buf[16] = {0};
	int fd, fd2, rfd;

	(void)state;
	/* STOP_COPY -> STOP */
	fd = set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), sizeof(buf));
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	expect_enodev_read(fd);
	assert_int_equal(emu_fd_close(fd), 0);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);

	/* PRE_COPY -> RUNNING, then a new entry: another handle, the old one stays dead */
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	expect_enodev_read(fd);
	fd2 = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_true(fd2 >= EMU_FD_BASE);
	assert_int_not_equal(fd2, fd);
	expect_enodev_read(fd);
	assert_int_equal(emu_fd_read(fd2, buf, sizeof(buf)), sizeof(buf));

	/* reset in PRE_COPY */
	reset(dev);
	expect_enodev_read(fd2);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(emu_fd_close(fd2), 0);

	/* reset in RESUMING */
	rfd = set_ok(dev, VFIO_DEVICE_STATE_RESUMING);
	reset(dev);
	assert_int_equal(emu_fd_write(rfd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(emu_fd_close(rfd), 0);
	assert_int_equal(emu_fd_write(rfd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);

	/* a handle closed while live, then its stream ended */
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
	emu_dev_destroy(dev);
}

/* ---- MIG_DATA_SIZE -------------------------------------------------------- */

static void test_data_size_exact(void **state)
{
	static const char *const variants[][2] = {{"nic", NIC_PARAMS}, {"bigmem", BM_PARAMS}};
	uint8_t buf[3000];
	size_t m;

	(void)state;
	for (m = 0; m < 2; m++) {
		struct emu_dev *dev = mk(variants[m][0], variants[m][1]);
		uint64_t want;
		int fd, k;

		/* RUNNING, after some work */
		emu_dev_run(dev, 100);
		want = data_size(dev);
		set_ok(dev, VFIO_DEVICE_STATE_STOP);
		assert_int_equal(data_size(dev), want);
		fd = set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
		assert_int_equal(data_size(dev), want);
		/* STOP_COPY after partial reads: exactly what is left */
		for (k = 0; k < 4; k++) {
			ssize_t n = emu_fd_read(fd, buf, 1 + rnd() % 50);

			assert_true(n > 0);
			want -= n;
			assert_int_equal(data_size(dev), want);
		}
		assert_int_equal(drain(fd, NULL, 1 + rnd() % 3000, true), want);
		assert_int_equal(data_size(dev), 0);
		set_ok(dev, VFIO_DEVICE_STATE_STOP);
		assert_int_equal(emu_fd_close(fd), 0);
		emu_dev_destroy(dev);
	}
}

static void test_data_size_exact_precopy(void **state)
{
	static const size_t cut[] = {0, 1, 63, 64, 65, 5000, 100000, 200000};
	uint8_t buf[3000];
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cut) / sizeof(cut[0]); c++) {
		struct emu_dev *dev = mk("bigmem", BM_PARAMS);
		size_t done = 0;
		uint64_t want;
		int fd;

		fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
		while (done < cut[c]) {
			size_t n = cut[c] - done < sizeof(buf) ? cut[c] - done : sizeof(buf);

			assert_int_equal(emu_fd_read(fd, buf, n), n);
			done += n;
			if (c % 2)
				emu_dev_run(dev, 3);
		}
		want = data_size(dev);
		set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P);
		assert_int_equal(data_size(dev), want);
		set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
		assert_int_equal(data_size(dev), want);
		assert_int_equal(drain(fd, NULL, 1000 + c, true), want);
		set_ok(dev, VFIO_DEVICE_STATE_STOP);
		assert_int_equal(emu_fd_close(fd), 0);
		emu_dev_destroy(dev);
	}
}

/* ---- resume --------------------------------------------------------------- */

static void test_resume_nic(void **state)
{
	static const size_t segs[] = {1, 2, 3, 23, 24, 25, 100, 0, 1 << 20};
	struct emu_dev *src = mk("nic", NIC_PARAMS);
	struct sbuf s;
	uint64_t digest;
	size_t i;

	(void)state;
	emu_dev_run(src, 1000);
	s = save_stop_copy(src, &digest);
	{
		struct emu_dev *fresh = mk("nic", NIC_PARAMS);

		assert_int_not_equal(digest, emu_dev_digest(fresh));
		emu_dev_destroy(fresh);
	}
	for (i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		resume_ok(dst, &s, segs[i], digest);
		/* and it works on from there */
		emu_dev_run(dst, 10);
		emu_dev_destroy(dst);
	}
	free(s.p);
	emu_dev_destroy(src);
}

static void test_resume_bigmem(void **state)
{
	static const struct {
		unsigned int rounds;
		uint64_t work;
	} cases[] = {{0, 0}, {1, 0}, {1, 50}, {3, 200}, {6, 40}};
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct emu_dev *src = mk("bigmem", BM_PARAMS), *dst;
		uint64_t digest;
		struct sbuf s;

		emu_dev_run(src, 500);
		if (cases[c].rounds)
			s = save_precopy(src, cases[c].rounds, cases[c].work, &digest);
		else
			s = save_stop_copy(src, &digest);
		if (cases[c].work)
			assert_true(s.len >
				    HEAD_REC + BM_NBLOCKS * BM_BLOCK_REC + BM_REGS_REC + END_REC);
		dst = mk("bigmem", BM_PARAMS);
		resume_ok(dst, &s, 0, digest);
		emu_dev_destroy(dst);
		dst = mk("bigmem", BM_PARAMS);
		resume_ok(dst, &s, 4099, digest);
		emu_dev_destroy(dst);
		free(s.p);
		emu_dev_destroy(src);
	}
}

/* ---- refusals ------------------------------------------------------------- */

static struct sbuf nic_stream(uint64_t *digest)
{
	struct emu_dev *src = mk("nic", NIC_PARAMS);
	struct sbuf s;

	emu_dev_run(src, 77);
	s = save_stop_copy(src, digest);
	emu_dev_destroy(src);
	assert_true(s.len > 150 && s.len < 300);
	return s;
}

static void test_every_byte_flip_refused(void **state)
{
	static const uint8_t masks[] = {0x01, 0xff, 0x80};
	char why[256], at_stop[256];
	uint64_t digest;
	struct sbuf s = nic_stream(&digest);
	uint8_t *p = malloc(s.len);
	size_t off, m;

	(void)state;
	assert_non_null(p);
	for (m = 0; m < sizeof(masks); m++) {
		for (off = 0; off < s.len; off++) {
			struct emu_dev *dst = mk("nic", NIC_PARAMS);

			memcpy(p, s.p, s.len);
			p[off] ^= masks[m];
			refuse(dst, p, s.len, m == 2 ? 1 : 0, why, at_stop);
			assert_true(strlen(why) > 10);
			emu_dev_destroy(dst);
		}
	}
	free(p);
	free(s.p);
}

static void test_every_truncation_refused(void **state)
{
	char why[256], at_stop[256];
	uint64_t digest;
	struct sbuf s = nic_stream(&digest);
	size_t len;

	(void)state;
	for (len = 0; len < s.len; len++) {
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		refuse(dst, s.p, len, len % 3 ? 0 : 5, why, at_stop);
		assert_non_null(strstr(why, "incomplete"));
		emu_dev_destroy(dst);
	}
	/* and the whole one is taken by the same kind of device */
	{
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		resume_ok(dst, &s, 0, digest);
		emu_dev_destroy(dst);
	}
	free(s.p);
}

/* Offset of the record number idx in a stream, walking the record headers. */
static size_t rec_off(const struct sbuf *s, unsigned int idx)
{
	struct emu_rec_hdr hdr;
	size_t off = 0;

	while (idx--) {
		assert_true(off + sizeof(hdr) <= s->len);
		memcpy(&hdr, s->p + off, sizeof(hdr));
		off += EMU_REC_FRAME + hdr.len;
	}
	assert_true(off <= s->len);
	return off;
}

static size_t rec_len(const struct sbuf *s, unsigned int idx)
{
	struct emu_rec_hdr hdr;

	memcpy(&hdr, s->p + rec_off(s, idx), sizeof(hdr));
	return EMU_REC_FRAME + hdr.len;
}

/* Recomputes a record's checksum the way stream.c does. */
static void rehash(struct sbuf *s, size_t off)
{
	struct emu_rec_hdr hdr;
	uint64_t h;

	memcpy(&hdr, s->p + off, sizeof(hdr));
	h = XXH3_64bits_withSeed(s->p + off, sizeof(hdr) + hdr.len, HASH_SEED);
	memcpy(s->p + off + sizeof(hdr) + hdr.len, &h, sizeof(h));
}

/* Refused with EINVAL, the reason naming the cause (the RESUMING -> STOP reason: see below). */
static void expect_refused(const char *variant, const char *params, const struct sbuf *s,
			   const char *keyword)
{
	struct emu_dev *dst = mk(variant, params);
	char why[256], at_stop[256];

	refuse(dst, s->p, s->len, 0, why, at_stop);
	if (!strstr(why, keyword))
		fail_msg("reason '%s' does not name '%s'", why, keyword);
	emu_dev_destroy(dst);
}

static void test_foreign_variant_refused(void **state)
{
	struct emu_dev *bm = mk("bigmem", BM_PARAMS);
	uint64_t d1, d2;
	struct sbuf nic = nic_stream(&d1), big = save_stop_copy(bm, &d2);

	(void)state;
	expect_refused("nic", NIC_PARAMS, &big, "variant");
	expect_refused("bigmem", BM_PARAMS, &nic, "variant");
	free(nic.p);
	free(big.p);
	emu_dev_destroy(bm);
}

static void test_foreign_config_refused(void **state)
{
	struct emu_dev *bm = mk("bigmem", BM_PARAMS);
	uint64_t d;
	struct sbuf big = save_stop_copy(bm, &d);

	(void)state;
	expect_refused("bigmem", "mem=128k,block=4k,seed=3", &big, "configuration");
	expect_refused("bigmem", "mem=256k,block=8k,seed=3", &big, "configuration");
	free(big.p);
	big = nic_stream(&d);
	expect_refused("nic", "buffers=128", &big, "configuration");
	expect_refused("nic", "bufsize=4k", &big, "configuration");
	free(big.p);
	emu_dev_destroy(bm);
}

static void test_bumped_major_refused(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	struct emu_stream_head head;
	const size_t hoff = sizeof(struct emu_rec_hdr);

	(void)state;
	memcpy(&head, s.p + hoff, sizeof(head));
	assert_int_equal(head.major, EMU_STREAM_MAJOR);
	head.major = EMU_STREAM_MAJOR + 1;
	memcpy(s.p + hoff, &head, sizeof(head));
	rehash(&s, 0);
	expect_refused("nic", NIC_PARAMS, &s, "version");

	/* a newer minor of the same major is read */
	head.major = EMU_STREAM_MAJOR;
	head.minor = EMU_STREAM_MINOR + 1;
	memcpy(s.p + hoff, &head, sizeof(head));
	rehash(&s, 0);
	{
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		resume_ok(dst, &s, 0, d);
		emu_dev_destroy(dst);
	}
	free(s.p);
}

static void test_oversized_record_refused(void **state)
{
	static const uint32_t lens[] = {73, 1000, 1u << 20, 0xffffffffu};
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	size_t off = rec_off(&s, 1), i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct sbuf t = {0};
		struct emu_rec_hdr hdr;

		sbuf_put(&t, s.p, s.len);
		memcpy(&hdr, t.p + off, sizeof(hdr));
		hdr.len = lens[i];
		memcpy(t.p + off, &hdr, sizeof(hdr));
		expect_refused("nic", NIC_PARAMS, &t, "claims");
		free(t.p);
	}
	free(s.p);
}

static void test_record_after_end_refused(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d), t = {0};
	size_t off = rec_off(&s, 1), len = rec_len(&s, 1);
	struct emu_rec_hdr hdr;

	(void)state;
	/* the register record again, numbered as the next one and with a good checksum */
	sbuf_put(&t, s.p, s.len);
	sbuf_put(&t, s.p + off, len);
	memcpy(&hdr, t.p + s.len, sizeof(hdr));
	hdr.seq = 3;
	memcpy(t.p + s.len, &hdr, sizeof(hdr));
	rehash(&t, s.len);
	expect_refused("nic", NIC_PARAMS, &t, "end record");
	/* a second end record */
	t.len = s.len;
	sbuf_put(&t, s.p + rec_off(&s, 2), rec_len(&s, 2));
	expect_refused("nic", NIC_PARAMS, &t, "end record");
	/* one stray byte */
	t.len = s.len;
	sbuf_put(&t, "", 1);
	{
		struct emu_dev *dst = mk("nic", NIC_PARAMS);
		char why[256], at_stop[256];

		refuse(dst, t.p, t.len, 0, why, at_stop);
		emu_dev_destroy(dst);
	}
	free(t.p);
	free(s.p);
}

static void test_repeated_record_refused(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d), t = {0};
	size_t off = rec_off(&s, 1), len = rec_len(&s, 1);

	(void)state;
	sbuf_put(&t, s.p, off + len);
	sbuf_put(&t, s.p + off, len);
	sbuf_put(&t, s.p + off + len, s.len - off - len);
	expect_refused("nic", NIC_PARAMS, &t, "due");
	/* the header twice */
	t.len = 0;
	sbuf_put(&t, s.p, rec_len(&s, 0));
	sbuf_put(&t, s.p, s.len);
	expect_refused("nic", NIC_PARAMS, &t, "due");
	/* a record left out */
	t.len = 0;
	sbuf_put(&t, s.p, off);
	sbuf_put(&t, s.p + off + len, s.len - off - len);
	expect_refused("nic", NIC_PARAMS, &t, "due");
	free(t.p);
	free(s.p);
}

/* Every record's checksum, recomputed in one shot as the reader does: how many are wrong. */
static unsigned int bad_checksums(const struct sbuf *s)
{
	unsigned int bad = 0;
	struct emu_rec_hdr hdr;
	size_t off = 0;
	uint64_t h;

	while (off + sizeof(hdr) <= s->len) {
		memcpy(&hdr, s->p + off, sizeof(hdr));
		assert_true(off + EMU_REC_FRAME + hdr.len <= s->len);
		memcpy(&h, s->p + off + sizeof(hdr) + hdr.len, sizeof(h));
		bad += h != XXH3_64bits_withSeed(s->p + off, sizeof(hdr) + hdr.len, HASH_SEED);
		off += EMU_REC_FRAME + hdr.len;
	}
	assert_int_equal(off, s->len);
	return bad;
}

/*
 * Leaves stack garbage that looks like a seeded XXH3_state_t (seed = ours,
 * extSecret = NULL, a garbage secret) at every 64-byte boundary below us.
 */
static void __attribute__((noinline)) poison_stack(void)
{
	volatile uint64_t junk[16384] __attribute__((aligned(64)));
	size_t i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		junk[i] = i % 8 == 5 ? HASH_SEED : i % 8 == 7 ? 0 : 0xa5a5a5a5a5a5a5a5ull;
}

static size_t poisoned_read(int fd, struct sbuf *s, size_t chunk)
{
	uint8_t buf[8192];
	size_t total = 0;

	assert_true(chunk <= sizeof(buf));
	for (;;) {
		ssize_t n;

		poison_stack();
		n = emu_fd_read(fd, buf, chunk);
		if (n <= 0)
			return total;
		sbuf_put(s, buf, n);
		total += n;
	}
}

/*
 * The checksums a save writes must not depend on what was on the stack: a
 * seeded XXH3 state on the stack must be initialized (XXH3_INITSTATE) before
 * XXH3_64bits_reset_withSeed(), or a leftover state with the same seed makes
 * it skip deriving the secret from the seed.
 */
static void test_checksums_independent_of_stack(void **state)
{
	struct emu_dev *nic = mk("nic", NIC_PARAMS), *bm = mk("bigmem", BM_PARAMS);
	struct sbuf s = {0};
	int fd;

	(void)state;
	fd = set_ok(nic, VFIO_DEVICE_STATE_STOP_COPY);
	poisoned_read(fd, &s, 7);
	set_ok(nic, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(s.len, HEAD_REC + NIC_REGS_REC + END_REC);
	assert_int_equal(bad_checksums(&s), 0);

	s.len = 0;
	fd = set_ok(bm, VFIO_DEVICE_STATE_PRE_COPY);
	poisoned_read(fd, &s, 3000);
	emu_dev_run(bm, 20);
	poisoned_read(fd, &s, 5000);
	set_ok(bm, VFIO_DEVICE_STATE_STOP_COPY);
	poisoned_read(fd, &s, 4096);
	set_ok(bm, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(bad_checksums(&s), 0);
	free(s.p);
	emu_dev_destroy(nic);
	emu_dev_destroy(bm);
}

/*
 * After a write was refused, the refused RESUMING -> STOP must still say why
 * ("resume stream was refused earlier: <the write's reason>").
 */
static void test_stop_reason_names_the_cause(void **state)
{
	struct emu_dev *dst = mk("nic", NIC_PARAMS);
	char why[256], at_stop[256];
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	struct emu_rec_hdr hdr;

	(void)state;
	memcpy(&hdr, s.p + rec_off(&s, 1), sizeof(hdr));
	hdr.len = 1000;
	memcpy(s.p + rec_off(&s, 1), &hdr, sizeof(hdr));
	refuse(dst, s.p, s.len, 0, why, at_stop);
	assert_non_null(strstr(why, "claims 1000 bytes"));
	if (!strstr(at_stop, why))
		fail_msg("RESUMING -> STOP reason '%s' lost the write's reason '%s'", at_stop, why);
	emu_dev_destroy(dst);
	free(s.p);
}

static void test_refusal_is_sticky(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	struct emu_dev *dst = mk("nic", NIC_PARAMS);
	uint8_t bad[8] = {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0};
	size_t off;
	int fd;

	(void)state;
	/* a bad start, then the whole good stream: every write still fails */
	fd = set_ok(dst, VFIO_DEVICE_STATE_RESUMING);
	assert_int_equal(emu_fd_write(fd, bad, sizeof(bad)), sizeof(bad));
	assert_int_equal(emu_fd_write(fd, s.p, s.len), -1);
	assert_int_equal(errno, EINVAL);
	for (off = 0; off < s.len; off++) {
		assert_int_equal(emu_fd_write(fd, s.p + off, 1), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(emu_fd_write(fd, s.p, s.len), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(emu_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(state_of(dst), VFIO_DEVICE_STATE_RESUMING);
	/* and a second try at RESUMING -> STOP fails the same way */
	assert_int_equal(emu_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(emu_fd_close(fd), 0);
	reset(dst);
	/* a fresh RESUMING takes the good stream */
	resume_ok(dst, &s, 0, d);
	emu_dev_destroy(dst);
	free(s.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saving_group_shares_one_handle),
		cmocka_unit_test(test_precopy_reads_enomsg_and_info),
		cmocka_unit_test(test_precopy_partial_dirty_read_stays_dirty),
		cmocka_unit_test(test_stop_copy_ends_with_eof),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_handle_misuse),
		cmocka_unit_test(test_ended_streams),
		cmocka_unit_test(test_data_size_exact),
		cmocka_unit_test(test_data_size_exact_precopy),
		cmocka_unit_test(test_resume_nic),
		cmocka_unit_test(test_resume_bigmem),
		cmocka_unit_test(test_every_byte_flip_refused),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_foreign_variant_refused),
		cmocka_unit_test(test_foreign_config_refused),
		cmocka_unit_test(test_bumped_major_refused),
		cmocka_unit_test(test_oversized_record_refused),
		cmocka_unit_test(test_record_after_end_refused),
		cmocka_unit_test(test_repeated_record_refused),
		cmocka_unit_test(test_checksums_independent_of_stack),
		cmocka_unit_test(test_stop_reason_names_the_cause),
		cmocka_unit_test(test_refusal_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
