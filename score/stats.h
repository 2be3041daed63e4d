/* SPDX-License-Identifier: GPL-2.0 */
/* Order statistics of a few samples (the scorer's runs and errors). */
#ifndef VFMIG_SCORE_STATS_H
#define VFMIG_SCORE_STATS_H

/* NaN samples are left out; NAN when none is left. v is reordered. */
double pctl(double *v, int n, double q);
double median(double *v, int n);
/* (max - min) / median: how far the runs of one scenario spread. */
double spread(double *v, int n);

#endif
