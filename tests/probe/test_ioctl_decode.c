// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall decoders: entry decoding on real ioctl syscalls carrying real
 * argument structures (this kernel answers them ENOTTY, having no VFIO), and
 * the exit side through BPF_PROG_TEST_RUN on prepared inputs this kernel
 * cannot produce: a filled bitmap, a state a GET returned, a SET that worked,
 * a device fd a group handed out.
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

#include "probe/devname.h"
#include "probe/probe_test.h"
#include "vfmig/uapi.h"

/* Words of a bitmap counted per query: the bound of the group's loops. */
static size_t bound_words = VFMIG_BITMAP_MAX_WORDS;

/* As on 5.15 and 5.16, which have no bpf_loop: loops the verifier bounds. */
static int setup_bounded(void **state)
{
	struct probe_opts o = {.pid = getpid(), .hide_helpers = "loop"};

	(void)state;
	bound_words = VFMIG_BITMAP_BOUNDED_WORDS;
	return probes_setup(&o);
}

struct seen {
	struct vfmig_event last_set, last_open, last_hang;
	int sets, bitmaps, opens, hangs, cut;
	uint64_t dirty;
};

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct seen *s = ctx;

	if (e->source != VFMIG_SRC_SYSCALL)
		return 0;
	if (e->type == VFMIG_EV_STATE_SET) {
		s->last_set = *e;
		s->sets++;
	} else if (e->type == VFMIG_EV_BITMAP) {
		s->bitmaps++;
		s->dirty += e->d;
		s->cut += e->to;
	} else if (e->type == VFMIG_EV_DEVICE_FD) {
		s->last_open = *e;
		s->opens++;
	} else if (e->type == VFMIG_EV_STOPCOPY_TO_PRECOPY) {
		s->last_hang = *e;
		s->hangs++;
	}
	return 0;
}

static void poll_all(struct seen *s)
{
	poll_into(s, sizeof(*s), on_event);
}

struct feature_state {
	struct vfio_device_feature hdr;
	struct vfio_device_feature_mig_state mig;
};

/* A real MIG_DEVICE_STATE SET syscall: decoded at entry, its ENOTTY at exit. */
static void test_real_syscall_state_set(void **state)
{
	struct feature_state f = {
		.hdr = {sizeof(f), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
		.mig = {.device_state = VFIO_DEVICE_STATE_STOP_COPY, .data_fd = -1},
	};
	int fd = open("/dev/null", O_RDONLY);
	struct seen s;

	(void)state;
	NEED_PROBES();
	poll_all(&s);
	assert_int_equal(ioctl(fd, VFIO_DEVICE_FEATURE, &f), -1);
	assert_int_equal(errno, ENOTTY);
	poll_all(&s);
	assert_int_equal(s.sets, 1);
	assert_int_equal(s.last_set.to, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(s.last_set.from, VFMIG_STATE_UNKNOWN); /* never seen: not guessed */
	assert_int_equal(s.last_set.result, -ENOTTY);
	assert_int_equal(s.last_set.dev, ((uint64_t)getpid() << 32) | (unsigned int)fd);
	close(fd);
}

/* The same number on a container fd is DIRTY_PAGES: no state request may come of it. */
static void test_real_syscall_dirty_pages_not_a_state(void **state)
{
	struct vfio_iommu_type1_dirty_bitmap d = {sizeof(d), VFIO_IOMMU_DIRTY_PAGES_FLAG_START};
	int fd = open("/dev/null", O_RDONLY);
	struct seen s;

	(void)state;
	NEED_PROBES();
	poll_all(&s);
	assert_int_equal(ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &d), -1);
	poll_all(&s);
	assert_int_equal(s.sets, 0);
	assert_int_equal(s.bitmaps, 0);
	close(fd);
}

/* f: a MIG_DEVICE_STATE GET or SET (flag) of state, data_fd -1. */
static void mig_state(struct feature_state *f, uint32_t flag, uint32_t state)
{
	memset(f, 0, sizeof(*f));
	f->hdr.argsz = sizeof(*f);
	f->hdr.flags = flag | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	f->mig.device_state = state;
	f->mig.data_fd = -1;
}

/* GET teaches the state; a SET then starts from it. */
static void test_prepared_state_answers(void **state)
{
	struct feature_state get, set;
	uint64_t sets0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	mig_state(&get, VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_STATE_RUNNING);
	mig_state(&set, VFIO_DEVICE_FEATURE_SET, VFIO_DEVICE_STATE_PRE_COPY);
	poll_all(&s);
	sets0 = counter(VFMIG_C_STATE_SETS);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &get, 0, 77), 0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, 0, 77), 0);
	set.mig.device_state = VFIO_DEVICE_STATE_STOP_COPY;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, 0, 77), 0);
	/* GET|PROBE asks whether the feature exists: its buffer says nothing of the state */
	get.hdr.flags |= VFIO_DEVICE_FEATURE_PROBE;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &get, 0, 77), 0);
	set.mig.device_state = VFIO_DEVICE_STATE_PRE_COPY;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, -EINVAL, 77), 0);
	assert_int_equal(counter(VFMIG_C_STATE_SETS) - sets0, 3);
	poll_all(&s);
	assert_int_equal(s.sets, 3);
	/* the last one: from STOP_COPY (learned from the SET before it), refused */
	assert_int_equal(s.last_set.from, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(s.last_set.to, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(s.last_set.result, -EINVAL);
	assert_int_equal(s.last_set.b, VFMIG_STATE_UNKNOWN);
	/* a refused SET may have stopped at an intermediate arc: the next is from unknown */
	set.mig.device_state = VFIO_DEVICE_STATE_RUNNING;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, 0, 77), 0);
	poll_all(&s);
	assert_int_equal(s.sets, 1);
	assert_int_equal(s.last_set.from, VFMIG_STATE_UNKNOWN);
	assert_int_equal(s.last_set.b, VFIO_DEVICE_STATE_RUNNING);
}

struct feature_migration {
	struct vfio_device_feature hdr;
	struct vfio_device_feature_migration mig;
};

/*
 * STOP_COPY -> PRE_COPY: flagged at syscall entry (unfixed kernels never
 * return) when the device is known to be in STOP_COPY and has PRE_COPY or
 * its features are unknown; not when its MIGRATION GET said no PRE_COPY.
 */
static void test_prepared_stopcopy_to_precopy_flagged(void **state)
{
	struct feature_state get, set;
	struct feature_migration mig = {
		.hdr = {sizeof(mig), VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION},
		.mig = {.flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P},
	};
	uint64_t h0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	mig_state(&get, VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_STATE_STOP_COPY);
	mig_state(&set, VFIO_DEVICE_FEATURE_SET, VFIO_DEVICE_STATE_PRE_COPY);
	poll_all(&s);
	/* device 81: features unknown; a GET says STOP_COPY, then SET PRE_COPY */
	h0 = counter(VFMIG_C_HANG_RISK);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &get, 0, 81), 0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, -EINVAL, 81), 0);
	assert_int_equal(counter(VFMIG_C_HANG_RISK) - h0, 1);
	poll_all(&s);
	assert_int_equal(s.hangs, 1);
	assert_int_equal(s.last_hang.from, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(s.last_hang.to, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(s.last_hang.dev, ((uint64_t)getpid() << 32) | 81);
	/* device 82: MIGRATION GET says STOP_COPY | P2P, no PRE_COPY: never flagged */
	h0 = counter(VFMIG_C_HANG_RISK);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &mig, 0, 82), 0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &get, 0, 82), 0);
	set.mig.device_state = VFIO_DEVICE_STATE_PRE_COPY_P2P;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, -EINVAL, 82), 0);
	assert_int_equal(counter(VFMIG_C_HANG_RISK) - h0, 0);
	/* device 83: MIGRATION GET says PRE_COPY: flagged, for PRE_COPY_P2P too */
	mig.mig.flags |= VFIO_MIGRATION_PRE_COPY;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &mig, 0, 83), 0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &get, 0, 83), 0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, -EINVAL, 83), 0);
	assert_int_equal(counter(VFMIG_C_HANG_RISK) - h0, 1);
	/* from a state not known: nothing to flag */
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, -EINVAL, 84), 0);
	assert_int_equal(counter(VFMIG_C_HANG_RISK) - h0, 1);
	poll_all(&s);
}

/* A returned bitmap of each interface, counted bit for bit (and only within its range). */
static void test_prepared_bitmaps_counted(void **state)
{
	static uint64_t bm[1024];
	uint64_t want, d0, q0;
	struct seen s;
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} t1 = {{sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
		{0x100000, 1000 * 4096ull, {4096, sizeof(bm), (__u64 *)bm}}};
	struct iommu_hwpt_get_dirty_bitmap hw = {.size = sizeof(hw),
						 .hwpt_id = 2,
						 .iova = 0,
						 .length = 64 * 1024 * 4096ull,
						 .page_size = 4096,
						 .data = (uintptr_t)bm};
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_report rep;
	} log = {{sizeof(log), VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT},
		 {0, 640 * 8192ull, 8192, (uintptr_t)bm}};

	(void)state;
	NEED_PROBES();
	poll_all(&s);
	/* type1: 1000 pages = 15 words and 40 bits of the 16th */
	fill_bitmap(bm, 1024, 1);
	want = bitmap_weight(bm, 1000);
	d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1);
	q0 = counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1);
	assert_int_equal(run_decode(VFIO_IOMMU_DIRTY_PAGES, &t1, 0, 5), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1) - d0, want);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1) - q0, 1);
	/* a failed query reports nothing */
	assert_int_equal(run_decode(VFIO_IOMMU_DIRTY_PAGES, &t1, -EINVAL, 5), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1) - q0, 1);
	/* iommufd: 64 Ki pages = all 1024 words */
	want = fill_bitmap(bm, 1024, 2);
	d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_IOMMUFD);
	assert_int_equal(run_decode(IOMMU_HWPT_GET_DIRTY_BITMAP, &hw, 0, 6), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_IOMMUFD) - d0, want);
	/* DMA logging report at 8 KiB pages: 640 bits = 10 words */
	fill_bitmap(bm, 1024, 3);
	want = bitmap_weight(bm, 640);
	d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &log, 0, 7), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG) - d0, want);
	/* REPORT|PROBE asks whether logging reports exist: no bitmap comes back */
	q0 = counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG);
	log.hdr.flags |= VFIO_DEVICE_FEATURE_PROBE;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &log, 0, 7), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG) - q0, 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG) - d0, want);
	poll_all(&s);
	assert_int_equal(s.bitmaps, 3);
}

struct type1_get {
	struct vfio_iommu_type1_dirty_bitmap hdr;
	struct vfio_iommu_type1_dirty_bitmap_get get;
};

/* One GET_BITMAP answered with t1's bitmap: want pages counted, cut short or not. */
static void type1_counted(struct type1_get *t1, uint64_t want, int cut)
{
	uint64_t d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1);
	uint64_t t0 = counter(VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_TYPE1);
	struct seen s;

	poll_all(&s);
	assert_int_equal(run_decode(VFIO_IOMMU_DIRTY_PAGES, t1, 0, 5), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1) - d0, want);
	assert_int_equal(counter(VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_TYPE1) - t0, cut);
	poll_all(&s);
	assert_int_equal(s.bitmaps, 1);
	assert_int_equal(s.dirty, want);
	assert_int_equal(s.cut, cut);
}

/*
 * A 4 GiB range at 4 KiB (2^20 pages: 128 KiB of bits, past the old bound
 * of 8192 words) counted whole; a bitmap whose second page cannot be read
 * counted as far as the read worked, and said to be cut short.
 */
static void test_prepared_large_bitmap_counted(void **state)
{
	const size_t words = (4ull << 30) / 4096 / 64, page_words = 4096 / 8;
	struct type1_get t1 = {{sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
			       {0, 4ull << 30, {4096, words * 8, NULL}}};
	uint64_t *bm, want;

	(void)state;
	NEED_PROBES();
	bm = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(bm != MAP_FAILED);
	want = fill_bitmap(bm, words, 4);
	t1.get.bitmap.data = (__u64 *)bm;
	type1_counted(&t1, want, 0);
	/* the second page of the bitmap gone: the first page's bits, and cut short */
	assert_int_equal(munmap(bm + page_words, words * 8 - 4096), 0);
	t1.get.size = 2 * 4096ull * 8 * 4096;
	type1_counted(&t1, bitmap_weight(bm, page_words * 64), 1);
	munmap(bm, 4096);
}

/*
 * At the bound of this group's loops: a bitmap of exactly that many words
 * counted whole; one bit more, counted to the bound and said to be cut
 * short; one bit less (the last word masked, counted word by word), whole;
 * a bitmap whose second page cannot be read, counted as far as it can.
 */
static void test_bitmap_counted_to_the_bound(void **state)
{
	const size_t page_words = 4096 / 8, map_words = bound_words + page_words;
	struct type1_get t1 = {{sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
			       {0, bound_words * 64 * 4096ull, {4096, map_words * 8, NULL}}};
	uint64_t *bm;

	(void)state;
	NEED_PROBES();
	bm = mmap(NULL, map_words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(bm != MAP_FAILED);
	fill_bitmap(bm, map_words, 5);
	t1.get.bitmap.data = (__u64 *)bm;
	type1_counted(&t1, bitmap_weight(bm, bound_words * 64), 0);
	t1.get.size += 4096;
	assert_true(bm[bound_words] & 1); /* a dirty page past the bound, not counted */
	type1_counted(&t1, bitmap_weight(bm, bound_words * 64), 1);
	t1.get.size -= 2 * 4096;
	type1_counted(&t1, bitmap_weight(bm, bound_words * 64 - 1), 0);
	assert_int_equal(munmap(bm + page_words, map_words * 8 - 4096), 0);
	t1.get.size = 2 * page_words * 64 * 4096ull;
	type1_counted(&t1, bitmap_weight(bm, page_words * 64), 1);
	munmap(bm, 4096);
}

/* Names the probes recorded for devices of this process. */
static int names_of_mine(void)
{
	return keys_of_pid(probes, "dev_names", getpid());
}

/* The name in an event's b..d, as far as it goes (24 bytes). */
static void event_name(const struct vfmig_event *e, char *out)
{
	memcpy(out, &e->b, 24);
	out[24] = 0;
}

/*
 * A real VFIO_GROUP_GET_DEVICE_FD on a non-VFIO fd: the name read at entry
 * (options and their VF token cut off), the refusal at exit, nothing named.
 */
static void test_real_syscall_get_device_fd(void **state)
{
	char asked[] = "0000:65:00.1 vf_token=2ab74924-c335-45f4-9b16-8569e5b08258", got[25];
	int fd = open("/dev/null", O_RDONLY), names0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	poll_all(&s);
	names0 = names_of_mine();
	assert_int_equal(ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, asked), -1);
	assert_int_equal(errno, ENOTTY);
	poll_all(&s);
	assert_int_equal(s.opens, 1);
	assert_int_equal(s.last_open.dev, dev_of(fd)); /* refused: the group's fd */
	assert_int_equal(s.last_open.result, -ENOTTY);
	assert_int_equal(s.last_open.a, strlen("0000:65:00.1"));
	event_name(&s.last_open, got);
	assert_string_equal(got, "0000:65:00.1");
	assert_null(memmem(&s.last_open, sizeof(s.last_open), "2ab7", 4));
	assert_int_equal(names_of_mine(), names0);
	close(fd);
}

/* The fd VFIO returned, prepared: the name is kept for it, and user space shows it. */
static void test_prepared_get_device_fd(void **state)
{
	char uuid[] = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", got[25], comm[16] = {0};
	char longname[81];
	struct vfmig_dev_name seen;
	struct dev_owner o;
	int names0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	memset(longname, 'x', 80);
	longname[80] = 0;
	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
	poll_all(&s);
	names0 = names_of_mine();
	assert_int_equal(run_decode(VFIO_GROUP_GET_DEVICE_FD, uuid, 917, 9), 0);
	assert_int_equal(run_decode(VFIO_GROUP_GET_DEVICE_FD, "0000:00:05.0", -ENODEV, 9), 0);
	assert_int_equal(run_decode(VFIO_GROUP_GET_DEVICE_FD, longname, 918, 9), 0);
	assert_int_equal(names_of_mine(), names0 + 2);
	poll_all(&s);
	assert_int_equal(s.opens, 3);
	assert_int_equal(s.last_open.dev, dev_of(918));
	assert_int_equal(s.last_open.result, 918);
	assert_int_equal(s.last_open.a, VFMIG_DEV_NAME_LEN - 1);
	assert_int_equal(agg_dev_seen(probes, dev_of(917), &seen), 0);
	assert_string_equal(seen.name, uuid);
	assert_string_equal(seen.comm, comm);
	assert_int_equal(agg_dev_seen(probes, dev_of(918), &seen), 0);
	assert_int_equal(strlen(seen.name), VFMIG_DEV_NAME_LEN - 1);
	assert_int_equal(agg_dev_seen(probes, dev_of(9), &seen), -ENOENT);
	/* fd 917 is not open here: the name comes from what the probes saw */
	devname_resolve(&devname_host, dev_of(917), NULL, &o);
	assert_string_equal(o.name, "unknown (fd closed)");
	assert_int_equal(agg_dev_seen(probes, dev_of(917), &seen), 0);
	devname_resolve(&devname_host, dev_of(917), &seen, &o);
	assert_string_equal(o.name, uuid);
	assert_string_equal(o.from, "open");
	assert_string_equal(o.comm, comm);
	assert_true(o.alive);
	event_name(&s.last_open, got);
	assert_int_equal(strspn(got, "x"), 24);
}

/* Tracking start/stop events from the syscalls, in order. */
struct track_seen {
	int n;
	struct vfmig_event e[8];
};

static int on_track(void *ctx, const struct vfmig_event *e)
{
	struct track_seen *s = ctx;

	if (e->source == VFMIG_SRC_SYSCALL && e->type == VFMIG_EV_TRACKING && s->n < 8)
		s->e[s->n++] = *e;
	return 0;
}

static void poll_track(struct track_seen *s)
{
	poll_into(s, sizeof(*s), on_track);
}

/* Starts, stops and refusals per interface: [0] starts, [1] stops, [2] refused. */
static void track_counts(uint64_t c[3][VFMIG_IFACE_NR])
{
	int i;

	for (i = 0; i < VFMIG_IFACE_NR; i++) {
		c[0][i] = counter(VFMIG_C_TRACK_STARTS + i);
		c[1][i] = counter(VFMIG_C_TRACK_STOPS + i);
		c[2][i] = counter(VFMIG_C_TRACK_REFUSED + i);
	}
}

/* The change since c0 is starts, stops, refused on iface, nothing on the others. */
static void track_delta(uint64_t c0[3][VFMIG_IFACE_NR], int iface, int starts, int stops,
			int refused)
{
	uint64_t c[3][VFMIG_IFACE_NR];
	int i;

	track_counts(c);
	for (i = 0; i < VFMIG_IFACE_NR; i++) {
		assert_int_equal(c[0][i] - c0[0][i], i == iface ? starts : 0);
		assert_int_equal(c[1][i] - c0[1][i], i == iface ? stops : 0);
		assert_int_equal(c[2][i] - c0[2][i], i == iface ? refused : 0);
	}
}

static void track_event_is(const struct vfmig_event *e, int iface, int to, int result, uint64_t dev)
{
	assert_int_equal(e->from, iface);
	assert_int_equal(e->to, to);
	assert_int_equal(e->result, result);
	assert_int_equal(e->dev, dev);
}

struct log_start {
	struct vfio_device_feature hdr;
	struct vfio_device_feature_dma_logging_control ctl;
};

/*
 * Real tracking ioctls on a non-VFIO fd (ENOTTY here): type1 DIRTY_PAGES
 * START/STOP, DMA_LOGGING START (its ranges summed as passed) / STOP,
 * iommufd SET_DIRTY_TRACKING enable/disable: decoded at entry, each a start
 * or stop of its interface, refused, with its event; PROBE asks nothing.
 */
static void test_real_syscall_tracking_start_stop(void **state)
{
	struct vfio_iommu_type1_dirty_bitmap t1 = {sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_START};
	struct vfio_device_feature_dma_logging_range r[3] = {
		{0x100000, 64 << 12}, {1ull << 32, 1ull << 30}, {0x7000000000ull, 8192}};
	struct log_start log = {
		{sizeof(log), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START},
		{.page_size = 8192, .num_ranges = 3, .ranges = (uintptr_t)r}};
	struct vfio_device_feature stop = {
		sizeof(stop), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP};
	struct iommu_hwpt_set_dirty_tracking hw = {
		.size = sizeof(hw), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE, .hwpt_id = 7};
	int fd = open("/dev/null", O_RDONLY);
	uint64_t c0[3][VFMIG_IFACE_NR], dev = dev_of(fd);
	struct track_seen s;

	(void)state;
	NEED_PROBES();
	poll_track(&s);
	track_counts(c0);
	assert_int_equal(ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &t1), -1);
	t1.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	assert_int_equal(ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &t1), -1);
	track_delta(c0, VFMIG_IFACE_TYPE1, 1, 1, 2);
	track_counts(c0);
	assert_int_equal(ioctl(fd, VFIO_DEVICE_FEATURE, &log), -1);
	assert_int_equal(ioctl(fd, VFIO_DEVICE_FEATURE, &stop), -1);
	log.hdr.flags |= VFIO_DEVICE_FEATURE_PROBE; /* does logging exist? nothing started */
	assert_int_equal(ioctl(fd, VFIO_DEVICE_FEATURE, &log), -1);
	track_delta(c0, VFMIG_IFACE_DMA_LOG, 1, 1, 2);
	track_counts(c0);
	assert_int_equal(ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &hw), -1);
	hw.flags = 0;
	assert_int_equal(ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &hw), -1);
	assert_int_equal(errno, ENOTTY);
	track_delta(c0, VFMIG_IFACE_IOMMUFD, 1, 1, 2);
	poll_track(&s);
	assert_int_equal(s.n, 6);
	track_event_is(&s.e[0], VFMIG_IFACE_TYPE1, 1, -ENOTTY, dev);
	track_event_is(&s.e[1], VFMIG_IFACE_TYPE1, 0, -ENOTTY, dev);
	track_event_is(&s.e[2], VFMIG_IFACE_DMA_LOG, 1, -ENOTTY, dev);
	assert_int_equal(s.e[2].b, 8192);
	assert_int_equal(s.e[2].c, 3);
	assert_int_equal(s.e[2].d, r[0].length + r[1].length + r[2].length);
	track_event_is(&s.e[3], VFMIG_IFACE_DMA_LOG, 0, -ENOTTY, dev);
	track_event_is(&s.e[4], VFMIG_IFACE_IOMMUFD, 1, -ENOTTY, dev);
	assert_int_equal(s.e[4].c, 7);
	track_event_is(&s.e[5], VFMIG_IFACE_IOMMUFD, 0, -ENOTTY, dev);
	close(fd);
}

/* The tracking latency histogram entries of dev, per (interface, start, result). */
static uint64_t track_hist(uint64_t dev, int iface, int start, int result)
{
	static struct agg_hist h[512];
	int i, n = agg_hists(probes, h, 512);
	uint64_t count = 0;

	for (i = 0; i < n; i++)
		if (h[i].key.kind == VFMIG_H_TRACKING && h[i].key.dev == dev &&
		    h[i].key.from == iface && h[i].key.to == start && h[i].key.result == result)
			count += h[i].h.count;
	return count;
}

/*
 * Answers this kernel cannot give: starts that worked (counted, not
 * refused, their latency kept per result), a start of more ranges than the
 * kernel takes (the sum stops at 256, said to be cut short), and one whose
 * ranges cannot be read.
 */
static void test_prepared_tracking_answers(void **state)
{
	static struct vfio_device_feature_dma_logging_range r[300];
	struct vfio_iommu_type1_dirty_bitmap t1 = {sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_START};
	struct log_start log = {
		{sizeof(log), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START},
		{.page_size = 4096, .num_ranges = 300, .ranges = (uintptr_t)r}};
	struct iommu_hwpt_set_dirty_tracking hw = {
		.size = sizeof(hw), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE, .hwpt_id = 3};
	uint64_t c0[3][VFMIG_IFACE_NR], want = 0;
	struct track_seen s;
	int i;

	(void)state;
	NEED_PROBES();
	for (i = 0; i < 300; i++) {
		r[i].iova = (uint64_t)i << 30;
		r[i].length = (i + 1) * 4096ull;
		want += i < 256 ? r[i].length : 0;
	}
	poll_track(&s);
	track_counts(c0);
	assert_int_equal(run_decode(VFIO_IOMMU_DIRTY_PAGES, &t1, 0, 61), 0);
	assert_int_equal(run_decode(VFIO_IOMMU_DIRTY_PAGES, &t1, 0, 61), 0);
	track_delta(c0, VFMIG_IFACE_TYPE1, 2, 0, 0);
	assert_int_equal(track_hist(dev_of(61), VFMIG_IFACE_TYPE1, 1, 0), 2);
	track_counts(c0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &log, -E2BIG, 62), 0);
	log.ctl.num_ranges = 2;
	log.ctl.ranges = 8; /* unreadable */
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &log, 0, 62), 0);
	track_delta(c0, VFMIG_IFACE_DMA_LOG, 2, 0, 1);
	assert_int_equal(track_hist(dev_of(62), VFMIG_IFACE_DMA_LOG, 1, -E2BIG), 1);
	assert_int_equal(track_hist(dev_of(62), VFMIG_IFACE_DMA_LOG, 1, 0), 1);
	track_counts(c0);
	assert_int_equal(run_decode(IOMMU_HWPT_SET_DIRTY_TRACKING, &hw, 0, 63), 0);
	track_delta(c0, VFMIG_IFACE_IOMMUFD, 1, 0, 0);
	poll_track(&s);
	assert_int_equal(s.n, 5);
	track_event_is(&s.e[2], VFMIG_IFACE_DMA_LOG, 1 | 2, -E2BIG, dev_of(62));
	assert_int_equal(s.e[2].c, 300);
	assert_int_equal(s.e[2].d, want);
	track_event_is(&s.e[3], VFMIG_IFACE_DMA_LOG, 1 | 2, 0, dev_of(62));
	assert_int_equal(s.e[3].d, 0);
	track_event_is(&s.e[4], VFMIG_IFACE_IOMMUFD, 1, 0, dev_of(63));
	assert_int_equal(s.e[4].c, 3);
}

/* Data stream events (reads, writes, MIG_DATA_SIZE) from the syscalls, and their sums. */
struct data_seen {
	int reads, writes, sizes, read_errors;
	int64_t read_bytes, write_bytes, write_asked;
	int write_cut; /* writes whose bytes asked fell short */
	uint64_t read_dev, write_dev, read_fd, write_fd, last_size;
	int size_result;
};

static int on_data(void *ctx, const struct vfmig_event *e)
{
	struct data_seen *s = ctx;

	if (e->source != VFMIG_SRC_SYSCALL)
		return 0;
	if (e->type == VFMIG_EV_DATA_READ) {
		s->reads++;
		s->read_bytes += e->result > 0 ? e->result : 0;
		s->read_errors += e->result < 0;
		s->read_dev = e->dev;
		s->read_fd = e->b;
	} else if (e->type == VFMIG_EV_DATA_WRITE) {
		s->writes++;
		s->write_bytes += e->result > 0 ? e->result : 0;
		s->write_asked += e->a;
		s->write_cut += e->to;
		s->write_dev = e->dev;
		s->write_fd = e->b;
	} else if (e->type == VFMIG_EV_DATA_SIZE) {
		s->sizes++;
		s->last_size = e->a;
		s->size_result = e->result;
	}
	return 0;
}

static void poll_data(struct data_seen *s)
{
	poll_into(s, sizeof(*s), on_data);
}

/* The ioctl decoders of p on a prepared input: args = { fd, cmd, arg, ret }. */
static int run_decode_in(struct vfmig_probes *p, unsigned long cmd, const void *arg, long ret,
			 int fd)
{
	uint64_t args[4] = {(unsigned int)fd, cmd, (uintptr_t)arg, (uint64_t)ret};

	return probes_test_run(p, "test__decode", args, 4);
}

struct bounded_seen {
	struct data_seen data;
	struct track_seen track;
};

static int on_bounded(void *ctx, const struct vfmig_event *e)
{
	struct bounded_seen *s = ctx;

	on_data(&s->data, e);
	return on_track(&s->track, e);
}

/*
 * Where the kernel has no bpf_loop (5.15, 5.16; here hidden), a vectored
 * call's bytes asked are its first 64 iovecs' and a DMA logging start's
 * ranges are summed to 64, said cut short; the bytes moved count whole.
 */
static void test_sums_bounded_without_bpf_loop(void **state)
{
	struct probe_opts o = {.pid = getpid(), .hide_helpers = "loop"};
	static struct vfio_device_feature_dma_logging_range r[70];
	struct log_start log = {
		{sizeof(log), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START},
		{.page_size = 4096, .num_ranges = 70, .ranges = (uintptr_t)r}};
	struct feature_state set = {
		.hdr = {sizeof(set),
			VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
		.mig = {.device_state = VFIO_DEVICE_STATE_RESUMING}};
	static char buf[70];
	struct iovec iov[70];
	struct vfmig_probes *old;
	struct bounded_seen s = {0};
	uint64_t w0, first64 = 0, all = 0;
	char err[256];
	int p[2], i;

	(void)state;
	NEED_PROBES();
	if (probes_open(&old, &o, err, sizeof(err)))
		fail_msg("probes_open without bpf_loop: %s", err);
	assert_int_equal(pipe(p), 0);
	for (i = 0; i < 70; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = i + 1;
		r[i].iova = (uint64_t)i << 30;
		r[i].length = (i + 1) * 4096ull;
		all += i + 1;
		first64 += i < 64 ? i + 1 : 0;
	}
	set.mig.data_fd = p[1];
	assert_int_equal(run_decode_in(old, VFIO_DEVICE_FEATURE, &set, 0, 95), 0);
	w0 = probe_counter(old, VFMIG_C_DATA_WRITE_BYTES);
	assert_int_equal(writev(p[1], iov, 70), all);
	assert_int_equal(probe_counter(old, VFMIG_C_DATA_WRITE_BYTES) - w0, all);
	assert_int_equal(run_decode_in(old, VFIO_DEVICE_FEATURE, &log, 0, 96), 0);
	while (probes_poll(old, 0, on_bounded, &s) > 0)
		;
	assert_int_equal(s.data.writes, 1);
	assert_int_equal(s.data.write_asked, first64);
	assert_int_equal(s.data.write_cut, 1);
	assert_int_equal(s.data.write_bytes, all);
	assert_int_equal(s.track.n, 1);
	assert_int_equal(s.track.e[0].to, 1 | 2);
	assert_int_equal(s.track.e[0].d, first64 * 4096);
	close(p[0]);
	close(p[1]);
	probes_close(old);
}

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
		cmocka_unit_test(test_real_syscall_state_set),
		cmocka_unit_test(test_real_syscall_dirty_pages_not_a_state),
		cmocka_unit_test(test_prepared_state_answers),
		cmocka_unit_test(test_prepared_stopcopy_to_precopy_flagged),
		cmocka_unit_test(test_prepared_bitmaps_counted),
		cmocka_unit_test(test_prepared_large_bitmap_counted),
		cmocka_unit_test(test_real_syscall_get_device_fd),
		cmocka_unit_test(test_prepared_get_device_fd),
		cmocka_unit_test(test_data_fd_bytes_counted),
		cmocka_unit_test(test_data_fd_every_syscall_counted),
		cmocka_unit_test(test_data_fds_forgotten_at_exec_and_exit),
		cmocka_unit_test(test_data_size_calls_counted),
		cmocka_unit_test(test_real_syscall_tracking_start_stop),
		cmocka_unit_test(test_prepared_tracking_answers),
		cmocka_unit_test(test_sums_bounded_without_bpf_loop),
		cmocka_unit_test(test_bitmap_counted_to_the_bound),
	};
	/* what needs bpf_loop where there is one, again without it */
	const struct CMUnitTest bounded[] = {
		cmocka_unit_test(test_prepared_bitmaps_counted),
		cmocka_unit_test(test_bitmap_counted_to_the_bound),
		cmocka_unit_test(test_data_fd_bytes_counted),
		cmocka_unit_test(test_data_fds_forgotten_at_exec_and_exit),
	};
	int failed = cmocka_run_group_tests(tests, setup_pid, teardown);

	return failed +
	       cmocka_run_group_tests_name("without bpf_loop", bounded, setup_bounded, teardown);
}
