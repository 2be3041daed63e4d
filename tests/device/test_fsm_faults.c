// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated device's migration state machine when an arc fails: an arc
 * failure injected at every step of every request of every valid feature
 * combination (walked back to FROM, or ERROR), and RESET from every state,
 * checked against the fixture of fixture_fsm.c.
 */
#include <errno.h>
#include <stdbool.h>

#include "device/fixture_fsm.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		FOR_COMBOS(fault_injection),
		FOR_COMBOS(reset_all),
	};

	return cmocka_run_group_tests(tests, fsm_group_setup, fsm_group_teardown);
}
