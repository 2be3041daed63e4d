// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof predict --qmp against real QEMU 7.2 TCG guests: bad input (a
 * missing socket, one that refuses, one that is not QMP, a plain file, a QEMU
 * not running its guest, usage), a capability the model does not cover set
 * for real, the VM's parameters and capabilities unchanged by a prediction,
 * and predictions against the real migrations that follow them: the verdict
 * right and the bytes within 20% of what QEMU says it sent.
 */
#include <math.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "qemu/inputs.h"
#include "guest_bed.h"

static struct guest_bed bed;
static struct qemu_vm src, dst;
static struct qemu_guest guest = {.ram_mib = 256, .rate = 2048, .wss_mib = 64, .shape = "seq"};
static const struct qemu_migrate_opts opts = {.max_bandwidth = 32 << 20, .downtime_limit_ms = 300};
static char prof[PATH_MAX];

static int start_pair(struct qemu_vm *s, struct qemu_vm *d, const char *tag,
		      const struct qemu_guest *g, const struct qemu_migrate_opts *o)
{
	char err[512], sname[32], dname[32];

	snprintf(sname, sizeof(sname), "src%s", tag);
	snprintf(dname, sizeof(dname), "dst%s", tag);
	if (qemu_vm_start(s, bed.dir, sname, g, false, err, sizeof(err)) ||
	    qemu_vm_start(d, bed.dir, dname, g, true, err, sizeof(err)) ||
	    qemu_vm_wait_console(s, "DIRTIER ready", 90000, err, sizeof(err)) ||
	    qemu_set_migration_params(&s->qmp, o)) {
		fprintf(stderr, "bed: %s%s\n", err, s->qmp.err);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	src.qmp.fd = dst.qmp.fd = -1;
	guest_bed_prepare(&bed);
	if (!bed.why[0] && !tool_path("vfmigprof", prof, sizeof(prof)))
		snprintf(bed.why, sizeof(bed.why), "build/vfmigprof missing");
	if (bed.why[0])
		return 0;
	guest.kernel = bed.kernel;
	guest.initrd = bed.initrd;
	if (start_pair(&src, &dst, "", &guest, &opts)) {
		guest_bed_stop(&bed, &src, &dst);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return guest_bed_stop(&bed, &src, &dst);
}

/* vfmigprof ARGS with stderr into out as well; the exit status. */
static int prof_run(const char *args, char **out)
{
	char cmd[1024];
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", prof, args);
	return run_capture(argv, out);
}

/* One line of output, naming what: the exit status it gave. */
static void assert_one_line(const char *args, int status, const char *what)
{
	char *out = NULL;
	int rc = prof_run(args, &out);

	printf("vfmigprof %s -> %d: %s", args, rc, out ? out : "");
	assert_int_equal(rc, status);
	assert_non_null(out);
	assert_non_null(strstr(out, what));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
	free(out);
}

/* A unix socket at path that greets with something that is not QMP, in a child. */
static pid_t not_qmp_server(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), c;
	pid_t pid;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	pid = fork();
	if (!pid) {
		c = accept(fd, NULL, NULL);
		if (c >= 0 && write(c, "SSH-2.0-OpenSSH_9.2\r\n", 21) == 21)
			sleep(2);
		_exit(0);
	}
	close(fd);
	return pid;
}

static void test_predict_qmp_bad_input(void **state)
{
	char args[512], path[160];
	pid_t pid;
	FILE *f;

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	snprintf(args, sizeof(args), "predict --qmp %s/missing.qmp", bed.dir);
	assert_one_line(args, 1, "missing.qmp");
	snprintf(path, sizeof(path), "%s/plain.file", bed.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"QMP\": 1}\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "predict --qmp %s", path);
	assert_one_line(args, 1, "not a socket");
	/* bound, listened on once, closed: connecting is refused */
	snprintf(path, sizeof(path), "%s/refuses.qmp", bed.dir);
	pid = not_qmp_server(path);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(args, sizeof(args), "tune --qmp %s", path);
	assert_one_line(args, 1, "refuses.qmp");
	snprintf(path, sizeof(path), "%s/ssh.sock", bed.dir);
	pid = not_qmp_server(path);
	snprintf(args, sizeof(args), "predict --qmp %s", path);
	assert_one_line(args, 1, "not a QMP socket");
	waitpid(pid, NULL, 0);
	/* usage: QEMU has no round cap; one source at a time */
	snprintf(args, sizeof(args), "predict --rounds 5 --qmp %s", src.tool_qmp_path);
	assert_one_line(args, 2, "--rounds");
	snprintf(args, sizeof(args), "predict -p 1 --qmp %s", src.tool_qmp_path);
	assert_one_line(args, 2, "--qmp");
	/* the destination waits for an incoming migration: no guest runs there */
	snprintf(args, sizeof(args), "predict --qmp %s", dst.tool_qmp_path);
	assert_one_line(args, 1, "not running its guest");
}

static json_object *query(const char *cmd)
{
	json_object *r = qmp_execute(&src.qmp, cmd, NULL);

	assert_non_null(r);
	return r;
}

static void set_cap(const char *cap, bool on)
{
	json_object *args = json_object_new_object(), *caps = json_object_new_array();
	json_object *c = json_object_new_object();

	json_object_object_add(c, "capability", json_object_new_string(cap));
	json_object_object_add(c, "state", json_object_new_boolean(on));
	json_object_array_add(caps, c);
	json_object_object_add(args, "capabilities", caps);
	assert_int_equal(qmp_run(&src.qmp, "migrate-set-capabilities", args), 0);
}

static void test_predict_qmp_refuses_uncovered_capability(void **state)
{
	static const char *const caps[] = {"xbzrle", "auto-converge"};
	char args[256];

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	for (int i = 0; i < 2; i++) {
		set_cap(caps[i], true);
		snprintf(args, sizeof(args), "predict --qmp %s", src.tool_qmp_path);
		assert_one_line(args, 1, caps[i]);
		set_cap(caps[i], false);
	}
}

static void test_predict_qmp_leaves_parameters(void **state)
{
	json_object *p0, *c0, *p1, *c1, *pred;
	char args[256], *out = NULL;

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	p0 = query("query-migrate-parameters");
	c0 = query("query-migrate-capabilities");
	snprintf(args, sizeof(args), "predict --json --qmp %s", src.tool_qmp_path);
	assert_int_equal(prof_run(args, &out), 0);
	p1 = query("query-migrate-parameters");
	c1 = query("query-migrate-capabilities");
	assert_string_equal(json_object_to_json_string(p0), json_object_to_json_string(p1));
	assert_string_equal(json_object_to_json_string(c0), json_object_to_json_string(c1));
	/* no migration was started: QEMU has none to report */
	assert_int_equal(qemu_require_running(&src.qmp), 0);
	pred = json_line_with(out, "converged");
	assert_non_null(pred);
	printf("%s", out);
	free(out);
	json_object_put(pred);
	json_object_put(p0), json_object_put(c0), json_object_put(p1), json_object_put(c1);
}

/* Predict on s, then migrate it for real: the verdicts and bytes, against QEMU's own. */
static void predict_then_migrate(struct qemu_vm *s, struct qemu_vm *d, struct qemu_migrate_opts o)
{
	char args[256], err[512], *out = NULL;
	struct qemu_migration m = {0};
	json_object *pred;
	double total_ms, bytes;
	bool conv;

	snprintf(args, sizeof(args), "predict --json --qmp %s", s->tool_qmp_path);
	assert_int_equal(prof_run(args, &out), 0);
	pred = json_line_with(out, "converged");
	assert_non_null(pred);
	conv = json_object_get_boolean(json_object_object_get(pred, "converged"));
	total_ms = json_object_get_double(json_object_object_get(pred, "total_ms"));
	bytes = json_object_get_double(json_object_object_get(pred, "bytes"));
	o.limit_s = conv ? (unsigned)(3 * total_ms / 1000) + 1 : 0;
	assert_int_equal(qemu_migrate(s, d, bed.dir, &o, &m, err, sizeof(err)), 0);
	printf("predicted %s, %.0f ms, %.0f bytes; QEMU: %s, total-time %lld ms, downtime %lld ms, "
	       "%llu bytes, dirty-sync-count %llu\n",
	       conv ? "converges" : "does not converge", total_ms, bytes, m.status,
	       (long long)m.total_ms, (long long)m.downtime_ms, (unsigned long long)m.transferred,
	       (unsigned long long)m.dirty_sync_count);
	assert_int_equal(conv, m.converged);
	if (conv)
		assert_true(fabs(bytes - (double)m.transferred) <= 0.2 * (double)m.transferred);
	else
		assert_true(m.cancelled);
	qemu_migration_free(&m);
	json_object_put(pred);
	free(out);
}

static void test_predict_qmp_real_converges(void **state)
{
	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	predict_then_migrate(&src, &dst, opts);
}

/* 24 MiB/s of distinct pages against a 16 MiB/s cap: QEMU 7.2 never gets under its threshold. */
static void test_predict_qmp_real_never_converges(void **state)
{
	struct qemu_guest g = {.kernel = bed.kernel,
			       .initrd = bed.initrd,
			       .ram_mib = 256,
			       .rate = 6144,
			       .wss_mib = 96,
			       .shape = "uniform"};
	struct qemu_migrate_opts o = {.max_bandwidth = 16 << 20, .downtime_limit_ms = 100};
	struct qemu_vm s = {.qmp.fd = -1}, d = {.qmp.fd = -1};

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	assert_int_equal(start_pair(&s, &d, "-nc", &g, &o), 0);
	predict_then_migrate(&s, &d, o);
	qemu_vm_stop(&s);
	qemu_vm_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predict_qmp_bad_input),
		cmocka_unit_test(test_predict_qmp_refuses_uncovered_capability),
		cmocka_unit_test(test_predict_qmp_leaves_parameters),
		cmocka_unit_test(test_predict_qmp_real_converges),
		cmocka_unit_test(test_predict_qmp_real_never_converges),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
