/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfmigtop's full screen (ncurses), and what it shares with main.c: the
 * loop's settings and the readings (struct top_run).
 */
#ifndef VFMIG_VFMIGTOP_SCREEN_H
#define VFMIG_VFMIGTOP_SCREEN_H

#include <regex.h>
#include <signal.h>
#include <stdbool.h>

#include "vfmigtop/collect.h"
#include "vfmigtop/figures.h"

#define TOP_MIN_COLS 80
#define TOP_MIN_LINES 12

struct top_run {
	struct top_src *src;
	unsigned int interval_ms;
	struct top_sort sort;
	bool have_re;
	regex_t re;
	char re_text[128];
	struct top_table *cur, *old;
	struct top_header h;
	bool (*ended)(void *ctx); /* whether what is watched has ended (PROGRAM) */
	void *ctx;
};

extern volatile sig_atomic_t top_stop;
double top_now(void);
/* Reads one interval into r->cur (keeping r->old), sorted. */
void top_refresh(struct top_run *r);

/* Whether the terminal can be used: 0, or -1 with the reason in err. */
int top_screen_check(char *err, size_t len);
/* The full screen until q; the terminal restored whatever the way out. Returns the exit status. */
int top_screen_run(struct top_run *r);

#endif
