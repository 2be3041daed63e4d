// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated device's migration state machine, checked against a fixture
 * that is independent of user/device's FSM: the arcs a driver must implement
 * per feature set and the multi-step paths, both transcribed from the
 * comment in vfio_mig_get_next_state() (drivers/vfio/vfio_main.c, Linux
 * 6.12), and the path rules of include/uapi/linux/vfio.h (shortest path, no
 * saving-group state or RESUMING inside a path), computed by BFS
 * (fixture_fsm.c).
 *
 * Every request of every valid feature combination is driven on a fresh
 * device, and the executed arcs are read back from the device's step log.
 * The same requests with injected arc failures, and RESET, are in
 * test_fsm_faults.c.
 */
#include <errno.h>
#include <stdbool.h>

#include "device/fixture_fsm.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_sane),	      cmocka_unit_test(flags_valid),
		cmocka_unit_test(create_invalid),     FOR_COMBOS(state_supported),
		FOR_COMBOS(next_state_all),	      FOR_COMBOS(device_requests),
		cmocka_unit_test(listed_paths_exact), cmocka_unit_test(step_log),
	};

	return cmocka_run_group_tests(tests, fsm_group_setup, fsm_group_teardown);
}
