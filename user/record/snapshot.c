// SPDX-License-Identifier: GPL-2.0
/*
 * The header and the snapshots of a recording, as JSON (json-c): what the
 * report needs besides the events, read from the probes' maps while the
 * processes that own the devices still live (their names go with them).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <json-c/json.h>

#include "probe/aggregate.h"
#include "probe/devname.h"
#include "record/snapshot.h"
#include "vfmig/version.h"
#include "common/sys.h"

static json_object *counters(const uint64_t *c)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < VFMIG_C_NR; i++)
		json_object_array_add(a, json_object_new_int64((int64_t)c[i]));
	return a;
}

static json_object *device(struct vfmig_probes *p, uint64_t key, const struct agg_view *v)
{
	json_object *d = json_object_new_object();
	struct vfmig_dev_name seen = {0};
	const struct agg_figures *f = v ? agg_device(v, key) : NULL;
	struct vfmig_dev_state st;
	struct dev_owner o;

	json_object_object_add(d, "key", json_object_new_uint64(key));
	if (agg_dev_seen(p, key, &seen))
		memset(&seen, 0, sizeof(seen));
	devname_resolve(&devname_host, key, &seen, &o);
	json_object_object_add(d, "name", json_object_new_string(o.name));
	json_object_object_add(d, "variant", json_object_new_string(o.variant));
	json_object_object_add(d, "vm", json_object_new_string(o.domain));
	json_object_object_add(d, "pid", json_object_new_int64(agg_dev_pid(key)));
	if (!agg_dev_state(p, key, &st)) {
		json_object_object_add(d, "state", json_object_new_int(st.state));
		json_object_object_add(d, "features", json_object_new_int64(st.features));
		json_object_object_add(d, "features_known", json_object_new_int(st.features_known));
		json_object_object_add(d, "precopy_initial",
				       json_object_new_uint64(st.precopy_initial));
		json_object_object_add(d, "precopy_dirty",
				       json_object_new_uint64(st.precopy_dirty));
	}
	if (f)
		json_object_object_add(d, "c", counters(f->total));
	return d;
}

static json_object *devices(struct vfmig_probes *p, const struct agg_view *v)
{
	uint64_t *keys = calloc(VFMIG_MAX_DEVICES, sizeof(*keys));
	json_object *a = json_object_new_array();
	int n = keys ? agg_devices(p, keys, VFMIG_MAX_DEVICES) : 0, i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, device(p, keys[i], v));
	free(keys);
	return a;
}

static json_object *hist(const struct agg_hist *h)
{
	json_object *o = json_object_new_object(), *s = json_object_new_array();
	int i, last = 0;

	json_object_object_add(o, "dev", json_object_new_uint64(h->key.dev));
	json_object_object_add(o, "kind", json_object_new_int(h->key.kind));
	json_object_object_add(o, "from", json_object_new_int(h->key.from));
	json_object_object_add(o, "to", json_object_new_int(h->key.to));
	json_object_object_add(o, "result", json_object_new_int(h->key.result));
	json_object_object_add(o, "count", json_object_new_uint64(h->h.count));
	json_object_object_add(o, "sum_ns", json_object_new_uint64(h->h.sum_ns));
	json_object_object_add(o, "max_ns", json_object_new_uint64(h->h.max_ns));
	for (i = 0; i < VFMIG_HIST_SLOTS; i++)
		if (h->h.slots[i])
			last = i + 1;
	for (i = 0; i < last; i++)
		json_object_array_add(s, json_object_new_uint64(h->h.slots[i]));
	json_object_object_add(o, "slots", s);
	return o;
}

static json_object *hists(struct vfmig_probes *p)
{
	struct agg_hist *h = calloc(4 * VFMIG_MAX_DEVICES, sizeof(*h));
	json_object *a = json_object_new_array();
	int n = h ? agg_hists(p, h, 4 * VFMIG_MAX_DEVICES) : 0, i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, hist(&h[i]));
	free(h);
	return a;
}

static json_object *vms(struct vfmig_probes *p, const struct agg_view *v)
{
	json_object *a = json_object_new_array();
	char name[VFMIG_VM_NAME_LEN];
	int i;

	for (i = 0; i < v->nvms; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_uint64(v->vms[i].key));
		if (agg_vm_name(p, (uint32_t)v->vms[i].key, name, sizeof(name)))
			name[0] = 0;
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "c", counters(v->vms[i].f.total));
		json_object_array_add(a, o);
	}
	return a;
}

static char *to_text(json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

char *rec_snapshot_json(struct vfmig_probes *p, const struct agg_view *v,
			const struct rec_snap_extra *x)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "t_ns", json_object_new_uint64(x->mono_ns));
	json_object_object_add(o, "received", json_object_new_uint64(x->received));
	json_object_object_add(o, "lost_blocks", json_object_new_uint64(x->lost_blocks));
	json_object_object_add(o, "host", counters(v->host.total));
	json_object_object_add(o, "devices", devices(p, v));
	json_object_object_add(o, "vms", vms(p, v));
	json_object_object_add(o, "hists", hists(p));
	return to_text(o);
}

static json_object *probe_table(struct vfmig_probes *p)
{
	json_object *a = json_object_new_array();
	const struct probe_row *rows;
	int n = probes_table(p, &rows), i;

	for (i = 0; i < n; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "family", json_object_new_string(rows[i].family));
		json_object_object_add(r, "program", json_object_new_string(rows[i].program));
		json_object_object_add(r, "source", json_object_new_string(rows[i].source));
		json_object_object_add(r, "attached", json_object_new_boolean(rows[i].attached));
		json_object_object_add(r, "reason", json_object_new_string(rows[i].reason));
		json_object_array_add(a, r);
	}
	return a;
}

char *rec_header_json(struct vfmig_probes *p, int argc, char **argv)
{
	json_object *o = json_object_new_object(), *cmd = json_object_new_array();
	json_object *names = json_object_new_array();
	struct utsname u;
	int i;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	json_object_object_add(o, "host", json_object_new_string(u.nodename));
	json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(o, "machine", json_object_new_string(u.machine));
	json_object_object_add(o, "vfmig", json_object_new_string(VFMIG_VERSION));
	for (i = 0; argv && i < argc; i++)
		json_object_array_add(cmd, json_object_new_string(argv[i] ? argv[i] : ""));
	json_object_object_add(o, "cmdline", cmd);
	json_object_object_add(o, "clock", json_object_new_string("CLOCK_MONOTONIC"));
	json_object_object_add(o, "monotonic_ns",
			       json_object_new_uint64(clock_ns(CLOCK_MONOTONIC)));
	json_object_object_add(o, "realtime_ns", json_object_new_uint64(clock_ns(CLOCK_REALTIME)));
	for (i = 0; i < VFMIG_C_NR; i++)
		json_object_array_add(
			names,
			json_object_new_string(agg_counter_name(i) ? agg_counter_name(i) : ""));
	json_object_object_add(o, "counters", names);
	json_object_object_add(o, "devices", p ? devices(p, NULL) : json_object_new_array());
	json_object_object_add(o, "probes", p ? probe_table(p) : json_object_new_array());
	return to_text(o);
}
