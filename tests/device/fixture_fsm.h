/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the FSM tests share: a fixture independent of user/device's state
 * machine (the arcs a driver must implement per feature set and the
 * multi-step paths, transcribed from the comment in vfio_mig_get_next_state(),
 * drivers/vfio/vfio_main.c, Linux 6.12, and the path rules of
 * include/uapi/linux/vfio.h, computed by BFS), and requests driven on a fresh
 * device with their executed arcs read back from its step log.
 */
#ifndef VFMIG_FIXTURE_FSM_H
#define VFMIG_FIXTURE_FSM_H

#include <stdbool.h>

#include "common/vfmig_test.h"
#include "device/device.h"

/* States, short. */
#define ERR VFIO_DEVICE_STATE_ERROR
#define STOP VFIO_DEVICE_STATE_STOP
#define RUN VFIO_DEVICE_STATE_RUNNING
#define SC VFIO_DEVICE_STATE_STOP_COPY
#define RES VFIO_DEVICE_STATE_RESUMING
#define P2P VFIO_DEVICE_STATE_RUNNING_P2P
#define PC VFIO_DEVICE_STATE_PRE_COPY
#define PCP VFIO_DEVICE_STATE_PRE_COPY_P2P
#define END (-1)

/* Requests also use values past the enum. */
#define NR_REQ (EMU_NR_STATES + 2)
#define MAX_STEPS 16

#define F_SC VFIO_MIGRATION_STOP_COPY
#define F_P2P VFIO_MIGRATION_P2P
#define F_PC VFIO_MIGRATION_PRE_COPY

typedef enum vfio_device_mig_state mig_state;

struct combo {
	uint32_t flags;
	const char *name;
};

/* Every valid feature combination; a test run once per combination gets one as its state. */
extern const struct combo combos[4];
#define PER_COMBO(f, i)                                      \
	{                                                    \
#f "/" #i, f, NULL, NULL, (void *)&combos[i] \
	}
#define FOR_COMBOS(f) PER_COMBO(f, 0), PER_COMBO(f, 1), PER_COMBO(f, 2), PER_COMBO(f, 3)

#define ALL_FLAGS (F_SC | F_P2P | F_PC)

/* ---- the fixture, from the kernel's comment ---- */

/* The comment's multi-step paths with every feature, each ended by END. */
extern const int8_t listed_paths[][6];
extern const size_t nr_listed;
#define NR_LISTED nr_listed

bool fx_arc(uint32_t flags, int from, int to);
bool fx_supported(uint32_t flags, int s);
bool saving(int s);
bool owns_stream(int s);
bool fx_refused(uint32_t flags, int from, int to);
int fx_distance(uint32_t flags, int from, int to);
bool fx_path_ok(uint32_t flags, const int *path, int n);
int fx_full_path(int from, int to, int *path);

/* ---- helpers ---- */

/* What a failed check was doing: set with CTX() before the checks. */
extern char ctx[256];

#define CTX(...) snprintf(ctx, sizeof(ctx), __VA_ARGS__)
#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond))                                                              \
			fail_msg("%s: check failed: %s (line %d)", ctx, #cond, __LINE__); \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			fail_msg("%s: %s == %lld, expected %s == %lld (line %d)", ctx, #a, a_, #b, \
				 b_, __LINE__);                                                    \
	} while (0)

struct outcome {
	struct emu_dev *dev;
	int fd_from, fd, ret, err;
	mig_state st;
	size_t n; /* steps the request logged */
	struct emu_step steps[MAX_STEPS];
	uint64_t steps_before;
};

const char *sn(int s);
struct emu_dev *new_dev(uint32_t flags);
mig_state get_state(struct emu_dev *dev);
/* A complete saved stream of a bigmem identical to new_dev(flags), one per feature set. */
const uint8_t *saved_stream(uint32_t flags, size_t *len);
void write_all(int fd, const uint8_t *buf, size_t len);
/* Fresh device at from, optional injection, then SET to; what happened is in o. */
void request(uint32_t flags, int from, int to, unsigned int nth, unsigned int count,
	     struct outcome *o);
void finish(struct outcome *o);
int logged_path(const struct outcome *o, int from, int *path);
const char *path_str(const int *path, int n);
void fd_alive(int fd, int state);
void fd_dead(int fd, int state);
int next_state_path(uint32_t flags, int from, int to, int *path);
/* The group: a request that never returns ends the program with a message; saved streams freed. */
int fsm_group_setup(void **state);
int fsm_group_teardown(void **state);

#endif
