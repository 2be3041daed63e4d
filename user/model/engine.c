// SPDX-License-Identifier: GPL-2.0
/*
 * The round-by-round simulation, one policy per engine. Round 0 sends all of
 * RAM (and the devices' PRE_COPY initial bytes); round i what was dirtied
 * while round i - 1 was sent; before each round the engine's stop rule is
 * asked whether what is pending fits in bandwidth x downtime limit.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"

#define QEMU_FAILED_DATA_SIZE (100.0 * (1ull << 30)) /* hw/vfio/migration.c */
#define QEMU_ZERO_PAGE_BYTES 9.0		     /* a zero page's record: header + byte */
#define NO_CAP_HORIZON_S 3600.0			     /* past this QEMU never completes */

struct sim {
	const struct model_inputs *in;
	struct model_result *r;
	double rate;	  /* bytes/s a round moves: the cap, or the link */
	double page;	  /* bytes a page costs on the wire */
	double dev_dirty; /* device bytes rewritten since they were last sent */
};

static double round_rate(const struct model_inputs *in)
{
	return in->cap_bps > 0 && in->cap_bps < in->link_bps ? in->cap_bps : in->link_bps;
}

/* Device memory rewritten in a window (blocks x block bytes), PRE_COPY devices. */
static double dev_dirty_bytes(const struct model_inputs *in, double t)
{
	double bytes = 0;
	unsigned int i;

	for (i = 0; i < in->ndevs; i++) {
		const struct model_device *d = &in->dev[i];

		if (d->precopy && d->dirty_curve >= 0) {
			const struct model_curve *c = &in->curve[d->dirty_curve];

			bytes += model_curve_at(c, t) * c->unit_bytes;
		}
	}
	return bytes;
}

/* MIG_DATA_SIZE summed: what STOP_COPY would still produce (QEMU 8: 100 GiB for a refusal). */
static double data_size(const struct sim *s, bool qemu)
{
	double total = s->dev_dirty;
	unsigned int i;

	for (i = 0; i < s->in->ndevs; i++) {
		if (qemu && s->in->dev[i].data_size_fails)
			total += QEMU_FAILED_DATA_SIZE;
		total += s->in->dev[i].state_bytes;
	}
	return total;
}

static double initial_bytes(const struct model_inputs *in)
{
	double total = 0;
	unsigned int i;

	for (i = 0; i < in->ndevs; i++)
		total += in->dev[i].precopy ? in->dev[i].initial_bytes : 0;
	return total;
}

static void add_round(struct sim *s, double pages, double dirty, double dev, double pending,
		      double ram_record_bytes)
{
	struct model_round *x = &s->r->round[s->r->nrounds++];

	x->ram_pages = pages;
	x->dirty_pages = dirty;
	x->dev_bytes = dev;
	x->pending_bytes = pending;
	x->bytes = ram_record_bytes + dev;
	x->seconds = x->bytes / s->rate + (s->r->nrounds > 1 ? s->in->round_overhead_s : 0);
	s->r->bytes += x->bytes;
	s->r->total_s += x->seconds;
}

/* Downtime: stop, harvest, the last pages and device data at final_rate, the destination. */
/* What each guest-page dirtier made in t, for the round that sends it. */
static void by_source(const struct model_inputs *in, struct model_round *x, double t)
{
	unsigned int i;

	for (i = 0; i < in->ncurves; i++)
		x->by_src[i] = in->curve[i].unit_bytes == in->page_bytes
				       ? model_curve_at(&in->curve[i], t)
				       : 0;
}

static void switchover(struct sim *s, double pages, double final_rate)
{
	const struct model_inputs *in = s->in;
	struct model_result *r = s->r;
	double dev = data_size(s, false);

	r->final_pages = pages;
	r->final_dev_bytes = dev;
	r->dt_stop_s = in->stop_s;
	r->dt_harvest_s = in->harvest_bps > 0 ? in->ram_bytes / in->harvest_bps : 0;
	r->dt_ram_s = pages * s->page / final_rate;
	r->dt_dev_s = dev / final_rate;
	r->dt_dest_s = in->dest_s;
	r->downtime_s = r->dt_stop_s + r->dt_harvest_s + r->dt_ram_s + r->dt_dev_s + r->dt_dest_s;
	r->bytes += pages * s->page + dev;
	r->total_s += r->downtime_s;
}

static void say_why(struct sim *s, double pending)
{
	struct model_result *r = s->r;

	if (r->converged)
		snprintf(r->why, sizeof(r->why),
			 "pending %.1f MB fits in bandwidth x downtime limit = %.1f MB after %u "
			 "round(s)",
			 pending / 1e6, r->threshold_bytes / 1e6, r->nrounds);
	else
		snprintf(
			r->why, sizeof(r->why),
			"pending never falls below %.1f MB (what is dirtied while it is sent), over "
			"the %.1f MB that bandwidth x downtime limit allows%s",
			r->floor_bytes / 1e6, r->threshold_bytes / 1e6,
			r->forced ? ": the round cap forces the switchover" : "");
}

/*
 * vfmig's driver (migrate.c precopy()): pending = harvested pages + every device's
 * MIG_DATA_SIZE, checked before each round after the first; no switchover while a
 * device's initial bytes are unsent; the round cap forces one; the cap holds in every phase.
 */
static void run_vfmig(struct sim *s)
{
	const struct model_inputs *in = s->in;
	struct model_result *r = s->r;
	double pages = in->ram_bytes / in->page_bytes, t, dirty, pending;

	r->total_s = in->setup_s;
	add_round(s, pages, 0, initial_bytes(in), 0, pages * s->page);
	for (;;) {
		const struct model_round *last = &r->round[r->nrounds - 1];

		/* the driver's bandwidth: its last round of 1 MiB or more, harvest included */
		if (last->bytes >= 1 << 20 || r->nrounds == 1)
			r->threshold_bytes = last->bytes / last->seconds * in->downtime_limit_s;
		t = last->seconds;
		dirty = model_dirty_pages(in, t);
		s->dev_dirty = dev_dirty_bytes(in, t);
		pending = dirty * in->page_bytes + data_size(s, false);
		r->floor_bytes = fmin(r->floor_bytes, pending);
		if (pending <= r->threshold_bytes) {
			r->converged = true;
			break;
		}
		if (r->nrounds >= in->max_rounds || r->nrounds >= MODEL_MAX_ROUNDS - 1) {
			r->forced = true;
			break;
		}
		add_round(s, dirty, dirty, s->dev_dirty, pending, dirty * s->page);
		by_source(in, &r->round[r->nrounds - 1], t);
	}
	switchover(s, dirty, s->rate);
	r->total_s += in->verify_bps > 0 ? 2 * in->ram_bytes / in->verify_bps : 0;
	say_why(s, pending);
}

/*
 * QEMU (migration.c migration_iteration_run): pending = RAM's dirty bytes (+ VFIO's
 * MIG_DATA_SIZE from 8.0, 100 GiB when it fails), threshold = the bandwidth measured over the
 * last ~100 ms x downtime-limit; no round cap: it iterates until it fits; zero pages go as
 * small records; the final stop-copy is not rate-limited (7.2's ram_save_complete).
 */
static void run_qemu(struct sim *s, bool vfio)
{
	const struct model_inputs *in = s->in;
	struct model_result *r = s->r;
	double pages = in->ram_bytes / in->page_bytes, zero = fmin(in->zero_pages, pages);
	double t, dirty, pending;

	r->total_s = in->setup_s;
	add_round(s, pages, 0, vfio ? initial_bytes(in) : 0, 0,
		  (pages - zero) * s->page + zero * QEMU_ZERO_PAGE_BYTES);
	for (;;) {
		t = r->round[r->nrounds - 1].seconds;
		dirty = model_dirty_pages(in, t);
		s->dev_dirty = vfio ? dev_dirty_bytes(in, t) : 0;
		pending = dirty * in->page_bytes + (vfio ? data_size(s, true) : 0);
		r->floor_bytes = fmin(r->floor_bytes, pending);
		if (pending < r->threshold_bytes) {
			r->converged = true;
			break;
		}
		if (r->total_s > NO_CAP_HORIZON_S || r->nrounds >= MODEL_MAX_ROUNDS - 1)
			break;
		add_round(s, dirty, dirty, s->dev_dirty, pending, dirty * s->page);
		by_source(in, &r->round[r->nrounds - 1], t);
	}
	if (r->converged)
		switchover(s, dirty, in->link_bps);
	say_why(s, pending);
}

/*
 * QEMU 7.2's precopy, RAM only, step by step (QEMU v7.2.0 sources):
 * - migration.c migration_update_counters, every BUFFER_DELAY (100 ms):
 *     "bandwidth = (double)transferred / time_spent;
 *      s->threshold_size = bandwidth * s->parameters.downtime_limit;"
 *   the bandwidth measured over the last 100 ms, capped by max-bandwidth: rate x limit.
 * - qemu-file.c qemu_file_rate_limit / migration.c migration_rate_limit: each 100 ms
 *   window sends at most max-bandwidth / XFER_LIMIT_RATIO (10) bytes, then waits.
 * - ram.c ram_save_pending: "remaining_size = rs->migration_dirty_pages *
 *   TARGET_PAGE_SIZE; if (!migration_in_postcopy() && remaining_size < max_size)
 *   { ... migration_bitmap_sync_precopy(rs); ...}": the dirty bitmap is synced only
 *   once what is left of the round falls below the threshold, so a round ends with
 *   pages still unsent, which the sync's newly dirty pages join.
 * - migration.c migration_iteration_run: "if (pending_size && pending_size >=
 *   s->threshold_size) { ... qemu_savevm_state_iterate(...); } else { ...
 *   migration_completion(s); }": no round cap, it iterates until pending fits.
 * - ram.c save_zero_page_to_file: a zero page is a header and one byte.
 * - migration.c migration_completion: "qemu_file_set_rate_limit(s->to_dst_file,
 *   INT64_MAX);" before qemu_savevm_state_complete_precopy: the stop-copy is not
 *   rate-limited (ram_save_complete "flush all remaining blocks regardless of rate
 *   limiting"), so it goes at the link's speed.
 */
#define QEMU_BUFFER_DELAY_S 0.1

struct qemu72_step {
	double remaining;   /* dirty pages not yet sent */
	double since_sync;  /* seconds since the last bitmap sync */
	double round_bytes; /* sent since that sync */
	double round_pages;
	double dirty, pending, window; /* the sync that started the round, and its window */
};

/* One rate-limit window: pages sent at cost bytes each, up to rate x 100 ms. */
static void qemu72_send(struct sim *s, struct qemu72_step *st, double cost)
{
	double bytes = fmin(s->rate * QEMU_BUFFER_DELAY_S, st->remaining * cost);
	double pages = bytes / cost;

	st->remaining -= pages;
	st->round_pages += pages;
	st->round_bytes += bytes;
	st->since_sync += bytes / s->rate;
}

/* A round ends at a sync; past the table's end, its last row sums the rest. */
static void qemu72_round(struct sim *s, const struct qemu72_step *st)
{
	struct model_result *r = s->r;
	struct model_round *x = &r->round[r->nrounds];

	if (r->nrounds < MODEL_MAX_ROUNDS - 1)
		r->nrounds++;
	else
		x = &r->round[r->nrounds - 1];
	x->ram_pages += st->round_pages;
	x->dirty_pages = st->dirty;
	x->pending_bytes = st->pending;
	x->bytes += st->round_bytes;
	x->seconds += st->since_sync;
	by_source(s->in, x, st->window);
	r->bytes += st->round_bytes;
	r->total_s += st->since_sync;
}

static void run_qemu72(struct sim *s)
{
	const struct model_inputs *in = s->in;
	struct model_result *r = s->r;
	double pages = in->ram_bytes / in->page_bytes, zero = fmin(in->zero_pages, pages);
	double cost = ((pages - zero) * s->page + zero * QEMU_ZERO_PAGE_BYTES) / pages;
	struct qemu72_step st = {.remaining = pages};
	double dirty, pending;

	r->total_s = in->setup_s;
	for (;;) {
		qemu72_send(s, &st, cost);
		if (st.remaining * in->page_bytes >= r->threshold_bytes)
			continue;
		/* the sync: what the round left joins what was dirtied since the last one */
		dirty = model_dirty_pages(in, st.since_sync);
		pending = fmin(st.remaining + dirty, pages) * in->page_bytes;
		qemu72_round(s, &st);
		r->floor_bytes = fmin(r->floor_bytes, pending);
		if (!pending || pending < r->threshold_bytes) {
			r->converged = true;
			break;
		}
		if (r->total_s > NO_CAP_HORIZON_S)
			break;
		st = (struct qemu72_step){.remaining = pending / in->page_bytes,
					  .dirty = dirty,
					  .pending = pending,
					  .window = st.since_sync};
		cost = s->page; /* rewritten pages are not zero */
	}
	/* what fit is the stop-copy, not a round of its own */
	if (r->converged)
		switchover(s, pending / in->page_bytes, in->link_bps);
	say_why(s, pending);
}

int model_predict(const struct model_inputs *in, struct model_result *out)
{
	struct sim s = {.in = in, .r = out};

	memset(out, 0, sizeof(*out));
	out->floor_bytes = INFINITY;
	if (in->ram_bytes <= 0 || in->page_bytes <= 0 || in->link_bps <= 0 ||
	    in->downtime_limit_s <= 0) {
		snprintf(out->why, sizeof(out->why),
			 "RAM, page size, link bandwidth and downtime limit must be positive");
		return -1;
	}
	s.rate = round_rate(in);
	s.page = in->wire_bytes_per_page > 0 ? in->wire_bytes_per_page : in->page_bytes;
	out->threshold_bytes = s.rate * in->downtime_limit_s;
	if (in->engine == ENGINE_VFMIG)
		run_vfmig(&s);
	else if (in->engine == ENGINE_QEMU72)
		run_qemu72(&s);
	else
		run_qemu(&s, in->engine == ENGINE_QEMU8);
	return 0;
}

/*
 * The inputs at the low and high ends of their measured spreads: curves
 * scaled, the link's speed and the fixed costs moved the other way for the
 * high end. The range of every outcome.
 */
void model_range(const struct model_inputs *in, struct model_result *lo, struct model_result *hi)
{
	static struct model_inputs v;
	unsigned int i;
	int side;

	for (side = 0; side < 2; side++) {
		double k = side ? 1 + in->spread : 1 - in->spread;
		double rate = side ? 1 / (1 + in->spread_rate) : 1 + in->spread_rate;
		double cost = side ? 1 + in->spread_costs : 1 / (1 + in->spread_costs);

		v = *in;
		for (i = 0; i < v.ncurves; i++) {
			if (v.curve[i].origin != ORIGIN_MEASURED)
				continue;
			for (unsigned int j = 0; j < v.curve[i].n; j++)
				v.curve[i].units[j] *= k;
			v.curve[i].slope_after *= k;
		}
		if (in->origin_link == ORIGIN_MEASURED) /* a cap holds while the link is above it */
			v.link_bps *= rate;
		if (in->origin_costs == ORIGIN_MEASURED) {
			v.round_overhead_s *= cost;
			v.setup_s *= cost;
			v.harvest_bps /= cost;
			v.verify_bps /= cost;
		}
		model_predict(&v, side ? hi : lo);
	}
}

const char *model_engine_name(enum model_engine e)
{
	return e == ENGINE_VFMIG ? "vfmig" : e == ENGINE_QEMU72 ? "qemu-7.2" : "qemu-8+vfio";
}

const char *model_origin_name(enum model_origin o)
{
	return o == ORIGIN_MEASURED ? "measured" : o == ORIGIN_GIVEN ? "given" : "assumed";
}
