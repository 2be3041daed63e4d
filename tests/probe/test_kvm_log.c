// SPDX-License-Identifier: GPL-2.0
/*
 * KVM dirty-log decoding. This machine has no /dev/kvm, so the entry side
 * runs on real ioctl syscalls with real argument structures issued on fds
 * that are not KVM's (an eventfd, /dev/null), which answer ENOTTY; the
 * exit side, a bitmap KVM filled and a memslot it accepted, runs through
 * BPF_PROG_TEST_RUN of the same decoders. Every expected page count is the
 * popcount of the bitmap the test prepared, computed here.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "probe/probe_test.h"
#include "vfmig/uapi.h"

#define PAGE 4096ull
#define BM_WORDS (VFMIG_BITMAP_MAX_WORDS + 2)

static uint64_t bm[BM_WORDS];

struct seen {
	struct vfmig_event memslot, clear, bitmap;
	int memslots, clears, bitmaps;
};

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct seen *s = ctx;

	if (e->source != VFMIG_SRC_SYSCALL || e->pid != (uint32_t)getpid())
		return 0;
	if (e->type == VFMIG_EV_KVM_MEMSLOT) {
		s->memslot = *e;
		s->memslots++;
	} else if (e->type == VFMIG_EV_KVM_CLEAR_LOG) {
		s->clear = *e;
		s->clears++;
	} else if (e->type == VFMIG_EV_BITMAP && e->from == VFMIG_IFACE_KVM) {
		s->bitmap = *e;
		s->bitmaps++;
	}
	return 0;
}

static void poll_all(struct seen *s)
{
	poll_into(s, sizeof(*s), on_event);
}

/* Counters, all of them, so that a test can check the ones that must not move too. */
struct snap {
	uint64_t c[VFMIG_C_NR];
};

static void snap(struct snap *s)
{
	assert_int_equal(agg_counters(probes, s->c), 0);
}

static uint64_t moved(const struct snap *s, int idx)
{
	return counter(idx) - s->c[idx];
}

/* Memslot sets, clears and dirty-log reads issued for real: decoded at entry, ENOTTY at exit. */
static void test_real_syscalls_decoded(void **state)
{
	struct kvm_userspace_memory_region r = {5, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 256 * PAGE,
						0x7f0000000000};
	struct kvm_userspace_memory_region2 r2 = {
		.slot = 1 << 16 | 7, .guest_phys_addr = 1ull << 32, .memory_size = 64 * PAGE};
	struct kvm_clear_dirty_log cl = {.slot = 5, .num_pages = 200, .first_page = 64};
	struct kvm_dirty_log log = {.slot = 5};
	int vm = eventfd(0, 0), null = open("/dev/null", O_RDONLY);
	uint64_t want;
	struct snap c0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	fill_bitmap(bm, 8, 11);
	want = bitmap_weight(bm, 200);
	cl.dirty_bitmap = bm;
	log.dirty_bitmap = bm;
	poll_all(&s);
	snap(&c0);
	assert_int_equal(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r), -1);
	assert_int_equal(errno, ENOTTY);
	poll_all(&s);
	assert_int_equal(s.memslots, 1);
	assert_int_equal(s.memslot.dev, dev_of(vm));
	assert_int_equal(s.memslot.a, r.guest_phys_addr);
	assert_int_equal(s.memslot.b, r.memory_size);
	assert_int_equal(s.memslot.c, r.slot);
	assert_int_equal(s.memslot.d, KVM_MEM_LOG_DIRTY_PAGES);
	assert_int_equal(s.memslot.result, -ENOTTY);

	assert_int_equal(ioctl(null, KVM_SET_USER_MEMORY_REGION2, &r2), -1);
	poll_all(&s);
	assert_int_equal(s.memslots, 1);
	assert_int_equal(s.memslot.dev, dev_of(null));
	assert_int_equal(s.memslot.c, r2.slot); /* address space 1, slot 7: kept whole */
	assert_int_equal(s.memslot.b, r2.memory_size);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_MEMSLOT_SETS), 2);

	assert_int_equal(ioctl(vm, KVM_CLEAR_DIRTY_LOG, &cl), -1);
	poll_all(&s);
	assert_int_equal(s.clears, 1);
	assert_int_equal(s.clear.a, cl.first_page);
	assert_int_equal(s.clear.b, cl.num_pages);
	assert_int_equal(s.clear.c, cl.slot);
	assert_int_equal(s.clear.d, want); /* the bitmap passed, counted at entry */
	assert_int_equal(s.clear.result, -ENOTTY);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEAR_LOG_CALLS), 1);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEAR_LOG_ERRORS), 1);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEARED_PAGES), 0); /* nothing was cleared */

	assert_int_equal(ioctl(vm, KVM_GET_DIRTY_LOG, &log), -1);
	poll_all(&s);
	assert_int_equal(s.bitmaps, 0);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_DIRTY_LOG_CALLS), 1);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_DIRTY_LOG_ERRORS), 1);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_KVM), 0);
	close(vm);
	close(null);
}

/* A slot KVM accepted, then bitmaps it filled: counted over the slot's pages only. */
static void test_prepared_dirty_logs(void **state)
{
	struct kvm_userspace_memory_region r = {3, KVM_MEM_LOG_DIRTY_PAGES, 1ull << 32, 1000 * PAGE,
						0x7f0000000000};
	struct kvm_userspace_memory_region2 r2 = {
		.slot = 1 << 16 | 2, .guest_phys_addr = 0, .memory_size = 64 * PAGE};
	struct kvm_dirty_log log = {.slot = 3, .dirty_bitmap = bm};
	uint64_t want, want2;
	struct snap c0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	fill_bitmap(bm, BM_WORDS, 21);
	want = bitmap_weight(bm, 1000); /* 15 words and 40 bits of the 16th */
	want2 = bitmap_weight(bm, 64);
	poll_all(&s);
	snap(&c0);
	assert_int_equal(run_decode(KVM_SET_USER_MEMORY_REGION, &r, 0, 40), 0);
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 40), 0);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_KVM), want);
	poll_all(&s);
	assert_int_equal(s.bitmaps, 1);
	assert_int_equal(s.bitmap.a, r.guest_phys_addr);
	assert_int_equal(s.bitmap.b, r.memory_size);
	assert_int_equal(s.bitmap.d, want);
	assert_int_equal(s.bitmap.to, 0);
	/* a failed read counts no pages */
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, -ENOENT, 40), 0);
	/* the same slot number on another VM fd, and a slot never set: sizes unknown */
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 41), 0);
	log.slot = 4;
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 40), 0);
	/* KVM_SET_USER_MEMORY_REGION2 in address space 1 */
	assert_int_equal(run_decode(KVM_SET_USER_MEMORY_REGION2, &r2, 0, 40), 0);
	log.slot = r2.slot;
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 40), 0);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_KVM), want + want2);
	/* a refused memslot teaches nothing; a deleted one is forgotten */
	r.slot = 9;
	assert_int_equal(run_decode(KVM_SET_USER_MEMORY_REGION, &r, -EINVAL, 40), 0);
	log.slot = 9;
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 40), 0);
	r.slot = 3;
	r.memory_size = 0;
	assert_int_equal(run_decode(KVM_SET_USER_MEMORY_REGION, &r, 0, 40), 0);
	log.slot = 3;
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 40), 0);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_KVM), want + want2);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_MEMSLOT_SETS), 4);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_DIRTY_LOG_CALLS), 7);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_DIRTY_LOG_ERRORS), 1);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_KVM), 2);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_DIRTY_LOG_UNSIZED), 4);
}

/* Clears: the pages asked to be cleared in successful calls. */
static void test_prepared_clears(void **state)
{
	struct kvm_clear_dirty_log cl = {
		.slot = 3, .num_pages = 200, .first_page = 64, .dirty_bitmap = bm};
	uint64_t want;
	struct snap c0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	fill_bitmap(bm, BM_WORDS, 31);
	want = bitmap_weight(bm, 200);
	poll_all(&s);
	snap(&c0);
	assert_int_equal(run_decode(KVM_CLEAR_DIRTY_LOG, &cl, 0, 40), 0);
	assert_int_equal(run_decode(KVM_CLEAR_DIRTY_LOG, &cl, -EINVAL, 40), 0);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEARED_PAGES), want);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEAR_LOG_CALLS), 2);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEAR_LOG_ERRORS), 1);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEAR_CUT), 0);
	poll_all(&s);
	assert_int_equal(s.clears, 2);
	assert_int_equal(s.clear.dev, dev_of(40));
	assert_int_equal(s.clear.d, want);
	assert_int_equal(s.clear.result, -EINVAL);
}

/* Bitmaps longer than the bound: counted as far as it, and said to be cut short. */
static void test_prepared_cut_short(void **state)
{
	uint64_t pages = VFMIG_BITMAP_MAX_WORDS * 64ull + 100, want;
	struct kvm_userspace_memory_region r = {6, KVM_MEM_LOG_DIRTY_PAGES, 0, pages * PAGE,
						0x7f0000000000};
	struct kvm_dirty_log log = {.slot = 6, .dirty_bitmap = bm};
	struct kvm_clear_dirty_log cl = {
		.slot = 6, .num_pages = pages, .first_page = 0, .dirty_bitmap = bm};
	struct snap c0;
	struct seen s;

	(void)state;
	NEED_PROBES();
	fill_bitmap(bm, BM_WORDS, 41);
	want = bitmap_weight(bm, VFMIG_BITMAP_MAX_WORDS * 64ull);
	assert_true(bitmap_weight(bm, pages) > want); /* the words past the bound have bits */
	poll_all(&s);
	snap(&c0);
	assert_int_equal(run_decode(KVM_SET_USER_MEMORY_REGION, &r, 0, 42), 0);
	assert_int_equal(run_decode(KVM_GET_DIRTY_LOG, &log, 0, 42), 0);
	assert_int_equal(run_decode(KVM_CLEAR_DIRTY_LOG, &cl, 0, 42), 0);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_KVM), want);
	assert_int_equal(moved(&c0, VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_KVM), 1);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEARED_PAGES), want);
	assert_int_equal(moved(&c0, VFMIG_C_KVM_CLEAR_CUT), 1);
	poll_all(&s);
	assert_int_equal(s.bitmap.to, 1);
	assert_int_equal(s.clear.to, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_syscalls_decoded),
		cmocka_unit_test(test_prepared_dirty_logs),
		cmocka_unit_test(test_prepared_clears),
		cmocka_unit_test(test_prepared_cut_short),
	};

	return cmocka_run_group_tests(tests, setup_pid, teardown);
}
