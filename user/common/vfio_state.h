/* SPDX-License-Identifier: GPL-2.0 */
/* The names of the VFIO migration uAPI v2 states, as the kernel's header spells them. */
#ifndef VFMIG_COMMON_VFIO_STATE_H
#define VFMIG_COMMON_VFIO_STATE_H

#include "vfmig/uapi.h"

#define VFIO_NR_MIG_STATES 8 /* enum vfio_device_mig_state: ERROR .. PRE_COPY_P2P */

/* "INVALID" for a number no state has. */
const char *vfio_state_name(enum vfio_device_mig_state state);
/* Accepts the kernel's names in any case, '-' for '_', or the number; -EINVAL otherwise. */
int vfio_state_parse(const char *name, enum vfio_device_mig_state *state);

#endif
