// SPDX-License-Identifier: GPL-2.0
/*
 * The migration v2 next-state algorithm, as vfio_mig_get_next_state() in
 * drivers/vfio/vfio_main.c defines it, with the fix for the skip loop that
 * never ended on ERROR (a STOP_COPY -> PRE_COPY request on a PRE_COPY
 * device): here that request is refused with EINVAL.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "device/device.h"

enum {
	S_ERR = VFIO_DEVICE_STATE_ERROR,
	S_STOP = VFIO_DEVICE_STATE_STOP,
	S_RUN = VFIO_DEVICE_STATE_RUNNING,
	S_SC = VFIO_DEVICE_STATE_STOP_COPY,
	S_RES = VFIO_DEVICE_STATE_RESUMING,
	S_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
	S_PC = VFIO_DEVICE_STATE_PRE_COPY,
	S_PCP2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

/* next_step[from][to]: the first arc of the shortest path with every feature. */
static const unsigned char next_step[EMU_NR_STATES][EMU_NR_STATES] = {
	[S_STOP] =
		{
			[S_STOP] = S_STOP,
			[S_RUN] = S_P2P,
			[S_SC] = S_SC,
			[S_RES] = S_RES,
			[S_P2P] = S_P2P,
			[S_PC] = S_P2P,
			[S_PCP2P] = S_P2P,
			[S_ERR] = S_ERR,
		},
	[S_RUN] =
		{
			[S_STOP] = S_P2P,
			[S_RUN] = S_RUN,
			[S_SC] = S_P2P,
			[S_RES] = S_P2P,
			[S_P2P] = S_P2P,
			[S_PC] = S_PC,
			[S_PCP2P] = S_P2P,
			[S_ERR] = S_ERR,
		},
	[S_SC] =
		{
			[S_STOP] = S_STOP,
			[S_RUN] = S_STOP,
			[S_SC] = S_SC,
			[S_RES] = S_STOP,
			[S_P2P] = S_STOP,
			[S_PC] = S_ERR,
			[S_PCP2P] = S_ERR,
			[S_ERR] = S_ERR,
		},
	[S_RES] =
		{
			[S_STOP] = S_STOP,
			[S_RUN] = S_STOP,
			[S_SC] = S_STOP,
			[S_RES] = S_RES,
			[S_P2P] = S_STOP,
			[S_PC] = S_STOP,
			[S_PCP2P] = S_STOP,
			[S_ERR] = S_ERR,
		},
	[S_P2P] =
		{
			[S_STOP] = S_STOP,
			[S_RUN] = S_RUN,
			[S_SC] = S_STOP,
			[S_RES] = S_STOP,
			[S_P2P] = S_P2P,
			[S_PC] = S_RUN,
			[S_PCP2P] = S_PCP2P,
			[S_ERR] = S_ERR,
		},
	[S_PC] =
		{
			[S_STOP] = S_RUN,
			[S_RUN] = S_RUN,
			[S_SC] = S_PCP2P,
			[S_RES] = S_RUN,
			[S_P2P] = S_RUN,
			[S_PC] = S_PC,
			[S_PCP2P] = S_PCP2P,
			[S_ERR] = S_ERR,
		},
	[S_PCP2P] =
		{
			[S_STOP] = S_P2P,
			[S_RUN] = S_P2P,
			[S_SC] = S_SC,
			[S_RES] = S_P2P,
			[S_P2P] = S_P2P,
			[S_PC] = S_PC,
			[S_PCP2P] = S_PCP2P,
			[S_ERR] = S_ERR,
		},
	[S_ERR] = {S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR},
};

/* Features a state needs; ERROR needs all bits, so it is never "supported". */
static const uint32_t state_needs[EMU_NR_STATES] = {
	[S_STOP] = VFIO_MIGRATION_STOP_COPY,
	[S_RUN] = VFIO_MIGRATION_STOP_COPY,
	[S_SC] = VFIO_MIGRATION_STOP_COPY,
	[S_RES] = VFIO_MIGRATION_STOP_COPY,
	[S_P2P] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
	[S_PC] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
	[S_PCP2P] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
	[S_ERR] = ~0U,
};

bool emu_state_supported(uint32_t mig_flags, enum vfio_device_mig_state state)
{
	return (unsigned int)state < EMU_NR_STATES &&
	       (state_needs[state] & mig_flags) == state_needs[state];
}

/* STOP_COPY is mandatory; PRE_COPY_P2P comes from P2P + PRE_COPY; nothing else is defined. */
bool emu_mig_flags_valid(uint32_t mig_flags)
{
	return (mig_flags & VFIO_MIGRATION_STOP_COPY) && !(mig_flags & ~EMU_MIG_FLAGS_ALL);
}

int emu_mig_next_state(uint32_t mig_flags, enum vfio_device_mig_state cur,
		       enum vfio_device_mig_state new_state, enum vfio_device_mig_state *next)
{
	unsigned int step;

	if (!emu_state_supported(mig_flags, cur))
		return -EINVAL;
	if (!emu_state_supported(mig_flags, new_state))
		return -EINVAL;

	step = next_step[cur][new_state];
	/* Skip optional states; the kernel's loop lacked the ERROR test and hung. */
	while (step != S_ERR && !emu_state_supported(mig_flags, step))
		step = next_step[step][new_state];

	*next = step;
	return step == S_ERR ? -EINVAL : 0;
}

/* "stop-copy,p2p,pre-copy" (or "all") to VFIO_MIGRATION_* bits. */
int emu_flags_parse(const char *list, uint32_t *mig_flags)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} names[] = {
		{"stop-copy", VFIO_MIGRATION_STOP_COPY},
		{"p2p", VFIO_MIGRATION_P2P},
		{"pre-copy", VFIO_MIGRATION_PRE_COPY},
		{"all", EMU_MIG_FLAGS_ALL},
	};
	const char *p = list;
	uint32_t flags = 0;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strlen(names[i].name) == len && !strncasecmp(p, names[i].name, len))
				break;
		}
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		flags |= names[i].flag;
		p += len;
		if (*p == ',')
			p++;
	}
	*mig_flags = flags;
	return 0;
}
