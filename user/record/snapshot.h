/* SPDX-License-Identifier: GPL-2.0 */
/* A recording's header and snapshots as JSON text (malloc'ed), from the probes' maps. */
#ifndef VFMIG_RECORD_SNAPSHOT_H
#define VFMIG_RECORD_SNAPSHOT_H

#include <stdint.h>

struct vfmig_probes;
struct agg_view;

/* What the snapshot says besides the maps. */
struct rec_snap_extra {
	uint64_t mono_ns, received, lost_blocks;
};

/* host, kernel, vfmig version, command line, clock, counter names, devices, probe table. */
char *rec_header_json(struct vfmig_probes *p, int argc, char **argv);
/* Counters of the host, each device and VM; device states and PRE_COPY sizes; histograms. */
char *rec_snapshot_json(struct vfmig_probes *p, const struct agg_view *v,
			const struct rec_snap_extra *x);

#endif
