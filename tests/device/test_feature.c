// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_DEVICE_FEATURE and VFIO_DEVICE_RESET on the emulated device, with
 * hand-built structures, against what vfio_ioctl_device_feature() and
 * vfio_check_feature() (Linux 6.12) answer, check by check in their order;
 * and the name parsers of device.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "device/device.h"

#define ERR VFIO_DEVICE_STATE_ERROR
#define STOP VFIO_DEVICE_STATE_STOP
#define RUN VFIO_DEVICE_STATE_RUNNING
#define SC VFIO_DEVICE_STATE_STOP_COPY
#define RES VFIO_DEVICE_STATE_RESUMING
#define P2P VFIO_DEVICE_STATE_RUNNING_P2P
#define PC VFIO_DEVICE_STATE_PRE_COPY
#define PCP VFIO_DEVICE_STATE_PRE_COPY_P2P

#define F_SC VFIO_MIGRATION_STOP_COPY
#define F_P2P VFIO_MIGRATION_P2P
#define F_PC VFIO_MIGRATION_PRE_COPY
#define ALL_FLAGS (F_SC | F_P2P | F_PC)

#define GET VFIO_DEVICE_FEATURE_GET
#define SET VFIO_DEVICE_FEATURE_SET
#define PROBE VFIO_DEVICE_FEATURE_PROBE
#define MIGRATION VFIO_DEVICE_FEATURE_MIGRATION
#define MIG_STATE VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE
#define DATA_SIZE VFIO_DEVICE_FEATURE_MIG_DATA_SIZE

#define HDR 8u /* sizeof(struct vfio_device_feature) */

typedef enum vfio_device_mig_state mig_state;

static const uint32_t combos[] = {F_SC, F_SC | F_P2P, F_SC | F_PC, ALL_FLAGS};
#define NR_COMBOS (sizeof(combos) / sizeof(combos[0]))

static char ctx[256];

#define CTX(...) snprintf(ctx, sizeof(ctx), __VA_ARGS__)
#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond))                                                              \
			fail_msg("%s: check failed: %s (line %d)", ctx, #cond, __LINE__); \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			fail_msg("%s: %s == %lld, expected %s == %lld (line %d)", ctx, #a, a_, #b, \
				 b_, __LINE__);                                                    \
	} while (0)

/* The ioctl's argument: the 8-byte header and room for any payload (and more). */
struct fcall {
	uint8_t buf[128] __attribute__((aligned(8)));
	int ret, err;
};

static uint8_t *payload(struct fcall *f)
{
	return f->buf + HDR;
}

/* VFIO_DEVICE_FEATURE with argsz and flags as given; the payload is f's. */
static int feat(struct emu_dev *dev, struct fcall *f, uint32_t argsz, uint32_t flags)
{
	struct vfio_device_feature hdr = {.argsz = argsz, .flags = flags};

	memcpy(f->buf, &hdr, HDR);
	errno = 0;
	f->ret = emu_dev_ioctl(dev, VFIO_DEVICE_FEATURE, f->buf);
	f->err = f->ret ? errno : 0;
	return f->ret;
}

/* Payload filled with a pattern, to see whether a call wrote it. */
static void poison(struct fcall *f)
{
	memset(f->buf, 0xa5, sizeof(f->buf));
}

static bool untouched(struct fcall *f)
{
	const uint8_t *p = payload(f);
	size_t i;

	for (i = 0; i < sizeof(f->buf) - HDR; i++) {
		if (p[i] != 0xa5)
			return false;
	}
	return true;
}

#define CHECK_ERRNO(f, e)               \
	do {                            \
		CHECK_EQ((f)->ret, -1); \
		CHECK_EQ((f)->err, e);  \
	} while (0)

static struct emu_dev *new_dev(const char *variant, uint32_t flags)
{
	struct emu_dev_cfg cfg = {
		.variant = variant,
		.mig_flags = flags,
		.params = strcmp(variant, "bigmem") ? NULL : "mem=64k,block=4k",
	};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev)
		fail_msg("emu_dev_create(%s, %#x): %s", variant, flags, emu_last_error());
	return dev;
}

/* MIG_DEVICE_STATE, built by hand. */
static int set_state(struct emu_dev *dev, uint32_t s, struct vfio_device_feature_mig_state *out,
		     int *err)
{
	struct vfio_device_feature_mig_state mig = {.device_state = s, .data_fd = 4242};
	struct fcall f;

	poison(&f);
	memcpy(payload(&f), &mig, sizeof(mig));
	feat(dev, &f, HDR + sizeof(mig), SET | MIG_STATE);
	memcpy(out, payload(&f), sizeof(*out));
	*err = f.err;
	return f.ret;
}

static mig_state get_state(struct emu_dev *dev)
{
	struct vfio_device_feature_mig_state mig = {.device_state = 99, .data_fd = 4242};
	struct fcall f;

	poison(&f);
	memcpy(payload(&f), &mig, sizeof(mig));
	CHECK_EQ(feat(dev, &f, HDR + sizeof(mig), GET | MIG_STATE), 0);
	memcpy(&mig, payload(&f), sizeof(mig));
	CHECK_EQ(mig.data_fd, -1);
	return (mig_state)mig.device_state;
}

static int data_size(struct emu_dev *dev, uint64_t *size)
{
	struct fcall f;

	poison(&f);
	if (feat(dev, &f, HDR + sizeof(uint64_t), GET | DATA_SIZE))
		return -1;
	memcpy(size, payload(&f), sizeof(*size));
	return 0;
}

static bool saving(int s)
{
	return s == PC || s == PCP || s == SC;
}

static bool supported(uint32_t flags, int s)
{
	switch (s) {
	case STOP:
	case RUN:
	case SC:
	case RES:
		return true;
	case P2P:
		return flags & F_P2P;
	case PC:
		return flags & F_PC;
	case PCP:
		return (flags & F_P2P) && (flags & F_PC);
	default:
		return false;
	}
}

/* Reads until EOF; returns the bytes, appended to *buf if buf is given. */
static uint64_t drain(int fd, uint8_t **buf, size_t *len)
{
	uint8_t chunk[8192];
	uint64_t total = 0;
	ssize_t r;

	for (;;) {
		r = emu_fd_read(fd, chunk, sizeof(chunk));
		if (r < 0)
			fail_msg("%s: read: errno %d", ctx, errno);
		if (!r)
			break;
		if (buf) {
			*buf = realloc(*buf, *len + r);
			assert_non_null(*buf);
			memcpy(*buf + *len, chunk, r);
			*len += r;
		}
		total += r;
	}
	return total;
}

/* ---- the core's checks, in order --------------------------------------- */

static void header_checks(void **state)
{
	static const uint32_t idx[] = {MIGRATION, MIG_STATE, DATA_SIZE, 63};
	struct emu_dev *dev = new_dev("bigmem", ALL_FLAGS);
	struct fcall f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		/* argsz < 8: EINVAL, before anything else (even an unknown index) */
		CTX("index %u, argsz 0", idx[i]);
		poison(&f);
		feat(dev, &f, 0, GET | idx[i]);
		CHECK_ERRNO(&f, EINVAL);
		CTX("index %u, argsz 7", idx[i]);
		feat(dev, &f, HDR - 1, GET | idx[i]);
		CHECK_ERRNO(&f, EINVAL);
		CHECK(untouched(&f));
		/* unknown flag bits: EINVAL */
		CTX("index %u, flag bit 19", idx[i]);
		feat(dev, &f, HDR + 8, GET | idx[i] | (1u << 19));
		CHECK_ERRNO(&f, EINVAL);
		CTX("index %u, flag bit 31", idx[i]);
		feat(dev, &f, HDR + 8, PROBE | GET | idx[i] | (1u << 31));
		CHECK_ERRNO(&f, EINVAL);
		/* GET|SET without PROBE: EINVAL */
		CTX("index %u, GET|SET", idx[i]);
		feat(dev, &f, HDR + 8, GET | SET | idx[i]);
		CHECK_ERRNO(&f, EINVAL);
		CHECK(untouched(&f));
	}
	/* past the core's checks an unknown index is ENOTTY, even with PROBE */
	CTX("index 63, GET|SET|PROBE");
	feat(dev, &f, HDR + 8, GET | SET | PROBE | 63);
	CHECK_ERRNO(&f, ENOTTY);
	CTX("GET|SET did not change the state");
	CHECK_EQ(get_state(dev), RUN);
	emu_dev_destroy(dev);
}

static void unknown_features(void **state)
{
	/* PCI_VF_TOKEN, LOW_POWER_*, DMA_LOGGING_* (no log_ops), BUS_MASTER, DMA_BUF, ... */
	static const uint32_t idx[] = {0, 3, 4, 5, 6, 7, 8, 10, 11, 12, 63, 0xffff};
	static const uint32_t ops[] = {GET, SET, PROBE, PROBE | GET, PROBE | SET};
	struct emu_dev *dev = new_dev("bigmem", ALL_FLAGS);
	struct fcall f;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		for (j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
			CTX("feature %u, flags %#x", idx[i], ops[j]);
			poison(&f);
			feat(dev, &f, HDR + 64, ops[j] | idx[i]);
			CHECK_ERRNO(&f, ENOTTY);
			CHECK(untouched(&f));
		}
	}
	emu_dev_destroy(dev);
}

static void bad_calls(void **state)
{
	struct emu_dev *dev = new_dev("nic", 0);

	(void)state;
	CTX("NULL arg");
	errno = 0;
	CHECK_EQ(emu_dev_ioctl(dev, VFIO_DEVICE_FEATURE, NULL), -1);
	CHECK_EQ(errno, EFAULT);
	CTX("unknown cmd");
	errno = 0;
	CHECK_EQ(emu_dev_ioctl(dev, 0, NULL), -1);
	CHECK_EQ(errno, ENOTTY);
	errno = 0;
	CHECK_EQ(emu_dev_ioctl(dev, 0xdeadbeef, NULL), -1);
	CHECK_EQ(errno, ENOTTY);
	CTX("data_fd ioctl on the device");
	errno = 0;
	CHECK_EQ(emu_dev_ioctl(dev, VFIO_MIG_GET_PRECOPY_INFO, NULL), -1);
	CHECK_EQ(errno, ENOTTY);
	CTX("NULL dev");
	errno = 0;
	CHECK_EQ(emu_dev_ioctl(NULL, VFIO_DEVICE_FEATURE, NULL), -1);
	CHECK_EQ(errno, EBADF);
	errno = 0;
	CHECK_EQ(emu_dev_ioctl(NULL, VFIO_DEVICE_RESET, NULL), -1);
	CHECK_EQ(errno, EBADF);
	CTX("RESET");
	CHECK_EQ(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(get_state(dev), RUN);
	emu_dev_destroy(dev);
}

/* ---- MIGRATION ------------------------------------------------------------ */

static void check_migration(struct emu_dev *dev, uint32_t want)
{
	struct vfio_device_feature_migration mig;
	struct fcall f;

	poison(&f);
	feat(dev, &f, HDR + 8, SET | MIGRATION);
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 8, PROBE | SET | MIGRATION);
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 8, PROBE | GET | SET | MIGRATION);
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 8, MIGRATION); /* neither GET nor SET */
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR, GET | MIGRATION); /* argsz - 8 < 8 */
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 7, GET | MIGRATION);
	CHECK_ERRNO(&f, EINVAL);
	CHECK(untouched(&f));
	/* PROBE answers before the size check, and writes nothing */
	CHECK_EQ(feat(dev, &f, HDR + 8, PROBE | GET | MIGRATION), 0);
	CHECK_EQ(feat(dev, &f, HDR, PROBE | GET | MIGRATION), 0);
	CHECK_EQ(feat(dev, &f, HDR, PROBE | MIGRATION), 0);
	CHECK(untouched(&f));
	CHECK_EQ(feat(dev, &f, HDR + 8, GET | MIGRATION), 0);
	memcpy(&mig, payload(&f), sizeof(mig));
	CHECK_EQ(mig.flags, want);
	/* a larger argsz is fine */
	poison(&f);
	CHECK_EQ(feat(dev, &f, HDR + 64, GET | MIGRATION), 0);
	memcpy(&mig, payload(&f), sizeof(mig));
	CHECK_EQ(mig.flags, want);
}

static void migration_feature(void **state)
{
	struct emu_dev *dev;
	size_t i;

	(void)state;
	for (i = 0; i < NR_COMBOS; i++) {
		CTX("MIGRATION, bigmem %#x", combos[i]);
		dev = new_dev("bigmem", combos[i]);
		check_migration(dev, combos[i]);
		emu_dev_destroy(dev);
	}
	CTX("MIGRATION, nic default");
	dev = new_dev("nic", 0);
	check_migration(dev, F_SC | F_P2P);
	emu_dev_destroy(dev);
}

/* ---- MIG_DEVICE_STATE ------------------------------------------------------ */

static void mig_state_checks(void **state)
{
	struct vfio_device_feature_mig_state mig;
	struct emu_dev *dev = new_dev("bigmem", ALL_FLAGS);
	struct fcall f;

	(void)state;
	CTX("MIG_DEVICE_STATE checks");
	poison(&f);
	mig = (struct vfio_device_feature_mig_state){.device_state = STOP, .data_fd = 1};
	memcpy(payload(&f), &mig, sizeof(mig));
	/* PROBE of GET and SET together is allowed, and does nothing */
	CHECK_EQ(feat(dev, &f, HDR + 8, PROBE | GET | SET | MIG_STATE), 0);
	CHECK_EQ(feat(dev, &f, HDR + 8, PROBE | SET | MIG_STATE), 0);
	CHECK_EQ(feat(dev, &f, HDR, PROBE | MIG_STATE), 0);
	CHECK_EQ(get_state(dev), RUN);
	CHECK_EQ(feat(dev, &f, HDR + 8, MIG_STATE), -1);
	CHECK_EQ(f.err, EINVAL);
	CHECK_EQ(feat(dev, &f, HDR + 7, SET | MIG_STATE), -1);
	CHECK_EQ(f.err, EINVAL);
	CHECK_EQ(feat(dev, &f, HDR + 7, GET | MIG_STATE), -1);
	CHECK_EQ(f.err, EINVAL);
	CHECK_EQ(get_state(dev), RUN);
	/* GET: the state, data_fd -1 */
	poison(&f);
	CHECK_EQ(feat(dev, &f, HDR + 8, GET | MIG_STATE), 0);
	memcpy(&mig, payload(&f), sizeof(mig));
	CHECK_EQ(mig.device_state, RUN);
	CHECK_EQ(mig.data_fd, -1);
	emu_dev_destroy(dev);
}

/* SET from RUNNING to every state: data_fd only when a stream begins. */
static void mig_state_set(void **state)
{
	struct vfio_device_feature_mig_state mig;
	struct emu_dev *dev;
	int s, ret, err;
	size_t i;

	(void)state;
	for (i = 0; i < NR_COMBOS; i++) {
		for (s = 0; s <= EMU_NR_STATES; s++) {
			CTX("%#x: SET RUNNING -> %s (%d)", combos[i], vfio_state_name(s), s);
			dev = new_dev("bigmem", combos[i]);
			ret = set_state(dev, s, &mig, &err);
			/* the requested state is copied back either way */
			CHECK_EQ(mig.device_state, s);
			if (!supported(combos[i], s)) {
				CHECK_EQ(ret, -1);
				CHECK_EQ(err, EINVAL);
				CHECK_EQ(mig.data_fd, -1);
				CHECK_EQ(get_state(dev), RUN);
			} else {
				CHECK_EQ(ret, 0);
				CHECK_EQ(get_state(dev), s);
				CHECK_EQ(mig.data_fd >= 0, saving(s) || s == RES);
				if (mig.data_fd >= 0)
					CHECK_EQ(emu_fd_close(mig.data_fd), 0);
			}
			emu_dev_destroy(dev);
		}
	}
}

/* A failed SET: EINVAL or the arc's errno, the requested state copied back, data_fd -1. */
static void mig_state_set_fails(void **state)
{
	struct vfio_device_feature_mig_state mig;
	struct emu_dev *dev;
	int ret, err, fd;

	(void)state;
	dev = new_dev("bigmem", ALL_FLAGS);
	CTX("injected EIO on RUNNING -> STOP_COPY");
	emu_dev_inject_arc_failure(dev, 3, EIO, 1);
	ret = set_state(dev, SC, &mig, &err);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EIO);
	CHECK_EQ(mig.device_state, SC);
	CHECK_EQ(mig.data_fd, -1);
	CHECK_EQ(get_state(dev), RUN);

	CTX("STOP_COPY -> PRE_COPY");
	CHECK_EQ(set_state(dev, SC, &mig, &err), 0);
	fd = mig.data_fd;
	CHECK(fd >= 0);
	ret = set_state(dev, PC, &mig, &err);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(mig.device_state, PC);
	CHECK_EQ(mig.data_fd, -1);
	CHECK_EQ(get_state(dev), SC);
	ret = set_state(dev, PCP, &mig, &err);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(mig.device_state, PCP);
	CHECK_EQ(get_state(dev), SC);

	CTX("SET ERROR");
	ret = set_state(dev, ERR, &mig, &err);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(mig.device_state, ERR);
	CHECK_EQ(mig.data_fd, -1);
	CHECK_EQ(get_state(dev), SC);

	CTX("SET 8");
	ret = set_state(dev, 8, &mig, &err);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(mig.device_state, 8);
	CHECK_EQ(mig.data_fd, -1);

	CTX("RESUMING -> STOP with no stream");
	CHECK_EQ(set_state(dev, STOP, &mig, &err), 0);
	CHECK_EQ(mig.data_fd, -1);
	CHECK_EQ(emu_fd_close(fd), 0);
	CHECK_EQ(set_state(dev, RES, &mig, &err), 0);
	fd = mig.data_fd;
	CHECK(fd >= 0);
	ret = set_state(dev, RUN, &mig, &err);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(mig.device_state, RUN);
	CHECK_EQ(mig.data_fd, -1);
	CHECK_EQ(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

/*
 * Moving inside the saving group hands out no new fd, and the one from
 * entering it carries one whole stream that resumes a second device.
 */
static void saving_group_moves(void **state)
{
	struct vfio_device_feature_mig_state mig;
	struct emu_dev *src, *dst;
	uint8_t *stream = NULL, chunk[100];
	size_t len = 0, off;
	ssize_t r;
	int fd, rfd, err, pass;
	uint64_t digest;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		uint32_t flags = pass ? (F_SC | F_PC) : ALL_FLAGS;

		CTX("%#x: PRE_COPY -> ... -> STOP_COPY", flags);
		src = new_dev("bigmem", flags);
		CHECK_EQ(set_state(src, PC, &mig, &err), 0);
		fd = mig.data_fd;
		CHECK(fd >= 0);
		r = emu_fd_read(fd, chunk, sizeof(chunk));
		CHECK_EQ(r, sizeof(chunk));
		stream = malloc(sizeof(chunk));
		assert_non_null(stream);
		memcpy(stream, chunk, sizeof(chunk));
		len = sizeof(chunk);
		/* the device changes memory in PRE_COPY: dirty data for the stream */
		CHECK_EQ(emu_dev_run(src, 50), 0);
		if (flags & F_P2P) {
			CHECK_EQ(set_state(src, PCP, &mig, &err), 0);
			CHECK_EQ(mig.data_fd, -1);
			CHECK_EQ(get_state(src), PCP);
			r = emu_fd_read(fd, chunk, sizeof(chunk));
			CHECK_EQ(r, sizeof(chunk));
			stream = realloc(stream, len + r); // cppcheck-suppress memleakOnRealloc
			assert_non_null(stream);
			memcpy(stream + len, chunk, r);
			len += r;
		}
		CHECK_EQ(set_state(src, SC, &mig, &err), 0);
		CHECK_EQ(mig.data_fd, -1);
		CHECK_EQ(get_state(src), SC);
		drain(fd, &stream, &len);
		/* EOF is permanent */
		CHECK_EQ(emu_fd_read(fd, chunk, sizeof(chunk)), 0);
		digest = emu_dev_digest(src);

		dst = new_dev("bigmem", flags);
		CHECK_EQ(set_state(dst, RES, &mig, &err), 0);
		rfd = mig.data_fd;
		CHECK(rfd >= 0);
		for (off = 0; off < len; off += r) {
			r = emu_fd_write(rfd, stream + off, len - off < 777 ? len - off : 777);
			CHECK(r > 0);
		}
		if (set_state(dst, RUN, &mig, &err))
			fail_msg("%s: resume failed: %s", ctx, emu_dev_strerror(dst));
		CHECK_EQ(mig.data_fd, -1);
		CHECK(emu_dev_digest(dst) == digest);
		CHECK_EQ(emu_fd_close(rfd), 0);
		CHECK_EQ(emu_fd_close(fd), 0);
		emu_dev_destroy(dst);
		emu_dev_destroy(src);
		free(stream);
		stream = NULL;
	}
}

/* ---- MIG_DATA_SIZE ---------------------------------------------------------- */

static void data_size_checks(void **state)
{
	struct emu_dev *dev = new_dev("bigmem", ALL_FLAGS);
	struct fcall f;

	(void)state;
	CTX("MIG_DATA_SIZE checks");
	poison(&f);
	feat(dev, &f, HDR + 8, SET | DATA_SIZE);
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 8, PROBE | SET | DATA_SIZE);
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 8, DATA_SIZE);
	CHECK_ERRNO(&f, EINVAL);
	feat(dev, &f, HDR + 7, GET | DATA_SIZE);
	CHECK_ERRNO(&f, EINVAL);
	CHECK_EQ(feat(dev, &f, HDR, PROBE | GET | DATA_SIZE), 0);
	CHECK_EQ(feat(dev, &f, HDR, PROBE | DATA_SIZE), 0);
	CHECK(untouched(&f));
	CHECK_EQ(feat(dev, &f, HDR + 8, GET | DATA_SIZE), 0);
	CHECK(!untouched(&f));
	emu_dev_destroy(dev);
}

/* GET works in every state, ERROR included. */
static void data_size_every_state(void **state)
{
	struct vfio_device_feature_mig_state mig;
	struct emu_dev *dev;
	uint64_t size;
	int s, err;
	size_t i;

	(void)state;
	for (i = 0; i < NR_COMBOS; i++) {
		for (s = 0; s < EMU_NR_STATES; s++) {
			if (s != ERR && !supported(combos[i], s))
				continue;
			CTX("%#x: MIG_DATA_SIZE in %s", combos[i], vfio_state_name(s));
			dev = new_dev("bigmem", combos[i]);
			mig.data_fd = -1;
			if (s == ERR) {
				emu_dev_inject_arc_failure(dev, 2, EIO, 2);
				CHECK_EQ(set_state(dev, RES, &mig, &err), -1);
			} else if (s != RUN) {
				CHECK_EQ(set_state(dev, s, &mig, &err), 0);
			}
			CHECK_EQ(get_state(dev), s);
			size = 0;
			CHECK_EQ(data_size(dev, &size), 0);
			CHECK(size > 0);
			if (mig.data_fd >= 0)
				CHECK_EQ(emu_fd_close(mig.data_fd), 0);
			emu_dev_destroy(dev);
		}
	}
}

/* Enters STOP_COPY from via, reads until EOF: the bytes equal what MIG_DATA_SIZE said just before. */
static void size_then_read(const char *variant, uint32_t flags, int via)
{
	struct vfio_device_feature_mig_state mig;
	struct emu_dev *dev;
	uint64_t size = ~0ull, got;
	uint8_t part[1000];
	int fd, err;

	CTX("%s %#x: MIG_DATA_SIZE in %s, then STOP_COPY", variant, flags, vfio_state_name(via));
	dev = new_dev(variant, flags);
	CHECK_EQ(emu_dev_run(dev, 200), 0);
	fd = -1;
	if (via != RUN) {
		CHECK_EQ(set_state(dev, via, &mig, &err), 0);
		fd = mig.data_fd;
	}
	if (saving(via)) {
		/* part of the stream first, cut inside a record */
		CHECK(emu_fd_read(fd, part, sizeof(part)) > 0);
		if (via == PC)
			CHECK_EQ(emu_dev_run(dev, 200), 0);
	}
	CHECK_EQ(data_size(dev, &size), 0);
	if (via != SC) {
		CHECK_EQ(set_state(dev, SC, &mig, &err), 0);
		if (fd < 0)
			fd = mig.data_fd;
	}
	CHECK(fd >= 0);
	got = drain(fd, NULL, NULL);
	CHECK_EQ(got, size);
	/* at EOF nothing is left */
	CHECK_EQ(data_size(dev, &size), 0);
	CHECK_EQ(size, 0);
	CHECK_EQ(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

static void data_size_exact(void **state)
{
	(void)state;
	size_then_read("nic", 0, RUN);
	size_then_read("nic", 0, P2P);
	size_then_read("nic", 0, STOP);
	size_then_read("nic", 0, SC);
	size_then_read("bigmem", ALL_FLAGS, RUN);
	size_then_read("bigmem", ALL_FLAGS, STOP);
	size_then_read("bigmem", ALL_FLAGS, SC);
	size_then_read("bigmem", ALL_FLAGS, PC);
	size_then_read("bigmem", ALL_FLAGS, PCP);
	size_then_read("bigmem", F_SC | F_PC, PC);
	size_then_read("bigmem", F_SC, RUN);
}

/* ---- parsers --------------------------------------------------------------- */

static void state_names(void **state)
{
	static const char *const names[EMU_NR_STATES] = {
		"ERROR",    "STOP",	   "RUNNING",  "STOP_COPY",
		"RESUMING", "RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};
	static const char *const bad[] = {
		"",	    "STOPP",	"STO",
		"8",	    "10",	"-1",
		" RUNNING", "RUNNING ", "RUNNING,STOP",
		"PRE COPY", "0x1",	"STOP_COPY_STOP_COPY_STOP_COPY_STOP_COPY",
	};
	char buf[32], num[4];
	mig_state s;
	size_t i, j;

	(void)state;
	for (i = 0; i < EMU_NR_STATES; i++) {
		CTX("state %zu", i);
		CHECK(!strcmp(vfio_state_name((mig_state)i), names[i]));
		s = (mig_state)99;
		CHECK_EQ(vfio_state_parse(vfio_state_name((mig_state)i), &s), 0);
		CHECK_EQ(s, i);
		/* any case, '-' for '_' */
		for (j = 0; names[i][j]; j++)
			buf[j] = names[i][j] == '_' ? '-' : names[i][j] | 0x20;
		buf[j] = 0;
		s = (mig_state)99;
		CHECK_EQ(vfio_state_parse(buf, &s), 0);
		CHECK_EQ(s, i);
		snprintf(num, sizeof(num), "%zu", i);
		s = (mig_state)99;
		CHECK_EQ(vfio_state_parse(num, &s), 0);
		CHECK_EQ(s, i);
	}
	CTX("names out of range");
	CHECK(!strcmp(vfio_state_name((mig_state)EMU_NR_STATES), "INVALID"));
	CHECK(!strcmp(vfio_state_name((mig_state)0x7fffffff), "INVALID"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CTX("vfio_state_parse(\"%s\")", bad[i]);
		s = (mig_state)99;
		CHECK_EQ(vfio_state_parse(bad[i], &s), -EINVAL);
		CHECK_EQ(s, 99);
	}
}

static void flag_names(void **state)
{
	static const char *const names[] = {"stop-copy", "p2p", "pre-copy"};
	static const char *const bad[] = {
		"bogus",	  "stop-cop", "p2pp",	       "stop-copy,bogus",
		"stop-copy,,p2p", ",p2p",     "stop-copy p2p", "all,x",
	};
	char buf[64];
	uint32_t f, got;
	size_t i, len;

	(void)state;
	/* every subset, as a list, parses back to itself */
	for (f = 1; f <= ALL_FLAGS; f++) {
		len = 0;
		for (i = 0; i < 3; i++) {
			if (f & (1u << i))
				len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
						len ? "," : "", names[i]);
		}
		CTX("emu_flags_parse(\"%s\")", buf);
		got = 0xdead;
		CHECK_EQ(emu_flags_parse(buf, &got), 0);
		CHECK_EQ(got, f);
	}
	CTX("all");
	CHECK_EQ(emu_flags_parse("all", &got), 0);
	CHECK_EQ(got, ALL_FLAGS);
	CTX("upper case");
	CHECK_EQ(emu_flags_parse("STOP-COPY,P2P", &got), 0);
	CHECK_EQ(got, F_SC | F_P2P);
	CTX("repeats");
	CHECK_EQ(emu_flags_parse("p2p,stop-copy,p2p", &got), 0);
	CHECK_EQ(got, F_SC | F_P2P);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CTX("emu_flags_parse(\"%s\")", bad[i]);
		CHECK_EQ(emu_flags_parse(bad[i], &got), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_checks),       cmocka_unit_test(unknown_features),
		cmocka_unit_test(bad_calls),	       cmocka_unit_test(migration_feature),
		cmocka_unit_test(mig_state_checks),    cmocka_unit_test(mig_state_set),
		cmocka_unit_test(mig_state_set_fails), cmocka_unit_test(saving_group_moves),
		cmocka_unit_test(data_size_checks),    cmocka_unit_test(data_size_every_state),
		cmocka_unit_test(data_size_exact),     cmocka_unit_test(state_names),
		cmocka_unit_test(flag_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
