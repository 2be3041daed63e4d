/* SPDX-License-Identifier: GPL-2.0 */
/* Printing a migration's summary: a per-round table, or JSON. */
#ifndef VFMIG_MIGRATION_SUMMARY_H
#define VFMIG_MIGRATION_SUMMARY_H

#include <stdio.h>

#include "migration/migrate.h"

void mig_summary_text(FILE *f, const struct vm *vm, const struct mig_summary *r);
void mig_summary_json(FILE *f, const struct vm *vm, const struct mig_summary *r);
/* The destination's side (vfmig-emu incoming --json): what it received, its devices' arcs. */
void mig_dest_json(FILE *f, const struct mig_dest_report *r);
void mig_round_header(FILE *f, const struct vm *vm);

#endif
