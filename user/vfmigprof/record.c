// SPDX-License-Identifier: GPL-2.0
/* vfmigprof record: every event, every harvest window and a snapshot each interval into a file. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "probe/aggregate.h"
#include "record/record.h"
#include "record/snapshot.h"
#include "vfmigprof/prof.h"
#include "common/sys.h"

static const char record_help[] =
	"Usage: vfmigprof record -o FILE [OPTIONS] [-- PROGRAM ARGS...]\n"
	"Runs PROGRAM (or watches -p PID, --cgroup PATH, -d DEV until Ctrl-C or --duration) and\n"
	"writes every probe event, every dirty-page harvest window and a snapshot of the\n"
	"counters, histograms and device states each interval into FILE, for vfmigprof report.\n"
	"The file is whole after every block (one at least every second): after a crash,\n"
	"everything before the last block is there.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE      the recording (required)\n"
	"      --duration SEC     stop after SEC seconds\n"
	"  -i, --interval MS      a snapshot every MS milliseconds (default 1000)\n"
	"%s"
	"\n"
	"Examples:\n"
	"  vfmigprof record -o mig.vfrec -- vfmig-emu migrate --mem 128m\n"
	"  vfmigprof report mig.vfrec\n";

struct record_opts {
	struct prof_target t;
	const char *out;
	unsigned int duration, interval_ms;
	int argc;
	char **argv;
};

struct recording {
	struct rec_writer *w;
	struct ring_buffer *windows;
	struct agg_view *view;
	int err;
};

/*
 * Every event is kept: 16 MiB of ring (about 230k events) rides out the
 * pauses of compressing and writing a block, where 256 KiB (3.6k) lost some
 * at 20k events/s on a loaded machine (bench/record/bench_record_e2e).
 */
#define RECORD_RING_BYTES (16u << 20)

static int parse_one(int c, const char *arg, void *opts)
{
	struct record_opts *o = opts;
	unsigned long long v;
	char *end;

	switch (c) {
	case 'o':
		o->out = arg;
		return 0;
	case 'i':
	case 'D':
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (*end || !v || v > (c == 'i' ? 86400000ull : UINT_MAX) || errno ||
		    strchr(arg, '-'))
			return prof_usage_error(c == 'i' ? "-i '%s' is not an interval in "
							   "milliseconds (1 to 86400000)"
							 : "--duration '%s' is not a number of "
							   "seconds (1 to 4294967295)",
						arg);
		if (c == 'i')
			o->interval_ms = (unsigned int)v;
		else
			o->duration = (unsigned int)v;
		return 0;
	case 'h':
		printf(record_help, prof_target_help);
		exit(0);
	}
	return prof_usage_error("unknown option '%s'", arg);
}

static int parse_opts(int argc, char **argv, struct record_opts *o)
{
	static const struct option longopts[] = {
		PROF_TARGET_LONG,
		{"output", required_argument, NULL, 'o'},
		{"duration", required_argument, NULL, 'D'},
		{"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->interval_ms = 1000;
	o->argc = argc;
	o->argv = calloc((size_t)argc + 1, sizeof(char *)); /* as given: attaching may change it */
	for (c = 0; o->argv && c < argc; c++)
		o->argv[c] = argv[c] ? strdup(argv[c]) : NULL;
	ret = prof_parse_opts(argc, argv, "o:i:h", longopts, &o->t, parse_one, o);
	if (ret)
		return ret;
	if (!o->out)
		return prof_usage_error("record needs -o FILE%s", "");
	if (!prof_target_given(&o->t) && !o->duration && !o->t.dev)
		return prof_usage_error("record needs -- PROGRAM, -p PID, --cgroup PATH, -d DEV "
					"or --duration SECONDS%s",
					"");
	return 0;
}

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct recording *r = ctx;
	int ret = rec_event(r->w, e);

	if (ret && !r->err)
		r->err = ret;
	return 0;
}

static int on_window(void *ctx, void *data, size_t len)
{
	struct recording *r = ctx;
	struct vfmig_dirty_window w;
	int ret;

	if (len < sizeof(w))
		return 0;
	memcpy(&w, data, sizeof(w));
	ret = rec_window(r->w, &w);
	if (ret && !r->err)
		r->err = ret;
	return 0;
}

static int snapshot(struct prof_session *s, struct recording *r)
{
	struct rec_snap_extra x = {.mono_ns = clock_ns(CLOCK_MONOTONIC),
				   .received = probes_received(s->probes),
				   .lost_blocks = rec_lost_blocks(r->w)};
	char *json;
	int ret;

	agg_step(s->probes, r->view, prof_now());
	json = rec_snapshot_json(s->probes, r->view, &x);
	if (!json)
		return -ENOMEM;
	ret = rec_snapshot(r->w, json);
	free(json);
	return ret;
}

static void drain(struct prof_session *s, struct recording *r, int timeout_ms)
{
	probes_poll(s->probes, timeout_ms, on_event, r);
	if (r->windows)
		ring_buffer__poll(r->windows, 0);
	rec_tick(r->w, clock_ns(CLOCK_MONOTONIC));
}

static int finish(struct prof_session *s, struct recording *r, double t0)
{
	char end[256];
	uint64_t c[VFMIG_C_NR] = {0};
	int ret;

	drain(s, r, 0);
	snapshot(s, r);
	agg_counters(s->probes, c);
	snprintf(end, sizeof(end),
		 "{\"events\":%llu,\"received\":%llu,\"drops\":%llu,\"lost_blocks\":%llu,"
		 "\"seconds\":%.6f}",
		 (unsigned long long)rec_events_written(r->w),
		 (unsigned long long)probes_received(s->probes),
		 (unsigned long long)c[VFMIG_C_DROPS], (unsigned long long)rec_lost_blocks(r->w),
		 prof_now() - t0);
	ret = rec_close(r->w, end);
	if (ret)
		fprintf(stderr, "vfmigprof: record: writing the recording: %s\n", strerror(-ret));
	return ret;
}

static int watch(const struct record_opts *o, struct prof_session *s, struct recording *r)
{
	double t0 = prof_now(), next = t0 + o->interval_ms / 1e3;
	int status = 0, ret;

	if (!prof_attached_go(s))
		prof_stop = 1;
	snapshot(s, r);
	while (!prof_stop && !prof_target_ended(&o->t, s, &status)) {
		drain(s, r, 100);
		if (o->duration && prof_now() - t0 >= o->duration)
			break;
		if (prof_now() >= next) {
			snapshot(s, r);
			next = prof_now() + o->interval_ms / 1e3;
		}
	}
	ret = finish(s, r, t0);
	fprintf(stderr, "vfmigprof record: %s: %.3f s, %llu events\n", o->out, prof_now() - t0,
		(unsigned long long)probes_received(s->probes));
	if (ret)
		return 1;
	return o->t.prog && s->child < 0 && (!WIFEXITED(status) || WEXITSTATUS(status)) ? 1 : 0;
}

static int run(struct record_opts *o)
{
	struct recording r = {0};
	struct prof_session s;
	char err[256], *header;
	int ret, fd;

	ret = prof_target_check(&o->t);
	if (ret)
		return ret;
	prof_catch_signals(); /* a SIGTERM while the probes load still ends with a closed file */
	o->t.ring_bytes = RECORD_RING_BYTES;
	if (prof_attach(&o->t, &s))
		return 1;
	header = rec_header_json(s.probes, o->argc, o->argv);
	r.w = header ? rec_create(o->out, header, err, sizeof(err)) : NULL;
	free(header);
	r.view = agg_view_new();
	if (!r.w || !r.view) {
		fprintf(stderr, "vfmigprof: record: %s\n", r.w ? "out of memory" : err);
		prof_detach(&s);
		return 1;
	}
	fd = probes_map_fd(s.probes, "dirty_windows");
	if (fd >= 0)
		r.windows = ring_buffer__new(fd, on_window, &r, NULL);
	ret = watch(o, &s, &r);
	ring_buffer__free(r.windows);
	agg_view_free(r.view);
	prof_detach(&s);
	return ret;
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	int ret = parse_opts(argc, argv, &o), i;

	if (!ret)
		ret = run(&o);
	for (i = 0; o.argv && i < o.argc; i++)
		free(o.argv[i]);
	free(o.argv);
	return ret;
}
