// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop --qmp against a real QEMU 7.2 TCG guest (the tests/qemu bed): the
 * VM's row is the QEMU's pid (the socket peer's), its link the max-bandwidth
 * and downtime-limit the test set with migrate-set-parameters, and while it
 * migrates to a second QEMU, vfmigtop's progress lies between the test's own
 * query-migrate answers taken before and after vfmigtop's (each stamped on
 * the same monotonic clock), ending completed. Bad --qmp paths: one line.
 */
#include <fcntl.h>
#include <math.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "qemu/guest_bed.h"

#define BANDWIDTH (40ull << 20) /* not QEMU's default (32 MiB/s): the row must show this */
#define DOWNTIME_MS 250
#define MAX_SAMPLES 8192

static struct guest_bed bed;
static struct qemu_vm src, dst;
static struct qemu_guest guest = {.ram_mib = 128, .rate = 2048, .wss_mib = 32, .shape = "seq"};
static const struct qemu_migrate_opts opts = {.max_bandwidth = BANDWIDTH,
					      .downtime_limit_ms = DOWNTIME_MS};
static char top[PATH_MAX], out_path[PATH_MAX];

/* The test's own query-migrate: when it was sent and answered, and what it said. */
struct sample {
	double t0, t1;
	char status[24];
	double transferred, remaining, total, syncs;
};

static struct sample samples[MAX_SAMPLES];
static unsigned int nsamples;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
	char err[512];

	(void)state;
	src.qmp.fd = dst.qmp.fd = -1;
	snprintf(out_path, sizeof(out_path), "/tmp/vfmigtop-qmp-%d.json", getpid());
	if (!tool_path("vfmigtop", top, sizeof(top)))
		return -1;
	guest_bed_prepare(&bed);
	if (bed.why[0])
		return 0;
	if (guest_bed_start(&bed, &src, &dst, &guest, 120000, err, sizeof(err)) ||
	    qemu_set_migration_params(&src.qmp, &opts)) {
		fprintf(stderr, "bed: %s%s\n", err, src.qmp.err);
		guest_bed_stop(&bed, &src, &dst);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out_path);
	return guest_bed_stop(&bed, &src, &dst);
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static double num(struct json_object *o, const char *k)
{
	return json_object_get_double(get(o, k));
}

/* The row of pid in one of vfmigtop's JSON objects. */
static struct json_object *vm_of(struct json_object *t, pid_t pid)
{
	struct json_object *vms = get(t, "vms");

	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);

		if (json_object_get_int64(get(vm, "pid")) == pid)
			return vm;
	}
	return NULL;
}

static void check_link(struct json_object *vm)
{
	struct json_object *link = get(vm, "link");

	assert_string_equal(json_object_get_string(get(link, "from")), "qmp");
	assert_string_equal(json_object_get_string(get(link, "qmp")), src.tool_qmp_path);
	assert_true(num(link, "bandwidth_bps") == (double)BANDWIDTH);
	assert_true(num(link, "downtime_ms") == DOWNTIME_MS);
}

/* vfmigtop -b --json -i MS --qmp PATH in the background, its stdout into out_path. */
static pid_t top_start(const char *ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execl(top, top, "-b", "--json", "-i", ms, "--qmp", src.tool_qmp_path, NULL);
		_exit(127);
	}
	return pid;
}

/* Whether out_path has a whole line yet: vfmigtop is attached and reading. */
static bool top_printed(void)
{
	FILE *f = fopen(out_path, "re");
	char line[64];
	bool whole = false;

	while (f && fgets(line, sizeof(line), f))
		whole |= strchr(line, '\n') != NULL;
	if (f)
		fclose(f);
	return whole;
}

static void test_qmp_row_pid_and_link(void **state)
{
	char *out = NULL, *last;
	char *argv[] = {top,   "-b",	"--json",	   "-n", "2", "-i",
			"300", "--qmp", src.tool_qmp_path, NULL};
	struct json_object *t, *vm, *mem, *name;

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	assert_int_equal(run_capture(argv, &out), 0);
	last = strrchr(out, '\n');
	*last = 0;
	last = strrchr(out, '\n');
	t = json_tokener_parse(last ? last + 1 : out);
	assert_non_null(t);
	vm = vm_of(t, src.pid);
	printf("%s\n", json_object_to_json_string(vm));
	assert_non_null(vm);
	check_link(vm);
	mem = qmp_execute(&src.qmp, "query-memory-size-summary", NULL);
	assert_non_null(mem);
	assert_true(num(get(vm, "link"), "ram_bytes") == num(mem, "base-memory"));
	name = qmp_execute(&src.qmp, "query-name", NULL);
	assert_non_null(name);
	assert_string_equal(json_object_get_string(get(vm, "name")),
			    qmp_get_str(name, "name", "qemu"));
	json_object_put(name);
	assert_null(get(vm, "migration")); /* none yet: query-migrate says so */
	assert_true(strlen(json_object_get_string(get(get(vm, "verdict"), "why"))) > 0);
	json_object_put(mem);
	json_object_put(t);
	free(out);
}

/* CSV: the QEMU without a device gets a line of its own, its link from QMP, no migration. */
static void test_qmp_csv_line(void **state)
{
	char *out = NULL, want[96];
	char *argv[] = {top,   "-b",	"--csv",	   "-n", "1", "-i",
			"200", "--qmp", src.tool_qmp_path, NULL};

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	assert_int_equal(run_capture(argv, &out), 0);
	printf("%s", out);
	snprintf(want, sizeof(want), ",%d,qemu,", src.pid);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), ",0,qmp,%llu,%d.000,none,,\n", BANDWIDTH, DOWNTIME_MS);
	assert_non_null(strstr(out, want));
	free(out);
}

static int start_migration(void)
{
	char uri[160];
	json_object *a = json_object_new_object(), *b = json_object_new_object();

	snprintf(uri, sizeof(uri), "unix:%s/migration.sock", bed.dir);
	json_object_object_add(a, "uri", json_object_new_string(uri));
	json_object_object_add(b, "uri", json_object_new_string(uri));
	if (qmp_run(&dst.qmp, "migrate-incoming", a)) {
		json_object_put(b);
		return -1;
	}
	return qmp_run(&src.qmp, "migrate", b);
}

static void take_sample(struct sample *s)
{
	json_object *r, *ram;

	s->t0 = mono();
	r = qmp_execute(&src.qmp, "query-migrate", NULL);
	s->t1 = mono();
	assert_non_null(r);
	ram = get(r, "ram");
	snprintf(s->status, sizeof(s->status), "%s", qmp_get_str(r, "status", "?"));
	s->transferred = qmp_get_double(ram, "transferred", 0);
	s->remaining = qmp_get_double(ram, "remaining", 0);
	s->total = qmp_get_double(ram, "total", 0);
	s->syncs = qmp_get_double(ram, "dirty-sync-count", 0);
	json_object_put(r);
}

/* Samples every ~40 ms until the migration ends; the index of the first completed one. */
static unsigned int migrate_sampled(void)
{
	double limit = mono() + 240;

	nsamples = 0;
	assert_int_equal(start_migration(), 0);
	while (nsamples < MAX_SAMPLES && mono() < limit) {
		struct sample *s = &samples[nsamples++];

		take_sample(s);
		if (!strcmp(s->status, "completed"))
			return nsamples - 1;
		assert_string_not_equal(s->status, "failed");
		assert_string_not_equal(s->status, "cancelled");
		usleep(40000);
	}
	fail_msg("the migration did not complete in 240 s");
	return 0;
}

/* The test's last answer before vfmigtop sent its query, and its first after it had the answer. */
static int bracket(double t0, double t1, const struct sample **before, const struct sample **after)
{
	*before = *after = NULL;
	for (unsigned int i = 0; i < nsamples; i++) {
		if (samples[i].t1 <= t0)
			*before = &samples[i];
		if (!*after && samples[i].t0 >= t1)
			*after = &samples[i];
	}
	return *before && *after ? 0 : -1;
}

/*
 * The time left against when QEMU said completed (the test's 40 ms samples, 1 s
 * of slack for a loaded machine): a lower bound (no dirty rate yet) not past
 * it, a prediction within half of it.
 */
static void check_left(struct json_object *m, double actual)
{
	struct json_object *left = get(m, "time_left_s");

	if (!left || strcmp(json_object_get_string(get(m, "status")), "active"))
		return;
	if (json_object_get_boolean(get(m, "time_left_lower_bound")))
		assert_true(json_object_get_double(left) <= actual + 1.0);
	else
		assert_true(fabs(json_object_get_double(left) - actual) <= 1.0 + 0.5 * actual);
}

/* One of vfmigtop's progress figures between the two answers that bracket it. */
static void check_progress(struct json_object *m, double complete_t, unsigned int *checked)
{
	struct json_object *qt = get(m, "queried_t");
	const struct sample *a, *b;
	double t0 = json_object_get_double(json_object_array_get_idx(qt, 0));
	double t1 = json_object_get_double(json_object_array_get_idx(qt, 1));
	double sent = num(m, "transferred_bytes"), syncs = num(m, "dirty_sync_count");
	const char *status = json_object_get_string(get(m, "status"));

	assert_string_equal(json_object_get_string(get(m, "from")), "qmp");
	if (bracket(t0, t1, &a, &b))
		return;
	printf("  %.3f..%.3f %-9s sent %.0f in [%.0f, %.0f] syncs %.0f in [%.0f, %.0f] "
	       "%.1f%% left %s s (actual %.2f s)\n",
	       t0, t1, status, sent, a->transferred, b->transferred, syncs, a->syncs, b->syncs,
	       num(m, "percent"), json_object_to_json_string(get(m, "time_left_s")),
	       complete_t - t1);
	assert_true(a->transferred <= sent && sent <= b->transferred);
	assert_true(a->syncs <= syncs && syncs <= b->syncs);
	assert_true(num(m, "total_bytes") == b->total);
	if (!strcmp(a->status, b->status))
		assert_string_equal(status, a->status);
	check_left(m, complete_t - t1);
	(*checked)++;
}

/* A verdict from QMP's dirty rate at QMP's link: it converges, as QEMU did. 1 when known. */
static int check_verdict(struct json_object *vm)
{
	struct json_object *v = get(vm, "verdict");

	if (!json_object_get_boolean(get(v, "known")))
		return 0;
	printf("  verdict: %s\n", json_object_get_string(get(v, "why")));
	assert_true(json_object_get_boolean(get(v, "converges")));
	return 1;
}

static void test_qmp_progress_while_migrating(void **state)
{
	unsigned int done, checked = 0, active = 0, verdicts = 0;
	struct json_object *last = NULL;
	char line[65536];
	pid_t pid;
	FILE *f;

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	pid = top_start("250");
	for (int i = 0; i < 600 && !top_printed(); i++)
		usleep(50000);
	assert_true(top_printed());
	done = migrate_sampled();
	/* vfmigtop's next intervals see it completed; one more answer closes their bracket */
	usleep(800000);
	take_sample(&samples[nsamples++]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	printf("migration completed after %u samples\n", done);
	f = fopen(out_path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *t = json_tokener_parse(line), *vm, *m;

		assert_non_null(t);
		vm = vm_of(t, src.pid);
		assert_non_null(vm);
		check_link(vm);
		m = get(vm, "migration");
		verdicts += check_verdict(vm);
		if (m) {
			check_progress(m, samples[done].t1, &checked);
			active += !strcmp(json_object_get_string(get(m, "status")), "active");
		}
		json_object_put(last);
		last = t;
	}
	fclose(f);
	printf("%u progress figures bracketed, %u while active\n", checked, active);
	assert_true(checked >= 3);
	assert_true(verdicts >= 1);
	assert_true(active >= 2);
	last = get(vm_of(last, src.pid), "migration");
	assert_string_equal(json_object_get_string(get(last, "status")), "completed");
	assert_true(num(last, "percent") == 100);
	assert_true(num(last, "time_left_s") == 0);
}

/* vfmigtop --qmp ARG: one line on stderr naming what; its exit status. */
static void assert_bad_qmp(const char *arg, const char *what)
{
	char line[512] = "";
	char *argv[] = {top, "-b", "-n", "1", "--qmp", (char *)arg, NULL};
	int rc = run_stderr_line(argv, line, sizeof(line));

	printf("vfmigtop --qmp %s -> %d: %s\n", arg, rc, line);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(line, what));
	assert_non_null(strstr(line, arg));
}

/* A unix socket at path that takes connections and never says a word: no QMP greeting. */
static int silent_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void test_qmp_bad_paths(void **state)
{
	char path[96];
	int fd;

	(void)state;
	assert_bad_qmp("/etc/hostname", "not a socket");
	assert_bad_qmp("/nonexistent/vfmigtop.qmp", "/nonexistent/vfmigtop.qmp");
	snprintf(path, sizeof(path), "/tmp/vfmigtop-notqmp-%d.sock", getpid());
	fd = silent_socket(path);
	assert_bad_qmp(path, "greeting");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qmp_bad_paths),
		cmocka_unit_test(test_qmp_row_pid_and_link),
		cmocka_unit_test(test_qmp_csv_line),
		cmocka_unit_test(test_qmp_progress_while_migrating),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
