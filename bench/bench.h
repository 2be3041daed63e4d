/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every benchmark shares: timing, medians with spread, ratios, goals. */
#ifndef VFMIG_BENCH_H
#define VFMIG_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s failed\n", what);
	exit(1);
}

/* Populated memory, so first-touch faults are not measured. */
static inline void *bench_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		bench_die("mmap");
	return p;
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Square root without libm: Newton's iteration. */
static inline double bench_sqrt(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	for (i = 0; x > 0 && i < 64; i++)
		r = (r + x / r) / 2;
	return x > 0 ? r : 0;
}

/* Median of n samples (sorted copy); min and max through the pointers. */
static inline double bench_median(const double *v, int n, double *min, double *max)
{
	double s[64] = {0};
	int i;

	for (i = 0; i < n && i < 64; i++)
		s[i] = v[i];
	qsort(s, i, sizeof(s[0]), bench_cmp);
	if (min)
		*min = s[0];
	if (max)
		*max = s[i - 1];
	return i % 2 ? s[i / 2] : (s[i / 2 - 1] + s[i / 2]) / 2;
}

static inline void bench_header(const char *name, const char *what)
{
	printf("== %s: %s\n", name, what);
}

/* One line: median throughput with its spread, and the ratio to a baseline's median. */
static inline void bench_rate(const char *label, size_t bytes, const double *t, int n,
			      const double *base)
{
	double lo, hi, med = bench_median(t, n, &lo, &hi);

	printf("  %-30s %8.0f MB/s  (median of %d, %.0f..%.0f)", label, bytes / med / 1e6, n,
	       bytes / hi / 1e6, bytes / lo / 1e6);
	if (base)
		printf("  %.2fx baseline", bench_median(base, n, NULL, NULL) / med);
	printf("\n");
}

static inline void bench_goal(const char *label, size_t bytes, const double *t, const double *base,
			      int n, double goal)
{
	double ratio = bench_median(base, n, NULL, NULL) / bench_median(t, n, NULL, NULL);

	(void)bytes;
	printf("  goal %s >= %.2fx baseline: %.2fx, %s\n", label, goal, ratio,
	       ratio >= goal ? "met" : "NOT met");
}

#endif
