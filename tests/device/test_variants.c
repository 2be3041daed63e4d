// SPDX-License-Identifier: GPL-2.0
/*
 * The device variants (nic: DMA that stops in RUNNING_P2P; bigmem: memory it
 * keeps rewriting, dirty bytes in PRE_COPY), their options, and moving a
 * device through a file descriptor with emu_save_stream/emu_resume_stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "device/device_priv.h"
#include "device/xfer.h"

#define BM_PARAMS "mem=256k,block=4k,seed=9"
#define BM_BLOCK 4096u
#define BM_NBLOCKS 64u
#define BM_BLOCK_REC (BM_BLOCK + EMU_REC_FRAME)
#define HEAD_REC (EMU_REC_FRAME + sizeof(struct emu_stream_head))
#define END_REC (EMU_REC_FRAME + sizeof(struct emu_stream_end))

/* The nic's register record payload, as variant_nic.c lays it out (REC_REGS = 16). */
struct nic_regs_view {
	uint64_t rx_packets, rx_bytes, rx_missed;
	uint64_t dma_writes;
	uint32_t rx_head, rx_tail, nbuf, bufsize;
	uint32_t ctrl, irq_mask;
	uint64_t rng;
	uint8_t mac[8];
};

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

static size_t drain(int fd, struct sbuf *s, size_t chunk, bool eof)
{
	uint8_t buf[8192];
	size_t total = 0;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	for (;;) {
		ssize_t n = emu_fd_read(fd, buf, chunk);

		if (n < 0) {
			assert_false(eof);
			assert_int_equal(errno, ENOMSG);
			return total;
		}
		if (!n) {
			assert_true(eof);
			return total;
		}
		if (s)
			sbuf_put(s, buf, n);
		total += n;
	}
}

/*
 * A STOP_COPY save from the current state (RUNNING, RUNNING_P2P or STOP)
 * that returns to that state afterwards; the stream and the digest at stop.
 */
static struct sbuf save_here(struct emu_dev *dev, uint64_t *digest)
{
	enum vfio_device_mig_state back = state_of(dev);
	struct sbuf s = {0};
	int fd;

	fd = set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	assert_true(fd >= EMU_FD_BASE);
	drain(fd, &s, 4096, true);
	if (digest)
		*digest = emu_dev_digest(dev);
	set_ok(dev, back);
	assert_int_equal(emu_fd_close(fd), 0);
	return s;
}

/* The nic's registers from its stream's REC_REGS record. */
static struct nic_regs_view nic_regs(struct emu_dev *dev)
{
	struct sbuf s = save_here(dev, NULL);
	struct nic_regs_view r;
	struct emu_rec_hdr hdr;
	size_t off = 0;

	for (;;) {
		assert_true(off + sizeof(hdr) <= s.len);
		memcpy(&hdr, s.p + off, sizeof(hdr));
		if (hdr.type == EMU_REC_VARIANT)
			break;
		off += EMU_REC_FRAME + hdr.len;
	}
	assert_int_equal(hdr.len, sizeof(r));
	memcpy(&r, s.p + off + sizeof(hdr), sizeof(r));
	free(s.p);
	return r;
}

static void resume_into(struct emu_dev *dev, const struct sbuf *s, uint64_t want)
{
	int fd = set_ok(dev, VFIO_DEVICE_STATE_RESUMING);

	assert_int_equal(emu_fd_write(fd, s->p, s->len), s->len);
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_dev_digest(dev), want);
	assert_int_equal(emu_fd_close(fd), 0);
}

/* ---- nic ------------------------------------------------------------------ */

static void test_nic_running_dmas(void **state)
{
	struct emu_dev *dev = mk("nic", "buffers=16,bufsize=1k,pkt=100");
	struct nic_regs_view r;
	uint64_t d0 = emu_dev_digest(dev), d1;

	(void)state;
	assert_int_equal(emu_dev_run(dev, 40), 0);
	d1 = emu_dev_digest(dev);
	assert_int_not_equal(d0, d1);
	r = nic_regs(dev);
	assert_int_equal(r.dma_writes, 40);
	assert_int_equal(r.rx_packets, 40);
	assert_int_equal(r.rx_bytes, 4000);
	assert_int_equal(r.rx_missed, 0);
	assert_int_equal(r.rx_tail, 40 % 16);
	assert_int_equal(r.nbuf, 16);
	assert_int_equal(r.bufsize, 1024);
	assert_int_equal(emu_dev_digest(dev), d1); /* the save changed nothing */
	emu_dev_destroy(dev);
}

static void test_nic_p2p_stops_dma(void **state)
{
	struct emu_dev *dev = mk("nic", NULL), *dst = mk("nic", NULL);
	struct nic_regs_view r0, r1;
	uint64_t d0, d1, dstop;
	struct sbuf s;

	(void)state;
	assert_int_equal(emu_dev_run(dev, 10), 0);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	r0 = nic_regs(dev);
	d0 = emu_dev_digest(dev);
	assert_int_equal(emu_dev_run(dev, 25), 0);
	d1 = emu_dev_digest(dev);
	assert_int_not_equal(d0, d1); /* it counts what it missed */
	r1 = nic_regs(dev);
	assert_int_equal(r1.dma_writes, r0.dma_writes);
	assert_int_equal(r1.rx_packets, r0.rx_packets);
	assert_int_equal(r1.rx_tail, r0.rx_tail);
	assert_int_equal(r1.rx_missed, r0.rx_missed + 25);
	/* what a save in STOP_COPY carries resumes to the same digest elsewhere */
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	s = save_here(dev, &dstop);
	assert_int_equal(dstop, d1);
	resume_into(dst, &s, d1);
	free(s.p);
	/* and back to RUNNING it DMAs again */
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_dev_run(dev, 5), 0);
	r1 = nic_regs(dev);
	assert_int_equal(r1.dma_writes, r0.dma_writes + 5);
	emu_dev_destroy(dev);
	emu_dev_destroy(dst);
}

static void test_nic_stop_does_nothing(void **state)
{
	static const enum vfio_device_mig_state quiet[] = {
		VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_RESUMING};
	struct emu_dev *dev = mk("nic", NULL);
	size_t i;

	(void)state;
	assert_int_equal(emu_dev_run(dev, 10), 0);
	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		uint64_t d;
		int fd;

		set_ok(dev, VFIO_DEVICE_STATE_STOP);
		fd = set_ok(dev, quiet[i]);
		d = emu_dev_digest(dev);
		assert_int_equal(emu_dev_run(dev, 100), 0);
		assert_int_equal(emu_dev_digest(dev), d);
		assert_int_equal(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
		if (fd >= 0)
			assert_int_equal(emu_fd_close(fd), 0);
	}
	emu_dev_destroy(dev);
}

struct runner {
	struct emu_dev *dev;
	volatile bool stop;
	uint64_t calls;
};

static void *run_loop(void *arg)
{
	struct runner *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		emu_dev_run(r->dev, 1);
		__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void wait_calls(struct runner *r, uint64_t more)
{
	uint64_t want = __atomic_load_n(&r->calls, __ATOMIC_RELAXED) + more;

	while (__atomic_load_n(&r->calls, __ATOMIC_RELAXED) < want)
		usleep(100);
}

static void test_nic_p2p_concurrent(void **state)
{
	int iter;

	(void)state;
	for (iter = 0; iter < 20; iter++) {
		struct emu_dev *dev = mk("nic", NULL);
		struct runner r = {.dev = dev};
		struct nic_regs_view a, b;
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, run_loop, &r), 0);
		wait_calls(&r, 100 + iter * 50);
		set_ok(dev, VFIO_DEVICE_STATE_RUNNING_P2P);
		a = nic_regs(dev);
		wait_calls(&r, 200);
		b = nic_regs(dev);
		wait_calls(&r, 200);
		set_ok(dev, VFIO_DEVICE_STATE_STOP);
		wait_calls(&r, 50);
		set_ok(dev, VFIO_DEVICE_STATE_RUNNING_P2P);
		wait_calls(&r, 50);
		__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_true(a.dma_writes > 0);
		assert_int_equal(b.dma_writes, a.dma_writes);
		assert_int_equal(b.rx_tail, a.rx_tail);
		assert_int_equal(b.rx_packets, a.rx_packets);
		assert_true(b.rx_missed > a.rx_missed); /* the runner did run meanwhile */
		b = nic_regs(dev);
		assert_int_equal(b.dma_writes, a.dma_writes);
		emu_dev_destroy(dev);
	}
}

/* ---- bigmem --------------------------------------------------------------- */

static void test_bigmem_dirty_steps(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint64_t initial, dirty, prev = 0;
	unsigned int i, grew = 0;
	int fd;

	(void)state;
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	drain(fd, NULL, 5000, false);
	for (i = 0; i < 200; i++) {
		uint64_t d0 = emu_dev_digest(dev);

		assert_int_equal(emu_dev_run(dev, 1), 0);
		assert_int_not_equal(emu_dev_digest(dev), d0);
		assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
		assert_int_equal(initial, 0);
		assert_true(dirty == prev || dirty == prev + BM_BLOCK_REC);
		grew += dirty != prev;
		prev = dirty;
	}
	/* 200 writes into 64 blocks: most blocks, never more than all */
	assert_true(grew > 32);
	assert_true(dirty <= BM_NBLOCKS * BM_BLOCK_REC);
	assert_int_equal(drain(fd, NULL, 3000, false), dirty);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial + dirty, 0);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

static void test_bigmem_initial_not_dirty(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS);
	uint64_t initial, dirty, full = HEAD_REC + BM_NBLOCKS * BM_BLOCK_REC;
	uint8_t buf[HEAD_REC + 16 * BM_BLOCK_REC];
	int fd;

	(void)state;
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	/* nothing sent yet: every write hits a block still owed */
	assert_int_equal(emu_dev_run(dev, 500), 0);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial, full);
	assert_int_equal(dirty, 0);
	/* a quarter sent: only those can be dirty */
	assert_int_equal(emu_fd_read(fd, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(emu_dev_run(dev, 500), 0);
	assert_int_equal(emu_get_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial, full - sizeof(buf));
	assert_true(dirty > 0);
	assert_true(dirty <= 16 * BM_BLOCK_REC);
	assert_int_equal(dirty % BM_BLOCK_REC, 0);
	set_ok(dev, VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

static void test_bigmem_data_size_shrinks(void **state)
{
	struct emu_dev *dev = mk("bigmem", BM_PARAMS), *dst = mk("bigmem", BM_PARAMS);
	uint64_t want = HEAD_REC + BM_NBLOCKS * BM_BLOCK_REC + EMU_REC_FRAME + 32 + END_REC, d;
	struct sbuf s = {0};
	uint8_t buf[1000];
	int fd;

	(void)state;
	assert_int_equal(data_size(dev), want);
	fd = set_ok(dev, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(emu_dev_run(dev, 10), 0);
	drain(fd, &s, 4000, false);
	assert_int_equal(emu_dev_run(dev, 10), 0);
	want = data_size(dev);
	set_ok(dev, VFIO_DEVICE_STATE_STOP_COPY);
	d = emu_dev_digest(dev);
	assert_int_equal(data_size(dev), want);
	for (;;) {
		ssize_t n = emu_fd_read(fd, buf, sizeof(buf));

		assert_true(n >= 0);
		if (!n)
			break;
		sbuf_put(&s, buf, n);
		assert_int_equal(data_size(dev), want - n);
		want -= n;
		assert_int_equal(emu_dev_run(dev, 5), 0); /* no effect in STOP_COPY */
	}
	assert_int_equal(want, 0);
	assert_int_equal(emu_dev_digest(dev), d);
	set_ok(dev, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	resume_into(dst, &s, d);
	free(s.p);
	emu_dev_destroy(dev);
	emu_dev_destroy(dst);
}

/* Refused at creation with EINVAL; with name, the one-line reason must name it. */
static void expect_bad_params(const char *variant, const char *params, const char *name)
{
	struct emu_dev_cfg cfg = {.variant = variant, .params = params};
	struct emu_dev *dev;

	errno = 0;
	dev = emu_dev_create(&cfg);
	if (dev) {
		emu_dev_destroy(dev);
		fail_msg("%s '%s' was accepted", variant, params);
	}
	assert_int_equal(errno, EINVAL);
	if (name && !strstr(emu_last_error(), name))
		fail_msg("%s '%s': reason '%s' does not name '%s'", variant, params,
			 emu_last_error(), name);
	assert_null(strchr(emu_last_error(), '\n'));
}

static const char *const bad_params[][3] = {
	{"bigmem", "mem=3k", "mem"},
	{"bigmem", "block=7", "block"},
	{"bigmem", "foo=1", "foo"},
	{"bigmem", "mem=-1", "mem"},
	{"bigmem", "mem=256k,block=4k,foo=1", "foo"},
	{"bigmem", "mem=", "mem"},
	{"bigmem", "mem=12q", "mem"},
	{"bigmem", "block=32m", "block"},
	{"bigmem", "mem=0", "mem"},
	{"nic", "buffers=0", "buffers"},
	{"nic", "pkt=4k,bufsize=2k", "pkt"},
	{"nic", "mem=1m", "mem"},
};

static void test_bad_params_refused(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++)
		expect_bad_params(bad_params[i][0], bad_params[i][1], NULL);
}

static void test_bad_params_reason_names_option(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++)
		expect_bad_params(bad_params[i][0], bad_params[i][1], bad_params[i][2]);
}

/* A size whose suffix overflows 64 bits must not wrap to a small valid size. */
static void test_bad_params_overflow(void **state)
{
	(void)state;
	/* (2^54 + 64) KiB = 2^64 + 64 KiB, (2^44 + 1) MiB = 2^64 + 1 MiB */
	expect_bad_params("bigmem", "mem=18014398509482048k", NULL);
	expect_bad_params("bigmem", "mem=17592186044417m", NULL);
}

static void test_unknown_variant(void **state)
{
	struct emu_dev_cfg cfg = {.variant = "gpu"};

	(void)state;
	errno = 0;
	assert_null(emu_dev_create(&cfg));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(emu_last_error(), "gpu"));
	cfg.variant = NULL;
	errno = 0;
	assert_null(emu_dev_create(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg.variant = "NIC";
	assert_null(emu_dev_create(&cfg));
	assert_int_equal(errno, EINVAL);
}

/* ---- xfer ----------------------------------------------------------------- */

static const struct emu_save_opts opts = {
	.max_rounds = 4,
	.dirty_limit = 0,
	.work_per_mib = 0,
	.chunk = 3000,
};

static int memfd(void)
{
	int fd = memfd_create("vfmig-test", 0);

	assert_true(fd >= 0);
	return fd;
}

static void test_xfer_file_roundtrip(void **state)
{
	static const char *const variants[][2] = {{"nic", NULL}, {"bigmem", BM_PARAMS}};
	size_t m;

	(void)state;
	for (m = 0; m < 2; m++) {
		struct emu_dev *src = mk(variants[m][0], variants[m][1]);
		struct emu_dev *dst = mk(variants[m][0], variants[m][1]);
		struct emu_save_opts o = opts;
		struct emu_save_report rep;
		uint64_t bytes = 0, digest = 0;
		int fd = memfd();

		o.work_per_mib = m ? 2000 : 0;
		assert_int_equal(emu_dev_run(src, 123), 0);
		assert_int_equal(emu_save_stream(src, fd, &o, &rep), 0);
		assert_int_equal(state_of(src), VFIO_DEVICE_STATE_STOP);
		assert_int_equal(rep.digest, emu_dev_digest(src));
		assert_int_equal(lseek(fd, 0, SEEK_CUR), rep.total_bytes);
		assert_int_equal(rep.stop_copy_bytes, rep.data_size_before);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_int_equal(emu_resume_stream(dst, fd, &bytes, &digest), 0);
		assert_int_equal(bytes, rep.total_bytes);
		assert_int_equal(digest, rep.digest);
		assert_int_equal(state_of(dst), VFIO_DEVICE_STATE_RUNNING);
		close(fd);
		emu_dev_destroy(src);
		emu_dev_destroy(dst);
	}
}

struct resumer {
	struct emu_dev *dev;
	int fd, ret;
	uint64_t bytes, digest;
};

static void *resume_thread(void *arg)
{
	struct resumer *r = arg;

	r->ret = emu_resume_stream(r->dev, r->fd, &r->bytes, &r->digest);
	return NULL;
}

static void test_xfer_pipe_roundtrip(void **state)
{
	static const char *const variants[][2] = {{"nic", NULL}, {"bigmem", BM_PARAMS}};
	size_t m;

	(void)state;
	for (m = 0; m < 2; m++) {
		struct emu_dev *src = mk(variants[m][0], variants[m][1]);
		struct resumer r = {.dev = mk(variants[m][0], variants[m][1])};
		struct emu_save_report rep;
		int p[2];
		pthread_t t;

		assert_int_equal(pipe(p), 0);
		r.fd = p[0];
		assert_int_equal(pthread_create(&t, NULL, resume_thread, &r), 0);
		assert_int_equal(emu_save_stream(src, p[1], &opts, &rep), 0);
		close(p[1]);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(r.ret, 0);
		assert_int_equal(r.bytes, rep.total_bytes);
		assert_int_equal(r.digest, rep.digest);
		assert_int_equal(emu_dev_digest(r.dev), rep.digest);
		close(p[0]);
		emu_dev_destroy(src);
		emu_dev_destroy(r.dev);
	}
}

/* A failed save leaves the source RUNNING, its state intact, and able to save again. */
static void save_fails_then_works(const char *variant, const char *params, int bad_fd, int err)
{
	struct emu_dev *src = mk(variant, params), *dst = mk(variant, params);
	struct emu_save_report rep;
	uint64_t before, bytes, digest;
	int fd;

	assert_int_equal(emu_dev_run(src, 321), 0);
	before = emu_dev_digest(src);
	assert_int_equal(emu_save_stream(src, bad_fd, &opts, &rep), -err);
	assert_int_equal(state_of(src), VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_dev_digest(src), before);
	assert_non_null(strstr(emu_dev_strerror(src), "runs on"));
	/* it still works, and saves fine into a good fd */
	fd = memfd();
	assert_int_equal(emu_save_stream(src, fd, &opts, &rep), 0);
	assert_int_equal(rep.digest, before);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(emu_resume_stream(dst, fd, &bytes, &digest), 0);
	assert_int_equal(digest, before);
	close(fd);
	emu_dev_destroy(src);
	emu_dev_destroy(dst);
}

static void test_xfer_save_failure(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	static const char *const variants[][2] = {{"nic", NULL}, {"bigmem", BM_PARAMS}};
	size_t m;

	(void)state;
	assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
	for (m = 0; m < 2; m++) {
		int p[2], full;

		assert_int_equal(pipe(p), 0);
		close(p[0]);
		save_fails_then_works(variants[m][0], variants[m][1], p[1], EPIPE);
		close(p[1]);

		full = open("/dev/full", O_WRONLY);
		if (full < 0)
			VFMIG_SKIP("no /dev/full here");
		save_fails_then_works(variants[m][0], variants[m][1], full, ENOSPC);
		close(full);

		/* a read-only descriptor */
		full = open("/dev/null", O_RDONLY);
		assert_true(full >= 0);
		save_fails_then_works(variants[m][0], variants[m][1], full, EBADF);
		close(full);
	}
	assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

/* A stream that is refused leaves the destination reset, and RUNNING. */
static void test_xfer_resume_refused(void **state)
{
	struct emu_dev *src = mk("bigmem", BM_PARAMS), *dst = mk("bigmem", "mem=128k,block=4k");
	struct emu_save_report rep;
	uint64_t bytes, digest, before = emu_dev_digest(dst);
	int fd = memfd();

	(void)state;
	assert_int_equal(emu_save_stream(src, fd, &opts, &rep), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(emu_resume_stream(dst, fd, &bytes, &digest), -EINVAL);
	assert_int_equal(state_of(dst), VFIO_DEVICE_STATE_RUNNING);
	assert_int_equal(emu_dev_digest(dst), before);
	assert_non_null(strstr(emu_dev_strerror(dst), "configuration"));
	close(fd);
	emu_dev_destroy(src);
	emu_dev_destroy(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nic_running_dmas),
		cmocka_unit_test(test_nic_p2p_stops_dma),
		cmocka_unit_test(test_nic_stop_does_nothing),
		cmocka_unit_test(test_nic_p2p_concurrent),
		cmocka_unit_test(test_bigmem_dirty_steps),
		cmocka_unit_test(test_bigmem_initial_not_dirty),
		cmocka_unit_test(test_bigmem_data_size_shrinks),
		cmocka_unit_test(test_bad_params_refused),
		cmocka_unit_test(test_bad_params_reason_names_option),
		cmocka_unit_test(test_bad_params_overflow),
		cmocka_unit_test(test_unknown_variant),
		cmocka_unit_test(test_xfer_file_roundtrip),
		cmocka_unit_test(test_xfer_pipe_roundtrip),
		cmocka_unit_test(test_xfer_save_failure),
		cmocka_unit_test(test_xfer_resume_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
