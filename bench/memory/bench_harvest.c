// SPDX-License-Identifier: GPL-2.0
/*
 * Harvest cost of the vCPU dirty log, per GiB of guest RAM: guest_mem_harvest()
 * against a bare PAGEMAP_SCAN loop written here, on the same registered
 * memory with the same pages dirtied, in the same run. Goal: within 1.5x.
 *
 * Usage: bench_harvest [guest MiB]   (default 1024; 256 if 1 GiB cannot be had)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vfmig/uapi.h"
#include "memory/guest_mem.h"

#define RUNS 7	     /* write faults cost ~15 us in this VM: dirtying dominates the run time */
#define VEC_LEN 4096 /* what guest_mem uses by default */
#define GOAL 1.5

struct bench {
	struct guest_mem *g;
	uint8_t *vcpu;
	uint64_t pages, *bitmap;
	size_t psz;
	int pagemap_fd;
	struct page_region vec[VEC_LEN];
	uint64_t rng;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Dirties the pages picked by seed with probability per_mille / 1000; returns how many. */
static uint64_t dirty_pages(struct bench *b, uint64_t seed, unsigned int per_mille)
{
	uint64_t n = 0;

	for (uint64_t p = 0; p < b->pages; p++) {
		if (rng_next(&seed) % 1000 < per_mille) {
			((volatile uint8_t *)b->vcpu)[p * b->psz + (seed & 0xff8)] = (uint8_t)seed;
			n++;
		}
	}
	return n;
}

/* The baseline: the ioctl loop and nothing else, counting pages. */
static uint64_t bare_scan(struct bench *b)
{
	uint64_t count = 0;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)b->vcpu,
		.end = (uintptr_t)b->vcpu + b->pages * b->psz,
		.vec = (uintptr_t)b->vec,
		.vec_len = VEC_LEN,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};

	while (a.start < a.end) {
		int n = ioctl(b->pagemap_fd, PAGEMAP_SCAN, &a);

		if (n < 0) {
			perror("bench_harvest: PAGEMAP_SCAN");
			exit(1);
		}
		for (int i = 0; i < n; i++)
			count += (b->vec[i].end - b->vec[i].start) / b->psz;
		a.start = a.walk_end;
	}
	return count;
}

static uint64_t lib_harvest(struct bench *b)
{
	uint64_t n;

	if (guest_mem_harvest(b->g, b->bitmap, &n)) {
		fprintf(stderr, "bench_harvest: %s\n", guest_mem_error(b->g));
		exit(1);
	}
	return n;
}

/* Times one harvest of a fresh dirty set; checks it found every page. */
static double timed(struct bench *b, uint64_t seed, unsigned int per_mille, bool lib)
{
	uint64_t want = dirty_pages(b, seed, per_mille), got, t0, t1;

	if (lib)
		memset(b->bitmap, 0, guest_mem_bitmap_words(b->g) * 8);
	t0 = now_ns();
	got = lib ? lib_harvest(b) : bare_scan(b);
	t1 = now_ns();
	if (got != want) {
		fprintf(stderr, "bench_harvest: %s harvest found %llu pages, %llu were dirtied\n",
			lib ? "guest_mem" : "bare", (unsigned long long)got,
			(unsigned long long)want);
		exit(1);
	}
	/* ms per GiB */
	return (t1 - t0) / 1e6 * (double)(1ULL << 30) / (double)(b->pages * b->psz);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_stat(const char *label, double *v, const char *unit)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	printf("  %-22s %8.3f %s  [%.3f..%.3f]\n", label, v[RUNS / 2], unit, v[0], v[RUNS - 1]);
}

static bool run_fraction(struct bench *b, unsigned int per_mille)
{
	double lib[RUNS], bare[RUNS], ratio[RUNS], med_ratio;

	for (int r = 0; r < RUNS; r++) {
		uint64_t seed = 1000 + r * 7 + per_mille;

		/* alternate the order, so neither side always runs on a warmer cache */
		if (r % 2) {
			bare[r] = timed(b, seed, per_mille, false);
			lib[r] = timed(b, seed, per_mille, true);
		} else {
			lib[r] = timed(b, seed, per_mille, true);
			bare[r] = timed(b, seed, per_mille, false);
		}
		ratio[r] = lib[r] / bare[r];
	}
	printf("%.0f%% of pages dirty between harvests (%llu pages):\n", per_mille / 10.0,
	       (unsigned long long)(b->pages * per_mille / 1000));
	print_stat("guest_mem_harvest", lib, "ms/GiB");
	print_stat("bare PAGEMAP_SCAN loop", bare, "ms/GiB");
	print_stat("ratio", ratio, "x     ");
	qsort(ratio, RUNS, sizeof(*ratio), cmp_double);
	med_ratio = ratio[RUNS / 2];
	printf("  goal <= %.1fx: %s\n", GOAL, med_ratio <= GOAL ? "met" : "MISSED");
	return med_ratio <= GOAL;
}

static struct guest_mem *make_guest(uint64_t mib, bool fallback)
{
	char err[256];
	struct guest_mem *g = guest_mem_create(mib << 20, err, sizeof(err));

	if (!g && fallback) {
		printf("(1 GiB guest unavailable: %s; using 256 MiB)\n", err);
		return make_guest(256, false);
	}
	if (!g)
		fprintf(stderr, "bench_harvest: %s\n", err);
	return g;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 1024;
	static struct bench bench;
	struct bench *b = &bench;
	uint64_t t0 = now_ns();
	char err[256];
	bool met;

	printf("bench_harvest: vCPU dirty-log harvest cost (userfaultfd WP_ASYNC + PAGEMAP_SCAN), "
	       "ms per GiB of guest RAM, guest_mem_harvest vs a bare PAGEMAP_SCAN loop on the same "
	       "memory; median of %d runs [min..max]\n",
	       RUNS);
	if (guest_mem_probe(err, sizeof(err))) {
		printf("bench_harvest: skipped: %s\n", err);
		return 0;
	}
	b->g = make_guest(mib, argc <= 1);
	if (!b->g || guest_mem_track_start(b->g)) {
		if (b->g)
			fprintf(stderr, "bench_harvest: %s\n", guest_mem_error(b->g));
		return 1;
	}
	b->vcpu = guest_mem_vcpu(b->g);
	b->pages = guest_mem_pages(b->g);
	b->psz = guest_mem_page_size(b->g);
	b->bitmap = calloc(guest_mem_bitmap_words(b->g), 8);
	b->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (!b->bitmap || b->pagemap_fd < 0) {
		perror("bench_harvest");
		return 1;
	}
	printf("guest RAM %llu MiB, %llu pages of %zu bytes, %d page_region entries per call\n",
	       (unsigned long long)(guest_mem_size(b->g) >> 20), (unsigned long long)b->pages,
	       b->psz, VEC_LEN);
	/* warm both paths once: first-touch costs are not harvest costs */
	timed(b, 1, 10, true);
	timed(b, 2, 10, false);
	met = run_fraction(b, 0);
	met &= run_fraction(b, 10);
	met &= run_fraction(b, 100);
	printf("bench_harvest: goal %s, %.1f s\n", met ? "met" : "MISSED", (now_ns() - t0) / 1e9);
	close(b->pagemap_fd);
	guest_mem_destroy(b->g);
	free(b->bitmap);
	return 0;
}
