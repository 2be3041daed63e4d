// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof export against the real thing: promtool checks what /metrics
 * serves, and a Prometheus server started here scrapes it while an emulated
 * VM migrates; its query API must then return the figures the migration's
 * own account (vfmig-emu migrate --json) gives: each device's arcs, one by
 * one, and the device data bytes that crossed. The exporter watches every
 * process (other tests migrate VMs at the same time): only the series of
 * this test's VM, by its --name, are looked at.
 */
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "export/fixture_export.h"

struct bed {
	char dir[64], vm[32];
	int exp_port, prom_port;
	pid_t exporter, prometheus;
};

static void need_prometheus(void)
{
	char root[PATH_MAX], cmd[PATH_MAX * 3];

	assert_true(repo_root(root, sizeof(root)));
	snprintf(cmd, sizeof(cmd), "%s/scripts/deps.sh %s/build/.deps-prometheus prometheus", root,
		 root);
	if (system(cmd))
		fail_msg("Debian's prometheus package is needed (promtool, prometheus): %s", cmd);
}

static void start_exporter(struct bed *b)
{
	char tool[PATH_MAX], listen[32], log[128];
	char *argv[] = {tool, "export", "--listen", listen, "--duration", "300", "-i", "200", NULL};

	assert_true(tool_path("vfmigprof", tool, sizeof(tool)));
	b->exp_port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", b->exp_port);
	snprintf(log, sizeof(log), "%s/export.log", b->dir);
	b->exporter = spawn(argv, log);
	/* it answers once the probes are attached: a migration after this is seen whole */
	if (!wait_http(b->exp_port, "/metrics", 60))
		fail_msg("vfmigprof export never served /metrics (see %s)", log);
}

static void start_prometheus(struct bed *b)
{
	char cfg[128], data[128], listen[64], cfgarg[160], dataarg[160], log[128];
	char *argv[] = {"/usr/bin/prometheus", cfgarg, dataarg, listen, NULL};
	FILE *f;

	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", b->dir);
	snprintf(data, sizeof(data), "%s/data", b->dir);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
		"global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\n"
		"scrape_configs:\n  - job_name: vfmig\n    static_configs:\n"
		"      - targets: ['127.0.0.1:%d']\n",
		b->exp_port);
	fclose(f);
	b->prom_port = free_port();
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", cfg);
	snprintf(dataarg, sizeof(dataarg), "--storage.tsdb.path=%s", data);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", b->prom_port);
	snprintf(log, sizeof(log), "%s/prometheus.log", b->dir);
	b->prometheus = spawn(argv, log);
	if (!wait_http(b->prom_port, "/-/ready", 60))
		fail_msg("prometheus never got ready (see %s)", log);
}

/* vfmig-emu migrate --json of a VM named b->vm: the parsed report. */
static struct json_object *migrate(struct bed *b)
{
	char emu[PATH_MAX], *out;
	char *argv[] = {emu,   "migrate", "--mem",  "64m", "--name",
			b->vm, "--json",  "--seed", "7",   NULL};
	struct json_object *o;

	assert_true(tool_path("vfmig-emu", emu, sizeof(emu)));
	assert_int_equal(run_capture(argv, &out), 0);
	o = json_tokener_parse(out);
	free(out);
	assert_non_null(o);
	return o;
}

/* Prometheus's answer to q, once a scrape after the migration gave it want (30 s at most). */
static double query_until(const struct bed *b, const char *q, double want)
{
	double end = now_s() + 30, v = -1;

	while (now_s() < end) {
		if (prom_query(b->prom_port, q, &v) && v == want)
			return v;
		poll(NULL, 0, 250);
	}
	printf("# %s: %g, want %g\n", q, v, want);
	return v;
}

static struct json_object *member(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

/* Each source device's arcs: their number, and each arc's histogram count. */
static void arcs_match(const struct bed *b, struct json_object *dev)
{
	const char *id = json_object_get_string(member(dev, "id"));
	struct json_object *arcs = member(dev, "arcs");
	size_t n = json_object_array_length(arcs), i, j;
	char q[512];

	snprintf(q, sizeof(q), "vfmig_device_fsm_steps_total{vm=\"%s\",device=\"%s\"}", b->vm, id);
	assert_true(query_until(b, q, n) == n);
	for (i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(arcs, i);
		const char *from = json_object_get_string(member(a, "from")),
			   *to = json_object_get_string(member(a, "to"));
		double want = 0;

		for (j = 0; j < n; j++) {
			struct json_object *c = json_object_array_get_idx(arcs, j);

			want += !strcmp(from, json_object_get_string(member(c, "from"))) &&
				!strcmp(to, json_object_get_string(member(c, "to")));
		}
		snprintf(q, sizeof(q),
			 "vfmig_fsm_step_duration_seconds_count{vm=\"%s\",device=\"%s\","
			 "arc=\"%s->%s\",result=\"ok\"}",
			 b->vm, id, from, to);
		assert_true(query_until(b, q, want) == want);
	}
}

/* Every arc of the migration: the source's devices' and the destination's. */
static double all_arcs(struct json_object *r)
{
	struct json_object *sets[] = {member(r, "devices"),
				      member(member(r, "destination"), "devices")};
	double n = 0;
	size_t s, i;

	for (s = 0; s < 2; s++)
		for (i = 0; i < json_object_array_length(sets[s]); i++)
			n += json_object_array_length(
				member(json_object_array_get_idx(sets[s], i), "arcs"));
	return n;
}

/* "name{labels}" of a bucket line without its le, and that le. */
static bool split_bucket(const char *line, char *key, size_t len, const char **le)
{
	const char *b = strstr(line, "_bucket{"), *l = strstr(line, ",le=\"");

	if (!b || !l || b > l)
		return false;
	snprintf(key, len, "%.*s_count%.*s}", (int)(b - line), line, (int)(l - b - 7), b + 7);
	*le = l + 5;
	return true;
}

/*
 * promtool accepts the exposition, and each histogram's +Inf bucket equals
 * its _count; returns how many histograms there were.
 */
static int check_exposition(const struct bed *b)
{
	char path[128], cmd[256], key[1024], *body, *text, *line, *save;
	int nhist = 0;
	FILE *f;

	assert_int_equal(http_request(b->exp_port, "GET", "/metrics", &body), 200);
	snprintf(path, sizeof(path), "%s/metrics.txt", b->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	text = strdup(body); /* strtok_r cuts body into lines: counts are looked up in text */
	assert_non_null(text);
	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *le;

		if (!split_bucket(line, key, sizeof(key), &le) || strncmp(le, "+Inf\"", 5))
			continue;
		nhist++;
		if (sample_value(text, key) != strtod(strchr(le, ' ') + 1, NULL))
			fail_msg("%s: +Inf bucket %s", key, strchr(le, ' ') + 1);
	}
	free(text);
	free(body);
	return nhist;
}

static struct bed bed = {.dir = "/tmp/vfmig-export-XXXXXX"};

static void test_prometheus_scrapes_migration(void **state)
{
	struct json_object *r, *devs;
	char q[256];
	size_t i;

	(void)state;
	need_prometheus();
	assert_non_null(mkdtemp(bed.dir));
	snprintf(bed.vm, sizeof(bed.vm), "exptest-%d", (int)getpid());
	start_exporter(&bed);
	start_prometheus(&bed);
	r = migrate(&bed);
	assert_true(json_object_get_boolean(member(r, "ok")));
	devs = member(r, "devices");
	assert_true(json_object_array_length(devs) > 0);
	for (i = 0; i < json_object_array_length(devs); i++)
		arcs_match(&bed, json_object_array_get_idx(devs, i));
	snprintf(q, sizeof(q), "sum(vfmig_device_migration_data_read_bytes_total{vm=\"%s\"})",
		 bed.vm);
	assert_true(query_until(&bed, q, json_migrate_dev_bytes(r)) == json_migrate_dev_bytes(r));
	snprintf(q, sizeof(q), "sum(vfmig_device_migration_data_written_bytes_total{vm=\"%s\"})",
		 bed.vm);
	assert_true(query_until(&bed, q, json_migrate_dev_bytes(r)) == json_migrate_dev_bytes(r));
	snprintf(q, sizeof(q), "sum(vfmig_vm_fsm_steps_total{vm=\"%s\"})", bed.vm);
	assert_true(query_until(&bed, q, all_arcs(r)) == all_arcs(r));
	/* the histograms of the arcs above, at least, and each one's +Inf equal to its count */
	assert_true(check_exposition(&bed) >= (int)json_object_array_length(devs));
	json_object_put(r);
	assert_int_equal(stop(bed.prometheus, 20), 0);
	bed.prometheus = 0;
	assert_int_equal(stop(bed.exporter, 20), 0);
	bed.exporter = 0;
}

/* A failed assertion leaves no server behind, nor the temporary directory. */
static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	if (bed.prometheus > 0)
		stop(bed.prometheus, 20);
	if (bed.exporter > 0)
		stop(bed.exporter, 20);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bed.dir);
	if (!strchr(bed.dir, 'X') && system(cmd))
		printf("# could not remove %s\n", bed.dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_prometheus_scrapes_migration, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
