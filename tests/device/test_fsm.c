// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated device's migration state machine, checked against a fixture
 * that is independent of user/emu/fsm.c: the arcs a driver must implement
 * per feature set and the multi-step paths, both transcribed from the
 * comment in vfio_mig_get_next_state() (drivers/vfio/vfio_main.c, Linux
 * 6.12), and the path rules of include/uapi/linux/vfio.h (shortest path, no
 * saving-group state or RESUMING inside a path), computed here by BFS.
 *
 * Every request of every valid feature combination is driven on a fresh
 * device, with and without injected arc failures, and the executed arcs are
 * read back from the device's step log.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static const struct combo combos[] = {
	{F_SC, "stop-copy"},
	{F_SC | F_P2P, "stop-copy+p2p"},
	{F_SC | F_PC, "stop-copy+pre-copy"},
	{F_SC | F_P2P | F_PC, "stop-copy+p2p+pre-copy"},
};

#define ALL_FLAGS (F_SC | F_P2P | F_PC)

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
static const int8_t listed_paths[][6] = {
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
#define NR_LISTED (sizeof(listed_paths) / sizeof(listed_paths[0]))

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

static bool fx_arc(uint32_t flags, int from, int to)
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
static bool fx_supported(uint32_t flags, int s)
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

static bool saving(int s)
{
	return s == PC || s == PCP || s == SC;
}

static bool owns_stream(int s)
{
	return saving(s) || s == RES;
}

/* The requests the kernel refuses with EINVAL. */
static bool fx_refused(uint32_t flags, int from, int to)
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
static int fx_distance(uint32_t flags, int from, int to)
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
static bool fx_path_ok(uint32_t flags, const int *path, int n)
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
static int fx_full_path(int from, int to, int *path)
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

static char ctx[256];

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

static const char *sn(int s)
{
	return vfio_state_name((mig_state)s);
}

static struct emu_dev *new_dev(uint32_t flags)
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

static mig_state get_state(struct emu_dev *dev)
{
	mig_state st = (mig_state)0xff;

	CHECK_EQ(emu_get_state(dev, &st), 0);
	return st;
}

/* A complete saved stream of a bigmem identical to new_dev(flags), one per feature set. */
static uint8_t *streams[ALL_FLAGS + 1];
static size_t stream_len[ALL_FLAGS + 1];

static const uint8_t *saved_stream(uint32_t flags, size_t *len)
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

static void write_all(int fd, const uint8_t *buf, size_t len)
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

struct outcome {
	struct emu_dev *dev;
	int fd_from, fd, ret, err;
	mig_state st;
	size_t n; /* steps the request logged */
	struct emu_step steps[MAX_STEPS];
	uint64_t steps_before;
};

/* Fresh device at from, optional injection, then SET to; what happened is in o. */
static void request(uint32_t flags, int from, int to, unsigned int nth, unsigned int count,
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

static void finish(struct outcome *o)
{
	if (o->fd_from >= 0)
		CHECK_EQ(emu_fd_close(o->fd_from), 0);
	if (o->fd >= 0 && o->fd != o->fd_from)
		CHECK_EQ(emu_fd_close(o->fd), 0);
	emu_dev_destroy(o->dev);
	o->dev = NULL;
}

/* The logged steps as a path: checks they chain and all succeeded. */
static int logged_path(const struct outcome *o, int from, int *path)
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

static const char *path_str(const int *path, int n)
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
static void fd_alive(int fd, int state)
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
static void fd_dead(int fd, int state)
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
static int next_state_path(uint32_t flags, int from, int to, int *path)
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
	static const char msg[] = "test_fsm: timed out: an FSM request never returned (hang)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* ---- tests ----------------------------------------------------------------- */

/* The fixture agrees with itself and with the uapi's state list. */
static void fixture_sane(void **state)
{
	int path[EMU_NR_STATES + 1];
	const struct combo *c;
	int from, to, n, d;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		c = &combos[i];
		for (from = 0; from < EMU_NR_STATES; from++) {
			for (to = 0; to < EMU_NR_STATES; to++) {
				CTX("%s: %s -> %s", c->name, sn(from), sn(to));
				if (fx_arc(c->flags, from, to))
					CHECK(fx_supported(c->flags, from) &&
					      fx_supported(c->flags, to));
				if (from == to || !fx_supported(c->flags, from) ||
				    fx_refused(c->flags, from, to))
					continue;
				/* every request the kernel accepts has a path under the rules */
				CHECK(fx_distance(c->flags, from, to) > 0);
			}
		}
	}
	/* with every feature each accepted request's path is known exactly */
	for (from = 1; from < EMU_NR_STATES; from++) {
		for (to = 1; to < EMU_NR_STATES; to++) {
			CTX("all: %s -> %s", sn(from), sn(to));
			if (fx_refused(ALL_FLAGS, from, to))
				continue;
			n = fx_full_path(from, to, path);
			d = fx_distance(ALL_FLAGS, from, to);
			CHECK(n >= 0);
			CHECK_EQ(n, d);
			CHECK(fx_path_ok(ALL_FLAGS, path, n));
		}
	}
	for (i = 0; i < NR_LISTED; i++) {
		for (j = 0; listed_paths[i][j] != END; j++)
			;
		CTX("listed %zu", i);
		CHECK(j >= 3);
		CHECK(!fx_arc(ALL_FLAGS, listed_paths[i][0], listed_paths[i][j - 1]));
	}
}

static void state_supported(void **state)
{
	const struct combo *c = *state;
	int s;

	for (s = 0; s < NR_REQ; s++) {
		CTX("%s: %s (%d)", c->name, sn(s), s);
		CHECK_EQ(emu_state_supported(c->flags, (mig_state)s), fx_supported(c->flags, s));
	}
	CHECK(!emu_state_supported(c->flags, (mig_state)0x7fffffff));
}

static void flags_valid(void **state)
{
	uint32_t f;

	(void)state;
	for (f = 0; f < 64; f++) {
		CTX("flags %#x", f);
		CHECK_EQ(emu_mig_flags_valid(f), (f & F_SC) && !(f & ~ALL_FLAGS));
	}
	CTX("flags high bit");
	CHECK(!emu_mig_flags_valid(F_SC | 0x80000000u));
}

/* Combinations the uapi does not define cannot be created. */
static void create_invalid(void **state)
{
	static const uint32_t bad[] = {
		F_P2P, F_PC, F_P2P | F_PC, 1u << 3, F_SC | (1u << 3), F_SC | 0x80000000u, ~0u,
	};
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=64k,block=4k"};
	struct emu_dev *dev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CTX("create with mig_flags %#x", bad[i]);
		cfg.mig_flags = bad[i];
		errno = 0;
		dev = emu_dev_create(&cfg);
		if (dev)
			emu_dev_destroy(dev);
		CHECK(dev == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	/* nic has no PRE_COPY */
	CTX("nic with PRE_COPY");
	cfg.variant = "nic";
	cfg.params = NULL;
	cfg.mig_flags = F_SC | F_PC;
	errno = 0;
	dev = emu_dev_create(&cfg);
	if (dev)
		emu_dev_destroy(dev);
	CHECK(dev == NULL);
	CHECK_EQ(errno, EINVAL);
	/*
	 * 0 is not a valid combination (emu_mig_flags_valid), but device.h
	 * documents cfg.mig_flags = 0 as "the variant's full set".
	 */
	CTX("mig_flags 0");
	CHECK(!emu_mig_flags_valid(0));
	cfg.variant = "bigmem";
	cfg.params = "mem=64k,block=4k";
	cfg.mig_flags = 0;
	dev = emu_dev_create(&cfg);
	CHECK(dev != NULL);
	CHECK_EQ(emu_dev_mig_flags(dev), ALL_FLAGS);
	emu_dev_destroy(dev);
}

/* emu_mig_next_state() on every (cur, new), against the fixture. */
static void next_state_all(void **state)
{
	const struct combo *c = *state;
	int path[EMU_NR_STATES + 2], want[EMU_NR_STATES + 2];
	int cur, to, n, w, ret, i;
	mig_state next;

	for (cur = 0; cur < NR_REQ; cur++) {
		for (to = 0; to < NR_REQ; to++) {
			CTX("%s: emu_mig_next_state(%s, %s)", c->name, sn(cur), sn(to));
			next = (mig_state)0xff;
			ret = emu_mig_next_state(c->flags, (mig_state)cur, (mig_state)to, &next);
			if (!fx_supported(c->flags, cur) || fx_refused(c->flags, cur, to)) {
				CHECK_EQ(ret, -EINVAL);
				continue;
			}
			CHECK_EQ(ret, 0);
			if (cur == to) {
				CHECK_EQ(next, cur); /* the table's identity cell */
				continue;
			}
			n = next_state_path(c->flags, cur, to, path);
			CTX("%s: emu_mig_next_state %s", c->name, path_str(path, n));
			CHECK(fx_path_ok(c->flags, path, n));
			CHECK_EQ(n, fx_distance(c->flags, cur, to));
			if (c->flags == ALL_FLAGS) {
				w = fx_full_path(cur, to, want);
				CHECK_EQ(n, w);
				for (i = 0; i <= n; i++)
					CHECK_EQ(path[i], want[i]);
			}
		}
	}
	/* the kernel's hang: STOP_COPY -> PRE_COPY(_P2P) must come back EINVAL */
	CTX("%s: STOP_COPY -> PRE_COPY", c->name);
	CHECK_EQ(emu_mig_next_state(c->flags, SC, PC, &next), -EINVAL);
	CHECK_EQ(emu_mig_next_state(c->flags, SC, PCP, &next), -EINVAL);
}

/* Every SET of every (FROM, TO) on the device, against the fixture. */
static void device_requests(void **state)
{
	const struct combo *c = *state;
	int path[MAX_STEPS + 1], want[MAX_STEPS + 1], npath[EMU_NR_STATES + 2];
	struct outcome o;
	int from, to, n, w, i;
	bool new_fd;

	for (from = 0; from < EMU_NR_STATES; from++) {
		if (from != ERR && !fx_supported(c->flags, from))
			continue;
		for (to = 0; to < NR_REQ; to++) {
			CTX("%s: SET %s -> %s (%d)", c->name, sn(from), sn(to), to);
			request(c->flags, from, to, 0, 0, &o);
			if (fx_refused(c->flags, from, to)) {
				CHECK_EQ(o.ret, -1);
				CHECK_EQ(o.err, EINVAL);
				CHECK_EQ(o.fd, -1);
				CHECK_EQ(o.st, from);
				CHECK_EQ(o.n, 0);
				if (o.fd_from >= 0)
					fd_alive(o.fd_from, from);
				finish(&o);
				continue;
			}
			if (o.ret)
				fail_msg("%s: failed, errno %d: %s", ctx, o.err,
					 emu_dev_strerror(o.dev));
			CHECK_EQ(o.st, to);
			n = logged_path(&o, from, path);
			CTX("%s: SET %s -> %s: path %s", c->name, sn(from), sn(to),
			    path_str(path, n));
			CHECK_EQ(path[n], to);
			CHECK(fx_path_ok(c->flags, path, n));
			CHECK_EQ(n, fx_distance(c->flags, from, to));
			if (c->flags == ALL_FLAGS) {
				w = fx_full_path(from, to, want);
				CHECK_EQ(n, w);
				for (i = 0; i <= n; i++)
					CHECK_EQ(path[i], want[i]);
			}
			if (from != to) {
				/* the device walks the path emu_mig_next_state() gives */
				CHECK_EQ(next_state_path(c->flags, from, to, npath), n);
				for (i = 0; i <= n; i++)
					CHECK_EQ(npath[i], path[i]);
			}
			/* a data_fd exactly when entering the saving group or RESUMING */
			new_fd = from != to && (to == RES || (saving(to) && !saving(from)));
			CHECK_EQ(o.fd >= 0, new_fd);
			if (o.fd >= 0)
				fd_alive(o.fd, to);
			if (o.fd_from >= 0 && from != to) {
				if (saving(from) && saving(to))
					fd_alive(o.fd_from, from);
				else
					fd_dead(o.fd_from, from);
			}
			finish(&o);
		}
	}
}

/* The comment's multi-step paths, each driven and compared arc by arc. */
static void listed_paths_exact(void **state)
{
	int path[MAX_STEPS + 1];
	struct outcome o;
	size_t i, j;
	int n;

	(void)state;
	for (i = 0; i < NR_LISTED; i++) {
		for (j = 0; listed_paths[i][j + 1] != END; j++)
			;
		CTX("listed path %zu: %s -> %s", i, sn(listed_paths[i][0]), sn(listed_paths[i][j]));
		request(ALL_FLAGS, listed_paths[i][0], listed_paths[i][j], 0, 0, &o);
		CHECK_EQ(o.ret, 0);
		n = logged_path(&o, listed_paths[i][0], path);
		CHECK_EQ(n, (int)j);
		for (j = 0; j <= (size_t)n; j++)
			CHECK_EQ(path[j], listed_paths[i][j]);
		finish(&o);
	}
}

/* After ERROR: SET refused, GET says ERROR, RESET gives RUNNING and a working device. */
static void check_error_state(struct emu_dev *dev)
{
	uint64_t steps = emu_dev_steps_total(dev);
	int s, fd;

	CHECK_EQ(get_state(dev), ERR);
	for (s = 0; s < NR_REQ; s++) {
		fd = 777;
		errno = 0;
		CHECK_EQ(emu_set_state(dev, (mig_state)s, &fd), -1);
		CHECK_EQ(errno, EINVAL);
		CHECK_EQ(fd, -1);
		CHECK_EQ(get_state(dev), ERR);
	}
	CHECK_EQ(emu_dev_steps_total(dev), steps);
	/* an injection not used up (no way back was walked) would outlive the reset */
	emu_dev_inject_arc_failure(dev, 0, 0, 0);
	CHECK_EQ(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
	CHECK_EQ(get_state(dev), RUN);
	CHECK_EQ(emu_set_state(dev, STOP, &fd), 0);
	CHECK_EQ(get_state(dev), STOP);
}

/* An arc failure at every step of every request: walked back to FROM, or ERROR. */
static void fault_injection(void **state)
{
	const struct combo *c = *state;
	int path[MAX_STEPS + 1], back[MAX_STEPS + 1];
	int from, to, n, k, i, nb, want;
	unsigned int count;
	bool lost, walk;
	struct outcome o;

	for (from = 1; from < EMU_NR_STATES; from++) {
		if (!fx_supported(c->flags, from))
			continue;
		for (to = 1; to < EMU_NR_STATES; to++) {
			if (to == from || fx_refused(c->flags, from, to))
				continue;
			/* the path, from a request without faults */
			CTX("%s: SET %s -> %s", c->name, sn(from), sn(to));
			request(c->flags, from, to, 0, 0, &o);
			CHECK_EQ(o.ret, 0);
			n = logged_path(&o, from, path);
			CHECK(fx_path_ok(c->flags, path, n));
			finish(&o);
			for (k = 1; k <= n; k++) {
				/* the stream FROM owned ended on an executed arc? */
				lost = false;
				for (i = 1; i < k; i++) {
					if (owns_stream(from) &&
					    !(path[i] == from || (saving(from) && saving(path[i]))))
						lost = true;
				}
				walk = !lost && k > 1;
				for (count = 1; count <= 2; count++) {
					CTX("%s: SET %s, arc %d of %d fails (count %u)", c->name,
					    path_str(path, n), k, n, count);
					request(c->flags, from, to, k, count, &o);
					CHECK_EQ(o.ret, -1);
					CHECK_EQ(o.err, EIO);
					CHECK_EQ(o.fd, -1);
					/* arcs before k logged as done, arc k logged with -EIO */
					CHECK(o.n >= (size_t)k);
					for (i = 0; i < k; i++) {
						CHECK_EQ(o.steps[i].from, path[i]);
						CHECK_EQ(o.steps[i].to, path[i + 1]);
						CHECK_EQ(o.steps[i].result, i == k - 1 ? -EIO : 0);
					}
					if (count == 1)
						want = lost ? ERR : from;
					else
						want = (lost || walk) ? ERR : from;
					CHECK_EQ(o.st, want);
					if (count == 1 && walk) {
						/* the way back: done arcs, shortest, to FROM */
						nb = (int)o.n - k;
						back[0] = path[k - 1];
						for (i = 0; i < nb; i++) {
							CHECK_EQ(o.steps[k + i].from, back[i]);
							CHECK_EQ(o.steps[k + i].result, 0);
							back[i + 1] = o.steps[k + i].to;
						}
						CHECK_EQ(back[nb], from);
						CHECK(fx_path_ok(c->flags, back, nb));
						CHECK_EQ(nb, fx_distance(c->flags, back[0], from));
					}
					if (count == 2 && walk) {
						/* the first arc back failed too */
						CHECK(o.n > (size_t)k);
						CHECK_EQ(o.steps[k].from, path[k - 1]);
						CHECK_EQ(o.steps[k].result, -EIO);
					}
					if (want == ERR) {
						check_error_state(o.dev);
					} else if (count == 1) {
						if (o.fd_from >= 0)
							fd_alive(o.fd_from, from);
						/* nothing changed: the same request now goes through */
						o.fd = -1;
						CHECK_EQ(emu_set_state(o.dev, (mig_state)to, &o.fd),
							 0);
						CHECK_EQ(get_state(o.dev), to);
					}
					finish(&o);
				}
			}
		}
	}
}

/* RESET from every state: RUNNING, and every data_fd handed out before is dead. */
static void reset_all(void **state)
{
	const struct combo *c = *state;
	const uint8_t *stream;
	uint8_t buf[4096];
	struct emu_dev *dev;
	int s, fd, fd2;
	size_t len;
	ssize_t r;

	for (s = 0; s < EMU_NR_STATES; s++) {
		if (s != ERR && !fx_supported(c->flags, s))
			continue;
		CTX("%s: RESET in %s", c->name, sn(s));
		dev = new_dev(c->flags);
		fd = -1;
		if (s == ERR) {
			/* hold a saving fd, then lose the stream on a failed request */
			CHECK_EQ(emu_set_state(dev, SC, &fd), 0);
			emu_dev_inject_arc_failure(dev, 2, EIO, 1);
			CHECK_EQ(emu_set_state(dev, RUN, NULL), -1);
			CHECK_EQ(get_state(dev), ERR);
		} else if (s != RUN) {
			CHECK_EQ(emu_set_state(dev, (mig_state)s, &fd), 0);
		}
		CHECK_EQ(fd >= 0, owns_stream(s) || s == ERR);
		if (saving(s)) {
			CHECK(emu_fd_read(fd, buf, 100) > 0); /* part of a stream */
		} else if (s == RES) {
			stream = saved_stream(c->flags, &len);
			write_all(fd, stream, len / 2);
		}
		CHECK_EQ(emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL), 0);
		CHECK_EQ(get_state(dev), RUN);
		if (fd >= 0) {
			fd_dead(fd, s == ERR ? SC : s);
			/* also the other direction fails */
			CHECK_EQ(s == RES ? emu_fd_read(fd, buf, 1) : emu_fd_write(fd, buf, 1), -1);
			CHECK_EQ(emu_fd_close(fd), 0);
			errno = 0;
			CHECK_EQ(emu_fd_close(fd), -1);
			CHECK_EQ(errno, EBADF);
		}
		/* the device works again: a whole save */
		CHECK_EQ(emu_set_state(dev, SC, &fd2), 0);
		CHECK(fd2 >= 0);
		do {
			r = emu_fd_read(fd2, buf, sizeof(buf));
			CHECK(r >= 0);
		} while (r > 0);
		CHECK_EQ(emu_fd_close(fd2), 0);
		emu_dev_destroy(dev);
	}
}

/* The step log: arcs as (from, to, result), oldest first, with times. */
static void step_log(void **state)
{
	struct emu_step steps[8], last;
	struct emu_dev *dev;
	uint64_t before;
	int fd = -1;

	(void)state;
	CTX("step log");
	dev = new_dev(ALL_FLAGS);
	CHECK_EQ(emu_dev_steps_total(dev), 0);
	CHECK_EQ(emu_dev_steps(dev, steps, 8), 0);
	CHECK_EQ(emu_set_state(dev, SC, &fd), 0);
	CHECK_EQ(emu_dev_steps_total(dev), 3);
	CHECK_EQ(emu_dev_steps(dev, steps, 8), 3);
	CHECK_EQ(steps[0].from, RUN);
	CHECK_EQ(steps[0].to, P2P);
	CHECK_EQ(steps[1].from, P2P);
	CHECK_EQ(steps[1].to, STOP);
	CHECK_EQ(steps[2].from, STOP);
	CHECK_EQ(steps[2].to, SC);
	CHECK(steps[0].t_start_ns <= steps[0].t_end_ns);
	CHECK(steps[0].t_end_ns <= steps[1].t_start_ns);
	CHECK(steps[1].t_end_ns <= steps[2].t_start_ns);
	CHECK(steps[2].t_start_ns <= steps[2].t_end_ns);
	/* max keeps the most recent */
	CHECK_EQ(emu_dev_steps(dev, &last, 1), 1);
	CHECK_EQ(last.from, STOP);
	CHECK_EQ(last.to, SC);
	/* a failing arc is logged with its -errno, then the walk back */
	CHECK_EQ(emu_set_state(dev, STOP, NULL), 0);
	before = emu_dev_steps_total(dev);
	emu_dev_inject_arc_failure(dev, 2, EIO, 1);
	CHECK_EQ(emu_set_state(dev, RUN, NULL), -1);
	CHECK_EQ(emu_dev_steps_total(dev) - before, 3);
	CHECK_EQ(emu_dev_steps(dev, steps, 3), 3);
	CHECK_EQ(steps[0].from, STOP);
	CHECK_EQ(steps[0].to, P2P);
	CHECK_EQ(steps[0].result, 0);
	CHECK_EQ(steps[1].from, P2P);
	CHECK_EQ(steps[1].to, RUN);
	CHECK_EQ(steps[1].result, -EIO);
	CHECK_EQ(steps[2].from, P2P);
	CHECK_EQ(steps[2].to, STOP);
	CHECK_EQ(steps[2].result, 0);
	CHECK_EQ(get_state(dev), STOP);
	CHECK_EQ(emu_fd_close(fd), 0);
	emu_dev_destroy(dev);
}

#define PER_COMBO(f, i)                                      \
	{                                                    \
#f "/" #i, f, NULL, NULL, (void *)&combos[i] \
	}
#define FOR_COMBOS(f) PER_COMBO(f, 0), PER_COMBO(f, 1), PER_COMBO(f, 2), PER_COMBO(f, 3)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_sane),
		cmocka_unit_test(flags_valid),
		cmocka_unit_test(create_invalid),
		FOR_COMBOS(state_supported),
		FOR_COMBOS(next_state_all),
		FOR_COMBOS(device_requests),
		cmocka_unit_test(listed_paths_exact),
		FOR_COMBOS(fault_injection),
		FOR_COMBOS(reset_all),
		cmocka_unit_test(step_log),
	};
	int ret;
	size_t i;

	signal(SIGALRM, hang_alarm);
	alarm(18);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	for (i = 0; i <= ALL_FLAGS; i++)
		free(streams[i]);
	return ret;
}
