/* SPDX-License-Identifier: GPL-2.0 */
/* Running the built tools from a test and reading their JSON lines (json-c). */
#ifndef VFMIG_TEST_RUN_UTIL_H
#define VFMIG_TEST_RUN_UTIL_H

#include <json-c/json.h>
#include <stdbool.h>

/* build/tests/DIR/test_x -> build/NAME; false when it is not there. */
bool tool_path(const char *name, char *out, size_t len);

/* Runs argv (argv[0] a path), stdout into a malloc'd string; exit status or 128 + signal. */
int run_capture(char *const *argv, char **out);

/*
 * Runs argv (argv[0] a path) with stdout dropped: into line the first stderr line of its own
 * ("NAME: ..."), else the first; returns the exit status.
 */
int run_stderr_line(char *const *argv, char *line, size_t len);

/* The first line of text that parses as a JSON object having key, or NULL (json_object_put). */
struct json_object *json_line_with(const char *text, const char *key);

/* o[k1][k2]... as a number, -1 when a member is missing. */
long long json_path_int(struct json_object *o, const char *k1, const char *k2);

/* The device bytes vfmig-emu migrate --json says it moved: every round's and the stop-copy's. */
double json_migrate_dev_bytes(struct json_object *migrate);

#endif
