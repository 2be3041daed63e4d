// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated type1 container (user/memory/type1.c) against
 * drivers/vfio/vfio_iommu_type1.c of Linux 6.12: every argument check and
 * errno of MAP_DMA, UNMAP_DMA, DIRTY_PAGES and GET_INFO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memory/fixture_type1.h"

/* ---- MAP_DMA ---------------------------------------------------------------------------- */

static void map_dma_checks(void **state)
{
	struct fx *f = *state;
	uint64_t va = (uint64_t)(uintptr_t)f->mem, sz = sizeof(struct vfio_iommu_type1_dma_map);

	/* argsz below offsetofend(size), unknown flags */
	assert_int_equal(map_ex(f, sz - 1, RW, va, BASE, PG), -EINVAL);
	assert_int_equal(map_ex(f, sz, RW | (1u << 3), va, BASE, PG), -EINVAL);
	/* neither READ nor WRITE */
	assert_int_equal(map_ex(f, sz, 0, va, BASE, PG), -EINVAL);
	/* size 0, unaligned iova, vaddr, size */
	assert_int_equal(map_ex(f, sz, RW, va, BASE, 0), -EINVAL);
	assert_int_equal(map_ex(f, sz, RW, va, BASE + 512, PG), -EINVAL);
	assert_int_equal(map_ex(f, sz, RW, va + 8, BASE, PG), -EINVAL);
	assert_int_equal(map_ex(f, sz, RW, va, BASE, PG + 1), -EINVAL);
	/* IOVA or vaddr wrap */
	assert_int_equal(map_ex(f, sz, RW, va, ~0ull - PG + 1, 2 * PG), -EINVAL);
	assert_int_equal(map_ex(f, sz, RW, ~0ull - PG + 1, BASE, 2 * PG), -EINVAL);
	/* vaddr not backed by guest memory: pinning fails */
	assert_int_equal(map(f, BASE, MEM_SIZE - PG, 2 * PG, RW), -EFAULT);
	assert_int_equal(map(f, BASE, MEM_SIZE, PG, RW), -EFAULT);

	/* A = [BASE, BASE + 16 pages); any overlap is EEXIST */
	assert_int_equal(map(f, BASE, 0, 16 * PG, RW), 0);
	assert_int_equal(map(f, BASE, 0, 16 * PG, RW), -EEXIST);
	assert_int_equal(map(f, BASE - PG, 0, 2 * PG, RW), -EEXIST);
	assert_int_equal(map(f, BASE + 15 * PG, 0, 2 * PG, RW), -EEXIST);
	assert_int_equal(map(f, BASE + 4 * PG, 0, PG, RW), -EEXIST);
	assert_int_equal(map(f, BASE - PG, 0, 18 * PG, RW), -EEXIST);
	/* adjacent on both sides, read-only and write-only mappings are fine */
	assert_int_equal(map(f, BASE - PG, 0, PG, VFIO_DMA_MAP_FLAG_READ), 0);
	assert_int_equal(map(f, BASE + 16 * PG, 0, PG, VFIO_DMA_MAP_FLAG_WRITE), 0);
	/* the same host memory may be mapped twice at different IOVAs */
	assert_int_equal(map(f, 2 * BASE, 0, 16 * PG, RW), 0);
}

/* ---- UNMAP_DMA -------------------------------------------------------------------------- */

static void unmap_dma_checks(void **state)
{
	struct fx *f = *state;
	uint32_t sz = sizeof(struct vfio_iommu_type1_dma_unmap);
	const uint32_t gdb = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	uint64_t n = 99, bm[4];
	struct unmap_arg a;
	struct vfio_iommu_type1_dma_unmap *u;

	map_ok(f, BASE, 0, 16 * PG);
	assert_int_equal(unmap_ex(f, sz - 1, 0, BASE, 16 * PG, NULL), -EINVAL);
	assert_int_equal(unmap_ex(f, sz, 1u << 3, BASE, 16 * PG, NULL), -EINVAL);
	/* GET_DIRTY_BITMAP cannot go with ALL or VADDR */
	assert_int_equal(unmap_ex(f, UNMAP_ARGSZ, gdb | VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL),
			 -EINVAL);
	assert_int_equal(
		unmap_ex(f, UNMAP_ARGSZ, gdb | VFIO_DMA_UNMAP_FLAG_VADDR, BASE, 16 * PG, NULL),
		-EINVAL);
	/* unaligned, empty and wrapping ranges */
	assert_int_equal(unmap(f, BASE + 1, 16 * PG, NULL), -EINVAL);
	assert_int_equal(unmap(f, BASE, 0, NULL), -EINVAL);
	assert_int_equal(unmap(f, BASE, 16 * PG - 1, NULL), -EINVAL);
	assert_int_equal(unmap(f, ~0ull - PG + 1, 2 * PG, NULL), -EINVAL);
	/* ALL takes iova 0 and size 0 only */
	assert_int_equal(unmap_ex(f, sz, VFIO_DMA_UNMAP_FLAG_ALL, PG, 0, NULL), -EINVAL);
	assert_int_equal(unmap_ex(f, sz, VFIO_DMA_UNMAP_FLAG_ALL, 0, PG, NULL), -EINVAL);
	/* bisecting the mapping at either end, or from outside */
	assert_int_equal(unmap(f, BASE + PG, 15 * PG, NULL), -EINVAL);
	assert_int_equal(unmap(f, BASE, 15 * PG, NULL), -EINVAL);
	assert_int_equal(unmap(f, BASE - PG, 2 * PG, NULL), -EINVAL);
	assert_int_equal(unmap(f, BASE + 15 * PG, 2 * PG, NULL), -EINVAL);

	/* GET_DIRTY_BITMAP: argsz without the vfio_bitmap, bitmap too small, not tracking */
	assert_int_equal(unmap_ex(f, sz, gdb, BASE, 16 * PG, NULL), -EINVAL);
	u = unmap_init(&a, UNMAP_ARGSZ, gdb, BASE, 16 * PG);
	unmap_set_bitmap(u, PG, bm, 0);
	assert_int_equal(ioc(f, VFIO_IOMMU_UNMAP_DMA, u), -EINVAL);
	u = unmap_init(&a, UNMAP_ARGSZ, gdb, BASE, 65 * PG);
	unmap_set_bitmap(u, PG, bm, 8);
	assert_int_equal(ioc(f, VFIO_IOMMU_UNMAP_DMA, u), -EINVAL);
	assert_int_equal(unmap_bitmap(f, BASE, 16 * PG, bm, sizeof(bm), NULL), -EINVAL);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	/* tracking: only the smallest IOMMU page size */
	u = unmap_init(&a, UNMAP_ARGSZ, gdb, BASE, 16 * PG);
	unmap_set_bitmap(u, 2 * PG, bm, sizeof(bm));
	assert_int_equal(ioc(f, VFIO_IOMMU_UNMAP_DMA, u), -EINVAL);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);

	/* still mapped after all of that */
	assert_int_equal(map(f, BASE, 0, PG, RW), -EEXIST);

	/* a range without mappings: success, nothing unmapped */
	assert_int_equal(unmap(f, 64 * BASE, 16 * PG, &n), 0);
	assert_int_equal(n, 0);
	/* a superset of several mappings with holes: the bytes unmapped */
	map_ok(f, BASE + 20 * PG, 0, 3 * PG);
	map_ok(f, BASE + 40 * PG, 0, PG);
	assert_int_equal(unmap(f, BASE - 4 * PG, 40 * PG, &n), 0);
	assert_int_equal(n, 19 * PG);
	assert_int_equal(map(f, BASE + 40 * PG, 0, PG, RW), -EEXIST);
	assert_int_equal(map(f, BASE, 0, 16 * PG, RW), 0);
	/* ALL */
	assert_int_equal(unmap_ex(f, sz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, &n), 0);
	assert_int_equal(n, 17 * PG);
	assert_int_equal(unmap_ex(f, sz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(map(f, BASE + 40 * PG, 0, PG, RW), 0);
}

/*
 * vfio_iommu_type1_unmap_dma() copies the struct back only on success:
 * on an error the caller's size field keeps what the caller put there.
 */
static void unmap_error_keeps_size(void **state)
{
	struct fx *f = *state;
	uint64_t n = 0;

	map_ok(f, BASE, 0, 16 * PG);
	/* bisecting: EINVAL, and the caller's size (15 pages) untouched */
	assert_int_equal(unmap(f, BASE, 15 * PG, &n), -EINVAL);
	assert_int_equal(n, 15 * PG);
}

/* ---- DIRTY_PAGES checks --------------------------------------------------------------- */

static void dirty_pages_checks(void **state)
{
	struct fx *f = *state;
	const uint32_t start = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	const uint32_t stop = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	const uint32_t getb = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	uint64_t bm[8] = {0}, zero[8] = {0};

	map_ok(f, BASE, 0, 16 * PG);
	assert_int_equal(dirty_ex(f, 7, start), -EINVAL);
	assert_int_equal(dirty(f, 1u << 3), -EINVAL);
	assert_int_equal(dirty(f, 0), -EINVAL);
	assert_int_equal(dirty(f, start | stop), -EINVAL);
	assert_int_equal(dirty(f, start | getb), -EINVAL);
	assert_int_equal(dirty(f, stop | getb), -EINVAL);
	/* GET_BITMAP before START */
	assert_int_equal(get(f, BASE, 16 * PG, bm, sizeof(bm)), -EINVAL);

	assert_int_equal(dirty(f, start), 0);
	assert_int_equal(dirty(f, start), 0); /* already started: nothing to do */
	assert_int_equal(get(f, BASE, 16 * PG, bm, sizeof(bm)), 0);
	/* argsz without the whole dirty_bitmap_get */
	assert_int_equal(get_ex(f, GET_ARGSZ - 1, BASE, 16 * PG, PG, bm, 8), -EINVAL);
	assert_int_equal(get_ex(f, 8, BASE, 16 * PG, PG, bm, 8), -EINVAL);
	/* only the smallest IOMMU page size */
	assert_int_equal(get_ex(f, GET_ARGSZ, BASE, 16 * PG, 2 * PG, bm, 8), -EINVAL);
	assert_int_equal(get_ex(f, GET_ARGSZ, BASE, 16 * PG, 1ull << 21, bm, 8), -EINVAL);
	/* unaligned iova or size, size 0, wrap */
	assert_int_equal(get(f, BASE + 512, 16 * PG, bm, 8), -EINVAL);
	assert_int_equal(get(f, BASE, 16 * PG + 512, bm, 8), -EINVAL);
	assert_int_equal(get(f, BASE, 0, bm, 8), -EINVAL);
	assert_int_equal(get(f, ~0ull - PG + 1, 2 * PG, bm, 8), -EINVAL);
	/* bitmap size zero, smaller than the range needs, above DIRTY_BITMAP_SIZE_MAX */
	assert_int_equal(get(f, BASE, 16 * PG, bm, 0), -EINVAL);
	assert_int_equal(get(f, BASE, 65 * PG, bm, 8), -EINVAL);
	assert_int_equal(get(f, BASE, 16 * PG, bm, SIZE_MAX_BM + 8), -EINVAL);
	/* bisecting ranges */
	assert_int_equal(get(f, BASE + PG, 15 * PG, bm, 8), -EINVAL);
	assert_int_equal(get(f, BASE, 15 * PG, bm, 8), -EINVAL);
	assert_int_equal(get(f, BASE - PG, 2 * PG, bm, 8), -EINVAL);
	/* the size limit itself is fine, and a range without mappings writes nothing */
	assert_int_equal(get(f, 64 * BASE, PG, bm, SIZE_MAX_BM), 0);
	assert_int_equal(get(f, BASE, 16 * PG, bm, 8), 0);
	assert_memory_equal(bm, zero, sizeof(bm));

	assert_int_equal(dirty(f, stop), 0);
	assert_int_equal(get(f, BASE, 16 * PG, bm, sizeof(bm)), -EINVAL);
	assert_int_equal(dirty(f, stop), 0); /* stopping twice is fine */
}

/* ---- GET_INFO --------------------------------------------------------------------------- */

static const struct vfio_iommu_type1_info_cap_migration *find_mig_cap(const uint8_t *buf,
								      uint32_t argsz)
{
	const struct vfio_iommu_type1_info *info = (const void *)buf;
	uint32_t off = info->cap_offset;
	int hops = 0;

	while (off && hops++ < 16) {
		const struct vfio_info_cap_header *h = (const void *)(buf + off);

		assert_true(off >= sizeof(*info) && off + sizeof(*h) <= argsz);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
			assert_true(off + sizeof(struct vfio_iommu_type1_info_cap_migration) <=
				    argsz);
			return (const void *)h;
		}
		off = h->next;
	}
	return NULL;
}

static void get_info(void **state)
{
	struct fx *f = *state;
	uint64_t raw[512];
	uint8_t *buf = (uint8_t *)raw;
	struct vfio_iommu_type1_info *info = (void *)buf;
	const struct vfio_iommu_type1_info_cap_migration *mig;
	uint32_t need;

	memset(raw, 0, sizeof(raw));
	info->argsz = 15;
	assert_int_equal(ioc(f, VFIO_IOMMU_GET_INFO, info), -EINVAL);

	/* room for the struct only: the caps' size comes back in argsz, cap_offset 0 */
	memset(raw, 0, sizeof(raw));
	info->argsz = sizeof(*info);
	info->cap_offset = 0x1234;
	assert_int_equal(ioc(f, VFIO_IOMMU_GET_INFO, info), 0);
	assert_true(info->flags & VFIO_IOMMU_INFO_PGSIZES);
	assert_true(info->flags & VFIO_IOMMU_INFO_CAPS);
	assert_true(info->iova_pgsizes & PG);
	assert_int_equal(info->iova_pgsizes & (PG - 1), 0);
	assert_int_equal(info->cap_offset, 0);
	need = info->argsz;
	assert_true(need >= sizeof(*info) + sizeof(*mig));
	assert_true(need <= sizeof(raw));

	/* one byte short is still too small */
	memset(raw, 0, sizeof(raw));
	info->argsz = need - 1;
	assert_int_equal(ioc(f, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->argsz, need);
	assert_int_equal(info->cap_offset, 0);

	memset(raw, 0, sizeof(raw));
	info->argsz = need;
	assert_int_equal(ioc(f, VFIO_IOMMU_GET_INFO, info), 0);
	assert_int_equal(info->argsz, need);
	assert_true(info->cap_offset >= sizeof(*info));
	mig = find_mig_cap(buf, need);
	assert_non_null(mig);
	assert_int_equal(mig->header.version, 1);
	assert_int_equal(mig->flags, 0);
	assert_int_equal(mig->pgsize_bitmap, PG);
	assert_int_equal(mig->max_dirty_bitmap_size, SIZE_MAX_BM);
}

/*
 * GET_INFO copies back min(argsz, sizeof(info)) bytes: with argsz 16
 * (offsetofend(iova_pgsizes), the minimum) cap_offset is not written.
 */
static void get_info_min_argsz(void **state)
{
	struct fx *f = *state;
	uint64_t raw[8];
	struct vfio_iommu_type1_info *info = (void *)raw;

	memset(raw, 0, sizeof(raw));
	info->argsz = 16;
	info->cap_offset = 0xdeadbeef;
	assert_int_equal(ioc(f, VFIO_IOMMU_GET_INFO, info), 0);
	assert_true(info->argsz > sizeof(*info));
	assert_int_equal(info->cap_offset, 0xdeadbeef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(map_dma_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_dma_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_error_keeps_size, setup, teardown),
		cmocka_unit_test_setup_teardown(dirty_pages_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(get_info, setup, teardown),
		cmocka_unit_test_setup_teardown(get_info_min_argsz, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
