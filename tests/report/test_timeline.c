// SPDX-License-Identifier: GPL-2.0
/*
 * report_timeline() on events laid out here, each at a time this file
 * chose, in the order QEMU's probes give them (vm_state_notify's pause
 * after its vCPUs stopped and before VFIO stops its device; its resume
 * before the destination's devices load and run): the downtime runs from
 * the vCPU pause to the destination's device RUNNING, and its parts are
 * the gaps between those times. Without vCPU events it starts at the first
 * stop request; a pause resumed before the migration's stop is not its.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "report/report.h"
#include "vfmig/uapi.h"

#define T0 1000000000ull
#define MS 1000000ull
#define SRC 4100
#define DST 4200

struct ev_list {
	struct vfmig_event ev[32];
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_order),
		cmocka_unit_test(test_without_vcpu_events),
		cmocka_unit_test(test_pause_resumed_is_not_the_downtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
