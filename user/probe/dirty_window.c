// SPDX-License-Identifier: GPL-2.0
/*
 * W(t) from the dirty family's window histograms (see dirty_window.h). The
 * records come on the family's own ring buffer, read here with a ring of
 * this reader's own, beside the loader's event ring.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probe/dirty_window.h"
#include "probe/loader.h"

#define MAX_TRACKED 256 /* ranges remembered; later ones are not */
#define NS_PER_MS 1e6

/* One range's windows, cumulated at each slot's end. */
struct range_acc {
	uint32_t pid;
	uint64_t start, windows;
	double cum[VFMIG_DW_SLOTS];	/* sum over the windows covering the slot's end */
	uint64_t cover[VFMIG_DW_SLOTS]; /* those windows */
	double len_ns, faults;		/* sums over every window */
	double rate_sum, rate_sq;	/* of each window's faults per second */
	struct vfmig_dirty_window last;
};

struct dirty_windows {
	struct ring_buffer *rb;
	size_t n;
	struct range_acc r[MAX_TRACKED];
};

static double slot_end_ms(uint32_t s)
{
	return (double)vfmig_dw_slot_start_ns(s + 1) / NS_PER_MS;
}

size_t dirty_window_points(const struct vfmig_dirty_window *w, double *t_ms, double *pages,
			   size_t n)
{
	double cum = 0;
	size_t k = 0;
	uint32_t s;

	for (s = 0; s < VFMIG_DW_SLOTS && k < n; s++) {
		if (vfmig_dw_slot_start_ns(s + 1) > w->t_len_ns || s + 1 == VFMIG_DW_SLOTS)
			break;
		cum += (double)w->slots[s];
		t_ms[k] = slot_end_ms(s);
		pages[k++] = cum;
	}
	if (k < n && (!k || t_ms[k - 1] < (double)w->t_len_ns / NS_PER_MS)) {
		t_ms[k] = (double)w->t_len_ns / NS_PER_MS;
		pages[k++] = (double)w->faults;
	}
	return k;
}

static struct range_acc *range_of(struct dirty_windows *d, uint32_t pid, uint64_t start)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->r[i].pid == pid && d->r[i].start == start)
			return &d->r[i];
	}
	if (d->n == MAX_TRACKED)
		return NULL;
	memset(&d->r[d->n], 0, sizeof(d->r[d->n]));
	d->r[d->n].pid = pid;
	d->r[d->n].start = start;
	return &d->r[d->n++];
}

void dirty_windows_add(struct dirty_windows *d, const struct vfmig_dirty_window *w)
{
	struct range_acc *r = range_of(d, w->pid, w->start);
	double cum = 0;
	uint32_t s;

	if (!r)
		return;
	r->windows++;
	r->len_ns += (double)w->t_len_ns;
	r->faults += (double)w->faults;
	if (w->t_len_ns) {
		double rate = (double)w->faults * 1e9 / (double)w->t_len_ns;

		r->rate_sum += rate;
		r->rate_sq += rate * rate;
	}
	r->last = *w;
	for (s = 0; s + 1 < VFMIG_DW_SLOTS && vfmig_dw_slot_start_ns(s + 1) <= w->t_len_ns; s++) {
		cum += (double)w->slots[s];
		r->cum[s] += cum;
		r->cover[s]++;
	}
}

static int ring_cb(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct vfmig_dirty_window))
		dirty_windows_add(ctx, data);
	return 0;
}

struct dirty_windows *dirty_windows_open(struct vfmig_probes *p, char *err, size_t errlen)
{
	int fd = probes_map_fd(p, "dirty_windows");
	struct dirty_windows *d;

	if (fd < 0) {
		snprintf(err, errlen, "dirty windows: the dirty family is not loaded");
		return NULL;
	}
	d = dirty_windows_new();
	if (!d) {
		snprintf(err, errlen, "dirty windows: out of memory");
		return NULL;
	}
	d->rb = ring_buffer__new(fd, ring_cb, d, NULL);
	if (!d->rb) {
		snprintf(err, errlen, "dirty windows: ring buffer: %s", strerror(errno));
		free(d);
		return NULL;
	}
	return d;
}

struct dirty_windows *dirty_windows_new(void)
{
	return calloc(1, sizeof(struct dirty_windows));
}

void dirty_windows_close(struct dirty_windows *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	free(d);
}

/* Records are sent without a wakeup: a poll that timed out still drains what waits. */
int dirty_windows_poll(struct dirty_windows *d, int timeout_ms)
{
	int n = d->rb ? ring_buffer__poll(d->rb, timeout_ms) : 0;

	if (n < 0)
		return n;
	return n || !d->rb ? n : ring_buffer__consume(d->rb);
}

uint64_t dirty_windows_count(const struct dirty_windows *d, uint32_t pid)
{
	uint64_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += !pid || d->r[i].pid == pid ? d->r[i].windows : 0;
	return n;
}

double dirty_windows_spread(const struct dirty_windows *d, uint32_t pid)
{
	double n = 0, sum = 0, sq = 0, mean;

	for (size_t i = 0; i < d->n; i++) {
		if (pid && d->r[i].pid != pid)
			continue;
		n += (double)d->r[i].windows;
		sum += d->r[i].rate_sum;
		sq += d->r[i].rate_sq;
	}
	if (n < 2 || sum <= 0)
		return 0;
	mean = sum / n;
	return sqrt(fmax(0, sq / n - mean * mean) * n / (n - 1)) / mean;
}

uint64_t dirty_windows_bytes(const struct dirty_windows *d, uint32_t pid)
{
	uint64_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += !pid || d->r[i].pid == pid ? d->r[i].last.len : 0;
	return n;
}

const struct vfmig_dirty_window *dirty_windows_last(const struct dirty_windows *d, uint32_t pid,
						    uint64_t start)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->r[i].pid == pid && d->r[i].start == start)
			return &d->r[i].last;
	}
	return NULL;
}

static bool in_curve(const struct range_acc *r, uint32_t pid, uint64_t start)
{
	return r->pid == pid && r->windows && (!start || r->start == start);
}

/* W at slot s's end summed over the ranges in the curve; false if one has no window that long. */
static bool sum_at(const struct dirty_windows *d, uint32_t pid, uint64_t start, uint32_t s,
		   double *w)
{
	*w = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct range_acc *r = &d->r[i];

		if (!in_curve(r, pid, start))
			continue;
		if (!r->cover[s])
			return false;
		*w += r->cum[s] / (double)r->cover[s];
	}
	return true;
}

size_t dirty_window_curve(const struct dirty_windows *d, uint32_t pid, uint64_t start, double *t_ms,
			  double *pages, size_t n)
{
	double len = 0, faults = 0;
	size_t k = 0, ranges = 0;
	uint32_t s;

	for (size_t i = 0; i < d->n; i++) {
		if (!in_curve(&d->r[i], pid, start))
			continue;
		ranges++;
		len += d->r[i].len_ns / (double)d->r[i].windows;
		faults += d->r[i].faults / (double)d->r[i].windows;
	}
	if (!ranges)
		return 0;
	len /= (double)ranges; /* the mean window length; the ranges share their harvests */
	for (s = 0; s + 1 < VFMIG_DW_SLOTS && k < n; s++) {
		if (!sum_at(d, pid, start, s, &pages[k]))
			break;
		/* W never falls: a dip is the mean over fewer, longer windows past a short one's end */
		if (k && pages[k] < pages[k - 1])
			pages[k] = pages[k - 1];
		t_ms[k++] = slot_end_ms(s);
	}
	if (k < n && (!k || t_ms[k - 1] < len / NS_PER_MS)) {
		t_ms[k] = len / NS_PER_MS;
		pages[k] = k && pages[k - 1] > faults ? pages[k - 1] : faults;
		k++;
	}
	return k;
}

/* W at t_ms on the curve's points: the last point at or before it, if it is reached. */
static bool w_at(const double *t, const double *w, size_t n, double t_ms, double *out)
{
	bool found = false;

	for (size_t k = 0; k < n && t[k] <= t_ms * 1.0001; k++) {
		*out = w[k];
		found = true;
	}
	return found && n && t[n - 1] >= t_ms;
}

static void print_pid(FILE *f, const struct dirty_windows *d, uint32_t pid)
{
	static const double marks[] = {1, 10, 100, 1000};
	double t[VFMIG_DW_SLOTS + 1], w[VFMIG_DW_SLOTS + 1], at;
	size_t n = dirty_window_curve(d, pid, 0, t, w, VFMIG_DW_SLOTS + 1);

	if (!n)
		return;
	fprintf(f, "W(t) pid %u, %llu windows:", pid,
		(unsigned long long)dirty_windows_count(d, pid));
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (w_at(t, w, n, marks[i], &at))
			fprintf(f, " %g ms %.0f,", marks[i], at);
	}
	fprintf(f, " %.1f ms %.0f pages\n", t[n - 1], w[n - 1]);
}

void dirty_windows_print(FILE *f, const struct dirty_windows *d)
{
	for (size_t i = 0; d && i < d->n; i++) {
		size_t j;

		for (j = 0; j < i && d->r[j].pid != d->r[i].pid; j++)
			;
		if (j == i) /* the pid's first range: its line covers them all */
			print_pid(f, d, d->r[i].pid);
	}
}
