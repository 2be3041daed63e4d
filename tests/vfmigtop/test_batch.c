// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop's batch outputs (text, JSON, CSV) against the emulated VM's own
 * truth: vfmig-emu migrate --json's arcs (final states exact, each arc's
 * p50/p99 the bucket of its logged durations), the NIC's pinned buffers
 * (buffers=64 of one page each: 64 pages), vfmig-emu run --json's dirty
 * pages by source (within 5%). vfmigtop starts the VM as its PROGRAM, so
 * that it watches it, and only it, from its first instruction.
 */
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "vfmig/version.h"

#define NIC "nic:dirty=type1-pin,rate=20000,buffers=64,bufsize=4k"
#define NIC_PAGES 64

static char top[PATH_MAX], emu[PATH_MAX], truth[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	if (!tool_path("vfmigtop", top, sizeof(top)) || !tool_path("vfmig-emu", emu, sizeof(emu)))
		return -1;
	snprintf(truth, sizeof(truth), "/tmp/vfmigtop-truth-%d.json", getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(truth);
	return 0;
}

/* vfmigtop -b FORMAT -i MS -- sh -c 'exec vfmig-emu EMU_ARGS --json > truth'; its stdout. */
static char *run_top(const char *format, const char *ms, const char *emu_args)
{
	char cmd[1024], *out = NULL;
	char *argv[] = {top, "-b", (char *)format, "-i", (char *)ms, "--binary",
			emu, "--", "sh",	   "-c", cmd,	     NULL};

	if (!*format)
		memmove(&argv[2], &argv[3], sizeof(argv) - 3 * sizeof(argv[0]));
	snprintf(cmd, sizeof(cmd), "exec %s %s --json > %s 2>/dev/null", emu, emu_args, truth);
	assert_int_equal(run_capture(argv, &out), 0);
	return out;
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

/* The last JSON line of text. */
static struct json_object *last_line(const char *text)
{
	const char *p = text, *last = text;

	while ((p = strchr(p, '\n')) && p[1])
		last = ++p;
	return json_tokener_parse(last);
}

static struct json_object *find_dev(struct json_object *top_obj, const char *name)
{
	struct json_object *vms = get(top_obj, "vms");
	size_t i, j;

	for (i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *devs = get(json_object_array_get_idx(vms, i), "devices");

		for (j = 0; j < json_object_array_length(devs); j++) {
			struct json_object *d = json_object_array_get_idx(devs, j);

			if (!strcmp(json_object_get_string(get(d, "name")), name))
				return d;
		}
	}
	return NULL;
}

/* The upper bound of the log2 bucket the probes' histograms put ns in. */
static long long bucket(long long ns)
{
	int i = 0;

	while (i < 39 && ns >> (i + 1))
		i++;
	return (2ll << i) - 1;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Every arc from -> to the device logged, checked against vfmigtop's "step" arc. */
static void check_arc(struct json_object *dev_truth, struct json_object *dev_top, const char *from,
		      const char *to)
{
	struct json_object *arcs = get(dev_truth, "arcs"), *mine = get(dev_top, "arcs"), *a = NULL;
	long long ns[64] = {0};
	size_t i, n = 0;

	for (i = 0; i < json_object_array_length(arcs) && n < 64; i++) {
		struct json_object *x = json_object_array_get_idx(arcs, i);

		if (!strcmp(json_object_get_string(get(x, "from")), from) &&
		    !strcmp(json_object_get_string(get(x, "to")), to))
			ns[n++] = json_object_get_int64(get(x, "ns"));
	}
	for (i = 0; i < json_object_array_length(mine); i++) {
		struct json_object *x = json_object_array_get_idx(mine, i);

		if (!strcmp(json_object_get_string(get(x, "kind")), "step") &&
		    !strcmp(json_object_get_string(get(x, "from")), from) &&
		    !strcmp(json_object_get_string(get(x, "to")), to))
			a = x;
	}
	assert_non_null(a);
	assert_true(n > 0);
	qsort(ns, n, sizeof(ns[0]), cmp_ll);
	assert_int_equal(json_object_get_int64(get(a, "count")), n);
	assert_int_equal(json_object_get_int64(get(a, "p50_ns")), bucket(ns[(n + 1) / 2 - 1]));
	assert_int_equal(json_object_get_int64(get(a, "p99_ns")),
			 bucket(ns[(size_t)ceil(0.99 * n) - 1]));
}

static void test_json_states_pins_and_arcs(void **state)
{
	char *out = run_top("--json", "300",
			    "migrate --mem 32m --wss 8m --name tmig --device " NIC
			    " --device bigmem:mem=8m,rate=100");
	struct json_object *mine = last_line(out), *t = json_object_from_file(truth), *devs;
	size_t i, j, nchecked = 0;

	(void)state;
	assert_non_null(mine);
	assert_non_null(t);
	assert_string_equal(json_object_get_string(get(mine, "version")), VFMIG_VERSION);
	devs = get(t, "devices");
	for (i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i), *arcs = get(d, "arcs");
		struct json_object *m = find_dev(mine, json_object_get_string(get(d, "id")));
		struct json_object *last;

		assert_non_null(m);
		last = json_object_array_get_idx(arcs, json_object_array_length(arcs) - 1);
		assert_string_equal(json_object_get_string(get(m, "state")),
				    json_object_get_string(get(last, "to")));
		for (j = 0; j < json_object_array_length(arcs); j++) {
			struct json_object *a = json_object_array_get_idx(arcs, j);

			check_arc(d, m, json_object_get_string(get(a, "from")),
				  json_object_get_string(get(a, "to")));
			nchecked++;
		}
		if (!strcmp(json_object_get_string(get(d, "variant")), "nic"))
			assert_int_equal(json_object_get_int64(get(m, "pinned_pages")), NIC_PAGES);
		else /* the bigmem pins nothing: not tracked, not 0 */
			assert_true(json_object_is_type(get(m, "pinned_pages"), json_type_null));
	}
	assert_true(nchecked >= 8);
	json_object_put(mine);
	json_object_put(t);
	free(out);
}

/* Sum over the intervals of a VM's (or its device's) rate times the interval. */
static double pages_seen(const char *out, const char *vm, const char *dev, const char *key)
{
	const char *p = out;
	double sum = 0;

	while (p && *p) {
		struct json_object *o = json_tokener_parse(p), *vms = get(o, "vms");
		double sec = json_object_get_double(get(o, "interval_s"));
		size_t i, j;

		for (i = 0; i < json_object_array_length(vms); i++) {
			struct json_object *v = json_object_array_get_idx(vms, i), *ds;

			if (strcmp(json_object_get_string(get(v, "name")), vm))
				continue;
			if (!dev) {
				sum += json_object_get_double(get(v, key)) * sec;
				continue;
			}
			ds = get(v, "devices");
			for (j = 0; j < json_object_array_length(ds); j++) {
				struct json_object *d = json_object_array_get_idx(ds, j);

				if (strstr(json_object_get_string(get(d, "name")), dev))
					sum += json_object_get_double(get(d, key)) * sec;
			}
		}
		json_object_put(o);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return sum;
}

static void test_json_dirty_rates_within_5_percent(void **state)
{
	char *out = run_top(
		"--json", "250",
		"run --time 2 --mem 32m --wss 8m --rate 20000 --name trun --device " NIC);
	struct json_object *t = json_object_from_file(truth), *dp;
	double vcpu, dev0, seen_vcpu, seen_dev;

	(void)state;
	assert_non_null(t);
	dp = get(get(get(t, "totals"), "dirty_pages"), "vcpu");
	vcpu = json_object_get_double(dp);
	dev0 = json_object_get_double(get(get(get(t, "totals"), "dirty_pages"), "dev0"));
	seen_vcpu = pages_seen(out, "trun", NULL, "dirty_vcpu_pages_s");
	seen_dev = pages_seen(out, "trun", "type1-container", "dirty_bitmap_pages_s");
	printf("vCPU dirty pages: %.0f seen, %.0f logged; device: %.0f seen, %.0f logged\n",
	       seen_vcpu, vcpu, seen_dev, dev0);
	assert_true(vcpu > 1000 && dev0 > 100);
	assert_true(fabs(seen_vcpu - vcpu) <= 0.05 * vcpu);
	assert_true(fabs(seen_dev - dev0) <= 0.05 * dev0);
	json_object_put(t);
	free(out);
}

static void test_csv_header_once_line_per_device(void **state)
{
	char *out = run_top("--csv", "300",
			    "run --time 1 --mem 32m --wss 8m --name tcsv --device " NIC);
	char *line, *save = NULL;
	int headers = 0, nic_lines = 0, pinned_ok = 0;

	(void)state;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int commas = 0;
		char *c;

		for (c = line; *c; c++)
			commas += *c == ',';
		assert_int_equal(commas, 23);
		if (!strncmp(line, "t,vm_pid,vm,device", 18)) {
			headers++;
			continue;
		}
		if (strstr(line, ":emu1,nic,")) {
			nic_lines++;
			/* pinned pages, and the bitmap rate not tracked on the NIC itself */
			pinned_ok += strstr(line, ",not tracked,64.000,") != NULL;
		}
	}
	assert_int_equal(headers, 1);
	assert_true(nic_lines >= 3);
	assert_true(pinned_ok >= nic_lines - 1); /* the first interval may precede its pins */
	free(out);
}

static void test_text_plain_with_rows(void **state)
{
	char *out = run_top("", "300",
			    "run --time 1 --mem 32m --wss 8m --name ttext --device " NIC);
	struct json_object *t = json_object_from_file(truth);
	char *line;

	(void)state;
	assert_null(strchr(out, '\033'));
	assert_non_null(strstr(out, "VM ttext (pid "));
	assert_non_null(strstr(out, "probes "));
	assert_non_null(strstr(out, "vfmig BPF run time"));
	line = strstr(out, ":emu1 ");
	assert_non_null(line);
	line[strcspn(line, "\n")] = 0;
	assert_non_null(strstr(line, " nic "));
	assert_non_null(strstr(line, " 64 ")); /* pinned */
	json_object_put(t);
	free(out);
}

/*
 * While the emulated VM migrates, its row's progress comes from the device's
 * probes: states PRE_COPY or STOP_COPY, bytes streamed never more than
 * migrate streamed in all, and past round 0's once that round is over.
 */
static void test_json_progress_while_migrating(void **state)
{
	char *out = run_top("--json", "100",
			    "migrate --mem 32m --wss 8m --rate 2000 --name tprog --bandwidth 20 "
			    "--device bigmem:mem=8m,rate=100");
	struct json_object *t = json_object_from_file(truth);
	double all = json_migrate_dev_bytes(t), most = 0, round0;
	int seen = 0;
	char *line, *save = NULL;

	(void)state;
	round0 = json_object_get_double(
		get(json_object_array_get_idx(get(t, "rounds"), 0), "dev_bytes"));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *vms = get(o, "vms");
		size_t i;

		for (i = 0; i < json_object_array_length(vms); i++) {
			struct json_object *v = json_object_array_get_idx(vms, i);
			struct json_object *m = get(v, "migration");
			const char *st;
			double sent;

			if (strcmp(json_object_get_string(get(v, "name")), "tprog") || !m)
				continue;
			st = json_object_get_string(get(m, "status"));
			sent = json_object_get_double(get(m, "transferred_bytes"));
			printf("%s %.1f%% sent %.0f of %.0f\n", st,
			       json_object_get_double(get(m, "percent")), sent, all);
			assert_string_equal(json_object_get_string(get(m, "from")), "probes");
			assert_true(!strcmp(st, "PRE_COPY") || !strcmp(st, "PRE_COPY_P2P") ||
				    !strcmp(st, "STOP_COPY"));
			assert_true(sent <= all);
			most = sent > most ? sent : most;
			seen++;
		}
		json_object_put(o);
	}
	assert_true(seen >= 2);
	assert_true(most >= round0);
	json_object_put(t);
	free(out);
}

static void test_iterations(void **state)
{
	char *out = NULL, cmd[512];
	char *argv[] = {top,	    "-b", "--json", "-n", "3",	"-i", "100",
			"--binary", emu,  "--",	    "sh", "-c", cmd,  NULL};
	int lines = 0;
	char *p;

	(void)state;
	snprintf(cmd, sizeof(cmd), "exec %s run --time 30 --mem 16m --wss 4m > /dev/null 2>&1",
		 emu);
	assert_int_equal(run_capture(argv, &out), 0);
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 3);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_states_pins_and_arcs),
		cmocka_unit_test(test_json_dirty_rates_within_5_percent),
		cmocka_unit_test(test_csv_header_once_line_per_device),
		cmocka_unit_test(test_text_plain_with_rows),
		cmocka_unit_test(test_json_progress_while_migrating),
		cmocka_unit_test(test_iterations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
