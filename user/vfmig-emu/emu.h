/* SPDX-License-Identifier: GPL-2.0 */
/* vfmig-emu's options, shared by its commands (main.c parses them). */
#ifndef VFMIG_VFMIG_EMU_EMU_H
#define VFMIG_VFMIG_EMU_EMU_H

#include <stdbool.h>
#include <stdint.h>

#include "migration/vm.h"

#define EXIT_USAGE 2

struct opts {
	const char *cmd, *variant, *params, *file, *expect, *to, *from, *die_at;
	uint32_t features;
	uint64_t work, work_per_mib, rounds, bandwidth, downtime_ms, time_s, harvest_ms;
	bool json, rounds_set, drop_page;
	struct vm_cfg vm;
	char *const *args;
	int nargs;
};

int usage_error(const char *fmt, const char *arg);

/* The commands on one device (device_cmds.c) and on a VM (vm_cmds.c). */
int cmd_fsm(struct opts *o);
int cmd_save(struct opts *o);
int cmd_resume(struct opts *o);
int cmd_migrate(struct opts *o);
int cmd_incoming(struct opts *o);
int cmd_predict(struct opts *o);
int cmd_tune(struct opts *o);
int cmd_run(struct opts *o);

#endif
