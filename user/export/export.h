/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probes' figures for monitoring systems: Prometheus text exposition
 * (counters, log2 latency histograms as Prometheus histograms, device
 * states, vfmig's own health, the model's live verdict per VM) and the same
 * as one JSON object a line. Single-threaded: a server calling it from
 * another thread holds its own lock.
 */
#ifndef VFMIG_EXPORT_EXPORT_H
#define VFMIG_EXPORT_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "live/live.h"

struct vfmig_probes;
struct exporter;

/*
 * Reads p (which must outlive it); link is what the verdicts are predicted at.
 * Holds BPF_ENABLE_STATS until exporter_free, so that the BPF run time of
 * vfmig's programs is counted only while something exports it. NULL when out
 * of memory.
 */
struct exporter *exporter_new(struct vfmig_probes *p, const struct live_link *link);
void exporter_free(struct exporter *x);

/* Reads every counter, histogram, device state and dirty window at time t (seconds). */
int exporter_refresh(struct exporter *x, double t);
/* Predicts each VM with measured windows (model_predict, model_tune): once an interval. */
void exporter_predict(struct exporter *x);

/* The last refresh's figures as Prometheus text (version 0.0.4). */
void exporter_prom(struct exporter *x, FILE *f);
/* The same as one JSON object and a newline ("version", "t", "host", "devices", "vms", ...). */
void exporter_json(struct exporter *x, FILE *f);

/* Whether BPF run-time statistics are on (BPF_ENABLE_STATS was granted). */
bool exporter_bpf_stats(const struct exporter *x);

#endif
