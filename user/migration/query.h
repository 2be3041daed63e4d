/* SPDX-License-Identifier: GPL-2.0 */
/* A running VM's devices asked their pre-copy sizes, RUNNING -> PRE_COPY -> RUNNING. */
#ifndef VFMIG_MIGRATION_QUERY_H
#define VFMIG_MIGRATION_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "migration/vm.h"

struct vm_dev_sizes {
	bool queried; /* it has PRE_COPY */
	uint64_t initial_bytes;
	uint64_t dirty_before, dirty_after, held_ns; /* its dirty bytes over hold_ns */
};

/* out[i] for each device i; 0, or -errno with err (the devices back in RUNNING either way). */
int vm_precopy_query(struct vm *vm, uint64_t hold_ns, struct vm_dev_sizes *out, char *err,
		     size_t errlen);

#endif
