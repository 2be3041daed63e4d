// SPDX-License-Identifier: GPL-2.0
/*
 * The migration data stream (uAPI v2): data_fd handles, PRE_COPY / STOP_COPY
 * read semantics, PRECOPY_INFO, MIG_DATA_SIZE, resume in any segmentation.
 * The refusal of damaged or foreign streams is in test_stream_refusals.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "device/fixture_stream.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
