/* SPDX-License-Identifier: GPL-2.0 */
/* Small system helpers every layer and tool shares: a clock, a whole write, a held child. */
#ifndef VFMIG_COMMON_SYS_H
#define VFMIG_COMMON_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The clock's time in ns (CLOCK_MONOTONIC, CLOCK_REALTIME, ...). */
uint64_t clock_ns(clockid_t id);

/* All of buf into fd, EINTR retried: 0, or -errno (-ENOSPC when write(2) takes nothing). */
int write_all(int fd, const void *buf, size_t len);

/*
 * A child that execs argv once told to (one byte on *go, then close it; closing
 * unwritten makes it exit 127), so that probes attach before it runs. tool
 * names the line it prints when exec fails. Returns its pid, or -1.
 */
pid_t spawn_held(char *const *argv, int *go, const char *tool);

#endif
