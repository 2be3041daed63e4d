/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vCPU-like writer threads over guest RAM, and their ground truth.
 *
 * N threads write one u64 per page-write into the vCPU mapping, at a set
 * total rate, over a working set of pages with a pattern:
 *   uniform  every page of the working set equally likely;
 *   hotcold  the first hot_fraction of the working set gets hot_share of
 *            the writes, the rest the remainder, uniformly within each;
 *   sweep    sequential: thread t writes ws_start + (t * ws / N + i) % ws
 *            for its i-th write (one thread: 0, 1, 2, ... wrapping).
 * Thread t's i-th write goes to workload_page(cfg, t, i), a pure function of
 * the seed: the page sequence of every thread is the same on every run.
 *
 * Ground truth: a bitmap of the pages written in the current window (bit i =
 * page i, little-endian u64 words, the layout of guest_mem_harvest()) and a
 * count of writes. A writer sets the page's bit (atomic OR) BEFORE it writes
 * the page, so at any instant every page the kernel could report as written
 * is already in the log; a window cut taken while writers run may put a
 * page in the window before the one whose harvest reports it. For exact
 * windows: workload_pause(), harvest, workload_cut(), workload_resume().
 */
#ifndef VFMIG_MEMORY_WORKLOAD_H
#define VFMIG_MEMORY_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define WORKLOAD_MAX_THREADS 64

enum workload_pattern {
	WORKLOAD_UNIFORM,
	WORKLOAD_HOTCOLD,
	WORKLOAD_SWEEP,
};

struct workload_cfg {
	void *mem;	    /* the vCPU mapping */
	uint64_t mem_pages; /* its size in pages (bitmaps cover all of it) */
	unsigned int threads;
	uint64_t rate; /* page writes per second, all threads together; 0: flat out */
	uint64_t ws_start, ws_pages;
	enum workload_pattern pattern;
	double hot_fraction; /* hotcold: share of the working set that is hot, (0, 1] */
	double hot_share;    /* hotcold: share of the writes that go to it, [0, 1] */
	uint64_t seed;
};

struct workload_stats {
	uint64_t writes;      /* page writes since start */
	double elapsed_s;     /* running time, paused time excluded */
	double rate_asked;    /* page writes/s; 0: flat out */
	double rate_achieved; /* writes / elapsed_s */
};

struct workload;

/* 0, or -1 with errno EINVAL and a one-line reason in err. */
int workload_cfg_check(const struct workload_cfg *cfg, char *err, size_t errlen);
/* "uniform", "hotcold", "sweep"; parse returns -1 for an unknown name. */
const char *workload_pattern_name(enum workload_pattern p);
int workload_pattern_parse(const char *name, enum workload_pattern *p);

/* The page of thread t's n-th write (n from 0). cfg must pass the check. */
uint64_t workload_page(const struct workload_cfg *cfg, unsigned int t, uint64_t n);

/* Starts the writers (running). NULL with errno and err set on failure. */
struct workload *workload_start(const struct workload_cfg *cfg, char *err, size_t errlen);
/* Stops and joins the writers; stats and the last window stay readable. */
void workload_stop(struct workload *w);
void workload_destroy(struct workload *w);

/*
 * Returns once every writer is parked between two writes, all its writes
 * visible; writers stay parked until workload_resume(). Idempotent. Call
 * both from one controlling thread.
 */
void workload_pause(struct workload *w);
void workload_resume(struct workload *w);

/*
 * Ends the current window: ORs its pages into bitmap (if not NULL; ceil(
 * mem_pages / 64) words), stores their number in *pages (if not NULL), and
 * returns the writes made in it. The next window starts empty.
 */
uint64_t workload_cut(struct workload *w, uint64_t *bitmap, uint64_t *pages);

/*
 * When a page's first write in a window was made (CLOCK_MONOTONIC ns, the
 * clock of bpf_ktime_get_ns): the writer read the clock just before and just
 * after it, so the page's write fault, if it took one, came in [begin, end].
 */
struct workload_first {
	uint64_t begin_ns, end_ns;
};

/*
 * workload_cut, and for each page of the window (if first is not NULL) its
 * first write's times in first[page] (mem_pages entries; others untouched).
 * *racing (if not NULL): the writes in the window made to a page whose first
 * write was still under way. Each may have taken a write fault of its own
 * (two threads faulting on one page at once), so a window took between
 * *pages and *pages + *racing write faults. Exact for a paused workload;
 * while writers run, a page written during the cut may carry the times of
 * its write in the next window.
 */
uint64_t workload_cut_times(struct workload *w, uint64_t *bitmap, uint64_t *pages,
			    struct workload_first *first, uint64_t *racing);

void workload_stats(struct workload *w, struct workload_stats *st);

#endif
