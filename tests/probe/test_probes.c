// SPDX-License-Identifier: GPL-2.0
/*
 * The probe families loaded and attached for real, on this very process
 * (it links the emulated device and so carries its USDT notes), with every
 * figure checked against ground truth the test itself produced: requests it
 * made, steps the device logged, pages it pinned, bytes it mapped, pages it
 * dirtied, and ring-buffer records it caused.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "memory/guest_mem.h"
#include "memory/iommu.h"
#include "probe/probe_test.h"

#define MEM (4u << 20)

static void drain(void)
{
	while (probes_poll(probes, 0, NULL, NULL) > 0)
		;
}

static void test_table_says_why(void **state)
{
	const struct probe_row *rows;
	int i, n, usdt = 0;

	(void)state;
	NEED_PROBES();
	n = probes_table(probes, &rows);
	assert_true(n > 20);
	for (i = 0; i < n; i++) {
		/* the vCPU probes are the VM's (user/migration), not linked here: test_vcpu's */
		if (!strcmp(rows[i].source, "usdt") && !strstr(rows[i].program, "__vcpu_")) {
			assert_true(rows[i].attached);
			usdt++;
		} else if (!strcmp(rows[i].source, "usdt")) {
			assert_false(rows[i].attached);
			assert_non_null(strstr(rows[i].reason, "note in"));
		}
		/* every probe that is off says why, in words the host produced */
		if (!rows[i].attached)
			assert_true(strlen(rows[i].reason) > 10);
	}
	assert_true(usdt >= 15);
}

#define NSTATES EMU_NR_STATES

static struct emu_dev *mk(const char *variant, const char *params)
{
	struct emu_dev_cfg cfg = {.variant = variant, .params = params};
	struct emu_dev *dev = emu_dev_create(&cfg);

	assert_non_null(dev);
	return dev;
}

static uint64_t slot_of(uint64_t ns)
{
	uint64_t s = 0;

	while (ns >>= 1)
		s++;
	return s < VFMIG_HIST_SLOTS ? s : VFMIG_HIST_SLOTS - 1;
}

/*
 * Requests per (from, to) equal those made, arc by arc; their latencies
 * (the device's set start to end, by USDT) lie within the time the caller
 * saw each arc's requests take.
 */
static void requests_match(const struct agg_hist *h, int nh, uint64_t dev,
			   unsigned int reqs[NSTATES][NSTATES], uint64_t wall[NSTATES][NSTATES])
{
	unsigned int got[NSTATES][NSTATES] = {};
	int j, from, to;

	for (j = 0; j < nh; j++) {
		if (h[j].key.kind != VFMIG_H_STATE_SET || h[j].key.dev != dev)
			continue;
		assert_true(h[j].key.from < NSTATES && h[j].key.to < NSTATES);
		got[h[j].key.from][h[j].key.to] += h[j].h.count;
		assert_true(h[j].h.sum_ns <= wall[h[j].key.from][h[j].key.to]);
		assert_true(slot_of(h[j].h.max_ns) <= slot_of(wall[h[j].key.from][h[j].key.to]));
	}
	for (from = 0; from < NSTATES; from++)
		for (to = 0; to < NSTATES; to++)
			assert_int_equal(got[from][to], reqs[from][to]);
}

#define MAX_REQS 16

/* What one request took: seen by the caller, by the device, by the probes. */
struct req_times {
	uint8_t from, to;
	int result;
	uint64_t wall;	      /* the caller's clock around the call */
	uint64_t inner;	      /* the device's: its first step's start to its last step's end */
	uint64_t lat;	      /* the probes': the request's event */
	size_t step0, nsteps; /* its steps, in the device's log */
};

struct req_events {
	uint64_t dev;
	size_t n;
	uint64_t lat[MAX_REQS];
};

static int on_set_event(void *ctx, const struct vfmig_event *e)
{
	struct req_events *r = ctx;

	if (e->type == VFMIG_EV_STATE_SET && e->source == VFMIG_SRC_USDT && e->dev == r->dev &&
	    r->n < MAX_REQS)
		r->lat[r->n++] = e->a;
	return 0;
}

/*
 * Each request's latency, as the probes measured it (the device's set
 * start to end, by USDT), lies between the device's own timestamps of the
 * steps it ran and the caller's clock around it; and the histograms hold,
 * bucket by bucket, those latencies.
 */
static void requests_bracketed(const struct agg_hist *h, int nh, uint64_t dev, struct req_times *t,
			       size_t n, const struct emu_step *steps)
{
	struct req_events ev = {.dev = dev};
	size_t i, k;
	int j, slot;

	while (probes_poll(probes, 0, on_set_event, &ev) > 0)
		;
	assert_int_equal(ev.n, n);
	for (i = 0; i < n; i++) {
		t[i].lat = ev.lat[i];
		t[i].inner = t[i].nsteps ? steps[t[i].step0 + t[i].nsteps - 1].t_end_ns -
						   steps[t[i].step0].t_start_ns
					 : 0;
		assert_true(t[i].inner <= t[i].lat);
		assert_true(t[i].lat <= t[i].wall);
	}
	for (j = 0; j < nh; j++) {
		if (h[j].key.kind != VFMIG_H_STATE_SET || h[j].key.dev != dev)
			continue;
		for (slot = 0; slot < VFMIG_HIST_SLOTS; slot++) {
			uint64_t want = 0;

			for (k = 0; k < n; k++)
				want += t[k].from == h[j].key.from && t[k].to == h[j].key.to &&
					t[k].result == h[j].key.result &&
					slot_of(t[k].lat) == (uint64_t)slot;
			assert_int_equal(h[j].h.slots[slot], want);
		}
	}
}

/* Requests and steps per arc, and each step's latency bucket, equal the device's own log. */
static void test_transitions_match_device_log(void **state)
{
	static const enum vfio_device_mig_state seq[] = {
		VFIO_DEVICE_STATE_PRE_COPY, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP,
		VFIO_DEVICE_STATE_RUNNING,  VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_PRE_COPY,
		VFIO_DEVICE_STATE_RUNNING,
	};
	struct emu_dev *dev = mk("bigmem", "mem=64k,block=4k");
	uint64_t req0 = counter(VFMIG_C_STATE_SETS), err0 = counter(VFMIG_C_STATE_SET_ERRORS);
	uint64_t step0 = counter(VFMIG_C_FSM_STEPS), hang0 = counter(VFMIG_C_HANG_RISK);
	struct emu_step steps[64];
	static struct agg_hist h[512];
	size_t i, n, failed = 0;
	int j, nh, fd;
	enum vfio_device_mig_state cur;
	uint64_t wall[NSTATES][NSTATES] = {}, t0, steps_before;
	unsigned int reqs[NSTATES][NSTATES] = {};
	struct req_times t[sizeof(seq) / sizeof(seq[0])];

	(void)state;
	NEED_PROBES();
	drain();
	assert_int_equal(emu_get_state(dev, &cur), 0);
	assert_int_equal(emu_dev_steps_total(dev), 0);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		reqs[cur][seq[i]]++;
		steps_before = emu_dev_steps_total(dev);
		t0 = now_ns();
		t[i].result = emu_set_state(dev, seq[i], &fd) ? -errno : 0; /* as ioctl(2) */
		t[i].wall = now_ns() - t0;
		if (t[i].result)
			failed++;
		else if (fd >= 0)
			emu_fd_close(fd);
		wall[cur][seq[i]] += t[i].wall;
		t[i].from = cur;
		t[i].to = seq[i];
		t[i].step0 = steps_before;
		t[i].nsteps = emu_dev_steps_total(dev) - steps_before;
		assert_int_equal(emu_get_state(dev, &cur), 0);
	}
	n = emu_dev_steps(dev, steps, 64);
	assert_int_equal(counter(VFMIG_C_STATE_SETS) - req0, sizeof(seq) / sizeof(seq[0]));
	assert_int_equal(counter(VFMIG_C_STATE_SET_ERRORS) - err0, failed);
	assert_int_equal(failed, 1); /* STOP_COPY -> PRE_COPY */
	assert_int_equal(counter(VFMIG_C_HANG_RISK) - hang0, 1);
	assert_int_equal(counter(VFMIG_C_FSM_STEPS) - step0, n);
	nh = agg_hists(probes, h, 512);
	for (i = 0; i < n; i++) {
		uint64_t want_slot = slot_of(steps[i].t_end_ns - steps[i].t_start_ns), got = 0;
		size_t same = 0, k;

		for (k = 0; k < n; k++)
			same += steps[k].from == steps[i].from && steps[k].to == steps[i].to &&
				slot_of(steps[k].t_end_ns - steps[k].t_start_ns) == want_slot;
		for (j = 0; j < nh; j++) {
			if (h[j].key.kind == VFMIG_H_FSM_STEP &&
			    h[j].key.dev == probe_emu_key(dev) && h[j].key.from == steps[i].from &&
			    h[j].key.to == steps[i].to)
				got += h[j].h.slots[want_slot];
		}
		assert_int_equal(got, same);
	}
	requests_match(h, nh, probe_emu_key(dev), reqs, wall);
	requests_bracketed(h, nh, probe_emu_key(dev), t, sizeof(seq) / sizeof(seq[0]), steps);
	emu_dev_destroy(dev);
}

#define PIN_DEV 4242 /* the id the test pins as, without a device variant */

/* Pins, unpins, map and unmap bytes, and the dirty pages each bitmap interface reported. */
static void test_pins_maps_bitmaps(void **state)
{
	void *mem = aligned_alloc(4096, MEM);
	struct emu_iommu *io = emu_iommu_create(EMU_IOMMU_TYPE1, mem, MEM);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = 3, .vaddr = (uintptr_t)mem, .iova = 0, .size = MEM};
	struct vfio_iommu_type1_dma_unmap unmap = {.argsz = sizeof(unmap), .iova = 0, .size = MEM};
	struct vfio_iommu_type1_dirty_bitmap start = {sizeof(start), 1};
	uint64_t bits[MEM / 4096 / 64] = {0};
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} get = {{sizeof(get), 4}, {0, MEM, {4096, sizeof(bits), (__u64 *)bits}}};
	uint64_t pins0 = counter(VFMIG_C_PAGES_PINNED), calls0 = counter(VFMIG_C_PIN_CALLS);
	uint64_t unp0 = counter(VFMIG_C_PAGES_UNPINNED), map0 = counter(VFMIG_C_MAP_BYTES);
	uint64_t unmap0 = counter(VFMIG_C_UNMAP_BYTES);
	uint64_t q0 = counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1);
	uint64_t d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1);
	uint8_t page[4096] = {1};
	int i;

	(void)state;
	NEED_PROBES();
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_MAP_DMA, &map), 0);
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_DIRTY_PAGES, &start), 0);
	assert_int_equal(emu_pin_pages(io, PIN_DEV, 0x10000, 7, 2), 7);
	assert_int_equal(emu_pin_pages(io, PIN_DEV, 0x40000, 512, 2), 512);
	assert_int_equal(emu_pin_pages(io, PIN_DEV, MEM, 1, 2), -EINVAL); /* outside any mapping */
	for (i = 0; i < 33; i++) /* 33 pages written, none of them pinned */
		assert_int_equal(emu_dma_rw(io, 0x300000 + i * 0x3000ull, page, sizeof(page), true),
				 0);
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_DIRTY_PAGES, &get), 0);
	emu_unpin_pages(io, PIN_DEV, 0x10000, 7);
	emu_unpin_pages(io, PIN_DEV, 0x40000, 512);
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	assert_int_equal(counter(VFMIG_C_PIN_CALLS) - calls0, 3);
	assert_int_equal(counter(VFMIG_C_PAGES_PINNED) - pins0, 7 + 512);
	assert_int_equal(counter(VFMIG_C_PAGES_UNPINNED) - unp0, 7 + 512);
	assert_int_equal(counter(VFMIG_C_MAP_BYTES) - map0, MEM);
	assert_int_equal(counter(VFMIG_C_UNMAP_BYTES) - unmap0, MEM);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1) - q0, 1);
	/* what the kernel's ioctl returned, counted by the test: the BPF count must agree */
	{
		uint64_t want = bitmap_weight(bits, sizeof(bits) * 8);
		assert_int_equal(want, 7 + 512 + 33);
		assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1) - d0, want);
	}
	emu_iommu_destroy(io);
	free(mem);
}

/* Pin and unpin events summed per device key (a few devices). */
struct pins_seen {
	uint64_t dev[4];
	struct emu_pin_stats s[4];
	int ndev;
};

static int on_pin_event(void *ctx, const struct vfmig_event *e)
{
	struct pins_seen *p = ctx;
	struct emu_pin_stats *s;
	int i;

	if (e->type != VFMIG_EV_PIN && e->type != VFMIG_EV_UNPIN)
		return 0;
	assert_int_equal(e->source, VFMIG_SRC_USDT);
	for (i = 0; i < p->ndev && p->dev[i] != e->dev; i++)
		;
	assert_true(i < 4);
	p->ndev += i == p->ndev;
	p->dev[i] = e->dev;
	s = &p->s[i];
	if (e->type == VFMIG_EV_UNPIN) {
		s->unpin_calls++;
		s->pages_unpinned += e->b;
		return 0;
	}
	s->pin_calls++;
	if (e->result > 0)
		s->pages_pinned += e->result;
	else
		s->pin_errors++;
	return 0;
}

/* The pins the probes saw of dev equal the device's own account of them. */
static void pins_match_device(struct pins_seen *p, struct emu_dev *dev)
{
	struct emu_pin_stats truth;
	int i;

	emu_dev_pin_stats(dev, &truth);
	for (i = 0; i < p->ndev && p->dev[i] != probe_emu_key(dev); i++)
		;
	assert_true(i < p->ndev);
	assert_int_equal(p->s[i].pin_calls, truth.pin_calls);
	assert_int_equal(p->s[i].pages_pinned, truth.pages_pinned);
	assert_int_equal(p->s[i].pin_errors, truth.pin_errors);
	assert_int_equal(p->s[i].unpin_calls, truth.unpin_calls);
	assert_int_equal(p->s[i].pages_unpinned, truth.pages_unpinned);
}

/* A type1 container with all of mem (MEM bytes) mapped at IOVA 0. */
static struct emu_iommu *mapped_type1(void *mem)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = 3, .vaddr = (uintptr_t)mem, .size = MEM};
	struct emu_iommu *io = emu_iommu_create(EMU_IOMMU_TYPE1, mem, MEM);

	assert_non_null(io);
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_MAP_DMA, &map), 0);
	return io;
}

static struct emu_dev *pinning_nic(struct emu_iommu *io, unsigned int nbuf, unsigned int bufsize,
				   uint64_t rx_iova)
{
	char params[128];
	struct emu_dev *dev;

	snprintf(params, sizeof(params), "buffers=%u,bufsize=%u,pkt=1000,rx_iova=%llu", nbuf,
		 bufsize, (unsigned long long)rx_iova);
	dev = mk("nic", params);
	assert_int_equal(emu_dev_attach_iommu(dev, io, EMU_DMA_PIN, false), 0);
	return dev;
}

/*
 * Two NICs in one type1 container pin their receive buffers as they DMA
 * (one page each for a, two for b, b's ring wrapping), and unpin them all
 * when the mapping goes: the probes' pins per device are each device's own.
 */
static void test_pins_per_device(void **state)
{
	struct vfio_iommu_type1_dma_unmap unmap = {.argsz = sizeof(unmap), .size = MEM};
	void *mem = aligned_alloc(4096, MEM);
	struct emu_iommu *io = mapped_type1(mem);
	uint64_t calls0 = counter(VFMIG_C_PIN_CALLS), pages0 = counter(VFMIG_C_PAGES_PINNED);
	uint64_t unp0 = counter(VFMIG_C_PAGES_UNPINNED);
	struct emu_pin_stats ta, tb;
	struct pins_seen seen = {0};
	struct emu_dev *a, *b;

	(void)state;
	NEED_PROBES();
	a = pinning_nic(io, 16, 4096, 0x10000);
	b = pinning_nic(io, 32, 8192, 0x100000);
	drain();
	assert_int_equal(emu_dev_run(a, 5), 0);
	assert_int_equal(emu_dev_run(b, 40), 0);
	assert_int_equal(emu_type1_ioctl(io, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	while (probes_poll(probes, 0, on_pin_event, &seen) > 0)
		;
	emu_dev_pin_stats(a, &ta);
	emu_dev_pin_stats(b, &tb);
	/* what each did: a 5 buffers of a page, b all 32 of two pages; all let go */
	assert_int_equal(ta.pin_calls, 5);
	assert_int_equal(ta.pages_pinned, 5);
	assert_int_equal(tb.pin_calls, 32);
	assert_int_equal(tb.pages_pinned, 64);
	assert_int_equal(ta.pages_unpinned, ta.pages_pinned);
	assert_int_equal(tb.pages_unpinned, tb.pages_pinned);
	assert_int_equal(seen.ndev, 2);
	pins_match_device(&seen, a);
	pins_match_device(&seen, b);
	assert_int_equal(counter(VFMIG_C_PIN_CALLS) - calls0, ta.pin_calls + tb.pin_calls);
	assert_int_equal(counter(VFMIG_C_PAGES_PINNED) - pages0, ta.pages_pinned + tb.pages_pinned);
	assert_int_equal(counter(VFMIG_C_PAGES_UNPINNED) - unp0,
			 ta.pages_unpinned + tb.pages_unpinned);
	emu_dev_destroy(a);
	emu_dev_destroy(b);
	emu_iommu_destroy(io);
	free(mem);
}

/* Write faults per harvest window equal the pages the test wrote and PAGEMAP_SCAN found. */
static void test_write_faults_per_window(void **state)
{
	struct guest_mem *g;
	uint64_t *bm, ndirty, f0;
	char err[256];
	uint8_t *p;
	int w, i;

	(void)state;
	NEED_PROBES();
	if (guest_mem_probe(err, sizeof(err)))
		VFMIG_SKIP("%s", err);
	g = guest_mem_create(MEM, err, sizeof(err));
	assert_non_null(g);
	bm = calloc(guest_mem_bitmap_words(g), 8);
	p = guest_mem_vcpu(g);
	assert_int_equal(guest_mem_track_start(g), 0);
	for (w = 1; w <= 3; w++) {
		f0 = counter(VFMIG_C_WRITE_FAULTS);
		for (i = 0; i < 100 * w; i++) {
			p[(size_t)i * 7 % (MEM / 4096) * 4096] = w; /* distinct pages */
			p[(size_t)i * 7 % (MEM / 4096) * 4096 + 8] =
				w; /* a second write, no fault */
		}
		assert_int_equal(guest_mem_harvest(g, bm, &ndirty), 0);
		assert_int_equal(ndirty, 100 * w);
		assert_int_equal(counter(VFMIG_C_WRITE_FAULTS) - f0, 100 * w);
	}
	guest_mem_track_stop(g);
	free(bm);
	guest_mem_destroy(g);
}

struct drop_ctx {
	uint64_t steps, sets;
};

static int count_ev(void *ctx, const struct vfmig_event *e)
{
	struct drop_ctx *c = ctx;

	c->steps += e->type == VFMIG_EV_FSM_STEP;
	c->sets += e->type == VFMIG_EV_STATE_SET;
	return 0;
}

/* More records than the ring holds, unread: received + dropped = what happened. */
static void test_ring_drops_counted(void **state)
{
	struct emu_dev *dev = mk("nic", "");
	struct drop_ctx got = {0};
	uint64_t drops0, steps0, n;
	int i;

	(void)state;
	NEED_PROBES();
	drain();
	drops0 = counter(VFMIG_C_DROPS);
	steps0 = emu_dev_steps_total(dev);
	for (i = 0; i < 3000; i++)
		assert_int_equal(
			emu_set_state(dev,
				      i % 2 ? VFIO_DEVICE_STATE_RUNNING : VFIO_DEVICE_STATE_STOP,
				      NULL),
			0);
	n = emu_dev_steps_total(dev) - steps0;
	while (probes_poll(probes, 0, count_ev, &got) > 0)
		;
	assert_true(counter(VFMIG_C_DROPS) > drops0);
	assert_int_equal(got.steps + got.sets + counter(VFMIG_C_DROPS) - drops0, n + 3000);
	emu_dev_destroy(dev);
}

/*
 * The device filter (-d) on a device's USDT calls: probes for one device
 * count its MIG_DATA_SIZE calls and learn its state, not another's;
 * unfiltered ones count both.
 */
static void test_device_filter_data_sizes(void **state)
{
	struct emu_dev *a = mk("nic", ""), *b = mk("nic", "");
	struct probe_opts o = {.pid = getpid(), .dev = probe_emu_key(a)};
	uint64_t all0 = counter(VFMIG_C_DATA_SIZES), len, devs[8];
	enum vfio_device_mig_state st;
	struct vfmig_probes *only_a;
	char err[256], self[PATH_MAX];
	int i;

	(void)state;
	NEED_PROBES();
	assert_non_null(realpath("/proc/self/exe", self));
	o.binary = self;
	if (probes_open(&only_a, &o, err, sizeof(err)))
		fail_msg("probes_open -d: %s", err);
	for (i = 0; i < 5; i++)
		assert_int_equal(emu_get_data_size(i < 2 ? a : b, &len), 0);
	assert_int_equal(emu_get_state(a, &st), 0);
	assert_int_equal(emu_get_state(b, &st), 0);
	/* a's state, learned from its GET, is the one device these probes know */
	assert_int_equal(agg_devices(only_a, devs, 8), 1);
	assert_int_equal(devs[0], probe_emu_key(a));
	assert_int_equal(probe_counter(only_a, VFMIG_C_DATA_SIZES), 2);
	assert_int_equal(counter(VFMIG_C_DATA_SIZES) - all0, 5);
	probes_close(only_a);
	emu_dev_destroy(a);
	emu_dev_destroy(b);
}

/*
 * Each device is named by several maps, and by a histogram per arc: a list
 * with room for exactly as many devices as the probes know still holds every
 * device this test made, however many times the maps repeat them.
 */
static void test_devices_listed_whole_when_room_is_tight(void **state)
{
	struct emu_dev *d[6];
	uint64_t all[VFMIG_MAX_DEVICES], tight[VFMIG_MAX_DEVICES];
	int i, j, n;

	(void)state;
	NEED_PROBES();
	for (i = 0; i < 6; i++) {
		d[i] = mk("nic", "");
		for (j = 0; j < 3; j++) /* three arcs: three histograms of the device */
			assert_int_equal(emu_set_state(d[i],
						       j == 1	? VFIO_DEVICE_STATE_RUNNING_P2P
						       : j == 2 ? VFIO_DEVICE_STATE_RUNNING
								: VFIO_DEVICE_STATE_STOP,
						       NULL),
					 0);
	}
	n = agg_devices(probes, all, VFMIG_MAX_DEVICES);
	assert_true(n >= 6);
	assert_int_equal(agg_devices(probes, tight, n), n);
	for (i = 0; i < 6; i++) {
		for (j = 0; j < n && tight[j] != probe_emu_key(d[i]); j++)
			;
		assert_true(j < n);
		emu_dev_destroy(d[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_says_why),
		cmocka_unit_test(test_transitions_match_device_log),
		cmocka_unit_test(test_pins_maps_bitmaps),
		cmocka_unit_test(test_pins_per_device),
		cmocka_unit_test(test_write_faults_per_window),
		cmocka_unit_test(test_ring_drops_counted),
		cmocka_unit_test(test_device_filter_data_sizes),
		cmocka_unit_test(test_devices_listed_whole_when_room_is_tight),
	};

	return cmocka_run_group_tests(tests, setup_self, teardown);
}
