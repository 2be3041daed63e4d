// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU-like writers: each pattern stays in its working set, hot/cold
 * concentrates, sweep is sequential, pacing holds the asked rate without
 * spinning, and with pause/harvest/cut/resume the kernel's dirty log equals
 * the ground truth bit for bit.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "memory/guest_mem.h"
#include "memory/workload.h"

#define NPAGES 2000ULL /* not a multiple of 64 */
#define WORDS ((NPAGES + 63) / 64)

struct fixture {
	struct guest_mem *g;
	struct workload *w;
	uint64_t truth[WORDS], dirty[WORDS];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->g = guest_mem_create(NPAGES * 4096, err, sizeof(err));
	if (!f->g)
		fail_msg("guest_mem_create: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	workload_destroy(f->w);
	guest_mem_destroy(f->g);
	free(f);
	return 0;
}

static struct workload_cfg base_cfg(struct fixture *f, enum workload_pattern p)
{
	return (struct workload_cfg){
		.mem = guest_mem_vcpu(f->g),
		.mem_pages = NPAGES,
		.threads = 2,
		.ws_start = 300,
		.ws_pages = 1000,
		.pattern = p,
		.hot_fraction = 0.1,
		.hot_share = 0.9,
		.seed = 42,
	};
}

static void start(struct fixture *f, const struct workload_cfg *cfg)
{
	char err[256];

	workload_destroy(f->w);
	f->w = workload_start(cfg, err, sizeof(err));
	if (!f->w)
		fail_msg("workload_start: %s", err);
}

static bool test_bit(const uint64_t *bm, uint64_t page)
{
	return bm[page / 64] >> (page % 64) & 1;
}

static void ms_sleep(unsigned int ms)
{
	usleep(ms * 1000);
}

/*
 * Waits until the writers made at least n more writes than at the last cut
 * (or since start), sleeping: on a loaded machine a fixed sleep may see none.
 */
static uint64_t wait_writes(struct workload *w, uint64_t since, uint64_t n)
{
	struct workload_stats st;

	for (int i = 0; i < 10000; i++) {
		workload_stats(w, &st);
		if (st.writes >= since + n)
			return st.writes;
		ms_sleep(1);
	}
	fail_msg("writers made %llu writes in 10 s, wanted %llu",
		 (unsigned long long)(st.writes - since), (unsigned long long)n);
	return 0;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void expect_refused(struct workload_cfg *cfg, const char *needle)
{
	char err[256] = "";

	assert_int_equal(workload_cfg_check(cfg, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s' does not say '%s'", err, needle);
	assert_null(strchr(err, '\n'));
	assert_null(workload_start(cfg, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

static void test_bad_config(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c;

	c = base_cfg(f, WORKLOAD_UNIFORM);
	assert_int_equal(workload_cfg_check(&c, NULL, 0), 0);
	c.ws_pages = 0;
	expect_refused(&c, "working set is empty (0 pages)");
	c = base_cfg(f, WORKLOAD_HOTCOLD);
	c.hot_fraction = 1.5;
	expect_refused(&c, "hot fraction 1.5 outside (0, 1]");
	c.hot_fraction = 0;
	expect_refused(&c, "hot fraction 0 outside");
	c.hot_fraction = NAN;
	expect_refused(&c, "hot fraction nan");
	c = base_cfg(f, WORKLOAD_HOTCOLD);
	c.hot_share = -0.1;
	expect_refused(&c, "hot share -0.1 outside [0, 1]");
	c = base_cfg(f, WORKLOAD_SWEEP);
	c.ws_pages = NPAGES + 1;
	c.ws_start = 0;
	expect_refused(&c, "exceeds guest memory (2000 pages)");
	c.ws_pages = 1000;
	c.ws_start = 1001;
	expect_refused(&c, "working set of 1000 pages at page 1001 exceeds");
	c = base_cfg(f, WORKLOAD_UNIFORM);
	c.threads = 0;
	expect_refused(&c, "0 writer threads");
	c = base_cfg(f, WORKLOAD_UNIFORM);
	c.mem = NULL;
	expect_refused(&c, "no guest memory");
	c = base_cfg(f, WORKLOAD_UNIFORM);
	c.pattern = 7;
	expect_refused(&c, "unknown pattern 7");
}

static void test_pattern_names(void **state)
{
	enum workload_pattern p;

	(void)state;
	for (int i = WORKLOAD_UNIFORM; i <= WORKLOAD_SWEEP; i++) {
		assert_int_equal(workload_pattern_parse(workload_pattern_name(i), &p), 0);
		assert_int_equal(p, i);
	}
	assert_string_equal(workload_pattern_name(WORKLOAD_HOTCOLD), "hotcold");
	assert_int_equal(workload_pattern_parse("zipf", &p), -1);
}

/* The page sequence: inside the working set, and the same for the same seed. */
static void test_sequence_deterministic(void **state)
{
	struct fixture *f = *state;

	for (int p = WORKLOAD_UNIFORM; p <= WORKLOAD_SWEEP; p++) {
		struct workload_cfg a = base_cfg(f, p), b = a;
		unsigned int same = 0;

		b.seed = 43;
		for (uint64_t n = 0; n < 20000; n++) {
			for (unsigned int t = 0; t < 2; t++) {
				uint64_t pg = workload_page(&a, t, n);

				assert_true(pg >= a.ws_start && pg < a.ws_start + a.ws_pages);
				assert_int_equal(pg, workload_page(&a, t, n));
				same += pg == workload_page(&b, t, n);
			}
		}
		if (p == WORKLOAD_SWEEP)
			assert_int_equal(same, 40000); /* a sweep does not depend on the seed */
		else
			assert_true(same < 4000); /* another seed, another sequence */
	}
}

static void test_hotcold_distribution(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c = base_cfg(f, WORKLOAD_HOTCOLD);
	uint64_t hot = 0, n = 200000, hot_end = c.ws_start + 100; /* 10% of 1000 */

	for (uint64_t i = 0; i < n; i++)
		hot += workload_page(&c, (unsigned int)(i % 2), i / 2) < hot_end;
	assert_true(hot > n * 0.89 && hot < n * 0.91);
	c.hot_share = 1; /* every write hot */
	for (uint64_t i = 0; i < 1000; i++)
		assert_true(workload_page(&c, 0, i) < hot_end);
	c.hot_share = 0; /* every write cold */
	for (uint64_t i = 0; i < 1000; i++)
		assert_true(workload_page(&c, 0, i) >= hot_end);
}

/* Live writers: nothing outside the working set, in the log or in memory. */
static void run_stays_inside(struct fixture *f, enum workload_pattern p)
{
	struct workload_cfg c = base_cfg(f, p);
	const uint8_t *mem = guest_mem_dma(f->g);
	uint64_t writes, pages;

	memset(guest_mem_dma(f->g), 0, NPAGES * 4096);
	memset(f->truth, 0, sizeof(f->truth));
	c.rate = 50000;
	start(f, &c);
	wait_writes(f->w, 0, 2000);
	workload_stop(f->w);
	writes = workload_cut(f->w, f->truth, &pages);
	assert_true(writes >= 2000 && pages > 0 && pages <= writes);
	for (uint64_t pg = 0; pg < NPAGES; pg++) {
		bool in_ws = pg >= c.ws_start && pg < c.ws_start + c.ws_pages;
		bool touched = false;

		for (size_t i = 0; i < 4096 && !touched; i++)
			touched = mem[pg * 4096 + i];
		if (!in_ws && (touched || test_bit(f->truth, pg)))
			fail_msg("%s wrote page %llu outside its working set",
				 workload_pattern_name(p), (unsigned long long)pg);
		assert_int_equal(touched, test_bit(f->truth, pg));
	}
}

static void test_patterns_stay_inside(void **state)
{
	for (int p = WORKLOAD_UNIFORM; p <= WORKLOAD_SWEEP; p++)
		run_stays_inside(*state, p);
}

static uint64_t count_range(const uint64_t *bm, uint64_t from, uint64_t to)
{
	uint64_t n = 0;

	for (uint64_t pg = from; pg < to; pg++)
		n += test_bit(bm, pg);
	return n;
}

static void test_hotcold_concentrates(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c = base_cfg(f, WORKLOAD_HOTCOLD);
	uint64_t hot, cold, writes;

	c.rate = 20000;
	start(f, &c);
	wait_writes(f->w, 0, 1000);
	workload_pause(f->w);
	writes = workload_cut(f->w, f->truth, NULL);
	hot = count_range(f->truth, 300, 400);
	cold = count_range(f->truth, 400, 1300);
	/* ~1000 writes: ~900 over 100 hot pages, ~100 over 900 cold ones */
	assert_true(writes >= 1000);
	assert_true(hot * 900 > cold * 100 * 5);
	assert_true(hot > 40);
}

/* One thread: each window is the next run of pages, in order, wrapping. */
static void test_sweep_sequential(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c = base_cfg(f, WORKLOAD_SWEEP);
	uint64_t pos = 0, seen = 0;

	c.threads = 1;
	c.ws_pages = 700;
	c.rate = 20000;
	start(f, &c);
	for (int win = 0; win < 6; win++) {
		uint64_t writes, pages, want = 0;

		wait_writes(f->w, seen, 100 + 150 * win); /* the last windows wrap */
		workload_pause(f->w);
		memset(f->truth, 0, sizeof(f->truth));
		writes = workload_cut(f->w, f->truth, &pages);
		for (uint64_t i = 0; i < writes && i < c.ws_pages; i++) {
			uint64_t pg = c.ws_start + (pos + i) % c.ws_pages;

			if (!test_bit(f->truth, pg))
				fail_msg("window %d: page %llu of the sweep missing", win,
					 (unsigned long long)pg);
			want++;
		}
		assert_int_equal(pages, want);
		pos = (pos + writes) % c.ws_pages;
		seen += writes;
		workload_resume(f->w);
	}
}

/* One thread, any pattern: the window is exactly the replayed sequence. */
static void test_replay_matches(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c = base_cfg(f, WORKLOAD_HOTCOLD);
	uint64_t want[WORDS] = {0}, writes;

	c.threads = 1;
	c.rate = 30000;
	start(f, &c);
	wait_writes(f->w, 0, 500);
	workload_pause(f->w);
	writes = workload_cut(f->w, f->truth, NULL);
	for (uint64_t n = 0; n < writes; n++) {
		uint64_t pg = workload_page(&c, 0, n);

		want[pg / 64] |= 1ULL << (pg % 64);
	}
	assert_memory_equal(want, f->truth, sizeof(want));
}

/* The product's contract: pause, harvest, cut, resume gives equal bitmaps. */
static void harvest_windows(struct fixture *f, enum workload_pattern p, uint64_t rate)
{
	struct workload_cfg c = base_cfg(f, p);
	uint64_t total = 0, n;

	/* the previous run's writes after its last window: not ours to compare */
	assert_int_equal(guest_mem_harvest(f->g, f->dirty, &n), 0);
	c.rate = rate;
	start(f, &c);
	for (int win = 0; win < 8; win++) {
		uint64_t ndirty, pages, writes;

		wait_writes(f->w, total, 20 + 40 * win);
		workload_pause(f->w);
		memset(f->dirty, 0, sizeof(f->dirty));
		memset(f->truth, 0, sizeof(f->truth));
		assert_int_equal(guest_mem_harvest(f->g, f->dirty, &ndirty), 0);
		writes = workload_cut(f->w, f->truth, &pages);
		workload_resume(f->w);
		for (uint64_t i = 0; i < WORDS; i++)
			if (f->dirty[i] != f->truth[i])
				fail_msg("%s window %d word %llu: harvested %#llx, written %#llx",
					 workload_pattern_name(p), win, (unsigned long long)i,
					 (unsigned long long)f->dirty[i],
					 (unsigned long long)f->truth[i]);
		assert_int_equal(ndirty, pages);
		assert_true(pages <= writes);
		total += writes;
	}
	workload_destroy(f->w);
	f->w = NULL;
}

static void test_harvest_equals_truth(void **state)
{
	struct fixture *f = *state;

	if (guest_mem_track_start(f->g))
		VFMIG_SKIP("%s", guest_mem_error(f->g));
	harvest_windows(f, WORKLOAD_UNIFORM, 0); /* flat out */
	harvest_windows(f, WORKLOAD_HOTCOLD, 0);
	harvest_windows(f, WORKLOAD_SWEEP, 0);
	harvest_windows(f, WORKLOAD_UNIFORM, 20000);
	harvest_windows(f, WORKLOAD_SWEEP, 20000);
}

static void test_rate_achieved(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c = base_cfg(f, WORKLOAD_UNIFORM);
	struct workload_stats st;
	double cpu;

	c.rate = 20000;
	cpu = cpu_seconds();
	start(f, &c);
	ms_sleep(500);
	workload_stop(f->w);
	cpu = cpu_seconds() - cpu;
	workload_stats(f->w, &st);
	print_message(
		"rate asked %.0f pages/s, achieved %.0f (%llu writes in %.3f s, %.3f s CPU)\n",
		st.rate_asked, st.rate_achieved, (unsigned long long)st.writes, st.elapsed_s, cpu);
	assert_true(st.rate_asked == 20000);
	assert_true(st.elapsed_s > 0.45 && st.elapsed_s < 1.0);
	/* a loaded machine may starve the writers a little; more than 2x off is a bug */
	assert_true(st.rate_achieved > 0.5 * 20000 && st.rate_achieved < 1.5 * 20000);
	assert_true(cpu < 0.25); /* paced writers sleep: far from two cores for 0.5 s */
}

static void test_pause_resume(void **state)
{
	struct fixture *f = *state;
	struct workload_cfg c = base_cfg(f, WORKLOAD_UNIFORM);
	struct workload_stats a, b;
	struct timespec t0, t1;

	c.rate = 1; /* writers sleep ~2 s between writes: pause must not wait for that */
	start(f, &c);
	wait_writes(f->w, 0, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	workload_pause(f->w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6 < 500);
	workload_resume(f->w);

	c.rate = 0;
	start(f, &c);
	wait_writes(f->w, 0, 100);
	workload_pause(f->w);
	workload_pause(f->w); /* idempotent */
	workload_stats(f->w, &a);
	ms_sleep(30);
	workload_stats(f->w, &b);
	assert_int_equal(a.writes, b.writes);		/* parked: no write */
	assert_true(b.elapsed_s - a.elapsed_s < 0.005); /* paused time is not running time */
	workload_resume(f->w);
	wait_writes(f->w, a.writes, 100);
	workload_pause(f->w);
	workload_stop(f->w); /* stopping a paused workload */
	workload_stop(f->w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test(test_pattern_names),
		cmocka_unit_test_setup_teardown(test_sequence_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hotcold_distribution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patterns_stay_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hotcold_concentrates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_sequential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_matches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_harvest_equals_truth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_achieved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
