// SPDX-License-Identifier: GPL-2.0
/*
 * Runs inside the vmtest guest: a PCI device (QEMU's edu) bound to vfio-pci
 * behind QEMU's VT-d IOMMU, so that type1 MAP_DMA/UNMAP_DMA program a real
 * IOMMU domain and the iommu:map/unmap tracepoints fire. The iommu family
 * must count as VFIO's exactly the bytes the ioctls mapped and unmapped, and
 * a non-mdev container's dirty bitmap (every mapped page: no pinned-page
 * scope) must be counted whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "common/bitmap.h"
#include "probe/aggregate.h"
#include "vfio_real.h"

#define IOVA (1ull << 33)
#define SIZE (8ull << 20)
#define PAGES (SIZE / 4096)

static struct vfmig_probes *probes;
static struct real_dev edu;
static char bdf[32];

static int setup(void **state)
{
	struct probe_opts o = {.pid = getpid()};
	FILE *f = fopen("/tmp/edu", "r");
	char err[256];
	int ret;

	(void)state;
	if (!f || !fgets(bdf, sizeof(bdf), f)) {
		fprintf(stderr, "no edu device bound to vfio-pci (tests/vmtest/init)\n");
		return -1;
	}
	fclose(f);
	bdf[strcspn(bdf, "\n")] = 0;
	ret = real_open_pci(&edu, bdf, -1);
	if (ret) {
		fprintf(stderr, "open %s through vfio-pci: %s\n", bdf, strerror(-ret));
		return -1;
	}
	if (probes_open(&probes, &o, err, sizeof(err))) {
		fprintf(stderr, "probes_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	probes_close(probes);
	real_close(&edu);
	return 0;
}

#define TRACING "/sys/kernel/tracing/"

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The kernel's own record of the same tracepoints (ftrace), an independent ground truth. */
struct ftrace_truth {
	uint64_t maps, map_bytes, unmaps, unmap_bytes;
};

static void ftrace_start(void)
{
	write_file(TRACING "events/iommu/map/enable", "1");
	write_file(TRACING "events/iommu/unmap/enable", "1");
	write_file(TRACING "trace", "");
}

static struct ftrace_truth ftrace_read(void)
{
	struct ftrace_truth t = {};
	FILE *f = fopen(TRACING "trace", "r");
	char line[512], me[32], *p;
	unsigned long long v;

	assert_non_null(f);
	snprintf(me, sizeof(me), "-%d ", getpid());
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, me))
			continue;
		if ((p = strstr(line, " map: IOMMU:")) && (p = strstr(p, " size=")) &&
		    sscanf(p, " size=%llu", &v) == 1) {
			t.maps++;
			t.map_bytes += v;
		} else if ((p = strstr(line, " unmap: IOMMU:")) &&
			   (p = strstr(p, "unmapped_size=")) &&
			   sscanf(p, "unmapped_size=%llu", &v) == 1) {
			t.unmaps++;
			t.unmap_bytes += v;
		}
	}
	fclose(f);
	write_file(TRACING "events/iommu/map/enable", "0");
	write_file(TRACING "events/iommu/unmap/enable", "0");
	return t;
}

static uint64_t counter(int idx)
{
	return probe_counter(probes, idx);
}

/* What the caller measured around each map/unmap ioctl: count, sum and max, per kind. */
static struct caller_clock {
	uint64_t n, sum_ns, max_ns;
} caller[2];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int timed_ioctl(int unmap, unsigned long cmd, void *arg)
{
	uint64_t t0 = now_ns(), d;
	int ret = ioctl(edu.container, cmd, arg);

	d = now_ns() - t0;
	caller[unmap].n++;
	caller[unmap].sum_ns += d;
	if (d > caller[unmap].max_ns)
		caller[unmap].max_ns = d;
	return ret;
}

/* The probes' map latency histograms, summed over devices: count, sum, max per kind. */
static void probe_clock(struct caller_clock out[2])
{
	static struct agg_hist h[1024];
	int i, n = agg_hists(probes, h, 1024);

	memset(out, 0, 2 * sizeof(*out));
	for (i = 0; i < n; i++) {
		struct caller_clock *c = &out[h[i].key.from & 1];

		if (h[i].key.kind != VFMIG_H_MAP || h[i].key.to != VFMIG_IFACE_TYPE1)
			continue;
		c->n += h[i].h.count;
		c->sum_ns += h[i].h.sum_ns;
		if (h[i].h.max_ns > c->max_ns)
			c->max_ns = h[i].h.max_ns;
	}
}

static void *map_dma(uint64_t iova, uint64_t size)
{
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)mem,
		.iova = iova,
		.size = size,
	};

	assert_true(mem != MAP_FAILED);
	assert_int_equal(timed_ioctl(0, VFIO_IOMMU_MAP_DMA, &map), 0);
	return mem;
}

static uint64_t unmap_dma(uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size};

	assert_int_equal(timed_ioctl(1, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	return unmap.size;
}

/* Calls and bytes of iommu:map/unmap equal ftrace's record of them, and the ioctls' sizes. */
static void test_map_and_unmap_bytes_are_vfios(void **state)
{
	uint64_t mc0 = counter(VFMIG_C_MAP_CALLS), mb0 = counter(VFMIG_C_MAP_BYTES);
	uint64_t uc0 = counter(VFMIG_C_UNMAP_CALLS), ub0 = counter(VFMIG_C_UNMAP_BYTES);
	uint64_t hm0 = counter(VFMIG_C_HOST_MAP_CALLS), unmapped = 0;
	struct caller_clock seen[2];
	struct ftrace_truth t;
	int k;
	void *a, *b;

	(void)state;
	ftrace_start();
	a = map_dma(IOVA, SIZE);
	b = map_dma(IOVA + 2 * SIZE, SIZE / 2);
	unmapped += unmap_dma(IOVA, SIZE);
	unmapped += unmap_dma(IOVA + 2 * SIZE, SIZE / 2);
	t = ftrace_read();
	munmap(a, SIZE);
	munmap(b, SIZE / 2);
	assert_int_equal(t.map_bytes, SIZE + SIZE / 2);
	assert_int_equal(t.unmap_bytes, unmapped);
	assert_int_equal(unmapped, SIZE + SIZE / 2);
	assert_int_equal(counter(VFMIG_C_MAP_CALLS) - mc0, t.maps);
	assert_int_equal(counter(VFMIG_C_MAP_BYTES) - mb0, t.map_bytes);
	assert_int_equal(counter(VFMIG_C_UNMAP_CALLS) - uc0, t.unmaps);
	assert_int_equal(counter(VFMIG_C_UNMAP_BYTES) - ub0, t.unmap_bytes);
	/* all of them happened inside VFIO's ioctls: none counted as the host's */
	assert_int_equal(counter(VFMIG_C_HOST_MAP_CALLS) - hm0, 0);
	/* one latency sample per ioctl, each inside the time its caller saw it take */
	probe_clock(seen);
	for (k = 0; k < 2; k++) {
		assert_int_equal(seen[k].n, caller[k].n);
		assert_true(seen[k].sum_ns > 0 && seen[k].sum_ns <= caller[k].sum_ns);
		assert_true(seen[k].max_ns <= caller[k].max_ns);
	}
	vmtest_report(
		"iommu: vfio-pci (edu) behind VT-d: MAP_DMA %llu KiB in %llu iommu:map calls, "
		"UNMAP_DMA %llu KiB in %llu iommu:unmap calls, counted as VFIO's exactly as "
		"ftrace recorded them; %llu map and %llu unmap latencies within the caller's clock",
		(unsigned long long)t.map_bytes >> 10, (unsigned long long)t.maps,
		(unsigned long long)t.unmap_bytes >> 10, (unsigned long long)t.unmaps,
		(unsigned long long)seen[0].n, (unsigned long long)seen[1].n);
}

/* A container with an IOMMU-backed group reports every mapped page dirty. */
static void test_unscoped_bitmap_counted_whole(void **state)
{
	static uint64_t bits[PAGES / 64];
	uint64_t d0 = counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1);
	unsigned int truth;
	void *mem;

	(void)state;
	mem = map_dma(IOVA, SIZE);
	assert_int_equal(real_dirty_pages(edu.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	assert_int_equal(real_get_bitmap(edu.container, IOVA, SIZE, bits), 0);
	truth = bitmap_weight(bits, PAGES);
	assert_int_equal(truth, PAGES);
	assert_int_equal(counter(VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1) - d0, truth);
	assert_int_equal(real_dirty_pages(edu.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
	assert_int_equal(unmap_dma(IOVA, SIZE), SIZE);
	munmap(mem, SIZE);
	vmtest_report("type1 with an IOMMU-backed group: GET_BITMAP reports all %u mapped pages "
		      "dirty, counted so",
		      truth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_and_unmap_bytes_are_vfios),
		cmocka_unit_test(test_unscoped_bitmap_counted_whole),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
