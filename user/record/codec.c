// SPDX-License-Identifier: GPL-2.0
/*
 * Events packed before zlib sees them: a 64-byte ring record is mostly
 * zeros, repeated devices and pids, and times a few microseconds apart.
 * Each event: the time since the previous one, type and source in a byte,
 * the device as an index into the block's own table, pid and tid as
 * differences, and the rest as zigzag varints; a block decodes alone.
 */
#include <string.h>

#include "record/record.h"

#define DEV_TABLE 256
#define TYPE_ESCAPE 0xe0 /* source 7: type and source follow as varints */

struct codec {
	uint64_t ts, dev[DEV_TABLE];
	uint32_t ndev, pid;
};

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (v < 0 ? ~0ull : 0);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static uint8_t *put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static int get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

static uint8_t *put_dev(struct codec *c, uint8_t *p, uint64_t dev)
{
	uint32_t i;

	for (i = 0; i < c->ndev; i++)
		if (c->dev[i] == dev)
			return put(p, i);
	p = put(p, c->ndev);
	if (c->ndev < DEV_TABLE)
		c->dev[c->ndev++] = dev;
	return put(p, dev);
}

static uint8_t *put_event(struct codec *c, uint8_t *p, const struct vfmig_event *e)
{
	p = put(p, zigzag((int64_t)(e->ts_ns - c->ts)));
	c->ts = e->ts_ns;
	if (e->type < 32 && e->source < 7) {
		*p++ = (uint8_t)(e->type | e->source << 5);
	} else {
		*p++ = TYPE_ESCAPE;
		p = put(p, e->type);
		p = put(p, e->source);
	}
	p = put_dev(c, p, e->dev);
	p = put(p, zigzag((int64_t)e->pid - c->pid));
	c->pid = e->pid;
	p = put(p, zigzag((int64_t)e->tid - e->pid));
	*p++ = e->from;
	*p++ = e->to;
	p = put(p, zigzag(e->result));
	p = put(p, zigzag((int64_t)e->a));
	p = put(p, zigzag((int64_t)e->b));
	p = put(p, zigzag((int64_t)e->c));
	return put(p, zigzag((int64_t)e->d));
}

size_t rec_encode_events(const struct vfmig_event *ev, size_t n, uint8_t *out)
{
	struct codec c = {0};
	uint8_t *p = out;
	size_t i;

	for (i = 0; i < n; i++)
		p = put_event(&c, p, &ev[i]);
	return (size_t)(p - out);
}

static int get_dev(struct codec *c, const uint8_t **p, const uint8_t *end, uint64_t *dev)
{
	uint64_t i;

	if (get(p, end, &i) || i > c->ndev)
		return -1;
	if (i < c->ndev) {
		*dev = c->dev[i];
		return 0;
	}
	if (get(p, end, dev))
		return -1;
	if (c->ndev < DEV_TABLE)
		c->dev[c->ndev++] = *dev;
	return 0;
}

static int get_event(struct codec *c, const uint8_t **p, const uint8_t *end, struct vfmig_event *e)
{
	uint64_t v[8];
	int i;

	memset(e, 0, sizeof(*e));
	if (get(p, end, &v[0]) || *p >= end)
		return -1;
	c->ts += (uint64_t)unzigzag(v[0]);
	e->ts_ns = c->ts;
	if (**p == TYPE_ESCAPE) {
		(*p)++;
		if (get(p, end, &v[0]) || get(p, end, &v[1]))
			return -1;
		e->type = (__u16)v[0];
		e->source = (__u16)v[1];
	} else {
		e->type = **p & 31;
		e->source = **p >> 5;
		(*p)++;
	}
	if (get_dev(c, p, end, &v[2]) || get(p, end, &v[0]) || get(p, end, &v[1]) || end - *p < 2)
		return -1;
	e->dev = v[2];
	c->pid += (uint32_t)unzigzag(v[0]);
	e->pid = c->pid;
	e->tid = (uint32_t)(e->pid + unzigzag(v[1]));
	e->from = *(*p)++;
	e->to = *(*p)++;
	for (i = 0; i < 5; i++)
		if (get(p, end, &v[i]))
			return -1;
	e->result = (__s32)unzigzag(v[0]);
	e->a = (uint64_t)unzigzag(v[1]);
	e->b = (uint64_t)unzigzag(v[2]);
	e->c = (uint64_t)unzigzag(v[3]);
	e->d = (uint64_t)unzigzag(v[4]);
	return 0;
}

int rec_decode_events(const uint8_t *in, size_t len, size_t n, struct vfmig_event *out)
{
	const uint8_t *p = in, *end = in + len;
	struct codec c = {0};
	size_t i;

	for (i = 0; i < n; i++)
		if (get_event(&c, &p, end, &out[i]))
			return -1;
	return p == end ? 0 : -1;
}
