// SPDX-License-Identifier: GPL-2.0
/*
 * The predicted range as a pure function of the measured spreads: none
 * measured, a point; a link that may be slower, a longer high end exactly as
 * the slower link's own prediction; a cap far under the link holds whatever the
 * link's spread; measured curves scaled both ways, given ones never.
 */
#include <math.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "model/model.h"

#define MB 1e6
#define P 4096.0

static void base(struct model_inputs *in, double cap, double link, double rate)
{
	memset(in, 0, sizeof(*in));
	in->engine = ENGINE_VFMIG;
	in->ram_bytes = 128 * MB;
	in->page_bytes = P;
	in->cap_bps = cap;
	in->link_bps = link;
	in->origin_link = ORIGIN_MEASURED;
	in->downtime_limit_s = 0.05;
	in->max_rounds = 100;
	in->ncurves = 1;
	strcpy(in->curve[0].name, "vcpu");
	in->curve[0].unit_bytes = P;
	in->curve[0].slope_after = rate;
	in->curve[0].origin = ORIGIN_MEASURED;
}

static void test_no_spread_is_a_point(void **state)
{
	struct model_inputs in;
	struct model_result r, lo, hi;

	(void)state;
	base(&in, 0, 200 * MB, 5000);
	assert_int_equal(model_predict(&in, &r), 0);
	model_range(&in, &lo, &hi);
	assert_true(lo.total_s == r.total_s && hi.total_s == r.total_s);
	assert_true(lo.downtime_s == r.downtime_s && hi.downtime_s == r.downtime_s);
}

/* The high end is the prediction at link / (1 + spread), the low end at link x (1 + spread). */
static void test_link_spread_is_the_slower_and_faster_link(void **state)
{
	struct model_inputs in, slow, fast;
	struct model_result lo, hi, rs, rf;

	(void)state;
	base(&in, 0, 200 * MB, 5000);
	in.spread_rate = 0.25;
	model_range(&in, &lo, &hi);
	base(&slow, 0, 200 * MB / 1.25, 5000);
	base(&fast, 0, 200 * MB * 1.25, 5000);
	model_predict(&slow, &rs);
	model_predict(&fast, &rf);
	assert_true(fabs(hi.total_s - rs.total_s) < 1e-9);
	assert_true(fabs(lo.total_s - rf.total_s) < 1e-9);
	assert_true(lo.total_s < hi.total_s);
}

static void test_cap_far_below_the_link_holds(void **state)
{
	struct model_inputs in;
	struct model_result r, lo, hi;

	(void)state;
	base(&in, 50 * MB, 1000 * MB, 2000);
	in.spread_rate = 0.5; /* the link at 667..1500 MB/s: still over the cap */
	model_predict(&in, &r);
	model_range(&in, &lo, &hi);
	assert_true(lo.total_s == r.total_s && hi.total_s == r.total_s);
}

static void test_curve_spread_scales_measured_curves_only(void **state)
{
	struct model_inputs in;
	struct model_result r, lo, hi;

	(void)state;
	base(&in, 0, 200 * MB, 8000);
	in.spread = 0.2;
	model_predict(&in, &r);
	model_range(&in, &lo, &hi);
	assert_true(lo.bytes < r.bytes && r.bytes < hi.bytes);
	in.curve[0].origin = ORIGIN_GIVEN;
	model_range(&in, &lo, &hi);
	assert_true(lo.bytes == r.bytes && hi.bytes == r.bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_spread_is_a_point),
		cmocka_unit_test(test_link_spread_is_the_slower_and_faster_link),
		cmocka_unit_test(test_cap_far_below_the_link_holds),
		cmocka_unit_test(test_curve_spread_scales_measured_curves_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
