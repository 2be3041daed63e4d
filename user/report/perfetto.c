// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof report --perfetto OUT: the recording in the Trace Event Format
 * (JSON), which Perfetto and chrome://tracing open. A process per device,
 * named; on its thread 1 the migration's phases as nested complete slices
 * (migration > pre-copy > round N, stop-copy) for a source device, loading
 * and resume for a destination's; on thread 2 its states one after another;
 * an instant for each state change; counter tracks for the VM's dirty rate
 * (per harvest window), the device's pinned pages and pending pre-copy bytes.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)

static double us(uint64_t ns, uint64_t t0)
{
	return ns > t0 ? (double)(ns - t0) / 1e3 : 0;
}

static json_object *event(const char *ph, const char *name, int pid, int tid, double ts)
{
	json_object *e = json_object_new_object();

	ADD(e, "ph", json_object_new_string(ph));
	ADD(e, "name", json_object_new_string(name));
	ADD(e, "pid", json_object_new_int(pid));
	ADD(e, "tid", json_object_new_int(tid));
	ADD(e, "ts", json_object_new_double(ts));
	return e;
}

static void slice(json_object *l, const char *name, int pid, int tid, double ts, double dur)
{
	json_object *e = event("X", name, pid, tid, ts);

	ADD(e, "dur", json_object_new_double(dur > 0 ? dur : 0));
	json_object_array_add(l, e);
}

static void counter(json_object *l, const char *name, int pid, double ts, const char *key, double v)
{
	json_object *e = event("C", name, pid, 0, ts), *a = json_object_new_object();

	ADD(a, key, json_object_new_double(v));
	ADD(e, "args", a);
	json_object_array_add(l, e);
}

static void name_process(json_object *l, int pid, const struct rep_device *d)
{
	json_object *e = event("M", "process_name", pid, 0, 0), *a = json_object_new_object();
	char name[160];

	snprintf(name, sizeof(name), "%s %s%s%s", d->name, d->variant, d->vm[0] ? " in " : "",
		 d->vm);
	ADD(a, "name", json_object_new_string(name));
	ADD(e, "args", a);
	json_object_array_add(l, e);
}

/* Thread 2: the states one after another; an instant at each change. */
static void states(json_object *l, const struct rep_device *d, int pid, uint64_t t0, uint64_t t_end)
{
	size_t i;

	for (i = 0; i < d->narcs; i++) {
		const char *name = report_state_name(d->arcs[i].to);
		uint64_t in, out;
		json_object *e;

		if (!report_state_span(d, i, t_end, &in, &out))
			continue;
		slice(l, name, pid, 2, us(in, t0), us(out, in));
		e = event("i", name, pid, 2, us(in, t0));
		ADD(e, "s", json_object_new_string("t"));
		json_object_array_add(l, e);
	}
}

/* Thread 1: the migration's phases, nested, on each of its source and destination devices. */
static void phases(json_object *l, const struct report *r, const struct rep_device *d, int pid,
		   uint64_t t0)
{
	char name[32];
	size_t i;
	unsigned int k;

	for (i = 0; i < r->nmigs; i++) {
		const struct rep_migration *m = &r->mig[i];
		uint64_t end = m->end_ns > m->loaded_ns ? m->end_ns : m->loaded_ns;
		uint64_t last = m->nrounds ? m->round[m->nrounds - 1].end_ns : m->start_ns;

		if (d->pid == m->pid) {
			slice(l, "migration", pid, 1, us(m->start_ns, t0), us(end, m->start_ns));
			slice(l, "pre-copy", pid, 1, us(m->start_ns, t0),
			      us(m->stop_ns, m->start_ns));
			for (k = 0; k < m->nrounds; k++) {
				snprintf(name, sizeof(name), "round %u", k);
				slice(l, name, pid, 1, us(m->round[k].start_ns, t0),
				      us(m->round[k].end_ns, m->round[k].start_ns));
			}
			/* inside pre-copy, after its rounds: else it would not nest, left out */
			if (m->vcpu_pause_ns && m->vcpu_pause_ns >= last)
				slice(l, "vCPU pause", pid, 1, us(m->vcpu_pause_ns, t0),
				      us(m->stop_ns, m->vcpu_pause_ns));
			slice(l, "stop-copy", pid, 1, us(m->stop_ns, t0), us(end, m->stop_ns));
		} else if (d->pid == m->dest_pid && m->loaded_ns) {
			/* on the clock: the destination's verification, left out of the
			 * downtime's figure, is inside */
			uint64_t run = m->running_ns > m->loaded_ns ? m->running_ns : m->loaded_ns;

			run = m->vcpu_resume_ns > run ? m->vcpu_resume_ns : run;
			slice(l, "downtime", pid, 1, us(m->pause_ns, t0), us(run, m->pause_ns));
		}
	}
}

static void counters(json_object *l, const struct report *r, const struct rep_device *d, int pid,
		     uint64_t t0)
{
	size_t i;

	for (i = 0; i < d->nsizes; i++)
		counter(l, "pending bytes", pid, us(d->sizes[i].t_ns, t0), "bytes",
			(double)(d->sizes[i].initial + d->sizes[i].dirty));
	if (d->pinned_pages)
		counter(l, "pinned pages", pid, us(d->arcs ? d->arcs[0].start_ns : t0, t0), "pages",
			(double)d->pinned_pages);
	for (i = 0; i < r->nwin; i++) {
		const struct vfmig_dirty_window *w = &r->win[i];

		if (w->pid == d->pid && w->t_len_ns)
			counter(l, "VM dirty rate", pid, us(w->t_start_ns + w->t_len_ns, t0),
				"pages_per_s", (double)w->faults * 1e9 / (double)w->t_len_ns);
	}
}

int report_write_perfetto(const char *path, const struct report *r, char *err, size_t errlen)
{
	json_object *o = json_object_new_object(), *l = json_object_new_array();
	uint64_t t0 = r->nevents ? r->ev[0].ts_ns : 0,
		 t_end = r->nevents ? r->ev[r->nevents - 1].ts_ns : 0;
	size_t i;
	int pid = 0, ret = 0;
	FILE *f;

	for (i = 0; i < r->ndevs; i++) {
		const struct rep_device *d = &r->dev[i];

		if (!d->narcs && !d->nsizes)
			continue;
		name_process(l, ++pid, d);
		phases(l, r, d, pid, t0);
		states(l, d, pid, t0, t_end);
		counters(l, r, d, pid, t0);
	}
	ADD(o, "traceEvents", l);
	ADD(o, "displayTimeUnit", json_object_new_string("ms"));
	f = fopen(path, "w");
	if (!f || fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), f) < 0) {
		snprintf(err, errlen, "cannot write '%s'", path);
		ret = -1;
	}
	if (f && fclose(f) && !ret) {
		snprintf(err, errlen, "cannot write '%s'", path);
		ret = -1;
	}
	json_object_put(o);
	return ret;
}
