// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text exposition format (version 0.0.4): families, samples, histograms. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_priv.h"

#define MAX_LABELS 8

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *f, const char *s)
{
	if (!strpbrk(s, "\\\"\n")) {
		fputs(s, f);
		return;
	}
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void number(FILE *f, double v)
{
	if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (isnan(v))
		fputs("NaN", f);
	else if (v == floor(v) && v >= 0 && v < 1e15)
		fprintf(f, "%" PRIu64, (uint64_t)v);
	else
		fprintf(f, "%.9g", v);
}

/* {k="v",...  without the closing brace: labels[] is "k1", "v1", ..., NULL. */
static bool labels_open(FILE *f, const char *const *labels)
{
	const char *sep = "{";
	int i;

	for (i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		fputs(sep, f);
		fputs(labels[i], f);
		fputs("=\"", f);
		label_value(f, labels[i + 1]);
		fputc('"', f);
		sep = ",";
	}
	return *sep == ',';
}

void prom_sample_kv(FILE *f, const char *name, double v, const char *const *labels)
{
	fputs(name, f);
	fputs(labels_open(f, labels) ? "} " : " ", f);
	number(f, v);
	fputc('\n', f);
}

void prom_sample(FILE *f, const char *name, double v, ...)
{
	const char *labels[2 * MAX_LABELS + 1];
	va_list ap;
	int n = 0;

	va_start(ap, v);
	while (n < 2 * MAX_LABELS && (labels[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	labels[n] = NULL;
	prom_sample_kv(f, name, v, labels);
}

/*
 * Slot i ends at 2^(i+1) ns: the bucket le = 2^(i+1) ns holds slots 0..i.
 * Buckets from 1.024 us to 68.7 s (the slots below fold into the first,
 * losing nothing at the bounds shown), the same for every series, so that
 * histogram_quantile can sum them. The count is the slots' sum when a CPU was
 * mid-update: +Inf must equal it.
 */
#define FIRST_SLOT 9
#define LAST_SLOT 35

void prom_hist(FILE *f, const char *name, const struct vfmig_hist *h, const char *const *labels)
{
	uint64_t cum = 0, count;
	size_t len = 0;
	char *lbl = NULL;
	FILE *m = open_memstream(&lbl, &len);
	int i;

	if (!m)
		return;
	fputs(labels_open(m, labels) ? "," : "{", m);
	fclose(m);
	for (i = 0; i < VFMIG_HIST_SLOTS; i++)
		cum += h->slots[i];
	count = cum > h->count ? cum : h->count;
	cum = 0;
	for (i = 0; i <= LAST_SLOT; i++) {
		cum += h->slots[i];
		if (i >= FIRST_SLOT)
			fprintf(f, "%s_bucket%sle=\"%.10g\"} %" PRIu64 "\n", name, lbl,
				ldexp(1.0, i + 1) / 1e9, cum);
	}
	fprintf(f, "%s_bucket%sle=\"+Inf\"} %" PRIu64 "\n", name, lbl, count);
	lbl[len - 1] = 0; /* the "," or "{" that le needed */
	fprintf(f, "%s_sum%s%s%.9g\n", name, lbl, len > 1 ? "} " : " ", h->sum_ns / 1e9);
	fprintf(f, "%s_count%s%s%" PRIu64 "\n", name, lbl, len > 1 ? "} " : " ", count);
	free(lbl);
}
