/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording read back (load.c) and its migrations rebuilt from the
 * events and harvest windows (timeline.c): each device's arcs and state
 * requests, pre-copy rounds from the harvests, stop-copy, the destination's
 * resume, the downtime and its parts; the model's prediction from what was
 * measured before the migration's first state SET (predict.c); printed as
 * text or JSON (print.c, json.c).
 */
#ifndef VFMIG_REPORT_REPORT_H
#define VFMIG_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>

#include "model/model.h"
#include "record/record.h"
#include "vfmig/abi.h"
#include "vfmig/dirty_window.h"

#define REPORT_VERSION 1
#define REPORT_MAX_ROUNDS 256

/* One arc a device's driver executed (FSM_STEP), or one state request (STATE_SET). */
struct rep_arc {
	uint64_t start_ns, ns;
	uint8_t from, to;
	int32_t result;
};

struct rep_size {
	uint64_t t_ns, initial, dirty;
};

struct rep_device {
	uint64_t key;
	uint32_t pid;
	char name[64], variant[32], vm[64];
	size_t narcs, nsets, nsizes;
	struct rep_arc *arcs, *sets;
	struct rep_size *sizes; /* PRECOPY_INFO answers: the pre-copy data's growth */
	uint64_t read_bytes, write_bytes, dirty_pages, pinned_pages;
};

struct rep_round {
	uint64_t start_ns, end_ns;
	double dirty_pages; /* what the harvest that opened it found (0 for round 0) */
	uint64_t dev_bytes; /* the source's devices' data read in it */
};

struct rep_migration {
	uint32_t pid, dest_pid;
	char vm[64];
	uint64_t start_ns;   /* the first state SET leaving RUNNING */
	uint64_t stop_ns;    /* the first stop arc: the VM paused */
	uint64_t stopped_ns; /* every source device in STOP_COPY */
	uint64_t end_ns;     /* the last STOP_COPY -> STOP on the source */
	uint64_t sent_ns;    /* the source's last stop-copy data read */
	uint64_t loaded_ns;  /* the destination's last RESUMING -> STOP */
	uint64_t running_ns; /* the destination's devices RUNNING again */
	/* the source's vCPUs asked to pause before the stop request (0: no such probe seen), and
	 * how many; the destination's asked to run (0: none seen) */
	uint64_t vcpu_pause_ns, vcpu_resume_ns;
	uint32_t vcpus;
	uint64_t pause_ns; /* the downtime's start: the vCPU pause, else the first stop request */
	uint64_t run_ns;   /* the destination's first request to RUNNING after its load */
	uint64_t downtime_ns, resume_ns;
	unsigned int nrounds;
	struct rep_round round[REPORT_MAX_ROUNDS];
	uint64_t final_dirty_pages, final_dev_bytes;
	/* the prediction */
	bool predicted;
	char predict_from[160], predict_why[200];
	struct model_inputs in;
	struct model_result pred;
};

struct rep_snapshot {
	uint64_t t_ns;
	uint64_t host[VFMIG_C_NR];
};

struct report {
	char *header;
	bool header_ok;
	struct rec_damage damage;
	uint64_t nevents, end_drops, end_lost_blocks, snap_lost_blocks;
	bool has_end;
	struct vfmig_event *ev; /* in time order */
	size_t nwin, nsnaps, ndevs, dev_cap, nmigs;
	struct vfmig_dirty_window *win;
	struct rep_snapshot *snaps;
	char *last_snapshot; /* JSON: names, states, histograms */
	struct rep_device *dev;
	struct rep_migration *mig;
};

/*
 * Reads path: 0 (clean), 3 (cut short or a block skipped: *why says where),
 * 1 (not a recording we read: err says why). r is filled for 0 and 3.
 */
int report_load(const char *path, struct report *r, char *err, size_t errlen);
int report_load_reader(struct rec_reader *rd, struct report *r);
void report_free(struct report *r);
/* The exit status's line for a damaged file (empty for a clean one). */
void report_damage_line(const struct report *r, char *out, size_t len);

/* The migrations in r's events (fills r->mig). */
void report_timeline(struct report *r);
struct rep_device *report_device(struct report *r, uint64_t key);
const char *report_state_name(uint8_t s);
/* When the state arc i led to was entered and left (the next arc's start, or t_end); false for
 * a failed arc. */
bool report_state_span(const struct rep_device *d, size_t i, uint64_t t_end, uint64_t *in,
		       uint64_t *out);

/* The prediction for m from what was measured before its first SET (or, wanting that, before
 * its stop, said so). */
void report_predict(const struct report *r, struct rep_migration *m);

struct live_link;
/*
 * vfmigprof predict --from FILE: the model's inputs for pid (0: the VM with the most harvest
 * windows) from a recording, from what was measured before that VM's first migration (all of
 * it when none; its pre-copy rounds when no window closed before it), its devices' last PRE_COPY sizes; the link and limits from link, or (NULL)
 * from the recorded command line. 0, 3 (damaged file, inputs made from what was read) or 1
 * with a one-line reason in err.
 */
int report_inputs_from_file(const char *path, uint32_t pid, const struct live_link *link,
			    struct model_inputs *in, char *err, size_t errlen);

/* The recording in the Trace Event Format (perfetto.c): 0, or -1 with a one-line reason. */
int report_write_perfetto(const char *path, const struct report *r, char *err, size_t errlen);

void report_print_text(FILE *f, const struct report *r);
void report_print_json(FILE *f, const struct report *r);
void report_print_header(FILE *f, const struct report *r, bool json);

#endif
