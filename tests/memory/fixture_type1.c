// SPDX-License-Identifier: GPL-2.0
/* The type1 tests' fixture: see fixture_type1.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memory/fixture_type1.h"

int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = aligned_alloc(PG, MEM_SIZE);
	assert_non_null(f->mem);
	memset(f->mem, 0, MEM_SIZE);
	f->io = emu_iommu_create(EMU_IOMMU_TYPE1, f->mem, MEM_SIZE);
	assert_non_null(f->io);
	*state = f;
	return 0;
}

int teardown(void **state)
{
	struct fx *f = *state;

	emu_iommu_destroy(f->io);
	free(f->mem);
	free(f);
	return 0;
}

/* ---- ioctl helpers: 0 or -errno ------------------------------------------------------- */

int ioc(struct fx *f, unsigned long cmd, void *arg)
{
	return emu_type1_ioctl(f->io, cmd, arg) ? -errno : 0;
}

int map_ex(struct fx *f, uint32_t argsz, uint32_t flags, uint64_t vaddr, uint64_t iova,
	   uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = argsz, .flags = flags, .vaddr = vaddr, .iova = iova, .size = size};

	return ioc(f, VFIO_IOMMU_MAP_DMA, &m);
}

/* Maps size bytes of guest memory at offset off to iova. */
int map(struct fx *f, uint64_t iova, uint64_t off, uint64_t size, uint32_t flags)
{
	return map_ex(f, sizeof(struct vfio_iommu_type1_dma_map), flags,
		      (uint64_t)(uintptr_t)(f->mem + off), iova, size);
}

void map_ok(struct fx *f, uint64_t iova, uint64_t off, uint64_t size)
{
	int ret = map(f, iova, off, size, RW);

	if (ret)
		fail_msg("MAP_DMA iova %#llx size %#llx: %s", (unsigned long long)iova,
			 (unsigned long long)size, strerror(-ret));
}

struct vfio_iommu_type1_dma_unmap *unmap_init(struct unmap_arg *a, uint32_t argsz, uint32_t flags,
					      uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap *u;

	memset(a, 0, sizeof(*a));
	u = (void *)a->buf;
	u->argsz = argsz;
	u->flags = flags;
	u->iova = iova;
	u->size = size;
	return u;
}

void unmap_set_bitmap(struct vfio_iommu_type1_dma_unmap *u, uint64_t pgsize, void *data,
		      uint64_t size)
{
	struct vfio_bitmap b = {.pgsize = pgsize, .size = size, .data = data};

	memcpy(u->data, &b, sizeof(b));
}

int unmap_ex(struct fx *f, uint32_t argsz, uint32_t flags, uint64_t iova, uint64_t size,
	     uint64_t *unmapped)
{
	struct unmap_arg a = {{0}};
	struct vfio_iommu_type1_dma_unmap *u = unmap_init(&a, argsz, flags, iova, size);
	int ret = ioc(f, VFIO_IOMMU_UNMAP_DMA, u);

	if (unmapped)
		*unmapped = u->size;
	return ret;
}

int unmap(struct fx *f, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	return unmap_ex(f, sizeof(struct vfio_iommu_type1_dma_unmap), 0, iova, size, unmapped);
}

int unmap_bitmap(struct fx *f, uint64_t iova, uint64_t size, void *data, uint64_t bsize,
		 uint64_t *unmapped)
{
	struct unmap_arg a = {{0}};
	struct vfio_iommu_type1_dma_unmap *u = unmap_init(
		&a, UNMAP_ARGSZ, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, iova, size);
	int ret;

	unmap_set_bitmap(u, PG, data, bsize);
	ret = ioc(f, VFIO_IOMMU_UNMAP_DMA, u);
	if (unmapped)
		*unmapped = u->size;
	return ret;
}

int dirty_ex(struct fx *f, uint32_t argsz, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {.argsz = argsz, .flags = flags};

	return ioc(f, VFIO_IOMMU_DIRTY_PAGES, &d);
}

int dirty(struct fx *f, uint32_t flags)
{
	return dirty_ex(f, sizeof(struct vfio_iommu_type1_dirty_bitmap), flags);
}

int get_ex(struct fx *f, uint32_t argsz, uint64_t iova, uint64_t size, uint64_t pgsize, void *data,
	   uint64_t bsize)
{
	uint64_t buf[8] = {0};
	struct vfio_iommu_type1_dirty_bitmap *d = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get g = {
		.iova = iova,
		.size = size,
		.bitmap = {.pgsize = pgsize, .size = bsize, .data = data},
	};

	d->argsz = argsz;
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	memcpy(d->data, &g, sizeof(g));
	return ioc(f, VFIO_IOMMU_DIRTY_PAGES, d);
}

int get(struct fx *f, uint64_t iova, uint64_t size, void *data, uint64_t bsize)
{
	return get_ex(f, GET_ARGSZ, iova, size, PG, data, bsize);
}

/* GET_BITMAP of [iova, iova + size) into a zeroed buffer of exactly the bytes it needs. */
void get_ok(struct fx *f, uint64_t iova, uint64_t size, uint8_t *got)
{
	int ret;

	memset(got, 0, BM_BYTES(size / PG));
	ret = get(f, iova, size, got, BM_BYTES(size / PG));
	if (ret)
		fail_msg("GET_BITMAP iova %#llx size %#llx: %s", (unsigned long long)iova,
			 (unsigned long long)size, strerror(-ret));
}
