// SPDX-License-Identifier: GPL-2.0
/*
 * What the probes cost: an emulated migration (vfmig-emu migrate in a child
 * process) with every probe family attached against the same migration
 * without, in the child's CPU time and in wall time, medians over repeated
 * runs with their spread (goal: under 2%); and the cost of one event of the
 * USDT and syscall-tracepoint sources, against the same calls unprobed.
 * Needs root; says so otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "emu/device.h"
#include "probe/loader.h"

#define RUNS 5
#define CALLS 200000

static char emu[PATH_MAX];

/* One migration in a child; its CPU seconds in *cpu, wall seconds returned. */
static double migrate(struct vfmig_probes **probes, bool probed, double *cpu)
{
	char *argv[] = {emu,   "migrate",     "--mem", "128m",	     "--rate", "5000", "--wss",
			"32m", "--bandwidth", "300",   "--downtime", "50",     NULL};
	struct probe_opts o = {.binary = emu};
	int go[2], status, null;
	struct rusage ru;
	char err[256], c;
	double t;
	pid_t pid;

	if (pipe(go))
		bench_die("pipe");
	pid = fork();
	if (!pid) {
		null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execv(emu, argv);
		_exit(127);
	}
	close(go[0]);
	if (probed) {
		o.pid = pid;
		if (probes_open(probes, &o, err, sizeof(err))) {
			fprintf(stderr, "bench_probes: %s\n", err);
			exit(1);
		}
	}
	t = bench_now();
	if (write(go[1], "g", 1) != 1)
		bench_die("write");
	close(go[1]);
	while (!waitpid(pid, &status, WNOHANG)) {
		if (probed)
			probes_poll(*probes, 50, NULL, NULL);
		else
			usleep(20000);
	}
	t = bench_now() - t;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bench_die("the migration");
	getrusage(RUSAGE_CHILDREN, &ru); /* cumulative: the caller takes differences */
	*cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	if (probed) {
		probes_close(*probes);
		*probes = NULL;
	}
	return t;
}

static void overhead(void)
{
	double wall[2][RUNS], cpu[2][RUNS], last = 0, c, lo, hi;
	struct vfmig_probes *p = NULL;
	int i, k;

	for (i = 0; i < RUNS; i++) {
		for (k = 0; k < 2; k++) {
			wall[k][i] = migrate(&p, k, &c);
			cpu[k][i] = c - last;
			last = c;
		}
	}
	for (k = 0; k < 2; k++) {
		double w = bench_median(wall[k], RUNS, &lo, &hi);

		printf("  migration %-16s wall %7.1f ms (%.1f..%.1f)", k ? "probed" : "unprobed",
		       w * 1e3, lo * 1e3, hi * 1e3);
		w = bench_median(cpu[k], RUNS, &lo, &hi);
		printf("  cpu %7.1f ms (%.1f..%.1f)\n", w * 1e3, lo * 1e3, hi * 1e3);
	}
	printf("  slowdown with every probe: wall %+.2f%%, cpu %+.2f%% (goal: under 2%%)\n",
	       (bench_median(wall[1], RUNS, NULL, NULL) / bench_median(wall[0], RUNS, NULL, NULL) -
		1) * 100,
	       (bench_median(cpu[1], RUNS, NULL, NULL) / bench_median(cpu[0], RUNS, NULL, NULL) -
		1) * 100);
}

static double per_call(void (*fn)(void *), void *arg)
{
	double t = bench_now();
	int i;

	for (i = 0; i < CALLS; i++)
		fn(arg);
	return (bench_now() - t) / CALLS;
}

static void usdt_call(void *dev)
{
	uint64_t size;

	emu_get_data_size(dev, &size); /* one data_size USDT hit */
}

static void ioctl_call(void *fd)
{
	uint32_t hdr[4] = {16, 0x20002, 0, 0}; /* a decoded MIG_DEVICE_STATE SET */

	ioctl(*(int *)fd, 0x3b75, hdr);
}

static void per_event(void)
{
	struct emu_dev_cfg cfg = {.model = "nic"};
	struct emu_dev *dev = emu_dev_create(&cfg);
	struct probe_opts o = {.pid = getpid()};
	char self[PATH_MAX], err[256];
	int fd = open("/dev/null", O_RDONLY);
	double base_u, base_s, u, s;
	struct vfmig_probes *p;

	if (!realpath("/proc/self/exe", self) || !dev || fd < 0)
		bench_die("setup");
	o.binary = self;
	base_u = per_call(usdt_call, dev);
	base_s = per_call(ioctl_call, &fd);
	if (probes_open(&p, &o, err, sizeof(err)))
		bench_die(err);
	u = per_call(usdt_call, dev);
	s = per_call(ioctl_call, &fd);
	probes_close(p);
	printf("  per event: USDT (uprobe) %.2f us (call %.2f -> %.2f us); syscall tracepoint "
	       "decode %.2f us (ioctl %.2f -> %.2f us)\n",
	       (u - base_u) * 1e6, base_u * 1e6, u * 1e6, (s - base_s) * 1e6, base_s * 1e6,
	       s * 1e6);
	emu_dev_destroy(dev);
	close(fd);
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", emu, sizeof(emu) - 32);

	bench_header("bench_probes", "cost of the probes on an emulated migration and per event");
	if (geteuid()) {
		printf("  skipped: loading BPF programs needs root (CAP_BPF, CAP_PERFMON)\n");
		return 0;
	}
	if (n <= 0)
		bench_die("readlink");
	emu[n] = 0;
	strcpy(strstr(emu, "/bench/"), "/vfmig-emu");
	overhead();
	per_event();
	return 0;
}
