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
#include <sys/prctl.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "probe/devname.h"
#include "probe/probe_test.h"
#include "vfmig/uapi.h"

static int setup(void **state)
{
	struct probe_opts o = {.pid = getpid()};

	(void)state;
	return probes_setup(&o);
}

struct seen {
	struct vfmig_event last_set, last_open;
	int sets, bitmaps, opens;
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
	} else if (e->type == VFMIG_EV_DEVICE_FD) {
		s->last_open = *e;
		s->opens++;
	}
	return 0;
}

static void poll_all(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	while (probes_poll(probes, 0, on_event, s) > 0)
		;
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

/* GET teaches the state; a SET then starts from it. */
static void test_prepared_state_answers(void **state)
{
	struct feature_state get = {
		.hdr = {sizeof(get),
			VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
		.mig = {.device_state = VFIO_DEVICE_STATE_RUNNING, .data_fd = -1},
	};
	struct feature_state set = {
		.hdr = {sizeof(set),
			VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
		.mig = {.device_state = VFIO_DEVICE_STATE_PRE_COPY},
	};
	uint64_t sets0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	poll_all(&s);
	sets0 = counter(VFMIG_C_STATE_SETS);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &get, 0, 77), 0);
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, 0, 77), 0);
	set.mig.device_state = VFIO_DEVICE_STATE_STOP_COPY;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, 0, 77), 0);
	set.mig.device_state = VFIO_DEVICE_STATE_PRE_COPY;
	assert_int_equal(run_decode(VFIO_DEVICE_FEATURE, &set, -EINVAL, 77), 0);
	assert_int_equal(counter(VFMIG_C_STATE_SETS) - sets0, 3);
	poll_all(&s);
	assert_int_equal(s.sets, 3);
	/* the last one: from STOP_COPY (learned from the SET before it), refused */
	assert_int_equal(s.last_set.from, VFIO_DEVICE_STATE_STOP_COPY);
	assert_int_equal(s.last_set.to, VFIO_DEVICE_STATE_PRE_COPY);
	assert_int_equal(s.last_set.result, -EINVAL);
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
	poll_all(&s);
	assert_int_equal(s.bitmaps, 3);
}

static uint64_t dev_of(int fd)
{
	return (uint64_t)getpid() << 32 | (unsigned int)fd;
}

/* Names the probes recorded for devices of this process. */
static int names_of_mine(void)
{
	int fd = probes_map_fd(probes, "dev_names"), n = 0;
	uint64_t key, next;
	void *prev = NULL;

	assert_true(fd >= 0);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		n += key >> 32 == (uint64_t)getpid();
		prev = &key;
	}
	return n;
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
		cmocka_unit_test(test_prepared_bitmaps_counted),
		cmocka_unit_test(test_real_syscall_get_device_fd),
		cmocka_unit_test(test_prepared_get_device_fd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
