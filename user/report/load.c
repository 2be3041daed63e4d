// SPDX-License-Identifier: GPL-2.0
/* A recording into memory: events in time order, harvest windows, snapshots, devices. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "report/report.h"

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

struct rep_device *report_device(struct report *r, uint64_t key)
{
	struct rep_device *d;
	size_t i;

	for (i = 0; i < r->ndevs; i++)
		if (r->dev[i].key == key)
			return &r->dev[i];
	if (grow((void **)&r->dev, &r->dev_cap, r->ndevs + 1, sizeof(*r->dev)))
		return NULL;
	d = &r->dev[r->ndevs++];
	memset(d, 0, sizeof(*d));
	d->key = key;
	d->pid = (uint32_t)(vfmig_dev_is_emu(key)    ? vfmig_dev_emu_pid(key)
			    : vfmig_dev_is_qemu(key) ? vfmig_dev_qemu_pid(key)
						     : key >> 32);
	return d;
}

static uint64_t json_u64(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : "";
}

static void snap_device(struct report *r, json_object *d)
{
	struct rep_device *dev = report_device(r, json_u64(d, "key"));

	if (!dev)
		return;
	if (*json_str(d, "name"))
		snprintf(dev->name, sizeof(dev->name), "%s", json_str(d, "name"));
	if (*json_str(d, "variant"))
		snprintf(dev->variant, sizeof(dev->variant), "%s", json_str(d, "variant"));
	if (*json_str(d, "vm"))
		snprintf(dev->vm, sizeof(dev->vm), "%s", json_str(d, "vm"));
}

static void add_snapshot(struct report *r, const char *text, size_t *cap)
{
	json_object *o = json_tokener_parse(text), *a;
	struct rep_snapshot *s;
	size_t i;

	if (!o)
		return;
	if (!grow((void **)&r->snaps, cap, r->nsnaps + 1, sizeof(*r->snaps))) {
		s = &r->snaps[r->nsnaps++];
		memset(s, 0, sizeof(*s));
		s->t_ns = json_u64(o, "t_ns");
		if (json_object_object_get_ex(o, "host", &a) &&
		    json_object_is_type(a, json_type_array))
			for (i = 0; i < json_object_array_length(a) && i < VFMIG_C_NR; i++)
				s->host[i] = json_object_get_uint64(
					json_object_array_get_idx(a, i));
	}
	r->snap_lost_blocks = json_u64(o, "lost_blocks");
	if (json_object_object_get_ex(o, "devices", &a) && json_object_is_type(a, json_type_array))
		for (i = 0; i < json_object_array_length(a); i++)
			snap_device(r, json_object_array_get_idx(a, i));
	json_object_put(o);
	free(r->last_snapshot);
	r->last_snapshot = strdup(text);
}

static void add_end(struct report *r, const char *text)
{
	json_object *o = json_tokener_parse(text);

	r->has_end = true;
	if (!o)
		return;
	r->end_drops = json_u64(o, "drops");
	r->end_lost_blocks = json_u64(o, "lost_blocks");
	json_object_put(o);
}

struct caps {
	size_t ev, win, snap;
};

static void add_block(struct report *r, const struct rec_block *b, struct caps *c)
{
	switch (b->kind) {
	case REC_EVENTS:
		if (grow((void **)&r->ev, &c->ev, r->nevents + b->count, sizeof(*r->ev)) ||
		    rec_decode_events(b->data, b->len, b->count, r->ev + r->nevents))
			return;
		r->nevents += b->count;
		return;
	case REC_WINDOWS:
		if (b->len != b->count * sizeof(*r->win) ||
		    grow((void **)&r->win, &c->win, r->nwin + b->count, sizeof(*r->win)))
			return;
		memcpy(r->win + r->nwin, b->data, b->len);
		r->nwin += b->count;
		return;
	case REC_SNAPSHOT:
		add_snapshot(r, (const char *)b->data, &c->snap);
		return;
	case REC_END:
		add_end(r, (const char *)b->data);
		return;
	}
}

static int by_time(const void *a, const void *b)
{
	const struct vfmig_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void add_arc(struct rep_arc **arcs, size_t *n, const struct vfmig_event *e)
{
	struct rep_arc *p = realloc(*arcs, (*n + 1) * sizeof(**arcs));

	if (!p)
		return;
	*arcs = p;
	p[*n] = (struct rep_arc){.start_ns = e->ts_ns - e->a,
				 .ns = e->a,
				 .from = e->from,
				 .to = e->to,
				 .result = e->result};
	(*n)++;
}

static void add_size(struct rep_device *d, const struct vfmig_event *e)
{
	struct rep_size *p = realloc(d->sizes, (d->nsizes + 1) * sizeof(*p));

	if (!p)
		return;
	d->sizes = p;
	p[d->nsizes++] = (struct rep_size){.t_ns = e->ts_ns, .initial = e->a, .dirty = e->b};
}

/*
 * The process's device a kernel device's step was asked through: the one of
 * the stepping process with the kernel device's name (a real device's steps
 * are seen inside the kernel, keyed by its struct; its requests, data and
 * name through the process's fd). The kernel device itself when none is.
 */
static struct rep_device *step_owner(struct report *r, struct rep_device *k, uint32_t pid)
{
	size_t i;

	if (!k->name[0])
		return k;
	for (i = 0; i < r->ndevs; i++) {
		struct rep_device *d = &r->dev[i];

		if (d->pid == pid && !vfmig_dev_is_kernel(d->key) && !strcmp(d->name, k->name))
			return d;
	}
	return k;
}

/* What each device did, from its events. */
static void add_event(struct report *r, const struct vfmig_event *e)
{
	struct rep_device *d = report_device(r, e->dev);

	if (d && e->type == VFMIG_EV_FSM_STEP && vfmig_dev_is_kernel(e->dev))
		d = step_owner(r, d, e->pid);
	if (!d)
		return;
	switch (e->type) {
	case VFMIG_EV_FSM_STEP:
		add_arc(&d->arcs, &d->narcs, e);
		break;
	case VFMIG_EV_STATE_SET:
		add_arc(&d->sets, &d->nsets, e);
		break;
	case VFMIG_EV_PRECOPY_INFO:
		if (!e->result)
			add_size(d, e);
		break;
	case VFMIG_EV_DATA_READ:
		d->read_bytes += e->result > 0 ? (uint64_t)e->result : 0;
		break;
	case VFMIG_EV_DATA_WRITE:
		d->write_bytes += e->result > 0 ? (uint64_t)e->result : 0;
		break;
	case VFMIG_EV_BITMAP:
		d->dirty_pages += e->d;
		break;
	case VFMIG_EV_PIN:
		d->pinned_pages += e->result > 0 ? (uint64_t)e->result : 0;
		break;
	}
}

static bool wanted(uint16_t type)
{
	return type == VFMIG_EV_FSM_STEP || type == VFMIG_EV_STATE_SET ||
	       type == VFMIG_EV_PRECOPY_INFO || type == VFMIG_EV_DATA_READ ||
	       type == VFMIG_EV_DATA_WRITE || type == VFMIG_EV_BITMAP || type == VFMIG_EV_PIN;
}

int report_load_reader(struct rec_reader *rd, struct report *r)
{
	struct caps c = {0};
	struct rec_block b;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->header = strdup(rec_header(rd));
	while (rec_next(rd, &b) > 0)
		add_block(r, &b, &c);
	r->damage = *rec_damage(rd);
	if (r->nevents)
		qsort(r->ev, r->nevents, sizeof(*r->ev), by_time);
	for (i = 0; i < r->nevents; i++)
		if (wanted(r->ev[i].type))
			add_event(r, &r->ev[i]);
	report_timeline(r);
	return r->damage.cut || r->damage.skipped || r->damage.missing ? 3 : 0;
}

int report_load(const char *path, struct report *r, char *err, size_t errlen)
{
	struct rec_reader *rd = rec_open(path, err, errlen);
	int ret;

	if (!rd)
		return 1;
	ret = report_load_reader(rd, r);
	rec_reader_close(rd);
	return ret;
}

void report_damage_line(const struct report *r, char *out, size_t len)
{
	const struct rec_damage *d = &r->damage;

	if (d->skipped)
		snprintf(out, len,
			 "damaged block skipped at offset %llu (%u stretch(es), %llu "
			 "block(s) missing)%s",
			 (unsigned long long)d->first_skip, d->skipped,
			 (unsigned long long)d->missing, d->cut ? "; file cut short too" : "");
	else if (d->cut)
		snprintf(out, len, "recording cut short at offset %llu (not closed cleanly)",
			 (unsigned long long)d->cut_offset);
	else if (d->missing)
		snprintf(out, len, "%llu block(s) missing (sequence gap)",
			 (unsigned long long)d->missing);
	else
		out[0] = 0;
}

void report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->ndevs; i++) {
		free(r->dev[i].arcs);
		free(r->dev[i].sets);
		free(r->dev[i].sizes);
	}
	free(r->dev);
	free(r->mig);
	free(r->ev);
	free(r->win);
	free(r->snaps);
	free(r->header);
	free(r->last_snapshot);
	memset(r, 0, sizeof(*r));
}
