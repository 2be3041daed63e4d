/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the convergence model needs from a running QEMU, read through QMP and
 * /proc: it starts no migration and changes no parameter.
 */
#ifndef VFMIG_QEMU_INPUTS_H
#define VFMIG_QEMU_INPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "qemu/qmp.h"

#define QEMU_PAGE_SIZE 4096 /* TARGET_PAGE_SIZE on x86 */
#define QEMU_PAGE_HEADER 8  /* save_page_header: a page's offset and flags on the wire */
/*
 * What a prediction assumes of a QEMU that QMP does not tell (the bed's unix
 * socket, TCG): the link the final stop-copy goes at (not rate-limited in
 * 7.2), QEMU's setup (ram_init_bitmaps; bed.c measured ~130 ms with its
 * odd-sized RAM), stopping the vCPUs and the destination's load.
 */
#define QEMU_ASSUMED_LINK_BPS 1e9
#define QEMU_ASSUMED_SETUP_S 0.15
#define QEMU_ASSUMED_STOP_S 0.003
#define QEMU_ASSUMED_DEST_S 0.002
#define QEMU_CAPS_MAX 32
/* QEMU 7.2's calc-dirty-rate bounds, as its own error messages state them. */
#define QEMU_DIRTY_CALC_MIN_S 1
#define QEMU_DIRTY_CALC_MAX_S 60
#define QEMU_DIRTY_SAMPLE_PAGES_MAX 16384

struct qemu_cap {
	char name[32];
	bool on;
};

struct qemu_inputs {
	uint64_t ram_bytes;	/* base-memory + plugged-memory */
	uint64_t max_bandwidth; /* bytes/s, as set (not achieved) */
	uint64_t downtime_limit_ms;
	char status[32]; /* query-status */
	bool running;
	struct qemu_cap caps[QEMU_CAPS_MAX];
	unsigned ncaps;
};

/* One calc-dirty-rate window. */
struct qemu_dirty_window {
	unsigned seconds;      /* calc-time asked */
	unsigned measured_s;   /* calc-time QEMU reports (whole seconds, truncated) */
	unsigned sample_pages; /* per GiB */
	int64_t mib_per_s;     /* QEMU's dirty-rate: whole MiB/s, truncated */
	uint64_t pages;	       /* W(T): distinct pages dirtied in the window, from the rate */
};

int qemu_read_inputs(struct qmp *q, struct qemu_inputs *in);
/* 0 when the guest runs; -1 with q->err naming the state it is in. */
int qemu_require_running(struct qmp *q);
bool qemu_cap_on(const struct qemu_inputs *in, const char *name);

/*
 * W(T) at each of n windows (whole seconds, QEMU_DIRTY_CALC_MIN_S..MAX_S),
 * page-sampling at sample_pages per GiB (0: the most QEMU allows), one
 * window after the other, after a 1 s window whose result is dropped (see
 * inputs.c). 0, or -1 with q->err.
 */
int qemu_dirty_curve(struct qmp *q, const unsigned *seconds, unsigned n, unsigned sample_pages,
		     struct qemu_dirty_window *out);

/*
 * Guest RAM pages QEMU's process never backed with memory of their own
 * (method: see inputs.c), of the anonymous mapping of exactly ram_bytes in
 * /proc/pid/maps. 0 with *pages, or -1 with why (then the count is unknown).
 */
int qemu_untouched_pages(int pid, uint64_t ram_bytes, uint64_t *pages, char *why, size_t len);
/*
 * The same, and *zeroed: the pages present and written that hold only zeros
 * (read through /proc/pid/mem, which maps nothing new): QEMU 7.2 sends both as
 * zero-page records (ram.c save_zero_page, buffer_is_zero).
 */
int qemu_zero_pages(int pid, uint64_t ram_bytes, uint64_t *pages, uint64_t *zeroed, char *why,
		    size_t len);

#endif
