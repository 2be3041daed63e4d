/* SPDX-License-Identifier: GPL-2.0 */
/* Two real emulated migrations with different parameters, recorded; their reports. */
#ifndef VFMIG_TEST_FIXTURE_HTML_H
#define VFMIG_TEST_FIXTURE_HTML_H

#include <json-c/json.h>
#include <limits.h>

struct fxh_run {
	char file[64];
	struct json_object *truth; /* vfmig-emu migrate --json of the run */
	struct json_object *rep;   /* vfmigprof report --json FILE */
	struct json_object *mig;   /* rep's migration of the run's source */
};

extern char fxh_prof[PATH_MAX], fxh_emu[PATH_MAX];
extern struct fxh_run fxh_run[2];

/* Records both runs (group setup); removes them (teardown). */
int fxh_setup(void **state);
int fxh_teardown(void **state);
struct json_object *fxh_get(struct json_object *o, const char *key);
double fxh_num(struct json_object *o, const char *key);
/* sh -c cmd: exit status, its stdout and stderr together in *out (free it). */
int fxh_sh(const char *cmd, char **out);
/* Lines in s. */
int fxh_lines(const char *s);
void fxh_near(double got, double want, const char *what);

#endif
