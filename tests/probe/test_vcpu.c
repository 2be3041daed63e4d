// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU pause and resume probes (vfmig:vcpu_pause, vfmig:vcpu_resume),
 * attached for real. In this process: an emulated VM's writer threads
 * paused and resumed here, each event's count, vCPUs and times inside this
 * test's clock readings around the call. Around vfmig-emu migrate --json
 * (and the destination it forks): one pause on the source and one resume
 * on the destination, at the times migrate itself says it asked for them,
 * before the device's own log has its first stop arc.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/run_util.h"
#include "memory/guest_mem.h"
#include "migration/vm.h"
#include "probe/probe_test.h"

#define MAX_SEEN 64

struct vcpu_ev {
	uint32_t pid;
	uint16_t type;
	uint64_t start_ns, end_ns, vcpus;
};

struct seen {
	size_t n;
	struct vcpu_ev ev[MAX_SEEN];
};

static int on_event(void *ctx, const struct vfmig_event *e)
{
	struct seen *s = ctx;

	if (e->type != VFMIG_EV_VCPU_PAUSE && e->type != VFMIG_EV_VCPU_RESUME)
		return 0;
	if (s->n < MAX_SEEN)
		s->ev[s->n++] = (struct vcpu_ev){.pid = e->pid,
						 .type = e->type,
						 .start_ns = e->ts_ns - e->a,
						 .end_ns = e->ts_ns,
						 .vcpus = e->b};
	return 0;
}

static size_t count(const struct seen *s, uint32_t pid, uint16_t type, struct vcpu_ev *last)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->ev[i].pid == pid && s->ev[i].type == type) {
			*last = s->ev[i];
			n++;
		}
	return n;
}

/* An event's start and end inside [before, after], the test's clock around the call. */
static void within(const struct vcpu_ev *e, uint64_t before, uint64_t after)
{
	if (e->start_ns < before || e->end_ns > after || e->start_ns > e->end_ns)
		fail_msg("event [%llu, %llu] outside the call [%llu, %llu]",
			 (unsigned long long)e->start_ns, (unsigned long long)e->end_ns,
			 (unsigned long long)before, (unsigned long long)after);
}

#define THREADS 3
#define CYCLES 5

/* Each pause and resume of this process's VM: one event each, timed inside the call. */
static void test_pause_resume_in_process(void **state)
{
	struct vm_cfg cfg = {.mem_size = 4u << 20,
			     .wl = {.threads = THREADS,
				    .rate = 20000,
				    .ws_pages = 256,
				    .pattern = WORKLOAD_UNIFORM,
				    .seed = 1}};
	uint64_t t[2 * CYCLES + 2][2];
	struct vcpu_ev e = {0};
	struct seen s;
	char err[256];
	struct vm *vm;
	size_t i, k = 0, np = 0, nr = 0;

	(void)state;
	NEED_PROBES();
	if (guest_mem_probe(err, sizeof(err)))
		VFMIG_SKIP("%s", err);
	assert_true(probe_row(probes, "state", "usdt__vcpu_pause")->attached);
	assert_true(probe_row(probes, "state", "usdt__vcpu_resume")->attached);
	vm = vm_create(&cfg, err, sizeof(err));
	if (!vm)
		fail_msg("vm_create: %s", err);
	poll_into(&s, sizeof(s), NULL);
	t[k][0] = now_ns();
	assert_int_equal(vm_start(vm), 0);
	t[k++][1] = now_ns();
	for (i = 0; i < CYCLES; i++) {
		usleep(2000);
		t[k][0] = now_ns();
		vm_pause(vm);
		t[k++][1] = now_ns();
		usleep(1000);
		t[k][0] = now_ns();
		vm_resume(vm);
		t[k++][1] = now_ns();
	}
	vm_stop(vm);
	vm_destroy(vm);
	poll_into(&s, sizeof(s), on_event);
	assert_int_equal(s.n, k); /* one event per call: the start, then each pause and resume */
	for (i = 0; i < s.n; i++) {
		assert_int_equal(s.ev[i].pid, getpid());
		assert_int_equal(s.ev[i].type, i % 2 ? VFMIG_EV_VCPU_PAUSE : VFMIG_EV_VCPU_RESUME);
		assert_int_equal(s.ev[i].vcpus, THREADS);
		within(&s.ev[i], t[i][0], t[i][1]);
		np += s.ev[i].type == VFMIG_EV_VCPU_PAUSE;
		nr += s.ev[i].type == VFMIG_EV_VCPU_RESUME;
	}
	assert_int_equal(np, CYCLES);
	assert_int_equal(nr, CYCLES + 1);
	assert_int_equal(count(&s, getpid(), VFMIG_EV_VCPU_PAUSE, &e), CYCLES);
}

/* vfmig-emu migrate held before exec (the probes attach first), its output read to the end. */
static char *migrate_traced(const char *emu, struct seen *s, pid_t *src)
{
	char *argv[] = {(char *)emu, "migrate", "--mem",    "32m",
			"--wss",     "8m",	"--rate",   "5000",
			"--vcpus",   "2",	"--device", "nic:dirty=type1-pin,rate=1000",
			"--json",    NULL};
	struct probe_opts o = {.binary = emu, .follow_children = true};
	int go[2], out[2];
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap), *more, c;
	ssize_t r;
	int status;

	assert_non_null(buf);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(out), 0);
	*src = fork();
	assert_true(*src >= 0);
	if (!*src) {
		close(go[1]);
		close(out[0]);
		dup2(out[1], 1);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execv(emu, argv);
		_exit(127);
	}
	close(go[0]);
	close(out[1]);
	o.pid = *src;
	if (probes_setup(&o) || !probes) {
		kill(*src, SIGKILL);
		waitpid(*src, NULL, 0);
		fail_msg("probes did not load on %s", emu);
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	while ((r = read(out[0], buf + n, cap - 1 - n)) > 0) {
		n += r;
		probes_poll(probes, 0, on_event, s);
		if (n + 1 == cap) {
			more = realloc(buf, cap *= 2);
			assert_non_null(more);
			buf = more;
		}
	}
	buf[n] = 0;
	close(out[0]);
	assert_int_equal(waitpid(*src, &status, 0), *src);
	assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
	while (probes_poll(probes, 0, on_event, s) > 0)
		;
	return buf;
}

static double num(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("migrate --json has no %s", k);
	return json_object_get_double(v);
}

/* The source device's own log: when its first request to leave PRE_COPY began. */
static uint64_t first_stop_arc(struct json_object *truth)
{
	struct json_object *devs, *arcs, *a, *v;
	uint64_t t = UINT64_MAX;
	size_t i, j;

	assert_true(json_object_object_get_ex(truth, "devices", &devs));
	for (i = 0; i < json_object_array_length(devs); i++) {
		assert_true(json_object_object_get_ex(json_object_array_get_idx(devs, i), "arcs",
						      &arcs));
		for (j = 0; j < json_object_array_length(arcs); j++) {
			a = json_object_array_get_idx(arcs, j);
			assert_true(json_object_object_get_ex(a, "from", &v));
			if (strcmp(json_object_get_string(v), "PRE_COPY") &&
			    strcmp(json_object_get_string(v), "RUNNING"))
				continue;
			assert_true(json_object_object_get_ex(a, "to", &v));
			if (!strcmp(json_object_get_string(v), "PRE_COPY") ||
			    !strcmp(json_object_get_string(v), "RUNNING"))
				continue;
			if ((uint64_t)num(a, "start_ns") < t)
				t = (uint64_t)num(a, "start_ns");
		}
	}
	assert_true(t != UINT64_MAX);
	return t;
}

/* Slack for a probe hit and a preempted thread between migrate's clock read and the probe's. */
#define SLACK_NS (20ull * 1000 * 1000)

static void test_migrate_pause_and_resume(void **state)
{
	char emu[PATH_MAX], rel[PATH_MAX];
	struct json_object *truth;
	struct vcpu_ev p = {0}, rs = {0}, rd = {0};
	uint64_t paused_at, running_at, stop_arc;
	struct seen s = {0};
	uint32_t dest = 0;
	pid_t src;
	size_t i;
	char *out;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	assert_true(tool_path("vfmig-emu", rel, sizeof(rel)));
	assert_non_null(realpath(rel, emu));
	probes_close(probes);
	probes = NULL;
	out = migrate_traced(emu, &s, &src);
	truth = json_line_with(out, "rounds");
	free(out);
	assert_non_null(truth);
	assert_true(json_object_get_boolean(json_object_object_get(truth, "committed")));
	paused_at = (uint64_t)num(truth, "vcpus_paused_at_ns");
	running_at = (uint64_t)num(truth, "vcpus_running_at_ns");
	stop_arc = first_stop_arc(truth);
	for (i = 0; i < s.n; i++)
		if (s.ev[i].pid != (uint32_t)src)
			dest = s.ev[i].pid;
	assert_true(dest != 0);
	/* the source: started once (before the probes' first event), paused once */
	assert_int_equal(count(&s, src, VFMIG_EV_VCPU_PAUSE, &p), 1);
	assert_int_equal(count(&s, src, VFMIG_EV_VCPU_RESUME, &rs), 1);
	assert_true(rs.end_ns < paused_at);
	assert_int_equal(p.vcpus, 2);
	if (p.start_ns < paused_at || p.start_ns > paused_at + SLACK_NS || p.end_ns > stop_arc)
		fail_msg("vCPU pause [%llu, %llu]: migrate paused at %llu, first stop arc at %llu",
			 (unsigned long long)p.start_ns, (unsigned long long)p.end_ns,
			 (unsigned long long)paused_at, (unsigned long long)stop_arc);
	/* parking the vCPUs is inside what migrate counts as stopping the VM */
	assert_true(
		p.end_ns - p.start_ns <=
		(uint64_t)(num(json_object_object_get(truth, "downtime_parts_ms"), "stop_devices") *
			   1e6) +
			1000);
	/* the destination: started once, once loaded; never paused */
	assert_int_equal(count(&s, dest, VFMIG_EV_VCPU_PAUSE, &rd), 0);
	assert_int_equal(count(&s, dest, VFMIG_EV_VCPU_RESUME, &rd), 1);
	assert_int_equal(rd.vcpus, 2);
	assert_true(running_at > 0); /* one clock: both ends on this host */
	if (rd.start_ns < running_at || rd.start_ns > running_at + SLACK_NS)
		fail_msg("vCPU resume at %llu: migrate's destination ran at %llu",
			 (unsigned long long)rd.start_ns, (unsigned long long)running_at);
	json_object_put(truth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pause_resume_in_process),
		cmocka_unit_test(test_migrate_pause_and_resume),
	};

	return cmocka_run_group_tests(tests, setup_self, teardown);
}
