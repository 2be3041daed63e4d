// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall decoders on the data stream: a data fd a SET returned
 * (prepared), then real read, write, vectored, positional, splice and
 * sendfile syscalls on it, its end at close, exec and exit, and MIG_DATA_SIZE.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "probe/fixture_ioctl_decode.h"

/* The data fds the probes follow for process pid; *dev_of_fd: the device of fd, if given. */
static int data_fds_of(pid_t pid, int fd, uint64_t *dev_of_fd)
{
	uint64_t key = (uint64_t)pid << 32 | (uint32_t)fd, dev;

	if (dev_of_fd && fd >= 0 &&
	    !bpf_map_lookup_elem(probes_map_fd(probes, "data_fds"), &key, &dev))
		*dev_of_fd = dev;
	return keys_of_pid(probes, "data_fds", pid);
}

/* A SET to state that the kernel answered ret, having returned data_fd. */
static int prepared_set(enum vfio_device_mig_state to, int data_fd, long ret, int dev_fd)
{
	struct feature_state set = {
		.hdr = {sizeof(set),
			VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
		.mig = {.device_state = to, .data_fd = data_fd},
	};

	return run_decode(VFIO_DEVICE_FEATURE, &set, ret, dev_fd);
}

/*
 * A data fd a SET returned (prepared: a pipe of this test's stands for it),
 * then real read(2) and write(2) syscalls on it: the bytes counted are the
 * bytes the syscalls returned, on the device's account; other fds are not
 * counted; close(2) forgets it, and a new fd of the same number is not it.
 */
static void test_data_fd_bytes_counted(void **state)
{
	static char buf[8192];
	uint64_t r0, w0, dev = 0;
	int64_t wrote = 0, got = 0;
	int pfd[2], q[2], zero, old, mine0, reads = 0;
	struct data_seen s;
	ssize_t n;
	struct vfio_precopy_info pi = {sizeof(pi), 0, 111, 222};
	struct vfmig_dev_state st;

	(void)state;
	NEED_PROBES();
	assert_int_equal(pipe(pfd), 0);
	mine0 = data_fds_of(getpid(), -1, NULL);
	poll_data(&s);
	/* STOP_COPY returned the read end to device fd 77, RESUMING the write end to 78 */
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_STOP_COPY, pfd[0], 0, 77), 0);
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_RESUMING, pfd[1], 0, 78), 0);
	/* refused, or no fd returned: nothing to follow */
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_STOP_COPY, 500, -EINVAL, 79), 0);
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_STOP, -1, 0, 80), 0);
	assert_int_equal(data_fds_of(getpid(), pfd[0], &dev), mine0 + 2);
	assert_int_equal(dev, dev_of(77));
	assert_int_equal(data_fds_of(getpid(), pfd[1], &dev), mine0 + 2);
	assert_int_equal(dev, dev_of(78));

	r0 = counter(VFMIG_C_DATA_READ_BYTES);
	w0 = counter(VFMIG_C_DATA_WRITE_BYTES);
	n = write(pfd[1], buf, 3000);
	wrote += n > 0 ? n : 0;
	n = write(pfd[1], buf, 1000);
	wrote += n > 0 ? n : 0;
	assert_int_equal(wrote, 4000);
	while (got < wrote) {
		n = read(pfd[0], buf, 1500);
		assert_true(n > 0);
		got += n;
		reads++;
	}
	assert_int_equal(read(pfd[1], buf, 10), -1); /* the write end: EBADF, no bytes */
	assert_int_equal(errno, EBADF);
	zero = open("/dev/zero", O_RDONLY);
	assert_int_equal(read(zero, buf, sizeof(buf)), sizeof(buf)); /* not a data fd */
	close(zero);
	assert_int_equal(counter(VFMIG_C_DATA_WRITE_BYTES) - w0, wrote);
	assert_int_equal(counter(VFMIG_C_DATA_READ_BYTES) - r0, got);
	poll_data(&s);
	assert_int_equal(s.writes, 2);
	assert_int_equal(s.write_bytes, wrote);
	assert_int_equal(s.write_dev, dev_of(78));
	assert_int_equal(s.write_fd, pfd[1]);
	assert_int_equal(s.reads, reads + 1);
	assert_int_equal(s.read_bytes, got);
	assert_int_equal(s.read_errors, 1);

	/* PRECOPY_INFO asked of a data fd is its device's */
	assert_int_equal(run_decode(VFIO_MIG_GET_PRECOPY_INFO, &pi, 0, pfd[0]), 0);
	assert_int_equal(agg_dev_state(probes, dev_of(77), &st), 0);
	assert_int_equal(st.precopy_initial, 111);
	assert_int_equal(st.precopy_dirty, 222);

	/* close forgets; the next fd of that number is something else */
	old = pfd[0];
	close(pfd[0]);
	assert_int_equal(data_fds_of(getpid(), -1, NULL), mine0 + 1);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(q[0], old);
	r0 = counter(VFMIG_C_DATA_READ_BYTES);
	assert_int_equal(write(q[1], buf, 100), 100);
	assert_int_equal(read(q[0], buf, 100), 100);
	assert_int_equal(counter(VFMIG_C_DATA_READ_BYTES) - r0, 0);
	close(q[0]);
	close(q[1]);
	close(pfd[1]);
	assert_int_equal(data_fds_of(getpid(), -1, NULL), mine0);
}

/* Data stream events per device (devices IO_DEV..IO_DEV + 3) and per syscall, side by side. */
#define IO_DEV 90
#define IO_NDEV 4

struct io_acct {
	int64_t bytes[IO_NDEV][2]; /* read [0] and written [1], per device */
	int calls[VFMIG_VIA_NR][2];
	int64_t asked[VFMIG_VIA_NR];
	int errors, both_sides;
};

static int on_io(void *ctx, const struct vfmig_event *e)
{
	struct io_acct *a = ctx;
	int side = e->type == VFMIG_EV_DATA_WRITE, dev = (int)(uint32_t)e->dev - IO_DEV;
	uint64_t other = 0;

	if (e->source != VFMIG_SRC_SYSCALL ||
	    (e->type != VFMIG_EV_DATA_READ && e->type != VFMIG_EV_DATA_WRITE))
		return 0;
	assert_true(dev >= 0 && dev < IO_NDEV);
	assert_true(e->from > 0 && e->from < VFMIG_VIA_NR);
	assert_int_equal(e->to, 0); /* every iovec read: the bytes asked are whole */
	a->bytes[dev][side] += e->result > 0 ? e->result : 0;
	a->calls[e->from][side]++;
	a->asked[e->from] += e->a;
	a->errors += e->result < 0;
	if (e->c != ~0ull) /* the call's other fd: a data fd too? */
		data_fds_of(getpid(), (int)e->c, &other);
	a->both_sides += other != 0;
	return 0;
}

/* The calls made, as the test saw them: what each returned, on which device and side. */
static void did(struct io_acct *t, int dev, int side, int via, ssize_t ret, int64_t asked)
{
	assert_true(ret >= 0 || errno != EINTR);
	t->bytes[dev - IO_DEV][side] += ret > 0 ? ret : 0;
	t->calls[via][side]++;
	t->asked[via] += asked;
	t->errors += ret < 0;
}

static void assert_io_equal(const struct io_acct *got, const struct io_acct *want)
{
	int i, s;

	for (i = 0; i < IO_NDEV; i++)
		for (s = 0; s < 2; s++)
			assert_int_equal(got->bytes[i][s], want->bytes[i][s]);
	for (i = 1; i < VFMIG_VIA_NR; i++) {
		for (s = 0; s < 2; s++)
			assert_int_equal(got->calls[i][s], want->calls[i][s]);
		assert_int_equal(got->asked[i], want->asked[i]);
	}
	assert_int_equal(got->errors, want->errors);
}

/* A memfd holding n bytes of pattern, its offset back at 0. */
static int filled_memfd(const char *name, size_t n)
{
	static char pat[8192];
	int fd = memfd_create(name, MFD_CLOEXEC);

	assert_true(fd >= 0 && n <= sizeof(pat));
	memset(pat, 0x5a, n);
	assert_int_equal(write(fd, pat, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

struct io_fds {
	int pipe_in, pipe_out; /* a pipe: its read end device 90's STOP_COPY fd, write end 91's */
	int file_in, file_out; /* memfds: 92's STOP_COPY fd (8 KiB to read), 93's RESUMING fd */
	int plain[2];	       /* a pipe nobody follows */
	int plain_file;	       /* a memfd nobody follows, 4 KiB */
};

static void io_fds_open(struct io_fds *f)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	f->pipe_in = p[0];
	f->pipe_out = p[1];
	f->file_in = filled_memfd("vfmig-in", 8192);
	f->file_out = memfd_create("vfmig-out", MFD_CLOEXEC);
	assert_true(f->file_out >= 0);
	assert_int_equal(pipe(f->plain), 0);
	f->plain_file = filled_memfd("vfmig-plain", 4096);
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_STOP_COPY, f->pipe_in, 0, IO_DEV), 0);
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_RESUMING, f->pipe_out, 0, IO_DEV + 1), 0);
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_STOP_COPY, f->file_in, 0, IO_DEV + 2), 0);
	assert_int_equal(prepared_set(VFIO_DEVICE_STATE_RESUMING, f->file_out, 0, IO_DEV + 3), 0);
}

static void io_fds_close(struct io_fds *f)
{
	close(f->pipe_in);
	close(f->pipe_out);
	close(f->file_in);
	close(f->file_out);
	close(f->plain[0]);
	close(f->plain[1]);
	close(f->plain_file);
}

/* Vectored calls: writev into the pipe, readv out of it; pwritev(2), preadv(2) on files. */
static void vectored_calls(struct io_fds *f, struct io_acct *t)
{
	static char a[3000], b[1000], c[2500];
	struct iovec iov[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	int64_t all = sizeof(a) + sizeof(b) + sizeof(c);

	did(t, IO_DEV + 1, 1, VFMIG_VIA_WRITEV, writev(f->pipe_out, iov, 3), all);
	did(t, IO_DEV, 0, VFMIG_VIA_READV, readv(f->pipe_in, iov, 2), 4000);
	did(t, IO_DEV, 0, VFMIG_VIA_READV, readv(f->pipe_in, iov + 2, 1), 2500);
	did(t, IO_DEV + 3, 1, VFMIG_VIA_PWRITEV, pwritev(f->file_out, iov, 3, 0), all);
	did(t, IO_DEV + 3, 1, VFMIG_VIA_PWRITEV2, pwritev2(f->file_out, iov, 2, -1, 0), 4000);
	did(t, IO_DEV + 2, 0, VFMIG_VIA_PREADV, preadv(f->file_in, iov, 3, 100), all);
	did(t, IO_DEV + 2, 0, VFMIG_VIA_PREADV2, preadv2(f->file_in, iov, 3, 7000, 0), all);
	did(t, IO_DEV + 2, 0, VFMIG_VIA_PREADV2, preadv2(f->file_in, iov + 1, 1, -1, 0), 1000);
	/* a vectored read of an fd nobody follows is nobody's */
	assert_int_equal(readv(f->plain_file, iov, 1), 3000);
}

/* pread64/pwrite64 on files; on the pipe the kernel refuses them (ESPIPE): 0 bytes, counted. */
static void positional_calls(struct io_fds *f, struct io_acct *t)
{
	static char buf[5000];

	did(t, IO_DEV + 3, 1, VFMIG_VIA_PWRITE64, pwrite64(f->file_out, buf, 5000, 10), 5000);
	did(t, IO_DEV + 2, 0, VFMIG_VIA_PREAD64, pread64(f->file_in, buf, 5000, 4000), 5000);
	did(t, IO_DEV + 2, 0, VFMIG_VIA_PREAD64, pread64(f->file_in, buf, 100, 9000), 100);
	assert_int_equal(pread64(f->pipe_in, buf, 10, 0), -1);
	assert_int_equal(errno, ESPIPE);
	t->errors++;
	t->calls[VFMIG_VIA_PREAD64][0]++;
	t->asked[VFMIG_VIA_PREAD64] += 10;
}

/*
 * splice from the data pipe into a plain pipe and back, and from the data
 * pipe into the data file (both ends data fds: one call, both devices);
 * sendfile and copy_file_range from and into data files.
 */
static void splice_calls(struct io_fds *f, struct io_acct *t)
{
	static char buf[6000];
	loff_t off = 0, off_out = 0;
	ssize_t n;

	did(t, IO_DEV + 1, 1, VFMIG_VIA_WRITE, write(f->pipe_out, buf, 6000), 6000);
	did(t, IO_DEV, 0, VFMIG_VIA_SPLICE, splice(f->pipe_in, NULL, f->plain[1], NULL, 2500, 0),
	    2500);
	did(t, IO_DEV + 1, 1, VFMIG_VIA_SPLICE,
	    splice(f->plain[0], NULL, f->pipe_out, NULL, 2500, 0), 2500);
	off_out = 20000;
	n = splice(f->pipe_in, NULL, f->file_out, &off_out, 6000, 0);
	assert_int_equal(n, 6000);
	did(t, IO_DEV, 0, VFMIG_VIA_SPLICE, n, 6000);
	did(t, IO_DEV + 3, 1, VFMIG_VIA_SPLICE, n, 6000);
	off = 1000;
	did(t, IO_DEV + 2, 0, VFMIG_VIA_SENDFILE, sendfile(f->plain[1], f->file_in, &off, 3000),
	    3000);
	assert_int_equal(read(f->plain[0], buf, sizeof(buf)), 3000);
	off = 0;
	did(t, IO_DEV + 3, 1, VFMIG_VIA_SENDFILE, sendfile(f->file_out, f->plain_file, &off, 4096),
	    4096);
	off = 0;
	off_out = 0;
	did(t, IO_DEV + 2, 0, VFMIG_VIA_COPY_FILE_RANGE,
	    copy_file_range(f->file_in, &off, f->plain_file, &off_out, 8192, 0), 8192);
	off = 0;
	off_out = 40000;
	did(t, IO_DEV + 3, 1, VFMIG_VIA_COPY_FILE_RANGE,
	    copy_file_range(f->plain_file, &off, f->file_out, &off_out, 700, 0), 700);
}

/*
 * Every syscall that moves data-fd bytes, for real, on a pipe and on files
 * standing for data fds (prepared SETs returned them): each side's bytes
 * counted on its device's account equal what the calls returned, each
 * event names the syscall and the bytes asked; refusals carry no bytes;
 * the counters hold the same sums.
 */
static void test_data_fd_every_syscall_counted(void **state)
{
	struct io_acct want = {0}, got = {0};
	uint64_t r0, w0;
	int64_t rd = 0, wr = 0;
	struct io_fds f;
	int i, mine0;

	(void)state;
	NEED_PROBES();
	mine0 = data_fds_of(getpid(), -1, NULL);
	io_fds_open(&f);
	assert_int_equal(data_fds_of(getpid(), -1, NULL), mine0 + 4);
	while (probes_poll(probes, 0, NULL, NULL) > 0)
		;
	r0 = counter(VFMIG_C_DATA_READ_BYTES);
	w0 = counter(VFMIG_C_DATA_WRITE_BYTES);
	vectored_calls(&f, &want);
	positional_calls(&f, &want);
	splice_calls(&f, &want);
	while (probes_poll(probes, 0, on_io, &got) > 0)
		;
	assert_io_equal(&got, &want);
	assert_int_equal(got.both_sides, 2); /* the splice of pipe into file, seen from each end */
	for (i = 0; i < IO_NDEV; i++) {
		rd += want.bytes[i][0];
		wr += want.bytes[i][1];
	}
	assert_true(rd > 30000 && wr > 30000); /* not a trivial agreement */
	for (i = VFMIG_VIA_READV; i < VFMIG_VIA_NR; i++)
		assert_true(want.calls[i][0] + want.calls[i][1] > 0);
	assert_int_equal(counter(VFMIG_C_DATA_READ_BYTES) - r0, rd);
	assert_int_equal(counter(VFMIG_C_DATA_WRITE_BYTES) - w0, wr);
	io_fds_close(&f);
	assert_int_equal(data_fds_of(getpid(), -1, NULL), mine0);
}

/* The child's two data fds (prepared SETs that returned them). */
static int two_data_fds(void *arg)
{
	(void)arg;
	return prepared_set(VFIO_DEVICE_STATE_STOP_COPY, 0, 0, 40) ||
	       prepared_set(VFIO_DEVICE_STATE_RESUMING, 2, 0, 41);
}

static void test_data_fds_forgotten_at_exec_and_exit(void **state)
{
	int ready, go, status;
	char c;
	pid_t pid;

	(void)state;
	NEED_PROBES();
	/* exit */
	pid = child_that_leaves(two_data_fds, NULL, false, &ready, &go);
	assert_int_equal(read(ready, &c, 1), 1);
	assert_int_equal(data_fds_of(pid, -1, NULL), 2);
	assert_int_equal(write(go, "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(keys_left(probes, "data_fds", pid), 0);
	close(ready);
	close(go);
	/* exec: the fds are O_CLOEXEC (as VFIO makes data fds), gone while the process lives */
	pid = child_that_leaves(two_data_fds, NULL, true, &ready, &go);
	assert_int_equal(read(ready, &c, 1), 1);
	assert_int_equal(data_fds_of(pid, -1, NULL), 2);
	assert_int_equal(write(go, "g", 1), 1);
	assert_int_equal(read(ready, &c, 1), 0); /* closed on exec */
	assert_int_equal(keys_left(probes, "data_fds", pid), 0);
	assert_int_equal(kill(pid, 0), 0); /* still there: it was the exec */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready);
	close(go);
}

/* MIG_DATA_SIZE: every call counted, the length the kernel returned in its event. */
static void test_data_size_calls_counted(void **state)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_mig_data_size size;
	} q = {{sizeof(q), VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE}, {123456}};
	int fd = open("/dev/null", O_RDONLY);
	struct data_seen s;
	uint64_t c0;

	(void)state;
	NEED_PROBES();
	poll_data(&s);
	c0 = counter(VFMIG_C_DATA_SIZES);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &q, 0, 77), 0);
	poll_data(&s);
	assert_int_equal(s.sizes, 1);
	assert_int_equal(s.last_size, 123456);
	assert_int_equal(s.size_result, 0);
	/* a real call, refused here: counted, no length */
	assert_int_equal(ioctl(fd, VFIO_DEVICE_FEATURE, &q), -1);
	assert_int_equal(errno, ENOTTY);
	poll_data(&s);
	assert_int_equal(s.sizes, 1);
	assert_int_equal(s.last_size, 0);
	assert_int_equal(s.size_result, -ENOTTY);
	/* PROBE asks whether the feature exists: no size asked */
	q.hdr.flags |= VFIO_DEVICE_FEATURE_PROBE;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &q, 0, 77), 0);
	assert_int_equal(counter(VFMIG_C_DATA_SIZES) - c0, 2);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_fd_bytes_counted),
		cmocka_unit_test(test_data_fd_every_syscall_counted),
		cmocka_unit_test(test_data_fds_forgotten_at_exec_and_exit),
		cmocka_unit_test(test_data_size_calls_counted),
	};
	/* what needs bpf_loop where there is one, again without it */
	const struct CMUnitTest bounded[] = {
		cmocka_unit_test(test_data_fd_bytes_counted),
		cmocka_unit_test(test_data_fds_forgotten_at_exec_and_exit),
	};
	int failed = cmocka_run_group_tests(tests, setup_pid, teardown);

	return failed +
	       cmocka_run_group_tests_name("without bpf_loop", bounded, setup_bounded, teardown);
}
