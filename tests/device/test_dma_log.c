// SPDX-License-Identifier: GPL-2.0
/*
 * Device DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_START / STOP /
 * REPORT) of the emulated device (user/emu/dma.c, device.c) against the
 * checks of vfio_main.c in Linux 6.12 and the iova_bitmap contract: what
 * the nic DMAs inside the logged ranges is reported exactly, once; what it
 * DMAs outside them never; at report page sizes coarser than the log's;
 * into user bitmaps at odd byte addresses.
 *
 * Expected bitmaps come from the ring slots the nic filled (slot i at
 * rx_iova + i * bufsize, pkt bytes), never from the emulation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "device/device.h"
#include "memory/iommu.h"

#define PG 4096ull
#define MEM_SIZE (8ull << 20)
#define BASE (4ull << 20)
#define RX (BASE + 61 * PG)
#define BUFSZ 6144ull
#define PKT 5000ull
#define NBUF 32 /* ring: pages 61..108 of BASE */

#define F_SET VFIO_DEVICE_FEATURE_SET
#define F_GET VFIO_DEVICE_FEATURE_GET
#define F_PROBE VFIO_DEVICE_FEATURE_PROBE
#define START VFIO_DEVICE_FEATURE_DMA_LOGGING_START
#define STOP VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP
#define REPORT VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT

typedef struct vfio_device_feature_dma_logging_range log_range;

struct fx {
	uint8_t *mem;
	struct emu_iommu *io;
	struct emu_dev *dev;   /* nic with DMA logging */
	struct emu_dev *plain; /* nic attached without it */
	struct emu_dev *lone;  /* nic attached to nothing */
	int tail;	       /* next ring slot of dev */
};

static struct emu_dev *nic(void)
{
	char params[128];
	struct emu_dev_cfg cfg = {.variant = "nic", .params = params};
	struct emu_dev *dev;

	snprintf(params, sizeof(params), "buffers=%d,bufsize=%llu,pkt=%llu,rx_iova=%llu", NBUF,
		 BUFSZ, PKT, (unsigned long long)RX);
	dev = emu_dev_create(&cfg);
	if (!dev)
		fail_msg("emu_dev_create: %s", emu_last_error());
	return dev;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct iommu_ioas_map m;

	assert_non_null(f);
	f->mem = aligned_alloc(PG, MEM_SIZE);
	assert_non_null(f->mem);
	memset(f->mem, 0, MEM_SIZE);
	f->io = emu_iommu_create(EMU_IOMMU_IOMMUFD, f->mem, MEM_SIZE);
	assert_non_null(f->io);
	m = (struct iommu_ioas_map){
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = EMU_IOAS_ID,
		.user_va = (uint64_t)(uintptr_t)f->mem,
		.length = 256 * PG,
		.iova = BASE,
	};
	assert_int_equal(emu_iommufd_ioctl(f->io, IOMMU_IOAS_MAP, &m), 0);
	f->dev = nic();
	assert_int_equal(emu_dev_attach_iommu(f->dev, f->io, EMU_DMA_IOMMU, true), 0);
	f->plain = nic();
	assert_int_equal(emu_dev_attach_iommu(f->plain, f->io, EMU_DMA_IOMMU, false), 0);
	f->lone = nic();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	emu_dev_destroy(f->dev);
	emu_dev_destroy(f->plain);
	emu_dev_destroy(f->lone);
	emu_iommu_destroy(f->io);
	free(f->mem);
	free(f);
	return 0;
}

/* VFIO_DEVICE_FEATURE with a payload; argsz = header + payload_argsz. */
static int feature_ex(struct emu_dev *dev, uint32_t flags, const void *payload, size_t len,
		      size_t payload_argsz)
{
	uint64_t buf[16] = {0};
	struct vfio_device_feature *h = (void *)buf;

	assert_true(sizeof(*h) + len <= sizeof(buf));
	h->argsz = sizeof(*h) + payload_argsz;
	h->flags = flags;
	if (len)
		memcpy(h->data, payload, len);
	return emu_dev_ioctl(dev, VFIO_DEVICE_FEATURE, h) ? -errno : 0;
}

static int feature(struct emu_dev *dev, uint32_t flags, const void *payload, size_t len)
{
	return feature_ex(dev, flags, payload, len, len);
}

static int start_ex(struct emu_dev *dev, uint32_t flags, uint64_t page_size, const log_range *r,
		    uint32_t n)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = page_size, .num_ranges = n, .ranges = (uint64_t)(uintptr_t)r};

	return feature(dev, flags, &c, sizeof(c));
}

static int start(struct emu_dev *dev, uint64_t page_size, const log_range *r, uint32_t n)
{
	return start_ex(dev, F_SET | START, page_size, r, n);
}

static int stop(struct emu_dev *dev)
{
	return feature(dev, F_SET | STOP, NULL, 0);
}

static int report_ex(struct emu_dev *dev, uint32_t flags, uint64_t iova, uint64_t len,
		     uint64_t page_size, void *bm)
{
	struct vfio_device_feature_dma_logging_report r = {.iova = iova,
							   .length = len,
							   .page_size = page_size,
							   .bitmap = (uint64_t)(uintptr_t)bm};

	return feature(dev, flags, &r, sizeof(r));
}

static int report(struct emu_dev *dev, uint64_t iova, uint64_t len, uint64_t page_size, void *bm)
{
	return report_ex(dev, F_GET | REPORT, iova, len, page_size, bm);
}

static void report_ok(struct emu_dev *dev, uint64_t iova, uint64_t len, uint64_t page_size,
		      void *bm)
{
	int ret = report(dev, iova, len, page_size, bm);

	if (ret)
		fail_msg("REPORT iova %#llx length %#llx page %#llx: %s", (unsigned long long)iova,
			 (unsigned long long)len, (unsigned long long)page_size, strerror(-ret));
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

/* ---- expected bitmaps from the ring ----------------------------------------------------- */

struct variant {
	uint64_t dirty[256]; /* per 4 KiB page of BASE..+1M: written since the last report */
};

static bool in_ranges(uint64_t iova, const log_range *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (iova >= r[i].iova && iova < r[i].iova + r[i].length)
			return true;
	}
	return false;
}

/* Runs k packets and records, per log page, what the device must log. */
static void run(struct fx *f, struct variant *m, int k, uint64_t log_page, const log_range *r,
		int nr)
{
	int i, ret;

	ret = emu_dev_run(f->dev, k);
	if (ret)
		fail_msg("emu_dev_run(%d): %s (%s)", k, strerror(-ret), emu_dev_strerror(f->dev));
	for (i = 0; i < k; i++) {
		uint64_t s = RX + (uint64_t)((f->tail + i) % NBUF) * BUFSZ, a;

		for (a = s & ~(log_page - 1); a < s + PKT; a += log_page) {
			if (m && in_ranges(a, r, nr))
				m->dirty[(a - BASE) / PG] = log_page;
		}
	}
	f->tail = (f->tail + k) % NBUF;
}

/* What a report of [iova, iova + len) at page_size must hold; clears it in the variant. */
static void expect(struct variant *m, uint64_t iova, uint64_t len, uint64_t page_size,
		   uint8_t *want, size_t nbytes)
{
	uint64_t p;

	memset(want, 0, nbytes);
	for (p = 0; p < 256; p++) {
		uint64_t a = BASE + p * PG, end, b;

		if (!m->dirty[p])
			continue;
		end = a + m->dirty[p];
		if (end <= iova || a >= iova + len)
			continue;
		for (b = (a > iova ? a : iova); b < end && b < iova + len; b += PG) {
			uint64_t bit = (b - iova) / page_size;

			assert_true(bit / 8 < nbytes);
			want[bit / 8] |= 1u << (bit % 8);
		}
		m->dirty[p] = 0;
	}
}

/* ---- checks ----------------------------------------------------------------------------- */

static void no_logging_enotty(void **state)
{
	struct fx *f = *state;
	const log_range r = {BASE, 16 * PG};
	struct emu_dev *devs[2] = {f->plain, f->lone};
	uint64_t bm[4];
	int i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(start(devs[i], PG, &r, 1), -ENOTTY);
		assert_int_equal(start_ex(devs[i], F_SET | F_PROBE | START, PG, &r, 1), -ENOTTY);
		assert_int_equal(start_ex(devs[i], F_GET | START, PG, &r, 1), -ENOTTY);
		assert_int_equal(stop(devs[i]), -ENOTTY);
		assert_int_equal(feature(devs[i], F_PROBE | STOP, NULL, 0), -ENOTTY);
		assert_int_equal(report(devs[i], BASE, 16 * PG, PG, bm), -ENOTTY);
		assert_int_equal(
			report_ex(devs[i], F_GET | F_PROBE | REPORT, BASE, 16 * PG, PG, bm),
			-ENOTTY);
	}
}

static void start_checks(void **state)
{
	struct fx *f = *state;
	static log_range many[257];
	const log_range r = {BASE, 16 * PG};
	log_range two[2];
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = PG, .num_ranges = 1, .ranges = (uint64_t)(uintptr_t)&r};
	uint64_t bm[4];
	int i;

	/* SET only; GET alone, or GET and SET together without PROBE */
	assert_int_equal(start_ex(f->dev, F_GET | START, PG, &r, 1), -EINVAL);
	assert_int_equal(start_ex(f->dev, F_GET | F_SET | START, PG, &r, 1), -EINVAL);
	assert_int_equal(start_ex(f->dev, START, PG, &r, 1), -EINVAL);
	/* argsz without the whole control struct */
	assert_int_equal(feature_ex(f->dev, F_SET | START, &c, sizeof(c), sizeof(c) - 1), -EINVAL);
	/* PROBE answers 0 and starts nothing */
	assert_int_equal(start_ex(f->dev, F_SET | F_PROBE | START, PG, &r, 1), 0);
	assert_int_equal(feature_ex(f->dev, F_SET | F_PROBE | START, &c, sizeof(c), 0), 0);
	assert_int_equal(report(f->dev, BASE, 16 * PG, PG, bm), -EINVAL);
	/* ranges: none, more than a page of them */
	assert_int_equal(start(f->dev, PG, &r, 0), -EINVAL);
	for (i = 0; i < 257; i++)
		many[i] = (log_range){BASE + i * 2 * PG, PG};
	assert_int_equal(start(f->dev, PG, many, 257), -E2BIG);
	/* unaligned to the page size, wrapping, overlapping */
	two[0] = (log_range){BASE + 512, PG};
	assert_int_equal(start(f->dev, PG, two, 1), -EINVAL);
	two[0] = (log_range){BASE, PG + 512};
	assert_int_equal(start(f->dev, PG, two, 1), -EINVAL);
	two[0] = (log_range){BASE + PG, 2 * PG};
	assert_int_equal(start(f->dev, 2 * PG, two, 1), -EINVAL);
	two[0] = (log_range){~0ull - PG + 1, 2 * PG};
	assert_int_equal(start(f->dev, PG, two, 1), -EOVERFLOW);
	two[0] = (log_range){~0ull - PG + 1, PG}; /* ends exactly at 2^64: overflows too */
	assert_int_equal(start(f->dev, PG, two, 1), -EOVERFLOW);
	two[0] = (log_range){BASE, 16 * PG};
	two[1] = (log_range){BASE + 15 * PG, 16 * PG};
	assert_int_equal(start(f->dev, PG, two, 2), -EINVAL);
	two[1] = (log_range){BASE - 4 * PG, 8 * PG};
	assert_int_equal(start(f->dev, PG, two, 2), -EINVAL);
	two[1] = (log_range){BASE + 4 * PG, PG};
	assert_int_equal(start(f->dev, PG, two, 2), -EINVAL);
	/* page sizes the device cannot log: not a power of 2, below 4 KiB */
	two[0] = (log_range){0x10000, 0x10000}; /* aligned to 12 KiB in the IS_ALIGNED sense */
	assert_int_equal(start(f->dev, 3 * PG, two, 1), -EINVAL);
	assert_int_equal(start(f->dev, 2048, &r, 1), -EINVAL);
	assert_int_equal(start(f->dev, 0, &r, 1), -EINVAL);
	/* nothing got started on the way */
	assert_int_equal(report(f->dev, BASE, 16 * PG, PG, bm), -EINVAL);

	/* the limit itself, adjacent ranges, then a second START */
	assert_int_equal(start(f->dev, PG, many, 256), 0);
	assert_int_equal(start(f->dev, PG, &r, 1), -EINVAL);
	assert_int_equal(stop(f->dev), 0);
	two[0] = (log_range){BASE, 16 * PG};
	two[1] = (log_range){BASE + 16 * PG, 16 * PG};
	assert_int_equal(start(f->dev, PG, two, 2), 0);
	assert_int_equal(start(f->dev, PG, two, 2), -EINVAL);
	assert_int_equal(stop(f->dev), 0);
}

static void report_stop_checks(void **state)
{
	struct fx *f = *state;
	const log_range r = {BASE, 64 * PG};
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = BASE, .length = 64 * PG, .page_size = PG};
	uint64_t bm[8] = {0};

	rep.bitmap = (uint64_t)(uintptr_t)bm;
	/* before START */
	assert_int_equal(report(f->dev, BASE, 64 * PG, PG, bm), -EINVAL);
	assert_int_equal(start(f->dev, PG, &r, 1), 0);
	/* GET only */
	assert_int_equal(report_ex(f->dev, F_SET | REPORT, BASE, 64 * PG, PG, bm), -EINVAL);
	assert_int_equal(report_ex(f->dev, REPORT, BASE, 64 * PG, PG, bm), -EINVAL);
	assert_int_equal(feature_ex(f->dev, F_GET | REPORT, &rep, sizeof(rep), sizeof(rep) - 1),
			 -EINVAL);
	assert_int_equal(report_ex(f->dev, F_GET | F_PROBE | REPORT, BASE, 64 * PG, PG, bm), 0);
	/* page size below 4 KiB or not a power of 2 */
	assert_int_equal(report(f->dev, BASE, 64 * PG, 2048, bm), -EINVAL);
	assert_int_equal(report(f->dev, BASE, 64 * PG, 3 * PG, bm), -EINVAL);
	assert_int_equal(report(f->dev, BASE, 64 * PG, 0, bm), -EINVAL);
	/* iova + length past 2^64 */
	assert_int_equal(report(f->dev, ~0ull - PG + 1, 2 * PG, PG, bm), -EOVERFLOW);
	assert_int_equal(report(f->dev, PG, ~0ull, PG, bm), -EOVERFLOW);
	assert_int_equal(report(f->dev, BASE, 64 * PG, PG, bm), 0);
	assert_true(all_zero((uint8_t *)bm, sizeof(bm)));

	/* STOP: SET only; PROBE; stopping twice; REPORT after STOP */
	assert_int_equal(feature(f->dev, F_GET | STOP, NULL, 0), -EINVAL);
	assert_int_equal(feature(f->dev, F_SET | F_PROBE | STOP, NULL, 0), 0);
	assert_int_equal(report(f->dev, BASE, 64 * PG, PG, bm), 0); /* PROBE stopped nothing */
	assert_int_equal(stop(f->dev), 0);
	assert_int_equal(report(f->dev, BASE, 64 * PG, PG, bm), -EINVAL);
	assert_int_equal(stop(f->dev), 0);
	assert_int_equal(start(f->dev, PG, &r, 1), 0);
	assert_int_equal(stop(f->dev), 0);
}

/* ---- semantics -------------------------------------------------------------------------- */

/*
 * Two logged ranges with an unlogged hole between them under the ring:
 * reported exactly (from one page below the first range, so every bit is
 * shifted), read-and-clear, nothing outside the ranges, partial reports.
 */
static void ring_exact(void **state)
{
	struct fx *f = *state;
	const log_range r[2] = {{BASE + 60 * PG, 10 * PG}, {BASE + 80 * PG, 120 * PG}};
	const uint64_t base = BASE + 59 * PG, len = 141 * PG, nbytes = (141 + 7) / 8;
	uint8_t got[32], want[32];
	struct variant m = {0};

	run(f, NULL, 3, PG, r, 2); /* before START: not logged */
	assert_int_equal(start(f->dev, PG, r, 2), 0);
	run(f, &m, 20, PG, r, 2);
	memset(got, 0, sizeof(got));
	report_ok(f->dev, base, len, PG, got);
	expect(&m, base, len, PG, want, sizeof(want));
	bits_eq(got, want, nbytes, "20 packets");
	/* the ring really did write the hole: pages 70..79 */
	assert_true(f->mem[70 * PG] != 0 || f->mem[75 * PG] != 0);
	memset(got, 0, sizeof(got));
	report_ok(f->dev, base, len, PG, got);
	assert_true(all_zero(got, sizeof(got)));

	/* wrap around the ring; then report the second range only, then everything */
	run(f, &m, 25, PG, r, 2);
	memset(got, 0, sizeof(got));
	report_ok(f->dev, r[1].iova, r[1].length, PG, got);
	expect(&m, r[1].iova, r[1].length, PG, want, sizeof(want));
	bits_eq(got, want, (120 + 7) / 8, "second range alone");
	memset(got, 0, sizeof(got));
	report_ok(f->dev, base, len, PG, got);
	expect(&m, base, len, PG, want, sizeof(want));
	bits_eq(got, want, nbytes, "the rest");
	memset(got, 0, sizeof(got));
	report_ok(f->dev, base, len, PG, got);
	assert_true(all_zero(got, sizeof(got)));

	/* STOP drops the log; a new START begins empty */
	run(f, &m, 4, PG, r, 2);
	assert_int_equal(stop(f->dev), 0);
	memset(&m, 0, sizeof(m));
	run(f, NULL, 2, PG, r, 2);
	assert_int_equal(start(f->dev, PG, r, 2), 0);
	memset(got, 0, sizeof(got));
	report_ok(f->dev, base, len, PG, got);
	assert_true(all_zero(got, sizeof(got)));
	assert_int_equal(stop(f->dev), 0);
}

/* Report page sizes coarser than the log's: a bit per report page with any dirty log page. */
static void coarser_report(void **state)
{
	static const struct {
		uint64_t log, rep;
	} cases[] = {{PG, 4 * PG}, {PG, 2 * PG}, {2 * PG, 8 * PG}, {PG, 64 * PG}};
	struct fx *f = *state;
	const uint64_t base = BASE, len = 256 * PG;
	uint8_t got[40], want[40];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const log_range r[2] = {{BASE + 64 * PG, 8 * PG}, {BASE + 80 * PG, 16 * PG}};
		uint64_t nbytes = (len / cases[i].rep + 7) / 8;
		struct variant m = {0};
		char what[64];

		assert_int_equal(start(f->dev, cases[i].log, r, 2), 0);
		run(f, &m, 24, cases[i].log, r, 2);
		memset(got, 0, sizeof(got));
		report_ok(f->dev, base, len, cases[i].rep, got);
		expect(&m, base, len, cases[i].rep, want, sizeof(want));
		snprintf(what, sizeof(what), "log %llu, report %llu",
			 (unsigned long long)cases[i].log, (unsigned long long)cases[i].rep);
		bits_eq(got, want, nbytes, what);
		assert_true(all_zero(got + nbytes, sizeof(got) - nbytes));
		memset(got, 0, sizeof(got));
		report_ok(f->dev, base, len, cases[i].rep, got);
		assert_true(all_zero(got, sizeof(got)));
		assert_int_equal(stop(f->dev), 0);
	}
}

/* User bitmaps at odd byte addresses: bits set byte-wise, neighbours and old bits kept. */
static void unaligned_user_bitmap(void **state)
{
	static const size_t offs[] = {1, 3, 5, 0xff1};
	struct fx *f = *state;
	const log_range r = {BASE + 56 * PG, 64 * PG};
	const uint64_t base = BASE + 55 * PG, len = 70 * PG, nbytes = (70 + 7) / 8;
	uint8_t *raw = malloc(2 * PG), want[16];
	size_t i, j;

	assert_non_null(raw);
	assert_int_equal(start(f->dev, PG, &r, 1), 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint8_t *data = raw + 8 + offs[i];
		struct variant m = {0};
		char what[64];

		run(f, &m, 30, PG, &r, 1);
		memset(raw, 0xee, 2 * PG);
		for (j = 0; j < nbytes; j++)
			data[j] = (uint8_t)(0x11 << (j % 3));
		report_ok(f->dev, base, len, PG, data);
		expect(&m, base, len, PG, want, sizeof(want));
		for (j = 0; j < nbytes; j++)
			want[j] |= (uint8_t)(0x11 << (j % 3));
		snprintf(what, sizeof(what), "bitmap at +%#zx", offs[i]);
		bits_eq(data, want, nbytes, what);
		assert_int_equal(data[-1], 0xee);
		assert_int_equal(data[nbytes], 0xee);
	}
	assert_int_equal(stop(f->dev), 0);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_logging_enotty, setup, teardown),
		cmocka_unit_test_setup_teardown(start_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(report_stop_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(ring_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(coarser_report, setup, teardown),
		cmocka_unit_test_setup_teardown(unaligned_user_bitmap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
