// SPDX-License-Identifier: GPL-2.0
/*
 * The model's prediction for a recorded migration, from what the probes had
 * measured before its first state SET: the harvest windows closed by then,
 * each device's last PRE_COPY sizes, and the link and limits its command
 * line gave. vfmig-emu migrate arms dirty tracking at the migration's start,
 * so no window closes before it; the prediction then uses the windows of the
 * pre-copy rounds, before the pause, and says so.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "live/live.h"
#include "probe/dirty_window.h"
#include "report/report.h"
#include "vfmig/uapi.h"

/* --bandwidth MB/s, --downtime MS and -r/--rounds N of the recorded command, when given. */
static void link_from_cmdline(const char *header, struct live_link *l)
{
	json_object *o = json_tokener_parse(header), *cmd;
	size_t i, n;

	*l = (struct live_link){.engine = ENGINE_VFMIG,
				.cap_bps = -1,
				.link_bps = -1,
				.downtime_s = -1,
				.max_rounds = -1};
	l->cap_bps = 1000e6; /* vfmig-emu migrate's defaults */
	l->downtime_s = 0.3;
	if (!o || !json_object_object_get_ex(o, "cmdline", &cmd)) {
		json_object_put(o);
		return;
	}
	n = json_object_array_length(cmd);
	for (i = 0; i + 1 < n; i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(cmd, i));
		const char *v = json_object_get_string(json_object_array_get_idx(cmd, i + 1));

		if (!k || !v)
			continue;
		if (!strcmp(k, "--bandwidth"))
			l->cap_bps = atof(v) * 1e6;
		else if (!strcmp(k, "--downtime"))
			l->downtime_s = atof(v) / 1e3;
		else if (!strcmp(k, "--rounds") || !strcmp(k, "-r"))
			l->max_rounds = atoi(v);
	}
	json_object_put(o);
}

static bool enters_precopy(const struct rep_device *d)
{
	size_t i;

	for (i = 0; i < d->nsets; i++)
		if (d->sets[i].to == VFIO_DEVICE_STATE_PRE_COPY)
			return true;
	return false;
}

static void measure_devices(const struct report *r, const struct rep_migration *m, uint64_t cutoff,
			    struct live_measure *lm)
{
	size_t i, j;

	for (i = 0; i < r->nevents && r->ev[i].ts_ns < cutoff; i++)
		live_dma_event(lm, &r->ev[i]);
	for (i = 0; i < r->ndevs && lm->ndevs < MODEL_MAX_DEVICES; i++) {
		const struct rep_device *d = &r->dev[i];
		struct live_device *x;

		if (d->pid != m->pid || !vfmig_dev_is_emu(d->key) ||
		    vfmig_dev_emu_kind(d->key) != VFMIG_OBJ_DEVICE)
			continue;
		x = &lm->dev[lm->ndevs++];
		memset(x, 0, sizeof(*x));
		x->key = d->key;
		snprintf(x->name, sizeof(x->name), "%s", d->name);
		x->precopy = enters_precopy(d);
		x->pinned_pages = (double)d->pinned_pages;
		for (j = 0; j < d->nsizes && d->sizes[j].t_ns < cutoff; j++) {
			x->initial_bytes = (double)d->sizes[j].initial;
			x->sizes = LIVE_SIZE_RECORDING;
		}
	}
}

/* Windows of pid closed before cutoff into a fresh set; how many. */
static size_t windows_before(const struct report *r, uint32_t pid, uint64_t cutoff,
			     struct dirty_windows *dw, uint64_t *first)
{
	size_t i, n = 0;

	for (i = 0; i < r->nwin; i++) {
		const struct vfmig_dirty_window *w = &r->win[i];

		if (w->pid != pid || w->t_start_ns + w->t_len_ns >= cutoff)
			continue;
		if (!n || w->t_start_ns < *first)
			*first = w->t_start_ns;
		dirty_windows_add(dw, w);
		n++;
	}
	return n;
}

/* The inputs for pid from what was measured before cutoff: the windows used, or 0 (why set). */
static size_t inputs_before(const struct report *r, uint32_t pid, uint64_t cutoff,
			    const struct live_link *link, struct model_inputs *in, char *why,
			    size_t whylen)
{
	struct dirty_windows *dw = dirty_windows_new();
	struct live_measure lm = {.pid = pid};
	struct rep_migration m = {.pid = pid};
	uint64_t first = 0;
	size_t n;

	if (!dw) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	n = windows_before(r, pid, cutoff, dw, &first);
	if (!n) {
		snprintf(why, whylen, "no harvest window of pid %u recorded", pid);
	} else {
		lm.window_s = (double)(cutoff - first) / 1e9;
		measure_devices(r, &m, cutoff, &lm);
		if (live_inputs(dw, &lm, link, in, why, whylen))
			n = 0;
	}
	dirty_windows_close(dw);
	return n;
}

void report_predict(const struct report *r, struct rep_migration *m)
{
	struct live_link link;
	size_t n;

	link_from_cmdline(r->header, &link);
	n = inputs_before(r, m->pid, m->start_ns, &link, &m->in, m->predict_why,
			  sizeof(m->predict_why));
	snprintf(m->predict_from, sizeof(m->predict_from), "before the first state SET");
	if (!n) {
		n = inputs_before(r, m->pid, m->stop_ns, &link, &m->in, m->predict_why,
				  sizeof(m->predict_why));
		snprintf(m->predict_from, sizeof(m->predict_from),
			 "no harvest window closed before the first state SET: from the %zu of "
			 "pre-copy, before the pause",
			 n);
	}
	if (!n)
		return;
	m->predict_why[0] = 0;
	if (model_predict(&m->in, &m->pred))
		snprintf(m->predict_why, sizeof(m->predict_why), "%s", m->pred.why);
	else
		m->predicted = true;
}

/* The VM with the most harvest windows (of the first 64 seen). */
static uint32_t busiest_pid(const struct report *r)
{
	uint32_t pid[64], best = 0;
	size_t count[64], i, j, n = 0, most = 0;

	for (i = 0; i < r->nwin; i++) {
		for (j = 0; j < n && pid[j] != r->win[i].pid; j++)
			;
		if (j == n && n < 64) {
			pid[n] = r->win[i].pid;
			count[n++] = 0;
		}
		if (j < n && ++count[j] > most) {
			most = count[j];
			best = pid[j];
		}
	}
	return best;
}

int report_inputs_from_file(const char *path, uint32_t pid, const struct live_link *link,
			    struct model_inputs *in, char *err, size_t errlen)
{
	struct report r;
	struct live_link l;
	uint64_t start = UINT64_MAX, stop = UINT64_MAX;
	size_t i;
	int ret = report_load(path, &r, err, errlen);

	if (ret == 1)
		return 1;
	if (!pid)
		pid = busiest_pid(&r);
	for (i = 0; i < r.nmigs; i++) /* only what was measured before it migrated */
		if (r.mig[i].pid == pid && r.mig[i].start_ns < start) {
			start = r.mig[i].start_ns;
			stop = r.mig[i].stop_ns;
		}
	link_from_cmdline(r.header, &l);
	/* a migration that armed tracking itself: its pre-copy windows, before the pause */
	if (!inputs_before(&r, pid, start, link ? link : &l, in, err, errlen) &&
	    !inputs_before(&r, pid, stop, link ? link : &l, in, err, errlen))
		ret = 1;
	report_free(&r);
	return ret;
}
