/* SPDX-License-Identifier: GPL-2.0 */
/* Printing a migration's report: a per-round table, or JSON. */
#ifndef VFMIG_EMU_REPORT_H
#define VFMIG_EMU_REPORT_H

#include <stdio.h>

#include "emu/migrate.h"

void mig_report_text(FILE *f, const struct vm *vm, const struct mig_report *r);
void mig_report_json(FILE *f, const struct vm *vm, const struct mig_report *r);
void mig_round_header(FILE *f, const struct vm *vm);

#endif
