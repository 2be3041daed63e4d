// SPDX-License-Identifier: GPL-2.0
/*
 * Two recordings compared figure by figure. Each figure is read from the
 * report's own JSON object of each file (what --json prints), so a diff
 * never disagrees with the two reports; migrations pair by order, devices
 * by order within a migration (their pids differ between recordings).
 */
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "report/diff.h"
#include "report/report_json.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define GET(o, k) json_object_object_get(o, k)
#define AT(a, i) json_object_array_get_idx(a, i)
#define N(a) ((a) ? json_object_array_length(a) : 0)

/* One row: a figure, its value before and after (NULL: not measured there), the change. */
static void row(json_object *l, const char *figure, json_object *before, json_object *after)
{
	json_object *o = json_object_new_object();
	double a = json_object_get_double(before), b = json_object_get_double(after);

	ADD(o, "figure", json_object_new_string(figure));
	ADD(o, "before", json_object_get(before));
	ADD(o, "after", json_object_get(after));
	ADD(o, "change", before && after ? json_object_new_double(b - a) : NULL);
	ADD(o, "change_pct",
	    before && after && a != 0 ? json_object_new_double((b - a) / a * 100) : NULL);
	json_object_array_add(l, o);
}

static void row_num(json_object *l, const char *figure, double before, double after)
{
	json_object *a = json_object_new_double(before), *b = json_object_new_double(after);

	row(l, figure, a, b);
	json_object_put(a);
	json_object_put(b);
}

static double sum(json_object *arr, const char *key)
{
	double s = 0;
	size_t i;

	for (i = 0; i < N(arr); i++)
		s += json_object_get_double(GET(AT(arr, i), key));
	return s;
}

static double mean(json_object *arr, const char *key)
{
	return N(arr) ? sum(arr, key) / (double)N(arr) : 0;
}

/* Each device's arcs, in order, as "END VARIANT FROM->TO ns" (#k for a repeated arc). */
static void arc_rows(json_object *l, const char *end, json_object *da, json_object *db)
{
	size_t i, j, k, n = N(da) < N(db) ? N(da) : N(db);
	char fig[160];

	for (i = 0; i < n; i++) {
		json_object *aa = GET(AT(da, i), "arcs"), *ab = GET(AT(db, i), "arcs");

		for (j = 0; j < N(aa) && j < N(ab); j++) {
			json_object *x = AT(aa, j), *y = AT(ab, j);
			const char *from = json_object_get_string(GET(x, "from"));
			const char *to = json_object_get_string(GET(x, "to"));
			unsigned int rep = 1;

			if (strcmp(from, json_object_get_string(GET(y, "from"))) ||
			    strcmp(to, json_object_get_string(GET(y, "to"))))
				break; /* the two ran different arcs from here on */
			for (k = 0; k < j; k++)
				rep += !strcmp(from,
					       json_object_get_string(GET(AT(aa, k), "from"))) &&
				       !strcmp(to, json_object_get_string(GET(AT(aa, k), "to")));
			snprintf(fig, sizeof(fig), "%s %s%zu %s->%s ns", end,
				 json_object_get_string(GET(AT(da, i), "variant")), i, from, to);
			if (rep > 1)
				snprintf(fig + strlen(fig), sizeof(fig) - strlen(fig), " #%u", rep);
			row(l, fig, GET(x, "ns"), GET(y, "ns"));
		}
	}
}

static json_object *migration(json_object *a, json_object *b)
{
	static const char *const plain[] = {"total_ms",	    "downtime_ms", "precopy_ms",
					    "stop_copy_ms", "final_pages", "final_device_bytes"};
	json_object *l = json_object_new_array(), *pa = GET(a, "downtime_parts_ms");
	char fig[96];
	size_t i;

	row_num(l, "rounds", (double)N(GET(a, "rounds")), (double)N(GET(b, "rounds")));
	for (i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		row(l, plain[i], GET(a, plain[i]), GET(b, plain[i]));
	json_object_object_foreach(pa, key, val)
	{
		snprintf(fig, sizeof(fig), "downtime_parts_ms.%s", key);
		row(l, fig, val, GET(GET(b, "downtime_parts_ms"), key));
	}
	row_num(l, "rounds_dirty_pages", sum(GET(a, "rounds"), "dirty_pages"),
		sum(GET(b, "rounds"), "dirty_pages"));
	row_num(l, "rounds_device_bytes", sum(GET(a, "rounds"), "dev_bytes"),
		sum(GET(b, "rounds"), "dev_bytes"));
	row(l, "predicted_downtime_ms", GET(GET(a, "prediction"), "downtime_ms"),
	    GET(GET(b, "prediction"), "downtime_ms"));
	arc_rows(l, "source", GET(a, "devices"), GET(b, "devices"));
	arc_rows(l, "destination", GET(GET(a, "destination"), "devices"),
		 GET(GET(b, "destination"), "devices"));
	return l;
}

static json_object *diff_json(json_object *a, json_object *b)
{
	json_object *o = json_object_new_object(), *l = json_object_new_array();
	json_object *ma = GET(a, "migrations"), *mb = GET(b, "migrations"), *rec;
	size_t i;

	ADD(o, "version", json_object_new_int(REPORT_VERSION));
	ADD(o, "migrations_before", json_object_new_int((int)N(ma)));
	ADD(o, "migrations_after", json_object_new_int((int)N(mb)));
	for (i = 0; i < N(ma) && i < N(mb); i++)
		json_object_array_add(l, migration(AT(ma, i), AT(mb, i)));
	ADD(o, "migrations", l);
	rec = json_object_new_array();
	row_num(rec, "dirty_rate.vcpu_faults_per_s (mean)",
		mean(GET(a, "dirty_rate"), "vcpu_faults_per_s"),
		mean(GET(b, "dirty_rate"), "vcpu_faults_per_s"));
	row_num(rec, "harvest_windows_rate.pages_per_s (mean)",
		mean(GET(a, "harvest_windows_rate"), "pages_per_s"),
		mean(GET(b, "harvest_windows_rate"), "pages_per_s"));
	row(rec, "events", GET(a, "events"), GET(b, "events"));
	ADD(o, "recording", rec);
	return o;
}

static void cell(FILE *f, json_object *v)
{
	double x = json_object_get_double(v);

	if (v && x == floor(x) && fabs(x) < 1e15)
		fprintf(f, " %16.0f", x);
	else if (v)
		fprintf(f, " %16.3f", x);
	else
		fprintf(f, " %16s", "-");
}

static void print_rows(FILE *f, json_object *l)
{
	size_t i;

	fprintf(f, "  %-44s %16s %16s %16s %9s\n", "figure", "before", "after", "change", "%");
	for (i = 0; i < N(l); i++) {
		json_object *r = AT(l, i), *pct = GET(r, "change_pct");

		fprintf(f, "  %-44s", json_object_get_string(GET(r, "figure")));
		cell(f, GET(r, "before"));
		cell(f, GET(r, "after"));
		cell(f, GET(r, "change"));
		if (pct && isfinite(json_object_get_double(pct)))
			fprintf(f, " %+8.1f%%\n", json_object_get_double(pct));
		else
			fprintf(f, " %9s\n", "-");
	}
}

void report_print_diff(FILE *f, const struct report *before, const struct report *after, bool json)
{
	json_object *a = report_json(before), *b = report_json(after), *d = diff_json(a, b);
	json_object *l = GET(d, "migrations");
	size_t i;

	if (json) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(d, JSON_C_TO_STRING_PRETTY));
	} else {
		for (i = 0; i < N(l); i++) {
			fprintf(f, "migration %zu:\n", i);
			print_rows(f, AT(l, i));
		}
		if (N(GET(a, "migrations")) != N(GET(b, "migrations")))
			fprintf(f, "migrations: %zu before, %zu after (the first %zu compared)\n",
				N(GET(a, "migrations")), N(GET(b, "migrations")), N(l));
		fprintf(f, "recording:\n");
		print_rows(f, GET(d, "recording"));
	}
	json_object_put(a);
	json_object_put(b);
	json_object_put(d);
}

static int load(const char *path, struct report *r)
{
	char err[256];
	int ret = report_load(path, r, err, sizeof(err));

	if (ret == 1)
		fprintf(stderr, "vfmigprof: report: %s: %s\n", path, err);
	return ret;
}

static void damage_line(const char *path, const struct report *r)
{
	char line[256];

	report_damage_line(r, line, sizeof(line));
	if (line[0])
		fprintf(stderr, "vfmigprof: report: %s: %s\n", path, line);
}

int report_diff_files(FILE *f, const char *before, const char *after, bool json)
{
	struct report a, b;
	int ra = load(before, &a), rb;

	if (ra == 1)
		return 1;
	rb = load(after, &b);
	if (rb == 1) {
		report_free(&a);
		return 1;
	}
	report_print_diff(f, &a, &b, json);
	damage_line(before, &a);
	damage_line(after, &b);
	report_free(&a);
	report_free(&b);
	return ra > rb ? ra : rb;
}
