/* SPDX-License-Identifier: GPL-2.0 */
/*
 * make score's real-QEMU half: each scenario of score/scenarios.qemu booted on
 * the bed (build/tests/qemu/qemu_bed), predicted through its QMP socket by
 * vfmigprof predict --qmp --json before it starts, then migrated for real;
 * truth is QEMU's own total-time and downtime.
 */
#ifndef VFMIG_SCORE_QEMU_H
#define VFMIG_SCORE_QEMU_H

struct qemu_score_opts {
	const char *file; /* score/scenarios.qemu */
	const char *bed;  /* build/tests/qemu/qemu_bed */
	const char *prof; /* build/vfmigprof */
	const char *build;
	const char *only;
	int runs;
};

/* The QEMU table and its summaries on stdout; 0, or 1 when the bed cannot run (said why). */
int score_qemu(const struct qemu_score_opts *o);

/* score/scenarios.qemu, or NULL when QEMU=0 is in the environment. */
const char *score_qemu_default(void);

/* score_qemu with the bed and vfmigprof beside the vfmig-emu at emu (build/vfmig-emu). */
int score_qemu_beside(const char *file, const char *emu, int runs, const char *only);

#endif
