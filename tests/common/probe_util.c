// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "common/probe_util.h"
#include "common/vfmig_test.h"
#include "probe/aggregate.h"

uint64_t probe_counter(struct vfmig_probes *p, int idx)
{
	uint64_t c[VFMIG_C_NR];

	assert_int_equal(agg_counters(p, c), 0);
	return c[idx];
}

const struct probe_row *probe_row(struct vfmig_probes *p, const char *family, const char *program)
{
	const struct probe_row *rows;
	int i, n = probes_table(p, &rows);

	for (i = 0; i < n; i++) {
		if ((!family || !strcmp(rows[i].family, family)) &&
		    !strcmp(rows[i].program, program))
			return &rows[i];
	}
	return NULL;
}
