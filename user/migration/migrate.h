/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration driver: iterative pre-copy of dirty guest RAM and device
 * pre-copy data, switchover when what is pending fits in bandwidth x the
 * downtime limit (and the devices' initial bytes are sent), stop-copy,
 * resume on the destination, and verification that the destination's RAM
 * and device state equal the source's at stop.
 *
 * Until the destination acknowledges that it loaded everything (the commit
 * point), any failure returns the source to RUNNING with its memory and
 * device state intact; after it, the source stays stopped.
 */
#ifndef VFMIG_MIGRATION_MIGRATE_H
#define VFMIG_MIGRATION_MIGRATE_H

#include "migration/vm.h"
#include "migration/wire.h"

#define MIG_MAX_ROUNDS 256

struct mig_opts {
	uint64_t bandwidth;   /* bytes/s cap, 0: none */
	uint64_t downtime_ns; /* the downtime limit */
	unsigned int max_rounds;
	bool to_file;	    /* no peer: nobody answers, the file is the destination */
	bool drop_one_page; /* test hook: lose one dirty page of the last round */
};

struct mig_round {
	uint64_t ram_pages;			   /* pages sent */
	uint64_t dirty_by_src[1 + VM_MAX_DEVICES]; /* harvested: vCPU, then each device */
	uint64_t dev_bytes;			   /* device pre-copy bytes sent */
	uint64_t pending;			   /* bytes pending at the round's start */
	uint64_t bytes, ns;
	double bandwidth; /* measured, bytes/s */
};

struct mig_summary {
	unsigned int nrounds;
	struct mig_round rounds[MIG_MAX_ROUNDS];
	bool converged, verified, committed;
	uint64_t total_ns, bytes;
	/* downtime: source pause to destination RUNNING, and its parts */
	uint64_t downtime_ns;
	bool downtime_exact; /* both ends on one clock */
	/* CLOCK_MONOTONIC: the source asked its vCPUs to pause; the destination to run (0: not
	 * on this clock) */
	uint64_t paused_at_ns, running_at_ns;
	uint64_t stop_ns, final_harvest_ns, final_ram_ns, final_dev_ns, dest_ns;
	uint64_t final_sync_ns; /* file target: fsync */
	uint64_t final_pages, final_dev_bytes;
	uint64_t verify_ns;			/* digests on both ends, excluded from downtime */
	uint64_t dev_data_size[VM_MAX_DEVICES]; /* MIG_DATA_SIZE at switchover */
	struct vm_arcs src_arcs, dst_arcs;	/* each end's devices' own step logs */
	bool dst_arcs_known;			/* a peer sent them */
	char error[256];
};

/* Source side: migrates vm over fd. 0, or -errno with rep->error saying why. */
int mig_source(struct vm *vm, int fd, const struct mig_opts *o, struct mig_summary *rep);

struct mig_dest_report {
	struct vm_cfg cfg;
	struct vm_arcs arcs;
	bool verified;
	uint64_t bytes, pages, dev_bytes, load_ns, verify_ns;
	char error[256];
};

/* Destination hooks for failure tests: the process kills itself at that point. */
enum mig_die { MIG_DIE_NEVER, MIG_DIE_HELLO, MIG_DIE_PRECOPY, MIG_DIE_SWITCHOVER, MIG_DIE_END };

/*
 * Destination side: builds the VM the source describes, loads it, runs it.
 * *out receives the running VM (the caller destroys it). from_file: no replies.
 */
int mig_destination(int fd, bool from_file, enum mig_die die, struct vm **out,
		    struct mig_dest_report *rep);

#endif
