// SPDX-License-Identifier: GPL-2.0
/*
 * v1 migration requests (device_state writes) seen by the state family, on
 * the same arcs as v2 requests: from the emulated device's USDT probes, and
 * at the syscalls, where a VFIO_DEVICE_GET_REGION_INFO answer naming the
 * migration region (prepared: this kernel has no VFIO) makes pwrite64 and
 * pread64 of its device_state requests and reads, done here for real on a
 * file standing in for the device fd. Every figure is checked against what
 * the device did or what the calls returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "device/device.h"
#include "probe/probe_test.h"
#include "vfmig/uapi.h"

#define NSTATES EMU_NR_STATES
#define RUN VFIO_DEVICE_STATE_V1_RUNNING
#define SAVE VFIO_DEVICE_STATE_V1_SAVING
#define RES VFIO_DEVICE_STATE_V1_RESUMING
#define REGION_OFFSET 0x9000ull /* of the migration region in the stand-in device fd */

struct arcs {
	unsigned int n[NSTATES + 1][NSTATES]; /* [from][to]; from NSTATES: unknown */
	uint64_t wall[NSTATES + 1][NSTATES];  /* the caller's time in those requests */
};

static unsigned int row_of(unsigned int from)
{
	return from == VFMIG_STATE_UNKNOWN ? NSTATES : from;
}

/*
 * The state-set histograms of dev equal want, arc by arc, each arc's
 * latency sum within the time the caller saw its requests take.
 */
static void arcs_match(uint64_t dev, const struct arcs *want)
{
	static struct agg_hist h[512];
	struct arcs got = {};
	int j, nh = agg_hists(probes, h, 512);
	unsigned int from, to;

	for (j = 0; j < nh; j++) {
		if (h[j].key.kind != VFMIG_H_STATE_SET || h[j].key.dev != dev)
			continue;
		from = row_of(h[j].key.from);
		assert_true(from <= NSTATES && h[j].key.to < NSTATES);
		got.n[from][h[j].key.to] += h[j].h.count;
		assert_true(h[j].h.sum_ns <= want->wall[from][h[j].key.to]);
	}
	for (from = 0; from <= NSTATES; from++)
		for (to = 0; to < NSTATES; to++)
			assert_int_equal(got.n[from][to], want->n[from][to]);
}

static enum vfio_device_mig_state state_of(struct emu_dev *dev)
{
	enum vfio_device_mig_state s = VFIO_DEVICE_STATE_ERROR;

	assert_int_equal(emu_get_state(dev, &s), 0);
	return s;
}

/*
 * The emulated device driven through its v1 region: each write is one
 * request on the arc from the state the device was in to the state the
 * bits name (the state it is in after, when the write worked; ERROR for
 * bits no v1 state has, which it refuses).
 */
static void test_emulated_v1_requests(void **state)
{
	static const uint32_t seq[] = {RUN | SAVE, SAVE, 0, RES | RUN, RUN, SAVE, 0, RES};
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=64k,block=4k"};
	struct emu_dev *dev = emu_dev_create(&cfg);
	uint64_t v1_0 = counter(VFMIG_C_V1_STATE_WRITES), sets0 = counter(VFMIG_C_STATE_SETS);
	uint64_t err0 = counter(VFMIG_C_STATE_SET_ERRORS), hang0 = counter(VFMIG_C_HANG_RISK), t0;
	struct arcs want = {};
	size_t i, failed = 0;

	(void)state;
	NEED_PROBES();
	assert_non_null(dev);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		enum vfio_device_mig_state from = state_of(dev), to;
		ssize_t n;

		t0 = now_ns();
		n = emu_v1_region_write(dev, &seq[i], sizeof(seq[i]), 0);
		to = n == sizeof(seq[i]) ? state_of(dev) : VFIO_DEVICE_STATE_ERROR;
		failed += n != sizeof(seq[i]);
		want.n[from][to]++;
		want.wall[from][to] += now_ns() - t0;
	}
	assert_int_equal(failed, 1); /* RESUMING with RUNNING */
	assert_int_equal(counter(VFMIG_C_V1_STATE_WRITES) - v1_0, sizeof(seq) / sizeof(seq[0]));
	assert_int_equal(counter(VFMIG_C_STATE_SETS) - sets0, sizeof(seq) / sizeof(seq[0]));
	assert_int_equal(counter(VFMIG_C_STATE_SET_ERRORS) - err0, failed);
	assert_int_equal(counter(VFMIG_C_HANG_RISK) - hang0, 0); /* v1 has no next-state loop */
	arcs_match(probe_emu_key(dev), &want);
	emu_dev_destroy(dev);
}

/* A GET_REGION_INFO answer: region 9, with a sparse-mmap cap, then a type cap. */
struct region_answer {
	struct vfio_region_info info;
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area area;
	struct vfio_region_info_cap_type type;
};

static void answer(struct region_answer *a, uint32_t type, uint32_t subtype)
{
	memset(a, 0, sizeof(*a));
	a->info.argsz = sizeof(*a);
	a->info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			VFIO_REGION_INFO_FLAG_CAPS;
	a->info.index = 9;
	a->info.cap_offset = offsetof(struct region_answer, sparse);
	a->info.size = 0x1000;
	a->info.offset = REGION_OFFSET;
	a->sparse.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	a->sparse.header.version = 1;
	a->sparse.header.next = offsetof(struct region_answer, type);
	a->sparse.nr_areas = 1;
	a->type.header.id = VFIO_REGION_INFO_CAP_TYPE;
	a->type.header.version = 1;
	a->type.type = type;
	a->type.subtype = subtype;
}

static void region_info(int fd, const struct region_answer *a, long ret)
{
	uint64_t args[3] = {(unsigned int)fd, (uintptr_t)a, (uint64_t)ret};

	assert_int_equal(probes_test_run(probes, "test__v1_region_info", args, 3), 0);
}

/* One device_state write; its arc in want, from what this test last wrote or read. */
static ssize_t v1_write(int fd, uint32_t bits, unsigned int *from, struct arcs *want)
{
	enum vfio_device_mig_state to;
	uint64_t t0 = now_ns();
	ssize_t n = pwrite(fd, &bits, sizeof(bits), REGION_OFFSET);

	to = (bits & 7) == 0		  ? VFIO_DEVICE_STATE_STOP
	     : (bits & 7) == RUN	  ? VFIO_DEVICE_STATE_RUNNING
	     : (bits & 7) == SAVE	  ? VFIO_DEVICE_STATE_STOP_COPY
	     : (bits & 7) == (RUN | SAVE) ? VFIO_DEVICE_STATE_PRE_COPY
	     : (bits & 7) == RES	  ? VFIO_DEVICE_STATE_RESUMING
					  : VFIO_DEVICE_STATE_ERROR;
	want->n[row_of(*from)][to]++;
	want->wall[row_of(*from)][to] += now_ns() - t0;
	*from = n == sizeof(bits) ? to : VFMIG_STATE_UNKNOWN;
	return n;
}

/*
 * At the syscalls: the fd whose answer named the migration region has its
 * device_state writes counted as requests (the first from unknown, later
 * ones from what was written or read; a refused one leaves it unknown);
 * other offsets and sizes, an fd whose region is of another type, a
 * refused answer, and the fd after close are not requests.
 */
static void test_syscall_v1_requests(void **state)
{
	char path[] = "/tmp/vfmig-v1-XXXXXX";
	int fd = mkstemp(path), ro, other, refused, small;
	uint64_t v1_0 = counter(VFMIG_C_V1_STATE_WRITES), err0 = counter(VFMIG_C_STATE_SET_ERRORS);
	struct arcs want = {}, want_ro = {}, none = {};
	unsigned int from = VFMIG_STATE_UNKNOWN, from_ro = VFMIG_STATE_UNKNOWN;
	struct region_answer a;
	uint32_t bits = RUN;
	uint64_t eight = 0;

	(void)state;
	NEED_PROBES();
	assert_true(fd >= 0);
	ro = open(path, O_RDONLY);
	other = open(path, O_RDWR);
	refused = open(path, O_RDWR);
	small = open(path, O_RDWR);
	unlink(path);
	answer(&a, VFIO_REGION_TYPE_MIGRATION_DEPRECATED, VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED);
	region_info(fd, &a, 0);
	region_info(ro, &a, 0);
	region_info(refused, &a, -EINVAL);
	answer(&a, VFIO_REGION_TYPE_MIGRATION_DEPRECATED, 2);
	region_info(other, &a, 0);
	/* an answer to a buffer too small for the caps: argsz grown, no caps, nothing learned */
	answer(&a, VFIO_REGION_TYPE_MIGRATION_DEPRECATED, VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED);
	a.info.cap_offset = 0;
	a.info.argsz = sizeof(a) + 64;
	region_info(small, &a, 0);

	assert_int_equal(v1_write(fd, RUN, &from, &want), 4);
	/* the bits changed behind the probes' back (8 bytes: no request), then read: known */
	eight = SAVE;
	assert_int_equal(pwrite(fd, &eight, sizeof(eight), REGION_OFFSET), 8);
	assert_int_equal(pread(fd, &bits, sizeof(bits), REGION_OFFSET), 4);
	assert_int_equal(bits, SAVE);
	from = VFIO_DEVICE_STATE_STOP_COPY;
	assert_int_equal(v1_write(fd, RUN | SAVE, &from, &want), 4);
	assert_int_equal(v1_write(fd, SAVE, &from, &want), 4);
	assert_int_equal(v1_write(fd, RES | RUN, &from, &want), 4); /* a file takes any bits */
	/* not device_state: the data section, a wider write */
	assert_int_equal(pwrite(fd, &bits, sizeof(bits), REGION_OFFSET + 16), 4);
	assert_int_equal(pwrite(fd, &eight, sizeof(eight), REGION_OFFSET), 8);
	/* refused by the kernel (EBADF here): a request that failed, its state unknown */
	assert_int_equal(v1_write(ro, SAVE, &from_ro, &want_ro), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(v1_write(ro, 0, &from_ro, &want_ro), -1);
	/* no migration region on these */
	assert_int_equal(pwrite(other, &bits, sizeof(bits), REGION_OFFSET), 4);
	assert_int_equal(pwrite(refused, &bits, sizeof(bits), REGION_OFFSET), 4);
	assert_int_equal(pwrite(small, &bits, sizeof(bits), REGION_OFFSET), 4);
	assert_int_equal(counter(VFMIG_C_V1_STATE_WRITES) - v1_0, 6);
	assert_int_equal(counter(VFMIG_C_STATE_SET_ERRORS) - err0, 2);
	arcs_match(dev_of(fd), &want);
	arcs_match(dev_of(ro), &want_ro);
	arcs_match(dev_of(other), &none);
	arcs_match(dev_of(refused), &none);
	arcs_match(dev_of(small), &none);
	/* close forgets: the next file of that number is no device */
	close(fd);
	assert_int_equal(open("/dev/zero", O_RDWR), fd);
	assert_int_equal(pwrite(fd, &bits, sizeof(bits), REGION_OFFSET), 4);
	assert_int_equal(counter(VFMIG_C_V1_STATE_WRITES) - v1_0, 6);
	close(fd);
	close(ro);
	close(other);
	close(refused);
	close(small);
}

/* The child's two migration regions (prepared answers) on fds it will not close. */
static int two_regions(void *arg)
{
	struct vfmig_probes *all = arg;
	struct region_answer a;
	int fd1 = open("/dev/zero", O_RDWR | O_CLOEXEC), fd2 = dup3(fd1, 60, O_CLOEXEC);
	uint64_t args[3] = {(unsigned int)fd1, (uintptr_t)&a, 0};

	answer(&a, VFIO_REGION_TYPE_MIGRATION_DEPRECATED, VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED);
	if (fd1 < 0 || fd2 < 0 || probes_test_run(all, "test__v1_region_info", args, 3))
		return -1;
	args[0] = (unsigned int)fd2;
	return probes_test_run(all, "test__v1_region_info", args, 3);
}

/*
 * A process's regions go with it, and at exec (which closes device fds,
 * O_CLOEXEC, without close(2)): a later fd of the same number is no device.
 * The child is another process, so these probes follow every process.
 */
static void test_v1_regions_forgotten_at_exec_and_exit(void **state)
{
	struct probe_opts o = {0};
	struct vfmig_probes *all;
	int ready, go, status, exec;
	char err[256], c;
	pid_t pid;

	(void)state;
	NEED_PROBES();
	if (probes_open(&all, &o, err, sizeof(err)))
		fail_msg("probes_open: %s", err);
	for (exec = 0; exec < 2; exec++) {
		pid = child_that_leaves(two_regions, all, exec, &ready, &go);
		assert_int_equal(read(ready, &c, 1), 1);
		assert_int_equal(keys_of_pid(all, "v1_regions", pid), 2);
		assert_int_equal(write(go, "g", 1), 1);
		if (exec) {
			assert_int_equal(read(ready, &c, 1), 0); /* closed on exec */
			assert_int_equal(keys_left(all, "v1_regions", pid), 0);
			assert_int_equal(kill(pid, 0), 0); /* still there: it was the exec */
			kill(pid, SIGKILL);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!exec)
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_int_equal(keys_left(all, "v1_regions", pid), 0);
		close(ready);
		close(go);
	}
	probes_close(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emulated_v1_requests),
		cmocka_unit_test(test_syscall_v1_requests),
		cmocka_unit_test(test_v1_regions_forgotten_at_exec_and_exit),
	};

	return cmocka_run_group_tests(tests, setup_self, teardown);
}
