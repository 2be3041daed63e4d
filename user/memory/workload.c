// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU-like writer threads and their ground-truth log (see workload.h).
 *
 * Pacing: each thread owns rate / threads of the total rate and writes in
 * batches of about a millisecond's worth, then sleeps to the batch's
 * deadline on a condition variable, so a paced workload leaves the CPUs to
 * the source and destination and a pause reaches a sleeping writer at once.
 * A thread that falls behind by more than PACE_SLACK_NS drops the debt
 * instead of bursting to catch up; the achieved rate says so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memory/workload.h"

#define NSEC 1000000000ULL
#define PACE_BATCH_HZ 1000		/* at most this many sleeps per second per thread */
#define PACE_SLACK_NS (50 * 1000000ULL) /* debt beyond this is dropped */

struct writer {
	alignas(64) _Atomic uint64_t writes; /* own cache line: read by stats, written per write */
	struct workload *w;
	unsigned int idx;
	pthread_t tid;
};

struct workload {
	struct workload_cfg cfg;
	size_t psz;
	uint64_t words;
	uint64_t *window; /* ground truth of the current window, atomic ORs */
	/* per page: when its first write in the window began and ended (monotonic ns);
	 * end 0 while that write is under way */
	uint64_t *first_begin, *first_end;
	_Atomic uint64_t racing; /* writes to a page while its first write was under way */
	uint64_t batch, batch_ns;
	_Atomic int ctl; /* non-zero when a pause or stop waits: the writers' slow path */

	pthread_mutex_t lock; /* protects what follows */
	pthread_cond_t run_cv, parked_cv;
	bool pause, stop, joined;
	unsigned int started, parked;
	uint64_t t_start, t_end, paused_ns, pause_began;
	uint64_t cut_base; /* writes counted into earlier windows */
	struct writer *wr;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* ---- configuration and the page sequence ---------------------------------- */

static const char *const pattern_names[] = {
	[WORKLOAD_UNIFORM] = "uniform",
	[WORKLOAD_HOTCOLD] = "hotcold",
	[WORKLOAD_SWEEP] = "sweep",
};

const char *workload_pattern_name(enum workload_pattern p)
{
	return (unsigned int)p <= WORKLOAD_SWEEP ? pattern_names[p] : "?";
}

int workload_pattern_parse(const char *name, enum workload_pattern *p)
{
	for (unsigned int i = 0; i <= WORKLOAD_SWEEP; i++) {
		if (!strcmp(name, pattern_names[i])) {
			*p = i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

static int check_hot(const struct workload_cfg *c, char *err, size_t errlen)
{
	bool hot = c->pattern == WORKLOAD_HOTCOLD;

	/* written so that NaN fails too */
	if (!(c->hot_fraction >= 0 && c->hot_fraction <= 1) || (hot && !(c->hot_fraction > 0)))
		return fail(err, errlen, "hot fraction %g outside (0, 1]", c->hot_fraction);
	if (!(c->hot_share >= 0 && c->hot_share <= 1))
		return fail(err, errlen, "hot share %g outside [0, 1]", c->hot_share);
	return 0;
}

int workload_cfg_check(const struct workload_cfg *c, char *err, size_t errlen)
{
	if (!c->mem || !c->mem_pages)
		return fail(err, errlen, "workload: no guest memory to write");
	if (!c->threads || c->threads > WORKLOAD_MAX_THREADS)
		return fail(err, errlen, "workload: %u writer threads, outside 1..%d", c->threads,
			    WORKLOAD_MAX_THREADS);
	if (!c->ws_pages)
		return fail(err, errlen, "workload: the working set is empty (0 pages)");
	if (c->ws_start >= c->mem_pages || c->ws_pages > c->mem_pages - c->ws_start)
		return fail(err, errlen,
			    "workload: working set of %llu pages at page %llu exceeds guest memory "
			    "(%llu pages)",
			    (unsigned long long)c->ws_pages, (unsigned long long)c->ws_start,
			    (unsigned long long)c->mem_pages);
	if ((unsigned int)c->pattern > WORKLOAD_SWEEP)
		return fail(err, errlen, "workload: unknown pattern %d", (int)c->pattern);
	return check_hot(c, err, errlen);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) from 64 random bits, without a division. */
static uint64_t below(uint64_t r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

static uint64_t hot_pages(const struct workload_cfg *c)
{
	uint64_t hot = (uint64_t)(c->hot_fraction * (double)c->ws_pages + 0.5);

	return hot < 1 ? 1 : hot > c->ws_pages ? c->ws_pages : hot;
}

/* Counter-based: the n-th draw of thread t needs no state, so it can be replayed. */
uint64_t workload_page(const struct workload_cfg *c, unsigned int t, uint64_t n)
{
	uint64_t ws = c->ws_pages, r, hot;

	if (c->pattern == WORKLOAD_SWEEP)
		return c->ws_start +
		       ((uint64_t)((unsigned __int128)t * ws / c->threads) + n % ws) % ws;
	r = mix64(c->seed + mix64(t + 1) + n * 0x9e3779b97f4a7c15ULL);
	if (c->pattern == WORKLOAD_UNIFORM)
		return c->ws_start + below(r, ws);
	hot = hot_pages(c);
	if (hot == ws || (r >> 11) < (uint64_t)(c->hot_share * 0x1p53))
		return c->ws_start + below(mix64(r), hot);
	return c->ws_start + hot + below(mix64(r), ws - hot);
}

/* ---- the writers ------------------------------------------------------------ */

/*
 * Between two writes: waits out a pause, then the pacing deadline if any.
 * A writer in here counts as parked. Returns true when the writer must end.
 */
static bool writer_park(struct workload *w, uint64_t deadline, bool *paused)
{
	struct timespec ts = {deadline / NSEC, deadline % NSEC};
	bool stop;

	pthread_mutex_lock(&w->lock);
	w->parked++;
	pthread_cond_broadcast(&w->parked_cv);
	while (!w->stop) {
		if (w->pause) {
			*paused = true;
			pthread_cond_wait(&w->run_cv, &w->lock);
		} else if (!deadline ||
			   pthread_cond_timedwait(&w->run_cv, &w->lock, &ts) == ETIMEDOUT) {
			if (!w->pause)
				break;
		}
	}
	w->parked--;
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* After a batch: sleeps to its deadline. True when the writer must end. */
static bool pace(struct workload *w, uint64_t *next)
{
	uint64_t now = now_ns();
	bool paused = false, stop = false;

	*next += w->batch_ns;
	if (now > *next + PACE_SLACK_NS)
		*next = now;
	if (*next > now)
		stop = writer_park(w, *next, &paused);
	if (paused)
		*next = now_ns();
	return stop;
}

/*
 * The ground-truth bit is set before the page is written (full barrier on
 * the OR): whatever the kernel can see written is already in the log. The OR
 * is done every time, even when the bit looks set, so that a cut racing with
 * the write cannot leave the write out of both windows. The writer that sets
 * the bit brackets its write with two clock reads: the page's first write
 * fault in the window, if any, came between them.
 */
static void write_page(struct workload *w, unsigned int t, uint64_t n)
{
	uint64_t page = workload_page(&w->cfg, t, n), bit = 1ULL << (page % 64), begin;
	size_t off = ((n * 0x9e37 + t * 61) % (w->psz / 8)) * 8;
	volatile uint64_t *dst = (uint64_t *)((uint8_t *)w->cfg.mem + page * w->psz + off);

	if (__atomic_fetch_or(&w->window[page / 64], bit, __ATOMIC_SEQ_CST) & bit) {
		/* the first write may not have reached the page yet: this one may fault too */
		if (!__atomic_load_n(&w->first_end[page], __ATOMIC_SEQ_CST))
			atomic_fetch_add_explicit(&w->racing, 1, memory_order_relaxed);
		*dst = ((n << 8 | t << 1) ^ w->cfg.seed) | 1; /* never 0: reads non-zero */
		return;
	}
	begin = now_ns();
	*dst = ((n << 8 | t << 1) ^ w->cfg.seed) | 1;
	__atomic_store_n(&w->first_end[page], now_ns(), __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->first_begin[page], begin, __ATOMIC_RELAXED);
}

static void *writer_main(void *arg)
{
	struct writer *me = arg;
	struct workload *w = me->w;
	uint64_t left = w->batch, next = now_ns();

	for (uint64_t n = 0;; n++) {
		if (atomic_load_explicit(&w->ctl, memory_order_relaxed)) {
			bool paused = false;

			if (writer_park(w, 0, &paused))
				break;
			if (paused)
				next = now_ns();
		}
		write_page(w, me->idx, n);
		atomic_store_explicit(&me->writes, n + 1, memory_order_relaxed);
		if (w->batch_ns && !--left) {
			left = w->batch;
			if (pace(w, &next))
				break;
		}
	}
	return NULL;
}

/* ---- control ------------------------------------------------------------------ */

static void set_pacing(struct workload *w)
{
	double per_thread = (double)w->cfg.rate / w->cfg.threads;

	if (!w->cfg.rate)
		return;
	w->batch = (uint64_t)(per_thread / PACE_BATCH_HZ);
	if ((double)w->batch < per_thread / PACE_BATCH_HZ)
		w->batch++;
	if (!w->batch)
		w->batch = 1;
	w->batch_ns = (uint64_t)((double)w->batch * NSEC / per_thread);
	if (!w->batch_ns)
		w->batch_ns = 1;
}

static int init_sync(struct workload *w)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC))
		return -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->run_cv, &ca);
	pthread_cond_init(&w->parked_cv, NULL);
	pthread_condattr_destroy(&ca);
	return 0;
}

static int spawn(struct workload *w, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < w->cfg.threads; i++) {
		int e;

		w->wr[i].w = w;
		w->wr[i].idx = i;
		e = pthread_create(&w->wr[i].tid, NULL, writer_main, &w->wr[i]);
		if (e) {
			snprintf(err, errlen, "workload: starting writer %u: %s", i, strerror(e));
			return -e;
		}
		pthread_mutex_lock(&w->lock);
		w->started++;
		pthread_mutex_unlock(&w->lock);
	}
	return 0;
}

struct workload *workload_start(const struct workload_cfg *cfg, char *err, size_t errlen)
{
	struct workload *w;
	int e;

	if (workload_cfg_check(cfg, err, errlen))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w || init_sync(w)) {
		free(w);
		fail(err, errlen, "workload: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->cfg = *cfg;
	w->psz = sysconf(_SC_PAGESIZE);
	w->words = (cfg->mem_pages + 63) / 64;
	w->window = calloc(w->words, sizeof(*w->window));
	w->first_begin = calloc(cfg->mem_pages, sizeof(uint64_t));
	w->first_end = calloc(cfg->mem_pages, sizeof(uint64_t));
	w->wr = aligned_alloc(64, sizeof(*w->wr) * cfg->threads);
	if (!w->window || !w->first_begin || !w->first_end || !w->wr) {
		workload_destroy(w);
		fail(err, errlen, "workload: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	memset(w->wr, 0, sizeof(*w->wr) * cfg->threads);
	set_pacing(w);
	w->t_start = now_ns();
	e = spawn(w, err, errlen);
	if (e) {
		workload_destroy(w);
		errno = -e;
		return NULL;
	}
	return w;
}

void workload_pause(struct workload *w)
{
	pthread_mutex_lock(&w->lock);
	if (!w->pause && !w->stop) {
		w->pause = true;
		w->pause_began = now_ns();
		atomic_store(&w->ctl, 1);
		while (w->parked < w->started)
			pthread_cond_wait(&w->parked_cv, &w->lock);
	}
	pthread_mutex_unlock(&w->lock);
}

/* Caller holds the lock. */
static void end_pause(struct workload *w)
{
	if (!w->pause)
		return;
	w->paused_ns += now_ns() - w->pause_began;
	w->pause = false;
}

void workload_resume(struct workload *w)
{
	pthread_mutex_lock(&w->lock);
	end_pause(w);
	atomic_store(&w->ctl, w->stop);
	pthread_cond_broadcast(&w->run_cv);
	pthread_mutex_unlock(&w->lock);
}

void workload_stop(struct workload *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->joined) {
		pthread_mutex_unlock(&w->lock);
		return;
	}
	end_pause(w);
	w->stop = true;
	w->t_end = now_ns();
	atomic_store(&w->ctl, 1);
	pthread_cond_broadcast(&w->run_cv);
	pthread_mutex_unlock(&w->lock);
	for (unsigned int i = 0; i < w->started; i++)
		pthread_join(w->wr[i].tid, NULL);
	w->joined = true;
}

void workload_destroy(struct workload *w)
{
	if (!w)
		return;
	if (w->wr)
		workload_stop(w);
	pthread_cond_destroy(&w->run_cv);
	pthread_cond_destroy(&w->parked_cv);
	pthread_mutex_destroy(&w->lock);
	free(w->window);
	free(w->first_begin);
	free(w->first_end);
	free(w->wr);
	free(w);
}

static uint64_t total_writes(struct workload *w)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < w->started; i++)
		sum += atomic_load_explicit(&w->wr[i].writes, memory_order_relaxed);
	return sum;
}

/*
 * The first-write times of the pages in word i's bits v (if first), and
 * their ends zeroed: in the next window, 0 says the first write is under way.
 */
static void take_times(struct workload *w, uint64_t i, uint64_t v, struct workload_first *first)
{
	for (; v; v &= v - 1) {
		uint64_t page = i * 64 + __builtin_ctzll(v);

		if (first) {
			first[page].begin_ns = __atomic_load_n(&w->first_begin[page],
							       __ATOMIC_RELAXED);
			first[page].end_ns = __atomic_load_n(&w->first_end[page], __ATOMIC_RELAXED);
		}
		__atomic_store_n(&w->first_end[page], 0, __ATOMIC_SEQ_CST);
	}
}

uint64_t workload_cut(struct workload *w, uint64_t *bitmap, uint64_t *pages)
{
	return workload_cut_times(w, bitmap, pages, NULL, NULL);
}

uint64_t workload_cut_times(struct workload *w, uint64_t *bitmap, uint64_t *pages,
			    struct workload_first *first, uint64_t *racing)
{
	uint64_t npages = 0, writes;

	for (uint64_t i = 0; i < w->words; i++) {
		uint64_t v = __atomic_exchange_n(&w->window[i], 0, __ATOMIC_SEQ_CST);

		if (bitmap)
			bitmap[i] |= v;
		take_times(w, i, v, first);
		npages += __builtin_popcountll(v);
	}
	pthread_mutex_lock(&w->lock);
	writes = total_writes(w) - w->cut_base;
	w->cut_base += writes;
	pthread_mutex_unlock(&w->lock);
	if (pages)
		*pages = npages;
	if (racing)
		*racing = atomic_exchange(&w->racing, 0);
	return writes;
}

void workload_stats(struct workload *w, struct workload_stats *st)
{
	uint64_t end, paused;

	pthread_mutex_lock(&w->lock);
	end = w->stop ? w->t_end : now_ns();
	paused = w->paused_ns + (w->pause ? end - w->pause_began : 0);
	st->writes = total_writes(w);
	pthread_mutex_unlock(&w->lock);
	st->elapsed_s = (double)(end - w->t_start - paused) / NSEC;
	st->rate_asked = (double)w->cfg.rate;
	st->rate_achieved = st->elapsed_s > 0 ? st->writes / st->elapsed_s : 0;
}
