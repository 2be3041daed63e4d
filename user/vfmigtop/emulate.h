/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --emulate: emulated VMs as vfmig-emu child processes (the vfmig-emu beside
 * vfmigtop), each in a process group of its own; the first VM migrates in a
 * loop, the others run. Stopped, group and all, when vfmigtop exits.
 */
#ifndef VFMIG_VFMIGTOP_EMULATE_H
#define VFMIG_VFMIGTOP_EMULATE_H

#include <stddef.h>
#include <sys/types.h>

#define TOP_EMU_MAX 32

struct top_emulate {
	int n;
	pid_t pid[TOP_EMU_MAX];
};

/* The vfmig-emu beside this program into path; -1 when there is none. */
int top_emu_path(char *path, size_t len);
/* Starts nvms VMs of ndevs devices each (1-4); 0, or -1 with the reason on stderr. */
int top_emulate_start(struct top_emulate *e, const char *emu, int nvms, int ndevs);
void top_emulate_stop(struct top_emulate *e);

#endif
