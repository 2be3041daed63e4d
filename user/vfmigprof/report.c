// SPDX-License-Identifier: GPL-2.0
/* vfmigprof report: a recording's migrations, rebuilt from its events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/diff.h"
#include "report/html.h"
#include "report/report.h"
#include "vfmigprof/prof.h"

static const char report_help[] =
	"Usage: vfmigprof report [OPTIONS] FILE\n"
	"Reads a recording of vfmigprof record and shows, per VM and device, each migration's\n"
	"timeline rebuilt from the probes' events (states and time in each, pre-copy rounds,\n"
	"stop-copy, resume), the downtime and its parts, transition latency per arc, dirty rate\n"
	"over time, top dirtiers, pre-copy data growth, and the model's prediction beside it.\n"
	"\n"
	"Options:\n"
	"  -j, --json             machine-readable output (with \"version\")\n"
	"      --header           only the header, and whether the file was closed cleanly\n"
	"      --perfetto OUT     also write the timeline as Trace Event Format JSON (Perfetto,\n"
	"                         chrome://tracing): a process per device, nested phases,\n"
	"                         states, counters for dirty rate, pinned pages, pending bytes\n"
	"      --html OUT         write the report as one self-contained HTML page with plots\n"
	"      --diff FILE2       FILE (before) and FILE2 (after) side by side, with the change\n"
	"  -h, --help             this text\n"
	"\n"
	"Exit status: 0 a clean file; 3 cut short or a damaged block skipped (the offset on\n"
	"stderr); 1 not a vfmig recording, an unsupported version or a damaged header.\n";

static void print(const struct report *r, bool header, bool json)
{
	if (header)
		report_print_header(stdout, r, json);
	else if (json)
		report_print_json(stdout, r);
	else
		report_print_text(stdout, r);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"header", no_argument, NULL, 'H'},
		{"perfetto", required_argument, NULL, 'P'},
		{"html", required_argument, NULL, 'W'},
		{"diff", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, header = false;
	const char *perfetto = NULL, *html = NULL, *diff = NULL;
	struct report r;
	char err[256], line[256];
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jh", longopts, NULL)) != -1) {
		if (c == ':')
			return prof_usage_error("option '%s' needs an argument", argv[optind - 1]);
		if (c == 'j')
			json = true;
		else if (c == 'H')
			header = true;
		else if (c == 'P')
			perfetto = optarg;
		else if (c == 'W')
			html = optarg;
		else if (c == 'D')
			diff = optarg;
		else if (c == 'h')
			return printf("%s", report_help) < 0;
		else
			return prof_usage_error("unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return prof_usage_error("%sreport needs one FILE", "");
	if (diff)
		return report_diff_files(stdout, argv[optind], diff, json);
	ret = report_load(argv[optind], &r, err, sizeof(err));
	if (ret == 1) {
		fprintf(stderr, "vfmigprof: report: %s: %s\n", argv[optind], err);
		return 1;
	}
	if ((perfetto && report_write_perfetto(perfetto, &r, err, sizeof(err))) ||
	    (html && report_write_html(&r, html, err, sizeof(err)))) {
		fprintf(stderr, "vfmigprof: report: %s\n", err);
		report_free(&r);
		return 1;
	}
	if (!html) /* the page is the report: nothing on stdout */
		print(&r, header, json);
	report_damage_line(&r, line, sizeof(line));
	if (ret)
		fprintf(stderr, "vfmigprof: report: %s: %s\n", argv[optind], line);
	report_free(&r);
	return ret;
}
