// SPDX-License-Identifier: GPL-2.0
/*
 * Source 2 of a prediction, for the scorer: the scenario's VM started under
 * vfmigprof predict as `vfmig-emu run` (measured through the probes for
 * LIVE_WINDOW_S, harvested every LIVE_HARVEST_MS), never migrated.
 */
#include <stdio.h>

#include "score/live.h"

#define LIVE_WINDOW_S "5"
#define LIVE_HARVEST_MS "2000"

struct json_object *predict_live_json(const char *prof, const char *emu, const struct scenario *s,
				      int *status)
{
	char flags[512], vm[1024];

	snprintf(flags, sizeof(flags), "--json --window %s %s", LIVE_WINDOW_S, s->mig);
	snprintf(vm, sizeof(vm), "-- %s run --time 120 --harvest-ms %s %s", emu, LIVE_HARVEST_MS,
		 s->vm);
	return run_json(prof, "predict", flags, vm, status);
}
