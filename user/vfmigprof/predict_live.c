// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof predict's source 2: a live VM measured through the probes for
 * the window asked (at most), then its devices' pre-copy sizes (a flag, or
 * on an emulated VM the RUNNING -> PRE_COPY -> RUNNING query it runs on
 * SIGUSR1, after the window: while measuring, no device changes state), and
 * this host's driver costs measured on scratch memory.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "live/live.h"
#include "migration/predict.h"
#include "probe/aggregate.h"
#include "probe/dirty_window.h"
#include "vfmigprof/predict.h"

#define QUERY_WAIT_S 5.0
#define MAX_INFOS 4

/* What the events said while measuring and while the devices were queried. */
struct live_watch {
	uint32_t pid;
	bool querying;
	unsigned int sets; /* state requests on pid's devices while measuring */
	unsigned int ndevs;
	struct {
		uint64_t dev;
		unsigned int n;
		double t_s[MAX_INFOS], initial[MAX_INFOS], dirty[MAX_INFOS];
	} info[MODEL_MAX_DEVICES];
};

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct live_watch *w = ctx;
	unsigned int i;

	if (e->pid != w->pid)
		return 0;
	if (!w->querying && (e->type == VFMIG_EV_STATE_SET || e->type == VFMIG_EV_DATA_READ))
		w->sets++;
	if (!w->querying || e->type != VFMIG_EV_PRECOPY_INFO || e->result)
		return 0;
	for (i = 0; i < w->ndevs && w->info[i].dev != e->dev; i++)
		;
	if (i == w->ndevs && w->ndevs < MODEL_MAX_DEVICES)
		w->info[w->ndevs++].dev = e->dev;
	if (i < w->ndevs && w->info[i].n < MAX_INFOS) {
		unsigned int k = w->info[i].n++;

		w->info[i].t_s[k] = e->ts_ns / 1e9;
		w->info[i].initial[k] = (double)e->a;
		w->info[i].dirty[k] = (double)e->b;
	}
	return 0;
}

static pid_t vm_pid(const struct predict_req *r, const struct prof_session *s)
{
	return r->t.pid ? r->t.pid : s->child;
}

/* Until the window is over, the VM ends, or Ctrl-C. */
static double measure(struct predict_req *r, struct prof_session *s, struct dirty_windows *dw,
		      struct live_watch *w)
{
	double t0 = prof_now();
	int status;

	while (!prof_stop && prof_now() - t0 < r->window_s) {
		probes_poll(s->probes, 100, on_event, w);
		dirty_windows_poll(dw, 0);
		if (prof_target_ended(&r->t, s, &status))
			break;
	}
	probes_poll(s->probes, 0, on_event, w);
	dirty_windows_poll(dw, 0);
	return prof_now() - t0;
}

/* Only vfmig-emu answers SIGUSR1 with a query: any other process may die of it. */
static bool is_vfmig_emu(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = 0;
	n = (ssize_t)strlen(exe);
	return n >= 9 && !strcmp(exe + n - 9, "vfmig-emu");
}

/*
 * The emulated VM's answer to SIGUSR1, at its next harvest: three
 * PRECOPY_INFOs per PRE_COPY device (none when it has no such device).
 */
static void query_devices(struct prof_session *s, struct live_watch *w, pid_t pid,
			  double window_len_s)
{
	double t0 = prof_now(), first = 1.5 + window_len_s;
	unsigned int i, done;

	w->querying = true;
	if (!is_vfmig_emu(pid) || kill(pid, SIGUSR1))
		return;
	do {
		probes_poll(s->probes, 50, on_event, w);
		for (i = done = 0; i < w->ndevs; i++)
			done += w->info[i].n >= 3;
		if (!w->ndevs && prof_now() - t0 > first)
			break;
	} while (!prof_stop && (!w->ndevs || done < w->ndevs) && prof_now() - t0 < QUERY_WAIT_S);
}

static void apply_sizes(const struct predict_req *r, const struct live_watch *w,
			struct live_measure *m)
{
	unsigned int i, j;

	for (i = 0; i < m->ndevs; i++) {
		struct live_device *d = &m->dev[i];

		if (r->precopy_bytes >= 0) {
			d->initial_bytes = r->precopy_bytes;
			d->sizes = LIVE_SIZE_FLAG;
			continue;
		}
		for (j = 0; j < w->ndevs && w->info[j].dev != d->key; j++)
			;
		if (j == w->ndevs || w->info[j].n < 3) {
			d->sizes = d->precopy ? LIVE_SIZE_NONE : d->sizes;
			continue;
		}
		d->precopy = true;
		d->initial_bytes = w->info[j].initial[0];
		d->dirty_bps = fmax(0, w->info[j].dirty[2] - w->info[j].dirty[1]) /
			       fmax(w->info[j].t_s[2] - w->info[j].t_s[1], 1e-3);
		d->sizes = LIVE_SIZE_QUERY;
	}
}

static int fail(const char *what, int ret)
{
	fprintf(stderr, "vfmigprof: %s\n", what);
	return ret;
}

static int build_inputs(struct predict_req *r, struct dirty_windows *dw, struct live_measure *m,
			struct model_inputs *in)
{
	struct live_link l = {.engine = ENGINE_VFMIG,
			      .cap_bps = r->cap_bps,
			      .downtime_s = r->downtime_s,
			      .max_rounds = r->max_rounds};
	struct predict_costs c;
	char err[256];
	size_t len;

	predict_measure_costs(&c);
	l.link_bps = c.link_bps;
	if (live_inputs(dw, m, &l, in, err, sizeof(err)))
		return fail(err, 1);
	predict_apply_costs(&c, in);
	len = strlen(in->source);
	snprintf(in->source + len, sizeof(in->source) - len, "; device sizes: %s",
		 !m->ndevs ? "no device"
			   : live_size_origin_name(m->dev[0].sizes == LIVE_SIZE_NONE && m->ndevs > 1
							   ? m->dev[1].sizes
							   : m->dev[0].sizes));
	return 0;
}

static int measure_vm(struct predict_req *r, struct prof_session *s, struct model_inputs *in)
{
	static struct live_watch w;
	struct live_measure m = {0};
	struct dirty_windows *dw;
	char err[256], line[200];
	uint64_t windows;
	int ret;

	dw = dirty_windows_open(s->probes, err, sizeof(err));
	if (!dw)
		return fail(err, 1);
	memset(&w, 0, sizeof(w));
	w.pid = (uint32_t)vm_pid(r, s);
	prof_catch_signals();
	if (!prof_attached_go(s))
		return dirty_windows_close(dw), fail("cannot start PROGRAM", 1);
	m.window_s = measure(r, s, dw, &w);
	m.pid = w.pid = (uint32_t)vm_pid(r, s) ? (uint32_t)vm_pid(r, s) : w.pid;
	if (w.sets) {
		snprintf(line, sizeof(line),
			 "pid %u changed device states or streamed device data while measured "
			 "(%u requests): a migration ran; predict before migrating",
			 w.pid, w.sets);
		return dirty_windows_close(dw), fail(line, 1);
	}
	windows = dirty_windows_count(dw, w.pid);
	if (r->precopy_bytes < 0) /* devices set up before the probes came are known after it */
		query_devices(s, &w, (pid_t)w.pid, windows ? m.window_s / (double)windows : 1);
	live_devices(s->probes, w.pid, &m);
	apply_sizes(r, &w, &m);
	ret = build_inputs(r, dw, &m, in);
	dirty_windows_close(dw);
	return ret;
}

int predict_live_inputs(struct predict_req *r, struct model_inputs *in)
{
	struct prof_session s;
	int ret = prof_target_check(&r->t);

	if (ret)
		return ret;
	if (prof_attach(&r->t, &s))
		return 1;
	ret = measure_vm(r, &s, in);
	prof_detach(&s);
	return ret;
}
