// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated type1 container (user/memory/type1.c, iommu.c) against the
 * kernel it stands for, drivers/vfio/vfio_iommu_type1.c of Linux 6.12: the
 * in-kernel pin/rw API, and what GET_BITMAP reports for writes, pins and
 * devices that DMA through the IOMMU. The argument checks of each ioctl
 * are in test_type1_checks.c.
 *
 * Expected bitmaps are computed here from what each test did (pages
 * written, pages pinned, ring slots the nic filled), never from the
 * emulation, and compared bit for bit at u64 word edges, with mappings
 * whose first bit is not word aligned, holes between mappings and user
 * buffers at odd addresses (the kernel copies whole u64 words from the
 * user pointer, aligned or not).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "memory/fixture_type1.h"

/* ---- expected bitmaps ------------------------------------------------------------------ */

/* Sets in want (bit 0 = the page at base) every 4 KiB page that [iova, iova + len) touches. */
static void want_range(uint8_t *want, uint64_t base, uint64_t iova, uint64_t len)
{
	uint64_t p;

	for (p = (iova - base) / PG; p <= (iova + len - 1 - base) / PG; p++)
		want[p / 8] |= 1u << (p % 8);
}

static void want_page(uint8_t *want, uint64_t base, uint64_t iova)
{
	want_range(want, base, iova, 1);
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

static void dma_write(struct fx *f, uint64_t iova, size_t len)
{
	static uint8_t junk[64 << 10];
	int ret;

	assert_true(len <= sizeof(junk));
	memset(junk, 0x5a, len);
	ret = emu_dma_rw(f->io, iova, junk, len, true);
	if (ret)
		fail_msg("emu_dma_rw write %#llx+%zu: %s", (unsigned long long)iova, len,
			 strerror(-ret));
}

/* ---- a device that pins, and gives its pins back when an unmap asks ------------------- */

struct fake_dev {
	struct emu_iommu *io;
	int id;
	int calls;
	uint64_t last_iova, last_len;
	int npins;
	struct {
		uint64_t iova;
		int n;
	} pins[64];
};

static void fake_unmap(void *opaque, uint64_t iova, uint64_t len)
{
	struct fake_dev *d = opaque;
	int i, j = 0;

	d->calls++;
	d->last_iova = iova;
	d->last_len = len;
	for (i = 0; i < d->npins; i++) {
		if (d->pins[i].iova < iova + len && d->pins[i].iova + d->pins[i].n * PG > iova)
			emu_unpin_pages(d->io, d->id, d->pins[i].iova, d->pins[i].n);
		else
			d->pins[j++] = d->pins[i];
	}
	d->npins = j;
}

static void fake_attach(struct fake_dev *d, struct emu_iommu *io, enum emu_dma_mode mode)
{
	memset(d, 0, sizeof(*d));
	d->io = io;
	d->id = emu_iommu_attach(io, mode, fake_unmap, d);
	assert_true(d->id >= 0);
}

static int fake_pin(struct fake_dev *d, uint64_t iova, int n, int prot)
{
	int ret = emu_pin_pages(d->io, d->id, iova, n, prot);

	if (ret > 0) {
		assert_true(d->npins < 64);
		d->pins[d->npins].iova = iova;
		d->pins[d->npins++].n = n;
	}
	return ret;
}

static void fake_unpin(struct fake_dev *d, uint64_t iova, int n)
{
	int i;

	for (i = 0; i < d->npins; i++) {
		if (d->pins[i].iova == iova && d->pins[i].n == n) {
			emu_unpin_pages(d->io, d->id, iova, n);
			d->pins[i] = d->pins[--d->npins];
			return;
		}
	}
	fail_msg("unpin of %#llx+%d that the test never pinned", (unsigned long long)iova, n);
}

/* ---- GET_BITMAP semantics --------------------------------------------------------------- */

/* vfio_dma_rw writes: reported once, at the right bits, then clear. */
static void rw_reported_once(void **state)
{
	struct fx *f = *state;
	uint8_t got[BM_BYTES(256)], want[sizeof(got)];
	char c;

	map_ok(f, BASE, 0, 128 * PG);
	map_ok(f, BASE + 128 * PG, 128 * PG, 128 * PG); /* adjacent: writes may span both */
	dma_write(f, BASE + 10 * PG, 1);		/* before START: not reported */
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);

	memset(want, 0, sizeof(want));
	dma_write(f, BASE + 63 * PG + 4095, 1);
	dma_write(f, BASE + 64 * PG, 1);
	dma_write(f, BASE + 65 * PG + 100, 200);
	dma_write(f, BASE + 127 * PG + 4000, 200);   /* pages 127 and 128, two mappings */
	dma_write(f, BASE + 200 * PG + 100, 2 * PG); /* pages 200..202 */
	dma_write(f, BASE + 255 * PG, PG);
	want_page(want, BASE, BASE + 63 * PG);
	want_page(want, BASE, BASE + 64 * PG);
	want_page(want, BASE, BASE + 65 * PG);
	want_range(want, BASE, BASE + 127 * PG, 2 * PG);
	want_range(want, BASE, BASE + 200 * PG, 3 * PG);
	want_page(want, BASE, BASE + 255 * PG);
	/* reads dirty nothing */
	assert_int_equal(emu_dma_rw(f->io, BASE + 5 * PG, &c, 1, false), 0);

	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "first report");
	get_ok(f, BASE, 256 * PG, got);
	assert_true(all_zero(got, sizeof(got)));

	/* a STOP drops what was not reported yet */
	dma_write(f, BASE + 7 * PG, 1);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
	dma_write(f, BASE + 8 * PG, 1); /* not tracking */
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	get_ok(f, BASE, 256 * PG, got);
	assert_true(all_zero(got, sizeof(got)));

	/* each mapping reported on its own is the same bits, relative to its start */
	dma_write(f, BASE + 130 * PG, 1);
	memset(want, 0, sizeof(want));
	want_page(want, BASE + 128 * PG, BASE + 130 * PG);
	get_ok(f, BASE, 128 * PG, got);
	assert_true(all_zero(got, BM_BYTES(128)));
	get_ok(f, BASE + 128 * PG, 128 * PG, got);
	bits_eq(got, want, BM_BYTES(128), "second mapping alone");
}

/*
 * Three mappings with holes, reported from one page below the first: every
 * mapping lands at a bit offset that is not a multiple of 64, and the user
 * buffer sits at byte offsets 0, 1 and 3.
 */
static void shifted_mappings_unaligned_buffers(void **state)
{
	static const size_t offs[] = {0, 1, 3, 5};
	struct fx *f = *state;
	const uint64_t base = BASE - PG, a = BASE, b = BASE + 75 * PG, c = BASE + 200 * PG;
	const uint64_t size = c + 3 * PG - base, nbytes = BM_BYTES(size / PG);
	uint8_t raw[BM_BYTES(204) + 32], want[BM_BYTES(204)];
	size_t i;

	assert_int_equal(nbytes, sizeof(want));
	map_ok(f, a, 0, 70 * PG);	/* bits 1..70 */
	map_ok(f, b, 80 * PG, 60 * PG); /* bits 76..135 */
	map_ok(f, c, 200 * PG, 3 * PG); /* bits 201..203 */
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint8_t *data = raw + 8 + offs[i];
		char what[64];

		memset(want, 0, sizeof(want));
		/* A: pages 0, 62, 63 (bit 64), 69 */
		dma_write(f, a, 1);
		dma_write(f, a + 62 * PG, 2 * PG);
		dma_write(f, a + 69 * PG + 4095, 1);
		want_page(want, base, a);
		want_range(want, base, a + 62 * PG, 2 * PG);
		want_page(want, base, a + 69 * PG);
		/* B: pages 0, 51 (bit 127), 52 (bit 128), 59 */
		dma_write(f, b, 1);
		dma_write(f, b + 51 * PG + 4000, 200);
		dma_write(f, b + 59 * PG, PG);
		want_page(want, base, b);
		want_range(want, base, b + 51 * PG, 2 * PG);
		want_page(want, base, b + 59 * PG);
		/* C: all three pages */
		dma_write(f, c, 3 * PG);
		want_range(want, base, c, 3 * PG);

		memset(raw, 0xee, sizeof(raw));
		memset(data, 0, nbytes);
		assert_int_equal(get(f, base, size, data, nbytes), 0);
		snprintf(what, sizeof(what), "buffer at +%zu", offs[i]);
		bits_eq(data, want, nbytes, what);
		/* nothing written outside the bitmap */
		assert_true(raw[8 + offs[i] - 1] == 0xee);
		assert_true(data[nbytes] == 0xee);

		memset(data, 0, nbytes);
		assert_int_equal(get(f, base, size, data, nbytes), 0);
		assert_true(all_zero(data, nbytes));
	}
}

/*
 * update_user_bitmap() copies whole u64 words: a mapping whose first bit is
 * not word aligned ORs its first word with what the user had there, then
 * overwrites the words after it, clearing bits past its end; words no
 * mapping covers are left alone; a word-aligned mapping overwrites its words.
 */
static void whole_word_copy(void **state)
{
	struct fx *f = *state;
	uint64_t bm[4], want[4];

	map_ok(f, BASE + 3 * PG, 0, 100 * PG);	       /* bits 3..102 */
	map_ok(f, BASE + 128 * PG, 100 * PG, 10 * PG); /* bits 128..137 */
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	dma_write(f, BASE + 3 * PG, 1);	  /* bit 3 */
	dma_write(f, BASE + 64 * PG, 1);  /* bit 64 */
	dma_write(f, BASE + 73 * PG, 1);  /* bit 73 */
	dma_write(f, BASE + 129 * PG, 1); /* bit 129 */

	memset(bm, 0xff, sizeof(bm));
	assert_int_equal(get(f, BASE, 138 * PG, bm, sizeof(bm)), 0);
	want[0] = ~0ull;	    /* OR with the user's word */
	want[1] = 1ull | 1ull << 9; /* overwritten, bits 103..127 cleared */
	want[2] = 1ull << 1;	    /* word-aligned mapping: overwritten */
	want[3] = ~0ull;	    /* not covered: untouched */
	bits_eq((uint8_t *)bm, (uint8_t *)want, sizeof(bm), "0xff-filled user bitmap");
}

/* Pinned pages: on every report while pinned, once more after the unpin, then never. */
static void pinned_every_report(void **state)
{
	struct fx *f = *state;
	uint8_t got[BM_BYTES(256)], want[sizeof(got)];
	struct fake_dev d;

	map_ok(f, BASE, 0, 256 * PG);
	fake_attach(&d, f->io, EMU_DMA_PIN);
	assert_int_equal(fake_pin(&d, BASE + 5 * PG, 1, EMU_PROT_WRITE_PIN), 1); /* before START */
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	assert_int_equal(fake_pin(&d, BASE + 63 * PG, 2, EMU_PROT_WRITE_PIN), 2);
	assert_int_equal(fake_pin(&d, BASE + 127 * PG, 2, EMU_PROT_WRITE_PIN), 2);

	memset(want, 0, sizeof(want));
	want_page(want, BASE, BASE + 5 * PG);
	want_range(want, BASE, BASE + 63 * PG, 2 * PG);
	want_range(want, BASE, BASE + 127 * PG, 2 * PG);
	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "report 1");
	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "report 2");

	/* a write through vfio_dma_rw joins the next report only */
	dma_write(f, BASE + 200 * PG, 1);
	want_page(want, BASE, BASE + 200 * PG);
	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "report 3");
	want[200 / 8] &= ~(1u << (200 % 8));

	/* unpinned pages stay in the bitmap until the next report re-populates it */
	fake_unpin(&d, BASE + 63 * PG, 2);
	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "report after unpin");
	memset(want, 0, sizeof(want));
	want_page(want, BASE, BASE + 5 * PG);
	want_range(want, BASE, BASE + 127 * PG, 2 * PG);
	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "report after that");

	/* pinning twice is counted: one unpin leaves the page pinned */
	assert_int_equal(fake_pin(&d, BASE + 5 * PG, 1, EMU_PROT_WRITE_PIN), 1);
	fake_unpin(&d, BASE + 5 * PG, 1);
	get_ok(f, BASE, 256 * PG, got);
	get_ok(f, BASE, 256 * PG, got);
	bits_eq(got, want, sizeof(got), "after pin/unpin of a pinned page");
	emu_iommu_detach(f->io, d.id);
}

static void pin_errors(void **state)
{
	struct fx *f = *state;
	uint8_t got[BM_BYTES(64)], want[sizeof(got)];
	struct fake_dev d;
	uint64_t n;

	map_ok(f, BASE, 0, 4 * PG);
	assert_int_equal(map(f, BASE + 4 * PG, 4 * PG, 2 * PG, VFIO_DMA_MAP_FLAG_READ), 0);
	fake_attach(&d, f->io, EMU_DMA_PIN);
	assert_int_equal(fake_pin(&d, BASE, 0, EMU_PROT_WRITE_PIN), -EINVAL);
	assert_int_equal(fake_pin(&d, BASE, EMU_PIN_PAGES_MAX + 1, EMU_PROT_WRITE_PIN), -E2BIG);
	assert_int_equal(fake_pin(&d, 64 * BASE, 1, EMU_PROT_WRITE_PIN), -EINVAL);
	/* read-only mapping, write pin */
	assert_int_equal(fake_pin(&d, BASE + 4 * PG, 1, EMU_PROT_WRITE_PIN), -EPERM);
	assert_int_equal(fake_pin(&d, BASE + 4 * PG, 1, 1 /* IOMMU_READ */), 1);
	fake_unpin(&d, BASE + 4 * PG, 1);

	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	/* pages 2, 3 pin, page 4 is read-only: EPERM and nothing stays pinned */
	assert_int_equal(fake_pin(&d, BASE + 2 * PG, 3, EMU_PROT_WRITE_PIN), -EPERM);
	/* pages 0..5 pin, page 6 is not mapped: EINVAL and nothing stays pinned */
	assert_int_equal(fake_pin(&d, BASE, 7, 1), -EINVAL);
	/*
	 * The kernel sets a page's dirty bit as it pins it and the unwind does
	 * not clear it: the first report has the pages pinned on the way,
	 * the next has nothing since none stayed pinned.
	 */
	memset(want, 0, sizeof(want));
	want_range(want, BASE, BASE, 6 * PG);
	get_ok(f, BASE, 64 * PG, got);
	bits_eq(got, want, sizeof(got), "report after failed pins");
	get_ok(f, BASE, 64 * PG, got);
	assert_true(all_zero(got, sizeof(got)));
	/* and an unmap has nobody to call */
	assert_int_equal(unmap(f, BASE, 6 * PG, &n), 0);
	assert_int_equal(n, 6 * PG);
	assert_int_equal(d.calls, 0);
	emu_iommu_detach(f->io, d.id);
}

/* vfio_dma_rw() argument checks. */
static void dma_rw_checks(void **state)
{
	struct fx *f = *state;
	char buf[8] = "abcdefg";

	map_ok(f, BASE, 0, 2 * PG);
	assert_int_equal(map(f, BASE + 2 * PG, 2 * PG, PG, VFIO_DMA_MAP_FLAG_READ), 0);
	assert_int_equal(emu_dma_rw(f->io, 64 * BASE, buf, 1, true), -EINVAL);
	assert_int_equal(emu_dma_rw(f->io, BASE + 2 * PG, buf, 1, true), -EPERM);
	assert_int_equal(emu_dma_rw(f->io, BASE + 2 * PG, buf, 1, false), 0);
	/* an access running off the end of the mappings fails */
	assert_int_equal(emu_dma_rw(f->io, BASE + 3 * PG - 4, buf, 8, false), -EINVAL);
	assert_int_equal(emu_dma_rw(f->io, BASE + PG, buf, 8, true), 0);
	assert_memory_equal(f->mem + PG, buf, 8);
}

/* vfio_iommu_type1_dma_rw_chunk() wants IOMMU_READ on every access, writes included. */
static void dma_rw_write_only_mapping(void **state)
{
	struct fx *f = *state;
	char buf[8] = "abcdefg";

	assert_int_equal(map(f, BASE, 0, PG, VFIO_DMA_MAP_FLAG_WRITE), 0);
	assert_int_equal(emu_dma_rw(f->io, BASE, buf, 1, false), -EPERM);
	assert_int_equal(emu_dma_rw(f->io, BASE, buf, 1, true), -EPERM);
}

/* vfio_dma_rw(): "if (!data || len <= 0 ...) return -EINVAL". */
static void dma_rw_zero_length(void **state)
{
	struct fx *f = *state;
	char buf[8];

	map_ok(f, BASE, 0, PG);
	assert_int_equal(emu_dma_rw(f->io, BASE, buf, 0, true), -EINVAL);
}

/* A device that DMAs without pinning: every mapped page, on every report. */
static void iommu_mode_all_dirty(void **state)
{
	struct fx *f = *state;
	uint8_t got[BM_BYTES(204)], want[sizeof(got)];
	const uint64_t base = BASE - PG, size = 204 * PG;
	int id;

	map_ok(f, BASE, 0, 70 * PG);
	map_ok(f, BASE + 75 * PG, 80 * PG, 60 * PG);
	id = emu_iommu_attach(f->io, EMU_DMA_IOMMU, NULL, NULL);
	assert_true(id >= 0);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	memset(want, 0, sizeof(want));
	want_range(want, base, BASE, 70 * PG);
	want_range(want, base, BASE + 75 * PG, 60 * PG);
	get_ok(f, base, size, got);
	bits_eq(got, want, sizeof(got), "report 1");
	get_ok(f, base, size, got);
	bits_eq(got, want, sizeof(got), "report 2");
	/* UNMAP with GET_DIRTY_BITMAP: the whole mapping too */
	memset(got, 0, sizeof(got));
	assert_int_equal(unmap_bitmap(f, base, 71 * PG, got, BM_BYTES(71), NULL), 0);
	memset(want, 0, sizeof(want));
	want_range(want, base, BASE, 70 * PG);
	bits_eq(got, want, BM_BYTES(71), "unmap bitmap");
	emu_iommu_detach(f->io, id);
}

/*
 * vfio_iommu_type1_detach_group(): when a group that could not report its
 * own dirty pages leaves while tracking, every mapping is marked dirty
 * (vfio_iommu_populate_bitmap_full), since what it wrote since the last
 * report is unknown. A pinning device stays attached, so the mappings stay.
 */
static void iommu_detach_marks_all(void **state)
{
	struct fx *f = *state;
	uint8_t got[BM_BYTES(64)], want[sizeof(got)];
	struct fake_dev d;
	int id;

	map_ok(f, BASE, 0, 40 * PG);
	fake_attach(&d, f->io, EMU_DMA_PIN);
	id = emu_iommu_attach(f->io, EMU_DMA_IOMMU, NULL, NULL);
	assert_true(id >= 0);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	get_ok(f, BASE, 64 * PG, got);
	emu_iommu_detach(f->io, id);
	memset(want, 0, sizeof(want));
	want_range(want, BASE, BASE, 40 * PG);
	get_ok(f, BASE, 64 * PG, got);
	bits_eq(got, want, sizeof(got), "first report after the detach");
	get_ok(f, BASE, 64 * PG, got);
	assert_true(all_zero(got, sizeof(got)));
	emu_iommu_detach(f->io, d.id);
}

/* UNMAP with GET_DIRTY_BITMAP: the dirty bits of what it unmaps, shifted to its iova. */
static void unmap_get_dirty_bitmap(void **state)
{
	struct fx *f = *state;
	const uint64_t base = BASE - 3 * PG;
	uint8_t raw[BM_BYTES(160) + 16], want[BM_BYTES(160)], *data = raw + 1;
	uint8_t got[BM_BYTES(160)];
	struct fake_dev d;
	uint64_t n;

	map_ok(f, BASE, 0, 70 * PG);		     /* bits 3..72 */
	map_ok(f, BASE + 80 * PG, 80 * PG, 40 * PG); /* bits 83..122 */
	map_ok(f, BASE + 130 * PG, 130 * PG, 4 * PG);
	fake_attach(&d, f->io, EMU_DMA_PIN);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	memset(want, 0, sizeof(want));
	dma_write(f, BASE, 1);
	dma_write(f, BASE + 60 * PG, 2 * PG); /* bits 63, 64 */
	dma_write(f, BASE + 80 * PG, 1);
	dma_write(f, BASE + 80 * PG + 39 * PG, 1);
	assert_int_equal(fake_pin(&d, BASE + 80 * PG + 20 * PG, 2, EMU_PROT_WRITE_PIN), 2);
	want_page(want, base, BASE);
	want_range(want, base, BASE + 60 * PG, 2 * PG);
	want_page(want, base, BASE + 80 * PG);
	want_page(want, base, BASE + 119 * PG);
	want_range(want, base, BASE + 100 * PG, 2 * PG);

	memset(raw, 0, sizeof(raw));
	assert_int_equal(unmap_bitmap(f, base, 125 * PG, data, BM_BYTES(125), &n), 0);
	assert_int_equal(n, 110 * PG);
	bits_eq(data, want, BM_BYTES(125), "unmap bitmap");
	assert_int_equal(raw[0], 0);
	/* the pinning device was asked for its pins back, once, for that mapping */
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.last_iova, BASE + 80 * PG);
	assert_int_equal(d.last_len, 40 * PG);
	assert_int_equal(d.npins, 0);
	/* the third mapping is untouched and still tracked */
	dma_write(f, BASE + 131 * PG, 1);
	memset(want, 0, sizeof(want));
	want_page(want, BASE + 130 * PG, BASE + 131 * PG);
	get_ok(f, BASE + 130 * PG, 4 * PG, got);
	bits_eq(got, want, BM_BYTES(4), "remaining mapping");
	emu_iommu_detach(f->io, d.id);
}

/* ---- the nic in each DMA mode ------------------------------------------------------- */

#define NIC_RX (BASE + 60 * PG)
#define NIC_BUFSZ 6144ull
#define NIC_PKT 5000ull
#define NIC_NBUF 16

struct nic_fx {
	struct emu_dev *dev;
	uint64_t base, size; /* the GET_BITMAP range: one page below A to the end of B */
	uint8_t got[BM_BYTES(320)], want[BM_BYTES(320)];
	uint64_t nbytes;
	bool pinned[NIC_NBUF];
	int tail;
};

static struct emu_dev *nic_create(void)
{
	char params[128];
	struct emu_dev_cfg cfg = {.variant = "nic", .params = params};
	struct emu_dev *dev;

	snprintf(params, sizeof(params), "buffers=%d,bufsize=%llu,pkt=%llu,rx_iova=%llu", NIC_NBUF,
		 NIC_BUFSZ, NIC_PKT, (unsigned long long)NIC_RX);
	dev = emu_dev_create(&cfg);
	if (!dev)
		fail_msg("emu_dev_create: %s", emu_last_error());
	return dev;
}

static uint64_t slot_iova(int s)
{
	return NIC_RX + (uint64_t)s * NIC_BUFSZ;
}

/* What the next report must hold in each mode, from the slots the nic filled. */
static void nic_expect(struct fx *f, struct nic_fx *n, int mode, int written_from, int count)
{
	int i;

	(void)f;
	memset(n->want, 0, sizeof(n->want));
	if (mode == EMU_DMA_IOMMU) {
		want_range(n->want, n->base, BASE, 256 * PG);
		want_range(n->want, n->base, BASE + 300 * PG, 16 * PG);
		return;
	}
	for (i = 0; i < count; i++) {
		int s = (written_from + i) % NIC_NBUF;

		if (mode == EMU_DMA_RW)
			want_range(n->want, n->base, slot_iova(s), NIC_PKT);
		else
			n->pinned[s] = true;
	}
	if (mode == EMU_DMA_PIN) {
		for (i = 0; i < NIC_NBUF; i++) {
			if (n->pinned[i])
				want_range(n->want, n->base, slot_iova(i), NIC_BUFSZ);
		}
	}
}

static void nic_run(struct nic_fx *n, int k)
{
	int ret = emu_dev_run(n->dev, k);

	if (ret)
		fail_msg("emu_dev_run(%d): %s (%s)", k, strerror(-ret), emu_dev_strerror(n->dev));
	n->tail = (n->tail + k) % NIC_NBUF;
}

static void nic_modes(struct fx *f, int mode)
{
	struct nic_fx n = {0};
	uint64_t size;
	char what[64];

	n.base = BASE - PG;
	n.size = 317 * PG;
	n.nbytes = BM_BYTES(317);
	map_ok(f, BASE, 0, 256 * PG);
	map_ok(f, BASE + 300 * PG, 300 * PG, 16 * PG);
	n.dev = nic_create();
	assert_int_equal(emu_dev_attach_iommu(n.dev, f->io, mode, false), 0);
	assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);

	nic_run(&n, 5);
	nic_expect(f, &n, mode, 0, 5);
	get_ok(f, n.base, n.size, n.got);
	snprintf(what, sizeof(what), "mode %d, after 5 packets", mode);
	bits_eq(n.got, n.want, n.nbytes, what);

	nic_expect(f, &n, mode, 0, 0);
	get_ok(f, n.base, n.size, n.got);
	snprintf(what, sizeof(what), "mode %d, no packets", mode);
	bits_eq(n.got, n.want, n.nbytes, what);

	nic_run(&n, 14); /* slots 5..15, then 0..2 again */
	nic_expect(f, &n, mode, 5, 14);
	get_ok(f, n.base, n.size, n.got);
	snprintf(what, sizeof(what), "mode %d, after 14 more", mode);
	bits_eq(n.got, n.want, n.nbytes, what);

	if (mode == EMU_DMA_PIN) {
		/* unmapping the pinned ring: the nic is asked to unpin, the unmap succeeds */
		memset(n.got, 0, sizeof(n.got));
		assert_int_equal(unmap_bitmap(f, BASE, 256 * PG, n.got, BM_BYTES(256), &size), 0);
		assert_int_equal(size, 256 * PG);
		memset(n.want, 0, sizeof(n.want));
		want_range(n.want, BASE, NIC_RX, NIC_NBUF * NIC_BUFSZ);
		bits_eq(n.got, n.want, BM_BYTES(256), "PIN: unmap bitmap");
		/* mapped again, nothing is pinned there any more */
		map_ok(f, BASE, 0, 256 * PG);
		get_ok(f, n.base, n.size, n.got);
		assert_true(all_zero(n.got, n.nbytes));
		/* so the nic pins its next buffer again before its DMA */
		memset(n.pinned, 0, sizeof(n.pinned));
		nic_run(&n, 1);
		nic_expect(f, &n, mode, 3, 1);
		get_ok(f, n.base, n.size, n.got);
		bits_eq(n.got, n.want, n.nbytes, "PIN: after remap");
	}
	emu_dev_destroy(n.dev);
}

static void nic_pin_mode(void **state)
{
	nic_modes(*state, EMU_DMA_PIN);
}

static void nic_rw_mode(void **state)
{
	nic_modes(*state, EMU_DMA_RW);
}

static void nic_iommu_mode(void **state)
{
	nic_modes(*state, EMU_DMA_IOMMU);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rw_reported_once, setup, teardown),
		cmocka_unit_test_setup_teardown(shifted_mappings_unaligned_buffers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(whole_word_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(pinned_every_report, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_rw_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_rw_write_only_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_rw_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(iommu_mode_all_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(iommu_detach_marks_all, setup, teardown),
		cmocka_unit_test_setup_teardown(unmap_get_dirty_bitmap, setup, teardown),
		cmocka_unit_test_setup_teardown(nic_pin_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(nic_rw_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(nic_iommu_mode, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
