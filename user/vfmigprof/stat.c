// SPDX-License-Identifier: GPL-2.0
/* vfmigprof probes and vfmigprof stat: the probe table, and counters until PROGRAM ends. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "probe/dirty_window.h"
#include "probe/stat_out.h"
#include "vfmigprof/prof.h"

static const char stat_help[] =
	"Usage: vfmigprof stat [OPTIONS] [-- PROGRAM ARGS...]\n"
	"       vfmigprof probes [--prefer KIND] [-j]\n"
	"stat runs PROGRAM (or watches -p PID or --cgroup PATH until Ctrl-C or --duration) and\n"
	"prints the totals of every probe family when it ends, like perf stat; probes loads every\n"
	"family and prints what attached where and why the rest did not.\n"
	"\n"
	"Options:\n"
	"      --duration SEC     stop after SEC seconds\n"
	"  -i, --interval MS      also print the counters' change every MS milliseconds\n"
	"                         (with --json: one JSON object a line, \"type\":\"interval\")\n"
	"  -j, --json             machine-readable output\n"
	"%s"
	"\n"
	"Examples:\n"
	"  vfmigprof probes --prefer kprobe\n"
	"  vfmigprof stat -- vfmig-emu migrate --mem 128m\n"
	"  vfmigprof stat -i 1000 --json --cgroup /sys/fs/cgroup/machine.slice\n";

struct stat_opts {
	struct prof_target t;
	unsigned int duration, interval_ms;
	bool json;
};

static int parse_one(int c, const char *arg, void *opts)
{
	struct stat_opts *o = opts;
	unsigned long long secs;
	unsigned long ms;
	char *end;

	switch (c) {
	case 'i':
		ms = strtoul(arg, &end, 10);
		if (*end || !ms || ms > 86400000)
			return prof_usage_error("-i '%s' is not an interval in milliseconds "
						"(1 to 86400000)",
						arg);
		o->interval_ms = ms;
		return 0;
	case 'D':
		errno = 0;
		secs = strtoull(arg, &end, 10);
		if (*end || !secs || secs > UINT_MAX || errno || strchr(arg, '-'))
			return prof_usage_error("--duration '%s' is not a number of seconds "
						"(1 to 4294967295)",
						arg);
		o->duration = secs;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'h':
		printf(stat_help, prof_target_help);
		exit(0);
	}
	return prof_usage_error("unknown option '%s'", arg);
}

static int parse_opts(int argc, char **argv, struct stat_opts *o)
{
	static const struct option longopts[] = {
		PROF_TARGET_LONG,
		{"duration", required_argument, NULL, 'D'},
		{"interval", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ret;

	memset(o, 0, sizeof(*o));
	ret = prof_parse_opts(argc, argv, "i:jh", longopts, &o->t, parse_one, o);
	if (ret)
		return ret;
	return 0;
}

/* Milliseconds until the next interval is due (at most 100: names are looked up as often). */
static int poll_ms(const struct stat_opts *o, double next)
{
	double left = o->interval_ms ? (next - prof_now()) * 1e3 : 100;

	return left < 0 ? 0 : left > 100 ? 100 : (int)left + 1;
}

static void finish(const struct stat_opts *o, struct stat_out *r, struct dirty_windows *dw,
		   double t0)
{
	if (o->interval_ms) /* the last, shorter interval: the deltas add up to the totals */
		stat_out_interval(r, prof_now() - t0);
	stat_out_total(r, prof_now() - t0);
	if (dw && !o->json) { /* the JSON form waits for the aggregator's per-VM figures */
		dirty_windows_poll(dw, 0);
		dirty_windows_print(stdout, dw);
	}
}

/*
 * Until PROGRAM ends, Ctrl-C or --duration; device names are looked up as
 * it goes, while the processes holding them still live.
 */
static int watch(const struct stat_opts *o, struct prof_session *s)
{
	struct stat_out *r = stat_out_new(s->probes, o->json, stdout);
	char dw_err[128];
	struct dirty_windows *dw = dirty_windows_open(s->probes, dw_err, sizeof(dw_err));
	double t0 = prof_now(), step = o->interval_ms / 1e3, next = t0 + step;
	int status = 0;

	if (!r)
		return 1;
	prof_catch_signals();
	if (!prof_attached_go(s))
		prof_stop = 1;
	while (!prof_stop && !prof_target_ended(&o->t, s, &status)) {
		probes_poll(s->probes, poll_ms(o, next), NULL, NULL);
		if (dw)
			dirty_windows_poll(dw, 0);
		stat_out_refresh_names(r);
		if (o->duration && prof_now() - t0 >= o->duration)
			break;
		if (step && prof_now() >= next) {
			stat_out_interval(r, prof_now() - t0);
			next = next + step > prof_now() ? next + step : prof_now() + step;
		}
	}
	finish(o, r, dw, t0);
	dirty_windows_close(dw);
	stat_out_free(r);
	return o->t.prog && s->child < 0 && (!WIFEXITED(status) || WEXITSTATUS(status)) ? 1 : 0;
}

static int run(const char *cmd, struct stat_opts *o)
{
	struct prof_session s;
	int ret;

	ret = prof_target_check(&o->t);
	if (ret)
		return ret;
	if (prof_attach(&o->t, &s))
		return 1;
	if (!strcmp(cmd, "probes")) {
		stat_out_table(s.probes, o->json, stdout);
		ret = 0;
	} else {
		ret = watch(o, &s);
	}
	prof_detach(&s);
	return ret;
}

int cmd_probes(int argc, char **argv)
{
	struct stat_opts o;
	int ret = parse_opts(argc, argv, &o);

	return ret ? ret : run("probes", &o);
}

int cmd_stat(int argc, char **argv)
{
	struct stat_opts o;
	int ret = parse_opts(argc, argv, &o);

	if (ret)
		return ret;
	if (!prof_target_given(&o.t) && !o.duration)
		return prof_usage_error("stat needs -- PROGRAM, -p PID, --cgroup PATH or "
					"--duration SECONDS%s",
					"");
	return run("stat", &o);
}
