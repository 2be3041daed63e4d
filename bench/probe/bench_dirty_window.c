// SPDX-License-Identifier: GPL-2.0
/*
 * What the W(t) histogram adds to each write fault on a watched range: the
 * dirty family's fault handler with and without it (test__fault_hist and
 * test__fault_no_hist, the attached handler's two builds), run alternately
 * in the same process on the same armed range through BPF_PROG_TEST_RUN,
 * with the kernel's BPF run statistics: run_time_ns / run_cnt of each, the
 * median of REPS batches. Then, for scale, the attached handler over real
 * write faults on the range (its run count includes every other user page
 * fault on the host meanwhile, which leave at its first checks).
 *
 * Goal: the histogram (one clock read, a dozen shifts and compares, one
 * atomic add) adds under 10% to a write fault on the range, measured here
 * too: the wall time of a pass of first writes over it, per page.
 */
#include <stdint.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "memory/guest_mem.h"
#include "probe/loader.h"

#define MEM (64u << 20)
#define BATCH 20000
#define REPS 9
#define GOAL_SHARE 0.10

/* run_time_ns and run_cnt of this process's program whose (15-character) name starts so. */
static int prog_run(const char *name, uint64_t *ns, uint64_t *cnt)
{
	char path[64], link[64];
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		ssize_t l;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		if (strcmp(link, "anon_inode:bpf-prog") || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if (!strncmp(info.name, name, sizeof(info.name) - 1)) {
			*ns = info.run_time_ns;
			*cnt = info.run_cnt;
			return 0;
		}
	}
	return -1;
}

/* ns per run of prog over BATCH test runs on a write fault at addr. */
static double batch(struct vfmig_probes *p, const char *prog, uint64_t addr)
{
	uint64_t args[3] = {addr, 0, 2 /* X86_PF_WRITE */}, ns0, cnt0, ns1, cnt1;

	if (prog_run(prog, &ns0, &cnt0))
		bench_die(prog);
	for (int i = 0; i < BATCH; i++) {
		if (probes_test_run(p, prog, args, 3) < 0)
			bench_die("BPF_PROG_TEST_RUN");
	}
	if (prog_run(prog, &ns1, &cnt1) || cnt1 == cnt0)
		bench_die("run statistics");
	return (double)(ns1 - ns0) / (double)(cnt1 - cnt0);
}

/*
 * ns per run of the attached handler over one pass of real write faults on
 * the range, and the pass's wall time per page in *fault_ns.
 */
static double real_faults(struct guest_mem *g, uint64_t *bm, uint64_t *faults, double *fault_ns)
{
	uint64_t ns0, cnt0, ns1, cnt1, n;
	volatile uint8_t *m = guest_mem_vcpu(g);
	double t;

	if (guest_mem_harvest(g, bm, &n) || prog_run("raw_tp__page_fault_user", &ns0, &cnt0))
		bench_die("harvest");
	t = bench_now();
	for (size_t off = 0; off < MEM; off += 4096)
		m[off] = 1;
	*fault_ns = (bench_now() - t) * 1e9 / (MEM / 4096);
	if (prog_run("raw_tp__page_fault_user", &ns1, &cnt1) || guest_mem_harvest(g, bm, &n))
		bench_die("harvest");
	*faults = cnt1 - cnt0;
	return cnt1 > cnt0 ? (double)(ns1 - ns0) / (double)(cnt1 - cnt0) : 0;
}

int main(void)
{
	static char self[4096];
	struct probe_opts o = {.pid = getpid(), .binary = self};
	double with[REPS], without[REPS], real[REPS], fault[REPS], lo, hi, w, wo, f;
	struct vfmig_probes *p;
	struct guest_mem *g;
	uint64_t *bm, addr, faults = 0;
	char err[256];
	int stats;

	bench_header("dirty_window", "BPF run time per write fault, W(t) histogram on and off");
	if (geteuid() || guest_mem_probe(err, sizeof(err))) {
		printf("SKIP: needs root and userfaultfd write-protect (%s)\n",
		       geteuid() ? "not root" : err);
		return 0;
	}
	if (!realpath("/proc/self/exe", self) || probes_open(&p, &o, err, sizeof(err)))
		bench_die("probes_open");
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	g = guest_mem_create(MEM, err, sizeof(err));
	if (stats < 0 || !g || guest_mem_track_start(g))
		bench_die("setup (run statistics, guest memory)");
	bm = calloc(guest_mem_bitmap_words(g), 8);
	addr = (uintptr_t)guest_mem_vcpu(g) + MEM / 2;
	for (int r = 0; r < REPS; r++) {
		without[r] = batch(p, "test__fault_no_hist", addr);
		with[r] = batch(p, "test__fault_hist", addr);
		real[r] = real_faults(g, bm, &faults, &fault[r]);
	}
	wo = bench_median(without, REPS, NULL, NULL);
	w = bench_median(with, REPS, &lo, &hi);
	printf("fault handler, no histogram   %8.1f ns/run (median of %d x %d test runs)\n", wo,
	       REPS, BATCH);
	printf("fault handler, with histogram %8.1f ns/run [%.1f..%.1f]\n", w, lo, hi);
	f = bench_median(fault, REPS, NULL, NULL);
	printf("write fault on the range       %8.1f ns (wall, per page, handler included)\n", f);
	printf("histogram cost                %8.1f ns per matched fault, %.1f%% of a fault "
	       "(goal < %.0f%%): %s\n",
	       w - wo, 100 * (w - wo) / f, 100 * GOAL_SHARE,
	       w - wo < GOAL_SHARE * f ? "met" : "MISSED");
	printf("attached handler, real faults %8.1f ns/run over %llu runs per pass of %u pages\n",
	       bench_median(real, REPS, NULL, NULL), (unsigned long long)faults, MEM / 4096);
	guest_mem_track_stop(g);
	guest_mem_destroy(g);
	free(bm);
	close(stats);
	probes_close(p);
	return 0;
}
