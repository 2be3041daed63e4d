/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VFMIG_TEST_FIXTURE_REPORT_H
#define VFMIG_TEST_FIXTURE_REPORT_H

#include <json-c/json.h>
#include <limits.h>

extern char fx_prof[PATH_MAX], fx_emu[PATH_MAX];

int fx_setup(void **state);
struct json_object *fx_get(struct json_object *o, const char *key);
void fx_same_arcs(struct json_object *truth_devs, struct json_object *rep_devs);
struct json_object *fx_migration(struct json_object *rep, struct json_object *truth);
/*
 * vfmigprof record -o file (made from its XXXXXX template) -- vfmig-emu
 * migrate ARGS... --json (args NULL-terminated): that run's migrate --json.
 */
struct json_object *fx_record_migrate(char *file, const char *const *args);
/* The report's rounds are the truth's, each after the first opening with the pages its harvest found. */
void fx_same_rounds(struct json_object *truth, struct json_object *m);
/* report --json FILE: its exit status, the JSON in *rep. */
int fx_report(const char *file, struct json_object **rep);
int fx_report_stderr(const char *file, char **err);

#endif
