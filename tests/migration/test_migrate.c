// SPDX-License-Identifier: GPL-2.0
/*
 * The migration driver (user/migration/migrate.c, migrate_dest.c) end to
 * end: a source VM in this process, its destination in a child process over
 * a socketpair, both real. Every device variant and dirty interface
 * migrated and verified; a dropped dirty page caught by verification; a
 * non-converging workload stopped by the round cap; the stop rule. Failures
 * and refusals are in test_migrate_faults.c.
 */
#include <string.h>
#include <unistd.h>

#include "migration/fixture_migrate.h"

/* ---- 1. every device variant and dirty interface, verified ---- */

/*
 * A nic DMAing at 20000 packets/s into a ring of 128 pages, no vCPU
 * writer, a cap of 3 rounds and a zero downtime limit (the nic's stop-copy
 * bytes never fit in it): 3 rounds, not converged, verified. Each harvest
 * shows the device's DMA pages and no vCPU page, and each round sends
 * exactly what was harvested.
 */
static void nic_mode(void **state, const char *mode)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 0, .max_rounds = 3};
	struct mig_summary *r = f->rep;
	uint64_t pages = (16 << 20) / PG, ring = 256 * 2048 / PG;
	bool iommu = !strcmp(mode, "type1-iommu"), pin = !strcmp(mode, "type1-pin");
	char spec[128], what[64];
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 0, 0, 0);
	snprintf(spec, sizeof(spec), "nic:dirty=%s,rate=20000", mode);
	cfg_dev(&c, spec);
	make_vm(f, &c, false);
	/* every ring buffer used once (and pinned, in pin mode) before the migration */
	assert_int_equal(emu_dev_run(f->vm->devs[0].dev, 256), 0);
	assert_int_equal(vm_start(f->vm), 0);
	usleep(50 * 1000);
	snprintf(what, sizeof(what), "nic %s", mode);
	migrate_ok(f, k, &o, what);
	assert_false(r->converged);
	assert_int_equal(r->nrounds, 3);
	assert_int_equal(r->rounds[0].ram_pages, pages);
	for (i = 1; i < r->nrounds; i++) {
		const struct mig_round *rd = &r->rounds[i];

		printf("#   round %u: %llu pages sent, dirty: vCPU %llu, nic %llu\n", i,
		       (unsigned long long)rd->ram_pages, (unsigned long long)rd->dirty_by_src[0],
		       (unsigned long long)rd->dirty_by_src[1]);
		assert_int_equal(rd->dirty_by_src[0], 0);
		if (iommu)
			assert_int_equal(rd->dirty_by_src[1], pages);
		else if (pin)
			assert_int_equal(rd->dirty_by_src[1], ring);
		else
			assert_true(rd->dirty_by_src[1] <= ring);
		assert_int_equal(rd->ram_pages, rd->dirty_by_src[1]);
		assert_true(rd->pending >= rd->ram_pages * PG);
	}
	/* round 0 lasted ~80 ms at 20000 packets/s: the whole ring was written */
	assert_true(r->rounds[1].dirty_by_src[1] > 0);
	assert_true(r->dev_data_size[0] > 0);
	drop_vm(f);
}

static void test_nic_type1_pin(void **state)
{
	nic_mode(state, "type1-pin");
}

static void test_nic_type1_rw(void **state)
{
	nic_mode(state, "type1-rw");
}

static void test_nic_type1_iommu(void **state)
{
	nic_mode(state, "type1-iommu");
}

static void test_nic_dma_log(void **state)
{
	nic_mode(state, "dma-log");
}

static void test_nic_iommufd(void **state)
{
	nic_mode(state, "iommufd");
}

/* bigmem in PRE_COPY: its initial bytes in round 0, then the blocks it rewrote. */
static void test_bigmem(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 0, .max_rounds = 3};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 0, 0, 0);
	cfg_dev(&c, "bigmem:mem=4m,rate=5000");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "bigmem");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, 3);
	assert_true(r->rounds[0].dev_bytes >= 4 << 20);
	for (i = 0; i < r->nrounds; i++) {
		printf("#   round %u: %llu device bytes\n", i,
		       (unsigned long long)r->rounds[i].dev_bytes);
		assert_int_equal(r->rounds[i].dirty_by_src[1], 0); /* it does no DMA */
		if (i)
			assert_int_equal(r->rounds[i].dirty_by_src[0], 0);
	}
	/* ~100 ms of writes during round 0: dirty blocks went in round 1 */
	assert_true(r->rounds[1].dev_bytes > 0);
	assert_true(r->dev_data_size[0] > 0);
	drop_vm(f);
}

/* Everything at once, with limits it can meet: converges and verifies. */
static void test_all_together(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 30};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 32 << 20, 2, 5000, 8 << 20);
	cfg_dev(&c, "nic:dirty=type1-rw,rate=10000");
	cfg_dev(&c, "bigmem:mem=4m,rate=1000");
	cfg_dev(&c, "nic:dirty=iommufd,rate=3000,rx_iova=4m");
	cfg_dev(&c, "nic:dirty=dma-log,rate=3000,rx_iova=8m,buffers=64,bufsize=4k,pkt=4k");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "4 devices, 2 vCPUs");
	assert_true(r->converged);
	assert_true(r->rounds[0].dev_bytes >= 4 << 20);
	assert_true(r->final_pages > 0); /* vCPUs and DMA dirtied pages during the last round */
	drop_vm(f);
}

/* Devices without P2P, and bigmem without PRE_COPY: all of its memory in stop-copy. */
static void test_feature_subsets(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 1, 2000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-pin,rate=5000,features=stop-copy");
	cfg_dev(&c, "bigmem:mem=4m,rate=500,features=stop-copy+p2p");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "no P2P, no PRE_COPY");
	assert_int_equal(r->rounds[0].dev_bytes, 0);
	assert_true(r->final_dev_bytes >= 4 << 20);
	assert_true(r->dev_data_size[1] >= 4 << 20);
	drop_vm(f);
}

/* Guest RAM and vCPUs only. */
static void test_no_devices(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 8 << 20, 1, 5000, 8 << 20);
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "no devices");
	assert_true(r->converged);
	assert_int_equal(r->final_dev_bytes, 0);
	drop_vm(f);
}

/* ---- 2. a lost dirty page is caught ---- */

static void test_drop_one_page(void **state)
{
	struct fx *f = *state;
	/* one round: everything dirtied while RAM is first sent goes in the final round */
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 1};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k[2], ret;

	PROBE_OR_SKIP();
	k[0] = spawn_dest(f, MIG_DIE_NEVER);
	k[1] = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 1, 20000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-rw,rate=2000");

	/* the control: the same migration without the drop verifies */
	make_vm(f, &c, true);
	migrate_ok(f, k[0], &o, "control");
	assert_true(r->final_pages > 10);
	drop_vm(f);

	make_vm(f, &c, true);
	o.drop_one_page = true;
	ret = mig_source(f->vm, f->fd[k[1]], &o, r);
	print_rep("one page dropped", r);
	if (ret)
		fail_msg("mig_source: %d (%s)", ret, r->error);
	assert_true(r->committed);
	assert_true(r->final_pages > 0);
	assert_false(r->verified);
	assert_int_equal(child_exit(f, k[1]), DEST_DIFFERS);
	drop_vm(f);
}

/* ---- 3. not converging: the round cap stops it ---- */

/* vCPUs dirty ~2 MiB per round, far more than 8 MB/s x 10 ms. */
static void test_round_cap_vcpu(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 8 * MB, .downtime_ns = 10 * MS, .max_rounds = 4};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 4 << 20, 1, 20000, 2 << 20);
	cfg_dev(&c, "nic:dirty=type1-pin,rate=1000");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "round cap, vCPU writers");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, o.max_rounds);
	for (i = 1; i < r->nrounds; i++) {
		assert_true(r->rounds[i].dirty_by_src[0] > 0);
		assert_true(r->rounds[i].pending > o.bandwidth * o.downtime_ns / 1000000000ull);
	}
	/* the cap held: never much above 8 MB/s */
	for (i = 0; i < r->nrounds; i++)
		assert_true(r->rounds[i].bandwidth < 8 * MB * 1.25);
	drop_vm(f);
}

/* type1 with an IOMMU-backed device: every mapped page dirty every round. */
static void test_round_cap_type1_iommu(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 20 * MB, .downtime_ns = 50 * MS, .max_rounds = 3};
	struct mig_summary *r = f->rep;
	uint64_t pages = (8 << 20) / PG;
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 8 << 20, 0, 0, 0);
	cfg_dev(&c, "nic:dirty=type1-iommu,rate=1000");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "round cap, type1-iommu");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, o.max_rounds);
	for (i = 1; i < r->nrounds; i++) {
		assert_int_equal(r->rounds[i].dirty_by_src[1], pages);
		assert_int_equal(r->rounds[i].ram_pages, pages);
	}
	assert_int_equal(r->final_pages, pages);
	drop_vm(f);
}

/* ---- 4. the stop rule ---- */

static void test_idle_converges(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 0, .downtime_ns = 300 * MS, .max_rounds = 30};
	struct mig_summary *r = f->rep;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	migrate_ok(f, k, &o, "idle VM, uncapped");
	assert_true(r->converged);
	assert_true(r->nrounds <= 2);
	/* bigmem's initial bytes all went before the switchover */
	assert_true(r->rounds[0].dev_bytes >= 4 << 20);
	/* nothing written, but the nic's 128 pinned ring pages are dirty on every report */
	assert_int_equal(r->final_pages, 256 * 2048 / PG);
	drop_vm(f);
}

static void test_idle_converges_capped(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 1000 * MB, .downtime_ns = 300 * MS, .max_rounds = 30};
	struct mig_summary *r = f->rep;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	migrate_ok(f, k, &o, "idle VM, 1000 MB/s");
	assert_true(r->converged);
	assert_true(r->nrounds <= 2);
	drop_vm(f);
}

/* The same idle VM with a downtime limit nothing fits in: the round cap ends it. */
static void test_tiny_downtime_never_converges(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 0, .downtime_ns = 1, .max_rounds = 5};
	struct mig_summary *r = f->rep;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	migrate_ok(f, k, &o, "idle VM, 1 ns downtime limit");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, 5);
	drop_vm(f);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_nic_type1_pin),
		T(test_nic_type1_rw),
		T(test_nic_type1_iommu),
		T(test_nic_dma_log),
		T(test_nic_iommufd),
		T(test_bigmem),
		T(test_all_together),
		T(test_feature_subsets),
		T(test_no_devices),
		T(test_drop_one_page),
		T(test_round_cap_vcpu),
		T(test_round_cap_type1_iommu),
		T(test_idle_converges),
		T(test_idle_converges_capped),
		T(test_tiny_downtime_never_converges),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
