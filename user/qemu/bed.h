/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real-QEMU bed: qemu-system-x86_64 (TCG) processes running the dirtier
 * guest (scripts/qemu-guest.sh), and a migration between two of them over a
 * unix socket, timed by QEMU itself. A QEMU started here dies with its parent.
 */
#ifndef VFMIG_QEMU_BED_H
#define VFMIG_QEMU_BED_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "qemu/qmp.h"

/*
 * Guest RAM is ram_mib plus one page. QEMU before 9.0 loses TCG writes after
 * the first dirty-bitmap sync: cpu_physical_memory_sync_dirty_bitmap's fast
 * path (taken when a RAMBlock's offset and length are multiples of 64 pages)
 * clears the migration bits without tlb_reset_dirty_range_all, so pages the
 * vCPU keeps writing through its TLB are never sent again and the destination
 * crashes (fixed upstream by "physmem: Fix migration dirty bitmap coherency
 * with TCG memory access", March 2024). An odd-sized RAMBlock takes the slow
 * path, cpu_physical_memory_test_and_clear_dirty, which resets the TLB.
 * Measured here: with 256 MiB the destination guest oopsed in every run, with
 * 256 MiB + 4 KiB it ran on in every run; setup-time grows from ~2 to ~130 ms.
 */
#define QEMU_BED_RAM_PAD_KIB 4

struct qemu_guest {
	const char *kernel, *initrd;
	unsigned ram_mib;   /* 128 or more: calc-dirty-rate samples no smaller RAMBlock */
	unsigned long rate; /* pages/s the dirtier writes */
	unsigned wss_mib;
	const char *shape; /* seq, uniform or hot */
};

struct qemu_vm {
	pid_t pid;
	char qmp_path[108];
	char tool_qmp_path
		[108]; /* a second monitor, free for a tool while the bed holds the first */
	char console[PATH_MAX]; /* the guest's serial console, a file */
	char log[PATH_MAX];	/* QEMU's own stderr */
	struct qmp qmp;
};

/*
 * Start a QEMU in dir named name: running the guest, or, with incoming, waiting
 * for an incoming migration (-incoming defer). Connected to its QMP socket on
 * return. 0, or -1 with err (then nothing is left running).
 */
int qemu_vm_start(struct qemu_vm *vm, const char *dir, const char *name, const struct qemu_guest *g,
		  bool incoming, char *err, size_t len);
/* Wait until the guest's console holds needle. 0, or -1 with err. */
int qemu_vm_wait_console(struct qemu_vm *vm, const char *needle, int timeout_ms, char *err,
			 size_t len);
/* quit through QMP, SIGKILL when that does not end it; always reaped. */
void qemu_vm_stop(struct qemu_vm *vm);

struct qemu_migrate_opts {
	uint64_t max_bandwidth;	    /* bytes/s; 0 leaves QEMU's */
	unsigned downtime_limit_ms; /* 0 leaves QEMU's */
	unsigned limit_s;	    /* cancelled when still active after max(60 s, limit_s) */
	unsigned sample_ms;	    /* query-migrate period; 0: 100 */
};

/* One query-migrate sample of the source while it migrates. */
struct qemu_mig_sample {
	long t_ms; /* since migrate was sent */
	char status[24];
	int64_t expected_downtime_ms; /* -1: not reported */
	uint64_t transferred, remaining, dirty_sync_count, dirty_pages_rate;
	double mbps; /* the bandwidth QEMU measured over its last ~100 ms, which its estimate uses */
};

/* What QEMU reports at the end (query-migrate "completed"), and the samples. */
struct qemu_migration {
	bool converged, cancelled;
	char status[24];
	int64_t total_ms, downtime_ms, setup_ms;
	uint64_t transferred, total, duplicate, normal, dirty_sync_count;
	double mbps;
	double stop_ts, resume_ts; /* STOP on the source, RESUME on the destination (QEMU time) */
	struct qemu_mig_sample *samples; /* malloc'd; free with qemu_migration_free */
	unsigned nsamples;
};

/* max-bandwidth and downtime-limit as o says (0 leaves QEMU's), the events capability on. */
int qemu_set_migration_params(struct qmp *q, const struct qemu_migrate_opts *o);

/*
 * Migrate src to dst (started with incoming) over a unix socket in dir.
 * 0 when the migration ended (completed, or cancelled at the limit: see
 * m->converged), -1 with err when it could not run or QEMU failed it.
 */
int qemu_migrate(struct qemu_vm *src, struct qemu_vm *dst, const char *dir,
		 const struct qemu_migrate_opts *o, struct qemu_migration *m, char *err,
		 size_t len);
void qemu_migration_free(struct qemu_migration *m);

#endif
