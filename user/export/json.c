// SPDX-License-Identifier: GPL-2.0
/* The exporter's figures as one JSON object a line, for collectors that do not speak Prometheus. */
#include <json-c/json.h>
#include <string.h>

#include "export/export_priv.h"
#include "vfmig/version.h"

/* A counter array's non-zero members (all of them with all): per-interface ones nested. */
static struct json_object *counters(const uint64_t *c, bool all)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < export_ncounters; i++) {
		const struct export_counter *k = &export_counters[i];
		struct json_object *by = NULL;
		unsigned int f;

		if (!k->iface_hi) {
			if (all || c[k->idx])
				json_object_object_add(o, k->name,
						       json_object_new_uint64(c[k->idx]));
			continue;
		}
		for (f = k->iface_lo; f <= k->iface_hi; f++) {
			if (!all && !c[k->idx + f])
				continue;
			if (!by)
				by = json_object_new_object();
			json_object_object_add(by, export_iface_name(f),
					       json_object_new_uint64(c[k->idx + f]));
		}
		if (by)
			json_object_object_add(o, k->name, by);
	}
	return o;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *devices(struct exporter *x)
{
	struct json_object *a = json_object_new_array();
	char vm[VFMIG_VM_NAME_LEN + 16];
	int i;

	for (i = 0; i < x->view->ndevs; i++) {
		uint64_t key = x->view->devs[i].key;
		const struct export_named *n = export_owner(x, key);
		struct json_object *d = json_object_new_object();
		struct vfmig_dev_state st;

		add_str(d, "device", n ? n->o.name : "?");
		add_str(d, "vm", export_vm_name(x, agg_dev_pid(key), vm, sizeof(vm)));
		json_object_object_add(d, "pid", json_object_new_int64(agg_dev_pid(key)));
		if (!agg_dev_state(x->p, key, &st)) {
			add_str(d, "state", export_state_name(st.state));
			json_object_object_add(d, "precopy_initial_bytes",
					       json_object_new_uint64(st.precopy_initial));
			json_object_object_add(d, "precopy_dirty_bytes",
					       json_object_new_uint64(st.precopy_dirty));
		}
		json_object_object_add(d, "counters", counters(x->view->devs[i].f.total, false));
		json_object_array_add(a, d);
	}
	return a;
}

static struct json_object *verdict(const struct exporter *x, uint32_t pid)
{
	struct json_object *v;
	int i;

	for (i = 0; i < x->nverdicts && x->verdicts[i].pid != pid; i++)
		;
	if (i == x->nverdicts)
		return NULL;
	v = json_object_new_object();
	json_object_object_add(
		v, "converges",
		json_object_new_boolean(x->verdicts[i].r.converged && !x->verdicts[i].r.forced));
	json_object_object_add(v, "downtime_seconds",
			       json_object_new_double(x->verdicts[i].r.downtime_s));
	json_object_object_add(v, "migration_seconds",
			       json_object_new_double(x->verdicts[i].r.total_s));
	json_object_object_add(v, "rounds", json_object_new_int(x->verdicts[i].r.nrounds));
	json_object_object_add(v, "needed_bandwidth_bytes_per_second",
			       json_object_new_double(x->verdicts[i].needed_bps));
	return v;
}

static struct json_object *vms(struct exporter *x)
{
	struct json_object *a = json_object_new_array();
	char vm[VFMIG_VM_NAME_LEN + 16];
	int i;

	for (i = 0; i < x->view->nvms; i++) {
		uint32_t pid = (uint32_t)x->view->vms[i].key;
		struct json_object *o = json_object_new_object(), *v = verdict(x, pid);

		add_str(o, "vm", export_vm_name(x, pid, vm, sizeof(vm)));
		json_object_object_add(o, "pid", json_object_new_int64(pid));
		json_object_object_add(o, "counters", counters(x->view->vms[i].f.total, false));
		if (v)
			json_object_object_add(o, "verdict", v);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *health(struct exporter *x)
{
	struct json_object *h = json_object_new_object();
	const struct probe_row *rows;
	int n = probes_table(x->p, &rows), i, on = 0;
	uint64_t ns = 0, runs = 0;

	for (i = 0; i < n; i++)
		on += rows[i].attached;
	for (i = 0; i < x->nprogs; i++) {
		ns += x->progs[i].run_ns;
		runs += x->progs[i].runs;
	}
	json_object_object_add(h, "probes_attached", json_object_new_int(on));
	json_object_object_add(h, "probes_off", json_object_new_int(n - on));
	json_object_object_add(h, "events", json_object_new_uint64(x->host[VFMIG_C_EVENTS]));
	json_object_object_add(h, "events_dropped", json_object_new_uint64(x->host[VFMIG_C_DROPS]));
	json_object_object_add(h, "events_received", json_object_new_uint64(x->received));
	json_object_object_add(h, "bpf_stats", json_object_new_boolean(x->stats_fd >= 0));
	json_object_object_add(h, "bpf_run_seconds", json_object_new_double(ns / 1e9));
	json_object_object_add(h, "bpf_runs", json_object_new_uint64(runs));
	return h;
}

void exporter_json(struct exporter *x, FILE *f)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "version", VFMIG_VERSION);
	add_str(o, "type", "metrics");
	json_object_object_add(o, "t", json_object_new_double(x->t));
	json_object_object_add(o, "health", health(x));
	json_object_object_add(o, "host", counters(x->host, true));
	json_object_object_add(o, "devices", devices(x));
	json_object_object_add(o, "vms", vms(x));
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}
