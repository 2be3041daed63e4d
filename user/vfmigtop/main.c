// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop: a live view of every VM with VFIO (or emulated) devices, its
 * devices' migration figures and the model's verdict; full screen, or batch
 * (-b, or when stdout is not a terminal) as text, JSON or CSV.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfmigtop/emulate.h"
#include "vfmigtop/output.h"
#include "vfmigtop/qemus.h"
#include "vfmigtop/screen.h"
#include "common/sys.h"

#define EXIT_USAGE 2

enum top_format { FMT_TEXT, FMT_JSON, FMT_CSV };

static const char help[] =
	"Usage: vfmigtop [OPTIONS] [-- PROGRAM ARGS...]\n"
	"A live view of every VM with VFIO (or emulated) devices: migration state, dirty rates,\n"
	"pins, maps, bitmap query latency, pre-copy sizes, data stream, and the model's verdict.\n"
	"\n"
	"  -b, --batch            plain text, one screen per interval (the default when stdout\n"
	"                         is not a terminal)\n"
	"  -n, --iterations N     stop after N intervals\n"
	"  -i, --interval MS      refresh every MS milliseconds (default 1000; 10 to 3600000)\n"
	"      --json             batch: a JSON object per interval, a line each\n"
	"      --csv              batch: a CSV header, then a line per device per interval\n"
	"  -p, --pid PID          only this process (and what it forks)\n"
	"  -d, --device DEV       only this device: PID:emuN, an emulated id N, or PID:FD\n"
	"      --cgroup PATH      only processes in this cgroup v2 directory or below\n"
	"      --binary PATH      where the USDT probes are (default: the vfmig-emu beside\n"
	"                         vfmigtop, or -p's binary)\n"
	"  -f, --filter REGEX     only VMs and devices matching (name, model, state)\n"
	"      --bandwidth MB/S   the link the verdict is for (default 1000)\n"
	"      --downtime MS      the downtime limit it is for (default 300)\n"
	"      --qmp PATH         a QEMU's QMP socket (again for more QEMUs): its VM (by the\n"
	"                         socket peer's pid) gets a row, its own max-bandwidth and\n"
	"                         downtime-limit as link, and its migration's progress\n"
	"      --emulate[=VMS]    start VMS emulated VMs (default 3; the first migrates in a\n"
	"                         loop) as vfmig-emu children, stopped on exit\n"
	"      --emulate-devices D  devices per emulated VM (1-4, default 2)\n"
	"  -h, --help             this text\n"
	"PROGRAM, when given, starts once the probes are attached and is watched until it ends.\n"
	"\n"
	"Keys: s/S sort column (next/previous), r reverse, / filter, p pause, z reset,\n"
	"      +/- interval, Enter detail, Esc back, h help, q quit\n";

struct top_opts {
	bool batch, emulate;
	int iterations, emu_vms, emu_devs;
	unsigned int interval_ms;
	enum top_format fmt;
	pid_t pid;
	uint64_t dev;
	const char *cgroup, *binary, *filter;
	double bandwidth_mbs, downtime_ms;
	char **prog;
	char *qmp[TOP_QEMUS_MAX];
	unsigned int nqmp;
};

volatile sig_atomic_t top_stop;

double top_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "vfmigtop: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see vfmigtop --help)\n");
	return EXIT_USAGE;
}

static int parse_num(const char *arg, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	return *end || end == arg || errno || *out < lo || *out > hi ? -1 : 0;
}

static int parse_dev(const char *s, uint64_t *dev)
{
	unsigned long long a, b;
	char tail;

	if (sscanf(s, "%llu:emu%llu%c", &a, &b, &tail) == 2 && a && a <= VFMIG_DEV_EMU_PID_MASK &&
	    b && b < (1ull << 32)) {
		*dev = vfmig_dev_emu((uint32_t)a, vfmig_obj(VFMIG_OBJ_DEVICE, (uint32_t)b));
		return 0;
	}
	if (strspn(s, "0123456789:") != strlen(s) || !*s)
		return -1;
	if (sscanf(s, "%llu:%llu%c", &a, &b, &tail) == 2 && a && a < (1ull << 32) &&
	    b < (1ull << 32)) {
		*dev = a << 32 | b;
		return 0;
	}
	if (sscanf(s, "%llu%c", &a, &tail) == 1 && a && a < (1ull << 32)) {
		*dev = vfmig_dev_emu(0, vfmig_obj(VFMIG_OBJ_DEVICE, (uint32_t)a));
		return 0;
	}
	return -1;
}

static int parse_value(int c, const char *arg, struct top_opts *o)
{
	struct stat st;
	double v;

	switch (c) {
	case 'n':
		if (parse_num(arg, 1, 1e9, &v) || v != (int)v)
			return usage("-n '%s' is not a number of intervals (1 or more)", arg);
		o->iterations = (int)v;
		return 0;
	case 'i':
		if (parse_num(arg, 10, 3600000, &v) || v != (unsigned int)v)
			return usage("-i '%s' is not an interval in milliseconds (10 to 3600000)",
				     arg);
		o->interval_ms = (unsigned int)v;
		return 0;
	case 'p':
		if (parse_num(arg, 1, INT_MAX, &v) || v != (int)v)
			return usage("-p '%s' is not a process id", arg);
		o->pid = (pid_t)v;
		if (kill(o->pid, 0) && errno == ESRCH)
			return usage("-p %s: no such process", arg);
		return 0;
	case 'd':
		if (parse_dev(arg, &o->dev))
			return usage("-d '%s': use PID:emuN, an emulated device id, or PID:FD",
				     arg);
		return 0;
	case 0x101:
		if (stat(arg, &st) || !S_ISDIR(st.st_mode))
			return usage("--cgroup %s: not a cgroup directory", arg);
		o->cgroup = arg;
		return 0;
	case 0x104:
		if (parse_num(arg, 0.001, 1e6, &o->bandwidth_mbs))
			return usage("--bandwidth '%s' is not MB/s (0.001 to 1000000)", arg);
		return 0;
	case 0x105:
		if (parse_num(arg, 0, 1e6, &o->downtime_ms))
			return usage("--downtime '%s' is not milliseconds (0 to 1000000)", arg);
		return 0;
	case 0x106:
		o->emulate = true;
		if (arg && (parse_num(arg, 1, TOP_EMU_MAX, &v) || v != (int)v))
			return usage("--emulate '%s' is not a number of VMs (1 to 32)", arg);
		o->emu_vms = arg ? (int)v : 3;
		return 0;
	case 0x107:
		if (parse_num(arg, 1, 4, &v) || v != (int)v)
			return usage("--emulate-devices '%s' is not 1 to 4", arg);
		o->emu_devs = (int)v;
		return 0;
	}
	return 1;
}

static int parse_one(int c, const char *arg, struct top_opts *o)
{
	int ret = parse_value(c, arg, o);

	if (ret != 1)
		return ret;
	switch (c) {
	case 'b':
		o->batch = true;
		return 0;
	case 'f':
		o->filter = arg;
		return 0;
	case 0x102:
		o->fmt = FMT_JSON;
		return 0;
	case 0x103:
		o->fmt = FMT_CSV;
		return 0;
	case 0x108:
		o->binary = arg;
		return 0;
	case 0x109:
		if (o->nqmp == TOP_QEMUS_MAX)
			return usage("--qmp %s: at most 16 QEMUs", arg);
		o->qmp[o->nqmp++] = (char *)arg;
		return 0;
	case 'h':
		fputs(help, stdout);
		exit(0);
	}
	return usage("unknown option '%s'", arg ? arg : "?");
}

static int parse_opts(int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
		{"batch", no_argument, NULL, 'b'},
		{"iterations", required_argument, NULL, 'n'},
		{"interval", required_argument, NULL, 'i'},
		{"pid", required_argument, NULL, 'p'},
		{"device", required_argument, NULL, 'd'},
		{"filter", required_argument, NULL, 'f'},
		{"cgroup", required_argument, NULL, 0x101},
		{"json", no_argument, NULL, 0x102},
		{"csv", no_argument, NULL, 0x103},
		{"bandwidth", required_argument, NULL, 0x104},
		{"downtime", required_argument, NULL, 0x105},
		{"emulate", optional_argument, NULL, 0x106},
		{"emulate-devices", required_argument, NULL, 0x107},
		{"binary", required_argument, NULL, 0x108},
		{"qmp", required_argument, NULL, 0x109},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, ret;

	*o = (struct top_opts){.interval_ms = 1000, .emu_devs = 2, .downtime_ms = -1};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:bn:i:p:d:f:h", longopts, NULL)) != -1) {
		char opt[3] = {'-', (char)optopt, 0};

		if (c == ':')
			return usage("option '%s' needs an argument", argv[optind - 1]);
		if (c == '?')
			return usage("unknown option '%s'", optopt ? opt : argv[optind - 1]);
		ret = parse_one(c, optarg, o);
		if (ret)
			return ret;
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind < argc)
		o->prog = argv + optind;
	if (o->prog && (o->pid || o->emulate))
		return usage("%s: PROGRAM goes without -p and --emulate", o->prog[0]);
	if (o->fmt != FMT_TEXT && !o->batch && isatty(1))
		o->batch = true; /* --json and --csv are batch outputs */
	if (!isatty(1))
		o->batch = true;
	return 0;
}

struct watch {
	pid_t child;
	int status;
};

static bool child_ended(void *ctx)
{
	struct watch *w = ctx;

	if (w->child > 0 && waitpid(w->child, &w->status, WNOHANG) == w->child)
		w->child = -1;
	return w->child < 0;
}

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

void top_refresh(struct top_run *r)
{
	struct top_table *swap = r->old;

	r->old = r->cur;
	r->cur = swap;
	top_src_read(r->src, top_now(), r->old, r->cur, &r->h);
	top_table_sort(r->cur, &r->sort);
}

static void print_one(const struct top_opts *o, struct top_run *r, int i)
{
	const regex_t *re = r->have_re ? &r->re : NULL;

	if (o->fmt == FMT_JSON)
		top_print_json(stdout, &r->h, r->cur, re);
	else if (o->fmt == FMT_CSV)
		top_print_csv(stdout, r->cur, re, i == 0);
	else
		top_print_text(stdout, &r->h, r->cur, re);
}

static int batch(const struct top_opts *o, struct top_run *r)
{
	double next = top_now() + o->interval_ms / 1e3;
	int i;

	for (i = 0; !o->iterations || i < o->iterations; i++) {
		bool ended = false;

		while (!top_stop && top_now() < next) {
			double left = (next - top_now()) * 1e3;

			top_src_poll(r->src, left > 100 ? 100 : (int)left + 1);
			if (r->ended && r->ended(r->ctx)) {
				ended = true;
				break;
			}
		}
		if (top_stop)
			break;
		top_refresh(r);
		print_one(o, r, i);
		if (ended)
			break;
		next += o->interval_ms / 1e3;
	}
	return 0;
}

static int open_src(const struct top_opts *o, pid_t watch_pid, const char *binary,
		    struct top_run *r)
{
	struct probe_opts po = {.pid = watch_pid,
				.follow_children = true,
				.dev = o->dev,
				.cgroup = o->cgroup,
				.binary = binary};
	struct live_link link = {.engine = ENGINE_VFMIG,
				 .cap_bps = o->bandwidth_mbs > 0 ? o->bandwidth_mbs * 1e6 : 1e9,
				 .link_bps = -1,
				 .downtime_s = o->downtime_ms >= 0 ? o->downtime_ms / 1e3 : -1,
				 .max_rounds = -1};
	char err[256];

	r->src = top_src_open(&po, &link, err, sizeof(err));
	if (!r->src) {
		fprintf(stderr, "vfmigtop: %s\n", err);
		return 1;
	}
	return 0;
}

static int setup_run(const struct top_opts *o, struct top_run *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->interval_ms = o->interval_ms;
	r->sort.col = TOP_COL_DIRTY;
	if (o->filter) {
		ret = regcomp(&r->re, o->filter, REG_EXTENDED | REG_NOSUB);
		if (ret)
			return usage("-f '%s' is not a regular expression", o->filter);
		r->have_re = true;
		snprintf(r->re_text, sizeof(r->re_text), "%s", o->filter);
	}
	r->cur = calloc(1, sizeof(*r->cur));
	r->old = calloc(1, sizeof(*r->old));
	if (!r->cur || !r->old) {
		fprintf(stderr, "vfmigtop: out of memory\n");
		return 1;
	}
	return 0;
}

static void free_run(struct top_run *r)
{
	top_src_close(r->src);
	if (r->have_re)
		regfree(&r->re);
	free(r->cur);
	free(r->old);
}

static char *usdt_binary(const struct top_opts *o)
{
	char path[PATH_MAX];

	if (o->binary)
		return realpath(o->binary, NULL);
	if (o->pid) {
		snprintf(path, sizeof(path), "/proc/%d/exe", o->pid);
		return realpath(path, NULL);
	}
	return top_emu_path(path, sizeof(path)) ? NULL : strdup(path);
}

static int run(const struct top_opts *o, struct top_run *r, struct top_qemus *qemus)
{
	char *binary = usdt_binary(o), emu[PATH_MAX], err[160];
	struct top_emulate e = {0};
	static struct watch w; /* the loop's ended() reads it */
	int go = -1, ret;

	if (!o->batch && top_screen_check(err, sizeof(err))) {
		fprintf(stderr, "vfmigtop: %s\n", err);
		free(binary);
		return 1;
	}
	if (o->emulate && top_emu_path(emu, sizeof(emu))) {
		fprintf(stderr, "vfmigtop: --emulate: no vfmig-emu beside vfmigtop\n");
		free(binary);
		return 1;
	}
	if (o->prog)
		w.child = spawn_held(o->prog, &go, "vfmigtop");
	ret = open_src(o, o->prog ? w.child : o->emulate ? getpid() : o->pid, binary, r);
	if (!ret)
		top_src_set_qemus(r->src, qemus);
	if (!ret && o->emulate)
		ret = top_emulate_start(&e, emu, o->emu_vms, o->emu_devs) ? 1 : 0;
	if (go >= 0) {
		if (ret || write(go, "g", 1) != 1)
			kill(w.child, SIGKILL);
		close(go);
	}
	if (!ret) {
		r->ended = o->prog ? child_ended : NULL;
		r->ctx = &w;
		top_refresh(r); /* the totals at attach: the first interval's deltas start here */
		ret = o->batch ? batch(o, r) : top_screen_run(r);
	}
	top_emulate_stop(&e);
	if (w.child > 0)
		kill(w.child, SIGTERM), waitpid(w.child, NULL, 0);
	free(binary);
	return ret;
}

int main(int argc, char **argv)
{
	struct top_qemus *qemus = NULL;
	struct top_opts o;
	struct top_run r;
	char err[400];
	int ret = parse_opts(argc, argv, &o);

	if (ret)
		return ret;
	/* before the probes load: a wrong path fails at once */
	if (o.nqmp && !(qemus = top_qemus_open(o.qmp, o.nqmp, err, sizeof(err)))) {
		fprintf(stderr, "vfmigtop: %s\n", err);
		return 1;
	}
	ret = setup_run(&o, &r);
	if (ret) {
		top_qemus_close(qemus);
		return ret;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ret = run(&o, &r, qemus);
	free_run(&r);
	top_qemus_close(qemus);
	return ret;
}
