// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup filter, for real: the probes are loaded with a cgroup v2
 * directory this test creates, the emulated device workload runs in a
 * process inside it, in one in a cgroup below it, and in one outside, and
 * every count must be exactly what the processes inside (the first two)
 * report of themselves. Bad cgroup paths are refused in one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "device/device.h"
#include "memory/iommu.h"
#include "probe/host.h"
#include "probe/probe_test.h"

#define MEM (1u << 20)

static char binary[PATH_MAX], cg[PATH_MAX], inner[PATH_MAX + 8];
static const char *why_not; /* set when the filter test cannot run here */

static int setup(void **state)
{
	struct probe_opts o = {.binary = binary, .cgroup = cg};
	char mnt[PATH_MAX - 64];

	(void)state;
	if (geteuid())
		return why_not = "needs root (CAP_BPF, CAP_PERFMON, cgroup writes)", 0;
	if (host_cgroup2_mount(mnt, sizeof(mnt)))
		return why_not = "cgroup v2 is not mounted (no cgroup2 in /proc/self/mountinfo)", 0;
	if (!realpath("/proc/self/exe", binary))
		return -1;
	snprintf(cg, sizeof(cg), "%s/vfmig-test-%d", mnt, getpid());
	snprintf(inner, sizeof(inner), "%s/inner", cg);
	if (mkdir(cg, 0755) || mkdir(inner, 0755)) {
		fprintf(stderr, "mkdir %s: %s\n", cg, strerror(errno));
		return -1;
	}
	return probes_setup(&o);
}

static int remove_cgroups(void **state)
{
	teardown(state);
	if (cg[0]) {
		rmdir(inner);
		rmdir(cg);
	}
	return 0;
}

/* What a workload process did, by its own account. */
struct truth {
	uint64_t sets, set_errors, steps, pinned;
};

/*
 * n state round trips on an emulated device (USDT), n pins of n pages, and
 * n MIG_DEVICE_STATE SET ioctls on /dev/null (syscall decoding, ENOTTY).
 */
static void workload(int n, struct truth *t)
{
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=64k,block=4k"};
	struct emu_dev *dev = emu_dev_create(&cfg);
	void *mem = aligned_alloc(4096, MEM);
	struct emu_iommu *io = emu_iommu_create(EMU_IOMMU_TYPE1, mem, MEM);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = 3, .vaddr = (uintptr_t)mem, .size = MEM};
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_mig_state mig;
	} f = {{sizeof(f), VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
	       {VFIO_DEVICE_STATE_STOP, -1}};
	int fd = open("/dev/null", O_RDONLY), i, r;
	uint64_t steps0 = emu_dev_steps_total(dev);

	memset(t, 0, sizeof(*t));
	if (emu_type1_ioctl(io, VFIO_IOMMU_MAP_DMA, &map))
		_exit(3);
	for (i = 0; i < n; i++) {
		t->sets += !emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL);
		t->sets += !emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
		r = emu_pin_pages(io, emu_dev_id(dev), i * 4096ull * n, n, EMU_PROT_WRITE_PIN);
		t->pinned += r > 0 ? r : 0;
		if (ioctl(fd, VFIO_DEVICE_FEATURE, &f) == -1 && errno == ENOTTY)
			t->set_errors++;
	}
	t->sets += t->set_errors;
	t->steps = emu_dev_steps_total(dev) - steps0;
	close(fd);
	emu_iommu_destroy(io);
	emu_dev_destroy(dev);
	free(mem);
}

static int join_cgroup(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 16];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%d\n", pid) < 0;
	return fclose(f) || ret ? -EIO : 0;
}

/* The workload in a child process, moved into dir first unless dir is NULL. */
static void run_child(const char *dir, int n, struct truth *t)
{
	int go[2], res[2], status;
	pid_t pid;
	char c;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		workload(n, t);
		_exit(write(res[1], t, sizeof(*t)) == sizeof(*t) ? 0 : 2);
	}
	close(go[0]);
	close(res[1]);
	if (dir)
		assert_int_equal(join_cgroup(dir, pid), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(read(res[0], t, sizeof(*t)), sizeof(*t));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
	close(go[1]);
	close(res[0]);
}

static uint64_t delta(const uint64_t *c0, int idx)
{
	return counter(idx) - c0[idx];
}

static void test_counts_only_inside(void **state)
{
	struct truth in, below, out;
	uint64_t c0[VFMIG_C_NR];
	int i;

	(void)state;
	if (why_not)
		VFMIG_SKIP("%s", why_not);
	for (i = 0; i < VFMIG_C_NR; i++)
		c0[i] = counter(i);
	run_child(cg, 3, &in);
	run_child(inner, 4, &below);
	run_child(NULL, 11, &out);
	/* the outside process did real work the probes saw happen: it must not count */
	assert_int_equal(out.sets, 3 * 11);
	assert_int_equal(out.pinned, 11 * 11);
	assert_true(out.steps > 0);
	assert_int_equal(in.pinned, 3 * 3);
	assert_int_equal(delta(c0, VFMIG_C_STATE_SETS), in.sets + below.sets);
	assert_int_equal(delta(c0, VFMIG_C_STATE_SET_ERRORS), in.set_errors + below.set_errors);
	assert_int_equal(delta(c0, VFMIG_C_FSM_STEPS), in.steps + below.steps);
	assert_int_equal(delta(c0, VFMIG_C_PIN_CALLS), 3 + 4);
	assert_int_equal(delta(c0, VFMIG_C_PAGES_PINNED), in.pinned + below.pinned);
}

static void test_bad_paths_refused(void **state)
{
	static const struct {
		const char *path, *says;
	} bad[] = {
		{"/nonexistent/vfmig", "cgroup /nonexistent/vfmig: no such directory"},
		{"/tmp", "cgroup /tmp is not a cgroup v2 directory"},
		{"/proc/self/status", "cgroup /proc/self/status is a file, not a directory"},
	};
	struct probe_opts o = {0};
	struct vfmig_probes *p;
	char err[256];
	uint64_t id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_true(host_cgroup_id(bad[i].path, &id, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, bad[i].says));
		assert_null(strchr(err, '\n'));
		if (geteuid())
			continue;
		o.cgroup = bad[i].path;
		assert_true(probes_open(&p, &o, err, sizeof(err)) < 0);
		assert_null(p);
		assert_non_null(strstr(err, bad[i].says));
	}
}

/* The id the filter compares is kernfs's node id: the directory's inode number on 64-bit. */
static void test_id_is_the_kernels(void **state)
{
	struct stat st;
	char err[256];
	uint64_t id;

	(void)state;
	if (why_not)
		VFMIG_SKIP("%s", why_not);
	assert_int_equal(host_cgroup_id(cg, &id, err, sizeof(err)), 0);
	assert_int_equal(stat(cg, &st), 0);
	assert_true(id > 1);
	assert_int_equal(st.st_ino, id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_only_inside),
		cmocka_unit_test(test_bad_paths_refused),
		cmocka_unit_test(test_id_is_the_kernels),
	};

	return cmocka_run_group_tests(tests, setup, remove_cgroups);
}
