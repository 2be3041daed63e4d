// SPDX-License-Identifier: GPL-2.0
/* vfmig-emu's commands on a VM: migrate, incoming, run, predict, tune. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "device/device.h"
#include "migration/endpoint.h"
#include "migration/measure.h"
#include "migration/migrate.h"
#include "migration/predict.h"
#include "device/variant.h"
#include "vfmig/version.h"
#include "migration/summary.h"
#include "device/xfer.h"
#include "vfmig-emu/emu.h"

static enum mig_die parse_die(const char *s)
{
	static const char *const names[] = {"never", "hello", "precopy", "switchover", "end"};
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i]))
			return i;
	}
	return MIG_DIE_NEVER;
}

static int run_destination(int fd, bool from_file, const struct opts *o, bool quiet)
{
	struct mig_dest_report rep;
	struct vm *vm;
	int ret;

	ret = mig_destination(fd, from_file, parse_die(o->die_at), &vm, &rep);
	close(fd);
	if (ret) {
		fprintf(stderr, "vfmig-emu: destination: %s\n", rep.error);
		return 1;
	}
	if (!quiet && o->json)
		mig_dest_json(stdout, &rep);
	else if (!quiet)
		printf("destination: received %llu pages and %llu device bytes; loaded and RUNNING in "
		       "%.2f ms; state %s the source's at stop\n",
		       (unsigned long long)rep.pages, (unsigned long long)rep.dev_bytes,
		       rep.load_ns / 1e6, rep.verified ? "equals" : "DIFFERS FROM");
	if (o->from && o->time_s)
		sleep(o->time_s);
	vm_destroy(vm);
	return rep.verified ? 0 : 1;
}

static int open_target(struct opts *o, pid_t *child, bool *to_file)
{
	enum endpoint_kind kind;
	const char *rest;
	char err[256];
	int sv[2], fd;

	*child = -1;
	*to_file = false;
	if (strcmp(o->to, "local")) {
		fd = endpoint_connect(o->to, err, sizeof(err));
		if (fd < 0)
			fprintf(stderr, "vfmig-emu: %s\n", err);
		*to_file = !endpoint_kind(o->to, &kind, &rest) && kind == EP_FILE;
		return fd;
	}
	/* Fork before any thread exists: the destination is a process of its own. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "vfmig-emu: socketpair: %s\n", strerror(errno));
		return -1;
	}
	*child = fork();
	if (*child == 0) {
		close(sv[0]);
		exit(run_destination(sv[1], false, o, true));
	}
	close(sv[1]);
	return sv[0];
}

static void print_workload(const struct opts *o, struct vm *vm)
{
	struct workload_stats st = {0};

	if (!vm->wl)
		return;
	workload_stats(vm->wl, &st);
	fprintf(o->json ? stderr : stdout,
		"workload: %u vCPU writer(s), %.0f page writes/s asked, %.0f achieved\n",
		vm->cfg.wl.threads, st.rate_asked, st.rate_achieved);
}

int cmd_migrate(struct opts *o)
{
	struct mig_opts mo = {.bandwidth = o->bandwidth * 1000000,
			      .downtime_ns = o->downtime_ms * 1000000,
			      .max_rounds = o->rounds_set ? o->rounds : 30,
			      .drop_one_page = o->drop_page};
	struct mig_summary *rep = calloc(1, sizeof(*rep));
	int fd, ret, status = 0;
	char err[256];
	struct vm *vm;
	pid_t child;

	signal(SIGPIPE, SIG_IGN);
	fd = rep ? open_target(o, &child, &mo.to_file) : -1;
	if (fd < 0) {
		free(rep);
		return 1;
	}
	vm = vm_create(&o->vm, err, sizeof(err));
	if (!vm || vm_start(vm)) {
		fprintf(stderr, "vfmig-emu: %s\n", vm ? vm->err : err);
		if (child > 0) { /* the local destination has nothing to wait for */
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		close(fd);
		vm_destroy(vm);
		free(rep);
		return 1;
	}
	usleep(200000); /* the workload settles into its rate first */
	ret = mig_source(vm, fd, &mo, rep);
	close(fd);
	if (child > 0)
		waitpid(child, &status, 0);
	if (o->json)
		mig_summary_json(stdout, vm, rep);
	else
		mig_summary_text(stdout, vm, rep);
	print_workload(o, vm);
	if (ret)
		fprintf(stderr, "vfmig-emu: migration failed: %s\n", rep->error);
	vm_destroy(vm);
	free(rep);
	return ret || !rep || (child > 0 && status) ? 1 : 0;
}

int cmd_incoming(struct opts *o)
{
	enum endpoint_kind kind;
	const char *rest;
	char err[256];
	int fd;

	if (!o->from)
		return usage_error("incoming needs --from unix:PATH|tcp:[HOST:]PORT|file:PATH%s",
				   "");
	signal(SIGPIPE, SIG_IGN);
	fd = endpoint_accept(o->from, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "vfmig-emu: %s\n", err);
		return 1;
	}
	return run_destination(fd, !endpoint_kind(o->from, &kind, &rest) && kind == EP_FILE, o,
			       false);
}

static int prediction_inputs(const struct opts *o, struct model_inputs *in)
{
	return predict_migration(&o->vm, o->bandwidth * 1e6, o->downtime_ms / 1e3,
				 o->rounds_set ? o->rounds : 30, in);
}

int cmd_predict(struct opts *o)
{
	static struct model_inputs in;
	static struct model_result r, lo, hi;

	if (prediction_inputs(o, &in) || model_predict(&in, &r)) {
		fprintf(stderr, "vfmig-emu: cannot predict: %s\n", r.why);
		return 1;
	}
	model_range(&in, &lo, &hi);
	if (o->json)
		model_print_json(stdout, &in, &r, &lo, &hi, true);
	else
		model_print_text(stdout, &in, &r, &lo, &hi);
	return 0;
}

int cmd_tune(struct opts *o)
{
	static struct model_inputs in;
	static struct model_tuning t;

	if (prediction_inputs(o, &in))
		return 1;
	model_tune(&in, &t);
	model_print_tuning(stdout, &in, &t, o->json);
	return 0;
}

/* vfmigprof predict's SIGUSR1: the devices' pre-copy sizes, once it has measured. */
static volatile sig_atomic_t query_asked, stop_asked;

static void ask_query(int sig)
{
	(void)sig;
	query_asked = 1;
}

/* Ctrl-C or SIGTERM: the measurement ends at its next harvest, reported as usual. */
static void ask_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

int cmd_run(struct opts *o)
{
	char err[256];
	struct vm *vm = vm_create(&o->vm, err, sizeof(err));
	struct vm_measure m = {0};
	int ret = 0;

	if (!vm || vm_start(vm)) {
		fprintf(stderr, "vfmig-emu: %s\n", vm ? vm->err : err);
		vm_destroy(vm);
		return 1;
	}
	fprintf(o->json ? stderr : stdout,
		"running: pid %d, %llu MiB guest RAM, %u device(s), for %llu s, harvest every "
		"%llu ms\n",
		getpid(), (unsigned long long)(o->vm.mem_size >> 20), o->vm.ndevs,
		(unsigned long long)o->time_s, (unsigned long long)o->harvest_ms);
	fflush(o->json ? stderr : stdout);
	vm_measure_query_on(&query_asked, 250000000);
	vm_measure_stop_on(&stop_asked);
	signal(SIGUSR1, ask_query);
	signal(SIGINT, ask_stop);
	signal(SIGTERM, ask_stop);
	if (o->harvest_ms)
		ret = vm_measure(vm, o->harvest_ms * 1000000, o->time_s * 1000000000, &m);
	else
		sleep(o->time_s);
	vm_pause(vm);
	if (o->json && o->harvest_ms)
		vm_measure_json(stdout, vm, &m);
	else if (o->harvest_ms)
		vm_measure_text(stdout, vm, &m);
	print_workload(o, vm);
	if (ret)
		fprintf(stderr, "vfmig-emu: run: %s\n", m.error);
	vm_measure_free(&m);
	vm_destroy(vm);
	return ret ? 1 : 0;
}
