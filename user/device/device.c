// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated device: creation, the VFIO_DEVICE_FEATURE / RESET ioctls as
 * vfio_main.c answers them, and the state machine driver loop (what a
 * variant driver's migration_set_state does around vfio_mig_get_next_state).
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

static __thread char last_error[256];
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

const char *emu_dev_name_of(uint32_t pid, uint32_t id, char *out, size_t len)
{
	snprintf(out, len, "%u:emu%u", pid, id);
	return out;
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

uint64_t emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *emu_last_error(void)
{
	return last_error;
}

int emu_dev_fail(struct emu_dev *dev, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev ? dev->err : last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (dev)
		memcpy(last_error, dev->err, sizeof(last_error));
	return -err;
}

void *emu_dev_priv(struct emu_dev *dev)
{
	return dev->priv;
}

void emu_dev_set_priv(struct emu_dev *dev, void *priv)
{
	dev->priv = priv;
}

uint32_t emu_dev_id(const struct emu_dev *dev)
{
	return dev->id;
}

uint32_t emu_dev_mig_flags(const struct emu_dev *dev)
{
	return dev->mig_flags;
}

const char *emu_dev_variant(const struct emu_dev *dev)
{
	return dev->ops->name;
}

const char *emu_dev_strerror(struct emu_dev *dev)
{
	return dev->err[0] ? dev->err : "no error";
}

static const struct emu_variant_ops *find_variant(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (!strcmp(variants[i]->name, name))
			return variants[i];
	}
	return NULL;
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
			memcpy(last_error, dev->err, sizeof(last_error));
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		errno = -ret;
		return NULL;
	}
	announce(dev);
	return dev;
}

void emu_dev_get(struct emu_dev *dev)
{
	__atomic_add_fetch(&dev->refs, 1, __ATOMIC_SEQ_CST);
}

void emu_dev_put(struct emu_dev *dev)
{
	if (__atomic_sub_fetch(&dev->refs, 1, __ATOMIC_SEQ_CST))
		return;
	dev->ops->fini(dev);
	emu_v1_free(dev);
	emu_dma_log_free(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
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
	emu_dev_put(dev);
}

void emu_dev_inject_arc_failure(struct emu_dev *dev, unsigned int nth, int err, unsigned int count)
{
	pthread_mutex_lock(&dev->lock);
	dev->inject_nth = nth;
	dev->inject_err = err;
	dev->inject_count = count;
	pthread_mutex_unlock(&dev->lock);
}

static int injected(struct emu_dev *dev)
{
	if (!dev->inject_nth)
		return 0;
	if (--dev->inject_nth)
		return 0;
	if (--dev->inject_count)
		dev->inject_nth = 1;
	return -dev->inject_err;
}

static bool in_saving_group(enum vfio_device_mig_state s)
{
	return s == VFIO_DEVICE_STATE_PRE_COPY || s == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       s == VFIO_DEVICE_STATE_STOP_COPY;
}

static enum emu_quiesce quiesce_level(enum vfio_device_mig_state s)
{
	switch ((int)s) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_PRE_COPY:
		return EMU_RUN;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return EMU_P2P;
	default:
		return EMU_STOPPED;
	}
}

static void end_save(struct emu_dev *dev)
{
	dev->ops->save_end(dev);
	emu_file_drop(dev->save);
	dev->save = NULL;
}

/* Opens the stream an arc into the saving group or RESUMING hands out. */
static int open_stream(struct emu_dev *dev, enum vfio_device_mig_state to, struct emu_file **out)
{
	struct emu_file *file;
	int ret;

	file = emu_file_new(dev,
			    to == VFIO_DEVICE_STATE_RESUMING ? EMU_FILE_RESUME : EMU_FILE_SAVE);
	if (!file)
		return emu_dev_fail(dev, ENOMEM, "out of memory for the data stream");
	if (to == VFIO_DEVICE_STATE_RESUMING) {
		ret = dev->ops->load_begin(dev);
		if (ret) {
			emu_file_drop(file);
			return ret;
		}
		dev->resume = file;
	} else {
		dev->ops->save_begin(dev, to != VFIO_DEVICE_STATE_STOP_COPY);
		dev->save = file;
	}
	*out = file;
	return 0;
}

/* One arc. Either it completes, or it fails having changed nothing. */
static int do_arc(struct emu_dev *dev, enum vfio_device_mig_state from,
		  enum vfio_device_mig_state to, struct emu_file **out)
{
	int ret = injected(dev);

	if (ret)
		return emu_dev_fail(dev, -ret, "%s -> %s failed: injected error %d",
				    emu_state_name(from), emu_state_name(to), -ret);
	if (from == VFIO_DEVICE_STATE_RESUMING) {
		ret = emu_file_finish_resume(dev->resume);
		if (ret)
			return ret;
		emu_file_drop(dev->resume);
		dev->resume = NULL;
	}
	if (to == VFIO_DEVICE_STATE_RESUMING || (in_saving_group(to) && !in_saving_group(from))) {
		ret = open_stream(dev, to, out);
		if (ret)
			return ret;
	}
	if (in_saving_group(from) && !in_saving_group(to))
		end_save(dev);
	dev->ops->quiesce(dev, quiesce_level(to));
	return 0;
}

static void log_step(struct emu_dev *dev, enum vfio_device_mig_state from,
		     enum vfio_device_mig_state to, int result, uint64_t t0)
{
	struct emu_step *s = &dev->steps[dev->nsteps++ % EMU_STEP_LOG];

	s->t_start_ns = t0;
	s->t_end_ns = emu_now_ns();
	s->from = from;
	s->to = to;
	s->result = result;
	EMU_PROBE5(fsm_step, dev->id, from, to, result, s->t_end_ns - t0);
}

static int step(struct emu_dev *dev, enum vfio_device_mig_state target, struct emu_file **out)
{
	enum vfio_device_mig_state next;
	uint64_t t0 = emu_now_ns();
	int ret;

	ret = emu_mig_next_state(dev->mig_flags, dev->state, target, &next);
	if (ret)
		return emu_dev_fail(dev, EINVAL, "%s -> %s is not a valid transition",
				    emu_state_name(dev->state), emu_state_name(target));
	ret = do_arc(dev, dev->state, next, out);
	log_step(dev, dev->state, next, ret, t0);
	if (!ret)
		dev->state = next;
	return ret;
}

static void enter_error(struct emu_dev *dev)
{
	dev->ops->quiesce(dev, EMU_STOPPED);
	if (dev->save)
		end_save(dev);
	if (dev->resume) {
		dev->ops->load_abort(dev);
		emu_file_drop(dev->resume);
		dev->resume = NULL;
	}
	dev->state = VFIO_DEVICE_STATE_ERROR;
}

/*
 * After a failed arc, return to where the request started. That is not
 * possible once an executed arc ended the stream the start state owned
 * (its data_fd is dead; a new one would reach nobody), or when an arc of
 * the way back fails too: then the device goes to ERROR.
 */
static void walk_back(struct emu_dev *dev, enum vfio_device_mig_state orig, bool stream_lost)
{
	struct emu_file *unused = NULL;

	if (dev->state == orig)
		return;
	if (stream_lost) {
		enter_error(dev);
		return;
	}
	while (dev->state != orig) {
		if (step(dev, orig, &unused)) {
			enter_error(dev);
			return;
		}
	}
}

static bool owns_stream(enum vfio_device_mig_state s)
{
	return in_saving_group(s) || s == VFIO_DEVICE_STATE_RESUMING;
}

int emu_set_state_locked(struct emu_dev *dev, enum vfio_device_mig_state new_state,
			 struct emu_file **out)
{
	enum vfio_device_mig_state orig = dev->state;
	struct emu_file *file = NULL;
	int ret = 0;

	*out = NULL;
	if (!emu_state_supported(dev->mig_flags, new_state))
		return emu_dev_fail(dev, EINVAL, "state %s (%u) is not supported by this device",
				    emu_state_name(new_state), new_state);
	if (dev->state == VFIO_DEVICE_STATE_ERROR)
		return emu_dev_fail(dev, EINVAL,
				    "device is in ERROR: only VFIO_DEVICE_RESET leaves it");
	while (dev->state != new_state) {
		ret = step(dev, new_state, &file);
		if (ret)
			break;
	}
	if (ret) {
		bool lost = owns_stream(orig) &&
			    !(orig == dev->state ||
			      (in_saving_group(orig) && in_saving_group(dev->state)));
		walk_back(dev, orig, lost);
		return ret;
	}
	*out = file;
	return 0;
}

void emu_reset_locked(struct emu_dev *dev)
{
	enum vfio_device_mig_state from = dev->state;

	dev->ops->quiesce(dev, EMU_STOPPED);
	if (dev->save)
		end_save(dev);
	if (dev->resume) {
		dev->ops->load_abort(dev);
		emu_file_drop(dev->resume);
		dev->resume = NULL;
	}
	dev->ops->reset(dev);
	dev->state = VFIO_DEVICE_STATE_RUNNING;
	dev->ops->quiesce(dev, EMU_RUN);
	dev->err[0] = 0;
	EMU_PROBE2(reset, dev->id, from);
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
	if (quiesce_level(dev->state) != EMU_STOPPED)
		ret = dev->ops->run(dev, units);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

size_t emu_dev_steps(struct emu_dev *dev, struct emu_step *out, size_t max)
{
	uint64_t first, i;
	size_t n = 0;

	pthread_mutex_lock(&dev->lock);
	first = dev->nsteps > EMU_STEP_LOG ? dev->nsteps - EMU_STEP_LOG : 0;
	if (dev->nsteps - first > max)
		first = dev->nsteps - max;
	for (i = first; i < dev->nsteps; i++)
		out[n++] = dev->steps[i % EMU_STEP_LOG];
	pthread_mutex_unlock(&dev->lock);
	return n;
}

uint64_t emu_dev_steps_total(struct emu_dev *dev)
{
	uint64_t n;

	pthread_mutex_lock(&dev->lock);
	n = dev->nsteps;
	pthread_mutex_unlock(&dev->lock);
	return n;
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
