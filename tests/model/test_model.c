// SPDX-License-Identifier: GPL-2.0
/*
 * The model as pure functions, on cases solved by hand: a constant dirty rate
 * against the geometric series' closed form; a saturated working set's floor;
 * QEMU 7.2's threshold and its unthrottled stop-copy; QEMU 8's 100 GiB for a
 * refused MIG_DATA_SIZE; the tuner's bandwidth converging where 0.8 of it
 * does not.
 */
#include <math.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "model/model.h"

#define MB 1e6
#define P 4096.0

/* RAM, a cap, no fixed costs, one vCPU curve of slope rate pages/s. */
static void base(struct model_inputs *in, double ram, double cap, double rate, double dl_s)
{
	memset(in, 0, sizeof(*in));
	in->engine = ENGINE_VFMIG;
	in->ram_bytes = ram;
	in->page_bytes = P;
	in->cap_bps = cap;
	in->link_bps = cap;
	in->downtime_limit_s = dl_s;
	in->max_rounds = 100;
	in->ncurves = 1;
	strcpy(in->curve[0].name, "vcpu");
	in->curve[0].unit_bytes = P;
	in->curve[0].slope_after = rate;
}

static void test_constant_rate_closed_form(void **state)
{
	struct model_inputs in;
	struct model_result r;
	double v0 = 256 * MB, b = 100 * MB, rate = 5000, dl = 0.05;
	double rho = rate * P / b, v = v0, bytes = v0;
	unsigned int n = 0;

	(void)state;
	base(&in, v0, b, rate, dl);
	/* V_i = V0 rho^i; switch over at the first i >= 1 with V_i <= B x limit */
	do {
		v *= rho;
		n++;
		bytes += v;
	} while (v > b * dl);
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(r.converged);
	assert_int_equal(r.nrounds, n);
	assert_true(fabs(r.bytes - bytes) < 1);
	assert_true(fabs(r.total_s - bytes / b) < 1e-9);
	assert_true(fabs(r.downtime_s - v / b) < 1e-9);
	assert_true(fabs(r.round[1].ram_pages - v0 * rho / P) < 1e-6);
}

/* Every round the whole working set S is dirty again: the floor is S pages. */
static void test_saturated_working_set(void **state)
{
	struct model_inputs in;
	struct model_result r;
	double s = 8192;

	(void)state;
	base(&in, 128 * MB, 100 * MB, 1e6, 0.1);
	in.curve[0].cap = s;
	in.max_rounds = 5;
	assert_int_equal(model_predict(&in, &r), 0);
	assert_false(r.converged);
	assert_true(r.forced);
	assert_int_equal(r.nrounds, 5);
	assert_true(fabs(r.floor_bytes - s * P) < 1);
	assert_true(fabs(r.final_pages - s) < 1e-9);
	/* a limit that holds the floor converges after one round */
	base(&in, 128 * MB, 100 * MB, 1e6, s * P / (100 * MB) + 1e-6);
	in.curve[0].cap = s;
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(r.converged);
	assert_int_equal(r.nrounds, 1);
}

/* threshold = cap x downtime-limit; the stop-copy at the link's speed, no round cap. */
static void test_qemu72_threshold_and_unthrottled_stop_copy(void **state)
{
	struct model_inputs in;
	struct model_result r;
	double cap = 32 * 1048576.0, link = 1e9;

	(void)state;
	base(&in, 256 * 1048576.0, cap, 2000, 0.3);
	in.engine = ENGINE_QEMU72;
	in.link_bps = link;
	in.max_rounds = 0;
	in.curve[0].cap = 16384;
	assert_int_equal(model_predict(&in, &r), 0);
	assert_true(fabs(r.threshold_bytes - cap * 0.3) < 1);
	assert_true(r.converged);
	assert_true(fabs(r.dt_ram_s - r.final_pages * P / link) < 1e-12);
	assert_true(r.final_pages * P < cap * 0.3);
	/* what was pending before the last round did not fit */
	assert_true(r.round[r.nrounds - 1].pending_bytes >= cap * 0.3);
}

static void test_failed_data_size_never_converges(void **state)
{
	struct model_inputs in;
	struct model_result r;

	(void)state;
	base(&in, 64 * MB, 100 * MB, 10, 0.3);
	in.engine = ENGINE_QEMU8;
	in.max_rounds = 0;
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

static void test_tuned_bandwidth_holds(void **state)
{
	struct model_inputs in, at;
	struct model_tuning t;
	struct model_result r;

	(void)state;
	base(&in, 128 * MB, 30 * MB, 20000, 0.1);
	in.curve[0].cap = 16384;
	in.max_rounds = 6;
	model_tune(&in, &t);
	assert_true(t.needed);
	assert_true(t.bandwidth_bps > 30 * MB);
	at = in;
	at.cap_bps = at.link_bps = t.bandwidth_bps;
	assert_int_equal(model_predict(&at, &r), 0);
	assert_true(r.converged);
	at.cap_bps = at.link_bps = 0.8 * t.bandwidth_bps;
	assert_int_equal(model_predict(&at, &r), 0);
	assert_false(r.converged);
	assert_true(t.downtime_s > 0.1 && t.vcpu_scale > 0 && t.vcpu_scale < 1);
}

static void test_geometric_baseline_overestimates_saturation(void **state)
{
	struct model_inputs in;
	struct model_result r, g;

	(void)state;
	base(&in, 128 * MB, 100 * MB, 20000, 0.05);
	in.curve[0].cap = 2048; /* a hot 8 MiB set */
	assert_int_equal(model_predict(&in, &r), 0);
	assert_int_equal(model_geometric(&in, &g), 0);
	/* the straight line through W(T1) = S/T1 dirties no more in T1 but more in shorter rounds:
	 * here the saturated set converges at once, the line too; both see round 1 alike */
	assert_true(fabs(g.round[1].ram_pages - r.round[1].ram_pages) < 1e-6);
	assert_true(g.bytes <= r.bytes + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constant_rate_closed_form),
		cmocka_unit_test(test_saturated_working_set),
		cmocka_unit_test(test_qemu72_threshold_and_unthrottled_stop_copy),
		cmocka_unit_test(test_failed_data_size_never_converges),
		cmocka_unit_test(test_tuned_bandwidth_holds),
		cmocka_unit_test(test_geometric_baseline_overestimates_saturation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
