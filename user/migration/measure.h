/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Measuring a running VM's dirtying without migrating it: dirty tracking
 * on, and a harvest every period, as pre-copy's rounds harvest (vm_harvest:
 * the vCPU log and each device's interface), for `vfmig-emu run`, so that
 * the probes (and vfmigprof predict) see the windows a migration would.
 *
 * The vCPU writers are parked for each harvest and the workload's
 * ground-truth window cut there too (the device runner keeps going), so
 * each window's vCPU pages are exactly the writers' own log: the parked
 * time is reported.
 */
#ifndef VFMIG_MIGRATION_MEASURE_H
#define VFMIG_MIGRATION_MEASURE_H

#include <signal.h>
#include <stdio.h>

#include "migration/query.h"
#include "migration/vm.h"

struct vm_window {
	uint64_t ns;				   /* the window's length, to its harvest */
	uint64_t dirty_by_src[1 + VM_MAX_DEVICES]; /* harvested: vCPU, then each device */
	uint64_t truth_vcpu;			   /* the writers' own log: pages written */
};

struct vm_measure {
	unsigned int nwindows, cap;
	struct vm_window *windows;
	uint64_t total_by_src[1 + VM_MAX_DEVICES], total_truth_vcpu;
	uint64_t ns, parked_ns, harvest_ns; /* run time; writers parked; harvests took */
	unsigned int nqueries;		    /* pre-copy size queries answered; the last: */
	struct vm_dev_sizes sizes[VM_MAX_DEVICES];
	char error[256];
};

/*
 * A flag a signal handler sets (vfmig-emu run's SIGUSR1, from vfmigprof
 * predict once it has measured): at the next window's end the loop asks the
 * devices their pre-copy sizes (vm_precopy_query), holding each hold_ns.
 */
void vm_measure_query_on(volatile sig_atomic_t *flag, uint64_t hold_ns);
/* A flag a signal handler sets (SIGINT, SIGTERM): the loop ends at the next window's end. */
void vm_measure_stop_on(volatile sig_atomic_t *flag);

/*
 * Tracks vm (started) for duration_ns, harvesting every period_ns; the last
 * window ends at duration_ns. 0, or -errno with m->error saying why.
 * Tracking is stopped again on return. m is cleared first; free with
 * vm_measure_free().
 */
int vm_measure(struct vm *vm, uint64_t period_ns, uint64_t duration_ns, struct vm_measure *m);
void vm_measure_free(struct vm_measure *m);

void vm_measure_text(FILE *f, const struct vm *vm, const struct vm_measure *m);
void vm_measure_json(FILE *f, const struct vm *vm, const struct vm_measure *m);

#endif
