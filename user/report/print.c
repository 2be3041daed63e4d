// SPDX-License-Identifier: GPL-2.0
/* The report as text, drawn from its JSON object (json.c), and the recording's header. */
#include <string.h>

#include "report/report.h"
#include "report/report_json.h"

#define GET(o, k) json_object_object_get(o, k)
#define D(o, k) json_object_get_double(GET(o, k))
#define S(o, k) (GET(o, k) ? json_object_get_string(GET(o, k)) : "")
#define N(a) (a ? json_object_array_length(a) : 0)
#define AT(a, i) json_object_array_get_idx(a, i)

static void print_states(FILE *f, json_object *dev)
{
	json_object *st = GET(dev, "states");
	size_t i;

	fprintf(f, "    %-14s %-8s", S(dev, "id"), S(dev, "variant"));
	for (i = 0; i < N(st); i++)
		fprintf(f, "%s%s %.3f ms", i ? " -> " : " ", S(AT(st, i), "state"),
			D(AT(st, i), "ms"));
	fprintf(f, "\n");
}

static void print_devices(FILE *f, json_object *devs)
{
	size_t i, j;

	for (i = 0; i < N(devs); i++) {
		json_object *d = AT(devs, i), *arcs = GET(d, "arcs");

		print_states(f, d);
		for (j = 0; j < N(arcs); j++) {
			json_object *a = AT(arcs, j);
			char arc[48];

			snprintf(arc, sizeof(arc), "%s->%s", S(a, "from"), S(a, "to"));
			fprintf(f, "      arc %-26s %10.3f us%s\n", arc, D(a, "ns") / 1e3,
				json_object_get_int(GET(a, "result")) ? " (failed)" : "");
		}
	}
}

static void print_prediction(FILE *f, json_object *m)
{
	json_object *p = GET(m, "prediction");

	if (!json_object_get_boolean(GET(p, "made"))) {
		fprintf(f, "  prediction: none (%s)\n", S(p, "why_not"));
		return;
	}
	fprintf(f, "  prediction (%s):\n", S(p, "from"));
	fprintf(f, "    %-10s %8s %12s %14s\n", "", "rounds", "total ms", "downtime ms");
	fprintf(f, "    %-10s %8d %12.1f %14.1f  %s\n", "predicted",
		json_object_get_int(GET(p, "rounds")), D(p, "total_ms"), D(p, "downtime_ms"),
		json_object_get_boolean(GET(p, "converged")) ? "converges" : "does not converge");
	fprintf(f, "    %-10s %8zu %12.1f %14.1f\n", "measured", N(GET(m, "rounds")),
		D(m, "total_ms"), D(m, "downtime_ms"));
}

/* The JSON's downtime_from and downtime_to, in words. */
static const char *downtime_end(const char *key)
{
	static const char *const words[][2] = {{"vcpu_pause", "vCPU pause"},
					       {"stop_request", "first stop request"},
					       {"vcpu_resume", "vCPU resume"},
					       {"devices_running", "devices running"}};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(key, words[i][0]))
			return words[i][1];
	return key;
}

static void print_migration(FILE *f, size_t idx, json_object *m)
{
	json_object *rounds = GET(m, "rounds"), *parts = GET(m, "downtime_parts_ms");
	size_t i;

	fprintf(f, "\nmigration %zu: %s (pid %lld) -> pid %lld\n", idx + 1, S(m, "vm"),
		(long long)json_object_get_int64(GET(m, "pid")),
		(long long)json_object_get_int64(GET(m, "destination_pid")));
	fprintf(f, "  pre-copy %.3f ms in %zu round(s), stop-copy %.3f ms, total %.3f ms\n",
		D(m, "precopy_ms"), N(rounds), D(m, "stop_copy_ms"), D(m, "total_ms"));
	fprintf(f, "  %5s %10s %10s %12s %14s\n", "round", "start ms", "ms", "dirty pages",
		"device bytes");
	for (i = 0; i < N(rounds); i++)
		fprintf(f, "  %5zu %10.3f %10.3f %12.0f %14lld\n", i, D(AT(rounds, i), "start_ms"),
			D(AT(rounds, i), "ms"), D(AT(rounds, i), "dirty_pages"),
			(long long)json_object_get_int64(GET(AT(rounds, i), "dev_bytes")));
	fprintf(f, "  final: %lld dirty pages, %lld device bytes\n",
		(long long)json_object_get_int64(GET(m, "final_pages")),
		(long long)json_object_get_int64(GET(m, "final_device_bytes")));
	if (GET(m, "downtime_ms"))
		fprintf(f,
			"  downtime %.3f ms (from the %s to the %s): vCPU pause -> first stop "
			"request %.3f, stop devices %.3f, stop-copy (final harvest, RAM, device "
			"data) %.3f, destination load %.3f, resume %.3f\n",
			D(m, "downtime_ms"), downtime_end(S(m, "downtime_from")),
			downtime_end(S(m, "downtime_to")), D(parts, "vcpu_pause"),
			D(parts, "stop_devices"), D(parts, "stop_copy"),
			D(parts, "destination_load"), D(parts, "destination_resume"));
	else
		fprintf(f, "  downtime: unknown (no destination seen loading)\n");
	fprintf(f, "  source devices (time in each state):\n");
	print_devices(f, GET(m, "devices"));
	fprintf(f, "  destination devices:\n");
	print_devices(f, GET(GET(m, "destination"), "devices"));
	print_prediction(f, m);
}

static void print_latency(FILE *f, json_object *l)
{
	size_t i;

	if (!N(l))
		return;
	fprintf(f, "\ntransition latency per arc\n  %-8s %-24s %-26s %6s %12s %12s %12s\n", "what",
		"device", "arc", "count", "p50 < us", "p99 < us", "max us");
	for (i = 0; i < N(l); i++) {
		json_object *h = AT(l, i);

		fprintf(f, "  %-8s %-24s %-26s %6lld %12.3f %12.3f %12.3f\n", S(h, "what"),
			S(h, "device"), S(h, "arc"),
			(long long)json_object_get_int64(GET(h, "count")), D(h, "p50_ns") / 1e3,
			D(h, "p99_ns") / 1e3, D(h, "max_ns") / 1e3);
	}
}

static void print_rates(FILE *f, json_object *o)
{
	json_object *l = GET(o, "dirty_rate"), *w = GET(o, "harvest_windows_rate");
	size_t i;

	if (N(l))
		fprintf(f, "\ndirty rate over time (pages/s)\n  %8s %12s %10s %10s %10s %10s\n",
			"t s", "vcpu", "type1", "dma-log", "iommufd", "kvm");
	for (i = 0; i < N(l); i++) {
		json_object *x = AT(l, i);

		fprintf(f, "  %8.2f %12.0f %10.0f %10.0f %10.0f %10.0f\n", D(x, "t_s"),
			D(x, "vcpu_faults_per_s"), D(x, "type1_pages_per_s"),
			D(x, "dma_log_pages_per_s"), D(x, "iommufd_pages_per_s"),
			D(x, "kvm_pages_per_s"));
	}
	if (N(w))
		fprintf(f, "\nvCPU dirtying per harvest window\n  %8s %8s %10s %10s %12s\n", "pid",
			"t s", "ms", "pages", "pages/s");
	for (i = 0; i < N(w); i++) {
		json_object *x = AT(w, i);

		fprintf(f, "  %8lld %8.3f %10.3f %10lld %12.0f\n",
			(long long)json_object_get_int64(GET(x, "pid")), D(x, "t_s"), D(x, "ms"),
			(long long)json_object_get_int64(GET(x, "pages")), D(x, "pages_per_s"));
	}
}

static void print_top(FILE *f, json_object *top)
{
	static const char *const kinds[][2] = {
		{"devices", "device"}, {"processes", "process"}, {"ranges", "range"}};
	size_t i, k;

	fprintf(f, "\ntop dirtiers (pages)\n");
	for (k = 0; k < 3; k++) {
		json_object *l = GET(top, kinds[k][0]);

		for (i = 0; i < N(l); i++)
			fprintf(f, "  %-9s %-32s %12lld\n", kinds[k][1], S(AT(l, i), kinds[k][1]),
				(long long)json_object_get_int64(GET(AT(l, i), "pages")));
	}
}

static void print_growth(FILE *f, json_object *g)
{
	size_t i, j;

	for (i = 0; i < N(g); i++) {
		json_object *pts = GET(AT(g, i), "points");

		fprintf(f, "\npre-copy data of %s (PRECOPY_INFO answers)\n", S(AT(g, i), "device"));
		for (j = 0; j < N(pts); j++)
			fprintf(f, "  initial %12lld  dirty %12lld\n",
				(long long)json_object_get_int64(GET(AT(pts, j), "initial_bytes")),
				(long long)json_object_get_int64(GET(AT(pts, j), "dirty_bytes")));
	}
}

void report_print_header(FILE *f, const struct report *r, bool json)
{
	json_object *h = r->header ? json_tokener_parse(r->header) : NULL, *cmd = GET(h, "cmdline");
	char line[256];
	size_t i;

	report_damage_line(r, line, sizeof(line));
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_int(REPORT_VERSION));
		json_object_object_add(o, "header", h);
		json_object_object_add(o, "closed", json_object_new_boolean(r->damage.closed));
		json_object_object_add(o, "damage", json_object_new_string(line));
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return;
	}
	fprintf(f, "# host: %s\n# kernel: %s (%s)\n# vfmig: %s\n# cmdline:", S(h, "host"),
		S(h, "kernel"), S(h, "machine"), S(h, "vfmig"));
	for (i = 0; i < N(cmd); i++)
		fprintf(f, " %s", json_object_get_string(AT(cmd, i)));
	fprintf(f, "\n# clock: %s, started at %.6f s\n# devices at start: %zu, probes: %zu\n",
		S(h, "clock"), D(h, "monotonic_ns") / 1e9, N(GET(h, "devices")),
		N(GET(h, "probes")));
	fprintf(f, "# closed cleanly: %s%s%s\n", r->damage.closed ? "yes" : "no",
		line[0] ? "; " : "", line);
	json_object_put(h);
}

void report_print_text(FILE *f, const struct report *r)
{
	json_object *o = report_json(r), *migs = GET(o, "migrations"), *file = GET(o, "file");
	size_t i;

	report_print_header(f, r, false);
	fprintf(f,
		"# %zu events, %zu harvest windows, %zu snapshots; ring drops %lld, lost "
		"blocks %lld\n",
		(size_t)r->nevents, r->nwin, r->nsnaps,
		(long long)json_object_get_int64(GET(file, "ring_drops")),
		(long long)json_object_get_int64(GET(file, "lost_blocks")));
	if (!N(migs))
		fprintf(f, "\nno migration in this recording\n");
	for (i = 0; i < N(migs); i++)
		print_migration(f, i, AT(migs, i));
	print_latency(f, GET(o, "latency"));
	print_rates(f, o);
	print_top(f, GET(o, "top"));
	print_growth(f, GET(o, "precopy_growth"));
	json_object_put(o);
}
