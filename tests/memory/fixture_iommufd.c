// SPDX-License-Identifier: GPL-2.0
/* The iommufd tests' fixture: see fixture_iommufd.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memory/fixture_iommufd.h"

int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = aligned_alloc(2ull << 20, MEM_SIZE);
	assert_non_null(f->mem);
	memset(f->mem, 0, MEM_SIZE);
	f->io = emu_iommu_create(EMU_IOMMU_IOMMUFD, f->mem, MEM_SIZE);
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

int ioc(struct fx *f, unsigned long cmd, void *arg)
{
	return emu_iommufd_ioctl(f->io, cmd, arg) ? -errno : 0;
}

uint64_t va(struct fx *f, uint64_t off)
{
	return (uint64_t)(uintptr_t)(f->mem + off);
}

int ioas_map(struct fx *f, uint32_t flags, uint64_t off, uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = flags,
		.ioas_id = EMU_IOAS_ID,
		.user_va = va(f, off),
		.length = len,
		.iova = *iova,
	};
	int ret = ioc(f, IOMMU_IOAS_MAP, &m);

	*iova = m.iova;
	return ret;
}

int map_fixed(struct fx *f, uint64_t iova, uint64_t off, uint64_t len)
{
	return ioas_map(f, FIXED_RW, off, len, &iova);
}

void map_ok(struct fx *f, uint64_t iova, uint64_t off, uint64_t len)
{
	int ret = map_fixed(f, iova, off, len);

	if (ret)
		fail_msg("IOAS_MAP iova %#llx length %#llx: %s", (unsigned long long)iova,
			 (unsigned long long)len, strerror(-ret));
}

int ioas_unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *out)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len};
	int ret = ioc(f, IOMMU_IOAS_UNMAP, &u);

	if (out)
		*out = u.length;
	return ret;
}

int set_dirty_ex(struct fx *f, uint32_t flags, uint32_t hwpt, uint32_t reserved)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s), .flags = flags, .hwpt_id = hwpt, .__reserved = reserved};

	return ioc(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

int set_dirty(struct fx *f, bool on)
{
	return set_dirty_ex(f, on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0, EMU_HWPT_ID, 0);
}

int get_dirty_ex(struct fx *f, uint32_t hwpt, uint32_t flags, uint32_t reserved, uint64_t iova,
		 uint64_t len, uint64_t page_size, void *data)
{
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = hwpt,
		.flags = flags,
		.__reserved = reserved,
		.iova = iova,
		.length = len,
		.page_size = page_size,
		.data = (uint64_t)(uintptr_t)data,
	};

	return ioc(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
}

int get_dirty(struct fx *f, uint32_t flags, uint64_t iova, uint64_t len, uint64_t page_size,
	      void *data)
{
	return get_dirty_ex(f, EMU_HWPT_ID, flags, 0, iova, len, page_size, data);
}

void get_ok(struct fx *f, uint32_t flags, uint64_t iova, uint64_t len, uint64_t page_size,
	    void *data)
{
	int ret = get_dirty(f, flags, iova, len, page_size, data);

	if (ret)
		fail_msg("GET_DIRTY_BITMAP iova %#llx length %#llx page %#llx: %s",
			 (unsigned long long)iova, (unsigned long long)len,
			 (unsigned long long)page_size, strerror(-ret));
}

void hw_write(struct fx *f, uint64_t iova, size_t len)
{
	static uint8_t junk[64 << 10];
	int ret;

	assert_true(len <= sizeof(junk));
	memset(junk, 0xa5, len);
	ret = emu_iommu_dma_write(f->io, iova, junk, len);
	if (ret)
		fail_msg("emu_iommu_dma_write %#llx+%zu: %s", (unsigned long long)iova, len,
			 strerror(-ret));
}
