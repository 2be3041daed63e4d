// SPDX-License-Identifier: GPL-2.0
/*
 * The probe benchmark's cost of one event of each family: the same calls
 * timed unprobed, with vfmig's probes and with the bpftrace script attached.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "bench.h"
#include "device/device.h"
#include "memory/iommu.h"
#include "probe/loader.h"
#include "probe/probes_bpftrace.h"
#include "probe/probes_cost.h"

/* BPF run time of every program on the host, so far (with run statistics on). */
uint64_t bpf_time_all(void)
{
	__u32 id = 0;
	uint64_t ns = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			ns += info.run_time_ns;
		close(fd);
	}
	return ns;
}

/* ---- the cost of one event, against the same calls unprobed ---- */

#define COST_MEM (4u << 20)

/* What the cost cases call: an emulated device, a type1 container over COST_MEM, a fd. */
struct cost_env {
	struct emu_dev *dev;
	struct emu_iommu *io;
	void *mem;
	uint64_t bits[COST_MEM / 4096 / 64];
	int fd;
	bool stop;
};

static int state_call(struct cost_env *e)
{
	e->stop = !e->stop; /* RUNNING <-> STOP, through RUNNING_P2P */
	return emu_set_state(e->dev, e->stop ? VFIO_DEVICE_STATE_STOP : VFIO_DEVICE_STATE_RUNNING,
			     NULL);
}

static int size_call(struct cost_env *e)
{
	uint64_t size;

	return emu_get_data_size(e->dev, &size);
}

static int pin_call(struct cost_env *e)
{
	int ret = emu_pin_pages(e->io, emu_dev_id(e->dev), 0x10000, 1, EMU_PROT_WRITE_PIN);

	emu_unpin_pages(e->io, emu_dev_id(e->dev), 0x10000, 1);
	return ret != 1;
}

static int map_call(struct cost_env *e)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map),
					       .flags = 3,
					       .vaddr = (uintptr_t)e->mem + COST_MEM - 4096,
					       .iova = 1ull << 32,
					       .size = 4096};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = 1ull << 32, .size = 4096};

	return emu_type1_ioctl(e->io, VFIO_IOMMU_MAP_DMA, &map) ||
	       emu_type1_ioctl(e->io, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

static int bitmap_call(struct cost_env *e)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} get = {{sizeof(get), VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
		 {0, COST_MEM, {4096, sizeof(e->bits), (__u64 *)e->bits}}};

	return emu_type1_ioctl(e->io, VFIO_IOMMU_DIRTY_PAGES, &get);
}

static int ioctl_call(struct cost_env *e)
{
	uint32_t hdr[4] = {16, 0x20002, 0, 0}; /* a decoded MIG_DEVICE_STATE SET */

	return ioctl(e->fd, 0x3b75, hdr) != -1; /* /dev/null refuses it, after the decode */
}

static int syscall_call(struct cost_env *e)
{
	(void)e;
	return syscall(SYS_getppid) < 0; /* any syscall: the slow path while syscall tps are on */
}

struct cost_case costs[C_NR] = {
	[C_STATE] = {"state", "state set (start, steps, end)", state_call, 10000},
	[C_SIZE] = {"state", "data size (bare USDT)", size_call, 20000, 1},
	[C_PIN] = {"pins", "pin + unpin", pin_call, 20000, 2},
	[C_MAP] = {"iommu", "map + unmap", map_call, 20000, 2},
	[C_BITMAP] = {"bitmap", "type1 bitmap query, 16 words", bitmap_call, 20000, 2},
	[C_IOCTL] = {"ioctl", "decoded VFIO ioctl (syscall)", ioctl_call, 100000, 1},
	[C_SYSCALL] = {"ioctl", "any syscall (slow path)", syscall_call, 200000, 1},
};

static double per_call(struct cost_case *c, struct cost_env *e)
{
	double t = bench_now();
	int i;

	for (i = 0; i < c->calls; i++)
		c->fn(e);
	return (bench_now() - t) / c->calls;
}

/* One case's calls, timed, and the BPF time its events took: per event, in *bpf_ns. */
static double per_call_bpf(struct cost_case *c, struct cost_env *e, double *bpf_ns)
{
	uint64_t t0 = bpf_time_all();
	double t = per_call(c, e);

	*bpf_ns = (double)(bpf_time_all() - t0) / (c->calls * (c->events ? c->events : 1));
	return t;
}

/* Cases the bpftrace script has probes for: the USDT ones (it decodes no syscalls). */
bool bt_case(int i)
{
	return i < C_IOCTL;
}

/* The USDT cases with the bpftrace script attached to this process. */
static void bt_per_call(struct cost_env *e, const char *self, double bt[][COST_REPS],
			double bt_bpf[][COST_REPS], int k)
{
	struct totals ignored;
	pid_t btpid;
	FILE *f = bt_start(getpid(), self, &btpid);
	int i;

	for (i = 0; i < C_NR; i++)
		if (bt_case(i))
			bt[i][k] = per_call_bpf(&costs[i], e, &bt_bpf[i][k]);
	bt_stop(f, btpid, &ignored);
}

/* Probed minus unprobed, alternating, medians of COST_REPS; with bpftrace too when it is there. */
void event_costs(bool have_bt)
{
	struct emu_dev_cfg cfg = {.variant = "nic"};
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map), .flags = 3, .size = COST_MEM};
	struct vfio_iommu_type1_dirty_bitmap start = {sizeof(start),
						      VFIO_IOMMU_DIRTY_PAGES_FLAG_START};
	double b[C_NR][COST_REPS], w[C_NR][COST_REPS], bt[C_NR][COST_REPS];
	double w_bpf[C_NR][COST_REPS], bt_bpf[C_NR][COST_REPS];
	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	static struct cost_env e;
	struct probe_opts o = {.pid = getpid()};
	char self[PATH_MAX], err[256];
	struct vfmig_probes *p;
	uint64_t steps;
	int i, k;

	e.dev = emu_dev_create(&cfg);
	e.mem = aligned_alloc(4096, COST_MEM);
	e.io = e.mem ? emu_iommu_create(EMU_IOMMU_TYPE1, e.mem, COST_MEM) : NULL;
	e.fd = open("/dev/null", O_RDONLY);
	map.vaddr = (uintptr_t)e.mem;
	if (!realpath("/proc/self/exe", self) || !e.dev || !e.io || e.fd < 0 ||
	    emu_type1_ioctl(e.io, VFIO_IOMMU_MAP_DMA, &map) ||
	    emu_type1_ioctl(e.io, VFIO_IOMMU_DIRTY_PAGES, &start))
		bench_die("setting up the per-event cases");
	for (i = 0; i < C_NR; i++) {
		if (costs[i].fn(&e))
			bench_die(costs[i].what);
	}
	o.binary = self;
	steps = emu_dev_steps_total(e.dev);
	for (k = 0; k < COST_REPS; k++) {
		for (i = 0; i < C_NR; i++)
			b[i][k] = per_call(&costs[i], &e);
		if (!k) /* set_start and set_end, and the arcs each request took */
			costs[C_STATE].events = 2 + (double)(emu_dev_steps_total(e.dev) - steps) /
							    costs[C_STATE].calls;
		if (probes_open(&p, &o, err, sizeof(err)))
			bench_die(err);
		for (i = 0; i < C_NR; i++)
			w[i][k] = per_call_bpf(&costs[i], &e, &w_bpf[i][k]);
		probes_close(p);
		if (have_bt)
			bt_per_call(&e, self, bt, bt_bpf, k);
	}
	for (i = 0; i < C_NR; i++) {
		costs[i].base = bench_median(b[i], COST_REPS, NULL, NULL);
		costs[i].cost = (bench_median(w[i], COST_REPS, NULL, NULL) - costs[i].base) /
				costs[i].events;
		costs[i].bpf_ns = bench_median(w_bpf[i], COST_REPS, NULL, NULL);
		costs[i].bt_bpf_ns = have_bt && bt_case(i)
					     ? bench_median(bt_bpf[i], COST_REPS, NULL, NULL)
					     : -1;
		costs[i].bt_cost = have_bt && bt_case(i)
					   ? (bench_median(bt[i], COST_REPS, NULL, NULL) -
					      costs[i].base) /
						     costs[i].events
					   : -1;
	}
	emu_iommu_destroy(e.io);
	emu_dev_destroy(e.dev);
	free(e.mem);
	close(e.fd);
	if (stats >= 0)
		close(stats);
}
