/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the syscall decoder tests share: the bitmap bound of a group without
 * bpf_loop, the MIG_DEVICE_STATE argument, and the tracking and data stream
 * events seen. Header only: each test program has its own loaded probes.
 */
#ifndef VFMIG_FIXTURE_IOCTL_DECODE_H
#define VFMIG_FIXTURE_IOCTL_DECODE_H

#include <unistd.h>

#include "probe/probe_test.h"
#include "vfmig/uapi.h"

/* Words of a bitmap counted per query: the bound of the group's loops. */
static size_t bound_words = VFMIG_BITMAP_MAX_WORDS;

/* As on 5.15 and 5.16, which have no bpf_loop: loops the verifier bounds. */
static inline int setup_bounded(void **state)
{
	struct probe_opts o = {.pid = getpid(), .hide_helpers = "loop"};

	(void)state;
	bound_words = VFMIG_BITMAP_BOUNDED_WORDS;
	return probes_setup(&o);
}

struct feature_state {
	struct vfio_device_feature hdr;
	struct vfio_device_feature_mig_state mig;
};

/* Tracking start/stop events from the syscalls, in order. */
struct track_seen {
	int n;
	struct vfmig_event e[8];
};

static inline int on_track(void *ctx, const struct vfmig_event *e)
{
	struct track_seen *s = ctx;

	if (e->source == VFMIG_SRC_SYSCALL && e->type == VFMIG_EV_TRACKING && s->n < 8)
		s->e[s->n++] = *e;
	return 0;
}

static inline void poll_track(struct track_seen *s)
{
	poll_into(s, sizeof(*s), on_track);
}

/* Data stream events (reads, writes, MIG_DATA_SIZE) from the syscalls, and their sums. */
struct data_seen {
	int reads, writes, sizes, read_errors;
	int64_t read_bytes, write_bytes, write_asked;
	int write_cut; /* writes whose bytes asked fell short */
	uint64_t read_dev, write_dev, read_fd, write_fd, last_size;
	int size_result;
};

static inline int on_data(void *ctx, const struct vfmig_event *e)
{
	struct data_seen *s = ctx;

	if (e->source != VFMIG_SRC_SYSCALL)
		return 0;
	if (e->type == VFMIG_EV_DATA_READ) {
		s->reads++;
		s->read_bytes += e->result > 0 ? e->result : 0;
		s->read_errors += e->result < 0;
		s->read_dev = e->dev;
		s->read_fd = e->b;
	} else if (e->type == VFMIG_EV_DATA_WRITE) {
		s->writes++;
		s->write_bytes += e->result > 0 ? e->result : 0;
		s->write_asked += e->a;
		s->write_cut += e->to;
		s->write_dev = e->dev;
		s->write_fd = e->b;
	} else if (e->type == VFMIG_EV_DATA_SIZE) {
		s->sizes++;
		s->last_size = e->a;
		s->size_result = e->result;
	}
	return 0;
}

static inline void poll_data(struct data_seen *s)
{
	poll_into(s, sizeof(*s), on_data);
}

#endif
