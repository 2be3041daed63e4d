// SPDX-License-Identifier: GPL-2.0
/*
 * One real QEMU migration on the bed, for make score and by hand: boots the
 * dirtier guest in a source QEMU and an incoming destination, reads what the
 * predictor reads once the migration parameters are set (and runs --before
 * CMD against the source's QMP socket, "%s" standing for its path),
 * migrates, and prints QEMU's figures as JSON, with what the dirtier did and
 * whether every page of its set held what it wrote, at both ends.
 *
 *   qemu_bed --kernel K --initrd I [--ram MIB] [--rate PAGES_PER_S] [--wss MIB]
 *            [--shape seq|uniform|hot] [--bandwidth MIB_PER_S] [--downtime MS]
 *            [--limit S] [--windows 1,2,4] [--before CMD]
 *
 * --before CMD runs on a second QMP monitor (the bed holds the first); when its
 * answer has a total_ms (vfmigprof predict --json), the run's limit is at least
 * 3x that.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu/inputs.h"
#include "qemu/report.h"
#include "guest_bed.h"

struct args {
	struct qemu_guest g;
	struct qemu_migrate_opts o;
	unsigned windows[8], nwindows;
	const char *before;
};

/* Bad usage: one line, what is wrong and the synopsis; exit status 2. */
static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "qemu_bed: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: qemu_bed --kernel K --initrd I [--ram MIB] [--rate PAGES_PER_S] "
			"[--wss MIB] [--shape seq|uniform|hot] [--bandwidth MIB_PER_S] "
			"[--downtime MS] [--limit S] [--windows 1,2,4] [--before CMD])\n");
	return 2;
}

static int number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	*out = strtoul(s, &end, 10);
	return *s && !*end && *out >= lo && *out <= hi ? 0 : -1;
}

static int parse_windows(char *s, struct args *a)
{
	unsigned long v;

	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		if (a->nwindows == 8 || number(t, QEMU_DIRTY_CALC_MIN_S, QEMU_DIRTY_CALC_MAX_S, &v))
			return -1;
		a->windows[a->nwindows++] = v;
	}
	return 0;
}

enum { RAM, RATE, WSS, BANDWIDTH, DOWNTIME, LIMIT, NUMS };

/* The numeric flags: getopt_long's value is the index here. */
static const struct {
	const char *name;
	unsigned long lo, hi, def;
} nums[NUMS] = {
	[RAM] = {"ram", 128, 65536, 256},
	[RATE] = {"rate", 0, 10000000, 2048},
	[WSS] = {"wss", 1, 65535, 64},
	[BANDWIDTH] = {"bandwidth", 1, 1 << 20, 0},
	[DOWNTIME] = {"downtime", 1, 1000000, 0},
	[LIMIT] = {"limit", 1, 86400, 60},
};

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"ram", 1, 0, RAM},	      {"rate", 1, 0, RATE},
		{"wss", 1, 0, WSS},	      {"bandwidth", 1, 0, BANDWIDTH},
		{"downtime", 1, 0, DOWNTIME}, {"limit", 1, 0, LIMIT},
		{"kernel", 1, 0, 'k'},	      {"initrd", 1, 0, 'i'},
		{"shape", 1, 0, 's'},	      {"windows", 1, 0, 'W'},
		{"before", 1, 0, 'B'},	      {0, 0, 0, 0},
	};
	unsigned long v[NUMS];
	int c;

	*a = (struct args){.g = {.shape = "seq"}};
	for (int i = 0; i < NUMS; i++)
		v[i] = nums[i].def;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c >= 0 && c < NUMS) {
			if (number(optarg, nums[c].lo, nums[c].hi, &v[c]))
				return usage("--%s %s: not a whole number in %lu..%lu",
					     nums[c].name, optarg, nums[c].lo, nums[c].hi);
		} else if (c == 'k') {
			a->g.kernel = optarg;
		} else if (c == 'i') {
			a->g.initrd = optarg;
		} else if (c == 's') {
			a->g.shape = optarg;
			if (strcmp(optarg, "seq") && strcmp(optarg, "uniform") &&
			    strcmp(optarg, "hot"))
				return usage("--shape %s: not seq, uniform or hot", optarg);
		} else if (c == 'W') {
			char list[128];

			snprintf(list, sizeof(list), "%s", optarg);
			if (parse_windows(list, a))
				return usage("--windows %s%s: up to 8 whole seconds in 1..60",
					     optarg, "");
		} else if (c == 'B') {
			a->before = optarg;
		} else {
			return usage("%s: unknown option or missing value", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage("%s: unexpected argument", argv[optind]);
	if (!a->g.kernel || !a->g.initrd)
		return usage("--kernel and --initrd are required");
	if (v[WSS] >= v[RAM])
		return usage("--wss %lu: must be less than --ram %lu", v[WSS], v[RAM]);
	a->g.ram_mib = v[RAM];
	a->g.rate = v[RATE];
	a->g.wss_mib = v[WSS];
	a->o.max_bandwidth = (uint64_t)v[BANDWIDTH] << 20;
	a->o.downtime_limit_ms = v[DOWNTIME];
	a->o.limit_s = v[LIMIT];
	return 0;
}

/* The --before command's stdout, as JSON when it is JSON, else as a string. */
static json_object *run_before(const char *cmd, const char *qmp_path)
{
	char line[4096], *out = NULL;
	size_t len = 0;
	json_object *j;
	FILE *p;

	snprintf(line, sizeof(line), cmd, qmp_path);
	p = popen(line, "r");
	if (!p)
		return json_object_new_string("could not run --before");
	FILE *mem = open_memstream(&out, &len);
	size_t n;

	while ((n = fread(line, 1, sizeof(line), p)) > 0)
		fwrite(line, 1, n, mem);
	pclose(p);
	fclose(mem);
	j = json_tokener_parse(out ? out : "");
	if (!j)
		j = json_object_new_string(out ? out : "");
	free(out);
	return j;
}

static int read_inputs(struct qemu_vm *src, const struct args *a, json_object *out)
{
	struct qemu_dirty_window w[8];
	struct qemu_inputs in;
	uint64_t untouched = 0;
	char why[256] = "";
	int known;

	if (qemu_read_inputs(&src->qmp, &in))
		return -1;
	/* before page sampling, whose reads make pages present */
	known = !qemu_untouched_pages(src->qmp.pid, in.ram_bytes, &untouched, why, sizeof(why));
	if (qemu_dirty_curve(&src->qmp, a->windows, a->nwindows, 0, w))
		return -1;
	json_object_object_add(
		out, "inputs",
		qemu_inputs_json(&in, w, a->nwindows, known ? (long long)untouched : -1, why));
	return 0;
}

/* The dirtier's reports at both ends, the destination's once it printed there. */
static json_object *dirtier_json(const struct qemu_vm *src, const struct qemu_vm *dst)
{
	struct dirtier_report before = {0}, after = {0};
	json_object *o = json_object_new_object();
	int seen = -1;

	dirtier_progress(src->console, &before);
	for (int i = 0; i < 30 && (seen = dirtier_progress(dst->console, &after)); i++)
		usleep(100000);
	json_object_object_add(o, "source_writes", json_object_new_int64(before.writes));
	json_object_object_add(o, "source_bad_pages", json_object_new_int64(before.bad));
	json_object_object_add(o, "destination_runs", json_object_new_boolean(!seen));
	json_object_object_add(o, "destination_bad_pages", json_object_new_int64(after.bad));
	return o;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/vfmig-qemu-bed-XXXXXX", err[512] = "", cmd[64];
	struct qemu_vm src = {.qmp.fd = -1}, dst = {.qmp.fd = -1};
	json_object *out = json_object_new_object();
	struct qemu_migration m = {0};
	struct args a;
	int rc = parse(argc, argv, &a);

	if (rc)
		return rc;
	if (!mkdtemp(dir)) {
		fprintf(stderr, "qemu_bed: cannot make a temp dir\n");
		return 1;
	}
	rc = qemu_vm_start(&src, dir, "src", &a.g, false, err, sizeof(err)) ||
	     qemu_vm_start(&dst, dir, "dst", &a.g, true, err, sizeof(err)) ||
	     qemu_vm_wait_console(&src, "DIRTIER ready", 90000, err, sizeof(err));
	/* the parameters first: --before (a predictor) reads them as the VM's own */
	if (!rc && qemu_set_migration_params(&src.qmp, &a.o))
		rc = snprintf(err, sizeof(err), "%s", src.qmp.err) > 0;
	if (!rc && a.before) {
		json_object *pred = run_before(a.before, src.tool_qmp_path);
		json_object *total = NULL;

		/* a prediction's run is given 3x its predicted total time, max(60 s, --limit) least */
		if (json_object_object_get_ex(pred, "total_ms", &total) &&
		    3 * json_object_get_double(total) / 1000 > a.o.limit_s)
			a.o.limit_s = (unsigned)ceil(3 * json_object_get_double(total) / 1000);
		json_object_object_add(out, "before", pred);
	}
	if (!rc && !a.before && read_inputs(&src, &a, out))
		rc = snprintf(err, sizeof(err), "%s", src.qmp.err) > 0;
	if (!rc)
		rc = qemu_migrate(&src, &dst, dir, &a.o, &m, err, sizeof(err)) ? 1 : 0;
	if (!rc) {
		json_object_object_add(out, "version", json_object_new_int(1));
		json_object_object_add(out, "migration", qemu_migration_json(&m));
		json_object_object_add(out, "dirtier", dirtier_json(&src, &dst));
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY));
	}
	qemu_vm_stop(&src);
	qemu_vm_stop(&dst);
	qemu_migration_free(&m);
	json_object_put(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "qemu_bed: could not remove %s\n", dir);
	if (rc)
		fprintf(stderr, "qemu_bed: %s\n", err);
	return rc ? 1 : 0;
}
