/* SPDX-License-Identifier: GPL-2.0 */
/* What the probe tests share: the loaded probes, their setup and teardown, counter reads. */
#ifndef VFMIG_PROBE_TEST_H
#define VFMIG_PROBE_TEST_H

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "common/probe_util.h"
#include "common/vfmig_test.h"

#include "common/bitmap.h"
#include "probe/aggregate.h"

static struct vfmig_probes *probes;

/* Loads and attaches with o; as non-root loads nothing, and each test says why it skips. */
static inline int probes_setup(const struct probe_opts *o)
{
	char err[256];

	if (geteuid())
		return 0;
	if (probes_open(&probes, o, err, sizeof(err))) {
		fprintf(stderr, "probes_open: %s\n", err);
		return -1;
	}
	return 0;
}

/* Probes of this process with its own USDT notes (it links the emulated device). */
static inline int probes_setup_self(void)
{
	static char self[4096];
	struct probe_opts o = {.pid = getpid(), .binary = self};

	if (!realpath("/proc/self/exe", self))
		return -1;
	return probes_setup(&o);
}

/* A group's setup: the probes of this process, without a USDT target (syscalls, tracepoints). */
static inline int setup_pid(void **state)
{
	struct probe_opts o = {.pid = getpid()};

	(void)state;
	return probes_setup(&o);
}

/* A group's setup: the probes of this process with its own USDT notes. */
static inline int setup_self(void **state)
{
	(void)state;
	return probes_setup_self();
}

static inline int teardown(void **state)
{
	(void)state;
	probes_close(probes);
	return 0;
}

#define NEED_PROBES()                                                                         \
	do {                                                                                  \
		if (!probes)                                                                  \
			VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs"); \
	} while (0)

static inline uint64_t counter(int idx)
{
	return probe_counter(probes, idx);
}

/* The key the syscall decoders give this process's fd: (pid << 32 | fd). */
static inline uint64_t dev_of(int fd)
{
	return (uint64_t)getpid() << 32 | (unsigned int)fd;
}

/* CLOCK_MONOTONIC, the clock bpf_ktime_get_ns() reads. */
static inline uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

/* Keys of pid's in the map p keeps by (pid << 32 | fd). */
static inline int keys_of_pid(struct vfmig_probes *p, const char *map, pid_t pid)
{
	int mfd = probes_map_fd(p, map), n = 0;
	uint64_t key, next;
	void *prev = NULL;

	assert_true(mfd >= 0);
	while (!bpf_map_get_next_key(mfd, prev, &next)) {
		key = next;
		n += key >> 32 == (uint64_t)pid;
		prev = &key;
	}
	return n;
}

/* The same once none is left or 2 s passed: exit's tracepoint runs after a parent saw it. */
static inline int keys_left(struct vfmig_probes *p, const char *map, pid_t pid)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int i, n = keys_of_pid(p, map, pid);

	for (i = 0; n && i < 200; i++) {
		nanosleep(&ts, NULL);
		n = keys_of_pid(p, map, pid);
	}
	return n;
}

/*
 * A child that runs prepare(arg) (0: done), says so on *ready, waits for a
 * byte on *go, then execs sleep (exec true) or exits, its fds left open:
 * what the probes must forget without a close(2).
 */
static inline pid_t child_that_leaves(int (*prepare)(void *arg), void *arg, bool exec, int *ready,
				      int *go)
{
	int up[2], down[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe2(up, O_CLOEXEC), 0);
	assert_int_equal(pipe2(down, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (prepare(arg))
			_exit(3);
		if (write(up[1], "r", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(4);
		if (exec)
			execl("/bin/sleep", "sleep", "10", (char *)NULL);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	*ready = up[0];
	*go = down[1];
	return pid;
}

/* Every record waiting, handed to fn with s (len bytes) zeroed first. */
static inline void poll_into(void *s, size_t len, probe_event_fn fn)
{
	memset(s, 0, len);
	while (probes_poll(probes, 0, fn, s) > 0)
		;
}

/* The syscall decoders on prepared inputs (BPF_PROG_TEST_RUN): args = { fd, cmd, arg, ret }. */
static inline int run_decode(unsigned long cmd, const void *arg, long ret, int fd)
{
	uint64_t args[4] = {(unsigned int)fd, cmd, (uintptr_t)arg, (uint64_t)ret};

	return probes_test_run(probes, "test__decode", args, 4);
}

/* Fills words of a bitmap with a pseudo-random pattern from seed; returns its popcount. */
static inline uint64_t fill_bitmap(uint64_t *bm, size_t words, uint64_t seed)
{
	size_t i;

	for (i = 0; i < words; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		bm[i] = seed ^ (seed >> 29);
	}
	return bitmap_weight(bm, words * 64);
}

#endif
