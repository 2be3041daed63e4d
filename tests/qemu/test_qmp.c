// SPDX-License-Identifier: GPL-2.0
/*
 * The QMP client against a real QEMU 7.2 (-S, no guest booted: the answers are
 * QEMU's own, checked against what the test asked of it) and against peers
 * that are not QEMU: a missing socket, a refusing one, garbage, a closed
 * connection, a silent one, a malformed answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "qemu/inputs.h"
#include "qemu/qmp.h"

static char dir[] = "/tmp/vfmig-qmp-XXXXXX";
static char sock[128];
static pid_t qemu = -1;
static const char *no_qemu;

static int start_qemu(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/qemu.qmp", dir);
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		no_qemu = "qemu-system-x86_64 missing (package qemu-system-x86)";
		return 0;
	}
	qemu = fork();
	if (!qemu) {
		char qmp[160];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", sock);
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execlp("qemu-system-x86_64", "qemu-system-x86_64", "-accel", "tcg", "-machine",
		       "pc", "-m", "256", "-nodefaults", "-display", "none", "-S", "-qmp", qmp,
		       NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(sock, F_OK); i++)
		usleep(50000);
	if (access(sock, F_OK))
		no_qemu = "qemu-system-x86_64 -S made no QMP socket in 10 s";
	return 0;
}

static int stop_qemu(void **state)
{
	char cmd[160];

	(void)state;
	if (qemu > 0) {
		kill(qemu, SIGKILL);
		waitpid(qemu, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static void open_qemu(struct qmp *q)
{
	if (no_qemu)
		VFMIG_SKIP("%s", no_qemu);
	assert_int_equal(qmp_open(q, sock, 5000), 0);
}

static double wall_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void test_qmp_capabilities_and_command(void **state)
{
	struct qmp q;
	json_object *r;

	(void)state;
	open_qemu(&q);
	/* the greeting's version is the binary's: Debian's 7.2 here */
	assert_int_equal(q.version[0], 7);
	assert_int_equal(q.version[1], 2);
	assert_int_equal(q.pid, qemu);
	r = qmp_execute(&q, "query-memory-size-summary", NULL);
	assert_non_null(r);
	assert_int_equal(qmp_get_int(r, "base-memory", 0), 256 << 20);
	json_object_put(r);
	r = qmp_execute(&q, "query-status", NULL);
	assert_string_equal(qmp_get_str(r, "status", ""), "prelaunch");
	json_object_put(r);
	qmp_close(&q);
}

static void test_qmp_error_answers(void **state)
{
	json_object *args = json_object_new_object();
	struct qmp q;

	(void)state;
	open_qemu(&q);
	assert_null(qmp_execute(&q, "no-such-command", NULL));
	assert_non_null(
		strstr(q.err, "no-such-command: CommandNotFound: The command no-such-command"));
	assert_null(strchr(q.err, '\n'));
	json_object_object_add(args, "calc-time", json_object_new_int64(0));
	assert_null(qmp_execute(&q, "calc-dirty-rate", args));
	assert_non_null(strstr(q.err, "GenericError: calc-time is out of range[1, 60]"));
	/* the connection goes on after an error */
	assert_int_equal(qmp_run(&q, "query-status", NULL), 0);
	qmp_close(&q);
}

/* cont and stop make QEMU send RESUME and STOP while the client waits for answers. */
static void test_qmp_events_kept_aside(void **state)
{
	const struct qmp_event *evs[8];
	double before = wall_s(), after;
	struct qmp_event ev;
	struct qmp q;

	(void)state;
	open_qemu(&q);
	assert_int_equal(qemu_require_running(&q), -1);
	assert_non_null(strstr(q.err, "not running its guest (status prelaunch)"));
	assert_int_equal(qmp_run(&q, "cont", NULL), 0);
	assert_int_equal(qemu_require_running(&q), 0);
	assert_int_equal(qmp_run(&q, "stop", NULL), 0);
	assert_int_equal(qmp_run(&q, "query-status", NULL), 0);
	after = wall_s();
	assert_int_equal(qmp_events(&q, "RESUME", evs, 8), 1);
	assert_true(evs[0]->ts >= before - 1 && evs[0]->ts <= after + 1);
	assert_int_equal(qmp_events(&q, NULL, evs, 8), 2);
	assert_string_equal(evs[1]->name, "STOP");
	assert_true(evs[1]->ts >= evs[0]->ts);
	assert_int_equal(qmp_wait_event(&q, "STOP", 100, &ev), 0);
	json_object_put(ev.data);
	assert_int_equal(qmp_events(&q, NULL, evs, 8), 1);
	assert_int_equal(qmp_wait_event(&q, "STOP", 200, &ev), -1);
	assert_non_null(strstr(q.err, "timed out (waiting 200 ms for event STOP)"));
	assert_int_equal(qemu_require_running(&q), -1);
	assert_non_null(strstr(q.err, "(status paused)"));
	qmp_close(&q);
}

/* What the predictor reads, against values the test set through QMP itself. */
static void test_qmp_inputs(void **state)
{
	json_object *args = json_object_new_object();
	struct qemu_inputs in;
	struct qmp q;

	(void)state;
	open_qemu(&q);
	json_object_object_add(args, "max-bandwidth", json_object_new_int64(33554432));
	json_object_object_add(args, "downtime-limit", json_object_new_int64(250));
	assert_int_equal(qmp_run(&q, "migrate-set-parameters", args), 0);
	assert_int_equal(qemu_read_inputs(&q, &in), 0);
	assert_int_equal(in.ram_bytes, 256 << 20);
	assert_int_equal(in.max_bandwidth, 33554432);
	assert_int_equal(in.downtime_limit_ms, 250);
	assert_true(in.ncaps >= 10);
	assert_false(qemu_cap_on(&in, "xbzrle"));
	assert_false(qemu_cap_on(&in, "postcopy-ram"));
	qmp_close(&q);
}

/* A peer that is not QEMU: it sends script[0], reads a line, sends script[1], ... then closes. */
struct peer {
	int fd;
	const char *const *script;
	int silent_ms;
};

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	int c = accept(p->fd, NULL, NULL);
	char buf[4096];

	if (c < 0)
		return NULL;
	if (p->silent_ms)
		usleep(p->silent_ms * 1000);
	for (unsigned i = 0; p->script && p->script[i]; i++) {
		if (i && read(c, buf, sizeof(buf)) <= 0)
			break;
		if (write(c, p->script[i], strlen(p->script[i])) < 0)
			break;
	}
	close(c);
	return NULL;
}

/* qmp_open against a peer playing script; the error line it gives. */
static void against_peer(const char *const *script, int silent_ms, char *err, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct peer p = {.script = script, .silent_ms = silent_ms};
	pthread_t t;
	struct qmp q;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/peer.sock", dir);
	unlink(sa.sun_path);
	p.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(p.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p.fd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, peer_run, &p), 0);
	assert_int_equal(qmp_open(&q, sa.sun_path, 300), -1);
	snprintf(err, len, "%s", q.err);
	pthread_join(t, NULL);
	close(p.fd);
	assert_non_null(strstr(err, sa.sun_path));
	assert_null(strchr(err, '\n'));
}

#define GREETING \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}}}\r\n"

static void test_qmp_bad_peers(void **state)
{
	static const char *const garbage[] = {"SSH-2.0-OpenSSH_9.2\r\n", NULL};
	static const char *const not_greeting[] = {"{\"hello\": 1}\n", NULL};
	static const char *const closes[] = {GREETING, "", NULL};
	static const char *const half[] = {GREETING, "{\"return\": {", NULL};
	static const char *const bad_json[] = {GREETING, "{\"return\": {]}\r\n", NULL};
	static const char *const no_return[] = {GREETING, "{\"id\": 1}\r\n", NULL};
	char err[400], missing[160], stale[160];
	struct qmp q;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing.sock", dir);
	snprintf(stale, sizeof(stale), "%s/peer.sock", dir);
	assert_int_equal(qmp_open(&q, missing, 300), -1);
	assert_non_null(strstr(q.err, "no such socket"));
	/* a socket file nobody listens on any more */
	against_peer(garbage, 0, err, sizeof(err));
	assert_int_equal(qmp_open(&q, stale, 300), -1);
	assert_non_null(strstr(q.err, "connection refused"));
	assert_non_null(strstr(err, "not a QMP socket: malformed JSON (waiting for the greeting)"));
	against_peer(not_greeting, 0, err, sizeof(err));
	assert_non_null(strstr(err, "not a QMP socket: its first message is not a QMP greeting"));
	against_peer(NULL, 0, err, sizeof(err));
	assert_non_null(strstr(err, "not a QMP socket: QEMU closed the connection"));
	against_peer(NULL, 600, err, sizeof(err));
	assert_non_null(strstr(err, "not a QMP socket: timed out (waiting for the greeting)"));
	against_peer(closes, 0, err, sizeof(err));
	assert_non_null(strstr(err, "QEMU closed the connection (waiting 300 ms for the answer to "
				    "qmp_capabilities)"));
	against_peer(half, 0, err, sizeof(err));
	assert_non_null(strstr(err, "qmp_capabilities) (mid-message)"));
	against_peer(bad_json, 0, err, sizeof(err));
	assert_non_null(strstr(err, "malformed JSON (waiting 300 ms for the answer to "
				    "qmp_capabilities)"));
	against_peer(no_return, 0, err, sizeof(err));
	assert_non_null(strstr(err, "neither return nor error: not QMP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qmp_capabilities_and_command),
		cmocka_unit_test(test_qmp_error_answers),
		cmocka_unit_test(test_qmp_events_kept_aside),
		cmocka_unit_test(test_qmp_inputs),
		cmocka_unit_test(test_qmp_bad_peers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_qemu, stop_qemu);
}
