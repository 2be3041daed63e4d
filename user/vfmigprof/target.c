// SPDX-License-Identifier: GPL-2.0
/* What vfmigprof's commands watch: the target options, PROGRAM, the probes attached to them. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe/host.h"
#include "probe/usdt_notes.h"
#include "vfmigprof/prof.h"
#include "common/sys.h"

const char *prof_cmd = "";
volatile sig_atomic_t prof_stop;

const char prof_target_help[] =
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
	"      --prefer KIND      fentry (default) or kprobe: the source for a kernel function\n"
	"                         that both can probe (fentry/fexit or kprobe/kretprobe)\n"
	"  -v, --verbose          libbpf's messages (the verifier's log of a refused program) on\n"
	"                         stderr; also VFMIG_DEBUG=1 (2: with libbpf's debug lines)\n";

int prof_number(const char *opt, const char *arg, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (end == arg || *end || errno || !isfinite(*v) || *v < lo || *v > hi) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s '%%s': use a number from %g to %g", opt, lo, hi);
		return prof_usage_error(msg, arg);
	}
	return 0;
}

int prof_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vfmigprof: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see vfmigprof %s%s--help)\n", prof_cmd, *prof_cmd ? " " : "");
	return EXIT_USAGE;
}

static void on_signal(int sig)
{
	(void)sig;
	prof_stop = 1;
}

void prof_catch_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

double prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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

int prof_target_opt(int c, const char *arg, struct prof_target *t)
{
	char *end;

	switch (c) {
	case 'p':
		t->pid = strtol(arg, &end, 10);
		if (*end || t->pid <= 0)
			return prof_usage_error("-p '%s' is not a process id", arg);
		if (kill(t->pid, 0) && errno == ESRCH)
			return prof_usage_error("-p %s: no such process", arg);
		return 0;
	case 'b':
		t->binary = arg;
		return 0;
	case 'd':
		if (parse_dev(arg, &t->dev))
			return prof_usage_error(
				"-d '%s': use a device id, PID:emuN, PID:FD or PID:NAME", arg);
		return 0;
	case 'v':
		t->verbose = true;
		return 0;
	case PROF_OPT_BASE + 1:
		t->cgroup = arg;
		return 0;
	case PROF_OPT_BASE + 2:
		if (!strcmp(arg, "kprobe"))
			t->prefer = PREFER_KPROBE;
		else if (!strcmp(arg, "fentry"))
			t->prefer = PREFER_FENTRY;
		else
			return prof_usage_error("--prefer '%s': use fentry or kprobe", arg);
		return 0;
	case PROF_OPT_BASE + 3:
		t->no_inherit = true;
		return 0;
	}
	return 1;
}

void prof_target_rest(int argc, char **argv, struct prof_target *t)
{
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind < argc)
		t->prog = argv + optind;
}

int prof_parse_opts(int argc, char **argv, const char *own_short, const struct option *longopts,
		    struct prof_target *t, prof_opt_fn one, void *opts)
{
	char shorts[64];
	int c, ret;

	snprintf(shorts, sizeof(shorts), "+:%s%s", PROF_TARGET_SHORT, own_short);
	opterr = 0; /* our own one-line messages */
	optind = 1; /* a second parse starts over */
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		char opt[3] = {'-', (char)optopt, 0};

		if (c == ':')
			return prof_usage_error("option '%s' needs an argument", argv[optind - 1]);
		if (c == '?')
			return prof_usage_error("unknown option '%s'",
						optopt ? opt : argv[optind - 1]);
		ret = prof_target_opt(c, optarg, t);
		if (ret == 1)
			ret = one(c, optarg, opts);
		if (ret)
			return ret;
	}
	prof_target_rest(argc, argv, t);
	return 0;
}

bool prof_target_given(const struct prof_target *t)
{
	return t->prog || t->pid || t->cgroup;
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

static char *default_binary(const struct prof_target *t)
{
	char buf[PATH_MAX + 16];
	ssize_t n;

	if (t->binary)
		return realpath(t->binary, NULL);
	if (t->prog)
		return find_program(t->prog[0]);
	if (t->pid) {
		snprintf(buf, sizeof(buf), "/proc/%d/exe", t->pid);
		return realpath(buf, NULL);
	}
	n = readlink("/proc/self/exe", buf, PATH_MAX);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	strcpy(strrchr(buf, '/') + 1, "vfmig-emu");
	return access(buf, X_OK) ? NULL : strdup(buf);
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

static int check_program(const struct prof_target *t)
{
	char *path = find_program(t->prog[0]);

	if (!path) {
		fprintf(stderr, "vfmigprof: %s: %s\n", t->prog[0],
			strchr(t->prog[0], '/') ? strerror(errno) : "not found in PATH");
		return EXIT_USAGE;
	}
	if (!t->binary && has_vfmig_usdt(path) == 0)
		fprintf(stderr,
			"vfmigprof: %s has no vfmig USDT probes (nor QEMU's): those stay off\n",
			path);
	free(path);
	return 0;
}

/*
 * PROGRAM's own binary without USDT probes: one line says so, and the rest of
 * the probes profile it; -b without them is refused.
 */
int prof_target_check(struct prof_target *t)
{
	char err[256];
	int has;

	if (t->cgroup && host_cgroup_id(t->cgroup, &t->cgroup_id, err, sizeof(err))) {
		fprintf(stderr, "vfmigprof: %s\n", err);
		return EXIT_USAGE;
	}
	if (t->prog && check_program(t))
		return EXIT_USAGE;
	if (!t->binary)
		return 0;
	has = has_vfmig_usdt(t->binary);
	if (has < 0) {
		fprintf(stderr, "vfmigprof: -b %s: %s\n", t->binary, strerror(errno));
		return EXIT_USAGE;
	}
	if (!has) {
		fprintf(stderr,
			"vfmigprof: -b %s: no vfmig USDT probes in it (nor QEMU's: a QEMU needs "
			"--enable-trace-backends=dtrace)\n",
			t->binary);
		return EXIT_USAGE;
	}
	return 0;
}

int prof_attach(struct prof_target *t, struct prof_session *s)
{
	struct probe_opts po = {.pid = t->pid,
				.follow_children = !t->no_inherit,
				.dev = t->dev,
				.cgroup = t->cgroup,
				.verbose = t->verbose,
				.prefer = t->prefer,
				.ring_bytes = t->ring_bytes,
				.hide_helpers = getenv("VFMIG_HIDE_HELPERS")};
	char err[256];

	memset(s, 0, sizeof(*s));
	s->go = s->pidfd = -1;
	s->binary = default_binary(t);
	if (t->prog) {
		s->child = spawn_held(t->prog, &s->go, "vfmigprof");
		if (s->child < 0) {
			fprintf(stderr, "vfmigprof: fork: %s\n", strerror(errno));
			free(s->binary);
			return 1;
		}
		po.pid = s->child;
	}
	po.binary = s->binary;
	if (probes_open(&s->probes, &po, err, sizeof(err))) {
		fprintf(stderr, "vfmigprof: %s\n", err);
		if (s->child > 0)
			kill(s->child, SIGKILL), waitpid(s->child, NULL, 0);
		free(s->binary);
		return 1;
	}
	if (t->pid)
		s->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	return 0;
}

bool prof_attached_go(struct prof_session *s)
{
	bool ok = s->child <= 0 || write(s->go, "g", 1) == 1;

	if (s->go >= 0)
		close(s->go);
	s->go = -1;
	return ok;
}

/* -p PID ends with PID: its pidfd readable (5.3), else no such process. */
bool prof_target_ended(const struct prof_target *t, struct prof_session *s, int *status)
{
	struct pollfd p = {s->pidfd, POLLIN, 0};

	if (s->child > 0 && waitpid(s->child, status, WNOHANG) == s->child) {
		s->child = -1; /* reaped */
		return true;
	}
	if (!t->pid)
		return false;
	if (s->pidfd >= 0)
		return poll(&p, 1, 0) > 0;
	return kill(t->pid, 0) && errno == ESRCH;
}

/* SIGTERM, and SIGKILL when it is still there 2 s later. */
static void end_child(pid_t pid)
{
	int i;

	kill(pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void prof_detach(struct prof_session *s)
{
	if (s->go >= 0)
		close(s->go);
	if (s->child > 0) /* not reaped: a command that stops before PROGRAM ends */
		end_child(s->child);
	probes_close(s->probes);
	free(s->binary); /* the probes kept pointing at it until closed */
	if (s->pidfd >= 0)
		close(s->pidfd);
	memset(s, 0, sizeof(*s));
}
