// SPDX-License-Identifier: GPL-2.0
/*
 * Runs inside the vmtest guest: vfmig's probes on a kernel with VFIO,
 * kprobes and fentry, watching the kernel's mtty sample. The ground truth is
 * the kernel's own: the arcs mtty's driver logged (dynamic debug of
 * mtty_step_state), the answers the ioctls gave, the bitmaps they returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include <bpf/bpf.h>
#include <sys/prctl.h>

#include "common/bitmap.h"
#include "device/device.h"
#include "probe/aggregate.h"
#include "probe/devname.h"
#include "vfio_real.h"

#define NSTATES EMU_NR_STATES

static struct vfmig_probes *probes;
static struct real_dev mtty;
static int kmsg = -1;

static int setup(void **state)
{
	struct probe_opts o = {.pid = getpid()};
	char err[256];

	(void)state;
	if (probes_open(&probes, &o, err, sizeof(err))) {
		fprintf(stderr, "probes_open: %s\n", err);
		return -1;
	}
	if (real_open(&mtty, VMTEST_MTTY_A, -1))
		return -1;
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	return kmsg < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	real_close(&mtty);
	probes_close(probes);
	close(kmsg);
	return 0;
}

static uint64_t counter(int idx)
{
	return probe_counter(probes, idx);
}

static const struct probe_row *row_of(struct vfmig_probes *p, const char *program)
{
	const struct probe_row *r = probe_row(p, NULL, program);

	if (!r)
		fail_msg("no row for %s", program);
	return r;
}

static const struct probe_row *row(const char *program)
{
	return row_of(probes, program);
}

/* On this kernel the kernel-side sources attach: fentry first, the kprobe says why not. */
static void test_kernel_sources_attach(void **state)
{
	const struct probe_row *fexit = row("fexit__vfio_mig_get_next_state");
	const struct probe_row *kp = row("kprobe__vfio_mig_get_next_state");
	const struct probe_row *sys = row("tp__sys_enter_ioctl");

	(void)state;
	assert_true(fexit->attached);
	assert_false(kp->attached);
	assert_non_null(strstr(kp->reason, "fentry"));
	assert_true(sys->attached);
	vmtest_report("probes: %s attached (%s); %s off: %s", fexit->program, fexit->reason,
		      kp->program, kp->reason);
}

/* Skips what the kernel logged before now. */
static void kmsg_skip(void)
{
	assert_true(lseek(kmsg, 0, SEEK_END) >= 0);
}

/* Counts the arcs mtty logged since kmsg_skip(): "mtty_step_state: CUR -> NEW". */
static int kmsg_arcs(unsigned int arcs[NSTATES][NSTATES])
{
	unsigned int from, to;
	int n = 0;

	memset(arcs, 0, sizeof(unsigned int) * NSTATES * NSTATES);
	while (kmsg_next_arc(kmsg, NULL, 0, &from, &to))
		if (from < NSTATES && to < NSTATES) {
			arcs[from][to]++;
			n++;
		}
	return n;
}

/* The probes' FSM step histograms summed over devices, per arc. */
static int probe_arcs(struct vfmig_probes *p, unsigned int arcs[NSTATES][NSTATES], int kind,
		      uint8_t *first_from)
{
	static struct agg_hist h[1024];
	int i, n = agg_hists(p, h, 1024), total = 0;

	memset(arcs, 0, sizeof(unsigned int) * NSTATES * NSTATES);
	for (i = 0; i < n; i++) {
		if (h[i].key.kind != kind)
			continue;
		if (h[i].key.from < NSTATES && h[i].key.to < NSTATES)
			arcs[h[i].key.from][h[i].key.to] += h[i].h.count;
		else if (first_from)
			*first_from = h[i].key.from;
		total += h[i].h.count;
	}
	return total;
}

/* Every arc but RESUMING's (resumes are the save/resume test's); two refusals. */
static const enum vfio_device_mig_state sequence[] = {
	VFIO_DEVICE_STATE_PRE_COPY,    VFIO_DEVICE_STATE_PRE_COPY_P2P, VFIO_DEVICE_STATE_STOP_COPY,
	VFIO_DEVICE_STATE_PRE_COPY,    VFIO_DEVICE_STATE_STOP,	       VFIO_DEVICE_STATE_ERROR,
	VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_PRE_COPY_P2P, VFIO_DEVICE_STATE_RUNNING,
	VFIO_DEVICE_STATE_STOP_COPY,   VFIO_DEVICE_STATE_RUNNING_P2P,  VFIO_DEVICE_STATE_PRE_COPY,
	VFIO_DEVICE_STATE_RUNNING,
};

static void step_sources(struct vfmig_probes *p, struct probe_sources *s)
{
	probe_sources(p, VFMIG_EV_FSM_STEP, VFMIG_EV_FSM_STEP, s);
}

/*
 * Steps per arc seen by p (from vfio_mig_get_next_state, by fexit or by
 * kprobe+kretprobe) equal the arcs mtty's driver executed, and requests per
 * (from, to) equal the requests made, the first one from "unknown": nothing
 * told p the state before it. Returns the arcs; their events' sources in src.
 */
/*
 * Every FSM step p saw is of a kernel device (tagged, not a bogus pid)
 * named by the mtty's UUID, read from dev_name() at its first step.
 */
static void steps_device_is_the_mtty(struct vfmig_probes *p)
{
	static struct agg_hist h[1024];
	int i, n = agg_hists(p, h, 1024), steps = 0;
	struct vfmig_dev_name seen;
	struct dev_owner o;

	for (i = 0; i < n; i++) {
		if (h[i].key.kind != VFMIG_H_FSM_STEP)
			continue;
		steps++;
		assert_true(vfmig_dev_is_kernel(h[i].key.dev));
		assert_int_equal(agg_dev_seen(p, h[i].key.dev, &seen), 0);
		assert_string_equal(seen.name, VMTEST_MTTY_A);
		devname_resolve(&devname_host, h[i].key.dev, &seen, &o);
		assert_string_equal(o.name, VMTEST_MTTY_A);
		assert_string_equal(o.from, "kernel");
		assert_int_equal(o.pid, 0);
	}
	assert_true(steps > 0);
}

static int steps_match_the_driver(struct vfmig_probes *p, size_t *failed, struct probe_sources *src)
{
	unsigned int seen[NSTATES][NSTATES], truth[NSTATES][NSTATES];
	uint64_t sets0 = probe_counter(p, VFMIG_C_STATE_SETS);
	uint64_t errs0 = probe_counter(p, VFMIG_C_STATE_SET_ERRORS);
	uint64_t steps0 = probe_counter(p, VFMIG_C_FSM_STEPS);
	uint64_t hangs0 = probe_counter(p, VFMIG_C_HANG_RISK);
	unsigned int reqs[NSTATES][NSTATES] = {}, got[NSTATES][NSTATES];
	uint8_t first = 0;
	size_t i;
	int from, to, n, prev = -1, unknown = 0, sum = 0, total;

	*failed = 0;
	assert_int_equal(probe_arcs(p, seen, VFMIG_H_FSM_STEP, NULL), 0);
	step_sources(p, src);
	kmsg_skip();
	for (i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++) {
		/* every request per (from, to) as the probes know from: unknown at first and
		 * after a refusal (the driver may have stopped at an intermediate arc) */
		if (prev >= 0)
			reqs[prev][sequence[i]]++;
		else
			unknown++;
		prev = sequence[i];
		if (real_set_state(&mtty, sequence[i], NULL)) {
			(*failed)++;
			prev = -1;
		}
	}
	n = kmsg_arcs(truth);
	assert_true(n > 10);
	assert_int_equal(probe_arcs(p, seen, VFMIG_H_FSM_STEP, NULL), n);
	assert_int_equal(probe_counter(p, VFMIG_C_FSM_STEPS) - steps0, n);
	for (from = 0; from < NSTATES; from++)
		for (to = 0; to < NSTATES; to++)
			assert_int_equal(seen[from][to], truth[from][to]);
	assert_int_equal(probe_counter(p, VFMIG_C_STATE_SETS) - sets0,
			 sizeof(sequence) / sizeof(sequence[0]));
	assert_int_equal(probe_counter(p, VFMIG_C_STATE_SET_ERRORS) - errs0, *failed);
	assert_int_equal(*failed, 2); /* to ERROR, and STOP_COPY -> PRE_COPY (fixed kernel) */
	/* that STOP_COPY -> PRE_COPY: refused here, flagged at syscall entry all the same */
	assert_int_equal(probe_counter(p, VFMIG_C_HANG_RISK) - hangs0, 1);
	/* requests per arc, refused ones too, exactly; the rest from unknown */
	total = probe_arcs(p, got, VFMIG_H_STATE_SET, &first);
	assert_int_equal(first, VFMIG_STATE_UNKNOWN);
	for (from = 0; from < NSTATES; from++)
		for (to = 0; to < NSTATES; to++) {
			assert_int_equal(got[from][to], reqs[from][to]);
			sum += got[from][to];
		}
	assert_int_equal(unknown, 3); /* the first; after ERROR and PRE_COPY refused */
	assert_int_equal(total - sum, unknown);
	steps_device_is_the_mtty(p);
	assert_int_equal(real_reset(&mtty), 0);
	step_sources(p, src);
	return n;
}

static void test_steps_and_requests_match_the_driver(void **state)
{
	struct probe_sources src = {0};
	size_t failed;
	int n;

	(void)state;
	n = steps_match_the_driver(probes, &failed, &src);
	assert_int_equal(src.fentry, n);
	assert_int_equal(src.kprobe + src.syscall + src.other, 0);
	vmtest_report(
		"probes: %zu MIG_DEVICE_STATE requests (%zu refused) decoded at the syscall; "
		"%d FSM arcs seen by fexit equal to the %d mtty_step_state logged, arc by arc",
		sizeof(sequence) / sizeof(sequence[0]), failed, n, n);
}

/*
 * The same with kprobes preferred (vfmigprof --prefer kprobe): a second set
 * of probes, kprobe + kretprobe on vfio_mig_get_next_state instead of fexit,
 * counts the same arcs; every step event it sent came from the kprobe.
 */
static void test_kprobe_steps_match_the_driver(void **state)
{
	struct probe_opts o = {.pid = getpid(), .prefer = PREFER_KPROBE};
	const struct probe_row *kp, *krp, *fexit;
	struct vfmig_probes *kprobes;
	struct probe_sources src = {0};
	char err[256];
	size_t failed;
	int n;

	(void)state;
	if (probes_open(&kprobes, &o, err, sizeof(err)))
		fail_msg("probes_open --prefer kprobe: %s", err);
	kp = row_of(kprobes, "kprobe__vfio_mig_get_next_state");
	krp = row_of(kprobes, "kretprobe__vfio_mig_get_next_state");
	fexit = row_of(kprobes, "fexit__vfio_mig_get_next_state");
	assert_true(kp->attached);
	assert_true(krp->attached);
	assert_false(fexit->attached);
	assert_non_null(strstr(fexit->reason, "kprobe is used"));
	n = steps_match_the_driver(kprobes, &failed, &src);
	assert_int_equal(src.kprobe, n);
	assert_int_equal(src.fentry + src.syscall + src.other, 0);
	vmtest_report("probes --prefer kprobe: %s and %s attached (%s off: %s); %d FSM arcs "
		      "counted from the kprobe's events equal to the %d mtty_step_state logged, "
		      "arc by arc",
		      kp->program, krp->program, fexit->program, fexit->reason, n, n);
	probes_close(kprobes);
}

/*
 * What a 5.15 or 5.16 kernel gets (no bpf_loop, bpf_get_func_arg or
 * bpf_get_func_ret), on this one: those helpers hidden. The fexit is off
 * before load, naming the helper; the kprobe pair takes its place and
 * counts the same arcs.
 */
static void test_steps_without_5_17_helpers(void **state)
{
	struct probe_opts o = {.pid = getpid(), .hide_helpers = "loop,get_func_arg,get_func_ret"};
	const struct probe_row *kp, *fexit, *host;
	struct vfmig_probes *old;
	struct probe_sources src = {0};
	char err[256];
	size_t failed;
	int n;

	(void)state;
	if (probes_open(&old, &o, err, sizeof(err)))
		fail_msg("probes_open without the 5.17 helpers: %s", err);
	kp = row_of(old, "kprobe__vfio_mig_get_next_state");
	fexit = row_of(old, "fexit__vfio_mig_get_next_state");
	host = probe_row(old, "host", "bpf_loop");
	assert_true(kp->attached);
	assert_true(row_of(old, "kretprobe__vfio_mig_get_next_state")->attached);
	assert_false(fexit->attached);
	assert_false(fexit->refused);
	assert_string_equal(fexit->reason, "needs bpf_get_func_arg, which this kernel lacks "
					   "(hidden: VFMIG_HIDE_HELPERS)");
	assert_non_null(host);
	assert_non_null(strstr(host->reason, "4096 words"));
	n = steps_match_the_driver(old, &failed, &src);
	assert_int_equal(src.kprobe, n);
	assert_int_equal(src.fentry + src.syscall + src.other, 0);
	vmtest_report("probes without bpf_loop/bpf_get_func_arg (as on 5.15): %s off (%s); the "
		      "kprobe pair counts %d FSM arcs equal to the %d mtty_step_state logged",
		      fexit->program, fexit->reason, n, n);
	probes_close(old);
}

static uint64_t dev_of(int fd)
{
	return (uint64_t)getpid() << 32 | (unsigned int)fd;
}

static void test_precopy_info_calls_counted(void **state)
{
	uint64_t calls0 = counter(VFMIG_C_PRECOPY_INFOS), initial, dirty;
	struct vfmig_dev_state st;
	int fd, i, ok = 0;

	(void)state;
	assert_int_equal(real_set_state(&mtty, VFIO_DEVICE_STATE_PRE_COPY, &fd), 0);
	for (i = 0; i < 3; i++)
		ok += !real_precopy_info(fd, &initial, &dirty);
	close(fd);
	assert_int_equal(ok, 3);
	assert_int_equal(counter(VFMIG_C_PRECOPY_INFOS) - calls0, 3);
	/* asked of the data fd, the answer is the device's */
	assert_int_equal(agg_dev_state(probes, dev_of(mtty.fd), &st), 0);
	assert_int_equal(st.precopy_initial, initial);
	assert_int_equal(st.precopy_dirty, dirty);
	assert_int_equal(real_reset(&mtty), 0);
}

/* Tracking starts and stops the decoder sent, since the last poll. */
struct track_seen {
	unsigned int starts, stops, refused, other_dev;
	struct vfmig_event start; /* the last start */
};

static int on_track(void *ctx, const struct vfmig_event *e)
{
	struct track_seen *s = ctx;

	if (e->source != VFMIG_SRC_SYSCALL || e->type != VFMIG_EV_TRACKING)
		return 0;
	if (e->to & 1) {
		s->starts++;
		s->start = *e;
	} else {
		s->stops++;
	}
	s->refused += e->result != 0;
	s->other_dev += e->dev != s->start.dev;
	return 0;
}

static void poll_track(struct track_seen *s)
{
	memset(s, 0, sizeof(*s));
	while (probes_poll(probes, 0, on_track, s) > 0)
		;
}

/* The interface's start, stop and refused counters, now. */
static void track_counts(int iface, uint64_t c[3])
{
	c[0] = counter(VFMIG_C_TRACK_STARTS + iface);
	c[1] = counter(VFMIG_C_TRACK_STOPS + iface);
	c[2] = counter(VFMIG_C_TRACK_REFUSED + iface);
}

/* One start and one stop of iface on dev since c0, neither refused: counters and events. */
static void one_start_one_stop(int iface, const uint64_t c0[3], uint64_t dev, struct track_seen *s)
{
	uint64_t c[3];

	track_counts(iface, c);
	assert_int_equal(c[0] - c0[0], 1);
	assert_int_equal(c[1] - c0[1], 1);
	assert_int_equal(c[2] - c0[2], 0);
	poll_track(s);
	assert_int_equal(s->starts, 1);
	assert_int_equal(s->stops, 1);
	assert_int_equal(s->refused, 0);
	assert_int_equal(s->other_dev, 0);
	assert_int_equal(s->start.from, iface);
	assert_int_equal(s->start.dev, dev);
	assert_true(s->start.a > 0); /* its latency */
}

#define MAP_IOVA (1ull << 30)
#define MAP_SIZE (2ull << 20)
#define MAP_PAGES (MAP_SIZE / 4096)

/*
 * A real type1 mapping and its dirty bitmap: the container holds only an
 * mdev, so the kernel reports pinned pages only (none: mtty does no DMA);
 * the bitmap it returns is counted as it is, whatever the caller left there.
 */
static void test_type1_dirty_bitmap_counted(void **state)
{
	void *mem = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map),
					       .flags = VFIO_DMA_MAP_FLAG_READ |
							VFIO_DMA_MAP_FLAG_WRITE,
					       .vaddr = (uintptr_t)mem,
					       .iova = MAP_IOVA,
					       .size = MAP_SIZE};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = MAP_IOVA, .size = MAP_SIZE};
	uint64_t q0 = counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1);
	uint64_t d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1);
	uint64_t bits[MAP_PAGES / 64], t0[3];
	struct track_seen s;

	(void)state;
	assert_true(mem != MAP_FAILED);
	memset(bits, 0xa5, sizeof(bits));
	poll_track(&s);
	track_counts(VFMIG_IFACE_TYPE1, t0);
	assert_int_equal(ioctl(mtty.container, VFIO_IOMMU_MAP_DMA, &map), 0);
	assert_int_equal(real_dirty_pages(mtty.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	assert_int_equal(real_get_bitmap(mtty.container, MAP_IOVA, MAP_SIZE, bits), 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1) - q0, 1);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1) - d0,
			 (unsigned int)bitmap_weight(bits, MAP_PAGES));
	assert_int_equal(real_dirty_pages(mtty.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
	one_start_one_stop(VFMIG_IFACE_TYPE1, t0, dev_of(mtty.container), &s);
	assert_int_equal(ioctl(mtty.container, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	assert_int_equal(unmap.size, MAP_SIZE);
	munmap(mem, MAP_SIZE);
	vmtest_report("probes: type1 MAP_DMA %llu KiB, DIRTY_PAGES START/GET_BITMAP/STOP: %u dirty "
		      "pages in the returned bitmap, counted so by the decoder; the START and "
		      "STOP (both answered 0) counted as 1 start and 1 stop, none refused",
		      MAP_SIZE >> 10, (unsigned int)bitmap_weight(bits, MAP_PAGES));
}

#define LOG_IOVA (1ull << 32)
#define LOG_PAGES 4096

/*
 * Device DMA logging on mtty: START, REPORT, STOP through the real feature
 * ioctl. mtty logs nothing and the kernel leaves the caller's bitmap as it
 * was (iova_bitmap only sets bits), so a pattern left there is what the
 * kernel returned, and the decoder must count exactly its bits.
 */
static void test_dma_logging_report_counted(void **state)
{
	struct vfio_device_feature_dma_logging_range range = {LOG_IOVA, LOG_PAGES * 4096ull};
	struct vfio_device_feature_dma_logging_control ctl = {
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)&range};
	static uint64_t bits[LOG_PAGES / 64];
	struct vfio_device_feature_dma_logging_report rep = {.iova = LOG_IOVA,
							     .length = LOG_PAGES * 4096ull,
							     .page_size = 4096,
							     .bitmap = (uintptr_t)bits};
	uint64_t q0 = counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG);
	uint64_t d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG);
	unsigned int i, truth;
	uint64_t t0[3];
	struct track_seen s;
	int ret;

	(void)state;
	poll_track(&s);
	track_counts(VFMIG_IFACE_DMA_LOG, t0);
	for (i = 0; i < LOG_PAGES / 64; i++)
		bits[i] = (0x9e3779b97f4a7c15ull * (i + 1)) >> (i % 7);
	assert_int_equal(
		real_feature(&mtty, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			     &ctl, sizeof(ctl)),
		0);
	ret = real_feature(&mtty, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			   &rep, sizeof(rep));
	truth = bitmap_weight(bits, LOG_PAGES);
	assert_int_equal(
		real_feature(&mtty, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			     NULL, 0),
		0);
	one_start_one_stop(VFMIG_IFACE_DMA_LOG, t0, dev_of(mtty.fd), &s);
	assert_int_equal(s.start.b, 4096);
	assert_int_equal(s.start.c, 1);
	assert_int_equal(s.start.d, LOG_PAGES * 4096ull);
	if (ret == -EOPNOTSUPP) {
		/* a kernel without CONFIG_IOMMUFD_DRIVER has no iova_bitmap: nothing reported */
		assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG) - q0, 0);
		vmtest_report(
			"probes: DMA_LOGGING START/STOP on mtty (both answered 0) counted as 1 "
			"start of 1 range, %llu bytes, 4 KiB pages, and 1 stop; REPORT refused "
			"by this kernel (EOPNOTSUPP: built without CONFIG_IOMMUFD_DRIVER), and "
			"not counted as a report",
			(unsigned long long)s.start.d);
		return;
	}
	assert_int_equal(ret, 0);
	assert_true(truth > LOG_PAGES / 4);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG) - q0, 1);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG) - d0, truth);
	vmtest_report("probes: DMA_LOGGING START/REPORT/STOP on mtty: the %u bits of the returned "
		      "%u-page bitmap counted by the decoder",
		      truth, LOG_PAGES);
}

/* The device the probes follow data fd fd for, or 0. */
static uint64_t data_fd_device(int fd)
{
	uint64_t key = dev_of(fd), dev = 0;

	if (bpf_map_lookup_elem(probes_map_fd(probes, "data_fds"), &key, &dev))
		return 0;
	return dev;
}

struct stream_seen {
	unsigned int reads, writes, sizes, errors;
	unsigned int via[VFMIG_VIA_NR]; /* events per syscall */
	int64_t read_bytes, write_bytes;
	uint64_t read_dev, write_dev, size;
	int splice_result;
	bool mixed; /* an event of another device than the last one */
};

static int on_stream(void *ctx, const struct vfmig_event *e)
{
	struct stream_seen *s = ctx;

	if (e->source != VFMIG_SRC_SYSCALL)
		return 0;
	if (e->type == VFMIG_EV_DATA_READ || e->type == VFMIG_EV_DATA_WRITE) {
		s->via[e->from < VFMIG_VIA_NR ? e->from : 0]++;
		s->errors += e->result < 0;
		if (e->from == VFMIG_VIA_SPLICE)
			s->splice_result = e->result;
	}
	if (e->type == VFMIG_EV_DATA_READ) {
		s->mixed |= s->reads && s->read_dev != e->dev;
		s->reads++;
		s->read_bytes += e->result > 0 ? e->result : 0;
		s->read_dev = e->dev;
	} else if (e->type == VFMIG_EV_DATA_WRITE) {
		s->mixed |= s->writes && s->write_dev != e->dev;
		s->writes++;
		s->write_bytes += e->result > 0 ? e->result : 0;
		s->write_dev = e->dev;
	} else if (e->type == VFMIG_EV_DATA_SIZE) {
		s->sizes++;
		s->size = e->a;
	}
	return 0;
}

static void poll_stream(struct stream_seen *s)
{
	memset(s, 0, sizeof(*s));
	while (probes_poll(probes, 0, on_stream, s) > 0)
		;
}

#define CHUNK 16

/* The calls the test made on data fds, per syscall, and what they returned. */
struct stream_calls {
	unsigned int via[VFMIG_VIA_NR], errors;
	int splice_result; /* -errno or bytes, as the last splice returned */
};

static ssize_t made(struct stream_calls *c, int via, ssize_t n)
{
	c->via[via]++;
	c->errors += n < 0;
	return n;
}

/*
 * One piece of the stream into buf by call i's way: read(2), readv(2) of two
 * iovecs, or splice(2) into a pipe then out of it. mtty's data fds have no
 * splice_read, so this kernel refuses the splice (EINVAL) and the piece is
 * read otherwise; a refused call moves no bytes. Returns bytes, 0 at the end.
 */
static ssize_t read_piece(int fd, char *buf, unsigned int i, const int pipefd[2],
			  struct stream_calls *c)
{
	struct iovec iov[2] = {{buf, CHUNK / 2}, {buf + CHUNK / 2, CHUNK / 2}};
	ssize_t n;

	if (i % 3 == 1)
		return made(c, VFMIG_VIA_READV, readv(fd, iov, 2));
	if (i % 3 == 2) {
		n = made(c, VFMIG_VIA_SPLICE, splice(fd, NULL, pipefd[1], NULL, CHUNK, 0));
		c->splice_result = n < 0 ? -errno : (int)n;
		if (n > 0)
			return read(pipefd[0], buf, n) == n ? n : -1;
		if (n == 0)
			return 0;
		assert_int_equal(errno, EINVAL);
	}
	return made(c, VFMIG_VIA_READ, read(fd, buf, CHUNK));
}

/* The stream in buf written into fd: half by write(2), the rest by writev(2) of two iovecs. */
static int64_t write_stream(int fd, char *buf, int64_t len, struct stream_calls *c)
{
	int64_t half = len / 2, quarter = (len - half) / 2, wrote = 0;
	struct iovec iov[2] = {{buf + half, quarter}, {buf + half + quarter, len - half - quarter}};
	ssize_t n;

	n = made(c, VFMIG_VIA_WRITE, write(fd, buf, half));
	wrote += n > 0 ? n : 0;
	n = made(c, VFMIG_VIA_WRITEV, writev(fd, iov, 2));
	wrote += n > 0 ? n : 0;
	return wrote;
}

/*
 * mtty's STOP_COPY stream read from its data fd through read(2), readv(2)
 * and splice(2) into a pipe, and written into a second mtty's RESUMING fd
 * by write(2) and writev(2): the bytes the syscall decoders count, on each
 * device's account, are the bytes those calls returned and MIG_DATA_SIZE;
 * each call is an event of its syscall; the resumed device takes the
 * stream; a closed data fd is forgotten.
 */
static void test_data_stream_bytes_counted(void **state)
{
	static char buf[1 << 16];
	uint64_t size = 0, r0, w0, z0;
	int64_t got = 0, wrote;
	struct stream_calls c = {0};
	unsigned int i = 0, v;
	int fd, pipefd[2];
	struct stream_seen s;
	struct real_dev b;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(real_open(&b, VMTEST_MTTY_B, mtty.container), 0);
	assert_int_equal(real_reset(&mtty), 0);
	assert_int_equal(real_reset(&b), 0);
	poll_stream(&s);
	r0 = counter(VFMIG_C_DATA_READ_BYTES);
	w0 = counter(VFMIG_C_DATA_WRITE_BYTES);
	z0 = counter(VFMIG_C_DATA_SIZES);
	assert_int_equal(real_data_size(&mtty, &size), 0);
	assert_int_equal(real_set_state(&mtty, VFIO_DEVICE_STATE_STOP_COPY, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(data_fd_device(fd), dev_of(mtty.fd));
	do { /* in small pieces, each way in turn, to the end */
		n = read_piece(fd, buf + got, i++, pipefd, &c);
		assert_true(n >= 0);
		got += n;
	} while (n > 0 && got + CHUNK <= (int64_t)sizeof(buf));
	assert_int_equal(n, 0);
	close(fd);
	assert_int_equal(data_fd_device(fd), 0);
	assert_int_equal(got, size); /* the kernel's own size */
	assert_int_equal(real_set_state(&b, VFIO_DEVICE_STATE_RESUMING, &fd), 0);
	assert_int_equal(data_fd_device(fd), dev_of(b.fd));
	wrote = write_stream(fd, buf, got, &c);
	close(fd);
	assert_int_equal(wrote, got);
	assert_int_equal(real_set_state(&b, VFIO_DEVICE_STATE_RUNNING, NULL), 0);
	assert_int_equal(real_set_state(&mtty, VFIO_DEVICE_STATE_RUNNING, NULL), 0);

	assert_int_equal(counter(VFMIG_C_DATA_READ_BYTES) - r0, got);
	assert_int_equal(counter(VFMIG_C_DATA_WRITE_BYTES) - w0, wrote);
	assert_int_equal(counter(VFMIG_C_DATA_SIZES) - z0, 1);
	poll_stream(&s);
	for (v = 0; v < VFMIG_VIA_NR; v++)
		assert_int_equal(s.via[v], c.via[v]);
	assert_true(c.via[VFMIG_VIA_READ] && c.via[VFMIG_VIA_READV] && c.via[VFMIG_VIA_SPLICE]);
	assert_int_equal(s.errors, c.errors);
	assert_int_equal(s.splice_result, c.splice_result);
	assert_int_equal(s.reads, c.via[VFMIG_VIA_READ] + c.via[VFMIG_VIA_READV] +
					  c.via[VFMIG_VIA_SPLICE]); /* the last read 0: the end */
	assert_int_equal(s.read_bytes, got);
	assert_int_equal(s.read_dev, dev_of(mtty.fd));
	assert_int_equal(s.writes, 2);
	assert_int_equal(s.write_bytes, wrote);
	assert_int_equal(s.write_dev, dev_of(b.fd));
	assert_false(s.mixed);
	assert_int_equal(s.sizes, 1);
	assert_int_equal(s.size, size);
	real_close(&b);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_int_equal(real_reset(&mtty), 0);
	vmtest_report("probes: mtty STOP_COPY stream: MIG_DATA_SIZE said %llu bytes; %u read(2) + "
		      "%u readv(2) returned %lld; %u splice(2) into a pipe %s %d; write(2) + "
		      "writev(2) into the second mtty's RESUMING fd %lld: bytes counted so by the "
		      "data-fd decoders, each call an event of its syscall and result, on each "
		      "device's account",
		      (unsigned long long)size, c.via[VFMIG_VIA_READ], c.via[VFMIG_VIA_READV],
		      (long long)got, c.via[VFMIG_VIA_SPLICE],
		      c.splice_result < 0 ? "refused by this kernel (mtty's data fds have no "
					    "splice_read), each counted with no bytes and its errno"
					  : "moved, the last",
		      c.splice_result, (long long)wrote);
}

/*
 * The device fd mtty's group handed out (VFIO_GROUP_GET_DEVICE_FD, decoded
 * when set-up opened it) is named by its mdev UUID, as this process asked
 * for it; without what the probes saw, this kernel names it only where its
 * fdinfo has vfio-device-syspath.
 */
static void test_device_name_is_the_mtty_uuid(void **state)
{
	struct vfmig_dev_name seen;
	struct dev_owner o, bare;
	char comm[16] = {0};

	(void)state;
	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
	assert_int_equal(agg_dev_seen(probes, dev_of(mtty.fd), &seen), 0);
	assert_string_equal(seen.name, VMTEST_MTTY_A);
	assert_string_equal(seen.comm, comm);
	devname_resolve(&devname_host, dev_of(mtty.fd), NULL, &bare);
	devname_resolve(&devname_host, dev_of(mtty.fd), &seen, &o);
	assert_string_equal(o.name, VMTEST_MTTY_A);
	assert_true(o.alive);
	assert_int_equal(o.pid, getpid());
	assert_int_equal(o.fd, mtty.fd);
	assert_string_equal(o.comm, comm);
	if (!strcmp(bare.from, "fdinfo")) {
		assert_string_equal(bare.name, VMTEST_MTTY_A);
		assert_string_equal(o.from, "fdinfo");
	} else {
		assert_string_equal(bare.name, DEVNAME_UNKNOWN);
		assert_string_equal(o.from, "open");
	}
	vmtest_report("probes: device %d:%d named %s (from %s: %s), as VFIO_GROUP_GET_DEVICE_FD "
		      "asked for it",
		      getpid(), mtty.fd, o.name, o.from,
		      strcmp(o.from, "open") ? "the kernel's fdinfo"
					     : "the decoded open; this kernel's fdinfo has no "
					       "vfio-device-syspath");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_sources_attach),
		cmocka_unit_test(test_steps_and_requests_match_the_driver),
		cmocka_unit_test(test_kprobe_steps_match_the_driver),
		cmocka_unit_test(test_steps_without_5_17_helpers),
		cmocka_unit_test(test_precopy_info_calls_counted),
		cmocka_unit_test(test_type1_dirty_bitmap_counted),
		cmocka_unit_test(test_dma_logging_report_counted),
		cmocka_unit_test(test_data_stream_bytes_counted),
		cmocka_unit_test(test_device_name_is_the_mtty_uuid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
