// SPDX-License-Identifier: GPL-2.0
/* The FSM tests' fixture: see fixture_fsm.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/fixture_fsm.h"

const struct combo combos[4] = {
	{F_SC, "stop-copy"},
	{F_SC | F_P2P, "stop-copy+p2p"},
	{F_SC | F_PC, "stop-copy+pre-copy"},
	{F_SC | F_P2P | F_PC, "stop-copy+p2p+pre-copy"},
};

/* ---- the fixture, from the kernel's comment ------------------------------ */

struct arc {
	int8_t from, to;
};

/* "The coding in this table requires the driver to implement the following FSM arcs" */
static const struct arc arcs_always[] = {
	{RES, STOP},
	{STOP, RES},
	{STOP, SC},
	{SC, STOP},
};

/* "If P2P is supported then the driver must also implement these FSM arcs" */
static const struct arc arcs_p2p[] = {
	{RUN, P2P},
	{P2P, RUN},
	{P2P, STOP},
	{STOP, P2P},
};

/* "If precopy is supported then the driver must support these additional FSM arcs" */
static const struct arc arcs_precopy[] = {
	{RUN, PC},
	{PC, RUN},
	{PC, SC},
};

/* "if precopy and P2P are supported together ... these additional arcs beyond the P2P arcs" */
static const struct arc arcs_p2p_precopy[] = {
	{PC, RUN}, {PC, PCP}, {PCP, PC}, {PCP, P2P}, {PCP, SC}, {RUN, PC}, {P2P, PCP},
};

/*
 * "Without P2P and precopy the driver must implement". Read as "without
 * P2P": with PRE_COPY but no P2P, RUNNING -> STOP has no other path that
 * keeps saving states out of its interior (see fixture_sane).
 */
static const struct arc arcs_no_p2p[] = {
	{RUN, STOP},
	{STOP, RUN},
};

/* "if all optional features are supported, this means the following ones" */
const int8_t listed_paths[][6] = {
	{PC, PCP, SC, END},
	{PC, RUN, P2P, END},
	{PC, RUN, P2P, STOP, END},
	{PC, RUN, P2P, STOP, RES, END},
	{PCP, P2P, RUN, END},
	{PCP, P2P, STOP, END},
	{PCP, P2P, STOP, RES, END},
	{RES, STOP, P2P, END},
	{RES, STOP, P2P, PCP, END},
	{RES, STOP, P2P, RUN, END},
	{RES, STOP, P2P, RUN, PC, END},
	{RES, STOP, SC, END},
	{RUN, P2P, PCP, END},
	{RUN, P2P, STOP, END},
	{RUN, P2P, STOP, RES, END},
	{RUN, P2P, STOP, SC, END},
	{P2P, RUN, PC, END},
	{P2P, STOP, RES, END},
	{P2P, STOP, SC, END},
	{STOP, P2P, PCP, END},
	{STOP, P2P, RUN, END},
	{STOP, P2P, RUN, PC, END},
	{SC, STOP, RES, END},
	{SC, STOP, P2P, END},
	{SC, STOP, P2P, RUN, END},
};
const size_t nr_listed = sizeof(listed_paths) / sizeof(listed_paths[0]);

static bool in_arcs(const struct arc *arcs, size_t n, int from, int to)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (arcs[i].from == from && arcs[i].to == to)
			return true;
	}
	return false;
}

#define IN_ARCS(a, f, t) in_arcs(a, sizeof(a) / sizeof(a[0]), f, t)

bool fx_arc(uint32_t flags, int from, int to)
{
	if (IN_ARCS(arcs_always, from, to))
		return true;
	if ((flags & F_P2P) && IN_ARCS(arcs_p2p, from, to))
		return true;
	if (!(flags & F_P2P) && IN_ARCS(arcs_no_p2p, from, to))
		return true;
	if ((flags & F_PC) && !(flags & F_P2P) && IN_ARCS(arcs_precopy, from, to))
		return true;
	return (flags & F_PC) && (flags & F_P2P) && IN_ARCS(arcs_p2p_precopy, from, to);
}

/* uapi: which states a feature set offers; ERROR can never be requested. */
bool fx_supported(uint32_t flags, int s)
{
	if (!(flags & F_SC))
		return false;
	switch (s) {
	case STOP:
	case RUN:
	case SC:
	case RES:
		return true;
	case P2P:
		return flags & F_P2P;
	case PC:
		return flags & F_PC;
	case PCP:
		return (flags & F_PC) && (flags & F_P2P);
	default:
		return false;
	}
}

bool saving(int s)
{
	return s == PC || s == PCP || s == SC;
}

bool owns_stream(int s)
{
	return saving(s) || s == RES;
}

/* The requests the kernel refuses with EINVAL. */
bool fx_refused(uint32_t flags, int from, int to)
{
	if (from == ERR || to == ERR || !fx_supported(flags, to))
		return true;
	return from == SC && (to == PC || to == PCP);
}

/*
 * A state may be inside a path only if it is neither RESUMING nor in the
 * saving group; the one exception the kernel makes is moving inside the
 * saving group (PRE_COPY -> PRE_COPY_P2P -> STOP_COPY).
 */
static bool interior_ok(int from, int to, int s)
{
	if (s == RES)
		return false;
	if (saving(s))
		return saving(from) && saving(to);
	return true;
}

/* BFS over the implemented arcs under the interior rule: shortest length or -1. */
int fx_distance(uint32_t flags, int from, int to)
{
	int dist[EMU_NR_STATES], queue[EMU_NR_STATES];
	int head = 0, tail = 0, u, v;

	if (from == to)
		return 0;
	for (v = 0; v < EMU_NR_STATES; v++)
		dist[v] = -1;
	dist[from] = 0;
	queue[tail++] = from;
	while (head < tail) {
		u = queue[head++];
		if (u != from && !interior_ok(from, to, u))
			continue;
		for (v = 1; v < EMU_NR_STATES; v++) {
			if (dist[v] >= 0 || !fx_arc(flags, u, v))
				continue;
			dist[v] = dist[u] + 1;
			if (v == to)
				return dist[v];
			queue[tail++] = v;
		}
	}
	return -1;
}

/* path[0..n]: n arcs from path[0] to path[n]. */
bool fx_path_ok(uint32_t flags, const int *path, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!fx_arc(flags, path[i], path[i + 1]))
			return false;
		if (i > 0 && !interior_ok(path[0], path[n], path[i]))
			return false;
	}
	return true;
}

/* With every feature: the exact path, from the comment's list or a single arc; -1 if unknown. */
int fx_full_path(int from, int to, int *path)
{
	size_t i;
	int n;

	path[0] = from;
	if (from == to)
		return 0;
	if (fx_arc(ALL_FLAGS, from, to)) {
		path[1] = to;
		return 1;
	}
	for (i = 0; i < NR_LISTED; i++) {
		if (listed_paths[i][0] != from)
			continue;
		for (n = 0; listed_paths[i][n + 1] != END; n++)
			;
		if (listed_paths[i][n] != to)
			continue;
		for (n = 0; listed_paths[i][n] != END; n++)
			path[n] = listed_paths[i][n];
		return n - 1;
	}
	return -1;
}

/* ---- helpers --------------------------------------------------------------- */

char ctx[256];

const char *sn(int s)
{
	return vfio_state_name((mig_state)s);
}

struct emu_dev *new_dev(uint32_t flags)
{
	struct emu_dev_cfg cfg = {
		.variant = "bigmem",
		.mig_flags = flags,
		.params = "mem=64k,block=4k",
	};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev)
		fail_msg("emu_dev_create(bigmem, %#x): %s", flags, emu_last_error());
	return dev;
}

mig_state get_state(struct emu_dev *dev)
{
	mig_state st = (mig_state)0xff;

	CHECK_EQ(emu_get_state(dev, &st), 0);
	return st;
}

/* A complete saved stream of a bigmem identical to new_dev(flags), one per feature set. */
static uint8_t *streams[ALL_FLAGS + 1];
static size_t stream_len[ALL_FLAGS + 1];

const uint8_t *saved_stream(uint32_t flags, size_t *len)
{
	struct emu_dev *src;
	size_t cap = 0, n = 0;
	uint8_t *buf = NULL;
	ssize_t r;
	int fd = -1;

	if (!streams[flags]) {
		src = new_dev(flags);
		if (emu_set_state(src, SC, &fd) || fd < 0)
			fail_msg("saving a stream: %s", emu_dev_strerror(src));
		do {
			if (cap - n < 4096) {
				cap = cap ? cap * 2 : 65536;
				buf = realloc(buf, cap); // cppcheck-suppress memleakOnRealloc
				assert_non_null(buf);
			}
			r = emu_fd_read(fd, buf + n, cap - n);
			if (r < 0)
				fail_msg("reading the saved stream: errno %d", errno);
			n += r;
		} while (r > 0);
		emu_fd_close(fd);
		emu_dev_destroy(src);
		streams[flags] = buf;
		stream_len[flags] = n;
	}
	*len = stream_len[flags];
	return streams[flags];
}

void write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t r;

	while (len) {
		r = emu_fd_write(fd, buf, len);
		if (r <= 0)
			fail_msg("%s: writing the resume stream: %zd errno %d", ctx, r, errno);
		buf += r;
		len -= r;
	}
}

/* Puts the device in ERROR: an arc of RUNNING -> RESUMING fails, and so does the way back. */
static void reach_error(struct emu_dev *dev)
{
	int fd = -1;

	emu_dev_inject_arc_failure(dev, 2, EIO, 2);
	CHECK_EQ(emu_set_state(dev, RES, &fd), -1);
	CHECK_EQ(fd, -1);
	CHECK_EQ(get_state(dev), ERR);
}

/*
 * Takes a fresh device (RUNNING) to from; returns the data_fd that handed out
 * (-1 if none). A RESUMING device gets a whole valid stream written.
 */
static int reach(struct emu_dev *dev, uint32_t flags, int from)
{
	const uint8_t *stream;
	size_t len;
	int fd = -1;

	if (from == ERR) {
		reach_error(dev);
		return -1;
	}
	if (from != RUN) {
		if (emu_set_state(dev, (mig_state)from, &fd))
			fail_msg("%s: reaching %s: %s", ctx, sn(from), emu_dev_strerror(dev));
		CHECK_EQ(get_state(dev), from);
	}
	CHECK_EQ(fd >= 0, owns_stream(from));
	if (from == RES) {
		stream = saved_stream(flags, &len);
		write_all(fd, stream, len);
	}
	return fd;
}

/* Fresh device at from, optional injection, then SET to; what happened is in o. */
void request(uint32_t flags, int from, int to, unsigned int nth, unsigned int count,
	     struct outcome *o)
{
	uint64_t after;

	memset(o, 0, sizeof(*o));
	o->dev = new_dev(flags);
	o->fd_from = reach(o->dev, flags, from);
	if (nth)
		emu_dev_inject_arc_failure(o->dev, nth, EIO, count);
	o->steps_before = emu_dev_steps_total(o->dev);
	o->fd = 12345;
	errno = 0;
	o->ret = emu_set_state(o->dev, (mig_state)to, &o->fd);
	o->err = errno;
	o->st = get_state(o->dev);
	after = emu_dev_steps_total(o->dev);
	CHECK(after >= o->steps_before);
	o->n = after - o->steps_before;
	if (o->n > MAX_STEPS)
		fail_msg("%s: the request executed %zu arcs", ctx, o->n);
	CHECK_EQ(emu_dev_steps(o->dev, o->steps, o->n), o->n);
}

void finish(struct outcome *o)
{
	if (o->fd_from >= 0)
		CHECK_EQ(emu_fd_close(o->fd_from), 0);
	if (o->fd >= 0 && o->fd != o->fd_from)
		CHECK_EQ(emu_fd_close(o->fd), 0);
	emu_dev_destroy(o->dev);
	o->dev = NULL;
}

/* The logged steps as a path: checks they chain and all succeeded. */
int logged_path(const struct outcome *o, int from, int *path)
{
	size_t i;

	path[0] = from;
	for (i = 0; i < o->n; i++) {
		CHECK_EQ(o->steps[i].from, path[i]);
		CHECK_EQ(o->steps[i].result, 0);
		CHECK(o->steps[i].t_start_ns <= o->steps[i].t_end_ns);
		path[i + 1] = o->steps[i].to;
	}
	return (int)o->n;
}

const char *path_str(const int *path, int n)
{
	static char buf[160];
	size_t len = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i <= n && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " -> " : "", sn(path[i]));
	return buf;
}

/* A stream fd still serves its stream: a read (save) or a 0-byte check (resume) is not ENODEV. */
void fd_alive(int fd, int state)
{
	uint8_t b;
	ssize_t r;

	if (state != RES) {
		errno = 0;
		r = emu_fd_read(fd, &b, 1);
		CHECK(r >= 0 || errno == ENOMSG);
	}
}

/* A stream fd whose stream was ended: ENODEV on the operation of its kind. */
void fd_dead(int fd, int state)
{
	uint8_t b = 0;

	errno = 0;
	if (state == RES)
		CHECK_EQ(emu_fd_write(fd, &b, 1), -1);
	else
		CHECK_EQ(emu_fd_read(fd, &b, 1), -1);
	CHECK_EQ(errno, ENODEV);
}

/* Walks emu_mig_next_state() from from to to; returns arcs, or fails. */
int next_state_path(uint32_t flags, int from, int to, int *path)
{
	mig_state next;
	int n = 0, ret;

	path[0] = from;
	while (path[n] != to) {
		if (n == EMU_NR_STATES)
			fail_msg("%s: emu_mig_next_state() does not reach %s: %s", ctx, sn(to),
				 path_str(path, n));
		next = (mig_state)0xff;
		ret = emu_mig_next_state(flags, (mig_state)path[n], (mig_state)to, &next);
		CHECK_EQ(ret, 0);
		path[++n] = next;
	}
	return n;
}

static void hang_alarm(int sig)
{
	static const char msg[] = ": timed out: an FSM request never returned (hang)\n";
	const char *prog = program_invocation_short_name;

	(void)sig;
	if (write(2, prog, strlen(prog)) < 0 || write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

int fsm_group_setup(void **state)
{
	(void)state;
	signal(SIGALRM, hang_alarm);
	alarm(18);
	return 0;
}

int fsm_group_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i <= ALL_FLAGS; i++)
		free(streams[i]);
	return 0;
}
