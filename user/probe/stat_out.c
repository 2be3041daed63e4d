// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/vfio_state.h"
#include "probe/aggregate.h"
#include "probe/stat_out.h"
#include "vfmig/version.h"

#define MAX_HISTS 512
#define MAX_DEVS (VFMIG_MAX_DEVICES * 11) /* devices, names, counters, histograms: before dedup */

struct named {
	uint64_t dev;
	unsigned int pass; /* the report pass that last resolved it */
	struct dev_owner o;
};

struct stat_out {
	struct vfmig_probes *p;
	FILE *out;
	bool json;
	unsigned int seq;
	unsigned int pass;     /* a refresh or the totals: each device resolved once in it */
	struct agg_view *view; /* counters per device, VM and host, per interval */
	int nnamed;
	struct named named[VFMIG_MAX_DEVICES];
	uint64_t devs[MAX_DEVS];
	struct agg_hist hists[MAX_HISTS];
};

void stat_out_table(struct vfmig_probes *p, bool json, FILE *out)
{
	const struct probe_row *rows;
	int i, n = probes_table(p, &rows);

	if (!json) {
		fprintf(out, "%-7s %-39s %-9s %-8s %s\n", "family", "program", "source", "status",
			"where / why not");
		for (i = 0; i < n; i++)
			fprintf(out, "%-7s %-39s %-9s %-8s %s\n", rows[i].family, rows[i].program,
				rows[i].source, rows[i].attached ? "attached" : "off",
				rows[i].reason);
		return;
	}
	fprintf(out, "[");
	for (i = 0; i < n; i++) {
		fprintf(out,
			"%s{\"version\":\"" VFMIG_VERSION
			"\",\"family\":\"%s\",\"program\":\"%s\",\"source\":\"%s\","
			"\"attached\":%s,\"reason\":",
			i ? "," : "", rows[i].family, rows[i].program, rows[i].source,
			rows[i].attached ? "true" : "false");
		json_string(out, rows[i].reason);
		fprintf(out, "}");
	}
	fprintf(out, "]\n");
}

struct stat_out *stat_out_new(struct vfmig_probes *p, bool json, FILE *out)
{
	struct stat_out *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->view = agg_view_new();
	if (!r->view) {
		free(r);
		return NULL;
	}
	r->p = p;
	r->json = json;
	r->out = out;
	return r;
}

void stat_out_free(struct stat_out *r)
{
	if (r)
		agg_view_free(r->view);
	free(r);
}

static struct named *named(struct stat_out *r, uint64_t dev)
{
	int i;

	for (i = 0; i < r->nnamed; i++) {
		if (r->named[i].dev == dev)
			return &r->named[i];
	}
	if (r->nnamed == VFMIG_MAX_DEVICES)
		return NULL;
	r->named[r->nnamed].dev = dev;
	return &r->named[r->nnamed++];
}

static bool known(const struct dev_owner *o)
{
	return o->name[0] && strncmp(o->name, "unknown", 7);
}

/*
 * A name found while its fd was open is kept once the fd is closed or the
 * process is gone: it is still the name of what was profiled.
 */
static const struct dev_owner *owner(struct stat_out *r, uint64_t dev)
{
	struct named *n = named(r, dev);
	struct vfmig_dev_name seen;
	struct dev_owner now;

	if (!n)
		return NULL;
	if (n->pass == r->pass)
		return &n->o; /* resolved in this pass already: a line per histogram reuses it */
	n->pass = r->pass;
	devname_resolve(&devname_host, dev, agg_dev_seen(r->p, dev, &seen) ? NULL : &seen, &now);
	if (vfmig_dev_is_emu(dev)) /* the name its device_new probe read beats /proc's guess */
		agg_vm_name(r->p, now.pid, now.domain, sizeof(now.domain));
	/* gone, its process tells no more (comm, cmdline): what was read while it lived stays */
	if ((known(&now) && (now.alive || !n->o.alive)) || !known(&n->o))
		n->o = now;
	else
		n->o.alive = now.alive;
	return &n->o;
}

void stat_out_refresh_names(struct stat_out *r)
{
	int i, n = agg_devices(r->p, r->devs, MAX_DEVS);

	r->pass++;
	for (i = 0; i < n; i++)
		owner(r, r->devs[i]);
}

static const char *state(unsigned int s)
{
	return s == VFMIG_STATE_UNKNOWN ? "unknown" : vfio_state_name(s);
}

/*
 * "PID:FD", "kernel:ADDR" for a kernel device, "PID:qemu" for one QEMU's probes
 * named (the name column tells its devices apart), or "PID:emuN" (and the
 * like: devname_emu_id) for an emulated one.
 */
static const char *dev_id(uint64_t dev, char *buf, size_t len)
{
	if (vfmig_dev_is_emu(dev))
		devname_emu_id(dev, buf, len);
	else if (vfmig_dev_is_kernel(dev))
		snprintf(buf, len, "kernel:%llx", (unsigned long long)dev);
	else if (vfmig_dev_is_qemu(dev))
		snprintf(buf, len, "%u:qemu", vfmig_dev_qemu_pid(dev));
	else if (dev >> 32)
		snprintf(buf, len, "%u:%u", (unsigned int)(dev >> 32), (unsigned int)dev);
	else
		snprintf(buf, len, "%u", (unsigned int)dev);
	return buf;
}

/* A device in histogram lines: its name when known, else its id. */
static const char *label(struct stat_out *r, uint64_t dev, char *buf, size_t len)
{
	const struct dev_owner *o = owner(r, dev);

	if (o && known(o))
		snprintf(buf, len, "%s", o->name);
	else
		dev_id(dev, buf, len);
	return buf;
}

static void print_hists(struct stat_out *r, int n)
{
	static const char *const kinds[] = {"",	   "request", "step", "bitmap", "precopy_info",
					    "map", "tracking"};
	static const char *const map_ops[] = {"map", "unmap"}, *const track_ops[] = {"stop",
										     "start"};
	const unsigned int nkinds = sizeof(kinds) / sizeof(kinds[0]);
	static const char *const ifaces[VFMIG_IFACE_NR] = {"?", "type1", "dma-log", "iommufd",
							   "kvm"};
	int i;

	for (i = 0; i < n; i++) {
		const struct vfmig_hist_key *k = &r->hists[i].key;
		const struct vfmig_hist *h = &r->hists[i].h;
		char what[64], dev[128];

		if (k->kind == VFMIG_H_BITMAP)
			snprintf(what, sizeof(what), "%s",
				 ifaces[k->from < VFMIG_IFACE_NR ? k->from : 0]);
		else if (k->kind == VFMIG_H_MAP)
			snprintf(what, sizeof(what), "%s %s",
				 ifaces[k->to < VFMIG_IFACE_NR ? k->to : 0], map_ops[k->from & 1]);
		else if (k->kind == VFMIG_H_TRACKING)
			snprintf(what, sizeof(what), "%s %s",
				 ifaces[k->from < VFMIG_IFACE_NR ? k->from : 0],
				 track_ops[k->to & 1]);
		else
			snprintf(what, sizeof(what), "%s->%s", state(k->from), state(k->to));
		label(r, k->dev, dev, sizeof(dev));
		if (!r->json) {
			fprintf(r->out,
				"  %-8s %-14s %-28s %4d %8llu  p50 <%9.3f us  p99 <%9.3f us  max "
				"%9.3f us\n",
				kinds[k->kind < nkinds ? k->kind : 0], dev, what, k->result,
				(unsigned long long)h->count, agg_percentile(h, 0.5) / 1e3,
				agg_percentile(h, 0.99) / 1e3, h->max_ns / 1e3);
			continue;
		}
		fprintf(r->out, "%s{\"kind\":\"%s\",\"dev\":%llu,\"name\":", i ? "," : "",
			kinds[k->kind < nkinds ? k->kind : 0], (unsigned long long)k->dev);
		json_string(r->out, dev);
		fprintf(r->out,
			",\"what\":\"%s\",\"result\":%d,\"count\":%llu,\"p50_ns\":%llu,"
			"\"p99_ns\":%llu,\"max_ns\":%llu}",
			what, k->result, (unsigned long long)h->count,
			(unsigned long long)agg_percentile(h, 0.5),
			(unsigned long long)agg_percentile(h, 0.99), (unsigned long long)h->max_ns);
	}
}

/* The counters of c that are not 0 (all of them when all), as a JSON object's members. */
static void json_counter_members(FILE *out, const uint64_t *c, bool all)
{
	const char *sep = "";
	int i;

	for (i = 0; i < VFMIG_C_NR; i++) {
		if (agg_counter_name(i) && (all || c[i])) {
			fprintf(out, "%s\"%s\":%llu", sep, agg_counter_name(i),
				(unsigned long long)c[i]);
			sep = ",";
		}
	}
}

/* ,"rates":{...}: per second over the last interval, of the counters that moved in it. */
static void json_rates(FILE *out, const struct agg_view *v, const struct agg_figures *f)
{
	const char *sep = "";
	int i;

	fprintf(out, ",\"rates\":{");
	for (i = 0; i < VFMIG_C_NR; i++) {
		if (agg_counter_name(i) && f->delta[i]) {
			fprintf(out, "%s\"%s\":%.3f", sep, agg_counter_name(i), agg_rate(v, f, i));
			sep = ",";
		}
	}
	fprintf(out, "}");
}

/* The counters of c that are not 0, as text after a label. */
static void text_counters(FILE *out, const char *label, const uint64_t *c, const char *sign)
{
	int i;

	fprintf(out, "  %-24s", label);
	for (i = 0; i < VFMIG_C_NR; i++)
		if (c[i] && agg_counter_name(i))
			fprintf(out, "  %s %s%llu", agg_counter_name(i), sign,
				(unsigned long long)c[i]);
	fprintf(out, "\n");
}

/* What a device or VM did: its totals at the end, its deltas in an interval. */
static const uint64_t *figures_of(const struct agg_figures *f, bool total)
{
	return total ? f->total : f->delta;
}

static void print_device(struct stat_out *r, uint64_t dev, bool first, bool total)
{
	const struct dev_owner *o = owner(r, dev);
	const struct agg_figures *f = agg_device(r->view, dev);
	struct vfmig_dev_state st;
	const char *s = agg_dev_state(r->p, dev, &st) ? "unknown" : state(st.state);
	char who[40], id[48];

	if (vfmig_dev_is_emu(dev) && vfmig_dev_emu_kind(dev) != VFMIG_OBJ_DEVICE)
		s = "-"; /* a container or page table has no migration state */

	if (!o)
		return;
	dev_id(dev, id, sizeof(id));
	if (!r->json) {
		if (o->pid)
			snprintf(who, sizeof(who), "%s[%u]", o->comm[0] ? o->comm : "?", o->pid);
		else
			snprintf(who, sizeof(who), "-");
		fprintf(r->out, "  %-24s %-32s %-7s %-24s %-16s %s\n", id,
			vfmig_dev_is_emu(dev) ? o->variant : o->name, o->from[0] ? o->from : "-",
			who, o->domain[0] ? o->domain : "-", s);
		return;
	}
	fprintf(r->out,
		"%s{\"dev\":%llu,\"id\":\"%s\",\"pid\":%u,\"fd\":%u,\"name\":", first ? "" : ",",
		(unsigned long long)dev, id, o->pid, o->fd);
	json_string(r->out, o->name);
	fprintf(r->out, ",\"variant\":");
	json_string(r->out, o->variant);
	fprintf(r->out, ",\"from\":\"%s\",\"owner\":", o->from);
	json_string(r->out, o->comm);
	fprintf(r->out, ",\"domain\":");
	json_string(r->out, o->domain);
	fprintf(r->out, ",\"vm\":");
	json_string(r->out, o->domain);
	fprintf(r->out, ",\"alive\":%s,\"state\":\"%s\",\"counters\":{",
		o->alive ? "true" : "false", s);
	if (f)
		json_counter_members(r->out, figures_of(f, total), false);
	fprintf(r->out, "}}");
}

static void print_devices(struct stat_out *r)
{
	int i, n = agg_devices(r->p, r->devs, MAX_DEVS);

	if (!r->json && n)
		fprintf(r->out, "\n  %-24s %-32s %-7s %-24s %-16s %s\n", "device", "name", "from",
			"owner", "vm", "state");
	for (i = 0; i < n; i++)
		print_device(r, r->devs[i], !i, true);
	if (r->json || !r->view->ndevs)
		return;
	fprintf(r->out, "\n  per device\n");
	for (i = 0; i < r->view->ndevs; i++) {
		char id[48];

		text_counters(r->out, dev_id(r->view->devs[i].key, id, sizeof(id)),
			      r->view->devs[i].f.total, "");
	}
}

/* A VM's name: as its device_new probe read it, else as one of its devices is named. */
static const char *vm_name(struct stat_out *r, uint32_t pid, char *buf, size_t len)
{
	int i;

	if (!agg_vm_name(r->p, pid, buf, len))
		return buf;
	buf[0] = 0;
	for (i = 0; i < r->nnamed; i++) {
		if (r->named[i].o.pid == pid && r->named[i].o.domain[0]) {
			snprintf(buf, len, "%s", r->named[i].o.domain);
			break;
		}
	}
	return buf;
}

/* Each VM (a process with counters of its own) with its devices: deltas, or totals. */
static void print_vms(struct stat_out *r, bool total)
{
	const struct agg_view *v = r->view;
	char name[VFMIG_VM_NAME_LEN * 2], id[48];
	int i, j;

	if (r->json)
		fprintf(r->out, ",\"vms\":[");
	else if (v->nvms && total)
		fprintf(r->out, "\n  per VM (process)\n");
	for (i = 0; i < v->nvms; i++) {
		uint32_t pid = (uint32_t)v->vms[i].key;
		const char *sep = "";

		vm_name(r, pid, name, sizeof(name));
		if (!r->json) {
			if (total) {
				snprintf(id, sizeof(id), "%u %s", pid, name);
				text_counters(r->out, id, v->vms[i].f.total, "");
			}
			continue;
		}
		fprintf(r->out, "%s{\"pid\":%u,\"name\":", i ? "," : "", pid);
		json_string(r->out, name);
		fprintf(r->out, ",\"devices\":[");
		for (j = 0; j < v->ndevs; j++) {
			if (agg_dev_pid(v->devs[j].key) != pid)
				continue;
			fprintf(r->out, "%s\"%s\"", sep, dev_id(v->devs[j].key, id, sizeof(id)));
			sep = ",";
		}
		fprintf(r->out, "],\"counters\":{");
		json_counter_members(r->out, figures_of(&v->vms[i].f, total), false);
		fprintf(r->out, "}");
		if (!total)
			json_rates(r->out, v, &v->vms[i].f);
		fprintf(r->out, "}");
	}
	if (r->json)
		fprintf(r->out, "]");
}

/* Each device's counters that moved in the interval. */
static void print_interval_devices(struct stat_out *r)
{
	const struct agg_view *v = r->view;
	char id[48];
	int i;

	fprintf(r->out, ",\"devices\":[");
	for (i = 0; i < v->ndevs; i++) {
		fprintf(r->out, "%s{\"dev\":%llu,\"id\":\"%s\",\"counters\":{", i ? "," : "",
			(unsigned long long)v->devs[i].key, dev_id(v->devs[i].key, id, sizeof(id)));
		json_counter_members(r->out, v->devs[i].f.delta, false);
		fprintf(r->out, "}");
		json_rates(r->out, v, &v->devs[i].f);
		fprintf(r->out, "}");
	}
	fprintf(r->out, "]");
}

static int hist_cmp(const void *a, const void *b)
{
	const struct vfmig_hist_key *x = &((const struct agg_hist *)a)->key;
	const struct vfmig_hist_key *y = &((const struct agg_hist *)b)->key;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->from != y->from)
		return x->from - y->from;
	return x->to != y->to ? x->to - y->to : x->result - y->result;
}

static void drain_events(struct vfmig_probes *p)
{
	while (probes_poll(p, 0, NULL, NULL) > 0)
		;
}

static void json_counters(FILE *out, const uint64_t *c)
{
	fprintf(out, "\"counters\":{");
	json_counter_members(out, c, true);
	fprintf(out, "}");
}

void stat_out_interval(struct stat_out *r, double t)
{
	const uint64_t *d = r->view->host.delta;
	int i;

	if (agg_step(r->p, r->view, t))
		return;
	r->seq++;
	if (r->json) {
		fprintf(r->out,
			"{\"version\":\"" VFMIG_VERSION "\",\"type\":\"interval\",\"seq\":%u,"
			"\"t\":%.3f,\"seconds\":%.3f,",
			r->seq, t, r->view->seconds);
		json_counters(r->out, d);
		fprintf(r->out, ",\"host\":{\"counters\":{");
		json_counter_members(r->out, d, false);
		fprintf(r->out, "}");
		json_rates(r->out, r->view, &r->view->host);
		fprintf(r->out, "}");
		print_interval_devices(r);
		print_vms(r, false);
		fprintf(r->out, "}\n");
	} else {
		fprintf(r->out, "%10.3f s", t);
		for (i = 0; i < VFMIG_C_NR; i++)
			if (d[i] && agg_counter_name(i))
				fprintf(r->out, "  %s +%llu", agg_counter_name(i),
					(unsigned long long)d[i]);
		fprintf(r->out, "\n");
	}
	fflush(r->out); /* a line a consumer can act on now */
}

void stat_out_total(struct stat_out *r, double secs)
{
	const uint64_t *c = r->view->host.total;
	int i, n;

	r->pass++;
	drain_events(r->p);
	agg_step(r->p, r->view, secs);
	n = agg_hists(r->p, r->hists, MAX_HISTS);
	qsort(r->hists, n, sizeof(r->hists[0]), hist_cmp);
	if (r->json) {
		fprintf(r->out,
			"{\"version\":\"" VFMIG_VERSION "\",\"type\":\"total\",\"seconds\":%.3f,",
			secs);
		json_counters(r->out, c);
		fprintf(r->out, ",\"histograms\":[");
		print_hists(r, n);
		fprintf(r->out, "],\"devices\":[");
		print_devices(r);
		fprintf(r->out, "]");
		print_vms(r, true);
		fprintf(r->out, ",\"events_received\":%llu}\n",
			(unsigned long long)probes_received(r->p));
		return;
	}
	fprintf(r->out, "\n vfmigprof stat: %.3f s, %d probes attached\n\n", secs,
		probes_attached(r->p));
	for (i = 0; i < VFMIG_C_NR; i++)
		if (agg_counter_name(i) && c[i])
			fprintf(r->out, "  %18llu  %s\n", (unsigned long long)c[i],
				agg_counter_name(i));
	fprintf(r->out, "  %18llu  events_received\n", (unsigned long long)probes_received(r->p));
	if (n)
		fprintf(r->out, "\n  latency  device         what %26s count\n", "result");
	print_hists(r, n);
	print_devices(r);
	print_vms(r, true);
}
