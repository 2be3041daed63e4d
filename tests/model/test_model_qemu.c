// SPDX-License-Identifier: GPL-2.0
/*
 * The model's QEMU policies as pure functions, on cases solved by hand with
 * QEMU 7.2's rules (see engine.c for the source lines): 100 ms rate-limit
 * windows of cap / 10 bytes, a bitmap sync only once a round's remainder is
 * under bandwidth x downtime-limit, completion once what a sync leaves is
 * under it, the stop-copy at the link's speed; QEMU 8's 100 GiB for a refused
 * MIG_DATA_SIZE; and QEMU's expected-downtime formula.
 */
#include <math.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "model/model.h"

#define P 4096.0
#define MIB 1048576.0

/* 100 MiB of RAM, a 10 MiB/s cap (256 pages a window), a 1 GB/s link, one constant dirtier. */
static void qemu72(struct model_inputs *in, double pages_per_s, double limit_s)
{
	memset(in, 0, sizeof(*in));
	in->engine = ENGINE_QEMU72;
	in->ram_bytes = 100 * MIB;
	in->page_bytes = P;
	in->cap_bps = 10 * MIB;
	in->link_bps = 1e9;
	in->downtime_limit_s = limit_s;
	in->ncurves = 1;
	strcpy(in->curve[0].name, "vcpus");
	in->curve[0].unit_bytes = P;
	in->curve[0].slope_after = pages_per_s;
}

/*
 * Nothing dirtied: 25600 pages go 256 a window until fewer than the threshold's
 * 640 (2.5 MiB) are left: 98 windows, 9.8 s, 512 pages left, which fit, so they
 * are the stop-copy, sent at the link's 1 GB/s rather than the 10 MiB/s cap.
 */
static void test_qemu72_threshold_and_unthrottled_switchover(void **state)
{
	struct model_inputs in;
	struct model_result r;

	(void)state;
	qemu72(&in, 0, 0.25);
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(fabs(r.threshold_bytes - 2.5 * MIB) < 1e-6);
	assert_true(r.converged);
	assert_int_equal(r.nrounds, 1);
	assert_true(fabs(r.round[0].ram_pages - 25088) < 1e-6);
	assert_true(fabs(r.round[0].seconds - 9.8) < 1e-9);
	assert_true(fabs(r.final_pages - 512) < 1e-6);
	assert_true(fabs(r.dt_ram_s - 512 * P / 1e9) < 1e-12);
	assert_true(fabs(r.total_s - 9.8 - 512 * P / 1e9) < 1e-9);
	assert_true(fabs(r.bytes - 100 * MIB) < 1);
}

/*
 * 1100 pages/s dirtied (110 a window, under the 256 a window sends): by hand,
 * each sync leaves what the round left (under 640) plus rate x the round's time;
 * it completes once that is under 640. The same rule in whole windows here.
 */
static void test_qemu72_rounds_by_hand(void **state)
{
	struct model_inputs in;
	struct model_result r;
	long left = 25600, windows_total = 0;
	unsigned rounds = 0;

	(void)state;
	for (;;) {
		long windows = 0;

		while (left >= 640) {
			left -= left < 256 ? left : 256;
			windows++;
		}
		rounds++;
		windows_total += windows;
		left += 110 * windows; /* the sync: 1100 pages/s over windows x 0.1 s */
		if (left < 640)
			break;
	}
	qemu72(&in, 1100, 0.25);
	assert_int_equal(model_predict(&in, &r), 0);
	printf("by hand: %u rounds, %ld windows, %ld pages at the stop-copy; model: %u rounds, "
	       "%.3f s, %.1f pages\n",
	       rounds, windows_total, left, r.nrounds, r.total_s, r.final_pages);
	assert_true(r.converged);
	assert_int_equal(r.nrounds, rounds);
	assert_true(fabs(r.final_pages - left) < 1e-6);
	assert_true(fabs(r.total_s - windows_total * 0.1 - left * P / 1e9) < 1e-6);
	/* every round but the first began with more than the threshold pending */
	for (unsigned i = 1; i < r.nrounds; i++)
		assert_true(r.round[i].pending_bytes >= 2.5 * MIB);
}

/*
 * 3000 pages/s (300 a window) against 256 a window sent: every sync leaves more
 * than the last, whatever the downtime limit, until bandwidth x limit holds all of RAM.
 */
static void test_qemu72_faster_than_the_cap_never_converges(void **state)
{
	struct model_inputs in;
	struct model_result r;

	(void)state;
	qemu72(&in, 3000, 0.25);
	assert_int_equal(model_predict(&in, &r), 0);
	assert_false(r.converged);
	assert_false(r.forced); /* QEMU has no round cap */
	assert_true(r.floor_bytes >= 2.5 * MIB);
	qemu72(&in, 3000, 5.0);
	assert_int_equal(model_predict(&in, &r), 0);
	assert_false(r.converged);
	/* 10 MiB/s x 10.5 s holds the 100 MiB: the first sync completes */
	qemu72(&in, 3000, 10.5);
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(r.converged);
}

/* QEMU's expected-downtime: what the last sync that did not fit left, over the bandwidth. */
static void test_qemu72_expected_downtime(void **state)
{
	struct model_inputs in;
	struct model_result r;

	(void)state;
	qemu72(&in, 1000, 0.25);
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(r.nrounds >= 2);
	assert_true(fabs(model_qemu_expected_downtime(&in, &r) -
			 r.round[r.nrounds - 1].pending_bytes / (10 * MIB)) < 1e-12);
}

/* QEMU 8 counts 100 GiB for a device whose MIG_DATA_SIZE fails: it never completes. */
static void test_qemu8_failed_data_size_never_converges(void **state)
{
	struct model_inputs in;
	struct model_result r;

	(void)state;
	qemu72(&in, 0, 3600);
	in.engine = ENGINE_QEMU8;
	in.ndevs = 1;
	in.dev[0].dirty_curve = -1;
	in.dev[0].state_bytes = 4096;
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(r.converged);
	in.dev[0].data_size_fails = true;
	assert_int_equal(model_predict(&in, &r), 0);
	assert_false(r.converged);
	assert_true(r.floor_bytes >= 100.0 * (1ull << 30));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu72_threshold_and_unthrottled_switchover),
		cmocka_unit_test(test_qemu72_rounds_by_hand),
		cmocka_unit_test(test_qemu72_faster_than_the_cap_never_converges),
		cmocka_unit_test(test_qemu72_expected_downtime),
		cmocka_unit_test(test_qemu8_failed_data_size_never_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
