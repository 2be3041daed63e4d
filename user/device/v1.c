// SPDX-License-Identifier: GPL-2.0
/*
 * The v1 migration protocol (Linux 5.8 - 5.17, never in a mainline driver
 * but in vendor trees and QEMU before 8.0): a migration region holding
 * struct vfio_device_migration_info, with device_state bits _RUNNING,
 * _SAVING and _RESUMING, followed by a data section. It runs on the v2
 * core: each bit value is a v2 state, the data section windows the same
 * stream, so a stream saved through v1 resumes through v2 and the reverse.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "device/device_priv.h"
#include "vfmig/usdt.h"

#define V1_RUN VFIO_DEVICE_STATE_V1_RUNNING
#define V1_SAVE VFIO_DEVICE_STATE_V1_SAVING
#define V1_RES VFIO_DEVICE_STATE_V1_RESUMING
#define V1_ERROR (V1_SAVE | V1_RES)

struct emu_v1 {
	uint8_t data[EMU_V1_DATA_SIZE];
	uint64_t staged; /* bytes of the stream now in the data section (saving) */
};

static uint32_t v1_bits(enum vfio_device_mig_state s)
{
	switch ((int)s) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return V1_RUN;
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return V1_RUN | V1_SAVE;
	case VFIO_DEVICE_STATE_STOP_COPY:
		return V1_SAVE;
	case VFIO_DEVICE_STATE_RESUMING:
		return V1_RES;
	case VFIO_DEVICE_STATE_STOP:
		return 0;
	default:
		return V1_ERROR;
	}
}

static int v1_to_v2(uint32_t bits, enum vfio_device_mig_state *s)
{
	static const int map[8] = {
		[0] = VFIO_DEVICE_STATE_STOP,
		[V1_RUN] = VFIO_DEVICE_STATE_RUNNING,
		[V1_SAVE] = VFIO_DEVICE_STATE_STOP_COPY,
		[V1_RUN | V1_SAVE] = VFIO_DEVICE_STATE_PRE_COPY,
		[V1_RES] = VFIO_DEVICE_STATE_RESUMING,
		[V1_RES | V1_RUN] = -1,
		[V1_ERROR] = -1, /* the error value is reported, never requested */
		[V1_RES | V1_SAVE | V1_RUN] = -1,
	};

	if (map[bits & VFIO_DEVICE_STATE_MASK] < 0)
		return -EINVAL;
	*s = map[bits & VFIO_DEVICE_STATE_MASK];
	return 0;
}

static struct emu_v1 *v1_get(struct emu_dev *dev)
{
	if (!dev->v1)
		dev->v1 = calloc(1, sizeof(*dev->v1));
	return dev->v1;
}

void emu_v1_free(struct emu_dev *dev)
{
	free(dev->v1);
	dev->v1 = NULL;
}

static int v1_set_state(struct emu_dev *dev, uint32_t bits)
{
	enum vfio_device_mig_state from = dev->state, to = from;
	struct emu_file *file;
	int ret;

	EMU_PROBE3(v1_state_start, dev->id, v1_bits(from), bits);
	ret = v1_to_v2(bits, &to);
	if (ret)
		ret = emu_dev_fail(dev, EINVAL, "v1 device_state %#x is not a valid state", bits);
	else if (to != dev->state)
		ret = emu_set_state_locked(dev, to, &file);
	/* The stream is reached through the region, never through a handle. */
	if (!ret && to != from && (dev->save || dev->resume))
		(dev->save ? dev->save : dev->resume)->user_closed = true;
	if (!ret)
		v1_get(dev)->staged = 0;
	EMU_PROBE4(v1_state, dev->id, v1_bits(from), bits, ret);
	return ret;
}

static int v1_pending(struct emu_dev *dev, uint64_t *pending)
{
	uint64_t initial = 0, dirty = 0;

	if (!dev->save)
		return emu_dev_fail(dev, EINVAL, "v1 pending_bytes is read only while _SAVING");
	if (dev->state == VFIO_DEVICE_STATE_STOP_COPY) {
		*pending = emu_stream_stop_copy_size(dev);
		return 0;
	}
	emu_file_pending(dev->save, &initial, &dirty);
	*pending = initial + dirty;
	return 0;
}

/* Reading data_offset makes the device stage the next chunk of the stream. */
static int v1_stage(struct emu_dev *dev, uint64_t *offset)
{
	struct emu_v1 *v1 = v1_get(dev);
	ssize_t n;

	*offset = EMU_V1_DATA_OFFSET;
	if (dev->resume)
		return 0;
	if (!dev->save)
		return emu_dev_fail(dev, EINVAL,
				    "v1 data_offset is read only while saving or resuming");
	n = emu_file_read_locked(dev->save, v1->data, sizeof(v1->data));
	if (n == -ENOMSG)
		n = 0;
	if (n < 0)
		return n;
	v1->staged = n;
	return 0;
}

/* Writing data_size hands the chunk in the data section to the stream. */
static int v1_absorb(struct emu_dev *dev, uint64_t size)
{
	ssize_t n;

	if (!dev->resume)
		return emu_dev_fail(dev, EINVAL, "v1 data_size is written only while _RESUMING");
	if (size > EMU_V1_DATA_SIZE)
		return emu_dev_fail(dev, EINVAL, "v1 data_size %llu exceeds the data section",
				    (unsigned long long)size);
	n = emu_file_write_locked(dev->resume, v1_get(dev)->data, size);
	return n < 0 ? (int)n : 0;
}

#define FIELD(f) offsetof(struct vfio_device_migration_info, f)
#define FSIZE(f) sizeof(((struct vfio_device_migration_info *)0)->f)

static int header_read(struct emu_dev *dev, uint64_t off, size_t len, uint64_t *val)
{
	if (off == FIELD(device_state) && len == FSIZE(device_state)) {
		*val = v1_bits(dev->state);
		return 0;
	}
	if (off == FIELD(pending_bytes) && len == 8)
		return v1_pending(dev, val);
	if (off == FIELD(data_offset) && len == 8)
		return v1_stage(dev, val);
	if (off == FIELD(data_size) && len == 8) {
		*val = dev->save ? v1_get(dev)->staged : 0;
		return 0;
	}
	return emu_dev_fail(dev, EINVAL, "v1 region read at %llu+%zu is not one whole field",
			    (unsigned long long)off, len);
}

static int header_write(struct emu_dev *dev, uint64_t off, size_t len, uint64_t val)
{
	if (off == FIELD(device_state) && len == FSIZE(device_state))
		return v1_set_state(dev, (uint32_t)val);
	if (off == FIELD(data_size) && len == 8)
		return v1_absorb(dev, val);
	return emu_dev_fail(dev, EINVAL, "v1 region write at %llu+%zu is not a writable field",
			    (unsigned long long)off, len);
}

static ssize_t region_access(struct emu_dev *dev, void *buf, size_t len, uint64_t off, bool write)
{
	struct emu_v1 *v1 = v1_get(dev);
	uint64_t val = 0;
	int ret;

	if (!v1)
		return -ENOMEM;
	if (off >= EMU_V1_DATA_OFFSET) {
		if (off + len > EMU_V1_REGION_SIZE || off + len < off)
			return -EINVAL;
		if (write)
			memcpy(v1->data + off - EMU_V1_DATA_OFFSET, buf, len);
		else
			memcpy(buf, v1->data + off - EMU_V1_DATA_OFFSET, len);
		return len;
	}
	if (len != 4 && len != 8)
		return emu_dev_fail(dev, EINVAL, "v1 region access of %zu bytes", len);
	if (write) {
		memcpy(&val, buf, len);
		ret = header_write(dev, off, len, val);
	} else {
		ret = header_read(dev, off, len, &val);
		if (!ret)
			memcpy(buf, &val, len);
	}
	return ret ? ret : (ssize_t)len;
}

static ssize_t v1_call(struct emu_dev *dev, void *buf, size_t len, uint64_t off, bool write)
{
	ssize_t ret;

	if (!dev || !buf) {
		errno = dev ? EFAULT : EBADF;
		return -1;
	}
	pthread_mutex_lock(&dev->lock);
	ret = region_access(dev, buf, len, off, write);
	pthread_mutex_unlock(&dev->lock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

ssize_t emu_v1_region_read(struct emu_dev *dev, void *buf, size_t len, uint64_t off)
{
	return v1_call(dev, buf, len, off, false);
}

ssize_t emu_v1_region_write(struct emu_dev *dev, const void *buf, size_t len, uint64_t off)
{
	return v1_call(dev, (void *)buf, len, off, true);
}
