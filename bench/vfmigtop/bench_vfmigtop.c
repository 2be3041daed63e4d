// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop's own CPU, from its own rusage, while 16 emulated VMs of 4 devices
 * each (64 devices) run: at a 1 s refresh (goal: under 1% of a core) and at
 * 100 ms. Baseline, in the same run: the same vfmigtop with nothing to show
 * (-p of an idle process), so the ratio is what 64 devices cost it.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define VMS 16

static char emu[PATH_MAX], top[PATH_MAX];

static void tools(const char *self)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", self);
	*strrchr(dir, '/') = 0;
	snprintf(emu, sizeof(emu), "%s/../../vfmig-emu", dir);
	snprintf(top, sizeof(top), "%s/../../vfmigtop", dir);
	if (access(emu, X_OK) || access(top, X_OK))
		bench_die("finding build/vfmig-emu and build/vfmigtop");
}

static pid_t spawn(char *const *argv)
{
	pid_t pid = fork();

	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* vfmigtop's CPU seconds over n intervals of ms, watching pid (0: all); *wall its run time. */
static double top_run(unsigned int ms, unsigned int n, pid_t pid, double *wall)
{
	char ms_s[16], n_s[16], pid_s[16];
	char *argv[] = {top, "-b", "-i", ms_s, "-n", n_s, "-p", pid_s, NULL};
	struct rusage ru;
	double t0 = bench_now();
	int status;
	pid_t p;

	snprintf(ms_s, sizeof(ms_s), "%u", ms);
	snprintf(n_s, sizeof(n_s), "%u", n);
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	if (!pid)
		argv[6] = NULL;
	p = spawn(argv);
	if (p < 0 || wait4(p, &status, 0, &ru) != p || !WIFEXITED(status) || WEXITSTATUS(status))
		bench_die("vfmigtop");
	*wall = bench_now() - t0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/*
 * Its steady cost, a share of one core: a short and a long run told apart, so
 * that loading the probes (the same in both) is not counted.
 */
static double top_cpu(unsigned int ms, unsigned int n, pid_t pid)
{
	double w1, w2, c1 = top_run(ms, 2, pid, &w1), c2 = top_run(ms, 2 + n, pid, &w2);

	return w2 > w1 ? (c2 - c1) / (w2 - w1) : 0;
}

static void row(const char *what, double base, double with, double goal)
{
	printf("%-34s %8.3f%% %8.3f%%  x%-6.2f %s\n", what, 100 * base, 100 * with,
	       base > 0 ? with / base : 0,
	       goal <= 0     ? ""
	       : with < goal ? "goal met"
			     : "GOAL MISSED");
}

int main(int argc, char **argv)
{
	char *vm[] = {emu,
		      "run",
		      "--time",
		      "120",
		      "--vcpus",
		      "0",
		      "--harvest-ms",
		      "1000",
		      "--mem",
		      "16m",
		      "--device",
		      "nic:dirty=type1-pin,rate=100",
		      "--device",
		      "nic:dirty=dma-log,rate=100",
		      "--device",
		      "bigmem:mem=1m,rate=10",
		      "--device",
		      "nic:dirty=iommufd,rate=100",
		      NULL};
	char *idle[] = {"/bin/sleep", "120", NULL};
	pid_t vms[VMS], quiet;
	double base1, with1, base100, with100;
	int i;

	(void)argc;
	if (geteuid())
		bench_die("running as root (the probes)");
	tools(argv[0]);
	quiet = spawn(idle);
	base1 = top_cpu(1000, 10, quiet);
	base100 = top_cpu(100, 150, quiet);
	for (i = 0; i < VMS; i++)
		vms[i] = spawn(vm);
	sleep(2);
	with1 = top_cpu(1000, 10, 0);
	with100 = top_cpu(100, 150, 0);
	for (i = 0; i < VMS; i++)
		kill(vms[i], SIGTERM);
	kill(quiet, SIGTERM);
	while (wait(NULL) > 0)
		;
	printf("vfmigtop's own CPU in its steady state (rusage of a long run less a short one, over\n"
	       "the time between), %d VMs x 4 devices = 64 devices; baseline: the same vfmigtop\n"
	       "watching an idle process, in this run\n",
	       VMS);
	printf("%-34s %9s %9s  %-7s\n", "", "baseline", "64 devs", "ratio");
	row("refresh 1 s", base1, with1, 0.01);
	row("refresh 100 ms", base100, with100, 0);
	return 0;
}
