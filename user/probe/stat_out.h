/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfmigprof prints: the probe table, and for stat the totals, the
 * latency histograms and the devices with their names and owners, as text
 * or JSON. Names are resolved while their processes live (a program run
 * under stat has exited by the time the totals print), and kept.
 */
#ifndef VFMIG_PROBE_STAT_OUT_H
#define VFMIG_PROBE_STAT_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "probe/devname.h"
#include "probe/loader.h"

struct stat_out;

struct stat_out *stat_out_new(struct vfmig_probes *p, bool json, FILE *out);
void stat_out_free(struct stat_out *r);
/* Names every device the probes know of whose process still lives. */
void stat_out_refresh_names(struct stat_out *r);
/* The counters' change since the last interval (or the start), t seconds in: one line of
 * JSON, or the counters that moved. */
void stat_out_interval(struct stat_out *r, double t);
/* The totals after secs seconds. */
void stat_out_total(struct stat_out *r, double secs);

void stat_out_table(struct vfmig_probes *p, bool json, FILE *out);

#endif
