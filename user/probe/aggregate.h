/* SPDX-License-Identifier: GPL-2.0 */
/* Turning the probes' maps into figures: counter totals, histograms, percentiles. */
#ifndef VFMIG_PROBE_AGGREGATE_H
#define VFMIG_PROBE_AGGREGATE_H

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

/* Every device the probes know of (state, histograms, names seen), sorted; returns how many. */
int agg_devices(struct vfmig_probes *p, uint64_t *out, int max);
/* What the probes saw of dev: 0, or -ENOENT. */
int agg_dev_state(struct vfmig_probes *p, uint64_t dev, struct vfmig_dev_state *st);
int agg_dev_seen(struct vfmig_probes *p, uint64_t dev, struct vfmig_dev_name *seen);

#endif
