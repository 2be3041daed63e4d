/* SPDX-License-Identifier: GPL-2.0 */
/* Running a tool and taking its JSON answer (json-c), for the scorer. */
#ifndef VFMIG_SCORE_RUN_H
#define VFMIG_SCORE_RUN_H

#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>

/*
 * Runs "TOOL VERB FLAGS EXTRA --json" (words split on blanks, no shell), stderr dropped;
 * returns stdout parsed, or NULL. *status is waitpid's.
 */
struct json_object *run_json(const char *tool, const char *verb, const char *flags,
			     const char *extra, int *status);

/* A member, NAN / dflt / -1 / NULL when absent. */
double get_num(struct json_object *o, const char *key);
bool get_bool(struct json_object *o, const char *key, bool dflt);
int get_len(struct json_object *o, const char *key);
struct json_object *get_obj(struct json_object *o, const char *key);

#endif
