/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfmigtop's figures: what a VM row and a device row hold, and the pure
 * functions over them (rates from counter deltas, "not tracked" kept apart
 * from 0, gone rows kept a while, sorting, filtering, the sparkline). No
 * probe, screen or file here: collect.c fills the rows, output.c and
 * screen.c show them, the unit tests drive these functions directly.
 */
#ifndef VFMIG_VFMIGTOP_FIGURES_H
#define VFMIG_VFMIGTOP_FIGURES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "vfmig/abi.h"

#define TOP_NOT_TRACKED (-1.0) /* a figure no probe measures here, unlike a measured 0 */
#define TOP_GONE_KEEP_S 10.0   /* a device or VM that went away is shown gone this long */
#define TOP_SPARK 48	       /* dirty-rate samples kept for a device's or VM's sparkline */
#define TOP_MAX_DEVS 256
#define TOP_MAX_VMS 64
#define TOP_MAX_ARCS 24

/* A latency histogram of one arc (from -> to) or query kind, reduced to what is shown. */
struct top_arc {
	uint8_t kind, from, to;
	uint64_t count, p50_ns, p99_ns, max_ns;
	uint64_t slots[VFMIG_HIST_SLOTS];
};

struct top_dev {
	uint64_t key;
	uint32_t pid;
	char name[40], model[32];
	int state;	    /* enum vfio_device_mig_state, -1 unknown */
	double state_since; /* when the probes first saw it in that state (caller's clock) */
	double dirty_pins, dirty_bitmap;     /* pages/s by source, or TOP_NOT_TRACKED */
	double pinned;			     /* pages pinned now, or TOP_NOT_TRACKED */
	double map_rate, unmap_rate;	     /* calls/s */
	double bitmap_p50_ns, bitmap_p99_ns; /* TOP_NOT_TRACKED: no query seen */
	int last_from, last_to;		     /* the last transition, -1: none seen */
	double last_ns, last_t;		     /* its latency, and when */
	double pre_initial, pre_dirty;	     /* bytes, TOP_NOT_TRACKED when never queried */
	double data_bps;		     /* migration data stream read + written */
	double data_total;		     /* bytes of that stream since vfmigtop started */
	double mig_base;		     /* data_total when this migration began (PRE_COPY) */
	double stop_base;		     /* data_total when it entered STOP_COPY */
	double gone_since;		     /* 0: present */
	unsigned int narcs;
	struct top_arc arc[TOP_MAX_ARCS];
	unsigned int nspark;
	double spark[TOP_SPARK]; /* dirty pages/s, oldest first */
};

struct top_verdict {
	bool known; /* false: why says what is missing */
	bool converges;
	double downtime_s, total_s, need_bps; /* need_bps 0: none found */
	char why[256];
};

/* A running (or just ended) migration: QMP's query-migrate, or the devices' stream. */
struct top_progress {
	bool known;	 /* false: no migration seen */
	bool from_qmp;	 /* query-migrate; else the probes (devices' states and stream) */
	char status[24]; /* QEMU's status (active, completed ...), or the devices' state */
	double done_bytes, remaining_bytes, total_bytes; /* total: RAM (QMP), or 0 */
	double percent; /* done / (done + remaining), 100 once completed */
	double left_s;	/* predicted time left, < 0: unknown (does not converge) */
	bool left_low;	/* a lower bound: no dirty rate measured yet */
	double syncs, expected_downtime_ms, mbps, dirty_pages_rate; /* QMP's; < 0 when not */
	double qmp_t0, qmp_t1; /* query-migrate sent and answered (top_now's clock) */
};

/* Where a VM's verdict's link came from. */
struct top_link {
	bool from_qmp; /* the QEMU's own max-bandwidth and downtime-limit */
	double cap_bps, downtime_s;
	double ram_bytes;    /* QMP's RAM, 0 when not known */
	int qemu_major;	     /* QMP's query-version */
	char run_status[24]; /* query-status: running, postmigrate ... */
	char qmp_path[108];
};

struct top_vm {
	uint32_t pid;
	char name[64], comm[16];
	double dirty_vcpu; /* first write faults (and KVM dirty ring) per s, or TOP_NOT_TRACKED */
	double gone_since;
	struct top_verdict v;
	struct top_link link;
	struct top_progress prog;
	unsigned int nw;
	double w_t_ms[32], w_pages[32]; /* W(t) */
	char tuning[4][96];
	unsigned int ntuning;
	unsigned int nspark;
	double spark[TOP_SPARK];
};

/* The whole picture at one interval. Devices are grouped under their VM in display order. */
struct top_table {
	double t, seconds;
	unsigned int nvms, ndevs;
	struct top_vm vm[TOP_MAX_VMS];
	struct top_dev dev[TOP_MAX_DEVS];
};

/* Sortable columns; the default is TOP_COL_DIRTY, descending (most active first). */
enum top_col {
	TOP_COL_NAME,
	TOP_COL_STATE,
	TOP_COL_DIRTY,
	TOP_COL_PINNED,
	TOP_COL_MAP,
	TOP_COL_P99,
	TOP_COL_DATA,
	TOP_COL_NR,
};

struct top_sort {
	enum top_col col;
	bool ascending;
};

/* counter delta over seconds, as a rate; 0 for an empty interval. */
double top_rate(uint64_t delta, double seconds);
/* A rate that only counts when tracked: TOP_NOT_TRACKED unless tracked. */
double top_tracked_rate(bool tracked, uint64_t delta, double seconds);
/* Pinned now from the totals pinned and unpinned; TOP_NOT_TRACKED when no pin was ever seen. */
double top_pinned(uint64_t pinned, uint64_t unpinned, bool tracked);

/* A device's dirty pages/s, every tracked source together; TOP_NOT_TRACKED when none is. */
double top_dev_dirty(const struct top_dev *d);
/* A VM's: its vCPUs' and its devices' (those of table t). */
double top_vm_dirty(const struct top_table *t, const struct top_vm *vm);

/*
 * A VM's migration from its devices' probes: those in PRE_COPY or STOP_COPY,
 * bytes streamed since they entered it against what their last PRE_COPY
 * sizes say is left (in STOP_COPY, less what was read since); time left at
 * the stream's rate of the last interval.
 */
void top_vm_dev_progress(const struct top_table *t, struct top_vm *vm);

/* Appends a sample to a sparkline of TOP_SPARK, dropping the oldest. */
void top_spark_push(double *spark, unsigned int *n, double v);
/* The sparkline as n UTF-8 block characters (out at least 3 * n + 1 bytes), scaled to its max. */
void top_spark_text(const double *spark, unsigned int n, char *out, size_t len);

/*
 * Carries what outlives one reading from old to cur: a device's state time
 * and sparkline, and rows that went away (kept TOP_GONE_KEEP_S marked gone).
 */
void top_table_carry(const struct top_table *old, struct top_table *cur, double now);

/* A device's and VM's value of a column, for sorting. */
double top_dev_value(const struct top_dev *d, enum top_col c);
/* Sorts the VMs, and each VM's devices, by s; devices stay grouped by VM. */
void top_table_sort(struct top_table *t, const struct top_sort *s);
/* Devices of vm (pid) in t: the first index and the count (grouped after sorting). */
unsigned int top_vm_devs(const struct top_table *t, uint32_t pid, unsigned int *first);

/* Whether a row passes the filter (NULL: no filter): the VM's name or any device's text. */
bool top_dev_matches(const regex_t *re, const struct top_vm *vm, const struct top_dev *d);
bool top_vm_matches(const regex_t *re, const struct top_table *t, const struct top_vm *vm);

const char *top_col_name(enum top_col c);
/* "RUNNING", or "unknown" for -1. */
const char *top_state_name(int state);
/* A figure as text: "-" when not tracked, else with K/M/G; into buf. */
const char *top_fmt(double v, char *buf, size_t len);
/* Nanoseconds as "850ns", "12us", "3.4ms", "-" when not tracked. */
const char *top_fmt_ns(double ns, char *buf, size_t len);

#endif
