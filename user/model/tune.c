// SPDX-License-Identifier: GPL-2.0
/*
 * The baselines and the tuner. The geometric model (convergence.md 2.3) sees
 * one constant dirty rate, W(T) = r T, with r what the curves give at the
 * first round's length, and the same engine rules; QEMU's expected downtime
 * is what migration.c prints: the bytes left after a sync over the measured
 * bandwidth. The tuner bisects the simulation on one knob at a time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#define BISECT_STEPS 40
/* Recommendations sit this far on the safe side of the edge (0.8 of one is still 12% short of
 * it): a migration run exactly on the edge lands on either side by its own timing noise. */
#define MARGIN 0.10

int model_geometric(const struct model_inputs *in, struct model_result *out)
{
	static struct model_inputs v;
	double rate = in->cap_bps > 0 && in->cap_bps < in->link_bps ? in->cap_bps : in->link_bps;
	double t1 = in->ram_bytes / rate;
	unsigned int i;

	v = *in;
	for (i = 0; i < v.ncurves; i++) {
		struct model_curve *c = &v.curve[i];
		double per_s = c->every_round ? 0 : model_curve_at(c, t1) / t1;

		if (c->every_round)
			continue;
		c->n = 0;
		c->slope_after = per_s;
		c->cap = 0;
	}
	return model_predict(&v, out);
}

double model_qemu_expected_downtime(const struct model_inputs *in, const struct model_result *r)
{
	double rate = in->cap_bps > 0 && in->cap_bps < in->link_bps ? in->cap_bps : in->link_bps;
	const struct model_round *last = r->nrounds ? &r->round[r->nrounds - 1] : NULL;

	/*
	 * QEMU 7.2 migration_update_counters: "s->expected_downtime =
	 * ram_counters.remaining / bandwidth;", with migration_bitmap_sync's
	 * "ram_counters.remaining = ram_bytes_remaining();": what was pending at the
	 * last sync that did not fit (its last sample before "completed").
	 */
	if (in->engine != ENGINE_VFMIG && last && last->pending_bytes > 0)
		return last->pending_bytes / rate;
	/* ram_bytes_remaining() at the last sync: the dirty pages that round started with */
	return last ? last->dirty_pages * in->page_bytes / rate : in->ram_bytes / rate;
}

/* Converges within the engine's rules (and its round cap, forced switchovers do not count). */
static bool converges(const struct model_inputs *in, struct model_result *r)
{
	return !model_predict(in, r) && r->converged;
}

/* The least x in [lo, hi] for which set(x) converges, assuming it does at hi; 0 if not. */
static double least(const struct model_inputs *in, void (*set)(struct model_inputs *, double, int),
		    int arg, double lo, double hi, struct model_result *r)
{
	static struct model_inputs v;
	int i;

	v = *in;
	set(&v, hi, arg);
	if (!converges(&v, r))
		return 0;
	for (i = 0; i < BISECT_STEPS && hi - lo > hi * 1e-4; i++) {
		double mid = (lo + hi) / 2;

		v = *in;
		set(&v, mid, arg);
		if (converges(&v, r))
			hi = mid;
		else
			lo = mid;
	}
	hi *= 1 + MARGIN;
	v = *in;
	set(&v, hi, arg);
	converges(&v, r);
	return hi;
}

/* The greatest k in (0, 1] for which set(k) converges; 0 if none does. */
static double most(const struct model_inputs *in, void (*set)(struct model_inputs *, double, int),
		   int arg, struct model_result *r)
{
	static struct model_inputs v;
	double lo = 0, hi = 1;
	int i;

	v = *in;
	set(&v, 1e-6, arg);
	if (!converges(&v, r))
		return 0;
	for (i = 0; i < BISECT_STEPS; i++) {
		double mid = (lo + hi) / 2;

		v = *in;
		set(&v, mid, arg);
		if (converges(&v, r))
			lo = mid;
		else
			hi = mid;
	}
	lo = lo * (1 - MARGIN) > 1e-6 ? lo * (1 - MARGIN) : 1e-6;
	v = *in;
	set(&v, lo, arg);
	converges(&v, r);
	return lo;
}

static void set_cap(struct model_inputs *v, double bps, int unused)
{
	(void)unused;
	v->cap_bps = bps;
	if (v->link_bps < bps)
		v->link_bps = bps; /* a faster link is what more bandwidth means */
}

static void set_downtime(struct model_inputs *v, double s, int unused)
{
	(void)unused;
	v->downtime_limit_s = s;
}

static void set_vcpu(struct model_inputs *v, double k, int unused)
{
	unsigned int i;

	(void)unused;
	for (i = 0; i < v->ncurves; i++) {
		if (!strncmp(v->curve[i].name, "vcpu", 4))
			model_curve_scale_rate(&v->curve[i], k);
	}
}

static void set_device(struct model_inputs *v, double k, int dev)
{
	unsigned int i;
	char prefix[24];

	snprintf(prefix, sizeof(prefix), "dev%d", dev);
	for (i = 0; i < v->ncurves; i++) {
		if (!strcmp(v->curve[i].name, prefix))
			model_curve_scale_rate(&v->curve[i], k);
	}
}

/* The device whose curve dirties the most in the first round's time. */
static int top_device(const struct model_inputs *in)
{
	double best = 0, t = in->ram_bytes / (in->cap_bps > 0 ? in->cap_bps : in->link_bps);
	unsigned int i;
	int dev = -1;

	for (i = 0; i < in->ncurves; i++) {
		const struct model_curve *c = &in->curve[i];
		double bytes = model_curve_at(c, t) * c->unit_bytes;

		if (!strncmp(c->name, "dev", 3) && !c->every_round && bytes > best) {
			best = bytes;
			dev = atoi(c->name + 3);
		}
	}
	return dev;
}

void model_tune(const struct model_inputs *in, struct model_tuning *t)
{
	struct model_result r;
	double ram_s = in->ram_bytes * 64; /* a cap this high sends RAM 64 times a second */

	memset(t, 0, sizeof(*t));
	t->needed = !converges(in, &r);
	t->device = -1;
	t->bandwidth_bps = least(in, set_cap, 0, 1, ram_s, &t->at_bandwidth);
	t->downtime_s = least(in, set_downtime, 0, 1e-4, 3600, &t->at_downtime);
	t->vcpu_scale = most(in, set_vcpu, 0, &t->at_vcpu);
	t->device = top_device(in);
	if (t->device >= 0)
		t->device_scale = most(in, set_device, t->device, &t->at_device);
}
