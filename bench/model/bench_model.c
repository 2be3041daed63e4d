// SPDX-License-Identifier: GPL-2.0
/*
 * How long a prediction and a tuning take per scenario (goals: under 10 ms and under 100 ms),
 * against the geometric baseline's prediction timed in the same run. The inputs are
 * make score's scenarios' shapes, built by predict_inputs with fixed costs (the calibration
 * vfmig-emu predict runs first is timed apart, once).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "migration/predict.h"

#define RUNS 15

struct shape {
	const char *name;
	uint64_t mem, wss, rate;
	enum workload_pattern pattern;
	const char *dev;
	enum vm_dirty dirty;
	uint64_t dev_rate;
	double cap_mb, downtime_ms;
	unsigned int rounds;
};

static const struct shape shapes[] = {
	{"uniform 128m", 128, 32, 5000, WORKLOAD_UNIFORM, "nic", VM_DIRTY_TYPE1_PIN, 5000, 200, 30,
	 30},
	{"hotcold 256m", 256, 128, 10000, WORKLOAD_HOTCOLD, "nic", VM_DIRTY_DMA_LOG, 2000, 300, 40,
	 30},
	{"bigmem 64m", 64, 16, 1000, WORKLOAD_UNIFORM, "bigmem", VM_DIRTY_NONE, 400, 150, 60, 30},
	{"nc-hot 128m", 128, 96, 30000, WORKLOAD_UNIFORM, "nic", VM_DIRTY_TYPE1_PIN, 1000, 60, 200,
	 6},
	{"nc-iommu 128m", 128, 16, 1000, WORKLOAD_SWEEP, "nic", VM_DIRTY_TYPE1_IOMMU, 1000, 200,
	 100, 5},
};

static void inputs_of(const struct shape *s, const struct predict_costs *c, struct model_inputs *in)
{
	struct vm_cfg cfg = {.mem_size = s->mem << 20, .ndevs = 1};
	struct predict_link l = {s->cap_mb * 1e6, s->downtime_ms / 1e3, s->rounds};

	cfg.wl.threads = 1;
	cfg.wl.rate = s->rate;
	cfg.wl.ws_pages = (s->wss << 20) / 4096;
	cfg.wl.pattern = s->pattern;
	cfg.wl.hot_fraction = 0.1;
	cfg.wl.hot_share = 0.9;
	snprintf(cfg.devs[0].variant, sizeof(cfg.devs[0].variant), "%s", s->dev);
	snprintf(cfg.devs[0].params, sizeof(cfg.devs[0].params), "%s",
		 strcmp(s->dev, "bigmem") ? "" : "mem=32m");
	cfg.devs[0].dirty = s->dirty;
	cfg.devs[0].rate = s->dev_rate;
	predict_inputs(&cfg, &l, c, in);
}

int main(void)
{
	static struct model_inputs in;
	static struct model_result r;
	static struct model_tuning t;
	struct predict_costs c = {
		.link_bps = 2e9, .hash_bps = 5e8, .harvest_bps = 1e11, .setup_s_per_byte = 1e-9};
	double tp[RUNS], tg[RUNS], tt[RUNS], t0, lo, hi, worst_p = 0, worst_t = 0;

	bench_header("bench_model", "prediction and tuning time per scenario");
	t0 = bench_now();
	predict_measure_costs(&c);
	printf("  calibration (vfmig-emu predict's, once): %.1f ms\n", (bench_now() - t0) * 1e3);
	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		inputs_of(&shapes[k], &c, &in);
		for (int i = 0; i < RUNS; i++) {
			t0 = bench_now();
			model_predict(&in, &r);
			tp[i] = bench_now() - t0;
			t0 = bench_now();
			model_geometric(&in, &r);
			tg[i] = bench_now() - t0;
			t0 = bench_now();
			model_tune(&in, &t);
			tt[i] = bench_now() - t0;
		}
		double mp = bench_median(tp, RUNS, &lo, &hi),
		       mt = bench_median(tt, RUNS, NULL, NULL);

		printf("  %-14s predict %8.1f us (%.1f..%.1f), %.2fx the geometric baseline; "
		       "tune %8.1f us\n",
		       shapes[k].name, mp * 1e6, lo * 1e6, hi * 1e6,
		       mp / bench_median(tg, RUNS, NULL, NULL), mt * 1e6);
		worst_p = mp > worst_p ? mp : worst_p;
		worst_t = mt > worst_t ? mt : worst_t;
	}
	printf("  goal prediction < 10 ms: %.3f ms, %s; tuning < 100 ms: %.3f ms, %s\n",
	       worst_p * 1e3, worst_p < 0.01 ? "met" : "NOT met", worst_t * 1e3,
	       worst_t < 0.1 ? "met" : "NOT met");
	return 0;
}
