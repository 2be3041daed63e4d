/* SPDX-License-Identifier: GPL-2.0 */
/* The model's inputs for a migration vfmig-emu would run (source 1 of a prediction). */
#ifndef VFMIG_MIGRATION_PREDICT_H
#define VFMIG_MIGRATION_PREDICT_H

#include "migration/vm.h"
#include "model/model.h"

/* The migration's own parameters. */
struct predict_link {
	double cap_bps;	   /* 0: none */
	double downtime_s; /* the limit */
	unsigned int max_rounds;
};

/* What this host's driver costs, measured on scratch memory (about 50 ms). */
struct predict_costs {
	double link_bps;	 /* a unix socket, pages gathered as the driver sends them */
	double hash_bps;	 /* XXH3 over RAM: the verification on each end */
	double harvest_bps;	 /* PAGEMAP_SCAN over tracked RAM */
	double setup_s_per_byte; /* RAM built and tracking started, per byte */
	double link_spread;	 /* (max - min) / median of the link's samples */
	double cost_spread;	 /* likewise of the hashing and harvest samples */
};

void predict_measure_costs(struct predict_costs *c);
/* The driver's costs into inputs whose RAM is set: link, set-up, harvest, verification. */
void predict_apply_costs(const struct predict_costs *c, struct model_inputs *in);
int predict_inputs(const struct vm_cfg *cfg, const struct predict_link *l,
		   const struct predict_costs *c, struct model_inputs *in);
/* Source 1 whole: the costs measured here (nothing forked, no VM touched), then the inputs. */
int predict_migration(const struct vm_cfg *cfg, double cap_bps, double downtime_s,
		      unsigned int max_rounds, struct model_inputs *in);

#endif
