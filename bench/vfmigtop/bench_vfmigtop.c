// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop's own CPU, as the scheduler charged it, while 16 emulated VMs of 4 devices
 * each (64 devices) run: at a 1 s refresh (goal: under 1% of a core) and at
 * 100 ms. Baseline, in the same run: the same vfmigtop with nothing to show
 * (-p of an idle process), so the ratio is what 64 devices cost it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The CPU time the scheduler charged pid, all its threads, in seconds (ns-exact). */
static double cpu_of(pid_t pid)
{
	char path[64], line[128];
	struct dirent *e;
	double sum = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		bench_die("reading /proc/PID/task of vfmigtop");
	while ((e = readdir(d))) {
		char file[PATH_MAX];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/schedstat", path, e->d_name);
		f = fopen(file, "r");
		if (f && fgets(line, sizeof(line), f))
			sum += strtod(line, NULL) / 1e9; /* its first field: ns run */
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

/*
 * vfmigtop's steady cost, a share of one core: one vfmigtop refreshing every
 * ms, watching pid (0: all), its CPU read between two instants well after it
 * loaded the probes, so that the loading is not counted.
 */
static double top_cpu(unsigned int ms, double seconds, pid_t pid)
{
	char ms_s[16], pid_s[16];
	char *argv[] = {top, "-b", "-i", ms_s, "-p", pid_s, NULL};
	double c0, c1, t0, t1;
	int status;
	pid_t p;

	snprintf(ms_s, sizeof(ms_s), "%u", ms);
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	if (!pid)
		argv[4] = NULL;
	p = spawn(argv);
	if (p < 0)
		bench_die("starting vfmigtop");
	usleep(3000000 + 2 * ms * 1000); /* the probes loaded, two intervals drawn */
	c0 = cpu_of(p), t0 = bench_now();
	usleep((useconds_t)(seconds * 1e6));
	c1 = cpu_of(p), t1 = bench_now();
	kill(p, SIGINT);
	if (waitpid(p, &status, 0) != p || !WIFEXITED(status) || WEXITSTATUS(status))
		bench_die("vfmigtop");
	return (c1 - c0) / (t1 - t0);
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
	base100 = top_cpu(100, 10, quiet);
	for (i = 0; i < VMS; i++)
		vms[i] = spawn(vm);
	sleep(2);
	with1 = top_cpu(1000, 10, 0);
	with100 = top_cpu(100, 10, 0);
	for (i = 0; i < VMS; i++)
		kill(vms[i], SIGTERM);
	kill(quiet, SIGTERM);
	while (wait(NULL) > 0)
		;
	printf("vfmigtop's own CPU in its steady state (the run time the scheduler charged its\n"
	       "threads over 10 s, after loading), %d VMs x 4 devices = 64 devices; baseline: the\n"
	       "same vfmigtop watching an idle process, in this run\n",
	       VMS);
	printf("%-34s %9s %9s  %-7s\n", "", "baseline", "64 devs", "ratio");
	row("refresh 1 s", base1, with1, 0.01);
	row("refresh 100 ms", base100, with100, 0);
	return 0;
}
