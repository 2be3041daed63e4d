// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated device: creation and destruction, and the VFIO_DEVICE_FEATURE /
 * RESET ioctls as vfio_main.c answers them. The top of the core's call graph:
 * it calls transition.c, stream.c, dma.c, v1.c and base.c, none of which
 * calls back into it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device_priv.h"
#include "vfmig/usdt.h"

static uint32_t next_dev_id = 1;
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static char vm_name[VFMIG_VM_NAME_LEN]; /* "" until set: vm-PID of the process asking */

int emu_set_vm_name(const char *name)
{
	if (name && (!*name || strlen(name) >= sizeof(vm_name)))
		return -EINVAL;
	pthread_mutex_lock(&id_lock);
	snprintf(vm_name, sizeof(vm_name), "%s", name ? name : "");
	pthread_mutex_unlock(&id_lock);
	return 0;
}

const char *emu_dev_name(const struct emu_dev *dev, char *out, size_t len)
{
	return emu_dev_name_of(getpid(), dev->id, out, len);
}

void emu_vm_name(char *out, size_t len)
{
	pthread_mutex_lock(&id_lock);
	if (vm_name[0])
		snprintf(out, len, "%s", vm_name);
	else
		snprintf(out, len, "vm-%d", (int)getpid());
	pthread_mutex_unlock(&id_lock);
}

static const struct emu_variant_ops *const variants[] = {&emu_variant_nic, &emu_variant_bigmem};

static const struct emu_variant_ops *find_variant(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (!strcmp(variants[i]->name, name))
			return variants[i];
	}
	return NULL;
}

bool emu_variant_known(const char *name)
{
	return find_variant(name) != NULL;
}

static int check_cfg(const struct emu_dev_cfg *cfg, const struct emu_variant_ops **ops,
		     uint32_t *flags)
{
	*ops = find_variant(cfg->variant ? cfg->variant : "");
	if (!*ops)
		return emu_dev_fail(NULL, EINVAL, "unknown device variant '%s' (nic, bigmem)",
				    cfg->variant ? cfg->variant : "");
	*flags = cfg->mig_flags ? cfg->mig_flags : (*ops)->mig_flags;
	if (!emu_mig_flags_valid(*flags))
		return emu_dev_fail(NULL, EINVAL,
				    "migration features 0x%x: STOP_COPY is required, only "
				    "STOP_COPY, P2P and PRE_COPY exist",
				    *flags);
	if (*flags & ~(*ops)->mig_flags)
		return emu_dev_fail(NULL, EINVAL, "variant %s cannot offer features 0x%x",
				    (*ops)->name, *flags & ~(*ops)->mig_flags);
	return 0;
}

/* Once per device, so that the probes name it as this process does: PID:emuN, variant, VM. */
static void announce(const struct emu_dev *dev)
{
	char name[VFMIG_VM_NAME_LEN];

	emu_vm_name(name, sizeof(name));
	EMU_PROBE3(device_new, dev->id, dev->ops->name, name);
}

struct emu_dev *emu_dev_create(const struct emu_dev_cfg *cfg)
{
	const struct emu_variant_ops *ops;
	struct emu_dev *dev;
	uint32_t flags = 0;
	int ret;

	ret = check_cfg(cfg, &ops, &flags);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		emu_dev_fail(NULL, ENOMEM, "out of memory for the device");
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&dev->lock, NULL);
	dev->ops = ops;
	dev->mig_flags = flags;
	dev->state = VFIO_DEVICE_STATE_RUNNING;
	dev->refs = 1;
	pthread_mutex_lock(&id_lock);
	dev->id = cfg->id ? cfg->id : next_dev_id++;
	pthread_mutex_unlock(&id_lock);
	ret = ops->init(dev, cfg->params ? cfg->params : "");
	if (ret) {
		if (dev->err[0])
			emu_dev_fail(NULL, -ret, "%s", dev->err);
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		errno = -ret;
		return NULL;
	}
	announce(dev);
	return dev;
}

/* Open data fds stay valid handles after destroy; they read as ENODEV. */
void emu_dev_destroy(struct emu_dev *dev)
{
	if (!dev)
		return;
	pthread_mutex_lock(&dev->lock);
	dev->ops->quiesce(dev, EMU_STOPPED);
	emu_file_drop(dev->save);
	emu_file_drop(dev->resume);
	dev->save = dev->resume = NULL;
	pthread_mutex_unlock(&dev->lock);
	if (dev->io)
		emu_iommu_detach(dev->io, dev->attach_id);
	/* freed here, not at the last put: open data fds never reach them */
	emu_v1_free(dev);
	emu_dma_log_free(dev);
	emu_dev_put(dev);
}

/* vfio_check_feature(): 1 = execute, 0 = PROBE answered, -EINVAL. */
static int check_feature(uint32_t flags, size_t argsz, uint32_t supported, size_t minsz)
{
	if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~supported)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

static int feature_migration(struct emu_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_migration mig = {.flags = dev->mig_flags};
	int ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(mig));

	if (ret != 1)
		return ret;
	memcpy(data, &mig, sizeof(mig));
	return 0;
}

static int set_state_ioctl(struct emu_dev *dev, struct vfio_device_feature_mig_state *mig)
{
	enum vfio_device_mig_state from = dev->state;
	struct emu_file *file;
	int ret;

	EMU_PROBE3(state_set_start, dev->id, from, mig->device_state);
	ret = emu_set_state_locked(dev, mig->device_state, &file);
	mig->data_fd = file ? file->handle : -1;
	EMU_PROBE5(state_set_end, dev->id, from, mig->device_state, ret, dev->state);
	return ret;
}

static int feature_mig_state(struct emu_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_mig_state mig;
	int ret;

	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_GET,
			    sizeof(mig));
	if (ret != 1)
		return ret;
	memcpy(&mig, data, sizeof(mig));
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		mig.device_state = dev->state;
		mig.data_fd = -1;
		ret = 0;
		EMU_PROBE3(state_get, dev->id, dev->state, 0);
	} else {
		ret = set_state_ioctl(dev, &mig);
	}
	/* Like the kernel, the requested state is copied back even on failure. */
	memcpy(data, &mig, sizeof(mig));
	return ret;
}

static int feature_data_size(struct emu_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_mig_data_size size = {0};
	int ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(size));

	if (ret != 1)
		return ret;
	size.stop_copy_length = emu_stream_stop_copy_size(dev);
	memcpy(data, &size, sizeof(size));
	EMU_PROBE3(data_size, dev->id, size.stop_copy_length, 0);
	return 0;
}

/* A device without log_ops answers ENOTTY, as vfio_main.c does. */
static int feature_dma_logging(struct emu_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	uint32_t index = flags & VFIO_DEVICE_FEATURE_MASK;
	int ret;

	if (!dev->log)
		return -ENOTTY;
	if (index == VFIO_DEVICE_FEATURE_DMA_LOGGING_START) {
		ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				    sizeof(struct vfio_device_feature_dma_logging_control));
		return ret != 1 ? ret : emu_dma_log_start(dev, data);
	}
	if (index == VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP) {
		ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
		return ret != 1 ? ret : emu_dma_log_stop(dev);
	}
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
			    sizeof(struct vfio_device_feature_dma_logging_report));
	return ret != 1 ? ret : emu_dma_log_report(dev, data);
}

static int device_feature(struct emu_dev *dev, struct vfio_device_feature *arg)
{
	const uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE;
	size_t minsz = sizeof(struct vfio_device_feature);
	uint32_t flags = arg->flags;
	size_t argsz;

	if (arg->argsz < minsz)
		return -EINVAL;
	if (flags & ~known)
		return -EINVAL;
	if (!(flags & VFIO_DEVICE_FEATURE_PROBE) && (flags & VFIO_DEVICE_FEATURE_SET) &&
	    (flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	argsz = arg->argsz - minsz;
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return feature_migration(dev, flags, arg->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return feature_mig_state(dev, flags, arg->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return feature_data_size(dev, flags, arg->data, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return feature_dma_logging(dev, flags, arg->data, argsz);
	default:
		/* No device_feature op: what vfio_main.c says then. */
		return -ENOTTY;
	}
}

int emu_dev_ioctl(struct emu_dev *dev, unsigned long cmd, void *arg)
{
	int ret;

	if (!dev) {
		errno = EBADF;
		return -1;
	}
	if (cmd != VFIO_DEVICE_FEATURE && cmd != VFIO_DEVICE_RESET) {
		errno = ENOTTY;
		return -1;
	}
	if (cmd == VFIO_DEVICE_FEATURE && !arg) {
		errno = EFAULT;
		return -1;
	}
	pthread_mutex_lock(&dev->lock);
	if (cmd == VFIO_DEVICE_RESET) {
		emu_reset_locked(dev);
		ret = 0;
	} else {
		ret = device_feature(dev, arg);
	}
	pthread_mutex_unlock(&dev->lock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

int emu_dev_run(struct emu_dev *dev, uint64_t units)
{
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (emu_quiesce_level(dev->state) != EMU_STOPPED)
		ret = dev->ops->run(dev, units);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

uint64_t emu_dev_digest(struct emu_dev *dev)
{
	uint64_t d;

	pthread_mutex_lock(&dev->lock);
	d = dev->ops->digest(dev);
	pthread_mutex_unlock(&dev->lock);
	return d;
}

/* Wrappers that build the kernel's structures. */
struct feature_buf {
	struct vfio_device_feature hdr;
	uint64_t payload[4];
};

int emu_dev_feature(struct emu_dev *dev, uint32_t flags, void *payload, size_t len)
{
	struct feature_buf buf = {.hdr = {.argsz = sizeof(buf.hdr) + len, .flags = flags}};
	int ret;

	if (len > sizeof(buf.payload)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(buf.payload, payload, len);
	ret = emu_dev_ioctl(dev, VFIO_DEVICE_FEATURE, &buf);
	memcpy(payload, buf.payload, len);
	return ret;
}

int emu_set_state(struct emu_dev *dev, enum vfio_device_mig_state state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = {.device_state = state, .data_fd = -1};
	int ret;

	ret = emu_dev_feature(dev, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			      &mig, sizeof(mig));
	if (data_fd)
		*data_fd = mig.data_fd;
	return ret;
}

int emu_get_state(struct emu_dev *dev, enum vfio_device_mig_state *state)
{
	struct vfio_device_feature_mig_state mig = {0};
	int ret;

	ret = emu_dev_feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			      &mig, sizeof(mig));
	if (!ret)
		*state = mig.device_state;
	return ret;
}

int emu_get_data_size(struct emu_dev *dev, uint64_t *stop_copy_length)
{
	struct vfio_device_feature_mig_data_size size = {0};
	int ret;

	ret = emu_dev_feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			      &size, sizeof(size));
	if (!ret)
		*stop_copy_length = size.stop_copy_length;
	return ret;
}
