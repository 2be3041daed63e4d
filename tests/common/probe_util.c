// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "common/probe_util.h"
#include "common/vfmig_test.h"
#include "device/device.h"
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

uint64_t probe_emu_key(const struct emu_dev *dev)
{
	return vfmig_dev_emu(getpid(), vfmig_obj(VFMIG_OBJ_DEVICE, emu_dev_id(dev)));
}

uint64_t probe_dev_counter(struct vfmig_probes *p, uint64_t dev, int idx)
{
	struct vfmig_counters c;

	return bpf_map_lookup_elem(probes_map_fd(p, "dev_counters"), &dev, &c) ? 0 : c.c[idx];
}

uint64_t probe_proc_counter(struct vfmig_probes *p, uint32_t pid, int idx)
{
	struct vfmig_counters c;

	return bpf_map_lookup_elem(probes_map_fd(p, "proc_counters"), &pid, &c) ? 0 : c.c[idx];
}
