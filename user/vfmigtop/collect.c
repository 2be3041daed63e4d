// SPDX-License-Identifier: GPL-2.0
/* vfmigtop's readings: probes -> top_table, the header, the verdicts (see collect.h). */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "model/model.h"
#include "probe/aggregate.h"
#include "probe/devname.h"
#include "probe/dirty_window.h"
#include "vfmigtop/collect.h"
#include "vfmigtop/qemus.h"

#define MAX_HISTS 1024
#define MAX_PROG_FDS 256
#define VERDICT_EVERY_S 1.0

/* The last transition the events showed of a device. */
struct last_step {
	uint64_t key;
	int from, to;
	double ns;
	bool requested; /* a STATE_SET: preferred to the driver's own arcs */
	uint32_t pid;	/* whose request the last step was (a kernel device's have no owner) */
};

struct vm_clock {
	uint32_t pid;
	double verdict_t;
};

struct top_src {
	struct vfmig_probes *p;
	struct dirty_windows *dw;
	struct agg_view *view;
	struct live_link link;
	struct top_qemus *qemus;
	double t0, bpf_t, bpf_ns;
	int stats_fd, nprogs, prog_fd[MAX_PROG_FDS];
	unsigned int nsteps, nclocks;
	struct last_step step[TOP_MAX_DEVS];
	struct vm_clock clock[TOP_MAX_VMS];
	uint64_t keys[VFMIG_MAX_DEVICES];
	struct agg_hist hists[MAX_HISTS];
	struct top_table scratch;
};

static struct last_step *step_of(struct top_src *s, uint64_t key, bool add)
{
	unsigned int i;

	for (i = 0; i < s->nsteps; i++)
		if (s->step[i].key == key)
			return &s->step[i];
	if (!add || s->nsteps == TOP_MAX_DEVS)
		return NULL;
	s->step[s->nsteps].key = key;
	return &s->step[s->nsteps++];
}

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct top_src *s = ctx;
	bool requested = e->type == VFMIG_EV_STATE_SET;
	struct last_step *l;

	if ((!requested && e->type != VFMIG_EV_FSM_STEP) || e->result)
		return 0;
	l = step_of(s, e->dev, true);
	if (!l)
		return 0;
	l->pid = e->pid;
	if (l->requested && !requested)
		return 0;
	l->from = e->from, l->to = e->to, l->ns = (double)e->a, l->requested = requested;
	return 0;
}

/* The fds of the programs vfmig loaded: /proc/self/fdinfo says which fds are programs. */
static void find_prog_fds(struct top_src *s)
{
	DIR *d = opendir("/proc/self/fdinfo");
	struct dirent *e;
	char path[288], line[128];

	while (d && (e = readdir(d)) && s->nprogs < MAX_PROG_FDS) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "prog_id:", 8)) {
				s->prog_fd[s->nprogs++] = atoi(e->d_name);
				break;
			}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

static double bpf_run_ns(const struct top_src *s)
{
	double ns = 0;
	int i;

	for (i = 0; i < s->nprogs; i++) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(s->prog_fd[i], &info, &len))
			ns += (double)info.run_time_ns;
	}
	return ns;
}

struct top_src *top_src_open(const struct probe_opts *o, const struct live_link *link, char *err,
			     size_t errlen)
{
	struct top_src *s = calloc(1, sizeof(*s));
	char dw_err[160];

	if (!s || !(s->view = agg_view_new())) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	if (probes_open(&s->p, o, err, errlen)) {
		agg_view_free(s->view);
		free(s);
		return NULL;
	}
	s->dw = dirty_windows_open(s->p, dw_err, sizeof(dw_err));
	s->link = *link;
	/* run time is counted only while someone holds this: while vfmigtop runs */
	s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	find_prog_fds(s);
	s->bpf_ns = bpf_run_ns(s);
	return s;
}

void top_src_close(struct top_src *s)
{
	if (!s)
		return;
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	dirty_windows_close(s->dw);
	agg_view_free(s->view);
	probes_close(s->p);
	free(s);
}

void top_src_set_qemus(struct top_src *s, struct top_qemus *qemus)
{
	s->qemus = qemus;
}

void top_src_poll(struct top_src *s, int timeout_ms)
{
	probes_poll(s->p, timeout_ms, on_event, s);
	if (s->dw)
		dirty_windows_poll(s->dw, 0);
}

void top_src_reset(struct top_src *s, double now)
{
	agg_step(s->p, s->view, now);
	s->t0 = now;
}

int top_src_probes(struct top_src *s, const struct probe_row **rows)
{
	return probes_table(s->p, rows);
}

static uint64_t sum_ifaces(const uint64_t *c, int first)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < VFMIG_IFACE_NR; i++)
		n += c[first + i];
	return n;
}

static void dev_counters(const struct agg_view *v, struct top_dev *d)
{
	const struct agg_figures *f = agg_device(v, d->key);
	const uint64_t *t, *dl;
	double sec = v->seconds;

	d->dirty_pins = d->dirty_bitmap = d->pinned = TOP_NOT_TRACKED;
	if (!f)
		return;
	t = f->total, dl = f->delta;
	d->dirty_pins = top_tracked_rate(t[VFMIG_C_PIN_CALLS] > 0, dl[VFMIG_C_PAGES_PINNED], sec);
	d->pinned = top_pinned(t[VFMIG_C_PAGES_PINNED], t[VFMIG_C_PAGES_UNPINNED],
			       t[VFMIG_C_PIN_CALLS] > 0);
	d->dirty_bitmap = top_tracked_rate(sum_ifaces(t, VFMIG_C_BITMAP_QUERIES) > 0,
					   sum_ifaces(dl, VFMIG_C_BITMAP_DIRTY), sec);
	d->map_rate = top_rate(dl[VFMIG_C_MAP_CALLS], sec);
	d->unmap_rate = top_rate(dl[VFMIG_C_UNMAP_CALLS], sec);
	d->data_bps = top_rate(dl[VFMIG_C_DATA_READ_BYTES] + dl[VFMIG_C_DATA_WRITE_BYTES], sec);
	d->data_total = (double)(t[VFMIG_C_DATA_READ_BYTES] + t[VFMIG_C_DATA_WRITE_BYTES]);
	if (!t[VFMIG_C_PRECOPY_INFOS])
		d->pre_initial = d->pre_dirty = TOP_NOT_TRACKED;
}

/* Histograms of the device: per arc (FSM steps), and the bitmap queries' percentiles. */
static void dev_hists(const struct top_src *s, int nh, struct top_dev *d)
{
	struct vfmig_hist bitmap = {0};
	int i, j;

	for (i = 0; i < nh; i++) {
		const struct agg_hist *h = &s->hists[i];
		struct top_arc *a;

		if (h->key.dev != d->key || h->key.result)
			continue;
		if (h->key.kind == VFMIG_H_BITMAP) {
			bitmap.count += h->h.count;
			for (j = 0; j < VFMIG_HIST_SLOTS; j++)
				bitmap.slots[j] += h->h.slots[j];
			continue;
		}
		if ((h->key.kind != VFMIG_H_FSM_STEP && h->key.kind != VFMIG_H_STATE_SET) ||
		    d->narcs == TOP_MAX_ARCS)
			continue;
		a = &d->arc[d->narcs++];
		a->kind = h->key.kind, a->from = h->key.from, a->to = h->key.to;
		a->count = h->h.count, a->max_ns = h->h.max_ns;
		a->p50_ns = agg_percentile(&h->h, 0.5);
		a->p99_ns = agg_percentile(&h->h, 0.99);
		memcpy(a->slots, h->h.slots, sizeof(a->slots));
	}
	d->bitmap_p50_ns = bitmap.count ? (double)agg_percentile(&bitmap, 0.5) : TOP_NOT_TRACKED;
	d->bitmap_p99_ns = bitmap.count ? (double)agg_percentile(&bitmap, 0.99) : TOP_NOT_TRACKED;
}

static void dev_names(struct top_src *s, struct top_dev *d, struct dev_owner *o)
{
	struct vfmig_dev_name seen;

	devname_resolve(&devname_host, d->key, agg_dev_seen(s->p, d->key, &seen) ? NULL : &seen, o);
	snprintf(d->name, sizeof(d->name), "%s", o->name);
	snprintf(d->model, sizeof(d->model), "%s", o->variant);
}

static void read_dev(struct top_src *s, int nh, uint64_t key, struct top_dev *d,
		     struct dev_owner *o)
{
	struct vfmig_dev_state st;
	const struct last_step *l = step_of(s, key, false);

	memset(d, 0, sizeof(*d));
	d->key = key;
	d->pid = agg_dev_pid(key);
	d->state = -1;
	d->last_from = d->last_to = -1;
	dev_names(s, d, o);
	if (!agg_dev_state(s->p, key, &st)) {
		d->state = st.state == VFMIG_STATE_UNKNOWN ? -1 : st.state;
		d->pre_initial = (double)st.precopy_initial;
		d->pre_dirty = (double)st.precopy_dirty;
	}
	if (l) {
		d->last_from = l->from, d->last_to = l->to, d->last_ns = l->ns;
	}
	dev_counters(s->view, d);
	dev_hists(s, nh, d);
}

static struct top_vm *vm_row(struct top_src *s, struct top_table *t, const struct dev_owner *o,
			     uint32_t pid)
{
	struct top_vm *vm;
	unsigned int i;

	for (i = 0; i < t->nvms; i++)
		if (t->vm[i].pid == pid)
			return &t->vm[i];
	if (t->nvms == TOP_MAX_VMS)
		return NULL;
	vm = &t->vm[t->nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	snprintf(vm->comm, sizeof(vm->comm), "%s", o->comm);
	if (agg_vm_name(s->p, pid, vm->name, sizeof(vm->name)))
		snprintf(vm->name, sizeof(vm->name), "%s", o->domain[0] ? o->domain : o->comm);
	return vm;
}

static struct vm_clock *clock_of(struct top_src *s, uint32_t pid)
{
	unsigned int i;

	for (i = 0; i < s->nclocks; i++)
		if (s->clock[i].pid == pid)
			return &s->clock[i];
	if (s->nclocks == TOP_MAX_VMS)
		return NULL;
	s->clock[s->nclocks] = (struct vm_clock){.pid = pid, .verdict_t = -1e9};
	return &s->clock[s->nclocks++];
}

static void vm_tuning(const struct model_inputs *in, struct top_vm *vm)
{
	struct model_tuning tu;

	model_tune(in, &tu);
	vm->ntuning = 0;
	vm->v.need_bps = tu.needed ? tu.bandwidth_bps : 0;
	if (!tu.needed) {
		snprintf(vm->tuning[vm->ntuning++], sizeof(vm->tuning[0]),
			 "converges as it is: nothing to tune");
		return;
	}
	if (tu.bandwidth_bps > 0)
		snprintf(vm->tuning[vm->ntuning++], sizeof(vm->tuning[0]),
			 "bandwidth cap at least %.0f MB/s", tu.bandwidth_bps / 1e6);
	if (tu.downtime_s > 0)
		snprintf(vm->tuning[vm->ntuning++], sizeof(vm->tuning[0]),
			 "downtime limit at least %.0f ms", tu.downtime_s * 1e3);
	if (tu.vcpu_scale > 0)
		snprintf(vm->tuning[vm->ntuning++], sizeof(vm->tuning[0]),
			 "or throttle the vCPUs to %.0f%% of their write rate",
			 tu.vcpu_scale * 100);
	if (tu.device >= 0 && tu.device_scale > 0)
		snprintf(vm->tuning[vm->ntuning++], sizeof(vm->tuning[0]),
			 "or device %d's DMA to %.0f%% of its rate", tu.device,
			 tu.device_scale * 100);
}

/* The link of the verdict: the flags', or the QEMU's own parameters read through QMP. */
static struct live_link vm_link(const struct top_src *s, const struct top_vm *vm)
{
	struct live_link l = s->link;

	if (vm->link.from_qmp) {
		l.engine = top_qemu_engine(vm->link.qemu_major);
		l.cap_bps = vm->link.cap_bps;
		l.downtime_s = vm->link.downtime_s;
	}
	return l;
}

/* The inputs from the probes' measures, else (a QEMU given by --qmp) from QMP's dirty rate. */
static int vm_inputs(struct top_src *s, struct top_vm *vm, double now, struct model_inputs *in)
{
	static struct live_measure m;
	struct live_link l = vm_link(s, vm);

	live_devices(s->p, vm->pid, &m);
	m.pid = vm->pid;
	m.window_s = now - s->t0;
	if (!s->dw)
		snprintf(vm->v.why, sizeof(vm->v.why), "no dirty windows: the dirty family is off");
	else
		vm->nw = (unsigned int)dirty_window_curve(s->dw, vm->pid, 0, vm->w_t_ms,
							  vm->w_pages, 32);
	if (s->dw && !live_inputs(s->dw, &m, &l, in, vm->v.why, sizeof(vm->v.why)))
		return 0;
	if (!vm->link.from_qmp)
		return -1;
	if (vm->prog.syncs >= 2 && !top_qemu_inputs(vm, vm->link.ram_bytes, in))
		return 0;
	snprintf(vm->v.why, sizeof(vm->v.why),
		 "no dirty rate yet: the probes saw no W(T) of this QEMU, and QMP gives one from "
		 "a migration's 2nd sync");
	return -1;
}

/* The model's verdict at the link, from what the probes (or QMP) measured of the VM. */
static void vm_verdict(struct top_src *s, struct top_vm *vm, double now)
{
	struct vm_clock *c = clock_of(s, vm->pid);
	static struct model_inputs in;
	static struct model_result r;

	if (!c || now - c->verdict_t < VERDICT_EVERY_S)
		return; /* carried from the last reading */
	c->verdict_t = now;
	vm->v.known = false;
	if (vm_inputs(s, vm, now, &in))
		return;
	if (model_predict(&in, &r)) {
		snprintf(vm->v.why, sizeof(vm->v.why), "%s", r.why);
		return;
	}
	vm->v = (struct top_verdict){.known = true,
				     .converges = r.converged && !r.forced,
				     .downtime_s = r.downtime_s,
				     .total_s = r.total_s};
	snprintf(vm->v.why, sizeof(vm->v.why), "%s", r.why);
	vm_tuning(&in, vm);
}

static void vm_figures(struct top_src *s, struct top_vm *vm, double now)
{
	const struct agg_figures *f = agg_vm(s->view, vm->pid);

	vm->dirty_vcpu = TOP_NOT_TRACKED;
	if (f && (f->total[VFMIG_C_WRITE_FAULTS] || f->total[VFMIG_C_KVM_DIRTY_PUSH]))
		vm->dirty_vcpu = top_rate(f->delta[VFMIG_C_WRITE_FAULTS] +
						  f->delta[VFMIG_C_KVM_DIRTY_PUSH],
					  s->view->seconds);
	if (!vm->link.from_qmp) {
		vm->link.cap_bps = s->link.cap_bps;
		vm->link.downtime_s = s->link.downtime_s >= 0 ? s->link.downtime_s : 0.3;
	}
	if (kill((pid_t)vm->pid, 0) && errno == ESRCH)
		vm->gone_since = now;
	else
		vm_verdict(s, vm, now);
}

static void read_header(struct top_src *s, double now, struct top_header *h)
{
	const struct probe_row *rows;
	struct utsname u;
	double ns = bpf_run_ns(s);
	int i, n = probes_table(s->p, &rows);

	memset(h, 0, sizeof(*h));
	if (!uname(&u)) {
		snprintf(h->host, sizeof(h->host), "%s", u.nodename);
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	}
	for (i = 0; i < n; i++) {
		if (rows[i].attached) {
			h->attached++;
			continue;
		}
		if (!h->off++)
			snprintf(h->off_why, sizeof(h->off_why), "%s: %s", rows[i].program,
				 rows[i].reason);
	}
	h->events = s->view->host.total[VFMIG_C_EVENTS];
	h->drops = s->view->host.total[VFMIG_C_DROPS];
	h->bpf_stats = s->stats_fd >= 0;
	h->bpf_ns_per_s = now > s->bpf_t && s->bpf_t > 0 ? (ns - s->bpf_ns) / (now - s->bpf_t) : 0;
	s->bpf_ns = ns, s->bpf_t = now;
	h->interval_s = s->view->seconds;
}

/*
 * A kernel device (FSM steps seen inside the kernel, keyed by its struct, no
 * process) is the device of the process whose request stepped it last, of
 * the same name: its steps join that row. Its histograms count every
 * process's steps since the probes came (two processes may open one mdev in
 * turn). One no such process names stays a row of its own, alive while the
 * probes still know it.
 */
static bool fold_into_owner(struct top_table *t, const struct top_dev *k, uint32_t pid)
{
	unsigned int i, j;

	for (i = 0; i < t->ndevs; i++) {
		struct top_dev *d = &t->dev[i];

		if (vfmig_dev_is_kernel(d->key) || d->pid != pid || strcmp(d->name, k->name))
			continue;
		for (j = 0; j < k->narcs && d->narcs < TOP_MAX_ARCS; j++)
			d->arc[d->narcs++] = k->arc[j];
		if (d->last_from < 0 && d->last_to < 0)
			d->last_from = k->last_from, d->last_to = k->last_to,
			d->last_ns = k->last_ns;
		return true;
	}
	return false;
}

static void fold_kernel_devices(struct top_src *s, struct top_table *t, struct dev_owner *o)
{
	unsigned int i, n = 0;

	for (i = 0; i < t->ndevs; i++) {
		const struct last_step *l = step_of(s, t->dev[i].key, false);

		if (vfmig_dev_is_kernel(t->dev[i].key)) {
			if (l && l->pid && fold_into_owner(t, &t->dev[i], l->pid))
				continue;
			o[i].alive = true;
		}
		if (n != i) {
			t->dev[n] = t->dev[i];
			o[n] = o[i];
		}
		n++;
	}
	t->ndevs = n;
}

int top_src_read(struct top_src *s, double now, const struct top_table *old, struct top_table *t,
		 struct top_header *h)
{
	static struct dev_owner owner[TOP_MAX_DEVS];
	unsigned int i, ndevs;
	int n, nh;

	if (!s->t0)
		s->t0 = now;
	if (agg_step(s->p, s->view, now))
		return -1;
	n = agg_devices(s->p, s->keys, VFMIG_MAX_DEVICES);
	nh = agg_hists(s->p, s->hists, MAX_HISTS);
	memset(t, 0, offsetof(struct top_table, vm));
	t->t = now, t->seconds = s->view->seconds;
	for (i = 0; i < (unsigned int)n && t->ndevs < TOP_MAX_DEVS; i++) {
		read_dev(s, nh, s->keys[i], &t->dev[t->ndevs], &owner[t->ndevs]);
		t->ndevs++;
	}
	fold_kernel_devices(s, t, owner);
	for (i = 0, ndevs = t->ndevs, t->ndevs = 0; i < ndevs; i++) {
		struct top_dev *d = &t->dev[i];

		if (!owner[i].alive)
			d->gone_since = now;
		if (!vm_row(s, t, &owner[i], d->pid))
			continue;
		if (t->ndevs != i)
			t->dev[t->ndevs] = *d;
		t->ndevs++;
	}
	top_qemus_read(s->qemus, t);
	for (i = 0; i < t->nvms; i++)
		vm_figures(s, &t->vm[i], now);
	top_table_carry(old, t, now);
	for (i = 0; i < t->nvms; i++)
		if (!t->vm[i].prog.known && !t->vm[i].gone_since)
			top_vm_dev_progress(t, &t->vm[i]);
	read_header(s, now, h);
	return 0;
}
