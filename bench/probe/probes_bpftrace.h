/* SPDX-License-Identifier: GPL-2.0 */
/* The probe benchmark's bpftrace script: the counts vfmig's families make, the way one would. */
#ifndef VFMIG_BENCH_PROBES_BPFTRACE_H
#define VFMIG_BENCH_PROBES_BPFTRACE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* What vfmig's families and the bpftrace script both count. */
struct totals {
	uint64_t sets, set_arcs, steps, step_arcs, read_bytes, write_bytes;
	uint64_t pins, pinned, unpins, unpinned, maps, map_bytes, unmaps, unmap_bytes;
	uint64_t queries, faults, windows, window_faults;
};

/* bpftrace attached to pid running binary: its output, once its probes are on. */
FILE *bt_start(pid_t pid, const char *binary, pid_t *btpid);
/* Stops it and adds what it printed to *t. */
void bt_stop(FILE *f, pid_t btpid, struct totals *t);

#endif
