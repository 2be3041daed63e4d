// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations rebuilt from the probes' events alone: a source process's
 * state requests mark the start (the first leaving RUNNING), the first stop
 * request and the end of stop-copy; its harvest windows mark the pre-copy
 * rounds (each round after the first opens with a harvest, and one more
 * decides the switchover); the destination is the process whose devices
 * were loaded (RESUMING -> STOP) after the pause. The downtime runs from the
 * pause (the source's vCPU pause where a probe saw it, else the first stop
 * request) to the destination's load, plus its resume: from its first
 * request back to RUNNING to its vCPUs set running (where seen, else the
 * sum of those requests). What the destination spends verifying between
 * load and resume is vfmig's own check, not the migration's.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vfio_state.h"
#include "report/report.h"
#include "vfmig/uapi.h"

#define HARVEST_GAP_NS 1000000ull	 /* windows closed this close together: one harvest */
#define HARVEST_CHAIN_NS 2000000000ull	 /* harvests further apart: tracking that stopped */
#define VCPU_PAUSE_LEAD_NS 1000000000ull /* a pause this long before the start: not its own */

const char *report_state_name(uint8_t s)
{
	return s == VFMIG_STATE_UNKNOWN ? "UNKNOWN" : vfio_state_name(s);
}

bool report_state_span(const struct rep_device *d, size_t i, uint64_t t_end, uint64_t *in,
		       uint64_t *out)
{
	const struct rep_arc *a = &d->arcs[i];

	*in = a->start_ns + a->ns;
	*out = i + 1 < d->narcs ? d->arcs[i + 1].start_ns : t_end;
	if (*out < *in)
		*out = *in;
	return !a->result;
}

static bool is_stop_request(uint8_t to)
{
	return to == VFIO_DEVICE_STATE_RUNNING_P2P || to == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       to == VFIO_DEVICE_STATE_STOP || to == VFIO_DEVICE_STATE_STOP_COPY;
}

/*
 * From an unknown state into one a save passes through but a destination or
 * a plain stop may too (QEMU stops a stop-copy-only device before STOP_COPY):
 * a save only if STOP_COPY follows.
 */
static bool may_start_save(const struct vfmig_event *e)
{
	return e->from == VFMIG_STATE_UNKNOWN &&
	       (e->to == VFIO_DEVICE_STATE_STOP || e->to == VFIO_DEVICE_STATE_RUNNING_P2P ||
		e->to == VFIO_DEVICE_STATE_PRE_COPY_P2P);
}

/*
 * A request that starts a save: from RUNNING, or from a state the probes did
 * not know yet (a device opened before they came) into one only a save enters.
 */
static bool leaves_running(const struct vfmig_event *e)
{
	if (e->from == VFIO_DEVICE_STATE_RUNNING)
		return e->to != VFIO_DEVICE_STATE_RESUMING && e->to != VFIO_DEVICE_STATE_RUNNING;
	return e->from == VFMIG_STATE_UNKNOWN &&
	       (e->to == VFIO_DEVICE_STATE_PRE_COPY || e->to == VFIO_DEVICE_STATE_STOP_COPY ||
		may_start_save(e));
}

static struct rep_migration *new_migration(struct report *r, uint32_t pid, uint64_t start)
{
	struct rep_migration *p = realloc(r->mig, (r->nmigs + 1) * sizeof(*p));

	if (!p)
		return NULL;
	r->mig = p;
	p += r->nmigs++;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->start_ns = start;
	return p;
}

/* Drops the last migration: a save that never was (cancelled, or no STOP_COPY came). */
static void drop_last(struct report *r)
{
	r->nmigs--;
}

/* The migrations whose source is pid, from its devices' requests in time order. */
static void source_migrations(struct report *r, uint32_t pid)
{
	struct rep_migration *m = NULL;
	bool provisional = false;
	size_t i;

	for (i = 0; i < r->nevents; i++) {
		const struct vfmig_event *e = &r->ev[i];
		uint64_t start = e->ts_ns - e->a;

		if (e->type != VFMIG_EV_STATE_SET || e->pid != pid || e->result)
			continue;
		if (!m && leaves_running(e)) {
			m = new_migration(r, pid, start);
			provisional = may_start_save(e);
		}
		if (!m)
			continue;
		if ((provisional && e->to == VFIO_DEVICE_STATE_RESUMING) ||
		    (!m->stopped_ns && e->to == VFIO_DEVICE_STATE_RUNNING)) {
			drop_last(r); /* a destination, or a migration cancelled before stop-copy */
			m = NULL;
			continue;
		}
		if (!m->stop_ns && is_stop_request(e->to) && !leaves_running(e))
			m->stop_ns = start;
		if (!m->stop_ns && leaves_running(e) && e->to != VFIO_DEVICE_STATE_PRE_COPY)
			m->stop_ns = start;
		if (e->to == VFIO_DEVICE_STATE_STOP_COPY)
			m->stopped_ns = e->ts_ns;
		if (e->from == VFIO_DEVICE_STATE_STOP_COPY && e->to == VFIO_DEVICE_STATE_STOP) {
			m->end_ns = e->ts_ns;
			if (i + 1 >= r->nevents || r->ev[i + 1].type != VFMIG_EV_STATE_SET ||
			    r->ev[i + 1].from != VFIO_DEVICE_STATE_STOP_COPY)
				m = NULL; /* the next request leaving RUNNING starts another */
		}
	}
	if (m && provisional && !m->stopped_ns)
		drop_last(r);
}

/* The latest dirty-tracking start of m's source before its first request, since after; or 0. */
static uint64_t last_tracking_on(const struct report *r, const struct rep_migration *m,
				 uint64_t after)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < r->nevents && r->ev[i].ts_ns < m->start_ns; i++) {
		const struct vfmig_event *e = &r->ev[i];

		if (e->type == VFMIG_EV_TRACKING && (e->to & 1) && e->pid == m->pid &&
		    e->ts_ns > after)
			t = e->ts_ns - e->a;
	}
	return t;
}

static int by_start_desc(const void *a, const void *b)
{
	const struct vfmig_dirty_window *x = a, *y = b;

	return x->t_start_ns < y->t_start_ns ? 1 : x->t_start_ns > y->t_start_ns ? -1 : 0;
}

/*
 * Where the source's harvest windows leading up to t began: back through
 * windows that follow one another closely, not to tracking that ran long
 * before (a display's dirty log, an earlier measurement).
 */
static uint64_t harvests_since(const struct report *r, uint32_t pid, uint64_t after, uint64_t t)
{
	struct vfmig_dirty_window *w = malloc((r->nwin + 1) * sizeof(*w));
	size_t i, n = 0;

	if (!w)
		return t;
	for (i = 0; i < r->nwin; i++)
		if (r->win[i].pid == pid && r->win[i].t_start_ns > after &&
		    r->win[i].t_start_ns < t)
			w[n++] = r->win[i];
	qsort(w, n, sizeof(*w), by_start_desc);
	for (i = 0; i < n && w[i].t_start_ns + w[i].t_len_ns + HARVEST_CHAIN_NS >= t; i++)
		if (w[i].t_start_ns < t)
			t = w[i].t_start_ns;
	free(w);
	return t;
}

/*
 * A migration starts with its dirty tracking: a device leaves RUNNING only at
 * stop-copy when none has PRE_COPY, and RAM's pre-copy has run since tracking
 * began. Where a TRACKING start of the source's was seen since its previous
 * migration, there; else where its closely spaced harvest windows began.
 */
static void tracking_start(const struct report *r, struct rep_migration *m, uint64_t after)
{
	uint64_t on = last_tracking_on(r, m, after);

	if (on && on < m->start_ns)
		m->start_ns = on;
	else if (!on)
		m->start_ns = harvests_since(r, m->pid, after, m->start_ns);
}

/*
 * The source's vCPU pause this migration's downtime starts at: the last one
 * asked before its first stop request, after its previous migration and not
 * long before its start, with no resume since (QEMU pauses just before its
 * stop-copy-only devices leave RUNNING; a VM paused long before it migrated
 * was not paused by the migration).
 */
static void vcpu_pause(const struct report *r, struct rep_migration *m, uint64_t after)
{
	uint64_t from = m->start_ns > after + VCPU_PAUSE_LEAD_NS ? m->start_ns - VCPU_PAUSE_LEAD_NS
								 : after;
	size_t i;

	for (i = 0; i < r->nevents && r->ev[i].ts_ns <= m->stop_ns; i++) {
		const struct vfmig_event *e = &r->ev[i];

		if (e->pid != m->pid || e->ts_ns < from)
			continue;
		if (e->type == VFMIG_EV_VCPU_PAUSE) {
			m->vcpu_pause_ns = e->ts_ns - e->a;
			m->vcpus = (uint32_t)e->b;
		} else if (e->type == VFMIG_EV_VCPU_RESUME) {
			m->vcpu_pause_ns = 0;
		}
	}
	m->pause_ns = m->vcpu_pause_ns ? m->vcpu_pause_ns : m->stop_ns;
}

/* The destination's vCPUs set running: the first time after the pause. */
static uint64_t vcpu_resume(const struct report *r, const struct rep_migration *m)
{
	size_t i;

	for (i = 0; i < r->nevents; i++) {
		const struct vfmig_event *e = &r->ev[i];

		if (e->type == VFMIG_EV_VCPU_RESUME && e->pid == m->dest_pid &&
		    e->ts_ns - e->a >= m->pause_ns)
			return e->ts_ns - e->a;
	}
	return 0;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	return m > c ? m : c;
}

/* The destination: the process whose devices were loaded first after the pause. */
static void destination(struct report *r, struct rep_migration *m)
{
	uint64_t end;
	size_t i;

	for (i = 0; i < r->nevents; i++) {
		const struct vfmig_event *e = &r->ev[i];

		if (e->type != VFMIG_EV_STATE_SET || e->result || e->pid == m->pid ||
		    e->ts_ns < m->stop_ns)
			continue;
		if (e->from == VFIO_DEVICE_STATE_RESUMING &&
		    (!m->dest_pid || e->pid == m->dest_pid)) {
			m->dest_pid = e->pid;
			m->loaded_ns = e->ts_ns;
		} else if (m->dest_pid == e->pid && e->to == VFIO_DEVICE_STATE_RUNNING &&
			   e->ts_ns > m->loaded_ns) {
			m->resume_ns += e->a;
			m->running_ns = e->ts_ns;
			m->run_ns = m->run_ns ? m->run_ns : e->ts_ns - e->a;
		}
	}
	if (!m->loaded_ns)
		return;
	m->vcpu_resume_ns = vcpu_resume(r, m);
	if (m->vcpu_resume_ns) {
		/*
		 * QEMU traces its vCPU resume before its handlers load and run the devices:
		 * all of it downtime. The emulated VM asks for it after them, once it verified.
		 */
		end = max3(m->vcpu_resume_ns, m->running_ns, m->loaded_ns);
		m->resume_ns = end -
			       (m->vcpu_resume_ns > m->loaded_ns && m->run_ns && m->run_ns < end
					? m->run_ns
					: m->loaded_ns);
	}
	m->downtime_ns = m->loaded_ns + m->resume_ns - m->pause_ns;
}

/* Harvest times of pid (windows closed together are one), in time order; returns how many. */
static size_t harvests(const struct report *r, uint32_t pid, uint64_t *t, double *pages, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < r->nwin; i++) {
		const struct vfmig_dirty_window *w = &r->win[i];
		uint64_t h = w->t_start_ns + w->t_len_ns;

		if (w->pid != pid)
			continue;
		for (j = 0; j < n; j++)
			if (h + HARVEST_GAP_NS > t[j] && h < t[j] + HARVEST_GAP_NS)
				break;
		if (j == n && n < max) {
			t[n] = h;
			pages[n++] = 0;
		}
		if (j < max)
			pages[j] += (double)w->ndirty;
	}
	for (i = 1; i < n; i++) /* insertion sort: few harvests */
		for (j = i; j > 0 && t[j] < t[j - 1]; j--) {
			uint64_t tt = t[j];
			double pp = pages[j];

			t[j] = t[j - 1];
			pages[j] = pages[j - 1];
			t[j - 1] = tt;
			pages[j - 1] = pp;
		}
	return n;
}

static uint64_t dev_bytes(const struct report *r, uint32_t pid, uint64_t from, uint64_t to)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < r->nevents; i++) {
		const struct vfmig_event *e = &r->ev[i];

		if (e->type == VFMIG_EV_DATA_READ && e->pid == pid && e->result > 0 &&
		    e->ts_ns >= from && e->ts_ns < to)
			sum += (uint64_t)e->result;
	}
	return sum;
}

/* When the source's last data read before to ended: its stop-copy data all out. */
static uint64_t last_read(const struct report *r, uint32_t pid, uint64_t from, uint64_t to)
{
	uint64_t t = from;
	size_t i;

	for (i = 0; i < r->nevents; i++) {
		const struct vfmig_event *e = &r->ev[i];

		if (e->type == VFMIG_EV_DATA_READ && e->pid == pid && e->ts_ns >= from &&
		    e->ts_ns <= to)
			t = e->ts_ns;
	}
	return t;
}

static void rounds(struct report *r, struct rep_migration *m)
{
	uint64_t t[REPORT_MAX_ROUNDS + 1];
	double pages[REPORT_MAX_ROUNDS + 1];
	size_t n = harvests(r, m->pid, t, pages, REPORT_MAX_ROUNDS + 1), i;
	uint64_t start = m->start_ns;

	for (i = 0; i < n && m->nrounds < REPORT_MAX_ROUNDS; i++) {
		struct rep_round *rd;

		if (t[i] < m->start_ns)
			continue;
		if (t[i] >= m->stop_ns) { /* the final harvest, in the downtime */
			m->final_dirty_pages += (uint64_t)pages[i];
			break;
		}
		rd = &m->round[m->nrounds];
		rd->start_ns = start;
		rd->end_ns = t[i];
		rd->dirty_pages = m->nrounds ? pages[i - 1] : 0;
		rd->dev_bytes = dev_bytes(r, m->pid, start, t[i]);
		start = t[i];
		m->nrounds++;
		/* what the last harvest before the pause found goes in the stop-copy */
		m->final_dirty_pages = (uint64_t)pages[i];
	}
	m->final_dev_bytes = dev_bytes(r, m->pid, m->stop_ns, m->end_ns + 1);
	m->sent_ns = last_read(r, m->pid, m->stop_ns, m->loaded_ns ? m->loaded_ns : m->end_ns);
}

void report_timeline(struct report *r)
{
	uint64_t after;
	uint32_t pids[64];
	size_t i, j, np = 0;

	for (i = 0; i < r->ndevs && np < 64; i++) {
		for (j = 0; j < np && pids[j] != r->dev[i].pid; j++)
			;
		if (j == np)
			pids[np++] = r->dev[i].pid;
	}
	for (i = 0; i < np; i++)
		source_migrations(r, pids[i]);
	for (i = 0; i < r->nmigs; i++) {
		struct rep_migration *m = &r->mig[i];

		for (j = 0; j < r->ndevs; j++)
			if (r->dev[j].pid == m->pid && r->dev[j].vm[0])
				snprintf(m->vm, sizeof(m->vm), "%s", r->dev[j].vm);
		if (!m->stop_ns)
			m->stop_ns = m->end_ns;
		after = i && m[-1].pid == m->pid ? m[-1].end_ns : 0;
		tracking_start(r, m, after);
		vcpu_pause(r, m, after);
		destination(r, m);
		rounds(r, m);
		report_predict(r, m);
	}
}
