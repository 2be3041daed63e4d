/* SPDX-License-Identifier: GPL-2.0 */
/* Reading loaded probes in tests: a counter, a row of the attach table. */
#ifndef VFMIG_TEST_PROBE_UTIL_H
#define VFMIG_TEST_PROBE_UTIL_H

#include <stdint.h>

struct vfmig_probes;
struct probe_row;

/* A counter summed over the CPUs; the test fails if the map cannot be read. */
uint64_t probe_counter(struct vfmig_probes *p, int idx);
/* The table's row of program (in family, when family is not NULL), or NULL. */
const struct probe_row *probe_row(struct vfmig_probes *p, const char *family, const char *program);

#endif
