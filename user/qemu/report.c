// SPDX-License-Identifier: GPL-2.0
/* The real-QEMU figures as JSON. */
#include "qemu/report.h"

static void add_int(json_object *o, const char *key, long long v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

struct field {
	const char *key;
	long long v;
};

static void add_fields(json_object *o, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add_int(o, f[i].key, f[i].v);
}

static json_object *sample_json(const struct qemu_mig_sample *s)
{
	const struct field f[] = {
		{"t_ms", s->t_ms},
		{"expected_downtime_ms", s->expected_downtime_ms},
		{"transferred", (long long)s->transferred},
		{"remaining", (long long)s->remaining},
		{"dirty_sync_count", (long long)s->dirty_sync_count},
		{"dirty_pages_rate", (long long)s->dirty_pages_rate},
	};
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(s->status));
	add_fields(o, f, sizeof(f) / sizeof(f[0]));
	json_object_object_add(o, "mbps", json_object_new_double(s->mbps));
	return o;
}

json_object *qemu_migration_json(const struct qemu_migration *m)
{
	const struct field f[] = {
		{"total_ms", m->total_ms},
		{"downtime_ms", m->downtime_ms},
		{"setup_ms", m->setup_ms},
		{"bytes", (long long)m->transferred},
		{"normal_pages", (long long)m->normal},
		{"duplicate_pages", (long long)m->duplicate},
		{"dirty_sync_count", (long long)m->dirty_sync_count},
	};
	json_object *o = json_object_new_object(), *samples = json_object_new_array();

	json_object_object_add(o, "converged", json_object_new_boolean(m->converged));
	json_object_object_add(o, "cancelled", json_object_new_boolean(m->cancelled));
	json_object_object_add(o, "status", json_object_new_string(m->status));
	add_fields(o, f, sizeof(f) / sizeof(f[0]));
	json_object_object_add(o, "mbps", json_object_new_double(m->mbps));
	if (m->stop_ts > 0 && m->resume_ts >= m->stop_ts)
		json_object_object_add(o, "stop_to_resume_ms",
				       json_object_new_double((m->resume_ts - m->stop_ts) * 1000));
	for (unsigned i = 0; i < m->nsamples; i++)
		json_object_array_add(samples, sample_json(&m->samples[i]));
	json_object_object_add(o, "samples", samples);
	return o;
}

json_object *qemu_inputs_json(const struct qemu_inputs *in, const struct qemu_dirty_window *w,
			      unsigned nw, long long untouched_pages, const char *untouched_why)
{
	json_object *o = json_object_new_object(), *caps = json_object_new_object();
	json_object *curve = json_object_new_array();

	add_int(o, "ram_bytes", in->ram_bytes);
	add_int(o, "page_size", QEMU_PAGE_SIZE);
	add_int(o, "max_bandwidth", in->max_bandwidth);
	add_int(o, "downtime_limit_ms", in->downtime_limit_ms);
	json_object_object_add(o, "status", json_object_new_string(in->status));
	for (unsigned i = 0; i < in->ncaps; i++)
		json_object_object_add(caps, in->caps[i].name,
				       json_object_new_boolean(in->caps[i].on));
	json_object_object_add(o, "capabilities", caps);
	for (unsigned i = 0; i < nw; i++) {
		json_object *p = json_object_new_object();

		add_int(p, "seconds", w[i].seconds);
		add_int(p, "sample_pages", w[i].sample_pages);
		add_int(p, "mib_per_s", w[i].mib_per_s);
		add_int(p, "pages", w[i].pages);
		json_object_array_add(curve, p);
	}
	json_object_object_add(o, "dirty_windows", curve);
	if (untouched_pages >= 0) {
		add_int(o, "untouched_pages", untouched_pages);
	} else {
		json_object_object_add(o, "untouched_pages", json_object_new_string("unknown"));
		json_object_object_add(o, "untouched_why",
				       json_object_new_string(untouched_why ? untouched_why : ""));
	}
	return o;
}
