// SPDX-License-Identifier: GPL-2.0
/*
 * Runs inside the vmtest guest (tests/vmtest/init): vfmigprof record around
 * a migration of the kernel's mtty sample from one process to another
 * (RUNNING -> PRE_COPY -> STOP_COPY -> STOP on the source, its stream through
 * a pipe into a child's mtty in RESUMING, then STOP and RUNNING there), and
 * vfmigprof report --json of that file: each device's arcs are the ones mtty's
 * driver logged, in order; its stream bytes those the two processes moved; the
 * downtime within what the source measured around it. Then vfmigtop's batch
 * screen while the two mtty devices sit in states the kernel confirms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

#include "common/sys.h"
#include "common/vfio_state.h"
#include "vfio_real.h"

#define UART_SCR 7 /* mtty's scratch register: state that must reach the destination */
#define SCRATCH 0x5a
#define STREAM_MAX (1 << 16)
#define MAX_ARCS 32

static char self[PATH_MAX], dir[PATH_MAX];

/* What the migrating processes did, as they saw it (the truth file). */
struct moved {
	long src_pid, dst_pid;
	long long precopy_bytes, stop_copy_bytes, written;
	double downtime_bound_ms; /* from the STOP_COPY request to the destination running */
};

/* The destination: mtty B resumed from the stream on in; its exit status says how it went. */
static int destination(int in, long long *written)
{
	static char buf[STREAM_MAX];
	struct real_dev b;
	long long got = 0;
	ssize_t n;
	uint8_t v = 0;
	int fd;

	if (real_open(&b, VMTEST_MTTY_B, -1) || real_set_state(&b, VFIO_DEVICE_STATE_RESUMING, &fd))
		return 10;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write_all(fd, buf, (size_t)n))
			return 11;
		got += n;
	}
	close(fd);
	if (real_set_state(&b, VFIO_DEVICE_STATE_STOP, NULL) ||
	    real_set_state(&b, VFIO_DEVICE_STATE_RUNNING, NULL))
		return 12;
	if (real_bar0_read8(&b, UART_SCR, &v) || v != SCRATCH)
		return 13;
	*written = got;
	real_close(&b);
	return 0;
}

/* The source: mtty A through pre-copy and stop-copy into a forked destination. */
static int migrate(const char *truth_path)
{
	static char buf[STREAM_MAX];
	struct moved m = {.src_pid = getpid()};
	uint64_t initial, dirty, t0;
	int p[2], fd, next, status, end;
	FILE *truth = fopen(truth_path, "w");
	struct real_dev a;
	long n;

	if (!truth || real_open(&a, VMTEST_MTTY_A, -1) || real_bar0_write8(&a, UART_SCR, SCRATCH) ||
	    pipe(p))
		return 20;
	m.dst_pid = fork();
	if (!m.dst_pid) {
		close(p[1]);
		status = destination(p[0], &m.written);
		fprintf(truth, "written %lld\n", m.written);
		fflush(truth);
		_exit(status);
	}
	close(p[0]);
	if (real_set_state(&a, VFIO_DEVICE_STATE_PRE_COPY, &fd) ||
	    real_precopy_info(fd, &initial, &dirty))
		return 21;
	m.precopy_bytes = n = real_drain(fd, buf, sizeof(buf), &end);
	if (n < 0 || write_all(p[1], buf, (size_t)n))
		return 22;
	t0 = clock_ns(CLOCK_MONOTONIC);
	/* mtty goes on in the pre-copy data fd: no new one */
	if (real_set_state(&a, VFIO_DEVICE_STATE_STOP_COPY, &next) || next >= 0)
		return 23;
	m.stop_copy_bytes = n = real_drain(fd, buf, sizeof(buf), &end);
	if (n < 0 || write_all(p[1], buf, (size_t)n))
		return 24;
	close(p[1]);
	close(fd);
	if (real_set_state(&a, VFIO_DEVICE_STATE_STOP, NULL) ||
	    waitpid((pid_t)m.dst_pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return 25;
	m.downtime_bound_ms = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
	fprintf(truth, "pids %ld %ld precopy %lld stop_copy %lld initial %llu bound_ms %.3f\n",
		m.src_pid, m.dst_pid, m.precopy_bytes, m.stop_copy_bytes,
		(unsigned long long)initial, m.downtime_bound_ms);
	fclose(truth);
	real_close(&a);
	return 0;
}

/* Holds mtty A in PRE_COPY and B in STOP for hold_ms, then writes the kernel's answers. */
static int hold(const char *truth_path, int hold_ms)
{
	enum vfio_device_mig_state sa, sb;
	struct timespec ts = {hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L};
	struct real_dev a, b;
	FILE *truth;
	int fd;

	if (real_open(&a, VMTEST_MTTY_A, -1) || real_open(&b, VMTEST_MTTY_B, a.container) ||
	    real_set_state(&a, VFIO_DEVICE_STATE_PRE_COPY, &fd) ||
	    real_set_state(&b, VFIO_DEVICE_STATE_STOP, NULL))
		return 30;
	nanosleep(&ts, NULL);
	if (real_get_state(&a, &sa) || real_get_state(&b, &sb))
		return 31;
	truth = fopen(truth_path, "w");
	if (!truth)
		return 32;
	fprintf(truth, "%s %s\n%s %s\n", a.name, vfio_state_name(sa), b.name, vfio_state_name(sb));
	fclose(truth);
	close(fd);
	real_reset(&b);
	real_reset(&a);
	real_close(&b);
	real_close(&a);
	return 0;
}

static void tool(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
	assert_int_equal(access(out, X_OK), 0);
}

static struct moved read_truth(const char *path)
{
	struct moved m = {0};
	FILE *f = fopen(path, "r");
	char line[256];
	int fields = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long initial;

		if (sscanf(line, "written %lld", &m.written) == 1)
			fields++;
		else if (
			sscanf(line,
			       "pids %ld %ld precopy %lld stop_copy %lld initial %llu bound_ms %lf",
			       &m.src_pid, &m.dst_pid, &m.precopy_bytes, &m.stop_copy_bytes,
			       &initial, &m.downtime_bound_ms) == 6)
			fields++;
	}
	fclose(f);
	assert_int_equal(fields, 2);
	return m;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

/* The one device of list (a report's devices) named name. */
static struct json_object *device_named(struct json_object *list, const char *name)
{
	struct json_object *found = NULL;
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *d = json_object_array_get_idx(list, i);

		if (!strcmp(json_object_get_string(get(d, "name")), name)) {
			assert_null(found);
			found = d;
		}
	}
	assert_non_null(found);
	return found;
}

/* The device's successful arcs in the report equal want[0..n), in order. */
static void arcs_are(struct json_object *dev, const unsigned int want[][2], int n)
{
	struct json_object *arcs = get(dev, "arcs");
	int i, k = 0;

	for (i = 0; i < (int)json_object_array_length(arcs); i++) {
		struct json_object *a = json_object_array_get_idx(arcs, i);

		if (json_object_get_int(get(a, "result")))
			continue;
		assert_true(k < n);
		assert_string_equal(json_object_get_string(get(a, "from")),
				    vfio_state_name(want[k][0]));
		assert_string_equal(json_object_get_string(get(a, "to")),
				    vfio_state_name(want[k][1]));
		k++;
	}
	assert_int_equal(k, n);
}

struct logged {
	unsigned int arc[MAX_ARCS][2];
	int n;
};

/* The arcs mtty logged since kmsg was moved to its end, of the device named dev. */
static void logged_arcs(int kmsg, struct logged *a, struct logged *b)
{
	unsigned int from, to;
	char dev[64];

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	while (kmsg_next_arc(kmsg, dev, sizeof(dev), &from, &to)) {
		struct logged *l = !strcmp(dev, VMTEST_MTTY_A)	 ? a
				   : !strcmp(dev, VMTEST_MTTY_B) ? b
								 : NULL;

		assert_non_null(l);
		assert_true(l->n < MAX_ARCS);
		l->arc[l->n][0] = from;
		l->arc[l->n++][1] = to;
	}
}

/*
 * The recording's migration is the one the two processes made: the source
 * and destination pids, each device's arcs as mtty logged them, the stream
 * bytes read and written as the processes counted them, and a downtime
 * within the source's own bound.
 */
static void test_recorded_mtty_migration(void **state)
{
	char prof[PATH_MAX], file[] = "/tmp/mtty-XXXXXX", truth_path[] = "/tmp/mtty-truth-XXXXXX";
	char *rec[] = {prof, "record", "-o", file, "--", self, "migrate", truth_path, NULL};
	char *rep[] = {prof, "report", "--json", file, NULL};
	struct json_object *r, *mig, *src, *dst;
	struct logged lsrc, ldst;
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK), fd;
	double downtime;
	struct moved m;
	char *out;

	(void)state;
	tool("vfmigprof", prof, sizeof(prof));
	assert_true(kmsg >= 0);
	assert_true(lseek(kmsg, 0, SEEK_END) >= 0);
	fd = mkstemp(file);
	close(fd);
	fd = mkstemp(truth_path);
	close(fd);
	assert_int_equal(run_capture(rec, &out), 0);
	free(out);
	logged_arcs(kmsg, &lsrc, &ldst);
	close(kmsg);
	m = read_truth(truth_path);
	assert_true(lsrc.n >= 3 && ldst.n >= 3);

	assert_int_equal(run_capture(rep, &out), 0);
	r = json_tokener_parse(out); /* pretty-printed: the whole output */
	if (!r || json_object_array_length(get(r, "migrations")) != 1) {
		char *txt[] = {prof, "report", file, NULL}, *t;

		run_capture(txt, &t);
		vmtest_report("no single migration in the report:\n%s", t);
		free(t);
	}
	free(out);
	assert_non_null(r);
	assert_int_equal(json_object_array_length(get(r, "migrations")), 1);
	mig = json_object_array_get_idx(get(r, "migrations"), 0);
	assert_int_equal(json_object_get_int64(get(mig, "pid")), m.src_pid);
	assert_int_equal(json_object_get_int64(get(mig, "destination_pid")), m.dst_pid);
	src = device_named(get(mig, "devices"), VMTEST_MTTY_A);
	dst = device_named(get(get(mig, "destination"), "devices"), VMTEST_MTTY_B);
	arcs_are(src, lsrc.arc, lsrc.n);
	arcs_are(dst, ldst.arc, ldst.n);
	assert_int_equal(json_object_get_int64(get(src, "data_read_bytes")),
			 m.precopy_bytes + m.stop_copy_bytes);
	assert_int_equal(json_object_get_int64(get(dst, "data_write_bytes")), m.written);
	assert_int_equal(m.written, m.precopy_bytes + m.stop_copy_bytes);
	downtime = json_object_get_double(get(mig, "downtime_ms"));
	assert_true(downtime > 0 && downtime <= m.downtime_bound_ms);
	vmtest_report("record: mtty migrated between two processes under vfmigprof record; report "
		      "--json shows the source's %d arcs and the destination's %d as mtty logged "
		      "them, %lld + %lld stream bytes read and %lld written as the processes moved "
		      "them, downtime %.2f ms within the source's %.2f ms",
		      lsrc.n, ldst.n, m.precopy_bytes, m.stop_copy_bytes, m.written, downtime,
		      m.downtime_bound_ms);
	json_object_put(r);
	unlink(file);
	unlink(truth_path);
}

/* The device's row in screen[0..len): its line in row, or false. */
static bool row_of(const char *screen, size_t len, const char *uuid, char *row, size_t rowlen)
{
	char shown[32];
	const char *p, *eol;

	/* 24 columns: the name's head and tail, which tell mdev UUIDs apart */
	snprintf(shown, sizeof(shown), "%.10s...%s", uuid, uuid + strlen(uuid) - 11);
	p = memmem(screen, len, shown, strlen(shown));
	if (!p)
		return false;
	eol = memchr(p, '\n', (size_t)(screen + len - p));
	snprintf(row, rowlen, "%.*s", (int)((eol ? eol : screen + len) - p), p);
	return true;
}

/* The row's STATE column (after 24 + 1 columns of name, 8 + 1 of model) is state. */
static bool state_is(const char *row, const char *state)
{
	char field[16] = "";

	if (strlen(row) < 34 + 12 || sscanf(row + 34, "%15s", field) != 1)
		return false;
	return !strcmp(field, state);
}

/* " TYPE " of the mdev: the last component of its mdev_type link. */
static const char *mdev_type(const char *uuid, char *out, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/mdev_type", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = 0;
	snprintf(out, len, " %s ", strrchr(link, '/') + 1);
	return out;
}

/*
 * vfmigtop -b watching a process that holds mtty A in PRE_COPY and B in
 * STOP: a screen shows both devices live, by name, their STATE column the
 * states the kernel answered, and what they are (their mdev type).
 */
static void test_vfmigtop_batch_shows_mtty_states(void **state)
{
	char top[PATH_MAX], truth_path[] = "/tmp/mtty-hold-XXXXXX";
	char *argv[] = {top, "-b", "-i", "300", "--", self, "hold", truth_path, "1500", NULL};
	char name[2][64], st[2][24], row[2][512], live[2][512], type[64], *out, *s, *next;
	bool seen = false;
	FILE *f;
	int fd = mkstemp(truth_path), i;

	(void)state;
	close(fd);
	tool("vfmigtop", top, sizeof(top));
	assert_int_equal(run_capture(argv, &out), 0);
	f = fopen(truth_path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%63s %23s %63s %23s", name[0], st[0], name[1], st[1]), 4);
	fclose(f);
	assert_string_equal(st[0], "PRE_COPY");
	assert_string_equal(st[1], "STOP");
	for (s = out; s; s = next) { /* screens, each from its "vfmigtop" title line */
		size_t len;

		next = strstr(s + 1, "\nvfmigtop ");
		len = next ? (size_t)(next - s) : strlen(s);
		if (!row_of(s, len, name[0], row[0], sizeof(row[0])) ||
		    !row_of(s, len, name[1], row[1], sizeof(row[1])) || strstr(row[0], "GONE") ||
		    strstr(row[1], "GONE"))
			continue;
		if (state_is(row[0], st[0]) && state_is(row[1], st[1])) {
			memcpy(live, row, sizeof(live));
			seen = true;
		}
	}
	if (!seen)
		fprintf(stderr, "vfmigtop's screens:\n%s\n", out);
	assert_true(seen);
	for (i = 0; i < 2; i++) /* the MODEL column: the mdev's type, as sysfs links it */
		assert_non_null(strstr(live[i], mdev_type(name[i], type, sizeof(type))));
	vmtest_report("vfmigtop: batch screen shows mtty %s in %s and %s in %s, as the kernel "
		      "answered, of type%s as sysfs says:\n  %s\n  %s",
		      name[0], st[0], name[1], st[1], type, live[0], live[1]);
	free(out);
	unlink(truth_path);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_mtty_migration),
		cmocka_unit_test(test_vfmigtop_batch_shows_mtty_states),
	};
	ssize_t n;

	if (argc == 3 && !strcmp(argv[1], "migrate"))
		return migrate(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], atoi(argv[3]));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	snprintf(dir, sizeof(dir), "%s", self);
	*strrchr(dir, '/') = 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
