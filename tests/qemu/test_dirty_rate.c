// SPDX-License-Identifier: GPL-2.0
/*
 * W(T) and untouched pages read from real QEMU 7.2 TCG guests, against what
 * the dirtier in each guest did. Three guests run at once: A dirties 2048
 * pages/s over a 64 MiB set, B 8192 pages/s over 128 MiB, both walking the
 * set page by page, so a window of T s dirties exactly rate x T distinct pages
 * (rate x T stays under the set). QEMU reports whole MiB/s (4 KiB pages: 256
 * pages per MiB), from 4096 sampled pages of the 256 MiB (and one page)
 * RAMBlock (16384 per GiB). The tolerance: 1 MiB/s of truncation, 15% (about
 * two standard deviations of the sampling at A's rate), and 100 ms of the
 * dirtier's writes, which it may owe at the window's end when the host's two
 * CPUs serve both guests and QEMU's hashing thread. Measured here, after the
 * discarded first window (without it the first 1 s window read 6-7 MiB/s for
 * 8 and 28 for 32): 1 s windows 8-9 and 29-34, 2 s windows 8 and 31-32.
 * C picks 8192 pages/s at random in 64 MiB, so its W(T) saturates: windows of
 * 2, 4 and 8 s (about 20, 14 and 8 MiB/s; the longer windows owe less to lag).
 * The guests not measured are paused meanwhile: three TCG vCPUs on this
 * host's two CPUs made a dirtier lag by a quarter of a 2 s window.
 */
#include <math.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "qemu/inputs.h"
#include "guest_bed.h"

#define RAM_MIB 256

static struct guest_bed bed;
static struct qemu_vm vm_a, vm_b, vm_c;
static const struct qemu_guest guest_a = {
	.ram_mib = RAM_MIB, .rate = 2048, .wss_mib = 64, .shape = "seq"};
static const struct qemu_guest guest_b = {
	.ram_mib = RAM_MIB, .rate = 8192, .wss_mib = 128, .shape = "seq"};
/* C picks pages at random in a set small enough to saturate: W(T) bends */
static const struct qemu_guest guest_c = {
	.ram_mib = RAM_MIB, .rate = 8192, .wss_mib = 64, .shape = "uniform"};

static int setup(void **state)
{
	struct qemu_guest a = guest_a, b = guest_b, c = guest_c;
	char err[512];

	(void)state;
	vm_a.qmp.fd = vm_b.qmp.fd = vm_c.qmp.fd = -1;
	guest_bed_prepare(&bed);
	if (bed.why[0])
		return 0;
	a.kernel = b.kernel = c.kernel = bed.kernel;
	a.initrd = b.initrd = c.initrd = bed.initrd;
	if (qemu_vm_start(&vm_a, bed.dir, "a", &a, false, err, sizeof(err)) ||
	    qemu_vm_start(&vm_b, bed.dir, "b", &b, false, err, sizeof(err)) ||
	    qemu_vm_start(&vm_c, bed.dir, "c", &c, false, err, sizeof(err)) ||
	    qemu_vm_wait_console(&vm_c, "DIRTIER ready", 90000, err, sizeof(err)) ||
	    qemu_vm_wait_console(&vm_a, "DIRTIER ready", 90000, err, sizeof(err)) ||
	    qemu_vm_wait_console(&vm_b, "DIRTIER ready", 90000, err, sizeof(err))) {
		/* QEMU is there and the guest was built: a failure to boot is a failure */
		fprintf(stderr, "bed: %s\n", err);
		qemu_vm_stop(&vm_c);
		guest_bed_stop(&bed, &vm_a, &vm_b);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qemu_vm_stop(&vm_c);
	return guest_bed_stop(&bed, &vm_a, &vm_b);
}

static void need_bed(void)
{
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
}

/* The dirtier kept its rate: writes over its run within 5% of rate x time. */
static void assert_dirtier_kept_rate(const struct qemu_vm *vm, const struct qemu_guest *g)
{
	struct dirtier_report r;
	double due;

	assert_int_equal(dirtier_progress(vm->console, &r), 0);
	due = g->rate * r.t_ms / 1000.0;
	assert_true(r.t_ms >= 1000);
	assert_true(fabs(r.writes - due) <= 0.05 * due);
	assert_int_equal(r.bad, 0);
}

/* b to the power e, by squaring (the tests link no libm). */
static double power(double b, unsigned long e)
{
	double r = 1;

	for (; e; e >>= 1, b *= b)
		if (e & 1)
			r *= b;
	return r;
}

/* Distinct pages the dirtier writes in T s: every write for seq, fewer for uniform picks. */
static double distinct_pages(const struct qemu_guest *g, unsigned seconds)
{
	double n = g->wss_mib * 256.0, writes = (double)g->rate * seconds;

	if (!strcmp(g->shape, "uniform"))
		return n * (1 - power(1 - 1 / n, (unsigned long)writes));
	return writes < n ? writes : n;
}

static void check_window(const struct qemu_dirty_window *w, const struct qemu_guest *g)
{
	double truth = distinct_pages(g, w->seconds);
	double truth_mib_s = truth / w->seconds * QEMU_PAGE_SIZE / (1 << 20);

	printf("rate %lu pages/s, window %u s: QEMU %lld MiB/s (truth %.1f), W(T) %llu pages "
	       "(truth %.0f)\n",
	       g->rate, w->seconds, (long long)w->mib_per_s, truth_mib_s,
	       (unsigned long long)w->pages, truth);
	assert_int_equal(w->measured_s, w->seconds);
	assert_int_equal(w->sample_pages, QEMU_DIRTY_SAMPLE_PAGES_MAX);
	assert_true(fabs(w->mib_per_s - truth_mib_s) <=
		    1 + 0.15 * truth_mib_s + truth_mib_s * 0.1 / w->seconds);
	assert_true(fabs(w->pages - truth) <= 256.0 * w->seconds + 0.15 * truth + g->rate * 0.1);
}

static void test_dirty_rate_two_rates(void **state)
{
	static const unsigned windows[] = {1, 2};
	struct qemu_dirty_window wa[2], wb[2];

	(void)state;
	need_bed();
	assert_int_equal(qmp_run(&vm_c.qmp, "stop", NULL), 0);
	assert_int_equal(qemu_dirty_curve(&vm_a.qmp, windows, 2, 0, wa), 0);
	assert_int_equal(qemu_dirty_curve(&vm_b.qmp, windows, 2, 0, wb), 0);
	assert_int_equal(qmp_run(&vm_c.qmp, "cont", NULL), 0);
	assert_dirtier_kept_rate(&vm_a, &guest_a);
	assert_dirtier_kept_rate(&vm_b, &guest_b);
	for (int i = 0; i < 2; i++) {
		check_window(&wa[i], &guest_a);
		check_window(&wb[i], &guest_b);
		assert_true(wb[i].mib_per_s > wa[i].mib_per_s);
	}
}

/* A saturating working set: the rate falls as the window grows, as the uniform picks predict. */
static void test_dirty_rate_curve(void **state)
{
	static const unsigned windows[] = {2, 4, 8};
	struct qemu_dirty_window w[3];

	(void)state;
	need_bed();
	assert_int_equal(qmp_run(&vm_a.qmp, "stop", NULL), 0);
	assert_int_equal(qmp_run(&vm_b.qmp, "stop", NULL), 0);
	assert_int_equal(qemu_dirty_curve(&vm_c.qmp, windows, 3, 0, w), 0);
	assert_int_equal(qmp_run(&vm_a.qmp, "cont", NULL), 0);
	assert_int_equal(qmp_run(&vm_b.qmp, "cont", NULL), 0);
	assert_dirtier_kept_rate(&vm_c, &guest_c);
	for (int i = 0; i < 3; i++)
		check_window(&w[i], &guest_c);
	assert_true(w[0].mib_per_s > w[1].mib_per_s && w[1].mib_per_s > w[2].mib_per_s);
}

static void test_dirty_rate_window_bounds(void **state)
{
	static const unsigned zero[] = {0}, too_long[] = {61};
	struct qemu_dirty_window w;

	(void)state;
	need_bed();
	assert_int_equal(qemu_dirty_curve(&vm_a.qmp, zero, 1, 0, &w), -1);
	assert_non_null(strstr(vm_a.qmp.err, "window of 0 s: calc-dirty-rate takes 1 to 60"));
	assert_int_equal(qemu_dirty_curve(&vm_a.qmp, too_long, 1, 0, &w), -1);
	assert_non_null(strstr(vm_a.qmp.err, "window of 61 s"));
}

/*
 * B's dirtier wrote 64 MiB more of its RAM than A's: B's QEMU has that much
 * less guest RAM never touched (the kernels and the rest being alike), and
 * neither has more untouched than its RAM less its working set. QEMU asks for
 * transparent huge pages: the host backs guest RAM 2 MiB at a time, so a
 * region counts as touched when any page of it is, and the difference is
 * known to 30% (measured here: -12% to +3% on an idle machine, -22% with both
 * cores busy, when the two guests' kernels touch less alike).
 */
static void test_untouched_pages(void **state)
{
	uint64_t ua, ub, mib = (1 << 20) / QEMU_PAGE_SIZE;
	struct qemu_inputs in;
	char why[256], expect[64];
	double diff;

	(void)state;
	need_bed();
	assert_int_equal(qemu_read_inputs(&vm_a.qmp, &in), 0);
	/* QEMU rounds the odd size up (to 8 KiB here) */
	assert_true(in.ram_bytes >= (RAM_MIB << 20) + QEMU_BED_RAM_PAD_KIB * 1024);
	assert_true(in.ram_bytes < (RAM_MIB + 1) << 20);
	assert_true(in.running);
	assert_int_equal(qemu_untouched_pages(vm_a.qmp.pid, in.ram_bytes, &ua, why, sizeof(why)),
			 0);
	assert_int_equal(qemu_untouched_pages(vm_b.qmp.pid, in.ram_bytes, &ub, why, sizeof(why)),
			 0);
	diff = (double)ua - ub;
	printf("untouched pages: A %llu, B %llu, difference %.0f (truth %llu)\n",
	       (unsigned long long)ua, (unsigned long long)ub, diff,
	       (unsigned long long)(64 * mib));
	assert_true(ua <= (RAM_MIB - guest_a.wss_mib) * mib);
	assert_true(ub <= (RAM_MIB - guest_b.wss_mib) * mib);
	assert_true(fabs(diff - 64 * mib) <= 0.30 * 64 * mib);
	assert_int_equal(qemu_untouched_pages(getpid(), in.ram_bytes, &ua, why, sizeof(why)), -1);
	snprintf(expect, sizeof(expect), "no anonymous mapping of %llu bytes",
		 (unsigned long long)in.ram_bytes);
	assert_non_null(strstr(why, expect));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched_pages),
		cmocka_unit_test(test_dirty_rate_two_rates),
		cmocka_unit_test(test_dirty_rate_curve),
		cmocka_unit_test(test_dirty_rate_window_bounds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
