// SPDX-License-Identifier: GPL-2.0
/*
 * The state machine driver loop: what a variant driver's migration_set_state
 * does around vfio_mig_get_next_state(), one arc at a time, with the walk back
 * (or into ERROR) when an arc fails, and reset. Called by the ioctls
 * (device.c) and the v1 protocol (v1.c); calls down into the FSM tables
 * (fsm.c), the data stream (stream.c) and base.c.
 */
#include <errno.h>

#include "device/device_priv.h"
#include "vfmig/usdt.h"

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

enum emu_quiesce emu_quiesce_level(enum vfio_device_mig_state s)
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
				    vfio_state_name(from), vfio_state_name(to), -ret);
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
	dev->ops->quiesce(dev, emu_quiesce_level(to));
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
				    vfio_state_name(dev->state), vfio_state_name(target));
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
				    vfio_state_name(new_state), new_state);
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
