/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probe loader: for each probe it picks the best source this host has
 * (fentry, kprobe, tracepoint, USDT), switches the rest off before load, and
 * keeps a table of what attached and why the rest did not, built from the
 * actual failure (errno, missing symbol or BTF id, missing capability).
 */
#ifndef VFMIG_PROBE_LOADER_H
#define VFMIG_PROBE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "vfmig/abi.h"

#define PROBE_MAX_ROWS 96

struct probe_row {
	char family[12], program[48], source[12];
	bool attached;
	bool refused;	  /* the kernel or libbpf refused it at load: reason has their words */
	char reason[160]; /* why not, or where it attached */
};

/* Of fentry/fexit and kprobe/kretprobe on one function, the one used where both can be. */
enum probe_prefer {
	PREFER_FENTRY, /* cheaper, and arguments typed by BTF */
	PREFER_KPROBE,
};

struct probe_opts {
	pid_t pid;	      /* 0: every process */
	bool follow_children; /* and the processes it forks while watched (perf's inherit) */
	uint64_t dev;	      /* 0: every device; else an emulated id, or pid << 32 | device fd */
	const char *cgroup;   /* NULL: every cgroup; else a cgroup v2 directory (and those below) */
	const char *binary;   /* where the USDT probes are (vfmig-emu, QEMU); NULL: none */
	size_t ringbuf_poll_batch;
	size_t ring_bytes; /* the events ring: 0 for the default; else a power of 2 of pages */
	enum probe_prefer prefer;
	bool verbose;		  /* libbpf's messages on stderr (also VFMIG_DEBUG=1, 2: debug) */
	unsigned int test_refuse; /* loader tests only: VFMIG_TEST_REFUSE_* */
	/* helpers ("loop,get_func_arg") to act as if the kernel lacked: what 5.15 gets */
	const char *hide_helpers;
};

struct vfmig_probes;

/*
 * 0, or -errno with a one-line reason in err ("needs CAP_BPF ...: run as root").
 * A program the kernel refuses is switched off with its reason and its family
 * loaded without it; a family that cannot load at all is one row in the
 * table; it fails only when no family loads.
 */
int probes_open(struct vfmig_probes **out, const struct probe_opts *o, char *err, size_t errlen);
void probes_close(struct vfmig_probes *p);
int probes_table(struct vfmig_probes *p, const struct probe_row **rows);
int probes_attached(struct vfmig_probes *p);

/* Map access for the aggregator: a shared map, or one family's own (dev_names). */
int probes_map_fd(struct vfmig_probes *p, const char *name);

/* Ring buffer: calls fn per event; the count of records received is kept. */
typedef int (*probe_event_fn)(void *ctx, const struct vfmig_event *e);
int probes_poll(struct vfmig_probes *p, int timeout_ms, probe_event_fn fn, void *ctx);
uint64_t probes_received(struct vfmig_probes *p);
/* Runs a test__ program on prepared raw_tp arguments (BPF_PROG_TEST_RUN). */
int probes_test_run(struct vfmig_probes *p, const char *prog_name, const uint64_t *args,
		    size_t nargs);

#endif
