// SPDX-License-Identifier: GPL-2.0
/* QEMUs given by --qmp: their rows, links and migrations' progress (see qemus.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qemu/inputs.h"
#include "vfmigtop/qemus.h"
#include "vfmigtop/screen.h"

struct top_qemu {
	struct qmp q;
	char name[64];
	struct top_link link;
	struct top_progress prog;
	double duplicate, normal; /* query-migrate's zero and whole pages sent */
	double sending_s;	  /* total-time less setup-time: how long it has been sending */
};

struct top_qemus {
	unsigned int n;
	struct top_qemu qemu[TOP_QEMUS_MAX];
};

static int open_one(struct top_qemu *e, const char *path, char *err, size_t len)
{
	struct stat st;
	json_object *r;

	e->q.fd = -1;
	if (!stat(path, &st) && !S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "--qmp %s: not a socket (QEMU's -qmp unix:PATH makes one)",
			 path);
		return -1;
	}
	if (qmp_open(&e->q, path, QMP_TIMEOUT_MS)) {
		snprintf(err, len, "%s", e->q.err);
		return -1;
	}
	if (e->q.pid <= 0) {
		snprintf(err, len, "--qmp %s: the socket's peer has no pid", path);
		return -1;
	}
	r = qmp_execute(&e->q, "query-name", NULL);
	snprintf(e->name, sizeof(e->name), "%s", qmp_get_str(r, "name", ""));
	json_object_put(r);
	snprintf(e->link.qmp_path, sizeof(e->link.qmp_path), "%s", path);
	e->link.qemu_major = e->q.version[0];
	return 0;
}

struct top_qemus *top_qemus_open(char *const *paths, unsigned int n, char *err, size_t len)
{
	struct top_qemus *qs = calloc(1, sizeof(*qs));
	unsigned int i;

	if (!qs) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if (n > TOP_QEMUS_MAX) {
		snprintf(err, len, "--qmp: at most %d QEMUs", TOP_QEMUS_MAX);
		free(qs);
		return NULL;
	}
	for (i = 0; i < n; i++, qs->n++)
		if (open_one(&qs->qemu[i], paths[i], err, len)) {
			qmp_close(&qs->qemu[i].q);
			top_qemus_close(qs);
			return NULL;
		}
	return qs;
}

void top_qemus_close(struct top_qemus *qs)
{
	unsigned int i;

	if (!qs)
		return;
	for (i = 0; i < qs->n; i++)
		qmp_close(&qs->qemu[i].q);
	free(qs);
}

enum model_engine top_qemu_engine(int major)
{
	return major >= 8 ? ENGINE_QEMU8 : ENGINE_QEMU72;
}

int top_qemu_inputs(const struct top_vm *vm, double ram_bytes, struct model_inputs *in)
{
	const struct top_progress *p = &vm->prog;
	struct model_curve *c = &in->curve[0];
	double pages = ram_bytes / QEMU_PAGE_SIZE;

	memset(in, 0, sizeof(*in));
	if (!p->from_qmp || p->dirty_pages_rate < 0 || ram_bytes <= 0)
		return -1;
	in->engine = top_qemu_engine(vm->link.qemu_major);
	in->ram_bytes = ram_bytes;
	in->page_bytes = QEMU_PAGE_SIZE;
	in->wire_bytes_per_page = QEMU_PAGE_SIZE + QEMU_PAGE_HEADER;
	in->cap_bps = vm->link.cap_bps;
	in->link_bps = QEMU_ASSUMED_LINK_BPS;
	in->downtime_limit_s = vm->link.downtime_s;
	in->setup_s = QEMU_ASSUMED_SETUP_S;
	in->stop_s = QEMU_ASSUMED_STOP_S;
	in->dest_s = QEMU_ASSUMED_DEST_S;
	in->origin_link = in->origin_costs = ORIGIN_ASSUMED;
	/* W(T) at the rate QEMU measured over its last sync period, at most all of RAM */
	snprintf(c->name, sizeof(c->name), "qemu");
	c->n = 1;
	c->t_s[0] = 1;
	c->units[0] = fmin(p->dirty_pages_rate, vm->link.ram_bytes / QEMU_PAGE_SIZE);
	c->slope_after = p->dirty_pages_rate;
	c->cap = fmax(pages, vm->link.ram_bytes / QEMU_PAGE_SIZE);
	c->unit_bytes = QEMU_PAGE_SIZE;
	c->origin = ORIGIN_MEASURED;
	in->ncurves = 1;
	snprintf(in->source, sizeof(in->source), "QMP %s: dirty-pages-rate %.0f pages/s",
		 vm->link.qmp_path, p->dirty_pages_rate);
	return 0;
}

/* Time left: the model run on what is left, at the bandwidth achieved so far (at most its cap). */
static void time_left(const struct top_qemu *e, struct top_vm *vm)
{
	struct top_progress *p = &vm->prog;
	static struct model_inputs in;
	static struct model_result r;
	double pages = p->remaining_bytes / QEMU_PAGE_SIZE;

	p->left_s = -1;
	if (!strcmp(p->status, "completed")) {
		p->left_s = 0;
		return;
	}
	if (strcmp(p->status, "active") || top_qemu_inputs(vm, p->remaining_bytes, &in))
		return;
	/* QEMU measures its first dirty rate at the sync that ends round 1: until then, 0 */
	p->left_low = p->syncs < 2;
	/* QEMU's mbps covers its last 100 ms and drops near 0 while it skips zero pages */
	if (e->sending_s > 0.5 && p->done_bytes > 0)
		in.cap_bps = fmin(in.cap_bps > 0 ? in.cap_bps : INFINITY,
				  p->done_bytes / e->sending_s);
	in.setup_s = 0;
	/* the first round still holds zero pages, as many as it has sent so far */
	if (p->syncs < 2 && e->duplicate + e->normal > 0)
		in.zero_pages = pages * e->duplicate / (e->duplicate + e->normal);
	if (!model_predict(&in, &r) && r.converged)
		p->left_s = r.total_s;
}

static void read_migration(struct top_qemu *e, json_object *r, struct top_progress *p)
{
	json_object *ram = NULL;

	json_object_object_get_ex(r, "ram", &ram);
	snprintf(p->status, sizeof(p->status), "%s", qmp_get_str(r, "status", "none"));
	p->known = strcmp(p->status, "none") != 0;
	p->from_qmp = true;
	p->done_bytes = qmp_get_double(ram, "transferred", 0);
	p->remaining_bytes = qmp_get_double(ram, "remaining", 0);
	p->total_bytes = qmp_get_double(ram, "total", 0);
	p->syncs = qmp_get_double(ram, "dirty-sync-count", -1);
	p->mbps = qmp_get_double(ram, "mbps", -1);
	p->dirty_pages_rate = qmp_get_double(ram, "dirty-pages-rate", -1);
	p->expected_downtime_ms = qmp_get_double(r, "expected-downtime", -1);
	p->percent = p->done_bytes + p->remaining_bytes > 0
			     ? 100 * p->done_bytes / (p->done_bytes + p->remaining_bytes)
			     : 0;
	if (!strcmp(p->status, "completed"))
		p->percent = 100, p->remaining_bytes = 0;
	e->duplicate = qmp_get_double(ram, "duplicate", 0);
	e->normal = qmp_get_double(ram, "normal", 0);
	e->sending_s = (qmp_get_double(r, "total-time", 0) - qmp_get_double(r, "setup-time", 0)) /
		       1e3;
}

/* One QEMU's parameters, status and migration. -1 when its socket failed. */
static int read_one(struct top_qemu *e)
{
	struct qemu_inputs in;
	json_object *r;

	if (qemu_read_inputs(&e->q, &in))
		return -1;
	e->link.from_qmp = true;
	e->link.cap_bps = (double)in.max_bandwidth;
	e->link.downtime_s = in.downtime_limit_ms / 1e3;
	e->link.ram_bytes = (double)in.ram_bytes;
	snprintf(e->link.run_status, sizeof(e->link.run_status), "%s", in.status);
	memset(&e->prog, 0, sizeof(e->prog));
	e->prog.qmp_t0 = top_now();
	r = qmp_execute(&e->q, "query-migrate", NULL);
	e->prog.qmp_t1 = top_now();
	if (!r)
		return -1;
	read_migration(e, r, &e->prog);
	json_object_put(r);
	return 0;
}

static struct top_vm *row_of(struct top_table *t, const struct top_qemu *e)
{
	struct top_vm *vm;
	unsigned int i;
	char path[64];
	FILE *f;

	for (i = 0; i < t->nvms; i++)
		if (t->vm[i].pid == (uint32_t)e->q.pid)
			return &t->vm[i];
	if (t->nvms == TOP_MAX_VMS)
		return NULL;
	vm = &t->vm[t->nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = (uint32_t)e->q.pid;
	vm->dirty_vcpu = TOP_NOT_TRACKED;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)e->q.pid);
	f = fopen(path, "re");
	if (f && fgets(vm->comm, sizeof(vm->comm), f))
		vm->comm[strcspn(vm->comm, "\n")] = 0;
	if (f)
		fclose(f);
	snprintf(vm->name, sizeof(vm->name), "%s", e->name[0] ? e->name : "qemu");
	return vm;
}

void top_qemus_read(struct top_qemus *qs, struct top_table *t)
{
	unsigned int i, n = 0;

	for (i = 0; qs && i < qs->n; i++) {
		struct top_qemu *e = &qs->qemu[i];
		struct top_vm *vm;

		if (read_one(e)) {
			/* gone, or not answering: its row is kept a while as gone */
			qmp_close(&e->q);
			continue;
		}
		qs->qemu[n++] = *e;
		vm = row_of(t, e);
		if (!vm)
			continue;
		vm->link = e->link;
		vm->prog = e->prog;
		time_left(e, vm);
	}
	if (qs)
		qs->n = n;
}
