// SPDX-License-Identifier: GPL-2.0
/*
 * A device's path to guest memory, and device DMA logging.
 *
 * A variant's DMA engine calls emu_dev_dma_write(): the write goes through
 * the IOMMU context the device is attached to, the way its DMA mode says
 * (pinned pages, vfio_dma_rw, or plain DMA through the IOMMU), and is
 * logged by the device itself when DMA logging is on. Logging answers
 * VFIO_DEVICE_FEATURE DMA_LOGGING_START / STOP / REPORT with the checks of
 * vfio_main.c and a driver's log_ops behind them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bitmap.h"
#include "device/device_priv.h"
#include "vfmig/usdt.h"

#define LOG_MAX_RANGES 256 /* vfio_main.c */

struct log_range {
	uint64_t iova, length;
	uint64_t *bits; /* one bit per page_size page */
};

struct emu_dma_log {
	bool active;
	uint64_t page_size;
	uint32_t nranges;
	struct log_range ranges[LOG_MAX_RANGES];
};

static bool aligned(uint64_t x, uint64_t a)
{
	return !(x & (a - 1)); /* the kernel's IS_ALIGNED(), wrap included */
}

static void log_free(struct emu_dma_log *log)
{
	uint32_t i;

	for (i = 0; i < log->nranges; i++)
		free(log->ranges[i].bits);
	log->nranges = 0;
	log->active = false;
}

void emu_dma_log_free(struct emu_dev *dev)
{
	if (dev->log)
		log_free(dev->log);
	free(dev->log);
	dev->log = NULL;
}

static int check_ranges(const struct vfio_device_feature_dma_logging_control *c,
			const struct vfio_device_feature_dma_logging_range *r)
{
	uint32_t i, j;

	for (i = 0; i < c->num_ranges; i++) {
		uint64_t end;

		if (!aligned(r[i].iova, c->page_size) || !aligned(r[i].length, c->page_size))
			return -EINVAL;
		if (__builtin_add_overflow(r[i].iova, r[i].length, &end))
			return -EOVERFLOW;
		for (j = 0; j < i; j++) {
			if (r[i].iova <= r[j].iova + r[j].length - 1 &&
			    r[j].iova <= r[i].iova + r[i].length - 1)
				return -EINVAL; /* overlapping ranges */
		}
	}
	return 0;
}

/* The driver's log_start: one tracker at a time, page sizes the hardware can log. */
static int log_start(struct emu_dev *dev, const struct vfio_device_feature_dma_logging_control *c,
		     const struct vfio_device_feature_dma_logging_range *r)
{
	struct emu_dma_log *log = dev->log;
	uint32_t i;

	if (log->active)
		return emu_dev_fail(dev, EINVAL, "DMA logging is already started");
	if (c->page_size < 4096 || c->page_size & (c->page_size - 1))
		return emu_dev_fail(dev, EINVAL,
				    "DMA logging page size %llu is not a power of 2 >= 4096",
				    (unsigned long long)c->page_size);
	log->page_size = c->page_size;
	for (i = 0; i < c->num_ranges; i++) {
		uint64_t pages = r[i].length / c->page_size;

		log->ranges[i] = (struct log_range){r[i].iova, r[i].length,
						    calloc(BITMAP_WORDS(pages) + 1, 8)};
		log->nranges = i + 1;
		if (!log->ranges[i].bits) {
			log_free(log);
			return -ENOMEM;
		}
	}
	log->active = true;
	return 0;
}

int emu_dma_log_start(struct emu_dev *dev, void *data)
{
	struct vfio_device_feature_dma_logging_control c;
	const struct vfio_device_feature_dma_logging_range *r;
	int ret;

	memcpy(&c, data, sizeof(c));
	if (!c.num_ranges)
		return -EINVAL;
	if (c.num_ranges > LOG_MAX_RANGES)
		return -E2BIG;
	r = (const void *)(uintptr_t)c.ranges;
	if (!r)
		return -EFAULT;
	ret = check_ranges(&c, r);
	if (ret)
		return ret;
	return log_start(dev, &c, r);
}

int emu_dma_log_stop(struct emu_dev *dev)
{
	log_free(dev->log);
	return 0;
}

/* log_read_and_clear for [iova, iova + length) into an iova_bitmap of page_size bits. */
static void read_and_clear(struct emu_dma_log *log, uint64_t iova, uint64_t length,
			   uint64_t page_size, uint8_t *user)
{
	uint64_t end = iova + length;
	uint32_t i;

	for (i = 0; i < log->nranges; i++) {
		struct log_range *r = &log->ranges[i];
		uint64_t n = r->length / log->page_size, pg;

		for (pg = bitmap_next(r->bits, 0, n); pg < n;
		     pg = bitmap_next(r->bits, pg + 1, n)) {
			uint64_t a = r->iova + pg * log->page_size;

			if (a + log->page_size <= iova || a >= end)
				continue;
			emu_report_bits(user, iova, page_size, a > iova ? a : iova,
					(a + log->page_size < end ? a + log->page_size : end) -
						(a > iova ? a : iova));
			bitmap_clear1(r->bits, pg);
		}
	}
}

int emu_dma_log_report(struct emu_dev *dev, void *data)
{
	struct vfio_device_feature_dma_logging_report rep;
	uint64_t end;

	memcpy(&rep, data, sizeof(rep));
	if (rep.page_size < 4096 || rep.page_size & (rep.page_size - 1))
		return -EINVAL;
	if (__builtin_add_overflow(rep.iova, rep.length, &end))
		return -EOVERFLOW;
	if (!rep.length)
		return -EINVAL;
	if (!rep.bitmap)
		return -EFAULT;
	if (!dev->log->active)
		return emu_dev_fail(dev, EINVAL, "DMA logging REPORT before START");
	EMU_PROBE6(dirty_query_start, 2, vfmig_obj(VFMIG_OBJ_DEVICE, dev->id), rep.iova, rep.length,
		   rep.page_size, rep.bitmap);
	read_and_clear(dev->log, rep.iova, rep.length, rep.page_size,
		       (uint8_t *)(uintptr_t)rep.bitmap);
	EMU_PROBE6(dirty_query_end, 2, vfmig_obj(VFMIG_OBJ_DEVICE, dev->id), rep.iova, rep.length,
		   rep.bitmap, (rep.length / rep.page_size + 7) / 8);
	return 0;
}

static void log_mark(struct emu_dma_log *log, uint64_t iova, size_t len)
{
	uint32_t i;

	for (i = 0; i < log->nranges; i++) {
		struct log_range *r = &log->ranges[i];
		uint64_t first, last;

		if (iova + len <= r->iova || iova >= r->iova + r->length)
			continue;
		first = (iova > r->iova ? iova - r->iova : 0) / log->page_size;
		last = ((iova + len < r->iova + r->length ? iova + len : r->iova + r->length) -
			r->iova - 1) /
		       log->page_size;
		bitmap_set_range(r->bits, first, last - first + 1);
	}
}

/* Called by a variant with dev->lock held. */
int emu_dev_dma_write(struct emu_dev *dev, uint64_t iova, const void *src, size_t len)
{
	int ret;

	if (!dev->io)
		return -ENODEV;
	switch (dev->dma_mode) {
	case EMU_DMA_PIN: {
		void *dst = emu_iommu_translate(dev->io, iova, len);

		if (!dst)
			return -EFAULT;
		memcpy(dst, src, len); /* the pages are pinned: already dirty */
		ret = 0;
		break;
	}
	case EMU_DMA_RW:
		ret = emu_dma_rw(dev->io, iova, (void *)src, len, true);
		break;
	default:
		ret = emu_iommu_dma_write(dev->io, iova, src, len);
	}
	if (!ret && dev->log && dev->log->active)
		log_mark(dev->log, iova, len);
	return ret;
}

/* The IOMMU asks us to drop pins in a range being unmapped (vfio_device_ops.dma_unmap). */
static void dma_unmap_cb(void *opaque, uint64_t iova, uint64_t length)
{
	struct emu_dev *dev = opaque;

	pthread_mutex_lock(&dev->lock);
	if (dev->ops->dma_unmap)
		dev->ops->dma_unmap(dev, iova, length);
	pthread_mutex_unlock(&dev->lock);
}

int emu_dev_attach_iommu(struct emu_dev *dev, struct emu_iommu *io, int mode, bool dma_logging)
{
	int id;

	pthread_mutex_lock(&dev->lock);
	id = emu_iommu_attach(io, mode, dma_unmap_cb, dev);
	if (id >= 0) {
		dev->io = io;
		dev->dma_mode = mode;
		dev->attach_id = id;
		if (dma_logging && !dev->log)
			dev->log = calloc(1, sizeof(*dev->log));
	}
	pthread_mutex_unlock(&dev->lock);
	if (id < 0)
		return emu_dev_fail(dev, -id, "the IOMMU context has no room for another device");
	if (dma_logging && !dev->log)
		return emu_dev_fail(dev, ENOMEM, "out of memory for the DMA log");
	return 0;
}

int emu_dev_pin_pages(struct emu_dev *dev, uint64_t iova, int npage, int prot)
{
	int ret = emu_pin_pages(dev->io, dev->id, iova, npage, prot);

	dev->pins.pin_calls++;
	if (ret > 0)
		dev->pins.pages_pinned += ret;
	else
		dev->pins.pin_errors++;
	return ret;
}

void emu_dev_unpin_pages(struct emu_dev *dev, uint64_t iova, int npage)
{
	emu_unpin_pages(dev->io, dev->id, iova, npage);
	dev->pins.unpin_calls++;
	dev->pins.pages_unpinned += npage > 0 ? npage : 0;
}

void emu_dev_pin_stats(struct emu_dev *dev, struct emu_pin_stats *out)
{
	pthread_mutex_lock(&dev->lock);
	*out = dev->pins;
	pthread_mutex_unlock(&dev->lock);
}

struct emu_iommu *emu_dev_iommu(struct emu_dev *dev, int *mode)
{
	if (mode)
		*mode = dev->dma_mode;
	return dev->io;
}
