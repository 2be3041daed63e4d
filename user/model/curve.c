// SPDX-License-Identifier: GPL-2.0
/* W(T) curves: what was measured at a few windows, read at any window. */
#include <math.h>

#include "model/model.h"

double model_curve_at(const struct model_curve *c, double t)
{
	double v;
	unsigned int i;

	if (t <= 0)
		return 0;
	if (c->every_round)
		return c->cap;
	if (!c->n)
		v = c->slope_after * t;
	else if (t <= c->t_s[0])
		v = c->units[0] * t / c->t_s[0];
	else if (t >= c->t_s[c->n - 1])
		v = c->units[c->n - 1] + c->slope_after * (t - c->t_s[c->n - 1]);
	else {
		for (i = 1; i < c->n && c->t_s[i] < t; i++)
			;
		v = c->units[i - 1] + (c->units[i] - c->units[i - 1]) * (t - c->t_s[i - 1]) /
					      (c->t_s[i] - c->t_s[i - 1]);
	}
	return c->cap > 0 && v > c->cap ? c->cap : v;
}

/* Guest-page curves only: a device's memory curve has unit_bytes != page_bytes. */
double model_dirty_pages(const struct model_inputs *in, double t)
{
	double pages = 0, ram = in->ram_bytes / in->page_bytes;
	unsigned int i;

	for (i = 0; i < in->ncurves; i++) {
		if (in->curve[i].unit_bytes == in->page_bytes)
			pages += model_curve_at(&in->curve[i], t);
	}
	return pages > ram ? ram : pages;
}

/* W_k(T) = W(kT): a writer k times as fast dirties in T what it did in kT. */
void model_curve_scale_rate(struct model_curve *c, double k)
{
	unsigned int i;

	if (k <= 0)
		k = 1e-9;
	for (i = 0; i < c->n; i++)
		c->t_s[i] /= k;
	c->slope_after *= k; /* pages pinned (every_round) stay pinned at any rate */
}
