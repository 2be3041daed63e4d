// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof as people run it: every bad input is refused with exit status 2
 * and exactly one line on stderr naming what is wrong; stat --interval
 * --json prints JSON lines whose per-interval counts add up to the totals
 * and to what the profiled program (this binary, re-run as a workload)
 * reports it did.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "device/device.h"
#include "probe/host.h"

#define ROUNDS 6
#define ROUND_MS 80

static char tool[PATH_MAX], self_exe[PATH_MAX];

/* build/tests/probe/test_cli -> build/vfmigprof */
static int setup(void **state)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)state;
	if (n <= 0)
		return -1;
	self[n] = 0;
	snprintf(self_exe, sizeof(self_exe), "%s", self);
	*strrchr(self, '/') = 0;
	snprintf(tool, sizeof(tool), "%s/../../vfmigprof", self);
	return access(tool, X_OK);
}

struct out {
	char text[65536], err[4096];
	int status;
};

/* Reads both pipes to their ends, whichever the tool writes to, so neither can fill. */
static void drain(int out, int err, struct out *o)
{
	struct pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
	char *buf[2] = {o->text, o->err};
	size_t len[2] = {sizeof(o->text) - 1, sizeof(o->err) - 1}, have[2] = {0, 0};
	char sink[4096];
	int left = 2, i;
	ssize_t n;

	while (left && poll(fds, 2, -1) > 0) {
		for (i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			n = have[i] < len[i] ? read(fds[i].fd, buf[i] + have[i], len[i] - have[i])
					     : read(fds[i].fd, sink, sizeof(sink));
			if (n <= 0) {
				fds[i].fd = -1;
				left--;
			} else if (have[i] < len[i]) {
				have[i] += n;
			}
		}
	}
	o->text[have[0]] = 0;
	o->err[have[1]] = 0;
}

/* Runs vfmigprof with argv (NULL-terminated, without the program name). */
static void run_tool(char *const *args, struct out *o)
{
	char *argv[32] = {tool};
	int po[2], pe[2], status, i;
	pid_t pid;

	for (i = 0; i < 30 && args[i]; i++)
		argv[i + 1] = args[i];
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(tool, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], pe[0], o);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	close(po[0]);
	close(pe[0]);
}

/* Runs vfmigprof on a workload of this binary; returns the "truth " line it printed. */
static const char *run_workload(char *const *args, struct out *o)
{
	const char *truth;

	run_tool(args, o);
	assert_int_equal(o->status, 0);
	truth = strstr(o->err, "truth ");
	assert_non_null(truth);
	return truth;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_bad_inputs_one_line(void **state)
{
	static char cg_file[PATH_MAX], cg_v1[] = "/proc";
	static const struct {
		const char *args[6], *says;
	} bad[] = {
		{{"stat", "--bogus"}, "vfmigprof: unknown option '--bogus'"},
		{{"stat", "-x"}, "vfmigprof: unknown option '-x'"},
		{{"stat", "--cgroup"}, "vfmigprof: option '--cgroup' needs an argument"},
		{{"stat", "-p", "abc"}, "vfmigprof: -p 'abc' is not a process id"},
		{{"stat", "-p", "2147483646"}, "vfmigprof: -p 2147483646: no such process"},
		{{"stat", "-d", "x:y"},
		 "vfmigprof: -d 'x:y': use a device id, PID:emuN, PID:FD or PID:NAME"},
		{{"stat", "--cgroup", "/nonexistent/vfmig"},
		 "vfmigprof: cgroup /nonexistent/vfmig: no such directory"},
		{{"stat", "--cgroup", cg_v1},
		 "vfmigprof: cgroup /proc is not a cgroup v2 directory"},
		{{"stat", "--cgroup", cg_file}, "is a file, not a directory"},
		{{"frob"}, "vfmigprof: unknown command 'frob'"},
		{{"stat"}, "vfmigprof: stat needs -- PROGRAM, -p PID, --cgroup PATH or --duration"},
		{{"probes", "--prefer", "uprobe"},
		 "vfmigprof: --prefer 'uprobe': use fentry or kprobe"},
		{{"probes", "--prefer"}, "vfmigprof: option '--prefer' needs an argument"},
		{{"stat", "--duration", "0"},
		 "vfmigprof: --duration '0' is not a number of seconds"},
		{{"stat", "--duration", "-1"},
		 "vfmigprof: --duration '-1' is not a number of seconds"},
		{{"stat", "--duration", "4294967297"},
		 "vfmigprof: --duration '4294967297' is not a number of seconds"},
		{{"stat", "-d", "-3"},
		 "vfmigprof: -d '-3': use a device id, PID:emuN, PID:FD or PID:NAME"},
		{{"stat", "--", "nosuchprog"}, "vfmigprof: nosuchprog: not found in PATH"},
		{{"stat", "-b", "/nonexist", "--duration", "1"},
		 "vfmigprof: -b /nonexist: No such file or directory"},
		{{"stat", "-b", "/bin/true", "--duration", "1"},
		 "vfmigprof: -b /bin/true: no vfmig USDT probes in it"},
	};
	static struct out o;
	char mnt[PATH_MAX - 32];
	size_t i;

	(void)state;
	if (host_cgroup2_mount(mnt, sizeof(mnt)))
		snprintf(cg_file, sizeof(cg_file), "/proc/self/status");
	else
		snprintf(cg_file, sizeof(cg_file), "%s/cgroup.procs", mnt);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_tool((char *const *)bad[i].args, &o);
		if (o.status != 2 || lines(o.err) != 1 || !strstr(o.err, bad[i].says))
			fail_msg("%s %s: status %d, stderr \"%s\"", bad[i].args[0],
				 bad[i].args[1] ? bad[i].args[1] : "", o.status, o.err);
		assert_string_equal(o.text, "");
	}
}

/* A PROGRAM without vfmig's USDT notes: one line says so, and nothing of libbpf's. */
static void test_program_without_usdt_one_line(void **state)
{
	static const char *const args[] = {"stat", "--", "/bin/true", NULL};
	static struct out o;

	(void)state;
	run_tool((char *const *)args, &o);
	assert_int_equal(o.status, 0);
	assert_int_equal(lines(o.err), 1);
	assert_non_null(strstr(o.err, "has no vfmig USDT probes"));
}

/* -d PID:NAME, a device QEMU's probes name, is taken (the filter itself: test_qemu). */
static void test_device_pid_name_taken(void **state)
{
	static const char *const args[] = {"stat", "-d", "1:0000:65:00.0", "--duration", "1", NULL};
	static struct out o;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	run_tool((char *const *)args, &o);
	assert_int_equal(o.status, 0);
	assert_null(strstr(o.err, "-d"));
}

/* stat -p PID ends when PID does, long before its --duration. */
static void test_stat_pid_ends_with_the_process(void **state)
{
	char pid_s[16], *args[] = {"stat", "-p", pid_s, "--duration", "60", NULL};
	static struct out o;
	struct timespec t0, t1;
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (!pid) {
		usleep(500 * 1000);
		_exit(0);
	}
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_tool(args, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(o.status, 0);
	assert_true(t1.tv_sec - t0.tv_sec < 20);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/*
 * The program profiled: ROUNDS rounds of two state changes on an emulated
 * device, ROUND_MS apart, then what it did on stderr.
 */
static int workload(void)
{
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=64k,block=4k"};
	struct emu_dev *dev = emu_dev_create(&cfg);
	unsigned int sets = 0, i;

	if (!dev)
		return 3;
	for (i = 0; i < ROUNDS; i++) {
		sets += !emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL);
		sets += !emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
		usleep(ROUND_MS * 1000);
	}
	fprintf(stderr, "truth sets=%u steps=%llu emu=%u pid=%d\n", sets,
		(unsigned long long)emu_dev_steps_total(dev), emu_dev_id(dev), (int)getpid());
	emu_dev_destroy(dev);
	return 0;
}

/* Skips one JSON value (object, array, string, number, literal); NULL if it is not one. */
static const char *json_skip(const char *p)
{
	p += strspn(p, " \t");
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p += 1 + strspn(p + 1, " \t");
		while (p && *p != close) {
			if (close == '}') {
				p = json_skip(p); /* the key */
				if (!p || *p != ':')
					return NULL;
				p++;
			}
			p = p ? json_skip(p) : NULL;
			if (p && *p == ',')
				p++;
			else if (p && *p != close)
				return NULL;
		}
		return p ? p + 1 + strspn(p + 1, " \t") : NULL;
	}
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && !*++p)
				return NULL;
		return *p ? p + 1 : NULL;
	}
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (strspn(p, "-0123456789.eE+"))
		return p + strspn(p, "-0123456789.eE+");
	return NULL;
}

/* A whole line that is exactly one JSON object. */
static bool json_line(const char *line)
{
	const char *end = line[0] == '{' ? json_skip(line) : NULL;

	return end && !*end;
}

static uint64_t json_u64(const char *line, const char *key)
{
	char k[64];
	const char *at;

	snprintf(k, sizeof(k), "\"%s\":", key);
	at = strstr(line, k);
	assert_non_null(at);
	return strtoull(at + strlen(k), NULL, 10);
}

static void test_interval_json_lines(void **state)
{
	char *args[] = {"stat", "-i", "100", "--json", "--", self_exe, "--workload", NULL};
	static struct out o;
	unsigned int sets, emu, pid, seq = 0;
	unsigned long long steps;
	uint64_t sum_sets = 0, sum_steps = 0;
	char *line, *save, name[64];
	const char *total = NULL, *truth;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	truth = run_workload(args, &o);
	assert_int_equal(
		sscanf(truth, "truth sets=%u steps=%llu emu=%u pid=%u", &sets, &steps, &emu, &pid),
		4);
	assert_int_equal(sets, 2 * ROUNDS);
	for (line = strtok_r(o.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!json_line(line))
			fail_msg("not one JSON object: %.200s", line);
		assert_null(total); /* the totals come last */
		if (strstr(line, "\"type\":\"total\"")) {
			total = line;
			continue;
		}
		assert_non_null(strstr(line, "\"type\":\"interval\""));
		assert_int_equal(json_u64(line, "seq"), ++seq);
		sum_sets += json_u64(line, "state_set_requests");
		sum_steps += json_u64(line, "fsm_steps");
	}
	assert_non_null(total);
	/* ROUNDS * ROUND_MS of work in 100 ms intervals */
	assert_true(seq >= ROUNDS * ROUND_MS / 100 - 1);
	assert_int_equal(sum_sets, sets);
	assert_int_equal(sum_steps, steps);
	assert_int_equal(json_u64(total, "state_set_requests"), sets);
	assert_int_equal(json_u64(total, "fsm_steps"), steps);
	snprintf(name, sizeof(name), "\"name\":\"%u:emu%u\",\"variant\":\"bigmem\"", pid, emu);
	assert_non_null(strstr(total, name));
}

/*
 * The program profiled for tracking: type1 DIRTY_PAGES START twice and STOP
 * once, DMA_LOGGING START and STOP once, on /dev/null (refused, ENOTTY).
 */
static int tracking_workload(void)
{
	struct vfio_iommu_type1_dirty_bitmap t1 = {sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_START};
	struct vfio_device_feature_dma_logging_range r = {0, 1 << 20};
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_control ctl;
	} log = {{sizeof(log), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START},
		 {4096, 1, 0, (uintptr_t)&r}};
	int fd = open("/dev/null", O_RDONLY), refused = 0;

	refused += ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &t1) == -1 && errno == ENOTTY;
	refused += ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &t1) == -1 && errno == ENOTTY;
	t1.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	refused += ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &t1) == -1 && errno == ENOTTY;
	refused += ioctl(fd, VFIO_DEVICE_FEATURE, &log) == -1 && errno == ENOTTY;
	log.hdr.argsz = sizeof(log.hdr);
	log.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP;
	refused += ioctl(fd, VFIO_DEVICE_FEATURE, &log) == -1 && errno == ENOTTY;
	fprintf(stderr, "truth refused=%d fd=%d pid=%d\n", refused, fd, getpid());
	close(fd);
	return 0;
}

/* stat's totals show tracking starts, stops and refusals, and their latency lines. */
static void test_stat_shows_tracking(void **state)
{
	char *json[] = {"stat", "--json", "--", self_exe, "--tracking", NULL};
	char *text[] = {"stat", "--", self_exe, "--tracking", NULL};
	static struct out o;
	int refused, fd, pid;
	const char *truth;
	char want[160];

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	truth = run_workload(json, &o);
	assert_int_equal(sscanf(truth, "truth refused=%d fd=%d pid=%d", &refused, &fd, &pid), 3);
	assert_int_equal(refused, 5);
	assert_non_null(strchr(o.text, '\n'));
	*strchr(o.text, '\n') = 0; /* one line: the totals */
	assert_true(json_line(o.text));
	assert_int_equal(json_u64(o.text, "type1_tracking_starts"), 2);
	assert_int_equal(json_u64(o.text, "type1_tracking_stops"), 1);
	assert_int_equal(json_u64(o.text, "type1_tracking_refused"), 3);
	assert_int_equal(json_u64(o.text, "dma_log_starts"), 1);
	assert_int_equal(json_u64(o.text, "dma_log_stops"), 1);
	assert_int_equal(json_u64(o.text, "dma_log_start_stop_refused"), 2);
	assert_int_equal(json_u64(o.text, "iommufd_tracking_starts"), 0);
	snprintf(want, sizeof(want),
		 "{\"kind\":\"tracking\",\"dev\":%llu,\"name\":\"%d:%d\",\"what\":\"type1 "
		 "start\",\"result\":%d,\"count\":2,",
		 (unsigned long long)pid << 32 | fd, pid, fd, -ENOTTY);
	assert_non_null(strstr(o.text, want));
	assert_non_null(strstr(o.text, "\"what\":\"dma-log stop\",\"result\":-25,\"count\":1,"));
	run_tool(text, &o);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.text, "  2  type1_tracking_starts\n"));
	assert_non_null(strstr(o.text, "  2  dma_log_start_stop_refused\n"));
	assert_non_null(strstr(o.text, "  tracking "));
	assert_non_null(strstr(o.text, "type1 start"));
}

static void test_json_checker_refuses(void **state)
{
	(void)state;
	assert_true(json_line("{\"a\":[1,2,{\"b\":\"x\\\"y\"}],\"c\":true}"));
	assert_false(json_line("{\"a\":1,}x"));
	assert_false(json_line("{\"a\" 1}"));
	assert_false(json_line("{\"a\":1"));
	assert_false(json_line("[1]"));
	assert_false(json_line("{\"a\":1}{"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_inputs_one_line),
		cmocka_unit_test(test_program_without_usdt_one_line),
		cmocka_unit_test(test_device_pid_name_taken),
		cmocka_unit_test(test_stat_pid_ends_with_the_process),
		cmocka_unit_test(test_json_checker_refuses),
		cmocka_unit_test(test_interval_json_lines),
		cmocka_unit_test(test_stat_shows_tracking),
	};

	if (argc > 1 && !strcmp(argv[1], "--workload"))
		return workload();
	if (argc > 1 && !strcmp(argv[1], "--tracking"))
		return tracking_workload();

	return cmocka_run_group_tests(tests, setup, NULL);
}
