// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for a QEMU built with --enable-trace-backends=dtrace: its
 * USDT probes (provider "qemu") have QEMU's trace-event names and
 * argument types, and like QEMU's each fires only while its semaphore says
 * a tracer is attached. It waits for a byte on stdin (the probes attach
 * meanwhile), plays one scripted migration, and prints what it fired, one
 * "key value" a line: the ground truth test_qemu checks every figure with.
 *
 * Built twice: with QEMU 9.1's and later signatures, and with
 * -DFAKE_QEMU_8_0 with QEMU 8.0's (a state traced after success only,
 * vfio_get_dirty_bitmap without a dirty page count, no pre-copy sizes),
 * plus one probe of the emulated device's (provider vfmig). Both trace
 * vm_state_notify, whose signature is the same in every version.
 */
#define _SDT_HAS_SEMAPHORES 1
#define SDT_USE_VARIADIC 1
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <time.h>
#include <unistd.h>

/* What QEMU's dtrace -h header declares per trace event: the semaphore the tracer raises. */
#define SEMAPHORE(n)                                                              \
	__extension__ unsigned short qemu_##n##_semaphore __attribute__((unused)) \
	__attribute__((section(".probes")))

SEMAPHORE(vfio_migration_set_state);
SEMAPHORE(vfio_state_pending_exact);
SEMAPHORE(vfio_save_block);
SEMAPHORE(vfio_load_state_device_data);
SEMAPHORE(vfio_get_dirty_bitmap);
SEMAPHORE(vm_state_notify);
#ifndef FAKE_QEMU_8_0
SEMAPHORE(vfio_migration_set_device_state);
SEMAPHORE(vfio_container_query_dirty_bitmap);
#else
/* One of the emulated device's probes too: a binary with both providers gets both attached. */
__extension__ unsigned short vfmig_reset_semaphore __attribute__((unused))
__attribute__((section(".probes")));
#endif

/* Fires when enabled, as QEMU's trace_*() do; true when it fired. */
#define FIRE(n, ...)                                            \
	(*(volatile unsigned short *)&qemu_##n##_semaphore ? ({ \
		STAP_PROBEV(qemu, n, __VA_ARGS__);              \
		true;                                           \
	})                                                      \
							   : false)

#define MIB (1024 * 1024)

/* Device names live on QEMU's heap (vbasedev->name), written once: in memory. */
static char *dev_a, *dev_b;

/*
 * QEMU's state names are literals (mig_state_to_str()) on .rodata pages a
 * running QEMU has long had mapped; a page never touched since exec is
 * not, and a BPF program cannot fault it in: touched here as QEMU's would be.
 */
static const char *const states[] = {"ERROR",	  "STOP",     "RUNNING",
				     "STOP_COPY", "RESUMING", "PRE_COPY"};
static const char *const run_states[] = {"finish-migrate", "running"}; /* RunState_str() */

/* In a register, as QEMU's trace wrappers get their arguments (libbpf 1.1 reads no %rip-relative one). */
static const char *reg(const char *p)
{
	__asm__("" : "+r"(p));
	return p;
}

static void warm(void)
{
	volatile size_t n = 0;
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		n += strlen(states[i]);
	n += strlen(run_states[0]) + strlen(run_states[1]);
}

/* Ground truth: what fired. */
static struct {
	unsigned int sets, set_errors, precopy_infos, data_sizes, queries, probes_off, unreadable,
		vfmig_resets, pauses, resumes;
	uint64_t read_bytes, write_bytes, dirty_pages, last_init, last_dirty, max_set_ns;
	uint64_t pause_before, pause_after, resume_before, resume_after; /* the last of each */
} g;

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void fired(bool on)
{
	g.probes_off += !on;
}

/*
 * vm_state_notify(running, reason, reason_str): RunState numbers of QEMU 7.2 to 10.x
 * (RUN_STATE_FINISH_MIGRATE 7, RUN_STATE_RUNNING 9); the clock read around it.
 */
static void state_notify(int running)
{
	uint64_t before = clock_ns();
	bool on = FIRE(vm_state_notify, running, running ? 9 : 7, reg(run_states[running]));

	fired(on);
	if (!on)
		return;
	if (running) {
		g.resumes++;
		g.resume_before = before;
		g.resume_after = clock_ns();
	} else {
		g.pauses++;
		g.pause_before = before;
		g.pause_after = clock_ns();
	}
}

static void save_block(int size)
{
	bool on = FIRE(vfio_save_block, reg(dev_a), size);

	fired(on);
	g.read_bytes += on ? size : 0;
}

static void load_data(uint64_t size, int ret)
{
	bool on = FIRE(vfio_load_state_device_data, reg(dev_b), size, ret);

	fired(on);
	g.write_bytes += on && !ret ? size : 0;
}

#ifndef FAKE_QEMU_8_0
static uint64_t now_ns(void)
{
	return clock_ns();
}

/*
 * vfio_migration_set_state() of 9.1 and later: traced at the start, then
 * the device state QEMU records (the new one, or after a failure the
 * recover state or RUNNING after a reset); a request for the current
 * state returns at once. sleep_us: the device's time in the ioctl.
 */
static void request(const char *name, const char *to, const char *recover, const char *now,
		    unsigned int sleep_us)
{
	uint64_t t0 = now_ns();
	bool on = FIRE(vfio_migration_set_state, name, to, recover);

	fired(on);
	if (!now)
		return; /* no ioctl: nothing recorded */
	usleep(sleep_us);
	fired(FIRE(vfio_migration_set_device_state, name, now));
	g.sets += on;
	g.set_errors += on && strcmp(now, to);
	if (on && now_ns() - t0 > g.max_set_ns)
		g.max_set_ns = now_ns() - t0;
}

/* vfio_state_pending_exact(): PRECOPY_INFO asked (and its answer traced) in PRE_COPY only. */
static void pending(uint64_t stopcopy, uint64_t init, uint64_t dirty, bool precopy)
{
	bool on = FIRE(vfio_state_pending_exact, reg(dev_a), init + dirty + stopcopy, (uint64_t)0,
		       stopcopy, init, dirty);

	fired(on);
	g.data_sizes += on;
	if (on && precopy) {
		g.precopy_infos++;
		g.last_init = init;
		g.last_dirty = dirty;
	}
}

static void bitmap(uint64_t iova, uint64_t size, uint64_t dirty)
{
	uint64_t bitmap_size = (size / 4096 + 63) / 64 * 8;
	bool on = FIRE(vfio_get_dirty_bitmap, iova, size, bitmap_size, iova, dirty);

	fired(on);
	g.queries += on;
	g.dirty_pages += on ? dirty : 0;
}

/* 10.x names it vfio_container_query_dirty_bitmap, with a backend flag. */
static void query(uint64_t iova, uint64_t size, uint64_t dirty)
{
	uint64_t bitmap_size = (size / 4096 + 63) / 64 * 8;
	bool on = FIRE(vfio_container_query_dirty_bitmap, iova, size, (uint64_t)0, bitmap_size,
		       iova, dirty);

	fired(on);
	g.queries += on;
	g.dirty_pages += on ? dirty : 0;
}

/* A request on a device whose name is on a page not in memory (swapped out): unreadable. */
static void unreadable(void)
{
	char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool on;

	if (gone == MAP_FAILED)
		return;
	on = FIRE(vfio_migration_set_state, gone, "STOP", "ERROR");
	fired(on);
	g.unreadable += on;
	on = FIRE(vfio_migration_set_device_state, gone, "STOP");
	fired(on);
	g.unreadable += on;
	munmap(gone, 4096);
}

static void script(void)
{
	int i;

	fired(FIRE(vfio_migration_set_device_state, reg(dev_a), "RUNNING")); /* realize */
	request(dev_a, "PRE_COPY", "RUNNING", "PRE_COPY", 2000);
	pending(1 * MIB, 8 * MIB, 0, true);
	for (i = 0; i < 5; i++)
		save_block(MIB);
	pending(1 * MIB, 3 * MIB, 4096, true);
	save_block(12345);
	bitmap(0, 1ull << 30, 100);
	bitmap(1ull << 30, 1ull << 30, 200);
	bitmap(0, 1ull << 30, 300);
	bitmap(4ull << 30, 64 << 20, 7);
	pending(1 * MIB, 0, 8192, true);
	request(dev_a, "PRE_COPY", "RUNNING", NULL, 0); /* already there: no ioctl */
	state_notify(0); /* vCPUs paused, then the handlers stop the devices */
	request(dev_a, "STOP_COPY", "ERROR", "STOP_COPY", 500);
	pending(3 * MIB, 0, 0, false);
	save_block(MIB);
	save_block(777);
	request(dev_a, "STOP", "ERROR", "RUNNING", 100); /* refused: reset, RUNNING */
	/* the destination: a device first seen in a request, its state unknown before */
	request(dev_b, "RESUMING", "ERROR", "RESUMING", 0);
	for (i = 0; i < 3; i++)
		load_data(MIB, 0);
	load_data(4096, -5);
	state_notify(1); /* traced before the handlers run the devices */
	request(dev_b, "RUNNING", "ERROR", "RUNNING", 300);
	query(0, 2ull << 30, 50);
	query(2ull << 30, 2ull << 30, 60);
	unreadable();
}
#else
/* 8.0: vfio_migration_set_state(name, state), traced once the device took the state. */
static void request(const char *name, const char *to)
{
	bool on = FIRE(vfio_migration_set_state, name, to);

	fired(on);
	g.sets += on;
}

static void pending(uint64_t stopcopy)
{
	bool on = FIRE(vfio_state_pending_exact, reg(dev_a), stopcopy, (uint64_t)0, stopcopy);

	fired(on);
	g.data_sizes += on;
}

static void script(void)
{
	int fd = 17;

	if (*(volatile unsigned short *)&vfmig_reset_semaphore) {
		DTRACE_PROBE2(vfmig, reset, (uint32_t)7, (uint32_t)3); /* emulated device 7 */
		g.vfmig_resets++;
	}

	state_notify(0);
	request(dev_a, "STOP");
	request(dev_a, "STOP_COPY");
	pending(5 * MIB);
	save_block(MIB);
	save_block(MIB);
	pending(1 * MIB);
	save_block(4321);
	/* (fd, iova, size, bitmap_size, start): no dirty count: vfmig refuses it, it stays off */
	fired(FIRE(vfio_get_dirty_bitmap, fd, (uint64_t)0, (uint64_t)1 << 30, (uint64_t)32768,
		   (uint64_t)0));
	request(dev_a, "STOP");
	request(dev_b, "RESUMING");
	load_data(MIB, 0);
	load_data(2000, 0);
	state_notify(1);
	request(dev_b, "RUNNING");
}
#endif

int main(void)
{
	char go;

	dev_a = strdup("0000:65:00.0");
	dev_b = strdup("0000:66:00.1");
	if (!dev_a || !dev_b || read(0, &go, 1) != 1)
		return 1;
	warm();
	script();
	printf("sets %u\nset_errors %u\nprecopy_infos %u\ndata_sizes %u\nqueries %u\n", g.sets,
	       g.set_errors, g.precopy_infos, g.data_sizes, g.queries);
	printf("read_bytes %" PRIu64 "\nwrite_bytes %" PRIu64 "\ndirty_pages %" PRIu64 "\n",
	       g.read_bytes, g.write_bytes, g.dirty_pages);
	printf("last_init %" PRIu64 "\nlast_dirty %" PRIu64 "\nmax_set_ns %" PRIu64 "\n",
	       g.last_init, g.last_dirty, g.max_set_ns);
	printf("probes_off %u\nunreadable %u\nvfmig_resets %u\n", g.probes_off, g.unreadable,
	       g.vfmig_resets);
	printf("pauses %u\nresumes %u\npause_before %" PRIu64 "\npause_after %" PRIu64
	       "\nresume_before %" PRIu64 "\nresume_after %" PRIu64 "\n",
	       g.pauses, g.resumes, g.pause_before, g.pause_after, g.resume_before, g.resume_after);
	return 0;
}
