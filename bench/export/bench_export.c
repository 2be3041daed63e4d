// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of one Prometheus scrape with 64 emulated devices: the probes
 * attached to this process, 64 devices stepped through STOP and RUNNING (each
 * with its counters, state, and two arcs' histograms), then, alternately in
 * the same run, the aggregator's own reads every tool makes (agg_step,
 * agg_hists, agg_devices: the baseline) and a whole scrape (exporter_refresh
 * and exporter_prom: those reads, names, BPF run statistics, and the text).
 *
 * Goal: a scrape under 50 ms (Prometheus's timeout is 10 s by default; a
 * scrape every 15 s then costs under 0.4% of a CPU).
 */
#include <limits.h>
#include <unistd.h>

#include "bench.h"
#include "device/device.h"
#include "export/export.h"
#include "probe/aggregate.h"
#include "probe/loader.h"

#define NDEVS 64
#define REPS 15
#define GOAL_S 0.050

static struct emu_dev *devs[NDEVS];

static void make_devices(void)
{
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=64k,block=4k"};
	int i;

	for (i = 0; i < NDEVS; i++) {
		devs[i] = emu_dev_create(&cfg);
		if (!devs[i])
			bench_die("emu_dev_create");
		emu_set_state(devs[i], VFIO_DEVICE_STATE_STOP, NULL);
		emu_set_state(devs[i], VFIO_DEVICE_STATE_RUNNING, NULL);
	}
}

static double baseline(struct vfmig_probes *p, struct agg_view *v, struct agg_hist *h,
		       uint64_t *keys)
{
	double t0 = bench_now();

	if (agg_step(p, v, t0) || agg_hists(p, h, VFMIG_MAX_DEVICES * 8) < NDEVS ||
	    agg_devices(p, keys, VFMIG_MAX_DEVICES) < NDEVS)
		bench_die("the aggregator's reads");
	return bench_now() - t0;
}

static double scrape(struct exporter *x, size_t *bytes, double *refresh)
{
	double t0 = bench_now();
	char *text;
	FILE *f = open_memstream(&text, bytes);

	if (!f || exporter_refresh(x, t0))
		bench_die("exporter_refresh");
	*refresh = bench_now() - t0;
	exporter_prom(x, f);
	fclose(f);
	t0 = bench_now() - t0;
	free(text);
	return t0;
}

int main(void)
{
	struct live_link link = {.cap_bps = -1, .link_bps = -1, .downtime_s = -1, .max_rounds = -1};
	struct agg_hist *h = calloc(VFMIG_MAX_DEVICES * 8, sizeof(*h));
	uint64_t *keys = calloc(VFMIG_MAX_DEVICES, sizeof(*keys));
	struct agg_view *v = agg_view_new();
	double base[REPS], cost[REPS], refresh[REPS], med;
	char self[PATH_MAX], err[256];
	struct probe_opts o = {.pid = getpid(), .binary = self};
	struct vfmig_probes *p;
	struct exporter *x;
	size_t bytes = 0;
	int i;

	bench_header("export", "one /metrics scrape with 64 emulated devices");
	if (!h || !keys || !v || readlink("/proc/self/exe", self, sizeof(self) - 1) <= 0)
		bench_die("setup");
	self[readlink("/proc/self/exe", self, sizeof(self) - 1)] = 0;
	if (probes_open(&p, &o, err, sizeof(err))) {
		fprintf(stderr, "bench: probes_open: %s\n", err);
		bench_die("probes_open");
	}
	make_devices();
	x = exporter_new(p, &link);
	if (!x)
		bench_die("exporter_new");
	for (i = 0; i < REPS; i++) {
		base[i] = baseline(p, v, h, keys);
		cost[i] = scrape(x, &bytes, &refresh[i]);
	}
	printf("  %-34s %8.2f ms (median of %d)\n", "aggregator reads (baseline)",
	       bench_median(base, REPS, NULL, NULL) * 1e3, REPS);
	printf("  %-34s %8.2f ms (median of %d)\n", "of which reads and names",
	       bench_median(refresh, REPS, NULL, NULL) * 1e3, REPS);
	med = bench_median(cost, REPS, NULL, NULL);
	printf("  %-34s %8.2f ms (median of %d), %zu bytes, %.1fx baseline\n", "scrape", med * 1e3,
	       REPS, bytes, med / bench_median(base, REPS, NULL, NULL));
	printf("  goal scrape <= %.0f ms: %.2f ms, %s\n", GOAL_S * 1e3, med * 1e3,
	       med <= GOAL_S ? "met" : "NOT met");
	exporter_free(x);
	for (i = 0; i < NDEVS; i++)
		emu_dev_destroy(devs[i]);
	probes_close(p);
	agg_view_free(v);
	free(h);
	free(keys);
	return 0;
}
