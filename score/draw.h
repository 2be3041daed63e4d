/* SPDX-License-Identifier: GPL-2.0 */
/* The scorer's scenarios: read from a committed file, or drawn from documented ranges. */
#ifndef VFMIG_SCORE_DRAW_H
#define VFMIG_SCORE_DRAW_H

struct scenario {
	char name[48], cls[16];
	char vm[512];  /* vfmig-emu run / migrate flags of the VM */
	char mig[256]; /* migrate / predict flags of the migration */
};

/* "name class | VM flags | migration flags" lines; '#' comments. -1 with a line on stderr. */
int scenarios_load(const char *path, struct scenario *out, int max);
/* k scenarios drawn with seed from the ranges in draw.c; returns how many. */
int scenarios_draw(unsigned int seed, unsigned int k, struct scenario *out, int max);

#endif
