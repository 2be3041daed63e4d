// SPDX-License-Identifier: GPL-2.0
/*
 * Two qemu-system-x86_64 processes under TCG and a pre-copy migration between
 * them, driven by QMP and timed by QEMU's own query-migrate.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu/bed.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void exec_qemu(const struct qemu_vm *vm, const struct qemu_guest *g, bool incoming)
{
	char mem[16], append[256], qmp[160], tool_qmp[160], serial[PATH_MAX + 8];
	const char *argv[40];
	int n = 0, fd = open(vm->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	/* a QEMU must not outlive the test or tool that started it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	snprintf(mem, sizeof(mem), "%uk", g->ram_mib * 1024 + QEMU_BED_RAM_PAD_KIB);
	snprintf(append, sizeof(append),
		 "console=ttyS0 quiet loglevel=1 panic=-1 dirtier.rate=%lu dirtier.wss=%u "
		 "dirtier.shape=%s",
		 g->rate, g->wss_mib, g->shape ? g->shape : "seq");
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", vm->qmp_path);
	snprintf(tool_qmp, sizeof(tool_qmp), "unix:%s,server=on,wait=off", vm->tool_qmp_path);
	snprintf(serial, sizeof(serial), "file:%s", vm->console);
	/* one vCPU: multi-threaded TCG has tripped on the kernel's boot-time code patching */
	const char *fixed[] = {"qemu-system-x86_64",
			       "-accel",
			       "tcg",
			       "-machine",
			       "pc",
			       "-cpu",
			       "max",
			       "-smp",
			       "1",
			       "-m",
			       mem,
			       "-nodefaults",
			       "-display",
			       "none",
			       "-no-reboot",
			       "-serial",
			       serial,
			       "-kernel",
			       g->kernel,
			       "-initrd",
			       g->initrd,
			       "-append",
			       append,
			       "-qmp",
			       qmp,
			       "-qmp",
			       tool_qmp};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = fixed[i];
	if (incoming) {
		argv[n++] = "-incoming";
		argv[n++] = "defer";
	}
	argv[n] = NULL;
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "exec qemu-system-x86_64: %s\n", strerror(errno));
	_exit(127);
}

/* QEMU's last line of stderr, for an error message. */
static void last_log_line(const struct qemu_vm *vm, char *line, size_t len)
{
	FILE *f = fopen(vm->log, "re");
	char buf[256];

	snprintf(line, len, "(no output)");
	while (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0])
			snprintf(line, len, "%s", buf);
	}
	if (f)
		fclose(f);
}

int qemu_vm_start(struct qemu_vm *vm, const char *dir, const char *name, const struct qemu_guest *g,
		  bool incoming, char *err, size_t len)
{
	long long deadline = mono_ms() + 15000;
	int status;

	memset(vm, 0, sizeof(*vm));
	vm->qmp.fd = -1;
	snprintf(vm->qmp_path, sizeof(vm->qmp_path), "%s/%s.qmp", dir, name);
	snprintf(vm->tool_qmp_path, sizeof(vm->tool_qmp_path), "%s/%s-tool.qmp", dir, name);
	snprintf(vm->console, sizeof(vm->console), "%s/%s.console", dir, name);
	snprintf(vm->log, sizeof(vm->log), "%s/%s.log", dir, name);
	fflush(NULL);
	vm->pid = fork();
	if (vm->pid < 0) {
		snprintf(err, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (!vm->pid)
		exec_qemu(vm, g, incoming);
	for (;;) {
		if (waitpid(vm->pid, &status, WNOHANG) == vm->pid) {
			char line[200];

			last_log_line(vm, line, sizeof(line));
			snprintf(err, len, "qemu-system-x86_64 (%s) ended at start: %s", name,
				 line);
			vm->pid = 0;
			return -1;
		}
		if (!access(vm->qmp_path, F_OK) && !qmp_open(&vm->qmp, vm->qmp_path, 10000))
			return 0;
		if (mono_ms() > deadline) {
			snprintf(err, len, "qemu-system-x86_64 (%s): no QMP in 15 s: %s", name,
				 vm->qmp.err[0] ? vm->qmp.err : "no socket");
			qemu_vm_stop(vm);
			return -1;
		}
		nap_ms(50);
	}
}

int qemu_vm_wait_console(struct qemu_vm *vm, const char *needle, int timeout_ms, char *err,
			 size_t len)
{
	long long deadline = mono_ms() + timeout_ms;
	char buf[512];

	for (;;) {
		FILE *f = fopen(vm->console, "re");
		bool found = false;

		while (f && !found && fgets(buf, sizeof(buf), f))
			found = strstr(buf, needle);
		if (f)
			fclose(f);
		if (found)
			return 0;
		if (mono_ms() > deadline || waitpid(vm->pid, NULL, WNOHANG) == vm->pid) {
			snprintf(err, len, "guest console %s: no \"%s\" in %d ms", vm->console,
				 needle, timeout_ms);
			return -1;
		}
		nap_ms(100);
	}
}

void qemu_vm_stop(struct qemu_vm *vm)
{
	if (vm->pid > 0) {
		long long deadline = mono_ms() + 3000;
		pid_t r = 0;

		if (vm->qmp.fd >= 0) {
			vm->qmp.timeout_ms = 1000;
			qmp_run(&vm->qmp, "quit", NULL);
		}
		while (mono_ms() < deadline && !(r = waitpid(vm->pid, NULL, WNOHANG)))
			nap_ms(20);
		if (!r) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, NULL, 0);
		}
		vm->pid = 0;
	}
	qmp_close(&vm->qmp);
}

int qemu_set_migration_params(struct qmp *q, const struct qemu_migrate_opts *o)
{
	json_object *args = json_object_new_object(), *caps = json_object_new_array();
	json_object *ev = json_object_new_object();

	if (o->max_bandwidth)
		json_object_object_add(args, "max-bandwidth",
				       json_object_new_int64(o->max_bandwidth));
	if (o->downtime_limit_ms)
		json_object_object_add(args, "downtime-limit",
				       json_object_new_int64(o->downtime_limit_ms));
	if (qmp_run(q, "migrate-set-parameters", args))
		return -1;
	/* MIGRATION events with QEMU's timestamps; no effect on the migration itself */
	json_object_object_add(ev, "capability", json_object_new_string("events"));
	json_object_object_add(ev, "state", json_object_new_boolean(1));
	json_object_array_add(caps, ev);
	args = json_object_new_object();
	json_object_object_add(args, "capabilities", caps);
	return qmp_run(q, "migrate-set-capabilities", args);
}

static int start_migration(struct qemu_vm *src, struct qemu_vm *dst, const char *dir,
			   const struct qemu_migrate_opts *o)
{
	char uri[160];
	json_object *args;

	snprintf(uri, sizeof(uri), "unix:%s/migration.sock", dir);
	args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_string(uri));
	if (qmp_run(&dst->qmp, "migrate-incoming", args) || qemu_set_migration_params(&src->qmp, o))
		return -1;
	args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_string(uri));
	return qmp_run(&src->qmp, "migrate", args);
}

static void read_sample(json_object *r, long t_ms, struct qemu_mig_sample *s)
{
	json_object *ram = NULL;

	json_object_object_get_ex(r, "ram", &ram);
	s->t_ms = t_ms;
	snprintf(s->status, sizeof(s->status), "%s", qmp_get_str(r, "status", "?"));
	s->expected_downtime_ms = qmp_get_int(r, "expected-downtime", -1);
	s->transferred = qmp_get_int(ram, "transferred", 0);
	s->remaining = qmp_get_int(ram, "remaining", 0);
	s->dirty_sync_count = qmp_get_int(ram, "dirty-sync-count", 0);
	s->dirty_pages_rate = qmp_get_int(ram, "dirty-pages-rate", 0);
	s->mbps = qmp_get_double(ram, "mbps", 0);
}

static void read_final(json_object *r, struct qemu_migration *m)
{
	json_object *ram = NULL;

	json_object_object_get_ex(r, "ram", &ram);
	m->total_ms = qmp_get_int(r, "total-time", -1);
	m->downtime_ms = qmp_get_int(r, "downtime", -1);
	m->setup_ms = qmp_get_int(r, "setup-time", -1);
	m->transferred = qmp_get_int(ram, "transferred", 0);
	m->total = qmp_get_int(ram, "total", 0);
	m->duplicate = qmp_get_int(ram, "duplicate", 0);
	m->normal = qmp_get_int(ram, "normal", 0);
	m->dirty_sync_count = qmp_get_int(ram, "dirty-sync-count", 0);
	m->mbps = qmp_get_double(ram, "mbps", 0);
}

static int keep_sample(struct qemu_migration *m, json_object *r, long t_ms)
{
	if (!(m->nsamples & (m->nsamples + 1)) || !m->samples) {
		void *p = realloc(m->samples, sizeof(*m->samples) * (m->nsamples + 1) * 2);

		if (!p)
			return -1;
		m->samples = p;
	}
	read_sample(r, t_ms, &m->samples[m->nsamples++]);
	return 0;
}

/* Cancel at the limit and wait for the source to say so. */
static int cancel(struct qemu_vm *src, struct qemu_migration *m)
{
	if (qmp_run(&src->qmp, "migrate_cancel", NULL))
		return -1;
	for (int i = 0; i < 100; i++) {
		json_object *r = qmp_execute(&src->qmp, "query-migrate", NULL);
		bool done = r && strcmp(qmp_get_str(r, "status", "?"), "cancelling");

		if (r)
			snprintf(m->status, sizeof(m->status), "%s", qmp_get_str(r, "status", "?"));
		json_object_put(r);
		if (!r || done)
			return r ? 0 : -1;
		nap_ms(100);
	}
	return 0;
}

static void event_times(struct qemu_vm *src, struct qemu_vm *dst, struct qemu_migration *m)
{
	struct qmp_event ev;

	if (!qmp_wait_event(&src->qmp, "STOP", 100, &ev)) {
		m->stop_ts = ev.ts;
		json_object_put(ev.data);
	}
	if (!qmp_wait_event(&dst->qmp, "RESUME", 2000, &ev)) {
		m->resume_ts = ev.ts;
		json_object_put(ev.data);
	}
}

int qemu_migrate(struct qemu_vm *src, struct qemu_vm *dst, const char *dir,
		 const struct qemu_migrate_opts *o, struct qemu_migration *m, char *err, size_t len)
{
	long limit_ms = (o->limit_s > 60 ? o->limit_s : 60) * 1000L;
	long period = o->sample_ms ? o->sample_ms : 100;
	long long t0;

	memset(m, 0, sizeof(*m));
	if (start_migration(src, dst, dir, o)) {
		snprintf(err, len, "%s", src->qmp.err[0] ? src->qmp.err : dst->qmp.err);
		return -1;
	}
	t0 = mono_ms();
	for (;;) {
		json_object *r = qmp_execute(&src->qmp, "query-migrate", NULL);
		long t = mono_ms() - t0;
		const char *st;

		if (!r || keep_sample(m, r, t)) {
			snprintf(err, len, "%s", r ? "out of memory" : src->qmp.err);
			json_object_put(r);
			return -1;
		}
		st = qmp_get_str(r, "status", "?");
		snprintf(m->status, sizeof(m->status), "%s", st);
		if (!strcmp(st, "completed")) {
			read_final(r, m);
			json_object_put(r);
			m->converged = true;
			event_times(src, dst, m);
			return 0;
		}
		json_object_put(r);
		if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
			snprintf(err, len, "migration %s after %ld ms (see %s)", st, t, dst->log);
			return -1;
		}
		if (t > limit_ms) {
			m->cancelled = true;
			return cancel(src, m) ? (snprintf(err, len, "%s", src->qmp.err), -1) : 0;
		}
		nap_ms(period);
	}
}

void qemu_migration_free(struct qemu_migration *m)
{
	free(m->samples);
	m->samples = NULL;
	m->nsamples = 0;
}
