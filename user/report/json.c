// SPDX-License-Identifier: GPL-2.0
/*
 * The report as one JSON object (json-c): --json prints it, the text form
 * (print.c) is drawn from it, so the two never disagree.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/emu_name.h"
#include "probe/aggregate.h"
#include "report/report.h"
#include "report/report_json.h"
#include "vfmig/uapi.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define MS(ns) json_object_new_double((double)(ns) / 1e6)

static json_object *arcs(const struct rep_arc *a, size_t n)
{
	json_object *l = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		ADD(o, "from", json_object_new_string(report_state_name(a[i].from)));
		ADD(o, "to", json_object_new_string(report_state_name(a[i].to)));
		ADD(o, "result", json_object_new_int(a[i].result));
		ADD(o, "start_ns", json_object_new_uint64(a[i].start_ns));
		ADD(o, "ns", json_object_new_uint64(a[i].ns));
		json_object_array_add(l, o);
	}
	return l;
}

/* Time in each state between from and to, from the device's arcs. */
static json_object *states(const struct rep_device *d, uint64_t from, uint64_t to)
{
	json_object *l = json_object_new_array();
	size_t i;

	for (i = 0; i < d->narcs; i++) {
		uint64_t in, out;
		json_object *o;

		if (!report_state_span(d, i, to, &in, &out) || in < from || in > to)
			continue;
		o = json_object_new_object();
		ADD(o, "state", json_object_new_string(report_state_name(d->arcs[i].to)));
		ADD(o, "at_ms", MS(in - from));
		ADD(o, "ms", MS(out > in ? out - in : 0));
		json_object_array_add(l, o);
	}
	return l;
}

static json_object *device(const struct rep_device *d, uint64_t from, uint64_t to)
{
	json_object *o = json_object_new_object();
	char id[24];

	emu_dev_name_of(d->pid, (uint32_t)d->key, id, sizeof(id));
	ADD(o, "id", json_object_new_string(vfmig_dev_is_emu(d->key) ? id : d->name));
	ADD(o, "name", json_object_new_string(d->name));
	ADD(o, "variant", json_object_new_string(d->variant));
	ADD(o, "arcs", arcs(d->arcs, d->narcs));
	ADD(o, "requests", arcs(d->sets, d->nsets));
	ADD(o, "states", states(d, from, to));
	ADD(o, "data_read_bytes", json_object_new_uint64(d->read_bytes));
	ADD(o, "data_write_bytes", json_object_new_uint64(d->write_bytes));
	return o;
}

static bool is_device(const struct rep_device *d)
{
	return !vfmig_dev_is_emu(d->key) || vfmig_dev_emu_kind(d->key) == VFMIG_OBJ_DEVICE;
}

static json_object *devices_of(const struct report *r, uint32_t pid, uint64_t from, uint64_t to)
{
	json_object *l = json_object_new_array();
	size_t i;

	for (i = 0; i < r->ndevs; i++)
		if (r->dev[i].pid == pid && is_device(&r->dev[i]) && r->dev[i].narcs)
			json_object_array_add(l, device(&r->dev[i], from, to));
	return l;
}

static json_object *rounds(const struct rep_migration *m)
{
	json_object *l = json_object_new_array();
	unsigned int i;

	for (i = 0; i < m->nrounds; i++) {
		const struct rep_round *rd = &m->round[i];
		json_object *o = json_object_new_object();

		ADD(o, "start_ms", MS(rd->start_ns - m->start_ns));
		ADD(o, "ms", MS(rd->end_ns - rd->start_ns));
		ADD(o, "dirty_pages", json_object_new_double(rd->dirty_pages));
		ADD(o, "dev_bytes", json_object_new_uint64(rd->dev_bytes));
		json_object_array_add(l, o);
	}
	return l;
}

static json_object *prediction(const struct rep_migration *m)
{
	json_object *o = json_object_new_object();

	ADD(o, "from", json_object_new_string(m->predict_from));
	ADD(o, "made", json_object_new_boolean(m->predicted));
	if (!m->predicted) {
		ADD(o, "why_not", json_object_new_string(m->predict_why));
		return o;
	}
	ADD(o, "source", json_object_new_string(m->in.source));
	ADD(o, "converged", json_object_new_boolean(m->pred.converged));
	ADD(o, "rounds", json_object_new_int((int)m->pred.nrounds));
	ADD(o, "total_ms", json_object_new_double(m->pred.total_s * 1e3));
	ADD(o, "downtime_ms", json_object_new_double(m->pred.downtime_s * 1e3));
	ADD(o, "bytes", json_object_new_double(m->pred.bytes));
	ADD(o, "why", json_object_new_string(m->pred.why));
	return o;
}

static json_object *migration(const struct report *r, const struct rep_migration *m)
{
	json_object *o = json_object_new_object(), *p = json_object_new_object();
	uint64_t end = m->running_ns ? m->running_ns : m->end_ns;

	ADD(o, "pid", json_object_new_int64(m->pid));
	ADD(o, "vm", json_object_new_string(m->vm));
	ADD(o, "destination_pid", json_object_new_int64(m->dest_pid));
	ADD(o, "start_ns", json_object_new_uint64(m->start_ns));
	ADD(o, "precopy_ms", MS(m->stop_ns - m->start_ns));
	ADD(o, "stop_copy_ms", MS(m->sent_ns > m->stop_ns ? m->sent_ns - m->stop_ns : 0));
	ADD(o, "total_ms", MS(end - m->start_ns));
	ADD(o, "rounds", rounds(m));
	ADD(o, "final_pages", json_object_new_uint64(m->final_dirty_pages));
	ADD(o, "final_device_bytes", json_object_new_uint64(m->final_dev_bytes));
	ADD(o, "downtime_ms", m->loaded_ns ? MS(m->downtime_ns) : NULL);
	/* where the downtime starts and ends: the vCPUs where a probe saw them, else the devices */
	ADD(o, "downtime_from",
	    json_object_new_string(m->vcpu_pause_ns ? "vcpu_pause" : "stop_request"));
	ADD(o, "downtime_to",
	    m->loaded_ns
		    ? json_object_new_string(m->vcpu_resume_ns ? "vcpu_resume" : "devices_running")
		    : NULL);
	/* from the migration's start; QEMU may pause its vCPUs before the first request */
	ADD(o, "downtime_start_ms",
	    json_object_new_double(((double)m->pause_ns - (double)m->start_ns) / 1e6));
	ADD(o, "vcpus", m->vcpu_pause_ns ? json_object_new_int64(m->vcpus) : NULL);
	ADD(p, "vcpu_pause", MS(m->stop_ns - m->pause_ns));
	ADD(p, "stop_devices", MS(m->stopped_ns > m->stop_ns ? m->stopped_ns - m->stop_ns : 0));
	ADD(p, "stop_copy", MS(m->sent_ns > m->stopped_ns ? m->sent_ns - m->stopped_ns : 0));
	ADD(p, "destination_load", MS(m->loaded_ns > m->sent_ns ? m->loaded_ns - m->sent_ns : 0));
	ADD(p, "destination_resume", MS(m->resume_ns));
	ADD(o, "downtime_parts_ms", p);
	ADD(o, "devices", devices_of(r, m->pid, m->start_ns, m->end_ns));
	p = json_object_new_object();
	ADD(p, "devices", devices_of(r, m->dest_pid, m->start_ns, end));
	ADD(o, "destination", p);
	ADD(o, "prediction", prediction(m));
	return o;
}

static json_object *damage(const struct report *r)
{
	json_object *o = json_object_new_object();

	ADD(o, "closed", json_object_new_boolean(r->damage.closed));
	ADD(o, "cut", json_object_new_boolean(r->damage.cut));
	ADD(o, "cut_offset", json_object_new_uint64(r->damage.cut_offset));
	ADD(o, "skipped", json_object_new_int((int)r->damage.skipped));
	ADD(o, "first_skip_offset", json_object_new_uint64(r->damage.first_skip));
	ADD(o, "missing_blocks", json_object_new_uint64(r->damage.missing));
	ADD(o, "lost_blocks",
	    json_object_new_uint64(r->has_end ? r->end_lost_blocks : r->snap_lost_blocks));
	ADD(o, "ring_drops",
	    json_object_new_uint64(
		    r->has_end ? r->end_drops
			       : (r->nsnaps ? r->snaps[r->nsnaps - 1].host[VFMIG_C_DROPS] : 0)));
	return o;
}

json_object *report_json(const struct report *r)
{
	json_object *o = json_object_new_object(), *l = json_object_new_array();
	size_t i;

	ADD(o, "version", json_object_new_int(REPORT_VERSION));
	ADD(o, "header", r->header ? json_tokener_parse(r->header) : NULL);
	ADD(o, "file", damage(r));
	ADD(o, "events", json_object_new_uint64(r->nevents));
	ADD(o, "harvest_windows", json_object_new_uint64(r->nwin));
	ADD(o, "snapshots", json_object_new_uint64(r->nsnaps));
	for (i = 0; i < r->nmigs; i++)
		json_object_array_add(l, migration(r, &r->mig[i]));
	ADD(o, "migrations", l);
	report_json_figures(r, o);
	return o;
}

void report_print_json(FILE *f, const struct report *r)
{
	json_object *o = report_json(r);

	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}
