// SPDX-License-Identifier: GPL-2.0
/*
 * The report's figures besides the migrations: latency histograms per arc
 * (the last snapshot's), the dirty rate over time by source (between
 * snapshots, and per harvest window), the top dirtiers and each device's
 * pre-copy data growth (its PRECOPY_INFO answers).
 */
#include <stdlib.h>
#include <string.h>

#include "probe/aggregate.h"
#include "report/report.h"
#include "report/report_json.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define TOP 5

static const char *dev_name(const struct report *r, uint64_t key)
{
	size_t i;

	for (i = 0; i < r->ndevs; i++)
		if (r->dev[i].key == key && r->dev[i].name[0])
			return r->dev[i].name;
	return "?";
}

static json_object *latency_one(const struct report *r, json_object *h)
{
	json_object *o = json_object_new_object(), *v, *slots;
	struct vfmig_hist hist = {0};
	int kind = 0, from = 0, to = 0;
	char arc[40];
	size_t i;

	if (json_object_object_get_ex(h, "kind", &v))
		kind = json_object_get_int(v);
	if (json_object_object_get_ex(h, "from", &v))
		from = json_object_get_int(v);
	if (json_object_object_get_ex(h, "to", &v))
		to = json_object_get_int(v);
	if (json_object_object_get_ex(h, "count", &v))
		hist.count = json_object_get_uint64(v);
	if (json_object_object_get_ex(h, "max_ns", &v))
		hist.max_ns = json_object_get_uint64(v);
	if (json_object_object_get_ex(h, "slots", &slots) &&
	    json_object_is_type(slots, json_type_array))
		for (i = 0; i < json_object_array_length(slots) && i < VFMIG_HIST_SLOTS; i++)
			hist.slots[i] = json_object_get_uint64(json_object_array_get_idx(slots, i));
	json_object_object_get_ex(h, "dev", &v);
	ADD(o, "device", json_object_new_string(dev_name(r, json_object_get_uint64(v))));
	ADD(o, "what", json_object_new_string(kind == VFMIG_H_STATE_SET ? "request" : "step"));
	snprintf(arc, sizeof(arc), "%s->%s", report_state_name((uint8_t)from),
		 report_state_name((uint8_t)to));
	ADD(o, "arc", json_object_new_string(arc));
	json_object_object_get_ex(h, "result", &v);
	ADD(o, "result", json_object_new_int(json_object_get_int(v)));
	ADD(o, "count", json_object_new_uint64(hist.count));
	ADD(o, "p50_ns", json_object_new_uint64(agg_percentile(&hist, 0.5)));
	ADD(o, "p99_ns", json_object_new_uint64(agg_percentile(&hist, 0.99)));
	ADD(o, "max_ns", json_object_new_uint64(hist.max_ns));
	ADD(o, "slots", json_object_get(slots));
	return o;
}

static int by_device_arc(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	static const char *const keys[] = {"device", "what", "arc"};
	size_t i;
	int c;

	for (i = 0; i < 3; i++) {
		c = strcmp(json_object_get_string(json_object_object_get(x, keys[i])),
			   json_object_get_string(json_object_object_get(y, keys[i])));
		if (c)
			return c;
	}
	return 0;
}

static json_object *latency(const struct report *r)
{
	json_object *l = json_object_new_array(), *snap, *hists, *v;
	size_t i;

	snap = r->last_snapshot ? json_tokener_parse(r->last_snapshot) : NULL;
	if (!snap || !json_object_object_get_ex(snap, "hists", &hists) ||
	    !json_object_is_type(hists, json_type_array)) {
		json_object_put(snap);
		return l;
	}
	for (i = 0; i < json_object_array_length(hists); i++) {
		json_object *h = json_object_array_get_idx(hists, i);
		int kind = json_object_object_get_ex(h, "kind", &v) ? json_object_get_int(v) : 0;

		if (kind == VFMIG_H_STATE_SET || kind == VFMIG_H_FSM_STEP)
			json_object_array_add(l, latency_one(r, h));
	}
	json_object_array_sort(l, by_device_arc);
	json_object_put(snap);
	return l;
}

/* Per snapshot interval: pages per second by source (vCPU write faults, each bitmap interface). */
static json_object *dirty_rate(const struct report *r)
{
	static const char *const iface[VFMIG_IFACE_NR] = {"qemu", "type1", "dma_log", "iommufd",
							  "kvm"};
	json_object *l = json_object_new_array();
	size_t i;
	int k;

	for (i = 1; i < r->nsnaps; i++) {
		const struct rep_snapshot *a = &r->snaps[i - 1], *b = &r->snaps[i];
		double s = (double)(b->t_ns - a->t_ns) / 1e9;
		json_object *o;

		if (s <= 0)
			continue;
		o = json_object_new_object();
		ADD(o, "t_s", json_object_new_double((double)(b->t_ns - r->snaps[0].t_ns) / 1e9));
		ADD(o, "vcpu_faults_per_s",
		    json_object_new_double((double)(b->host[VFMIG_C_WRITE_FAULTS] -
						    a->host[VFMIG_C_WRITE_FAULTS]) /
					   s));
		for (k = 0; k < VFMIG_IFACE_NR; k++) {
			char key[40];
			int c = VFMIG_C_BITMAP_DIRTY + k;

			snprintf(key, sizeof(key), "%s_pages_per_s", iface[k]);
			ADD(o, key, json_object_new_double((double)(b->host[c] - a->host[c]) / s));
		}
		json_object_array_add(l, o);
	}
	return l;
}

/* Per harvest window: the vCPUs' first write faults per second in it. */
static json_object *window_rate(const struct report *r)
{
	json_object *l = json_object_new_array();
	uint64_t t0 = r->nwin ? r->win[0].t_start_ns : 0;
	size_t i;

	for (i = 0; i < r->nwin; i++) {
		const struct vfmig_dirty_window *w = &r->win[i];
		json_object *o = json_object_new_object();

		ADD(o, "pid", json_object_new_int64(w->pid));
		ADD(o, "t_s", json_object_new_double((double)(w->t_start_ns - t0) / 1e9));
		ADD(o, "ms", json_object_new_double((double)w->t_len_ns / 1e6));
		ADD(o, "pages", json_object_new_uint64(w->faults));
		ADD(o, "pages_per_s",
		    json_object_new_double(
			    w->t_len_ns ? (double)w->faults * 1e9 / (double)w->t_len_ns : 0));
		json_object_array_add(l, o);
	}
	return l;
}

struct tally {
	uint64_t key, len, pages;
};

static int by_pages(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->pages < y->pages ? 1 : x->pages > y->pages ? -1 : 0;
}

static json_object *top_list(struct tally *t, size_t n, const char *kind, const struct report *r)
{
	json_object *l = json_object_new_array();
	size_t i;

	qsort(t, n, sizeof(*t), by_pages);
	for (i = 0; i < n && i < TOP && t[i].pages; i++) {
		json_object *o = json_object_new_object();
		char what[96];

		if (!strcmp(kind, "device"))
			snprintf(what, sizeof(what), "%s", dev_name(r, t[i].key));
		else if (!strcmp(kind, "process"))
			snprintf(what, sizeof(what), "pid %llu", (unsigned long long)t[i].key);
		else
			snprintf(what, sizeof(what), "0x%llx+%llu", (unsigned long long)t[i].key,
				 (unsigned long long)t[i].len);
		ADD(o, kind, json_object_new_string(what));
		ADD(o, "pages", json_object_new_uint64(t[i].pages));
		json_object_array_add(l, o);
	}
	return l;
}

/* Devices by dirty pages reported (and pinned), processes and ranges by vCPU write faults. */
static json_object *top(const struct report *r)
{
	size_t n = r->ndevs > r->nwin ? r->ndevs : r->nwin, i, j, np = 0, nr = 0;
	struct tally *d = calloc(n + 1, sizeof(*d)), *p = calloc(n + 1, sizeof(*p));
	struct tally *g = calloc(n + 1, sizeof(*g));
	json_object *o = json_object_new_object();

	if (!d || !p || !g)
		goto out;
	for (i = 0; i < r->ndevs; i++)
		d[i] = (struct tally){r->dev[i].key, 0,
				      r->dev[i].dirty_pages + r->dev[i].pinned_pages};
	for (i = 0; i < r->nwin; i++) {
		const struct vfmig_dirty_window *w = &r->win[i];

		for (j = 0; j < np && p[j].key != w->pid; j++)
			;
		if (j == np)
			p[np++] = (struct tally){w->pid, 0, 0};
		p[j].pages += w->faults;
		for (j = 0; j < nr && (g[j].key != w->start || g[j].len != w->len); j++)
			;
		if (j == nr)
			g[nr++] = (struct tally){w->start, w->len, 0};
		g[j].pages += w->faults;
	}
	ADD(o, "devices", top_list(d, r->ndevs, "device", r));
	ADD(o, "processes", top_list(p, np, "process", r));
	ADD(o, "ranges", top_list(g, nr, "range", r));
out:
	free(d);
	free(p);
	free(g);
	return o;
}

static json_object *precopy_growth(const struct report *r)
{
	json_object *l = json_object_new_array();
	size_t i, j;

	for (i = 0; i < r->ndevs; i++) {
		const struct rep_device *d = &r->dev[i];
		json_object *o, *pts;

		if (!d->nsizes)
			continue;
		o = json_object_new_object();
		pts = json_object_new_array();
		ADD(o, "device", json_object_new_string(d->name));
		for (j = 0; j < d->nsizes; j++) {
			json_object *p = json_object_new_object();

			ADD(p, "t_ns", json_object_new_uint64(d->sizes[j].t_ns));
			ADD(p, "initial_bytes", json_object_new_uint64(d->sizes[j].initial));
			ADD(p, "dirty_bytes", json_object_new_uint64(d->sizes[j].dirty));
			json_object_array_add(pts, p);
		}
		ADD(o, "points", pts);
		json_object_array_add(l, o);
	}
	return l;
}

void report_json_figures(const struct report *r, json_object *o)
{
	ADD(o, "latency", latency(r));
	ADD(o, "dirty_rate", dirty_rate(r));
	ADD(o, "harvest_windows_rate", window_rate(r));
	ADD(o, "top", top(r));
	ADD(o, "precopy_growth", precopy_growth(r));
}
