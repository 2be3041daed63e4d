// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty family's W(t) histograms against the workload's ground truth:
 * each page's first write in a window was made between two clock reads of
 * its writer (workload_cut_times), so its write fault came between them;
 * a window's cumulated histogram at each slot's end lies between the truth
 * counted at those reads' ends and at their beginnings, and its total is the
 * truth's page count. Windows are cut with the writers paused: exact, but
 * for the rare write that faulted on a page beside its first write (two
 * threads at once), which the writers count as racing: the bounds allow it.
 */
#include "probe/probe_test.h"

#include "memory/guest_mem.h"
#include "memory/workload.h"
#include "probe/dirty_window.h"

#define MEM (16u << 20)
#define PAGES (MEM / 4096)
#define WINDOWS 4

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Slots are contiguous and rising: each slot's first and last ns map to it. */
static void test_slots_contiguous(void **state)
{
	uint32_t s;

	(void)state;
	assert_int_equal(VFMIG_DW_SLOTS, 104);
	for (s = 0; s + 1 < VFMIG_DW_SLOTS; s++) {
		assert_int_equal(vfmig_dw_slot(vfmig_dw_slot_start_ns(s)), s);
		assert_int_equal(vfmig_dw_slot(vfmig_dw_slot_start_ns(s + 1) - 1), s);
		/* at most 25% wide past the linear start: a usable curve from us to minutes */
		if (s >= 2 * VFMIG_DW_SUB)
			assert_true(vfmig_dw_slot_start_ns(s + 1) - vfmig_dw_slot_start_ns(s) <=
				    vfmig_dw_slot_start_ns(s) / 4);
	}
	assert_int_equal(vfmig_dw_slot(~0ull), VFMIG_DW_SLOTS - 1);
	assert_true(vfmig_dw_slot_start_ns(VFMIG_DW_SLOTS - 1) > 100ull * 1000000000ull);
	/* 1 ms and 10 s fall in slots of their own, far from the ends */
	assert_true(vfmig_dw_slot(1000000) > 30 && vfmig_dw_slot(10000000000ull) < 100);
}

/* A window's points, against its slots counted by hand. */
static void test_points_of_window(void **state)
{
	struct vfmig_dirty_window w = {.t_len_ns = 5000, .faults = 6};
	double t[8], p[8];
	size_t n;

	(void)state;
	w.slots[0] = 2; /* [0, 1024) ns */
	w.slots[3] = 1; /* [3072, 4096) */
	w.slots[4] = 3; /* [4096, 5120): ends past the window */
	n = dirty_window_points(&w, t, p, 8);
	assert_int_equal(n, 5);
	assert_true(t[0] == 1024 / 1e6 && p[0] == 2);
	assert_true(t[3] == 4096 / 1e6 && p[3] == 3);
	assert_true(t[4] == 5000 / 1e6 && p[4] == 6);
}

/* W at slot s's end on a curve, or -1 when the curve has no point there. */
static double w_at_slot(const double *t, const double *w, size_t n, uint32_t s)
{
	for (size_t k = 0; k < n; k++) {
		if (t[k] == vfmig_dw_slot_start_ns(s + 1) / 1e6)
			return w[k];
	}
	return -1;
}

static struct vfmig_dirty_window synth(uint32_t pid, uint64_t start, uint64_t len_ns, uint64_t at1,
				       uint64_t at2)
{
	struct vfmig_dirty_window w = {.pid = pid, .start = start, .t_len_ns = len_ns};

	w.slots[vfmig_dw_slot(500000)] = at1;  /* 0.5 ms in */
	w.slots[vfmig_dw_slot(5000000)] = at2; /* 5 ms in */
	w.faults = at1 + at2;
	return w;
}

/*
 * Curves from windows counted by hand: a range's W is the mean over the
 * windows that reach t (a 2 ms window does not pull W(5 ms) down), a
 * process's W the sum of its ranges', another process's ranges apart.
 */
static void test_curves_of_windows(void **state)
{
	struct dirty_windows *d = dirty_windows_new();
	struct vfmig_dirty_window w[] = {
		synth(42, 0x1000, 10000000, 10, 20),
		synth(42, 0x1000, 2000000, 4, 0),
		synth(42, 0x9000, 10000000, 6, 0),
		synth(7, 0x1000, 10000000, 1000, 1000),
	};
	uint32_t s1 = vfmig_dw_slot(500000), s2 = vfmig_dw_slot(5000000);
	double t[VFMIG_DW_SLOTS + 1], p[VFMIG_DW_SLOTS + 1];
	size_t n;

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		dirty_windows_add(d, &w[i]);
	assert_int_equal(dirty_windows_count(d, 42), 3);
	n = dirty_window_curve(d, 42, 0x1000, t, p, VFMIG_DW_SLOTS + 1);
	assert_true(w_at_slot(t, p, n, s1) == 7);  /* (10 + 4) / 2 */
	assert_true(w_at_slot(t, p, n, s2) == 30); /* the 10 ms window alone */
	assert_true(t[n - 1] <= 10 && t[n - 1] > 8 && p[n - 1] == 30);
	n = dirty_window_curve(d, 42, 0, t, p, VFMIG_DW_SLOTS + 1);
	assert_true(w_at_slot(t, p, n, s1) == 13); /* 7 + 6 */
	assert_true(w_at_slot(t, p, n, s2) == 36); /* 30 + 6 */
	assert_int_equal(dirty_window_curve(d, 5, 0, t, p, VFMIG_DW_SLOTS + 1), 0);
	assert_int_equal(dirty_windows_poll(d, 0), 0);
	dirty_windows_close(d);
}

struct truth_window {
	uint64_t pages, ndirty, arm_lo, arm_hi; /* the window starts in [arm_lo, arm_hi] */
	uint64_t racing; /* writes that may have faulted beside a page's first: see workload.h */
	struct workload_first *first;
	uint64_t *bm;
};

/* Truth pages whose first write's chosen end is before t0 + ns. */
static uint64_t truth_before(const struct truth_window *tw, uint64_t t0, uint64_t ns, bool end)
{
	uint64_t n = 0;

	for (uint64_t p = 0; p < PAGES; p++) {
		if (!(tw->bm[p / 64] >> (p % 64) & 1))
			continue;
		n += (end ? tw->first[p].end_ns : tw->first[p].begin_ns) < t0 + ns;
	}
	return n;
}

static void check_window(const struct truth_window *tw, const struct vfmig_dirty_window *r)
{
	uint64_t cum = 0, tight = 0;
	uint32_t s;

	assert_in_range(r->faults, tw->pages, tw->pages + tw->racing);
	assert_int_equal(r->ndirty, tw->ndirty);
	assert_true(r->t_start_ns >= tw->arm_lo && r->t_start_ns <= tw->arm_hi);
	for (s = 0; s < VFMIG_DW_SLOTS; s++) {
		uint64_t end = vfmig_dw_slot_start_ns(s + 1);
		uint64_t lo, hi;

		cum += r->slots[s];
		if (s + 1 == VFMIG_DW_SLOTS)
			break;
		lo = truth_before(tw, r->t_start_ns, end, true);
		hi = truth_before(tw, r->t_start_ns, end, false);
		if (cum < lo || cum > hi + tw->racing)
			fail_msg("slot %u (< %llu ns): W = %llu, truth in [%llu, %llu + %llu]", s,
				 (unsigned long long)end, (unsigned long long)cum,
				 (unsigned long long)lo, (unsigned long long)hi,
				 (unsigned long long)tw->racing);
		tight += lo == hi;
		if (end > r->t_len_ns)
			break;
	}
	assert_int_equal(cum, r->faults);
	assert_true(tight > 0);
}

/* Window i's record, taken from the ring (the family's own), against its truth. */
static void check_last(struct dirty_windows *dw, struct guest_mem *g, struct truth_window *tw,
		       int i)
{
	const struct vfmig_dirty_window *last;

	for (int tries = 0; tries < 20 && dirty_windows_count(dw, getpid()) < (uint64_t)i + 1;
	     tries++)
		assert_true(dirty_windows_poll(dw, 50) >= 0);
	assert_int_equal(dirty_windows_count(dw, getpid()), i + 1);
	last = dirty_windows_last(dw, getpid(), (uintptr_t)guest_mem_vcpu(g));
	assert_non_null(last);
	assert_int_equal(last->window, i);
	assert_int_equal(last->len, MEM);
	check_window(tw, last);
}

/* The range's curve never falls, nor passes the longest window's truth (the last, 160 ms). */
static void check_curve(struct dirty_windows *dw, struct guest_mem *g, struct truth_window *tw)
{
	double t[VFMIG_DW_SLOTS + 1], p[VFMIG_DW_SLOTS + 1];
	size_t n, k;

	n = dirty_window_curve(dw, getpid(), (uintptr_t)guest_mem_vcpu(g), t, p,
			       VFMIG_DW_SLOTS + 1);
	assert_true(n > 10);
	assert_true(p[n - 1] > 0 &&
		    p[n - 1] <= (double)(tw[WINDOWS - 1].pages + tw[WINDOWS - 1].racing));
	for (k = 1; k < n; k++)
		assert_true(t[k] > t[k - 1] && p[k] >= p[k - 1]);
	/* the process's curve is its one range's */
	assert_int_equal(dirty_window_curve(dw, getpid(), 0, t, p, VFMIG_DW_SLOTS + 1), n);
}

/* Writers in windows of 20 to 160 ms, cut paused: every window's W(t) brackets the truth. */
static void test_histogram_is_truth(void **state)
{
	struct workload_cfg cfg = {.threads = 2, .rate = 20000, .ws_pages = PAGES, .seed = 7};
	struct truth_window tw[WINDOWS + 1] = {0};
	struct dirty_windows *dw;
	struct guest_mem *g;
	struct workload *wl;
	char err[256];
	int i;

	(void)state;
	NEED_PROBES();
	if (guest_mem_probe(err, sizeof(err)))
		VFMIG_SKIP("%s", err);
	dw = dirty_windows_open(probes, err, sizeof(err));
	if (!dw)
		fail_msg("%s", err);
	g = guest_mem_create(MEM, err, sizeof(err));
	assert_non_null(g);
	cfg.mem = guest_mem_vcpu(g);
	cfg.mem_pages = PAGES;
	wl = workload_start(&cfg, err, sizeof(err));
	assert_non_null(wl);
	workload_pause(wl);
	workload_cut(wl, NULL, NULL); /* writes before tracking are in no window */
	tw[0].arm_lo = mono_ns();
	assert_int_equal(guest_mem_track_start(g), 0);
	tw[0].arm_hi = mono_ns();
	for (i = 0; i < WINDOWS; i++) {
		tw[i].bm = calloc(guest_mem_bitmap_words(g), 8);
		tw[i].first = calloc(PAGES, sizeof(*tw[i].first));
		workload_resume(wl);
		usleep(20000u << i);
		workload_pause(wl);
		tw[i + 1].arm_lo = mono_ns();
		assert_int_equal(guest_mem_harvest(g, tw[i].bm, &tw[i].ndirty), 0);
		tw[i + 1].arm_hi = mono_ns();
		workload_cut_times(wl, NULL, &tw[i].pages, tw[i].first, &tw[i].racing);
		assert_int_equal(tw[i].ndirty, tw[i].pages);
		check_last(dw, g, &tw[i], i);
	}
	workload_destroy(wl);
	check_curve(dw, g, tw);
	guest_mem_track_stop(g);
	guest_mem_destroy(g);
	dirty_windows_close(dw);
	for (i = 0; i < WINDOWS; i++) {
		free(tw[i].bm);
		free(tw[i].first);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_contiguous),
		cmocka_unit_test(test_points_of_window),
		cmocka_unit_test(test_curves_of_windows),
		cmocka_unit_test(test_histogram_is_truth),
	};

	return cmocka_run_group_tests(tests, setup_self, teardown);
}
