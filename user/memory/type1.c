// SPDX-License-Identifier: GPL-2.0
/*
 * The type1 container ioctls, with the argument checks and errno of
 * drivers/vfio/vfio_iommu_type1.c (v2 container): MAP_DMA, UNMAP_DMA (with
 * GET_DIRTY_BITMAP), DIRTY_PAGES START / STOP / GET_BITMAP and GET_INFO's
 * migration capability. What GET_BITMAP reports is what the kernel would:
 * pages written through vfio_dma_rw or pinned since the last report, pages
 * still pinned (on every report until unpinned), and every mapped page
 * while a device that DMAs through the IOMMU without pinning is attached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memory/iommu_priv.h"
#include "vfmig/usdt.h"

#define DIRTY_BITMAP_PAGES_MAX 0x7fffffffull /* INT_MAX */
#define DIRTY_BITMAP_BYTES(n) ((((n) + 63) / 64) * 8)
#define DIRTY_BITMAP_SIZE_MAX DIRTY_BITMAP_BYTES(DIRTY_BITMAP_PAGES_MAX)

static int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

static int map_dma(struct emu_iommu *io, struct vfio_iommu_type1_dma_map *map)
{
	uint32_t prot = 0;

	if (map->argsz < offsetof(struct vfio_iommu_type1_dma_map, size) + sizeof(map->size) ||
	    map->flags &
		    ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR))
		return -EINVAL;
	if (map->flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= EMU_PROT_WRITE;
	if (map->flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= EMU_PROT_READ;
	if (!prot)
		return -EINVAL; /* VADDR updates belong to live update, not emulated */
	if (map->flags & VFIO_DMA_MAP_FLAG_VADDR)
		return -EINVAL;
	if (!map->size || (map->size | map->iova | map->vaddr) & (EMU_IOMMU_PAGE - 1))
		return -EINVAL;
	if (map->iova + map->size - 1 < map->iova || map->vaddr + map->size - 1 < map->vaddr)
		return -EINVAL;
	if (emu_map_first_in(io, map->iova, map->size))
		return -EEXIST;
	/* While tracking, a new mapping starts with a clear bitmap, as in the kernel. */
	return emu_map_add(io, map->iova, map->size, (void *)(uintptr_t)map->vaddr, prot);
}

/* update_user_bitmap(): the mapping's bits, shifted to its place, OR the word already there. */
static void copy_user_bitmap(struct emu_iommu *io, struct emu_map *m, uint64_t base, uint8_t *user)
{
	uint64_t nbits = map_pages(m), bit = (m->iova - base) / EMU_IOMMU_PAGE;
	uint64_t word = bit / 64, shift = bit % 64, nwords = BITMAP_WORDS(nbits + shift), i;
	uint64_t *tmp = calloc(nwords + 1, 8), left;

	if (!tmp)
		return;
	if (emu_iommu_has_mode(io, EMU_DMA_IOMMU))
		bitmap_set_range(m->dirty, 0, nbits);
	for (i = 0; i < nbits; i++) {
		if (bitmap_test(m->dirty, i))
			bitmap_set1(tmp, i + shift);
	}
	if (shift) {
		memcpy(&left, user + word * 8, 8);
		tmp[0] |= left;
	}
	memcpy(user + word * 8, tmp, nwords * 8);
	free(tmp);
}

/* After a report, the bits start again from the pages still pinned. */
static void repopulate(struct emu_map *m)
{
	uint64_t i;

	memset(m->dirty, 0, BITMAP_WORDS(map_pages(m)) * 8);
	for (i = 0; m->npinned && i < map_pages(m); i++) {
		if (m->pins[i])
			bitmap_set1(m->dirty, i);
	}
}

static bool bisected(struct emu_iommu *io, uint64_t iova, uint64_t size)
{
	struct emu_map *m = emu_map_find(io, iova);

	if (m && m->iova != iova)
		return true;
	m = emu_map_find(io, iova + size - 1);
	return m && m->iova + m->size != iova + size;
}

static int unmap_range(struct emu_iommu *io, struct vfio_iommu_type1_dma_unmap *unmap,
		       struct vfio_bitmap *bitmap)
{
	bool all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	uint64_t iova = unmap->iova, size = unmap->size, unmapped = 0;
	struct emu_map *m;

	if (iova & (EMU_IOMMU_PAGE - 1))
		return -EINVAL;
	if (all) {
		if (iova || size)
			return -EINVAL;
		size = UINT64_MAX;
	} else if (!size || size & (EMU_IOMMU_PAGE - 1) || iova + size - 1 < iova) {
		return -EINVAL;
	}
	if ((unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (!io->tracking || bitmap->pgsize != EMU_IOMMU_PAGE))
		return -EINVAL;
	if (!all && bisected(io, iova, size))
		return -EINVAL;
	while ((m = emu_map_first_in(io, iova, size))) {
		if (m->npinned) {
			emu_iommu_unpin_range(io, m->iova, m->size);
			m = emu_map_first_in(io, iova, size);
			if (!m || m->npinned)
				return -EBUSY; /* a device kept its pins: the kernel would BUG */
		}
		if (unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
			copy_user_bitmap(io, m, iova, (uint8_t *)(uintptr_t)bitmap->data);
		unmapped += m->size;
		emu_map_remove(io, m);
	}
	unmap->size = unmapped;
	return 0;
}

static int unmap_dma(struct emu_iommu *io, struct vfio_iommu_type1_dma_unmap *unmap)
{
	const uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR |
			      VFIO_DMA_UNMAP_FLAG_ALL;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + sizeof(unmap->size);
	struct vfio_iommu_type1_dma_unmap copy;
	struct vfio_bitmap bitmap = {0};
	int ret;

	if (unmap->argsz < minsz || unmap->flags & ~mask)
		return -EINVAL;
	if ((unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap->flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_VADDR)
		return -EINVAL; /* live update is not emulated */
	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap->argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		memcpy(&bitmap, unmap->data, sizeof(bitmap));
		if (!bitmap.data)
			return -EINVAL;
		ret = verify_bitmap_size(unmap->size / EMU_IOMMU_PAGE, bitmap.size);
		if (ret)
			return ret;
	}
	/* The kernel copies the struct back only on success. */
	copy = *unmap;
	ret = unmap_range(io, &copy, &bitmap);
	if (!ret)
		unmap->size = copy.size;
	return ret;
}

static int get_bitmap(struct emu_iommu *io, struct vfio_iommu_type1_dirty_bitmap *dirty)
{
	struct vfio_iommu_type1_dirty_bitmap_get range;
	uint64_t pgsize;
	size_t i;
	int ret;

	if (dirty->argsz - sizeof(*dirty) < sizeof(range))
		return -EINVAL;
	memcpy(&range, dirty->data, sizeof(range));
	if (range.iova + range.size < range.iova || !range.bitmap.data)
		return -EINVAL;
	pgsize = range.bitmap.pgsize ? 1ull << __builtin_ctzll(range.bitmap.pgsize) : 1;
	ret = verify_bitmap_size(range.size / pgsize, range.bitmap.size);
	if (ret)
		return ret;
	if (range.bitmap.pgsize != EMU_IOMMU_PAGE || range.iova & (EMU_IOMMU_PAGE - 1) ||
	    !range.size || range.size & (EMU_IOMMU_PAGE - 1))
		return -EINVAL;
	if (!io->tracking)
		return -EINVAL;
	if (bisected(io, range.iova, range.size))
		return -EINVAL;
	EMU_PROBE6(dirty_query_start, 1, emu_iommu_what(io, VFMIG_OBJ_TYPE1), range.iova,
		   range.size, range.bitmap.pgsize, range.bitmap.data);
	for (i = 0; i < io->nmaps; i++) {
		struct emu_map *m = &io->maps[i];

		if (m->iova < range.iova)
			continue;
		if (m->iova > range.iova + range.size - 1)
			break;
		copy_user_bitmap(io, m, range.iova, (uint8_t *)(uintptr_t)range.bitmap.data);
		repopulate(m);
	}
	EMU_PROBE6(dirty_query_end, 1, emu_iommu_what(io, VFMIG_OBJ_TYPE1), range.iova, range.size,
		   range.bitmap.data, range.bitmap.size);
	return 0;
}

static int dirty_pages(struct emu_iommu *io, struct vfio_iommu_type1_dirty_bitmap *dirty)
{
	const uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			      VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	size_t i;

	if (dirty->argsz < sizeof(*dirty) || dirty->flags & ~mask)
		return -EINVAL;
	if (__builtin_popcount(dirty->flags) != 1)
		return -EINVAL; /* one flag at a time (and __ffs(0) == __fls(0) is no flag) */
	if (dirty->flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
		for (i = 0; !io->tracking && i < io->nmaps; i++) {
			if (map_pages(&io->maps[i]) > DIRTY_BITMAP_PAGES_MAX)
				return -EINVAL;
			repopulate(&io->maps[i]);
		}
		io->tracking = true;
		return 0;
	}
	if (dirty->flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		io->tracking = false;
		return 0;
	}
	return get_bitmap(io, dirty);
}

/* GET_INFO with the IOVA range and migration capabilities. */
static int get_info(struct emu_iommu *io, struct vfio_iommu_type1_info *uinfo)
{
	struct vfio_iommu_type1_info copy, *info = &copy;
	struct {
		struct vfio_iommu_type1_info_cap_migration mig;
	} caps = {.mig = {
			  .header = {.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, .version = 1},
			  .pgsize_bitmap = EMU_IOMMU_PAGE,
			  .max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX,
		  }};
	size_t minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) + 8;

	(void)io;
	if (uinfo->argsz < minsz)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	memcpy(info, uinfo, minsz);
	info->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info->iova_pgsizes = EMU_IOMMU_PAGE | (2ull << 20) | (1ull << 30);
	if (info->argsz < sizeof(*info) + sizeof(caps)) {
		info->argsz = sizeof(*info) + sizeof(caps);
	} else {
		info->cap_offset = sizeof(*info);
		memcpy((uint8_t *)uinfo + sizeof(*info), &caps, sizeof(caps));
	}
	/* copy_to_user(arg, &info, minsz) with minsz = min(argsz, sizeof(info)) */
	memcpy(uinfo, info, uinfo->argsz < sizeof(*info) ? uinfo->argsz : sizeof(*info));
	return 0;
}

int emu_type1_ioctl(struct emu_iommu *io, unsigned long cmd, void *arg)
{
	int ret;

	if (!io || io->kind != EMU_IOMMU_TYPE1) {
		errno = io ? ENOTTY : EBADF;
		return -1;
	}
	if (!arg) {
		errno = EFAULT;
		return -1;
	}
	pthread_mutex_lock(&io->lock);
	switch (cmd) {
	case VFIO_IOMMU_MAP_DMA:
		ret = map_dma(io, arg);
		break;
	case VFIO_IOMMU_UNMAP_DMA:
		ret = unmap_dma(io, arg);
		break;
	case VFIO_IOMMU_DIRTY_PAGES:
		ret = dirty_pages(io, arg);
		break;
	case VFIO_IOMMU_GET_INFO:
		ret = get_info(io, arg);
		break;
	default:
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&io->lock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}
