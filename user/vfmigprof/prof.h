/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfmigprof's commands and what they share: which processes and devices to
 * watch (the target options every command that attaches the probes takes),
 * PROGRAM started once the probes are attached, one-line usage errors.
 */
#ifndef VFMIG_VFMIGPROF_PROF_H
#define VFMIG_VFMIGPROF_PROF_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe/loader.h"

#define EXIT_USAGE 2

/* Each command: argv[0] is the command's name, options follow. Returns the exit status. */
int cmd_probes(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* "vfmigprof: <fmt with arg> (see vfmigprof CMD --help)" on stderr; returns EXIT_USAGE. */
int prof_usage_error(const char *fmt, const char *arg);
/* A number in [lo, hi] for option opt, or its one-line usage error (EXIT_USAGE). */
int prof_number(const char *opt, const char *arg, double lo, double hi, double *v);
/* The command whose usage errors name (set by main). */
extern const char *prof_cmd;

/* What to watch: the options of stat, record, predict, export and vfmigtop's filters. */
struct prof_target {
	const char *binary, *cgroup;
	pid_t pid;
	uint64_t dev, cgroup_id;
	bool verbose, no_inherit;
	enum probe_prefer prefer;
	char **prog;	   /* -- PROGRAM ARGS..., NULL-terminated */
	size_t ring_bytes; /* the events ring (record: larger), 0 for the probes' default */
};

/*
 * getopt_long entries and short letters of the target options; a command
 * lists them beside its own (whose long-only values must stay below 0x100 or
 * above PROF_OPT_BASE + 16) and hands each option to prof_target_opt first.
 */
#define PROF_OPT_BASE 0x1000
#define PROF_TARGET_SHORT "p:b:d:v"
#define PROF_TARGET_LONG                                                                 \
	{"pid", required_argument, NULL, 'p'}, {"binary", required_argument, NULL, 'b'}, \
		{"device", required_argument, NULL, 'd'},                                \
		{"cgroup", required_argument, NULL, PROF_OPT_BASE + 1},                  \
		{"verbose", no_argument, NULL, 'v'},                                     \
		{"prefer", required_argument, NULL, PROF_OPT_BASE + 2},                  \
	{                                                                                \
		"no-inherit", no_argument, NULL, PROF_OPT_BASE + 3                       \
	}
/* The help lines of those options, for a command's usage text. */
extern const char prof_target_help[];

/* 0: taken; 1: not a target option; EXIT_USAGE: bad (the line printed). */
int prof_target_opt(int c, const char *arg, struct prof_target *t);
/* After getopt: "-- PROGRAM..." or PROGRAM... left in argv. */
void prof_target_rest(int argc, char **argv, struct prof_target *t);

/* A command's own option c with its argument: 0, or EXIT_USAGE (the line printed). */
typedef int (*prof_opt_fn)(int c, const char *arg, void *opts);
/*
 * getopt_long over argv: the target options into t, the command's own
 * (short letters in own_short, after the target's) to one(c, arg, opts), then
 * the PROGRAM left; a missing argument or an unknown option gets its line.
 * 0, or EXIT_USAGE.
 */
int prof_parse_opts(int argc, char **argv, const char *own_short, const struct option *longopts,
		    struct prof_target *t, prof_opt_fn one, void *opts);
/* Whether anything is watched: PROGRAM, -p or --cgroup. */
bool prof_target_given(const struct prof_target *t);
/* Refused before anything loads (PROGRAM not found, -b without USDT probes, bad cgroup). */
int prof_target_check(struct prof_target *t);

/* The probes attached to the target; PROGRAM forked, waiting for prof_attached_go. */
struct prof_session {
	struct vfmig_probes *probes;
	pid_t child; /* PROGRAM's pid, or 0 */
	int go;	     /* write end of PROGRAM's start pipe */
	int pidfd;   /* -p PID's, or -1 */
	char *binary;
};
int prof_attach(struct prof_target *t, struct prof_session *s);
/* Lets PROGRAM run; false when it could not be started. */
bool prof_attached_go(struct prof_session *s);
/* Whether the watched PROGRAM or -p PID has ended (status: PROGRAM's, from waitpid). */
bool prof_target_ended(const struct prof_target *t, struct prof_session *s, int *status);
void prof_detach(struct prof_session *s);

/* Ctrl-C and SIGTERM set prof_stop. */
extern volatile sig_atomic_t prof_stop;
void prof_catch_signals(void);
double prof_now(void);

#endif
