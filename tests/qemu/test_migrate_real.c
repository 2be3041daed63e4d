// SPDX-License-Identifier: GPL-2.0
/*
 * One real pre-copy migration between two QEMU 7.2 TCG processes over a unix
 * socket: a 256 MiB guest whose dirtier walks 64 MiB at 2048 pages/s,
 * max-bandwidth 64 MiB/s, downtime-limit 300 ms. QEMU's own figures are read
 * back and checked against what the test saw (its poll times, QEMU's STOP and
 * RESUME events), the dirtier's working set (pages QEMU had to send whole) and
 * the guest going on at the destination.
 */
#include <unistd.h>

#include "common/vfmig_test.h"
#include "qemu/inputs.h"
#include "guest_bed.h"

static struct guest_bed bed;
static struct qemu_vm src, dst;
static struct qemu_guest guest = {.ram_mib = 256, .rate = 2048, .wss_mib = 64, .shape = "seq"};

static int setup(void **state)
{
	char err[512];

	(void)state;
	src.qmp.fd = dst.qmp.fd = -1;
	guest_bed_prepare(&bed);
	if (bed.why[0])
		return 0;
	if (guest_bed_start(&bed, &src, &dst, &guest, 90000, err, sizeof(err))) {
		fprintf(stderr, "bed: %s\n", err);
		guest_bed_stop(&bed, &src, &dst);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return guest_bed_stop(&bed, &src, &dst);
}

/* The last sample before QEMU said completed, and whether QEMU ever estimated a downtime. */
static long last_active_ms(const struct qemu_migration *m, int *estimates)
{
	long t = 0;

	*estimates = 0;
	for (unsigned i = 0; i < m->nsamples; i++) {
		if (strcmp(m->samples[i].status, "completed"))
			t = m->samples[i].t_ms;
		*estimates += m->samples[i].expected_downtime_ms >= 0;
	}
	return t;
}

static void test_migrate_real(void **state)
{
	struct qemu_migrate_opts o = {
		.max_bandwidth = 64 << 20, .downtime_limit_ms = 300, .limit_s = 60};
	struct qemu_migration m;
	struct qemu_inputs in;
	struct dirtier_report before = {0}, after = {0};
	int estimates;
	char err[512];
	double events_ms;

	(void)state;
	if (bed.why[0])
		VFMIG_SKIP("%s", bed.why);
	assert_int_equal(qemu_migrate(&src, &dst, bed.dir, &o, &m, err, sizeof(err)), 0);
	events_ms = (m.resume_ts - m.stop_ts) * 1000;
	printf("QEMU: total-time %lld ms, downtime %lld ms, setup %lld ms, %llu bytes, "
	       "%llu normal pages, dirty-sync-count %llu, %u samples; STOP->RESUME %.1f ms\n",
	       (long long)m.total_ms, (long long)m.downtime_ms, (long long)m.setup_ms,
	       (unsigned long long)m.transferred, (unsigned long long)m.normal,
	       (unsigned long long)m.dirty_sync_count, m.nsamples, events_ms);
	assert_true(m.converged);
	assert_false(m.cancelled);
	assert_string_equal(m.status, "completed");
	/* QEMU's clock against the test's: completed between the last two polls */
	assert_true(m.total_ms <= m.samples[m.nsamples - 1].t_ms + 50);
	assert_true(m.total_ms >= last_active_ms(&m, &estimates) - 50);
	assert_true(estimates > 0);
	assert_true(m.downtime_ms > 0 && m.downtime_ms <= m.total_ms);
	assert_true(m.setup_ms >= 0 && m.setup_ms < m.total_ms);
	/* the source stopped, then the destination resumed: QEMU's events frame the downtime */
	assert_true(m.stop_ts > 0 && m.resume_ts >= m.stop_ts);
	assert_true(events_ms + 50 >= m.downtime_ms && events_ms <= m.downtime_ms + 1000);
	/* every page of the working set holds data: each went as a normal page at least once */
	assert_true(m.normal >= guest.wss_mib * 256ULL);
	assert_true(m.transferred >= m.normal * QEMU_PAGE_SIZE);
	assert_true(m.dirty_sync_count >= 2);
	/* the guest runs on at the destination: its dirtier goes on writing there */
	assert_int_equal(qemu_read_inputs(&dst.qmp, &in), 0);
	assert_true(in.running);
	/* and every page of its working set holds what it last wrote there */
	assert_int_equal(dirtier_progress(src.console, &before), 0);
	for (int i = 0; i < 50 && dirtier_progress(dst.console, &after); i++)
		usleep(100000);
	assert_int_equal(dirtier_progress(dst.console, &after), 0);
	printf("dirtier: source t=%lu ms writes=%lu, destination t=%lu ms writes=%lu bad=%lu\n",
	       before.t_ms, before.writes, after.t_ms, after.writes, after.bad);
	assert_true(after.t_ms > before.t_ms && after.writes > before.writes);
	assert_int_equal(before.bad, 0);
	assert_int_equal(after.bad, 0);
	qemu_migration_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_real),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
