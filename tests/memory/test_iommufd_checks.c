// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated iommufd IOAS and dirty-tracking HWPT (user/memory/iommufd.c)
 * against Linux 6.12: iommufd_fops_ioctl() framing, ioas.c map/unmap, and
 * the argument checks of dirty tracking.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "memory/fixture_iommufd.h"

/* ---- framing ---------------------------------------------------------------------------- */

static void framing(void **state)
{
	struct fx *f = *state;
	struct {
		struct iommu_ioas_map m;
		uint64_t tail[2];
	} big;
	struct {
		struct iommu_hwpt_get_dirty_bitmap g;
		uint64_t tail;
	} bigg;
	struct iommu_ioas_unmap u = {0};
	struct iommu_hwpt_set_dirty_tracking s = {0};
	uint64_t bm[4];

	memset(&big, 0, sizeof(big));
	big.m = (struct iommu_ioas_map){
		.flags = RW, .ioas_id = EMU_IOAS_ID, .user_va = va(f, 0), .length = PG};
	/* below offsetofend(iova) */
	big.m.size = offsetof(struct iommu_ioas_map, iova) + 7;
	assert_int_equal(ioc(f, IOMMU_IOAS_MAP, &big), -EINVAL);
	big.m.size = 0;
	assert_int_equal(ioc(f, IOMMU_IOAS_MAP, &big), -EINVAL);
	/* larger than the kernel's struct: the tail must be zero */
	big.m.size = sizeof(big);
	big.tail[1] = 1ull << 56;
	assert_int_equal(ioc(f, IOMMU_IOAS_MAP, &big), -E2BIG);
	big.tail[1] = 0;
	big.m.iova = 0;
	assert_int_equal(ioc(f, IOMMU_IOAS_MAP, &big), 0);
	assert_true(big.m.iova != 0 && big.m.iova % PG == 0);
	assert_true(big.tail[0] == 0 && big.tail[1] == 0);

	u.size = offsetof(struct iommu_ioas_unmap, length) + 7;
	u.ioas_id = EMU_IOAS_ID;
	u.iova = big.m.iova;
	u.length = PG;
	assert_int_equal(ioc(f, IOMMU_IOAS_UNMAP, &u), -EINVAL);
	s.size = offsetof(struct iommu_hwpt_set_dirty_tracking, __reserved) + 3;
	s.hwpt_id = EMU_HWPT_ID;
	assert_int_equal(ioc(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &s), -EINVAL);
	s.size = sizeof(s);
	assert_int_equal(ioc(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &s), 0);

	memset(&bigg, 0, sizeof(bigg));
	bigg.g = (struct iommu_hwpt_get_dirty_bitmap){
		.hwpt_id = EMU_HWPT_ID,
		.iova = big.m.iova,
		.length = PG,
		.page_size = PG,
		.data = (uint64_t)(uintptr_t)bm,
	};
	bigg.g.size = offsetof(struct iommu_hwpt_get_dirty_bitmap, data) + 7;
	assert_int_equal(ioc(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &bigg), -EINVAL);
	bigg.g.size = sizeof(bigg);
	bigg.tail = 1;
	assert_int_equal(ioc(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &bigg), -E2BIG);
	bigg.tail = 0;
	assert_int_equal(ioc(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &bigg), 0);
	/* a larger unmap with a zero tail works and says what it unmapped */
	{
		struct {
			struct iommu_ioas_unmap u;
			uint64_t tail;
		} bu = {.u = {.size = sizeof(bu),
			      .ioas_id = EMU_IOAS_ID,
			      .iova = big.m.iova,
			      .length = PG}};

		assert_int_equal(ioc(f, IOMMU_IOAS_UNMAP, &bu), 0);
		assert_int_equal(bu.u.length, PG);
	}
}

/* ---- IOAS_MAP --------------------------------------------------------------------------- */

static void ioas_map_checks(void **state)
{
	struct fx *f = *state;
	struct iommu_ioas_map m;
	uint64_t iova, a1, a2;

#define MAP_CALL(fl, ioas, res, uva, len, io)             \
	(m = (struct iommu_ioas_map){.size = sizeof(m),   \
				     .flags = (fl),       \
				     .ioas_id = (ioas),   \
				     .__reserved = (res), \
				     .user_va = (uva),    \
				     .length = (len),     \
				     .iova = (io)},       \
	 ioc(f, IOMMU_IOAS_MAP, &m))

	assert_int_equal(MAP_CALL(FIXED_RW | 1u << 3, EMU_IOAS_ID, 0, va(f, 0), PG, BASE),
			 -EOPNOTSUPP);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 1, va(f, 0), PG, BASE), -EOPNOTSUPP);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, 0), PG, ~0ull), -EOVERFLOW);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, 0), ~0ull, BASE), -EOVERFLOW);
	/* neither READABLE nor WRITEABLE */
	assert_int_equal(MAP_CALL(IOMMU_IOAS_MAP_FIXED_IOVA, EMU_IOAS_ID, 0, va(f, 0), PG, BASE),
			 -EINVAL);
	/* not an IOAS: nothing, or the HWPT */
	assert_int_equal(MAP_CALL(FIXED_RW, 99, 0, va(f, 0), PG, BASE), -ENOENT);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_HWPT_ID, 0, va(f, 0), PG, BASE), -ENOENT);
	assert_int_equal(MAP_CALL(FIXED_RW, 0, 0, va(f, 0), PG, BASE), -ENOENT);
	/* length 0 or unaligned, user_va or fixed iova unaligned */
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, 0), 0, BASE), -EINVAL);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, 0), PG + 8, BASE), -EINVAL);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, 8), PG, BASE), -EINVAL);
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, 0), PG, BASE + 8), -EINVAL);
	/* not guest memory */
	assert_int_equal(MAP_CALL(FIXED_RW, EMU_IOAS_ID, 0, va(f, MEM_SIZE - PG), 2 * PG, BASE),
			 -EFAULT);
#undef MAP_CALL

	/* FIXED_IOVA over an existing area */
	map_ok(f, BASE, 0, 16 * PG);
	assert_int_equal(map_fixed(f, BASE, 0, 16 * PG), -EEXIST);
	assert_int_equal(map_fixed(f, BASE - PG, 0, 2 * PG), -EEXIST);
	assert_int_equal(map_fixed(f, BASE + 15 * PG, 0, 2 * PG), -EEXIST);
	assert_int_equal(map_fixed(f, BASE + 3 * PG, 0, PG), -EEXIST);
	assert_int_equal(map_fixed(f, BASE - PG, 0, 18 * PG), -EEXIST);
	assert_int_equal(map_fixed(f, BASE - PG, 0, PG), 0);
	assert_int_equal(map_fixed(f, BASE + 16 * PG, 0, PG), 0);

	/* automatic IOVAs: returned, page aligned, never 0, never over another area */
	a1 = 0;
	assert_int_equal(ioas_map(f, RW, 0, 8 * PG, &a1), 0);
	a2 = 0;
	assert_int_equal(ioas_map(f, RW, 0, 8 * PG, &a2), 0);
	assert_true(a1 && a1 % PG == 0 && a2 && a2 % PG == 0);
	assert_true(a1 + 8 * PG <= a2 || a2 + 8 * PG <= a1);
	assert_true(a1 + 8 * PG <= BASE - PG || a1 >= BASE + 17 * PG);
	assert_true(a2 + 8 * PG <= BASE - PG || a2 >= BASE + 17 * PG);
	/* the input iova is ignored without FIXED_IOVA */
	iova = BASE;
	assert_int_equal(ioas_map(f, RW, 0, PG, &iova), 0);
	assert_true(iova != BASE);
	/* and the returned IOVAs are mapped */
	assert_int_equal(map_fixed(f, a1, 0, PG), -EEXIST);
	assert_int_equal(map_fixed(f, iova, 0, PG), -EEXIST);
	hw_write(f, a2 + 7 * PG, 16);
	assert_int_equal(f->mem[7 * PG], 0xa5);
}

/* iopt_check_iova(): check_add_overflow(iova, length - 1) is EOVERFLOW. */
static void ioas_map_fixed_wrap(void **state)
{
	struct fx *f = *state;

	/* iova and length each below ULONG_MAX, their sum past it */
	assert_int_equal(map_fixed(f, ~0ull - 2 * PG + 1, 0, 4 * PG), -EOVERFLOW);
}

/*
 * iopt_alloc_iova() keeps the alignment of user_va, up to
 * roundup_pow_of_two(length) (and the huge page size): a 16 KiB area from a
 * 16 KiB aligned user_va gets a 16 KiB aligned IOVA.
 */
static void ioas_map_auto_alignment(void **state)
{
	struct fx *f = *state;
	uint64_t iova = 0;

	map_ok(f, PG, 0, PG); /* the lowest page the allocator would use */
	assert_int_equal(ioas_map(f, RW, 16 * PG, 4 * PG, &iova), 0);
	assert_int_equal(iova % (4 * PG), 0);
}

/* ---- IOAS_UNMAP ------------------------------------------------------------------------- */

static void ioas_unmap_checks(void **state)
{
	struct fx *f = *state;
	uint64_t n = 0;

	map_ok(f, BASE, 0, 16 * PG);
	map_ok(f, BASE + 20 * PG, 0, 4 * PG);
	assert_int_equal(ioas_unmap(f, 99, BASE, 16 * PG, NULL), -ENOENT);
	assert_int_equal(ioas_unmap(f, EMU_HWPT_ID, BASE, 16 * PG, NULL), -ENOENT);
	/* nothing there */
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, 2 * BASE, 16 * PG, NULL), -ENOENT);
	/* part of an area */
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE, 8 * PG, NULL), -ENOENT);
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE + PG, 15 * PG, NULL), -ENOENT);
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE - PG, 2 * PG, NULL), -ENOENT);
	assert_int_equal(map_fixed(f, BASE, 0, PG), -EEXIST);
	/* length 0, iova or length at ULONG_MAX (other than the unmap-all pair) */
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE, 0, NULL), -EINVAL);
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, PG, ~0ull, NULL), -EOVERFLOW);
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, ~0ull, PG, NULL), -EOVERFLOW);
	/* a superset of areas with a hole between them */
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE - 4 * PG, 40 * PG, &n), 0);
	assert_int_equal(n, 20 * PG);
	assert_int_equal(map_fixed(f, BASE, 0, 16 * PG), 0);
	assert_int_equal(map_fixed(f, BASE + 64 * PG, 0, PG), 0);
	/* everything: (0, U64_MAX) */
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, 0, ~0ull, &n), 0);
	assert_int_equal(n, 17 * PG);
	n = 1;
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, 0, ~0ull, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(map_fixed(f, BASE, 0, 16 * PG), 0);
}

/* iopt_unmap_iova(): check_add_overflow(iova, length - 1) is EOVERFLOW, not EINVAL. */
static void ioas_unmap_wrap(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, 1ull << 63, (1ull << 63) + PG, NULL),
			 -EOVERFLOW);
}

/* ---- dirty tracking checks -------------------------------------------------------------- */

static void dirty_checks(void **state)
{
	struct fx *f = *state;
	uint64_t bm[64] = {0};
	const uint64_t top = ~0ull - PG + 1;

	map_ok(f, BASE, 0, 512 * PG);
	assert_int_equal(set_dirty_ex(f, 2, EMU_HWPT_ID, 0), -EOPNOTSUPP);
	assert_int_equal(set_dirty_ex(f, 2, 99, 0), -EOPNOTSUPP);
	assert_int_equal(set_dirty_ex(f, 1, 99, 0), -ENOENT);
	assert_int_equal(set_dirty_ex(f, 1, EMU_IOAS_ID, 0), -ENOENT);
	assert_int_equal(set_dirty(f, true), 0);
	assert_int_equal(set_dirty(f, true), 0);

	assert_int_equal(get_dirty_ex(f, EMU_HWPT_ID, 2, 0, BASE, PG, PG, bm), -EOPNOTSUPP);
	assert_int_equal(get_dirty_ex(f, EMU_HWPT_ID, 0, 1, BASE, PG, PG, bm), -EOPNOTSUPP);
	assert_int_equal(get_dirty_ex(f, 99, 2, 0, BASE, PG, PG, bm), -EOPNOTSUPP);
	assert_int_equal(get_dirty_ex(f, 99, 0, 0, BASE, PG, PG, bm), -ENOENT);
	assert_int_equal(get_dirty_ex(f, EMU_IOAS_ID, 0, 0, BASE, PG, PG, bm), -ENOENT);
	/* length 0, overflow */
	assert_int_equal(get_dirty(f, 0, BASE, 0, PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, 0, top, 2 * PG, PG, bm), -EOVERFLOW);
	assert_int_equal(get_dirty(f, 0, PG, ~0ull, PG, bm), -EOVERFLOW);
	/* iova, length not IOMMU-page aligned */
	assert_int_equal(get_dirty(f, 0, BASE + 512, PG, PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, 0, BASE, PG + 512, PG, bm), -EINVAL);
	/* page_size 0, or iova/length not multiples of it */
	assert_int_equal(get_dirty(f, 0, BASE, PG, 0, bm), -EINVAL);
	assert_int_equal(get_dirty(f, 0, BASE + PG, 2 * PG, 2 * PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, 0, BASE, 3 * PG, 2 * PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, 0, BASE, 3 * PG, 3 * PG, bm), -EINVAL);
	assert_int_equal(get_dirty(f, 0, BASE, 512 * PG, 4ull << 20, bm), -EINVAL);
	/* and the well-formed calls */
	assert_int_equal(get_dirty(f, 0, BASE, 512 * PG, PG, bm), 0);
	assert_int_equal(get_dirty(f, 0, BASE, 512 * PG, 2ull << 20, bm), 0);
	assert_int_equal(get_dirty(f, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, BASE, 512 * PG, PG, bm),
			 0);
	assert_int_equal(set_dirty(f, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(framing, setup, teardown),
		cmocka_unit_test_setup_teardown(ioas_map_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(ioas_map_fixed_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(ioas_map_auto_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(ioas_unmap_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(ioas_unmap_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(dirty_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
