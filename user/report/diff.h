/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two recordings side by side (diff.c), before and after a tuning change:
 * per migration its rounds, total time, downtime and its parts, bytes and
 * each device's arc latencies, and the dirty rate, each with the change.
 */
#ifndef VFMIG_REPORT_DIFF_H
#define VFMIG_REPORT_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "report/report.h"

void report_print_diff(FILE *f, const struct report *before, const struct report *after, bool json);
/*
 * vfmigprof report --diff: loads both files and prints their diff; the exit status is the worse
 * file's (0 clean, 3 damaged: a line on stderr naming it and the offset, 1 unreadable: a line).
 */
int report_diff_files(FILE *f, const char *before, const char *after, bool json);

#endif
