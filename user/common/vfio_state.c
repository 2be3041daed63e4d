// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/vfio_state.h"

static const char *const state_names[VFIO_NR_MIG_STATES] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

const char *vfio_state_name(enum vfio_device_mig_state state)
{
	return (unsigned int)state < VFIO_NR_MIG_STATES ? state_names[state] : "INVALID";
}

int vfio_state_parse(const char *name, enum vfio_device_mig_state *state)
{
	char buf[32];
	size_t i;

	if (strlen(name) >= sizeof(buf))
		return -EINVAL;
	for (i = 0; name[i]; i++)
		buf[i] = name[i] == '-' ? '_' : name[i];
	buf[i] = 0;
	for (i = 0; i < VFIO_NR_MIG_STATES; i++) {
		if (!strcasecmp(buf, state_names[i]) || (buf[0] == '0' + (int)i && !buf[1])) {
			*state = i;
			return 0;
		}
	}
	return -EINVAL;
}
