// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof predict's inputs from a running QEMU, through its QMP socket: RAM,
 * the VM's own migration parameters and capabilities, W(T) from calc-dirty-rate
 * page sampling, untouched pages from /proc/PID/pagemap. Only queries: it
 * starts no migration and changes no parameter or capability.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "qemu/inputs.h"
#include "vfmigprof/predict.h"

/* Capabilities whose rules the model does not follow: it refuses rather than guess. */
static const char *const uncovered_caps[] = {"auto-converge", "xbzrle", "multifd", "postcopy-ram",
					     "compress"};

/* calc-dirty-rate windows, longest last; those that fit in --window run (after a 1 s warm-up). */
static const unsigned dirty_windows[] = {1, 2, 4};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "vfmigprof: %s%s\n", what, why);
	return 1;
}

static const char *uncovered(const struct qemu_inputs *qi)
{
	for (size_t i = 0; i < sizeof(uncovered_caps) / sizeof(uncovered_caps[0]); i++)
		if (qemu_cap_on(qi, uncovered_caps[i]))
			return uncovered_caps[i];
	return NULL;
}

static unsigned windows_within(double budget_s)
{
	unsigned n = 0;
	double used = QEMU_DIRTY_CALC_MIN_S; /* the warm-up window */

	while (n < sizeof(dirty_windows) / sizeof(dirty_windows[0]) &&
	       used + dirty_windows[n] <= budget_s + 1e-9)
		used += dirty_windows[n++];
	return n ? n : 1;
}

/*
 * W(T) through the measured windows; under the first (1 s, calc-dirty-rate's
 * least) it is extrapolated linearly from (0, 0), as if the distinct pages
 * grew at the 1 s rate; past the last at the slope of the last two points.
 */
static void fill_curve(struct model_curve *c, const struct qemu_dirty_window *w, unsigned n,
		       double ram_pages)
{
	snprintf(c->name, sizeof(c->name), "vcpus");
	c->unit_bytes = QEMU_PAGE_SIZE;
	c->cap = ram_pages;
	c->origin = ORIGIN_MEASURED;
	for (unsigned i = 0; i < n; i++) {
		c->t_s[c->n] = w[i].seconds;
		c->units[c->n++] = fmin((double)w[i].pages, ram_pages);
	}
	if (n >= 2)
		c->slope_after = fmax(0, (c->units[n - 1] - c->units[n - 2]) /
						 (c->t_s[n - 1] - c->t_s[n - 2]));
	else
		c->slope_after = c->units[0] / c->t_s[0];
}

static void fill_limits(const struct predict_req *r, const struct qemu_inputs *qi,
			struct model_inputs *in)
{
	in->engine = ENGINE_QEMU72;
	in->ram_bytes = (double)qi->ram_bytes;
	in->page_bytes = QEMU_PAGE_SIZE;
	in->wire_bytes_per_page = QEMU_PAGE_SIZE + QEMU_PAGE_HEADER;
	in->cap_bps = r->cap_bps >= 0 ? r->cap_bps : (double)qi->max_bandwidth;
	in->link_bps = QEMU_ASSUMED_LINK_BPS;
	in->origin_link = ORIGIN_ASSUMED;
	in->origin_costs = ORIGIN_ASSUMED;
	in->downtime_limit_s = r->downtime_s >= 0 ? r->downtime_s : qi->downtime_limit_ms / 1e3;
	in->max_rounds = 0;
	in->setup_s = QEMU_ASSUMED_SETUP_S;
	in->stop_s = QEMU_ASSUMED_STOP_S;
	in->dest_s = QEMU_ASSUMED_DEST_S;
}

/* calc-dirty-rate's whole MiB/s truncate: at least 1 MiB/s of the slowest rate, 5% at least. */
static double curve_spread(const struct qemu_dirty_window *w, unsigned n)
{
	int64_t least = w[0].mib_per_s;

	for (unsigned i = 1; i < n; i++)
		least = w[i].mib_per_s < least ? w[i].mib_per_s : least;
	return least > 0 ? fmin(0.5, fmax(0.05, 1.0 / (double)least)) : 0.05;
}

static int measure(struct qmp *q, const struct predict_req *r, struct model_inputs *in)
{
	const unsigned *wins = dirty_windows;
	struct qemu_dirty_window w[sizeof(dirty_windows) / sizeof(dirty_windows[0])];
	struct qemu_inputs qi;
	unsigned n = windows_within(r->window_s);
	uint64_t untouched = 0, zeroed = 0;
	char why[200] = "", zero[96];
	const char *cap;

	if (qemu_read_inputs(q, &qi))
		return fail("", q->err);
	if (!qi.running) {
		fprintf(stderr, "vfmigprof: qmp %s: QEMU is not running its guest (status %s)\n",
			q->path, qi.status);
		return 1;
	}
	cap = uncovered(&qi);
	if (cap) {
		fprintf(stderr,
			"vfmigprof: qmp %s: migration capability %s is on: the model does not "
			"cover it\n",
			q->path, cap);
		return 1;
	}
	fill_limits(r, &qi, in);
	if (in->cap_bps <= 0)
		in->cap_bps = 0;
	/* before calc-dirty-rate, whose reads make untouched pages present */
	if (qemu_zero_pages(q->pid, qi.ram_bytes, &untouched, &zeroed, why, sizeof(why)))
		snprintf(zero, sizeof(zero), "zero pages unknown");
	else
		snprintf(zero, sizeof(zero), "zero pages %llu untouched (pagemap) + %llu read zero",
			 (unsigned long long)untouched, (unsigned long long)zeroed);
	in->zero_pages = (double)(untouched + zeroed);
	if (qemu_dirty_curve(q, wins, n, 0, w))
		return fail("", q->err);
	fill_curve(&in->curve[0], w, n, in->ram_bytes / in->page_bytes);
	in->ncurves = 1;
	in->spread = curve_spread(w, n);
	snprintf(in->source, sizeof(in->source),
		 "QEMU %d.%d.%d pid %d: W(T) by calc-dirty-rate page-sampling at %u..%u s "
		 "(%u pages/GiB), under 1 s extrapolated linearly; %s; link assumed",
		 q->version[0], q->version[1], q->version[2], (int)q->pid, wins[0], wins[n - 1],
		 w[0].sample_pages, zero);
	return 0;
}

int predict_qmp_inputs(struct predict_req *r, struct model_inputs *in)
{
	struct qmp q = {.fd = -1};
	struct stat st;
	int ret;

	if (r->max_rounds >= 0)
		return prof_usage_error("%s--rounds: QEMU has no round cap (not with --qmp)", "");
	if (!stat(r->qmp, &st) && !S_ISSOCK(st.st_mode)) {
		fprintf(stderr,
			"vfmigprof: qmp %s: not a socket (QEMU's -qmp unix:PATH makes one)\n",
			r->qmp);
		return 1;
	}
	if (qmp_open(&q, r->qmp, QMP_TIMEOUT_MS))
		return fail("", q.err);
	ret = measure(&q, r, in);
	if (!ret && q.version[0] >= 8)
		in->engine = ENGINE_QEMU8;
	qmp_close(&q);
	return ret;
}
