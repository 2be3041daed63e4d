// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM and vCPU dirty tracking: a memfd mapped twice, the vCPU mapping
 * write-protected with userfaultfd in async mode and harvested with
 * PAGEMAP_SCAN (see guest_mem.h).
 *
 * What the kernel needs, and why:
 *  - UFFD_FEATURE_WP_ASYNC (6.7): a write to a protected page is resolved by
 *    the kernel, which only clears the PTE's uffd-wp bit; nobody reads the
 *    uffd. PAGEMAP_SCAN's PAGE_IS_WRITTEN is exactly "uffd-wp bit clear".
 *  - UFFD_FEATURE_WP_HUGETLBFS_SHMEM (6.1): memfd memory is shmem, and
 *    registering a shmem range in WP mode is refused without it.
 *  - UFFD_FEATURE_WP_UNPOPULATED (6.4) when offered: the protection then
 *    also covers PTEs that are not populated. Guest RAM is populated and
 *    locked, so it is belt and braces, not a requirement.
 *  - PAGEMAP_SCAN (6.7) with PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC:
 *    report the written pages and protect them again under the same PTE
 *    lock, so a write racing with the harvest is never lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfmig/uapi.h"
#include "memory/guest_mem.h"
#include "vfmig/usdt.h"

#define GM_VEC_DEFAULT 4096 /* page_region entries per PAGEMAP_SCAN call: 96 KiB */
#define GM_NEED_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_HUGETLBFS_SHMEM)

struct guest_mem {
	int memfd;
	int uffd;	/* -1 while not tracking */
	int pagemap_fd; /* /proc/self/pagemap, -1 while not tracking */
	uint8_t *vcpu, *dma;
	uint64_t size, pages;
	size_t psz;
	struct page_region *vec;
	size_t vec_len;
	char err[256];
};

/* Test hook state: features the probe pretends the kernel lacks. */
static uint64_t hidden_features;
static bool hidden_pagemap_scan;

static void set_err(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
}

static int fail_buf(char *err, size_t errlen, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct guest_mem *g, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_buf(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_err(err, errlen, fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

static int fail(struct guest_mem *g, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_err(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

/* ---- kernel support ----------------------------------------------------- */

/*
 * Unprivileged callers get userfaultfd only for user-mode faults when
 * vm.unprivileged_userfaultfd is 0; our faults are all user-mode writes.
 */
static int uffd_open(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == EPERM)
		fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	return fd;
}

static int uffd_open_err(char *err, size_t errlen)
{
	if (errno == ENOSYS)
		return fail_buf(err, errlen, ENOSYS,
				"kernel lacks userfaultfd (CONFIG_USERFAULTFD is off)");
	return fail_buf(err, errlen, errno,
			"userfaultfd: %s (vm.unprivileged_userfaultfd=0? run as root)",
			strerror(errno));
}

/* The API handshake can be done once per fd, so asking costs an fd of its own. */
static int uffd_features(uint64_t *features, char *err, size_t errlen)
{
	struct uffdio_api api = {.api = UFFD_API};
	int fd = uffd_open();

	if (fd < 0)
		return uffd_open_err(err, errlen);
	if (ioctl(fd, UFFDIO_API, &api)) {
		int e = errno;

		close(fd);
		return fail_buf(err, errlen, e, "UFFDIO_API: %s", strerror(e));
	}
	close(fd);
	*features = api.features & ~hidden_features;
	return 0;
}

static int check_features(uint64_t features, char *err, size_t errlen)
{
	if (!(features & UFFD_FEATURE_WP_ASYNC))
		return fail_buf(err, errlen, EOPNOTSUPP,
				"kernel lacks userfaultfd WP_ASYNC (needs Linux 6.7+)");
	if (!(features & UFFD_FEATURE_WP_HUGETLBFS_SHMEM))
		return fail_buf(err, errlen, EOPNOTSUPP, "kernel lacks userfaultfd %s (needs %s)",
				"WP_HUGETLBFS_SHMEM, write-protect of shmem",
				"Linux 6.1+ with CONFIG_PTE_MARKER_UFFD_WP");
	return 0;
}

/* A read-only scan of one page: ENOTTY or EINVAL means no PAGEMAP_SCAN. */
static int probe_pagemap_scan(int pagemap_fd, void *page, char *err, size_t errlen)
{
	struct page_region r;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = (uintptr_t)page,
		.end = (uintptr_t)page + 1,
		.vec = (uintptr_t)&r,
		.vec_len = 1,
		.return_mask = PAGE_IS_PRESENT,
	};
	int e;

	if (!hidden_pagemap_scan && ioctl(pagemap_fd, PAGEMAP_SCAN, &a) >= 0)
		return 0;
	e = hidden_pagemap_scan ? ENOTTY : errno;
	if (e == ENOTTY || e == EINVAL)
		return fail_buf(err, errlen, EOPNOTSUPP, "kernel lacks %s (needs Linux 6.7+)",
				"PAGEMAP_SCAN on /proc/self/pagemap");
	return fail_buf(err, errlen, e, "PAGEMAP_SCAN: %s", strerror(e));
}

static int open_pagemap(char *err, size_t errlen)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail_buf(err, errlen, errno, "/proc/self/pagemap: %s", strerror(errno));
	return fd;
}

int guest_mem_probe(char *err, size_t errlen)
{
	size_t psz = sysconf(_SC_PAGESIZE);
	uint64_t features;
	void *page;
	int fd, ret;

	if (uffd_features(&features, err, errlen) || check_features(features, err, errlen))
		return -1;
	fd = open_pagemap(err, errlen);
	if (fd < 0)
		return -1;
	page = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		close(fd);
		return fail_buf(err, errlen, errno, "mmap: %s", strerror(errno));
	}
	ret = probe_pagemap_scan(fd, page, err, errlen);
	munmap(page, psz);
	close(fd);
	return ret;
}

void guest_mem_test_hide(uint64_t uffd_features, bool no_pagemap_scan)
{
	hidden_features = uffd_features;
	hidden_pagemap_scan = no_pagemap_scan;
}

/* ---- creation ------------------------------------------------------------ */

/*
 * mlock() may exceed a soft RLIMIT_MEMLOCK that the hard limit allows: raise
 * it once and retry before giving up, since unlocked guest RAM could be
 * reclaimed and a reclaimed written page would vanish from the dirty log.
 */
static int lock_range(struct guest_mem *g, void *p, const char *what)
{
	struct rlimit rl = {0, 0};
	int e;

	if (!mlock(p, g->size))
		return 0;
	if ((errno == ENOMEM || errno == EPERM) && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (!setrlimit(RLIMIT_MEMLOCK, &rl) && !mlock(p, g->size))
			return 0;
	}
	e = errno;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	return fail(g, e,
		    "mlock of the %s mapping (%llu MiB) failed: %s; RLIMIT_MEMLOCK is %lld KiB, "
		    "raise it (ulimit -l) or run as root",
		    what, (unsigned long long)(g->size >> 20), strerror(e),
		    rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)(rl.rlim_cur >> 10));
}

/*
 * THP off before the pages exist, then fault every PTE in writable, then
 * lock. DONTFORK: a fork()ed child (say, a migration destination) must get
 * guest RAM of its own, never silently share the source's.
 */
static int map_one(struct guest_mem *g, uint8_t **out, const char *what)
{
	void *p = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);

	if (p == MAP_FAILED)
		return fail(g, errno, "mmap of the %s mapping: %s", what, strerror(errno));
	*out = p;
	if (madvise(p, g->size, MADV_NOHUGEPAGE) || madvise(p, g->size, MADV_DONTFORK))
		return fail(g, errno, "madvise(NOHUGEPAGE, DONTFORK) on the %s mapping: %s", what,
			    strerror(errno));
	if (madvise(p, g->size, MADV_POPULATE_WRITE))
		return fail(g, errno, "populating the %s mapping (%llu MiB): %s", what,
			    (unsigned long long)(g->size >> 20), strerror(errno));
	return lock_range(g, p, what);
}

static int mem_init(struct guest_mem *g, uint64_t size)
{
	if (!size || size % g->psz || size > SIZE_MAX / 2)
		return fail(g, EINVAL, "guest RAM size %llu is not a non-zero multiple of %zu",
			    (unsigned long long)size, g->psz);
	g->size = size;
	g->pages = size / g->psz;
	g->memfd = memfd_create("vfmig-guest-ram", MFD_CLOEXEC);
	if (g->memfd < 0)
		return fail(g, errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(g->memfd, size))
		return fail(g, errno, "ftruncate of the guest memfd to %llu bytes: %s",
			    (unsigned long long)size, strerror(errno));
	if (map_one(g, &g->vcpu, "vCPU") || map_one(g, &g->dma, "DMA"))
		return -1;
	g->vec_len = GM_VEC_DEFAULT;
	g->vec = calloc(g->vec_len, sizeof(*g->vec));
	if (!g->vec)
		return fail(g, ENOMEM, "out of memory");
	return 0;
}

struct guest_mem *guest_mem_create(uint64_t size, char *err, size_t errlen)
{
	struct guest_mem *g = calloc(1, sizeof(*g));
	int e;

	if (!g) {
		fail_buf(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	g->memfd = g->uffd = g->pagemap_fd = -1;
	g->psz = sysconf(_SC_PAGESIZE);
	if (!mem_init(g, size))
		return g;
	e = errno;
	if (err && errlen)
		snprintf(err, errlen, "%s", g->err);
	guest_mem_destroy(g);
	errno = e;
	return NULL;
}

void guest_mem_destroy(struct guest_mem *g)
{
	if (!g)
		return;
	guest_mem_track_stop(g);
	if (g->vcpu)
		munmap(g->vcpu, g->size);
	if (g->dma)
		munmap(g->dma, g->size);
	if (g->memfd >= 0)
		close(g->memfd);
	free(g->vec);
	free(g);
}

void *guest_mem_vcpu(const struct guest_mem *g)
{
	return g->vcpu;
}

void *guest_mem_dma(const struct guest_mem *g)
{
	return g->dma;
}

uint64_t guest_mem_size(const struct guest_mem *g)
{
	return g->size;
}

uint64_t guest_mem_pages(const struct guest_mem *g)
{
	return g->pages;
}

size_t guest_mem_page_size(const struct guest_mem *g)
{
	return g->psz;
}

int guest_mem_fd(const struct guest_mem *g)
{
	return g->memfd;
}

const char *guest_mem_error(const struct guest_mem *g)
{
	return g->err;
}

bool guest_mem_tracking(const struct guest_mem *g)
{
	return g->uffd >= 0;
}

int guest_mem_set_scan_vec(struct guest_mem *g, size_t entries)
{
	struct page_region *vec;

	if (!entries)
		return fail(g, EINVAL, "the PAGEMAP_SCAN output array needs at least one entry");
	vec = realloc(g->vec, entries * sizeof(*vec));
	if (!vec)
		return fail(g, ENOMEM, "out of memory");
	g->vec = vec;
	g->vec_len = entries;
	return 0;
}

/* ---- dirty tracking ------------------------------------------------------ */

static int uffd_setup(struct guest_mem *g)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {
		.range = {.start = (uintptr_t)g->vcpu, .len = g->size},
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	uint64_t features;

	if (uffd_features(&features, g->err, sizeof(g->err)) ||
	    check_features(features, g->err, sizeof(g->err)))
		return -1;
	api.features = GM_NEED_FEATURES | (features & UFFD_FEATURE_WP_UNPOPULATED);
	g->uffd = uffd_open();
	if (g->uffd < 0)
		return uffd_open_err(g->err, sizeof(g->err));
	if (ioctl(g->uffd, UFFDIO_API, &api))
		return fail(g, errno, "UFFDIO_API(WP_ASYNC | WP_HUGETLBFS_SHMEM): %s",
			    strerror(errno));
	if (ioctl(g->uffd, UFFDIO_REGISTER, &reg))
		return fail(g, errno, "UFFDIO_REGISTER(MODE_WP) of the vCPU mapping: %s",
			    strerror(errno));
	if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT)))
		return fail(g, EOPNOTSUPP, "kernel offers no UFFDIO_WRITEPROTECT on shmem");
	return 0;
}

/* Arming protects every page, written or not: the log starts empty. */
static int arm_all(struct guest_mem *g)
{
	struct uffdio_writeprotect wp = {
		.range = {.start = (uintptr_t)g->vcpu, .len = g->size},
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	if (ioctl(g->uffd, UFFDIO_WRITEPROTECT, &wp))
		return fail(g, errno, "UFFDIO_WRITEPROTECT of the vCPU mapping: %s",
			    strerror(errno));
	return 0;
}

int guest_mem_track_start(struct guest_mem *g)
{
	if (guest_mem_tracking(g))
		return fail(g, EBUSY, "dirty tracking is already on");
	g->pagemap_fd = open_pagemap(g->err, sizeof(g->err));
	if (g->pagemap_fd < 0 ||
	    probe_pagemap_scan(g->pagemap_fd, g->vcpu, g->err, sizeof(g->err)) || uffd_setup(g) ||
	    arm_all(g)) {
		int e = errno;

		guest_mem_track_stop(g);
		errno = e;
		return -1;
	}
	EMU_PROBE2(wp_arm, (uintptr_t)g->vcpu, g->size);
	return 0;
}

void guest_mem_track_stop(struct guest_mem *g)
{
	struct uffdio_range range = {.start = (uintptr_t)g->vcpu, .len = g->size};

	if (g->uffd >= 0) {
		EMU_PROBE2(wp_disarm, (uintptr_t)g->vcpu, g->size);
		/* Closing the uffd unregisters too; doing it first keeps it explicit. */
		ioctl(g->uffd, UFFDIO_UNREGISTER, &range);
		close(g->uffd);
		g->uffd = -1;
	}
	if (g->pagemap_fd >= 0) {
		close(g->pagemap_fd);
		g->pagemap_fd = -1;
	}
}

static void bitmap_set_range(uint64_t *bm, uint64_t first, uint64_t n)
{
	uint64_t end = first + n;

	while (first < end) {
		uint64_t bit = first % 64, span = 64 - bit;

		if (span > end - first)
			span = end - first;
		bm[first / 64] |= span == 64 ? ~0ULL : ((1ULL << span) - 1) << bit;
		first += span;
	}
}

/*
 * One walk over the vCPU range. When the output array fills up, the kernel
 * stops at walk_end, before the first page it could not report, and leaves
 * that page and those after it as they were: the next call resumes there.
 */
int guest_mem_harvest(struct guest_mem *g, uint64_t *bitmap, uint64_t *ndirty)
{
	uint64_t base = (uintptr_t)g->vcpu, count = 0;
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = base,
		.end = base + g->size,
		.vec = (uintptr_t)g->vec,
		.vec_len = g->vec_len,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};

	if (!guest_mem_tracking(g))
		return fail(g, EINVAL,
			    "harvest without dirty tracking: call guest_mem_track_start");
	while (a.start < a.end) {
		int n = ioctl(g->pagemap_fd, PAGEMAP_SCAN, &a);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(g, errno, "PAGEMAP_SCAN(WP_MATCHING): %s", strerror(errno));
		if (!n && a.walk_end <= a.start)
			return fail(g, EIO, "PAGEMAP_SCAN made no progress at %#llx",
				    (unsigned long long)a.start);
		for (int i = 0; i < n; i++) {
			uint64_t first = (g->vec[i].start - base) / g->psz;
			uint64_t len = (g->vec[i].end - g->vec[i].start) / g->psz;

			bitmap_set_range(bitmap, first, len);
			count += len;
		}
		a.start = a.walk_end;
	}
	*ndirty = count;
	EMU_PROBE3(harvest, base, count, g->size);
	return 0;
}
