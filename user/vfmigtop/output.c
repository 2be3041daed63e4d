// SPDX-License-Identifier: GPL-2.0
/* vfmigtop's outputs: text rows, JSON and CSV (see output.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "vfmig/version.h"
#include "vfmigtop/output.h"

#define PAGE_BYTES 4096.0

void top_header_line(const struct top_header *h, int which, char *buf, size_t len)
{
	if (which == 0) {
		snprintf(buf, len,
			 "vfmigtop %s - host %s, kernel %s; probes %d attached, %d off%s%s",
			 VFMIG_VERSION, h->host, h->kernel, h->attached, h->off,
			 h->off ? " (first: " : "", h->off ? "see detail)" : "");
		return;
	}
	if (h->bpf_stats)
		snprintf(buf, len,
			 "events %llu, drops %llu; interval %.2f s; vfmig BPF run time %.3f ms/s "
			 "(%.3f%% of a core)",
			 (unsigned long long)h->events, (unsigned long long)h->drops, h->interval_s,
			 h->bpf_ns_per_s / 1e6, h->bpf_ns_per_s / 1e7);
	else
		snprintf(buf, len,
			 "events %llu, drops %llu; interval %.2f s; vfmig BPF run time unknown "
			 "(BPF_ENABLE_STATS refused)",
			 (unsigned long long)h->events, (unsigned long long)h->drops,
			 h->interval_s);
}

const char *top_titles(void)
{
	return "  DEVICE                   MODEL    STATE          TIME   PINS/s BITMAP/s   MB/s PINNED "
	       " MAP/s UNMAP/s BMP-P50 BMP-P99 LAST TRANSITION               PRE-INIT "
	       "PRE-DIRTY   DATA/s";
}

static void verdict_text(const struct top_verdict *v, char *buf, size_t len)
{
	char need[32];

	if (!v->known) {
		snprintf(buf, len, "verdict: not yet (%s)", v->why);
		return;
	}
	if (v->converges) {
		snprintf(buf, len, "verdict: converges, downtime %.1f ms, in %.2f s",
			 v->downtime_s * 1e3, v->total_s);
		return;
	}
	top_fmt(v->need_bps, need, sizeof(need));
	snprintf(buf, len, "verdict: does NOT converge (downtime %.1f ms); needs %s%s",
		 v->downtime_s * 1e3, v->need_bps > 0 ? need : "more than any cap",
		 v->need_bps > 0 ? "B/s" : "");
}

/* The link the verdict is at, and where it came from. */
static void link_text(const struct top_link *l, char *buf, size_t len)
{
	char cap[16];

	snprintf(buf, len, "at %s %sB/s, %.0f ms", l->from_qmp ? "QMP's" : "link",
		 l->cap_bps > 0 ? top_fmt(l->cap_bps, cap, sizeof(cap)) : "uncapped ",
		 l->downtime_s * 1e3);
}

/* v with prec decimals and unit, or none when v < 0 (unknown, not tracked). */
static const char *num_or(double v, const char *none, int prec, const char *unit, char *buf,
			  size_t len)
{
	if (v < 0)
		snprintf(buf, len, "%s", none);
	else
		snprintf(buf, len, "%.*f%s", prec, v, unit);
	return buf;
}

/* A time left as text: "3.2 s", "-" when unknown. */
static const char *left_text(double s, char *buf, size_t len)
{
	return num_or(s, "-", 1, " s", buf, len);
}

/* The progress column: "MIG active 45.2% 3.2 s left", or nothing. */
static void progress_text(const struct top_progress *p, char *buf, size_t len)
{
	char left[16];

	if (!p->known) {
		snprintf(buf, len, "MIG -");
		return;
	}
	snprintf(buf, len, "MIG %s %.1f%% %s%s left", p->status, p->percent,
		 p->left_low ? ">=" : "", left_text(p->left_s, left, sizeof(left)));
}

void top_vm_line(const struct top_table *t, const struct top_vm *vm, char *buf, size_t len)
{
	char vcpu[16], all[16], mb[16], verdict[256], link[48], prog[64];
	double dirty = top_vm_dirty(t, vm);

	verdict_text(&vm->v, verdict, sizeof(verdict));
	link_text(&vm->link, link, sizeof(link));
	progress_text(&vm->prog, prog, sizeof(prog));
	snprintf(buf, len,
		 "VM %s (pid %u %s)%s  dirty vCPU %s/s, all %s pages/s %s MB/s  %s  %s %s",
		 vm->name, vm->pid, vm->comm, vm->gone_since ? " GONE" : "",
		 top_fmt(vm->dirty_vcpu, vcpu, sizeof(vcpu)), top_fmt(dirty, all, sizeof(all)),
		 dirty < 0 ? "-" : (snprintf(mb, sizeof(mb), "%.1f", dirty * PAGE_BYTES / 1e6), mb),
		 prog, vm->gone_since ? "" : verdict, vm->gone_since ? "" : link);
}

static void last_text(const struct top_dev *d, char *buf, size_t len)
{
	char ns[16];

	if (d->last_from < 0) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%s>%s %s", top_state_name(d->last_from), top_state_name(d->last_to),
		 top_fmt_ns(d->last_ns, ns, sizeof(ns)));
}

/* A name too long for its 24 columns keeps its head and tail: mdev UUIDs differ at the end. */
static const char *name_shown(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	if (n <= 24)
		return name;
	snprintf(buf, len, "%.10s...%s", name, name + n - 11);
	return buf;
}

void top_dev_line(const struct top_table *t, const struct top_dev *d, char *buf, size_t len)
{
	char pins[16], bmp[16], pinned[16], map[16], unmap[16], p50[16], p99[16], last[64];
	char pi[16], pd[16], data[16], mb[16], state[24], name[32];
	double dirty = top_dev_dirty(d);

	snprintf(state, sizeof(state), "%s%s", d->gone_since ? "GONE " : "",
		 top_state_name(d->state));
	snprintf(mb, sizeof(mb), dirty < 0 ? "-" : "%.1f", dirty * PAGE_BYTES / 1e6);
	last_text(d, last, sizeof(last));
	snprintf(buf, len,
		 "  %-24.24s %-8.8s %-12.12s %6.1fs %8s %8s %6s %6s %6s %7s %7s %7s %-29.29s %8s "
		 "%9s %8s",
		 name_shown(d->name, name, sizeof(name)), d->model[0] ? d->model : "-", state,
		 t->t - d->state_since, top_fmt(d->dirty_pins, pins, 16),
		 top_fmt(d->dirty_bitmap, bmp, 16), mb, top_fmt(d->pinned, pinned, 16),
		 top_fmt(d->map_rate, map, 16), top_fmt(d->unmap_rate, unmap, 16),
		 top_fmt_ns(d->bitmap_p50_ns, p50, 16), top_fmt_ns(d->bitmap_p99_ns, p99, 16), last,
		 top_fmt(d->pre_initial, pi, 16), top_fmt(d->pre_dirty, pd, 16),
		 top_fmt(d->data_bps, data, 16));
}

static int arc_lines(const struct top_dev *d, char out[][TOP_LINE], int n, int max)
{
	unsigned int i;
	char a[16], b[16], c[16];

	if (n < max)
		snprintf(out[n++], TOP_LINE, "Latency per arc (count, p50, p99, max):");
	for (i = 0; i < d->narcs && n < max; i++) {
		const struct top_arc *x = &d->arc[i];

		snprintf(out[n++], TOP_LINE, "  %-6s %-13s > %-13s %6llu %8s %8s %8s",
			 x->kind == VFMIG_H_STATE_SET ? "set" : "step", top_state_name(x->from),
			 top_state_name(x->to), (unsigned long long)x->count,
			 top_fmt_ns((double)x->p50_ns, a, 16), top_fmt_ns((double)x->p99_ns, b, 16),
			 top_fmt_ns((double)x->max_ns, c, 16));
	}
	if (!d->narcs && n < max)
		snprintf(out[n++], TOP_LINE, "  (no transition seen since vfmigtop started)");
	return n;
}

/* The link's origin and the migration's figures, for the detail view. */
static int link_lines(const struct top_vm *vm, char out[][TOP_LINE], int n, int max)
{
	const struct top_progress *p = &vm->prog;
	const struct top_link *l = &vm->link;
	char a[16], b[16], c[16], left[16];

	if (n < max && l->from_qmp)
		snprintf(out[n++], TOP_LINE,
			 "Link from QMP %s: max-bandwidth %sB/s, downtime-limit %.0f ms; RAM %sB; "
			 "QEMU %d, %s",
			 l->qmp_path, top_fmt(l->cap_bps, a, 16), l->downtime_s * 1e3,
			 top_fmt(l->ram_bytes, b, 16), l->qemu_major, l->run_status);
	else if (n < max)
		snprintf(out[n++], TOP_LINE, "Link from --bandwidth/--downtime: %sB/s, %.0f ms",
			 top_fmt(l->cap_bps, a, 16), l->downtime_s * 1e3);
	if (n < max && !p->known)
		snprintf(out[n++], TOP_LINE, "Migration: none seen");
	else if (n < max)
		snprintf(out[n++], TOP_LINE,
			 "Migration (%s): %s %.1f%%, sent %sB, remaining %sB, time left %s%s",
			 p->from_qmp ? "query-migrate" : "device probes", p->status, p->percent,
			 top_fmt(p->done_bytes, a, 16), top_fmt(p->remaining_bytes, b, 16),
			 p->left_low ? "at least " : "", left_text(p->left_s, left, sizeof(left)));
	if (n < max && p->known && p->from_qmp)
		snprintf(out[n++], TOP_LINE,
			 "  RAM %sB, dirty syncs %.0f, dirty %.0f pages/s, %.0f Mbit/s, "
			 "expected downtime %.0f ms",
			 top_fmt(p->total_bytes, c, 16), p->syncs, p->dirty_pages_rate, p->mbps,
			 p->expected_downtime_ms);
	return n;
}

static int vm_lines(const struct top_vm *vm, char out[][TOP_LINE], int n, int max)
{
	char spark[3 * TOP_SPARK + 1];
	unsigned int i;

	n = link_lines(vm, out, n, max);

	top_spark_text(vm->spark, vm->nspark, spark, sizeof(spark));
	if (n < max)
		snprintf(out[n++], TOP_LINE, "Dirty pages/s: %s", spark);
	if (n < max)
		snprintf(out[n++], TOP_LINE,
			 "W(t), distinct pages dirtied in the first t of a "
			 "harvest window:");
	for (i = 0; i < vm->nw && n < max; i += 2)
		snprintf(out[n++], TOP_LINE, "  t %10.3f ms  W %10.0f pages", vm->w_t_ms[i],
			 vm->w_pages[i]);
	if (!vm->nw && n < max)
		snprintf(out[n++], TOP_LINE, "  (no harvest window seen)");
	if (n < max)
		snprintf(out[n++], TOP_LINE, "Model: %s", vm->v.why);
	if (n < max)
		snprintf(out[n++], TOP_LINE, "Tuning:");
	for (i = 0; i < vm->ntuning && n < max; i++)
		snprintf(out[n++], TOP_LINE, "  %s", vm->tuning[i]);
	return n;
}

int top_detail_lines(const struct top_table *t, const struct top_vm *vm, const struct top_dev *d,
		     char out[][TOP_LINE], int max)
{
	unsigned int i, first, nd;
	char spark[3 * TOP_SPARK + 1];
	int n = 0;

	if (d) {
		top_dev_line(t, d, out[n++], TOP_LINE);
		top_spark_text(d->spark, d->nspark, spark, sizeof(spark));
		snprintf(out[n++], TOP_LINE, "Dirty pages/s: %s", spark);
		return arc_lines(d, out, n, max);
	}
	top_vm_line(t, vm, out[n++], TOP_LINE);
	n = vm_lines(vm, out, n, max);
	nd = top_vm_devs(t, vm->pid, &first);
	for (i = first; i < first + nd && n < max; i++) {
		snprintf(out[n++], TOP_LINE, "Device %s:", t->dev[i].name);
		n = arc_lines(&t->dev[i], out, n, max);
	}
	return n;
}

void top_print_text(FILE *f, const struct top_header *h, const struct top_table *t,
		    const regex_t *re)
{
	char line[TOP_LINE];
	unsigned int i, j, first, nd;

	top_header_line(h, 0, line, sizeof(line));
	fprintf(f, "%s\n", line);
	if (h->off)
		fprintf(f, "  off: %s\n", h->off_why);
	top_header_line(h, 1, line, sizeof(line));
	fprintf(f, "%s\n%s\n", line, top_titles());
	for (i = 0; i < t->nvms; i++) {
		if (!top_vm_matches(re, t, &t->vm[i]))
			continue;
		top_vm_line(t, &t->vm[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
		nd = top_vm_devs(t, t->vm[i].pid, &first);
		for (j = first; j < first + nd; j++) {
			if (!top_dev_matches(re, &t->vm[i], &t->dev[j]))
				continue;
			top_dev_line(t, &t->dev[j], line, sizeof(line));
			fprintf(f, "%s\n", line);
		}
	}
	if (!t->nvms)
		fprintf(f, "(no VM with a device seen yet)\n");
	fprintf(f, "\n");
	fflush(f);
}

/* A figure, or null when not tracked. */
static struct json_object *num(double v)
{
	return v < 0 ? NULL : json_object_new_double(v);
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *json_arcs(const struct top_dev *d)
{
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	for (i = 0; i < d->narcs; i++) {
		struct json_object *a = json_object_new_object();

		add(a, "kind",
		    json_object_new_string(d->arc[i].kind == VFMIG_H_STATE_SET ? "set" : "step"));
		add(a, "from", json_object_new_string(top_state_name(d->arc[i].from)));
		add(a, "to", json_object_new_string(top_state_name(d->arc[i].to)));
		add(a, "count", json_object_new_int64((int64_t)d->arc[i].count));
		add(a, "p50_ns", json_object_new_int64((int64_t)d->arc[i].p50_ns));
		add(a, "p99_ns", json_object_new_int64((int64_t)d->arc[i].p99_ns));
		json_object_array_add(arr, a);
	}
	return arr;
}

static struct json_object *json_dev(const struct top_table *t, const struct top_dev *d)
{
	struct json_object *o = json_object_new_object(), *last = NULL;
	double dirty = top_dev_dirty(d);

	add(o, "name", json_object_new_string(d->name));
	add(o, "model", json_object_new_string(d->model));
	add(o, "gone", json_object_new_boolean(d->gone_since > 0));
	add(o, "state", json_object_new_string(top_state_name(d->state)));
	add(o, "state_s", json_object_new_double(t->t - d->state_since));
	add(o, "dirty_pins_pages_s", num(d->dirty_pins));
	add(o, "dirty_bitmap_pages_s", num(d->dirty_bitmap));
	add(o, "dirty_mb_s", num(dirty < 0 ? dirty : dirty * PAGE_BYTES / 1e6));
	add(o, "pinned_pages", num(d->pinned));
	add(o, "map_per_s", json_object_new_double(d->map_rate));
	add(o, "unmap_per_s", json_object_new_double(d->unmap_rate));
	add(o, "bitmap_p50_ns", num(d->bitmap_p50_ns));
	add(o, "bitmap_p99_ns", num(d->bitmap_p99_ns));
	if (d->last_from >= 0) {
		last = json_object_new_object();
		add(last, "from", json_object_new_string(top_state_name(d->last_from)));
		add(last, "to", json_object_new_string(top_state_name(d->last_to)));
		add(last, "ns", json_object_new_double(d->last_ns));
	}
	add(o, "last_transition", last);
	add(o, "precopy_initial_bytes", num(d->pre_initial));
	add(o, "precopy_dirty_bytes", num(d->pre_dirty));
	add(o, "data_bytes_s", json_object_new_double(d->data_bps));
	add(o, "arcs", json_arcs(d));
	return o;
}

static struct json_object *json_verdict(const struct top_verdict *v)
{
	struct json_object *o = json_object_new_object();

	add(o, "known", json_object_new_boolean(v->known));
	if (v->known) {
		add(o, "converges", json_object_new_boolean(v->converges));
		add(o, "downtime_ms", json_object_new_double(v->downtime_s * 1e3));
		add(o, "total_s", json_object_new_double(v->total_s));
		add(o, "needs_bps", num(v->need_bps > 0 ? v->need_bps : -1));
	}
	add(o, "why", json_object_new_string(v->why));
	return o;
}

static struct json_object *json_link(const struct top_link *l)
{
	struct json_object *o = json_object_new_object();

	add(o, "from", json_object_new_string(l->from_qmp ? "qmp" : "flags"));
	add(o, "bandwidth_bps", json_object_new_double(l->cap_bps));
	add(o, "downtime_ms", json_object_new_double(l->downtime_s * 1e3));
	if (l->from_qmp) {
		add(o, "qmp", json_object_new_string(l->qmp_path));
		add(o, "ram_bytes", json_object_new_double(l->ram_bytes));
		add(o, "qemu_major", json_object_new_int(l->qemu_major));
		add(o, "run_status", json_object_new_string(l->run_status));
	}
	return o;
}

/* The migration's progress, or null when none was seen. */
static struct json_object *json_progress(const struct top_progress *p)
{
	struct json_object *o, *t;

	if (!p->known)
		return NULL;
	o = json_object_new_object();
	add(o, "from", json_object_new_string(p->from_qmp ? "qmp" : "probes"));
	add(o, "status", json_object_new_string(p->status));
	add(o, "percent", json_object_new_double(p->percent));
	add(o, "time_left_s", num(p->left_s));
	add(o, "time_left_lower_bound", json_object_new_boolean(p->left_low));
	add(o, "transferred_bytes", json_object_new_double(p->done_bytes));
	add(o, "remaining_bytes", json_object_new_double(p->remaining_bytes));
	if (!p->from_qmp)
		return o;
	add(o, "total_bytes", json_object_new_double(p->total_bytes));
	add(o, "dirty_sync_count", num(p->syncs));
	add(o, "dirty_pages_rate", num(p->dirty_pages_rate));
	add(o, "mbps", num(p->mbps));
	add(o, "expected_downtime_ms", num(p->expected_downtime_ms));
	t = json_object_new_array();
	json_object_array_add(t, json_object_new_double(p->qmp_t0));
	json_object_array_add(t, json_object_new_double(p->qmp_t1));
	add(o, "queried_t", t);
	return o;
}

static struct json_object *json_vm(const struct top_table *t, const struct top_vm *vm,
				   const regex_t *re)
{
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array();
	unsigned int j, first, nd = top_vm_devs(t, vm->pid, &first);

	add(o, "pid", json_object_new_int64(vm->pid));
	add(o, "name", json_object_new_string(vm->name));
	add(o, "comm", json_object_new_string(vm->comm));
	add(o, "gone", json_object_new_boolean(vm->gone_since > 0));
	add(o, "dirty_vcpu_pages_s", num(vm->dirty_vcpu));
	add(o, "dirty_pages_s", num(top_vm_dirty(t, vm)));
	add(o, "verdict", json_verdict(&vm->v));
	add(o, "link", json_link(&vm->link));
	add(o, "migration", json_progress(&vm->prog));
	for (j = first; j < first + nd; j++)
		if (top_dev_matches(re, vm, &t->dev[j]))
			json_object_array_add(devs, json_dev(t, &t->dev[j]));
	add(o, "devices", devs);
	return o;
}

void top_print_json(FILE *f, const struct top_header *h, const struct top_table *t,
		    const regex_t *re)
{
	struct json_object *o = json_object_new_object(), *vms = json_object_new_array(), *p;
	unsigned int i;

	add(o, "version", json_object_new_string(VFMIG_VERSION));
	add(o, "t", json_object_new_double(t->t));
	add(o, "interval_s", json_object_new_double(t->seconds));
	add(o, "host", json_object_new_string(h->host));
	add(o, "kernel", json_object_new_string(h->kernel));
	p = json_object_new_object();
	add(p, "attached", json_object_new_int(h->attached));
	add(p, "off", json_object_new_int(h->off));
	add(o, "probes", p);
	add(o, "events", json_object_new_int64((int64_t)h->events));
	add(o, "drops", json_object_new_int64((int64_t)h->drops));
	add(o, "bpf_run_ns_per_s", h->bpf_stats ? json_object_new_double(h->bpf_ns_per_s) : NULL);
	for (i = 0; i < t->nvms; i++)
		if (top_vm_matches(re, t, &t->vm[i]))
			json_object_array_add(vms, json_vm(t, &t->vm[i], re));
	add(o, "vms", vms);
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(f);
	json_object_put(o);
}

static const char *csv_num(double v, char *buf, size_t len)
{
	return num_or(v, "not tracked", 3, "", buf, len);
}

/* The VM's columns at the end of each of its lines: link, its origin, the migration. */
static void csv_vm_tail(const struct top_vm *vm, char *buf, size_t len)
{
	const struct top_progress *p = vm ? &vm->prog : NULL;
	char left[24];

	if (!vm) {
		snprintf(buf, len, ",,,,,");
		return;
	}
	snprintf(buf, len, "%s,%.0f,%.3f,%s,%s,%s", vm->link.from_qmp ? "qmp" : "flags",
		 vm->link.cap_bps, vm->link.downtime_s * 1e3, p->known ? p->status : "none",
		 p->known ? (snprintf(left, sizeof(left), "%.3f", p->percent), left) : "",
		 p->known ? csv_num(p->left_s, left, sizeof(left)) : "");
}

static const struct top_vm *vm_of(const struct top_table *t, uint32_t pid)
{
	unsigned int j;

	for (j = 0; j < t->nvms; j++)
		if (t->vm[j].pid == pid)
			return &t->vm[j];
	return NULL;
}

/* A VM without a device (a QEMU given by --qmp): a line of its own, the device's empty. */
static void csv_bare_vms(FILE *f, const struct top_table *t, const regex_t *re)
{
	char tail[160];
	unsigned int i, first;

	for (i = 0; i < t->nvms; i++) {
		const struct top_vm *vm = &t->vm[i];

		if (top_vm_devs(t, vm->pid, &first) || !top_vm_matches(re, t, vm))
			continue;
		csv_vm_tail(vm, tail, sizeof(tail));
		fprintf(f, "%.3f,%u,%s,,,,,,,,,,,,,,,%d,%s\n", t->t, vm->pid, vm->name,
			vm->gone_since > 0, tail);
	}
}

void top_print_csv(FILE *f, const struct top_table *t, const regex_t *re, bool header)
{
	char a[24], b[24], c[24], d50[24], d99[24], pi[24], pd[24], tail[160];
	unsigned int i;

	if (header)
		fprintf(f, "t,vm_pid,vm,device,model,state,state_s,dirty_pins_pages_s,"
			   "dirty_bitmap_pages_s,pinned_pages,map_per_s,unmap_per_s,bitmap_p50_ns,"
			   "bitmap_p99_ns,precopy_initial_bytes,precopy_dirty_bytes,data_bytes_s,"
			   "gone,link,link_bandwidth_bps,link_downtime_ms,migration,progress_pct,"
			   "time_left_s\n");
	for (i = 0; i < t->ndevs; i++) {
		const struct top_dev *d = &t->dev[i];
		const struct top_vm *vm = vm_of(t, d->pid);

		if (!top_dev_matches(re, vm, d))
			continue;
		csv_vm_tail(vm, tail, sizeof(tail));
		fprintf(f, "%.3f,%u,%s,%s,%s,%s,%.3f,%s,%s,%s,%.3f,%.3f,%s,%s,%s,%s,%.3f,%d,%s\n",
			t->t, d->pid, vm ? vm->name : "", d->name, d->model,
			top_state_name(d->state), t->t - d->state_since,
			csv_num(d->dirty_pins, a, 24), csv_num(d->dirty_bitmap, b, 24),
			csv_num(d->pinned, c, 24), d->map_rate, d->unmap_rate,
			csv_num(d->bitmap_p50_ns, d50, 24), csv_num(d->bitmap_p99_ns, d99, 24),
			csv_num(d->pre_initial, pi, 24), csv_num(d->pre_dirty, pd, 24), d->data_bps,
			d->gone_since > 0, tail);
	}
	csv_bare_vms(f, t, re);
	fflush(f);
}
