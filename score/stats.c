// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdlib.h>

#include "score/stats.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Moves the NaNs out and sorts the rest; returns how many are left. */
static int sorted(double *v, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	qsort(v, k, sizeof(*v), cmp);
	return k;
}

/* Linear interpolation between the two nearest ranks. */
double pctl(double *v, int n, double q)
{
	double pos;
	int k = sorted(v, n), lo;

	if (!k)
		return NAN;
	pos = q * (k - 1);
	lo = (int)pos;
	return lo + 1 < k ? v[lo] + (pos - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

double median(double *v, int n)
{
	return pctl(v, n, 0.5);
}

double spread(double *v, int n)
{
	int k = sorted(v, n);
	double mid = median(v, k);

	return k && mid > 0 ? (v[k - 1] - v[0]) / mid : NAN;
}
