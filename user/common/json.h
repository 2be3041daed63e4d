/* SPDX-License-Identifier: GPL-2.0 */
/* JSON output shared by the tools' reports. */
#ifndef VFMIG_COMMON_JSON_H
#define VFMIG_COMMON_JSON_H

#include <stdio.h>

/* s as a JSON string, quoted, with quotes, backslashes and control bytes escaped. */
void json_string(FILE *out, const char *s);

#endif
