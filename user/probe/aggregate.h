/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Turning the probes' maps into figures: counter totals, histograms,
 * percentiles, and per interval the counters of each device, each VM (a
 * process and its devices) and the host, as totals, deltas and rates. Every
 * tool reads its figures here.
 */
#ifndef VFMIG_PROBE_AGGREGATE_H
#define VFMIG_PROBE_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "probe/loader.h"

/* Sums every counter over the CPUs into out[VFMIG_C_NR]. */
int agg_counters(struct vfmig_probes *p, uint64_t *out);

struct agg_hist {
	struct vfmig_hist_key key;
	struct vfmig_hist h;
};

/* Up to max histograms; returns how many. */
int agg_hists(struct vfmig_probes *p, struct agg_hist *out, int max);
/* The upper bound (ns) of the bucket holding quantile q (0..1), 0 if empty. */
uint64_t agg_percentile(const struct vfmig_hist *h, double q);
const char *agg_counter_name(int idx);

/* Every device the probes know of (state, histograms, names seen, counters), sorted; returns how
 * many. */
int agg_devices(struct vfmig_probes *p, uint64_t *out, int max);
/* What the probes saw of dev: 0, or -ENOENT. */
int agg_dev_state(struct vfmig_probes *p, uint64_t dev, struct vfmig_dev_state *st);
int agg_dev_seen(struct vfmig_probes *p, uint64_t dev, struct vfmig_dev_name *seen);
/* The VM name the probes read for pid (vfmig-emu --name): 0, or -ENOENT. */
int agg_vm_name(struct vfmig_probes *p, uint32_t pid, char *out, size_t len);
/* The process a device key belongs to; 0 for a kernel device. */
uint32_t agg_dev_pid(uint64_t dev);

/* One thing's counters: since the probes attached, and in the last interval. */
struct agg_figures {
	uint64_t total[VFMIG_C_NR];
	uint64_t delta[VFMIG_C_NR];
};

struct agg_entity {
	uint64_t key; /* a device key, or a VM's pid */
	struct agg_figures f;
};

/* The figures at the end of an interval; agg_step reads the next. */
struct agg_view {
	double t, seconds; /* when read (the caller's clock), and the interval's length */
	struct agg_figures host;
	int ndevs, nvms; /* sorted by key */
	struct agg_entity devs[VFMIG_MAX_DEVICES];
	struct agg_entity vms[VFMIG_MAX_PROCS];
};

struct agg_view *agg_view_new(void);
void agg_view_free(struct agg_view *v);
/* Reads every counter at time t (seconds): deltas since the last step, or since attach. */
int agg_step(struct vfmig_probes *p, struct agg_view *v, double t);
const struct agg_figures *agg_device(const struct agg_view *v, uint64_t dev);
const struct agg_figures *agg_vm(const struct agg_view *v, uint32_t pid);
/* Counter idx per second over the last interval (0 for an empty one). */
double agg_rate(const struct agg_view *v, const struct agg_figures *f, int idx);

#endif
