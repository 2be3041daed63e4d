/* SPDX-License-Identifier: GPL-2.0 */
/* Reading loaded probes in tests: a counter, a row of the attach table. */
#ifndef VFMIG_TEST_PROBE_UTIL_H
#define VFMIG_TEST_PROBE_UTIL_H

#include <stdint.h>

struct vfmig_probes;
struct probe_row;
struct emu_dev;

/* A counter summed over the CPUs; the test fails if the map cannot be read. */
uint64_t probe_counter(struct vfmig_probes *p, int idx);
/* The table's row of program (in family, when family is not NULL), or NULL. */
const struct probe_row *probe_row(struct vfmig_probes *p, const char *family, const char *program);

/* The key the probes give an emulated device of this process: (pid, its id). */
uint64_t probe_emu_key(const struct emu_dev *dev);
/* One counter of one device, or of one process (its own map: 0 when never counted). */
uint64_t probe_dev_counter(struct vfmig_probes *p, uint64_t dev, int idx);
uint64_t probe_proc_counter(struct vfmig_probes *p, uint32_t pid, int idx);

#endif
