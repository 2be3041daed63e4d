// SPDX-License-Identifier: GPL-2.0
/* vfmigprof: attach vfmig's probes and report. Argument parsing and wiring only. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu/device.h"
#include "probe/aggregate.h"
#include "probe/host.h"

#define EXIT_USAGE 2
#define MAX_HISTS 512

static const char usage_text[] =
	"Usage: vfmigprof COMMAND [OPTIONS] [-- PROGRAM ARGS...]\n"
	"Profile VFIO dirty tracking and live migration with BPF.\n"
	"\n"
	"Commands:\n"
	"  probes                 load every probe family, print what attached where and why\n"
	"                         the rest did not\n"
	"  stat [-- PROGRAM...]   run PROGRAM (or watch -p PID or --cgroup PATH until Ctrl-C or\n"
	"                         --duration) and print the totals of every family when it\n"
	"                         ends, like perf stat\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID          only this process (its binary is the USDT target)\n"
	"  -b, --binary PATH      where the USDT probes are (default: PROGRAM, the process's\n"
	"                         binary, or the vfmig-emu beside vfmigprof)\n"
	"  -d, --device DEV       only this device: an emulated device id, or PID:FD of a VFIO\n"
	"                         device fd (transitions and decoded ioctls)\n"
	"      --cgroup PATH      only processes in this cgroup v2 directory or below it\n"
	"                         (e.g. /sys/fs/cgroup/machine.slice/NAME.scope)\n"
	"      --duration SEC     stat without PROGRAM: stop after SEC seconds\n"
	"  -j, --json             machine-readable output\n"
	"  -h, --help             this text\n"
	"\n"
	"Examples:\n"
	"  vfmigprof probes\n"
	"  vfmigprof stat -- vfmig-emu migrate --mem 128m\n";

struct opts {
	const char *cmd, *binary, *cgroup;
	pid_t pid;
	uint64_t dev;
	unsigned int duration;
	bool json;
	char **prog;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vfmigprof: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see vfmigprof --help)\n");
	return EXIT_USAGE;
}

/* getopt leaves the unknown option's text in argv: name it as it was typed. */
static int bad_option(const char *arg)
{
	char opt[3] = {'-', (char)optopt, 0};

	return usage_error("unknown option '%s'", optopt ? opt : arg);
}

/* "N" (an emulated device id) or "PID:FD" (a VFIO device fd of a process). */
static int parse_dev(const char *s, uint64_t *dev)
{
	unsigned long long a, b;
	char tail;

	if (sscanf(s, "%llu:%llu%c", &a, &b, &tail) == 2 && a && a < (1ull << 32) &&
	    b < (1ull << 32)) {
		*dev = a << 32 | b;
		return 0;
	}
	if (sscanf(s, "%llu%c", &a, &tail) == 1 && a) {
		*dev = a;
		return 0;
	}
	return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"binary", required_argument, NULL, 'b'},
		{"duration", required_argument, NULL, 'D'},
		{"device", required_argument, NULL, 'd'},
		{"cgroup", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	if (argc > 1 && argv[1][0] != '-') { /* COMMAND first, then its options */
		o->cmd = argv[1];
		argv++;
		argc--;
	}
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, "+:p:b:d:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pid = strtol(optarg, &end, 10);
			if (*end || o->pid <= 0)
				return usage_error("-p '%s' is not a process id", optarg);
			if (kill(o->pid, 0) && errno == ESRCH)
				return usage_error("-p %s: no such process", optarg);
			break;
		case 'C':
			o->cgroup = optarg;
			break;
		case 'b':
			o->binary = optarg;
			break;
		case 'D':
			o->duration = strtoul(optarg, &end, 10);
			if (*end || !o->duration)
				return usage_error("--duration '%s' is not a number of seconds",
						   optarg);
			break;
		case 'd':
			if (parse_dev(optarg, &o->dev))
				return usage_error("-d '%s': use a device id or PID:FD", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return bad_option(argv[optind - 1]);
		}
	}
	if (!o->cmd && optind < argc)
		o->cmd = argv[optind++];
	if (!o->cmd)
		return usage_error("%sno command given", "");
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind < argc)
		o->prog = argv + optind;
	return 0;
}

/* PROGRAM's path as exec would find it, for the USDT probes. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/'))
		return realpath(name, NULL);
	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name);
		if (!access(buf, X_OK))
			return realpath(buf, NULL);
		path += len + (path[len] == ':');
	}
	return NULL;
}

static char *default_binary(const struct opts *o)
{
	char buf[PATH_MAX + 16];
	ssize_t n;

	if (o->binary)
		return realpath(o->binary, NULL);
	if (o->prog)
		return find_program(o->prog[0]);
	if (o->pid) {
		snprintf(buf, sizeof(buf), "/proc/%d/exe", o->pid);
		return realpath(buf, NULL);
	}
	n = readlink("/proc/self/exe", buf, PATH_MAX);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	strcpy(strrchr(buf, '/') + 1, "vfmig-emu");
	return access(buf, X_OK) ? NULL : strdup(buf);
}

static void print_table(const struct opts *o, struct vfmig_probes *p)
{
	const struct probe_row *rows;
	int i, n = probes_table(p, &rows);

	if (o->json) {
		printf("[");
		for (i = 0; i < n; i++)
			printf("%s{\"family\":\"%s\",\"program\":\"%s\",\"source\":\"%s\","
			       "\"attached\":%s,\"reason\":\"%s\"}",
			       i ? "," : "", rows[i].family, rows[i].program, rows[i].source,
			       rows[i].attached ? "true" : "false", rows[i].reason);
		printf("]\n");
		return;
	}
	printf("%-7s %-36s %-9s %-8s %s\n", "family", "program", "source", "status",
	       "where / why not");
	for (i = 0; i < n; i++)
		printf("%-7s %-36s %-9s %-8s %s\n", rows[i].family, rows[i].program, rows[i].source,
		       rows[i].attached ? "attached" : "off", rows[i].reason);
}

/*
 * A device as people know it: an emulated device's id, or for a VFIO device
 * fd (pid << 32 | fd) what the fd is and who holds it.
 */
static const char *dev_name(uint64_t dev, char *buf, size_t len)
{
	char path[64], target[128] = "?", comm[32] = "?";
	unsigned int pid = dev >> 32, fd = (unsigned int)dev;
	ssize_t n;
	FILE *f;

	if (!pid) {
		snprintf(buf, len, "emu%llu", (unsigned long long)dev);
		return buf;
	}
	snprintf(path, sizeof(path), "/proc/%u/fd/%u", pid, fd);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 1] = 0;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(buf, len, "%s[%u] fd %u %s", comm, pid, fd, target);
	return buf;
}

static const char *state(unsigned int s)
{
	return s == VFMIG_STATE_UNKNOWN ? "unknown" : emu_state_name(s);
}

static void print_hists(const struct opts *o, struct agg_hist *h, int n)
{
	static const char *const kinds[] = {"", "request", "step", "bitmap", "precopy_info"};
	static const char *const ifaces[VFMIG_IFACE_NR] = {"?", "type1", "dma-log", "iommufd",
							   "kvm"};
	int i;

	for (i = 0; i < n; i++) {
		const struct vfmig_hist_key *k = &h[i].key;
		char what[64], dev[192];

		if (k->kind == VFMIG_H_BITMAP)
			snprintf(what, sizeof(what), "%s",
				 ifaces[k->from < VFMIG_IFACE_NR ? k->from : 0]);
		else
			snprintf(what, sizeof(what), "%s->%s", state(k->from), state(k->to));
		if (o->json)
			printf("%s{\"kind\":\"%s\",\"dev\":%llu,\"name\":\"%s\",\"what\":\"%s\","
			       "\"result\":%d,"
			       "\"count\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu}",
			       i ? "," : "", kinds[k->kind < 5 ? k->kind : 0],
			       (unsigned long long)k->dev, dev_name(k->dev, dev, sizeof(dev)), what,
			       k->result, (unsigned long long)h[i].h.count,
			       (unsigned long long)agg_percentile(&h[i].h, 0.5),
			       (unsigned long long)agg_percentile(&h[i].h, 0.99),
			       (unsigned long long)h[i].h.max_ns);
		else
			printf("  %-8s %-10s %-28s %4d %8llu  p50 <%9.3f us  p99 <%9.3f us  max "
			       "%9.3f us\n",
			       kinds[k->kind < 5 ? k->kind : 0], dev_name(k->dev, dev, sizeof(dev)),
			       what, k->result, (unsigned long long)h[i].h.count,
			       agg_percentile(&h[i].h, 0.5) / 1e3,
			       agg_percentile(&h[i].h, 0.99) / 1e3, h[i].h.max_ns / 1e3);
	}
}

static int hist_cmp(const void *a, const void *b)
{
	const struct vfmig_hist_key *x = &((const struct agg_hist *)a)->key;
	const struct vfmig_hist_key *y = &((const struct agg_hist *)b)->key;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->from != y->from)
		return x->from - y->from;
	return x->to != y->to ? x->to - y->to : x->result - y->result;
}

static int drain_events(struct vfmig_probes *p)
{
	int n;

	while ((n = probes_poll(p, 0, NULL, NULL)) > 0)
		;
	return n < 0 && n != -EINTR ? n : 0;
}

static void print_stat(const struct opts *o, struct vfmig_probes *p, double secs)
{
	static struct agg_hist hists[MAX_HISTS];
	uint64_t c[VFMIG_C_NR];
	int i, n;

	drain_events(p);
	agg_counters(p, c);
	n = agg_hists(p, hists, MAX_HISTS);
	qsort(hists, n, sizeof(hists[0]), hist_cmp);
	if (o->json) {
		printf("{\"seconds\":%.3f,\"counters\":{", secs);
		for (i = 0; i < VFMIG_C_NR; i++)
			if (agg_counter_name(i))
				printf("%s\"%s\":%llu", i ? "," : "", agg_counter_name(i),
				       (unsigned long long)c[i]);
		printf("},\"histograms\":[");
		print_hists(o, hists, n);
		printf("],\"events_received\":%llu}\n", (unsigned long long)probes_received(p));
		return;
	}
	printf("\n vfmigprof stat: %.3f s, %d probes attached\n\n", secs, probes_attached(p));
	for (i = 0; i < VFMIG_C_NR; i++)
		if (agg_counter_name(i) && c[i])
			printf("  %18llu  %s\n", (unsigned long long)c[i], agg_counter_name(i));
	printf("  %18llu  events_received\n", (unsigned long long)probes_received(p));
	if (n)
		printf("\n  latency  device     what %26s count\n", "result");
	print_hists(o, hists, n);
}

/* A child that execs PROGRAM once the probes are attached (it waits on a pipe). */
static pid_t spawn(char **prog, int *go)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (!pid) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		execvp(prog[0], prog);
		fprintf(stderr, "vfmigprof: cannot run %s: %s\n", prog[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*go = fds[1];
	return pid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(struct opts *o)
{
	struct probe_opts po = {.pid = o->pid, .dev = o->dev, .cgroup = o->cgroup};
	struct vfmig_probes *p;
	char err[256], *bin = default_binary(o);
	int go = -1, status = 0, ret;
	pid_t child = 0;
	double t0;

	if (o->prog) {
		child = spawn(o->prog, &go);
		if (child < 0) {
			fprintf(stderr, "vfmigprof: fork: %s\n", strerror(errno));
			return 1;
		}
		po.pid = child;
	}
	po.binary = bin;
	ret = probes_open(&p, &po, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "vfmigprof: %s\n", err);
		if (child > 0)
			kill(child, SIGKILL);
		free(bin);
		return 1;
	}
	if (!strcmp(o->cmd, "probes")) {
		print_table(o, p);
		probes_close(p);
		free(bin);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	if (child > 0 && write(go, "g", 1) != 1)
		stop = 1;
	while (!stop) {
		probes_poll(p, 100, NULL, NULL);
		if (child > 0 && waitpid(child, &status, WNOHANG) == child)
			break;
		if (o->duration && now_s() - t0 >= o->duration)
			break;
	}
	print_stat(o, p, now_s() - t0);
	probes_close(p);
	free(bin);
	return child > 0 && (!WIFEXITED(status) || WEXITSTATUS(status)) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int ret = parse_opts(argc, argv, &o);
	uint64_t cgroup_id;
	char err[256];

	if (ret)
		return ret;
	if (strcmp(o.cmd, "probes") && strcmp(o.cmd, "stat"))
		return usage_error("unknown command '%s'", o.cmd);
	if (!strcmp(o.cmd, "stat") && !o.prog && !o.pid && !o.cgroup && !o.duration)
		return usage_error("stat needs -- PROGRAM, -p PID, --cgroup PATH or --duration "
				   "SECONDS%s",
				   "");
	if (o.cgroup && host_cgroup_id(o.cgroup, &cgroup_id, err, sizeof(err))) {
		fprintf(stderr, "vfmigprof: %s\n", err);
		return EXIT_USAGE;
	}
	return run(&o);
}
