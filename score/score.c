// SPDX-License-Identifier: GPL-2.0
/*
 * make score: every scenario is predicted before it runs, then migrated for real several
 * times; the prediction is scored against the median of the real runs, beside the two
 * baselines the predictor prints on request (the constant-rate geometric model and QEMU's
 * expected-downtime formula). Nothing here is fitted: the scorer only compares.
 *
 *   score [-n RUNS] [--seed N [--draw K]] [--only NAME] [--emu PATH] [FILE]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "score/draw.h"
#include "score/live.h"
#include "score/qemu.h"
#include "score/row.h"
#include "score/run.h"
#include "score/stats.h"

#define MAX_RUNS 15

struct opts {
	const char *file, *emu, *prof, *only;
	int runs;
	unsigned int seed, draw;
	bool tuning;
	const char *qemu; /* the real-QEMU scenarios, NULL: none */
};

struct outcome outcome_of(struct json_object *j)
{
	struct json_object *range = get_obj(j, "range");
	struct outcome o = {
		.ok = j != NULL,
		.converged = get_bool(j, "converged", false),
		.rounds = get_len(j, "rounds"),
		.total_ms = get_num(j, "total_ms"),
		.bytes = get_num(j, "bytes"),
		.downtime_ms = get_num(j, "downtime_ms"),
		.lo_total = get_num(get_obj(range, "total_ms"), "low"),
		.hi_total = get_num(get_obj(range, "total_ms"), "high"),
		.lo_down = get_num(get_obj(range, "downtime_ms"), "low"),
		.hi_down = get_num(get_obj(range, "downtime_ms"), "high"),
	};
	return o;
}

double rel_err(double pred, double truth, double floor)
{
	double base = truth > floor ? truth : floor;

	if (isnan(pred) || isnan(truth))
		return NAN;
	return fabs(pred - truth) / base;
}

static bool inside(double lo, double hi, double v)
{
	return !isnan(lo) && !isnan(hi) && v >= lo && v <= hi;
}

static void measure(const struct opts *o, const struct scenario *s, struct score_row *r)
{
	double total[MAX_RUNS], down[MAX_RUNS], bytes[MAX_RUNS], rounds[MAX_RUNS];
	int conv = 0, n = 0, status;

	for (int i = 0; i < o->runs; i++) {
		struct json_object *j = run_json(o->emu, "migrate", s->vm, s->mig, &status);
		struct outcome m = outcome_of(j);

		json_object_put(j);
		if (!m.ok || isnan(m.total_ms)) {
			fprintf(stderr, "score: %s: run %d gave no JSON (status %d)\n", s->name, i,
				status);
			continue;
		}
		total[n] = m.total_ms, down[n] = m.downtime_ms, bytes[n] = m.bytes;
		rounds[n] = m.rounds;
		conv += m.converged;
		n++;
	}
	r->meas.ok = n > 0;
	if (!n)
		return;
	r->meas.converged = conv * 2 > n; /* the majority verdict */
	r->meas.total_ms = median(total, n);
	r->meas.downtime_ms = median(down, n);
	r->meas.bytes = median(bytes, n);
	r->meas.rounds = (int)median(rounds, n);
	r->spread_total = spread(total, n);
	r->spread_down = spread(down, n);
}

static void predict(const struct opts *o, const struct scenario *s, struct score_row *r)
{
	int status;
	struct json_object *j = run_json(o->emu, "predict", s->vm, s->mig, &status);
	struct json_object *base = get_obj(j, "baselines");

	r->pred = outcome_of(j);
	r->geo = outcome_of(get_obj(base, "geometric"));
	r->geo.ok = get_obj(base, "geometric") != NULL;
	r->qemu_downtime_ms = get_num(get_obj(base, "qemu_expected_downtime"), "downtime_ms");
	if (!r->pred.ok)
		fprintf(stderr, "score: %s: predict gave no JSON (status %d)\n", s->name, status);
	json_object_put(j);
	if (!o->prof)
		return;
	j = predict_live_json(o->prof, o->emu, s, &status);
	r->live = outcome_of(j);
	if (!r->live.ok)
		fprintf(stderr, "score: %s: vfmigprof predict gave no JSON (status %d)\n", s->name,
			status);
	json_object_put(j);
}

/* One migration with extra migration flags appended (the last of a flag wins): converged? */
static int converges_with(const struct opts *o, const struct scenario *s, const char *extra)
{
	char mig[512];
	int status, yes;
	struct json_object *j;

	snprintf(mig, sizeof(mig), "%s %s", s->mig, extra);
	j = run_json(o->emu, "migrate", s->vm, mig, &status);
	if (!j)
		return -1;
	yes = get_bool(j, "converged", false);
	json_object_put(j);
	return yes;
}

/*
 * Tuning holds for real: at the recommended bandwidth (or downtime limit) a scenario that does
 * not converge does, and at 0.8 of it it does not. Returns the checks that held, of *n.
 */
static int check_tuning(const struct opts *o, const struct scenario *s, int *n)
{
	static const char *const knobs[] = {"bandwidth_mb_s", "downtime_ms"};
	static const char *const flags[] = {"--bandwidth", "--downtime"};
	int status, held = 0;
	struct json_object *j = run_json(o->emu, "tune", s->vm, s->mig, &status);

	for (int k = 0; k < 2; k++) {
		double v = get_num(get_obj(j, knobs[k]), "value");
		char at[64], below[64];
		int a, b;

		if (isnan(v) || v <= 0)
			continue;
		snprintf(at, sizeof(at), "%s %.0f", flags[k], ceil(v));
		snprintf(below, sizeof(below), "%s %.0f", flags[k], floor(0.8 * v));
		a = converges_with(o, s, at);
		b = converges_with(o, s, below);
		printf("  tune %-16s %-15s %8.1f: converges %s; at 0.8x %s\n", s->name, knobs[k], v,
		       a == 1 ? "yes" : "NO", b == 0 ? "does not" : "CONVERGES");
		*n += 2;
		held += (a == 1) + (b == 0);
	}
	json_object_put(j);
	return held;
}

void print_row(const struct score_row *r)
{
	const struct outcome *p = &r->pred, *m = &r->meas;

	printf("%-16s %-9s %3s/%-3s %3d/%-3d %9.0f %9.0f (%4.0f%%) %6.1f%% %8.1f %8.1f (%4.0f%%) %6.1f%%"
	       " %6.1f%% %6.1f%% %6.1f%%\n",
	       r->name, r->cls, p->converged ? "yes" : "no", m->converged ? "yes" : "no", p->rounds,
	       m->rounds, p->total_ms, m->total_ms, 100 * r->spread_total,
	       100 * rel_err(p->total_ms, m->total_ms, 0), p->downtime_ms, m->downtime_ms,
	       100 * r->spread_down,
	       100 * rel_err(p->downtime_ms, m->downtime_ms, DOWNTIME_FLOOR_MS),
	       100 * rel_err(p->bytes, m->bytes, 0), 100 * rel_err(r->geo.total_ms, m->total_ms, 0),
	       100 * rel_err(r->geo.downtime_ms, m->downtime_ms, DOWNTIME_FLOOR_MS));
	if (r->live.ok)
		printf("%-16s %-9s %3s/%-3s %3d/%-3d %9.0f %9s %6s %6.1f%% %8.1f %8s %6s %6.1f%%"
		       " %6.1f%%  (source 2: the probes on the running VM)\n",
		       "", "", r->live.converged ? "yes" : "no", m->converged ? "yes" : "no",
		       r->live.rounds, m->rounds, r->live.total_ms, "", "",
		       100 * rel_err(r->live.total_ms, m->total_ms, 0), r->live.downtime_ms, "", "",
		       100 * rel_err(r->live.downtime_ms, m->downtime_ms, DOWNTIME_FLOOR_MS),
		       100 * rel_err(r->live.bytes, m->bytes, 0));
}

/* Medians and 90th percentiles of a predictor's errors over the rows that ran. */
void summarize(const char *who, const struct score_row *rows, int n, size_t off)
{
	double te[256], de[256], be[256];
	int k = 0, right = 0, in_t = 0, in_d = 0, ranged = 0;

	for (int i = 0; i < n && k < 256; i++) {
		const struct outcome *p = (const void *)((const char *)&rows[i] + off);
		const struct outcome *m = &rows[i].meas;

		if (!p->ok || !m->ok)
			continue;
		right += p->converged == m->converged;
		te[k] = rel_err(p->total_ms, m->total_ms, 0);
		de[k] = rel_err(p->downtime_ms, m->downtime_ms, DOWNTIME_FLOOR_MS);
		be[k] = rel_err(p->bytes, m->bytes, 0);
		if (!isnan(p->lo_total)) {
			ranged++;
			in_t += inside(p->lo_total, p->hi_total, m->total_ms);
			in_d += inside(p->lo_down, p->hi_down, m->downtime_ms);
		}
		k++;
	}
	if (!k) {
		printf("%-10s no scenario ran\n", who);
		return;
	}
	printf("%-10s verdicts %d/%d right; total time error median %.1f%% p90 %.1f%%; downtime"
	       " median %.1f%% p90 %.1f%%; bytes median %.1f%% p90 %.1f%%",
	       who, right, k, 100 * median(te, k), 100 * pctl(te, k, 0.9), 100 * median(de, k),
	       100 * pctl(de, k, 0.9), 100 * median(be, k), 100 * pctl(be, k, 0.9));
	if (ranged)
		printf("; inside the range: total %d/%d, downtime %d/%d", in_t, ranged, in_d,
		       ranged);
	printf("\n");
}

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"Usage: score [-n RUNS] [--seed N [--draw K]] [--only NAME] [--emu PATH]\n"
		"             [--prof PATH] [--no-tuning] [FILE]\n"
		"Predict each scenario of FILE (default score/scenarios.emu), migrate it RUNS times\n"
		"(default 3, at most %d) and score the prediction against the median.\n"
		"--prof PATH also predicts each from its VM running under vfmigprof predict.\n"
		"--seed N also draws K (default 6) fresh scenarios from the documented ranges.\n"
		"Then, for each scenario of a class nc-*, whether the recommended bandwidth and\n"
		"downtime limit converge for real and 0.8 of them do not (--no-tuning: skip).\n"
		"Then the real-QEMU scenarios of --qemu FILE (default score/scenarios.qemu; none\n"
		"with --qemu '' or QEMU=0 in the environment).\n",
		MAX_RUNS);
	return code;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"runs", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
		{"draw", required_argument, NULL, 'd'}, {"only", required_argument, NULL, 'o'},
		{"emu", required_argument, NULL, 'e'},	{"prof", required_argument, NULL, 'p'},
		{"no-tuning", no_argument, NULL, 'T'},	{"qemu", required_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},	{},
	};
	int c;

	*o = (struct opts){.file = "score/scenarios.emu",
			   .emu = "build/vfmig-emu",
			   .runs = 3,
			   .draw = 6,
			   .tuning = true,
			   .qemu = score_qemu_default()};
	while ((c = getopt_long(argc, argv, "n:h", longs, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->runs = atoi(optarg);
			if (o->runs < 1 || o->runs > MAX_RUNS)
				return fprintf(stderr, "score: -n takes 1..%d\n", MAX_RUNS), 2;
			break;
		case 's':
			o->seed = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			o->draw = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			o->only = optarg;
			break;
		case 'e':
			o->emu = optarg;
			break;
		case 'p':
			o->prof = optarg;
			break;
		case 'T':
			o->tuning = false;
			break;
		case 'q':
			o->qemu = *optarg ? optarg : NULL;
			break;
		case 'h':
			return usage(0) - 1;
		default:
			return usage(2);
		}
	}
	if (optind < argc)
		o->file = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	static struct scenario sc[256];
	static struct score_row rows[256];
	struct opts o;
	int n, ret = parse(argc, argv, &o), k = 0;

	if (ret)
		return ret < 0 ? 0 : ret;
	n = scenarios_load(o.file, sc, 256);
	if (n < 0)
		return 1;
	if (o.seed)
		n += scenarios_draw(o.seed, o.draw, sc + n, 256 - n);
	printf("%-16s %-9s %-7s %-7s %9s %9s %7s %7s %8s %8s %7s %7s %7s %7s %7s\n", "scenario",
	       "class", "conv", "rounds", "total", "measured", "spread", "err", "downtime",
	       "measured", "spread", "err", "bytes", "geo-tot", "geo-dt");
	for (int i = 0; i < n; i++) {
		struct score_row *r = &rows[k];

		if (o.only && strcmp(o.only, sc[i].name))
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", sc[i].name);
		snprintf(r->cls, sizeof(r->cls), "%s", sc[i].cls);
		predict(&o, &sc[i], r);
		measure(&o, &sc[i], r);
		print_row(r);
		fflush(stdout);
		k++;
	}
	printf("\n");
	summarize("vfmig", rows, k, offsetof(struct score_row, pred));
	if (o.prof)
		summarize("vfmig-live", rows, k, offsetof(struct score_row, live));
	summarize("geometric", rows, k, offsetof(struct score_row, geo));
	if (o.tuning) {
		int held = 0, checks = 0;

		printf("\ntuning of the scenarios that do not converge (recommended, then 0.8 of it):\n");
		for (int i = 0; i < n; i++) {
			if ((!o.only || !strcmp(o.only, sc[i].name)) &&
			    !strncmp(sc[i].cls, "nc-", 3))
				held += check_tuning(&o, &sc[i], &checks);
		}
		printf("tuning held %d of %d checks\n", held, checks);
	}
	return o.qemu ? score_qemu_beside(o.qemu, o.emu, o.runs, o.only) : 0;
}
