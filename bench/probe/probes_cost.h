/* SPDX-License-Identifier: GPL-2.0 */
/* The probe benchmark's cost of one event per family, against the same calls unprobed. */
#ifndef VFMIG_BENCH_PROBES_COST_H
#define VFMIG_BENCH_PROBES_COST_H

#include <stdbool.h>
#include <stdint.h>

#define COST_REPS 3

struct cost_env;

enum cost_id { C_STATE, C_SIZE, C_PIN, C_MAP, C_BITMAP, C_IOCTL, C_SYSCALL, C_NR };

/* Each case: its family, what one call is, and how many events one call makes. */
struct cost_case {
	const char *family, *what;
	int (*fn)(struct cost_env *e); /* 0 when the call did what it should */
	int calls;
	double events, base, cost; /* cost: seconds per event, probed minus unprobed */
	double bt_cost;		   /* the same with the bpftrace script; < 0: not measured */
	double bpf_ns, bt_bpf_ns;  /* of which BPF run time per event: vfmig's, bpftrace's */
};

extern struct cost_case costs[C_NR];

/* Cases the bpftrace script has probes for: the USDT ones (it decodes no syscalls). */
bool bt_case(int i);
/* Fills costs[]: probed minus unprobed, with the bpftrace script too when have_bt. */
void event_costs(bool have_bt);
/* BPF run time of every program on the host, so far (with run statistics on). */
uint64_t bpf_time_all(void);

#endif
