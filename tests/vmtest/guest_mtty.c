// SPDX-License-Identifier: GPL-2.0
/*
 * Runs inside the vmtest guest (tests/vmtest/init): the kernel's mtty sample
 * driven through the real VFIO migration uAPI, and the differential check
 * against vfmig's emulated device advertising mtty's migration flags. Every
 * difference must be one the README lists as deliberate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "device/device.h"
#include "vfio_real.h"

#define UART_SCR 7
#define NSTATES EMU_NR_STATES

static struct real_dev mtty_a, mtty_b;

static int setup(void **state)
{
	int err;

	(void)state;
	err = real_open(&mtty_a, VMTEST_MTTY_A, -1);
	if (!err)
		err = real_open(&mtty_b, VMTEST_MTTY_B, mtty_a.container);
	if (err)
		fprintf(stderr, "open mtty: %s\n", strerror(-err));
	return err ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	real_close(&mtty_b);
	real_close(&mtty_a);
	return 0;
}

static uint32_t mtty_flags(void)
{
	uint32_t flags = 0;

	assert_int_equal(real_mig_flags(&mtty_a, &flags), 0);
	return flags;
}

static void test_mtty_advertises_full_migration(void **state)
{
	(void)state;
	assert_int_equal(mtty_flags(), EMU_MIG_FLAGS_ALL);
}

/* One side of the differential: a device in a state, asked for another. */
struct side {
	int (*reset)(void *dev);
	int (*set)(void *dev, enum vfio_device_mig_state s);
	int (*get)(void *dev, enum vfio_device_mig_state *s);
	void *dev;
};

static int real_reset_cb(void *d)
{
	return real_reset(d);
}

static int real_set_cb(void *d, enum vfio_device_mig_state s)
{
	return real_set_state(d, s, NULL);
}

static int real_get_cb(void *d, enum vfio_device_mig_state *s)
{
	return real_get_state(d, s);
}

static int emu_reset_cb(void *d)
{
	return emu_dev_ioctl(d, VFIO_DEVICE_RESET, NULL) ? -errno : 0;
}

static int emu_set_cb(void *d, enum vfio_device_mig_state s)
{
	int fd;

	if (emu_set_state(d, s, &fd))
		return -errno;
	if (fd >= 0)
		emu_fd_close(fd);
	return 0;
}

static int emu_get_cb(void *d, enum vfio_device_mig_state *s)
{
	return emu_get_state(d, s) ? -errno : 0;
}

struct outcome {
	int err;
	enum vfio_device_mig_state state;
};

static struct outcome request(const struct side *s, enum vfio_device_mig_state from,
			      enum vfio_device_mig_state to)
{
	struct outcome o;

	assert_int_equal(s->reset(s->dev), 0);
	assert_int_equal(s->set(s->dev, from), 0);
	o.err = s->set(s->dev, to);
	assert_int_equal(s->get(s->dev, &o.state), 0);
	return o;
}

/*
 * The README's deliberate differences that a request can show: a failed
 * multi-step request leaves mtty at the last state reached, vfmig back at the
 * start; a failed arc out of RESUMING puts vfmig in ERROR (the stream cannot
 * be un-loaded).
 */
static const char *deliberate(enum vfio_device_mig_state from, struct outcome m, struct outcome e)
{
	if (m.err && e.err && e.state == from && m.state != from)
		return "failed multi-step request: vfmig walks back to the start state";
	if (m.err && e.err && from == VFIO_DEVICE_STATE_RESUMING &&
	    e.state == VFIO_DEVICE_STATE_ERROR)
		return "failed arc out of RESUMING: vfmig goes to ERROR";
	return NULL;
}

/* Every request from every state: the same state and errno as mtty, or a listed difference. */
static void test_every_request_matches_emulated_device(void **state)
{
	struct emu_dev_cfg cfg = {
		.variant = "bigmem", .mig_flags = mtty_flags(), .params = "mem=64k,block=4k"};
	struct emu_dev *emu = emu_dev_create(&cfg);
	struct side real = {real_reset_cb, real_set_cb, real_get_cb, &mtty_a};
	struct side emul = {emu_reset_cb, emu_set_cb, emu_get_cb, emu};
	int from, to, same = 0, listed = 0, wrong = 0;
	struct outcome m, e;
	const char *why;

	(void)state;
	if (!emu)
		fail_msg("emulated device: %s", emu_last_error());
	for (from = 1; from < NSTATES; from++) {
		for (to = 0; to < NSTATES; to++) {
			m = request(&real, from, to);
			e = request(&emul, from, to);
			if (m.err == e.err && m.state == e.state) {
				same++;
				continue;
			}
			why = deliberate(from, m, e);
			vmtest_report("  %s %s -> %s: mtty %s (%s), vfmig %s (%s)%s%s",
				      why ? "listed" : "DIFFERENT", vfio_state_name(from),
				      vfio_state_name(to), vfio_state_name(m.state),
				      strerror(-m.err), vfio_state_name(e.state), strerror(-e.err),
				      why ? ": " : "", why ? why : "");
			why ? listed++ : wrong++;
		}
	}
	vmtest_report("differential: %d requests (every state to every state) on mtty and on the "
		      "emulated device: %d identical, %d listed differences, %d unexplained",
		      (NSTATES - 1) * NSTATES, same, listed, wrong);
	assert_int_equal(real_reset(&mtty_a), 0);
	emu_dev_destroy(emu);
	assert_int_equal(wrong, 0);
	assert_int_equal(same + listed, (NSTATES - 1) * NSTATES);
}

/* STOP_COPY data: MIG_DATA_SIZE is what the fd yields, EOF ends it, and it resumes elsewhere. */
static void test_save_and_resume_into_second_mtty(void **state)
{
	static char buf[1 << 16];
	uint64_t size = 0;
	uint8_t scr = 0;
	int fd, end;
	long n;

	(void)state;
	assert_int_equal(real_reset(&mtty_a), 0);
	assert_int_equal(real_reset(&mtty_b), 0);
	assert_int_equal(real_bar0_write8(&mtty_a, UART_SCR, 0x5a), 0);
	assert_int_equal(real_bar0_write8(&mtty_b, UART_SCR, 0x11), 0);
	assert_int_equal(real_data_size(&mtty_a, &size), 0);
	assert_int_equal(real_set_state(&mtty_a, VFIO_DEVICE_STATE_STOP_COPY, &fd), 0);
	assert_true(fd >= 0);
	n = real_drain(fd, buf, sizeof(buf), &end);
	close(fd);
	assert_int_equal(end, 0); /* EOF, not an error */
	assert_int_equal(n, size);
	assert_int_equal(real_set_state(&mtty_b, VFIO_DEVICE_STATE_RESUMING, &fd), 0);
	assert_int_equal(write(fd, buf, n), n);
	close(fd);
	assert_int_equal(real_set_state(&mtty_b, VFIO_DEVICE_STATE_RUNNING, NULL), 0);
	assert_int_equal(real_bar0_read8(&mtty_b, UART_SCR, &scr), 0);
	assert_int_equal(scr, 0x5a);
	assert_int_equal(real_set_state(&mtty_a, VFIO_DEVICE_STATE_RUNNING, NULL), 0);
}

/* A resume of a cut stream fails on RESUMING -> STOP and loads nothing. */
static void test_cut_stream_is_refused(void **state)
{
	static char buf[1 << 16];
	enum vfio_device_mig_state s;
	uint8_t scr = 0;
	int fd, end;
	long n;

	(void)state;
	assert_int_equal(real_reset(&mtty_b), 0);
	assert_int_equal(real_bar0_write8(&mtty_b, UART_SCR, 0x22), 0);
	assert_int_equal(real_set_state(&mtty_a, VFIO_DEVICE_STATE_STOP_COPY, &fd), 0);
	n = real_drain(fd, buf, sizeof(buf), &end);
	close(fd);
	assert_true(n > 8);
	assert_int_equal(real_set_state(&mtty_b, VFIO_DEVICE_STATE_RESUMING, &fd), 0);
	assert_int_equal(write(fd, buf, n / 2), n / 2);
	close(fd);
	assert_int_equal(real_set_state(&mtty_b, VFIO_DEVICE_STATE_RUNNING, NULL), -EINVAL);
	assert_int_equal(real_get_state(&mtty_b, &s), 0);
	assert_int_equal(s, VFIO_DEVICE_STATE_RESUMING);
	assert_int_equal(real_reset(&mtty_b), 0);
	assert_int_equal(real_bar0_read8(&mtty_b, UART_SCR, &scr), 0);
	assert_int_equal(scr, 0x22);
	assert_int_equal(real_reset(&mtty_a), 0);
}

/*
 * PRE_COPY: PRECOPY_INFO's initial bytes are what the fd yields before the
 * device stops; mtty then answers 0 where vfmig answers ENOMSG (listed).
 */
static void test_precopy_info_and_end_of_initial_data(void **state)
{
	static char buf[1 << 16];
	uint64_t initial, dirty, size;
	long n, rest;
	int fd, end;

	(void)state;
	assert_int_equal(real_reset(&mtty_a), 0);
	assert_int_equal(real_set_state(&mtty_a, VFIO_DEVICE_STATE_PRE_COPY, &fd), 0);
	assert_int_equal(real_precopy_info(fd, &initial, &dirty), 0);
	assert_true(initial > 0);
	assert_int_equal(dirty, 0);
	n = real_drain(fd, buf, sizeof(buf), &end);
	assert_int_equal(n, initial);
	assert_int_equal(end, 0); /* mtty: 0 (vfmig: ENOMSG), a listed difference */
	assert_int_equal(real_precopy_info(fd, &initial, &dirty), 0);
	assert_int_equal(initial, 0);
	assert_int_equal(real_data_size(&mtty_a, &size), 0);
	assert_int_equal(real_set_state(&mtty_a, VFIO_DEVICE_STATE_STOP_COPY, NULL), 0);
	rest = real_drain(fd, buf + n, sizeof(buf) - n, &end);
	close(fd);
	assert_int_equal(end, 0);
	assert_true(rest > 0);
	/* outside PRE_COPY the ioctl is refused */
	assert_int_equal(real_set_state(&mtty_a, VFIO_DEVICE_STATE_RUNNING, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtty_advertises_full_migration),
		cmocka_unit_test(test_every_request_matches_emulated_device),
		cmocka_unit_test(test_save_and_resume_into_second_mtty),
		cmocka_unit_test(test_cut_stream_is_refused),
		cmocka_unit_test(test_precopy_info_and_end_of_initial_data),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
