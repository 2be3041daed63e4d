// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof predict --from FILE: the inputs from a recording, as the report
 * sets them beside a migration (the harvest windows before its first state
 * SET, each device's recorded pre-copy sizes); a recording without a
 * migration is measured to its end. The link and limits asked for override
 * the recorded command's; the driver's costs are this host's.
 */
#include <stdio.h>
#include <string.h>

#include "migration/predict.h"
#include "report/report.h"
#include "vfmigprof/predict.h"

/* The VM with the most windows, for a recording in which nothing migrated. */
static uint32_t busiest_pid(const struct report *r)
{
	uint32_t best = 0;
	size_t i, j, n, most = 0;

	for (i = 0; i < r->nwin; i++) {
		for (j = n = 0; j < r->nwin; j++)
			n += r->win[j].pid == r->win[i].pid;
		if (n > most)
			most = n, best = r->win[i].pid;
	}
	return best;
}

static void override(const struct predict_req *q, struct model_inputs *in)
{
	struct predict_costs c;
	size_t len = strlen(in->source);

	if (q->cap_bps >= 0)
		in->cap_bps = q->cap_bps;
	if (q->downtime_s >= 0)
		in->downtime_limit_s = q->downtime_s;
	if (q->max_rounds >= 0)
		in->max_rounds = (unsigned int)q->max_rounds;
	predict_measure_costs(&c);
	predict_apply_costs(&c, in);
	snprintf(in->source + len, sizeof(in->source) - len, " (recording %s)", q->from);
}

int predict_from_inputs(struct predict_req *q, struct model_inputs *in)
{
	static struct report r;
	static struct rep_migration whole;
	struct rep_migration *m = &whole;
	char err[256], line[300];
	int ret;

	memset(&r, 0, sizeof(r));
	ret = report_load(q->from, &r, err, sizeof(err));
	if (ret == 1) {
		fprintf(stderr, "vfmigprof: %s\n", err);
		return 1;
	}
	if (ret == 3) {
		report_damage_line(&r, line, sizeof(line));
		fprintf(stderr, "vfmigprof: %s (predicting from the blocks read)\n", line);
	}
	report_timeline(&r);
	if (r.nmigs) {
		m = &r.mig[0];
	} else {
		memset(&whole, 0, sizeof(whole));
		whole.pid = busiest_pid(&r);
		whole.start_ns = whole.stop_ns = UINT64_MAX;
	}
	report_predict(&r, m);
	if (!m->predicted && m->predict_why[0] && !m->in.ram_bytes) {
		fprintf(stderr, "vfmigprof: %s: %s\n", q->from, m->predict_why);
		report_free(&r);
		return 1;
	}
	*in = m->in;
	snprintf(in->source, sizeof(in->source), "recorded pid %u, %s", m->pid, m->predict_from);
	override(q, in);
	report_free(&r);
	return 0;
}
