// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof predict on a live emulated VM (source 2), against vfmig-emu
 * migrate run for real on the same VM: the verdict right and the bytes within
 * 20% (accuracy proper is make score's); the devices' sizes equal what the
 * device answered its query (vfmig-emu run --json lists them); a VM that is
 * migrating is refused; bad input gets one line and its exit status.
 */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char emu[PATH_MAX], prof[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	if (geteuid())
		return -1; /* the probes need root: tests/run.sh runs as root */
	return tool_path("vfmig-emu", emu, sizeof(emu)) &&
			       tool_path("vfmigprof", prof, sizeof(prof))
		       ? 0
		       : -1;
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_double(v);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

/* argv from two NULL-terminated lists around a fixed middle. */
static int build(char **argv, int n, const char *const *a)
{
	while (*a && n < 60)
		argv[n++] = (char *)*a++;
	return n;
}

static struct json_object *json_of(char **argv)
{
	struct json_object *doc;
	char *out;

	assert_int_equal(run_capture(argv, &out), 0);
	doc = json_line_with(out, "converged");
	assert_non_null(doc);
	free(out);
	return doc;
}

/* Predicted from 3 s of the VM running, then migrated with the same VM and link options. */
static void check(const char *const *vm, const char *const *link, bool converges)
{
	char *argv[64] = {prof, "predict", "--json", "--window", "3"};
	struct json_object *p, *m;
	int n = build(argv, 5, link);
	double pb, mb;

	argv[n++] = "--";
	argv[n++] = emu;
	argv[n++] = "run";
	argv[n++] = "--time";
	argv[n++] = "60";
	argv[n++] = "--harvest-ms";
	argv[n++] = "1000";
	argv[build(argv, n, vm)] = NULL;
	p = json_of(argv);
	memset(argv, 0, sizeof(argv));
	argv[0] = emu;
	argv[1] = "migrate";
	argv[2] = "--json";
	argv[build(argv, build(argv, 3, vm), link)] = NULL;
	m = json_of(argv);
	pb = num(p, "bytes");
	mb = num(m, "bytes");
	printf("source 2: %s; predicted %s, %.1f MB; measured %s, %.1f MB\n",
	       json_object_get_string(member(p, "source")),
	       json_object_get_boolean(member(p, "converged")) ? "yes" : "no", pb / 1e6,
	       json_object_get_boolean(member(m, "converged")) ? "yes" : "no", mb / 1e6);
	assert_int_equal(json_object_get_boolean(member(p, "converged")), converges);
	assert_int_equal(json_object_get_boolean(member(m, "converged")), converges);
	assert_true(fabs(pb - mb) <= 0.2 * mb);
	json_object_put(p);
	json_object_put(m);
}

static void test_converging_with_pinned_ring(void **state)
{
	const char *vm[] = {"--mem",  "64m",  "--wss",	  "16m",
			    "--rate", "4000", "--device", "nic:dirty=type1-pin,rate=2000",
			    NULL};
	const char *link[] = {"--bandwidth", "100", "--downtime", "20", NULL};

	(void)state;
	check(vm, link, true);
}

static void test_device_memory_converging(void **state)
{
	const char *vm[] = {"--mem",  "64m",  "--wss",	  "8m",
			    "--rate", "1000", "--device", "bigmem:mem=16m,rate=200",
			    NULL};
	const char *link[] = {"--bandwidth", "150", "--downtime", "40", NULL};

	(void)state;
	check(vm, link, true);
}

/* An IOMMU type1 cannot see: the container reports every mapped page at every harvest. */
static void test_iommu_blind_never_converges(void **state)
{
	const char *vm[] = {"--mem",  "64m", "--wss",	 "8m",
			    "--rate", "500", "--device", "nic:dirty=type1-iommu,rate=500",
			    NULL};
	const char *link[] = {"--bandwidth", "200", "--downtime", "50", "--rounds", "3", NULL};

	(void)state;
	check(vm, link, false);
}

/* A child running argv with its stdout on a pipe. */
static pid_t start(char *const *argv, int *out)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (!pid) {
		dup2(fds[1], 1);
		close(fds[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	*out = fds[0];
	return pid;
}

static char *read_all(int fd)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		char *more;

		len += n;
		if (len + 1 < cap)
			continue;
		more = realloc(buf, cap *= 2);
		if (!more)
			free(buf);
		buf = more;
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

/* The sizes predict used are the device's own answers to the query it asked for. */
static void test_device_sizes_are_the_devices_answers(void **state)
{
	char *run[] = {emu,
		       "run",
		       "--json",
		       "--time",
		       "120",
		       "--harvest-ms",
		       "500",
		       "--mem",
		       "64m",
		       "--wss",
		       "8m",
		       "--device",
		       "bigmem:mem=16m,block=32k,rate=300",
		       NULL};
	char pid_s[16], *pred[] = {prof, "predict", "--json", "--window", "2", "-p", pid_s, NULL};
	struct json_object *p, *r, *dev, *size;
	char *out, *text;
	int fd, status;
	pid_t pid = start(run, &fd);

	(void)state;
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	usleep(300000); /* its RAM built */
	p = json_of(pred);
	kill(pid, SIGTERM); /* it reports what it measured at its next harvest */
	text = read_all(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
	r = json_line_with(text, "precopy_sizes");
	assert_non_null(r);
	assert_int_equal(json_object_get_int(member(r, "precopy_queries")), 1);
	size = json_object_array_get_idx(member(r, "precopy_sizes"), 0);
	assert_true(json_object_get_boolean(member(size, "queried")));
	dev = json_object_array_get_idx(member(member(p, "inputs"), "devices"), 0);
	assert_non_null(dev);
	printf("device %s: predict used %.0f initial bytes, the device answered %lld\n",
	       json_object_get_string(member(dev, "name")), num(dev, "initial_bytes"),
	       (long long)json_object_get_int64(member(size, "initial_bytes")));
	assert_true(num(dev, "initial_bytes") ==
		    (double)json_object_get_int64(member(size, "initial_bytes")));
	assert_string_equal(json_object_get_string(member(dev, "origin")), "measured");
	out = strstr(json_object_get_string(member(p, "source")), "device sizes: query");
	assert_non_null(out);
	json_object_put(p);
	json_object_put(r);
	free(text);
}

/* A migration changes the VM's devices' states: predicting over one is refused. */
static void test_refused_while_migrating(void **state)
{
	char *pred[] = {prof,	   "predict",	  "--window", "2",	  "--",	 emu,
			"migrate", "--mem",	  "128m",     "--wss",	  "32m", "--rate",
			"20000",   "--bandwidth", "50",	      "--rounds", "30",	 NULL};
	char line[512];
	int ret;

	(void)state;
	ret = run_stderr_line(pred, line, sizeof(line));
	printf("%s", line);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(line, "a migration ran"));
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *args[8];
		int status;
		const char *says;
	} cases[] = {
		{{"predict"}, 2, "name the VM: -p PID, --qmp PATH, --from FILE or -- PROGRAM"},
		{{"predict", "-p", "2147483646"}, 2, "-p 2147483646: no such process"},
		{{"predict", "--window", "0", "-p", "1"}, 2, "--window '0': use a number"},
		{{"predict", "--bandwidth", "-5", "-p", "1"}, 2, "--bandwidth '-5'"},
		{{"predict", "--rounds", "2.5", "-p", "1"}, 2, "--rounds '2.5'"},
		{{"tune", "--downtime", "x", "-p", "1"}, 2, "--downtime 'x'"},
		{{"predict", "--qmp", "/x", "-p", "1"}, 2, "one source: -p PID or PROGRAM"},
		{{"predict", "--bogus"}, 2, "unknown option '--bogus'"},
	};
	char *argv[12], line[512];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		argv[0] = prof;
		for (k = 0; cases[i].args[k]; k++)
			argv[k + 1] = (char *)cases[i].args[k];
		argv[k + 1] = NULL;
		assert_int_equal(run_stderr_line(argv, line, sizeof(line)), cases[i].status);
		printf("%s", line);
		assert_non_null(strstr(line, cases[i].says));
		assert_non_null(strstr(line, "vfmigprof: "));
	}
}

/* A VM without dirty tracking has no window to measure: one line, failure. */
static void test_untracked_vm_fails(void **state)
{
	char *argv[] = {prof, "predict",      "--window", "1",	   "--",  emu,	   "run", "--time",
			"20", "--harvest-ms", "0",	  "--mem", "32m", "--wss", "8m",  NULL};
	char line[512];

	(void)state;
	assert_int_equal(run_stderr_line(argv, line, sizeof(line)), 1);
	printf("%s", line);
	assert_non_null(strstr(line, "no harvest window"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converging_with_pinned_ring),
		cmocka_unit_test(test_device_memory_converging),
		cmocka_unit_test(test_iommu_blind_never_converges),
		cmocka_unit_test(test_device_sizes_are_the_devices_answers),
		cmocka_unit_test(test_refused_while_migrating),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_untracked_vm_fails),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
