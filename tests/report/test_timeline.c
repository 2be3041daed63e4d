// SPDX-License-Identifier: GPL-2.0
/*
 * report_timeline() on events laid out here, each at a time this file
 * chose, in the order QEMU's probes give them (vm_state_notify's pause
 * after its vCPUs stopped and before VFIO stops its device; its resume
 * before the destination's devices load and run): the downtime runs from
 * the vCPU pause to the destination's device RUNNING, and its parts are
 * the gaps between those times. Without vCPU events it starts at the first
 * stop request; a pause resumed before the migration's stop is not its.
 * Where a migration starts and stops when the probes came late, when one
 * was cancelled, and when the VM was paused or harvested long before.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "report/report.h"
#include "vfmig/uapi.h"

#define T0 4000000000000ull /* 4000 s: room for what came an hour before */
#define MS 1000000ull
#define SRC 4100
#define DST 4200

struct ev_list {
	struct vfmig_event ev[48];
	size_t n;
};

static void add(struct ev_list *l, uint32_t pid, uint16_t type, uint64_t end, uint64_t a)
{
	struct vfmig_event *e = &l->ev[l->n++];

	memset(e, 0, sizeof(*e));
	e->pid = e->tid = pid;
	e->type = type;
	e->ts_ns = end;
	e->a = a;
	e->source = VFMIG_SRC_USDT;
	/* a QEMU device of pid's (the name's hash aside): the report finds its pid in the key */
	e->dev = type == VFMIG_EV_VCPU_PAUSE || type == VFMIG_EV_VCPU_RESUME
			 ? 0
			 : vfmig_dev_qemu(pid, pid == SRC ? 0x65 : 0x66);
}

/* A request on pid's device: from start to end. */
static void set(struct ev_list *l, uint32_t pid, uint8_t from, uint8_t to, uint64_t start,
		uint64_t end)
{
	add(l, pid, VFMIG_EV_STATE_SET, end, end - start);
	l->ev[l->n - 1].from = from;
	l->ev[l->n - 1].to = to;
}

/*
 * The source enters PRE_COPY at 0 ms; its vCPUs pause at 5 ms (when pause_at is not 0:
 * pause_at), its device is asked STOP_COPY at 5.1 ms; the destination's vCPU resume is
 * traced at 8 ms (resume), its device leaves RESUMING 8.1-8.2 ms and runs 8.3-8.35 ms.
 */
static struct report *migration(uint64_t pause_at, bool resume, bool resumed_before_stop)
{
	static struct ev_list l;
	struct report *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	l.n = 0;
	set(&l, DST, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_RESUMING, T0 - MS, T0 - MS / 2);
	set(&l, SRC, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_PRE_COPY, T0, T0 + MS / 10);
	if (pause_at)
		add(&l, SRC, VFMIG_EV_VCPU_PAUSE, T0 + pause_at, 0);
	if (resumed_before_stop)
		add(&l, SRC, VFMIG_EV_VCPU_RESUME, T0 + pause_at + MS / 2, 0);
	set(&l, SRC, VFIO_DEVICE_STATE_PRE_COPY, VFIO_DEVICE_STATE_STOP_COPY, T0 + 51 * MS / 10,
	    T0 + 53 * MS / 10);
	add(&l, SRC, VFMIG_EV_DATA_READ, T0 + 6 * MS, 4096);
	l.ev[l.n - 1].result = 4096;
	set(&l, SRC, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP, T0 + 7 * MS,
	    T0 + 705 * MS / 100);
	if (resume)
		add(&l, DST, VFMIG_EV_VCPU_RESUME, T0 + 8 * MS, 0);
	set(&l, DST, VFIO_DEVICE_STATE_RESUMING, VFIO_DEVICE_STATE_RUNNING_P2P, T0 + 81 * MS / 10,
	    T0 + 82 * MS / 10);
	set(&l, DST, VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_RUNNING, T0 + 83 * MS / 10,
	    T0 + 835 * MS / 100);
	r->ev = malloc(l.n * sizeof(*r->ev));
	assert_non_null(r->ev);
	memcpy(r->ev, l.ev, l.n * sizeof(*r->ev));
	r->nevents = l.n;
	r->header = strdup("{}");
	assert_non_null(report_device(r, l.ev[0].dev));
	assert_non_null(report_device(r, l.ev[1].dev));
	report_timeline(r);
	assert_int_equal(r->nmigs, 1);
	assert_int_equal(r->mig[0].pid, SRC);
	assert_int_equal(r->mig[0].dest_pid, DST);
	return r;
}

static void done(struct report *r)
{
	report_free(r);
	free(r);
}

/* QEMU's order: vCPU pause 5 ms, devices RUNNING 8.35 ms: 3.35 ms, 0.1 of them pausing. */
static void test_qemu_order(void **state)
{
	struct report *r = migration(5 * MS, true, false);
	const struct rep_migration *m = &r->mig[0];

	(void)state;
	assert_int_equal(m->pause_ns, T0 + 5 * MS);
	assert_int_equal(m->vcpu_resume_ns, T0 + 8 * MS);
	assert_int_equal(m->downtime_ns, 835 * MS / 100 - 5 * MS);
	assert_int_equal(m->stop_ns - m->pause_ns, MS / 10); /* vCPU pause -> first stop request */
	assert_int_equal(m->resume_ns, 835 * MS / 100 - 82 * MS / 10);
	done(r);
}

/* No vCPU probe: from the first stop request (5.1 ms), RUNNING's latency as the resume. */
static void test_without_vcpu_events(void **state)
{
	struct report *r = migration(0, false, false);
	const struct rep_migration *m = &r->mig[0];

	(void)state;
	assert_int_equal(m->vcpu_pause_ns, 0);
	assert_int_equal(m->pause_ns, T0 + 51 * MS / 10);
	assert_int_equal(m->resume_ns, MS / 20);
	assert_int_equal(m->downtime_ns, 82 * MS / 10 + MS / 20 - 51 * MS / 10);
	done(r);
}

/* Paused at 2 ms and resumed at 2.5 ms (a user's pause in pre-copy): not the migration's. */
static void test_pause_resumed_is_not_the_downtime(void **state)
{
	struct report *r = migration(2 * MS, true, true);
	const struct rep_migration *m = &r->mig[0];

	(void)state;
	assert_int_equal(m->vcpu_pause_ns, 0);
	assert_int_equal(m->pause_ns, T0 + 51 * MS / 10);
	done(r);
}

/* The report of l's events and the n harvest windows w (may be NULL). */
static struct report *timeline_of(const struct ev_list *l, const struct vfmig_dirty_window *w,
				  size_t n)
{
	struct report *r = calloc(1, sizeof(*r));
	size_t i;

	assert_non_null(r);
	r->ev = malloc(l->n * sizeof(*r->ev));
	r->win = malloc((n + 1) * sizeof(*r->win));
	assert_non_null(r->ev);
	assert_non_null(r->win);
	memcpy(r->ev, l->ev, l->n * sizeof(*r->ev));
	if (n)
		memcpy(r->win, w, n * sizeof(*w));
	r->nevents = l->n;
	r->nwin = n;
	r->header = strdup("{}");
	for (i = 0; i < l->n; i++)
		if (l->ev[i].dev)
			assert_non_null(report_device(r, l->ev[i].dev));
	report_timeline(r);
	return r;
}

/* The source's stop-copy at 5 ms from stop, and the destination's load and run after it. */
static void stop_copy_and_load(struct ev_list *l, uint8_t stop_from, uint64_t stop)
{
	set(l, SRC, stop_from, VFIO_DEVICE_STATE_STOP_COPY, stop, stop + MS / 10);
	set(l, SRC, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP, stop + 2 * MS,
	    stop + 2 * MS + MS / 10);
	set(l, DST, VFIO_DEVICE_STATE_RESUMING, VFIO_DEVICE_STATE_STOP, stop + 3 * MS,
	    stop + 3 * MS + MS / 10);
	set(l, DST, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING, stop + 4 * MS,
	    stop + 4 * MS + MS / 10);
}

/*
 * Probes attached to a running QEMU whose device has no PRE_COPY: its first
 * request, RUNNING -> STOP, is seen from "unknown"; STOP_COPY follows. The
 * destination, also first seen from "unknown", goes STOP then RESUMING: not
 * a save. One migration, the source's, stopped at its first request.
 */
static void test_stop_copy_only_from_unknown(void **state)
{
	static struct ev_list l;
	struct report *r;

	(void)state;
	l.n = 0;
	set(&l, DST, VFMIG_STATE_UNKNOWN, VFIO_DEVICE_STATE_STOP, T0 - 2 * MS, T0 - MS);
	set(&l, DST, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RESUMING, T0 - MS, T0 - MS / 2);
	set(&l, SRC, VFMIG_STATE_UNKNOWN, VFIO_DEVICE_STATE_STOP, T0, T0 + MS / 10);
	stop_copy_and_load(&l, VFIO_DEVICE_STATE_STOP, T0 + MS);
	r = timeline_of(&l, NULL, 0);
	assert_int_equal(r->nmigs, 1);
	assert_int_equal(r->mig[0].pid, SRC);
	assert_int_equal(r->mig[0].dest_pid, DST);
	assert_int_equal(r->mig[0].stop_ns, T0);
	done(r);
}

/*
 * A migration cancelled in pre-copy (PRE_COPY -> RUNNING at 2 ms) is not the
 * one that follows at 10 ms: one migration, from 10 ms.
 */
static void test_cancelled_is_not_merged(void **state)
{
	static struct ev_list l;
	struct report *r;

	(void)state;
	l.n = 0;
	set(&l, DST, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_RESUMING, T0 - MS, T0 - MS / 2);
	set(&l, SRC, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_PRE_COPY, T0, T0 + MS / 10);
	set(&l, SRC, VFIO_DEVICE_STATE_PRE_COPY, VFIO_DEVICE_STATE_RUNNING, T0 + 2 * MS,
	    T0 + 2 * MS + MS / 10);
	set(&l, SRC, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_PRE_COPY, T0 + 10 * MS,
	    T0 + 10 * MS + MS / 10);
	stop_copy_and_load(&l, VFIO_DEVICE_STATE_PRE_COPY, T0 + 20 * MS);
	r = timeline_of(&l, NULL, 0);
	assert_int_equal(r->nmigs, 1);
	assert_int_equal(r->mig[0].start_ns, T0 + 10 * MS);
	assert_int_equal(r->mig[0].stop_ns, T0 + 20 * MS);
	done(r);
}

/*
 * A VM paused an hour before it migrated, never resumed, harvested once
 * then too (a display's dirty log), and harvested every 100 ms from 1 s
 * before its device left RUNNING: the migration starts at that run of
 * harvests, and its downtime at its first stop request, not an hour back.
 */
static void test_long_ago_is_not_this_migration(void **state)
{
	static struct ev_list l;
	struct vfmig_dirty_window w[12];
	struct report *r;
	size_t i;

	(void)state;
	l.n = 0;
	add(&l, SRC, VFMIG_EV_VCPU_PAUSE, T0 - 3600000 * MS, 0);
	memset(w, 0, sizeof(w));
	w[0] = (struct vfmig_dirty_window){
		.pid = SRC, .t_start_ns = T0 - 3600000 * MS, .t_len_ns = 100 * MS};
	for (i = 1; i < 12; i++)
		w[i] = (struct vfmig_dirty_window){.pid = SRC,
						   .t_start_ns = T0 - 1000 * MS +
								 (i - 1) * 100 * MS,
						   .t_len_ns = 100 * MS};
	set(&l, DST, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_RESUMING, T0 - MS, T0 - MS / 2);
	stop_copy_and_load(&l, VFIO_DEVICE_STATE_RUNNING, T0 + 100 * MS);
	r = timeline_of(&l, w, 12);
	assert_int_equal(r->nmigs, 1);
	assert_int_equal(r->mig[0].start_ns, T0 - 1000 * MS);
	assert_int_equal(r->mig[0].vcpu_pause_ns, 0);
	assert_int_equal(r->mig[0].pause_ns, T0 + 100 * MS);
	done(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_order),
		cmocka_unit_test(test_without_vcpu_events),
		cmocka_unit_test(test_pause_resumed_is_not_the_downtime),
		cmocka_unit_test(test_stop_copy_only_from_unknown),
		cmocka_unit_test(test_cancelled_is_not_merged),
		cmocka_unit_test(test_long_ago_is_not_this_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
