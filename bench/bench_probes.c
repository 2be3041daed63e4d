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
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "emu/device.h"
#include "probe/loader.h"

#define RUNS 5
#define CALLS 200000

static char emu[PATH_MAX];

enum mode { UNPROBED, VFMIG, BPFTRACE, NMODES };

/* bpftrace counting what vfmig's families count, on the same process; NULL if it is absent. */
static FILE *bpftrace(pid_t pid, pid_t *bt)
{
	char script[2048], cmd[2600], line[256];
	FILE *f;

	/* -p would look for the binary in the process, which has not exec'ed it yet */
	snprintf(
		script, sizeof(script),
		"usdt:%1$s:vfmig:fsm_step /pid == %2$d/ { @steps = count(); @step_ns = hist(arg4); }"
		"usdt:%1$s:vfmig:state_set_start /pid == %2$d/ { @start[tid] = nsecs; }"
		"usdt:%1$s:vfmig:state_set_end /@start[tid]/ { @req_ns = hist(nsecs - @start[tid]);"
		" delete(@start[tid]); }"
		"usdt:%1$s:vfmig:data_read /pid == %2$d && arg3 > 0/ { @read = sum(arg3); }"
		"usdt:%1$s:vfmig:pin_pages /pid == %2$d/ { @pins = count(); }"
		"usdt:%1$s:vfmig:dirty_query_end /pid == %2$d/ { @queries = count(); }"
		"tracepoint:exceptions:page_fault_user /pid == %2$d && (args->error_code & 2)/"
		" { @faults = count(); }",
		emu, pid);
	snprintf(cmd, sizeof(cmd), "exec bpftrace -e '%s' 2>&1 & echo $!", script);
	f = popen(cmd, "r");
	if (!f || !fgets(line, sizeof(line), f))
		return NULL;
	*bt = atoi(line);
	while (fgets(line, sizeof(line), f)) { /* attached once it says so */
		if (strstr(line, "Attaching"))
			return f;
	}
	pclose(f);
	return NULL;
}

/* One migration in a child; its CPU seconds in *cpu, wall seconds returned. */
static double migrate(struct vfmig_probes **probes, enum mode mode, double *cpu)
{
	FILE *bt = NULL;
	pid_t btpid = 0;
	bool probed = mode == VFMIG;
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
	if (mode == BPFTRACE) {
		bt = bpftrace(pid, &btpid);
		if (!bt)
			bench_die("bpftrace");
	}
	t = bench_now();
	if (write(go[1], "g", 1) != 1)
		bench_die("write");
	close(go[1]);
	while (!wait4(pid, &status, WNOHANG, &ru)) {
		if (probed)
			probes_poll(*probes, 50, NULL, NULL);
		else
			usleep(20000);
	}
	t = bench_now() - t;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bench_die("the migration");
	if (bt) {
		kill(btpid, SIGINT);
		while (fgets(err, sizeof(err), bt))
			;
		pclose(bt);
	}
	*cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	if (probed) {
		probes_close(*probes);
		*probes = NULL;
	}
	return t;
}

static void bench_vs_bpftrace(double cpu[NMODES][RUNS], int nmodes)
{
	double base = bench_median(cpu[0], RUNS, NULL, NULL);
	double ours = bench_median(cpu[1], RUNS, NULL, NULL);
	double theirs;

	if (nmodes < 3) {
		printf("  bpftrace comparison skipped: bpftrace is not installed\n");
		return;
	}
	theirs = bench_median(cpu[2], RUNS, NULL, NULL);
	printf("  the same USDT and fault counts by a bpftrace script: cpu %+.2f%% (vfmig %+.2f%%): "
	       "vfmig %s\n",
	       (theirs / base - 1) * 100, (ours / base - 1) * 100,
	       ours < theirs ? "is cheaper (goal met)" : "is NOT cheaper (goal not met)");
}

static void overhead(void)
{
	static const char *const names[] = {"unprobed", "vfmig probes", "bpftrace"};
	double wall[NMODES][RUNS], cpu[NMODES][RUNS], lo, hi;
	int nmodes = system("bpftrace --version >/dev/null 2>&1") ? 2 : 3;
	struct vfmig_probes *p = NULL;
	int i, k;

	for (i = 0; i < RUNS; i++)
		for (k = 0; k < nmodes; k++)
			wall[k][i] = migrate(&p, k, &cpu[k][i]);
	for (k = 0; k < nmodes; k++) {
		double w = bench_median(wall[k], RUNS, &lo, &hi);

		printf("  migration %-14s wall %7.1f ms (%.1f..%.1f)", names[k], w * 1e3, lo * 1e3,
		       hi * 1e3);
		w = bench_median(cpu[k], RUNS, &lo, &hi);
		printf("  cpu %7.1f ms (%.1f..%.1f)\n", w * 1e3, lo * 1e3, hi * 1e3);
	}
	printf("  slowdown with every probe: wall %+.2f%%, cpu %+.2f%% (goal: under 2%%)\n",
	       (bench_median(wall[1], RUNS, NULL, NULL) / bench_median(wall[0], RUNS, NULL, NULL) -
		1) * 100,
	       (bench_median(cpu[1], RUNS, NULL, NULL) / bench_median(cpu[0], RUNS, NULL, NULL) -
		1) * 100);
	bench_vs_bpftrace(cpu, nmodes);
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
