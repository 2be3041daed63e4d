/* SPDX-License-Identifier: GPL-2.0 */
/* The report's JSON object, built once and printed as JSON or as text. */
#ifndef VFMIG_REPORT_REPORT_JSON_H
#define VFMIG_REPORT_REPORT_JSON_H

#include <json-c/json.h>

#include "report/report.h"

json_object *report_json(const struct report *r);
/* Latency per arc, dirty rate over time, top dirtiers, pre-copy growth (figures.c). */
void report_json_figures(const struct report *r, json_object *o);

#endif
