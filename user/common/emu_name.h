/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An emulated device's name, PID:emuN: what vfmig-emu prints and the probes show (they
 * key it by its process and its id in that process).
 */
#ifndef VFMIG_COMMON_EMU_NAME_H
#define VFMIG_COMMON_EMU_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline const char *emu_dev_name_of(uint32_t pid, uint32_t id, char *out, size_t len)
{
	snprintf(out, len, "%u:emu%u", pid, id);
	return out;
}

#endif
