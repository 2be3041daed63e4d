/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report as one self-contained HTML page (html.c): the report's JSON
 * object, with each migration's predicted rounds and W(t), in a
 * <script type="application/json" id="report-data"> island, and inline
 * CSS and JS that draw the SVG plots from it. Nothing is fetched: the page
 * forbids it (Content-Security-Policy default-src 'none').
 */
#ifndef VFMIG_REPORT_HTML_H
#define VFMIG_REPORT_HTML_H

#include <stddef.h>

#include "report/report.h"

/* Writes the page to path: 0, or -1 with a one-line reason in err. */
int report_write_html(const struct report *r, const char *path, char *err, size_t errlen);

#endif
