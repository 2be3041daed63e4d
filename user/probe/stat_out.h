/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfmigprof prints: the probe table, and for stat the totals, the
 * latency histograms and the devices with their names and owners, as text
 * or JSON. Names are resolved while their processes live (a program run
 * under stat has exited by the time the totals print), and kept.
 */
#ifndef VFMIG_PROBE_REPORT_H
#define VFMIG_PROBE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "probe/devname.h"
#include "probe/loader.h"

struct stat_report;

struct stat_report *report_new(struct vfmig_probes *p, bool json, FILE *out);
void report_free(struct stat_report *r);
/* Names every device the probes know of whose process still lives. */
void report_refresh_names(struct stat_report *r);
/* The counters' change since the last interval (or the start), t seconds in: one line of
 * JSON, or the counters that moved. */
void report_interval(struct stat_report *r, double t);
/* The totals after secs seconds. */
void report_total(struct stat_report *r, double secs);

void report_table(struct vfmig_probes *p, bool json, FILE *out);

#endif
