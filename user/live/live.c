// SPDX-License-Identifier: GPL-2.0
/*
 * A live VM's model inputs from the probes. W(T) is measured only up to the
 * harvest windows' length; past it, the curve goes on as uniform writes over
 * a working set would (S(1 - e^(-rT/S))), S and r fitted to the measured
 * points: a sweep fits a huge S (linear), a small hot set a small one.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "live/live.h"
#include "vfmig/uapi.h"
#include "probe/aggregate.h"
#include "probe/devname.h"
#include "probe/dirty_window.h"

#define PAGE 4096.0
#define MAX_POINTS 512

const char *live_size_origin_name(enum live_size_origin o)
{
	static const char *const names[] = {"none", "given", "recording", "query"};

	return o <= LIVE_SIZE_QUERY ? names[o] : "?";
}

/* What a device, container or IOAS reported through the device dirty interfaces. */
static void add_dma(struct live_measure *m, const struct agg_figures *f)
{
	int k;

	for (k = VFMIG_IFACE_TYPE1; k <= VFMIG_IFACE_IOMMUFD; k++) {
		m->dma_queries += (double)f->total[VFMIG_C_BITMAP_QUERIES + k];
		m->dma_dirty_pages += (double)f->total[VFMIG_C_BITMAP_DIRTY + k];
	}
	if (f->total[VFMIG_C_MAP_BYTES] > f->total[VFMIG_C_UNMAP_BYTES])
		m->dma_mapped_pages += (double)(f->total[VFMIG_C_MAP_BYTES] -
						f->total[VFMIG_C_UNMAP_BYTES]) /
				       PAGE;
}

void live_dma_event(struct live_measure *m, const struct vfmig_event *e)
{
	if (e->pid != m->pid || e->result < 0)
		return;
	if (e->type == VFMIG_EV_MAP && e->c == 1)
		m->dma_mapped_pages += (double)e->b / PAGE;
	else if (e->type == VFMIG_EV_UNMAP && e->c == 1)
		m->dma_mapped_pages -= fmin((double)e->b / PAGE, m->dma_mapped_pages);
	else if (e->type == VFMIG_EV_BITMAP && e->from >= VFMIG_IFACE_TYPE1 &&
		 e->from <= VFMIG_IFACE_IOMMUFD) {
		m->dma_queries += 1;
		m->dma_dirty_pages += (double)e->d;
	}
}

unsigned int live_devices(struct vfmig_probes *p, uint32_t pid, struct live_measure *m)
{
	uint64_t keys[VFMIG_MAX_DEVICES];
	int n = agg_devices(p, keys, VFMIG_MAX_DEVICES), i;
	struct agg_view *v = agg_view_new();

	m->ndevs = 0;
	m->dma_queries = m->dma_dirty_pages = m->dma_mapped_pages = 0;
	if (v)
		agg_step(p, v, 0);
	for (i = 0; i < n && m->ndevs < MODEL_MAX_DEVICES; i++) {
		struct live_device *d = &m->dev[m->ndevs];
		const struct agg_figures *f = v ? agg_device(v, keys[i]) : NULL;
		struct vfmig_dev_state st;

		if (agg_dev_pid(keys[i]) != pid || !vfmig_dev_is_emu(keys[i]))
			continue;
		if (f)
			add_dma(m, f);
		if (vfmig_dev_emu_kind(keys[i]) != VFMIG_OBJ_DEVICE)
			continue;
		memset(d, 0, sizeof(*d));
		d->key = keys[i];
		devname_emu_id(keys[i], d->name, sizeof(d->name));
		if (!agg_dev_state(p, keys[i], &st)) {
			d->precopy = !st.features_known || st.features & VFIO_MIGRATION_PRE_COPY;
			d->initial_bytes = (double)st.precopy_initial;
			if (st.precopy_initial || st.precopy_dirty)
				d->sizes = LIVE_SIZE_QUERY;
		}
		if (f && f->total[VFMIG_C_PAGES_PINNED] > f->total[VFMIG_C_PAGES_UNPINNED])
			d->pinned_pages = (double)(f->total[VFMIG_C_PAGES_PINNED] -
						   f->total[VFMIG_C_PAGES_UNPINNED]);
		m->ndevs++;
	}
	agg_view_free(v);
	return m->ndevs;
}

/* r and S of S(1 - e^(-rT/S)) through the first point's slope and the last point. */
static void fit_uniform(const double *t, const double *w, size_t n, double *rate, double *ws)
{
	double r = w[0] / fmax(t[0], 1e-9), lo = w[n - 1], hi = 1e12, target = w[n - 1];
	size_t i;

	for (i = 1; i < n && t[i] < 4 * t[0]; i++) /* a steadier first slope */
		r = w[i] / t[i];
	*rate = r;
	if (r * t[n - 1] <= target * 1.001) { /* linear to the end: no saturation seen */
		*ws = hi;
		return;
	}
	for (i = 0; i < 100; i++) { /* W(T) rises with S: bisect */
		double s = sqrt(lo * hi);

		if (s * -expm1(-r * t[n - 1] / s) < target)
			lo = s;
		else
			hi = s;
	}
	*ws = sqrt(lo * hi);
}

/* At most MODEL_MAX_POINTS of the measured points, log-spaced in t. */
static void keep_points(struct model_curve *c, const double *t, const double *w, size_t n)
{
	size_t i, step = (n + MODEL_MAX_POINTS - 1) / MODEL_MAX_POINTS;

	c->n = 0;
	for (i = 0; i < n && c->n < MODEL_MAX_POINTS; i += step ? step : 1) {
		c->t_s[c->n] = t[i];
		c->units[c->n++] = w[i];
	}
	if (c->n && c->t_s[c->n - 1] < t[n - 1] && c->n < MODEL_MAX_POINTS) {
		c->t_s[c->n] = t[n - 1];
		c->units[c->n++] = w[n - 1];
	} else if (c->n) {
		c->t_s[c->n - 1] = t[n - 1];
		c->units[c->n - 1] = w[n - 1];
	}
}

static int vcpu_curve(const struct dirty_windows *dw, uint32_t pid, double ram_pages,
		      struct model_curve *c, char *err, size_t errlen)
{
	static double t[MAX_POINTS], w[MAX_POINTS];
	size_t n = dirty_window_curve(dw, pid, 0, t, w, MAX_POINTS), i;
	double rate, ws, last;

	if (!n) {
		snprintf(err, errlen,
			 "no harvest window of pid %u was seen (is it tracking dirty "
			 "pages? vfmig-emu run harvests every --harvest-ms)",
			 pid);
		return -1;
	}
	for (i = 0; i < n; i++)
		t[i] /= 1e3;
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "vcpu");
	c->unit_bytes = PAGE;
	c->origin = ORIGIN_MEASURED;
	keep_points(c, t, w, n);
	fit_uniform(t, w, n, &rate, &ws);
	ws = fmin(ws, ram_pages);
	last = c->t_s[c->n - 1];
	/* the fitted curve's slope where the measured one ends, falling off as it saturates */
	c->slope_after = rate * exp(-rate * last / fmax(ws, 1));
	c->cap = fmax(ws, c->units[c->n - 1]);
	return 0;
}

/*
 * The bytes a device rewrites in T: its growth measured over a short hold, as
 * uniform rewrites over its memory (S(1 - e^(-rT/S)), in bytes), log-spaced.
 */
static void device_curve(struct model_curve *c, unsigned int i, const struct live_device *d)
{
	double s = fmax(d->initial_bytes, 1), r = d->dirty_bps;
	unsigned int k;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "dev%u", i);
	c->unit_bytes = 1;
	c->n = 24;
	for (k = 0; k < c->n; k++) {
		c->t_s[k] = 1e-3 * pow(2, k); /* 1 ms to ~2.3 h */
		c->units[k] = s * -expm1(-r * c->t_s[k] / s);
	}
	c->cap = s;
	c->origin = ORIGIN_MEASURED;
}

static void add_devices(const struct live_measure *m, struct model_inputs *in)
{
	unsigned int i;

	for (i = 0; i < m->ndevs && in->ndevs < MODEL_MAX_DEVICES; i++) {
		const struct live_device *d = &m->dev[i];
		struct model_device *x = &in->dev[in->ndevs++];

		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", d->name);
		x->precopy = d->precopy;
		x->initial_bytes = d->initial_bytes;
		x->dirty_curve = -1;
		x->state_bytes = d->precopy ? 256 : 256 + d->initial_bytes;
		x->origin = d->sizes == LIVE_SIZE_FLAG ? ORIGIN_GIVEN : ORIGIN_MEASURED;
		if (d->pinned_pages > 0 && in->ncurves < MODEL_MAX_SOURCES) {
			struct model_curve *c = &in->curve[in->ncurves++];

			memset(c, 0, sizeof(*c));
			snprintf(c->name, sizeof(c->name), "dev%u", i);
			c->unit_bytes = PAGE;
			c->every_round = true;
			c->cap = d->pinned_pages;
			c->origin = ORIGIN_MEASURED;
		}
		if (d->dirty_bps > 0 && d->precopy && in->ncurves < MODEL_MAX_SOURCES) {
			device_curve(&in->curve[in->ncurves], i, d);
			x->dirty_curve = (int)in->ncurves++;
		}
	}
}

/*
 * The devices' DMA as their interfaces reported it per harvest: an IOMMU that
 * cannot see DMA reports every mapped page, every round; else the pages a
 * window of the harvests' length saw, no more past it. Pinned pages are
 * reported too: counted once, by the device that pinned them.
 */
static void dma_curve(const struct dirty_windows *dw, const struct live_measure *m,
		      struct model_inputs *in)
{
	double per = m->dma_queries ? m->dma_dirty_pages / m->dma_queries : 0, pinned = 0;
	uint64_t windows = dirty_windows_count(dw, m->pid);
	struct model_curve *c = &in->curve[in->ncurves];
	unsigned int i;

	for (i = 0; i < m->ndevs; i++)
		pinned += m->dev[i].pinned_pages;
	if (per <= pinned + 0.5 || in->ncurves >= MODEL_MAX_SOURCES || !windows)
		return;
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "dma");
	c->unit_bytes = PAGE;
	c->origin = ORIGIN_MEASURED;
	c->cap = per - pinned;
	if (m->dma_mapped_pages > 0 && per >= 0.9 * m->dma_mapped_pages) {
		c->every_round = true;
	} else {
		c->n = 1;
		c->t_s[0] = m->window_s / (double)windows;
		c->units[0] = per - pinned;
	}
	in->ncurves++;
}

int live_inputs(const struct dirty_windows *dw, const struct live_measure *m,
		const struct live_link *l, struct model_inputs *in, char *err, size_t errlen)
{
	double ram = (double)dirty_windows_bytes(dw, m->pid);

	memset(in, 0, sizeof(*in));
	if (ram <= 0) {
		snprintf(err, errlen,
			 "no harvest window of pid %u was seen: none of its RAM is tracked "
			 "(vfmig-emu run tracks with --harvest-ms above 0)",
			 m->pid);
		return -1;
	}
	in->engine = l->engine;
	in->ram_bytes = ram;
	in->page_bytes = PAGE;
	in->wire_bytes_per_page = PAGE + 8;
	in->cap_bps = l->cap_bps > 0 ? l->cap_bps : 0;
	in->link_bps = l->link_bps > 0 ? l->link_bps : 1e9;
	in->origin_link = l->link_bps > 0 ? ORIGIN_MEASURED : ORIGIN_ASSUMED;
	in->origin_costs = ORIGIN_ASSUMED;
	in->downtime_limit_s = l->downtime_s >= 0 ? l->downtime_s : 0.3;
	in->max_rounds = l->max_rounds >= 0	     ? (unsigned int)l->max_rounds
			 : l->engine == ENGINE_VFMIG ? 30
						     : 0;
	in->spread = dirty_windows_spread(dw, m->pid);
	in->dest_s = 0.0002;
	if (vcpu_curve(dw, m->pid, ram / PAGE, &in->curve[in->ncurves], err, errlen))
		return -1;
	in->ncurves++;
	add_devices(m, in);
	dma_curve(dw, m, in);
	snprintf(in->source, sizeof(in->source),
		 "probes on pid %u for %.1f s: %llu harvest windows over %.0f MiB, %u device(s)",
		 m->pid, m->window_s, (unsigned long long)dirty_windows_count(dw, m->pid),
		 ram / 1048576, m->ndevs);
	return 0;
}
