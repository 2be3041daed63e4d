/* SPDX-License-Identifier: GPL-2.0 */
/* The real-QEMU figures as JSON (json-c), with the key names of vfmig-emu migrate --json. */
#ifndef VFMIG_QEMU_REPORT_H
#define VFMIG_QEMU_REPORT_H

#include <json-c/json.h>

#include "qemu/bed.h"
#include "qemu/inputs.h"

/*
 * converged, total_ms, bytes, downtime_ms (QEMU's own), and QEMU's setup_ms,
 * dirty_sync_count, pages, the STOP->RESUME time and every query-migrate sample.
 */
json_object *qemu_migration_json(const struct qemu_migration *m);
/* RAM, parameters, capabilities, state; W(T) windows and untouched pages when given. */
json_object *qemu_inputs_json(const struct qemu_inputs *in, const struct qemu_dirty_window *w,
			      unsigned nw, long long untouched_pages, const char *untouched_why);

#endif
