// SPDX-License-Identifier: GPL-2.0
/* vfmigtop's figures: pure functions over the rows (see figures.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfio_state.h"
#include "vfmigtop/figures.h"

double top_rate(uint64_t delta, double seconds)
{
	return seconds > 0 ? (double)delta / seconds : 0;
}

double top_tracked_rate(bool tracked, uint64_t delta, double seconds)
{
	return tracked ? top_rate(delta, seconds) : TOP_NOT_TRACKED;
}

double top_pinned(uint64_t pinned, uint64_t unpinned, bool tracked)
{
	if (!tracked)
		return TOP_NOT_TRACKED;
	return pinned > unpinned ? (double)(pinned - unpinned) : 0;
}

static double tracked_sum(double a, double b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a + b;
}

double top_dev_dirty(const struct top_dev *d)
{
	return tracked_sum(d->dirty_pins, d->dirty_bitmap);
}

double top_vm_dirty(const struct top_table *t, const struct top_vm *vm)
{
	double sum = vm->dirty_vcpu;
	unsigned int i;

	for (i = 0; i < t->ndevs; i++)
		if (t->dev[i].pid == vm->pid)
			sum = tracked_sum(sum, top_dev_dirty(&t->dev[i]));
	return sum;
}

void top_spark_push(double *spark, unsigned int *n, double v)
{
	if (*n == TOP_SPARK) {
		memmove(spark, spark + 1, (TOP_SPARK - 1) * sizeof(*spark));
		(*n)--;
	}
	spark[(*n)++] = v < 0 ? 0 : v;
}

void top_spark_text(const double *spark, unsigned int n, char *out, size_t len)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	double max = 0;
	unsigned int i;
	size_t at = 0;

	for (i = 0; i < n; i++)
		max = spark[i] > max ? spark[i] : max;
	out[0] = 0;
	for (i = 0; i < n && at + 4 <= len; i++) {
		int b = max > 0 ? (int)lround(spark[i] / max * 7) : 0;

		at += (size_t)snprintf(out + at, len - at, "%s", bars[b]);
	}
}

static const struct top_dev *find_dev(const struct top_table *t, uint64_t key)
{
	unsigned int i;

	for (i = 0; t && i < t->ndevs; i++)
		if (t->dev[i].key == key)
			return &t->dev[i];
	return NULL;
}

static const struct top_vm *find_vm(const struct top_table *t, uint32_t pid)
{
	unsigned int i;

	for (i = 0; t && i < t->nvms; i++)
		if (t->vm[i].pid == pid)
			return &t->vm[i];
	return NULL;
}

static bool migrating(int state)
{
	return state == VFIO_DEVICE_STATE_PRE_COPY || state == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       state == VFIO_DEVICE_STATE_STOP_COPY;
}

static void carry_dev(const struct top_dev *o, struct top_dev *d, double now)
{
	d->state_since = o->state == d->state ? o->state_since : now;
	/* what the stream held before this migration began is not its progress */
	if (migrating(d->state))
		d->mig_base = migrating(o->state) ? o->mig_base : o->data_total;
	if (d->state == VFIO_DEVICE_STATE_STOP_COPY)
		d->stop_base = o->state == d->state ? o->stop_base : o->data_total;
	if (d->last_from < 0 && o->last_from >= 0) {
		d->last_from = o->last_from, d->last_to = o->last_to;
		d->last_ns = o->last_ns, d->last_t = o->last_t;
	}
	memcpy(d->spark, o->spark, sizeof(d->spark));
	d->nspark = o->nspark;
	if (o->gone_since > 0 && d->gone_since > 0)
		d->gone_since = o->gone_since;
}

/* A kernel device's row now folded into a process's row of its name (collect.c). */
static bool folded_now(const struct top_table *cur, const struct top_dev *k)
{
	unsigned int i;

	if (!vfmig_dev_is_kernel(k->key))
		return false;
	for (i = 0; i < cur->ndevs; i++)
		if (!vfmig_dev_is_kernel(cur->dev[i].key) && !strcmp(cur->dev[i].name, k->name))
			return true;
	return false;
}

/* Rows of old missing from cur: kept, marked gone, until TOP_GONE_KEEP_S has passed. */
static void keep_gone(const struct top_table *old, struct top_table *cur, double now)
{
	unsigned int i;

	for (i = 0; i < old->ndevs && cur->ndevs < TOP_MAX_DEVS; i++) {
		struct top_dev d = old->dev[i];

		if (find_dev(cur, d.key) || folded_now(cur, &d))
			continue;
		if (!d.gone_since)
			d.gone_since = now;
		if (now - d.gone_since < TOP_GONE_KEEP_S)
			cur->dev[cur->ndevs++] = d;
	}
	for (i = 0; i < old->nvms && cur->nvms < TOP_MAX_VMS; i++) {
		struct top_vm v = old->vm[i];

		if (find_vm(cur, v.pid))
			continue;
		if (!v.gone_since)
			v.gone_since = now;
		if (now - v.gone_since < TOP_GONE_KEEP_S)
			cur->vm[cur->nvms++] = v;
	}
}

/* Rows gone for longer than TOP_GONE_KEEP_S (the probes' maps keep a dead process's devices). */
static void drop_expired(struct top_table *t, double now)
{
	unsigned int i, n;

	for (i = n = 0; i < t->ndevs; i++)
		if (!t->dev[i].gone_since || now - t->dev[i].gone_since < TOP_GONE_KEEP_S)
			t->dev[n++] = t->dev[i];
	t->ndevs = n;
	for (i = n = 0; i < t->nvms; i++)
		if (!t->vm[i].gone_since || now - t->vm[i].gone_since < TOP_GONE_KEEP_S)
			t->vm[n++] = t->vm[i];
	t->nvms = n;
}

void top_vm_dev_progress(const struct top_table *t, struct top_vm *vm)
{
	struct top_progress *p = &vm->prog;
	double rate = 0;
	unsigned int i;
	int state = -1;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < t->ndevs; i++) {
		const struct top_dev *d = &t->dev[i];

		if (d->pid != vm->pid || d->gone_since || !migrating(d->state))
			continue;
		if (state != VFIO_DEVICE_STATE_STOP_COPY)
			state = d->state;
		p->done_bytes += d->data_total - d->mig_base;
		p->remaining_bytes += fmax(0, fmax(0, d->pre_initial) + fmax(0, d->pre_dirty) -
						      (d->data_total - d->stop_base));
		rate += d->data_bps;
	}
	if (state < 0)
		return;
	p->known = true;
	snprintf(p->status, sizeof(p->status), "%s", top_state_name(state));
	p->percent = p->done_bytes + p->remaining_bytes > 0
			     ? 100 * p->done_bytes / (p->done_bytes + p->remaining_bytes)
			     : 0;
	p->left_s = rate > 0 ? p->remaining_bytes / rate : -1;
	p->syncs = p->expected_downtime_ms = p->mbps = p->dirty_pages_rate = -1;
}

void top_table_carry(const struct top_table *old, struct top_table *cur, double now)
{
	unsigned int i;

	for (i = 0; i < cur->ndevs; i++) {
		struct top_dev *d = &cur->dev[i];
		const struct top_dev *o = find_dev(old, d->key);

		if (!migrating(d->state))
			d->mig_base = d->data_total;
		d->stop_base = d->data_total;
		if (o)
			carry_dev(o, d, now);
		else
			d->state_since = now;
		top_spark_push(d->spark, &d->nspark, top_dev_dirty(d));
	}
	for (i = 0; i < cur->nvms; i++) {
		struct top_vm *v = &cur->vm[i];
		const struct top_vm *o = find_vm(old, v->pid);

		if (o) {
			if (!v->comm[0]) /* the process has gone: its name as last seen */
				memcpy(v->comm, o->comm, sizeof(v->comm));
			memcpy(v->spark, o->spark, sizeof(v->spark));
			v->nspark = o->nspark;
			if (!v->v.known && !v->v.why[0]) { /* worked out less often: carried */
				v->v = o->v;
				v->nw = o->nw;
				memcpy(v->w_t_ms, o->w_t_ms, sizeof(v->w_t_ms));
				memcpy(v->w_pages, o->w_pages, sizeof(v->w_pages));
			}
			if (!v->ntuning && o->ntuning) {
				memcpy(v->tuning, o->tuning, sizeof(v->tuning));
				v->ntuning = o->ntuning;
			}
			if (o->gone_since > 0 && v->gone_since > 0)
				v->gone_since = o->gone_since;
		}
		top_spark_push(v->spark, &v->nspark, top_vm_dirty(cur, v));
	}
	if (old)
		keep_gone(old, cur, now);
	drop_expired(cur, now);
}

double top_dev_value(const struct top_dev *d, enum top_col c)
{
	switch (c) {
	case TOP_COL_STATE:
		return d->state;
	case TOP_COL_DIRTY:
		return top_dev_dirty(d);
	case TOP_COL_PINNED:
		return d->pinned;
	case TOP_COL_MAP:
		return d->map_rate + d->unmap_rate;
	case TOP_COL_P99:
		return d->bitmap_p99_ns;
	case TOP_COL_DATA:
		return d->data_bps;
	default:
		return 0;
	}
}

/* A VM's value: its vCPUs' dirty rate plus its devices', else the largest of its devices'. */
static double vm_value(const struct top_table *t, const struct top_vm *vm, enum top_col c)
{
	double best = TOP_NOT_TRACKED;
	unsigned int i;

	if (c == TOP_COL_DIRTY)
		return top_vm_dirty(t, vm);
	for (i = 0; i < t->ndevs; i++)
		if (t->dev[i].pid == vm->pid && top_dev_value(&t->dev[i], c) > best)
			best = top_dev_value(&t->dev[i], c);
	return best;
}

static const struct top_table *sort_table;
static const struct top_sort *sort_by;

/* Ties (and the name column) by name, then key: a stable order between refreshes. */
static int cmp_values(double a, double b, const char *na, const char *nb, uint64_t ka, uint64_t kb)
{
	int r = 0;

	if (sort_by->col != TOP_COL_NAME && a != b)
		r = a < b ? -1 : 1;
	if (!r && sort_by->col == TOP_COL_NAME)
		r = strcmp(na, nb);
	if (r)
		return sort_by->ascending ? r : -r;
	r = strcmp(na, nb);
	return r ? r : ka < kb ? -1 : ka > kb;
}

static int cmp_vm(const void *a, const void *b)
{
	const struct top_vm *x = a, *y = b;

	if (!x->gone_since != !y->gone_since) /* gone ones last */
		return x->gone_since ? 1 : -1;
	return cmp_values(vm_value(sort_table, x, sort_by->col),
			  vm_value(sort_table, y, sort_by->col), x->name, y->name, x->pid, y->pid);
}

static int vm_rank(uint32_t pid)
{
	unsigned int i;

	for (i = 0; i < sort_table->nvms; i++)
		if (sort_table->vm[i].pid == pid)
			return (int)i;
	return (int)sort_table->nvms;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct top_dev *x = a, *y = b;
	int rx = vm_rank(x->pid), ry = vm_rank(y->pid);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (!x->gone_since != !y->gone_since)
		return x->gone_since ? 1 : -1;
	return cmp_values(top_dev_value(x, sort_by->col), top_dev_value(y, sort_by->col), x->name,
			  y->name, x->key, y->key);
}

void top_table_sort(struct top_table *t, const struct top_sort *s)
{
	sort_table = t;
	sort_by = s;
	qsort(t->vm, t->nvms, sizeof(t->vm[0]), cmp_vm);
	qsort(t->dev, t->ndevs, sizeof(t->dev[0]), cmp_dev);
}

unsigned int top_vm_devs(const struct top_table *t, uint32_t pid, unsigned int *first)
{
	unsigned int i, n = 0;

	*first = 0;
	for (i = 0; i < t->ndevs; i++) {
		if (t->dev[i].pid != pid)
			continue;
		if (!n)
			*first = i;
		n++;
	}
	return n;
}

static bool text_matches(const regex_t *re, const char *s)
{
	return *s && !regexec(re, s, 0, NULL, 0);
}

bool top_dev_matches(const regex_t *re, const struct top_vm *vm, const struct top_dev *d)
{
	if (!re)
		return true;
	return (vm && text_matches(re, vm->name)) || text_matches(re, d->name) ||
	       text_matches(re, d->model) || text_matches(re, top_state_name(d->state));
}

bool top_vm_matches(const regex_t *re, const struct top_table *t, const struct top_vm *vm)
{
	unsigned int i;

	if (!re || text_matches(re, vm->name) || text_matches(re, vm->comm))
		return true;
	for (i = 0; i < t->ndevs; i++)
		if (t->dev[i].pid == vm->pid && top_dev_matches(re, NULL, &t->dev[i]))
			return true;
	return false;
}

const char *top_col_name(enum top_col c)
{
	static const char *const names[TOP_COL_NR] = {"name", "state",	 "dirty", "pinned",
						      "map",  "bmp-p99", "data"};

	return c < TOP_COL_NR ? names[c] : "?";
}

const char *top_state_name(int state)
{
	/* a request's "from" before anything told the probes the state: VFMIG_STATE_UNKNOWN */
	return state < 0 || state == VFMIG_STATE_UNKNOWN
		       ? "unknown"
		       : vfio_state_name((enum vfio_device_mig_state)state);
}

const char *top_fmt(double v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else if (v >= 1e9)
		snprintf(buf, len, "%.1fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fK", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *top_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 0)
		snprintf(buf, len, "-");
	else if (ns >= 1e9)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(buf, len, "%.0fus", ns / 1e3);
	else
		snprintf(buf, len, "%.0fns", ns);
	return buf;
}
