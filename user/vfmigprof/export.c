// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof export: the probes' figures for the monitoring people run, as
 * Prometheus's /metrics over HTTP, a node_exporter textfile, or JSON lines.
 * A scrape reads the maps when it comes (fresh figures); the textfile, the
 * JSON lines and the model's verdicts are made once an interval.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export/export.h"
#include "vfmigprof/prof.h"

static const char export_help[] =
	"Usage: vfmigprof export (--listen [ADDR:]PORT | --textfile DIR | --json) [OPTIONS]\n"
	"                        [-- PROGRAM ARGS...]\n"
	"Exports the probes' figures (counters per host, device and VM, latency histograms,\n"
	"device states, vfmig's own health, the model's verdict per VM) for monitoring: until\n"
	"PROGRAM or -p PID ends, --duration, or Ctrl-C; without a target, every process.\n"
	"\n"
	"Options:\n"
	"      --listen [ADDR:]PORT  serve Prometheus's /metrics over HTTP (ADDR 127.0.0.1\n"
	"                         unless given; 0.0.0.0 for every interface)\n"
	"      --textfile DIR     write DIR/vfmig.prom each interval, for node_exporter's\n"
	"                         textfile collector (a temporary file renamed over it)\n"
	"  -j, --json             a JSON object a line on stdout each interval\n"
	"  -i, --interval MS      textfile, JSON and verdict interval (default 1000)\n"
	"      --duration SEC     stop after SEC seconds\n"
	"      --bandwidth MB/s   the link cap the verdicts are predicted at (default: none)\n"
	"      --downtime MS      the downtime limit they are predicted at (default 300)\n"
	"%s"
	"\n"
	"Examples:\n"
	"  vfmigprof export --listen 9477\n"
	"  vfmigprof export --textfile /var/lib/node_exporter/textfile --cgroup machine.slice\n"
	"  vfmigprof export --json -i 5000 --bandwidth 100 -- vfmig-emu run --time 60\n";

enum { OPT_LISTEN = 0x100, OPT_TEXTFILE, OPT_BW, OPT_DOWNTIME, OPT_DURATION };

struct export_opts {
	struct prof_target t;
	const char *listen, *textfile;
	struct sockaddr_in addr;
	bool json;
	unsigned int interval_ms, duration;
	struct live_link link;
};

/* The exporter, shared by the scrapes (libmicrohttpd's thread) and the interval loop. */
struct export_run {
	struct exporter *x;
	pthread_mutex_t lock;
	double t0;
};

static int parse_addr(const char *arg, struct sockaddr_in *a)
{
	const char *colon = strrchr(arg, ':');
	char host[64] = "127.0.0.1", *end;
	unsigned long port;

	if (colon) {
		if ((size_t)(colon - arg) >= sizeof(host))
			return -1;
		if (colon > arg)
			snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
		arg = colon + 1;
	}
	errno = 0;
	port = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || !port || port > 65535 || strchr(arg, '-'))
		return -1;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static int parse_one(int c, const char *arg, void *opts)
{
	struct export_opts *o = opts;
	unsigned long ms;
	char *end;
	double v;

	switch (c) {
	case OPT_LISTEN:
		o->listen = arg;
		if (parse_addr(arg, &o->addr))
			return prof_usage_error("--listen '%s' is not [IPv4-ADDR:]PORT", arg);
		return 0;
	case OPT_TEXTFILE:
		o->textfile = arg;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'i':
		errno = 0;
		ms = strtoul(arg, &end, 10);
		if (end == arg || *end || errno || ms < 10 || ms > 86400000 || strchr(arg, '-'))
			return prof_usage_error("-i '%s' is not an interval in milliseconds "
						"(10 to 86400000)",
						arg);
		o->interval_ms = (unsigned int)ms;
		return 0;
	case OPT_DURATION:
		if (prof_number("--duration", arg, 1, UINT_MAX, &v))
			return EXIT_USAGE;
		o->duration = (unsigned int)ceil(v);
		return 0;
	case OPT_BW:
		if (prof_number("--bandwidth", arg, 0.001, 1e6, &v))
			return EXIT_USAGE;
		o->link.cap_bps = v * 1e6;
		return 0;
	case OPT_DOWNTIME:
		if (prof_number("--downtime", arg, 1, 3600000, &v))
			return EXIT_USAGE;
		o->link.downtime_s = v / 1e3;
		return 0;
	case 'h':
		printf(export_help, prof_target_help);
		exit(0);
	}
	return prof_usage_error("unknown option '%s'", arg);
}

static int parse_opts(int argc, char **argv, struct export_opts *o)
{
	static const struct option longopts[] = {
		PROF_TARGET_LONG,
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"textfile", required_argument, NULL, OPT_TEXTFILE},
		{"json", no_argument, NULL, 'j'},
		{"interval", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"bandwidth", required_argument, NULL, OPT_BW},
		{"downtime", required_argument, NULL, OPT_DOWNTIME},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ret;

	memset(o, 0, sizeof(*o));
	o->interval_ms = 1000;
	o->link = (struct live_link){.engine = ENGINE_VFMIG,
				     .cap_bps = -1,
				     .link_bps = -1,
				     .downtime_s = -1,
				     .max_rounds = -1};
	ret = prof_parse_opts(argc, argv, "ji:h", longopts, &o->t, parse_one, o);
	if (ret)
		return ret;
	if (!o->listen && !o->textfile && !o->json)
		return prof_usage_error("export needs --listen, --textfile or --json%s", "");
	return 0;
}

static int reply(struct MHD_Connection *c, unsigned int status, char *body, size_t len,
		 const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	int ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static char *text(const char *s, size_t *len)
{
	*len = strlen(s);
	return strdup(s);
}

/* GET /metrics: the figures as they are now; any other method 405, any other path 404. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **state)
{
	struct export_run *run = cls;
	char *body;
	size_t len;
	FILE *f;

	(void)version, (void)data, (void)data_len, (void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET)) {
		body = text("GET only\n", &len);
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, len, "text/plain");
	}
	if (strcmp(url, "/metrics")) {
		body = text("not found: vfmig serves /metrics\n", &len);
		return reply(c, MHD_HTTP_NOT_FOUND, body, len, "text/plain");
	}
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pthread_mutex_lock(&run->lock);
	exporter_refresh(run->x, prof_now() - run->t0);
	exporter_prom(run->x, f);
	pthread_mutex_unlock(&run->lock);
	fclose(f);
	return reply(c, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* Bound here, not by libmicrohttpd, so that a port in use is named with its errno. */
static int listen_socket(const struct export_opts *o)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) || listen(fd, 64)) {
		fprintf(stderr, "vfmigprof: cannot listen on %s: %s\n", o->listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static struct MHD_Daemon *serve(const struct export_opts *o, int fd, struct export_run *run)
{
	struct MHD_Daemon *d;

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, run,
			     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "vfmigprof: cannot serve on %s\n", o->listen);
		close(fd);
	}
	return d;
}

/* DIR/vfmig.prom replaced whole: node_exporter never reads half a file. */
static int write_textfile(const char *dir, struct exporter *x)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/vfmig.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/.vfmig.prom.%d.tmp", dir, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "vfmigprof: cannot write %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	exporter_prom(x, f);
	bad = fflush(f) || ferror(f) || fsync(fileno(f));
	if (fclose(f) || bad || rename(tmp, path)) {
		fprintf(stderr, "vfmigprof: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		fprintf(stderr, "vfmigprof: --textfile %s: %s\n", dir,
			errno ? strerror(errno) : "not a directory");
		return -1;
	}
	return 0;
}

/* One interval's outputs: the verdicts, the textfile, a JSON line. */
static int tick(const struct export_opts *o, struct export_run *run)
{
	int ret = 0;

	pthread_mutex_lock(&run->lock);
	exporter_refresh(run->x, prof_now() - run->t0);
	exporter_predict(run->x);
	if (o->textfile)
		ret = write_textfile(o->textfile, run->x);
	if (o->json) {
		exporter_json(run->x, stdout);
		fflush(stdout);
	}
	pthread_mutex_unlock(&run->lock);
	return ret;
}

static int watch(const struct export_opts *o, struct prof_session *s, struct export_run *run)
{
	double step = o->interval_ms / 1e3, next = run->t0 + step;
	int status = 0, ret = 0;

	prof_catch_signals();
	if (!prof_attached_go(s))
		prof_stop = 1;
	while (!ret && !prof_stop && !prof_target_ended(&o->t, s, &status)) {
		double left = next - prof_now();

		pthread_mutex_lock(&run->lock);
		probes_poll(s->probes, 0, NULL, NULL);
		pthread_mutex_unlock(&run->lock);
		poll(NULL, 0, left < 0.05 ? (left > 0 ? (int)(left * 1e3) + 1 : 0) : 50);
		if (o->duration && prof_now() - run->t0 >= o->duration)
			break;
		if (prof_now() >= next) {
			ret = tick(o, run);
			next = next + step > prof_now() ? next + step : prof_now() + step;
		}
	}
	if (!ret)
		ret = tick(o, run); /* the last figures, PROGRAM's end included */
	if (ret)
		return 1;
	return o->t.prog && s->child < 0 && (!WIFEXITED(status) || WEXITSTATUS(status)) ? 1 : 0;
}

static int run_export(struct export_opts *o)
{
	struct export_run run = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct MHD_Daemon *d = NULL;
	struct prof_session s;
	int ret, fd = -1;

	ret = prof_target_check(&o->t);
	if (ret)
		return ret;
	if (o->textfile && check_dir(o->textfile))
		return 1;
	if (o->listen && (fd = listen_socket(o)) < 0)
		return 1;
	if (prof_attach(&o->t, &s)) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	run.t0 = prof_now();
	run.x = exporter_new(s.probes, &o->link);
	if (!run.x) {
		fprintf(stderr, "vfmigprof: out of memory\n");
		close(fd);
		ret = 1;
	} else if (o->listen && !(d = serve(o, fd, &run))) {
		ret = 1;
	} else {
		ret = watch(o, &s, &run);
	}
	if (d)
		MHD_stop_daemon(d);
	exporter_free(run.x);
	prof_detach(&s);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o;
	int ret = parse_opts(argc, argv, &o);

	return ret ? ret : run_export(&o);
}
