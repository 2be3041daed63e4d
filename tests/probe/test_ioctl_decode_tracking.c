// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall decoders on dirty tracking: real type1, DMA logging and iommufd
 * start/stop ioctls (ENOTTY here), their prepared answers, and the sums a
 * kernel without bpf_loop bounds.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_syscall_tracking_start_stop),
		cmocka_unit_test(test_prepared_tracking_answers),
		cmocka_unit_test(test_sums_bounded_without_bpf_loop),
	};

	return cmocka_run_group_tests(tests, setup_pid, teardown);
}
