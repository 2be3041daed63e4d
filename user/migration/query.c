// SPDX-License-Identifier: GPL-2.0
/*
 * A running VM's devices asked their pre-copy sizes without migrating: a
 * device reports them only in PRE_COPY, so each goes RUNNING -> PRE_COPY ->
 * RUNNING. Its initial data is read and dropped (as round 0 would send it), so
 * that what it rewrites afterwards shows as dirty bytes: their growth over
 * hold_ns is the device's dirty rate. The PRECOPY_INFO answers are what the
 * probes (vfmigprof predict) read; the guest is never stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device.h"
#include "migration/query.h"

#define CHUNK (1u << 20)

static int drain(int fd, uint64_t bytes, char *buf)
{
	while (bytes) {
		ssize_t n = emu_fd_read(fd, buf, bytes < CHUNK ? bytes : CHUNK);

		if (n < 0 && errno == ENOMSG)
			return 0;
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		bytes -= (uint64_t)n < bytes ? (uint64_t)n : bytes;
	}
	return 0;
}

static int query_one(struct emu_dev *dev, uint64_t hold_ns, char *buf, struct vm_dev_sizes *out)
{
	struct timespec ts = {.tv_sec = hold_ns / 1000000000ull,
			      .tv_nsec = hold_ns % 1000000000ull};
	uint64_t initial, dirty, t0;
	int fd = -1, ret;

	if (emu_set_state(dev, VFIO_DEVICE_STATE_PRE_COPY, &fd))
		return -errno;
	ret = emu_get_precopy_info(fd, &initial, &dirty) ? -errno : 0;
	out->initial_bytes = initial;
	if (!ret)
		ret = drain(fd, initial + dirty, buf);
	if (!ret && !emu_get_precopy_info(fd, &initial, &dirty)) {
		out->dirty_before = dirty;
		t0 = emu_now_ns();
		nanosleep(&ts, NULL);
		if (!emu_get_precopy_info(fd, &initial, &dirty)) {
			out->dirty_after = dirty;
			out->held_ns = emu_now_ns() - t0;
		}
	}
	if (emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL) && !ret)
		ret = -errno;
	emu_fd_close(fd);
	return ret;
}

int vm_precopy_query(struct vm *vm, uint64_t hold_ns, struct vm_dev_sizes *out, char *err,
		     size_t errlen)
{
	char *buf = malloc(CHUNK);
	unsigned int i;
	int ret = 0;

	if (!buf)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	for (i = 0; i < vm->cfg.ndevs && !ret; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (!(emu_dev_mig_flags(vm->devs[i].dev) & VFIO_MIGRATION_PRE_COPY))
			continue;
		out[i].queried = true;
		ret = query_one(vm->devs[i].dev, hold_ns, buf, &out[i]);
		if (ret)
			snprintf(err, errlen, "device %u: PRE_COPY query: %s", i, strerror(-ret));
	}
	free(buf);
	return ret;
}
