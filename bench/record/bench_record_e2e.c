// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof record end to end, under the real probes: one event-heavy emulated
 * migration (two NICs pinning each of their 32768 receive buffers as a packet
 * first fills it: 65536 pins, an event each; a PRE_COPY device; a vCPU writer;
 * capped at 3 pre-copy rounds with a downtime limit only the cap meets, so
 * that every run has the same shape however much the probes slow it) run
 * alone, under vfmigprof stat and under vfmigprof record, interleaved, RUNS
 * times each. Per mode: the migration's wall and CPU (both ends, timed by this
 * program re-run as vfmig-emu's thin parent, so the probes' loading is not
 * counted), its --json total time and downtime; vfmigprof's own CPU (its
 * rusage less the subtree it reaped, and its CPU while the migration ran);
 * events and ring-buffer drops apart (stat --json's counts, the file's);
 * events/s over the recording and file bytes per event. Goals, as verdicts
 * and not failures (the machine is shared): 0 drops; recording costs the
 * traced migration at most +10% total time over stat alone. Each file is set
 * beside its migration's --json: FSM steps against arcs, the report's rounds
 * against its rounds, pages pinned against its type1 harvests'. Exits 1 when
 * a tool fails, a file does not read back clean, or a file disagrees with its
 * migration while it reports no drops.
 *
 * VFMIG_BENCH_ROUNDS=N (1..15, default 3) sets the runs of each mode.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"
#include "record/record.h"

#define RUNS 3
#define MAX_RUNS 15
#define COST_GOAL 1.10 /* record's migration total time / stat's, at most */

enum mode { BASE, STAT, RECORD, NMODES };

static const char *const mode_name[] = {"alone", "stat", "record"};

#define NIC "nic:dirty=type1-pin,rate=20000,buffers=32768,bufsize=256,pkt=64"

static char self[PATH_MAX], emu[PATH_MAX], prof[PATH_MAX], dir[PATH_MAX];
/* 3 pre-copy rounds then stop-copy, whatever the probes' cost: runs alike in shape */
static char *const mig_args[] = {"migrate",  "--mem",	   "128m",     "--bandwidth",
				 "200",	     "--downtime", "50",       "--rounds",
				 "3",	     "--json",	   "--device", NIC,
				 "--device", NIC,	   "--device", "bigmem:mem=8m,rate=100",
				 NULL};

/* A run's figures. */
enum fig {
	WALL,	      /* the migration's, from its parent */
	CPU,	      /* the migration's, both ends */
	TOTAL_MS,     /* its --json */
	DOWNTIME_MS,  /* likewise */
	TOOL_CPU,     /* vfmigprof's own CPU */
	TOOL_CPU_MIG, /* vfmigprof's CPU while the migration ran (the probes loaded) */
	TOOL_WALL,    /* the whole command's */
	EVENTS,	      /* stat: sent by the probes; record: in the file */
	DROPS,	      /* the ring buffer's */
	SECONDS,      /* record: the recording's */
	BYTES,	      /* record: the file's */
	NFIGS
};

struct run {
	double f[NFIGS];
	int rounds, source_pid;
};

/* What the file holds, read with the library's reader: the counts to set beside the truth. */
struct census {
	uint64_t events, fsm_steps, pins, pages, end_events, end_drops;
	double end_seconds;
	bool closed;
};

static double tv(struct timeval t)
{
	return t.tv_sec + t.tv_usec / 1e6;
}

static double ru_cpu(const struct rusage *ru)
{
	return tv(ru->ru_utime) + tv(ru->ru_stime);
}

/* ---- the thin parent: runs the migration, stdout into a file, and writes its times ---- */

/* A process's CPU seconds (all its threads), from /proc/PID/stat; -1 unless it is vfmigprof. */
static double prof_cpu(pid_t pid)
{
	unsigned long long ut, st;
	char path[64], comm[32];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt ut st */
	n = fscanf(f, "%*d (%31[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", comm,
		   &ut, &st);
	fclose(f);
	if (n != 3 || strcmp(comm, "vfmigprof"))
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int timed(char **argv)
{
	const char *times = argv[0], *out = argv[1];
	double t0 = bench_now(), wall, tool0 = prof_cpu(getppid()), tool1;
	struct rusage ru, all;
	int status, fd;
	FILE *f;
	pid_t pid = fork();

	if (!pid) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return 1;
	wall = bench_now() - t0;
	tool1 = prof_cpu(getppid());
	getrusage(RUSAGE_SELF, &all);
	f = fopen(times, "w");
	if (!f)
		return 1;
	/*
	 * The migration's wall and CPU, its pid, this process's CPU with the migration's, and
	 * the CPU vfmigprof (the parent) spent while the migration ran.
	 */
	fprintf(f, "%.6f %.6f %d %.6f %.6f\n", wall, ru_cpu(&ru), pid, ru_cpu(&all) + ru_cpu(&ru),
		tool0 >= 0 && tool1 >= 0 ? tool1 - tool0 : 0);
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* ---- the runs ---- */

static void paths(void)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		bench_die("reading /proc/self/exe");
	self[n] = 0;
	slash = strrchr(self, '/');
	snprintf(emu, sizeof(emu), "%.*s/../../vfmig-emu", (int)(slash - self), self);
	snprintf(prof, sizeof(prof), "%.*s/../../vfmigprof", (int)(slash - self), self);
	if (access(emu, X_OK) || access(prof, X_OK))
		bench_die("finding build/vfmig-emu and build/vfmigprof");
	snprintf(dir, sizeof(dir), "/tmp/vfmig-bench-e2e.XXXXXX");
	if (!mkdtemp(dir))
		bench_die("mkdtemp");
}

static void file_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* argv with stdout and stderr into files of dir; its exit status, its rusage in *ru. */
static int run_cmd(char *const *argv, const char *out, const char *err, struct rusage *ru)
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, ru) != pid)
		bench_die("wait4");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void show_failure(const char *what, int status, const char *err)
{
	char line[512];
	FILE *f = fopen(err, "r");

	fprintf(stderr, "bench_record_e2e: %s exited %d\n", what, status);
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	if (f)
		fclose(f);
	exit(1);
}

static void read_times(const char *times, struct run *r, double *subtree)
{
	FILE *f = fopen(times, "r");

	if (!f || fscanf(f, "%lf %lf %d %lf %lf", &r->f[WALL], &r->f[CPU], &r->source_pid, subtree,
			 &r->f[TOOL_CPU_MIG]) != 5)
		bench_die("reading the migration's times");
	fclose(f);
}

static void read_migration(const char *json, struct run *r)
{
	struct json_object *o = json_object_from_file(json), *v;

	if (!o || !json_object_object_get_ex(o, "ok", &v) || !json_object_get_boolean(v))
		bench_die("the migration's --json (not ok)");
	json_object_object_get_ex(o, "total_ms", &v);
	r->f[TOTAL_MS] = json_object_get_double(v);
	json_object_object_get_ex(o, "downtime_ms", &v);
	r->f[DOWNTIME_MS] = json_object_get_double(v);
	json_object_object_get_ex(o, "rounds", &v);
	r->rounds = (int)json_object_array_length(v);
	json_object_put(o);
}

static double json_num(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k1, &v) || (k2 && !json_object_object_get_ex(v, k2, &v)))
		bench_die(k2 ? k2 : k1);
	return json_object_get_double(v);
}

/* What stat's probes counted: the events they sent and the ring buffer's drops. */
static void stat_events(const char *out, struct run *r)
{
	struct json_object *o = json_object_from_file(out);

	if (!o)
		bench_die("parsing vfmigprof stat --json");
	r->f[EVENTS] = json_num(o, "counters", "events");
	r->f[DROPS] = json_num(o, "counters", "events_dropped");
	json_object_put(o);
}

/* One migration in mode: the figures into r; the recording stays at rec. */
static void migrate(enum mode mode, const char *rec, struct run *r)
{
	char times[PATH_MAX], json[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	char *argv[40];
	int n = 0, i, status;
	struct rusage ru;
	double t0, subtree;

	file_in_dir(times, sizeof(times), "times");
	file_in_dir(json, sizeof(json), "migrate.json");
	file_in_dir(out, sizeof(out), "tool.out");
	file_in_dir(err, sizeof(err), "tool.err");
	if (mode != BASE) {
		argv[n++] = prof;
		argv[n++] = mode == STAT ? "stat" : "record";
		if (mode == STAT)
			argv[n++] = "--json";
		if (mode == RECORD) {
			argv[n++] = "-o";
			argv[n++] = (char *)rec;
		}
		argv[n++] = "-b"; /* the program is this one, timing vfmig-emu under it */
		argv[n++] = emu;
		argv[n++] = "--";
	}
	argv[n++] = self;
	argv[n++] = "--timed";
	argv[n++] = times;
	argv[n++] = json;
	argv[n++] = emu;
	for (i = 0; mig_args[i]; i++)
		argv[n++] = mig_args[i];
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	t0 = bench_now();
	status = run_cmd(argv, out, err, &ru);
	r->f[TOOL_WALL] = bench_now() - t0;
	if (status)
		show_failure(mode == BASE ? "vfmig-emu migrate" : argv[1], status, err);
	read_times(times, r, &subtree);
	read_migration(json, r);
	/* vfmigprof's rusage holds the subtree it reaped: the timing parent and the migration */
	r->f[TOOL_CPU] = mode == BASE ? 0 : ru_cpu(&ru) - subtree;
	if (mode == STAT)
		stat_events(out, r);
}

/* ---- the recording: the report's figures and the reader's counts ---- */

/* vfmigprof report --json FILE, as a user reads the file: events, drops, the report's rounds. */
static int report(const char *rec, struct run *r)
{
	char out[PATH_MAX], err[PATH_MAX];
	char *argv[] = {prof, "report", "--json", (char *)rec, NULL};
	struct json_object *o, *migs;
	struct rusage ru;
	int status, rounds = -1;

	file_in_dir(out, sizeof(out), "report.json");
	file_in_dir(err, sizeof(err), "report.err");
	status = run_cmd(argv, out, err, &ru);
	if (status)
		show_failure("vfmigprof report --json (the file does not read back clean)", status,
			     err);
	o = json_object_from_file(out);
	if (!o)
		bench_die("parsing vfmigprof report --json");
	r->f[EVENTS] = json_num(o, "events", NULL);
	r->f[DROPS] = json_num(o, "file", "ring_drops");
	if (json_num(o, "file", "lost_blocks") ||
	    !json_object_get_boolean(
		    json_object_object_get(json_object_object_get(o, "file"), "closed")))
		bench_die("the recording: lost blocks or not closed cleanly");
	if (json_object_object_get_ex(o, "migrations", &migs) &&
	    json_object_array_length(migs) == 1)
		rounds = (int)json_object_array_length(
			json_object_object_get(json_object_array_get_idx(migs, 0), "rounds"));
	json_object_put(o);
	return rounds;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t distinct(uint64_t *v, size_t n)
{
	size_t i, d = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		d += !i || v[i] != v[i - 1];
	return d;
}

static void count_events(const struct vfmig_event *ev, uint32_t n, int source, struct census *c,
			 uint64_t **pages, size_t *npages, size_t *cap)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct vfmig_event *e = &ev[i];

		c->events++;
		c->fsm_steps += e->type == VFMIG_EV_FSM_STEP;
		if (e->type != VFMIG_EV_PIN || (int)e->pid != source || e->result <= 0)
			continue;
		c->pins++;
		if (*npages == *cap) {
			*cap = *cap ? *cap * 2 : 65536;
			*pages = realloc(*pages, *cap * sizeof(**pages));
			if (!*pages)
				bench_die("realloc");
		}
		/* a page of a container: both NICs use the same iovas, each its own container */
		(*pages)[(*npages)++] = (uint64_t)(uint32_t)e->dev << 40 | e->a >> 12;
	}
}

static void end_block(const struct rec_block *b, struct census *c)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		bench_die("json_tokener_new");
	o = json_tokener_parse_ex(tok, (const char *)b->data, (int)b->len);
	json_tokener_free(tok);
	if (!o)
		bench_die("the recording's end block");
	c->closed = true;
	c->end_events = (uint64_t)json_num(o, "events", NULL);
	c->end_drops = (uint64_t)json_num(o, "drops", NULL);
	c->end_seconds = json_num(o, "seconds", NULL);
	json_object_put(o);
}

static void census(const char *rec, int source, struct census *c)
{
	static struct vfmig_event ev[REC_MAX_EVENTS];
	uint64_t *pages = NULL;
	size_t npages = 0, cap = 0;
	struct rec_block b;
	char err[256];
	struct rec_reader *rd = rec_open(rec, err, sizeof(err));

	if (!rd)
		bench_die(err);
	memset(c, 0, sizeof(*c));
	while (rec_next(rd, &b) == 1) {
		if (b.kind == REC_END)
			end_block(&b, c);
		if (b.kind != REC_EVENTS)
			continue;
		if (b.count > REC_MAX_EVENTS || rec_decode_events(b.data, b.len, b.count, ev))
			bench_die("decoding an events block");
		count_events(ev, b.count, source, c, &pages, &npages, &cap);
	}
	if (rec_damage(rd)->skipped || rec_damage(rd)->cut)
		bench_die("the recording is damaged");
	c->pages = distinct(pages, npages);
	free(pages);
	rec_reader_close(rd);
}

/* ---- the truth: the same run's vfmig-emu migrate --json ---- */

struct truth {
	uint64_t arcs; /* FSM steps of every device, both ends */
	uint64_t
		pinned; /* pages the pinning devices' type1 harvests counted, last pre-copy round */
};

static uint64_t arcs_of(struct json_object *devices)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; devices && i < json_object_array_length(devices); i++)
		n += json_object_array_length(
			json_object_object_get(json_object_array_get_idx(devices, i), "arcs"));
	return n;
}

static void truth(struct truth *t)
{
	char json[PATH_MAX], key[16];
	struct json_object *o, *devs, *rounds, *dirty;
	size_t i, nr;

	file_in_dir(json, sizeof(json), "migrate.json");
	o = json_object_from_file(json);
	if (!o)
		bench_die("the migration's --json");
	devs = json_object_object_get(o, "devices");
	t->arcs = arcs_of(devs) + arcs_of(json_object_object_get(
					  json_object_object_get(o, "destination"), "devices"));
	rounds = json_object_object_get(o, "rounds");
	nr = json_object_array_length(rounds);
	dirty = nr ? json_object_object_get(json_object_array_get_idx(rounds, nr - 1),
					    "dirty_pages")
		   : NULL;
	t->pinned = 0;
	for (i = 0; dirty && i < json_object_array_length(devs); i++) {
		const char *mode = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(devs, i), "dirty"));

		snprintf(key, sizeof(key), "dev%zu", i);
		if (mode && !strcmp(mode, "type1-pin"))
			t->pinned += (uint64_t)json_object_get_int64(
				json_object_object_get(dirty, key));
	}
	json_object_put(o);
}

static const char *verdict(bool good, double drops)
{
	return good ? "ok" : drops > 0 ? "short (drops)" : "MISMATCH";
}

/* One record run set beside its migration's truth: the number of disagreements. */
static int sanity(int i, const struct run *r, const struct census *c, const struct truth *t,
		  int report_rounds)
{
	bool steps = c->fsm_steps == t->arcs, rounds = report_rounds == r->rounds,
	     pins = c->pages >= t->pinned, end = c->events == c->end_events && c->closed,
	     drops = (double)c->end_drops == r->f[DROPS] && (double)c->events == r->f[EVENTS];

	printf("  run %d: FSM steps %llu, migrate's arcs %llu %s; rounds %d, report's %d %s;\n"
	       "         pages pinned (source) %llu, >= its last pre-copy harvest's %llu %s;\n"
	       "         events %llu (%llu pins), end block %llu, report %.0f, drops %.0f %s\n",
	       i + 1, (unsigned long long)c->fsm_steps, (unsigned long long)t->arcs,
	       verdict(steps, r->f[DROPS]), r->rounds, report_rounds, verdict(rounds, r->f[DROPS]),
	       (unsigned long long)c->pages, (unsigned long long)t->pinned,
	       verdict(pins, r->f[DROPS]), (unsigned long long)c->events,
	       (unsigned long long)c->pins, (unsigned long long)c->end_events, r->f[EVENTS],
	       r->f[DROPS], end && drops ? "ok" : "MISMATCH");
	return !steps + !rounds + !pins + !end + !drops;
}

/* ---- printing ---- */

static struct run runs[NMODES][MAX_RUNS];
static int nruns = RUNS;

static double med(enum mode m, enum fig f, double *lo, double *hi)
{
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < nruns; i++)
		v[i] = runs[m][i].f[f];
	return bench_median(v, nruns, lo, hi);
}

static void row(const char *label, enum fig f, int first, const char *fmt)
{
	char cell[64], num[3][24];
	double lo, hi, m;
	int k;

	printf("  %-34s", label);
	for (k = 0; k < first; k++)
		printf(" %22s", "");
	for (k = first; k < NMODES; k++) {
		m = med(k, f, &lo, &hi);
		snprintf(num[0], sizeof(num[0]), fmt, m);
		snprintf(num[1], sizeof(num[1]), fmt, lo);
		snprintf(num[2], sizeof(num[2]), fmt, hi);
		snprintf(cell, sizeof(cell), "%s (%s..%s)", num[0], num[1], num[2]);
		printf(" %22s", cell);
	}
	printf("\n");
}

static double ratio(enum mode a, enum mode b, enum fig f)
{
	double d = med(b, f, NULL, NULL);

	return d > 0 ? med(a, f, NULL, NULL) / d : 0;
}

/* The median of the per-run ratios a / b (runs interleaved: each pair ran side by side). */
static double paired(enum mode a, enum mode b, enum fig f, double *lo, double *hi)
{
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < nruns; i++) {
		double d = runs[b][i].f[f];

		v[i] = d > 0 ? runs[a][i].f[f] / d : 0;
	}
	return bench_median(v, nruns, lo, hi);
}

static void ratio_row(const char *label, enum mode a, enum mode b, enum fig f)
{
	double lo, hi, p = paired(a, b, f, &lo, &hi);

	printf("  %-38s x%.2f   per run x%.2f (x%.2f..x%.2f)\n", label, ratio(a, b, f), p, lo, hi);
}

/* vfmigprof's CPU while the migration ran over the events of that run. */
static double per_event(enum mode m)
{
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < nruns; i++)
		v[i] = runs[m][i].f[EVENTS] > 0
			       ? runs[m][i].f[TOOL_CPU_MIG] / runs[m][i].f[EVENTS] * 1e6
			       : 0;
	return bench_median(v, nruns, NULL, NULL);
}

/* What figure f (in seconds times scale) grew by over the same round's alone, us per event. */
static double extra_per_event(enum mode m, enum fig f, double scale)
{
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < nruns; i++)
		v[i] = runs[m][i].f[EVENTS] > 0 ? (runs[m][i].f[f] - runs[BASE][i].f[f]) / scale /
							  runs[m][i].f[EVENTS] * 1e6
						: 0;
	return bench_median(v, nruns, NULL, NULL);
}

static void print_results(void)
{
	double drops_max, lo, hi, ev = med(RECORD, EVENTS, NULL, NULL);
	double cost = ratio(RECORD, STAT, TOTAL_MS);
	double cpu_s = extra_per_event(STAT, CPU, 1), cpu_r = extra_per_event(RECORD, CPU, 1);
	double time_s = extra_per_event(STAT, TOTAL_MS, 1e3);
	double time_r = extra_per_event(RECORD, TOTAL_MS, 1e3);
	double alone_s = med(BASE, TOTAL_MS, NULL, NULL) / 1e3;
	double same = (alone_s + time_r * ev / 1e6) / (alone_s + time_s * ev / 1e6);
	double rate, bytes;
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < nruns; i++)
		v[i] = runs[RECORD][i].f[EVENTS] / runs[RECORD][i].f[SECONDS];
	rate = bench_median(v, nruns, NULL, NULL);
	for (i = 0; i < nruns; i++)
		v[i] = runs[RECORD][i].f[BYTES] / runs[RECORD][i].f[EVENTS];
	bytes = bench_median(v, nruns, NULL, NULL);
	med(RECORD, DROPS, NULL, &drops_max);
	printf("medians of %d runs of each, interleaved (min..max); a shared 2-core VM\n", nruns);
	printf("  %-34s %22s %22s %22s\n", "", mode_name[BASE], mode_name[STAT], mode_name[RECORD]);
	row("migration wall s", WALL, BASE, "%.2f");
	row("migration total ms (its --json)", TOTAL_MS, BASE, "%.0f");
	row("downtime ms (its --json)", DOWNTIME_MS, BASE, "%.1f");
	row("migration CPU s (both ends)", CPU, BASE, "%.2f");
	row("vfmigprof CPU s (its own, all)", TOOL_CPU, STAT, "%.3f");
	row("  while the migration ran", TOOL_CPU_MIG, STAT, "%.3f");
	row("command wall s (probes' load incl.)", TOOL_WALL, BASE, "%.2f");
	row("recording s", SECONDS, RECORD, "%.2f");
	row("events (stat: sent; record: in file)", EVENTS, STAT, "%.0f");
	row("ring-buffer drops", DROPS, STAT, "%.0f");
	row("file bytes", BYTES, RECORD, "%.0f");
	printf("  events/s over the recording %.0f; file bytes per event %.2f (header, snapshots\n"
	       "  and harvest windows included)\n",
	       rate, bytes);
	printf("ratios of medians, and the median of the runs' own (interleaved) ratios\n");
	ratio_row("vfmigprof CPU, record / stat", RECORD, STAT, TOOL_CPU);
	ratio_row("  while the migration ran", RECORD, STAT, TOOL_CPU_MIG);
	ratio_row("migration wall, stat / alone", STAT, BASE, WALL);
	ratio_row("migration wall, record / alone", RECORD, BASE, WALL);
	ratio_row("migration wall, record / stat", RECORD, STAT, WALL);
	ratio_row("migration total time, record / stat", RECORD, STAT, TOTAL_MS);
	ratio_row("migration CPU, record / stat", RECORD, STAT, CPU);
	printf("  vfmigprof's CPU per event while the migration ran: stat %.2f us, record %.2f us\n",
	       per_event(STAT), per_event(RECORD));
	printf("  per event, what the migration spent over alone's (the events differ run to run:\n"
	       "  a slower migration pins more buffers):\n");
	printf("    CPU         stat %6.1f us, record %6.1f us: x%.2f\n", cpu_s, cpu_r,
	       cpu_s > 0 ? cpu_r / cpu_s : 0);
	printf("    total time  stat %6.1f us, record %6.1f us: x%.2f\n", time_s, time_r,
	       time_s > 0 ? time_r / time_s : 0);
	printf("goals\n");
	printf("  events recorded with 0 drops: %.0f events, at most %.0f drops in a run: %s\n", ev,
	       drops_max, drops_max == 0 ? "met" : "NOT met");
	paired(RECORD, STAT, TOTAL_MS, &lo, &hi);
	printf("  recording costs the traced migration <= +%.0f%% total time over stat alone:\n"
	       "  x%.2f of the medians, %s (runs' own ratios x%.2f..x%.2f: the machine's noise);\n"
	       "  at the same %.0f events (alone's total and each tool's time per event): x%.2f, %s\n",
	       (COST_GOAL - 1) * 100, cost, cost <= COST_GOAL ? "met" : "NOT met", lo, hi, ev, same,
	       same <= COST_GOAL ? "met" : "NOT met");
}

static void cleanup(void)
{
	static const char *const files[] = {"times",	   "migrate.json", "tool.out", "tool.err",
					    "report.json", "report.err",   "mig.vfrec"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		file_in_dir(path, sizeof(path), files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* A record run's file: read as a user would and with the reader, set beside the truth. */
static int check_recording(int i, const char *rec, struct run *r)
{
	int rounds = report(rec, r);
	struct census cs;
	struct truth t;
	struct stat st;

	census(rec, r->source_pid, &cs);
	truth(&t);
	if (stat(rec, &st))
		bench_die("stat of the recording");
	r->f[BYTES] = (double)st.st_size;
	r->f[SECONDS] = cs.end_seconds;
	return sanity(i, r, &cs, &t, rounds);
}

int main(int argc, char **argv)
{
	const char *env = getenv("VFMIG_BENCH_ROUNDS");
	char rec[PATH_MAX];
	int i, m, bad = 0;

	if (argc > 4 && !strcmp(argv[1], "--timed"))
		return timed(argv + 2);
	if (geteuid())
		bench_die("running as root (the probes)");
	if (env)
		nruns = atoi(env) < 1 ? 1 : atoi(env) > MAX_RUNS ? MAX_RUNS : atoi(env);
	paths();
	atexit(cleanup);
	file_in_dir(rec, sizeof(rec), "mig.vfrec");
	bench_header("record_e2e", "vfmigprof record end to end on a real emulated migration");
	printf("vfmig-emu");
	for (i = 0; mig_args[i]; i++)
		printf(" %s", mig_args[i]);
	printf("\n(each NIC packet into a buffer not yet used pins it: one event; alone, under\n"
	       "vfmigprof stat, under vfmigprof record)\n");
	printf("sanity: each record run's file against the same run's vfmig-emu migrate --json\n");
	for (i = 0; i < nruns; i++) {
		for (m = 0; m < NMODES; m++)
			migrate(m, rec, &runs[m][i]);
		/* a disagreement the file does not explain by drops is a fault, not noise */
		bad += check_recording(i, rec, &runs[RECORD][i]) && !runs[RECORD][i].f[DROPS];
		fflush(stdout);
	}
	print_results();
	if (bad)
		fprintf(stderr,
			"bench_record_e2e: %d recording(s) disagree with their migration "
			"while reporting no drops\n",
			bad);
	return bad ? 1 : 0;
}
