// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text exposition format (version 0.0.4): families, samples, histograms. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "export/export_priv.h"

#define MAX_LABELS 8

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *f, const char *s)
{
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
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.9g", v);
}

/* name{k="v",...,le="..."} value */
static void line(FILE *f, const char *name, const char *suffix, const char *const *labels,
		 const char *le, double v)
{
	const char *sep = "{";
	int i;

	fprintf(f, "%s%s", name, suffix);
	for (i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		fprintf(f, "%s%s=\"", sep, labels[i]);
		label_value(f, labels[i + 1]);
		fputc('"', f);
		sep = ",";
	}
	if (le) {
		fprintf(f, "%sle=\"%s\"", sep, le);
		sep = ",";
	}
	fputs(*sep == ',' ? "} " : " ", f);
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
	line(f, name, "", labels, NULL, v);
}

void prom_sample_kv(FILE *f, const char *name, double v, const char *const *labels)
{
	line(f, name, "", labels, NULL, v);
}

/*
 * Slot i ends at 2^(i+1) ns: the bucket le = 2^(i+1) / 1e9 s holds slots 0..i.
 * The count is the slots' sum when a CPU was mid-update: +Inf must equal it.
 */
void prom_hist(FILE *f, const char *name, const struct vfmig_hist *h, const char *const *labels)
{
	uint64_t cum = 0, count;
	char le[32];
	int i;

	for (i = 0; i < VFMIG_HIST_SLOTS; i++)
		cum += h->slots[i];
	count = cum > h->count ? cum : h->count;
	cum = 0;
	for (i = 0; i < VFMIG_HIST_SLOTS; i++) {
		cum += h->slots[i];
		snprintf(le, sizeof(le), "%.10g", ldexp(1.0, i + 1) / 1e9);
		line(f, name, "_bucket", labels, le, (double)cum);
	}
	line(f, name, "_bucket", labels, "+Inf", (double)count);
	line(f, name, "_sum", labels, NULL, (double)h->sum_ns / 1e9);
	line(f, name, "_count", labels, NULL, (double)count);
}
