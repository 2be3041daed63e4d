// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated iommufd dirty-tracking HWPT (user/memory/iommufd.c) against
 * Linux 6.12: hw_pagetable.c and io_pagetable.c dirty tracking, and what
 * tools/testing/selftests/iommu asserts about the bitmaps (read-and-clear,
 * NO_CLEAR, bitmaps at odd byte addresses, page sizes above 4 KiB). The
 * argument checks of each ioctl are in test_iommufd_checks.c.
 *
 * Expected bitmaps come from the pages each test wrote with
 * emu_iommu_dma_write(), never from the emulation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "memory/fixture_iommufd.h"

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
