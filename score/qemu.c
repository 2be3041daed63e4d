// SPDX-License-Identifier: GPL-2.0
/*
 * make score's real-QEMU half. Each run boots a fresh source and destination
 * QEMU on the bed; vfmigprof predict --qmp --json measures the source through
 * a second QMP monitor before anything migrates (the bed's --before), then the
 * bed migrates it and reports QEMU's own total-time, downtime, transferred
 * bytes, dirty-sync-count and the expected-downtime it sampled every 100 ms.
 * A run still active after max(60 s, 3x the predicted total) is cancelled by
 * the bed and counts as not converged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "score/draw.h"
#include "score/qemu.h"
#include "score/row.h"
#include "score/stats.h"

#define QEMU_MAX_RUNS 15

/* One bed run: its JSON, or NULL. */
static struct json_object *bed_run(const struct qemu_score_opts *o, const struct scenario *s)
{
	char cmd[2048], *out = NULL;
	size_t len = 0, n;
	struct json_object *j;
	FILE *p, *mem;

	snprintf(cmd, sizeof(cmd),
		 "%s --kernel %s/qemu-guest/vmlinuz --initrd %s/qemu-guest/initramfs.cpio.gz %s %s"
		 " --before '%s predict --json --qmp %%s' 2>/dev/null",
		 o->bed, o->build, o->build, s->vm, s->mig, o->prof);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	mem = open_memstream(&out, &len);
	while ((n = fread(cmd, 1, sizeof(cmd), p)) > 0)
		fwrite(cmd, 1, n, mem);
	pclose(p);
	fclose(mem);
	j = out ? json_tokener_parse(out) : NULL;
	free(out);
	return j;
}

/* QEMU's last expected-downtime while the migration was active, NAN if it gave none. */
static double qemu_estimate(struct json_object *mig)
{
	struct json_object *samples = get_obj(mig, "samples");
	int n = samples ? (int)json_object_array_length(samples) : 0;

	for (int i = n - 1; i >= 0; i--) {
		struct json_object *x = json_object_array_get_idx(samples, i);
		double v = get_num(x, "expected_downtime_ms");
		struct json_object *st = get_obj(x, "status");

		if (st && !strcmp(json_object_get_string(st), "active") && v >= 0)
			return v;
	}
	return NAN;
}

/* QEMU's own figures: rounds are its syncs less the setup's and the completion's. */
static struct outcome measured(struct json_object *mig)
{
	struct outcome m = {.ok = mig != NULL, .converged = get_bool(mig, "converged", false)};
	double syncs = get_num(mig, "dirty_sync_count");
	struct json_object *samples = get_obj(mig, "samples");

	/* a cancelled run's final answer has no counters: its last sample's */
	for (int i = 0; !m.converged && samples && i < (int)json_object_array_length(samples);
	     i++) {
		double v = get_num(json_object_array_get_idx(samples, i), "dirty_sync_count");

		syncs = v > syncs || isnan(syncs) ? v : syncs;
	}

	m.total_ms = m.converged ? get_num(mig, "total_ms") : NAN;
	m.downtime_ms = m.converged ? get_num(mig, "downtime_ms") : NAN;
	m.bytes = m.converged ? get_num(mig, "bytes") : NAN;
	m.rounds = (int)(syncs - (m.converged ? 2 : 1));
	return m;
}

struct qemu_runs {
	int n, conv, pconv, gconv;
	double total[QEMU_MAX_RUNS], down[QEMU_MAX_RUNS], bytes[QEMU_MAX_RUNS];
	double rounds[QEMU_MAX_RUNS], est[QEMU_MAX_RUNS], formula[QEMU_MAX_RUNS];
	struct outcome pred[QEMU_MAX_RUNS], geo[QEMU_MAX_RUNS];
};

static void keep_run(struct qemu_runs *k, struct json_object *j)
{
	struct json_object *pred = get_obj(j, "before"), *base = get_obj(pred, "baselines");
	struct outcome m = measured(get_obj(j, "migration"));
	int i = k->n++;

	k->total[i] = m.total_ms, k->down[i] = m.downtime_ms, k->bytes[i] = m.bytes;
	k->rounds[i] = m.rounds;
	k->conv += m.converged;
	k->est[i] = qemu_estimate(get_obj(j, "migration"));
	k->formula[i] = get_num(get_obj(base, "qemu_expected_downtime"), "downtime_ms");
	k->pred[i] = outcome_of(json_object_is_type(pred, json_type_object) ? pred : NULL);
	k->geo[i] = outcome_of(get_obj(base, "geometric"));
	k->pconv += k->pred[i].converged;
	k->gconv += k->geo[i].converged;
}

/* The median of one field over the runs' outcomes; the range from the extremes. */
static struct outcome median_outcome(struct outcome *v, int n, int conv)
{
	double t[QEMU_MAX_RUNS], d[QEMU_MAX_RUNS], b[QEMU_MAX_RUNS], r[QEMU_MAX_RUNS];
	double lt[QEMU_MAX_RUNS], ht[QEMU_MAX_RUNS], ld[QEMU_MAX_RUNS], hd[QEMU_MAX_RUNS];
	struct outcome o = {.ok = n > 0, .converged = conv * 2 > n};

	for (int i = 0; i < n; i++) {
		t[i] = v[i].total_ms, d[i] = v[i].downtime_ms, b[i] = v[i].bytes;
		r[i] = v[i].rounds, lt[i] = v[i].lo_total, ht[i] = v[i].hi_total;
		ld[i] = v[i].lo_down, hd[i] = v[i].hi_down;
		o.ok &= v[i].ok;
	}
	o.total_ms = median(t, n), o.downtime_ms = median(d, n), o.bytes = median(b, n);
	o.rounds = (int)median(r, n);
	o.lo_total = median(lt, n), o.hi_total = median(ht, n);
	o.lo_down = median(ld, n), o.hi_down = median(hd, n);
	return o;
}

static void score_one(const struct qemu_score_opts *o, const struct scenario *s,
		      struct score_row *r, double *est, double *formula)
{
	static struct qemu_runs k;

	memset(&k, 0, sizeof(k));
	for (int i = 0; i < o->runs && i < QEMU_MAX_RUNS; i++) {
		struct json_object *j = bed_run(o, s);

		if (!j || !get_obj(j, "migration"))
			fprintf(stderr, "score: %s: QEMU run %d gave no JSON\n", s->name, i);
		else
			keep_run(&k, j);
		json_object_put(j);
	}
	snprintf(r->name, sizeof(r->name), "%s", s->name);
	snprintf(r->cls, sizeof(r->cls), "%s", s->cls);
	r->pred = median_outcome(k.pred, k.n, k.pconv);
	r->geo = median_outcome(k.geo, k.n, k.gconv);
	r->meas = (struct outcome){.ok = k.n > 0, .converged = k.conv * 2 > k.n};
	r->meas.total_ms = median(k.total, k.n);
	r->meas.downtime_ms = median(k.down, k.n);
	r->meas.bytes = median(k.bytes, k.n);
	r->meas.rounds = (int)median(k.rounds, k.n);
	r->spread_total = spread(k.total, k.n);
	r->spread_down = spread(k.down, k.n);
	*est = median(k.est, k.n);
	*formula = median(k.formula, k.n);
	r->qemu_downtime_ms = *est;
}

/* QEMU's own estimate against the real downtime, and the model's formula against QEMU's. */
static void summarize_estimate(const struct score_row *rows, const double *formula, int n)
{
	double e[256], f[256];
	int k = 0;

	for (int i = 0; i < n && k < 256; i++) {
		if (!rows[i].meas.ok)
			continue;
		e[k] = rel_err(rows[i].qemu_downtime_ms, rows[i].meas.downtime_ms,
			       DOWNTIME_FLOOR_MS);
		f[k++] = rel_err(formula[i], rows[i].qemu_downtime_ms, DOWNTIME_FLOOR_MS);
	}
	printf("qemu-est   downtime median %.1f%% p90 %.1f%% (QEMU's last expected-downtime "
	       "while active); the model's formula against it: median %.1f%% p90 %.1f%%\n",
	       100 * median(e, k), 100 * pctl(e, k, 0.9), 100 * median(f, k),
	       100 * pctl(f, k, 0.9));
}

int score_qemu(const struct qemu_score_opts *o)
{
	static struct scenario sc[64];
	static struct score_row rows[64];
	double est[64], formula[64];
	int n = scenarios_load(o->file, sc, 64), k = 0;

	if (n < 0)
		return 1;
	printf("\nreal QEMU (%s), each predicted by vfmigprof predict --qmp before it migrates:\n",
	       o->file);
	printf("%-16s %-9s %-7s %-7s %9s %9s %7s %7s %8s %8s %7s %7s %7s %7s %7s\n", "scenario",
	       "class", "conv", "rounds", "total", "measured", "spread", "err", "downtime",
	       "measured", "spread", "err", "bytes", "geo-tot", "geo-dt");
	for (int i = 0; i < n; i++) {
		if (o->only && strcmp(o->only, sc[i].name))
			continue;
		memset(&rows[k], 0, sizeof(rows[k]));
		score_one(o, &sc[i], &rows[k], &est[k], &formula[k]);
		if (!rows[k].meas.ok) {
			printf("%-16s %-9s no run gave an answer\n", sc[i].name, sc[i].cls);
			continue;
		}
		print_row(&rows[k]);
		printf("  %-14s QEMU's expected-downtime %.1f ms (error %.1f%%), the model's formula "
		       "%.1f ms\n",
		       "", est[k],
		       100 * rel_err(est[k], rows[k].meas.downtime_ms, DOWNTIME_FLOOR_MS),
		       formula[k]);
		fflush(stdout);
		k++;
	}
	printf("\n");
	summarize("vfmig", rows, k, offsetof(struct score_row, pred));
	summarize("geometric", rows, k, offsetof(struct score_row, geo));
	summarize_estimate(rows, formula, k);
	return 0;
}

const char *score_qemu_default(void)
{
	const char *q = getenv("QEMU");

	return q && !strcmp(q, "0") ? NULL : "score/scenarios.qemu";
}

int score_qemu_beside(const char *file, const char *emu, int runs, const char *only)
{
	char build[256], bed[300], prof[300], cmd[700];
	const char *slash = strrchr(emu, '/');
	struct qemu_score_opts o = {
		.file = file, .bed = bed, .prof = prof, .build = build, .only = only, .runs = runs};

	snprintf(build, sizeof(build), "%.*s", slash ? (int)(slash - emu) : 1, slash ? emu : ".");
	snprintf(bed, sizeof(bed), "%s/tests/qemu/qemu_bed", build);
	snprintf(prof, sizeof(prof), "%s/vfmigprof", build);
	/* the guest: Debian's kernel from the vmtest cache, busybox and the dirtier */
	snprintf(cmd, sizeof(cmd), "scripts/qemu-guest.sh %s %s/tests/qemu/guest_dirtier >&2",
		 build, build);
	if (system(cmd)) {
		fprintf(stderr, "score: no real-QEMU scenarios: the guest cannot be built here "
				"(QEMU=0 skips them)\n");
		return 1;
	}
	return score_qemu(&o);
}
