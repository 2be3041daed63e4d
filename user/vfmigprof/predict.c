// SPDX-License-Identifier: GPL-2.0
/* vfmigprof predict and tune: options, the source, the model, the report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfmigprof/predict.h"

static const char predict_help[] =
	"Usage: vfmigprof predict|tune [OPTIONS] (-p PID | --qmp PATH | --from FILE | -- PROGRAM...)\n"
	"Predicts whether a running VM's pre-copy migration would converge, its rounds, total\n"
	"time, bytes and downtime with its parts (tune: what would make it converge: the\n"
	"smallest bandwidth, downtime limit and throttle), from what it measures on the VM\n"
	"now. Nothing is migrated: no device changes state while it measures.\n"
	"\n"
	"Sources:\n"
	"  -p PID, -- PROGRAM     an emulated VM (vfmig-emu run) measured through the probes:\n"
	"                         W(T) from its write faults, device rates and sizes\n"
	"      --qmp PATH         a running QEMU through its QMP socket: RAM, its migration\n"
	"                         parameters, W(T) from calc-dirty-rate; nothing changed\n"
	"      --from FILE        a recording (vfmigprof record): what was measured before its\n"
	"                         first migration, its devices' recorded pre-copy sizes\n"
	"\n"
	"Options:\n"
	"      --bandwidth MB/s   the link's cap (default: none for an emulated VM, QEMU's own\n"
	"                         max-bandwidth with --qmp)\n"
	"      --downtime MS      the downtime limit (default 300, or QEMU's downtime-limit)\n"
	"      --rounds N         the driver's round cap (default 30; QEMU has none)\n"
	"      --window SEC       measure at most this long (default 10, 0.1 to 600)\n"
	"      --precopy-bytes N  each device's PRE_COPY initial bytes, as given (not queried)\n"
	"  -j, --json             the keys of vfmig-emu migrate --json, with \"version\"\n"
	"%s"
	"\n"
	"Examples:\n"
	"  vfmigprof predict --bandwidth 100 -- vfmig-emu run --mem 256m --rate 20000\n"
	"  vfmigprof tune --downtime 50 -p 4242\n"
	"  vfmigprof predict --json --qmp /run/qemu/vm1.qmp\n";

enum { OPT_QMP = 0x100, OPT_FROM, OPT_BW, OPT_DOWNTIME, OPT_ROUNDS, OPT_WINDOW, OPT_PRECOPY };

static int parse_one(int c, const char *arg, void *opts)
{
	struct predict_req *r = opts;
	double v;

	switch (c) {
	case OPT_QMP:
		r->qmp = arg;
		return 0;
	case OPT_FROM:
		r->from = arg;
		return 0;
	case OPT_BW:
		if (prof_number("--bandwidth", arg, 0.001, 1e6, &v))
			return EXIT_USAGE;
		r->cap_bps = v * 1e6;
		return 0;
	case OPT_DOWNTIME:
		if (prof_number("--downtime", arg, 1, 3600000, &v))
			return EXIT_USAGE;
		r->downtime_s = v / 1e3;
		return 0;
	case OPT_ROUNDS:
		if (prof_number("--rounds", arg, 1, MODEL_MAX_ROUNDS - 1, &v) || v != floor(v))
			return prof_usage_error("--rounds '%s': use a whole number from 1 to 255",
						arg);
		r->max_rounds = (int)v;
		return 0;
	case OPT_WINDOW:
		return prof_number("--window", arg, 0.1, 600, &r->window_s);
	case OPT_PRECOPY:
		return prof_number("--precopy-bytes", arg, 0, 1e15, &r->precopy_bytes);
	case 'j':
		r->json = true;
		return 0;
	case 'h':
		printf(predict_help, prof_target_help);
		exit(0);
	}
	return prof_usage_error("unknown option '%s'", arg);
}

static int parse_opts(int argc, char **argv, struct predict_req *r)
{
	static const struct option longopts[] = {
		PROF_TARGET_LONG,
		{"qmp", required_argument, NULL, OPT_QMP},
		{"from", required_argument, NULL, OPT_FROM},
		{"bandwidth", required_argument, NULL, OPT_BW},
		{"downtime", required_argument, NULL, OPT_DOWNTIME},
		{"rounds", required_argument, NULL, OPT_ROUNDS},
		{"window", required_argument, NULL, OPT_WINDOW},
		{"precopy-bytes", required_argument, NULL, OPT_PRECOPY},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ret;

	ret = prof_parse_opts(argc, argv, "jh", longopts, &r->t, parse_one, r);
	if (ret)
		return ret;
	if (!r->qmp && !r->from && !r->t.pid && !r->t.prog)
		return prof_usage_error(
			"%sname the VM: -p PID, --qmp PATH, --from FILE or -- PROGRAM", "");
	if (!!r->qmp + !!r->from + !!(r->t.pid || r->t.prog) > 1)
		return prof_usage_error(
			"%sone source: -p PID or PROGRAM, --qmp PATH, or --from FILE", "");
	return 0;
}

static int report(const struct predict_req *r, const struct model_inputs *in)
{
	static struct model_result res, lo, hi;
	static struct model_tuning tuning;

	if (r->tune) {
		model_tune(in, &tuning);
		model_print_tuning(stdout, in, &tuning, r->json);
		return 0;
	}
	if (model_predict(in, &res)) {
		fprintf(stderr, "vfmigprof: cannot predict: %s\n", res.why);
		return 1;
	}
	model_range(in, &lo, &hi);
	if (r->json)
		model_print_json(stdout, in, &res, &lo, &hi, true);
	else
		model_print_text(stdout, in, &res, &lo, &hi);
	return 0;
}

static int predict_or_tune(int argc, char **argv, bool tune)
{
	struct predict_req r = {.cap_bps = -1,
				.downtime_s = -1,
				.max_rounds = -1,
				.window_s = 10,
				.precopy_bytes = -1,
				.tune = tune};
	static struct model_inputs in;
	int ret = parse_opts(argc, argv, &r);

	if (ret)
		return ret;
	memset(&in, 0, sizeof(in));
	ret = r.qmp    ? predict_qmp_inputs(&r, &in)
	      : r.from ? predict_from_inputs(&r, &in)
		       : predict_live_inputs(&r, &in);
	return ret ? ret : report(&r, &in);
}

int cmd_predict(int argc, char **argv)
{
	return predict_or_tune(argc, argv, false);
}

int cmd_tune(int argc, char **argv)
{
	return predict_or_tune(argc, argv, true);
}
