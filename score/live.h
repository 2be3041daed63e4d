/* SPDX-License-Identifier: GPL-2.0 */
/* Source 2 for the scorer: vfmigprof predict on the scenario's VM, run but not migrated. */
#ifndef VFMIG_SCORE_LIVE_H
#define VFMIG_SCORE_LIVE_H

#include "score/draw.h"
#include "score/run.h"

struct json_object *predict_live_json(const char *prof, const char *emu, const struct scenario *s,
				      int *status);

#endif
