/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The convergence model: pure functions from measured (or given, or assumed)
 * inputs to a round-by-round prediction of a pre-copy migration as one
 * engine runs it, with the baselines beside it and the tuner on top. No I/O,
 * no global state: every caller (vfmig-emu predict, vfmigprof predict, the
 * scorer) fills struct model_inputs its own way.
 */
#ifndef VFMIG_MODEL_MODEL_H
#define VFMIG_MODEL_MODEL_H

#include <stdbool.h>
#include <stdio.h>

#define MODEL_MAX_POINTS 32
#define MODEL_MAX_SOURCES 8
#define MODEL_MAX_DEVICES 8
#define MODEL_MAX_ROUNDS 256

/* Where an input came from: the report says which of each. */
enum model_origin { ORIGIN_ASSUMED, ORIGIN_GIVEN, ORIGIN_MEASURED };

/*
 * W(T): distinct pages (or device blocks) dirtied in a window of length T, as points; linear
 * between them, from (0, 0) to the first, and past the last at slope_after up to cap.
 */
struct model_curve {
	char name[24];
	unsigned int n;
	double t_s[MODEL_MAX_POINTS], units[MODEL_MAX_POINTS];
	double slope_after; /* units per second past the last point */
	double cap;	    /* at most this many units (the working set, the ring) */
	double unit_bytes;  /* 4096 for guest pages, a block for device memory */
	bool every_round;   /* dirty in full every round (pinned pages, an IOMMU blind to DMA) */
	enum model_origin origin;
};

/* The engines whose rules the simulation follows. */
enum model_engine {
	ENGINE_VFMIG,  /* vfmig-emu's driver (user/migration/migrate.c) */
	ENGINE_QEMU72, /* QEMU 7.2, RAM only */
	ENGINE_QEMU8,  /* QEMU 8.0+ with VFIO devices (hw/vfio/migration.c) */
};

struct model_device {
	char name[24];
	bool precopy;	      /* has PRE_COPY: its initial bytes go before switchover */
	double initial_bytes; /* PRE_COPY initial bytes (the whole device memory) */
	int dirty_curve;      /* index of the curve of blocks it rewrites, or -1 */
	double state_bytes;   /* stop-copy bytes beyond memory (registers, rings) */
	bool data_size_fails; /* MIG_DATA_SIZE refused: QEMU 8 counts 100 GiB */
	enum model_origin origin;
};

struct model_inputs {
	enum model_engine engine;
	double ram_bytes, page_bytes;
	double zero_pages; /* never touched: QEMU sends them as small records */
	unsigned int ncurves, ndevs;
	struct model_curve curve[MODEL_MAX_SOURCES]; /* guest pages: unit_bytes == page_bytes */
	struct model_device dev[MODEL_MAX_DEVICES];
	double cap_bps;	 /* the bandwidth cap in bytes/s, 0: none */
	double link_bps; /* what the link achieves uncapped */
	double downtime_limit_s;
	unsigned int max_rounds; /* 0: no cap (QEMU) */
	/* fixed costs: before round 0, after switchover, per RAM byte hashed (vfmig verifies) */
	double setup_s, stop_s, dest_s, harvest_bps, verify_bps;
	/* what each round after the first spends besides sending: the harvest, device queries */
	double round_overhead_s;
	double wire_bytes_per_page; /* a page on the wire with its framing */
	enum model_origin origin_link, origin_costs;
	/*
	 * The range: relative spreads measured with the inputs (0: none measured) of the
	 * curves (window to window), the send rate (the link's samples; a capped rate
	 * falls short of its cap by as much) and the fixed costs (their samples).
	 */
	double spread, spread_rate, spread_costs;
	char source[240]; /* what the inputs were measured on, and how (printed as "source") */
};

struct model_round {
	double ram_pages, dirty_pages, dev_bytes, pending_bytes, bytes, seconds;
	double by_src[MODEL_MAX_SOURCES]; /* each guest-page curve's own W(T), as migrate lists */
};

struct model_result {
	bool converged, forced; /* forced: the round cap made it switch over */
	unsigned int nrounds;
	struct model_round round[MODEL_MAX_ROUNDS];
	double total_s, bytes, downtime_s;
	double dt_stop_s, dt_harvest_s, dt_ram_s, dt_dev_s, dt_dest_s;
	double final_pages, final_dev_bytes;
	double threshold_bytes; /* what pending must fit in */
	double floor_bytes;	/* the least pending any round reached */
	char why[200];		/* one line: why it converges or not */
};

/* W(T) of one curve, and of every guest-page curve together (at most RAM). */
double model_curve_at(const struct model_curve *c, double t_s);
double model_dirty_pages(const struct model_inputs *in, double t_s);

/* The prediction; 0, or -1 with why set when the inputs cannot be simulated. */
int model_predict(const struct model_inputs *in, struct model_result *out);

/* The same inputs with the measured curves and the link at their low and high ends. */
void model_range(const struct model_inputs *in, struct model_result *lo, struct model_result *hi);

/* Baselines: a constant dirty rate (geometric series), and QEMU's expected-downtime formula. */
int model_geometric(const struct model_inputs *in, struct model_result *out);
double model_qemu_expected_downtime(const struct model_inputs *in, const struct model_result *r);

/* The tuner: what would make a migration converge, each with its predicted outcome. */
struct model_tuning {
	bool needed;	      /* it does not converge as it is */
	double bandwidth_bps; /* the smallest cap that converges (0: none found) */
	double downtime_s;    /* the smallest downtime limit that converges */
	double vcpu_scale;    /* the largest share of the vCPUs' write rate that converges */
	int device;	      /* the device whose DMA rate matters most, or -1 */
	double device_scale;  /* the largest share of its rate that converges (0: none) */
	struct model_result at_bandwidth, at_downtime, at_vcpu, at_device;
};
void model_tune(const struct model_inputs *in, struct model_tuning *t);

/* A curve with its time axis sped up: what a write rate scaled by k does to W(T). */
void model_curve_scale_rate(struct model_curve *c, double k);

const char *model_engine_name(enum model_engine e);
const char *model_origin_name(enum model_origin o);

/* The prediction as vfmig-emu migrate --json's keys (and "version"), or as text. */
void model_print_json(FILE *f, const struct model_inputs *in, const struct model_result *r,
		      const struct model_result *lo, const struct model_result *hi, bool baselines);
void model_print_text(FILE *f, const struct model_inputs *in, const struct model_result *r,
		      const struct model_result *lo, const struct model_result *hi);
void model_print_tuning(FILE *f, const struct model_inputs *in, const struct model_tuning *t,
			bool json);

#endif
