/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the migration tests share: destinations in child processes, a man in
 * the middle, VMs built for a test, and checks of a migration's outcome.
 *
 * Children (destinations, a proxy) are forked before the VM exists, while
 * this process has no thread: every test destroys its VM (joining the
 * vCPU and device threads) before it returns, teardown included.
 */
#ifndef VFMIG_FIXTURE_MIGRATE_H
#define VFMIG_FIXTURE_MIGRATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "device/device.h"
#include "memory/guest_mem.h"
#include "migration/migrate.h"
#include "migration/vm.h"
#include "migration/wire.h"

#define PG 4096ull
#define MB 1000000ull
#define MS 1000000ull
#define MAX_KIDS 4
#define TEST_ALARM 50 /* seconds: a hung migration kills the binary, it does not hang CI */
#define CHILD_ALARM 40

#define PROBE_OR_SKIP()                                    \
	do {                                               \
		char perr_[256];                           \
		if (guest_mem_probe(perr_, sizeof(perr_))) \
			VFMIG_SKIP("%s", perr_);           \
	} while (0)

/* Exit codes of a destination child. */
enum { DEST_VERIFIED = 0, DEST_DIFFERS = 1, DEST_FAILED = 2, DEST_NOT_RUNNING = 3 };

struct fx {
	pid_t pid[MAX_KIDS];
	int fd[MAX_KIDS]; /* this process's end of each child's socket */
	int status[MAX_KIDS];
	bool reaped[MAX_KIDS];
	int nkids;
	struct vm *vm;
	struct mig_summary *rep;
	int tmpfd[2];
};

/* A man in the middle: forwards both ways, corrupting or cutting the source's stream. */
struct mitm {
	uint32_t flip_dev; /* flip a byte in the middle of this device's first WIRE_DEV */
	bool flip;
	uint64_t cut_at; /* forward this many bytes of the source's stream, then hang up */
	/* parser of the source's stream */
	uint8_t hdr[sizeof(struct wire_hdr)];
	unsigned int hn;
	uint32_t type, dev;
	uint64_t len, off, total;
	bool flipped;
};

struct snap {
	uint64_t ram, dev[VM_MAX_DEVICES];
};

int group_setup(void **state);
int setup(void **state);
int teardown(void **state);

/* Destinations: each returns its index; call before the VM is created. */
int spawn_dest_limited(struct fx *f, enum mig_die die, uint64_t as_slack);
int spawn_dest(struct fx *f, enum mig_die die);
int spawn_dest_via(struct fx *f, struct mitm *m);
int child_exit(struct fx *f, int k);
bool child_killed(struct fx *f, int k);

/* VMs */
void cfg_init(struct vm_cfg *c, uint64_t mem, unsigned int vcpus, uint64_t rate, uint64_t wss);
void cfg_dev(struct vm_cfg *c, const char *spec);
struct vm *make_vm(struct fx *f, const struct vm_cfg *c, bool start);
void drop_vm(struct fx *f);
struct vm *quiet_vm(struct fx *f);
struct vm *busy_vm(struct fx *f);

/* Outcomes */
void snapshot(struct vm *vm, struct snap *s);
void assert_states(struct vm *vm, enum vfio_device_mig_state want);
void assert_intact(struct vm *vm, const struct snap *before);
void assert_live(struct vm *vm);
void print_rep(const char *what, const struct mig_summary *r);
void migrate_ok(struct fx *f, int k, const struct mig_opts *o, const char *what);
void migrate_fails(struct fx *f, int fd, const struct mig_opts *o, const char *what);

#endif
