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
#include "live/live.h"
#include "report/report.h"
#include "vfmigprof/predict.h"

static void override(const struct predict_req *q, struct model_inputs *in)
{
	struct predict_costs c;
	char was[sizeof(in->source)];

	if (q->cap_bps >= 0)
		in->cap_bps = q->cap_bps;
	if (q->downtime_s >= 0)
		in->downtime_limit_s = q->downtime_s;
	if (q->max_rounds >= 0)
		in->max_rounds = (unsigned int)q->max_rounds;
	predict_measure_costs(&c);
	predict_apply_costs(&c, in);
	memcpy(was, in->source, sizeof(was));
	snprintf(in->source, sizeof(in->source), "recording %.100s: %.130s", q->from, was);
}

int predict_from_inputs(struct predict_req *q, struct model_inputs *in)
{
	char err[256];
	int ret = report_inputs_from_file(q->from, 0, NULL, in, err, sizeof(err));

	if (ret == 1) {
		fprintf(stderr, "vfmigprof: %s: %s\n", q->from, err);
		return 1;
	}
	if (ret == 3)
		fprintf(stderr, "vfmigprof: %s: %s (predicting from the blocks read)\n", q->from,
			err);
	override(q, in);
	return 0;
}
