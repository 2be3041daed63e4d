/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfmigtop's readings: the probes attached to what it watches, read each
 * interval into a top_table (figures.h), with the header's figures (probes
 * attached, events, drops, vfmig's own BPF run time) and each VM's verdict
 * from the model at the configured link.
 */
#ifndef VFMIG_VFMIGTOP_COLLECT_H
#define VFMIG_VFMIGTOP_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "live/live.h"
#include "probe/loader.h"
#include "vfmigtop/figures.h"

struct top_header {
	char host[64], kernel[64];
	int attached, off; /* probe programs attached, and switched off */
	char off_why[160]; /* the first reason one is off */
	uint64_t events, drops;
	double bpf_ns_per_s; /* vfmig's programs' run time per second of the interval */
	bool bpf_stats;	     /* BPF_ENABLE_STATS held (else run time unknown) */
	double interval_s;
};

struct top_src;
struct top_qemus;

/* The probes attached per o (o->binary the USDT probes' binary); NULL with a line in err. */
struct top_src *top_src_open(const struct probe_opts *o, const struct live_link *link, char *err,
			     size_t errlen);
void top_src_close(struct top_src *s);
/* The QEMUs given by --qmp (owned by the caller): read with the probes each interval. */
void top_src_set_qemus(struct top_src *s, struct top_qemus *qemus);
/* Waits up to timeout_ms for events, taking them and the dirty windows. */
void top_src_poll(struct top_src *s, int timeout_ms);
/* Reads the figures at time now into t (old: the previous reading, or NULL) and the header. */
int top_src_read(struct top_src *s, double now, const struct top_table *old, struct top_table *t,
		 struct top_header *h);
/* Forgets the totals: the next reading's deltas start now (the reset key). */
void top_src_reset(struct top_src *s, double now);
/* The probe table, for the header's detail. */
int top_src_probes(struct top_src *s, const struct probe_row **rows);

#endif
