// SPDX-License-Identifier: GPL-2.0
/* vfmigprof: attach vfmig's probes and report. Argument parsing and wiring only. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe/host.h"
#include "probe/dirty_window.h"
#include "probe/stat_out.h"
#include "probe/usdt_notes.h"

#define EXIT_USAGE 2

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
	"  -p, --pid PID          only this process (its binary is the USDT target) and, as\n"
	"                         with PROGRAM, the processes it forks while watched\n"
	"      --no-inherit       not the processes PROGRAM or PID fork (perf stat's -i)\n"
	"  -b, --binary PATH      where the USDT probes are (default: PROGRAM, the process's\n"
	"                         binary, or the vfmig-emu beside vfmigprof)\n"
	"  -d, --device DEV       only this device: an emulated device id (PID:emuN, or N in\n"
	"                         any process), or PID:FD of a VFIO\n"
	"                         device fd (its decoded ioctls: the syscall view; the kernel's\n"
	"                         FSM steps and pins are of the kernel's device, named apart,\n"
	"                         and not shown with -d PID:FD), or PID:NAME of a device QEMU's\n"
	"                         probes name (1234:0000:65:00.0)\n"
	"      --cgroup PATH      only processes in this cgroup v2 directory or below it\n"
	"                         (e.g. /sys/fs/cgroup/machine.slice/NAME.scope)\n"
	"      --duration SEC     stat without PROGRAM: stop after SEC seconds\n"
	"  -i, --interval MS      stat: also print the counters' change every MS milliseconds\n"
	"                         (with --json: one JSON object a line, \"type\":\"interval\")\n"
	"      --prefer KIND      fentry (default) or kprobe: the source for a kernel function\n"
	"                         that both can probe (fentry/fexit or kprobe/kretprobe)\n"
	"  -j, --json             machine-readable output\n"
	"  -v, --verbose          libbpf's messages (the verifier's log of a refused program) on\n"
	"                         stderr; also VFMIG_DEBUG=1 (2: with libbpf's debug lines)\n"
	"  -h, --help             this text\n"
	"\n"
	"Examples:\n"
	"  vfmigprof probes\n"
	"  vfmigprof probes --prefer kprobe\n"
	"  vfmigprof stat -- vfmig-emu migrate --mem 128m\n"
	"  vfmigprof stat -i 1000 --json --cgroup /sys/fs/cgroup/machine.slice\n";

struct opts {
	const char *cmd, *binary, *cgroup;
	pid_t pid;
	uint64_t dev;
	unsigned int duration, interval_ms;
	bool json, verbose, no_inherit;
	enum probe_prefer prefer;
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

/*
 * "N" (an emulated device id, in any process), "PID:emuN" (one process's),
 * "PID:FD" (a VFIO device fd of a process) or
 * "PID:NAME" (a device QEMU's probes name, "1234:0000:65:00.0").
 */
static int parse_dev(const char *s, uint64_t *dev)
{
	unsigned long long a, b;
	char tail, *name;

	a = strtoull(s, &name, 10);
	if (name != s && sscanf(name, ":emu%llu%c", &b, &tail) == 1 &&
	    strspn(name + 4, "0123456789") && a && a <= VFMIG_DEV_EMU_PID_MASK && b &&
	    b < (1ull << 32)) {
		*dev = vfmig_dev_emu(a, vfmig_obj(VFMIG_OBJ_DEVICE, b));
		return 0;
	}
	if (name != s && *name == ':' && a && a <= VFMIG_DEV_QEMU_PID_MASK &&
	    strspn(name + 1, "0123456789") != strlen(name + 1) && !strchr(s, ' ')) {
		*dev = vfmig_dev_qemu(a, vfmig_name_hash(name + 1));
		return 0;
	}
	if (!*s || strspn(s, "0123456789:") != strlen(s)) /* no sign, no blank */
		return -1;
	if (sscanf(s, "%llu:%llu%c", &a, &b, &tail) == 2 && a && a < (1ull << 32) &&
	    b < (1ull << 32)) {
		*dev = a << 32 | b;
		return 0;
	}
	if (sscanf(s, "%llu%c", &a, &tail) == 1 && a && a < (1ull << 32)) {
		*dev = vfmig_dev_emu(0,
				     vfmig_obj(VFMIG_OBJ_DEVICE, a)); /* that id in any process */
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
		{"interval", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"prefer", required_argument, NULL, 'P'},
		{"no-inherit", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned long long secs;
	unsigned long ms;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	if (argc > 1 && argv[1][0] != '-') { /* COMMAND first, then its options */
		o->cmd = argv[1];
		argv++;
		argc--;
	}
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, "+:p:b:d:i:jvh", longopts, NULL)) != -1) {
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
		case 'i':
			ms = strtoul(optarg, &end, 10);
			if (*end || !ms || ms > 86400000)
				return usage_error("-i '%s' is not an interval in milliseconds "
						   "(1 to 86400000)",
						   optarg);
			o->interval_ms = ms;
			break;
		case 'b':
			o->binary = optarg;
			break;
		case 'D':
			errno = 0;
			secs = strtoull(optarg, &end, 10);
			if (*end || !secs || secs > UINT_MAX || errno || strchr(optarg, '-'))
				return usage_error("--duration '%s' is not a number of seconds "
						   "(1 to 4294967295)",
						   optarg);
			o->duration = secs;
			break;
		case 'd':
			if (parse_dev(optarg, &o->dev))
				return usage_error(
					"-d '%s': use a device id, PID:emuN, PID:FD or PID:NAME",
					optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'I':
			o->no_inherit = true;
			break;
		case 'P':
			if (!strcmp(optarg, "kprobe"))
				o->prefer = PREFER_KPROBE;
			else if (!strcmp(optarg, "fentry"))
				o->prefer = PREFER_FENTRY;
			else
				return usage_error("--prefer '%s': use fentry or kprobe", optarg);
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

/*
 * Until PROGRAM ends, Ctrl-C or --duration; device names are looked up as
 * it goes, while the processes holding them still live.
 */
/* Milliseconds until the next interval is due (at most 100: names are looked up as often). */
static int poll_ms(const struct opts *o, double next)
{
	double left = o->interval_ms ? (next - now_s()) * 1e3 : 100;

	return left < 0 ? 0 : left > 100 ? 100 : (int)left + 1;
}

/* stat -p PID ends with PID: its pidfd readable (5.3), else no such process. */
static bool gone(pid_t pid, int pidfd)
{
	struct pollfd p = {pidfd, POLLIN, 0};

	if (pidfd >= 0)
		return poll(&p, 1, 0) > 0;
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Whether path is an ELF file with USDT notes (.note.stapsdt) of provider
 * "vfmig" (the emulated device) or "qemu" (a QEMU with the dtrace trace
 * backend): 1 yes, 0 no, -1 not readable (errno).
 */
static int has_vfmig_usdt(const char *path)
{
	struct usdt_notes notes;
	int ret = usdt_notes_read(path, &notes), found;

	if (ret) {
		errno = -ret;
		return -1;
	}
	found = usdt_notes_have(&notes, "vfmig") || usdt_notes_have(&notes, "qemu");
	usdt_notes_free(&notes);
	return found;
}

/*
 * Refused before anything loads: PROGRAM not found, -b not readable or
 * without vfmig's or QEMU's USDT probes. PROGRAM's own binary without them: one line
 * says so, and the rest of the probes profile it.
 */
static int check_targets(const struct opts *o)
{
	char *path;
	int has;

	if (o->prog) {
		path = find_program(o->prog[0]);
		if (!path) {
			fprintf(stderr, "vfmigprof: %s: %s\n", o->prog[0],
				strchr(o->prog[0], '/') ? strerror(errno) : "not found in PATH");
			return EXIT_USAGE;
		}
		if (!o->binary && has_vfmig_usdt(path) == 0)
			fprintf(stderr,
				"vfmigprof: %s has no vfmig USDT probes (nor QEMU's): those stay off\n",
				path);
		free(path);
	}
	if (!o->binary)
		return 0;
	has = has_vfmig_usdt(o->binary);
	if (has < 0) {
		fprintf(stderr, "vfmigprof: -b %s: %s\n", o->binary, strerror(errno));
		return EXIT_USAGE;
	}
	if (!has) {
		fprintf(stderr,
			"vfmigprof: -b %s: no vfmig USDT probes in it (nor QEMU's: a QEMU needs "
			"--enable-trace-backends=dtrace)\n",
			o->binary);
		return EXIT_USAGE;
	}
	return 0;
}

static int watch(const struct opts *o, struct vfmig_probes *p, pid_t child, int go)
{
	struct stat_out *r = stat_out_new(p, o->json, stdout);
	char dw_err[128];
	struct dirty_windows *dw = dirty_windows_open(p, dw_err, sizeof(dw_err)); /* NULL: none */
	double t0 = now_s(), step = o->interval_ms / 1e3, next = t0 + step;
	int status = 0, pidfd = -1;

	if (!r)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (child > 0 && write(go, "g", 1) != 1)
		stop = 1;
	if (o->pid)
		pidfd = (int)syscall(SYS_pidfd_open, o->pid, 0);
	while (!stop && !(o->pid && gone(o->pid, pidfd))) {
		probes_poll(p, poll_ms(o, next), NULL, NULL);
		if (dw)
			dirty_windows_poll(dw, 0);
		stat_out_refresh_names(r);
		if (child > 0 && waitpid(child, &status, WNOHANG) == child)
			break;
		if (o->duration && now_s() - t0 >= o->duration)
			break;
		if (step && now_s() >= next) {
			stat_out_interval(r, now_s() - t0);
			next = next + step > now_s() ? next + step : now_s() + step;
		}
	}
	if (step) /* the last, shorter interval: the deltas add up to the totals */
		stat_out_interval(r, now_s() - t0);
	stat_out_total(r, now_s() - t0);
	if (dw && !o->json) { /* the JSON form waits for the aggregator's per-VM figures */
		dirty_windows_poll(dw, 0);
		dirty_windows_print(stdout, dw);
	}
	dirty_windows_close(dw);
	stat_out_free(r);
	if (pidfd >= 0)
		close(pidfd);
	return child > 0 && (!WIFEXITED(status) || WEXITSTATUS(status)) ? 1 : 0;
}

static int run(struct opts *o)
{
	struct probe_opts po = {.pid = o->pid,
				.follow_children = !o->no_inherit,
				.dev = o->dev,
				.cgroup = o->cgroup,
				.verbose = o->verbose,
				.prefer = o->prefer,
				.hide_helpers = getenv("VFMIG_HIDE_HELPERS")};
	struct vfmig_probes *p;
	char err[256], *bin = default_binary(o);
	int go = -1, ret;
	pid_t child = 0;

	if (o->prog) {
		child = spawn(o->prog, &go);
		if (child < 0) {
			fprintf(stderr, "vfmigprof: fork: %s\n", strerror(errno));
			free(bin);
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
	if (!strcmp(o->cmd, "probes"))
		stat_out_table(p, o->json, stdout);
	else
		ret = watch(o, p, child, go);
	probes_close(p);
	free(bin); /* the probes keep pointing at it until closed */
	return ret;
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
	ret = check_targets(&o);
	return ret ? ret : run(&o);
}
