/* SPDX-License-Identifier: GPL-2.0 */
/* Tests of guest RAM dirty tracking skip, saying why, where the kernel lacks it. */
#ifndef VFMIG_TEST_NEED_TRACKING_H
#define VFMIG_TEST_NEED_TRACKING_H

#include "common/vfmig_test.h"
#include "memory/guest_mem.h"

/* test_migrate.c and test_vm.c carry a copy of this as PROBE_OR_SKIP: to move here */
#define NEED_TRACKING()                                    \
	do {                                               \
		char perr_[256];                           \
		if (guest_mem_probe(perr_, sizeof(perr_))) \
			VFMIG_SKIP("%s", perr_);           \
	} while (0)

#endif
