// SPDX-License-Identifier: GPL-2.0
/*
 * Runs inside the vmtest guest: vfio_pin_pages()/vfio_unpin_pages() for
 * real, through vfmig's test device (tests/vmtest/kmod), and type1's
 * pinned-page dirty tracking. The pin probes (fexit/fentry on this kernel,
 * kprobes when preferred) must count exactly the calls and pages the device
 * made, and the type1 bitmap decoder exactly the pages the kernel reported,
 * which must be the pages pinned while tracking was on.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "common/bitmap.h"
#include "kmod/vfmig_dmadev.h"
#include "probe/aggregate.h"
#include "vfio_real.h"

#define IOVA (1ull << 32)
#define SIZE (4ull << 20)
#define PAGES (SIZE / 4096)

static struct vfmig_probes *probes;
static struct real_dev dmadev;
static void *mem;

static int setup(void **state)
{
	struct probe_opts o = {.pid = getpid()};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = IOVA,
		.size = SIZE,
	};
	char err[256];

	(void)state;
	if (probes_open(&probes, &o, err, sizeof(err))) {
		fprintf(stderr, "probes_open: %s\n", err);
		return -1;
	}
	if (real_open(&dmadev, VMTEST_DMADEV, -1))
		return -1;
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	map.vaddr = (uintptr_t)mem;
	return ioctl(dmadev.container, VFIO_IOMMU_MAP_DMA, &map) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	real_close(&dmadev);
	munmap(mem, SIZE);
	probes_close(probes);
	return 0;
}

static uint64_t counter(int idx)
{
	return probe_counter(probes, idx);
}

static long dev_op(unsigned long cmd, uint64_t page, uint32_t npage)
{
	struct vfmig_dmadev_op op = {.iova = IOVA + page * 4096, .npage = npage};
	long ret = ioctl(dmadev.fd, cmd, &op);

	return ret < 0 ? -errno : ret;
}

/* GET_BITMAP over the whole mapping; returns the dirty pages the kernel reported. */
static int get_bitmap(uint64_t *bits)
{
	memset(bits, 0, PAGES / 8);
	assert_int_equal(real_get_bitmap(dmadev.container, IOVA, SIZE, bits), 0);
	return bitmap_weight(bits, PAGES);
}

static const struct {
	uint64_t page;
	uint32_t npage;
} pins[] = {
	{0, 1}, {10, 17}, {100, 512}, {1000, 3}, {PAGES - 2, 2},
};

#define NPINS (sizeof(pins) / sizeof(pins[0]))

static void pin_sources(struct vfmig_probes *p, struct probe_sources *s)
{
	probe_sources(p, VFMIG_EV_PIN, VFMIG_EV_UNPIN, s);
}

/*
 * The test device pins and unpins; each of the probe sets given counts
 * exactly those calls and pages. Returns the vfio_pin_pages and
 * vfio_unpin_pages calls made, the refused pin and the last unpins with them.
 */
static size_t pins_counted(struct vfmig_probes **ps, size_t nps, uint64_t *pinned,
			   uint64_t *unpinned)
{
	uint64_t calls0[2], pages0[2], ucalls0[2], upages0[2];
	size_t i, k;

	assert_true(nps <= 2);
	*pinned = *unpinned = 0;
	for (k = 0; k < nps; k++) {
		calls0[k] = probe_counter(ps[k], VFMIG_C_PIN_CALLS);
		pages0[k] = probe_counter(ps[k], VFMIG_C_PAGES_PINNED);
		ucalls0[k] = probe_counter(ps[k], VFMIG_C_UNPIN_CALLS);
		upages0[k] = probe_counter(ps[k], VFMIG_C_PAGES_UNPINNED);
	}
	for (i = 0; i < NPINS; i++) {
		assert_int_equal(dev_op(VFMIG_DMADEV_PIN, pins[i].page, pins[i].npage),
				 pins[i].npage);
		*pinned += pins[i].npage;
	}
	/* a pin past the mapping is refused by type1, and counted as an error */
	assert_true(dev_op(VFMIG_DMADEV_PIN, PAGES, 1) < 0);
	for (i = 0; i < NPINS; i += 2) {
		assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, pins[i].page, pins[i].npage), 0);
		*unpinned += pins[i].npage;
	}
	for (k = 0; k < nps; k++) {
		assert_int_equal(probe_counter(ps[k], VFMIG_C_PIN_CALLS) - calls0[k], NPINS + 1);
		assert_int_equal(probe_counter(ps[k], VFMIG_C_PAGES_PINNED) - pages0[k], *pinned);
		assert_int_equal(probe_counter(ps[k], VFMIG_C_UNPIN_CALLS) - ucalls0[k],
				 (NPINS + 1) / 2);
		assert_int_equal(probe_counter(ps[k], VFMIG_C_PAGES_UNPINNED) - upages0[k],
				 *unpinned);
	}
	assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, 0, 512), 0);
	assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, PAGES - 512, 512), 0);
	assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, 512, 512), 0);
	return NPINS + 1 + NPINS; /* the device lets go of each pin it holds by one unpin */
}

static void test_pins_and_unpins_counted(void **state)
{
	struct probe_sources src = {0};
	uint64_t pinned, unpinned;
	size_t calls;

	(void)state;
	pin_sources(probes, &src);
	calls = pins_counted(&probes, 1, &pinned, &unpinned);
	pin_sources(probes, &src);
	assert_int_equal(src.fentry, calls);
	assert_int_equal(src.kprobe + src.syscall + src.other, 0);
	vmtest_report("pins: %zu vfio_pin_pages calls (%llu pages) and %zu vfio_unpin_pages "
		      "(%llu pages) by the test device, counted exactly by the pin probes "
		      "(fexit/fentry: all %u events)",
		      NPINS + 1, (unsigned long long)pinned, (NPINS + 1) / 2,
		      (unsigned long long)unpinned, src.fentry);
}

/*
 * --prefer kprobe: a second set of probes on kprobe + kretprobe counts the
 * same pins as the first on fexit/fentry, both exactly.
 */
static void test_kprobe_pins_counted(void **state)
{
	struct probe_opts o = {.pid = getpid(), .prefer = PREFER_KPROBE};
	struct vfmig_probes *both[2] = {probes, NULL};
	struct probe_sources src = {0}, fsrc = {0};
	uint64_t pinned, unpinned;
	char err[256];
	size_t calls;
	static const char *const on[] = {"kprobe__vfio_pin_pages", "kretprobe__vfio_pin_pages",
					 "kprobe__vfio_unpin_pages"};
	static const char *const off[] = {"fexit__vfio_pin_pages", "fentry__vfio_unpin_pages"};
	const struct probe_row *r;
	size_t i;

	(void)state;
	if (probes_open(&both[1], &o, err, sizeof(err)))
		fail_msg("probes_open --prefer kprobe: %s", err);
	for (i = 0; i < 3; i++) {
		r = probe_row(both[1], NULL, on[i]);
		assert_non_null(r);
		assert_true(r->attached);
	}
	for (i = 0; i < 2; i++) {
		r = probe_row(both[1], NULL, off[i]);
		assert_non_null(r);
		assert_false(r->attached);
		assert_non_null(strstr(r->reason, "kprobe is used"));
	}
	pin_sources(probes, &fsrc);
	pin_sources(both[1], &src);
	calls = pins_counted(both, 2, &pinned, &unpinned);
	pin_sources(probes, &fsrc);
	pin_sources(both[1], &src);
	assert_int_equal(src.kprobe, calls);
	assert_int_equal(src.fentry + src.syscall + src.other, 0);
	assert_int_equal(fsrc.fentry, calls);
	vmtest_report("pins --prefer kprobe: kprobe+kretprobe on vfio_pin_pages and kprobe on "
		      "vfio_unpin_pages count the same %zu pin calls (%llu pages) and %zu "
		      "unpins (%llu pages) as fexit/fentry, both exactly (%u kprobe events, %u "
		      "fentry)",
		      NPINS + 1, (unsigned long long)pinned, (NPINS + 1) / 2,
		      (unsigned long long)unpinned, src.kprobe, fsrc.fentry);
	probes_close(both[1]);
}

/* Pages pinned while dirty tracking is on are what type1 reports, and what vfmig counts. */
static void test_pinned_pages_are_the_dirty_bitmap(void **state)
{
	static uint64_t bits[PAGES / 64];
	uint64_t q0 = counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1);
	uint64_t d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1);
	uint64_t pinned = 0;
	int reported, first;
	size_t i;

	(void)state;
	assert_int_equal(real_dirty_pages(dmadev.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	first = get_bitmap(bits); /* nothing pinned yet: type1 reports pinned pages only */
	for (i = 0; i < NPINS; i++) {
		assert_int_equal(dev_op(VFMIG_DMADEV_PIN, pins[i].page, pins[i].npage),
				 pins[i].npage);
		pinned += pins[i].npage;
	}
	reported = get_bitmap(bits);
	for (i = 0; i < NPINS; i++)
		assert_true(bits[pins[i].page / 64] & (1ull << (pins[i].page % 64)));
	assert_int_equal(reported, pinned);
	assert_int_equal(counter(VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1) - q0, 2);
	assert_int_equal(first, 0);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1) - d0, first + reported);
	assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, 0, 512), 0);
	assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, 512, 512), 0);
	assert_int_equal(dev_op(VFMIG_DMADEV_UNPIN, PAGES - 512, 512), 0);
	assert_int_equal(real_dirty_pages(dmadev.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
	vmtest_report("type1: %llu pages pinned under DIRTY_PAGES tracking, %d reported dirty by "
		      "GET_BITMAP, %d counted by the decoder",
		      (unsigned long long)pinned, reported, reported);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pins_and_unpins_counted),
		cmocka_unit_test(test_kprobe_pins_counted),
		cmocka_unit_test(test_pinned_pages_are_the_dirty_bitmap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
