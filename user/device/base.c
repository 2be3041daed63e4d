// SPDX-License-Identifier: GPL-2.0
/*
 * What every part of the device core leans on and that leans on nothing of
 * theirs: the clock of the step log, failure messages, the reference count,
 * and the accessors. The rest of the core calls down into this file, never
 * the other way, so the core's call graph stays a tree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device_priv.h"

static __thread char last_error[256];

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

void emu_dev_get(struct emu_dev *dev)
{
	__atomic_add_fetch(&dev->refs, 1, __ATOMIC_SEQ_CST);
}

void emu_dev_put(struct emu_dev *dev)
{
	if (__atomic_sub_fetch(&dev->refs, 1, __ATOMIC_SEQ_CST))
		return;
	dev->ops->fini(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
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
