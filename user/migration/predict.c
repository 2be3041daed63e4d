// SPDX-License-Identifier: GPL-2.0
/*
 * Source 1 of a prediction: the parameters of a migration vfmig-emu would
 * run, turned into the model's inputs. The workload's W(T) follows from its
 * parameters (uniform writes over S pages at r/s dirty S(1 - e^(-rT/S)) distinct
 * pages; hot/cold is two such sets; a sweep min(rT, S)); the devices' from
 * their variants. The driver's fixed costs (link speed, hashing, tracking
 * set-up, harvest) are measured here on scratch memory of this process, never
 * the VM's: nothing is forked, no VM is touched.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "device/variant.h"
#include "memory/guest_mem.h"
#include "migration/predict.h"

#define PAGE 4096.0
#define CALIB_BYTES (4u << 20)
#define CALIB_MEM (4u << 20)
#define CURVE_POINTS 24
#define NIC_RING_PAGES 128.0	 /* 256 buffers of 2 KiB at rx_iova (variant_nic.c defaults) */
#define NIC_PAGES_PER_PACKET 0.5 /* a 2 KiB buffer is half a page */
#define NIC_STATE_BYTES 208.0	 /* its registers and ring record, framed */
#define REC_FRAME 32.0		 /* a stream record's header and checksum (EMU_REC_FRAME) */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *drain(void *arg)
{
	static char sink[1 << 20];
	int fd = *(int *)arg;

	while (read(fd, sink, sizeof(sink)) > 0)
		;
	return NULL;
}

/* What a socket moves here when pages are gathered as the driver does (writev of pages). */
static double link_speed(void)
{
	struct iovec iov[256];
	char *buf = malloc(CALIB_BYTES);
	double t0, t = 0;
	pthread_t reader;
	int sv[2], i;
	size_t off;

	if (!buf || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		free(buf);
		return 1e9;
	}
	memset(buf, 1, CALIB_BYTES);
	pthread_create(&reader, NULL, drain, &sv[1]);
	t0 = now_s();
	for (off = 0; off < CALIB_BYTES; off += sizeof(iov) / sizeof(iov[0]) * 4096) {
		for (i = 0; i < 256; i++)
			iov[i] = (struct iovec){buf + off + i * 4096, 4096};
		if (writev(sv[0], iov, 256) < 0)
			break;
	}
	t = now_s() - t0;
	close(sv[0]);
	pthread_join(reader, NULL);
	close(sv[1]);
	free(buf);
	return t > 0 ? CALIB_BYTES / t : 1e9;
}

/* Three samples of a cost's rate: the median is used, their spread is the range's. */
struct samples {
	double v[3];
};

/* Tracking set-up once, then hashing and a harvest three times, per byte of scratch RAM. */
static void memory_costs(struct predict_costs *c, struct samples *hash, struct samples *harvest)
{
	uint64_t *bitmap = calloc(CALIB_MEM / 4096 / 64 + 1, 8), n;
	struct guest_mem *g;
	double t = now_s();
	char err[256];
	bool tracking;
	int i;

	/* the destination builds its RAM (populated, locked) while the source starts tracking */
	g = guest_mem_create(CALIB_MEM, err, sizeof(err));
	tracking = g && !guest_mem_track_start(g);
	c->setup_s_per_byte = (now_s() - t) / CALIB_MEM;
	memset(hash, 0, sizeof(*hash));
	memset(harvest, 0, sizeof(*harvest));
	for (i = 0; i < 3 && g; i++) {
		t = now_s();
		XXH3_64bits(guest_mem_vcpu(g), CALIB_MEM);
		hash->v[i] = CALIB_MEM / fmax(now_s() - t, 1e-6);
		if (!tracking || !bitmap)
			continue;
		t = now_s();
		guest_mem_harvest(g, bitmap, &n);
		harvest->v[i] = CALIB_MEM / fmax(now_s() - t, 1e-6);
	}
	if (tracking)
		guest_mem_track_stop(g);
	guest_mem_destroy(g);
	free(bitmap);
}

static double median3(double a, double b, double d)
{
	return fmax(fmin(a, b), fmin(fmax(a, b), d));
}

/*
 * How far the samples spread, robust to one outlier (a sample the scheduler
 * stalled): the closest two's difference over the median.
 */
static double spread3(double a, double b, double d)
{
	double gap = fmin(fabs(a - b), fmin(fabs(a - d), fabs(b - d)));

	return gap / fmax(median3(a, b, d), 1e-12);
}

void predict_measure_costs(struct predict_costs *c)
{
	struct samples hash, harvest;
	double a, b, d;

	memory_costs(c, &hash, &harvest);
	c->hash_bps = median3(hash.v[0], hash.v[1], hash.v[2]);
	c->harvest_bps = median3(harvest.v[0], harvest.v[1], harvest.v[2]);
	c->cost_spread = fmax(spread3(hash.v[0], hash.v[1], hash.v[2]),
			      spread3(harvest.v[0], harvest.v[1], harvest.v[2]));
	a = link_speed();
	b = link_speed();
	d = link_speed();
	c->link_bps = median3(a, b, d);
	c->link_spread = spread3(a, b, d);
}

/* W(T) of writes spread evenly over s units at r/s: s (1 - e^(-rT/s)), sampled log-spaced. */
static void uniform_curve(struct model_curve *c, double units, double rate, double horizon)
{
	unsigned int i;

	c->n = CURVE_POINTS;
	for (i = 0; i < CURVE_POINTS; i++) {
		double t = horizon * pow(2, (double)i - (CURVE_POINTS - 1));

		c->t_s[i] = t;
		c->units[i] = units > 0 ? units * -expm1(-rate * t / units) : 0;
	}
	c->slope_after = 0;
	c->cap = units;
}

/* Two uniform sets, hot and cold, each with its share of the writes. */
static void hotcold_curve(struct model_curve *c, const struct workload_cfg *w, double horizon)
{
	double ws = (double)w->ws_pages, hot = fmax(1, fmin(ws, round(w->hot_fraction * ws)));
	struct model_curve a = {0}, b = {0};
	unsigned int i;

	uniform_curve(&a, hot, w->rate * w->hot_share, horizon);
	uniform_curve(&b, ws - hot, w->rate * (1 - w->hot_share), horizon);
	c->n = a.n;
	for (i = 0; i < a.n; i++) {
		c->t_s[i] = a.t_s[i];
		c->units[i] = a.units[i] + b.units[i];
	}
	c->slope_after = 0;
	c->cap = ws;
}

static void vcpu_curve(struct model_inputs *in, const struct workload_cfg *w, double horizon)
{
	struct model_curve *c = &in->curve[in->ncurves++];

	snprintf(c->name, sizeof(c->name), "vcpu");
	c->unit_bytes = PAGE;
	c->origin = ORIGIN_GIVEN;
	if (!w->threads || !w->rate) {
		c->cap = 0;
		return;
	}
	if (w->pattern == WORKLOAD_SWEEP) {
		c->n = 0;
		c->slope_after = (double)w->rate;
		c->cap = (double)w->ws_pages;
	} else if (w->pattern == WORKLOAD_HOTCOLD) {
		hotcold_curve(c, w, horizon);
	} else {
		uniform_curve(c, (double)w->ws_pages, (double)w->rate, horizon);
	}
}

/* A NIC's DMA into its receive ring: pinned pages dirty every round; else the ring it wrote. */
static void nic_curve(struct model_inputs *in, const struct vm_dev_spec *d, int i)
{
	struct model_curve *c;

	if (d->dirty == VM_DIRTY_NONE || (!d->rate && d->dirty != VM_DIRTY_TYPE1_IOMMU))
		return;
	c = &in->curve[in->ncurves++];
	snprintf(c->name, sizeof(c->name), "dev%d", i);
	c->unit_bytes = PAGE;
	c->origin = ORIGIN_GIVEN;
	if (d->dirty == VM_DIRTY_TYPE1_IOMMU) {
		c->every_round = true; /* type1 cannot see IOMMU DMA: every mapped page */
		c->cap = in->ram_bytes / PAGE;
	} else if (d->dirty == VM_DIRTY_TYPE1_PIN) {
		c->every_round = true; /* pinned pages are dirty on every read */
		c->cap = NIC_RING_PAGES;
	} else {
		c->slope_after = d->rate * NIC_PAGES_PER_PACKET;
		c->cap = NIC_RING_PAGES;
	}
}

static void bigmem_dev(struct model_inputs *in, const struct vm_dev_spec *d, int i, double horizon)
{
	struct model_device *m = &in->dev[in->ndevs];
	uint64_t bytes, blk;
	double mem, block;

	if (emu_param_u64(d->params, "mem", 64 << 20, &bytes) ||
	    emu_param_u64(d->params, "block", 64 << 10, &blk))
		bytes = 64 << 20, blk = 64 << 10;
	mem = (double)bytes;
	block = (double)blk;
	m->precopy = !d->features || d->features & 4;
	m->initial_bytes = mem / block * (block + REC_FRAME);
	m->state_bytes = 256;
	m->dirty_curve = -1;
	if (d->rate && m->precopy) {
		struct model_curve *c = &in->curve[in->ncurves];

		snprintf(c->name, sizeof(c->name), "dev%d", i);
		uniform_curve(c, mem / block, (double)d->rate, horizon);
		c->unit_bytes = block + REC_FRAME;
		c->origin = ORIGIN_GIVEN;
		m->dirty_curve = (int)in->ncurves++;
	}
	if (!m->precopy)
		m->state_bytes += m->initial_bytes;
}

void predict_apply_costs(const struct predict_costs *c, struct model_inputs *in)
{
	in->link_bps = c->link_bps;
	in->origin_link = in->origin_costs = ORIGIN_MEASURED;
	in->setup_s = c->setup_s_per_byte * in->ram_bytes;
	in->harvest_bps = c->harvest_bps;
	in->round_overhead_s = c->harvest_bps > 0 ? in->ram_bytes / c->harvest_bps : 0;
	in->verify_bps = c->hash_bps;
	in->stop_s = 0;
	in->dest_s = 0.0002;
	in->spread_rate = c->link_spread;
	in->spread_costs = c->cost_spread;
}

int predict_inputs(const struct vm_cfg *cfg, const struct predict_link *l,
		   const struct predict_costs *c, struct model_inputs *in)
{
	struct workload_cfg w = cfg->wl;
	double horizon;
	unsigned int i;

	memset(in, 0, sizeof(*in));
	in->engine = ENGINE_VFMIG;
	in->ram_bytes = (double)cfg->mem_size;
	in->page_bytes = PAGE;
	in->wire_bytes_per_page = PAGE + 8; /* a page and its index in the WIRE_PAGES record */
	in->cap_bps = l->cap_bps;
	in->downtime_limit_s = l->downtime_s;
	in->max_rounds = l->max_rounds;
	in->spread = 0; /* given curves: the workload's parameters */
	predict_apply_costs(c, in);
	if (!w.ws_pages)
		w.ws_pages = cfg->mem_size / 4096;
	horizon = fmax(1, in->ram_bytes / (l->cap_bps > 0 ? l->cap_bps : c->link_bps)) * 8;
	vcpu_curve(in, &w, horizon);
	for (i = 0; i < cfg->ndevs && in->ndevs < MODEL_MAX_DEVICES; i++) {
		const struct vm_dev_spec *d = &cfg->devs[i];

		if (!strcmp(d->variant, "nic")) {
			struct model_device *m = &in->dev[in->ndevs];

			m->state_bytes = NIC_STATE_BYTES;
			m->dirty_curve = -1;
			nic_curve(in, d, (int)i);
		} else {
			bigmem_dev(in, d, (int)i, horizon);
		}
		snprintf(in->dev[in->ndevs].name, sizeof(in->dev[0].name), "dev%u", i);
		in->dev[in->ndevs].origin = ORIGIN_GIVEN;
		in->ndevs++;
	}
	return 0;
}

int predict_migration(const struct vm_cfg *cfg, double cap_bps, double downtime_s,
		      unsigned int max_rounds, struct model_inputs *in)
{
	struct predict_link l = {
		.cap_bps = cap_bps, .downtime_s = downtime_s, .max_rounds = max_rounds};
	struct predict_costs c;

	predict_measure_costs(&c);
	return predict_inputs(cfg, &l, &c, in);
}
