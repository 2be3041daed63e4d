/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMUs given by --qmp: each one's QMP socket, matched to its VM row by the
 * socket peer's pid. Its own max-bandwidth and downtime-limit become that
 * VM's link, query-migrate its migration's progress; a QEMU no device
 * brought still gets a row (name from query-name, RAM and status from QMP).
 */
#ifndef VFMIG_VFMIGTOP_QEMUS_H
#define VFMIG_VFMIGTOP_QEMUS_H

#include <stddef.h>

#include "model/model.h"
#include "vfmigtop/figures.h"

#define TOP_QEMUS_MAX 16

struct top_qemus;

/*
 * Connects to each path (a unix socket speaking QMP). NULL with one line in
 * err naming the path and what is wrong with it.
 */
struct top_qemus *top_qemus_open(char *const *paths, unsigned int n, char *err, size_t len);
void top_qemus_close(struct top_qemus *qs);

/*
 * Reads every QEMU: its VM row in t (added when no device brought one)
 * gets its link and its migration's progress. A QEMU whose socket closed is
 * dropped (its row is then kept a while as gone).
 */
void top_qemus_read(struct top_qemus *qs, struct top_table *t);

/*
 * The model's inputs for a QEMU's VM from QMP alone: RAM ram_bytes at the
 * dirty rate QEMU measured (linear W(T)), its link. -1 when QEMU reports
 * no migration (its dirty-pages-rate is 0 until the sync ending round 1).
 */
int top_qemu_inputs(const struct top_vm *vm, double ram_bytes, struct model_inputs *in);

/* The engine whose rules a QEMU of this major version follows. */
enum model_engine top_qemu_engine(int major);

#endif
