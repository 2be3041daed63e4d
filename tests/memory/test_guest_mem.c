// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory and vCPU dirty tracking (userfaultfd async WP + PAGEMAP_SCAN):
 * the two mappings share bytes, DMA writes stay out of the vCPU log, and the
 * harvested bitmap equals the pages written, bit for bit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "memory/guest_mem.h"

/* Not a multiple of 64 pages, so the last bitmap word is partial. */
#define NPAGES 1000ULL

struct fixture {
	struct guest_mem *g;
	uint64_t *got, *want;
	uint64_t words;
	size_t psz;
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->g = guest_mem_create(NPAGES * 4096, err, sizeof(err));
	if (!f->g)
		fail_msg("guest_mem_create: %s", err);
	f->psz = guest_mem_page_size(f->g);
	f->words = guest_mem_bitmap_words(f->g);
	f->got = calloc(f->words, 8);
	f->want = calloc(f->words, 8);
	assert_non_null(f->got);
	assert_non_null(f->want);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_mem_test_hide(0, false);
	guest_mem_destroy(f->g);
	free(f->got);
	free(f->want);
	free(f);
	return 0;
}

/* Arms tracking, or skips naming what the kernel lacks. */
static bool track(struct fixture *f)
{
	if (guest_mem_track_start(f->g)) {
		if (errno == EOPNOTSUPP || errno == ENOSYS)
			return false;
		fail_msg("guest_mem_track_start: %s", guest_mem_error(f->g));
	}
	return true;
}

#define TRACK_OR_SKIP(f)                                           \
	do {                                                       \
		if (!track(f)) {                                   \
			VFMIG_SKIP("%s", guest_mem_error((f)->g)); \
			return;                                    \
		}                                                  \
	} while (0)

static void vcpu_write(struct fixture *f, uint64_t page, size_t off, uint8_t val)
{
	((volatile uint8_t *)guest_mem_vcpu(f->g))[page * f->psz + off] = val;
}

static void want_page(struct fixture *f, uint64_t page)
{
	f->want[page / 64] |= 1ULL << (page % 64);
}

static uint64_t popcount(const uint64_t *bm, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < words; i++)
		n += __builtin_popcountll(bm[i]);
	return n;
}

static void clear_maps(struct fixture *f)
{
	memset(f->got, 0, f->words * 8);
	memset(f->want, 0, f->words * 8);
}

/* Harvests into f->got and checks it equals f->want exactly. */
static void harvest_expect(struct fixture *f)
{
	uint64_t n = ~0ULL;

	memset(f->got, 0, f->words * 8);
	assert_int_equal(guest_mem_harvest(f->g, f->got, &n), 0);
	for (uint64_t i = 0; i < f->words; i++)
		if (f->got[i] != f->want[i])
			fail_msg("word %llu: harvested %#llx, written %#llx", (unsigned long long)i,
				 (unsigned long long)f->got[i], (unsigned long long)f->want[i]);
	assert_int_equal(n, popcount(f->want, f->words));
}

static void test_geometry(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->psz, 4096);
	assert_int_equal(guest_mem_pages(f->g), NPAGES);
	assert_int_equal(guest_mem_size(f->g), NPAGES * 4096);
	assert_int_equal(f->words, (NPAGES + 63) / 64);
	assert_ptr_not_equal(guest_mem_vcpu(f->g), guest_mem_dma(f->g));
	assert_true(guest_mem_fd(f->g) >= 0);
	assert_false(guest_mem_tracking(f->g));
}

static void test_same_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t *v = guest_mem_vcpu(f->g), *d = guest_mem_dma(f->g);

	assert_int_equal(v[0] | d[NPAGES * 4096 - 1], 0); /* zeroed */
	for (uint64_t p = 0; p < NPAGES; p += 37) {
		v[p * 4096 + p % 4096] = (uint8_t)(p | 1);
		d[p * 4096 + 4095 - p % 4096] = (uint8_t)(p | 2);
	}
	for (uint64_t p = 0; p < NPAGES; p += 37) {
		assert_int_equal(d[p * 4096 + p % 4096], (uint8_t)(p | 1));
		assert_int_equal(v[p * 4096 + 4095 - p % 4096], (uint8_t)(p | 2));
	}
	assert_memory_equal(v, d, NPAGES * 4096);
}

static void test_dma_not_reported(void **state)
{
	struct fixture *f = *state;
	uint8_t *d = guest_mem_dma(f->g);

	TRACK_OR_SKIP(f);
	for (uint64_t p = 0; p < NPAGES; p += 3)
		d[p * 4096 + 100] = 0xd1;
	harvest_expect(f); /* nothing */
	assert_int_equal(((uint8_t *)guest_mem_vcpu(f->g))[3 * 4096 + 100], 0xd1);
	/* vCPU and DMA writes mixed: only the vCPU pages show. */
	d[5 * 4096] = 1;
	vcpu_write(f, 6, 0, 1);
	want_page(f, 6);
	harvest_expect(f);
}

static void test_exact_pages(void **state)
{
	static const uint64_t pages[] = {0, 1, 63, 64, 65, 127, 128, 500, NPAGES - 2, NPAGES - 1};
	struct fixture *f = *state;
	uint64_t n;

	TRACK_OR_SKIP(f);
	harvest_expect(f); /* freshly armed: empty */
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		/* last byte of one page, first of the next would be another page */
		vcpu_write(f, pages[i], i % 2 ? 4095 : 0, 0x5a);
		want_page(f, pages[i]);
	}
	vcpu_write(f, 64, 17, 1); /* a page written twice is dirtied once */
	vcpu_write(f, 64, 4000, 2);
	harvest_expect(f);
	/* no writes since: nothing to report */
	clear_maps(f);
	harvest_expect(f);
	/* the harvest ORs into the caller's bitmap */
	f->got[0] = 1ULL << 7;
	vcpu_write(f, 9, 0, 3);
	assert_int_equal(guest_mem_harvest(f->g, f->got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(f->got[0], (1ULL << 7) | (1ULL << 9));
}

/* Random page sets, written and harvested over many cycles. */
static void random_cycles(struct fixture *f, int cycles, unsigned int per_mille, uint64_t seed)
{
	for (int c = 0; c < cycles; c++) {
		clear_maps(f);
		for (uint64_t p = 0; p < NPAGES; p++) {
			if (rng_next(&seed) % 1000 >= per_mille)
				continue;
			vcpu_write(f, p, rng_next(&seed) % 4096, (uint8_t)c);
			want_page(f, p);
		}
		harvest_expect(f);
	}
}

static void test_random_sets(void **state)
{
	struct fixture *f = *state;

	TRACK_OR_SKIP(f);
	random_cycles(f, 3, 10, 1);
	random_cycles(f, 3, 300, 2);
	random_cycles(f, 1, 1000, 3); /* everything: one region */
}

static void test_rearm_many_cycles(void **state)
{
	struct fixture *f = *state;

	TRACK_OR_SKIP(f);
	random_cycles(f, 300, 20, 4);
}

/* An output array smaller than the dirty regions: the walk_end restart. */
static void test_small_scan_vec(void **state)
{
	struct fixture *f = *state;

	TRACK_OR_SKIP(f);
	assert_int_equal(guest_mem_set_scan_vec(f->g, 0), -1);
	assert_int_equal(errno, EINVAL);
	for (size_t len = 1; len <= 5; len += 2) {
		assert_int_equal(guest_mem_set_scan_vec(f->g, len), 0);
		random_cycles(f, 3, 100, 10 + len);
		random_cycles(f, 1, 500, 20 + len);
	}
}

static void test_stop_restart(void **state)
{
	struct fixture *f = *state;
	uint64_t n;

	TRACK_OR_SKIP(f);
	assert_true(guest_mem_tracking(f->g));
	assert_int_equal(guest_mem_track_start(f->g), -1);
	assert_int_equal(errno, EBUSY);
	vcpu_write(f, 10, 0, 1);
	guest_mem_track_stop(f->g);
	assert_false(guest_mem_tracking(f->g));
	assert_int_equal(guest_mem_harvest(f->g, f->got, &n), -1);
	assert_int_equal(errno, EINVAL);
	vcpu_write(f, 11, 0, 1); /* plain memory now */
	assert_true(track(f));
	harvest_expect(f); /* re-armed: writes before the start are not in the log */
	vcpu_write(f, 12, 0, 1);
	want_page(f, 12);
	harvest_expect(f);
}

struct racer {
	struct guest_mem *g;
	uint64_t *written; /* pages the racer wrote, atomically ORed before each write */
	volatile bool stop;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	volatile uint8_t *v = guest_mem_vcpu(r->g);
	uint64_t seed = 99;

	while (!r->stop) {
		uint64_t p = rng_next(&seed) % NPAGES;

		__atomic_fetch_or(&r->written[p / 64], 1ULL << (p % 64), __ATOMIC_SEQ_CST);
		v[p * 4096 + (seed & 4095)] = (uint8_t)seed;
	}
	return NULL;
}

/* Harvests racing with a writer lose nothing and invent nothing. */
static void test_concurrent_writer(void **state)
{
	struct fixture *f = *state;
	struct racer r = {.g = f->g, .written = f->want};
	uint64_t n, total = 0;
	pthread_t t;

	TRACK_OR_SKIP(f);
	clear_maps(f);
	assert_int_equal(pthread_create(&t, NULL, racer_main, &r), 0);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(guest_mem_harvest(f->g, f->got, &n), 0);
		total += n;
	}
	r.stop = true;
	pthread_join(t, NULL);
	assert_int_equal(guest_mem_harvest(f->g, f->got, &n), 0);
	total += n;
	assert_memory_equal(f->got, f->want, f->words * 8);
	assert_true(total >= popcount(f->want, f->words));
}

static void test_bad_size(void **state)
{
	char err[256];

	(void)state;
	assert_null(guest_mem_create(0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "multiple of 4096"));
	assert_null(guest_mem_create(4096 + 100, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

static void expect_one_line(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("'%s' does not name '%s'", msg, needle);
	assert_null(strchr(msg, '\n'));
}

/* The unsupported-kernel path, forced through the test hook. */
static void test_unsupported_kernel_message(void **state)
{
	struct fixture *f = *state;
	char err[256];

	if (guest_mem_probe(err, sizeof(err)))
		VFMIG_SKIP("%s", err);
	guest_mem_test_hide(UFFD_FEATURE_WP_ASYNC, false);
	assert_int_equal(guest_mem_probe(err, sizeof(err)), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_string_equal(err, "kernel lacks userfaultfd WP_ASYNC (needs Linux 6.7+)");
	assert_int_equal(guest_mem_track_start(f->g), -1);
	assert_string_equal(guest_mem_error(f->g), err);
	assert_false(guest_mem_tracking(f->g));

	guest_mem_test_hide(UFFD_FEATURE_WP_HUGETLBFS_SHMEM, false);
	assert_int_equal(guest_mem_probe(err, sizeof(err)), -1);
	expect_one_line(err, "kernel lacks userfaultfd WP_HUGETLBFS_SHMEM");

	guest_mem_test_hide(0, true);
	assert_int_equal(guest_mem_probe(err, sizeof(err)), -1);
	expect_one_line(err, "kernel lacks PAGEMAP_SCAN");
	assert_int_equal(guest_mem_track_start(f->g), -1);
	expect_one_line(guest_mem_error(f->g), "kernel lacks PAGEMAP_SCAN");

	guest_mem_test_hide(0, false);
	assert_int_equal(guest_mem_probe(err, sizeof(err)), 0);
	assert_true(track(f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_not_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rearm_many_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_scan_vec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writer, setup, teardown),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test_setup_teardown(test_unsupported_kernel_message, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
