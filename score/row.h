/* SPDX-License-Identifier: GPL-2.0 */
/* One scored scenario, its table row and the summaries: shared by the emulated and QEMU halves. */
#ifndef VFMIG_SCORE_ROW_H
#define VFMIG_SCORE_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include "score/run.h"

#define DOWNTIME_FLOOR_MS 20.0 /* downtime errors are taken against max(measured, this) */

/* One outcome, predicted or measured. */
struct outcome {
	bool ok, converged;
	int rounds;
	double total_ms, bytes, downtime_ms;
	double lo_total, hi_total, lo_down, hi_down; /* the predicted range (NAN: none) */
};

/* What each predictor got wrong on one scenario. */
struct score_row {
	char name[48], cls[16];
	struct outcome pred, live, geo, meas; /* live: source 2, the probes on the running VM */
	double spread_total, spread_down;     /* (max - min) / median of the runs */
	double qemu_downtime_ms;	      /* QEMU's expected-downtime formula's estimate */
};

struct outcome outcome_of(struct json_object *j);
/* |pred - truth| / max(truth, floor); NAN when either is. */
double rel_err(double pred, double truth, double floor);
void print_row(const struct score_row *r);
/* Medians and 90th percentiles of the errors of the outcome at off in each row. */
void summarize(const char *who, const struct score_row *rows, int n, size_t off);

#endif
