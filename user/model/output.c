// SPDX-License-Identifier: GPL-2.0
/* A prediction printed with the keys of vfmig-emu migrate --json, or as text. */
#include <math.h>

#include "common/json.h"
#include "model/model.h"
#include "vfmig/version.h"

static double ms(double s)
{
	return s * 1e3;
}

/* migrate --json's round keys: dirty pages by source (vcpu, devN), bandwidth in bytes/s. */
static void rounds_json(FILE *f, const struct model_inputs *in, const struct model_result *r)
{
	unsigned int i, k;

	fprintf(f, "\"rounds\":[");
	for (i = 0; i < r->nrounds; i++) {
		const struct model_round *x = &r->round[i];
		const char *sep = "";

		fprintf(f, "%s{\"ram_pages\":%.0f,\"dirty_pages\":{", i ? "," : "", x->ram_pages);
		for (k = 0; k < in->ncurves; k++) {
			if (in->curve[k].unit_bytes != in->page_bytes)
				continue;
			fprintf(f, "%s\"%s\":%.0f", sep, in->curve[k].name, x->by_src[k]);
			sep = ",";
		}
		fprintf(f,
			"},\"dev_bytes\":%.0f,\"pending\":%.0f,\"bytes\":%.0f,\"ms\":%.3f,"
			"\"bandwidth\":%.0f}",
			x->dev_bytes, x->pending_bytes, x->bytes, ms(x->seconds),
			x->seconds > 0 ? x->bytes / x->seconds : 0);
	}
	fprintf(f, "]");
}

static void outcome_json(FILE *f, const struct model_result *r)
{
	bool done = r->converged || r->forced;

	fprintf(f,
		"\"converged\":%s,\"forced_switchover\":%s,\"total_ms\":%.3f,\"bytes\":%.0f,"
		"\"downtime_ms\":%.3f,\"downtime_parts_ms\":{\"stop_devices\":%.3f,"
		"\"final_harvest\":%.3f,\"final_ram\":%.3f,\"final_device_data\":%.3f,"
		"\"destination\":%.3f},\"final_pages\":%.0f,\"final_device_bytes\":%.0f",
		r->converged ? "true" : "false", r->forced ? "true" : "false",
		done ? ms(r->total_s) : -1, r->bytes, done ? ms(r->downtime_s) : -1,
		ms(r->dt_stop_s), ms(r->dt_harvest_s), ms(r->dt_ram_s), ms(r->dt_dev_s),
		ms(r->dt_dest_s), r->final_pages, r->final_dev_bytes);
}

/* The range holds the prediction itself: an outcome need not move monotonically with inputs. */
static double low(double v, double a, double b)
{
	return fmin(v, fmin(a, b));
}

static double high(double v, double a, double b)
{
	return fmax(v, fmax(a, b));
}

static void range_json(FILE *f, const char *key, double v, double a, double b)
{
	fprintf(f, "\"%s\":{\"low\":%.3f,\"high\":%.3f}", key, low(v, a, b), high(v, a, b));
}

static void inputs_json(FILE *f, const struct model_inputs *in)
{
	unsigned int i;

	fprintf(f,
		"\"inputs\":{\"engine\":\"%s\",\"ram_bytes\":%.0f,\"bandwidth_cap\":%.0f,"
		"\"link\":{\"bytes_per_s\":%.0f,\"origin\":\"%s\"},\"downtime_limit_ms\":%.3f,"
		"\"max_rounds\":%u,\"fixed_costs\":\"%s\",\"curves\":[",
		model_engine_name(in->engine), in->ram_bytes, in->cap_bps, in->link_bps,
		model_origin_name(in->origin_link), ms(in->downtime_limit_s), in->max_rounds,
		model_origin_name(in->origin_costs));
	for (i = 0; i < in->ncurves; i++) {
		const struct model_curve *c = &in->curve[i];

		fprintf(f, "%s{\"name\":", i ? "," : "");
		json_string(f, c->name);
		fprintf(f,
			",\"origin\":\"%s\",\"unit_bytes\":%.0f,\"every_round\":%s,\"cap\":%.0f}",
			model_origin_name(c->origin), c->unit_bytes,
			c->every_round ? "true" : "false", c->cap);
	}
	fprintf(f, "],\"devices\":[");
	for (i = 0; i < in->ndevs; i++) {
		const struct model_device *d = &in->dev[i];

		fprintf(f, "%s{\"name\":", i ? "," : "");
		json_string(f, d->name);
		fprintf(f,
			",\"origin\":\"%s\",\"precopy\":%s,\"initial_bytes\":%.0f,"
			"\"state_bytes\":%.0f}",
			model_origin_name(d->origin), d->precopy ? "true" : "false",
			d->initial_bytes, d->state_bytes);
	}
	fprintf(f, "]}");
}

void model_print_json(FILE *f, const struct model_inputs *in, const struct model_result *r,
		      const struct model_result *lo, const struct model_result *hi, bool baselines)
{
	fprintf(f, "{\"version\":\"%s\",", VFMIG_VERSION);
	if (in->source[0]) {
		fprintf(f, "\"source\":");
		json_string(f, in->source);
		fprintf(f, ",");
	}
	rounds_json(f, in, r);
	fprintf(f, ",");
	outcome_json(f, r);
	fprintf(f, ",\"why\":");
	json_string(f, r->why);
	fprintf(f, ",\"threshold_bytes\":%.0f,\"range\":{", r->threshold_bytes);
	range_json(f, "total_ms", ms(r->total_s), ms(lo->total_s), ms(hi->total_s));
	fprintf(f, ",");
	range_json(f, "downtime_ms", ms(r->downtime_s), ms(lo->downtime_s), ms(hi->downtime_s));
	fprintf(f, ",");
	range_json(f, "bytes", r->bytes, lo->bytes, hi->bytes);
	fprintf(f, "},");
	inputs_json(f, in);
	if (baselines) {
		struct model_result g;

		model_geometric(in, &g);
		fprintf(f, ",\"baselines\":{\"geometric\":{\"rounds\":%u,", g.nrounds);
		outcome_json(f, &g);
		fprintf(f, "},\"qemu_expected_downtime\":{\"downtime_ms\":%.3f}}",
			ms(model_qemu_expected_downtime(in, r)));
	}
	fprintf(f, "}\n");
}

void model_print_text(FILE *f, const struct model_inputs *in, const struct model_result *r,
		      const struct model_result *lo, const struct model_result *hi)
{
	unsigned int i;

	if (in->source[0])
		fprintf(f, "measured: %s\n", in->source);
	fprintf(f, "engine %s; link %.1f MB/s (%s), cap %.1f MB/s, downtime limit %.1f ms\n",
		model_engine_name(in->engine), in->link_bps / 1e6,
		model_origin_name(in->origin_link), in->cap_bps / 1e6, ms(in->downtime_limit_s));
	for (i = 0; i < in->ncurves; i++)
		fprintf(f, "  dirtier %-10s %s%s\n", in->curve[i].name,
			model_origin_name(in->curve[i].origin),
			in->curve[i].every_round ? ", dirty in full every round" : "");
	fprintf(f, "%5s %10s %12s %12s %9s\n", "round", "ram_pages", "dev_bytes", "pending", "ms");
	for (i = 0; i < r->nrounds; i++)
		fprintf(f, "%5u %10.0f %12.0f %12.0f %9.1f\n", i, r->round[i].ram_pages,
			r->round[i].dev_bytes, r->round[i].pending_bytes, ms(r->round[i].seconds));
	fprintf(f, "%s: %s\n",
		r->converged ? "converges"
		: r->forced  ? "does NOT converge (the round cap forces the switchover)"
			     : "does NOT converge",
		r->why);
	if (!r->converged && !r->forced)
		return;
	fprintf(f,
		"total %.0f ms (%.0f..%.0f), %.1f MB; downtime %.1f ms (%.1f..%.1f): stop %.2f, "
		"harvest %.2f, RAM %.2f, device data %.2f, destination %.2f\n",
		ms(r->total_s), ms(low(r->total_s, lo->total_s, hi->total_s)),
		ms(high(r->total_s, lo->total_s, hi->total_s)), r->bytes / 1e6, ms(r->downtime_s),
		ms(low(r->downtime_s, lo->downtime_s, hi->downtime_s)),
		ms(high(r->downtime_s, lo->downtime_s, hi->downtime_s)), ms(r->dt_stop_s),
		ms(r->dt_harvest_s), ms(r->dt_ram_s), ms(r->dt_dev_s), ms(r->dt_dest_s));
}

static void knob(FILE *f, bool json, const char *key, const char *unit, double v,
		 const struct model_result *r, bool first)
{
	if (json) {
		fprintf(f,
			"%s\"%s\":{\"value\":%.6g,\"converged\":%s,\"total_ms\":%.3f,"
			"\"downtime_ms\":%.3f}",
			first ? "" : ",", key, v, r->converged ? "true" : "false", ms(r->total_s),
			ms(r->downtime_s));
		return;
	}
	if (v <= 0)
		fprintf(f, "  %-22s none converges\n", key);
	else
		fprintf(f, "  %-22s %.4g %s: converges in %u rounds, %.0f ms, downtime %.1f ms\n",
			key, v, unit, r->nrounds, ms(r->total_s), ms(r->downtime_s));
}

void model_print_tuning(FILE *f, const struct model_inputs *in, const struct model_tuning *t,
			bool json)
{
	(void)in;
	if (json)
		fprintf(f, "{\"version\":\"%s\",\"needed\":%s,", VFMIG_VERSION,
			t->needed ? "true" : "false");
	else
		fprintf(f, "%s\n",
			t->needed ? "does not converge as it is; any one of these would:"
				  : "converges as it is; the margins:");
	knob(f, json, "bandwidth_mb_s", "MB/s", t->bandwidth_bps / 1e6, &t->at_bandwidth, true);
	knob(f, json, "downtime_ms", "ms", ms(t->downtime_s), &t->at_downtime, false);
	knob(f, json, "vcpu_rate_share", "of the vCPUs' write rate", t->vcpu_scale, &t->at_vcpu,
	     false);
	if (t->device >= 0) {
		if (json)
			fprintf(f, ",\"device\":%d", t->device);
		knob(f, json, "device_rate_share", "of its DMA rate", t->device_scale,
		     &t->at_device, false);
	}
	if (json)
		fprintf(f, "}\n");
}
