// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof export's other ends: bad input refused in one line with the
 * right status, HTTP methods and paths, the textfile only ever seen whole,
 * and JSON lines whose figures equal the migration's own account.
 */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "export/fixture_export.h"

static char tool[PATH_MAX], emu[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return !tool_path("vfmigprof", tool, sizeof(tool)) ||
	       !tool_path("vfmig-emu", emu, sizeof(emu));
}

/* argv's exit status, its stdout and stderr together in *out. */
static int run_log(char *const *argv, char **out)
{
	char log[] = "/tmp/vfmig-export-log-XXXXXX";
	int fd = mkstemp(log), status;
	pid_t pid;
	FILE *f;
	long len;

	assert_true(fd >= 0);
	close(fd);
	pid = spawn(argv, log);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	f = fopen(log, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	*out = calloc(1, len + 1);
	assert_int_equal(fread(*out, 1, len, f), (size_t)len);
	fclose(f);
	unlink(log);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct bad {
	const char *args[6];
	int status;
	const char *says;
};

static void refused(const struct bad *c)
{
	char *argv[8] = {tool}, *out;
	int i, lines = 0, status;

	for (i = 0; c->args[i]; i++)
		argv[i + 1] = (char *)c->args[i];
	status = run_log(argv, &out);
	for (i = 0; out[i]; i++)
		lines += out[i] == '\n';
	if (status != c->status || lines != 1 || !strstr(out, c->says))
		fail_msg("export %s %s: status %d, want %d; said '%s' (want one line with '%s')",
			 c->args[1], c->args[2] ? c->args[2] : "", status, c->status, out, c->says);
	free(out);
}

static void test_bad_input(void **state)
{
	static const struct bad cases[] = {
		{{"export"}, 2, "needs --listen"},
		{{"export", "--listen", "1.2.3:80"}, 2, "--listen '1.2.3:80'"},
		{{"export", "--listen", "127.0.0.1:99999"}, 2, "--listen"},
		{{"export", "--listen", "localhost:"}, 2, "--listen"},
		{{"export", "--json", "-i", "0"}, 2, "-i '0'"},
		{{"export", "--json", "-i", "1.5"}, 2, "-i '1.5'"},
		{{"export", "--json", "-i", "abc"}, 2, "-i 'abc'"},
		{{"export", "--json", "--duration", "-1"}, 2, "--duration"},
		{{"export", "--json", "--bandwidth", "0"}, 2, "--bandwidth"},
		{{"export", "--json", "--frob"}, 2, "unknown option"},
		{{"export", "--textfile", "/nonexistent/vfmig"}, 1, "/nonexistent/vfmig"},
		{{"export", "--textfile", "/etc/hostname"}, 1, "/etc/hostname"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused(&cases[i]);
}

/* A port some other program listens on: refused with its errno, status 1, nothing loaded. */
static void test_port_in_use(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(a);
	char listen_at[32];
	struct bad c = {{"export", "--listen", listen_at}, 1, "Address already in use"};

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", ntohs(a.sin_port));
	refused(&c);
	close(fd);
}

/* GET /metrics only: other methods 405 (saying GET), other paths 404. */
static void test_http_methods(void **state)
{
	char listen_at[32], *body;
	char *argv[] = {tool, "export", "--listen", listen_at, "--duration", "120", NULL};
	int port = free_port();
	pid_t pid;

	(void)state;
	snprintf(listen_at, sizeof(listen_at), "%d", port); /* 127.0.0.1 when no address */
	pid = spawn(argv, NULL);
	assert_true(wait_http(port, "/metrics", 60));
	assert_int_equal(http_request(port, "GET", "/metrics", &body), 200);
	assert_true(sample_value(body, "vfmig_bpf_stats_enabled") == 1);
	free(body);
	assert_int_equal(http_request(port, "POST", "/metrics", &body), 405);
	free(body);
	assert_int_equal(http_request(port, "PUT", "/metrics", &body), 405);
	free(body);
	assert_int_equal(http_request(port, "GET", "/", &body), 404);
	free(body);
	assert_int_equal(http_request(port, "GET", "/metrics/x", &body), 404);
	free(body);
	assert_int_equal(stop(pid, 20), 0);
	/* stopped by SIGTERM: nothing is left listening */
	assert_int_equal(http_request(port, "GET", "/metrics", &body), -1);
}

/* Whole: the first family and the last one always written, and a final newline. */
static bool whole(const char *text)
{
	size_t n = strlen(text);

	return n && text[n - 1] == '\n' && !strncmp(text, "# HELP vfmig_build_info ", 24) &&
	       strstr(text, "\nvfmig_model_downtime_limit_seconds ");
}

static char *slurp(const char *path, ino_t *ino)
{
	struct stat st;
	char *buf;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	fstat(fileno(f), &st);
	*ino = st.st_ino;
	buf = calloc(1, st.st_size + 1);
	if (buf && fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Read as fast as it is rewritten (every 20 ms): every read is a whole file. */
static void test_textfile_whole(void **state)
{
	char dir[] = "/tmp/vfmig-export-tf-XXXXXX", path[64], cmd[128];
	char *argv[] = {tool, "export", "--textfile", dir, "-i", "20", "--duration", "4", NULL};
	int reads = 0, versions = 0, status;
	ino_t last = 0, ino;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vfmig.prom", dir);
	pid = spawn(argv, NULL);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		char *text = slurp(path, &ino);

		if (!text)
			continue;
		reads++;
		if (!whole(text))
			fail_msg("read %d of %s is not whole (%zu bytes)", reads, path,
				 strlen(text));
		versions += ino != last;
		last = ino;
		free(text);
	}
	assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
	printf("# %d reads, %d versions of the file\n", reads, versions);
	assert_true(versions >= 10);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
}

/* export's last JSON line over PROGRAM in argv, and PROGRAM's own JSON report if asked. */
static struct json_object *last_line(char *const *argv, struct json_object **report)
{
	struct json_object *last = NULL;
	char *out, *line, *save;

	assert_int_equal(run_capture(argv, &out), 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *t;

		if (o && json_object_object_get_ex(o, "type", &t)) {
			json_object_put(last);
			last = o;
		} else if (report && o && json_object_object_get_ex(o, "rounds", &t)) {
			*report = o;
		} else {
			json_object_put(o);
		}
	}
	free(out);
	assert_non_null(last);
	return last;
}

/* The last JSON line of export's over migrate: each device's fsm steps equal its arcs. */
static void test_json_lines(void **state)
{
	char name[32];
	char *argv[] = {tool,	   "export", "--json", "-i",	 "200", "--",	  emu,
			"migrate", "--mem",  "64m",    "--name", name,	"--json", NULL};
	struct json_object *report = NULL, *last, *devs, *got;
	size_t i, j;

	(void)state;
	snprintf(name, sizeof(name), "expjson-%d", (int)getpid());
	last = last_line(argv, &report);
	assert_non_null(report);
	assert_true(json_object_object_get_ex(last, "devices", &got));
	assert_true(json_object_object_get_ex(report, "devices", &devs));
	for (i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i), *id, *arcs, *c, *n;
		bool found = false;

		assert_true(json_object_object_get_ex(d, "id", &id));
		assert_true(json_object_object_get_ex(d, "arcs", &arcs));
		for (j = 0; j < json_object_array_length(got); j++) {
			struct json_object *g = json_object_array_get_idx(got, j), *gid;

			if (!json_object_object_get_ex(g, "device", &gid) ||
			    strcmp(json_object_get_string(gid), json_object_get_string(id)))
				continue;
			found = true;
			assert_true(json_object_object_get_ex(g, "counters", &c));
			assert_true(json_object_object_get_ex(c, "fsm_steps_total", &n));
			assert_int_equal(json_object_get_int64(n), json_object_array_length(arcs));
		}
		assert_true(found);
	}
	json_object_put(report);
	json_object_put(last);
}

/* The verdict of the VM named name in export's last line over vfmig-emu run at bw MB/s. */
static struct json_object *verdict_at(const char *bw, const char *name)
{
	char *argv[] = {tool,	    "export", "--json", "-i",	      "500",	"--bandwidth",
			(char *)bw, "--",     emu,	"run",	      "--time", "3",
			"--mem",    "64m",    "--name", (char *)name, NULL};
	struct json_object *last = last_line(argv, NULL), *vms, *v = NULL, *vm;
	size_t i;

	assert_true(json_object_object_get_ex(last, "vms", &vms));
	for (i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *o = json_object_array_get_idx(vms, i);

		if (json_object_object_get_ex(o, "vm", &vm) &&
		    !strcmp(json_object_get_string(vm), name) &&
		    json_object_object_get_ex(o, "verdict", &v))
			json_object_get(v);
	}
	json_object_put(last);
	if (!v)
		fail_msg("no verdict for %s at %s MB/s", name, bw);
	return v;
}

static double num(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_double(v);
}

/*
 * A VM dirtying thousands of pages a second over 64 MiB: at 1 KB/s it cannot
 * converge (RAM alone takes hours) and needs more than that; at 1 GB/s it
 * converges within the default 300 ms downtime limit, needing less.
 */
static void test_verdicts(void **state)
{
	struct json_object *slow, *fast;
	char name[32];

	(void)state;
	snprintf(name, sizeof(name), "expverdict-%d", (int)getpid());
	slow = verdict_at("0.001", name);
	fast = verdict_at("1000", name);
	assert_false(json_object_get_boolean(json_object_object_get(slow, "converges")));
	assert_true(num(slow, "needed_bandwidth_bytes_per_second") > 1e3);
	assert_true(num(slow, "migration_seconds") > 64 * 1048576 / 1e3 / 2);
	assert_true(json_object_get_boolean(json_object_object_get(fast, "converges")));
	assert_true(num(fast, "downtime_seconds") <= 0.3);
	assert_true(num(fast, "needed_bandwidth_bytes_per_second") < 1e9);
	json_object_put(slow);
	json_object_put(fast);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),    cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_http_methods), cmocka_unit_test(test_textfile_whole),
		cmocka_unit_test(test_json_lines),   cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
