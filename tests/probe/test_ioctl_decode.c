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
#include "probe/fixture_ioctl_decode.h"

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
		cmocka_unit_test(test_bitmap_counted_to_the_bound),
	};
	/* what needs bpf_loop where there is one, again without it */
	const struct CMUnitTest bounded[] = {
		cmocka_unit_test(test_prepared_bitmaps_counted),
		cmocka_unit_test(test_bitmap_counted_to_the_bound),
	};
	int failed = cmocka_run_group_tests(tests, setup_pid, teardown);

	return failed +
	       cmocka_run_group_tests_name("without bpf_loop", bounded, setup_bounded, teardown);
}
