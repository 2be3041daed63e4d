/* SPDX-License-Identifier: GPL-2.0 */
/*
 * W(t) from the dirty family's per-window histograms (vfmig/dirty_window.h):
 * the distinct pages a watched range (or a process's ranges together) dirties
 * in the first t of a harvest window, as points (t, pages) for the
 * convergence predictor.
 *
 * A range's curve averages its windows: at each slot's end, W is the mean of
 * the cumulated counts of the windows at least that long, so that a short
 * window (the last before a disarm) never pulls W(t) down past its end. A
 * process's curve is the sum of its ranges' curves.
 */
#ifndef VFMIG_PROBE_DIRTY_WINDOW_H
#define VFMIG_PROBE_DIRTY_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>

#include "vfmig/dirty_window.h"

struct vfmig_probes;
struct dirty_windows;

/*
 * The points of one window: at each slot's end within the window, and at
 * the window's length, t in ms and the pages first written before t. At
 * most n points (the earliest kept); returns how many.
 */
size_t dirty_window_points(const struct vfmig_dirty_window *w, double *t_ms, double *pages,
			   size_t n);

/* Reads the dirty family's ring. NULL with a one-line reason in err when it is not loaded. */
struct dirty_windows *dirty_windows_open(struct vfmig_probes *p, char *err, size_t errlen);
/* Without a ring: fed by dirty_windows_add only (replay, tests). NULL when out of memory. */
struct dirty_windows *dirty_windows_new(void);
void dirty_windows_close(struct dirty_windows *d);

/* Takes what waits (up to timeout_ms for the first): records taken (0 without a ring), or -errno. */
int dirty_windows_poll(struct dirty_windows *d, int timeout_ms);

/* Adds one window (what poll does with each record): for tests and replay. */
void dirty_windows_add(struct dirty_windows *d, const struct vfmig_dirty_window *w);

/*
 * How much pid's windows vary: the coefficient of variation of their faults
 * per second (0 with fewer than two windows).
 */
double dirty_windows_spread(const struct dirty_windows *d, uint32_t pid);

/* The bytes of pid's ranges that windows were taken of (pid 0: every process's). */
uint64_t dirty_windows_bytes(const struct dirty_windows *d, uint32_t pid);

/* Windows taken of pid (all ranges; pid 0: every process), and of them the last one's record. */
uint64_t dirty_windows_count(const struct dirty_windows *d, uint32_t pid);
const struct vfmig_dirty_window *dirty_windows_last(const struct dirty_windows *d, uint32_t pid,
						    uint64_t start);

/*
 * W(t) of pid's range at start (start 0: all of pid's ranges summed), as at
 * most n points (t in ms, pages), t rising; returns how many (0: no window).
 */
size_t dirty_window_curve(const struct dirty_windows *d, uint32_t pid, uint64_t start, double *t_ms,
			  double *pages, size_t n);

/* One line per process with windows: its W(t) at 1, 10, 100 ms, 1 s (those its windows reach). */
void dirty_windows_print(FILE *f, const struct dirty_windows *d);

#endif
