// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/device_priv.h"
#include "device/xfer.h"
#include "common/sys.h"

/*
 * Copies the stream to out until EOF (STOP_COPY), ENOMSG (PRE_COPY) or
 * budget bytes: a pre-copy round sends what was pending when it began.
 */
static int drain(int data_fd, int out, uint8_t *buf, size_t chunk, struct emu_dev *dev,
		 uint64_t work_per_chunk, uint64_t budget, uint64_t *bytes)
{
	while (*bytes < budget) {
		size_t want = budget - *bytes < chunk ? budget - *bytes : chunk;
		ssize_t n = emu_fd_read(data_fd, buf, want);
		int ret;

		if (n < 0 && errno == ENOMSG)
			return 0;
		if (n < 0)
			return emu_dev_fail(dev, errno, "reading the device stream: %s",
					    strerror(errno));
		if (n == 0)
			return 0;
		ret = write_all(out, buf, n);
		if (ret)
			return emu_dev_fail(dev, -ret, "writing the stream out: %s",
					    strerror(-ret));
		*bytes += n;
		if (work_per_chunk)
			emu_dev_run(dev, work_per_chunk);
	}
	return 0;
}

static int precopy_rounds(struct emu_dev *dev, int data_fd, int out, uint8_t *buf,
			  const struct emu_save_opts *o, struct emu_save_report *rep)
{
	uint64_t work = o->work_per_mib * o->chunk >> 20;
	unsigned int max = o->max_rounds < EMU_XFER_MAX_ROUNDS ? o->max_rounds
							       : EMU_XFER_MAX_ROUNDS;

	while (rep->nrounds < max) {
		struct emu_round *r = &rep->rounds[rep->nrounds];
		uint64_t t0 = emu_now_ns();
		int ret;

		if (emu_get_precopy_info(data_fd, &r->initial, &r->dirty))
			return emu_dev_fail(dev, errno, "PRECOPY_INFO: %s", strerror(errno));
		/* The uAPI advises leaving for STOP_COPY only once initial bytes are sent. */
		if (!r->initial && r->dirty <= o->dirty_limit && rep->nrounds)
			break;
		ret = drain(data_fd, out, buf, o->chunk, dev, work, r->initial + r->dirty,
			    &r->bytes);
		if (ret)
			return ret;
		r->ns = emu_now_ns() - t0;
		rep->total_bytes += r->bytes;
		rep->nrounds++;
	}
	return 0;
}

static int save(struct emu_dev *dev, int out, const struct emu_save_opts *o,
		struct emu_save_report *rep, uint8_t *buf)
{
	bool precopy = emu_dev_mig_flags(dev) & VFIO_MIGRATION_PRE_COPY;
	int data_fd = -1, sc_fd = -1, ret = 0;
	uint64_t t0;

	if (precopy) {
		if (emu_set_state(dev, VFIO_DEVICE_STATE_PRE_COPY, &data_fd))
			return -errno;
		ret = precopy_rounds(dev, data_fd, out, buf, o, rep);
	}
	t0 = emu_now_ns();
	if (!ret && emu_get_data_size(dev, &rep->data_size_before))
		ret = -errno;
	if (!ret && emu_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &sc_fd))
		ret = -errno;
	if (!ret) {
		if (sc_fd >= 0)
			data_fd = sc_fd;
		ret = drain(data_fd, out, buf, o->chunk, dev, 0, UINT64_MAX, &rep->stop_copy_bytes);
	}
	rep->stop_copy_ns = emu_now_ns() - t0;
	rep->total_bytes += rep->stop_copy_bytes;
	if (!ret)
		rep->digest = emu_dev_digest(dev);
	if (data_fd >= 0)
		emu_fd_close(data_fd);
	if (!ret && emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL))
		ret = -errno;
	return ret;
}

int emu_save_stream(struct emu_dev *dev, int out, const struct emu_save_opts *o,
		    struct emu_save_report *rep)
{
	uint8_t *buf = malloc(o->chunk);
	char why[256];
	int ret;

	memset(rep, 0, sizeof(*rep));
	if (!buf)
		return emu_dev_fail(dev, ENOMEM, "out of memory");
	ret = save(dev, out, o, rep, buf);
	free(buf);
	if (ret) {
		/* Nothing reached a destination that owns the guest: run on here. */
		snprintf(why, sizeof(why), "%s", emu_last_error());
		if (emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL))
			emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL);
		emu_dev_fail(dev, -ret, "%s; the device runs on, its state intact", why);
	}
	return ret;
}

static int resume(struct emu_dev *dev, int in, uint64_t *bytes, uint8_t *buf, size_t chunk)
{
	int data_fd, ret = 0;

	if (emu_set_state(dev, VFIO_DEVICE_STATE_RESUMING, &data_fd))
		return -errno;
	for (;;) {
		ssize_t n = read(in, buf, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = emu_dev_fail(dev, errno, "reading the stream in: %s",
					   strerror(errno));
			break;
		}
		if (!n)
			break;
		if (emu_fd_write(data_fd, buf, n) != n) {
			ret = -errno;
			break;
		}
		*bytes += n;
	}
	emu_fd_close(data_fd);
	if (!ret && emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL))
		ret = -errno;
	return ret;
}

int emu_resume_stream(struct emu_dev *dev, int in, uint64_t *bytes, uint64_t *digest)
{
	const size_t chunk = 1 << 20;
	uint8_t *buf = malloc(chunk);
	char why[256];
	int ret;

	*bytes = 0;
	if (!buf)
		return emu_dev_fail(dev, ENOMEM, "out of memory");
	ret = resume(dev, in, bytes, buf, chunk);
	free(buf);
	if (!ret) {
		*digest = emu_dev_digest(dev);
		if (emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL))
			ret = -errno;
	}
	if (ret) {
		snprintf(why, sizeof(why), "%s", emu_last_error());
		emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL);
		emu_dev_fail(dev, -ret, "%s", why);
	}
	return ret;
}
