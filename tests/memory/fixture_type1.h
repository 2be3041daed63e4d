/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the type1 tests share: the kernel's limits, an emulated type1
 * container on 8 MiB of guest memory, and its ioctls, each returning 0 or
 * -errno.
 */
#ifndef VFMIG_FIXTURE_TYPE1_H
#define VFMIG_FIXTURE_TYPE1_H

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "memory/iommu.h"

#define PG 4096ull
#define MEM_SIZE (8ull << 20)
#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define BASE (1ull << 20) /* where most tests map */
#define GET_ARGSZ                                       \
	(sizeof(struct vfio_iommu_type1_dirty_bitmap) + \
	 sizeof(struct vfio_iommu_type1_dirty_bitmap_get))
#define UNMAP_ARGSZ (sizeof(struct vfio_iommu_type1_dma_unmap) + sizeof(struct vfio_bitmap))
#define BM_BYTES(npages) ((((npages) + 63) / 64) * 8) /* DIRTY_BITMAP_BYTES */
#define SIZE_MAX_BM (256ull << 20)		      /* DIRTY_BITMAP_SIZE_MAX */

struct fx {
	uint8_t *mem;
	struct emu_iommu *io;
};

/* An unmap argument with room for the vfio_bitmap that GET_DIRTY_BITMAP reads. */
struct unmap_arg {
	uint64_t buf[8];
};

int setup(void **state);
int teardown(void **state);

int ioc(struct fx *f, unsigned long cmd, void *arg);
int map_ex(struct fx *f, uint32_t argsz, uint32_t flags, uint64_t vaddr, uint64_t iova,
	   uint64_t size);
/* Maps size bytes of guest memory at offset off to iova. */
int map(struct fx *f, uint64_t iova, uint64_t off, uint64_t size, uint32_t flags);
void map_ok(struct fx *f, uint64_t iova, uint64_t off, uint64_t size);
struct vfio_iommu_type1_dma_unmap *unmap_init(struct unmap_arg *a, uint32_t argsz, uint32_t flags,
					      uint64_t iova, uint64_t size);
void unmap_set_bitmap(struct vfio_iommu_type1_dma_unmap *u, uint64_t pgsize, void *data,
		      uint64_t size);
int unmap_ex(struct fx *f, uint32_t argsz, uint32_t flags, uint64_t iova, uint64_t size,
	     uint64_t *unmapped);
int unmap(struct fx *f, uint64_t iova, uint64_t size, uint64_t *unmapped);
int unmap_bitmap(struct fx *f, uint64_t iova, uint64_t size, void *data, uint64_t bsize,
		 uint64_t *unmapped);
int dirty_ex(struct fx *f, uint32_t argsz, uint32_t flags);
int dirty(struct fx *f, uint32_t flags);
int get_ex(struct fx *f, uint32_t argsz, uint64_t iova, uint64_t size, uint64_t pgsize, void *data,
	   uint64_t bsize);
int get(struct fx *f, uint64_t iova, uint64_t size, void *data, uint64_t bsize);
/* GET_BITMAP of [iova, iova + size) into a zeroed buffer of exactly the bytes it needs. */
void get_ok(struct fx *f, uint64_t iova, uint64_t size, uint8_t *got);

#endif
