/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfmigprof predict / tune: the request, and the two sources that turn a
 * running VM into the model's inputs without migrating it: the probes on a
 * live process (predict_live.c) and a QEMU's QMP socket (predict_qmp.c).
 */
#ifndef VFMIG_VFMIGPROF_PREDICT_H
#define VFMIG_VFMIGPROF_PREDICT_H

#include <stddef.h>

#include "model/model.h"
#include "vfmigprof/prof.h"

struct predict_req {
	struct prof_target t; /* -p PID or -- PROGRAM: source 2 */
	const char *qmp;      /* --qmp PATH: source 3 */
	const char *from;     /* --from FILE: a recording (vfmigprof record) */
	/* the link and the limits; < 0: not given (the source's own, or the default) */
	double cap_bps, downtime_s;
	int max_rounds;
	double window_s;      /* measure at most this long (--window, default 10 s) */
	double precopy_bytes; /* --precopy-bytes: each device's PRE_COPY initial bytes, < 0: not given */
	bool json, tune;
};

/*
 * Each fills in (engine, RAM, curves, devices, link, limits, costs and
 * in->source saying what was measured how), or prints one line naming what is
 * wrong and returns the exit status (EXIT_USAGE or 1).
 */
int predict_live_inputs(struct predict_req *r, struct model_inputs *in);
int predict_qmp_inputs(struct predict_req *r, struct model_inputs *in);
int predict_from_inputs(struct predict_req *r, struct model_inputs *in);

#endif
