// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's own USDT probes (provider "qemu": a QEMU built with
 * --enable-trace-backends=dtrace; probe names are its trace-event names),
 * fed to the handlers the emulated device's probes reach: state requests,
 * pre-copy sizes, stop-copy size queries, data stream bytes and dirty-bitmap
 * queries with QEMU's own dirty page count. Each fires once per request,
 * query or buffer, never per page. A device is the name QEMU gives it
 * (vbasedev->name: PCI address, mdev UUID), keyed by pid and a hash of that
 * name (VFMIG_DEV_QEMU). Where a trace event's signature changed between
 * QEMU versions the argument count tells them apart; the loader refuses
 * the signatures that carry nothing vfmig reports (README, "The probes").
 */
#include "common.bpf.h"
#include "state.bpf.h"
#include <bpf/usdt.bpf.h>

#define QEMU_STATE_LEN 16    /* the longest name, "PRE_COPY_P2P", and "UNKNOWN STATE" fit */
#define QEMU_SET_FAILED (-5) /* -EIO: QEMU's trace says a request failed, never why */

union state_name {
	char c[QEMU_STATE_LEN];
	__u64 w[QEMU_STATE_LEN / 8];
};

/* mig_state_to_str() in QEMU's hw/vfio/migration.c, by enum vfio_device_mig_state. */
static const union state_name state_names[] = {
	{"ERROR"},    {"STOP"},	       {"RUNNING"},  {"STOP_COPY"},
	{"RESUMING"}, {"RUNNING_P2P"}, {"PRE_COPY"}, {"PRE_COPY_P2P"},
};

/* A request open on a thread (QEMU 9.1 and later): the device it is on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, __u64);
} qemu_sets SEC(".maps");

/*
 * A state name QEMU traced, as our state number; VFMIG_STATE_UNKNOWN if
 * none matches, or if it cannot be read (counted: a page not in memory).
 */
static __always_inline __u8 qemu_state(__u64 user_str)
{
	union state_name s = {};
	__u32 i;

	if (bpf_probe_read_user_str(s.c, sizeof(s.c), (const void *)user_str) <= 0) {
		count(VFMIG_C_QEMU_UNREADABLE, 1);
		return VFMIG_STATE_UNKNOWN;
	}
	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (s.w[0] == state_names[i].w[0] && s.w[1] == state_names[i].w[1])
			return i;
	}
	return VFMIG_STATE_UNKNOWN;
}

/*
 * The device QEMU names: its key (0 when the name cannot be read: counted),
 * the name kept in dev_names at the first sight, with the QEMU thread's comm.
 */
static __always_inline __u64 qemu_dev(__u64 user_name)
{
	struct vfmig_dev_name n = {};
	__u64 dev;

	if (bpf_probe_read_user_str(n.name, sizeof(n.name), (const void *)user_name) <= 0) {
		count(VFMIG_C_QEMU_UNREADABLE, 1);
		return 0;
	}
	dev = vfmig_dev_qemu(bpf_get_current_pid_tgid() >> 32, vfmig_name_hash(n.name));
	if (!bpf_map_lookup_elem(&dev_names, &dev)) {
		bpf_get_current_comm(n.comm, sizeof(n.comm));
		bpf_map_update_elem(&dev_names, &dev, &n, BPF_NOEXIST);
	}
	return dev;
}

/* The device of argument 0, its name read; 0 when filtered out or unreadable. */
static __always_inline __u64 dev_arg(struct pt_regs *ctx)
{
	long name = 0;

	if (filtered_out() || bpf_usdt_arg(ctx, 0, &name))
		return 0;
	return qemu_dev(name);
}

/*
 * vfio_migration_set_state(name, new_state, recover_state), 9.1 and later:
 * at a request's start; its end is the device state QEMU records next on
 * that thread (vfio_migration_set_device_state). A request for the state
 * the device is in makes no ioctl: QEMU returns at once, nothing is counted.
 * vfio_migration_set_state(name, state), 8.0 to 9.0: traced once the device
 * took the state (failures are not traced): a request with no latency.
 */
SEC("usdt")
int qemu__vfio_migration_set_state(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 dev = dev_arg(ctx);
	long to_str = 0;
	struct vfmig_dev_state *st;
	__u8 from, to;

	bpf_map_delete_elem(&qemu_sets, &tid); /* a new request: the thread's last one is over */
	to = dev && !bpf_usdt_arg(ctx, 1, &to_str) ? qemu_state(to_str) : VFMIG_STATE_UNKNOWN;
	if (to == VFMIG_STATE_UNKNOWN)
		return 0;
	st = dev_state(dev);
	from = st ? st->state : VFMIG_STATE_UNKNOWN;
	if (bpf_usdt_arg_cnt(ctx) == 2)
		return on_set_end(dev, from, to, 0, to, VFMIG_SRC_USDT);
	if (from == to)
		return 0;
	bpf_map_update_elem(&qemu_sets, &tid, &dev, BPF_ANY);
	return on_set_start(dev, from, to, VFMIG_SRC_USDT);
}

/*
 * vfio_migration_set_device_state(name, state), 9.1 and later: the state
 * QEMU records. Inside a request, its end: the state asked for (success),
 * else the recover state or RUNNING after a reset (the request failed).
 * Outside one (realize, reset), the device's state alone.
 */
SEC("usdt")
int qemu__vfio_migration_set_device_state(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 dev = dev_arg(ctx), *open;
	long now_str = 0;
	struct set_start *s;
	__u8 now, from, to;

	if (!dev || bpf_usdt_arg(ctx, 1, &now_str))
		return 0;
	now = qemu_state(now_str);
	if (now == VFMIG_STATE_UNKNOWN)
		return 0; /* unread: the request's end is not known, nor the state */
	open = bpf_map_lookup_elem(&qemu_sets, &tid);
	s = bpf_map_lookup_elem(&set_starts, &tid);
	if (!open || *open != dev || !s) {
		set_state(dev, now);
		return 0;
	}
	from = s->from;
	to = s->to;
	bpf_map_delete_elem(&qemu_sets, &tid);
	return on_set_end(dev, from, to, now == to ? 0 : QEMU_SET_FAILED, now, VFMIG_SRC_USDT);
}

/*
 * vfio_state_pending_exact(name, precopy, postcopy, stopcopy_size
 * [, precopy_init_size, precopy_dirty_size]): QEMU asked MIG_DATA_SIZE, and
 * in PRE_COPY(_P2P) PRECOPY_INFO, whose answer the two last arguments are
 * (8.1 and later).
 */
SEC("usdt")
int qemu__vfio_state_pending_exact(struct pt_regs *ctx)
{
	__u64 dev = dev_arg(ctx);
	long initial = 0, dirty = 0;
	struct vfmig_dev_state *st;

	if (!dev || dev_out(dev))
		return 0;
	count_dev(dev, VFMIG_C_DATA_SIZES, 1);
	st = bpf_map_lookup_elem(&devices, &dev);
	if (bpf_usdt_arg_cnt(ctx) < 6 || !st ||
	    (st->state != VFIO_DEVICE_STATE_PRE_COPY &&
	     st->state != VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return 0;
	if (bpf_usdt_arg(ctx, 4, &initial) || bpf_usdt_arg(ctx, 5, &dirty))
		return 0;
	return on_precopy_info(dev, initial, dirty, 0, VFMIG_SRC_USDT);
}

/* vfio_save_block(name, int data_size), 8.0 and later: one data fd read, traced when not empty. */
SEC("usdt")
int qemu__vfio_save_block(struct pt_regs *ctx)
{
	__u64 dev = dev_arg(ctx);
	long size = 0;

	if (!dev || bpf_usdt_arg(ctx, 1, &size))
		return 0;
	return on_data(dev, (int)size, (int)size, VFMIG_C_DATA_READ_BYTES, VFMIG_EV_DATA_READ,
		       VFMIG_SRC_USDT);
}

/* vfio_load_state_device_data(name, data_size, int ret), 8.0 and later: one buffer written. */
SEC("usdt")
int qemu__vfio_load_state_device_data(struct pt_regs *ctx)
{
	__u64 dev = dev_arg(ctx);
	long size = 0, ret = 0;

	if (!dev || bpf_usdt_arg(ctx, 1, &size) || bpf_usdt_arg(ctx, 2, &ret))
		return 0;
	return on_data(dev, size, (int)ret ? (int)ret : size, VFMIG_C_DATA_WRITE_BYTES,
		       VFMIG_EV_DATA_WRITE, VFMIG_SRC_USDT);
}

/*
 * A dirty-bitmap query QEMU made, with the dirty pages QEMU counted in it
 * (its last argument): the bitmap is QEMU's, already counted, not read
 * here. Neither the interface (type1, iommufd, device DMA logging) nor the
 * page size is traced; nor its start: no latency.
 */
static __always_inline int qemu_bitmap(struct pt_regs *ctx, __u32 at)
{
	long n = bpf_usdt_arg_cnt(ctx), iova = 0, size = 0, dirty = 0;
	struct vfmig_event *e;

	if (filtered_out() || n < at + 3 || bpf_usdt_arg(ctx, at, &iova) ||
	    bpf_usdt_arg(ctx, at + 1, &size) || bpf_usdt_arg(ctx, n - 1, &dirty))
		return 0;
	count_dev(0, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_QEMU, 1);
	count_dev(0, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_QEMU, dirty);
	e = event_new(VFMIG_EV_BITMAP, VFMIG_SRC_USDT, 0);
	if (e) {
		e->a = iova;
		e->b = size;
		e->d = dirty;
		e->from = VFMIG_IFACE_QEMU;
		event_send(e);
	}
	return 0;
}

/* 8.1: (int fd, iova, size, bitmap_size, start, dirty_pages); later, until 10.x: no fd. */
SEC("usdt")
int qemu__vfio_get_dirty_bitmap(struct pt_regs *ctx)
{
	return qemu_bitmap(ctx, bpf_usdt_arg_cnt(ctx) == 6);
}

/* 10.0 and later: (iova, size, [backend_flag,] bitmap_size, start or gpa, dirty_pages). */
SEC("usdt")
int qemu__vfio_container_query_dirty_bitmap(struct pt_regs *ctx)
{
	return qemu_bitmap(ctx, 0);
}

/*
 * vm_state_notify(int running, int reason, const char *reason_str), the
 * same from 2.x to 10.x: every run-state change, traced before the
 * handlers run (VFIO's among them: its devices' stop and run requests come
 * after). Stopping, QEMU traces it once pause_all_vcpus() returned; running,
 * before resume_all_vcpus(): no duration either way, and no vCPU count.
 */
SEC("usdt")
int qemu__vm_state_notify(struct pt_regs *ctx)
{
	long running = 0, reason = 0, str = 0;
	union state_name name = {}; /* zeros past the string's end: its first 8 bytes, padded */

	if (filtered_out() || bpf_usdt_arg(ctx, 0, &running) || bpf_usdt_arg(ctx, 1, &reason))
		return 0;
	if (!bpf_usdt_arg(ctx, 2, &str))
		bpf_probe_read_user_str(name.c, sizeof(name.c), (const void *)str);
	return on_vcpu((int)running ? VFMIG_EV_VCPU_RESUME : VFMIG_EV_VCPU_PAUSE, 0, 0,
		       (__u32)reason, name.w[0]);
}
