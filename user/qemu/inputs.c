// SPDX-License-Identifier: GPL-2.0
/*
 * The predictor's inputs read from a running QEMU. Only queries: no migrate,
 * no migrate-set-parameters, no capability change; calc-dirty-rate only in
 * page-sampling mode (dirty-bitmap and dirty-ring crash 7.2 under TCG).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "qemu/inputs.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_PFN_MASK ((1ULL << 55) - 1)

bool qemu_cap_on(const struct qemu_inputs *in, const char *name)
{
	for (unsigned i = 0; i < in->ncaps; i++)
		if (!strcmp(in->caps[i].name, name))
			return in->caps[i].on;
	return false;
}

static int read_status(struct qmp *q, char *status, size_t len, bool *running)
{
	json_object *r = qmp_execute(q, "query-status", NULL);

	if (!r)
		return -1;
	snprintf(status, len, "%s", qmp_get_str(r, "status", "?"));
	*running = qmp_get_bool(r, "running", false);
	json_object_put(r);
	return 0;
}

int qemu_require_running(struct qmp *q)
{
	char status[32];
	bool running;

	if (read_status(q, status, sizeof(status), &running))
		return -1;
	if (running)
		return 0;
	snprintf(q->err, sizeof(q->err), "qmp %s: QEMU is not running its guest (status %s)",
		 q->path, status);
	return -1;
}

static int read_caps(struct qmp *q, struct qemu_inputs *in)
{
	json_object *r = qmp_execute(q, "query-migrate-capabilities", NULL);
	size_t n;

	if (!r)
		return -1;
	n = json_object_is_type(r, json_type_array) ? json_object_array_length(r) : 0;
	for (size_t i = 0; i < n && in->ncaps < QEMU_CAPS_MAX; i++) {
		json_object *c = json_object_array_get_idx(r, i);
		struct qemu_cap *cap = &in->caps[in->ncaps++];

		snprintf(cap->name, sizeof(cap->name), "%s", qmp_get_str(c, "capability", "?"));
		cap->on = qmp_get_bool(c, "state", false);
	}
	json_object_put(r);
	return 0;
}

int qemu_read_inputs(struct qmp *q, struct qemu_inputs *in)
{
	json_object *r;

	memset(in, 0, sizeof(*in));
	r = qmp_execute(q, "query-memory-size-summary", NULL);
	if (!r)
		return -1;
	in->ram_bytes = qmp_get_int(r, "base-memory", 0) + qmp_get_int(r, "plugged-memory", 0);
	json_object_put(r);
	r = qmp_execute(q, "query-migrate-parameters", NULL);
	if (!r)
		return -1;
	in->max_bandwidth = qmp_get_int(r, "max-bandwidth", 0);
	in->downtime_limit_ms = qmp_get_int(r, "downtime-limit", 0);
	json_object_put(r);
	if (read_caps(q, in))
		return -1;
	return read_status(q, in->status, sizeof(in->status), &in->running);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * One window. What QEMU 7.2 computes (migration/dirtyrate.c, page-sampling):
 *   get_ramblock_dirty_info: "info->sample_pages_count = (qemu_ram_get_used_length(block) *
 *       sample_pages_per_gigabytes) >> 30;"   -- sample-pages is per GiB of each RAMBlock
 *   skip_sample_ramblock: "if (qemu_ram_get_used_length(block) < (MIN_RAMBLOCK_SIZE << 10))"
 *       with MIN_RAMBLOCK_SIZE 128 (dirtyrate.h): RAMBlocks under 128 MiB are not sampled
 *   save_ramblock_hash / calc_page_dirty_rate: each sampled page is hashed at the start and
 *       again after calc-time; "if (hash != info->hash_result[i]) ... sample_dirty_count++"
 *       -- a page counts once however often it was written (distinct pages per window), and
 *       not at all if it was rewritten with the same bytes
 *   update_dirtyrate: "dirtyrate = total_dirty_samples * total_block_mem_MB * 1000 /
 *       (total_sample_count * msec);" with total_block_mem_MB += (ramblock_pages *
 *       TARGET_PAGE_SIZE) >> 20 -- MiB/s, integer-truncated
 *   qmp_calc_dirty_rate: "calc-time is out of range[1, 60]", "sample-pages is out of
 *       range[128, 16384]" (MIN/MAX_FETCH_DIRTYRATE_TIME_SEC, MIN/MAX_SAMPLE_PAGE_COUNT)
 * So W(T) = dirty-rate x T MiB = dirty-rate x T x 256 pages of 4 KiB, known to +-256 x T pages
 * from the truncation alone, plus the sampling error of sample-pages per GiB.
 */
static int dirty_window(struct qmp *q, unsigned seconds, unsigned sample_pages,
			struct qemu_dirty_window *w)
{
	json_object *args = json_object_new_object(), *r;
	int waited_ms = 0;

	json_object_object_add(args, "calc-time", json_object_new_int64(seconds));
	json_object_object_add(args, "sample-pages", json_object_new_int64(sample_pages));
	json_object_object_add(args, "mode", json_object_new_string("page-sampling"));
	if (qmp_run(q, "calc-dirty-rate", args))
		return -1;
	sleep_ms(seconds * 1000L);
	for (;;) {
		r = qmp_execute(q, "query-dirty-rate", NULL);
		if (!r)
			return -1;
		if (!strcmp(qmp_get_str(r, "status", ""), "measured"))
			break;
		json_object_put(r);
		if (waited_ms > 10000) {
			snprintf(q->err, sizeof(q->err),
				 "qmp %s: calc-dirty-rate of %u s not measured %d ms after its end",
				 q->path, seconds, waited_ms);
			return -1;
		}
		sleep_ms(100);
		waited_ms += 100;
	}
	w->seconds = seconds;
	w->measured_s = qmp_get_int(r, "calc-time", seconds);
	w->sample_pages = qmp_get_int(r, "sample-pages", sample_pages);
	w->mib_per_s = qmp_get_int(r, "dirty-rate", -1);
	json_object_put(r);
	if (w->mib_per_s < 0) {
		snprintf(
			q->err, sizeof(q->err),
			"qmp %s: calc-dirty-rate measured nothing (no RAMBlock of 128 MiB or more?)",
			q->path);
		return -1;
	}
	w->pages = (uint64_t)w->mib_per_s * seconds * ((1 << 20) / QEMU_PAGE_SIZE);
	return 0;
}

int qemu_dirty_curve(struct qmp *q, const unsigned *seconds, unsigned n, unsigned sample_pages,
		     struct qemu_dirty_window *out)
{
	struct qemu_dirty_window warm;

	if (!sample_pages)
		sample_pages = QEMU_DIRTY_SAMPLE_PAGES_MAX;
	if (qemu_require_running(q))
		return -1;
	/*
	 * A first window, discarded: QEMU's first hashing pass reads guest pages
	 * never touched since boot, and the host backs each read with fresh memory
	 * (2 MiB at a time in huge-page RAM), so the pass is slow and the pages it
	 * hashes last are watched for less than the window. Measured here on a
	 * fresh 256 MiB guest dirtying 32 MiB/s, 1 s windows in a row: 28, 32,
	 * 31, 35 MiB/s. One pass faults in all of RAM, whatever pages a later
	 * call samples.
	 */
	if (dirty_window(q, QEMU_DIRTY_CALC_MIN_S, sample_pages, &warm))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (seconds[i] < QEMU_DIRTY_CALC_MIN_S || seconds[i] > QEMU_DIRTY_CALC_MAX_S) {
			snprintf(
				q->err, sizeof(q->err),
				"qmp %s: window of %u s: calc-dirty-rate takes %d to %d whole seconds",
				q->path, seconds[i], QEMU_DIRTY_CALC_MIN_S, QEMU_DIRTY_CALC_MAX_S);
			return -1;
		}
		if (dirty_window(q, seconds[i], sample_pages, &out[i]))
			return -1;
	}
	return 0;
}

/* The mapping of exactly ram_bytes, anonymous and writable: guest RAM (one RAMBlock). */
static int find_ram_mapping(int pid, uint64_t ram_bytes, uint64_t *start, char *why, size_t len)
{
	char path[64], line[512];
	unsigned found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, ino;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu", &lo, &hi, perms, &ino) != 4)
			continue;
		if (hi - lo == ram_bytes && !ino && !strncmp(perms, "rw", 2) && !found++)
			*start = lo;
	}
	fclose(f);
	if (found == 1)
		return 0;
	snprintf(why, len, "%s: %s anonymous mapping of %" PRIu64 " bytes", path,
		 found ? "more than one" : "no", ram_bytes);
	return -1;
}

static uint64_t pagemap_entry(int fd, const volatile char *p)
{
	uint64_t e = 0;

	if (pread(fd, &e, 8, (uintptr_t)p / 4096 * 8) != 8)
		return 0;
	return e;
}

/*
 * One probe: the PFN a read of a fresh anonymous page maps, 4 KiB (*zero) and
 * in a region given transparent huge pages (*huge, its first PFN).
 */
static void probe_read_pfns(int fd, uint64_t *zero, uint64_t *huge)
{
	size_t huge_len = 2 << 20;
	char *map = mmap(NULL, 2 * huge_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *p, *h;
	uint64_t e;

	*zero = *huge = 0;
	if (map == MAP_FAILED)
		return;
	h = (volatile char *)(((uintptr_t)map + huge_len - 1) & ~(uintptr_t)(huge_len - 1));
	p = h == (volatile char *)map ? h + huge_len : (volatile char *)map;
	madvise((void *)h, huge_len, MADV_HUGEPAGE);
	(void)p[0];
	(void)h[0];
	e = pagemap_entry(fd, p);
	*zero = (e & PM_PRESENT) ? e & PM_PFN_MASK : 0;
	e = pagemap_entry(fd, h);
	*huge = (e & PM_PRESENT) ? e & PM_PFN_MASK : 0;
	munmap(map, 2 * huge_len);
}

/*
 * The PFNs of the kernel's shared zero page and huge zero page, which a read
 * of a never-written page maps: 0 for each the kernel does not share (two
 * probes map different PFNs: some kernels back reads with fresh memory).
 */
static void zero_pfns(uint64_t *zero, uint64_t *huge)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t z2, h2;

	*zero = *huge = 0;
	if (fd < 0)
		return;
	probe_read_pfns(fd, zero, huge);
	probe_read_pfns(fd, &z2, &h2);
	close(fd);
	if (z2 != *zero)
		*zero = 0;
	if (h2 != *huge)
		*huge = 0;
}

static bool untouched(uint64_t e, uint64_t zero, uint64_t huge)
{
	uint64_t pfn = e & PM_PFN_MASK;

	if (!(e & (PM_PRESENT | PM_SWAPPED)))
		return true;
	if (!(e & PM_PRESENT) || !pfn)
		return false;
	return pfn == zero || (huge && pfn >= huge && pfn < huge + 512);
}

/*
 * Method: each page of the guest RAM mapping whose /proc/pid/pagemap entry is
 * neither present nor swapped (never touched), or present on the kernel's
 * shared zero page or huge zero page (read, never written; PFNs are visible
 * to root only). Count before calc-dirty-rate or a migration: both read guest
 * pages, and where the kernel backs a read with fresh memory (this host's
 * does, 2 MiB at a time in QEMU's huge-page RAM) the pages read count as
 * touched afterwards.
 * Pages the guest itself filled with zeros are not counted: a lower bound.
 */
/* A present page's bytes through /proc/pid/mem: all zero? (a read faults nothing in) */
static bool page_is_zero(int memfd, uint64_t addr)
{
	static const uint64_t zeros[QEMU_PAGE_SIZE / 8];
	uint64_t buf[QEMU_PAGE_SIZE / 8];

	return pread(memfd, buf, sizeof(buf), (off_t)addr) == (ssize_t)sizeof(buf) &&
	       !memcmp(buf, zeros, sizeof(buf));
}

int qemu_untouched_pages(int pid, uint64_t ram_bytes, uint64_t *pages, char *why, size_t len)
{
	return qemu_zero_pages(pid, ram_bytes, pages, NULL, why, len);
}

int qemu_zero_pages(int pid, uint64_t ram_bytes, uint64_t *pages, uint64_t *zeroed, char *why,
		    size_t len)
{
	uint64_t start, zero, huge, n = ram_bytes / QEMU_PAGE_SIZE, count = 0;
	enum { CHUNK = 4096 };
	uint64_t *e = malloc(CHUNK * sizeof(*e));
	char path[64];
	int fd, memfd, rc = -1;

	zero_pfns(&zero, &huge);
	if (!e || find_ram_mapping(pid, ram_bytes, &start, why, len)) {
		free(e);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = zeroed ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (zeroed)
		*zeroed = 0;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		free(e);
		if (memfd >= 0)
			close(memfd);
		return -1;
	}
	for (uint64_t i = 0; i < n; i += CHUNK) {
		size_t want = (n - i < CHUNK ? n - i : CHUNK) * sizeof(*e);

		if (pread(fd, e, want, (start / QEMU_PAGE_SIZE + i) * sizeof(*e)) !=
		    (ssize_t)want) {
			snprintf(why, len, "%s: short read", path);
			goto out;
		}
		for (size_t j = 0; j < want / sizeof(*e); j++) {
			bool u = untouched(e[j], zero, huge);

			count += u;
			if (!u && memfd >= 0 && (e[j] & PM_PRESENT))
				*zeroed += page_is_zero(memfd, start + (i + j) * QEMU_PAGE_SIZE);
		}
	}
	*pages = count;
	rc = 0;
out:
	close(fd);
	if (memfd >= 0)
		close(memfd);
	free(e);
	return rc;
}
