// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated iommufd IOAS and dirty-tracking HWPT (user/emu/iommufd.c)
 * against Linux 6.12: iommufd_fops_ioctl() framing, ioas.c map/unmap,
 * hw_pagetable.c and io_pagetable.c dirty tracking, and what
 * tools/testing/selftests/iommu asserts about the bitmaps (read-and-clear,
 * NO_CLEAR, bitmaps at odd byte addresses, page sizes above 4 KiB).
 *
 * Expected bitmaps come from the pages each test wrote with
 * emu_iommu_dma_write(), never from the emulation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "device/device.h"
#include "memory/iommu.h"

#define PG 4096ull
#define MEM_SIZE (8ull << 20)
#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define BASE (4ull << 20)

struct fx {
	uint8_t *mem;
	struct emu_iommu *io;
};

static int setup(void **state)
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

static int teardown(void **state)
{
	struct fx *f = *state;

	emu_iommu_destroy(f->io);
	free(f->mem);
	free(f);
	return 0;
}

static int ioc(struct fx *f, unsigned long cmd, void *arg)
{
	return emu_iommufd_ioctl(f->io, cmd, arg) ? -errno : 0;
}

static uint64_t va(struct fx *f, uint64_t off)
{
	return (uint64_t)(uintptr_t)(f->mem + off);
}

static int ioas_map(struct fx *f, uint32_t flags, uint64_t off, uint64_t len, uint64_t *iova)
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

static int map_fixed(struct fx *f, uint64_t iova, uint64_t off, uint64_t len)
{
	return ioas_map(f, FIXED_RW, off, len, &iova);
}

static void map_ok(struct fx *f, uint64_t iova, uint64_t off, uint64_t len)
{
	int ret = map_fixed(f, iova, off, len);

	if (ret)
		fail_msg("IOAS_MAP iova %#llx length %#llx: %s", (unsigned long long)iova,
			 (unsigned long long)len, strerror(-ret));
}

static int ioas_unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *out)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len};
	int ret = ioc(f, IOMMU_IOAS_UNMAP, &u);

	if (out)
		*out = u.length;
	return ret;
}

static int set_dirty_ex(struct fx *f, uint32_t flags, uint32_t hwpt, uint32_t reserved)
{
	struct iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s), .flags = flags, .hwpt_id = hwpt, .__reserved = reserved};

	return ioc(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

static int set_dirty(struct fx *f, bool on)
{
	return set_dirty_ex(f, on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0, EMU_HWPT_ID, 0);
}

static int get_dirty_ex(struct fx *f, uint32_t hwpt, uint32_t flags, uint32_t reserved,
			uint64_t iova, uint64_t len, uint64_t page_size, void *data)
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

static int get_dirty(struct fx *f, uint32_t flags, uint64_t iova, uint64_t len, uint64_t page_size,
		     void *data)
{
	return get_dirty_ex(f, EMU_HWPT_ID, flags, 0, iova, len, page_size, data);
}

static void get_ok(struct fx *f, uint32_t flags, uint64_t iova, uint64_t len, uint64_t page_size,
		   void *data)
{
	int ret = get_dirty(f, flags, iova, len, page_size, data);

	if (ret)
		fail_msg("GET_DIRTY_BITMAP iova %#llx length %#llx page %#llx: %s",
			 (unsigned long long)iova, (unsigned long long)len,
			 (unsigned long long)page_size, strerror(-ret));
}

static void hw_write(struct fx *f, uint64_t iova, size_t len)
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

/* Sets in want every page_size bit (bit 0 at base) that [iova, iova + len) touches. */
static void want_range(uint8_t *want, uint64_t base, uint64_t page_size, uint64_t iova,
		       uint64_t len)
{
	uint64_t p;

	for (p = (iova - base) / page_size; p <= (iova + len - 1 - base) / page_size; p++)
		want[p / 8] |= 1u << (p % 8);
}

static void bits_eq(const uint8_t *got, const uint8_t *want, size_t nbytes, const char *what)
{
	size_t i;
	int b;

	for (i = 0; i < nbytes; i++) {
		if (got[i] == want[i])
			continue;
		for (b = 0; b < 8; b++) {
			if ((got[i] ^ want[i]) >> b & 1)
				fail_msg("%s: bit %zu (word %zu bit %zu) is %d, expected %d", what,
					 i * 8 + b, (i * 8 + b) / 64, (i * 8 + b) % 64,
					 got[i] >> b & 1, want[i] >> b & 1);
		}
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

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

/* ---- dirty tracking semantics ----------------------------------------------------------- */

#define NPG 1024ull /* 4 MiB at BASE */

/* The selftest's pattern: every other 4 KiB page dirty, plus the u64 word edges. */
static void write_pattern(struct fx *f, uint8_t *want4k)
{
	uint64_t p;

	for (p = 0; p < NPG; p += 2) {
		hw_write(f, BASE + p * PG + 100, 8);
		want4k[p / 8] |= 1u << (p % 8);
	}
	for (p = 63; p <= 129; p += 1) {
		if (p == 63 || p == 65 || p == 127 || p == 129) {
			hw_write(f, BASE + p * PG + 4095, 1);
			want4k[p / 8] |= 1u << (p % 8);
		}
	}
}

/* want at page_size granularity from the 4 KiB one */
static void coarsen(const uint8_t *want4k, uint64_t page_size, uint8_t *want)
{
	uint64_t p;

	memset(want, 0, NPG * PG / page_size / 8 + 8);
	for (p = 0; p < NPG; p++) {
		if (want4k[p / 8] >> (p % 8) & 1)
			want_range(want, BASE, page_size, BASE + p * PG, PG);
	}
}

static void read_and_clear(void **state)
{
	struct fx *f = *state;
	uint8_t want[NPG / 8], got[NPG / 8];

	map_ok(f, BASE, 0, NPG * PG);
	hw_write(f, BASE + 5 * PG, 1); /* before tracking: not seen */
	assert_int_equal(set_dirty(f, true), 0);
	memset(want, 0, sizeof(want));
	write_pattern(f, want);

	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	bits_eq(got, want, sizeof(got), "first read");
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));

	/* NO_CLEAR: the same bits on every read, until a read that clears */
	write_pattern(f, want);
	memset(got, 0, sizeof(got));
	get_ok(f, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, BASE, NPG * PG, PG, got);
	bits_eq(got, want, sizeof(got), "NO_CLEAR read 1");
	memset(got, 0, sizeof(got));
	get_ok(f, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, BASE, NPG * PG, PG, got);
	bits_eq(got, want, sizeof(got), "NO_CLEAR read 2");
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	bits_eq(got, want, sizeof(got), "clearing read after NO_CLEAR");
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));

	/* a read of part of the range clears that part only */
	hw_write(f, BASE + 3 * PG, 1);
	hw_write(f, BASE + 700 * PG, 1);
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE + 512 * PG, 512 * PG, PG, got);
	memset(want, 0, sizeof(want));
	want_range(want, BASE + 512 * PG, PG, BASE + 700 * PG, 1);
	bits_eq(got, want, 64, "upper half");
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	memset(want, 0, sizeof(want));
	want_range(want, BASE, PG, BASE + 3 * PG, 1);
	bits_eq(got, want, sizeof(got), "after the partial read");
}

static void enable_clears(void **state)
{
	struct fx *f = *state;
	uint8_t got[NPG / 8];

	map_ok(f, BASE, 0, NPG * PG);
	assert_int_equal(set_dirty(f, true), 0);
	hw_write(f, BASE + 7 * PG, 1);
	hw_write(f, BASE + 64 * PG, 1);
	/* enabling (again) starts from a clean snapshot */
	assert_int_equal(set_dirty(f, true), 0);
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));
	/* while disabled, writes are not recorded */
	assert_int_equal(set_dirty(f, false), 0);
	hw_write(f, BASE + 9 * PG, 1);
	assert_int_equal(set_dirty(f, true), 0);
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, NPG * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));
}

/* Bits at 8 KiB, 64 KiB and 2 MiB (and 1 KiB) granularity; the selftest's huge variants. */
static void page_sizes(void **state)
{
	static const uint64_t sizes[] = {2 * PG, 16 * PG, 2ull << 20, 1024};
	struct fx *f = *state;
	uint8_t want4k[NPG / 8], want[NPG * 4 / 8 + 8], got[sizeof(want)];
	size_t i;

	map_ok(f, BASE, 0, NPG * PG);
	assert_int_equal(set_dirty(f, true), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t nbytes = (NPG * PG / sizes[i] + 7) / 8;
		char what[64];

		memset(want4k, 0, sizeof(want4k));
		/* sparse: pages 1, 17, 130, 513 */
		hw_write(f, BASE + 1 * PG, 1);
		hw_write(f, BASE + 17 * PG, 1);
		hw_write(f, BASE + 130 * PG, 1);
		hw_write(f, BASE + 513 * PG, 1);
		want4k[0] |= 2;
		want4k[2] |= 2;
		want4k[16] |= 4;
		want4k[64] |= 2;
		coarsen(want4k, sizes[i], want);
		memset(got, 0, sizeof(got));
		get_ok(f, 0, BASE, NPG * PG, sizes[i], got);
		snprintf(what, sizeof(what), "page_size %llu", (unsigned long long)sizes[i]);
		bits_eq(got, want, nbytes, what);
		assert_true(all_zero(got + nbytes, sizeof(got) - nbytes));
		memset(got, 0, sizeof(got));
		get_ok(f, 0, BASE, NPG * PG, sizes[i], got);
		assert_true(all_zero(got, sizeof(got)));
	}
}

/*
 * Bitmaps at odd byte addresses (the selftest uses +PAGE_SIZE and +0xff1):
 * bits are set byte-wise from the pointer, nothing around it changes, and
 * bits already set in the user buffer stay set.
 */
static void unaligned_user_bitmaps(void **state)
{
	static const size_t offs[] = {1, 3, 7, 0xff1, PG};
	struct fx *f = *state;
	uint8_t *raw = malloc(2 * PG + NPG / 8 + 64), want[NPG / 8];
	size_t i, j;

	assert_non_null(raw);
	map_ok(f, BASE, 0, NPG * PG);
	assert_int_equal(set_dirty(f, true), 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint8_t *data = raw + 8 + offs[i];
		char what[64];

		memset(want, 0, sizeof(want));
		write_pattern(f, want);
		memset(raw, 0xee, 2 * PG + NPG / 8 + 64);
		memset(data, 0, NPG / 8);
		get_ok(f, 0, BASE, NPG * PG, PG, data);
		snprintf(what, sizeof(what), "bitmap at +%#zx", offs[i]);
		bits_eq(data, want, NPG / 8, what);
		assert_int_equal(data[-1], 0xee);
		assert_int_equal(data[NPG / 8], 0xee);

		/* bits only get set: a pre-filled buffer keeps its bits */
		write_pattern(f, want);
		for (j = 0; j < NPG / 8; j++)
			data[j] = 0x81 ^ (uint8_t)j;
		get_ok(f, 0, BASE, NPG * PG, PG, data);
		for (j = 0; j < NPG / 8; j++)
			want[j] |= 0x81 ^ (uint8_t)j;
		bits_eq(data, want, NPG / 8, "pre-filled");
	}
	free(raw);
}

/*
 * Adjacent areas reported from one page into the first: each area's first
 * bit is off any word boundary, and the bitmap sits at odd addresses.
 */
static void contiguous_areas_shifted(void **state)
{
	static const size_t offs[] = {0, 1, 3};
	struct fx *f = *state;
	const uint64_t a = BASE, b = BASE + 70 * PG, c = BASE + 200 * PG, base = BASE + PG;
	const uint64_t len = c + 3 * PG - base, nbytes = (len / PG + 7) / 8;
	uint8_t raw[64], want[32];
	size_t i;

	map_ok(f, a, 0, 70 * PG);
	map_ok(f, b, 100 * PG, 130 * PG);
	map_ok(f, c, 300 * PG, 3 * PG);
	assert_int_equal(set_dirty(f, true), 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint8_t *data = raw + 8 + offs[i];
		char what[64];

		memset(want, 0, sizeof(want));
		hw_write(f, a, 1); /* before the range: not reported, not cleared */
		hw_write(f, a + PG, 1);
		hw_write(f, a + 64 * PG, 2 * PG);     /* bits 63, 64 */
		hw_write(f, a + 69 * PG + 4000, 200); /* pages 69 and b's 0 */
		hw_write(f, b + 58 * PG, 2 * PG);     /* bits 127, 128 */
		hw_write(f, c + 2 * PG, 1);
		want_range(want, base, PG, a + PG, 1);
		want_range(want, base, PG, a + 64 * PG, 2 * PG);
		want_range(want, base, PG, a + 69 * PG, 2 * PG);
		want_range(want, base, PG, b + 58 * PG, 2 * PG);
		want_range(want, base, PG, c + 2 * PG, 1);
		memset(raw, 0xee, sizeof(raw));
		memset(data, 0, nbytes);
		get_ok(f, 0, base, len, PG, data);
		snprintf(what, sizeof(what), "bitmap at +%zu", offs[i]);
		bits_eq(data, want, nbytes, what);
		assert_int_equal(data[nbytes], 0xee);
		memset(data, 0, nbytes);
		get_ok(f, 0, base, len, PG, data);
		assert_true(all_zero(data, nbytes));
	}
	/* page 0 of a was outside every read: still dirty */
	memset(want, 0, sizeof(want));
	want[0] = 1;
	memset(raw, 0, sizeof(raw));
	get_ok(f, 0, a, PG, PG, raw);
	bits_eq(raw, want, 8, "the page before the reads");
}

/*
 * io_pagetable.c walks iopt_for_each_contig_area() from the requested iova
 * and stops at the first hole: __iommu_read_and_clear_dirty() then returns
 * -EINVAL, which iommu_read_and_clear_dirty() ignores (ret stays 0). So a
 * read over a hole reports the contiguous run of areas starting at iova and
 * neither reports nor clears anything after the hole; a read starting in a
 * hole reports nothing at all.
 */
static void dirty_read_stops_at_hole(void **state)
{
	struct fx *f = *state;
	const uint64_t a = BASE, b = BASE + 70 * PG;
	uint8_t got[16], want[16];

	map_ok(f, a, 0, 64 * PG);
	map_ok(f, b, 100 * PG, 30 * PG);
	assert_int_equal(set_dirty(f, true), 0);
	hw_write(f, a + 10 * PG, 1);
	hw_write(f, b + 5 * PG, 1);

	memset(got, 0, sizeof(got));
	get_ok(f, 0, a, 100 * PG, PG, got);
	memset(want, 0, sizeof(want));
	want_range(want, a, PG, a + 10 * PG, 1);
	bits_eq(got, want, sizeof(got), "read over the hole");
	/* b's page is still dirty */
	memset(got, 0, sizeof(got));
	get_ok(f, 0, b, 30 * PG, PG, got);
	memset(want, 0, sizeof(want));
	want_range(want, b, PG, b + 5 * PG, 1);
	bits_eq(got, want, sizeof(got), "b alone afterwards");

	/* starting one page below a (a hole): nothing reported, nothing cleared */
	hw_write(f, a + 11 * PG, 1);
	memset(got, 0, sizeof(got));
	get_ok(f, 0, a - PG, 65 * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));
	memset(got, 0, sizeof(got));
	get_ok(f, 0, a, 64 * PG, PG, got);
	memset(want, 0, sizeof(want));
	want_range(want, a, PG, a + 11 * PG, 1);
	bits_eq(got, want, sizeof(got), "a alone afterwards");
}

/* Unmapping an area takes its dirty bits with it; a new area there starts clean. */
static void unmap_drops_dirty(void **state)
{
	struct fx *f = *state;
	uint8_t got[8];
	uint64_t n;

	map_ok(f, BASE, 0, 16 * PG);
	assert_int_equal(set_dirty(f, true), 0);
	hw_write(f, BASE + 3 * PG, 1);
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE, 16 * PG, &n), 0);
	assert_int_equal(n, 16 * PG);
	map_ok(f, BASE, 0, 16 * PG);
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, 16 * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));
	/* read-only areas refuse device writes */
	assert_int_equal(ioas_unmap(f, EMU_IOAS_ID, BASE, 16 * PG, &n), 0);
	{
		uint64_t iova = BASE;
		char c = 1;

		assert_int_equal(ioas_map(f, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE, 0,
					  PG, &iova),
				 0);
		assert_int_equal(emu_iommu_dma_write(f->io, BASE, &c, 1), -EPERM);
	}
}

/* The nic DMAing through the IOAS: the pages of the slots it filled, once. */
static void nic_through_iommufd(void **state)
{
	struct fx *f = *state;
	const uint64_t rx = BASE + 61 * PG, bufsz = 6144, pkt = 5000;
	struct emu_dev_cfg cfg = {.variant = "nic"};
	uint8_t got[64], want[64];
	struct emu_dev *dev;
	char params[128];
	int s;

	snprintf(params, sizeof(params), "buffers=8,bufsize=%llu,pkt=%llu,rx_iova=%llu",
		 (unsigned long long)bufsz, (unsigned long long)pkt, (unsigned long long)rx);
	cfg.params = params;
	map_ok(f, BASE, 0, 256 * PG);
	dev = emu_dev_create(&cfg);
	assert_non_null(dev);
	assert_int_equal(emu_dev_attach_iommu(dev, f->io, EMU_DMA_IOMMU, false), 0);
	assert_int_equal(set_dirty(f, true), 0);
	assert_int_equal(emu_dev_run(dev, 5), 0);
	memset(want, 0, sizeof(want));
	for (s = 0; s < 5; s++)
		want_range(want, BASE, PG, rx + s * bufsz, pkt);
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, 256 * PG, PG, got);
	bits_eq(got, want, sizeof(got), "nic, 5 packets");
	memset(got, 0, sizeof(got));
	get_ok(f, 0, BASE, 256 * PG, PG, got);
	assert_true(all_zero(got, sizeof(got)));
	emu_dev_destroy(dev);
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
		cmocka_unit_test_setup_teardown(read_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(enable_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(page_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(unaligned_user_bitmaps, setup, teardown),
		cmocka_unit_test_setup_teardown(contiguous_areas_shifted, setup, teardown),
		cmocka_unit_test_setup_teardown(dirty_read_stops_at_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_drops_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(nic_through_iommufd, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
