/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Moving a device's migration stream in and out of a file descriptor: the
 * device half of a migration driver (save with pre-copy rounds, stop-copy,
 * resume), as a VMM drives a variant driver.
 */
#ifndef VFMIG_DEVICE_XFER_H
#define VFMIG_DEVICE_XFER_H

#include "device/device.h"

#define EMU_XFER_MAX_ROUNDS 64

struct emu_save_opts {
	unsigned int max_rounds; /* pre-copy rounds before stop-copy regardless */
	uint64_t dirty_limit;	 /* stop pre-copy once dirty bytes are at or below this */
	uint64_t work_per_mib;	 /* device work units run per MiB read, in pre-copy */
	size_t chunk;		 /* bytes per read */
};

struct emu_round {
	uint64_t initial, dirty; /* PRECOPY_INFO at the round's start */
	uint64_t bytes;		 /* read in the round */
	uint64_t ns;
};

struct emu_save_report {
	unsigned int nrounds;
	struct emu_round rounds[EMU_XFER_MAX_ROUNDS];
	uint64_t data_size_before; /* MIG_DATA_SIZE when stop-copy began */
	uint64_t stop_copy_bytes;
	uint64_t total_bytes;
	uint64_t stop_copy_ns;
	uint64_t digest; /* device state at stop */
};

/*
 * Saves dev into out_fd; on any failure the device is returned to RUNNING
 * with its state intact and -errno is returned (emu_last_error() says why).
 * On success the device is left in STOP: the destination owns the state.
 */
int emu_save_stream(struct emu_dev *dev, int out_fd, const struct emu_save_opts *opts,
		    struct emu_save_report *rep);
/* Resumes dev from in_fd and leaves it RUNNING; on failure it is reset. */
int emu_resume_stream(struct emu_dev *dev, int in_fd, uint64_t *bytes, uint64_t *digest);

#endif
