/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The convergence model's inputs for a live VM, from what the probes measure
 * on it without migrating it: its W(T) from the dirty family's windows, RAM
 * from the ranges they cover, its devices' PRE_COPY sizes and DMA from the
 * per-device figures. vfmigprof predict/tune, export, vfmigtop and report
 * (on a recording's figures) all build their inputs here.
 */
#ifndef VFMIG_LIVE_LIVE_H
#define VFMIG_LIVE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

struct dirty_windows;
struct vfmig_event;
struct vfmig_probes;

/* Where a device's PRE_COPY sizes came from. */
enum live_size_origin { LIVE_SIZE_NONE, LIVE_SIZE_FLAG, LIVE_SIZE_RECORDING, LIVE_SIZE_QUERY };

/* One device of the VM as the probes saw it. */
struct live_device {
	uint64_t key;	      /* the probes' device key */
	char name[24];	      /* PID:emuN, a PCI address ... */
	bool precopy;	      /* has PRE_COPY (its features, when known; else assumed) */
	double initial_bytes; /* PRE_COPY initial bytes */
	double dirty_bps;     /* growth of its dirty bytes per second, 0 when not measured */
	double pinned_pages;  /* pages it holds pinned: dirty in full every round */
	enum live_size_origin sizes;
};

/* What was measured on the VM, besides its W(T) windows. */
struct live_measure {
	uint32_t pid;
	double window_s; /* how long it was watched */
	unsigned int ndevs;
	struct live_device dev[MODEL_MAX_DEVICES];
	/* the devices' DMA as their dirty interfaces reported it (type1, DMA logging, iommufd) */
	double dma_queries, dma_dirty_pages, dma_mapped_pages;
};

/* The link and limits the prediction is made at (< 0: not given, the default). */
struct live_link {
	enum model_engine engine;
	double cap_bps, link_bps, downtime_s;
	int max_rounds;
};

/*
 * Every emulated or VFIO device of pid the probes know, with its PRE_COPY
 * sizes as last seen and pinned pages; returns how many (0: none).
 */
unsigned int live_devices(struct vfmig_probes *p, uint32_t pid, struct live_measure *m);

/*
 * The inputs for pid from its windows and m: 0, or -1 with a one-line reason
 * in err (no window measured, no RAM range seen).
 */
int live_inputs(const struct dirty_windows *dw, const struct live_measure *m,
		const struct live_link *l, struct model_inputs *in, char *err, size_t errlen);

/*
 * The same DMA figures from events, one at a time (a recording): VFIO map and
 * unmap, and the device dirty interfaces' bitmap answers (not KVM's).
 */
void live_dma_event(struct live_measure *m, const struct vfmig_event *e);

const char *live_size_origin_name(enum live_size_origin o);

#endif
