// SPDX-License-Identifier: GPL-2.0
/* vfmigprof: attach vfmig's probes and report. Finds the command; each parses its own options. */
#include <stdio.h>
#include <string.h>

#include "vfmig/version.h"
#include "vfmigprof/prof.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
} commands[] = {
	{"probes", cmd_probes,
	 "load every probe family, print what attached where and why the rest did not"},
	{"stat", cmd_stat,
	 "run PROGRAM (or watch -p PID, --cgroup PATH) and print every family's totals"},
	{"predict", cmd_predict,
	 "will a VM's pre-copy converge: measured through the probes (-p PID, -- PROGRAM)\n"
	 "                or a QEMU's QMP socket (--qmp PATH), nothing migrated"},
	{"tune", cmd_tune,
	 "what would make that migration converge (bandwidth, downtime, throttle)"},
	{"record", cmd_record, "every event and a snapshot each interval into a file (-o FILE)"},
	{"report", cmd_report, "a recording's migrations: timelines, rates, downtime, prediction"},
	{"export", cmd_export, "the figures as Prometheus metrics (--listen, --textfile)"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: vfmigprof COMMAND [OPTIONS] [-- PROGRAM ARGS...]\n"
		"Profile VFIO dirty tracking and live migration with BPF (vfmig %s).\n\n"
		"Commands:\n",
		VFMIG_VERSION);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].what);
	fprintf(f,
		"\n'vfmigprof COMMAND --help' lists a command's options.\n"
		"\nExamples:\n"
		"  vfmigprof probes\n"
		"  vfmigprof stat -- vfmig-emu migrate --mem 128m\n"
		"  vfmigprof predict --bandwidth 100 --downtime 300 -- vfmig-emu run --mem 256m\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return prof_usage_error("%sno command given", "");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("vfmigprof %s\n", VFMIG_VERSION);
		return 0;
	}
	if (argv[1][0] == '-')
		return prof_usage_error("'%s': the command comes first", argv[1]);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			prof_cmd = commands[i].name;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	return prof_usage_error("unknown command '%s'", argv[1]);
}
