/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfmigtop's outputs: the lines of text both the batch output and the full
 * screen show (header, VM row, device row, detail), the JSON object per
 * interval and the CSV lines.
 */
#ifndef VFMIG_VFMIGTOP_OUTPUT_H
#define VFMIG_VFMIGTOP_OUTPUT_H

#include <regex.h>
#include <stdio.h>

#include "vfmigtop/collect.h"
#include "vfmigtop/figures.h"

#define TOP_LINE 512

/* The header's two lines. */
void top_header_line(const struct top_header *h, int which, char *buf, size_t len);
/* The column titles of the device rows. */
const char *top_titles(void);
/* A VM's row: name, pid, vCPU dirty rate, the verdict. */
void top_vm_line(const struct top_table *t, const struct top_vm *vm, char *buf, size_t len);
/* A device's row, in the columns of top_titles. */
void top_dev_line(const struct top_table *t, const struct top_dev *d, char *buf, size_t len);
/* Detail lines of a VM (vm set) or device: histograms per arc, sparkline, W(t), tuning. */
int top_detail_lines(const struct top_table *t, const struct top_vm *vm, const struct top_dev *d,
		     char out[][TOP_LINE], int max);

/* One interval: text screen, JSON object (a line), or CSV lines (the header before the first). */
void top_print_text(FILE *f, const struct top_header *h, const struct top_table *t,
		    const regex_t *re);
void top_print_json(FILE *f, const struct top_header *h, const struct top_table *t,
		    const regex_t *re);
void top_print_csv(FILE *f, const struct top_table *t, const regex_t *re, bool header);

#endif
